//! Insight storage: settings, every customer's latest classification, tags,
//! tag rules and run history (see `docs/INSIGHT.md`).
//!
//! A full run reads a tenant's customers and orders in bulk, streaming
//! (a million customers' orders are not held as rows), and replaces the
//! tenant's classification a chunk of customers at a time, each chunk in a
//! short transaction of its own. Reads for people (a
//! customer's insight, the at-risk and upgrade lists, cost-benefit, rule
//! previews) join `customers` with the viewer's data scope.

use std::collections::{HashMap, HashSet};

use crate::fast::row;

use crate::customers::{Access, Viewer, push_scope};
use crate::db::{Arg, Conn, Sql, Tx, insert_rows};
use crate::{Result, StoreError, sql};

// ---- settings ----

row! {
    #[derive(Clone, Debug, PartialEq)]
    pub struct SettingsRow {
        pub config: String,
        pub version: i64,
        pub updated_at: i64,
    }
}

pub async fn settings(c: &mut Conn<'_>, tenant_id: &str) -> Result<Option<SettingsRow>> {
    c.opt(sql!(
        "SELECT config, version, updated_at FROM insight_settings WHERE tenant_id = $1",
        tenant_id
    ))
    .await
}

/// Writes the settings if the stored version is still `version` (0: none
/// stored yet, the defaults apply); returns the new version.
pub async fn put_settings(
    tx: &mut Tx,
    tenant_id: &str,
    config: &str,
    version: i64,
    now: i64,
) -> Result<i64> {
    let n = if version == 0 {
        tx.exec(sql!(
            "INSERT INTO insight_settings (tenant_id, config, version, updated_at) VALUES ($1, $2, 1, $3)
             ON CONFLICT (tenant_id) DO NOTHING",
            tenant_id,
            config,
            now
        ))
        .await?
    } else {
        tx.exec(sql!(
            "UPDATE insight_settings SET config = $1, version = version + 1, updated_at = $2
             WHERE tenant_id = $3 AND version = $4",
            config,
            now,
            tenant_id,
            version
        ))
        .await?
    };
    if n == 0 {
        return Err(StoreError::VersionConflict);
    }
    Ok(version + 1)
}

// ---- run inputs ----

row! {
    /// A live customer as a run reads it. (Its previous classification
    /// comes with the stored rows a run's chunk reads when it writes,
    /// [`stored_for_run`]: joining it here cost more than the customers.)
    #[derive(Clone, Debug)]
    pub struct RunCustomer {
        pub id: String,
        pub kind: String,
        pub province: Option<String>,
        pub source: Option<String>,
        pub custom_fields: String,
        /// When the customer was created (copied into its classification rows,
        /// whose indexes list a class's members in this order).
        pub created_at: i64,
    }
}

/// The previous classification of a customer.
#[derive(Clone, Debug, PartialEq)]
pub struct PreviousRow {
    pub tier: String,
    pub tier_since: i64,
    pub stage: String,
    pub stage_since: i64,
}

impl From<&InsightRow> for PreviousRow {
    fn from(r: &InsightRow) -> Self {
        PreviousRow {
            tier: r.tier.clone(),
            tier_since: r.tier_since,
            stage: r.stage.clone(),
            stage_since: r.stage_since,
        }
    }
}

const RUN_CUSTOMER_SQL: &str = "SELECT id, kind, province, source, custom_fields, created_at
    FROM customers WHERE tenant_id = $1 AND deleted_at IS NULL";

/// Every live customer of the tenant, by id (byte order on both backends).
pub async fn run_customers(c: &mut Conn<'_>, tenant_id: &str) -> Result<Vec<RunCustomer>> {
    let mut out = Vec::new();
    // Read in creation order, which the tenant's `customers_created` index
    // gives with the table's rows in about the order they lie in, then
    // sorted here (ids are time-ordered, so nearly sorted already). Asked
    // for by id, SQLite 3.51 walked `customers_updated`, seeking rows in
    // update order, and sorted a million rows in a temporary b-tree.
    c.each(
        sql!(
            &format!("{RUN_CUSTOMER_SQL} ORDER BY created_at, id"),
            tenant_id
        ),
        |r: RunCustomer| {
            out.push(r);
            Ok(())
        },
    )
    .await?;
    out.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(out)
}

/// One live customer, for a single-customer update.
pub async fn run_customer(
    c: &mut Conn<'_>,
    tenant_id: &str,
    id: &str,
) -> Result<Option<RunCustomer>> {
    c.opt(sql!(
        &format!("{RUN_CUSTOMER_SQL} AND id = $2"),
        tenant_id,
        id
    ))
    .await
}

row! {
    #[derive(Clone, Debug, PartialEq)]
    pub struct TagRow {
        pub customer_id: String,
        pub tag: String,
        pub rule_id: Option<String>,
        pub since: i64,
        /// The customer's creation time (see [`RunCustomer::created_at`]).
        pub created_at: i64,
    }
}

const TAG_SELECT: &str =
    "SELECT customer_id, tag, rule_id, since, created_at FROM customer_tags WHERE tenant_id = ";

pub async fn tags(
    c: &mut Conn<'_>,
    tenant_id: &str,
    customer_id: Option<&str>,
) -> Result<Vec<TagRow>> {
    let mut q = Sql::new(TAG_SELECT);
    q.bind(tenant_id);
    if let Some(id) = customer_id {
        q.push(" AND customer_id = ").bind(id);
    }
    q.push(" ORDER BY customer_id, tag");
    c.all(q).await
}

row! {
    /// A row of `customer_order_log` (migration 0015).
    struct OrderLogRow {
        customer_id: String,
        log: LogText,
    }
}

/// A log's text as bytes, taken from SQLite without checking that it is
/// UTF-8 (a tenth of loading ten million orders): dates and amounts are
/// ASCII, and each category name is checked when it is read.
pub(crate) struct LogText(Vec<u8>);

impl rusqlite::types::FromSql for LogText {
    fn column_result(v: rusqlite::types::ValueRef<'_>) -> rusqlite::types::FromSqlResult<Self> {
        match v {
            rusqlite::types::ValueRef::Text(b) | rusqlite::types::ValueRef::Blob(b) => {
                Ok(LogText(b.to_vec()))
            }
            _ => Err(rusqlite::types::FromSqlError::InvalidType),
        }
    }
}

impl<DB: sqlx::Database> sqlx::Type<DB> for LogText
where
    String: sqlx::Type<DB>,
{
    fn type_info() -> DB::TypeInfo {
        <String as sqlx::Type<DB>>::type_info()
    }

    fn compatible(ty: &DB::TypeInfo) -> bool {
        <String as sqlx::Type<DB>>::compatible(ty)
    }
}

impl<'r, DB: sqlx::Database> sqlx::Decode<'r, DB> for LogText
where
    String: sqlx::Decode<'r, DB>,
{
    fn decode(v: <DB as sqlx::Database>::ValueRef<'r>) -> Result<Self, sqlx::error::BoxDynError> {
        Ok(LogText(String::decode(v)?.into_bytes()))
    }
}

/// One customer's orders as a run reads them: one row per customer rather
/// than one per order, because per-row overhead (the driver's, then
/// SQLite's index walk and table seek per order) dominated loading ten
/// million orders. See [`CustomerOrders::orders`] for the format.
#[derive(Clone, Debug)]
pub struct CustomerOrders<'u> {
    pub customer_id: String,
    /// Orders separated by `\n`, each `YYYY-MM-DD <total_fen> <lines JSON>`
    /// (JSON text escapes control characters, so `\n` cannot occur in it),
    /// in the order they were written.
    log: Vec<u8>,
    /// Orders after this day (`YYYY-MM-DD`) are left out.
    until: &'u str,
}

/// One order of a [`CustomerOrders`], borrowed from its log.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OrderFact<'a> {
    pub ordered_on: &'a str,
    pub total_fen: i64,
    /// The lines' (category, amount) pairs as JSON; see [`Self::categories`].
    line_categories: Option<&'a [u8]>,
}

impl CustomerOrders<'_> {
    /// The orders in the log up to its day, in the order they were written
    /// (not necessarily by day). An entry the store did not write (it never
    /// happens short of editing the database) is skipped, not guessed at.
    pub fn orders(&self) -> impl Iterator<Item = OrderFact<'_>> {
        let until = self.until;
        let word = |s: &[u8]| s.iter().position(|&b| b == b' ');
        self.log.split(|&b| b == b'\n').filter_map(move |entry| {
            let at = word(entry)?;
            let ordered_on = std::str::from_utf8(&entry[..at]).ok()?;
            let rest = &entry[at + 1..];
            let (total, lines) = match word(rest) {
                Some(at) => (&rest[..at], &rest[at + 1..]),
                None => (rest, &[][..]),
            };
            if ordered_on > until {
                return None;
            }
            Some(OrderFact {
                ordered_on,
                total_fen: std::str::from_utf8(total).ok()?.parse().ok()?,
                line_categories: (!lines.is_empty()).then_some(lines),
            })
        })
    }
}

impl OrderFact<'_> {
    /// The order's lines as (category, amount in 分); none when the order
    /// has no lines (or the column is unreadable, which a run treats alike).
    pub fn categories(&self) -> Vec<(Option<String>, i64)> {
        self.line_categories
            .and_then(|j| serde_json::from_slice(j).ok())
            .unwrap_or_default()
    }

    /// [`Self::categories`] without a copy of each name or a list: a run
    /// reads ten million of these. The text is read as the store writes it
    /// (`[["食品",1200],[null,300]]`, no spaces); anything else, a name with
    /// a JSON escape for one, takes the JSON parser.
    pub fn each_category(&self, mut f: impl FnMut(Option<&str>, i64)) {
        let Some(j) = self.line_categories else {
            return;
        };
        if LinePairs::new(j).all(|p| p.is_some()) {
            LinePairs::new(j).flatten().for_each(|(c, a)| f(c, a));
        } else {
            self.categories()
                .into_iter()
                .for_each(|(c, a)| f(c.as_deref(), a));
        }
    }
}

/// The (category, amount) pairs of a `line_categories` text in the store's
/// own spelling; yields `None` where the text is spelt otherwise.
struct LinePairs<'a> {
    rest: &'a [u8],
    started: bool,
    done: bool,
}

impl<'a> LinePairs<'a> {
    fn new(text: &'a [u8]) -> Self {
        LinePairs {
            rest: text,
            started: false,
            done: false,
        }
    }
}

impl<'a> Iterator for LinePairs<'a> {
    type Item = Option<(Option<&'a str>, i64)>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        // `[` before the first pair, `,` between pairs, `]` at the end.
        let opener: &[u8] = if self.started { b"," } else { b"[" };
        if self.started && self.rest == b"]" || !self.started && self.rest == b"[]" {
            self.done = true;
            return None;
        }
        self.started = true;
        match self.rest.strip_prefix(opener).and_then(pair) {
            Some((category, amount, rest)) => {
                self.rest = rest;
                Some(Some((category, amount)))
            }
            None => {
                self.done = true;
                Some(None)
            }
        }
    }
}

/// `["name",123]` or `[null,123]` at the start of `s`, and what follows.
fn pair(s: &[u8]) -> Option<(Option<&str>, i64, &[u8])> {
    let s = s.strip_prefix(b"[")?;
    let (category, s) = if let Some(s) = s.strip_prefix(b"null") {
        (None, s)
    } else {
        let s = s.strip_prefix(b"\"")?;
        let end = s
            .iter()
            .position(|&b| b == b'"' || b == b'\\' || b < 0x20)?;
        (s[end] == b'"').then_some(())?;
        (Some(std::str::from_utf8(&s[..end]).ok()?), &s[end + 1..])
    };
    let s = s.strip_prefix(b",")?;
    let digits_at = usize::from(s.first() == Some(&b'-'));
    let digits = &s[digits_at..];
    let len = digits.iter().take_while(|b| b.is_ascii_digit()).count();
    // JSON has no leading zeros, and `-0` is a float to it.
    if len == 0 || digits[0] == b'0' && (len > 1 || digits_at == 1) {
        return None;
    }
    let amount = std::str::from_utf8(&s[..digits_at + len])
        .ok()?
        .parse()
        .ok()?;
    let s = s[digits_at + len..].strip_prefix(b"]")?;
    Some((category, amount, s))
}

/// Streams the orders of a tenant (or of one customer) on or before
/// `until` (`YYYY-MM-DD`), one group per customer with orders (empty when
/// all of them are later than `until`), by customer id in byte order, each order with its lines' categories (so a run needs
/// no join over the order lines).
pub async fn each_customer_orders(
    c: &mut Conn<'_>,
    tenant_id: &str,
    customer_id: Option<&str>,
    until: &str,
    mut f: impl FnMut(CustomerOrders<'_>) -> Result<()>,
) -> Result<()> {
    // The rows are kept by triggers on `orders` (migration 0015); the
    // primary key walk yields them in id order without a sort.
    let mut q = Sql::new("SELECT customer_id, log FROM customer_order_log WHERE tenant_id = ");
    q.bind(tenant_id);
    if let Some(id) = customer_id {
        q.push(" AND customer_id = ").bind(id);
    }
    q.push(" ORDER BY customer_id");
    c.each(q, |r: OrderLogRow| {
        f(CustomerOrders {
            customer_id: r.customer_id,
            log: r.log.0,
            until,
        })
    })
    .await
}

// ---- results ----

row! {
    #[derive(Clone, Debug, PartialEq)]
    pub struct InsightRow {
        pub customer_id: String,
        pub run_id: String,
        pub computed_at: i64,
        pub tier: String,
        pub tier_since: i64,
        pub stage: String,
        pub stage_since: i64,
        pub frequency_class: Option<String>,
        pub amount_class: Option<String>,
        pub product_range: Option<String>,
        pub r_score: Option<i64>,
        pub f_score: Option<i64>,
        pub m_score: Option<i64>,
        pub rfm_segment: Option<String>,
        pub contribution_12m_fen: i64,
        pub orders_365d: i64,
        pub p_alive: Option<f64>,
        pub expected_purchases_90d: Option<f64>,
        pub expected_spend_fen: Option<f64>,
        pub clv_fen: Option<f64>,
        pub value_at_risk_fen: Option<i64>,
        pub upgrade_tier: Option<String>,
        pub predicted_12m_fen: Option<i64>,
        pub upgrade_threshold_fen: Option<i64>,
        pub facts: Option<String>,
        pub explanations: String,
        pub signals: String,
        /// The customer's creation time (see [`RunCustomer::created_at`]).
        pub created_at: i64,
    }
}

const INSIGHT_COLS: [&str; 28] = [
    "customer_id",
    "run_id",
    "computed_at",
    "tier",
    "tier_since",
    "stage",
    "stage_since",
    "frequency_class",
    "amount_class",
    "product_range",
    "r_score",
    "f_score",
    "m_score",
    "rfm_segment",
    "contribution_12m_fen",
    "orders_365d",
    "p_alive",
    "expected_purchases_90d",
    "expected_spend_fen",
    "clv_fen",
    "value_at_risk_fen",
    "upgrade_tier",
    "predicted_12m_fen",
    "upgrade_threshold_fen",
    "facts",
    "explanations",
    "signals",
    "created_at",
];

fn insight_args(tenant_id: &str, r: InsightRow) -> Vec<Arg> {
    vec![
        tenant_id.into(),
        r.customer_id.into(),
        r.run_id.into(),
        r.computed_at.into(),
        r.tier.into(),
        r.tier_since.into(),
        r.stage.into(),
        r.stage_since.into(),
        r.frequency_class.into(),
        r.amount_class.into(),
        r.product_range.into(),
        r.r_score.into(),
        r.f_score.into(),
        r.m_score.into(),
        r.rfm_segment.into(),
        r.contribution_12m_fen.into(),
        r.orders_365d.into(),
        r.p_alive.into(),
        r.expected_purchases_90d.into(),
        r.expected_spend_fen.into(),
        r.clv_fen.into(),
        r.value_at_risk_fen.into(),
        r.upgrade_tier.into(),
        r.predicted_12m_fen.into(),
        r.upgrade_threshold_fen.into(),
        r.facts.into(),
        r.explanations.into(),
        r.signals.into(),
        r.created_at.into(),
    ]
}

fn columns() -> Vec<&'static str> {
    let mut cols = vec!["tenant_id"];
    cols.extend(INSIGHT_COLS);
    cols
}

/// After a full run rewrote the classification: PostgreSQL's planner
/// statistics for it, now rather than whenever autovacuum gets there (list
/// filters on tier, stage or tag planned without them took up to 0.7 s a
/// page in tests), in a transaction of its own. SQLite's list plans count
/// matches themselves, so there it does nothing (and waits for nothing).
pub async fn refresh_statistics(store: &crate::Store) -> Result<()> {
    if store.backend() != crate::Backend::Postgres {
        return Ok(());
    }
    let mut tx = store.begin().await?;
    tx.exec(sql!("ANALYZE customer_insight, customer_tags"))
        .await?;
    tx.commit().await
}

row! {
    /// A customer's stored classification as far as a full run needs it:
    /// when it was written, and the columns the indexes hold.
    #[derive(Clone, Debug, PartialEq)]
    pub struct StoredInsight {
        pub customer_id: String,
        pub computed_at: i64,
        pub tier: String,
        pub tier_since: i64,
        pub stage: String,
        pub stage_since: i64,
        pub value_at_risk_fen: Option<i64>,
        pub upgrade_tier: Option<String>,
        pub predicted_12m_fen: Option<i64>,
        pub created_at: i64,
    }
}

impl StoredInsight {
    pub fn previous(&self) -> PreviousRow {
        PreviousRow {
            tier: self.tier.clone(),
            tier_since: self.tier_since,
            stage: self.stage.clone(),
            stage_since: self.stage_since,
        }
    }

    /// Whether `row` would leave every index entry of this one as it is.
    fn same_keys(&self, row: &InsightRow) -> bool {
        self.tier == row.tier
            && self.stage == row.stage
            && self.value_at_risk_fen == row.value_at_risk_fen
            && self.upgrade_tier == row.upgrade_tier
            && self.predicted_12m_fen == row.predicted_12m_fen
            && self.created_at == row.created_at
    }
}

/// Restricts `q` to the customers `ids` and returns whether a row's
/// customer is one of them. When `ids` are in byte order (a full run's
/// chunks are), SQLite gets a key range: a walk of neighbouring index
/// entries, about three times faster than probing the key once per id from
/// a list of bound values; rows of customers in the range but not in `ids`
/// are for the caller to drop with the returned test. PostgreSQL's text
/// order may not be byte order, so it always gets the list.
fn restrict_to<'a>(q: &mut Sql, pg: bool, ids: &'a [&'a str]) -> impl Fn(&str) -> bool + 'a {
    let sorted = ids.is_sorted();
    match (ids.first(), ids.last()) {
        (Some(first), Some(last)) if !pg && sorted => {
            q.push(" AND customer_id BETWEEN ")
                .bind(*first)
                .push(" AND ")
                .bind(*last);
        }
        _ => {
            q.push(" AND customer_id IN (")
                .bind_list(ids.iter().copied())
                .push(")");
        }
    }
    move |id| {
        if sorted {
            ids.binary_search(&id).is_ok()
        } else {
            ids.contains(&id)
        }
    }
}

/// The stored classification of `ids`, by customer id: a full run's chunk
/// compares against it.
pub async fn stored_for_run(
    tx: &mut Tx,
    tenant_id: &str,
    ids: &[&str],
) -> Result<HashMap<String, StoredInsight>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let mut q = Sql::new(
        "SELECT customer_id, computed_at, tier, tier_since, stage, stage_since,
            value_at_risk_fen, upgrade_tier, predicted_12m_fen, created_at
        FROM customer_insight WHERE tenant_id = ",
    );
    q.bind(tenant_id);
    let asked = restrict_to(&mut q, tx.is_pg(), ids);
    let rows: Vec<StoredInsight> = tx.all(q).await?;
    Ok(rows
        .into_iter()
        .filter(|r| asked(&r.customer_id))
        .map(|r| (r.customer_id.clone(), r))
        .collect())
}

/// The tags `ids` hold now (a full run's chunk diffs against these, read in
/// its own transaction, not against what the run loaded before computing).
pub async fn tags_of(tx: &mut Tx, tenant_id: &str, ids: &[&str]) -> Result<Vec<TagRow>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut q = Sql::new(TAG_SELECT);
    q.bind(tenant_id);
    let asked = restrict_to(&mut q, tx.is_pg(), ids);
    let mut rows: Vec<TagRow> = tx.all(q).await?;
    rows.retain(|t| asked(&t.customer_id));
    Ok(rows)
}

/// Customers deleted at or after `since` (ms), found through the
/// `customers_deleted` index (deleted customers by `updated_at`, which a
/// delete sets; migration 0016). A full run's chunk asks with `since` a
/// margin before the run began: a walk of the few customers deleted since,
/// however large the chunk and however many customers were edited meanwhile.
pub async fn deleted_since(tx: &mut Tx, tenant_id: &str, since: i64) -> Result<HashSet<String>> {
    Ok(tx
        .ids(sql!(
            "SELECT id FROM customers WHERE tenant_id = $1 AND updated_at >= $2
                AND deleted_at IS NOT NULL",
            tenant_id,
            since
        ))
        .await?
        .into_iter()
        .collect())
}

/// Columns an index of `customer_insight` holds (see the migrations).
const INSIGHT_INDEXED: [&str; 8] = [
    "tenant_id",
    "customer_id",
    "tier",
    "stage",
    "value_at_risk_fen",
    "upgrade_tier",
    "predicted_12m_fen",
    "created_at",
];

/// Writes a full run's classification of a chunk of customers (`stored` as
/// read by [`stored_for_run`]). Most customers keep their tier and stage
/// from one night to the next: their rows are updated in place without
/// touching the indexes, so a chunk rewrites a run of neighbouring table
/// pages, not a page of every index per customer (deleting and inserting
/// every row made the write phase twice as slow once it was split into
/// chunks). The others are inserted or replaced whole. A stored row written
/// after `run_at` (an order's per-customer update that committed since
/// `stored` was read, on PostgreSQL) is kept.
pub async fn write_run_rows(
    tx: &mut Tx,
    tenant_id: &str,
    rows: Vec<InsightRow>,
    stored: &HashMap<String, StoredInsight>,
    run_at: i64,
) -> Result<()> {
    let (same, other): (Vec<_>, Vec<_>) = rows
        .into_iter()
        .partition(|r| stored.get(&r.customer_id).is_some_and(|s| s.same_keys(r)));
    let cols = columns();
    let key = ["tenant_id", "customer_id"];
    let unindexed: Vec<&str> = INSIGHT_COLS
        .iter()
        .copied()
        .filter(|c| !INSIGHT_INDEXED.contains(c))
        .collect();
    let all: Vec<&str> = INSIGHT_COLS
        .iter()
        .copied()
        .filter(|c| !key.contains(c))
        .collect();
    let only_if = format!("customer_insight.computed_at <= {run_at}");
    for (rows, update) in [(same, &unindexed), (other, &all)] {
        let args = rows
            .into_iter()
            .map(|r| insight_args(tenant_id, r))
            .collect();
        crate::db::upsert_rows(
            tx,
            "customer_insight",
            &cols,
            &key,
            update,
            Some(&only_if),
            args,
        )
        .await?;
    }
    Ok(())
}

/// Changes a chunk of customers' tags: `removed` (customer id, tag) pairs
/// go, `added` rows come (a tag an order's per-customer update added
/// meanwhile takes the run's rule); tags a customer keeps are left as they are.
pub async fn retag(
    tx: &mut Tx,
    tenant_id: &str,
    removed: &[(String, String)],
    added: Vec<TagRow>,
) -> Result<()> {
    for chunk in removed.chunks(400) {
        let mut q = Sql::new("DELETE FROM customer_tags WHERE tenant_id = ");
        q.bind(tenant_id).push(" AND (customer_id, tag) IN (");
        for (i, (id, tag)) in chunk.iter().enumerate() {
            q.push(if i == 0 { "(" } else { ", (" });
            q.bind(id.as_str()).push(", ").bind(tag.as_str()).push(")");
        }
        q.push(")");
        tx.exec(q).await?;
    }
    let args = added.into_iter().map(|t| tag_args(tenant_id, t)).collect();
    crate::db::upsert_rows(
        tx,
        "customer_tags",
        &TAG_COLS,
        &["tenant_id", "customer_id", "tag"],
        &["rule_id"],
        None,
        args,
    )
    .await
}

/// Removes the classification and tags of customers deleted at or after
/// `since`. Deleting a customer removes its own; a full run that loaded the
/// customer before the delete may have written them again.
pub async fn clear_deleted(tx: &mut Tx, tenant_id: &str, since: i64) -> Result<()> {
    for table in ["customer_insight", "customer_tags"] {
        // The customers_deleted index finds them (migration 0016).
        tx.exec(sql!(
            &format!(
                "DELETE FROM {table} WHERE tenant_id = $1 AND customer_id IN (
                    SELECT id FROM customers WHERE tenant_id = $1 AND updated_at >= $2
                        AND deleted_at IS NOT NULL)"
            ),
            tenant_id,
            since
        ))
        .await?;
    }
    Ok(())
}

/// Adds classification rows (bulk loads; a full run uses [`write_run_rows`]).
pub async fn insert_all(tx: &mut Tx, tenant_id: &str, rows: Vec<InsightRow>) -> Result<()> {
    let args = rows
        .into_iter()
        .map(|r| insight_args(tenant_id, r))
        .collect();
    insert_rows(tx, "customer_insight", &columns(), args).await
}

/// Replaces one customer's classification (an update between runs).
pub async fn replace_one(tx: &mut Tx, tenant_id: &str, row: InsightRow) -> Result<()> {
    tx.exec(sql!(
        "DELETE FROM customer_insight WHERE tenant_id = $1 AND customer_id = $2",
        tenant_id,
        &row.customer_id
    ))
    .await?;
    insert_rows(
        tx,
        "customer_insight",
        &columns(),
        vec![insight_args(tenant_id, row)],
    )
    .await
}

/// Replaces tags: the tenant's (`customer_id` `None`) or one customer's.
pub async fn replace_tags(
    tx: &mut Tx,
    tenant_id: &str,
    customer_id: Option<&str>,
    rows: Vec<TagRow>,
) -> Result<()> {
    let mut q = Sql::new("DELETE FROM customer_tags WHERE tenant_id = ");
    q.bind(tenant_id);
    if let Some(id) = customer_id {
        q.push(" AND customer_id = ").bind(id);
    }
    tx.exec(q).await?;
    insert_tags(tx, tenant_id, rows).await
}

const TAG_COLS: [&str; 6] = [
    "tenant_id",
    "customer_id",
    "tag",
    "rule_id",
    "since",
    "created_at",
];

fn tag_args(tenant_id: &str, t: TagRow) -> Vec<Arg> {
    vec![
        tenant_id.into(),
        t.customer_id.into(),
        t.tag.into(),
        t.rule_id.into(),
        t.since.into(),
        t.created_at.into(),
    ]
}

pub async fn insert_tags(tx: &mut Tx, tenant_id: &str, rows: Vec<TagRow>) -> Result<()> {
    let args = rows.into_iter().map(|t| tag_args(tenant_id, t)).collect();
    insert_rows(tx, "customer_tags", &TAG_COLS, args).await
}

/// Timeline entries in bulk (a run's changes).
pub async fn insert_timeline_rows(
    tx: &mut Tx,
    rows: Vec<crate::customers::TimelineRow>,
) -> Result<()> {
    let args = rows
        .into_iter()
        .map(|t| {
            vec![
                t.tenant_id.into(),
                t.id.into(),
                t.customer_id.into(),
                t.at.into(),
                t.actor_id.into(),
                t.kind.into(),
                t.detail.into(),
            ]
        })
        .collect();
    insert_rows(
        tx,
        "timeline",
        &[
            "tenant_id",
            "id",
            "customer_id",
            "at",
            "actor_id",
            "kind",
            "detail",
        ],
        args,
    )
    .await
}

/// One customer's classification. The caller has checked the customer is
/// in the viewer's scope.
pub async fn insight(
    c: &mut Conn<'_>,
    tenant_id: &str,
    customer_id: &str,
) -> Result<Option<InsightRow>> {
    c.opt(sql!(
        &format!(
            "SELECT {} FROM customer_insight WHERE tenant_id = $1 AND customer_id = $2",
            INSIGHT_COLS.join(", ")
        ),
        tenant_id,
        customer_id
    ))
    .await
}

row! {
    /// A row of the at-risk or upgrade list: the customer and the classification.
    #[derive(Clone, Debug, PartialEq)]
    pub struct ListRow {
        pub customer_id: String,
        pub code: String,
        pub name: String,
        pub owner_id: Option<String>,
        pub tier: String,
        pub stage: String,
        pub p_alive: Option<f64>,
        pub clv_fen: Option<f64>,
        pub contribution_12m_fen: i64,
        pub value_at_risk_fen: Option<i64>,
        pub upgrade_tier: Option<String>,
        pub predicted_12m_fen: Option<i64>,
        pub upgrade_threshold_fen: Option<i64>,
        pub facts: Option<String>,
        pub signals: String,
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ranking {
    /// Customers with signals, by value at risk.
    AtRisk,
    /// Customers likely to move up, by predicted 12-month contribution.
    Upgrade,
}

/// One page of a ranked list in the viewer's scope, descending by the
/// ranking's value then customer id; `after` is the last row's (value, id).
pub async fn ranked(
    c: &mut Conn<'_>,
    v: &Viewer,
    ranking: Ranking,
    owner_id: Option<&str>,
    after: Option<(i64, &str)>,
    limit: i64,
) -> Result<Vec<ListRow>> {
    let key = match ranking {
        Ranking::AtRisk => "i.value_at_risk_fen",
        Ranking::Upgrade => "i.predicted_12m_fen",
    };
    let mut q = Sql::new(
        "SELECT i.customer_id, c.code, c.name, c.owner_id, i.tier, i.stage, i.p_alive, i.clv_fen,
                i.contribution_12m_fen, i.value_at_risk_fen, i.upgrade_tier, i.predicted_12m_fen,
                i.upgrade_threshold_fen, i.facts, i.signals
         FROM customer_insight i JOIN customers c ON c.tenant_id = i.tenant_id AND c.id = i.customer_id
         WHERE i.tenant_id = ",
    );
    q.bind(&v.tenant_id).push(" AND c.deleted_at IS NULL");
    match ranking {
        Ranking::AtRisk => q.push(" AND i.value_at_risk_fen IS NOT NULL"),
        Ranking::Upgrade => q.push(" AND i.upgrade_tier IS NOT NULL"),
    };
    if let Some(o) = owner_id {
        q.push(" AND c.owner_id = ").bind(o);
    }
    push_scope(&mut q, v, Access::Read);
    if let Some((val, id)) = after {
        q.push(&format!(" AND ({key}, i.customer_id) < ("))
            .bind(val)
            .push(", ")
            .bind(id)
            .push(")");
    }
    q.push(&format!(" ORDER BY {key} DESC, i.customer_id DESC"))
        .limit(limit);
    c.all(q).await
}

row! {
    #[derive(Clone, Debug, PartialEq)]
    pub struct TierTotals {
        pub tier: String,
        pub customers: i64,
        pub contribution_fen: i64,
        pub orders_365d: i64,
    }
}

/// Customers, contribution and orders per tier in the viewer's scope.
pub async fn tier_totals(c: &mut Conn<'_>, v: &Viewer) -> Result<Vec<TierTotals>> {
    let mut q = Sql::new(
        "SELECT i.tier AS tier, COUNT(*) AS customers,
                CAST(COALESCE(SUM(i.contribution_12m_fen), 0) AS BIGINT) AS contribution_fen,
                CAST(COALESCE(SUM(i.orders_365d), 0) AS BIGINT) AS orders_365d
         FROM customer_insight i JOIN customers c ON c.tenant_id = i.tenant_id AND c.id = i.customer_id
         WHERE i.tenant_id = ",
    );
    q.bind(&v.tenant_id).push(" AND c.deleted_at IS NULL");
    push_scope(&mut q, v, Access::Read);
    q.push(" GROUP BY i.tier ORDER BY i.tier");
    c.all(q).await
}

/// Live customers in scope without a classification yet.
pub async fn unclassified(c: &mut Conn<'_>, v: &Viewer) -> Result<i64> {
    let mut q = Sql::new("SELECT COUNT(*) FROM customers c WHERE c.tenant_id = ");
    q.bind(&v.tenant_id)
        .push(" AND c.deleted_at IS NULL AND NOT EXISTS (SELECT 1 FROM customer_insight i WHERE i.tenant_id = c.tenant_id AND i.customer_id = c.id)");
    push_scope(&mut q, v, Access::Read);
    Ok(c.int(q).await?.unwrap_or(0))
}

row! {
    /// What a rule preview evaluates for one customer.
    #[derive(Clone, Debug)]
    pub struct PreviewRow {
        pub id: String,
        pub code: String,
        pub name: String,
        pub kind: String,
        pub province: Option<String>,
        pub source: Option<String>,
        pub custom_fields: String,
        pub tier: Option<String>,
        pub stage: Option<String>,
        pub facts: Option<String>,
    }
}

/// Streams every live customer in scope with its last classification.
pub async fn each_preview(
    c: &mut Conn<'_>,
    v: &Viewer,
    f: impl FnMut(PreviewRow) -> Result<()>,
) -> Result<()> {
    let mut q = Sql::new(
        "SELECT c.id, c.code, c.name, c.kind, c.province, c.source, c.custom_fields, i.tier, i.stage, i.facts
         FROM customers c LEFT JOIN customer_insight i ON i.tenant_id = c.tenant_id AND i.customer_id = c.id
         WHERE c.tenant_id = ",
    );
    q.bind(&v.tenant_id).push(" AND c.deleted_at IS NULL");
    push_scope(&mut q, v, Access::Read);
    q.push(" ORDER BY c.code");
    c.each(q, f).await
}

/// Tier, stage and tag changes of a customer, newest first.
pub async fn history(
    c: &mut Conn<'_>,
    tenant_id: &str,
    customer_id: &str,
    limit: i64,
) -> Result<Vec<crate::customers::TimelineRow>> {
    c.all(sql!(
        &format!("SELECT tenant_id, id, customer_id, at, actor_id, kind, detail FROM timeline
         WHERE tenant_id = $1 AND customer_id = $2 AND kind IN ('tier_changed', 'stage_changed', 'tag_added', 'tag_removed')
         ORDER BY at DESC, id DESC LIMIT {limit}"),
        tenant_id,
        customer_id
    ))
    .await
}

// ---- tag rules ----

row! {
    #[derive(Clone, Debug, PartialEq)]
    pub struct RuleRow {
        pub tenant_id: String,
        pub id: String,
        pub name: String,
        pub tag: String,
        pub rule: String,
        pub description: Option<String>,
        pub enabled: i64,
        pub position: i64,
        pub matches: Option<i64>,
        pub version: i64,
        pub created_at: i64,
        pub updated_at: i64,
    }
}

const RULE_COLS: &str = "tenant_id, id, name, tag, rule, description, enabled, position, matches, version, created_at, updated_at";

pub async fn rules(c: &mut Conn<'_>, tenant_id: &str) -> Result<Vec<RuleRow>> {
    c.all(sql!(
        &format!("SELECT {RULE_COLS} FROM tag_rules WHERE tenant_id = $1 ORDER BY position, id"),
        tenant_id
    ))
    .await
}

pub async fn rule(c: &mut Conn<'_>, tenant_id: &str, id: &str) -> Result<Option<RuleRow>> {
    c.opt(sql!(
        &format!("SELECT {RULE_COLS} FROM tag_rules WHERE tenant_id = $1 AND id = $2"),
        tenant_id,
        id
    ))
    .await
}

pub async fn insert_rule(tx: &mut Tx, r: &RuleRow) -> Result<()> {
    tx.exec(sql!(
        "INSERT INTO tag_rules (tenant_id, id, name, tag, rule, description, enabled, position, version, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, (SELECT COALESCE(MAX(position), 0) + 1 FROM tag_rules WHERE tenant_id = $1), 1, $8, $8)",
        &r.tenant_id, &r.id, &r.name, &r.tag, &r.rule, &r.description, r.enabled, r.created_at
    ))
    .await
    .map_err(|e| e.unique_as("rule_name"))?;
    Ok(())
}

/// Writes name, tag, rule, description and enabled if the version still matches.
pub async fn update_rule(tx: &mut Tx, r: &RuleRow) -> Result<()> {
    let n = tx
        .exec(sql!(
            "UPDATE tag_rules SET name = $1, tag = $2, rule = $3, description = $4, enabled = $5,
                    version = version + 1, updated_at = $6
             WHERE tenant_id = $7 AND id = $8 AND version = $9",
            &r.name,
            &r.tag,
            &r.rule,
            &r.description,
            r.enabled,
            r.updated_at,
            &r.tenant_id,
            &r.id,
            r.version
        ))
        .await
        .map_err(|e| e.unique_as("rule_name"))?;
    if n == 0 {
        return Err(gone_or_conflict(&mut tx.conn(), &r.tenant_id, &r.id).await);
    }
    Ok(())
}

pub async fn delete_rule(tx: &mut Tx, tenant_id: &str, id: &str, version: i64) -> Result<()> {
    let n = tx
        .exec(sql!(
            "DELETE FROM tag_rules WHERE tenant_id = $1 AND id = $2 AND version = $3",
            tenant_id,
            id,
            version
        ))
        .await?;
    if n == 0 {
        return Err(gone_or_conflict(&mut tx.conn(), tenant_id, id).await);
    }
    Ok(())
}

async fn gone_or_conflict(c: &mut Conn<'_>, tenant_id: &str, id: &str) -> StoreError {
    match rule(c, tenant_id, id).await {
        Ok(Some(_)) => StoreError::VersionConflict,
        Ok(None) => StoreError::NotFound,
        Err(e) => e,
    }
}

/// Records how many customers each rule tagged in a full run.
pub async fn set_rule_matches(
    tx: &mut Tx,
    tenant_id: &str,
    counts: &[(String, i64)],
) -> Result<()> {
    for (id, n) in counts {
        tx.exec(sql!(
            "UPDATE tag_rules SET matches = $1 WHERE tenant_id = $2 AND id = $3",
            *n,
            tenant_id,
            id
        ))
        .await?;
    }
    Ok(())
}

// ---- runs ----

row! {
    #[derive(Clone, Debug, PartialEq)]
    pub struct RunRow {
        pub tenant_id: String,
        pub id: String,
        pub cause: String,
        pub status: String,
        pub started_at: i64,
        pub finished_at: Option<i64>,
        pub as_of: String,
        pub customers: Option<i64>,
        pub tier_changes: Option<i64>,
        pub stage_changes: Option<i64>,
        pub tag_changes: Option<i64>,
        pub model: Option<String>,
        pub error: Option<String>,
    }
}

impl RunRow {
    /// A run as it starts: nothing counted, no model, no error yet.
    pub fn running(tenant_id: &str, id: &str, cause: &str, started_at: i64, as_of: &str) -> RunRow {
        RunRow {
            tenant_id: tenant_id.to_string(),
            id: id.to_string(),
            cause: cause.to_string(),
            status: "running".into(),
            started_at,
            finished_at: None,
            as_of: as_of.to_string(),
            customers: None,
            tier_changes: None,
            stage_changes: None,
            tag_changes: None,
            model: None,
            error: None,
        }
    }
}

const RUN_COLS: &str = "tenant_id, id, cause, status, started_at, finished_at, as_of, customers, tier_changes, stage_changes, tag_changes, model, error";

/// Records that a run started (its own short transaction, so the history
/// shows a run in progress); `Unique("run_running")` while another run of
/// the tenant is running (one at a time: migration 0011).
pub async fn start_run(tx: &mut Tx, r: &RunRow) -> Result<()> {
    tx.exec(sql!(
        "INSERT INTO insight_runs (tenant_id, id, cause, status, started_at, as_of) VALUES ($1, $2, $3, 'running', $4, $5)",
        &r.tenant_id, &r.id, &r.cause, r.started_at, &r.as_of
    ))
    .await
    .map_err(|e| e.unique_as("run_running"))?;
    Ok(())
}

/// Records that a running run's process is alive (see [`fail_stale_runs`]).
pub async fn touch_run(tx: &mut Tx, tenant_id: &str, run_id: &str, now: i64) -> Result<()> {
    tx.exec(sql!(
        "UPDATE insight_runs SET alive_at = $1 WHERE tenant_id = $2 AND id = $3 AND status = 'running'",
        now,
        tenant_id,
        run_id
    ))
    .await?;
    Ok(())
}

pub async fn finish_run(tx: &mut Tx, r: &RunRow) -> Result<()> {
    tx.exec(sql!(
        "UPDATE insight_runs SET status = $1, finished_at = $2, customers = $3, tier_changes = $4,
                stage_changes = $5, tag_changes = $6, model = $7, error = $8
         WHERE tenant_id = $9 AND id = $10",
        &r.status,
        r.finished_at,
        r.customers,
        r.tier_changes,
        r.stage_changes,
        r.tag_changes,
        &r.model,
        &r.error,
        &r.tenant_id,
        &r.id
    ))
    .await?;
    Ok(())
}

/// Marks the tenant's runs still "running" that were last known alive
/// (or, never touched, started) before `before` as failed with `error`:
/// their process died, since a live run touches its row every 30 s
/// ([`touch_run`]). Returns how many.
pub async fn fail_stale_runs(
    tx: &mut Tx,
    tenant_id: &str,
    before: i64,
    now: i64,
    error: &str,
) -> Result<u64> {
    tx.exec(sql!(
        "UPDATE insight_runs SET status = 'failed', finished_at = $1, error = $2
         WHERE tenant_id = $3 AND status = 'running' AND COALESCE(alive_at, started_at) < $4",
        now,
        error,
        tenant_id,
        before
    ))
    .await
}

/// Whether the tenant has a running run that was alive at or after `since`
/// (a run silent for longer is closed by the next run to start).
pub async fn live_run(c: &mut Conn<'_>, tenant_id: &str, since: i64) -> Result<bool> {
    let n = c
        .int(sql!(
            "SELECT COUNT(*) FROM insight_runs WHERE tenant_id = $1 AND status = 'running'
             AND COALESCE(alive_at, started_at) >= $2",
            tenant_id,
            since
        ))
        .await?;
    Ok(n.unwrap_or(0) > 0)
}

pub async fn runs(c: &mut Conn<'_>, tenant_id: &str, limit: i64) -> Result<Vec<RunRow>> {
    c.all(sql!(
        &format!("SELECT {RUN_COLS} FROM insight_runs WHERE tenant_id = $1 ORDER BY started_at DESC, id DESC LIMIT {limit}"),
        tenant_id
    ))
    .await
}

/// The model of the last successful full run (single-customer updates use it).
pub async fn last_model(c: &mut Conn<'_>, tenant_id: &str) -> Result<Option<(String, String)>> {
    row! {
        struct M {
            id: String,
            model: Option<String>,
        }
    }
    let m: Option<M> = c
        .opt(sql!(
            "SELECT id, model FROM insight_runs WHERE tenant_id = $1 AND status = 'done' AND model IS NOT NULL
             ORDER BY started_at DESC, id DESC LIMIT 1",
            tenant_id
        ))
        .await?;
    Ok(m.and_then(|m| Some((m.id, m.model?))))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fact(lines: &str) -> OrderFact<'_> {
        OrderFact {
            ordered_on: "2026-01-01",
            total_fen: 1,
            line_categories: Some(lines.as_bytes()),
        }
    }

    /// The pair reader gives what the JSON parser gives, for the store's
    /// own spelling (read by the pair reader) and for anything else
    /// (handed to the parser, or read as no lines where it fails).
    #[test]
    fn line_pairs_read_as_json_does() {
        let own = [
            r#"[["食品",1200],[null,300]]"#,
            r#"[]"#,
            r#"[["a",-5]]"#,
            r#"[[null,0],["家电",123456789012]]"#,
            r#"[["a",10],["b",0]]"#,
        ];
        let other = [
            r#"[["引号\"名",1]]"#,
            r#"[["a\u0041",1]]"#,
            r#"[ ["a",1]]"#,
            r#"[["a",1]]x"#,
            r#"[["a",1],]"#,
            r#"[["a",1]"#,
            r#"["a",1]"#,
            r#"[["a",1][["b",2]]"#,
            r#"[["a",1.5]]"#,
            r#"[["a",99999999999999999999]]"#,
            r#"[["a",-]]"#,
            r#"[["a",01]]"#,
            r#"[["a",00]]"#,
            r#"[["a",-01]]"#,
            r#"[["a",-0]]"#,
            "",
            "[",
            "]",
            "null",
        ];
        for text in own.iter().chain(&other) {
            let f = fact(text);
            let mut got = Vec::new();
            f.each_category(|c, a| got.push((c.map(str::to_string), a)));
            assert_eq!(got, f.categories(), "{text}");
            let fast = LinePairs::new(text.as_bytes()).all(|p| p.is_some());
            assert_eq!(fast, own.contains(text), "{text}");
        }
        assert_eq!(
            fact(own[0]).categories(),
            [(Some("食品".to_string()), 1200), (None, 300)]
        );
    }
}
