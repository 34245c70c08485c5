//! One SQL text, two databases. Statements are written once with `$N`
//! placeholders, which both SQLite and PostgreSQL accept, and run through
//! [`Conn`], which binds the same [`Arg`]s for whichever backend is open.
//! Rows decode into structs declared with `fast::row!`: sqlx's `FromRow`
//! for both backends and `FromFast` for SQLite's synchronous path.

use sqlx::postgres::{PgArguments, PgConnection, PgRow};
use sqlx::sqlite::{SqliteArguments, SqliteConnection, SqliteRow};
use sqlx::{Arguments, AssertSqlSafe, FromRow, Row};

use crate::StoreError;
use crate::fast::{FastConn, FromFast};
use crate::group::FastTx;

/// The portable value set: what both backends store the same way.
#[derive(Clone, Debug, PartialEq)]
pub enum Arg {
    I64(Option<i64>),
    F64(Option<f64>),
    Text(Option<String>),
    Bytes(Option<Vec<u8>>),
}

impl From<f64> for Arg {
    fn from(v: f64) -> Self {
        Arg::F64(Some(v))
    }
}
impl From<Option<f64>> for Arg {
    fn from(v: Option<f64>) -> Self {
        Arg::F64(v)
    }
}

impl From<i64> for Arg {
    fn from(v: i64) -> Self {
        Arg::I64(Some(v))
    }
}
impl From<Option<i64>> for Arg {
    fn from(v: Option<i64>) -> Self {
        Arg::I64(v)
    }
}
impl From<bool> for Arg {
    fn from(v: bool) -> Self {
        Arg::I64(Some(v as i64))
    }
}
impl From<&str> for Arg {
    fn from(v: &str) -> Self {
        Arg::Text(Some(v.to_string()))
    }
}
impl From<String> for Arg {
    fn from(v: String) -> Self {
        Arg::Text(Some(v))
    }
}
impl From<&String> for Arg {
    fn from(v: &String) -> Self {
        Arg::Text(Some(v.clone()))
    }
}
impl From<Option<String>> for Arg {
    fn from(v: Option<String>) -> Self {
        Arg::Text(v)
    }
}
impl From<Option<&str>> for Arg {
    fn from(v: Option<&str>) -> Self {
        Arg::Text(v.map(str::to_string))
    }
}
impl From<&Option<String>> for Arg {
    fn from(v: &Option<String>) -> Self {
        Arg::Text(v.clone())
    }
}
impl From<Vec<u8>> for Arg {
    fn from(v: Vec<u8>) -> Self {
        Arg::Bytes(Some(v))
    }
}
impl From<&[u8]> for Arg {
    fn from(v: &[u8]) -> Self {
        Arg::Bytes(Some(v.to_vec()))
    }
}

/// A statement under construction: text plus its arguments, numbered as they
/// are bound, so dynamic WHERE clauses stay correct on both backends.
#[derive(Clone, Debug, Default)]
pub struct Sql {
    pub text: String,
    pub args: Vec<Arg>,
}

impl Sql {
    pub fn new(text: &str) -> Sql {
        Sql {
            text: text.to_string(),
            args: Vec::new(),
        }
    }

    /// A fixed statement whose `$1..$N` are given in order.
    pub fn with(text: &str, args: Vec<Arg>) -> Sql {
        Sql {
            text: text.to_string(),
            args,
        }
    }

    pub fn push(&mut self, text: &str) -> &mut Self {
        self.text.push_str(text);
        self
    }

    /// Appends `$N` for a new argument.
    pub fn bind(&mut self, arg: impl Into<Arg>) -> &mut Self {
        self.args.push(arg.into());
        self.text.push('$');
        self.text.push_str(&self.args.len().to_string());
        self
    }

    /// Appends ` LIMIT n` with `n` written into the text. SQLite (3.47 on)
    /// plans with the value of a bound LIMIT and so re-prepares the statement
    /// every time that parameter is bound again: 11 % of the CPU of a list
    /// page. A literal keeps the cached plan; callers use a few values.
    pub fn limit(&mut self, n: i64) -> &mut Self {
        self.text.push_str(" LIMIT ");
        self.text.push_str(&n.to_string());
        self
    }

    /// Appends `$N, $N+1, …` for a list (callers guard against an empty list).
    pub fn bind_list<A: Into<Arg>>(&mut self, items: impl IntoIterator<Item = A>) -> &mut Self {
        let mut first = true;
        for a in items {
            if !first {
                self.text.push_str(", ");
            }
            first = false;
            self.bind(a);
        }
        self
    }
}

#[macro_export]
macro_rules! sql {
    ($text:expr $(, $arg:expr)* $(,)?) => {
        $crate::db::Sql::with($text, vec![$($crate::db::Arg::from($arg)),*])
    };
}

/// Statements with at least this many arguments are sent to SQLite with
/// anonymous `?` parameters (see [`anonymous_params`]).
const ANON_MIN_ARGS: usize = 64;

/// `text` with `$1 … $n` written as `?`, when they occur exactly once each
/// and in that order outside quotes, each a token of its own, and the text
/// has no `?` already (what [`Sql::bind`] writes); `None` otherwise.
/// SQLite looks a named parameter up by a linear scan of the statement's
/// names for every value bound, so a statement with a thousand `$N` (a
/// chunk's `IN` list) binds in quadratic time: 8 % of a classification
/// run's CPU at 200 k customers. `?` binds by position.
fn anonymous_params(text: &str, n: usize) -> Option<String> {
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let (mut i, mut from, mut next) = (0, 0, 1usize);
    let mut quote: Option<u8> = None;
    while i < b.len() {
        let c = b[i];
        if let Some(q) = quote {
            if c == q {
                quote = None;
            }
            i += 1;
            continue;
        }
        if c == b'\'' || c == b'"' {
            quote = Some(c);
            i += 1;
            continue;
        }
        if c == b'?' {
            return None;
        }
        let word = |k: usize| {
            b.get(k)
                .is_some_and(|d| d.is_ascii_alphanumeric() || *d == b'_' || *d == b'$')
        };
        if c == b'$' {
            let end = b[i + 1..]
                .iter()
                .position(|d| !d.is_ascii_digit())
                .map_or(b.len(), |p| i + 1 + p);
            if end > i + 1 {
                // `a$1` is an identifier and `$1a` a named parameter in SQLite.
                if (i > 0 && word(i - 1)) || word(end) {
                    return None;
                }
                if text[i + 1..end].parse::<usize>().ok()? != next {
                    return None;
                }
                out.push_str(&text[from..i]);
                out.push('?');
                next += 1;
                from = end;
                i = end;
                continue;
            }
        }
        i += 1;
    }
    if next != n + 1 || quote.is_some() {
        return None;
    }
    out.push_str(&text[from..]);
    Some(out)
}

/// A statement's text as SQLite gets it (see [`anonymous_params`]).
pub(crate) fn sqlite_text(q: &Sql) -> std::borrow::Cow<'_, str> {
    let anonymous = (q.args.len() >= ANON_MIN_ARGS)
        .then(|| anonymous_params(&q.text, q.args.len()))
        .flatten();
    anonymous.map_or(q.text.as_str().into(), Into::into)
}

/// A statement's text and arguments as sqlx's SQLite driver takes them.
fn sqlite_query(q: Sql) -> Result<(String, SqliteArguments), StoreError> {
    let text = sqlite_text(&q).into_owned();
    Ok((text, sqlite_args(q.args)?))
}

fn sqlite_args(args: Vec<Arg>) -> Result<SqliteArguments, StoreError> {
    let mut out = SqliteArguments::default();
    for a in args {
        let r = match a {
            Arg::I64(v) => out.add(v),
            Arg::F64(v) => out.add(v),
            Arg::Text(v) => out.add(v),
            Arg::Bytes(v) => out.add(v),
        };
        r.map_err(|e| StoreError::Other(e.to_string()))?;
    }
    Ok(out)
}

fn pg_args(args: Vec<Arg>) -> Result<PgArguments, StoreError> {
    let mut out = PgArguments::default();
    for a in args {
        let r = match a {
            Arg::I64(v) => out.add(v),
            Arg::F64(v) => out.add(v),
            Arg::Text(v) => out.add(v),
            Arg::Bytes(v) => out.add(v),
        };
        r.map_err(|e| StoreError::Other(e.to_string()))?;
    }
    Ok(out)
}

/// A row type both backends, and SQLite's synchronous path, can decode
/// (declare it with `fast::row!`).
pub trait Rec:
    for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + FromFast + Send + Unpin
{
}
impl<T> Rec for T where
    T: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + FromFast + Send + Unpin
{
}

/// A borrowed connection (pooled or inside a transaction) of either backend.
pub enum Conn<'c> {
    /// SQLite through sqlx (its worker thread).
    Sqlite(&'c mut SqliteConnection),
    /// SQLite on the calling thread: a fast read lease
    /// ([`crate::Store::fast_reader`]) or a [`FastTx`]'s connection.
    Fast(&'c mut FastConn),
    Pg(&'c mut PgConnection),
}

impl Conn<'_> {
    pub fn is_pg(&self) -> bool {
        matches!(self, Conn::Pg(_))
    }

    pub async fn exec(&mut self, q: Sql) -> Result<u64, StoreError> {
        Ok(match self {
            Conn::Sqlite(c) => {
                let (text, args) = sqlite_query(q)?;
                sqlx::query_with(AssertSqlSafe(text), args)
                    .execute(&mut **c)
                    .await?
                    .rows_affected()
            }
            Conn::Fast(c) => c.exec(&q)?,
            Conn::Pg(c) => sqlx::query_with(AssertSqlSafe(q.text), pg_args(q.args)?)
                .execute(&mut **c)
                .await?
                .rows_affected(),
        })
    }

    pub async fn all<T: Rec>(&mut self, q: Sql) -> Result<Vec<T>, StoreError> {
        Ok(match self {
            Conn::Sqlite(c) => {
                let (text, args) = sqlite_query(q)?;
                sqlx::query_as_with(AssertSqlSafe(text), args)
                    .fetch_all(&mut **c)
                    .await?
            }
            Conn::Fast(c) => c.all(&q)?,
            Conn::Pg(c) => {
                sqlx::query_as_with(AssertSqlSafe(q.text), pg_args(q.args)?)
                    .fetch_all(&mut **c)
                    .await?
            }
        })
    }

    /// Like [`Conn::all`], but `None` when SQLite's synchronous path has run
    /// for `budget` without finishing; elsewhere the statement runs to the
    /// end.
    pub async fn all_within<T: Rec>(
        &mut self,
        q: Sql,
        budget: std::time::Duration,
    ) -> Result<Option<Vec<T>>, StoreError> {
        match self {
            Conn::Fast(c) => c.all_within(&q, budget),
            other => Ok(Some(other.all(q).await?)),
        }
    }

    pub async fn opt<T: Rec>(&mut self, q: Sql) -> Result<Option<T>, StoreError> {
        Ok(match self {
            Conn::Sqlite(c) => {
                let (text, args) = sqlite_query(q)?;
                sqlx::query_as_with(AssertSqlSafe(text), args)
                    .fetch_optional(&mut **c)
                    .await?
            }
            Conn::Fast(c) => c.opt(&q)?,
            Conn::Pg(c) => {
                sqlx::query_as_with(AssertSqlSafe(q.text), pg_args(q.args)?)
                    .fetch_optional(&mut **c)
                    .await?
            }
        })
    }

    pub async fn one<T: Rec>(&mut self, q: Sql) -> Result<T, StoreError> {
        self.opt(q).await?.ok_or(StoreError::NotFound)
    }

    /// Calls `f` for each row as it arrives, without holding the result
    /// set in memory (classification reads every order of a tenant).
    pub async fn each<T: Rec>(
        &mut self,
        q: Sql,
        mut f: impl FnMut(T) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        use futures_util::TryStreamExt;
        match self {
            Conn::Sqlite(c) => {
                let (text, args) = sqlite_query(q)?;
                let mut rows =
                    sqlx::query_as_with::<_, T, _>(AssertSqlSafe(text), args).fetch(&mut **c);
                while let Some(r) = rows.try_next().await? {
                    f(r)?;
                }
            }
            Conn::Fast(c) => c.each(&q, f)?,
            Conn::Pg(c) => {
                let args = pg_args(q.args)?;
                let mut rows =
                    sqlx::query_as_with::<_, T, _>(AssertSqlSafe(q.text), args).fetch(&mut **c);
                while let Some(r) = rows.try_next().await? {
                    f(r)?;
                }
            }
        }
        Ok(())
    }

    /// PostgreSQL's estimate of how many rows `q` returns (the top plan
    /// node's `rows=`), from planning alone; `None` on SQLite.
    pub async fn pg_estimated_rows(&mut self, q: Sql) -> Result<Option<i64>, StoreError> {
        let Conn::Pg(c) = self else {
            return Ok(None);
        };
        let line: Option<String> = sqlx::query_scalar_with(
            AssertSqlSafe(format!("EXPLAIN {}", q.text)),
            pg_args(q.args)?,
        )
        .fetch_optional(&mut **c)
        .await?;
        Ok(line.as_deref().and_then(|l| {
            let digits = l.split(" rows=").nth(1)?;
            digits
                .split(|ch: char| !ch.is_ascii_digit())
                .next()?
                .parse()
                .ok()
        }))
    }

    /// The column `id` of every row (`SELECT x AS id` for another column).
    pub async fn ids(&mut self, q: Sql) -> Result<Vec<String>, StoreError> {
        crate::fast::row! {
            struct IdRow {
                id: String,
            }
        }
        Ok(self
            .all::<IdRow>(q)
            .await?
            .into_iter()
            .map(|r| r.id)
            .collect())
    }

    /// The first column of the first row as an integer (counts, sequences).
    pub async fn int(&mut self, q: Sql) -> Result<Option<i64>, StoreError> {
        Ok(match self {
            Conn::Sqlite(c) => {
                let (text, args) = sqlite_query(q)?;
                sqlx::query_with(AssertSqlSafe(text), args)
                    .fetch_optional(&mut **c)
                    .await?
                    .map(|r| r.try_get::<Option<i64>, _>(0))
                    .transpose()?
                    .flatten()
            }
            Conn::Fast(c) => c.int(&q)?,
            Conn::Pg(c) => sqlx::query_with(AssertSqlSafe(q.text), pg_args(q.args)?)
                .fetch_optional(&mut **c)
                .await?
                .map(|r| r.try_get::<Option<i64>, _>(0))
                .transpose()?
                .flatten(),
        })
    }
}

/// A transaction on sqlx's SQLite write connection, holding the writer
/// ([`crate::group::Writer::hold`]) until it has ended.
pub struct BulkTx {
    tx: Option<sqlx::Transaction<'static, sqlx::Sqlite>>,
    hold: Option<crate::group::BulkHold>,
}

impl BulkTx {
    pub(crate) fn new(
        tx: sqlx::Transaction<'static, sqlx::Sqlite>,
        hold: crate::group::BulkHold,
    ) -> BulkTx {
        BulkTx {
            tx: Some(tx),
            hold: Some(hold),
        }
    }

    fn tx(&mut self) -> &mut sqlx::Transaction<'static, sqlx::Sqlite> {
        self.tx.as_mut().expect("open until commit or rollback")
    }

    async fn end(mut self, commit: bool) -> Result<(), StoreError> {
        let tx = self.tx.take().expect("open until commit or rollback");
        if commit {
            tx.commit().await?;
        } else {
            tx.rollback().await?;
        }
        Ok(())
    }
}

impl Drop for BulkTx {
    /// sqlx only queues the ROLLBACK of a dropped transaction on its worker
    /// thread (behind a statement still running there): the writer is let
    /// go once it has run, or a request write would begin while SQLite's
    /// lock is still taken and give up after its busy wait.
    fn drop(&mut self) {
        if let (Some(tx), Ok(rt)) = (self.tx.take(), tokio::runtime::Handle::try_current()) {
            let hold = self.hold.take();
            rt.spawn(async move {
                let _ = tx.rollback().await;
                drop(hold);
            });
        }
    }
}

/// An open write transaction of either backend. Dropped without `commit`, it
/// rolls back: nothing half-written is left behind.
pub enum Tx {
    /// SQLite through sqlx: its statements run on sqlx's worker thread, so a
    /// long one (a classification run's writes) does not hold up a runtime
    /// thread ([`crate::Store::begin_bulk`]).
    Sqlite(BulkTx),
    /// SQLite on the calling thread, for a request's few statements
    /// ([`crate::Store::begin`]): no message to a worker thread and back
    /// per statement.
    Fast(FastTx),
    Pg(sqlx::Transaction<'static, sqlx::Postgres>),
}

impl Tx {
    pub fn conn(&mut self) -> Conn<'_> {
        match self {
            Tx::Sqlite(t) => Conn::Sqlite(t.tx()),
            Tx::Fast(t) => Conn::Fast(t.conn()),
            Tx::Pg(t) => Conn::Pg(&mut *t),
        }
    }
    pub fn is_pg(&self) -> bool {
        matches!(self, Tx::Pg(_))
    }
    pub async fn exec(&mut self, q: Sql) -> Result<u64, StoreError> {
        self.conn().exec(q).await
    }
    pub async fn all<T: Rec>(&mut self, q: Sql) -> Result<Vec<T>, StoreError> {
        self.conn().all(q).await
    }
    pub async fn opt<T: Rec>(&mut self, q: Sql) -> Result<Option<T>, StoreError> {
        self.conn().opt(q).await
    }
    pub async fn one<T: Rec>(&mut self, q: Sql) -> Result<T, StoreError> {
        self.conn().one(q).await
    }
    pub async fn ids(&mut self, q: Sql) -> Result<Vec<String>, StoreError> {
        self.conn().ids(q).await
    }
    pub async fn int(&mut self, q: Sql) -> Result<Option<i64>, StoreError> {
        self.conn().int(q).await
    }
    pub async fn commit(self) -> Result<(), StoreError> {
        match self {
            Tx::Sqlite(t) => t.end(true).await?,
            Tx::Fast(t) => t.commit().await?,
            Tx::Pg(t) => t.commit().await?,
        }
        Ok(())
    }

    /// Undoes the transaction now and releases its locks (dropping it also
    /// undoes it, but sqlx only sends the ROLLBACK when the connection is
    /// next used).
    pub async fn rollback(self) -> Result<(), StoreError> {
        match self {
            Tx::Sqlite(t) => t.end(false).await?,
            Tx::Pg(t) => t.rollback().await?,
            // The synchronous writer rolls back as the transaction drops.
            Tx::Fast(t) => drop(t),
        }
        Ok(())
    }
}

/// Inserts many rows with multi-row `INSERT … VALUES (…), (…)` statements,
/// chunked under both backends' bind-parameter limits. For bulk loads
/// (seeding, imports), where one statement per row would dominate.
pub async fn insert_rows(
    tx: &mut Tx,
    table: &str,
    columns: &[&str],
    rows: Vec<Vec<Arg>>,
) -> Result<(), StoreError> {
    insert_with(tx, table, columns, rows, "").await
}

/// [`insert_rows`], where a row whose `key` exists already updates that
/// row's `update` columns instead (both backends' `ON CONFLICT … DO UPDATE`).
/// Columns left out of `update` keep their stored values, and on SQLite an
/// index none of whose columns are updated is not touched. With `only_if`
/// (SQL over the stored row, written by the caller, never user input) a
/// stored row for which it is false is left as it is.
pub async fn upsert_rows(
    tx: &mut Tx,
    table: &str,
    columns: &[&str],
    key: &[&str],
    update: &[&str],
    only_if: Option<&str>,
    rows: Vec<Vec<Arg>>,
) -> Result<(), StoreError> {
    let set: Vec<String> = update
        .iter()
        .map(|c| format!("{c} = excluded.{c}"))
        .collect();
    let mut tail = format!(
        " ON CONFLICT ({}) DO UPDATE SET {}",
        key.join(", "),
        set.join(", ")
    );
    if let Some(cond) = only_if {
        tail.push_str(" WHERE ");
        tail.push_str(cond);
    }
    insert_with(tx, table, columns, rows, &tail).await
}

async fn insert_with(
    tx: &mut Tx,
    table: &str,
    columns: &[&str],
    rows: Vec<Vec<Arg>>,
    tail: &str,
) -> Result<(), StoreError> {
    // On SQLite these statements go out with `?` (see `anonymous_params`).
    let pg = tx.is_pg();
    let max_params: usize = if pg { 30_000 } else { 1_000 };
    if rows.is_empty() {
        return Ok(());
    }
    let per = (max_params / columns.len()).max(1);
    let head = format!("INSERT INTO {table} ({}) VALUES ", columns.join(", "));
    let mut iter = rows.into_iter().peekable();
    while iter.peek().is_some() {
        let mut q = Sql::new(&head);
        for (i, row) in iter.by_ref().take(per).enumerate() {
            debug_assert_eq!(row.len(), columns.len());
            q.push(if i == 0 { "(" } else { ", (" });
            for (j, a) in row.into_iter().enumerate() {
                if j > 0 {
                    q.push(", ");
                }
                q.bind(a);
            }
            q.push(")");
        }
        q.push(tail);
        tx.exec(q).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::anonymous_params;

    #[test]
    fn numbered_parameters_in_order_become_anonymous() {
        assert_eq!(
            anonymous_params("SELECT a FROM t WHERE x = $1 AND y IN ($2, $3)", 3).as_deref(),
            Some("SELECT a FROM t WHERE x = ? AND y IN (?, ?)")
        );
        // `$` in quotes is text, not a parameter; `$` without digits is left.
        assert_eq!(
            anonymous_params(
                "SELECT '$1', \"$2\", json_extract(c, '$.a') FROM t WHERE x = $1",
                1
            )
            .as_deref(),
            Some("SELECT '$1', \"$2\", json_extract(c, '$.a') FROM t WHERE x = ?")
        );
        assert_eq!(
            anonymous_params("VALUES ($1, $2), ($3, $4)", 4).as_deref(),
            Some("VALUES (?, ?), (?, ?)")
        );
    }

    #[test]
    fn other_numberings_are_left_alone() {
        // Used twice, out of order, a gap, or a count that does not match.
        assert_eq!(anonymous_params("x = $1 OR y = $1", 1), None);
        assert_eq!(anonymous_params("x = $2 AND y = $1", 2), None);
        assert_eq!(anonymous_params("x = $1 AND y = $3", 3), None);
        assert_eq!(anonymous_params("x = $1 AND y = $2", 3), None);
        assert_eq!(anonymous_params("x = $1 AND y = $2", 1), None);
        assert_eq!(anonymous_params("x = '$1", 0), None);
        // `$` inside an identifier, a named parameter like `$1a`, and a text
        // that already has `?` parameters (numbering would shift).
        assert_eq!(anonymous_params("SELECT a$1 FROM t WHERE x = $1", 1), None);
        assert_eq!(anonymous_params("x = $1a", 1), None);
        assert_eq!(anonymous_params("x = $1_", 1), None);
        assert_eq!(anonymous_params("x = ? AND y = $1", 1), None);
        // Quotes with doubled quotes inside stay text.
        assert_eq!(
            anonymous_params("x = 'it''s $2' AND y = $1", 1).as_deref(),
            Some("x = 'it''s $2' AND y = ?")
        );
        assert_eq!(
            anonymous_params("x IN ($1,$2)", 2).as_deref(),
            Some("x IN (?,?)")
        );
    }
}
