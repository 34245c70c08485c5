//! Write transactions: the request kind (`begin`, on SQLite run on the
//! calling thread) and the bulk kind (`begin_bulk`, on sqlx's worker) commit,
//! roll back when dropped, exclude each other, and `try_begin` steps aside
//! while the write lock is taken.

use std::time::Duration;

use kehu_store::org;
use kehu_store::{Backend, DbUrl, OpenOptions, Store, StoreError, Tx, sql};

use crate::both;
use crate::support::*;

async fn tenant_names(store: &Store, tenant_id: &str) -> Option<String> {
    #[derive(sqlx::FromRow)]
    struct Name {
        name: String,
    }
    impl kehu_store::fast::FromFast for Name {
        fn from_fast(r: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
            Ok(Name { name: r.get(0)? })
        }
    }
    let mut r = store.reader().await.unwrap();
    r.conn()
        .opt::<Name>(sql!(
            "SELECT name FROM tenants WHERE tenant_id = $1",
            tenant_id
        ))
        .await
        .unwrap()
        .map(|n| n.name)
}

async fn rename(tx: &mut Tx, tenant_id: &str, name: &str) {
    let n = tx
        .exec(sql!(
            "UPDATE tenants SET name = $1 WHERE tenant_id = $2",
            name,
            tenant_id
        ))
        .await
        .unwrap();
    assert_eq!(n, 1, "one row changed");
}

/// A request transaction that has added tenant `id` (not yet committed).
async fn adding_tenant(store: Store, id: String) -> Tx {
    let mut tx = store.begin().await.unwrap();
    org::insert_tenant(&mut tx, &tenant_row(&id, &format!("g{}", unique())))
        .await
        .unwrap();
    tx
}

async fn commit_and_rollback(b: Backend) {
    let ctx = Ctx::new(b).await;
    let t = &ctx.tenant_id;
    for bulk in [false, true] {
        let begin = |s: &Store| {
            let s = s.clone();
            async move {
                if bulk {
                    s.begin_bulk().await.unwrap()
                } else {
                    s.begin().await.unwrap()
                }
            }
        };
        // Dropped without commit: nothing of it is left.
        let mut tx = begin(&ctx.store).await;
        rename(&mut tx, t, "丢弃").await;
        drop(tx);
        assert_eq!(
            tenant_names(&ctx.store, t).await.as_deref(),
            Some("测试公司")
        );
        // Committed: kept, and the connection serves the next transaction.
        let name = if bulk { "批量" } else { "请求" };
        let mut tx = begin(&ctx.store).await;
        rename(&mut tx, t, name).await;
        tx.commit().await.unwrap();
        assert_eq!(tenant_names(&ctx.store, t).await.as_deref(), Some(name));
        let mut tx = begin(&ctx.store).await;
        rename(&mut tx, t, "测试公司").await;
        tx.commit().await.unwrap();
    }
    // A unique rule broken inside a request transaction is named as such
    // (SQLite's synchronous path reports it in its own error type).
    let other = tenant_row(&new_id(), &ctx.slug);
    let mut tx = ctx.store.begin().await.unwrap();
    let err = org::insert_tenant(&mut tx, &other).await.unwrap_err();
    assert!(matches!(err, StoreError::Unique("tenant")), "{err:?}");
    drop(tx);
    ctx.close().await;
}
both!(commit_and_rollback);

async fn one_writer_at_a_time(b: Backend) {
    let ctx = Ctx::new(b).await;
    let t = ctx.tenant_id.clone();
    let mut first = ctx.store.begin().await.unwrap();
    rename(&mut first, &t, "第一").await;
    match b {
        // The write lock is taken: try_begin steps aside, a bulk transaction
        // waits for the first to finish.
        Backend::Sqlite => assert!(ctx.store.try_begin().await.unwrap().is_none()),
        // PostgreSQL has row locks, not one write lock.
        Backend::Postgres => drop(ctx.store.try_begin().await.unwrap().expect("a transaction")),
    }
    if b == Backend::Sqlite {
        let store = ctx.store.clone();
        let t2 = t.clone();
        let second = tokio::spawn(async move {
            let mut tx = store.begin_bulk().await.unwrap();
            let seen = tx
                .int(sql!(
                    "SELECT COUNT(*) FROM tenants WHERE tenant_id = $1 AND name = $2",
                    &t2,
                    "第一"
                ))
                .await
                .unwrap();
            rename(&mut tx, &t2, "第二").await;
            tx.commit().await.unwrap();
            seen
        });
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(!second.is_finished(), "the bulk transaction waited");
        first.commit().await.unwrap();
        // It began after the first committed, so it saw the first's write.
        assert_eq!(second.await.unwrap(), Some(1));
        assert_eq!(tenant_names(&ctx.store, &t).await.as_deref(), Some("第二"));
        // Free again once sqlx has taken its connection back (it does so
        // in a task of its own).
        let mut again = None;
        for _ in 0..100 {
            again = ctx.store.try_begin().await.unwrap();
            if again.is_some() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(again.is_some(), "try_begin after the write lock came back");
        drop(again);
        // The other way round: while a bulk transaction is open, try_begin
        // steps aside and a request transaction waits for it.
        let mut bulk = ctx.store.begin_bulk().await.unwrap();
        rename(&mut bulk, &t, "第三").await;
        assert!(ctx.store.try_begin().await.unwrap().is_none());
        let store = ctx.store.clone();
        let t3 = t.clone();
        let request = tokio::spawn(async move {
            let mut tx = store.begin().await.unwrap();
            tx.int(sql!(
                "SELECT COUNT(*) FROM tenants WHERE tenant_id = $1 AND name = $2",
                &t3,
                "第三"
            ))
            .await
            .unwrap()
        });
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(!request.is_finished(), "the request transaction waited");
        bulk.commit().await.unwrap();
        assert_eq!(request.await.unwrap(), Some(1));
    } else {
        first.commit().await.unwrap();
    }
    ctx.close().await;
}
both!(one_writer_at_a_time);

/// Two processes on one SQLite file (two stores, as `kehu serve` and `kehu
/// classify` would be), on a one-thread runtime: the second waits for the
/// first's transaction without blocking the thread the first needs to
/// finish it.
#[tokio::test(flavor = "current_thread")]
async fn a_second_process_waits_without_blocking_the_thread() {
    let ctx = Ctx::new(Backend::Sqlite).await;
    let url = DbUrl::Sqlite(ctx.dir.path().join("kehu.db"));
    let other = Store::open(&url, OpenOptions::default()).await.unwrap();
    let t = ctx.tenant_id.clone();
    let mut first = ctx.store.begin().await.unwrap();
    rename(&mut first, &t, "进程一").await;
    // The other process's try_begin steps aside at once, without waiting
    // for the lock it cannot have.
    let asked = std::time::Instant::now();
    assert!(other.try_begin().await.unwrap().is_none());
    assert!(
        asked.elapsed() < Duration::from_secs(1),
        "{:?}",
        asked.elapsed()
    );
    let (t2, other2) = (t.clone(), other.clone());
    let second = tokio::spawn(async move {
        let mut tx = other2.begin().await.unwrap();
        rename(&mut tx, &t2, "进程二").await;
        tx.commit().await.unwrap();
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(!second.is_finished());
    first.commit().await.unwrap();
    tokio::time::timeout(Duration::from_secs(5), second)
        .await
        .expect("the second process's transaction went on once the first committed")
        .unwrap();
    assert_eq!(
        tenant_names(&ctx.store, &t).await.as_deref(),
        Some("进程二")
    );
    other.close().await;
    ctx.close().await;
}

/// SQLite groups consecutive request writes into one transaction: a member
/// that fails undoes only its own statements, the others are committed
/// together, once, and each commit returns only after the WAL sync that
/// covers it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_writes_commit_in_groups() {
    let ctx = Ctx::new(Backend::Sqlite).await;
    let store = ctx.store.clone();
    let ids: Vec<String> = (0..3).map(|_| new_id()).collect();
    let (before, _) = store.write_groups().unwrap();
    // The first holds the writer while the other two queue behind it.
    let first = adding_tenant(store.clone(), ids[0].clone()).await;
    // Dropped without commit as soon as it has written: its savepoint
    // rolls back (and the group goes on at once: a group waiting longer
    // than 20 ms is committed before the next member joins).
    let failing = tokio::spawn({
        let (store, id) = (store.clone(), ids[1].clone());
        async move { drop(adding_tenant(store, id).await) }
    });
    tokio::time::sleep(Duration::from_millis(50)).await;
    let second = tokio::spawn({
        let (store, id) = (store.clone(), ids[2].clone());
        async move {
            let tx = adding_tenant(store, id).await;
            tx.commit().await.unwrap();
        }
    });
    tokio::time::sleep(Duration::from_millis(50)).await;
    // With others queued the first hands the open transaction on; its
    // commit returns once the group is committed and synced.
    let first_done = tokio::spawn(async move { first.commit().await.unwrap() });
    failing.await.unwrap();
    second.await.unwrap();
    first_done.await.unwrap();
    let (after, synced) = store.write_groups().unwrap();
    assert_eq!(after - before, 1, "one COMMIT for the two members");
    assert!(synced >= after, "synced {synced} < committed {after}");
    let kept = |id: String| {
        let store = store.clone();
        async move {
            let mut r = store.reader().await.unwrap();
            r.conn()
                .int(sql!(
                    "SELECT COUNT(*) FROM tenants WHERE tenant_id = $1",
                    &id
                ))
                .await
                .unwrap()
        }
    };
    assert_eq!(kept(ids[0].clone()).await, Some(1));
    assert_eq!(
        kept(ids[1].clone()).await,
        Some(0),
        "the failed member left nothing"
    );
    assert_eq!(kept(ids[2].clone()).await, Some(1));
    // A lone writer commits at once (no one queued to hand on to).
    let tx = adding_tenant(store.clone(), new_id()).await;
    tx.commit().await.unwrap();
    let (last, synced) = store.write_groups().unwrap();
    assert_eq!(last, after + 1);
    assert!(synced >= last);
    ctx.close().await;
}

/// A transaction begun alone (a classification run's chunk) does not join
/// the request writes' open group: the group the request before it handed
/// on is committed first, so that request's write is committed before the
/// chunk does anything, and a group of its own holds the chunk. (A plain
/// `begin` queued the same way joins the group: the request's write is
/// committed only with it.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transaction_begun_alone_starts_its_own_group() {
    let ctx = Ctx::new(Backend::Sqlite).await;
    let store = ctx.store.clone();
    let (request, chunk) = (new_id(), new_id());
    let (before, _) = store.write_groups().unwrap();
    let first = adding_tenant(store.clone(), request.clone()).await;
    let alone = tokio::spawn({
        let store = store.clone();
        let (request, chunk) = (request.clone(), chunk.clone());
        async move {
            let mut tx = store.begin_alone().await.unwrap();
            let mut r = store.reader().await.unwrap();
            let seen = r
                .conn()
                .int(sql!(
                    "SELECT COUNT(*) FROM tenants WHERE tenant_id = $1",
                    &request
                ))
                .await
                .unwrap();
            drop(r);
            kehu_store::org::insert_tenant(&mut tx, &tenant_row(&chunk, &chunk))
                .await
                .unwrap();
            tx.commit().await.unwrap();
            seen
        }
    });
    // The chunk queues behind the request, which then hands the group on.
    tokio::time::sleep(Duration::from_millis(50)).await;
    first.commit().await.unwrap();
    assert_eq!(
        alone.await.unwrap(),
        Some(1),
        "the request's write was committed before the chunk began"
    );
    let (after, synced) = store.write_groups().unwrap();
    assert_eq!(after - before, 2, "a group each");
    assert!(synced >= after);
    ctx.close().await;
}

/// The WAL that request writes sync is the one SQLite writes, also when the
/// database is opened through a symlink; and once the WAL has grown past
/// 1,000 pages it is checkpointed into the database file (the request
/// writer's own automatic checkpoint is off), and started over: under
/// steady writes the WAL file stays near that size (a checkpoint that
/// never reached the WAL's end would let it grow with every write).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_writes_sync_the_real_wal_and_checkpoint_it() {
    let ctx = Ctx::new(Backend::Sqlite).await;
    let real = ctx.dir.path().join("kehu.db");
    let link = ctx.dir.path().join("link.db");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let store = Store::open(&DbUrl::Sqlite(link), OpenOptions::default())
        .await
        .unwrap();
    let before = std::fs::metadata(&real).unwrap().len();
    // 1,500 transactions of 16 KiB each: about 6,000 WAL pages, six times
    // the checkpoint threshold.
    let big = "客".repeat(16 * 1024 / 3);
    for _ in 0..1_500 {
        let mut t = tenant_row(&new_id(), &format!("w{}", unique()));
        t.name = big.clone();
        let mut tx = store.begin().await.unwrap();
        org::insert_tenant(&mut tx, &t).await.unwrap();
        tx.commit().await.unwrap();
    }
    let (committed, synced) = store.write_groups().unwrap();
    assert!(
        committed >= 1_500 && synced >= committed,
        "{committed} {synced}"
    );
    let mut grown = false;
    for _ in 0..200 {
        if std::fs::metadata(&real).unwrap().len() > before + 2 * 1024 * 1024 {
            grown = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(grown, "the WAL was checkpointed into the database file");
    let wal = std::fs::metadata(ctx.dir.path().join("kehu.db-wal"))
        .unwrap()
        .len();
    assert!(
        wal < 12 * 1024 * 1024,
        "the WAL restarts after checkpoints: {wal} bytes"
    );
    store.close().await;
    ctx.close().await;
}

/// A member that holds the writer long (a slow await inside its
/// transaction) delays the members before it only by its own time: the
/// next request commits the waiting group before joining, instead of
/// adding its time too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_member_does_not_hold_back_the_next_groups() {
    let ctx = Ctx::new(Backend::Sqlite).await;
    let store = ctx.store.clone();
    let insert = |store: Store| adding_tenant(store, new_id());
    let (before, _) = store.write_groups().unwrap();
    let first = insert(store.clone()).await;
    let slow = tokio::spawn({
        let store = store.clone();
        async move {
            let tx = insert(store).await;
            tokio::time::sleep(Duration::from_millis(80)).await;
            tx.commit().await.unwrap();
        }
    });
    tokio::time::sleep(Duration::from_millis(20)).await;
    let first_done = tokio::spawn(async move { first.commit().await.unwrap() });
    // Queued before the handed-on group's timer would queue (20 ms), so it
    // is the last member, not the timer, that finds the group waiting.
    tokio::time::sleep(Duration::from_millis(5)).await;
    let last = tokio::spawn({
        let store = store.clone();
        async move { insert(store).await.commit().await.unwrap() }
    });
    for t in [slow, first_done, last] {
        t.await.unwrap();
    }
    let (after, _) = store.write_groups().unwrap();
    assert_eq!(
        after - before,
        2,
        "the first and the slow member together, the last on its own"
    );
    ctx.close().await;
}

/// Behind a long bulk transaction, every queued request write gives up
/// after the wait bound, each counted from its own start (not one after
/// another, each waiting for the lock in turn).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queued_request_writes_give_up_together() {
    let ctx = Ctx::new(Backend::Sqlite).await;
    ctx.store.set_write_wait(Duration::from_millis(300));
    let bulk = ctx.store.begin_bulk().await.unwrap();
    let started = std::time::Instant::now();
    let waiters: Vec<_> = (0..3)
        .map(|_| {
            let store = ctx.store.clone();
            tokio::spawn(async move { store.begin().await.err().map(|e| e.to_string()) })
        })
        .collect();
    for w in waiters {
        let err = w
            .await
            .unwrap()
            .expect("no lock while the bulk write holds it");
        assert!(err.contains("write lock"), "{err}");
    }
    let took = started.elapsed();
    assert!(took < Duration::from_millis(800), "{took:?}");
    drop(bulk);
    // Once the bulk transaction is gone, request writes go on.
    ctx.store.set_write_wait(Duration::from_secs(10));
    let tx = ctx.store.begin().await.unwrap();
    tx.commit().await.unwrap();
    ctx.close().await;
}
