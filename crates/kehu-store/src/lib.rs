//! `kehu-store`: everything Kehu keeps, on SQLite (default) or PostgreSQL.
//!
//! Architecture invariant: this is the only crate that contains SQL. It sees
//! ciphertext and blind indexes, never key material or clear sensitive values.
//! Every query takes the tenant, and every customer query the caller's
//! [`Viewer`] scope, so reading across tenants or scopes is not expressible.

pub mod audit;
mod backup_pace;
pub mod customers;
pub mod db;
pub mod fast;
pub mod group;
pub mod insight;
pub mod jobs;
pub mod org;
pub mod saved_views;

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

pub use sqlx::postgres::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

pub use db::{Arg, Conn, Sql, Tx};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// Optimistic concurrency: the row changed since the caller read it.
    #[error("version conflict")]
    VersionConflict,
    /// A unique rule was broken; the payload names the rule (e.g. `login`).
    #[error("duplicate {0}")]
    Unique(&'static str),
    #[error("{0}")]
    BadUrl(String),
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    /// From SQLite's synchronous path ([`fast`]): hot reads and requests'
    /// write transactions.
    #[error("database: {0}")]
    Fast(#[from] rusqlite::Error),
    #[error("migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("{0}")]
    Other(String),
}

impl StoreError {
    pub fn is_unique_violation(&self) -> bool {
        match self {
            StoreError::Db(sqlx::Error::Database(e)) => e.is_unique_violation(),
            // As sqlx classifies SQLite's codes: UNIQUE and PRIMARY KEY.
            StoreError::Fast(rusqlite::Error::SqliteFailure(e, _)) => matches!(
                e.extended_code,
                rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                    | rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY
            ),
            _ => false,
        }
    }

    /// Names a unique violation, leaving other errors as they are.
    pub fn unique_as(self, rule: &'static str) -> StoreError {
        if self.is_unique_violation() {
            StoreError::Unique(rule)
        } else {
            self
        }
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Where the data lives, parsed from `--database-url`. A scheme we do not
/// know is refused: a typo must not silently create a new SQLite file.
#[derive(Clone, PartialEq, Eq)]
pub enum DbUrl {
    Sqlite(PathBuf),
    Postgres(String),
}

impl std::fmt::Debug for DbUrl {
    // The PostgreSQL URL may carry a password: never print it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DbUrl::Sqlite(p) => write!(f, "sqlite://{}", p.display()),
            DbUrl::Postgres(_) => write!(f, "postgres://…"),
        }
    }
}

impl DbUrl {
    pub fn parse(url: &str) -> Result<DbUrl> {
        if let Some(path) = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
        {
            let path = path.split('?').next().unwrap_or_default();
            if path.is_empty() {
                return Err(StoreError::BadUrl(
                    "sqlite URL needs a file path, e.g. sqlite://kehu.db".into(),
                ));
            }
            return Ok(DbUrl::Sqlite(PathBuf::from(path)));
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(DbUrl::Postgres(url.to_string()));
        }
        let scheme = url.split(':').next().unwrap_or(url);
        Err(StoreError::BadUrl(format!(
            "unsupported database URL scheme '{scheme}': use sqlite://PATH or postgres://USER@HOST/DB"
        )))
    }

    pub fn sqlite_path(&self) -> Option<&Path> {
        match self {
            DbUrl::Sqlite(p) => Some(p),
            DbUrl::Postgres(_) => None,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The connection pools. SQLite gets one writer connection (SQLite allows one
/// writer at a time anyway; queueing in the pool beats SQLITE_BUSY) and a few
/// readers, which WAL lets run alongside the writer.
#[derive(Clone, Debug)]
pub enum Store {
    Sqlite {
        write: SqlitePool,
        read: SqlitePool,
        /// Synchronous read-only connections for the hot reads ([`fast`]).
        fast: Arc<fast::FastPool>,
        /// The request writes' connection and group commit ([`group`]).
        writer: Arc<group::Writer>,
    },
    Postgres(PgPool),
}

#[derive(Clone, Copy, Debug)]
pub struct OpenOptions {
    /// Create the SQLite file if it does not exist (init, demo, migrate).
    pub create: bool,
    pub max_connections: u32,
}

impl Default for OpenOptions {
    fn default() -> Self {
        OpenOptions {
            create: false,
            max_connections: 8,
        }
    }
}

impl Store {
    pub async fn open(url: &DbUrl, opts: OpenOptions) -> Result<Store> {
        match url {
            DbUrl::Sqlite(path) => {
                if !opts.create && !path.exists() {
                    return Err(StoreError::BadUrl(format!(
                        "database file {} does not exist; create it with `kehu init` (or `kehu demo`)",
                        path.display()
                    )));
                }
                let fresh = !path.exists();
                let base = SqliteConnectOptions::new()
                    .filename(path)
                    .create_if_missing(opts.create)
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Full)
                    .foreign_keys(true)
                    .busy_timeout(Duration::from_secs(10))
                    .pragma("temp_store", "memory")
                    .pragma("cache_size", "-16000");
                let write = SqlitePoolOptions::new()
                    .max_connections(1)
                    .min_connections(1)
                    .connect_with(base.clone())
                    .await?;
                if fresh {
                    restrict_to_owner(path)?;
                }
                let read = SqlitePoolOptions::new()
                    .max_connections(opts.max_connections.clamp(1, 16))
                    .min_connections(1)
                    .connect_with(base.read_only(true))
                    .await?;
                let fast = Arc::new(fast::FastPool::new(path));
                let writer = Arc::new(group::Writer::new(path));
                Ok(Store::Sqlite {
                    write,
                    read,
                    fast,
                    writer,
                })
            }
            DbUrl::Postgres(u) => {
                let o = PgConnectOptions::from_str(u)?;
                let pool = PgPoolOptions::new()
                    .max_connections(opts.max_connections.max(2))
                    .acquire_timeout(Duration::from_secs(10))
                    .connect_with(o)
                    .await?;
                Ok(Store::Postgres(pool))
            }
        }
    }

    pub fn backend(&self) -> Backend {
        match self {
            Store::Sqlite { .. } => Backend::Sqlite,
            Store::Postgres(_) => Backend::Postgres,
        }
    }

    /// Applies the embedded migrations of this backend.
    pub async fn migrate(&self) -> Result<()> {
        match self {
            Store::Sqlite { write, .. } => sqlx::migrate!("./migrations/sqlite").run(write).await?,
            Store::Postgres(p) => sqlx::migrate!("./migrations/postgres").run(p).await?,
        }
        Ok(())
    }

    /// Starts a write transaction for a request's few statements. On SQLite
    /// it runs on the calling thread ([`group::FastTx`]: a statement blocks
    /// that runtime thread while it runs, so long transactions use
    /// [`Store::begin_bulk`]), as a savepoint of a transaction that
    /// consecutive requests share and commit together; it holds the write
    /// lock from the start (`BEGIN IMMEDIATE`), so one that reads then
    /// writes never fails with SQLITE_BUSY halfway.
    pub async fn begin(&self) -> Result<Tx> {
        Ok(match self {
            Store::Sqlite { writer, .. } => Tx::Fast(writer.begin().await?),
            Store::Postgres(p) => Tx::Pg(p.begin().await?),
        })
    }

    /// Awaits `fut`, which uses this store. On SQLite its statements run on
    /// the calling thread (the synchronous read path, request-write
    /// transactions), so on a multi-threaded runtime the worker is first
    /// handed over to blocking work (`block_in_place`: its other tasks move
    /// to another worker) and `fut` runs to completion on it; seconds of a
    /// classification run's reading and writing then hold up no request.
    /// On PostgreSQL, or a current-thread runtime (some tests), it is
    /// simply awaited.
    pub async fn off_workers<F: std::future::Future>(&self, fut: F) -> F::Output {
        let rt = tokio::runtime::Handle::current();
        if matches!(self, Store::Sqlite { .. })
            && rt.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread
        {
            tokio::task::block_in_place(|| rt.block_on(fut))
        } else {
            fut.await
        }
    }

    /// Like [`Store::begin`], but on SQLite the transaction does not join
    /// the request writes' open group (which is committed first): for a
    /// classification run's chunks, longer than a request's few statements.
    pub async fn begin_alone(&self) -> Result<Tx> {
        Ok(match self {
            Store::Sqlite { writer, .. } => Tx::Fast(writer.begin_alone().await?),
            Store::Postgres(p) => Tx::Pg(p.begin().await?),
        })
    }

    /// Like [`Store::begin`], but `None` at once when this process's SQLite
    /// write lock is taken (a classification run writes for tens of seconds
    /// at a million customers): for writes that may be skipped, like
    /// refreshing a session's last-seen time, rather than make a read
    /// request wait. Always a transaction on PostgreSQL (row locks there).
    pub async fn try_begin(&self) -> Result<Option<Tx>> {
        Ok(match self {
            Store::Sqlite { writer, .. } => writer.try_begin().await?.map(Tx::Fast),
            Store::Postgres(p) => Some(Tx::Pg(p.begin().await?)),
        })
    }

    /// Starts a write transaction whose statements may run long (bulk loads,
    /// the end of a classification run): on SQLite they run on sqlx's worker
    /// thread, never on a runtime thread. The same as [`Store::begin`] on
    /// PostgreSQL.
    pub async fn begin_bulk(&self) -> Result<Tx> {
        Ok(match self {
            Store::Sqlite { write, writer, .. } => {
                // The writer first: the other order could wait for a group
                // that waits for this connection's lock.
                let hold = writer.hold().await?;
                Tx::Sqlite(db::BulkTx::new(
                    write.begin_with("BEGIN IMMEDIATE").await?,
                    hold,
                ))
            }
            Store::Postgres(p) => Tx::Pg(p.begin().await?),
        })
    }

    /// SQLite: request-write groups committed, and those a completed WAL
    /// sync covers ([`group`]); `None` on PostgreSQL.
    #[doc(hidden)]
    pub fn write_groups(&self) -> Option<(u64, u64)> {
        match self {
            Store::Sqlite { writer, .. } => Some(writer.counts()),
            Store::Postgres(_) => None,
        }
    }

    /// Bounds how long a request write waits for the write lock on SQLite
    /// (default 30 s); nothing on PostgreSQL. For tests.
    #[doc(hidden)]
    pub fn set_write_wait(&self, wait: Duration) {
        if let Store::Sqlite { writer, .. } = self {
            writer.set_wait(wait);
        }
    }

    /// A pooled connection for reads.
    pub async fn reader(&self) -> Result<Reader> {
        Ok(match self {
            Store::Sqlite { read, .. } => Reader::Sqlite(read.acquire().await?),
            Store::Postgres(p) => Reader::Pg(p.acquire().await?),
        })
    }

    /// A connection for the hot reads: on SQLite a synchronous one
    /// ([`fast`]), on PostgreSQL a pooled one.
    pub async fn fast_reader(&self) -> Result<FastReader> {
        Ok(match self {
            Store::Sqlite { fast, .. } => FastReader::Sqlite(fast.lease()?),
            Store::Postgres(p) => FastReader::Pg(p.acquire().await?),
        })
    }

    /// `true` when the database answers.
    pub async fn ping(&self) -> bool {
        match self.reader().await {
            Ok(mut r) => r.conn().int(sql!("SELECT CAST(1 AS BIGINT)")).await.is_ok(),
            Err(_) => false,
        }
    }

    /// A consistent copy of a SQLite database while it is in use
    /// (`VACUUM INTO` reads one snapshot; writers continue under WAL).
    pub async fn backup_to(&self, to: &Path) -> Result<()> {
        match self {
            Store::Sqlite { read, .. } => {
                if to.exists() {
                    return Err(StoreError::Other(format!(
                        "{} already exists",
                        to.display()
                    )));
                }
                let mut c = read.acquire().await?;
                let q = sql!("VACUUM INTO $1", to.to_string_lossy().to_string());
                let pacer = backup_pace::Pacer::start(to);
                let done = Conn::Sqlite(&mut c).exec(q).await;
                pacer.stop();
                done?;
                // Whatever SQLite's own sync of the copy does, the copy is on
                // disk when `kehu backup` says it was written.
                std::fs::File::open(to)
                    .and_then(|f| f.sync_all())
                    .map_err(|e| StoreError::Other(format!("{}: {e}", to.display())))?;
                Ok(())
            }
            Store::Postgres(_) => Err(StoreError::Other(
                "for PostgreSQL use pg_dump (or your provider's snapshots); see README 'Backup'"
                    .into(),
            )),
        }
    }

    pub async fn close(&self) {
        match self {
            Store::Sqlite {
                write,
                read,
                fast,
                writer,
            } => {
                writer.close();
                fast.close();
                read.close().await;
                write.close().await;
            }
            Store::Postgres(p) => p.close().await,
        }
    }
}

pub enum Reader {
    Sqlite(sqlx::pool::PoolConnection<sqlx::Sqlite>),
    Pg(sqlx::pool::PoolConnection<sqlx::Postgres>),
}

impl Reader {
    pub fn conn(&mut self) -> Conn<'_> {
        match self {
            Reader::Sqlite(c) => Conn::Sqlite(&mut *c),
            Reader::Pg(c) => Conn::Pg(&mut *c),
        }
    }
}

pub enum FastReader {
    Sqlite(fast::Lease),
    Pg(sqlx::pool::PoolConnection<sqlx::Postgres>),
}

impl FastReader {
    pub fn read(&mut self) -> Conn<'_> {
        match self {
            FastReader::Sqlite(l) => Conn::Fast(l.conn()),
            FastReader::Pg(c) => Conn::Pg(&mut *c),
        }
    }
}

/// Runs one administrative statement (e.g. `CREATE DATABASE` in test
/// harnesses and tools) on a PostgreSQL pool.
pub async fn admin_exec(pool: &PgPool, statement: &str) -> Result<()> {
    let mut c = pool.acquire().await?;
    Conn::Pg(&mut c).exec(Sql::new(statement)).await?;
    Ok(())
}

/// Drops the test databases named `<prefix><pid>_…` whose process is gone:
/// each test process creates one and cannot drop it while other tests may
/// still use it, so the next run clears what earlier runs left.
#[doc(hidden)]
pub async fn drop_stale_test_databases(pool: &PgPool, prefix: &str) -> Result<()> {
    let names = {
        let mut c = pool.acquire().await?;
        let mut q = Sql::new("SELECT datname AS id FROM pg_database WHERE starts_with(datname, ");
        q.bind(prefix).push(")");
        Conn::Pg(&mut c).ids(q).await?
    };
    for name in names {
        let pid = name[prefix.len()..].split('_').next().unwrap_or("");
        let alive = !pid.is_empty() && Path::new("/proc").join(pid).exists();
        if !alive && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            admin_exec(
                pool,
                &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
            )
            .await?;
        }
    }
    Ok(())
}

/// A new database file is readable by its owner only (SQLite gives the WAL
/// and shared-memory files the same mode).
#[cfg(unix)]
fn restrict_to_owner(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
        .map_err(|e| StoreError::Other(format!("cannot restrict {}: {e}", path.display())))
}

#[cfg(not(unix))]
fn restrict_to_owner(_: &Path) -> Result<()> {
    Ok(())
}
