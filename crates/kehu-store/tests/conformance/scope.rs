//! Data scope: which customers a viewer can read and write.

use std::collections::BTreeSet;

use kehu_domain::access::DataScope;
use kehu_store::Backend;
use kehu_store::customers::{self as cs, Access, CustomerFilter, SearchSpec, TeamRow, Viewer};

use crate::both;
use crate::support::*;

/// Checks every read path against `read` and the write path against `write`.
async fn check(
    ctx: &Ctx,
    what: &str,
    v: &Viewer,
    universe: &[(String, String)],
    read: &[&str],
    write: &[&str],
) {
    let id_of = |name: &str| {
        universe
            .iter()
            .find(|(n, _)| n == name)
            .unwrap_or_else(|| panic!("no customer {name}"))
            .1
            .clone()
    };
    let read_ids: BTreeSet<String> = read.iter().map(|n| id_of(n)).collect();
    let write_ids: BTreeSet<String> = write.iter().map(|n| id_of(n)).collect();
    let name_of = |id: &str| {
        universe
            .iter()
            .find(|(_, i)| i == id)
            .map(|(n, _)| n.clone())
            .unwrap_or_else(|| format!("?{id}"))
    };
    let names = |ids: &BTreeSet<String>| ids.iter().map(|i| name_of(i)).collect::<BTreeSet<_>>();

    let listed: BTreeSet<String> = list_all(ctx, v, &CustomerFilter::default())
        .await
        .into_iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(names(&listed), names(&read_ids), "{what}: list");
    let searched: BTreeSet<String> = search_ids(ctx, v, terms(&[("scope", false)]))
        .await
        .into_iter()
        .collect();
    assert_eq!(names(&searched), names(&read_ids), "{what}: search terms");
    let by_lookup = SearchSpec {
        lookups: vec![lookup("phone", "shared")],
        ..Default::default()
    };
    let searched: BTreeSet<String> = search_ids(ctx, v, by_lookup).await.into_iter().collect();
    assert_eq!(names(&searched), names(&read_ids), "{what}: search lookup");
    let mut r = ctx.store.reader().await.unwrap();
    let mut fr = ctx.store.fast_reader().await.unwrap();
    let found: BTreeSet<String> = cs::find_by_lookup(&mut r.conn(), v, &lookup("phone", "shared"))
        .await
        .unwrap()
        .into_iter()
        .collect();
    assert_eq!(names(&found), names(&read_ids), "{what}: find_by_lookup");
    for (name, id) in universe {
        let can_read = cs::customer(&mut fr.read(), v, id, Access::Read)
            .await
            .unwrap()
            .is_some();
        let can_write = cs::customer(&mut fr.read(), v, id, Access::Write)
            .await
            .unwrap()
            .is_some();
        assert_eq!(can_read, read_ids.contains(id), "{what}: read {name}");
        assert_eq!(can_write, write_ids.contains(id), "{what}: write {name}");
    }
}

async fn data_scopes(b: Backend) {
    use DataScope::*;
    let ctx = Ctx::new(b).await;
    let t = ctx.tenant_id.clone();
    // Sales ─ East ─ Shanghai; Support.
    let sales = ctx.department(&t, None, "销售部").await.id;
    let east = ctx.department(&t, Some(&sales), "华东区").await.id;
    let shanghai = ctx.department(&t, Some(&east), "上海").await.id;
    let support = ctx.department(&t, None, "客服部").await.id;
    // boss ← mgr ← rep1, rep2 ← intern; other; loner; cyc1 ⇄ cyc2.
    let boss = ctx.user(&t, "boss", Some(&sales), None).await;
    let mgr = ctx.user(&t, "mgr", Some(&east), Some(&boss)).await;
    let rep1 = ctx.user(&t, "rep1", Some(&east), Some(&mgr)).await;
    let rep2 = ctx.user(&t, "rep2", Some(&shanghai), Some(&mgr)).await;
    let intern = ctx.user(&t, "intern", Some(&shanghai), Some(&rep2)).await;
    let other = ctx.user(&t, "other", Some(&support), None).await;
    let loner = ctx.user(&t, "loner", None, None).await;
    let cyc1 = ctx.user(&t, "cyc1", None, None).await;
    let cyc2 = ctx.user(&t, "cyc2", None, Some(&cyc1)).await;
    {
        let mut r = ctx.store.reader().await.unwrap();
        let mut u = kehu_store::org::user(&mut r.conn(), &t, &cyc1)
            .await
            .unwrap()
            .unwrap();
        drop(r);
        u.manager_id = Some(cyc2.clone());
        let mut tx = ctx.store.begin().await.unwrap();
        kehu_store::org::update_user(&mut tx, &u, 1).await.unwrap();
        tx.commit().await.unwrap();
    }

    let shared = [lookup("phone", "shared")];
    let mut universe = Vec::new();
    for (name, owner) in [
        ("boss", Some(&boss)),
        ("mgr", Some(&mgr)),
        ("rep1", Some(&rep1)),
        ("rep2", Some(&rep2)),
        ("intern", Some(&intern)),
        ("other", Some(&other)),
        ("loner", Some(&loner)),
        ("cyc1", Some(&cyc1)),
        ("cyc2", Some(&cyc2)),
        ("nobody", None),
    ] {
        let (id, _) = ctx
            .customer(&t, name, owner.map(|s| s.as_str()), &shared, "scope")
            .await;
        universe.push((name.to_string(), id));
    }
    let cust = |name: &str| universe.iter().find(|(n, _)| n == name).unwrap().1.clone();
    // rep1 is on other's customer's team (read) and on boss's (write).
    let mut tx = ctx.store.begin().await.unwrap();
    for (c, access) in [("other", "read"), ("boss", "write")] {
        cs::put_team_member(
            &mut tx,
            &TeamRow {
                tenant_id: t.clone(),
                customer_id: cust(c),
                user_id: rep1.clone(),
                access: access.into(),
                created_at: 1,
            },
        )
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
    // Another tenant: a customer owned by the same user id, on the same
    // shared lookup and term, must never show.
    let (other_tenant, _) = ctx.new_tenant().await;
    ctx.customer(&other_tenant, "foreign", Some(&rep1), &shared, "scope")
        .await;
    ctx.customer(&other_tenant, "foreign2", Some(&mgr), &shared, "scope")
        .await;

    let everyone = [
        "boss", "mgr", "rep1", "rep2", "intern", "other", "loner", "cyc1", "cyc2", "nobody",
    ];
    let sales_tree = ["boss", "mgr", "rep1", "rep2", "intern"];
    let cases: Vec<(&str, Viewer, Vec<&str>, Vec<&str>)> = vec![
        (
            "own rep1 (+team)",
            ctx.viewer(&rep1, Own, Some(&east)),
            vec!["rep1", "other", "boss"],
            vec!["rep1", "boss"],
        ),
        (
            "own intern",
            ctx.viewer(&intern, Own, Some(&shanghai)),
            vec!["intern"],
            vec!["intern"],
        ),
        (
            "own user without customers",
            ctx.viewer(&new_id(), Own, None),
            vec![],
            vec![],
        ),
        (
            "subordinates mgr (two levels)",
            ctx.viewer(&mgr, OwnAndSubordinates, Some(&east)),
            vec!["mgr", "rep1", "rep2", "intern"],
            vec!["mgr", "rep1", "rep2", "intern"],
        ),
        (
            "subordinates rep2",
            ctx.viewer(&rep2, OwnAndSubordinates, Some(&shanghai)),
            vec!["rep2", "intern"],
            vec!["rep2", "intern"],
        ),
        (
            "subordinates boss (three levels)",
            ctx.viewer(&boss, OwnAndSubordinates, Some(&sales)),
            sales_tree.to_vec(),
            sales_tree.to_vec(),
        ),
        (
            "subordinates rep1 (+team)",
            ctx.viewer(&rep1, OwnAndSubordinates, Some(&east)),
            vec!["rep1", "other", "boss"],
            vec!["rep1", "boss"],
        ),
        (
            "subordinates in a manager cycle",
            ctx.viewer(&cyc1, OwnAndSubordinates, None),
            vec!["cyc1", "cyc2"],
            vec!["cyc1", "cyc2"],
        ),
        (
            "department mgr (East only)",
            ctx.viewer(&mgr, Department, Some(&east)),
            vec!["mgr", "rep1"],
            vec!["mgr", "rep1"],
        ),
        (
            "department rep2 (Shanghai)",
            ctx.viewer(&rep2, Department, Some(&shanghai)),
            vec!["rep2", "intern"],
            vec!["rep2", "intern"],
        ),
        (
            "department rep1 (+team)",
            ctx.viewer(&rep1, Department, Some(&east)),
            vec!["mgr", "rep1", "other", "boss"],
            vec!["mgr", "rep1", "boss"],
        ),
        (
            "department without department",
            ctx.viewer(&loner, Department, None),
            vec!["loner"],
            vec!["loner"],
        ),
        (
            "department and below mgr (East + Shanghai)",
            ctx.viewer(&mgr, DepartmentAndBelow, Some(&east)),
            vec!["mgr", "rep1", "rep2", "intern"],
            vec!["mgr", "rep1", "rep2", "intern"],
        ),
        (
            "department and below boss (Sales)",
            ctx.viewer(&boss, DepartmentAndBelow, Some(&sales)),
            sales_tree.to_vec(),
            sales_tree.to_vec(),
        ),
        (
            "department and below other (Support)",
            ctx.viewer(&other, DepartmentAndBelow, Some(&support)),
            vec!["other"],
            vec!["other"],
        ),
        (
            "department and below without department",
            ctx.viewer(&loner, DepartmentAndBelow, None),
            vec!["loner"],
            vec!["loner"],
        ),
        (
            "all",
            ctx.viewer(&loner, All, None),
            everyone.to_vec(),
            everyone.to_vec(),
        ),
    ];
    for (what, v, read, write) in &cases {
        check(&ctx, what, v, &universe, read, write).await;
    }

    // Team access changes take effect: rep1 gets write on other's customer,
    // then loses both.
    let mut tx = ctx.store.begin().await.unwrap();
    cs::put_team_member(
        &mut tx,
        &TeamRow {
            tenant_id: t.clone(),
            customer_id: cust("other"),
            user_id: rep1.clone(),
            access: "write".into(),
            created_at: 2,
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let own_rep1 = ctx.viewer(&rep1, Own, Some(&east));
    check(
        &ctx,
        "own rep1 (team write)",
        &own_rep1,
        &universe,
        &["rep1", "other", "boss"],
        &["rep1", "other", "boss"],
    )
    .await;
    let mut tx = ctx.store.begin().await.unwrap();
    cs::remove_team_member(&mut tx, &t, &cust("other"), &rep1)
        .await
        .unwrap();
    cs::remove_team_member(&mut tx, &t, &cust("boss"), &rep1)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    check(
        &ctx,
        "own rep1 (no team)",
        &own_rep1,
        &universe,
        &["rep1"],
        &["rep1"],
    )
    .await;

    // Filters narrow within the scope.
    let ids = |rows: Vec<cs::CustomerRow>| -> BTreeSet<String> {
        rows.into_iter()
            .map(|c| {
                universe
                    .iter()
                    .find(|(_, i)| *i == c.id)
                    .map(|(n, _)| n.clone())
                    .unwrap_or(c.name)
            })
            .collect()
    };
    let set = |names: &[&str]| names.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
    let all = ctx.viewer(&loner, All, None);
    let f = |dept: Option<&str>, owner: Option<&str>| CustomerFilter {
        department_id: dept.map(str::to_string),
        owner_id: owner.map(str::to_string),
        ..Default::default()
    };
    assert_eq!(
        ids(list_all(&ctx, &all, &f(Some(&east), None)).await),
        set(&["mgr", "rep1", "rep2", "intern"])
    );
    assert_eq!(
        ids(list_all(&ctx, &all, &f(Some(&shanghai), None)).await),
        set(&["rep2", "intern"])
    );
    assert_eq!(
        ids(list_all(&ctx, &all, &f(None, Some(&rep1))).await),
        set(&["rep1"])
    );
    assert_eq!(
        ids(list_all(&ctx, &all, &f(Some(&support), Some(&rep1))).await),
        set(&[])
    );
    let sub_mgr = ctx.viewer(&mgr, OwnAndSubordinates, Some(&east));
    assert_eq!(
        ids(list_all(&ctx, &sub_mgr, &f(Some(&shanghai), None)).await),
        set(&["rep2", "intern"])
    );
    assert_eq!(
        ids(list_all(&ctx, &sub_mgr, &f(Some(&sales), None)).await),
        set(&["mgr", "rep1", "rep2", "intern"])
    );

    // Moving a user to another department moves their customers' scope.
    let mut r = ctx.store.reader().await.unwrap();
    let mut u = kehu_store::org::user(&mut r.conn(), &t, &intern)
        .await
        .unwrap()
        .unwrap();
    drop(r);
    u.department_id = Some(support.clone());
    let mut tx = ctx.store.begin().await.unwrap();
    kehu_store::org::update_user(&mut tx, &u, 2).await.unwrap();
    tx.commit().await.unwrap();
    let below_mgr = ctx.viewer(&mgr, DepartmentAndBelow, Some(&east));
    check(
        &ctx,
        "department and below mgr after the intern moved",
        &below_mgr,
        &universe,
        &["mgr", "rep1", "rep2"],
        &["mgr", "rep1", "rep2"],
    )
    .await;
    let below_other = ctx.viewer(&other, DepartmentAndBelow, Some(&support));
    check(
        &ctx,
        "department and below other after the intern moved",
        &below_other,
        &universe,
        &["other", "intern"],
        &["other", "intern"],
    )
    .await;
    ctx.close().await;
}
both!(data_scopes);
