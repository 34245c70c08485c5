//! Customers, lookups, search, keyset pages, contacts, orders, timeline,
//! team members, custom fields, bulk loads and backups.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use kehu_domain::access::DataScope;
use kehu_domain::search::{index_terms, plan_query};
use kehu_store::customers::{
    self as cs, Access, BulkCustomer, ContactRow, Cursor, CustomFieldRow, CustomerFilter,
    OrderLineRow, OrderRow, SearchSpec, SortKey, TeamRow, TimelineRow, Viewer,
};
use kehu_store::{Backend, DbUrl, OpenOptions, Store, StoreError};

use crate::both;
use crate::support::*;

async fn customers_crud_lookups_and_search(b: Backend) {
    let ctx = Ctx::new(b).await;
    let t = ctx.tenant_id.clone();
    let all = ctx.all(&t);
    let phone = lookup("phone", "+8613800138000");
    let email = lookup("email", "a@example.com");

    let row_a = customer_row(&t, "KH-0001", "张三丰", None, 1_000);
    let terms_a = "张 三 丰 张三 三丰 zhangsanfeng zsf sanfeng 13800138000";
    let mut tx = ctx.store.begin().await.unwrap();
    let rid_a = cs::insert_customer(&mut tx, &row_a, std::slice::from_ref(&phone), terms_a)
        .await
        .unwrap();
    let row_b = customer_row(&t, "KH-0002", "Acme Trading", None, 2_000);
    let rid_b = cs::insert_customer(&mut tx, &row_b, &[], "acme trading near or not")
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_ne!(rid_a, rid_b);

    // Another tenant: same code, same name, same terms, same digest.
    let (other, _) = ctx.new_tenant().await;
    let row_x = customer_row(&other, "KH-0001", "张三丰", None, 1_000);
    let mut tx = ctx.store.begin().await.unwrap();
    let rid_x = cs::insert_customer(&mut tx, &row_x, std::slice::from_ref(&phone), terms_a)
        .await
        .unwrap();
    tx.commit().await.unwrap();

    // A duplicate code in the same tenant is refused and named.
    let mut tx = ctx.store.begin().await.unwrap();
    let err = cs::insert_customer(
        &mut tx,
        &customer_row(&t, "KH-0001", "x", None, 1),
        &[],
        "x",
    )
    .await
    .unwrap_err();
    assert!(matches!(err, StoreError::Unique("code")), "{err:?}");
    drop(tx);

    // Reads round-trip every column.
    let mut r = ctx.store.reader().await.unwrap();
    let mut fr = ctx.store.fast_reader().await.unwrap();
    let got = cs::customer(&mut fr.read(), &all, &row_a.id, Access::Read)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        got,
        cs::CustomerRow {
            rid: rid_a,
            ..row_a.clone()
        }
    );
    assert_eq!(cs::count_customers(&mut r.conn(), &t).await.unwrap(), 2);
    assert!(
        cs::customer(&mut fr.read(), &all, &row_x.id, Access::Read)
            .await
            .unwrap()
            .is_none(),
        "another tenant's customer is not found by id"
    );
    assert_eq!(
        cs::find_by_lookup(&mut r.conn(), &all, &phone)
            .await
            .unwrap(),
        vec![row_a.id.clone()]
    );
    drop((r, fr));

    let a = vec![row_a.id.clone()];
    let bb = vec![row_b.id.clone()];
    let none: Vec<String> = Vec::new();
    // Prefix terms (pinyin, digits), exact CJK bigram and unigram.
    assert_eq!(search_ids(&ctx, &all, terms(&[("zhang", true)])).await, a);
    assert_eq!(search_ids(&ctx, &all, terms(&[("zsf", true)])).await, a);
    assert_eq!(search_ids(&ctx, &all, terms(&[("138001", true)])).await, a);
    assert_eq!(search_ids(&ctx, &all, terms(&[("张三", false)])).await, a);
    assert_eq!(search_ids(&ctx, &all, terms(&[("三丰", false)])).await, a);
    assert_eq!(search_ids(&ctx, &all, terms(&[("丰", false)])).await, a);
    // Exact means exact: no prefix, no substring.
    assert_eq!(
        search_ids(&ctx, &all, terms(&[("zhang", false)])).await,
        none
    );
    assert_eq!(
        search_ids(&ctx, &all, terms(&[("张三丰", false)])).await,
        none
    );
    assert_eq!(search_ids(&ctx, &all, terms(&[("hang", true)])).await, none);
    // All terms must match.
    assert_eq!(
        search_ids(&ctx, &all, terms(&[("acme", true), ("trad", true)])).await,
        bb
    );
    assert_eq!(
        search_ids(&ctx, &all, terms(&[("acme", true), ("zhang", true)])).await,
        none
    );
    // Words that are operators in FTS syntax are plain terms here.
    for w in ["near", "or", "not"] {
        assert_eq!(
            search_ids(&ctx, &all, terms(&[(w, false)])).await,
            bb,
            "{w}"
        );
    }
    // Blind-index lookup, code, and any-of.
    let by_lookup = SearchSpec {
        lookups: vec![phone.clone()],
        ..Default::default()
    };
    assert_eq!(search_ids(&ctx, &all, by_lookup).await, a);
    let by_code = SearchSpec {
        code: Some("KH-0002".into()),
        ..Default::default()
    };
    assert_eq!(search_ids(&ctx, &all, by_code).await, bb);
    let any = SearchSpec {
        terms: vec![("acme".into(), true)],
        lookups: vec![phone.clone(), email.clone()],
        code: Some("KH-9999".into()),
    };
    assert_eq!(
        search_ids(&ctx, &all, any).await,
        sorted(vec![row_a.id.clone(), row_b.id.clone()])
    );
    // An empty search matches nothing (not everything).
    assert_eq!(search_ids(&ctx, &all, SearchSpec::default()).await, none);
    // The domain's own tokenizer and query planner agree with the index.
    let plan = plan_query("张三");
    let spec = SearchSpec {
        terms: plan
            .terms
            .iter()
            .map(|q| (q.text.clone(), q.prefix))
            .collect(),
        ..Default::default()
    };
    assert!(!spec.terms.is_empty());
    assert_eq!(search_ids(&ctx, &all, spec).await, a);
    // Migrations 0006 (prefix indexes) and 0013 (contentless, no
    // positions) rebuild SQLite's index from its stored terms. Run in turn
    // over indexed customers in the index's first shape (0001), they keep
    // every term: 2- and 3-letter prefixes and longer ones alike.
    if b == Backend::Sqlite {
        let mut tx = ctx.store.begin_bulk().await.unwrap();
        tx.exec(kehu_store::sql!("DROP TABLE customer_search"))
            .await
            .unwrap();
        tx.exec(kehu_store::sql!(
            "CREATE VIRTUAL TABLE customer_search USING fts5 (terms, tenant_id UNINDEXED, tokenize = 'unicode61 remove_diacritics 0')"
        ))
        .await
        .unwrap();
        for (rid, terms, tenant) in [
            (rid_a, terms_a, &t),
            (rid_b, "acme trading near or not", &t),
            (rid_x, terms_a, &other),
        ] {
            tx.exec(kehu_store::sql!(
                "INSERT INTO customer_search (rowid, terms, tenant_id) VALUES ($1, $2, $3)",
                rid,
                terms,
                tenant
            ))
            .await
            .unwrap();
        }
        for file in [
            "0006_search_prefix_index.sql",
            "0013_search_contentless.sql",
        ] {
            tx.exec(kehu_store::sql!(&migration_sql(b, file)))
                .await
                .unwrap();
        }
        tx.commit().await.unwrap();
        let mut r = ctx.store.reader().await.unwrap();
        let leftover = r
            .conn()
            .int(kehu_store::sql!(
                "SELECT COUNT(*) FROM sqlite_master WHERE name = 'customer_search_rebuilt'"
            ))
            .await
            .unwrap();
        assert_eq!(leftover, Some(0), "every statement of the files ran");
        // Contentless: the terms are indexed, not stored.
        let stored = r
            .conn()
            .int(kehu_store::sql!(
                "SELECT COUNT(*) FROM customer_search WHERE terms IS NOT NULL"
            ))
            .await
            .unwrap();
        assert_eq!(stored, Some(0));
        drop(r);
        for (term, prefix) in [
            ("zs", true),
            ("zsf", true),
            ("zhangs", true),
            ("三丰", false),
        ] {
            assert_eq!(
                search_ids(&ctx, &all, terms(&[(term, prefix)])).await,
                a,
                "{term} after the rebuild"
            );
        }
        assert_eq!(search_ids(&ctx, &all, terms(&[("ac", true)])).await, bb);
        // Replacing and deleting a customer's terms still works.
        let mut tx = ctx.store.begin().await.unwrap();
        cs::put_search_terms(&mut tx, &t, rid_b, "acme holdings")
            .await
            .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(search_ids(&ctx, &all, terms(&[("trad", true)])).await, none);
        assert_eq!(search_ids(&ctx, &all, terms(&[("hold", true)])).await, bb);
    }
    // Migration 0012 rebuilds PostgreSQL's search table with each
    // customer's created_at and id: run over indexed customers, it keeps
    // every row and term and copies the customer's values. In a transaction
    // that is rolled back: the database is shared with the tests running
    // beside this one (which wait for its lock meanwhile).
    if b == Backend::Postgres {
        let mut tx = ctx.store.begin_bulk().await.unwrap();
        let mine = |q: &str| kehu_store::sql!(q, &t);
        let rows_before = tx
            .int(mine(
                "SELECT COUNT(*) FROM customer_search WHERE tenant_id = $1",
            ))
            .await
            .unwrap();
        rerun_pg_migration(&mut tx, "0012_search_sort_columns.sql").await;
        let leftover = tx
            .int(kehu_store::sql!(
                "SELECT COUNT(*) FROM pg_class WHERE relname = 'customer_search_rebuilt'"
            ))
            .await
            .unwrap();
        assert_eq!(leftover, Some(0), "every statement of the file ran");
        let rows_after = tx
            .int(mine(
                "SELECT COUNT(*) FROM customer_search WHERE tenant_id = $1",
            ))
            .await
            .unwrap();
        assert_eq!(rows_after, rows_before);
        assert!(rows_after >= Some(2), "{rows_after:?}");
        let differ = tx
            .int(mine(
                "SELECT COUNT(*) FROM customer_search s JOIN customers c ON c.rid = s.rid
                 WHERE s.tenant_id = $1
                     AND (s.created_at <> c.created_at OR s.id <> c.id OR s.tenant_id <> c.tenant_id)",
            ))
            .await
            .unwrap();
        assert_eq!(differ, Some(0));
        for (term, want) in [
            ("'zs':*", &a),
            ("'zhangs':*", &a),
            ("'三丰'", &a),
            ("'ac':*", &bb),
        ] {
            let found = tx
                .ids(kehu_store::sql!(
                    "SELECT s.id FROM customer_search s WHERE s.tenant_id = $1
                         AND s.terms @@ to_tsquery('simple', $2) ORDER BY s.id",
                    &t,
                    term
                ))
                .await
                .unwrap();
            assert_eq!(found, sorted(want.clone()), "{term} after the rebuild");
        }
        tx.rollback().await.unwrap();
    }

    // Update: new name, terms and lookups replace the old ones.
    let mut upd = got.clone();
    upd.name = "李四".into();
    upd.notes = Some("vip".into());
    let new_terms = index_terms("李四", true).join(" ");
    let mut tx = ctx.store.begin().await.unwrap();
    let v = cs::update_customer(
        &mut tx,
        &upd,
        Some(std::slice::from_ref(&email)),
        Some(&new_terms),
        5_000,
    )
    .await
    .unwrap();
    assert_eq!(v, 2);
    // The same (now stale) version again.
    let err = cs::update_customer(&mut tx, &upd, Some(&[]), Some("x"), 5_001)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::VersionConflict), "{err:?}");
    tx.commit().await.unwrap();
    assert_eq!(
        search_ids(&ctx, &all, terms(&[("zhang", true)])).await,
        none
    );
    assert_eq!(search_ids(&ctx, &all, terms(&[("李四", false)])).await, a);
    assert_eq!(search_ids(&ctx, &all, terms(&[("lisi", true)])).await, a);
    let mut r = ctx.store.reader().await.unwrap();
    let mut fr = ctx.store.fast_reader().await.unwrap();
    assert!(
        cs::find_by_lookup(&mut r.conn(), &all, &phone)
            .await
            .unwrap()
            .is_empty(),
        "old lookup replaced"
    );
    assert_eq!(
        cs::find_by_lookup(&mut r.conn(), &all, &email)
            .await
            .unwrap(),
        a
    );
    let got = cs::customer(&mut fr.read(), &all, &row_a.id, Access::Write)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (got.name.as_str(), got.notes.as_deref(), got.version),
        ("李四", Some("vip"), 2)
    );
    assert_eq!(
        (got.created_at, got.updated_at, got.rid),
        (1_000, 5_000, rid_a)
    );
    drop((r, fr));
    // The other tenant's twin is untouched and still found by its terms.
    let theirs = ctx.all(&other);
    assert_eq!(
        search_ids(&ctx, &theirs, terms(&[("zhang", true)])).await,
        vec![row_x.id.clone()]
    );

    // Delete (soft): stale version first, then for real.
    let mut tx = ctx.store.begin().await.unwrap();
    let err = cs::delete_customer(&mut tx, &t, &row_a.id, rid_a, 1, 6_000)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::VersionConflict), "{err:?}");
    cs::delete_customer(&mut tx, &t, &row_a.id, rid_a, 2, 6_000)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let mut r = ctx.store.reader().await.unwrap();
    let mut fr = ctx.store.fast_reader().await.unwrap();
    for access in [Access::Read, Access::Write] {
        assert!(
            cs::customer(&mut fr.read(), &all, &row_a.id, access)
                .await
                .unwrap()
                .is_none()
        );
    }
    assert_eq!(cs::count_customers(&mut r.conn(), &t).await.unwrap(), 1);
    assert!(
        cs::find_by_lookup(&mut r.conn(), &all, &email)
            .await
            .unwrap()
            .is_empty()
    );
    drop((r, fr));
    assert_eq!(search_ids(&ctx, &all, terms(&[("lisi", true)])).await, none);
    let by_code = SearchSpec {
        code: Some("KH-0001".into()),
        ..Default::default()
    };
    assert_eq!(search_ids(&ctx, &all, by_code).await, none);
    let by_lookup = SearchSpec {
        lookups: vec![email.clone()],
        ..Default::default()
    };
    assert_eq!(search_ids(&ctx, &all, by_lookup).await, none);
    assert_eq!(
        list_all(&ctx, &all, &CustomerFilter::default())
            .await
            .into_iter()
            .map(|c| c.id)
            .collect::<Vec<_>>(),
        bb
    );
    // A deleted customer cannot be updated or deleted again, and its code
    // is not reused.
    let mut tx = ctx.store.begin().await.unwrap();
    let mut stale = upd.clone();
    stale.version = 3;
    let err = cs::update_customer(&mut tx, &stale, Some(&[]), Some("x"), 7_000)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::VersionConflict), "{err:?}");
    let err = cs::delete_customer(&mut tx, &t, &row_a.id, rid_a, 3, 7_000)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::VersionConflict), "{err:?}");
    let err = cs::insert_customer(
        &mut tx,
        &customer_row(&t, "KH-0001", "y", None, 1),
        &[],
        "y",
    )
    .await
    .unwrap_err();
    assert!(matches!(err, StoreError::Unique("code")), "{err:?}");
    drop(tx);
    ctx.close().await;
}
both!(customers_crud_lookups_and_search);

/// Search terms are kept with the transaction that wrote them: on SQLite a
/// request transaction's are written at its group's COMMIT, so one dropped
/// without commit leaves none, and the last write of a customer's terms wins.
async fn search_terms_follow_their_transaction(b: Backend) {
    let ctx = Ctx::new(b).await;
    let t = ctx.tenant_id.clone();
    let all = ctx.all(&t);
    let row = customer_row(&t, "KH-0100", "周建国", None, 1_000);
    let mut tx = ctx.store.begin().await.unwrap();
    let rid = cs::insert_customer(&mut tx, &row, &[], "alpha")
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let me = vec![row.id.clone()];
    let none: Vec<String> = Vec::new();
    assert_eq!(search_ids(&ctx, &all, terms(&[("alpha", false)])).await, me);

    let mut tx = ctx.store.begin().await.unwrap();
    cs::put_search_terms(&mut tx, &t, rid, "beta")
        .await
        .unwrap();
    drop(tx);
    assert_eq!(
        search_ids(&ctx, &all, terms(&[("beta", false)])).await,
        none
    );
    assert_eq!(search_ids(&ctx, &all, terms(&[("alpha", false)])).await, me);

    let mut tx = ctx.store.begin().await.unwrap();
    cs::put_search_terms(&mut tx, &t, rid, "gamma")
        .await
        .unwrap();
    cs::put_search_terms(&mut tx, &t, rid, "delta")
        .await
        .unwrap();
    tx.commit().await.unwrap();
    for (term, want) in [("alpha", &none), ("gamma", &none), ("delta", &me)] {
        assert_eq!(
            search_ids(&ctx, &all, terms(&[(term, false)])).await,
            *want,
            "{term}"
        );
    }

    let mut tx = ctx.store.begin().await.unwrap();
    cs::delete_customer(&mut tx, &t, &row.id, rid, 1, 2_000)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        search_ids(&ctx, &all, terms(&[("delta", false)])).await,
        none
    );
    // Gone from the index itself, not only hidden by the list's filter.
    let mut r = ctx.store.reader().await.unwrap();
    let left = r
        .conn()
        .int(match b {
            Backend::Sqlite => kehu_store::sql!(
                "SELECT COUNT(*) FROM customer_search WHERE customer_search MATCH '\"delta\"'"
            ),
            Backend::Postgres => {
                kehu_store::sql!("SELECT COUNT(*) FROM customer_search WHERE rid = $1", rid)
            }
        })
        .await
        .unwrap();
    assert_eq!(left, Some(0));
}
both!(search_terms_follow_their_transaction);

/// The search alphabet (kehu_domain::search): `[a-z0-9]` words and n-grams
/// of CJK ideographs (extensions, compatibility forms), 〇, 々, kana and
/// Hangul. Each is one token to both full-text engines, found exactly and by
/// prefix, and never by a neighbour's term.
async fn search_alphabet(b: Backend) {
    let ctx = Ctx::new(b).await;
    let t = ctx.tenant_id.clone();
    let all = ctx.all(&t);
    let samples = [
        "佐々",
        "々木",
        "〇〇",
        "ひら",
        "がな",
        "カタ",
        "カー",
        "ー",
        "한국",
        "\u{20000}\u{20001}",
        "\u{2A6D6}",
        "豈更",
        "ゝゞ",
        "ヽヾ",
        "ヿ",
        "ゟ",
        "2026q1",
        "0571",
        "x",
    ];
    let mut ids = Vec::new();
    for (i, term) in samples.iter().enumerate() {
        // Each customer also carries a neighbour-free filler term.
        let (id, _) = ctx
            .customer(&t, term, None, &[], &format!("{term} filler{i}"))
            .await;
        ids.push(id);
    }
    for (i, term) in samples.iter().enumerate() {
        assert_eq!(
            search_ids(&ctx, &all, terms(&[(term, false)])).await,
            vec![ids[i].clone()],
            "exact {term:?}"
        );
        let first: String = term.chars().take(1).collect();
        let by_prefix = search_ids(&ctx, &all, terms(&[(&first, true)])).await;
        let want: Vec<String> = sorted(
            samples
                .iter()
                .zip(&ids)
                .filter(|(s, _)| s.starts_with(&first))
                .map(|(_, id)| id.clone())
                .collect(),
        );
        assert_eq!(by_prefix, want, "prefix {first:?}");
        assert_eq!(
            search_ids(
                &ctx,
                &all,
                terms(&[(term, false), (&format!("filler{i}"), false)])
            )
            .await,
            vec![ids[i].clone()],
            "{term:?} and its filler"
        );
    }
    ctx.close().await;
}
both!(search_alphabet);

/// A search matching more than the match-count probe's bound (5,000 on
/// SQLite, 7,500 on PostgreSQL) takes another plan (the sort index walked,
/// each row tested against the matches): pages must be the same rows, in
/// the same order, as the matches sorted by hand, for each sort that plan
/// covers.
async fn search_with_many_matches(b: Backend) {
    let ctx = Ctx::new(b).await;
    let t = ctx.tenant_id.clone();
    let all = ctx.all(&t);
    let mut items = Vec::new();
    for i in 0..11_400i64 {
        // Every third one does not match; pairs share a creation time so
        // the id breaks ties.
        let matching = i % 3 != 0;
        let name = if matching { "张三" } else { "李四" };
        let terms = if matching {
            "张 三 张三 zhangsan zs"
        } else {
            "李 四 李四 lisi ls"
        };
        let mut row = customer_row(&t, &format!("KH-{i:05}"), name, None, 1_000 + i / 2);
        row.updated_at = 9_000_000 - i * 7 % 5_003;
        items.push(BulkCustomer {
            row,
            lookups: Vec::new(),
            terms: terms.into(),
            contacts: Vec::new(),
            orders: Vec::new(),
        });
    }
    let mut want: Vec<cs::CustomerRow> = items
        .iter()
        .filter(|b| b.row.name == "张三")
        .map(|b| b.row.clone())
        .collect();
    assert!(want.len() > 7_500, "more than either probe counts");
    let mut tx = ctx.store.begin().await.unwrap();
    cs::bulk_insert_customers(&mut tx, items).await.unwrap();
    tx.commit().await.unwrap();
    let f = CustomerFilter {
        search: Some(terms(&[("zs", true)])),
        ..Default::default()
    };
    let ids = |rows: &[cs::CustomerRow]| rows.iter().map(|r| r.id.clone()).collect::<Vec<_>>();
    let listed = |rows: &[cs::ListedCustomer]| {
        rows.iter()
            .map(|r| r.customer.id.clone())
            .collect::<Vec<_>>()
    };
    let mut fr = ctx.store.fast_reader().await.unwrap();
    for (sort, desc) in [
        (SortKey::CreatedAt, true),
        (SortKey::UpdatedAt, false),
        (SortKey::Name, true),
    ] {
        let key = |c: &cs::CustomerRow| match sort {
            SortKey::CreatedAt => (c.created_at, String::new(), c.id.clone()),
            SortKey::UpdatedAt => (c.updated_at, String::new(), c.id.clone()),
            _ => (0, c.name.clone(), c.id.clone()),
        };
        want.sort_by_key(|c| key(c));
        if desc {
            want.reverse();
        }
        let page1 = cs::list_customers(&mut fr.read(), &all, &f, sort, desc, None, 50)
            .await
            .unwrap();
        assert_eq!(listed(&page1), ids(&want[..50]), "{sort:?} page 1");
        let after = Cursor::after(&page1.last().unwrap().customer, sort);
        let page2 = cs::list_customers(&mut fr.read(), &all, &f, sort, desc, Some(&after), 50)
            .await
            .unwrap();
        assert_eq!(listed(&page2), ids(&want[50..100]), "{sort:?} page 2");
        // Near the end fewer matches than either bound are left past the
        // cursor (on PostgreSQL, newest first, the ranked read counts only
        // those, so its few-matches plan answers).
        let near = Cursor::after(&want[want.len() - 60], sort);
        let tail = cs::list_customers(&mut fr.read(), &all, &f, sort, desc, Some(&near), 50)
            .await
            .unwrap();
        let end = want.len();
        assert_eq!(
            listed(&tail),
            ids(&want[end - 59..end - 9]),
            "{sort:?} near the end"
        );
    }
    drop(fr);
    // Another tenant whose few customers match: the probe counted the first
    // tenant's matches too, yet it sees exactly its own.
    let (t2, _) = ctx.new_tenant().await;
    let mut mine = Vec::new();
    let mut tx = ctx.store.begin().await.unwrap();
    for i in 0..3 {
        let row = customer_row(&t2, &format!("T2-{i}"), "张三", None, 5_000 + i);
        cs::insert_customer(&mut tx, &row, &[], "张 三 张三 zhangsan zs")
            .await
            .unwrap();
        mine.push(row.id);
    }
    tx.commit().await.unwrap();
    let mut fr = ctx.store.fast_reader().await.unwrap();
    let page = cs::list_customers(
        &mut fr.read(),
        &ctx.all(&t2),
        &f,
        SortKey::CreatedAt,
        true,
        None,
        50,
    )
    .await
    .unwrap();
    mine.reverse();
    assert_eq!(listed(&page), mine);
    drop(fr);
    ctx.close().await;
}
both!(search_with_many_matches);

/// Newest first, a search over the whole tenant reads its matches period
/// by period on PostgreSQL (a lexeme per ~25-day creation period, newest
/// periods first, widening until the page is full). Paged to the end at
/// several page sizes, for terms matching most, some and few customers
/// spread over many periods with gaps, ties and rows on period boundaries,
/// written one by one and in bulk: the pages are the matches sorted by hand,
/// each exactly once. Another tenant's newer matches never count, and a
/// scoped or filtered search (which ranks every match) agrees too.
async fn search_newest_first_by_period(b: Backend) {
    let ctx = Ctx::new(b).await;
    let t = ctx.tenant_id.clone();
    let all = ctx.all(&t);
    const P: i64 = 1 << 31;
    let mut rows: Vec<(cs::CustomerRow, &str)> = Vec::new();
    let mut bulk = Vec::new();
    let mut tx = ctx.store.begin().await.unwrap();
    for i in 0..700i64 {
        // Periods 100..140, every third one empty; pairs tied in time; some
        // rows on a period's first and last millisecond.
        let period = 100 + (i * 7 % 40);
        let period = if period % 3 == 0 { period + 1 } else { period };
        let at = match i % 11 {
            0 => period * P,
            1 => period * P + P - 1,
            _ => period * P + (i / 2) * 1_000_003 % P,
        };
        let level = if i % 61 == 0 {
            "few"
        } else if i % 4 == 0 {
            "some"
        } else {
            "all"
        };
        let terms = match level {
            "few" => "all some few",
            "some" => "all some",
            _ => "all",
        };
        let row = customer_row(&t, &format!("P-{i:04}"), "张三", None, at);
        if i % 2 == 0 {
            cs::insert_customer(&mut tx, &row, &[], terms)
                .await
                .unwrap();
        } else {
            bulk.push(BulkCustomer {
                row: row.clone(),
                lookups: Vec::new(),
                terms: terms.into(),
                contacts: Vec::new(),
                orders: Vec::new(),
            });
        }
        rows.push((row, level));
    }
    tx.commit().await.unwrap();
    let mut tx = ctx.store.begin().await.unwrap();
    cs::bulk_insert_customers(&mut tx, bulk).await.unwrap();
    tx.commit().await.unwrap();
    // Another tenant's matches, all newer than any of this tenant's.
    let (t2, _) = ctx.new_tenant().await;
    let mut tx = ctx.store.begin().await.unwrap();
    for i in 0..30 {
        let row = customer_row(&t2, &format!("Q-{i}"), "张三", None, 200 * P + i);
        cs::insert_customer(&mut tx, &row, &[], "all some few")
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();

    let matching = |term: &str| {
        let mut m: Vec<&cs::CustomerRow> = rows
            .iter()
            .filter(|(_, level)| match term {
                "all" => true,
                "some" => *level != "all",
                _ => *level == "few",
            })
            .map(|(r, _)| r)
            .collect();
        m.sort_by(|a, b| (b.created_at, &b.id).cmp(&(a.created_at, &a.id)));
        m.into_iter().map(|r| r.id.clone()).collect::<Vec<_>>()
    };
    for term in ["all", "some", "few"] {
        let want = matching(term);
        assert!(!want.is_empty());
        for (prefix, limit) in [(false, 3), (true, 20), (false, 51), (true, 400)] {
            let q = if prefix { &term[..2] } else { term };
            let f = CustomerFilter {
                search: Some(terms(&[(q, prefix)])),
                ..Default::default()
            };
            let got: Vec<String> = list_pages(&ctx, &all, &f, SortKey::CreatedAt, true, limit)
                .await
                .into_iter()
                .map(|c| c.id)
                .collect();
            assert_eq!(got, want, "{q:?} (prefix {prefix}) in pages of {limit}");
        }
    }
    let mut fr = ctx.store.fast_reader().await.unwrap();
    // The same search, filtered by kind (every customer is a person), takes
    // the other ranked read; both agree on page one.
    for term in ["all", "few"] {
        let want = matching(term);
        let f = CustomerFilter {
            kind: Some("person".into()),
            search: Some(terms(&[(term, false)])),
            ..Default::default()
        };
        let page = cs::list_customers(&mut fr.read(), &all, &f, SortKey::CreatedAt, true, None, 30)
            .await
            .unwrap();
        let got: Vec<String> = page.iter().map(|r| r.customer.id.clone()).collect();
        assert_eq!(got, want[..want.len().min(30)], "{term:?} filtered");
    }
    drop(fr);
    // Migration 0014 adds the lexeme to search rows written without it:
    // run over this tenant's rows with it taken out, it gives back exactly
    // the rows both write paths made. Rolled back, as 0012's check above.
    if b == Backend::Postgres {
        let mut tx = ctx.store.begin_bulk().await.unwrap();
        let mine = |q: &str| kehu_store::sql!(q, &t);
        tx.exec(kehu_store::sql!(
            "ALTER TABLE customer_search DISABLE TRIGGER customer_search_period"
        ))
        .await
        .unwrap();
        for q in [
            "CREATE TEMP TABLE written AS SELECT rid, terms FROM customer_search WHERE tenant_id = $1",
            "UPDATE customer_search SET terms = ts_delete(terms, ARRAY['#' || (created_at >> 31)]) WHERE tenant_id = $1",
        ] {
            tx.exec(mine(q)).await.unwrap();
        }
        let stripped = tx
            .int(mine(
                "SELECT COUNT(*) FROM customer_search s JOIN written w USING (rid) WHERE s.tenant_id = $1 AND s.terms = w.terms",
            ))
            .await
            .unwrap();
        assert_eq!(stripped, Some(0), "every row had its lexeme");
        rerun_pg_migration(&mut tx, "0014_search_periods.sql").await;
        let same = tx
            .int(mine(
                "SELECT COUNT(*) FROM customer_search s JOIN written w USING (rid) WHERE s.tenant_id = $1 AND s.terms = w.terms",
            ))
            .await
            .unwrap();
        assert_eq!(same, Some(rows.len() as i64));
        tx.rollback().await.unwrap();
    }

    // Pages by period against pages of every match ranked (the kind filter
    // takes that path), for a few extra tenants' shapes.
    let compare = |v: Viewer, term: &'static str, limit: i64| {
        let ctx = &ctx;
        async move {
            let mut fr = ctx.store.fast_reader().await.unwrap();
            let mut pages = Vec::new();
            for kind in [None, Some("person".to_string())] {
                let f = CustomerFilter {
                    kind,
                    search: Some(terms(&[(term, false)])),
                    ..Default::default()
                };
                let page = cs::list_customers(
                    &mut fr.read(),
                    &v,
                    &f,
                    SortKey::CreatedAt,
                    true,
                    None,
                    limit,
                )
                .await
                .unwrap();
                pages.push(
                    page.iter()
                        .map(|r| r.customer.id.clone())
                        .collect::<Vec<_>>(),
                );
            }
            (pages.remove(0), pages.remove(0))
        }
    };
    // Creation times at the ends of i64 and before 1970.
    let (t3, _) = ctx.new_tenant().await;
    let edges = [i64::MAX, i64::MAX - 1, 5, -1, -(1 << 40), i64::MIN];
    ctx.customers_at(
        &t3,
        edges
            .into_iter()
            .enumerate()
            .map(|(i, at)| (format!("E-{i}"), at)),
        "edge",
    )
    .await;
    let (by_period, every) = compare(ctx.all(&t3), "edge", 10).await;
    assert_eq!(by_period.len(), 6, "every creation time is found");
    assert_eq!(by_period, every);

    // 50 recent matches and one 30 years older: a page of 51 needs the
    // oldest; the periods widen instead of walking back one a read.
    let (t4, _) = ctx.new_tenant().await;
    let now = 1_790_000_000_000i64;
    ctx.customers_at(
        &t4,
        (0..51i64).map(|i| {
            let at = if i == 0 {
                now - 30 * 365 * 86_400_000
            } else {
                now - i * 60_000
            };
            (format!("W-{i}"), at)
        }),
        "wide",
    )
    .await;
    let (by_period, every) = compare(ctx.all(&t4), "wide", 51).await;
    assert_eq!(by_period.len(), 51);
    assert_eq!(by_period, every);
    if b == Backend::Postgres {
        let mut fr = ctx.store.fast_reader().await.unwrap();
        let (rids, reads) = cs::period_ranking(
            &mut fr.read(),
            &ctx.all(&t4),
            &[("wide".into(), false)],
            None,
            51,
        )
        .await
        .unwrap();
        assert_eq!(rids.map(|r| r.len()), Some(51));
        assert!(reads <= 5, "{reads} ranking reads");
    }

    // A match deleted between the ranking and the page (its search row
    // still there, as the page's read may see it): the page is still full.
    ctx.exec_committed(kehu_store::sql!(
        "UPDATE customers SET deleted_at = 1 WHERE tenant_id = $1 AND code = 'W-1'",
        &t4
    ))
    .await;
    // The newest periods hold exactly a page of 50 matches, one of them
    // deleted; the 30-year-old one completes the page.
    let (by_period, every) = compare(ctx.all(&t4), "wide", 50).await;
    assert_eq!(by_period.len(), 50, "a full page");
    assert_eq!(by_period, every);

    // A search row written without the period lexeme, as a process of the
    // version before migration 0014 writes it: the trigger adds it, so
    // newest-first pages still find the customer.
    if b == Backend::Postgres {
        ctx.exec_committed(kehu_store::sql!(
            "UPDATE customer_search SET terms = to_tsvector('simple', 'wide oldwriter') WHERE tenant_id = $1 AND id = (SELECT id FROM customers WHERE tenant_id = $1 AND code = 'W-7')",
            &t4
        ))
        .await;
        let (by_period, every) = compare(ctx.all(&t4), "oldwriter", 10).await;
        assert_eq!(by_period.len(), 1);
        assert_eq!(by_period, every);
    }
    ctx.close().await;
}
both!(search_newest_first_by_period);

/// Customers with equal sort values, paged in every direction and page
/// size: each row exactly once, in (value, id) byte order.
///
/// Text keys are sorted and compared `COLLATE "C"` on PostgreSQL, so pages
/// agree with SQLite's byte order whatever the database's default collation.
async fn keyset_pagination(b: Backend) {
    let ctx = Ctx::new(b).await;
    let t = ctx.tenant_id.clone();
    // Owners: `me` for two in three rows, someone else for the rest; `me` is
    // on the team of every fifth row (owned or not), so a scoped list is the
    // union of an owned and a shared branch that overlap.
    let (me, someone) = (new_id(), new_id());
    let names = [
        "alice", "Bob", "bob", "张三", "张三", "Zed", "alice", "李四", "Émile", "bob", "_x", "Bob",
        "9 lives", "alice", "Zed", "张三",
    ];
    let mut tx = ctx.store.begin().await.unwrap();
    let mut rows = Vec::new();
    let mut mine = Vec::new();
    for (i, name) in names.iter().enumerate() {
        // Three distinct creation times, many ties.
        let owner = if i % 3 == 0 { &someone } else { &me };
        let mut row = customer_row(
            &t,
            &format!("K{:03}", 40 - i),
            name,
            Some(owner),
            1_000 + (i % 3) as i64,
        );
        row.rid = cs::insert_customer(&mut tx, &row, &[], "page")
            .await
            .unwrap();
        // Insert sets updated_at = created_at; some get updated at two
        // (tied) later times.
        if i % 4 == 0 {
            row.updated_at = 5_000 + (i % 8) as i64;
            cs::update_customer(&mut tx, &row, None, Some("page"), row.updated_at)
                .await
                .unwrap();
            row.version += 1;
        }
        if i % 5 == 0 {
            cs::put_team_member(
                &mut tx,
                &TeamRow {
                    tenant_id: t.clone(),
                    customer_id: row.id.clone(),
                    user_id: me.clone(),
                    access: "read".into(),
                    created_at: 1,
                },
            )
            .await
            .unwrap();
        }
        if owner == &me || i % 5 == 0 {
            mine.push(row.id.clone());
        }
        rows.push(row);
    }
    // Noise that must never appear: a deleted customer, another tenant's.
    let gone = customer_row(&t, "GONE", "alice", Some(&me), 1_000);
    let gone_rid = cs::insert_customer(&mut tx, &gone, &[], "page")
        .await
        .unwrap();
    cs::delete_customer(&mut tx, &t, &gone.id, gone_rid, 1, 1)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let (other, _) = ctx.new_tenant().await;
    ctx.customer(&other, "alice", Some(&me), &[], "page").await;

    let all = ctx.all(&t);
    let own = ctx.viewer(&me, DataScope::Own, None);
    assert!(mine.len() > 5 && mine.len() < rows.len());
    for (viewer, visible) in [(&all, None), (&own, Some(&mine))] {
        for sort in [
            SortKey::CreatedAt,
            SortKey::UpdatedAt,
            SortKey::Name,
            SortKey::Code,
        ] {
            for desc in [false, true] {
                let key = |r: &cs::CustomerRow| -> (Vec<u8>, i64, String) {
                    match sort {
                        SortKey::CreatedAt => (Vec::new(), r.created_at, r.id.clone()),
                        SortKey::UpdatedAt => (Vec::new(), r.updated_at, r.id.clone()),
                        SortKey::Name => (r.name.as_bytes().to_vec(), 0, r.id.clone()),
                        SortKey::Code => (r.code.as_bytes().to_vec(), 0, r.id.clone()),
                    }
                };
                let mut want: Vec<cs::CustomerRow> = rows
                    .iter()
                    .filter(|r| visible.is_none_or(|v| v.contains(&r.id)))
                    .cloned()
                    .collect();
                want.sort_by_key(key);
                if desc {
                    want.reverse();
                }
                let want: Vec<String> = want.into_iter().map(|r| r.id).collect();
                for limit in [1i64, 2, 3, 5, 100] {
                    let search = [None, Some(terms(&[("page", false)]))];
                    for s in search {
                        let f = CustomerFilter {
                            search: s.clone(),
                            ..Default::default()
                        };
                        let mut seen = Vec::new();
                        let mut after: Option<Cursor> = None;
                        for _ in 0..100 {
                            let mut fr = ctx.store.fast_reader().await.unwrap();
                            let page = cs::list_customers(
                                &mut fr.read(),
                                viewer,
                                &f,
                                sort,
                                desc,
                                after.as_ref(),
                                limit,
                            )
                            .await
                            .unwrap();
                            assert!(page.len() as i64 <= limit);
                            let Some(last) = page.last() else { break };
                            after = Some(Cursor::after(&last.customer, sort));
                            seen.extend(page.into_iter().map(|c| c.customer.id));
                        }
                        assert_eq!(
                            seen,
                            want,
                            "{:?} {sort:?} desc={desc} limit={limit} search={}",
                            viewer.scope,
                            s.is_some()
                        );
                    }
                }
            }
        }
    }
    ctx.close().await;
}
both!(keyset_pagination);

async fn contacts_versions_and_lookups(b: Backend) {
    let ctx = Ctx::new(b).await;
    let t = ctx.tenant_id.clone();
    let all = ctx.all(&t);
    let (cust, _) = ctx.customer(&t, "华为", None, &[], "华为 huawei").await;
    let contact = |name: &str, primary: bool, at: i64| ContactRow {
        tenant_id: t.clone(),
        id: new_id(),
        customer_id: cust.clone(),
        name: name.into(),
        title: Some("经理".into()),
        is_primary: primary as i64,
        sealed: vec![9, 9],
        version: 1,
        created_at: at,
        updated_at: at,
    };
    let k1 = contact("王五", true, 100);
    let k2 = contact("赵六", false, 200);
    let p1 = lookup("phone", "k1-phone");
    let p2 = lookup("phone", "k2-phone");
    let mut tx = ctx.store.begin().await.unwrap();
    cs::insert_contact(&mut tx, &k1, std::slice::from_ref(&p1))
        .await
        .unwrap();
    cs::insert_contact(&mut tx, &k2, std::slice::from_ref(&p2))
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let mut r = ctx.store.reader().await.unwrap();
    let list = cs::contacts(&mut r.conn(), &t, &cust).await.unwrap();
    assert_eq!(list, vec![k1.clone(), k2.clone()]);
    // A contact's number finds its customer.
    assert_eq!(
        cs::find_by_lookup(&mut r.conn(), &all, &p2).await.unwrap(),
        vec![cust.clone()]
    );
    drop(r);

    // Making k2 primary demotes k1 (and bumps its version).
    let mut k2b = k2.clone();
    k2b.is_primary = 1;
    k2b.updated_at = 300;
    let p2b = lookup("phone", "k2-new-phone");
    let mut tx = ctx.store.begin().await.unwrap();
    assert_eq!(
        cs::update_contact(&mut tx, &k2b, std::slice::from_ref(&p2b))
            .await
            .unwrap(),
        2
    );
    tx.commit().await.unwrap();
    let mut r = ctx.store.reader().await.unwrap();
    let list = cs::contacts(&mut r.conn(), &t, &cust).await.unwrap();
    assert_eq!(
        list.iter()
            .map(|k| (k.name.as_str(), k.is_primary, k.version))
            .collect::<Vec<_>>(),
        [("赵六", 1, 2), ("王五", 0, 2)]
    );
    assert!(
        cs::find_by_lookup(&mut r.conn(), &all, &p2)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        cs::find_by_lookup(&mut r.conn(), &all, &p2b).await.unwrap(),
        vec![cust.clone()]
    );
    // k1's own lookup is untouched by k2's update.
    assert_eq!(
        cs::find_by_lookup(&mut r.conn(), &all, &p1).await.unwrap(),
        vec![cust.clone()]
    );
    let one = cs::contact(&mut r.conn(), &t, &cust, &k1.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(one.version, 2);
    assert!(
        cs::contact(&mut r.conn(), &t, &new_id(), &k1.id)
            .await
            .unwrap()
            .is_none(),
        "contact is looked up under its customer"
    );
    drop(r);

    // k1 edited from its old version: conflict.
    let mut tx = ctx.store.begin().await.unwrap();
    let err = cs::update_contact(&mut tx, &k1, &[]).await.unwrap_err();
    assert!(matches!(err, StoreError::VersionConflict), "{err:?}");
    drop(tx);
    // Delete: stale then current.
    let mut tx = ctx.store.begin().await.unwrap();
    let err = cs::delete_contact(&mut tx, &t, &cust, &k1.id, 1)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::VersionConflict), "{err:?}");
    cs::delete_contact(&mut tx, &t, &cust, &k1.id, 2)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let mut r = ctx.store.reader().await.unwrap();
    assert!(
        cs::find_by_lookup(&mut r.conn(), &all, &p1)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        cs::contacts(&mut r.conn(), &t, &cust).await.unwrap().len(),
        1
    );
    drop(r);
    ctx.close().await;
}
both!(contacts_versions_and_lookups);

async fn custom_fields_versioned(b: Backend) {
    let ctx = Ctx::new(b).await;
    let t = ctx.tenant_id.clone();
    let field = |key: &str, position: i64| CustomFieldRow {
        tenant_id: t.clone(),
        id: new_id(),
        key: key.into(),
        label_zh: "等级".into(),
        label_en: "Level".into(),
        field_type: "select".into(),
        options: r#"["A","B"]"#.into(),
        required: 0,
        position,
        version: 1,
        created_at: 10,
        updated_at: 10,
    };
    let f1 = field("level", 2);
    let f2 = field("region", 1);
    let mut tx = ctx.store.begin().await.unwrap();
    cs::insert_custom_field(&mut tx, &f1).await.unwrap();
    cs::insert_custom_field(&mut tx, &f2).await.unwrap();
    tx.commit().await.unwrap();
    let mut tx = ctx.store.begin().await.unwrap();
    let err = cs::insert_custom_field(&mut tx, &field("level", 3))
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Unique("custom_field_key")),
        "{err:?}"
    );
    drop(tx);
    let (other, _) = ctx.new_tenant().await;
    let mut tx = ctx.store.begin().await.unwrap();
    cs::insert_custom_field(
        &mut tx,
        &CustomFieldRow {
            tenant_id: other.clone(),
            ..field("level", 1)
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();

    let mut r = ctx.store.reader().await.unwrap();
    let keys: Vec<String> = cs::custom_fields(&mut r.conn(), &t)
        .await
        .unwrap()
        .into_iter()
        .map(|f| f.key)
        .collect();
    assert_eq!(keys, ["region", "level"], "ordered by position");
    drop(r);

    let mut upd = f1.clone();
    upd.label_en = "Tier".into();
    upd.options = r#"["A","B","C"]"#.into();
    upd.required = 1;
    upd.position = 0;
    upd.updated_at = 20;
    // Key and type are not updatable.
    upd.key = "renamed".into();
    upd.field_type = "text".into();
    let mut tx = ctx.store.begin().await.unwrap();
    assert_eq!(cs::update_custom_field(&mut tx, &upd).await.unwrap(), 2);
    let err = cs::update_custom_field(&mut tx, &upd).await.unwrap_err();
    assert!(matches!(err, StoreError::VersionConflict), "{err:?}");
    tx.commit().await.unwrap();
    let mut r = ctx.store.reader().await.unwrap();
    let got = cs::custom_field(&mut r.conn(), &t, &f1.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        got,
        CustomFieldRow {
            key: "level".into(),
            field_type: "select".into(),
            version: 2,
            ..upd.clone()
        }
    );
    drop(r);

    let mut tx = ctx.store.begin().await.unwrap();
    let err = cs::delete_custom_field(&mut tx, &t, &f1.id, 1)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::VersionConflict), "{err:?}");
    cs::delete_custom_field(&mut tx, &t, &f1.id, 2)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let mut r = ctx.store.reader().await.unwrap();
    assert!(
        cs::custom_field(&mut r.conn(), &t, &f1.id)
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        cs::custom_fields(&mut r.conn(), &other)
            .await
            .unwrap()
            .len(),
        1
    );
    drop(r);
    ctx.close().await;
}
both!(custom_fields_versioned);

/// The run's order stream for one customer: (day, total, line categories).
type StreamedOrder = (String, i64, Vec<(Option<String>, i64)>);

async fn order_stream(r: &mut kehu_store::Reader, t: &str, cust: &str) -> Vec<StreamedOrder> {
    let mut facts = Vec::new();
    let mut groups = 0;
    kehu_store::insight::each_customer_orders(&mut r.conn(), t, Some(cust), "2099-12-31", |g| {
        assert_eq!(g.customer_id, cust);
        groups += 1;
        for f in g.orders() {
            // The borrowing reader agrees with the copying one, escapes or not.
            let mut borrowed = Vec::new();
            f.each_category(|c, a| borrowed.push((c.map(str::to_string), a)));
            assert_eq!(borrowed, f.categories());
            facts.push((f.ordered_on.to_string(), f.total_fen, f.categories()));
        }
        Ok(())
    })
    .await
    .unwrap();
    assert!(groups <= 1, "one customer's orders come as one group");
    facts
}

async fn orders_timeline_and_team(b: Backend) {
    let ctx = Ctx::new(b).await;
    let t = ctx.tenant_id.clone();
    let (cust, _) = ctx.customer(&t, "订单客户", None, &[], "dingdan").await;

    // Orders: five, two on the same day; paged newest first.
    let days = [
        "2026-01-03",
        "2026-02-10",
        "2026-02-10",
        "2025-12-31",
        "2026-03-01",
    ];
    let mut tx = ctx.store.begin().await.unwrap();
    let mut orders = Vec::new();
    for (i, day) in days.iter().enumerate() {
        let o = OrderRow {
            tenant_id: t.clone(),
            id: new_id(),
            customer_id: cust.clone(),
            ordered_on: day.to_string(),
            channel: Some("online".into()),
            total_fen: 0,
            line_count: 0,
            created_by: None,
            created_at: i as i64,
        };
        let lines: Vec<OrderLineRow> = (1..=(i as i64 + 1))
            .map(|n| OrderLineRow {
                tenant_id: t.clone(),
                order_id: o.id.clone(),
                line_no: n,
                product: format!("产品{n}"),
                // Some lines without a category; a quote and a backslash
                // in one (the run reads them back from JSON).
                category: (n % 2 == 0).then(|| format!("饮料\"{n}\\")),
                quantity: n,
                amount_fen: 100 * n,
            })
            .collect();
        let o = OrderRow {
            total_fen: lines.iter().map(|l| l.amount_fen).sum(),
            line_count: lines.len() as i64,
            ..o
        };
        cs::insert_order(&mut tx, &o, &lines).await.unwrap();
        orders.push((o, lines));
    }
    tx.commit().await.unwrap();
    let mut want: Vec<&OrderRow> = orders.iter().map(|(o, _)| o).collect();
    want.sort_by(|a, b| (&b.ordered_on, &b.id).cmp(&(&a.ordered_on, &a.id)));
    let mut r = ctx.store.reader().await.unwrap();
    let mut seen = Vec::new();
    let mut before: Option<(String, String)> = None;
    loop {
        let page = cs::orders(
            &mut r.conn(),
            &t,
            &cust,
            before.as_ref().map(|(d, i)| (d.as_str(), i.as_str())),
            2,
        )
        .await
        .unwrap();
        let Some(last) = page.last() else { break };
        before = Some((last.ordered_on.clone(), last.id.clone()));
        seen.extend(page);
    }
    assert_eq!(seen.iter().collect::<Vec<_>>(), want);
    let totals = cs::order_totals(&mut r.conn(), &t, &cust).await.unwrap();
    assert_eq!(
        totals,
        cs::OrderTotals {
            order_count: 5,
            total_fen: (1..=5).map(|n: i64| 100 * n * (n + 1) / 2).sum(),
        }
    );
    let ids: Vec<String> = orders.iter().map(|(o, _)| o.id.clone()).collect();
    let lines = cs::order_lines(&mut r.conn(), &t, &ids).await.unwrap();
    assert_eq!(lines.len(), 15);
    let mut want_lines: Vec<OrderLineRow> = orders.iter().flat_map(|(_, l)| l.clone()).collect();
    want_lines.sort_by(|a, b| (&a.order_id, a.line_no).cmp(&(&b.order_id, b.line_no)));
    assert_eq!(lines, want_lines);
    // The run's order stream carries each order's lines as (category, amount),
    // both as written with the order and as the 0004 migration backfills them.
    let categories = |facts: &[StreamedOrder]| -> BTreeMap<String, Vec<(Option<String>, i64)>> {
        let mut by_day = BTreeMap::new();
        for (day, total, c) in facts {
            let mut c = c.clone();
            c.sort();
            by_day.entry(format!("{day} {total}")).or_insert(c);
        }
        by_day
    };
    let want_categories: BTreeMap<String, Vec<(Option<String>, i64)>> = orders
        .iter()
        .map(|(o, ls)| {
            let mut c: Vec<_> = ls
                .iter()
                .map(|l| (l.category.clone(), l.amount_fen))
                .collect();
            c.sort();
            (format!("{} {}", o.ordered_on, o.total_fen), c)
        })
        .collect();
    let streamed = order_stream(&mut r, &t, &cust).await;
    let mut got: Vec<(String, i64)> = streamed.iter().map(|(d, t, _)| (d.clone(), *t)).collect();
    got.sort();
    let mut want_orders: Vec<(String, i64)> = orders
        .iter()
        .map(|(o, _)| (o.ordered_on.clone(), o.total_fen))
        .collect();
    want_orders.sort();
    assert_eq!(got, want_orders, "every order, same-day ones apart");
    assert_eq!(categories(&streamed), want_categories);
    drop(r);
    let migration = migration_sql(b, "0004_order_categories.sql");
    let backfill = &migration[migration.find("UPDATE").expect("the backfill")..];
    let mut tx = ctx.store.begin().await.unwrap();
    tx.exec(kehu_store::sql!("UPDATE orders SET line_categories = NULL"))
        .await
        .unwrap();
    tx.exec(kehu_store::sql!(backfill)).await.unwrap();
    tx.commit().await.unwrap();
    let mut r = ctx.store.reader().await.unwrap();
    assert_eq!(
        categories(&order_stream(&mut r, &t, &cust).await),
        want_categories
    );
    assert!(
        cs::order_lines(&mut r.conn(), &t, &[])
            .await
            .unwrap()
            .is_empty()
    );
    drop(r);
    // An order whose column is unset (written before 0004 and missed) or an
    // empty list streams with no categories, its total intact; the whole
    // tenant's stream is one group per customer with orders.
    let (second, _) = ctx.customer(&t, "另一个客户", None, &[], "lingyige").await;
    let mut tx = ctx.store.begin().await.unwrap();
    for (i, day) in ["2026-04-01", "2026-04-02"].iter().enumerate() {
        let o = OrderRow {
            tenant_id: t.clone(),
            id: new_id(),
            customer_id: second.clone(),
            ordered_on: day.to_string(),
            channel: None,
            total_fen: -250 * (i as i64 + 1),
            line_count: 0,
            created_by: None,
            created_at: 0,
        };
        cs::insert_order(&mut tx, &o, &[]).await.unwrap();
    }
    tx.exec(kehu_store::sql!(
        "UPDATE orders SET line_categories = NULL WHERE customer_id = $1 AND ordered_on = '2026-04-01'",
        &second
    ))
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let mut r = ctx.store.reader().await.unwrap();
    let mut streamed = order_stream(&mut r, &t, &second).await;
    streamed.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        streamed,
        vec![
            ("2026-04-01".to_string(), -250, Vec::new()),
            ("2026-04-02".to_string(), -500, Vec::new())
        ]
    );
    let mut groups = Vec::new();
    kehu_store::insight::each_customer_orders(&mut r.conn(), &t, None, "2099-12-31", |g| {
        groups.push((g.customer_id.clone(), g.orders().count()));
        Ok(())
    })
    .await
    .unwrap();
    groups.sort();
    let mut want_groups = vec![(cust.clone(), 5), (second.clone(), 2)];
    want_groups.sort();
    assert_eq!(groups, want_groups);
    // Nothing for another customer or tenant.
    let (other, _) = ctx.new_tenant().await;
    assert_eq!(
        cs::order_totals(&mut r.conn(), &other, &cust)
            .await
            .unwrap(),
        cs::OrderTotals {
            order_count: 0,
            total_fen: 0
        }
    );
    assert!(
        cs::order_lines(&mut r.conn(), &other, &ids)
            .await
            .unwrap()
            .is_empty()
    );
    drop(r);

    // Timeline: newest first; three entries share one millisecond (as the
    // app writes "updated" and "owner_changed" in one request).
    let entry = |at: i64, kind: &str| TimelineRow {
        tenant_id: t.clone(),
        id: new_id(),
        customer_id: cust.clone(),
        at,
        actor_id: None,
        kind: kind.into(),
        detail: "{}".into(),
    };
    let e = [
        entry(10, "created"),
        entry(20, "updated"),
        entry(20, "owner_changed"),
        entry(20, "contact_added"),
        entry(30, "updated"),
    ];
    let mut tx = ctx.store.begin().await.unwrap();
    for x in &e {
        cs::insert_timeline(&mut tx, x).await.unwrap();
    }
    tx.commit().await.unwrap();
    let mut r = ctx.store.reader().await.unwrap();
    let first = cs::timeline(&mut r.conn(), &t, &cust, None, 100)
        .await
        .unwrap();
    let mut want = e.to_vec();
    want.sort_by(|a, b| (b.at, &b.id).cmp(&(a.at, &a.id)));
    assert_eq!(first, want);
    // Paging by (time, id) of the last entry seen, two at a time: entries
    // sharing a millisecond are neither skipped nor repeated.
    let page1 = cs::timeline(&mut r.conn(), &t, &cust, None, 2)
        .await
        .unwrap();
    assert_eq!(page1, want[..2]);
    let page2 = cs::timeline(
        &mut r.conn(),
        &t,
        &cust,
        Some((page1[1].at, &page1[1].id)),
        2,
    )
    .await
    .unwrap();
    assert_eq!(page2, want[2..4]);
    let page3 = cs::timeline(
        &mut r.conn(),
        &t,
        &cust,
        Some((page2[1].at, &page2[1].id)),
        2,
    )
    .await
    .unwrap();
    assert_eq!(page3, want[4..]);
    assert!(
        cs::timeline(&mut r.conn(), &t, &cust, Some((11, "")), 10)
            .await
            .unwrap()
            .iter()
            .all(|x| x.at < 11)
    );
    assert!(
        cs::timeline(&mut r.conn(), &other, &cust, None, 10)
            .await
            .unwrap()
            .is_empty()
    );
    drop(r);

    // Team members: upsert, list, remove.
    let (u1, u2) = (new_id(), new_id());
    let member = |user: &str, access: &str, at: i64| TeamRow {
        tenant_id: t.clone(),
        customer_id: cust.clone(),
        user_id: user.into(),
        access: access.into(),
        created_at: at,
    };
    let mut tx = ctx.store.begin().await.unwrap();
    cs::put_team_member(&mut tx, &member(&u1, "read", 1))
        .await
        .unwrap();
    cs::put_team_member(&mut tx, &member(&u2, "write", 2))
        .await
        .unwrap();
    // Upsert changes the access, keeps the original creation time.
    cs::put_team_member(&mut tx, &member(&u1, "write", 3))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let mut r = ctx.store.reader().await.unwrap();
    assert_eq!(
        cs::team(&mut r.conn(), &t, &cust).await.unwrap(),
        vec![member(&u1, "write", 1), member(&u2, "write", 2)]
    );
    drop(r);
    let mut tx = ctx.store.begin().await.unwrap();
    cs::remove_team_member(&mut tx, &t, &cust, &u1)
        .await
        .unwrap();
    let err = cs::remove_team_member(&mut tx, &t, &cust, &u1)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound), "{err:?}");
    tx.commit().await.unwrap();
    let mut r = ctx.store.reader().await.unwrap();
    assert_eq!(
        cs::team(&mut r.conn(), &t, &cust).await.unwrap(),
        vec![member(&u2, "write", 2)]
    );
    drop(r);
    ctx.close().await;
}
both!(orders_timeline_and_team);

/// A tenant's order log as a run streams it, up to `until`: per customer,
/// its orders sorted (the log keeps them in the order written).
async fn streamed_log(store: &Store, t: &str, until: &str) -> BTreeMap<String, Vec<StreamedOrder>> {
    let mut r = store.reader().await.unwrap();
    let mut out = BTreeMap::new();
    let mut last = String::new();
    kehu_store::insight::each_customer_orders(&mut r.conn(), t, None, until, |g| {
        assert!(g.customer_id > last, "groups by customer id, each once");
        last = g.customer_id.clone();
        let mut orders: Vec<StreamedOrder> = g
            .orders()
            .map(|f| (f.ordered_on.to_string(), f.total_fen, f.categories()))
            .collect();
        orders.sort();
        if !orders.is_empty() {
            out.insert(g.customer_id.clone(), orders);
        }
        Ok(())
    })
    .await
    .unwrap();
    out
}

/// `customer_order_log` (migration 0015) follows `orders`: built from the
/// orders a database held when the migration ran, then kept by triggers
/// through single and multi-row inserts, updates (a total; a day and the
/// customer together) and deletes, tenant by tenant, and untouched by a
/// rolled-back insert. The run's stream reads it by customer id, each
/// customer's orders up to the day asked for.
async fn order_log_upgrade_and_triggers(b: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let (store, db_name) = unmigrated_store(b, dir.path()).await;
    migrate_to(&store, 14).await;
    let (ta, tb) = ("tenant-a", "tenant-b");
    type Model = BTreeMap<(String, String), Vec<StreamedOrder>>;
    let mut model: Model = BTreeMap::new();
    let order = |t: &str, id: &str, cust: &str, day: &str, total: i64| OrderRow {
        tenant_id: t.into(),
        id: id.into(),
        customer_id: cust.into(),
        ordered_on: day.into(),
        channel: None,
        total_fen: total,
        line_count: 0,
        created_by: None,
        created_at: 0,
    };
    let line =
        |t: &str, order_id: &str, no: i64, category: Option<&str>, amount: i64| OrderLineRow {
            tenant_id: t.into(),
            order_id: order_id.into(),
            line_no: no,
            product: "商品".into(),
            category: category.map(str::to_string),
            quantity: 1,
            amount_fen: amount,
        };
    let cats = |v: &[(Option<&str>, i64)]| -> Vec<(Option<String>, i64)> {
        v.iter().map(|(c, a)| (c.map(str::to_string), *a)).collect()
    };
    let check = |model: &Model, store: &Store| {
        let model = model.clone();
        let store = store.clone();
        async move {
            for t in [ta, tb] {
                let want: BTreeMap<String, Vec<StreamedOrder>> = model
                    .iter()
                    .filter(|((mt, _), v)| mt == t && !v.is_empty())
                    .map(|((_, c), v)| {
                        let mut v = v.clone();
                        v.sort();
                        (c.clone(), v)
                    })
                    .collect();
                assert_eq!(
                    streamed_log(&store, t, "9999-12-31").await,
                    want,
                    "tenant {t}"
                );
            }
        }
    };

    // Before 0015: orders with lines, without lines, with the categories
    // column emptied, and the same customer id in another tenant.
    let mut tx = store.begin().await.unwrap();
    let o1 = order(ta, "o1", "c1", "2026-03-01", 1_000);
    cs::insert_order(
        &mut tx,
        &o1,
        &[
            line(ta, "o1", 1, Some("食品"), 600),
            line(ta, "o1", 2, None, 400),
        ],
    )
    .await
    .unwrap();
    cs::insert_order(&mut tx, &order(ta, "o2", "c1", "2026-01-15", 500), &[])
        .await
        .unwrap();
    cs::insert_order(
        &mut tx,
        &order(ta, "o3", "c2", "2025-12-31", 700),
        &[line(ta, "o3", 1, Some("日用\"品\""), 700)],
    )
    .await
    .unwrap();
    cs::insert_order(&mut tx, &order(tb, "o4", "c1", "2026-02-02", 900), &[])
        .await
        .unwrap();
    tx.exec(kehu_store::sql!(
        "UPDATE orders SET line_categories = NULL WHERE id = 'o2'"
    ))
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let key = |t: &str, c: &str| (t.to_string(), c.to_string());
    let o = |day: &str, total: i64, c: &[(Option<&str>, i64)]| (day.to_string(), total, cats(c));
    model.insert(
        key(ta, "c1"),
        vec![
            o("2026-03-01", 1_000, &[(Some("食品"), 600), (None, 400)]),
            o("2026-01-15", 500, &[]),
        ],
    );
    model.insert(
        key(ta, "c2"),
        vec![o("2025-12-31", 700, &[(Some("日用\"品\""), 700)])],
    );
    model.insert(key(tb, "c1"), vec![o("2026-02-02", 900, &[])]);

    store.migrate().await.unwrap();
    check(&model, &store).await;
    // Up to a day, that day included: later orders are left out.
    let until = streamed_log(&store, ta, "2026-01-15").await;
    assert_eq!(
        until,
        BTreeMap::from([
            ("c1".to_string(), vec![o("2026-01-15", 500, &[])]),
            (
                "c2".to_string(),
                vec![o("2025-12-31", 700, &[(Some("日用\"品\""), 700)])]
            ),
        ])
    );

    // One insert a statement: a first order, and one more for c1.
    let mut tx = store.begin().await.unwrap();
    cs::insert_order(
        &mut tx,
        &order(ta, "o5", "c3", "2026-05-05", 300),
        &[line(ta, "o5", 1, Some("服装"), 300)],
    )
    .await
    .unwrap();
    cs::insert_order(&mut tx, &order(ta, "o6", "c1", "2026-02-20", 250), &[])
        .await
        .unwrap();
    tx.commit().await.unwrap();
    model.insert(
        key(ta, "c3"),
        vec![o("2026-05-05", 300, &[(Some("服装"), 300)])],
    );
    model
        .get_mut(&key(ta, "c1"))
        .unwrap()
        .push(o("2026-02-20", 250, &[]));
    check(&model, &store).await;

    // Several customers and both tenants in one statement.
    exec_committed(
        &store,
        kehu_store::sql!(
        "INSERT INTO orders (tenant_id, id, customer_id, ordered_on, channel, total_fen, line_count, created_by, created_at, line_categories)
         VALUES ('tenant-a', 'o7', 'c2', '2026-06-01', NULL, 120, 0, NULL, 0, '[[\"食品\",120]]'),
                ('tenant-a', 'o8', 'c4', '2026-06-02', NULL, 80, 0, NULL, 0, '[]'),
                ('tenant-b', 'o9', 'c1', '2026-06-03', NULL, 60, 0, NULL, 0, NULL),
                ('tenant-a', 'o10', 'c2', '2026-06-01', NULL, 40, 0, NULL, 0, '[]')"
        ),
    )
    .await;
    let c2 = model.get_mut(&key(ta, "c2")).unwrap();
    c2.push(o("2026-06-01", 120, &[(Some("食品"), 120)]));
    c2.push(o("2026-06-01", 40, &[]));
    model.insert(key(ta, "c4"), vec![o("2026-06-02", 80, &[])]);
    model
        .get_mut(&key(tb, "c1"))
        .unwrap()
        .push(o("2026-06-03", 60, &[]));
    check(&model, &store).await;

    // Updates: a total; then a day and the customer at once (both rebuilt).
    for update in [
        "UPDATE orders SET total_fen = 1100 WHERE tenant_id = 'tenant-a' AND id = 'o1'",
        "UPDATE orders SET customer_id = 'c2', ordered_on = '2026-04-01' WHERE tenant_id = 'tenant-a' AND id = 'o2'",
    ] {
        exec_committed(&store, kehu_store::sql!(update)).await;
    }
    let c1 = model.get_mut(&key(ta, "c1")).unwrap();
    c1.retain(|x| x.0 != "2026-01-15");
    c1.iter_mut()
        .filter(|x| x.0 == "2026-03-01")
        .for_each(|x| x.1 = 1_100);
    model
        .get_mut(&key(ta, "c2"))
        .unwrap()
        .push(o("2026-04-01", 500, &[]));
    check(&model, &store).await;

    // Deletes: one of c2's orders; every order of c3 (its row goes).
    exec_committed(
        &store,
        kehu_store::sql!("DELETE FROM orders WHERE tenant_id = 'tenant-a' AND id IN ('o3', 'o5')"),
    )
    .await;
    model
        .get_mut(&key(ta, "c2"))
        .unwrap()
        .retain(|x| x.0 != "2025-12-31");
    model.remove(&key(ta, "c3"));
    check(&model, &store).await;
    let rows = store
        .reader()
        .await
        .unwrap()
        .conn()
        .int(kehu_store::sql!(
            "SELECT COUNT(*) FROM customer_order_log WHERE tenant_id = 'tenant-a' AND customer_id = 'c3'"
        ))
        .await
        .unwrap();
    assert_eq!(rows, Some(0));

    // A rolled-back insert leaves the log as it was.
    let mut tx = store.begin().await.unwrap();
    cs::insert_order(&mut tx, &order(ta, "o11", "c1", "2026-07-01", 999), &[])
        .await
        .unwrap();
    tx.rollback().await.unwrap();
    check(&model, &store).await;

    store.close().await;
    if let Some(name) = db_name {
        drop_database(&name).await;
    }
}
both!(order_log_upgrade_and_triggers);

/// ~500 customers with contacts, orders and lines in one bulk load; lists,
/// searches, lookups and totals agree with what was loaded.
async fn bulk_insert_agrees(b: Backend) {
    let ctx = Ctx::new(b).await;
    let t = ctx.tenant_id.clone();
    let all = ctx.all(&t);
    const N: usize = 500;
    let mut tx = ctx.store.begin().await.unwrap();
    let first = cs::reserve_code_seq(&mut tx, &t, "2026", N as i64)
        .await
        .unwrap();
    let mut items = Vec::new();
    let mut expect_totals = BTreeMap::new();
    let mut contact_phone = BTreeMap::new();
    let mut line_total = 0usize;
    for i in 0..N {
        let mut row = customer_row(
            &t,
            &format!("KH-2026-{:05}", first + i as i64),
            &format!("客户{i}"),
            None,
            10_000 + (i % 7) as i64,
        );
        row.kind = if i % 3 == 0 { "company" } else { "person" }.into();
        let contacts: Vec<(ContactRow, Vec<cs::Lookup>)> = (0..(i % 3))
            .map(|k| {
                let c = ContactRow {
                    tenant_id: t.clone(),
                    id: new_id(),
                    customer_id: row.id.clone(),
                    name: format!("联系人{i}-{k}"),
                    title: None,
                    is_primary: (k == 0) as i64,
                    sealed: vec![k as u8],
                    version: 1,
                    created_at: row.created_at,
                    updated_at: row.created_at,
                };
                let l = lookup("phone", &format!("contact-{i}-{k}"));
                contact_phone.insert(format!("contact-{i}-{k}"), row.id.clone());
                (c, vec![l])
            })
            .collect();
        let mut total = (0i64, 0i64);
        let orders: Vec<(OrderRow, Vec<OrderLineRow>)> = (0..(i % 4))
            .map(|o| {
                let id = new_id();
                let lines: Vec<OrderLineRow> = (1..=(o as i64 + 1))
                    .map(|n| OrderLineRow {
                        tenant_id: t.clone(),
                        order_id: id.clone(),
                        line_no: n,
                        product: "产品".into(),
                        category: Some("cat".into()),
                        quantity: n,
                        amount_fen: (i as i64 + 1) * n,
                    })
                    .collect();
                line_total += lines.len();
                let sum: i64 = lines.iter().map(|l| l.amount_fen).sum();
                total = (total.0 + 1, total.1 + sum);
                (
                    OrderRow {
                        tenant_id: t.clone(),
                        id,
                        customer_id: row.id.clone(),
                        ordered_on: format!("2026-01-{:02}", o + 1),
                        channel: None,
                        total_fen: sum,
                        line_count: lines.len() as i64,
                        created_by: None,
                        created_at: row.created_at,
                    },
                    lines,
                )
            })
            .collect();
        expect_totals.insert(row.id.clone(), total);
        items.push(BulkCustomer {
            lookups: vec![lookup("phone", &format!("customer-{i}"))],
            terms: format!("kehu{i} group{} bulk 客户", i % 10),
            contacts,
            orders,
            row,
        });
    }
    let ids: Vec<String> = items.iter().map(|c| c.row.id.clone()).collect();
    cs::bulk_insert_customers(&mut tx, items).await.unwrap();
    tx.commit().await.unwrap();

    let mut r = ctx.store.reader().await.unwrap();
    assert_eq!(
        cs::count_customers(&mut r.conn(), &t).await.unwrap(),
        N as i64
    );
    drop(r);
    let listed = list_all(&ctx, &all, &CustomerFilter::default()).await;
    assert_eq!(
        listed.iter().map(|c| c.id.clone()).collect::<BTreeSet<_>>(),
        ids.iter().cloned().collect::<BTreeSet<_>>()
    );
    let rids: BTreeSet<i64> = listed.iter().map(|c| c.rid).collect();
    assert_eq!(rids.len(), N, "distinct rids");
    assert!(
        listed
            .iter()
            .all(|c| c.version == 1 && c.created_by.is_none())
    );
    // Filters on loaded columns.
    let companies = list_all(
        &ctx,
        &all,
        &CustomerFilter {
            kind: Some("company".into()),
            created_from: Some(10_002),
            created_to: Some(10_004),
            ..Default::default()
        },
    )
    .await;
    let want = (0..N)
        .filter(|i| i % 3 == 0 && (2..4).contains(&(i % 7)))
        .count();
    assert_eq!(companies.len(), want);

    // Search: every customer by its own term (the search rows point at the
    // right customers), shared terms by count.
    for i in (0..N).step_by(37) {
        assert_eq!(
            search_ids(&ctx, &all, terms(&[(&format!("kehu{i}"), false)])).await,
            vec![ids[i].clone()],
            "kehu{i}"
        );
    }
    assert_eq!(
        search_ids(&ctx, &all, terms(&[("group3", false)]))
            .await
            .len(),
        N / 10
    );
    assert_eq!(
        search_ids(&ctx, &all, terms(&[("kehu49", true)]))
            .await
            .len(),
        11,
        "kehu49 and kehu490..=499"
    );
    assert_eq!(
        search_ids(&ctx, &all, terms(&[("bulk", false), ("客户", false)]))
            .await
            .len(),
        N
    );
    // Lookups of customers and of their contacts.
    let mut r = ctx.store.reader().await.unwrap();
    for i in (0..N).step_by(41) {
        assert_eq!(
            cs::find_by_lookup(
                &mut r.conn(),
                &all,
                &lookup("phone", &format!("customer-{i}"))
            )
            .await
            .unwrap(),
            vec![ids[i].clone()]
        );
    }
    for (seed, cust) in contact_phone.iter().step_by(29) {
        assert_eq!(
            cs::find_by_lookup(&mut r.conn(), &all, &lookup("phone", seed))
                .await
                .unwrap(),
            vec![cust.clone()],
            "{seed}"
        );
    }
    // Contacts, orders and totals per customer.
    let mut lines_seen = 0;
    for (i, id) in ids.iter().enumerate() {
        let contacts = cs::contacts(&mut r.conn(), &t, id).await.unwrap();
        assert_eq!(contacts.len(), i % 3);
        let totals = cs::order_totals(&mut r.conn(), &t, id).await.unwrap();
        let (count, sum) = expect_totals[id];
        assert_eq!((totals.order_count, totals.total_fen), (count, sum), "{i}");
        let orders = cs::orders(&mut r.conn(), &t, id, None, 10).await.unwrap();
        assert_eq!(orders.len() as i64, count);
        let oids: Vec<String> = orders.iter().map(|o| o.id.clone()).collect();
        let lines = cs::order_lines(&mut r.conn(), &t, &oids).await.unwrap();
        assert_eq!(
            lines.iter().map(|l| l.amount_fen).sum::<i64>(),
            sum,
            "lines add up to the order totals"
        );
        lines_seen += lines.len();
    }
    assert_eq!(lines_seen, line_total);
    drop(r);

    // Bulk rows behave like any other: update one (its search row moves).
    let mut row = listed.iter().find(|c| c.id == ids[123]).unwrap().clone();
    row.name = "改名".into();
    let mut tx = ctx.store.begin().await.unwrap();
    cs::update_customer(&mut tx, &row, Some(&[]), Some("renamed gaiming"), 20_000)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        search_ids(&ctx, &all, terms(&[("gaim", true)])).await,
        vec![ids[123].clone()]
    );
    assert!(
        search_ids(&ctx, &all, terms(&[("kehu123", false)]))
            .await
            .is_empty()
    );
    // The code counter continues after the reserved block.
    let mut tx = ctx.store.begin().await.unwrap();
    assert_eq!(
        kehu_store::org::next_code_seq(&mut tx, &t, "2026")
            .await
            .unwrap(),
        first + N as i64
    );
    tx.commit().await.unwrap();
    ctx.close().await;
}
both!(bulk_insert_agrees);

async fn backup(b: Backend) {
    let ctx = Ctx::new(b).await;
    let t = ctx.tenant_id.clone();
    for i in 0..7 {
        ctx.customer(&t, &format!("备份{i}"), None, &[], &format!("backup{i}"))
            .await;
    }
    let to = ctx.dir.path().join("backup.db");
    let res = ctx.store.backup_to(&to).await;
    match b {
        Backend::Sqlite => {
            res.expect("backup");
            assert!(to.exists());
            // Never overwrites.
            let err = ctx.store.backup_to(&to).await.unwrap_err();
            assert!(matches!(err, StoreError::Other(_)), "{err:?}");
            let copy = Store::open(&DbUrl::Sqlite(to.clone()), OpenOptions::default())
                .await
                .expect("backup opens");
            let mut r = copy.reader().await.unwrap();
            assert_eq!(cs::count_customers(&mut r.conn(), &t).await.unwrap(), 7);
            drop(r);
            // Search works in the copy too.
            let ctx2 = Ctx {
                store: copy,
                tenant_id: t.clone(),
                slug: ctx.slug.clone(),
                dir: tempfile::tempdir().unwrap(),
            };
            assert_eq!(
                search_ids(&ctx2, &ctx2.all(&t), terms(&[("backup", true)]))
                    .await
                    .len(),
                7
            );
            ctx2.close().await;
        }
        Backend::Postgres => {
            let err = res.unwrap_err();
            assert!(
                matches!(&err, StoreError::Other(m) if m.contains("pg_dump")),
                "{err:?}"
            );
            assert!(!to.exists());
        }
    }
    ctx.close().await;
}
both!(backup);

/// The hot reads decode the same rows whichever way they run: on SQLite the
/// synchronous path (decoded by column position) against sqlx's (by name),
/// badges included; on PostgreSQL both are sqlx, which keeps the test honest
/// about the statements themselves.
async fn fast_reads_agree(b: Backend) {
    let ctx = Ctx::new(b).await;
    let t = ctx.tenant_id.clone();
    let all = ctx.all(&t);
    let rep1 = ctx.user(&t, "rep1", None, None).await;
    let rep2 = ctx.user(&t, "rep2", None, None).await;
    let mut tx = ctx.store.begin().await.unwrap();
    let mut rows = Vec::new();
    for i in 0..5 {
        let mut row = customer_row(
            &t,
            &format!("KH-F{i}"),
            &format!("王小{i}"),
            None,
            1_000 + i,
        );
        // Every column its own value, so two swapped columns in the
        // position decoder cannot go unnoticed.
        let owner = if i % 2 == 0 { &rep1 } else { &rep2 };
        let creator = if i % 2 == 0 { &rep2 } else { &rep1 };
        row.kind = if i % 2 == 0 { "company" } else { "person" }.into();
        row.owner_id = Some(owner.clone());
        row.created_by = Some(creator.clone());
        row.province = Some(format!("省{i}"));
        row.city = Some(format!("市{i}"));
        row.district = Some(format!("区{i}"));
        row.industry = Some(format!("industry {i}"));
        row.occupation = Some(format!("occupation {i}"));
        row.employer = Some(format!("employer {i}"));
        row.source = Some(format!("source {i}"));
        row.notes = (i % 2 == 0).then(|| format!("note {i}"));
        row.uscc = Some(format!("91330000MA{i:08}"));
        row.custom_fields = format!("{{\"n\":{i}}}");
        row.sealed = vec![i as u8; 40];
        // The insert sets updated_at to created_at; moved apart below.
        row.updated_at = row.created_at + 7;
        cs::insert_customer(&mut tx, &row, &[], &format!("wangxiao{i} 王小"))
            .await
            .unwrap();
        rows.push(row);
    }
    tx.exec(kehu_store::sql!(
        "UPDATE customers SET updated_at = created_at + 7 WHERE tenant_id = $1",
        &t
    ))
    .await
    .unwrap();
    let badge = insight_row(&rows[1].id, rows[1].created_at, "B", "active");
    kehu_store::insight::replace_one(&mut tx, &t, badge)
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let mut r = ctx.store.reader().await.unwrap();
    let mut fr = ctx.store.fast_reader().await.unwrap();
    let f = CustomerFilter::default();
    let slow = cs::list_customers(&mut r.conn(), &all, &f, SortKey::Name, false, None, 50)
        .await
        .unwrap();
    let fast = cs::list_customers(&mut fr.read(), &all, &f, SortKey::Name, false, None, 50)
        .await
        .unwrap();
    assert_eq!(slow.len(), 5);
    assert_eq!(fast, slow);
    let badged: Vec<_> = fast.iter().filter(|c| c.tier.is_some()).collect();
    assert_eq!(badged.len(), 1);
    assert_eq!(badged[0].customer.id, rows[1].id);
    assert_eq!(
        (badged[0].tier.as_deref(), badged[0].stage.as_deref()),
        (Some("B"), Some("active"))
    );
    for row in &rows {
        let s = cs::customer(&mut r.conn(), &all, &row.id, Access::Read)
            .await
            .unwrap();
        let f = cs::customer(&mut fr.read(), &all, &row.id, Access::Read)
            .await
            .unwrap();
        assert_eq!(f, s);
        let mut want = row.clone();
        want.rid = f.as_ref().map(|c| c.rid).unwrap_or_default();
        assert_eq!(f.as_ref(), Some(&want), "fast read of {}", row.code);
    }
    drop((r, fr));
    ctx.close().await;
}
both!(fast_reads_agree);

fn insight_row(
    customer_id: &str,
    created_at: i64,
    tier: &str,
    stage: &str,
) -> kehu_store::insight::InsightRow {
    kehu_store::insight::InsightRow {
        customer_id: customer_id.into(),
        created_at,
        run_id: "run-1".into(),
        computed_at: 5,
        tier: tier.into(),
        tier_since: 1,
        stage: stage.into(),
        stage_since: 2,
        frequency_class: None,
        amount_class: None,
        product_range: None,
        r_score: None,
        f_score: None,
        m_score: None,
        rfm_segment: None,
        contribution_12m_fen: 0,
        orders_365d: 0,
        p_alive: None,
        expected_purchases_90d: None,
        expected_spend_fen: None,
        clv_fen: None,
        value_at_risk_fen: None,
        upgrade_tier: None,
        predicted_12m_fen: None,
        upgrade_threshold_fen: None,
        facts: None,
        explanations: "[]".into(),
        signals: "[]".into(),
    }
}

/// Which of the (id, tier, stage, tagged) rows a filter should keep.
type Keep = fn(&(String, &str, &str, bool, i64)) -> bool;

/// Tier, stage and tag filters give the same pages whether the value is
/// common or rare, alone and combined, in created_at order (on SQLite a
/// common class drives the page from its own index) and in name order (a
/// common class is tested row by row along the sort index); and again when
/// every walk is made to give up at once, so the fallback plan answers.
/// Tier B is held only by the oldest customers, far from the newest page.
async fn classification_filters_common_and_rare(b: Backend) {
    let ctx = Ctx::new(b).await;
    let t = ctx.tenant_id.clone();
    let all = ctx.all(&t);
    // A sales rep who owns every third customer and shares some others
    // through the team, so both branches of a scoped list are filtered.
    let rep = ctx.user(&t, "rep", None, None).await;
    let own = Viewer {
        tenant_id: t.clone(),
        user_id: rep.clone(),
        scope: DataScope::Own,
        department_id: None,
    };
    let mut visible = BTreeSet::new();
    let mut team = Vec::new();
    const N: usize = 4_600;
    let mut tx = ctx.store.begin().await.unwrap();
    let first = cs::reserve_code_seq(&mut tx, &t, "2026", N as i64)
        .await
        .unwrap();
    let mut items = Vec::new();
    let mut insight = Vec::new();
    let mut tags = Vec::new();
    // (id, tier, stage, tagged, created_at), sorted into list order below.
    let mut expect = Vec::new();
    let mut names = HashMap::new();
    for i in 0..N {
        let owned = i % 3 == 0;
        // Three customers to a timestamp, and ids in no relation to time,
        // so the list's tie-break by id is exercised.
        let created_at = 10_000 + (i / 3) as i64;
        let mut row = customer_row(
            &t,
            &format!("KH-2026-{:05}", first + i as i64),
            // Name order differs from created_at order.
            &format!("客户{}", (i * 7_919) % N),
            owned.then_some(rep.as_str()),
            created_at,
        );
        row.id = uuid::Uuid::from_u128(
            (i as u128 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c835),
        )
        .to_string();
        if owned || i % 7 == 1 {
            visible.insert(row.id.clone());
        }
        if !owned && i % 7 == 1 {
            team.push(TeamRow {
                tenant_id: t.clone(),
                customer_id: row.id.clone(),
                user_id: rep.clone(),
                access: "read".into(),
                created_at: 1,
            });
        }
        let tier = match i {
            _ if i % 50 == 0 => "A",
            _ if i < 2_200 => "B",
            _ => "D",
        };
        let stage = if i % 10 == 0 { "loyal" } else { "active" };
        let tagged = i % 20 != 0;
        insight.push(insight_row(&row.id, created_at, tier, stage));
        if tagged {
            tags.push(kehu_store::insight::TagRow {
                customer_id: row.id.clone(),
                tag: "常客".into(),
                rule_id: None,
                since: 1,
                created_at,
            });
        }
        names.insert(row.id.clone(), row.name.clone());
        expect.push((row.id.clone(), tier, stage, tagged, created_at));
        items.push(BulkCustomer {
            row,
            lookups: vec![],
            terms: String::new(),
            contacts: vec![],
            orders: vec![],
        });
    }
    cs::bulk_insert_customers(&mut tx, items).await.unwrap();
    for m in &team {
        cs::put_team_member(&mut tx, m).await.unwrap();
    }
    kehu_store::insight::insert_all(&mut tx, &t, insight)
        .await
        .unwrap();
    kehu_store::insight::insert_tags(&mut tx, &t, tags)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    expect.sort_by(|a, b| (a.4, &a.0).cmp(&(b.4, &b.0)));
    // Planner statistics, as autovacuum would gather them (without any,
    // PostgreSQL took up to 0.7 s a page here).
    let mut tx = ctx.store.begin().await.unwrap();
    cs::after_bulk_load(&mut tx).await.unwrap();
    tx.commit().await.unwrap();

    let cases: [(&str, CustomerFilter, Keep); 8] = [
        (
            "common tier",
            CustomerFilter {
                tier: Some("D".into()),
                ..Default::default()
            },
            |e| e.1 == "D",
        ),
        (
            "common tier held by the oldest",
            CustomerFilter {
                tier: Some("B".into()),
                ..Default::default()
            },
            |e| e.1 == "B",
        ),
        (
            "rare tier",
            CustomerFilter {
                tier: Some("A".into()),
                ..Default::default()
            },
            |e| e.1 == "A",
        ),
        (
            "common stage",
            CustomerFilter {
                stage: Some("active".into()),
                ..Default::default()
            },
            |e| e.2 == "active",
        ),
        (
            "common tag",
            CustomerFilter {
                tag: Some("常客".into()),
                ..Default::default()
            },
            |e| e.3,
        ),
        (
            "common tier and rare stage",
            CustomerFilter {
                tier: Some("D".into()),
                stage: Some("loyal".into()),
                ..Default::default()
            },
            |e| e.1 == "D" && e.2 == "loyal",
        ),
        (
            "common tier and common tag",
            CustomerFilter {
                tier: Some("D".into()),
                tag: Some("常客".into()),
                ..Default::default()
            },
            |e| e.1 == "D" && e.3,
        ),
        (
            "oldest tier, common stage and tag",
            CustomerFilter {
                tier: Some("B".into()),
                stage: Some("active".into()),
                tag: Some("常客".into()),
                ..Default::default()
            },
            |e| e.1 == "B" && e.2 == "active" && e.3,
        ),
    ];
    let by_name = |ids: &[String]| {
        let mut ids = ids.to_vec();
        ids.sort_by(|a, b| (&names[a], a).cmp(&(&names[b], b)));
        ids
    };
    // The budget override is process-wide: only the SQLite leg (the only
    // backend that walks) sets it, so the two legs running side by side do
    // not reset each other's.
    let budgets: &[Option<std::time::Duration>] = match b {
        Backend::Sqlite => &[None, Some(std::time::Duration::ZERO)],
        Backend::Postgres => &[None],
    };
    for &forced in budgets {
        if b == Backend::Sqlite {
            cs::force_class_walk_budget(forced);
        }
        for (what, f, keep) in &cases {
            let what = format!("{what} (walk budget {forced:?})");
            let want: Vec<String> = expect
                .iter()
                .filter(|e| keep(e))
                .map(|e| e.0.clone())
                .collect();
            let want_own: Vec<String> = want
                .iter()
                .filter(|id| visible.contains(*id))
                .cloned()
                .collect();
            assert!(
                want_own.len() < want.len() && !want_own.is_empty(),
                "{what}"
            );
            for sort in [SortKey::CreatedAt, SortKey::Name] {
                let order = |ids: &[String]| match sort {
                    SortKey::Name => by_name(ids),
                    _ => ids.to_vec(),
                };
                let ids =
                    |rows: Vec<cs::CustomerRow>| rows.into_iter().map(|c| c.id).collect::<Vec<_>>();
                let got = ids(list_all_sorted(&ctx, &all, f, sort).await);
                assert_eq!(got.len(), want.len(), "{what} by {sort:?}");
                assert_eq!(got, order(&want), "{what} by {sort:?}");
                let got_own = ids(list_all_sorted(&ctx, &own, f, sort).await);
                assert_eq!(
                    got_own,
                    order(&want_own),
                    "{what} by {sort:?}: scope own with team shares"
                );
            }
            // The newest page, as the customer list shows it first.
            let mut fr = ctx.store.fast_reader().await.unwrap();
            let page =
                cs::list_customers(&mut fr.read(), &all, f, SortKey::CreatedAt, true, None, 50)
                    .await
                    .unwrap();
            let newest: Vec<String> = want.iter().rev().take(50).cloned().collect();
            assert_eq!(
                page.iter()
                    .map(|c| c.customer.id.clone())
                    .collect::<Vec<_>>(),
                newest,
                "{what}: newest page"
            );
        }
    }
    if b == Backend::Sqlite {
        cs::force_class_walk_budget(None);
    }
    ctx.close().await;
}
both!(classification_filters_common_and_rare);

/// The planner estimate that lets PostgreSQL skip counting a common search
/// term is read from `EXPLAIN`, bound parameters included; SQLite has none.
async fn planner_row_estimate(b: Backend) {
    let ctx = Ctx::new(b).await;
    let mut r = ctx.store.reader().await.unwrap();
    let got = r
        .conn()
        .pg_estimated_rows(kehu_store::Sql::with(
            "SELECT * FROM generate_series(1, $1::int)",
            vec![kehu_store::Arg::I64(Some(1234))],
        ))
        .await;
    match b {
        Backend::Postgres => assert_eq!(got.unwrap(), Some(1234)),
        Backend::Sqlite => assert_eq!(got.unwrap(), None),
    }
    drop(r);
    ctx.close().await;
}
both!(planner_row_estimate);

/// A full run rewrites a chunk of customers at a time: rows whose indexed
/// columns keep their values are updated in place, the others replaced,
/// and the indexes agree either way; tags change only where they changed;
/// a deleted customer's classification goes with it (and again if a run
/// wrote it back).
async fn classification_chunks_and_deletes(b: Backend) {
    use kehu_store::insight as ins;
    let ctx = Ctx::new(b).await;
    let (t, _) = ctx.new_tenant().await;
    let (other, _) = ctx.new_tenant().await;
    let mut ids = Vec::new();
    let mut rids = Vec::new();
    for name in ["甲", "乙", "丙", "戊"] {
        let (id, rid) = ctx.customer(&t, name, None, &[], name).await;
        ids.push(id);
        rids.push(rid);
    }
    let (foreign, _) = ctx.customer(&other, "丁", None, &[], "丁").await;
    let tag = |id: &str, tag: &str| ins::TagRow {
        customer_id: id.into(),
        tag: tag.into(),
        rule_id: Some("r1".into()),
        since: 1,
        created_at: 1,
    };
    let mut tx = ctx.store.begin().await.unwrap();
    let mut rows: Vec<_> = ids[..3]
        .iter()
        .map(|id| insight_row(id, 1, "B", "active"))
        .collect();
    // 乙 was re-classified (after an order) at 200; the others at 5.
    rows[1].computed_at = 200;
    ins::insert_all(&mut tx, &t, rows).await.unwrap();
    ins::insert_tags(
        &mut tx,
        &t,
        ids[..3].iter().map(|id| tag(id, "常客")).collect(),
    )
    .await
    .unwrap();
    ins::insert_all(
        &mut tx,
        &other,
        vec![insight_row(&foreign, 1, "A", "loyal")],
    )
    .await
    .unwrap();
    ins::insert_tags(&mut tx, &other, vec![tag(&foreign, "常客")])
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let all: Vec<&str> = ids.iter().map(String::as_str).collect();
    let mut tx = ctx.store.begin().await.unwrap();
    let stored = ins::stored_for_run(&mut tx, &t, &all).await.unwrap();
    let mut at: Vec<_> = stored
        .values()
        .map(|s| (s.customer_id.clone(), s.computed_at))
        .collect();
    at.sort();
    let mut expect_at = vec![
        (ids[0].clone(), 5),
        (ids[1].clone(), 200),
        (ids[2].clone(), 5),
    ];
    expect_at.sort();
    assert_eq!(at, expect_at, "戊 has no row yet");
    // Another tenant's rows are never seen.
    assert!(
        ins::stored_for_run(&mut tx, &other, &all)
            .await
            .unwrap()
            .is_empty()
    );
    // Ids in byte order (a run's chunks) are read as a key range on
    // SQLite: a customer inside the range but not asked for is left out,
    // of the rows and of the tags alike.
    let mut sorted = all[..3].to_vec();
    sorted.sort_unstable();
    let ends = [sorted[0], sorted[2]];
    let mut got: Vec<String> = ins::stored_for_run(&mut tx, &t, &ends)
        .await
        .unwrap()
        .into_keys()
        .collect();
    got.sort();
    assert_eq!(got, ends, "not {}", sorted[1]);
    let mut got: Vec<String> = ins::tags_of(&mut tx, &t, &ends)
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.customer_id)
        .collect();
    got.sort();
    assert_eq!(got, ends, "not {}", sorted[1]);
    let reversed = [sorted[2], sorted[0]];
    assert_eq!(
        ins::stored_for_run(&mut tx, &t, &reversed)
            .await
            .unwrap()
            .len(),
        2
    );

    // The run: 甲 keeps tier and stage (new scores, facts and run), 丙 moves
    // to tier A, 戊 is new.
    let mut same = insight_row(&ids[0], 1, "B", "active");
    same.run_id = "run-2".into();
    same.computed_at = 300;
    same.p_alive = Some(0.25);
    same.facts = Some("{\"orders_90d\": 3}".into());
    same.signals = "[\"x\"]".into();
    let mut moved = insight_row(&ids[2], 1, "A", "active");
    moved.run_id = "run-2".into();
    moved.computed_at = 300;
    moved.value_at_risk_fen = Some(12_300);
    let mut new = insight_row(&ids[3], 1, "A", "loyal");
    new.computed_at = 300;
    // 乙's stored row is newer than the run (written at 200, the run began
    // at 100): the run's row for it is not written.
    let mut stale = insight_row(&ids[1], 1, "C", "active");
    stale.computed_at = 300;
    ins::write_run_rows(
        &mut tx,
        &t,
        vec![same.clone(), moved.clone(), new.clone(), stale],
        &stored,
        100,
    )
    .await
    .unwrap();
    // 甲 loses 常客 and gains 新客; 丙's 常客 now comes from another rule.
    let mut regiven = tag(&ids[2], "常客");
    regiven.rule_id = Some("r2".into());
    ins::retag(
        &mut tx,
        &t,
        &[
            (ids[0].clone(), "常客".into()),
            (ids[2].clone(), "常客".into()),
            (foreign.clone(), "常客".into()),
        ],
        vec![tag(&ids[0], "新客"), regiven.clone()],
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();

    let mut r = ctx.store.reader().await.unwrap();
    for row in [&same, &moved, &new] {
        let got = ins::insight(&mut r.conn(), &t, &row.customer_id)
            .await
            .unwrap();
        assert_eq!(got.as_ref(), Some(row));
    }
    let kept = ins::insight(&mut r.conn(), &t, &ids[1])
        .await
        .unwrap()
        .unwrap();
    assert_eq!((kept.tier.as_str(), kept.computed_at), ("B", 200));
    let tags_of = |id: &str| {
        let id = id.to_string();
        let t = t.clone();
        let ctx = &ctx;
        async move {
            let mut r = ctx.store.reader().await.unwrap();
            ins::tags(&mut r.conn(), &t, Some(&id)).await.unwrap()
        }
    };
    let names = |v: Vec<ins::TagRow>| v.into_iter().map(|t| t.tag).collect::<Vec<_>>();
    assert_eq!(names(tags_of(&ids[0]).await), ["新客"]);
    assert_eq!(names(tags_of(&ids[1]).await), ["常客"]);
    assert_eq!(tags_of(&ids[2]).await, [regiven]);
    drop(r);
    // The tier index agrees with the rows.
    let v = ctx.all(&t);
    let tier = |x: &str| CustomerFilter {
        tier: Some(x.into()),
        ..Default::default()
    };
    let mut a: Vec<String> = list_all(&ctx, &v, &tier("A"))
        .await
        .into_iter()
        .map(|c| c.id)
        .collect();
    a.sort();
    let mut want = vec![ids[2].clone(), ids[3].clone()];
    want.sort();
    assert_eq!(a, want);
    let mut bs: Vec<String> = list_all(&ctx, &v, &tier("B"))
        .await
        .into_iter()
        .map(|c| c.id)
        .collect();
    bs.sort();
    let mut want = vec![ids[0].clone(), ids[1].clone()];
    want.sort();
    assert_eq!(bs, want);
    // The other tenant's tag is untouched.
    let mut r = ctx.store.reader().await.unwrap();
    assert_eq!(
        ins::tags(&mut r.conn(), &other, None).await.unwrap().len(),
        1
    );
    drop(r);

    let state = |id: String| {
        let t = t.clone();
        let ctx = &ctx;
        async move {
            let mut r = ctx.store.reader().await.unwrap();
            let row = ins::insight(&mut r.conn(), &t, &id).await.unwrap();
            let tags = ins::tags(&mut r.conn(), &t, Some(&id)).await.unwrap();
            (row.is_some(), tags.len())
        }
    };
    // Deleting 丙 at 1,000 removes its classification and tags.
    let mut tx = ctx.store.begin().await.unwrap();
    cs::delete_customer(&mut tx, &t, &ids[2], rids[2], 1, 1_000)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(state(ids[2].clone()).await, (false, 0));
    // A run's chunks ask which customers were deleted since (about) it began.
    let mut tx = ctx.store.begin().await.unwrap();
    let gone = ins::deleted_since(&mut tx, &t, 1_000).await.unwrap();
    assert_eq!(gone.into_iter().collect::<Vec<_>>(), [ids[2].clone()]);
    assert!(
        ins::deleted_since(&mut tx, &t, 1_001)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        ins::deleted_since(&mut tx, &other, 0)
            .await
            .unwrap()
            .is_empty()
    );
    tx.commit().await.unwrap();

    // A run that loaded 丙 before the delete writes it back; the run's last
    // step removes what belongs to customers deleted since the run began.
    let mut tx = ctx.store.begin().await.unwrap();
    ins::insert_all(&mut tx, &t, vec![insight_row(&ids[2], 1, "B", "active")])
        .await
        .unwrap();
    ins::insert_tags(&mut tx, &t, vec![tag(&ids[2], "常客")])
        .await
        .unwrap();
    ins::clear_deleted(&mut tx, &t, 1_001).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(state(ids[2].clone()).await, (true, 1));
    let mut tx = ctx.store.begin().await.unwrap();
    ins::clear_deleted(&mut tx, &t, 1_000).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(state(ids[2].clone()).await, (false, 0));
    assert_eq!(state(ids[1].clone()).await, (true, 1));
    let mut r = ctx.store.reader().await.unwrap();
    assert!(
        ins::insight(&mut r.conn(), &other, &foreign)
            .await
            .unwrap()
            .is_some()
    );
    drop(r);
    ctx.close().await;
}

both!(classification_chunks_and_deletes);
