use reqwest::StatusCode;
use serde_json::json;

use crate::both;
use crate::support::{Backend, Server};

async fn login_sets_cookie_and_csrf_is_required(b: Backend) {
    let s = Server::start(b).await;
    let mut c = s.anon();
    let r = c
        .post(
            "/api/v1/auth/login",
            json!({"tenant": s.tenant, "login": "admin", "password": "demo-admin-2026"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let cookie = r
        .headers
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert!(cookie.starts_with("kehu_session="), "{cookie}");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    assert_eq!(r.body["user"]["login"], "admin");
    let csrf = r.body["csrf_token"].as_str().unwrap().to_string();

    // Reads work with the cookie alone.
    assert_eq!(c.get("/api/v1/auth/me").await.status, StatusCode::OK);
    // Writes without the CSRF header are refused and change nothing.
    let r = c
        .post(
            "/api/v1/customers",
            json!({"kind": "person", "name": "无令牌"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.body["type"], "problem.csrf");
    assert_eq!(
        r.body["title"], "页面已过期",
        "a CSRF refusal does not say \"no permission\""
    );
    c.csrf = Some("wrong".into());
    assert_eq!(
        c.post(
            "/api/v1/customers",
            json!({"kind": "person", "name": "错令牌"})
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );
    c.csrf = Some(csrf);
    assert_eq!(
        c.post(
            "/api/v1/customers",
            json!({"kind": "person", "name": "有令牌"})
        )
        .await
        .status,
        StatusCode::CREATED
    );
    let list = c.get("/api/v1/customers").await;
    let names: Vec<&str> = list.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["有令牌"]);
}
both!(login_sets_cookie_and_csrf_is_required);

async fn wrong_password_unknown_user_and_unknown_tenant_look_alike(b: Backend) {
    let s = Server::start(b).await;
    let mut c = s.anon();
    let bad = [
        json!({"tenant": s.tenant, "login": "admin", "password": "nope-nope-nope"}),
        json!({"tenant": s.tenant, "login": "ghost", "password": "nope-nope-nope"}),
        json!({"tenant": "no-such-tenant", "login": "admin", "password": "demo-admin-2026"}),
    ];
    for body in bad {
        let r = c.post("/api/v1/auth/login", body).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        assert_eq!(r.body["type"], "auth.invalid_credentials");
        assert!(r.headers.get("set-cookie").is_none());
    }
    // The failure is audited (without the password).
    let admin = s.login("admin").await;
    let audit = admin.get("/api/v1/audit?action=auth.login_failed").await;
    assert_eq!(audit.status, StatusCode::OK);
    assert_eq!(
        audit.body["items"].as_array().unwrap().len(),
        2,
        "{}",
        audit.text
    );
    assert!(!audit.text.contains("nope-nope-nope"));
}
both!(wrong_password_unknown_user_and_unknown_tenant_look_alike);

async fn throttling_pauses_the_account_briefly(b: Backend) {
    let s = Server::start(b).await;
    let mut c = s.anon();
    for i in 0..5 {
        let r = c.post("/api/v1/auth/login", json!({"tenant": s.tenant, "login": "admin", "password": format!("wrong-{i}-wrong")})).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    }
    // Even the right password waits now, with Retry-After.
    let r = c
        .post(
            "/api/v1/auth/login",
            json!({"tenant": s.tenant, "login": "admin", "password": "demo-admin-2026"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.text);
    let retry: u64 = r
        .headers
        .get("retry-after")
        .unwrap()
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry), "retry after {retry}");
    assert_eq!(r.body["type"], "problem.throttled");
    // A minute later the real user gets in.
    s.clock.advance_ms(61_000);
    let r = c
        .post(
            "/api/v1/auth/login",
            json!({"tenant": s.tenant, "login": "admin", "password": "demo-admin-2026"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
}
both!(throttling_pauses_the_account_briefly);

async fn logout_and_expiry_end_the_session(b: Backend) {
    let s = Server::start(b).await;
    let mut c = s.login("admin").await;
    assert_eq!(
        c.post("/api/v1/auth/logout", json!({})).await.status,
        StatusCode::NO_CONTENT
    );
    let r = c.get("/api/v1/auth/me").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);

    // Idle expiry: two hours without a request.
    let c = s.login("admin").await;
    s.clock.advance_ms(2 * 3600 * 1000 + 1000);
    let r = c.get("/api/v1/auth/me").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.body["type"], "auth.session_expired");

    // Absolute expiry: active all day still ends after 12 hours.
    let c = s.login("admin").await;
    for _ in 0..13 {
        s.clock.advance_ms(3600 * 1000);
        let _ = c.get("/api/v1/auth/me").await;
    }
    assert_eq!(
        c.get("/api/v1/auth/me").await.status,
        StatusCode::UNAUTHORIZED
    );
}
both!(logout_and_expiry_end_the_session);

async fn bearer_tokens_work_without_csrf_and_can_be_revoked(b: Backend) {
    let s = Server::start(b).await;
    let mut admin = s.login("admin").await;
    let r = admin
        .post("/api/v1/auth/tokens", json!({"name": "ERP 同步"}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let token = r.body["token"].as_str().unwrap().to_string();
    let id = r.body["id"].as_str().unwrap().to_string();
    let mut api = s.anon();
    api.bearer = Some(token.clone());
    assert_eq!(
        api.post(
            "/api/v1/customers",
            json!({"kind": "company", "name": "接口客户有限公司"})
        )
        .await
        .status,
        StatusCode::CREATED
    );
    let list = admin.get("/api/v1/auth/tokens").await;
    assert!(!list.text.contains(&token), "the token is shown once only");
    assert_eq!(
        admin
            .delete(&format!("/api/v1/auth/tokens/{id}"), None)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        api.get("/api/v1/customers").await.status,
        StatusCode::UNAUTHORIZED
    );
}
both!(bearer_tokens_work_without_csrf_and_can_be_revoked);

async fn disabled_users_lose_their_sessions(b: Backend) {
    let s = Server::start(b).await;
    s.user("li.na", "sales", None, None).await;
    let sales = s.login("li.na").await;
    assert_eq!(sales.get("/api/v1/customers").await.status, StatusCode::OK);
    let admin = s.login("admin").await;
    let users = admin.get("/api/v1/users").await;
    let u = users
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["login"] == "li.na")
        .unwrap()
        .clone();
    let r = admin
        .patch(
            &format!("/api/v1/users/{}", u["id"].as_str().unwrap()),
            json!({"disabled": true}),
            Some(&u["version"].to_string()),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        sales.get("/api/v1/customers").await.status,
        StatusCode::UNAUTHORIZED
    );
    let mut again = s.anon();
    let r = again
        .post(
            "/api/v1/auth/login",
            json!({"tenant": s.tenant, "login": "li.na", "password": "demo-li.na-2026"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}
both!(disabled_users_lose_their_sessions);
