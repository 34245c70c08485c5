//! Sessions, API tokens and login throttling.

use kehu_store::org::{self, ApiTokenRow, SessionRow, ThrottleRow};
use kehu_store::{Backend, StoreError};

use crate::both;
use crate::support::*;

async fn sessions_insert_touch_purge(b: Backend) {
    let ctx = Ctx::new(b).await;
    let t = ctx.tenant_id.clone();
    let (u1, u2) = (new_id(), new_id());
    // Sessions are global (keyed by token hash), and purge is global: keep
    // this test's times far in the past of anything else, and far apart.
    let base = 1_000_000;
    let session = |user: &str, n: u8, created: i64| SessionRow {
        token_hash: fake_mac(format!("{t}-{n}").as_bytes()).to_vec(),
        tenant_id: t.clone(),
        user_id: user.into(),
        csrf_token: format!("csrf{n}"),
        ip: "198.51.100.7".into(),
        created_at: base + created,
        last_seen_at: base + created,
    };
    let s1 = session(&u1, 1, 0);
    let s2 = session(&u1, 2, 10);
    let s3 = session(&u2, 3, 20);
    let s4 = session(&u2, 4, 30);
    let mut tx = ctx.store.begin().await.unwrap();
    for s in [&s1, &s2, &s3, &s4] {
        org::insert_session(&mut tx, s).await.unwrap();
    }
    tx.commit().await.unwrap();
    // A token hash is unique.
    let mut tx = ctx.store.begin().await.unwrap();
    let err = org::insert_session(&mut tx, &s1).await.unwrap_err();
    assert!(err.is_unique_violation(), "{err:?}");
    drop(tx);

    let mut r = ctx.store.reader().await.unwrap();
    let got = org::session(&mut r.conn(), &s2.token_hash)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            got.tenant_id.as_str(),
            got.user_id.as_str(),
            got.csrf_token.as_str(),
            got.ip.as_str()
        ),
        (t.as_str(), u1.as_str(), "csrf2", "198.51.100.7")
    );
    assert_eq!((got.created_at, got.last_seen_at), (base + 10, base + 10));
    assert!(
        org::session(&mut r.conn(), &[0u8; 32])
            .await
            .unwrap()
            .is_none()
    );
    drop(r);

    // Touch moves last_seen only.
    let mut tx = ctx.store.begin().await.unwrap();
    org::touch_session(&mut tx, &s1.token_hash, base + 500)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let mut r = ctx.store.reader().await.unwrap();
    let got = org::session(&mut r.conn(), &s1.token_hash)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((got.created_at, got.last_seen_at), (base, base + 500));
    drop(r);

    // Purge: idle since before base+25 (s2, s3; s1 was touched) or created
    // before base+5 (s1). s4 stays.
    let mut tx = ctx.store.begin().await.unwrap();
    let n = org::purge_sessions(&mut tx, base + 25, base + 5)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(n, 3);
    let mut r = ctx.store.reader().await.unwrap();
    for (s, alive) in [(&s1, false), (&s2, false), (&s3, false), (&s4, true)] {
        assert_eq!(
            org::session(&mut r.conn(), &s.token_hash)
                .await
                .unwrap()
                .is_some(),
            alive,
            "{}",
            s.csrf_token
        );
    }
    drop(r);

    // Delete one, then all of a user's.
    let s5 = session(&u2, 5, 40);
    let s6 = session(&u1, 6, 40);
    let mut tx = ctx.store.begin().await.unwrap();
    org::insert_session(&mut tx, &s5).await.unwrap();
    org::insert_session(&mut tx, &s6).await.unwrap();
    org::delete_session(&mut tx, &s6.token_hash).await.unwrap();
    org::delete_user_sessions(&mut tx, &t, &u2).await.unwrap();
    tx.commit().await.unwrap();
    let mut r = ctx.store.reader().await.unwrap();
    for s in [&s4, &s5, &s6] {
        assert!(
            org::session(&mut r.conn(), &s.token_hash)
                .await
                .unwrap()
                .is_none()
        );
    }
    drop(r);
    ctx.close().await;
}
both!(sessions_insert_touch_purge);

async fn api_tokens(b: Backend) {
    let ctx = Ctx::new(b).await;
    let t = ctx.tenant_id.clone();
    let user = new_id();
    let token = |name: &str, at: i64| ApiTokenRow {
        tenant_id: t.clone(),
        id: new_id(),
        user_id: user.clone(),
        name: name.into(),
        token_hash: fake_mac(format!("{t}-{name}").as_bytes()).to_vec(),
        created_at: at,
        last_used_at: None,
        revoked_at: None,
    };
    let k1 = token("ci", 1);
    let k2 = token("backup", 2);
    let mut tx = ctx.store.begin().await.unwrap();
    org::insert_token(&mut tx, &k1).await.unwrap();
    org::insert_token(&mut tx, &k2).await.unwrap();
    tx.commit().await.unwrap();
    let mut tx = ctx.store.begin().await.unwrap();
    let err = org::insert_token(
        &mut tx,
        &ApiTokenRow {
            id: new_id(),
            ..k1.clone()
        },
    )
    .await
    .unwrap_err();
    assert!(err.is_unique_violation(), "{err:?}");
    drop(tx);

    let mut tx = ctx.store.begin().await.unwrap();
    org::touch_token(&mut tx, &k1.token_hash, 50).await.unwrap();
    org::revoke_token(&mut tx, &t, &user, &k2.id, 60)
        .await
        .unwrap();
    let err = org::revoke_token(&mut tx, &t, &user, &k2.id, 61)
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::NotFound),
        "revoked twice: {err:?}"
    );
    let err = org::revoke_token(&mut tx, &t, &new_id(), &k1.id, 61)
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::NotFound),
        "someone else's: {err:?}"
    );
    tx.commit().await.unwrap();

    let mut r = ctx.store.reader().await.unwrap();
    let got = org::token_by_hash(&mut r.conn(), &k1.token_hash)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (got.id.as_str(), got.last_used_at, got.revoked_at),
        (k1.id.as_str(), Some(50), None)
    );
    let listed = org::list_tokens(&mut r.conn(), &t, &user).await.unwrap();
    assert_eq!(
        listed
            .iter()
            .map(|k| (k.name.as_str(), k.revoked_at))
            .collect::<Vec<_>>(),
        [("ci", None), ("backup", Some(60))]
    );
    assert!(
        org::list_tokens(&mut r.conn(), &t, &new_id())
            .await
            .unwrap()
            .is_empty()
    );
    drop(r);
    ctx.close().await;
}
both!(api_tokens);

async fn login_throttle(b: Backend) {
    let ctx = Ctx::new(b).await;
    let t = ctx.tenant_id.clone();
    let ip_key = format!("ip:{}", unique());
    let mut r = ctx.store.reader().await.unwrap();
    assert!(
        org::throttle(&mut r.conn(), &t, "login:zhangsan")
            .await
            .unwrap()
            .is_none()
    );
    drop(r);
    let mut tx = ctx.store.begin().await.unwrap();
    let t1 = ThrottleRow {
        failures: 1,
        window_start: 100,
        locked_until: 0,
    };
    org::put_throttle(&mut tx, &t, "login:zhangsan", &t1)
        .await
        .unwrap();
    // IP keys live under tenant '*'.
    org::put_throttle(&mut tx, "*", &ip_key, &t1).await.unwrap();
    // Upsert.
    let t2 = ThrottleRow {
        failures: 5,
        window_start: 100,
        locked_until: 900,
    };
    org::put_throttle(&mut tx, &t, "login:zhangsan", &t2)
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let mut r = ctx.store.reader().await.unwrap();
    let got = org::throttle(&mut r.conn(), &t, "login:zhangsan")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (got.failures, got.window_start, got.locked_until),
        (5, 100, 900)
    );
    let ip = org::throttle(&mut r.conn(), "*", &ip_key)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((ip.failures, ip.locked_until), (1, 0));
    // The same key in another tenant is separate.
    let (other, _) = ctx.new_tenant().await;
    assert!(
        org::throttle(&mut r.conn(), &other, "login:zhangsan")
            .await
            .unwrap()
            .is_none()
    );
    drop(r);

    let mut tx = ctx.store.begin().await.unwrap();
    org::clear_throttle(&mut tx, &t, "login:zhangsan")
        .await
        .unwrap();
    // Clearing what is not there is fine.
    org::clear_throttle(&mut tx, &t, "login:zhangsan")
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let mut r = ctx.store.reader().await.unwrap();
    assert!(
        org::throttle(&mut r.conn(), &t, "login:zhangsan")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        org::throttle(&mut r.conn(), "*", &ip_key)
            .await
            .unwrap()
            .is_some()
    );
    drop(r);
    ctx.close().await;
}
both!(login_throttle);
