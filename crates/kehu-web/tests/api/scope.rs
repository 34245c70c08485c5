use reqwest::StatusCode;
use serde_json::json;

use crate::both;
use crate::support::{Backend, Server};

fn names(r: &crate::support::Resp) -> Vec<String> {
    let mut v: Vec<String> = r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().unwrap().to_string())
        .collect();
    v.sort();
    v
}

async fn sales_reps_see_only_their_own_customers(b: Backend) {
    let s = Server::start(b).await;
    let east = s.department("华东销售部", None).await;
    let west = s.department("华西销售部", None).await;
    let boss = s.user("zhou.min", "manager", Some(&east), None).await;
    s.user("li.na", "sales", Some(&east), Some(&boss)).await;
    s.user("wang.qiang", "sales", Some(&west), None).await;
    let mut li = s.login("li.na").await;
    let mut wang = s.login("wang.qiang").await;
    let mine = li
        .customer(json!({"kind": "person", "name": "李的客户", "phones": ["13811112222"]}))
        .await;
    let theirs = wang
        .customer(json!({"kind": "person", "name": "王的客户", "phones": ["13833334444"]}))
        .await;
    let theirs_id = theirs["id"].as_str().unwrap();

    // By id: 404, not 403, so existence does not leak.
    let r = li.get(&format!("/api/v1/customers/{theirs_id}")).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    for sub in ["contacts", "orders", "timeline", "team"] {
        assert_eq!(
            li.get(&format!("/api/v1/customers/{theirs_id}/{sub}"))
                .await
                .status,
            StatusCode::NOT_FOUND,
            "{sub}"
        );
    }
    assert_eq!(
        li.patch(
            &format!("/api/v1/customers/{theirs_id}"),
            json!({"name": "改"}),
            Some("1")
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );
    // Not in lists, searches by name, pinyin or phone.
    assert_eq!(names(&li.get("/api/v1/customers").await), vec!["李的客户"]);
    for q in ["%E7%8E%8B%E7%9A%84", "wdkh", "13833334444"] {
        assert!(
            names(&li.get(&format!("/api/v1/customers?q={q}")).await).is_empty(),
            "query {q}"
        );
    }
    // The manager sees the department's customers but not the other department's.
    let boss_c = s.login("zhou.min").await;
    assert_eq!(
        names(&boss_c.get("/api/v1/customers").await),
        vec!["李的客户"]
    );
    // Admin sees everything.
    let admin = s.login("admin").await;
    assert_eq!(
        names(&admin.get("/api/v1/customers").await),
        vec!["李的客户", "王的客户"]
    );
    let _ = mine;
}
both!(sales_reps_see_only_their_own_customers);

async fn team_members_share_a_customer(b: Backend) {
    let s = Server::start(b).await;
    let li_id = s.user("li.na", "sales", None, None).await;
    let wang_id = s.user("wang.qiang", "sales", None, None).await;
    let _ = li_id;
    let mut li = s.login("li.na").await;
    let wang = s.login("wang.qiang").await;
    let c = li
        .customer(json!({"kind": "person", "name": "共享客户"}))
        .await;
    let id = c["id"].as_str().unwrap();
    // Sales reps may not manage teams; an admin adds a read-only member.
    let r = li
        .send(
            reqwest::Method::PUT,
            &format!("/api/v1/customers/{id}/team/{wang_id}"),
            Some(json!({"access": "read"}).to_string().into_bytes()),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let admin = s.login("admin").await;
    let r = admin
        .send(
            reqwest::Method::PUT,
            &format!("/api/v1/customers/{id}/team/{wang_id}"),
            Some(json!({"access": "read"}).to_string().into_bytes()),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        wang.get(&format!("/api/v1/customers/{id}")).await.status,
        StatusCode::OK
    );
    assert_eq!(
        names(&wang.get("/api/v1/customers").await),
        vec!["共享客户"]
    );
    // Read access does not allow edits.
    assert_eq!(
        wang.patch(
            &format!("/api/v1/customers/{id}"),
            json!({"notes": "x"}),
            Some("1")
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );
    admin
        .send(
            reqwest::Method::PUT,
            &format!("/api/v1/customers/{id}/team/{wang_id}"),
            Some(json!({"access": "write"}).to_string().into_bytes()),
            &[],
        )
        .await;
    assert_eq!(
        wang.patch(
            &format!("/api/v1/customers/{id}"),
            json!({"notes": "已联系"}),
            Some("1")
        )
        .await
        .status,
        StatusCode::OK
    );
    assert_eq!(
        admin
            .delete(&format!("/api/v1/customers/{id}/team/{wang_id}"), None)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        wang.get(&format!("/api/v1/customers/{id}")).await.status,
        StatusCode::NOT_FOUND
    );
}
both!(team_members_share_a_customer);

async fn tenants_never_see_each_other(b: Backend) {
    let s1 = Server::start(b).await;
    let mut a = s1.login("admin").await;
    let c = a
        .customer(json!({"kind": "person", "name": "甲租户客户", "phones": ["13855556666"]}))
        .await;
    // A second tenant in the same database (for PostgreSQL) or its own (SQLite).
    let other = s1
        .app
        .create_tenant("other-tenant", "乙公司", "boss", "demo-boss-2026")
        .await
        .unwrap();
    let mut b_client = s1.anon();
    let r = b_client
        .post(
            "/api/v1/auth/login",
            json!({"tenant": "other-tenant", "login": "boss", "password": "demo-boss-2026"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    b_client.csrf = Some(r.body["csrf_token"].as_str().unwrap().into());
    assert_eq!(
        b_client
            .get(&format!("/api/v1/customers/{}", c["id"].as_str().unwrap()))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert!(names(&b_client.get("/api/v1/customers").await).is_empty());
    assert!(names(&b_client.get("/api/v1/customers?q=13855556666").await).is_empty());
    assert!(names(&b_client.get("/api/v1/customers?q=%E7%94%B2%E7%A7%9F").await).is_empty());
    // The other tenant's codes start over: sequences are per tenant.
    let mine = b_client
        .customer(json!({"kind": "person", "name": "乙租户客户"}))
        .await;
    assert_eq!(mine["code"], c["code"]);
    // And the users list is per tenant.
    let users = b_client.get("/api/v1/users").await;
    assert_eq!(users.body.as_array().unwrap().len(), 1);
    let _ = other;
}
both!(tenants_never_see_each_other);
