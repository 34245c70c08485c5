//! SQLite's request writes: run on the calling thread, committed in groups.
//!
//! A request's write is a few statements and a COMMIT; the COMMIT writes
//! every page the request dirtied to the WAL and waits for the disk. With
//! several writers queued, that was a third of the server's CPU and most of
//! its waiting (BENCHMARKS.md, "Request writes: synchronous, grouped").
//! So the writer keeps one SQLite transaction open across consecutive
//! requests: each request runs inside a SAVEPOINT of it, which it releases
//! when it commits, or rolls back to when it fails, undoing only its own
//! statements. The transaction is committed once no other request is
//! queued (or the group is full). A failed COMMIT fails every member of
//! the group (none of it is kept).
//!
//! Search terms (SQLite's FTS5 index) are written at the group's COMMIT,
//! not by each member: FTS5 writes its pending terms to disk at the next
//! statement or savepoint, so terms written by each member cost one small
//! index segment each, and flushing them was 5 % of a write's CPU. A member
//! hands its term writes to the group when it commits ([`FastTx::search`]);
//! one dropped without commit hands nothing on. Nothing reads the index
//! inside a write transaction.
//!
//! Durability: the connection commits with `synchronous = NORMAL` (COMMIT
//! writes the WAL without waiting for the disk) and each member then waits
//! in [`Writer::durable`] for a sync of the WAL that started after its
//! COMMIT, on a blocking thread, while the next group already runs. One
//! sync covers every group committed before it. No request answers before
//! its write is on disk; a reader on another connection may see a group
//! between its COMMIT and its sync (ARCHITECTURE.md, departures). A failed
//! sync fails every later write too. The automatic checkpoint is off on
//! this connection (it would run inside COMMIT, on a runtime thread); the
//! WAL is checkpointed on a blocking thread instead, with the writer held
//! as SQLite's own would be.
//!
//! One member at a time holds the writer (an async mutex) from `begin` to
//! commit or drop. A transaction on sqlx's write connection
//! ([`crate::Store::begin_bulk`]) holds the writer too ([`Writer::hold`]),
//! so no group starts inside it and it starts inside none. (Groups used to
//! take sqlx's write connection for this: a message to its worker thread
//! and back per group, 6 % of a write's CPU.)
//! A group handed on to the next request is also watched by a timer: if
//! no one has committed it after [`FLUSH_AFTER`] (the next request went
//! away), the timer takes the writer and commits it; and a request that
//! finds the group's members waiting longer than that commits it before
//! joining, so one slow member delays only those before it.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use rusqlite::{Connection, OpenFlags};
use tokio::sync::{Mutex, OwnedMutexGuard, oneshot};

use crate::StoreError;
use crate::customers::{SQLITE_SEARCH_DELETE, SQLITE_SEARCH_INSERT};
use crate::fast::{self, FastConn};

/// Members of one group at most: bounds how long the first waits.
const MAX_GROUP: usize = 32;
/// How long a member that handed the group on waits before committing it
/// itself (the next member normally commits or hands on well within this).
const FLUSH_AFTER: Duration = Duration::from_millis(20);
/// WAL pages from which `durable` checkpoints (SQLite's default threshold).
const CHECKPOINT_PAGES: u64 = 1000;

/// How long `BEGIN IMMEDIATE` waits for another process's transaction, as
/// sqlx's connections do (lib.rs).
const BUSY_WAIT: Duration = Duration::from_secs(10);

thread_local! {
    /// What SQLite's WAL hook last reported on this thread: the hook takes
    /// a plain function, and it runs inside the COMMIT that `finish` makes
    /// on this same thread, which reads it right after.
    static WAL_PAGES: std::cell::Cell<i32> = const { std::cell::Cell::new(0) };
}

fn note_wal_pages(_: &rusqlite::hooks::Wal, pages: std::ffi::c_int) -> rusqlite::Result<()> {
    WAL_PAGES.set(pages);
    Ok(())
}

/// The read-write connection of one SQLite database and its open group.
pub struct Writer {
    path: PathBuf,
    /// The WAL file, made durable by [`Writer::durable`]: named by SQLite
    /// from the database's resolved path when the connection opens (the
    /// configured path may be a symlink).
    wal: OnceLock<PathBuf>,
    /// Runs the checkpoints ([`Writer::durable`]), opened on first use.
    checkpointer: std::sync::Mutex<Option<Connection>>,
    /// Pages in the WAL after the last COMMIT (SQLite's WAL hook).
    wal_pages: AtomicU64,
    /// [`Writer::begin`]'s bound on waiting, in milliseconds.
    wait_ms: AtomicU64,
    /// A checkpoint is scheduled or running.
    checkpointing: AtomicBool,
    /// Set when a WAL sync failed: the kernel may have dropped the pages it
    /// could not write, so no later write can be called durable.
    failed: AtomicBool,
    state: Arc<Mutex<State>>,
    /// Groups committed (COMMIT returned), and how many of those a
    /// completed sync of the WAL covers.
    committed: AtomicU64,
    synced: AtomicU64,
    /// One WAL sync at a time; the others wait and usually find theirs done.
    sync: Mutex<()>,
    /// Requests waiting in [`Writer::begin`] for the state lock.
    queued: AtomicUsize,
    closed: AtomicBool,
}

impl std::fmt::Debug for Writer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Writer")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

#[derive(Default)]
struct State {
    /// Opened on first use; dropped if left unusable.
    conn: Option<FastConn>,
    group: Option<Group>,
}

/// The open SQLite transaction and the members waiting for its COMMIT.
struct Group {
    /// When the first member began waiting for the COMMIT.
    waiting_since: Option<Instant>,
    /// Committed members' search-term writes, in order: the customer's
    /// `rid` and its new terms (`None`: no terms, the customer is gone).
    search: Vec<(i64, Option<String>)>,
    /// Each member is sent the group's number in [`Writer::committed`].
    waiting: Vec<oneshot::Sender<Result<u64, String>>>,
}

/// Decrements [`Writer::queued`] however the wait ends (a cancelled request
/// included).
struct Queued<'a>(&'a AtomicUsize);
impl Drop for Queued<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Writer {
    pub fn new(path: &Path) -> Writer {
        Writer {
            path: path.to_path_buf(),
            wal: OnceLock::new(),
            checkpointer: std::sync::Mutex::new(None),
            failed: AtomicBool::new(false),
            wal_pages: AtomicU64::new(0),
            checkpointing: AtomicBool::new(false),
            wait_ms: AtomicU64::new(30_000),
            state: Arc::new(Mutex::new(State::default())),
            committed: AtomicU64::new(0),
            synced: AtomicU64::new(0),
            sync: Mutex::new(()),
            queued: AtomicUsize::new(0),
            closed: AtomicBool::new(false),
        }
    }

    fn check_open(&self) -> Result<(), StoreError> {
        if self.closed.load(Ordering::Acquire) {
            return Err(StoreError::Other("the database is closed".into()));
        }
        if self.failed.load(Ordering::Acquire) {
            return Err(StoreError::Other(
                "an earlier sync of the database's WAL failed; restart the server after checking the disk".into(),
            ));
        }
        Ok(())
    }

    /// Starts a request's write transaction, waiting for the writer.
    ///
    /// The whole wait, for the writer and then for the write lock, is bounded
    /// by [`Writer::set_wait`] (30 s, as sqlx's pools): behind a long bulk
    /// transaction each queued request fails after that long, rather than
    /// the n-th after n times it (one at a time holds the writer while it
    /// waits for the lock).
    pub async fn begin(self: &Arc<Self>) -> Result<FastTx, StoreError> {
        self.begin_with(false).await
    }

    /// Like [`Writer::begin`], but an open group is committed first, so the
    /// transaction starts a group of its own: for a classification run's
    /// chunks, whose work the requests before them should neither wait
    /// for nor fail with (as a bulk transaction's [`Writer::hold`] does).
    pub async fn begin_alone(self: &Arc<Self>) -> Result<FastTx, StoreError> {
        self.begin_with(true).await
    }

    async fn begin_with(self: &Arc<Self>, alone: bool) -> Result<FastTx, StoreError> {
        self.check_open()?;
        let wait = self.wait();
        let started = async {
            let mut state = {
                self.queued.fetch_add(1, Ordering::SeqCst);
                let _q = Queued(&self.queued);
                Arc::clone(&self.state).lock_owned().await
            };
            if alone {
                finish(self, &mut state, None);
            }
            self.start(state, true).await
        };
        match tokio::time::timeout(wait, started).await {
            Ok(tx) => Ok(tx?.expect("a waiting start always starts")),
            Err(_) => Err(no_lock(wait)),
        }
    }

    /// Holds the writer for a transaction of sqlx's write connection: an
    /// open group is committed first, and none starts until the returned
    /// hold drops. Waits as [`Writer::begin`] does.
    pub async fn hold(self: &Arc<Self>) -> Result<BulkHold, StoreError> {
        self.check_open()?;
        let wait = self.wait();
        let Ok(mut state) = tokio::time::timeout(wait, Arc::clone(&self.state).lock_owned()).await
        else {
            return Err(no_lock(wait));
        };
        finish(self, &mut state, None);
        Ok(BulkHold { _writer: state })
    }

    fn wait(&self) -> Duration {
        Duration::from_millis(self.wait_ms.load(Ordering::Relaxed))
    }

    /// How long [`Writer::begin`] waits (tests shorten it).
    pub fn set_wait(&self, wait: Duration) {
        self.wait_ms
            .store(wait.as_millis() as u64, Ordering::Relaxed);
    }

    /// Starts one only if neither the writer nor the write lock is taken.
    pub async fn try_begin(self: &Arc<Self>) -> Result<Option<FastTx>, StoreError> {
        self.check_open()?;
        let Ok(state) = Arc::clone(&self.state).try_lock_owned() else {
            return Ok(None);
        };
        self.start(state, false).await
    }

    async fn start(
        self: &Arc<Self>,
        mut state: OwnedMutexGuard<State>,
        wait: bool,
    ) -> Result<Option<FastTx>, StoreError> {
        // Re-checked: the store may have closed while this request queued.
        self.check_open()?;
        // A group whose members have waited long (a member held the writer
        // across a slow await) is committed before anyone else joins it.
        if state
            .group
            .as_ref()
            .and_then(|g| g.waiting_since)
            .is_some_and(|t| t.elapsed() > FLUSH_AFTER)
        {
            finish(self, &mut state, None);
        }
        if state.group.is_none() {
            if state.conn.as_ref().is_some_and(|c| !c.0.is_autocommit()) {
                // Left inside a transaction by something unforeseen: start
                // afresh rather than fail every later BEGIN.
                state.conn = None;
            }
            if state.conn.is_none() {
                state.conn = Some(FastConn(self.open()?));
            }
            let conn = state.conn.as_mut().expect("just opened");
            if !begin_immediate(conn, wait).await? {
                return Ok(None);
            }
            state.group = Some(Group {
                waiting_since: None,
                search: Vec::new(),
                waiting: Vec::new(),
            });
        }
        let conn = state.conn.as_mut().expect("open while a group is");
        if let Err(e) = conn.0.execute_batch("SAVEPOINT request") {
            finish(self, &mut state, Some(format!("savepoint: {e}")));
            return Err(e.into());
        }
        Ok(Some(FastTx {
            writer: Arc::clone(self),
            state: Some(state),
            savepoint: true,
            search: Vec::new(),
        }))
    }

    fn open(&self) -> Result<Connection, StoreError> {
        let c = fast::open(&self.path, OpenFlags::SQLITE_OPEN_READ_WRITE)?;
        // As sqlx's write connection (lib.rs), but for durability: NORMAL,
        // since `durable` syncs the WAL after COMMIT (SQLite still syncs it
        // before each checkpoint). WAL is already the file's mode. The busy
        // handler waits briefly: `begin_immediate` does the long waiting.
        // No automatic checkpoint: it would run inside a COMMIT, on this
        // runtime thread, with the writer held (two fsyncs); `durable` has
        // it run on a blocking thread instead.
        c.busy_timeout(Duration::from_millis(5))?;
        c.execute_batch(
            "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; PRAGMA wal_autocheckpoint = 0;",
        )?;
        // After the pragma, which would replace it.
        c.wal_hook(Some(note_wal_pages));
        if let Some(db) = c.path().filter(|p| !p.is_empty()) {
            let _ = self.wal.set(PathBuf::from(format!("{db}-wal")));
        }
        Ok(c)
    }

    /// Groups committed and groups whose WAL sync completed (for tests).
    pub fn counts(&self) -> (u64, u64) {
        (
            self.committed.load(Ordering::SeqCst),
            self.synced.load(Ordering::SeqCst),
        )
    }

    /// Commits an open group (best effort) and closes the connection; later
    /// transactions fail, as on sqlx's closed pools.
    pub fn close(&self) {
        self.closed.store(true, Ordering::Release);
        if let Ok(mut state) = self.state.try_lock() {
            finish(self, &mut state, None);
            state.conn = None;
        }
        *self.checkpointer.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }

    /// Returns once the WAL is on disk up to group `n`. The connection
    /// commits with `synchronous = NORMAL` (COMMIT writes the WAL, no
    /// fsync) and the sync happens here, after the writer is free: the next
    /// group runs while this one's sync is in flight, and one sync covers
    /// every group committed before it started (the WAL is written in
    /// order).
    async fn durable(self: &Arc<Self>, n: u64) -> Result<(), StoreError> {
        if self.synced.load(Ordering::SeqCst) >= n {
            return Ok(());
        }
        let _one = self.sync.lock().await;
        if self.synced.load(Ordering::SeqCst) >= n {
            return Ok(());
        }
        self.check_open()?;
        let upto = self.committed.load(Ordering::SeqCst);
        let writer = Arc::clone(self);
        let done = tokio::task::spawn_blocking(move || writer.sync_wal())
            .await
            .map_err(|e| StoreError::Other(format!("WAL sync: {e}")))?;
        if let Err(e) = done {
            self.failed.store(true, Ordering::Release);
            tracing::error!(error = %e, "syncing the SQLite WAL failed; refusing further writes");
            return Err(StoreError::Other(format!("WAL sync: {e}")));
        }
        self.synced.fetch_max(upto, Ordering::SeqCst);
        drop(_one);
        if self.wal_pages.load(Ordering::SeqCst) >= CHECKPOINT_PAGES
            && !self.checkpointing.swap(true, Ordering::SeqCst)
        {
            tokio::spawn(Arc::clone(self).checkpoint_with_writer_held());
        }
        Ok(())
    }

    /// Runs [`Writer::checkpoint`] with the writer held, as SQLite's own
    /// automatic checkpoint would be: it then reaches the WAL's end and the
    /// next transaction starts the WAL over (one running beside new writes
    /// never catches up, and the WAL only grows). An open group is
    /// committed first, for the same reason.
    async fn checkpoint_with_writer_held(self: Arc<Self>) {
        let mut state = Arc::clone(&self.state).lock_owned().await;
        finish(&self, &mut state, None);
        let writer = Arc::clone(&self);
        let done = tokio::task::spawn_blocking(move || {
            let r = writer.checkpoint();
            if r.is_ok() {
                // Read back from the hook at the next COMMIT.
                writer.wal_pages.store(0, Ordering::SeqCst);
            }
            drop(state);
            r
        })
        .await;
        if let Ok(Err(e)) = done {
            tracing::warn!(error = %e, "SQLite checkpoint");
        }
        self.checkpointing.store(false, Ordering::SeqCst);
    }

    /// Syncs the WAL.
    fn sync_wal(&self) -> Result<(), String> {
        let wal = self
            .wal
            .get()
            .ok_or_else(|| "the WAL's name is unknown".to_string())?;
        let file = std::fs::File::open(wal).map_err(|e| format!("{}: {e}", wal.display()))?;
        file.sync_data()
            .map_err(|e| format!("{}: {e}", wal.display()))?;
        Ok(())
    }

    /// Checkpoints the WAL into the database file, once it has grown past
    /// SQLite's usual threshold (1,000 pages), on a blocking thread and a
    /// connection of its own, so no runtime thread waits for its fsyncs.
    /// PASSIVE: it copies what no reader still needs and never waits.
    fn checkpoint(&self) -> Result<(), String> {
        let Ok(mut slot) = self.checkpointer.try_lock() else {
            return Ok(());
        };
        if self.closed.load(Ordering::Acquire) {
            return Ok(());
        }
        if slot.is_none() {
            let c = fast::open(&self.path, OpenFlags::SQLITE_OPEN_READ_WRITE)
                .map_err(|e| format!("checkpoint connection: {e}"))?;
            *slot = Some(c);
        }
        let c = slot.as_ref().expect("just opened");
        // (busy, WAL frames, frames checkpointed): busy only means another
        // checkpoint (sqlx's connections keep their automatic one) ran.
        c.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| r.get::<_, i64>(0))
            .map(|_| ())
            .map_err(|e| format!("checkpoint: {e}"))
    }

    /// Leaves the open group to the next queued request, or, when none is
    /// queued (or the group is full), ends it now.
    fn pass_on(self: &Arc<Self>, mut state: OwnedMutexGuard<State>) {
        let waiting = state.group.as_ref().map_or(0, |g| g.waiting.len());
        let handle = match tokio::runtime::Handle::try_current() {
            Ok(h)
                if waiting > 0 && waiting < MAX_GROUP && self.queued.load(Ordering::SeqCst) > 0 =>
            {
                h
            }
            _ => return finish(self, &mut state, None),
        };
        drop(state);
        // Should the next request go away before it takes the writer, the
        // group still ends: no member answers before it does.
        let writer = Arc::clone(self);
        handle.spawn(async move {
            tokio::time::sleep(FLUSH_AFTER).await;
            // No member holds the writer now, so an open group is members
            // waiting for COMMIT (those above, or later ones: committing
            // early costs only batching).
            let mut state = writer.state.lock().await;
            finish(&writer, &mut state, None);
        });
    }
}

fn no_lock(wait: Duration) -> StoreError {
    StoreError::Other(format!(
        "no write lock after {} s (a long write holds it)",
        wait.as_secs_f64()
    ))
}

/// The writer, held for a transaction of sqlx's write connection
/// ([`Writer::hold`]); dropped after that transaction ends.
pub struct BulkHold {
    _writer: OwnedMutexGuard<State>,
}

/// `BEGIN IMMEDIATE`, retried here while another process holds the
/// database's write lock, sleeping between tries rather than in SQLite's
/// busy handler, which would block this runtime thread (and, on a
/// one-thread runtime, the other side's transaction with it). `false`
/// when the lock is taken and the caller would not wait.
async fn begin_immediate(conn: &mut FastConn, wait: bool) -> Result<bool, StoreError> {
    let deadline = Instant::now() + BUSY_WAIT;
    let mut pause = Duration::from_millis(1);
    loop {
        match conn.0.execute_batch("BEGIN IMMEDIATE") {
            Ok(()) => return Ok(true),
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::DatabaseBusy && !wait =>
            {
                return Ok(false);
            }
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::DatabaseBusy && Instant::now() < deadline =>
            {
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_millis(50));
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// Ends the open group, if any: COMMIT when members wait for it (ROLLBACK
/// when none do, or when `fail` says the group must not be kept), then
/// tells each member the outcome and releases the write lock.
fn finish(writer: &Writer, state: &mut State, fail: Option<String>) {
    let Some(group) = state.group.take() else {
        return;
    };
    let Some(conn) = state.conn.as_mut() else {
        for w in group.waiting {
            let _ = w.send(Err("the connection is gone".into()));
        }
        return;
    };
    let outcome = match fail {
        Some(e) => Err(e),
        // SQLite ends a transaction itself after some errors (a full disk).
        None if conn.0.is_autocommit() => Err("the transaction was rolled back".into()),
        None if group.waiting.is_empty() => Ok(0),
        None => write_search(conn, &group.search)
            .and_then(|()| conn.0.execute_batch("COMMIT"))
            .map(|()| {
                writer
                    .wal_pages
                    .store(WAL_PAGES.get().max(0) as u64, Ordering::SeqCst);
                writer.committed.fetch_add(1, Ordering::SeqCst) + 1
            })
            .map_err(|e| e.to_string()),
    };
    if !conn.0.is_autocommit() {
        let _ = conn.0.execute_batch("ROLLBACK");
        if !conn.0.is_autocommit() {
            // Still inside a transaction: not fit for the next writer.
            state.conn = None;
        }
    }
    for w in group.waiting {
        let _ = w.send(outcome.clone());
    }
}

/// The group's search-term writes, each customer's last one only.
fn write_search(conn: &mut FastConn, search: &[(i64, Option<String>)]) -> rusqlite::Result<()> {
    if search.is_empty() {
        return Ok(());
    }
    let mut last = std::collections::HashMap::with_capacity(search.len());
    for (rid, terms) in search {
        last.insert(*rid, terms.as_deref());
    }
    let mut delete = conn.0.prepare_cached(SQLITE_SEARCH_DELETE)?;
    for rid in last.keys() {
        delete.execute([rid])?;
    }
    let mut insert = conn.0.prepare_cached(SQLITE_SEARCH_INSERT)?;
    for (rid, terms) in &last {
        if let Some(terms) = terms {
            insert.execute(rusqlite::params![rid, terms])?;
        }
    }
    Ok(())
}

/// A request's write transaction (see [`crate::db::Tx::Fast`]): a SAVEPOINT
/// of the open group. Dropped without [`FastTx::commit`], it rolls back its
/// own statements.
pub struct FastTx {
    writer: Arc<Writer>,
    /// Held from begin to commit or drop.
    state: Option<OwnedMutexGuard<State>>,
    /// The SAVEPOINT is open (not yet released or rolled back).
    savepoint: bool,
    /// Search-term writes, handed to the group at commit.
    search: Vec<(i64, Option<String>)>,
}

impl FastTx {
    pub fn conn(&mut self) -> &mut FastConn {
        self.state
            .as_mut()
            .and_then(|s| s.conn.as_mut())
            .expect("held until commit or drop")
    }

    /// Replaces customer `rid`'s search terms (`None`: removes them) when
    /// the group commits, if this transaction commits.
    pub fn search(&mut self, rid: i64, terms: Option<&str>) {
        self.search.push((rid, terms.map(str::to_string)));
    }

    /// Releases the savepoint and returns once the group holding it is
    /// committed (or fails with the group's COMMIT).
    pub async fn commit(mut self) -> Result<(), StoreError> {
        self.conn().0.execute_batch("RELEASE request")?;
        self.savepoint = false;
        let (send, outcome) = oneshot::channel();
        let mut state = self.state.take().expect("held until commit or drop");
        let group = state.group.as_mut().expect("a member's group is open");
        group.search.append(&mut self.search);
        group.waiting.push(send);
        group.waiting_since.get_or_insert_with(Instant::now);
        self.writer.pass_on(state);
        let group = outcome
            .await
            .map_err(|_| StoreError::Other("the write group ended without a result".into()))?
            .map_err(|e| StoreError::Other(format!("commit: {e}")))?;
        self.writer.durable(group).await
    }
}

impl Drop for FastTx {
    fn drop(&mut self) {
        let Some(mut state) = self.state.take() else {
            return;
        };
        if self.savepoint {
            let undone = match state.conn.as_mut() {
                Some(c) => {
                    c.0.execute_batch("ROLLBACK TO request; RELEASE request")
                        .map_err(|e| e.to_string())
                }
                None => Err("no connection".to_string()),
            };
            if let Err(e) = undone {
                // This member's statements cannot be undone alone: the
                // group is not kept.
                finish(
                    &self.writer,
                    &mut state,
                    Some(format!("rolling back a request: {e}")),
                );
                return;
            }
        }
        self.writer.pass_on(state);
    }
}
