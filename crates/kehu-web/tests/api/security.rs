use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::both;
use crate::support::{Backend, Server};

async fn sensitive_fields_are_masked_for_every_role_and_revealed_with_audit(b: Backend) {
    let s = Server::start(b).await;
    s.user("chen.jing", "service", None, None).await;
    s.user("liu.yang", "marketing", None, None).await;
    let mut admin = s.login("admin").await;
    let c = admin
        .customer(json!({"kind": "person", "name": "钱多多", "phones": ["13812345678"], "emails": ["qian@example.com"],
            "id_number": "11010519491231002X", "address": "朝阳区建国路 1 号院 2 号楼", "province": "北京市"}))
        .await;
    let id = c["id"].as_str().unwrap();
    assert_eq!(c["phones"], json!(["138****5678"]));
    assert_eq!(c["id_number"], "110105**********2X");
    assert_eq!(c["birthday"], "****-**-**");
    assert_eq!(c["emails"], json!(["q***@example.com"]));
    for who in ["chen.jing", "liu.yang"] {
        let cl = s.login(who).await;
        let r = cl.get(&format!("/api/v1/customers/{id}")).await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(
            !r.text.contains("13812345678") && !r.text.contains("11010519491231002X"),
            "{who}: {}",
            r.text
        );
        // Field permissions: service and marketing do not see the ID number at all.
        assert!(
            r.body.get("id_number").is_none(),
            "{who} must not see id_number: {}",
            r.text
        );
        let list = cl.get("/api/v1/customers?q=13812345678").await;
        assert!(!list.text.contains("13812345678"));
        // No reveal permission.
        let mut cl = cl;
        let r = cl
            .post(
                &format!("/api/v1/customers/{id}/reveal"),
                json!({"fields": ["phones"], "reason": "回访"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{who}");
    }
    // Marketing does not see the street address either.
    let m = s.login("liu.yang").await;
    assert!(
        m.get(&format!("/api/v1/customers/{id}"))
            .await
            .body
            .get("address")
            .is_none()
    );

    let r = admin
        .post(
            &format!("/api/v1/customers/{id}/reveal"),
            json!({"fields": ["phones", "id_number"], "reason": ""}),
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a reason is required"
    );
    let r = admin
        .post(
            &format!("/api/v1/customers/{id}/reveal"),
            json!({"fields": ["phones", "id_number"], "reason": "客户来电核实身份"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["phones"], json!(["+8613812345678"]));
    assert_eq!(r.body["id_number"], "11010519491231002X");
    assert_eq!(r.headers.get("cache-control").unwrap(), "no-store");
    let audit = admin.get("/api/v1/audit?action=customer.reveal").await;
    let rows = audit.body["items"].as_array().unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["detail"]["reason"], "客户来电核实身份");
    assert_eq!(rows[0]["object_id"], id);
    // The audit log itself never holds the values.
    let all = admin.get("/api/v1/audit?limit=200").await;
    assert!(!all.text.contains("13812345678") && !all.text.contains("11010519491231002X"));
}
both!(sensitive_fields_are_masked_for_every_role_and_revealed_with_audit);

async fn field_permissions_block_writes_to_read_only_fields(b: Backend) {
    let s = Server::start(b).await;
    let other = s.user("wang.qiang", "sales", None, None).await;
    s.user("li.na", "sales", None, None).await;
    let mut li = s.login("li.na").await;
    // Sales may not set the owner (read-only for the role).
    let r = li
        .post(
            "/api/v1/customers",
            json!({"kind": "person", "name": "转给别人", "owner_id": other}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    assert_eq!(
        r.codes(),
        vec![("owner_id".to_string(), "field.read_only".to_string())]
    );
    let c = li
        .customer(json!({"kind": "person", "name": "自己的"}))
        .await;
    let r = li
        .patch(
            &format!("/api/v1/customers/{}", c["id"].as_str().unwrap()),
            json!({"owner_id": other}),
            Some("1"),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // An administrator restricts a field for the sales role: the role can no longer edit it.
    let admin = s.login("admin").await;
    let roles = admin.get("/api/v1/roles").await;
    let sales = roles
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["key"] == "sales")
        .unwrap()
        .clone();
    let mut fields = sales["fields"].clone();
    fields["notes"] = json!("hidden");
    let r = admin
        .patch(
            &format!("/api/v1/roles/{}", sales["id"].as_str().unwrap()),
            json!({"permissions": sales["permissions"], "data_scope": "own", "fields": fields}),
            Some(&sales["version"].to_string()),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = li
        .patch(
            &format!("/api/v1/customers/{}", c["id"].as_str().unwrap()),
            json!({"notes": "秘密"}),
            Some("1"),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // Unknown fields are named, not ignored.
    let r = li
        .post(
            "/api/v1/customers",
            json!({"kind": "person", "name": "x", "nmae": "typo"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        r.codes(),
        vec![("nmae".to_string(), "field.unknown".to_string())]
    );
}
both!(field_permissions_block_writes_to_read_only_fields);

async fn bad_input_is_a_4xx_never_a_5xx(b: Backend) {
    let s = Server::start(b).await;
    let c = s.login("admin").await;
    let long_name = "名".repeat(10_000);
    let cases: Vec<(Method, &str, Option<Vec<u8>>)> = vec![
        (
            Method::POST,
            "/api/v1/customers",
            Some(b"{\"kind\": \"person\", \"name\": \"\xff\xfe\"}".to_vec()),
        ),
        (
            Method::POST,
            "/api/v1/customers",
            Some(
                json!({"kind": "person", "name": long_name})
                    .to_string()
                    .into_bytes(),
            ),
        ),
        (
            Method::POST,
            "/api/v1/customers",
            Some(vec![b'{'; 2 * 1024 * 1024]),
        ),
        (
            Method::POST,
            "/api/v1/customers",
            Some(b"not json".to_vec()),
        ),
        (Method::POST, "/api/v1/customers", Some(b"[]".to_vec())),
        (
            Method::POST,
            "/api/v1/customers",
            Some(
                json!({"kind": "person", "name": 5, "phones": "x"})
                    .to_string()
                    .into_bytes(),
            ),
        ),
        (
            Method::POST,
            "/api/v1/customers",
            Some(
                json!({"kind": "company", "name": "x", "custom_fields": {"a": {"b": 1}}})
                    .to_string()
                    .into_bytes(),
            ),
        ),
        (
            Method::POST,
            "/api/v1/customers/not-an-id/orders",
            Some(
                json!({"ordered_on": "x", "lines": []})
                    .to_string()
                    .into_bytes(),
            ),
        ),
        (Method::GET, "/api/v1/customers?limit=abc", None),
        (
            Method::GET,
            "/api/v1/customers?created_from=yesterday",
            None,
        ),
        (Method::GET, "/api/v1/customers?sort=password_hash", None),
        (Method::GET, "/api/v1/nope", None),
        (Method::PUT, "/api/v1/customers", None),
    ];
    for (m, path, body) in cases {
        let r = c.send(m.clone(), path, body, &[]).await;
        assert!(
            r.status.is_client_error(),
            "{m} {path}: {} {}",
            r.status,
            r.text.chars().take(200).collect::<String>()
        );
        assert_eq!(
            r.headers.get("content-type").map(|v| v.to_str().unwrap()),
            Some("application/problem+json"),
            "{m} {path}"
        );
    }
    // Query syntax of SQL or the full-text engines is plain text to search for.
    for q in [
        "%22%27%3B--%20OR%201%3D1",
        "a%20OR%20b*%20NEAR(x)",
        "%22",
        "*",
        "%E5%BC%A0%22%20OR%20%22",
    ] {
        let r = c.get(&format!("/api/v1/customers?q={q}")).await;
        assert_eq!(r.status, StatusCode::OK, "q={q}: {}", r.text);
    }
}
both!(bad_input_is_a_4xx_never_a_5xx);

async fn responses_carry_security_headers_and_the_openapi_document_is_served(b: Backend) {
    let s = Server::start(b).await;
    let c = s.anon();
    let r = c.get("/api/v1/openapi.json").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        r.body["openapi"].as_str().unwrap().chars().next(),
        Some('3')
    );
    for p in [
        "/customers",
        "/customers/{id}",
        "/auth/login",
        "/audit",
        "/roles",
        "/departments",
        "/users",
        "/custom-fields",
    ] {
        assert!(r.body["paths"].get(p).is_some(), "OpenAPI documents {p}");
    }
    let csp = r
        .headers
        .get("content-security-policy")
        .unwrap()
        .to_str()
        .unwrap();
    assert!(
        csp.contains("frame-ancestors 'none'")
            && !csp.contains("script-src 'self' 'unsafe-inline'")
    );
    assert_eq!(r.headers.get("x-content-type-options").unwrap(), "nosniff");
    assert_eq!(c.get("/healthz").await.status, StatusCode::OK);
    let m = c.get("/metrics").await;
    assert_eq!(m.status, StatusCode::OK, "loopback may read metrics");
    assert!(m.text.contains("kehu_http_requests_total"));
    assert_eq!(
        c.get("/api/v1/customers").await.status,
        StatusCode::UNAUTHORIZED
    );
}
both!(responses_carry_security_headers_and_the_openapi_document_is_served);

async fn the_audit_chain_detects_edits(b: Backend) {
    let s = Server::start(b).await;
    let mut c = s.login("admin").await;
    c.customer(json!({"kind": "person", "name": "审计一"}))
        .await;
    c.customer(json!({"kind": "person", "name": "审计二"}))
        .await;
    let r = c.get("/api/v1/audit/verify").await;
    assert_eq!(r.body["intact"], true, "{}", r.text);
    assert!(r.body["rows"].as_i64().unwrap() >= 4);
    // Someone with database access rewrites history.
    let mut tx = s.app.store.begin().await.unwrap();
    tx.exec(kehu_store::Sql::with(
        "UPDATE audit_log SET detail = '{}' WHERE tenant_id = $1 AND action = 'customer.create' AND seq = (SELECT MIN(seq) FROM audit_log WHERE tenant_id = $1 AND action = 'customer.create')",
        vec![s.tenant_id.clone().into()],
    ))
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let r = c.get("/api/v1/audit/verify").await;
    assert_eq!(r.body["intact"], false, "{}", r.text);
    assert_eq!(r.body["reason"], "row altered");
}
both!(the_audit_chain_detects_edits);

/// The encryption-at-rest promise, checked the way an attacker would: read
/// the raw database file and its WAL.
#[tokio::test]
async fn the_sqlite_file_and_wal_never_hold_clear_phones_or_ids() {
    let s = Server::start(Backend::Sqlite).await;
    let mut c = s.login("admin").await;
    c.customer(json!({"kind": "person", "name": "密文客户", "phones": ["13998765432"], "emails": ["secret.mail@example.com"],
        "id_number": "11010519491231002X", "address": "保密路 99 号"}))
        .await;
    let co = c
        .customer(json!({"kind": "company", "name": "密文企业有限公司"}))
        .await;
    c.post(
        &format!("/api/v1/customers/{}/contacts", co["id"].as_str().unwrap()),
        json!({"name": "联系人", "phones": ["13655554444"]}),
    )
    .await;
    let db = s.db_path.clone().unwrap();
    let mut bytes = std::fs::read(&db).unwrap();
    let mut wal = db.clone().into_os_string();
    wal.push("-wal");
    if let Ok(w) = std::fs::read(&wal) {
        bytes.extend(w);
    }
    assert!(bytes.len() > 10_000, "read the real file");
    for needle in [
        "13998765432",
        "8613998765432",
        "11010519491231002X",
        "secret.mail@example.com",
        "保密路",
        "13655554444",
    ] {
        assert!(
            !bytes.windows(needle.len()).any(|w| w == needle.as_bytes()),
            "{needle} found in the database file"
        );
    }
    assert!(
        bytes
            .windows("密文客户".len())
            .any(|w| w == "密文客户".as_bytes()),
        "names are stored (the check can find things)"
    );
}
