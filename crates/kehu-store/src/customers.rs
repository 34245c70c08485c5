//! The customer archive: customers, contacts, orders, timeline, team members,
//! custom field definitions, blind-index lookups and the search index.
//!
//! Every read takes a [`Viewer`] and adds its data scope to the WHERE clause:
//! a row outside the scope is never loaded, so it cannot leak through a list,
//! a search, a count or a 404-versus-403 difference.

use crate::fast::row;
use kehu_domain::access::DataScope;
use sqlx::FromRow;

use crate::db::{Conn, Sql, Tx};
use crate::fast::FromFast;
use crate::{Result, StoreError, sql};

/// Who is asking, resolved from their user and role.
#[derive(Clone, Debug)]
pub struct Viewer {
    pub tenant_id: String,
    pub user_id: String,
    pub scope: DataScope,
    pub department_id: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    Read,
    Write,
}

/// `c.owner_id IN (users of department `dept` and its sub-departments)`:
/// the department's materialised path is a prefix of theirs.
fn push_owner_in_department_tree(q: &mut Sql, tenant_id: &str, dept: &str) {
    q.push("c.owner_id IN (SELECT u.id FROM users u JOIN departments d ON d.tenant_id = u.tenant_id AND d.id = u.department_id WHERE u.tenant_id = ")
        .bind(tenant_id)
        .push(" AND d.path LIKE (SELECT p.path FROM departments p WHERE p.tenant_id = ")
        .bind(tenant_id)
        .push(" AND p.id = ")
        .bind(dept)
        .push(") || '%')");
}

/// Appends the owner part of a non-`All` scope for customers aliased `c`:
/// an expression that is true when the viewer's scope covers `c.owner_id`.
fn push_owner_clause(q: &mut Sql, v: &Viewer) {
    match v.scope {
        DataScope::All => {
            q.push("1 = 1");
        }
        DataScope::Own => {
            q.push("c.owner_id = ").bind(&v.user_id);
        }
        DataScope::OwnAndSubordinates => {
            // Direct and indirect reports through users.manager_id.
            q.push("c.owner_id IN (WITH RECURSIVE subs(id) AS (SELECT ")
                .bind(&v.user_id)
                .push(" UNION SELECT u.id FROM users u JOIN subs ON u.manager_id = subs.id WHERE u.tenant_id = ")
                .bind(&v.tenant_id)
                .push(") SELECT id FROM subs)");
        }
        DataScope::Department => {
            q.push("(c.owner_id = ").bind(&v.user_id);
            if let Some(d) = &v.department_id {
                q.push(" OR c.owner_id IN (SELECT u.id FROM users u WHERE u.tenant_id = ")
                    .bind(&v.tenant_id)
                    .push(" AND u.department_id = ")
                    .bind(d)
                    .push(")");
            }
            q.push(")");
        }
        DataScope::DepartmentAndBelow => {
            q.push("(c.owner_id = ").bind(&v.user_id);
            if let Some(d) = &v.department_id {
                q.push(" OR ");
                push_owner_in_department_tree(q, &v.tenant_id, d);
            }
            q.push(")");
        }
    }
}

/// Appends ` AND (<scope>)` for customers aliased `c`: the owner part or a
/// team membership (with write access when `access` is `Write`).
pub(crate) fn push_scope(q: &mut Sql, v: &Viewer, access: Access) {
    if v.scope == DataScope::All {
        return;
    }
    q.push(" AND (");
    push_owner_clause(q, v);
    q.push(" OR EXISTS (SELECT 1 FROM customer_team t WHERE t.tenant_id = c.tenant_id AND t.customer_id = c.id AND t.user_id = ")
        .bind(&v.user_id);
    if access == Access::Write {
        q.push(" AND t.access = 'write'");
    }
    q.push("))");
}

#[derive(Clone, Debug, FromRow, PartialEq)]
pub struct CustomerRow {
    pub rid: i64,
    pub tenant_id: String,
    pub id: String,
    pub code: String,
    pub kind: String,
    pub name: String,
    pub owner_id: Option<String>,
    pub province: Option<String>,
    pub city: Option<String>,
    pub district: Option<String>,
    pub industry: Option<String>,
    pub occupation: Option<String>,
    pub employer: Option<String>,
    pub source: Option<String>,
    pub notes: Option<String>,
    pub uscc: Option<String>,
    pub custom_fields: String,
    pub sealed: Vec<u8>,
    pub version: i64,
    pub created_by: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A row of a customer list: the customer and the tier and stage badges of
/// the last classification (none before the first run).
#[derive(Clone, Debug, FromRow, PartialEq)]
pub struct ListedCustomer {
    #[sqlx(flatten)]
    pub customer: CustomerRow,
    pub tier: Option<String>,
    pub stage: Option<String>,
}

impl CustomerRow {
    /// Decodes [`CUSTOMER_COLS`] starting at column `at`.
    fn from_fast_at(r: &rusqlite::Row<'_>, at: usize) -> rusqlite::Result<CustomerRow> {
        Ok(CustomerRow {
            rid: r.get(at)?,
            tenant_id: r.get(at + 1)?,
            id: r.get(at + 2)?,
            code: r.get(at + 3)?,
            kind: r.get(at + 4)?,
            name: r.get(at + 5)?,
            owner_id: r.get(at + 6)?,
            province: r.get(at + 7)?,
            city: r.get(at + 8)?,
            district: r.get(at + 9)?,
            industry: r.get(at + 10)?,
            occupation: r.get(at + 11)?,
            employer: r.get(at + 12)?,
            source: r.get(at + 13)?,
            notes: r.get(at + 14)?,
            uscc: r.get(at + 15)?,
            custom_fields: r.get(at + 16)?,
            sealed: r.get(at + 17)?,
            version: r.get(at + 18)?,
            created_by: r.get(at + 19)?,
            created_at: r.get(at + 20)?,
            updated_at: r.get(at + 21)?,
        })
    }
}

/// Columns of [`CUSTOMER_COLS`], where [`ListedCustomer`]'s badges start.
const CUSTOMER_COL_COUNT: usize = 22;

impl FromFast for CustomerRow {
    fn from_fast(r: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        CustomerRow::from_fast_at(r, 0)
    }
}

impl FromFast for ListedCustomer {
    fn from_fast(r: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        Ok(ListedCustomer {
            customer: CustomerRow::from_fast_at(r, 0)?,
            tier: r.get(CUSTOMER_COL_COUNT)?,
            stage: r.get(CUSTOMER_COL_COUNT + 1)?,
        })
    }
}

const CUSTOMER_COLS: &str = "c.rid, c.tenant_id, c.id, c.code, c.kind, c.name, c.owner_id, c.province, c.city, c.district, c.industry, c.occupation, c.employer, c.source, c.notes, c.uscc, c.custom_fields, c.sealed, c.version, c.created_by, c.created_at, c.updated_at";

/// A blind-index entry: what kind of value, its digest, whose it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lookup {
    pub kind: &'static str,
    pub digest: Vec<u8>,
}

async fn put_lookups(
    tx: &mut Tx,
    tenant_id: &str,
    customer_id: &str,
    source_id: &str,
    lookups: &[Lookup],
) -> Result<()> {
    tx.exec(sql!(
        "DELETE FROM customer_lookup WHERE tenant_id = $1 AND source_id = $2",
        tenant_id,
        source_id
    ))
    .await?;
    for l in lookups {
        tx.exec(sql!(
            "INSERT INTO customer_lookup (tenant_id, kind, digest, customer_id, source_id) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT DO NOTHING",
            tenant_id, l.kind, l.digest.clone(), customer_id, source_id
        ))
        .await?;
    }
    Ok(())
}

/// Replaces the search terms of one customer (space-separated tokens).
pub async fn put_search_terms(tx: &mut Tx, tenant_id: &str, rid: i64, terms: &str) -> Result<()> {
    if tx.is_pg() {
        // created_at and id are the customer's (the list's sort columns;
        // migration 0012), read from the row this transaction wrote.
        let n = tx
            .exec(sql!(
                "INSERT INTO customer_search (rid, tenant_id, created_at, id, terms)
                 SELECT c.rid, c.tenant_id, c.created_at, c.id, to_tsvector('simple', $3)
                 FROM customers c WHERE c.rid = $1 AND c.tenant_id = $2
                 ON CONFLICT (rid) DO UPDATE SET terms = EXCLUDED.terms",
                rid,
                tenant_id,
                terms
            ))
            .await?;
        // No such customer in this tenant: nothing was indexed.
        if n == 0 {
            return Err(StoreError::NotFound);
        }
    } else {
        sqlite_search(tx, rid, Some(terms)).await?;
    }
    Ok(())
}

/// SQLite's search-index writes. The rowid is the customer's `rid`, which
/// belongs to one tenant; the contentless index stores no columns
/// (migration 0013).
pub(crate) const SQLITE_SEARCH_DELETE: &str = "DELETE FROM customer_search WHERE rowid = $1";
pub(crate) const SQLITE_SEARCH_INSERT: &str =
    "INSERT INTO customer_search (rowid, terms) VALUES ($1, $2)";

/// Replaces (`None`: removes) a customer's terms on SQLite: a request
/// transaction hands them to its group, written at its COMMIT (group.rs).
async fn sqlite_search(tx: &mut Tx, rid: i64, terms: Option<&str>) -> Result<()> {
    if let Tx::Fast(t) = tx {
        t.search(rid, terms);
        return Ok(());
    }
    tx.exec(sql!(SQLITE_SEARCH_DELETE, rid)).await?;
    if let Some(terms) = terms {
        tx.exec(sql!(SQLITE_SEARCH_INSERT, rid, terms)).await?;
    }
    Ok(())
}

pub async fn insert_customer(
    tx: &mut Tx,
    c: &CustomerRow,
    lookups: &[Lookup],
    terms: &str,
) -> Result<i64> {
    let rid = tx
        .int(sql!(
            "INSERT INTO customers (tenant_id, id, code, kind, name, owner_id, province, city, district, industry, occupation,
                 employer, source, notes, uscc, custom_fields, sealed, version, created_by, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, 1, $18, $19, $19)
             RETURNING rid",
            &c.tenant_id, &c.id, &c.code, &c.kind, &c.name, &c.owner_id, &c.province, &c.city, &c.district,
            &c.industry, &c.occupation, &c.employer, &c.source, &c.notes, &c.uscc, &c.custom_fields,
            c.sealed.clone(), &c.created_by, c.created_at
        ))
        .await
        .map_err(|e| e.unique_as("code"))?
        .ok_or(StoreError::NotFound)?;
    put_lookups(tx, &c.tenant_id, &c.id, &c.id, lookups).await?;
    put_search_terms(tx, &c.tenant_id, rid, terms).await?;
    Ok(rid)
}

/// Writes the new state of a customer if `c.version` is still current; the
/// stored version becomes `c.version + 1`.
/// `lookups` and `terms` are `None` when the values they are derived from did
/// not change: rewriting them would dirty the same index pages again for
/// nothing (half of a note-only edit's pages on SQLite).
pub async fn update_customer(
    tx: &mut Tx,
    c: &CustomerRow,
    lookups: Option<&[Lookup]>,
    terms: Option<&str>,
    now: i64,
) -> Result<i64> {
    let n = tx
        .exec(sql!(
            "UPDATE customers SET kind = $1, name = $2, owner_id = $3, province = $4, city = $5, district = $6,
                 industry = $7, occupation = $8, employer = $9, source = $10, notes = $11, uscc = $12,
                 custom_fields = $13, sealed = $14, version = version + 1, updated_at = $15
             WHERE tenant_id = $16 AND id = $17 AND version = $18 AND deleted_at IS NULL",
            &c.kind, &c.name, &c.owner_id, &c.province, &c.city, &c.district, &c.industry, &c.occupation,
            &c.employer, &c.source, &c.notes, &c.uscc, &c.custom_fields, c.sealed.clone(), now, &c.tenant_id,
            &c.id, c.version
        ))
        .await?;
    if n == 0 {
        return Err(StoreError::VersionConflict);
    }
    if let Some(lookups) = lookups {
        put_lookups(tx, &c.tenant_id, &c.id, &c.id, lookups).await?;
    }
    if let Some(terms) = terms {
        put_search_terms(tx, &c.tenant_id, c.rid, terms).await?;
    }
    Ok(c.version + 1)
}

/// Soft delete: the row stays (codes are never reused, history stays
/// readable) but leaves every list, search and lookup.
pub async fn delete_customer(
    tx: &mut Tx,
    tenant_id: &str,
    id: &str,
    rid: i64,
    version: i64,
    now: i64,
) -> Result<()> {
    let n = tx
        .exec(sql!(
            "UPDATE customers SET deleted_at = $1, version = version + 1, updated_at = $1
             WHERE tenant_id = $2 AND id = $3 AND version = $4 AND deleted_at IS NULL",
            now,
            tenant_id,
            id,
            version
        ))
        .await?;
    if n == 0 {
        return Err(StoreError::VersionConflict);
    }
    // Lookup keys and the derived classification go with the customer; the
    // timeline and audit rows stay.
    for table in ["customer_lookup", "customer_insight", "customer_tags"] {
        tx.exec(sql!(
            &format!("DELETE FROM {table} WHERE tenant_id = $1 AND customer_id = $2"),
            tenant_id,
            id
        ))
        .await?;
    }
    if tx.is_pg() {
        tx.exec(sql!("DELETE FROM customer_search WHERE rid = $1", rid))
            .await?;
    } else {
        sqlite_search(tx, rid, None).await?;
    }
    Ok(())
}

/// One customer, if it exists and the viewer may read (or write) it.
pub async fn customer(
    c: &mut Conn<'_>,
    v: &Viewer,
    id: &str,
    access: Access,
) -> Result<Option<CustomerRow>> {
    let mut q = Sql::new(&format!(
        "SELECT {CUSTOMER_COLS} FROM customers c WHERE c.tenant_id = "
    ));
    q.bind(&v.tenant_id)
        .push(" AND c.id = ")
        .bind(id)
        .push(" AND c.deleted_at IS NULL");
    push_scope(&mut q, v, access);
    c.opt(q).await
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SortKey {
    CreatedAt,
    UpdatedAt,
    Name,
    Code,
}

impl SortKey {
    fn column(self) -> &'static str {
        match self {
            SortKey::CreatedAt => "c.created_at",
            SortKey::UpdatedAt => "c.updated_at",
            SortKey::Name => "c.name",
            SortKey::Code => "c.code",
        }
    }
    pub fn is_text(self) -> bool {
        matches!(self, SortKey::Name | SortKey::Code)
    }
}

/// The keyset position after the last row of a page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cursor {
    pub value: CursorValue,
    pub id: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CursorValue {
    Int(i64),
    Text(String),
}

impl Cursor {
    pub fn after(row: &CustomerRow, key: SortKey) -> Cursor {
        let value = match key {
            SortKey::CreatedAt => CursorValue::Int(row.created_at),
            SortKey::UpdatedAt => CursorValue::Int(row.updated_at),
            SortKey::Name => CursorValue::Text(row.name.clone()),
            SortKey::Code => CursorValue::Text(row.code.clone()),
        };
        Cursor {
            value,
            id: row.id.clone(),
        }
    }
}

/// What a text search asks for; any of the parts may match.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SearchSpec {
    /// All must match; `(token, prefix)`.
    pub terms: Vec<(String, bool)>,
    /// Exact blind-index matches (phone, email, ID number, USCC).
    pub lookups: Vec<Lookup>,
    pub code: Option<String>,
}

impl SearchSpec {
    pub fn is_empty(&self) -> bool {
        self.terms.is_empty() && self.lookups.is_empty() && self.code.is_none()
    }
}

#[derive(Clone, Debug, Default)]
pub struct CustomerFilter {
    pub owner_id: Option<String>,
    /// Customers owned by users in this department or below.
    pub department_id: Option<String>,
    pub kind: Option<String>,
    pub province: Option<String>,
    pub created_from: Option<i64>,
    pub created_to: Option<i64>,
    pub updated_from: Option<i64>,
    pub updated_to: Option<i64>,
    /// Value tier ("A" … "D") of the last classification.
    pub tier: Option<String>,
    /// Lifecycle stage code of the last classification.
    pub stage: Option<String>,
    /// Carries this tag (from tag rules).
    pub tag: Option<String>,
    pub search: Option<SearchSpec>,
}

impl CustomerFilter {
    /// Nothing but (possibly) a search.
    fn only_search(&self) -> bool {
        let CustomerFilter {
            owner_id,
            department_id,
            kind,
            province,
            created_from,
            created_to,
            updated_from,
            updated_to,
            tier,
            stage,
            tag,
            search: _,
        } = self;
        [owner_id, department_id, kind, province, tier, stage, tag]
            .iter()
            .all(|f| f.is_none())
            && [created_from, created_to, updated_from, updated_to]
                .iter()
                .all(|f| f.is_none())
    }
}

fn fts_sqlite(terms: &[(String, bool)]) -> String {
    // Tokens are [a-z0-9] or CJK only (kehu_domain::search), so quoting is safe.
    terms
        .iter()
        .map(|(t, prefix)| {
            if *prefix {
                format!("\"{t}\"*")
            } else {
                format!("\"{t}\"")
            }
        })
        .collect::<Vec<_>>()
        .join(" AND ")
}

fn fts_pg(terms: &[(String, bool)]) -> String {
    terms
        .iter()
        .map(|(t, prefix)| {
            if *prefix {
                format!("'{t}':*")
            } else {
                format!("'{t}'")
            }
        })
        .collect::<Vec<_>>()
        .join(" & ")
}

/// Appends ` AND c.rid IN (<candidates>)`: the union of what the text
/// index, the blind indexes and the code find. One candidate set joined by
/// key lets both planners start from the matches; an `OR` of subqueries
/// made PostgreSQL scan the tenant.
fn push_search(q: &mut Sql, s: &SearchSpec, tenant_id: &str, pg: bool) {
    let mut parts = 0;
    q.push(" AND c.rid IN (");
    let mut union = |q: &mut Sql| {
        if parts > 0 {
            // ALL: `IN` ignores duplicates, and a distinct UNION built a
            // second temporary table of every text match (1-2 ms at 1 M).
            q.push(" UNION ALL ");
        }
        parts += 1;
    };
    if !s.terms.is_empty() {
        union(q);
        if pg {
            q.push("SELECT s.rid FROM customer_search s WHERE s.terms @@ to_tsquery('simple', ")
                .bind(fts_pg(&s.terms))
                .push(") AND s.tenant_id = ")
                .bind(tenant_id);
        } else {
            // No tenant test here: FTS5 would read each match's stored row to
            // compare an UNINDEXED column (50 times the cost of the match
            // itself for a common initials prefix). The rowid is the global
            // `customers.rid`, and the outer query keeps only this tenant's.
            q.push("SELECT rowid FROM customer_search WHERE customer_search MATCH ")
                .bind(fts_sqlite(&s.terms));
        }
    }
    for l in &s.lookups {
        union(q);
        q.push("SELECT lc.rid FROM customer_lookup l JOIN customers lc ON lc.id = l.customer_id WHERE l.tenant_id = ")
            .bind(tenant_id)
            .push(" AND l.kind = ")
            .bind(l.kind)
            .push(" AND l.digest = ")
            .bind(l.digest.clone());
    }
    if let Some(code) = &s.code {
        union(q);
        q.push("SELECT cc.rid FROM customers cc WHERE cc.tenant_id = ")
            .bind(tenant_id)
            .push(" AND cc.code = ")
            .bind(code);
    }
    if parts == 0 {
        q.push("SELECT CAST(NULL AS BIGINT)");
    }
    q.push(")");
}

/// How a list query is written: for which backend, and which
/// classification filters (in [`class_filters`] order) match many
/// customers (see [`list_customers`]).
#[derive(Clone, Copy, Default)]
struct Plan<'a> {
    pg: bool,
    common: [bool; 3],
    /// A common classification filter whose index, which lists the class's
    /// members in created_at order, drives the page (sorted by created_at).
    drive: Option<usize>,
    /// SQLite: a text-only search with few matches is the driving table,
    /// joined to the customers, rather than an `IN` set (which SQLite
    /// builds into a temporary index first: a fifth of such a search).
    text_join: bool,
    /// PostgreSQL, newest or oldest first: a text-only search with few
    /// matches drives the page from its matches as ranked, past the cursor,
    /// by [`text_matches`] (`rid`s joined by commas; `s.ord` in the query),
    /// so only the page's customers are read. Sorting them in the page
    /// query instead read every match's search row a second time (the
    /// count had just read them all).
    ranked: Option<&'a str>,
    /// PostgreSQL: a text-only search with many matches tests each customer
    /// the sort index walks past against its own search row. Offered the
    /// matches as a set, the planner (whose estimate for a prefix outside its
    /// statistics is a default of a few hundred) fetched and sorted every
    /// one: 21,078 for `zhang` at 200,000 customers, 166 ms.
    text_probe: bool,
}

impl Plan<'_> {
    /// The columns a branch's page is ordered and its cursor compared by:
    /// the driving class index's own (equal to the customer's: created_at
    /// is copied and never changes), so the walk seeks to the cursor, or
    /// the sort key's and the customer id.
    fn key(self, sort: SortKey) -> (&'static str, &'static str) {
        match self.drive {
            Some(_) => ("x.created_at", "x.customer_id"),
            None => (sort.column(), "c.id"),
        }
    }
}

/// The classification filters: table, column and the value asked for.
fn class_filters(f: &CustomerFilter) -> [(&'static str, &'static str, Option<&String>); 3] {
    [
        ("customer_insight", "tier", f.tier.as_ref()),
        ("customer_insight", "stage", f.stage.as_ref()),
        ("customer_tags", "tag", f.tag.as_ref()),
    ]
}

/// Fewer text matches than this are fetched and sorted; more are found by
/// walking the sort index. About where the two cost the same at 1 M
/// customers: on PostgreSQL each step of the walk reads a `tsvector` (a
/// 5,411-match prefix: 37 ms sorted, 100-135 ms walked).
const SQLITE_FEW_MATCHES: i64 = 5_000;
const PG_FEW_MATCHES: i64 = 7_500;

/// A PostgreSQL row estimate at least this high comes from its statistics
/// of common terms, not its default guess, and means "many".
const PG_TRUSTED_MANY: i64 = 10_000;

/// A classification value matched by at least this many customers of the
/// tenant is "common".
const COMMON_CLASS: i64 = 2_000;

/// Matches counted at most, to price building the page from the
/// classification index (fetching and sorting every match, about 4 µs each).
const CLASS_COUNT_CAP: i64 = 20_000;

/// How long a walk for a common classification value may take before the
/// page is built from the classification index instead: about what that
/// would cost, so a walk that loses costs at most twice the better plan.
fn walk_budget(matches: i64) -> std::time::Duration {
    let forced = WALK_BUDGET_US.load(std::sync::atomic::Ordering::Relaxed);
    if forced != u64::MAX {
        return std::time::Duration::from_micros(forced);
    }
    // 2,500 matches at 4 µs: never less than 10 ms.
    std::time::Duration::from_micros((matches.clamp(2_500, CLASS_COUNT_CAP) * 4) as u64)
}

/// A walk budget set by [`force_class_walk_budget`], in µs (`MAX`: none).
static WALK_BUDGET_US: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(u64::MAX);

/// Sets the walk budget of every classification-filtered list page in this
/// process (`None`: the priced one again). For tests: a zero budget makes
/// every walk give up at once, so the fallback plan is what answers. Lists
/// give the same rows either way; only their cost changes.
#[doc(hidden)]
pub fn force_class_walk_budget(budget: Option<std::time::Duration>) {
    let us = budget.map_or(u64::MAX, |d| {
        d.as_micros().min(u128::from(u64::MAX - 1)) as u64
    });
    WALK_BUDGET_US.store(us, std::sync::atomic::Ordering::Relaxed);
}

/// Filters, search and the keyset condition, shared by every branch of a list query.
fn push_filters(
    q: &mut Sql,
    v: &Viewer,
    f: &CustomerFilter,
    plan: Plan<'_>,
    sort: SortKey,
    desc: bool,
    after: Option<&Cursor>,
) {
    let pg = plan.pg;
    if let Some(o) = &f.owner_id {
        q.push(" AND c.owner_id = ").bind(o);
    }
    if let Some(d) = &f.department_id {
        q.push(" AND ");
        push_owner_in_department_tree(q, &v.tenant_id, d);
    }
    if let Some(k) = &f.kind {
        q.push(" AND c.kind = ").bind(k);
    }
    if let Some(p) = &f.province {
        q.push(" AND c.province = ").bind(p);
    }
    let ranges = [
        ("c.created_at >= ", f.created_from),
        ("c.created_at < ", f.created_to),
        ("c.updated_at >= ", f.updated_from),
        ("c.updated_at < ", f.updated_to),
    ];
    for (cond, val) in ranges {
        if let Some(val) = val {
            q.push(" AND ").push(cond).bind(val);
        }
    }
    // Classification filters: a rare value drives the query from its own
    // index (`IN`); a common one either drives the page from its own index
    // (`plan.drive`, created_at order: skipped here) or is tested row by row
    // (`EXISTS` on the primary key) while the sort index is walked; both
    // stop after the page.
    for (i, ((table, col, val), common)) in
        class_filters(f).into_iter().zip(plan.common).enumerate()
    {
        let Some(val) = val else { continue };
        if plan.drive == Some(i) {
            // Already the driving table's condition.
            continue;
        }
        if common {
            q.push(&format!(
                " AND EXISTS (SELECT 1 FROM {table} x WHERE x.tenant_id = c.tenant_id AND x.customer_id = c.id AND x.{col} = "
            ))
            .bind(val)
            .push(")");
        } else {
            q.push(&format!(
                " AND c.id IN (SELECT x.customer_id FROM {table} x WHERE x.tenant_id = "
            ))
            .bind(&v.tenant_id)
            .push(&format!(" AND x.{col} = "))
            .bind(val)
            .push(")");
        }
    }
    if let Some(s) = &f.search
        && !plan.text_join
        && plan.ranked.is_none()
    {
        if plan.text_probe {
            // A scalar subquery is never flattened into a join: it stays a
            // test of the row at hand. No search row (NULL) fails it.
            q.push(" AND (SELECT s.terms @@ to_tsquery('simple', ")
                .bind(fts_pg(&s.terms))
                .push(") FROM customer_search s WHERE s.rid = c.rid)");
        } else {
            push_search(q, s, &v.tenant_id, pg);
        }
    }
    // Ranked matches start past the cursor already.
    if let Some(cur) = after
        && plan.ranked.is_none()
    {
        // Compare in the same byte order the page was sorted in.
        let (col, id) = plan.key(sort);
        let collate = if sort.is_text() && pg {
            " COLLATE \"C\""
        } else {
            ""
        };
        push_after(q, &format!("{col}{collate}"), id, desc, cur);
    }
}

/// Appends ` AND (key, id) < cursor` (`>` ascending). A row-value
/// comparison lets both planners seek the (…, key, id) index to the cursor;
/// the equivalent OR form made SQLite walk every earlier row, so deep pages
/// cost more than the first.
fn push_after(q: &mut Sql, key: &str, id: &str, desc: bool, cur: &Cursor) {
    let cmp = if desc { "<" } else { ">" };
    q.push(&format!(" AND ({key}, {id}) {cmp} ("));
    match &cur.value {
        CursorValue::Int(i) => q.bind(*i),
        CursorValue::Text(t) => q.bind(t),
    };
    q.push(", ").bind(&cur.id).push(")");
}

/// What a search's text terms match, as far as choosing a plan needs.
enum TextMatches {
    /// Fewer than the bound ([`SQLITE_FEW_MATCHES`], [`PG_FEW_MATCHES`]).
    Few,
    Many,
    /// All the matches past the cursor (fewer than the bound) as `rid`s
    /// joined by commas in the page's (created_at, id) order.
    Ranked(String),
    /// The same for the newest periods' matches only: at least a page's,
    /// and every one newer than those.
    Newest(String),
}

/// How a PostgreSQL text search ranks its matches: in the page's direction
/// past its cursor, and, for a page that takes the matches as they are
/// (newest first, scope "all", no other filter), only the newest periods
/// needed to fill `by_period` rows (set only then).
#[derive(Clone, Copy)]
struct Rank<'a> {
    desc: bool,
    after: Option<&'a Cursor>,
    by_period: Option<i64>,
}

/// Search rows on PostgreSQL carry a lexeme naming their customer's
/// creation period: `#` and `created_at >> PERIOD_SHIFT` (periods of about
/// 25 days), added by a trigger on every insert and every change of the
/// terms (migration 0014), so every writer's rows have it, a process of an
/// older version's included. No query can spell it: `#` is outside the
/// search alphabet. A search ANDs the newest periods' lexemes to its terms,
/// so it reads the rows of the matches in those periods only.
const PERIOD_SHIFT: u32 = 31;

/// Counts a search's text matches up to the bound; on PostgreSQL with
/// `rank` (the page's direction and cursor, newest or oldest first) the
/// same read ranks them when they are few.
async fn text_matches(
    c: &mut Conn<'_>,
    v: &Viewer,
    terms: &[(String, bool)],
    rank: Option<Rank<'_>>,
) -> Result<TextMatches> {
    let few = |few: bool| {
        if few {
            TextMatches::Few
        } else {
            TextMatches::Many
        }
    };
    if !c.is_pg() {
        let n = c
            .int(sql!(
                &format!(
                    "SELECT COUNT(*) FROM (SELECT rowid FROM customer_search WHERE customer_search MATCH $1 LIMIT {SQLITE_FEW_MATCHES})"
                ),
                fts_sqlite(terms)
            ))
            .await?;
        return Ok(few(n.unwrap_or(0) < SQLITE_FEW_MATCHES));
    }
    // PostgreSQL builds the whole GIN bitmap before LIMIT applies, so
    // counting a common term costs what reading it does (113 ms for `zs` at
    // 1 M). Its own estimate is right for the terms in its statistics (`张`:
    // 100,712 estimated, 102,786 actual) and a default 3,300 for all others,
    // so a high one is trusted as "many" and a low one is counted. Only with
    // one tenant: the statistics are the table's, and a term common in one
    // tenant may be rare in another, whose walk would then cover it all.
    let matching = sql!(
        "SELECT 1 FROM customer_search s WHERE s.terms @@ to_tsquery('simple', $1) AND s.tenant_id = $2",
        fts_pg(terms),
        &v.tenant_id
    );
    if c.int(sql!("SELECT COUNT(*) FROM tenants")).await? == Some(1)
        && c.pg_estimated_rows(matching.clone()).await?.unwrap_or(0) >= PG_TRUSTED_MANY
    {
        return Ok(TextMatches::Many);
    }
    if let Some(rank) = rank {
        if let Some(need) = rank.by_period {
            return Ok(rank_by_period(c, v, terms, rank.after, need).await?.0);
        }
        let (n, rids) = rank_matches(c, v, terms, rank.desc, rank.after, None, None).await?;
        return Ok(if n < PG_FEW_MATCHES {
            TextMatches::Ranked(rids)
        } else {
            TextMatches::Many
        });
    }
    let count = Sql::with(
        &format!(
            "SELECT COUNT(*) FROM ({} LIMIT {PG_FEW_MATCHES}) m",
            matching.text
        ),
        matching.args,
    );
    Ok(few(c.int(count).await?.unwrap_or(0) < PG_FEW_MATCHES))
}

/// The tenant's text matches past the cursor, up to the bound, and the
/// `rid`s of those in the page's direction (ranked in that direction:
/// PostgreSQL knows the ordinality of `unnest` ascends, and reads it only
/// forwards). Only those in the periods that `periods` (a tsquery of period
/// lexemes) names, and created at or before `last`, when given.
async fn rank_matches(
    c: &mut Conn<'_>,
    v: &Viewer,
    terms: &[(String, bool)],
    desc: bool,
    after: Option<&Cursor>,
    periods: Option<&str>,
    last: Option<i64>,
) -> Result<(i64, String)> {
    let dir = if desc { "DESC" } else { "ASC" };
    row! {
        struct Ranks {
            n: i64,
            rids: String,
        }
    }
    // In any order inside (the LIMIT stops reading the heap there); ranked
    // only if fewer, since more are found by walking the sort index.
    let mut q = Sql::new(
        &format!(
            "SELECT COUNT(*) AS n, COALESCE(string_agg(m.rid::text, ',' ORDER BY m.created_at {dir}, m.id {dir}), '') AS rids
             FROM (SELECT s.rid, s.created_at, s.id FROM customer_search s WHERE s.terms @@ (to_tsquery('simple', "
        ),
    );
    q.bind(fts_pg(terms)).push(")");
    if let Some(periods) = periods {
        q.push(" && ").bind(periods).push("::tsquery");
    }
    q.push(") AND s.tenant_id = ").bind(&v.tenant_id);
    if let Some(last) = last {
        q.push(" AND s.created_at <= ").bind(last);
    }
    if let Some(cur) = after {
        push_after(&mut q, "s.created_at", "s.id", desc, cur);
    }
    q.push(&format!(" LIMIT {PG_FEW_MATCHES}) m"));
    let r: Ranks = c.one(q).await?;
    Ok((r.n, r.rids))
}

/// For tests: the `rid`s a newest-first search of the whole tenant ranks
/// by period (`None`: too many, the sort index is walked instead), and how
/// many ranking reads that took.
#[doc(hidden)]
pub async fn period_ranking(
    c: &mut Conn<'_>,
    v: &Viewer,
    terms: &[(String, bool)],
    after: Option<&Cursor>,
    need: i64,
) -> Result<(Option<Vec<i64>>, usize)> {
    let (m, reads) = rank_by_period(c, v, terms, after, need).await?;
    let rids = match m {
        TextMatches::Ranked(r) | TextMatches::Newest(r) => Some(
            r.split(',')
                .filter(|r| !r.is_empty())
                .map(|r| r.parse().expect("rids are integers"))
                .collect(),
        ),
        TextMatches::Few | TextMatches::Many => None,
    };
    Ok((rids, reads))
}

/// Newest first, the matches of the newest periods before the cursor,
/// widening until they fill `need` rows: the rows read are about those of
/// the page's periods, not every match's (an initials prefix with 5,400
/// matches at 1 M customers read 5,300 heap pages to rank them all). With
/// how many ranking reads that took.
async fn rank_by_period(
    c: &mut Conn<'_>,
    v: &Viewer,
    terms: &[(String, bool)],
    after: Option<&Cursor>,
    need: i64,
) -> Result<(TextMatches, usize)> {
    row! {
        struct Extent {
            newest: Option<i64>,
            oldest: Option<i64>,
        }
    }
    // Both from the ends of the (tenant_id, created_at, id) index.
    let e: Extent = c
        .one(sql!(
            "SELECT MAX(created_at) AS newest, MIN(created_at) AS oldest FROM customers WHERE tenant_id = $1",
            &v.tenant_id
        ))
        .await?;
    let (Some(mut newest), Some(oldest)) = (e.newest, e.oldest) else {
        return Ok((TextMatches::Ranked(String::new()), 0));
    };
    if let Some(Cursor {
        value: CursorValue::Int(t),
        ..
    }) = after
    {
        newest = newest.min(*t);
    }
    let need = need.clamp(1, PG_FEW_MATCHES);
    let (mut hi, first) = (newest >> PERIOD_SHIFT, oldest >> PERIOD_SHIFT);
    let (mut found, mut rids, mut reads) = (0, String::new(), 0);
    // Two periods first (the newest is partly over), then as many as the
    // matches so far say the page still needs, half again for safety, and
    // at least as many as were read (so a page near the end of the
    // matches, short by a few, does not walk back a period a read); when
    // none were found, or more than MAX_SPAN would be needed, every older
    // period at once. Each period named costs its lexeme's posting list in
    // the GIN scan (about 0.5 ms for 17,000 rows with a prefix term).
    const MAX_SPAN: i64 = 12;
    let (mut width, mut read) = (2, 0);
    loop {
        let lo = hi.saturating_sub(width - 1);
        // The last instant of period `hi` (no overflow: `hi` is some
        // creation time shifted right): nothing newer is read twice.
        let last = (hi << PERIOD_SHIFT) | ((1 << PERIOD_SHIFT) - 1);
        let periods = (lo > first).then(|| {
            (lo..=hi)
                .map(|p| format!("'#{p}'"))
                .collect::<Vec<_>>()
                .join(" | ")
        });
        let (n, more) =
            rank_matches(c, v, terms, true, after, periods.as_deref(), Some(last)).await?;
        reads += 1;
        if n >= PG_FEW_MATCHES {
            return Ok((TextMatches::Many, reads));
        }
        found += n;
        if !more.is_empty() {
            if !rids.is_empty() {
                rids.push(',');
            }
            rids.push_str(&more);
        }
        if periods.is_none() {
            return Ok((TextMatches::Ranked(rids), reads));
        }
        if found >= need {
            return Ok((TextMatches::Newest(rids), reads));
        }
        read += width;
        width = if found == 0 {
            i64::MAX
        } else {
            let more = ((need - found) * read * 3 / (2 * found) + 1).max(read);
            if more > MAX_SPAN { i64::MAX } else { more }
        };
        hi = lo - 1;
    }
}

/// One page of customers the viewer may see, in keyset order.
///
/// A scoped viewer's page is the union of two ordered, limited branches:
/// customers whose owner the scope covers, and customers shared through the
/// team. Each branch can walk its own index in sort order (an `OR` across
/// the two would force a scan and a sort), so deep pages cost what page one does.
pub async fn list_customers(
    c: &mut Conn<'_>,
    v: &Viewer,
    f: &CustomerFilter,
    sort: SortKey,
    desc: bool,
    after: Option<&Cursor>,
    limit: i64,
) -> Result<Vec<ListedCustomer>> {
    let (rows, partial) = list_page(c, v, f, sort, desc, after, limit, true).await?;
    // Ranked from the newest periods only, the page's matches were counted
    // before the page was read: one deleted in between leaves it short
    // (and the caller would think it the last) while older periods have
    // more. Then rank every match.
    if partial && (rows.len() as i64) < limit {
        return Ok(list_page(c, v, f, sort, desc, after, limit, false).await?.0);
    }
    Ok(rows)
}

/// [`list_customers`]'s page; `true` with it when its matches were ranked
/// from the newest periods only (`by_period`: allowed to).
#[allow(clippy::too_many_arguments)]
async fn list_page(
    c: &mut Conn<'_>,
    v: &Viewer,
    f: &CustomerFilter,
    sort: SortKey,
    desc: bool,
    after: Option<&Cursor>,
    limit: i64,
    by_period: bool,
) -> Result<(Vec<ListedCustomer>, bool)> {
    let pg = c.is_pg();
    let dir = if desc { "DESC" } else { "ASC" };
    // Byte-order collation on both backends so cursors compare the same way.
    let collate = if sort.is_text() && pg {
        " COLLATE \"C\""
    } else {
        ""
    };
    let col = sort.column();
    // Both planners can run a search by walking the sort index and probing
    // the text index row by row: quick when many rows match, a walk of the
    // whole tenant when few do. Their estimates of how many match are poor
    // (PostgreSQL guessed thousands for a bigram with ten matches at 1 M
    // customers and took seconds). So count the matches, up to a bound,
    // first; when they are few, sort by an expression no index provides, so
    // the planner has to start from the matches.
    let own_index = f.owner_id.is_some()
        || f.province.is_some()
        || f.department_id.is_some()
        || f.tier.is_some()
        || f.stage.is_some()
        || f.tag.is_some();
    let text_only = f
        .search
        .as_ref()
        .is_some_and(|s| !s.terms.is_empty() && s.lookups.is_empty() && s.code.is_none());
    // Period by period only where the page is the matches as they are:
    // a scope or another filter may drop some, and the page must still be
    // full when older periods have more.
    let rank = (pg && text_only && sort == SortKey::CreatedAt).then_some(Rank {
        desc,
        after,
        by_period: (by_period && desc && v.scope == DataScope::All && f.only_search())
            .then_some(limit),
    });
    let mut partial = false;
    let (few_matches, ranked) = match &f.search {
        Some(s) if !s.terms.is_empty() => match text_matches(c, v, &s.terms, rank).await? {
            TextMatches::Few => (true, None),
            TextMatches::Many => (false, None),
            // Nothing matches past the cursor: an empty page (the team
            // branch's customers are among the tenant's matches too).
            TextMatches::Ranked(r) if r.is_empty() => return Ok((Vec::new(), false)),
            TextMatches::Ranked(r) => (true, Some(r)),
            TextMatches::Newest(r) => {
                partial = true;
                (true, Some(r))
            }
        },
        _ => (false, None),
    };
    // The same choice for tier, stage and tag filters: SQLite drove every
    // one from the classification index, fetching and sorting each match
    // (1-3 s for tier D, three quarters of 1 M customers); walking the sort
    // index and testing each row stops after the page, but would walk the
    // whole tenant for a value almost nobody has. So count, up to a bound.
    // PostgreSQL keeps per-value statistics and plans both cases itself.
    let mut plan = Plan {
        pg,
        text_join: !pg && few_matches && text_only,
        ranked: ranked.as_deref(),
        // Only where the walk is the tenant's sort index: a scope or a
        // filter with an index of its own may leave few of the matches,
        // and the walk would then probe every customer it passes.
        text_probe: pg && !few_matches && text_only && v.scope == DataScope::All && !own_index,
        ..Plan::default()
    };
    let mut fewest = CLASS_COUNT_CAP;
    if !pg {
        for (i, ((table, col, val), common)) in class_filters(f)
            .into_iter()
            .zip(&mut plan.common)
            .enumerate()
        {
            let Some(val) = val else { continue };
            let n = c
                .int(sql!(
                    &format!("SELECT COUNT(*) FROM (SELECT 1 FROM {table} WHERE tenant_id = $1 AND {col} = $2 LIMIT {CLASS_COUNT_CAP})"),
                    &v.tenant_id,
                    val
                ))
                .await?
                .unwrap_or(0);
            *common = n >= COMMON_CLASS;
            // Newest (or oldest) first, the common class with the fewest
            // members drives the page from its index: no walk through other
            // customers however its members are spread over time.
            if *common && sort == SortKey::CreatedAt && !few_matches && n <= fewest {
                plan.drive = Some(i);
            }
            fewest = fewest.min(n);
        }
        // A rare filter is cheaper to start from (its `IN` set is small).
        if fewest < COMMON_CLASS {
            plan.drive = None;
        }
    }
    // `plain`: sort by the columns as they are (the ORDER BY of a compound
    // select must name result columns). A ranked branch is in rank order.
    let order = |q: &mut Sql, col: &str, id: &str, plain: bool, by_rank: bool| {
        if by_rank {
            q.push(" ORDER BY s.ord").limit(limit);
            return;
        }
        let key = match (few_matches && !plain, sort.is_text()) {
            (false, _) => col.to_string(),
            (true, false) => format!("({col} + 0)"),
            (true, true) => format!("({col} || '')"),
        };
        q.push(&format!(" ORDER BY {key}{collate} {dir}, {id} {dir}"))
            .limit(limit);
    };
    // With few matches, `+` keeps SQLite from walking the tenant's whole
    // range and makes it start from the search branches (multi-index OR).
    // PostgreSQL has no unary `+` on text and needs none.
    let plus = if few_matches && !pg { "+" } else { "" };
    // With many matches SQLite still fetched and sorted every one (23 ms for
    // an initials prefix matching 14,000 of 1 M customers); walking the sort
    // index and testing each row against the match set stops after the page
    // (5 ms). Only where no other filter has an index of its own, and only in
    // a single-tenant database: the probe counts every tenant's matches (a
    // tenant test would read each match's stored row), so with several
    // tenants "many" may be another tenant's, and the walk would cover the
    // whole of this one.
    let many_matches = f.search.as_ref().is_some_and(|s| !s.terms.is_empty())
        && !few_matches
        && !pg
        && c.int(sql!("SELECT COUNT(*) FROM tenants")).await? == Some(1);
    let indexed_by = match sort {
        _ if !many_matches || own_index => "",
        SortKey::CreatedAt => " INDEXED BY customers_created",
        SortKey::UpdatedAt => " INDEXED BY customers_updated",
        SortKey::Name => " INDEXED BY customers_name",
        SortKey::Code => "",
    };
    let plain = col.trim_start_matches("c.");
    // The badges are joined to the finished page (a subquery with LIMIT is
    // not flattened into a join), so a search never looks up the
    // classification of matches that are not shown.
    // Wrapping keeps the page's `$N` numbering: nothing is bound before it.
    let with_badges = |page: Sql| {
        let mut q = Sql::with(
            &format!(
                "SELECT page.*, ci.tier, ci.stage FROM ({}) page LEFT JOIN customer_insight ci ON ci.tenant_id = page.tenant_id AND ci.customer_id = page.id",
                page.text
            ),
            page.args,
        );
        order(&mut q, &format!("page.{plain}"), "page.id", true, false);
        q
    };
    // The start of a page's select: from the customers, or from the
    // driving classification index joined to them (CROSS JOIN: SQLite keeps
    // that order, so the index's created_at order is the page's).
    let from = |q: &mut Sql, plan: Plan<'_>| {
        match plan.drive {
            None if let Some(ranked) = plan.ranked => {
                // The join reads customers in rank order and stops after
                // the page.
                q.push(&format!("SELECT {CUSTOMER_COLS} FROM unnest(string_to_array("))
                    .bind(ranked)
                    .push(", ',')::bigint[]) WITH ORDINALITY AS s(rid, ord) CROSS JOIN customers c WHERE c.rid = s.rid AND c.tenant_id = ")
                    .bind(&v.tenant_id);
            }
            None if plan.text_join => {
                let terms = f.search.as_ref().map_or(&[][..], |s| &s.terms[..]);
                q.push(&format!("SELECT {CUSTOMER_COLS} FROM customer_search s CROSS JOIN customers c WHERE s.customer_search MATCH "))
                    .bind(fts_sqlite(terms))
                    .push(" AND c.rid = s.rowid AND c.tenant_id = ")
                    .bind(&v.tenant_id);
            }
            Some(i) => {
                let (table, col, Some(val)) = class_filters(f)[i] else {
                    unreachable!("only a filter with a value drives");
                };
                q.push(&format!(
                    "SELECT {CUSTOMER_COLS} FROM {table} x CROSS JOIN customers c WHERE x.tenant_id = "
                ))
                .bind(&v.tenant_id)
                .push(&format!(" AND x.{col} = "))
                .bind(val)
                .push(" AND c.tenant_id = x.tenant_id AND c.id = x.customer_id");
            }
            None => {
                q.push(&format!(
                    "SELECT {CUSTOMER_COLS} FROM customers c{indexed_by} WHERE {plus}c.tenant_id = "
                ))
                .bind(&v.tenant_id);
            }
        }
        q.push(" AND c.deleted_at IS NULL");
    };
    let build = |plan: Plan<'_>| {
        let (key, id) = plan.key(sort);
        if v.scope == DataScope::All {
            let mut q = Sql::new("");
            from(&mut q, plan);
            push_filters(&mut q, v, f, plan, sort, desc, after);
            order(&mut q, key, id, false, plan.ranked.is_some());
            return with_badges(q);
        }
        // PostgreSQL orders a UNION only by plain output columns; the badge
        // wrapper around the union gives the final (collated) ORDER BY.
        let mut q = Sql::new("SELECT * FROM (");
        from(&mut q, plan);
        q.push(" AND ");
        push_owner_clause(&mut q, v);
        push_filters(&mut q, v, f, plan, sort, desc, after);
        order(&mut q, key, id, false, plan.ranked.is_some());
        // Team shares are few: that branch filters them as usual.
        let plan = Plan {
            drive: None,
            text_join: false,
            ranked: None,
            ..plan
        };
        q.push(&format!(
            ") owned UNION SELECT * FROM (SELECT {CUSTOMER_COLS} FROM customer_team t CROSS JOIN customers c WHERE c.tenant_id = t.tenant_id AND c.id = t.customer_id AND t.tenant_id = "
        ));
        q.bind(&v.tenant_id)
            .push(" AND t.user_id = ")
            .bind(&v.user_id)
            .push(" AND c.deleted_at IS NULL");
        push_filters(&mut q, v, f, plan, sort, desc, after);
        order(&mut q, col, "c.id", false, false);
        q.push(") shared");
        with_badges(q)
    };
    // A walk (along the sort index, or the driving class index) usually
    // fills the page within a few hundred rows, but other filters or the
    // viewer's scope may reject most of what it passes (a class clustered
    // away from the sort order's start: tier A among long-standing
    // customers, newest first, in name or updated_at order). So the walk
    // gets a budget, and past it the page is built from the classification
    // index (`IN`) after all.
    if plan.common.contains(&true) {
        if let Some(rows) = c.all_within(build(plan), walk_budget(fewest)).await? {
            return Ok((rows, partial));
        }
        plan.common = [false; 3];
        plan.drive = None;
    }
    Ok((c.all(build(plan)).await?, partial))
}

/// Customer ids whose blind index matches, within the viewer's scope
/// (duplicate hints, data-subject lookups).
pub async fn find_by_lookup(c: &mut Conn<'_>, v: &Viewer, l: &Lookup) -> Result<Vec<String>> {
    let mut q = Sql::new("SELECT c.id FROM customers c WHERE c.tenant_id = ");
    q.bind(&v.tenant_id).push(" AND c.deleted_at IS NULL AND c.id IN (SELECT l.customer_id FROM customer_lookup l WHERE l.tenant_id = ")
        .bind(&v.tenant_id)
        .push(" AND l.kind = ")
        .bind(l.kind)
        .push(" AND l.digest = ")
        .bind(l.digest.clone())
        .push(")");
    push_scope(&mut q, v, Access::Read);
    c.ids(q).await
}

pub async fn count_customers(c: &mut Conn<'_>, tenant_id: &str) -> Result<i64> {
    Ok(c.int(sql!(
        "SELECT COUNT(*) FROM customers WHERE tenant_id = $1 AND deleted_at IS NULL",
        tenant_id
    ))
    .await?
    .unwrap_or(0))
}

// ---- contacts ----

row! {
    #[derive(Clone, Debug, PartialEq)]
    pub struct ContactRow {
        pub tenant_id: String,
        pub id: String,
        pub customer_id: String,
        pub name: String,
        pub title: Option<String>,
        pub is_primary: i64,
        pub sealed: Vec<u8>,
        pub version: i64,
        pub created_at: i64,
        pub updated_at: i64,
    }
}

const CONTACT_COLS: &str =
    "tenant_id, id, customer_id, name, title, is_primary, sealed, version, created_at, updated_at";

/// Contacts of a customer the caller has already loaded through its scope.
pub async fn contacts(
    c: &mut Conn<'_>,
    tenant_id: &str,
    customer_id: &str,
) -> Result<Vec<ContactRow>> {
    c.all(sql!(
        &format!("SELECT {CONTACT_COLS} FROM contacts WHERE tenant_id = $1 AND customer_id = $2 ORDER BY is_primary DESC, created_at, id"),
        tenant_id,
        customer_id
    ))
    .await
}

pub async fn contact(
    c: &mut Conn<'_>,
    tenant_id: &str,
    customer_id: &str,
    id: &str,
) -> Result<Option<ContactRow>> {
    c.opt(sql!(
        &format!("SELECT {CONTACT_COLS} FROM contacts WHERE tenant_id = $1 AND customer_id = $2 AND id = $3"),
        tenant_id,
        customer_id,
        id
    ))
    .await
}

/// A company has at most one primary contact: making one primary demotes the rest.
async fn demote_primary(tx: &mut Tx, k: &ContactRow) -> Result<()> {
    if k.is_primary != 0 {
        tx.exec(sql!(
            "UPDATE contacts SET is_primary = 0, version = version + 1, updated_at = $1
             WHERE tenant_id = $2 AND customer_id = $3 AND id <> $4 AND is_primary = 1",
            k.updated_at,
            &k.tenant_id,
            &k.customer_id,
            &k.id
        ))
        .await?;
    }
    Ok(())
}

pub async fn insert_contact(tx: &mut Tx, k: &ContactRow, lookups: &[Lookup]) -> Result<()> {
    demote_primary(tx, k).await?;
    tx.exec(sql!(
        "INSERT INTO contacts (tenant_id, id, customer_id, name, title, is_primary, sealed, version, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, 1, $8, $8)",
        &k.tenant_id, &k.id, &k.customer_id, &k.name, &k.title, k.is_primary, k.sealed.clone(), k.created_at
    ))
    .await?;
    put_lookups(tx, &k.tenant_id, &k.customer_id, &k.id, lookups).await
}

pub async fn update_contact(tx: &mut Tx, k: &ContactRow, lookups: &[Lookup]) -> Result<i64> {
    demote_primary(tx, k).await?;
    let n = tx
        .exec(sql!(
            "UPDATE contacts SET name = $1, title = $2, is_primary = $3, sealed = $4, version = version + 1, updated_at = $5
             WHERE tenant_id = $6 AND customer_id = $7 AND id = $8 AND version = $9",
            &k.name, &k.title, k.is_primary, k.sealed.clone(), k.updated_at, &k.tenant_id, &k.customer_id, &k.id,
            k.version
        ))
        .await?;
    if n == 0 {
        return Err(StoreError::VersionConflict);
    }
    put_lookups(tx, &k.tenant_id, &k.customer_id, &k.id, lookups).await?;
    Ok(k.version + 1)
}

pub async fn delete_contact(
    tx: &mut Tx,
    tenant_id: &str,
    customer_id: &str,
    id: &str,
    version: i64,
) -> Result<()> {
    let n = tx
        .exec(sql!(
            "DELETE FROM contacts WHERE tenant_id = $1 AND customer_id = $2 AND id = $3 AND version = $4",
            tenant_id, customer_id, id, version
        ))
        .await?;
    if n == 0 {
        return Err(StoreError::VersionConflict);
    }
    tx.exec(sql!(
        "DELETE FROM customer_lookup WHERE tenant_id = $1 AND source_id = $2",
        tenant_id,
        id
    ))
    .await?;
    Ok(())
}

// ---- orders ----

row! {
    #[derive(Clone, Debug, PartialEq)]
    pub struct OrderRow {
        pub tenant_id: String,
        pub id: String,
        pub customer_id: String,
        pub ordered_on: String,
        pub channel: Option<String>,
        pub total_fen: i64,
        pub line_count: i64,
        pub created_by: Option<String>,
        pub created_at: i64,
    }
}

row! {
    #[derive(Clone, Debug, PartialEq)]
    pub struct OrderLineRow {
        pub tenant_id: String,
        pub order_id: String,
        pub line_no: i64,
        pub product: String,
        pub category: Option<String>,
        pub quantity: i64,
        pub amount_fen: i64,
    }
}

/// The `orders.line_categories` value: the lines' (category, amount) pairs
/// as a JSON array, read back by [`crate::insight::OrderFact::categories`].
fn line_categories(lines: &[OrderLineRow]) -> String {
    let pairs: Vec<(Option<&str>, i64)> = lines
        .iter()
        .map(|l| (l.category.as_deref(), l.amount_fen))
        .collect();
    serde_json::to_string(&pairs).expect("strings and integers serialise")
}

pub async fn insert_order(tx: &mut Tx, o: &OrderRow, lines: &[OrderLineRow]) -> Result<()> {
    tx.exec(sql!(
        "INSERT INTO orders (tenant_id, id, customer_id, ordered_on, channel, total_fen, line_count, created_by, created_at, line_categories)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        &o.tenant_id, &o.id, &o.customer_id, &o.ordered_on, &o.channel, o.total_fen, o.line_count, &o.created_by,
        o.created_at, line_categories(lines)
    ))
    .await?;
    for l in lines {
        tx.exec(sql!(
            "INSERT INTO order_lines (tenant_id, order_id, line_no, product, category, quantity, amount_fen)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
            &l.tenant_id, &l.order_id, l.line_no, &l.product, &l.category, l.quantity, l.amount_fen
        ))
        .await?;
    }
    Ok(())
}

const ORDER_COLS: &str = "tenant_id, id, customer_id, ordered_on, channel, total_fen, line_count, created_by, created_at";

/// Orders of a customer, newest first, keyset-paged by (ordered_on, id).
pub async fn orders(
    c: &mut Conn<'_>,
    tenant_id: &str,
    customer_id: &str,
    before: Option<(&str, &str)>,
    limit: i64,
) -> Result<Vec<OrderRow>> {
    let mut q = Sql::new(&format!(
        "SELECT {ORDER_COLS} FROM orders WHERE tenant_id = "
    ));
    q.bind(tenant_id)
        .push(" AND customer_id = ")
        .bind(customer_id);
    if let Some((day, id)) = before {
        q.push(" AND (ordered_on < ")
            .bind(day)
            .push(" OR (ordered_on = ")
            .bind(day)
            .push(" AND id < ")
            .bind(id)
            .push("))");
    }
    q.push(" ORDER BY ordered_on DESC, id DESC").limit(limit);
    c.all(q).await
}

pub async fn order_lines(
    c: &mut Conn<'_>,
    tenant_id: &str,
    order_ids: &[String],
) -> Result<Vec<OrderLineRow>> {
    if order_ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut q = Sql::new(
        "SELECT tenant_id, order_id, line_no, product, category, quantity, amount_fen FROM order_lines WHERE tenant_id = ",
    );
    q.bind(tenant_id)
        .push(" AND order_id IN (")
        .bind_list(order_ids.iter())
        .push(") ORDER BY order_id, line_no");
    c.all(q).await
}

row! {
    #[derive(Clone, Debug, PartialEq, Eq)]
    pub struct OrderTotals {
        pub order_count: i64,
        pub total_fen: i64,
    }
}

pub async fn order_totals(
    c: &mut Conn<'_>,
    tenant_id: &str,
    customer_id: &str,
) -> Result<OrderTotals> {
    c.one(sql!(
        "SELECT COUNT(*) AS order_count, CAST(COALESCE(SUM(total_fen), 0) AS BIGINT) AS total_fen
         FROM orders WHERE tenant_id = $1 AND customer_id = $2",
        tenant_id,
        customer_id
    ))
    .await
}

// ---- timeline ----

row! {
    #[derive(Clone, Debug, PartialEq)]
    pub struct TimelineRow {
        pub tenant_id: String,
        pub id: String,
        pub customer_id: String,
        pub at: i64,
        pub actor_id: Option<String>,
        pub kind: String,
        /// JSON, sensitive values already redacted by the caller.
        pub detail: String,
    }
}

pub async fn insert_timeline(tx: &mut Tx, t: &TimelineRow) -> Result<()> {
    tx.exec(sql!(
        "INSERT INTO timeline (tenant_id, id, customer_id, at, actor_id, kind, detail) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        &t.tenant_id, &t.id, &t.customer_id, t.at, &t.actor_id, &t.kind, &t.detail
    ))
    .await?;
    Ok(())
}

/// Entries newest first, keyset-paged by `(at, id)` so entries written in
/// the same millisecond are neither skipped nor repeated.
pub async fn timeline(
    c: &mut Conn<'_>,
    tenant_id: &str,
    customer_id: &str,
    before: Option<(i64, &str)>,
    limit: i64,
) -> Result<Vec<TimelineRow>> {
    let mut q = Sql::new(
        "SELECT tenant_id, id, customer_id, at, actor_id, kind, detail FROM timeline WHERE tenant_id = ",
    );
    q.bind(tenant_id)
        .push(" AND customer_id = ")
        .bind(customer_id);
    if let Some((at, id)) = before {
        q.push(" AND (at < ")
            .bind(at)
            .push(" OR (at = ")
            .bind(at)
            .push(" AND id < ")
            .bind(id)
            .push("))");
    }
    q.push(" ORDER BY at DESC, id DESC").limit(limit);
    c.all(q).await
}

// ---- team members ----

row! {
    #[derive(Clone, Debug, PartialEq)]
    pub struct TeamRow {
        pub tenant_id: String,
        pub customer_id: String,
        pub user_id: String,
        pub access: String,
        pub created_at: i64,
    }
}

pub async fn team(c: &mut Conn<'_>, tenant_id: &str, customer_id: &str) -> Result<Vec<TeamRow>> {
    c.all(sql!(
        "SELECT tenant_id, customer_id, user_id, access, created_at FROM customer_team
         WHERE tenant_id = $1 AND customer_id = $2 ORDER BY created_at, user_id",
        tenant_id,
        customer_id
    ))
    .await
}

pub async fn put_team_member(tx: &mut Tx, t: &TeamRow) -> Result<()> {
    tx.exec(sql!(
        "INSERT INTO customer_team (tenant_id, customer_id, user_id, access, created_at) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (tenant_id, customer_id, user_id) DO UPDATE SET access = $4",
        &t.tenant_id, &t.customer_id, &t.user_id, &t.access, t.created_at
    ))
    .await?;
    Ok(())
}

pub async fn remove_team_member(
    tx: &mut Tx,
    tenant_id: &str,
    customer_id: &str,
    user_id: &str,
) -> Result<()> {
    let n = tx
        .exec(sql!(
            "DELETE FROM customer_team WHERE tenant_id = $1 AND customer_id = $2 AND user_id = $3",
            tenant_id,
            customer_id,
            user_id
        ))
        .await?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

// ---- custom field definitions ----

row! {
    #[derive(Clone, Debug, PartialEq)]
    pub struct CustomFieldRow {
        pub tenant_id: String,
        pub id: String,
        pub key: String,
        pub label_zh: String,
        pub label_en: String,
        pub field_type: String,
        /// JSON array of option strings.
        pub options: String,
        pub required: i64,
        pub position: i64,
        pub version: i64,
        pub created_at: i64,
        pub updated_at: i64,
    }
}

const FIELD_COLS: &str = "tenant_id, id, key, label_zh, label_en, field_type, options, required, position, version, created_at, updated_at";

pub async fn custom_fields(c: &mut Conn<'_>, tenant_id: &str) -> Result<Vec<CustomFieldRow>> {
    c.all(sql!(
        &format!(
            "SELECT {FIELD_COLS} FROM custom_field_defs WHERE tenant_id = $1 ORDER BY position, key"
        ),
        tenant_id
    ))
    .await
}

pub async fn custom_field(
    c: &mut Conn<'_>,
    tenant_id: &str,
    id: &str,
) -> Result<Option<CustomFieldRow>> {
    c.opt(sql!(
        &format!("SELECT {FIELD_COLS} FROM custom_field_defs WHERE tenant_id = $1 AND id = $2"),
        tenant_id,
        id
    ))
    .await
}

pub async fn insert_custom_field(tx: &mut Tx, f: &CustomFieldRow) -> Result<()> {
    tx.exec(sql!(
        "INSERT INTO custom_field_defs (tenant_id, id, key, label_zh, label_en, field_type, options, required, position, version, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 1, $10, $10)",
        &f.tenant_id, &f.id, &f.key, &f.label_zh, &f.label_en, &f.field_type, &f.options, f.required, f.position,
        f.created_at
    ))
    .await
    .map_err(|e| e.unique_as("custom_field_key"))?;
    Ok(())
}

/// Labels, options, required flag and position change; key and type do not
/// (stored values depend on them).
pub async fn update_custom_field(tx: &mut Tx, f: &CustomFieldRow) -> Result<i64> {
    let n = tx
        .exec(sql!(
            "UPDATE custom_field_defs SET label_zh = $1, label_en = $2, options = $3, required = $4, position = $5,
                 version = version + 1, updated_at = $6
             WHERE tenant_id = $7 AND id = $8 AND version = $9",
            &f.label_zh, &f.label_en, &f.options, f.required, f.position, f.updated_at, &f.tenant_id, &f.id, f.version
        ))
        .await?;
    if n == 0 {
        return Err(StoreError::VersionConflict);
    }
    Ok(f.version + 1)
}

pub async fn delete_custom_field(
    tx: &mut Tx,
    tenant_id: &str,
    id: &str,
    version: i64,
) -> Result<()> {
    let n = tx
        .exec(sql!(
            "DELETE FROM custom_field_defs WHERE tenant_id = $1 AND id = $2 AND version = $3",
            tenant_id,
            id,
            version
        ))
        .await?;
    if n == 0 {
        return Err(StoreError::VersionConflict);
    }
    Ok(())
}

/// One customer with everything that belongs to it, for bulk loading.
#[derive(Clone, Debug)]
pub struct BulkCustomer {
    pub row: CustomerRow,
    pub lookups: Vec<Lookup>,
    pub terms: String,
    pub contacts: Vec<(ContactRow, Vec<Lookup>)>,
    pub orders: Vec<(OrderRow, Vec<OrderLineRow>)>,
}

/// Inserts a batch of customers in the caller's transaction, many rows per
/// statement. Codes must already be assigned.
pub async fn bulk_insert_customers(tx: &mut Tx, items: Vec<BulkCustomer>) -> Result<()> {
    use crate::db::{Arg, insert_rows};
    if items.is_empty() {
        return Ok(());
    }
    let tenant_id = items[0].row.tenant_id.clone();
    let mut customers = Vec::with_capacity(items.len());
    let mut lookups = Vec::new();
    let mut contacts = Vec::new();
    let mut orders = Vec::new();
    let mut lines = Vec::new();
    let mut terms = Vec::with_capacity(items.len());
    for b in items {
        let c = b.row;
        for l in b.lookups {
            lookups.push(vec![
                Arg::from(&c.tenant_id),
                l.kind.into(),
                l.digest.into(),
                (&c.id).into(),
                (&c.id).into(),
            ]);
        }
        for (k, ls) in b.contacts {
            for l in ls {
                lookups.push(vec![
                    Arg::from(&k.tenant_id),
                    l.kind.into(),
                    l.digest.into(),
                    (&k.customer_id).into(),
                    (&k.id).into(),
                ]);
            }
            contacts.push(vec![
                Arg::from(k.tenant_id),
                k.id.into(),
                k.customer_id.into(),
                k.name.into(),
                k.title.into(),
                k.is_primary.into(),
                k.sealed.into(),
                k.version.into(),
                k.created_at.into(),
                k.updated_at.into(),
            ]);
        }
        for (o, ls) in b.orders {
            let categories = line_categories(&ls);
            for l in ls {
                lines.push(vec![
                    Arg::from(l.tenant_id),
                    l.order_id.into(),
                    l.line_no.into(),
                    l.product.into(),
                    l.category.into(),
                    l.quantity.into(),
                    l.amount_fen.into(),
                ]);
            }
            orders.push(vec![
                Arg::from(o.tenant_id),
                o.id.into(),
                o.customer_id.into(),
                o.ordered_on.into(),
                o.channel.into(),
                o.total_fen.into(),
                o.line_count.into(),
                o.created_by.into(),
                o.created_at.into(),
                categories.into(),
            ]);
        }
        terms.push((c.id.clone(), b.terms));
        customers.push(vec![
            Arg::from(c.tenant_id),
            c.id.into(),
            c.code.into(),
            c.kind.into(),
            c.name.into(),
            c.owner_id.into(),
            c.province.into(),
            c.city.into(),
            c.district.into(),
            c.industry.into(),
            c.occupation.into(),
            c.employer.into(),
            c.source.into(),
            c.notes.into(),
            c.uscc.into(),
            c.custom_fields.into(),
            c.sealed.into(),
            c.version.into(),
            c.created_by.into(),
            c.created_at.into(),
            c.updated_at.into(),
        ]);
    }
    insert_rows(
        tx,
        "customers",
        &[
            "tenant_id",
            "id",
            "code",
            "kind",
            "name",
            "owner_id",
            "province",
            "city",
            "district",
            "industry",
            "occupation",
            "employer",
            "source",
            "notes",
            "uscc",
            "custom_fields",
            "sealed",
            "version",
            "created_by",
            "created_at",
            "updated_at",
        ],
        customers,
    )
    .await
    .map_err(|e| e.unique_as("code"))?;
    // The integer keys the database just assigned, for the search index
    // (on PostgreSQL its rows also carry the list's sort columns).
    row! {
        struct Rid {
            rid: i64,
            id: String,
            created_at: i64,
        }
    }
    let ids: Vec<String> = terms.iter().map(|(id, _)| id.clone()).collect();
    let mut rids = std::collections::HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(if tx.is_pg() { 5000 } else { 500 }) {
        let mut q = Sql::new("SELECT rid, id, created_at FROM customers WHERE tenant_id = ");
        q.bind(&tenant_id)
            .push(" AND id IN (")
            .bind_list(chunk.iter())
            .push(")");
        for r in tx.all::<Rid>(q).await? {
            rids.insert(r.id.clone(), r);
        }
    }
    if tx.is_pg() {
        for chunk in terms.chunks(2000) {
            let mut q = Sql::new(
                "INSERT INTO customer_search (rid, tenant_id, created_at, id, terms) VALUES ",
            );
            for (i, (id, t)) in chunk.iter().enumerate() {
                let r = &rids[id];
                q.push(if i == 0 { "(" } else { ", (" });
                q.bind(r.rid)
                    .push(", ")
                    .bind(&tenant_id)
                    .push(", ")
                    .bind(r.created_at)
                    .push(", ")
                    .bind(id)
                    .push(", to_tsvector('simple', ")
                    .bind(t)
                    .push("))");
            }
            tx.exec(q).await?;
        }
    } else {
        let search: Vec<Vec<Arg>> = terms
            .into_iter()
            .map(|(id, t)| vec![Arg::from(rids[&id].rid), Arg::from(t)])
            .collect();
        insert_rows(tx, "customer_search", &["rowid", "terms"], search).await?;
    }
    insert_rows(
        tx,
        "customer_lookup",
        &["tenant_id", "kind", "digest", "customer_id", "source_id"],
        lookups,
    )
    .await?;
    insert_rows(
        tx,
        "contacts",
        &[
            "tenant_id",
            "id",
            "customer_id",
            "name",
            "title",
            "is_primary",
            "sealed",
            "version",
            "created_at",
            "updated_at",
        ],
        contacts,
    )
    .await?;
    insert_rows(
        tx,
        "orders",
        &[
            "tenant_id",
            "id",
            "customer_id",
            "ordered_on",
            "channel",
            "total_fen",
            "line_count",
            "created_by",
            "created_at",
            "line_categories",
        ],
        orders,
    )
    .await?;
    insert_rows(
        tx,
        "order_lines",
        &[
            "tenant_id",
            "order_id",
            "line_no",
            "product",
            "category",
            "quantity",
            "amount_fen",
        ],
        lines,
    )
    .await?;
    Ok(())
}

/// Reserves `n` consecutive numbers of a code sequence; returns the first.
pub async fn reserve_code_seq(tx: &mut Tx, tenant_id: &str, period: &str, n: i64) -> Result<i64> {
    let last = tx
        .int(sql!(
            "INSERT INTO code_sequences (tenant_id, period, value) VALUES ($1, $2, $3)
             ON CONFLICT (tenant_id, period) DO UPDATE SET value = code_sequences.value + $3
             RETURNING value",
            tenant_id,
            period,
            n
        ))
        .await?
        .ok_or(StoreError::NotFound)?;
    Ok(last - n + 1)
}

/// After a bulk load: merge the full-text index into one segment (SQLite
/// FTS5 otherwise searches every batch's segment) and refresh the planner's
/// statistics on both backends.
pub async fn after_bulk_load(tx: &mut Tx) -> Result<()> {
    if !tx.is_pg() {
        tx.exec(sql!(
            "INSERT INTO customer_search (customer_search) VALUES ('optimize')"
        ))
        .await?;
    }
    tx.exec(sql!("ANALYZE")).await?;
    Ok(())
}
