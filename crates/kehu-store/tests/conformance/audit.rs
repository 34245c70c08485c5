//! The hash-chained audit log.

use std::sync::{Arc, Mutex};

use kehu_store::Backend;
use kehu_store::audit::{self, AuditFilter, AuditRow};

use crate::both;
use crate::support::*;

fn row(tenant_id: &str, at: i64, action: &str, object_id: Option<&str>) -> AuditRow {
    AuditRow {
        tenant_id: tenant_id.into(),
        seq: 0,
        at,
        actor_id: Some("actor-1".into()),
        actor_login: Some("admin".into()),
        ip: Some("192.0.2.1".into()),
        action: action.into(),
        object_type: "customer".into(),
        object_id: object_id.map(str::to_string),
        detail: format!(r#"{{"n":{at}}}"#),
        mac: Vec::new(),
    }
}

/// Recomputes the whole chain from the all-zero genesis MAC.
async fn verify_chain(ctx: &Ctx, tenant_id: &str) -> Vec<AuditRow> {
    let mut rows = Vec::new();
    let mut after = 0;
    loop {
        let mut r = ctx.store.reader().await.unwrap();
        let page = audit::chain_page(&mut r.conn(), tenant_id, after, 7)
            .await
            .unwrap();
        let Some(last) = page.last() else { break };
        after = last.seq;
        rows.extend(page);
    }
    let mut prev = vec![0u8; 32];
    for (i, r) in rows.iter().enumerate() {
        assert_eq!(r.seq, i as i64 + 1, "gapless seq");
        assert_eq!(
            r.mac,
            fake_mac(&r.chained_bytes(&prev)).to_vec(),
            "mac of seq {}",
            r.seq
        );
        prev = r.mac.clone();
    }
    let mut r = ctx.store.reader().await.unwrap();
    let head = audit::head(&mut r.conn(), tenant_id).await.unwrap();
    assert_eq!(head, (rows.len() as i64, prev), "head matches the last row");
    rows
}

async fn audit_chain(b: Backend) {
    let ctx = Ctx::new(b).await;
    let t = ctx.tenant_id.clone();
    let mut prev = vec![0u8; 32];
    let mut written = Vec::new();
    for i in 1..=6i64 {
        let mut r = row(
            &t,
            100 * i,
            if i % 2 == 0 { "update" } else { "create" },
            Some("c1"),
        );
        if i == 3 {
            // Optional fields absent.
            r.actor_id = None;
            r.actor_login = None;
            r.ip = None;
            r.object_id = None;
        }
        let seen = Arc::new(Mutex::new(Vec::new()));
        let seen2 = seen.clone();
        let mut tx = ctx.store.begin().await.unwrap();
        audit::append(&mut tx, &mut r, move |bytes| {
            *seen2.lock().unwrap() = bytes.to_vec();
            fake_mac(bytes)
        })
        .await
        .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(r.seq, i);
        let seen = seen.lock().unwrap().clone();
        assert_eq!(
            seen,
            r.chained_bytes(&prev),
            "MAC input is chained_bytes(prev_mac)"
        );
        assert_eq!(r.mac, fake_mac(&seen).to_vec());
        prev = r.mac.clone();
        written.push(r);
    }
    // A rolled-back append leaves no gap.
    let mut tx = ctx.store.begin().await.unwrap();
    let mut lost = row(&t, 650, "create", None);
    audit::append(&mut tx, &mut lost, fake_mac).await.unwrap();
    assert_eq!(lost.seq, 7);
    drop(tx);
    let mut r = row(&t, 700, "delete", Some("c2"));
    let mut tx = ctx.store.begin().await.unwrap();
    audit::append(&mut tx, &mut r, fake_mac).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(r.seq, 7);
    written.push(r);

    let stored = verify_chain(&ctx, &t).await;
    assert_eq!(stored, written, "rows round-trip");

    // Another tenant has its own chain from 1.
    let (other, _) = ctx.new_tenant().await;
    let mut o = row(&other, 1, "login", None);
    let mut tx = ctx.store.begin().await.unwrap();
    audit::append(&mut tx, &mut o, fake_mac).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(o.seq, 1);
    assert_eq!(verify_chain(&ctx, &other).await.len(), 1);
    assert_eq!(verify_chain(&ctx, &t).await.len(), 7);
    // An unknown tenant has no chain to append to.
    let mut tx = ctx.store.begin().await.unwrap();
    let err = audit::append(&mut tx, &mut row(&new_id(), 1, "x", None), fake_mac)
        .await
        .unwrap_err();
    assert!(matches!(err, kehu_store::StoreError::NotFound), "{err:?}");
    drop(tx);

    // Listing: newest first, filters, keyset by seq.
    let mut rd = ctx.store.reader().await.unwrap();
    let seqs = |rows: Vec<AuditRow>| rows.into_iter().map(|r| r.seq).collect::<Vec<_>>();
    let f = AuditFilter::default();
    assert_eq!(
        seqs(
            audit::list(&mut rd.conn(), &t, &f, None, 100)
                .await
                .unwrap()
        ),
        [7, 6, 5, 4, 3, 2, 1]
    );
    assert_eq!(
        seqs(
            audit::list(&mut rd.conn(), &t, &f, Some(5), 2)
                .await
                .unwrap()
        ),
        [4, 3]
    );
    let f = AuditFilter {
        action: Some("update".into()),
        ..Default::default()
    };
    assert_eq!(
        seqs(
            audit::list(&mut rd.conn(), &t, &f, None, 100)
                .await
                .unwrap()
        ),
        [6, 4, 2]
    );
    let f = AuditFilter {
        object_type: Some("customer".into()),
        object_id: Some("c1".into()),
        from: Some(200),
        to: Some(600),
        ..Default::default()
    };
    assert_eq!(
        seqs(
            audit::list(&mut rd.conn(), &t, &f, None, 100)
                .await
                .unwrap()
        ),
        [5, 4, 2]
    );
    let f = AuditFilter {
        actor_id: Some("actor-1".into()),
        ..Default::default()
    };
    assert_eq!(
        seqs(
            audit::list(&mut rd.conn(), &t, &f, None, 100)
                .await
                .unwrap()
        ),
        [7, 6, 5, 4, 2, 1]
    );
    drop(rd);
    ctx.close().await;
}
both!(audit_chain);

/// 8 tasks append concurrently, each row in its own transaction: the chain
/// stays gapless and every MAC covers the row before it.
async fn audit_concurrent_appends(b: Backend) {
    let ctx = Ctx::new(b).await;
    let t = ctx.tenant_id.clone();
    const TASKS: i64 = 8;
    const EACH: i64 = 12;
    let mut handles = Vec::new();
    for task in 0..TASKS {
        let store = ctx.store.clone();
        let t = t.clone();
        handles.push(tokio::spawn(async move {
            let mut seqs = Vec::new();
            for i in 0..EACH {
                let mut r = row(
                    &t,
                    task * 1000 + i,
                    "concurrent",
                    Some(&format!("task{task}")),
                );
                let mut tx = store.begin().await.unwrap();
                audit::append(&mut tx, &mut r, fake_mac).await.unwrap();
                tx.commit().await.unwrap();
                seqs.push(r.seq);
                tokio::task::yield_now().await;
            }
            seqs
        }));
    }
    let mut all = Vec::new();
    for h in handles {
        let seqs = h.await.unwrap();
        assert!(seqs.windows(2).all(|w| w[0] < w[1]));
        all.extend(seqs);
    }
    all.sort();
    assert_eq!(all, (1..=TASKS * EACH).collect::<Vec<_>>());
    let rows = verify_chain(&ctx, &t).await;
    assert_eq!(rows.len() as i64, TASKS * EACH);
    ctx.close().await;
}
both!(audit_concurrent_appends);
