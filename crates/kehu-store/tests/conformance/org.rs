//! Migrations, tenants, departments, roles, users and code sequences.

use std::collections::BTreeSet;
use std::time::Duration;

use kehu_domain::access::DataScope;
use kehu_store::org::{self, RoleRow};
use kehu_store::{Backend, StoreError, sql};

use crate::both;
use crate::support::*;

async fn migrations_are_idempotent(b: Backend) {
    let ctx = Ctx::new(b).await;
    // Already migrated once by the harness: twice more changes nothing.
    ctx.store.migrate().await.expect("second migrate");
    ctx.store.migrate().await.expect("third migrate");
    let mut r = ctx.store.reader().await.unwrap();
    let applied = r
        .conn()
        .int(sql!("SELECT COUNT(*) FROM _sqlx_migrations"))
        .await
        .unwrap();
    let files = std::fs::read_dir(migrations_dir(b)).unwrap().count() as i64;
    assert_eq!(applied, Some(files), "each migration recorded once");
    // The data written before the re-runs is still there.
    let t = org::tenant_by_slug(&mut r.conn(), &ctx.slug)
        .await
        .unwrap()
        .expect("tenant survives re-migration");
    assert_eq!(t.tenant_id, ctx.tenant_id);
    assert!(ctx.store.ping().await);
    drop(r);
    ctx.close().await;
}
both!(migrations_are_idempotent);

async fn tenants_by_slug_and_unique(b: Backend) {
    let ctx = Ctx::new(b).await;
    let id = new_id();
    let slug = format!("acme{}", unique());
    let t = tenant_row(&id, &slug);
    let mut tx = ctx.store.begin().await.unwrap();
    org::insert_tenant(&mut tx, &t).await.unwrap();
    tx.commit().await.unwrap();

    let mut r = ctx.store.reader().await.unwrap();
    let got = org::tenant_by_slug(&mut r.conn(), &slug)
        .await
        .unwrap()
        .expect("by slug");
    assert_eq!(got.tenant_id, id);
    assert_eq!(got.name, "测试公司");
    assert_eq!(got.wrapped_keys, vec![7u8; 48]);
    assert_eq!(got.code_pattern, t.code_pattern);
    assert_eq!(got.version, 1);
    assert_eq!(
        (got.created_at, got.updated_at),
        (t.created_at, t.created_at)
    );
    let by_id = org::tenant_by_id(&mut r.conn(), &id)
        .await
        .unwrap()
        .expect("by id");
    assert_eq!(by_id.slug, slug);
    assert!(
        org::tenant_by_slug(&mut r.conn(), "no-such-tenant")
            .await
            .unwrap()
            .is_none()
    );
    let all = org::list_tenants(&mut r.conn()).await.unwrap();
    assert!(all.iter().any(|t| t.slug == slug));
    assert!(all.iter().any(|t| t.slug == ctx.slug));
    assert!(
        all.windows(2).all(|w| w[0].slug < w[1].slug),
        "ordered by slug"
    );
    // A new tenant's audit chain starts at 0 with an all-zero MAC.
    let head = kehu_store::audit::head(&mut r.conn(), &id).await.unwrap();
    assert_eq!(head, (0, vec![0u8; 32]));
    drop(r);

    // Same slug, other id: refused and named.
    let mut tx = ctx.store.begin().await.unwrap();
    let err = org::insert_tenant(&mut tx, &tenant_row(&new_id(), &slug))
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Unique("tenant")),
        "duplicate slug: {err:?}"
    );
    drop(tx);
    // Same id, other slug: refused too.
    let mut tx = ctx.store.begin().await.unwrap();
    let err = org::insert_tenant(&mut tx, &tenant_row(&id, &format!("x{}", unique())))
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Unique("tenant")),
        "duplicate id: {err:?}"
    );
    drop(tx);

    // Code pattern: optimistic version.
    let mut tx = ctx.store.begin().await.unwrap();
    let v = org::update_code_pattern(&mut tx, &id, "K{seq:6}", "never", 1, 5)
        .await
        .unwrap();
    assert_eq!(v, 2);
    let err = org::update_code_pattern(&mut tx, &id, "K{seq:7}", "never", 1, 6)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::VersionConflict), "{err:?}");
    tx.commit().await.unwrap();
    let mut r = ctx.store.reader().await.unwrap();
    let got = org::tenant_by_id(&mut r.conn(), &id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (got.code_pattern.as_str(), got.code_reset.as_str()),
        ("K{seq:6}", "never")
    );
    assert_eq!((got.version, got.updated_at), (2, 5));
    drop(r);
    ctx.close().await;
}
both!(tenants_by_slug_and_unique);

async fn departments_tree_paths_and_moves(b: Backend) {
    let ctx = Ctx::new(b).await;
    let t = ctx.tenant_id.clone();
    let a = ctx.department(&t, None, "销售部").await;
    let b_ = ctx.department(&t, Some(&a.id), "华东区").await;
    let c = ctx.department(&t, Some(&b_.id), "上海").await;
    let d = ctx.department(&t, None, "客服部").await;
    assert_eq!(a.path, format!("/{}/", a.id));
    assert_eq!(b_.path, format!("/{}/{}/", a.id, b_.id));
    assert_eq!(c.path, format!("/{}/{}/{}/", a.id, b_.id, c.id));
    assert_eq!(d.path, format!("/{}/", d.id));

    let mut r = ctx.store.reader().await.unwrap();
    let listed = org::list_departments(&mut r.conn(), &t).await.unwrap();
    assert_eq!(listed.len(), 4);
    assert!(listed.windows(2).all(|w| w[0].path < w[1].path));
    let by_name = org::department_by_name(&mut r.conn(), &t, "上海")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(by_name.id, c.id);
    assert_eq!(by_name.parent_id.as_deref(), Some(b_.id.as_str()));
    drop(r);

    // Unknown parent.
    let mut tx = ctx.store.begin().await.unwrap();
    let err = org::insert_department(&mut tx, &t, &new_id(), Some("nope"), "x", 1)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound), "{err:?}");
    drop(tx);
    // Sibling names are unique under one parent (roots included) …
    let mut tx = ctx.store.begin().await.unwrap();
    let err = org::insert_department(&mut tx, &t, &new_id(), Some(&a.id), "华东区", 1)
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Unique("department_name")),
        "{err:?}"
    );
    drop(tx);
    let mut tx = ctx.store.begin().await.unwrap();
    let err = org::insert_department(&mut tx, &t, &new_id(), None, "客服部", 1)
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Unique("department_name")),
        "{err:?}"
    );
    drop(tx);
    // … but the same name under another parent is fine.
    let dup = ctx.department(&t, Some(&d.id), "上海").await;

    // Rename in place (same parent): path unchanged, version bumped.
    let mut tx = ctx.store.begin().await.unwrap();
    let renamed = org::update_department(&mut tx, &t, &b_.id, "华东大区", Some(&a.id), 1, 10)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(renamed.name, "华东大区");
    assert_eq!(renamed.path, b_.path);
    assert_eq!((renamed.version, renamed.updated_at), (2, 10));

    // Stale version.
    let mut tx = ctx.store.begin().await.unwrap();
    let err = org::update_department(&mut tx, &t, &b_.id, "x", Some(&a.id), 1, 11)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::VersionConflict), "{err:?}");
    drop(tx);

    // Cycles: under itself, under its child, under its grandchild.
    for (target, parent) in [(&a, &a), (&a, &b_), (&a, &c), (&b_, &c)] {
        let version = if target.id == b_.id { 2 } else { 1 };
        let mut tx = ctx.store.begin().await.unwrap();
        let err = org::update_department(
            &mut tx,
            &t,
            &target.id,
            &target.name,
            Some(&parent.id),
            version,
            12,
        )
        .await
        .unwrap_err();
        assert!(
            matches!(err, StoreError::Unique("department_cycle")),
            "{} under {}: {err:?}",
            target.name,
            parent.name
        );
        drop(tx);
    }

    // Move the subtree 华东大区 (with child 上海) under 客服部.
    let mut tx = ctx.store.begin().await.unwrap();
    let moved = org::update_department(&mut tx, &t, &b_.id, "华东大区", Some(&d.id), 2, 13).await;
    // The move rewrites every descendant's path, on both backends.
    let moved = moved.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(moved.path, format!("/{}/{}/", d.id, b_.id));
    assert_eq!(moved.parent_id.as_deref(), Some(d.id.as_str()));
    assert_eq!(moved.version, 3);
    let mut r = ctx.store.reader().await.unwrap();
    let c2 = org::department(&mut r.conn(), &t, &c.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(c2.path, format!("/{}/{}/{}/", d.id, b_.id, c.id));
    assert_eq!(c2.parent_id.as_deref(), Some(b_.id.as_str()));
    // Unrelated departments keep their paths.
    let a2 = org::department(&mut r.conn(), &t, &a.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(a2.path, a.path);
    let dup2 = org::department(&mut r.conn(), &t, &dup.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(dup2.path, dup.path);
    drop(r);
    // And back to the root: paths follow again.
    let mut tx = ctx.store.begin().await.unwrap();
    let back = org::update_department(&mut tx, &t, &b_.id, "华东大区", None, 3, 14)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(back.path, format!("/{}/", b_.id));
    let mut r = ctx.store.reader().await.unwrap();
    let c3 = org::department(&mut r.conn(), &t, &c.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(c3.path, format!("/{}/{}/", b_.id, c.id));
    drop(r);

    // Delete: not while it has a sub-department or a user.
    let mut r = ctx.store.reader().await.unwrap();
    let bv = org::department(&mut r.conn(), &t, &b_.id)
        .await
        .unwrap()
        .unwrap()
        .version;
    drop(r);
    let mut tx = ctx.store.begin().await.unwrap();
    let err = org::delete_department(&mut tx, &t, &b_.id, bv)
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Unique("department_not_empty")),
        "{err:?}"
    );
    drop(tx);
    let user = ctx
        .user(&t, &format!("u{}", unique()), Some(&c.id), None)
        .await;
    let mut tx = ctx.store.begin().await.unwrap();
    let err = org::delete_department(&mut tx, &t, &c.id, 1)
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Unique("department_not_empty")),
        "with a user: {err:?}"
    );
    drop(tx);
    // Move the user out; then stale version, then delete.
    let mut r = ctx.store.reader().await.unwrap();
    let mut u = org::user(&mut r.conn(), &t, &user).await.unwrap().unwrap();
    drop(r);
    u.department_id = None;
    let mut tx = ctx.store.begin().await.unwrap();
    org::update_user(&mut tx, &u, 20).await.unwrap();
    let err = org::delete_department(&mut tx, &t, &c.id, 7)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::VersionConflict), "{err:?}");
    org::delete_department(&mut tx, &t, &c.id, 1).await.unwrap();
    tx.commit().await.unwrap();
    let mut r = ctx.store.reader().await.unwrap();
    assert!(
        org::department(&mut r.conn(), &t, &c.id)
            .await
            .unwrap()
            .is_none()
    );
    drop(r);
    // Now empty, its parent goes too.
    let mut tx = ctx.store.begin().await.unwrap();
    org::delete_department(&mut tx, &t, &b_.id, bv)
        .await
        .unwrap();
    let err = org::delete_department(&mut tx, &t, &b_.id, bv)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound), "{err:?}");
    tx.commit().await.unwrap();

    // Another tenant sees none of this.
    let (other, _) = ctx.new_tenant().await;
    let mut r = ctx.store.reader().await.unwrap();
    assert!(
        org::list_departments(&mut r.conn(), &other)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        org::department(&mut r.conn(), &other, &a.id)
            .await
            .unwrap()
            .is_none()
    );
    drop(r);
    ctx.close().await;
}
both!(departments_tree_paths_and_moves);

/// Two writers update the same department from the same version: exactly
/// one may win.
async fn department_version_is_checked_atomically(b: Backend) {
    let ctx = Ctx::new(b).await;
    let t = ctx.tenant_id.clone();
    let name = format!("dept{}", unique());
    let d = ctx.department(&t, None, &name).await;

    let mut tx1 = ctx.store.begin().await.unwrap();
    org::update_department(&mut tx1, &t, &d.id, &format!("{name}-1"), None, 1, 2)
        .await
        .unwrap();
    let store = ctx.store.clone();
    let (t2, id2, name2) = (t.clone(), d.id.clone(), format!("{name}-2"));
    let second = tokio::spawn(async move {
        let mut tx2 = store.begin().await?;
        let row = org::update_department(&mut tx2, &t2, &id2, &name2, None, 1, 3).await?;
        tx2.commit().await?;
        Ok::<_, StoreError>(row)
    });
    match b {
        // The single writer connection keeps the second transaction from
        // starting before the first ends.
        Backend::Sqlite => tokio::time::sleep(Duration::from_millis(100)).await,
        // Wait until the second writer has read version 1 and is blocked on
        // the row lock of the first.
        Backend::Postgres => {
            let mut waited = 0;
            loop {
                let mut r = ctx.store.reader().await.unwrap();
                let n = r
                    .conn()
                    .int(sql!(
                        "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database()
                         AND wait_event_type = 'Lock' AND query LIKE 'UPDATE departments SET name%'"
                    ))
                    .await
                    .unwrap();
                if n.unwrap_or(0) > 0 {
                    break;
                }
                waited += 1;
                assert!(waited < 500, "second writer never blocked");
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    }
    tx1.commit().await.unwrap();
    let second = second.await.unwrap();
    let mut r = ctx.store.reader().await.unwrap();
    let now = org::department(&mut r.conn(), &t, &d.id)
        .await
        .unwrap()
        .unwrap();
    drop(r);
    // The stale writer loses on both backends: the version is checked by
    // the UPDATE itself, not only by the read before it.
    assert!(
        matches!(second, Err(StoreError::VersionConflict)),
        "{second:?}"
    );
    assert_eq!((now.name, now.version), (format!("{name}-1"), 2));
    ctx.close().await;
}
both!(department_version_is_checked_atomically);

async fn roles_unique_and_versioned(b: Backend) {
    let ctx = Ctx::new(b).await;
    let t = ctx.tenant_id.clone();
    let r0 = RoleRow {
        tenant_id: t.clone(),
        id: new_id(),
        key: "sales".into(),
        permissions: "customer.read customer.create".into(),
        data_scope: "own".into(),
        field_access: r#"{"phone":"read"}"#.into(),
        version: 1,
        created_at: 100,
        updated_at: 100,
    };
    let mut tx = ctx.store.begin().await.unwrap();
    org::insert_role(&mut tx, &r0).await.unwrap();
    tx.commit().await.unwrap();
    // Same key in this tenant: refused; in another tenant: fine.
    let mut tx = ctx.store.begin().await.unwrap();
    let err = org::insert_role(
        &mut tx,
        &RoleRow {
            id: new_id(),
            ..r0.clone()
        },
    )
    .await
    .unwrap_err();
    assert!(matches!(err, StoreError::Unique("role")), "{err:?}");
    drop(tx);
    let (other, _) = ctx.new_tenant().await;
    let mut tx = ctx.store.begin().await.unwrap();
    org::insert_role(
        &mut tx,
        &RoleRow {
            tenant_id: other.clone(),
            id: new_id(),
            ..r0.clone()
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();

    let mut r = ctx.store.reader().await.unwrap();
    let got = org::role_by_key(&mut r.conn(), &t, "sales")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got.id, r0.id);
    assert_eq!(got.field_access, r0.field_access);
    assert_eq!(org::list_roles(&mut r.conn(), &t).await.unwrap().len(), 1);
    drop(r);

    let mut upd = got.clone();
    upd.permissions = "customer.read".into();
    upd.data_scope = DataScope::All.as_str().into();
    let mut tx = ctx.store.begin().await.unwrap();
    assert_eq!(org::update_role(&mut tx, &upd, 200).await.unwrap(), 2);
    // The same (now stale) version again.
    let err = org::update_role(&mut tx, &upd, 201).await.unwrap_err();
    assert!(matches!(err, StoreError::VersionConflict), "{err:?}");
    tx.commit().await.unwrap();
    let mut r = ctx.store.reader().await.unwrap();
    let got = org::role(&mut r.conn(), &t, &r0.id).await.unwrap().unwrap();
    assert_eq!(
        (
            got.permissions.as_str(),
            got.data_scope.as_str(),
            got.version,
            got.updated_at
        ),
        ("customer.read", "all", 2, 200)
    );
    // The other tenant's role is untouched.
    let theirs = org::role_by_key(&mut r.conn(), &other, "sales")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(theirs.version, 1);
    drop(r);
    ctx.close().await;
}
both!(roles_unique_and_versioned);

async fn users_unique_login_and_versioned(b: Backend) {
    let ctx = Ctx::new(b).await;
    let t = ctx.tenant_id.clone();
    let role = ctx.role(&t, DataScope::Own).await;
    let u = user_row(&t, "zhangsan", &role, None, None);
    let mut tx = ctx.store.begin().await.unwrap();
    org::insert_user(&mut tx, &u).await.unwrap();
    org::insert_user(&mut tx, &user_row(&t, "lisi", &role, None, Some(&u.id)))
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let mut tx = ctx.store.begin().await.unwrap();
    let err = org::insert_user(&mut tx, &user_row(&t, "zhangsan", &role, None, None))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Unique("login")), "{err:?}");
    drop(tx);
    // The same login in another tenant is someone else.
    let (other, _) = ctx.new_tenant().await;
    let other_role = ctx.role(&other, DataScope::Own).await;
    let theirs = user_row(&other, "zhangsan", &other_role, None, None);
    let mut tx = ctx.store.begin().await.unwrap();
    org::insert_user(&mut tx, &theirs).await.unwrap();
    tx.commit().await.unwrap();

    let mut r = ctx.store.reader().await.unwrap();
    let mine = org::user_by_login(&mut r.conn(), &t, "zhangsan")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(mine.id, u.id);
    assert_eq!((mine.disabled, mine.version), (0, 1));
    let got = org::user_by_login(&mut r.conn(), &other, "zhangsan")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got.id, theirs.id);
    assert!(
        org::user(&mut r.conn(), &other, &u.id)
            .await
            .unwrap()
            .is_none(),
        "ids do not cross tenants"
    );
    let logins: Vec<String> = org::list_users(&mut r.conn(), &t)
        .await
        .unwrap()
        .into_iter()
        .map(|u| u.login)
        .collect();
    assert_eq!(logins, ["lisi", "zhangsan"]);
    drop(r);

    let mut upd = mine.clone();
    upd.display_name = "张三".into();
    upd.disabled = 1;
    upd.locale = "en".into();
    let mut tx = ctx.store.begin().await.unwrap();
    assert_eq!(org::update_user(&mut tx, &upd, 300).await.unwrap(), 2);
    let err = org::update_user(&mut tx, &upd, 301).await.unwrap_err();
    assert!(matches!(err, StoreError::VersionConflict), "{err:?}");
    tx.commit().await.unwrap();
    let mut r = ctx.store.reader().await.unwrap();
    let got = org::user(&mut r.conn(), &t, &u.id).await.unwrap().unwrap();
    assert_eq!(
        (got.display_name.as_str(), got.disabled, got.locale.as_str()),
        ("张三", 1, "en")
    );
    assert_eq!((got.version, got.updated_at), (2, 300));
    drop(r);
    ctx.close().await;
}
both!(users_unique_login_and_versioned);

async fn code_sequences(b: Backend) {
    let ctx = Ctx::new(b).await;
    let t = ctx.tenant_id.clone();
    let (other, _) = ctx.new_tenant().await;
    let mut tx = ctx.store.begin().await.unwrap();
    for want in 1..=3 {
        assert_eq!(org::next_code_seq(&mut tx, &t, "2026").await.unwrap(), want);
    }
    // Per period and per tenant.
    assert_eq!(org::next_code_seq(&mut tx, &t, "2027").await.unwrap(), 1);
    assert_eq!(
        org::next_code_seq(&mut tx, &other, "2026").await.unwrap(),
        1
    );
    // Reservations continue the same counter without overlap.
    assert_eq!(
        kehu_store::customers::reserve_code_seq(&mut tx, &t, "2026", 10)
            .await
            .unwrap(),
        4
    );
    assert_eq!(org::next_code_seq(&mut tx, &t, "2026").await.unwrap(), 14);
    assert_eq!(
        kehu_store::customers::reserve_code_seq(&mut tx, &t, "fresh", 5)
            .await
            .unwrap(),
        1
    );
    assert_eq!(org::next_code_seq(&mut tx, &t, "fresh").await.unwrap(), 6);
    tx.commit().await.unwrap();

    // A rolled-back transaction consumes nothing.
    let mut tx = ctx.store.begin().await.unwrap();
    assert_eq!(org::next_code_seq(&mut tx, &t, "2026").await.unwrap(), 15);
    drop(tx);
    let mut tx = ctx.store.begin().await.unwrap();
    assert_eq!(org::next_code_seq(&mut tx, &t, "2026").await.unwrap(), 15);
    tx.commit().await.unwrap();
    ctx.close().await;
}
both!(code_sequences);

/// 8 tasks, 20 numbers each, every number through its own transaction
/// (half single `next_code_seq`, half `reserve_code_seq` in blocks of 4).
async fn code_sequences_concurrent(b: Backend) {
    let ctx = Ctx::new(b).await;
    let t = ctx.tenant_id.clone();
    let mut tasks = Vec::new();
    for task in 0..8 {
        let store = ctx.store.clone();
        let t = t.clone();
        tasks.push(tokio::spawn(async move {
            let mut got = Vec::new();
            if task % 2 == 0 {
                for _ in 0..20 {
                    let mut tx = store.begin().await.unwrap();
                    got.push(org::next_code_seq(&mut tx, &t, "2026").await.unwrap());
                    tx.commit().await.unwrap();
                    tokio::task::yield_now().await;
                }
            } else {
                for _ in 0..5 {
                    let mut tx = store.begin().await.unwrap();
                    let first = kehu_store::customers::reserve_code_seq(&mut tx, &t, "2026", 4)
                        .await
                        .unwrap();
                    tx.commit().await.unwrap();
                    got.extend(first..first + 4);
                    tokio::task::yield_now().await;
                }
            }
            got
        }));
    }
    let mut all = Vec::new();
    for h in tasks {
        let got = h.await.unwrap();
        assert_eq!(got.len(), 20);
        assert!(
            got.windows(2).all(|w| w[0] < w[1]),
            "one task's numbers increase"
        );
        all.extend(got);
    }
    let distinct: BTreeSet<i64> = all.iter().copied().collect();
    assert_eq!(all.len(), 160);
    assert_eq!(distinct.len(), 160, "no number handed out twice");
    assert_eq!(distinct, (1..=160).collect::<BTreeSet<i64>>(), "no gaps");
    let mut tx = ctx.store.begin().await.unwrap();
    assert_eq!(org::next_code_seq(&mut tx, &t, "2026").await.unwrap(), 161);
    tx.commit().await.unwrap();
    ctx.close().await;
}
both!(code_sequences_concurrent);
