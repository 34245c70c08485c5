//! What the web app needs beyond the records: saved views, bulk actions,
//! recovering the CSRF token after a reload, serving the app itself, and
//! compressing answers.

use reqwest::StatusCode;
use serde_json::json;

use crate::both;
use crate::support::{Backend, Server};

async fn saved_views_are_private_and_versioned(b: Backend) {
    let s = Server::start(b).await;
    let dept = s.department("销售部", None).await;
    s.user("li.na", "sales", Some(&dept), None).await;
    s.user("wang.qiang", "sales", Some(&dept), None).await;
    let mut li = s.login("li.na").await;
    let mut wang = s.login("wang.qiang").await;

    let config = json!({"q": "张", "filters": {"kind": "person"}, "columns": ["name", "code"]});
    let r = li
        .post(
            "/api/v1/views",
            json!({"name": "我的个人客户", "kind": "customers", "config": config}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.etag(), "\"1\"");
    assert_eq!(r.body["config"], config);
    let id = r.body["id"].as_str().unwrap().to_string();
    let path = format!("/api/v1/views/{id}");

    let mine = li.get("/api/v1/views?kind=customers").await;
    assert_eq!(mine.body.as_array().unwrap().len(), 1);
    // Another user neither sees nor changes it, and cannot tell it exists.
    assert_eq!(wang.get("/api/v1/views").await.body, json!([]));
    assert_eq!(
        wang.patch(&path, json!({"name": "x"}), Some("1"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        wang.delete(&path, Some("1")).await.status,
        StatusCode::NOT_FOUND
    );

    // Optimistic concurrency like every other resource.
    assert_eq!(
        li.patch(&path, json!({"name": "改名"}), None).await.status,
        StatusCode::PRECONDITION_REQUIRED
    );
    assert_eq!(
        li.patch(&path, json!({"name": "改名"}), Some("7"))
            .await
            .status,
        StatusCode::PRECONDITION_FAILED
    );
    let r = li.patch(&path, json!({"name": "改名"}), Some("1")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        (r.body["name"].as_str(), r.body["version"].as_i64()),
        (Some("改名"), Some(2))
    );
    assert_eq!(
        r.body["config"], config,
        "config kept when only the name changes"
    );

    // Sending what is already stored changes nothing, not even the version.
    let same = li.patch(&path, json!({"name": "改名"}), Some("2")).await;
    assert_eq!(
        (same.status, same.body["version"].as_i64()),
        (StatusCode::OK, Some(2))
    );

    // Names are unique per user; the same name is fine for someone else.
    let dup = li
        .post(
            "/api/v1/views",
            json!({"name": "改名", "kind": "customers", "config": {}}),
        )
        .await;
    assert_eq!(dup.status, StatusCode::CONFLICT);
    assert_eq!(
        dup.body["title"], "与现有数据冲突",
        "titles follow Accept-Language too"
    );
    assert_eq!(
        dup.codes(),
        vec![("name".to_string(), "unique.view_name".to_string())]
    );
    let other = wang
        .post(
            "/api/v1/views",
            json!({"name": "改名", "kind": "customers", "config": {}}),
        )
        .await;
    assert_eq!(other.status, StatusCode::CREATED);

    // Bad input names the field and the rule, in the caller's language.
    li.lang = "en";
    let bad = li
        .post(
            "/api/v1/views",
            json!({"name": "x", "kind": "customers", "config": [1, 2]}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad.body["title"], "Invalid input");
    assert_eq!(
        bad.codes(),
        vec![("config".to_string(), "view.config_invalid".to_string())]
    );
    assert_eq!(
        bad.body["errors"][0]["message"],
        "View settings must be a JSON object of at most 16384 bytes."
    );
    let huge = json!({"q": "x".repeat(17 * 1024)});
    let r = li
        .post(
            "/api/v1/views",
            json!({"name": "x", "kind": "customers", "config": huge}),
        )
        .await;
    assert_eq!(
        r.codes(),
        vec![("config".to_string(), "view.config_invalid".to_string())]
    );
    let r = li
        .post(
            "/api/v1/views",
            json!({"name": "x", "kind": "orders", "config": {}}),
        )
        .await;
    assert_eq!(
        r.codes(),
        vec![("kind".to_string(), "value.invalid".to_string())]
    );

    assert_eq!(
        li.delete(&path, Some("1")).await.status,
        StatusCode::PRECONDITION_FAILED
    );
    assert_eq!(
        li.delete(&path, Some("2")).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(li.get("/api/v1/views").await.body, json!([]));

    // A phone number as the search text is not kept: it would be stored in clear.
    let r = li
        .post(
            "/api/v1/views",
            json!({"name": "按电话", "kind": "customers", "config": {"q": "138 0013 8000", "sort": "name"}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body["config"], json!({"sort": "name"}));
    let r = li
        .post(
            "/api/v1/views",
            json!({"name": "按姓名", "kind": "customers", "config": {"q": "张三"}}),
        )
        .await;
    assert_eq!(r.body["config"], json!({"q": "张三"}));

    // Each write is audited.
    let admin = s.login("admin").await;
    let audit = admin
        .get("/api/v1/audit?object_type=saved_view&limit=50")
        .await;
    let actions: Vec<&str> = audit.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["action"].as_str().unwrap())
        .collect();
    for a in ["view.create", "view.update", "view.delete"] {
        assert!(actions.contains(&a), "{a} in {actions:?}");
    }
}
both!(saved_views_are_private_and_versioned);

async fn bulk_actions_apply_per_customer_within_scope(b: Backend) {
    let s = Server::start(b).await;
    let east = s.department("华东", None).await;
    let west = s.department("华西", None).await;
    let boss = s.user("zhou.min", "manager", Some(&east), None).await;
    let li_id = s.user("li.na", "sales", Some(&east), Some(&boss)).await;
    let zhao = s.user("zhao.lei", "sales", Some(&east), Some(&boss)).await;
    let wang_id = s.user("wang.qiang", "sales", Some(&west), None).await;
    let mut li = s.login("li.na").await;
    let mut wang = s.login("wang.qiang").await;
    let mut manager = s.login("zhou.min").await;
    let c1 = li
        .customer(json!({"kind": "person", "name": "客户甲"}))
        .await;
    let c2 = li
        .customer(json!({"kind": "person", "name": "客户乙"}))
        .await;
    let c3 = wang
        .customer(json!({"kind": "person", "name": "客户丙"}))
        .await;
    let id = |c: &serde_json::Value| c["id"].as_str().unwrap().to_string();
    let missing = "0190f0f0-0000-7000-8000-000000000000".to_string();

    manager.lang = "en";
    let r = manager
        .post(
            "/api/v1/customers/bulk",
            json!({"ids": [id(&c1), id(&c2), id(&c3), missing, id(&c1)], "action": "assign_owner", "owner_id": zhao}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["updated"], 2);
    let failed = r.body["failed"].as_array().unwrap();
    let failed_ids: Vec<&str> = failed.iter().map(|f| f["id"].as_str().unwrap()).collect();
    assert_eq!(failed_ids, vec![id(&c3).as_str(), missing.as_str()]);
    for f in failed {
        assert_eq!(f["status"], 404);
        assert_eq!(f["code"], "problem.not_found");
        assert!(f["message"].as_str().unwrap().is_ascii(), "English: {f}");
    }
    // The change went through the normal path: owner, timeline, scope.
    let one = manager.get(&format!("/api/v1/customers/{}", id(&c1))).await;
    assert_eq!(one.body["owner_id"], zhao.as_str());
    let tl = manager
        .get(&format!("/api/v1/customers/{}/timeline", id(&c1)))
        .await;
    assert!(tl.text.contains("owner_changed"), "{}", tl.text);
    assert_eq!(
        li.get(&format!("/api/v1/customers/{}", id(&c1)))
            .await
            .status,
        StatusCode::NOT_FOUND,
        "li no longer owns it"
    );
    assert_eq!(
        wang.get(&format!("/api/v1/customers/{}", id(&c3)))
            .await
            .body["owner_id"],
        wang_id.as_str(),
        "outside the manager's scope: unchanged"
    );
    // Again: nothing left to change.
    let again = manager
        .post(
            "/api/v1/customers/bulk",
            json!({"ids": [id(&c1), id(&c2)], "action": "assign_owner", "owner_id": zhao}),
        )
        .await;
    assert_eq!(
        (
            again.body["updated"].as_i64(),
            again.body["failed"].as_array().map(Vec::len)
        ),
        (Some(0), Some(0))
    );

    // Share one back with li, read-only.
    let r = manager
        .post(
            "/api/v1/customers/bulk",
            json!({"ids": [id(&c1)], "action": "add_team", "user_id": li_id, "access": "read"}),
        )
        .await;
    assert_eq!(r.body["updated"], 1, "{}", r.text);
    assert_eq!(
        li.get(&format!("/api/v1/customers/{}", id(&c1)))
            .await
            .status,
        StatusCode::OK
    );

    // Again: already a member with that access, nothing changes.
    let r = manager
        .post(
            "/api/v1/customers/bulk",
            json!({"ids": [id(&c1)], "action": "add_team", "user_id": li_id, "access": "read"}),
        )
        .await;
    assert_eq!(r.body["updated"], 0, "{}", r.text);
    // An unknown or disabled target is refused once, before any customer.
    let r = manager
        .post(
            "/api/v1/customers/bulk",
            json!({"ids": [id(&c1), id(&c2)], "action": "assign_owner", "owner_id": "0190f0f0-0000-7000-8000-000000000001"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert_eq!(
        r.codes(),
        vec![("owner_id".to_string(), "user.unknown".to_string())]
    );

    // A sales rep may not reassign; bad requests name the field.
    let r = li
        .post(
            "/api/v1/customers/bulk",
            json!({"ids": [id(&c1)], "action": "assign_owner", "owner_id": li_id}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    for (body, field, code) in [
        (
            json!({"ids": [id(&c1)], "action": "merge"}),
            "action",
            "value.invalid",
        ),
        (
            json!({"ids": [], "action": "assign_owner", "owner_id": zhao}),
            "ids",
            "text.required",
        ),
        (
            json!({"ids": vec!["x"; 501], "action": "assign_owner", "owner_id": zhao}),
            "ids",
            "list.too_long",
        ),
        (
            json!({"ids": [id(&c1)], "action": "assign_owner"}),
            "owner_id",
            "text.required",
        ),
        (
            json!({"ids": [id(&c1)], "action": "add_team", "user_id": li_id, "access": "owner"}),
            "access",
            "value.invalid",
        ),
    ] {
        let r = manager.post("/api/v1/customers/bulk", body).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
        assert_eq!(r.codes(), vec![(field.to_string(), code.to_string())]);
    }
}
both!(bulk_actions_apply_per_customer_within_scope);

async fn a_reloaded_page_recovers_its_csrf_token(b: Backend) {
    let s = Server::start(b).await;
    let mut admin = s.login("admin").await;
    let me = admin.get("/api/v1/auth/me").await;
    assert_eq!(me.body["csrf_token"].as_str(), admin.csrf.as_deref());
    // Bearer callers have no CSRF token to recover.
    let token = admin
        .post("/api/v1/auth/tokens", json!({"name": "integration"}))
        .await
        .body["token"]
        .as_str()
        .unwrap()
        .to_string();
    let mut bearer = s.anon();
    bearer.bearer = Some(token);
    let me = bearer.get("/api/v1/auth/me").await;
    assert_eq!(me.status, StatusCode::OK);
    assert!(me.body.get("csrf_token").is_none(), "{}", me.text);
}
both!(a_reloaded_page_recovers_its_csrf_token);

#[tokio::test]
async fn the_web_app_is_served_with_client_side_routes_and_strict_headers() {
    let s = Server::start(Backend::Sqlite).await;
    let c = s.anon();
    let root = c.get("/").await;
    assert_eq!(root.status, StatusCode::OK);
    assert!(
        root.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html"),
        "{:?}",
        root.headers
    );
    assert!(
        root.text
            .to_ascii_lowercase()
            .starts_with("<!doctype html>")
    );
    if kehu_web::spa::built() {
        // A deep link is the app's own route: the same page as `/`.
        let deep = c
            .get("/customers/0190f0f0-0000-7000-8000-000000000000")
            .await;
        assert_eq!((deep.status, &deep.text), (StatusCode::OK, &root.text));
        assert!(!root.text.contains("<script>"), "no inline scripts (CSP)");
    } else {
        eprintln!(
            "web/dist not embedded (KEHU_SKIP_WEB_BUILD=1 or no npm): checked the plain page"
        );
        assert!(root.text.contains("/api/v1/openapi.json"));
    }
    let csp = root.headers["content-security-policy"].to_str().unwrap();
    for part in [
        "script-src 'self';",
        "frame-ancestors 'none'",
        "object-src 'none'",
    ] {
        assert!(csp.contains(part), "{csp}");
    }
    assert!(!csp.contains("script-src 'self' 'unsafe-inline'"), "{csp}");
    assert_eq!(root.headers["x-content-type-options"], "nosniff");
    // A missing file is a 404, not the app; unknown API paths stay problems.
    assert_eq!(
        c.get("/assets/missing-1234.js").await.status,
        StatusCode::NOT_FOUND
    );
    let api = c.get("/api/v1/no-such-thing").await;
    assert_eq!(api.status, StatusCode::NOT_FOUND);
    assert_eq!(api.headers["content-type"], "application/problem+json");
    // Only GET and HEAD reach the app; its build manifest is not served.
    let post = c.send(reqwest::Method::POST, "/customers", None, &[]).await;
    assert_eq!(post.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(
        c.get("/.vite/manifest.json").await.status,
        StatusCode::NOT_FOUND
    );
    let cache = if kehu_web::spa::built() {
        "no-cache"
    } else {
        "no-store"
    };
    assert_eq!(root.headers["cache-control"], cache);
    // The app's files are compressed for browsers that ask (at the best
    // level, once), and sent as they are to those that refuse gzip.
    if kehu_web::spa::built() {
        let script = root
            .text
            .split("src=\"/")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .expect("index.html loads a script")
            .to_string();
        for path in ["/".to_string(), format!("/{script}")] {
            let plain = c.get(&path).await;
            let gz = c.get_encoded(&path, "br, gzip").await;
            assert_eq!(gz.headers["content-encoding"], "gzip", "{path}");
            assert_eq!(gz.headers["vary"], "accept-encoding", "{path}");
            assert_eq!(gunzip(&gz.bytes), plain.bytes, "{path}");
            // At the best level, not the response layer's fastest.
            let mut best = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
            std::io::Write::write_all(&mut best, &plain.bytes).unwrap();
            assert_eq!(gz.bytes, best.finish().unwrap(), "{path}");
            let again = c.get_encoded(&path, "gzip").await;
            assert_eq!(
                again.bytes, gz.bytes,
                "{path}: the same bytes from the cache"
            );
            let refused = c.get_encoded(&path, "gzip;q=0").await;
            assert!(refused.headers.get("content-encoding").is_none(), "{path}");
            assert_eq!(refused.bytes, plain.bytes, "{path}");
        }
    }
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Read;
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .expect("a gzip stream");
    out
}

/// API answers are compressed for clients that ask, once they are larger
/// than one TCP segment; a single customer's JSON is sent as it is.
#[tokio::test]
async fn large_answers_are_compressed_small_ones_are_not() {
    let s = Server::start(Backend::Sqlite).await;
    let mut c = s.login("admin").await;
    let mut id = String::new();
    for i in 0..20 {
        let r = c
            .customer(
                json!({"kind": "person", "name": format!("压缩客户{i:02}"), "notes": "每月初送货"}),
            )
            .await;
        id = r["id"].as_str().unwrap().to_string();
    }
    let list = "/api/v1/customers?limit=20";
    let plain = c.get(list).await;
    assert_eq!(plain.status, StatusCode::OK);
    assert!(plain.bytes.len() > 1400, "{} bytes", plain.bytes.len());
    assert!(plain.headers.get("content-encoding").is_none());
    let gz = c.get_encoded(list, "gzip").await;
    assert_eq!(gz.headers["content-encoding"], "gzip");
    let unzipped = gunzip(&gz.bytes);
    assert!(
        gz.bytes.len() < unzipped.len() / 2,
        "{} of {}",
        gz.bytes.len(),
        unzipped.len()
    );
    let unzipped: serde_json::Value = serde_json::from_slice(&unzipped).unwrap();
    assert_eq!(unzipped, plain.body);
    let one = c
        .get_encoded(&format!("/api/v1/customers/{id}"), "gzip")
        .await;
    assert_eq!(one.status, StatusCode::OK);
    assert!(
        one.headers.get("content-encoding").is_none(),
        "{:?}",
        one.headers
    );
    assert_eq!(one.body["name"], "压缩客户19");
}
