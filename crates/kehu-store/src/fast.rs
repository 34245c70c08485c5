//! Synchronous SQLite reads for the hot paths (a customer by id, a list or
//! search page), and the pieces the request writes share with them
//! ([`FastConn`], [`FromFast`], `row!`; the writes are in `group.rs`).
//!
//! sqlx runs every SQLite connection on a worker thread of its own: each
//! query is a message to that thread and each row a message back. On the
//! benchmark's one server core a third of the CPU of `GET /customers/{id}`
//! went to those thread switches (BENCHMARKS.md, "Synchronous reads"). A read
//! here runs the statement on the calling thread instead, through rusqlite
//! on the same SQLite library sqlx links.
//!
//! Only statements that return little come here: point reads and pages of
//! at most 201 rows. Most take well under a millisecond, but they run on a
//! runtime thread, so one that reads many rows before its page is full (a
//! rare filter without an index of its own, a classification filter after
//! its walk budget, see `customers::list_customers`) holds up the requests
//! behind it for that long; sqlx ran them on a thread of their own.
//! The pool's connections are read-only and leased per request (a lease may
//! be kept across an `.await`, but a statement never is); the pool opens one
//! when none is idle and keeps a few.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rusqlite::{Connection, OpenFlags};

use crate::StoreError;
use crate::db::{Arg, Sql};

/// Idle connections kept for reuse; more are opened under load and closed
/// when they come back to a full pool.
const KEEP_IDLE: usize = 8;
/// Prepared statements kept per connection: the list query has a text per
/// combination of filters, sort and scope.
const STATEMENT_CACHE: usize = 128;

/// The idle read-only connections of one SQLite database.
pub struct FastPool {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
    closed: AtomicBool,
}

impl std::fmt::Debug for FastPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FastPool")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl FastPool {
    pub fn new(path: &Path) -> FastPool {
        FastPool {
            path: path.to_path_buf(),
            idle: Mutex::new(Vec::new()),
            closed: AtomicBool::new(false),
        }
    }

    fn idle(&self) -> std::sync::MutexGuard<'_, Vec<Connection>> {
        // A panic while holding the lock leaves a valid Vec behind.
        self.idle.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A connection for the caller alone until the lease is dropped.
    pub fn lease(self: &Arc<Self>) -> Result<Lease, StoreError> {
        if self.closed.load(Ordering::Acquire) {
            return Err(StoreError::Other("the database is closed".into()));
        }
        let conn = match self.idle().pop() {
            Some(c) => c,
            None => self.open()?,
        };
        Ok(Lease {
            pool: Arc::clone(self),
            conn: Some(FastConn(conn)),
        })
    }

    /// Closes the idle connections, as `Store::close` does sqlx's pools;
    /// later leases fail, and a connection leased at the time closes when
    /// it is dropped.
    pub fn close(&self) {
        self.closed.store(true, Ordering::Release);
        self.idle().clear();
    }

    fn open(&self) -> Result<Connection, StoreError> {
        let c = open(&self.path, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
        c.busy_timeout(Duration::from_secs(10))?;
        Ok(c)
    }
}

/// Opens a connection for use on the calling thread with the settings of
/// sqlx's connections (lib.rs) and the database file memory-mapped (up to
/// 1 TiB; see .cargo/config.toml): reads of pages outside SQLite's cache
/// then cost no system call and no copy. SQLite still writes with write().
pub(crate) fn open(path: &Path, mode: OpenFlags) -> Result<Connection, rusqlite::Error> {
    let c = Connection::open_with_flags(path, mode | OpenFlags::SQLITE_OPEN_NO_MUTEX)?;
    c.execute_batch(&format!(
        "PRAGMA temp_store = memory; PRAGMA cache_size = -16000; PRAGMA mmap_size = {MMAP_SIZE};"
    ))?;
    c.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    Ok(c)
}

/// How much of the database file a fast connection maps (the compile-time
/// limit, set in .cargo/config.toml; a build without it maps 2 GB).
const MMAP_SIZE: u64 = 1 << 40;

/// A leased connection; it goes back to the pool when dropped.
pub struct Lease {
    pool: Arc<FastPool>,
    conn: Option<FastConn>,
}

impl Lease {
    pub fn conn(&mut self) -> &mut FastConn {
        self.conn.as_mut().expect("present until drop")
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        if let Some(c) = self.conn.take() {
            let mut idle = self.pool.idle();
            if idle.len() < KEEP_IDLE && !self.pool.closed.load(Ordering::Acquire) {
                idle.push(c.0);
            }
        }
    }
}

/// A row type read straight from a rusqlite row: by column name for the
/// types declared with `row!`, by position (the order its queries select)
/// for the hot list rows, `CustomerRow` and `ListedCustomer`. The storage
/// conformance tests run every query on both decoders.
pub trait FromFast: Sized {
    fn from_fast(row: &rusqlite::Row<'_>) -> rusqlite::Result<Self>;

    /// Where this type's columns are in `st`'s results, looked up once a
    /// statement; `None` decodes each row with [`FromFast::from_fast`].
    /// (By name, rusqlite scans the statement's column names for every
    /// value of every row: a tenth of reading a classification run's
    /// stored rows.)
    fn positions(_st: &rusqlite::Statement<'_>) -> Option<Vec<usize>> {
        None
    }

    /// Decodes a row whose columns are at `at` (from [`FromFast::positions`]).
    fn from_fast_at_positions(row: &rusqlite::Row<'_>, _at: &[usize]) -> rusqlite::Result<Self> {
        Self::from_fast(row)
    }
}

/// Decodes every row of `rows` into `f`, looking the columns up once.
fn decode_each<T: FromFast>(
    mut rows: rusqlite::Rows<'_>,
    mut f: impl FnMut(T) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    let at = rows.as_ref().and_then(T::positions);
    while let Some(r) = rows.next()? {
        f(match &at {
            Some(at) => T::from_fast_at_positions(r, at)?,
            None => T::from_fast(r)?,
        })?;
    }
    Ok(())
}

/// Declares a row struct that both decoders read by column name: sqlx's
/// `FromRow` and [`FromFast`] (a write transaction on SQLite reads every row
/// type; the hot reads keep hand-written positional decoders).
macro_rules! row {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident {
            $($(#[$fmeta:meta])* $fvis:vis $field:ident : $ty:ty),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(sqlx::FromRow)]
        $vis struct $name {
            $($(#[$fmeta])* $fvis $field: $ty),*
        }

        impl $crate::fast::FromFast for $name {
            fn from_fast(row: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
                Ok($name {
                    $($field: row.get(stringify!($field))?),*
                })
            }

            fn positions(st: &rusqlite::Statement<'_>) -> Option<Vec<usize>> {
                Some(vec![$(st.column_index(stringify!($field)).ok()?),*])
            }

            fn from_fast_at_positions(
                row: &rusqlite::Row<'_>,
                at: &[usize],
            ) -> rusqlite::Result<Self> {
                let mut at = at.iter().copied();
                Ok($name {
                    $($field: row.get(at.next().expect("a position per field"))?),*
                })
            }
        }
    };
}
pub(crate) use row;

/// One SQLite connection, used synchronously: read-only for the hot reads,
/// read-write inside a [`FastTx`].
pub struct FastConn(pub(crate) Connection);

impl FastConn {
    /// Prepares (cached) and binds `q`, then hands its rows to `read`.
    fn query<R>(
        &mut self,
        q: &Sql,
        read: impl FnOnce(rusqlite::Rows<'_>) -> Result<R, StoreError>,
    ) -> Result<R, StoreError> {
        let mut st = self.0.prepare_cached(&crate::db::sqlite_text(q))?;
        bind(&mut st, &q.args)?;
        read(st.raw_query())
    }

    /// Runs `q` and decodes every row.
    pub fn all<T: FromFast>(&mut self, q: &Sql) -> Result<Vec<T>, StoreError> {
        self.query(q, |rows| {
            let mut out = Vec::new();
            decode_each(rows, |v| {
                out.push(v);
                Ok(())
            })?;
            Ok(out)
        })
    }

    /// Like [`FastConn::all`], but gives up, returning `None`, once the
    /// statement has run for `budget` (checked every thousand SQLite
    /// instructions; time, not instructions, since reading pages in from
    /// the OS is what makes a walk slow).
    pub fn all_within<T: FromFast>(
        &mut self,
        q: &Sql,
        budget: Duration,
    ) -> Result<Option<Vec<T>>, StoreError> {
        let deadline = Instant::now() + budget;
        self.0
            .progress_handler(1_000, Some(move || Instant::now() >= deadline))?;
        let res = self.all(q);
        self.0.progress_handler(0, None::<fn() -> bool>)?;
        match res {
            Ok(rows) => Ok(Some(rows)),
            Err(StoreError::Fast(rusqlite::Error::SqliteFailure(e, _)))
                if e.code == rusqlite::ErrorCode::OperationInterrupted =>
            {
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    pub fn opt<T: FromFast>(&mut self, q: &Sql) -> Result<Option<T>, StoreError> {
        self.query(q, |mut rows| {
            Ok(rows.next()?.map(T::from_fast).transpose()?)
        })
    }

    /// Runs `q` to the end (rows of a `RETURNING` are skipped) and returns
    /// the number of rows it changed.
    pub fn exec(&mut self, q: &Sql) -> Result<u64, StoreError> {
        self.query(q, |mut rows| {
            while rows.next()?.is_some() {}
            Ok(())
        })?;
        Ok(self.0.changes())
    }

    /// Calls `f` for each row as it is read.
    pub fn each<T: FromFast>(
        &mut self,
        q: &Sql,
        mut f: impl FnMut(T) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        self.query(q, |rows| decode_each(rows, &mut f))
    }

    /// The first column of the first row as an integer (counts).
    pub fn int(&mut self, q: &Sql) -> Result<Option<i64>, StoreError> {
        self.query(q, |mut rows| {
            Ok(rows
                .next()?
                .map(|r| r.get::<_, Option<i64>>(0))
                .transpose()?
                .flatten())
        })
    }
}

/// Binds `$1..$N` by name: SQLite numbers parameters in the order they first
/// appear, which a hand-written statement need not follow. A statement of
/// anonymous `?` parameters (a large one, see `db::anonymous_params`) is
/// bound by position.
fn bind(st: &mut rusqlite::Statement<'_>, args: &[Arg]) -> Result<(), StoreError> {
    let anonymous = st.parameter_count() > 0 && st.parameter_name(1).is_none();
    let mut name = String::with_capacity(4);
    for (i, a) in args.iter().enumerate() {
        let ix = if anonymous {
            i + 1
        } else {
            name.clear();
            name.push('$');
            name.push_str(&(i + 1).to_string());
            let Some(ix) = st.parameter_index(&name)? else {
                // Bound but not used by this text (sqlx ignores those too).
                continue;
            };
            ix
        };
        match a {
            Arg::I64(v) => st.raw_bind_parameter(ix, v)?,
            Arg::F64(v) => st.raw_bind_parameter(ix, v)?,
            Arg::Text(v) => st.raw_bind_parameter(ix, v)?,
            Arg::Bytes(v) => st.raw_bind_parameter(ix, v)?,
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    struct N(i64);
    impl FromFast for N {
        fn from_fast(r: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
            Ok(N(r.get(0)?))
        }
    }

    /// A pool over a fresh WAL database (the directory lives as long as it).
    fn scratch_pool() -> (tempfile::TempDir, Arc<FastPool>) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        rusqlite::Connection::open(&path)
            .unwrap()
            .execute_batch("PRAGMA journal_mode = wal; CREATE TABLE t (x INTEGER);")
            .unwrap();
        let pool = Arc::new(FastPool::new(&path));
        (dir, pool)
    }

    row! {
        #[derive(Debug, PartialEq)]
        struct Named {
            b: i64,
            a: Option<String>,
        }
    }

    /// `row!` types find their columns by name once a statement, whatever
    /// the order the statement selects them in and whatever else it
    /// selects, row after row; a missing column is an error, as by name.
    #[test]
    fn named_rows_decode_by_looked_up_positions() {
        let (_dir, pool) = scratch_pool();
        let mut lease = pool.lease().unwrap();
        let q = Sql::new(
            "SELECT 'x' AS a, 7 AS extra, 3 AS b UNION ALL SELECT NULL, 8, 4 UNION ALL SELECT 'z', 9, 5",
        );
        let want = vec![
            Named {
                b: 3,
                a: Some("x".into()),
            },
            Named { b: 4, a: None },
            Named {
                b: 5,
                a: Some("z".into()),
            },
        ];
        assert_eq!(lease.conn().all::<Named>(&q).unwrap(), want);
        let mut each = Vec::new();
        lease
            .conn()
            .each::<Named>(&q, |r| {
                each.push(r);
                Ok(())
            })
            .unwrap();
        assert_eq!(each, want);
        let missing = Sql::new("SELECT 1 AS b, 2 AS c");
        assert!(lease.conn().all::<Named>(&missing).is_err());
    }

    #[test]
    fn large_lists_bind_in_order_with_or_without_names() {
        let (_dir, pool) = scratch_pool();
        let mut lease = pool.lease().unwrap();
        // 200 values (sent as `?`) and 3 (sent as `$N`): each binds where
        // its number says.
        for n in [200i64, 3] {
            let mut q = Sql::new("SELECT v FROM (SELECT ");
            q.bind(-1i64)
                .push(" AS v UNION ALL SELECT value FROM json_each(json_array(");
            q.bind_list(1..=n)
                .push("))) WHERE v <> ")
                .bind(2i64)
                .push(" ORDER BY v");
            let got: Vec<i64> = lease
                .conn()
                .all::<N>(&q)
                .unwrap()
                .into_iter()
                .map(|r| r.0)
                .collect();
            let want: Vec<i64> = std::iter::once(-1)
                .chain((1..=n).filter(|v| *v != 2))
                .collect();
            assert_eq!(got, want, "{n} values");
            assert_eq!(crate::db::sqlite_text(&q).contains('$'), n < 64);
        }
    }

    #[test]
    fn a_budget_stops_a_long_statement_and_the_connection_goes_on() {
        let (_dir, pool) = scratch_pool();
        let mut lease = pool.lease().unwrap();
        let long = Sql::with(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $1) SELECT COUNT(*) FROM n",
            vec![Arg::I64(Some(1_000_000))],
        );
        assert!(
            lease
                .conn()
                .all_within::<N>(&long, Duration::from_millis(1))
                .unwrap()
                .is_none()
        );
        let short = Sql::with(&long.text, vec![Arg::I64(Some(10))]);
        let rows = lease
            .conn()
            .all_within::<N>(&short, Duration::from_secs(5))
            .unwrap()
            .unwrap();
        assert_eq!(rows.iter().map(|n| n.0).collect::<Vec<_>>(), [10]);
        // The handler is gone: the long statement now runs to the end.
        let rows = lease.conn().all::<N>(&long).unwrap();
        assert_eq!(rows[0].0, 1_000_000);
        drop(lease);
        // The connection went back to the pool and is reused.
        assert_eq!(pool.idle().len(), 1);
        let mut again = pool.lease().unwrap();
        assert_eq!(pool.idle().len(), 0);
        assert_eq!(again.conn().int(&short).unwrap(), Some(10));
        // Closing empties the pool and refuses new leases; the connection
        // still out is closed, not kept, when it comes back.
        pool.close();
        assert!(pool.lease().is_err());
        drop(again);
        assert_eq!(pool.idle().len(), 0);
    }

    #[test]
    fn fast_connections_map_the_whole_file() {
        // SQLite caps mmap_size at its compile-time limit (2 GB unless
        // .cargo/config.toml raised it), so this fails on a build without it.
        let (_dir, pool) = scratch_pool();
        let mut lease = pool.lease().unwrap();
        let q = Sql::new("PRAGMA mmap_size");
        assert_eq!(lease.conn().int(&q).unwrap(), Some(MMAP_SIZE as i64));
    }
}
