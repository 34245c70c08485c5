use reqwest::StatusCode;
use serde_json::json;

use crate::both;
use crate::support::{Backend, Server};

async fn custom_fields_are_typed_and_validated(b: Backend) {
    let s = Server::start(b).await;
    let mut c = s.login("admin").await;
    let defs = [
        json!({"key": "wechat", "label_zh": "微信号", "label_en": "WeChat ID", "field_type": "text"}),
        json!({"key": "level", "label_zh": "会员等级", "label_en": "Level", "field_type": "select", "options": ["金卡", "银卡"], "required": true}),
        json!({"key": "employees", "label_zh": "员工人数", "label_en": "Employees", "field_type": "number"}),
    ];
    for d in defs {
        let r = c.post("/api/v1/custom-fields", d).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    }
    let dup = c
        .post(
            "/api/v1/custom-fields",
            json!({"key": "wechat", "label_zh": "重复", "label_en": "Dup", "field_type": "text"}),
        )
        .await;
    assert_eq!(dup.status, StatusCode::CONFLICT);
    let bad = c
        .post(
            "/api/v1/custom-fields",
            json!({"key": "Bad Key", "label_zh": "x", "label_en": "x", "field_type": "text"}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);

    let r = c.post("/api/v1/customers", json!({"kind": "person", "name": "自定义", "custom_fields": {"level": "铜卡", "employees": "many", "nope": 1}})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let codes = r.codes();
    for e in [
        ("custom_fields.level", "value.invalid"),
        ("custom_fields.employees", "custom_field.type"),
        ("custom_fields.nope", "custom_field.unknown"),
    ] {
        assert!(codes.contains(&(e.0.into(), e.1.into())), "{codes:?}");
    }
    let r = c
        .post(
            "/api/v1/customers",
            json!({"kind": "person", "name": "缺必填"}),
        )
        .await;
    assert_eq!(
        r.codes(),
        vec![(
            "custom_fields.level".to_string(),
            "custom_field.required".to_string()
        )]
    );
    let ok = c.customer(json!({"kind": "person", "name": "自定义", "custom_fields": {"level": "金卡", "wechat": "ｗｘ１２３", "employees": 12}})).await;
    assert_eq!(
        ok["custom_fields"],
        json!({"level": "金卡", "wechat": "wx123", "employees": 12.0})
    );
    // PATCH merges: a key set to null is removed, others stay.
    let r = c
        .patch(
            &format!("/api/v1/customers/{}", ok["id"].as_str().unwrap()),
            json!({"custom_fields": {"wechat": null}}),
            Some("1"),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        r.body["custom_fields"],
        json!({"level": "金卡", "employees": 12.0})
    );
    // The definitions are kept in memory between writes; a change made here
    // applies to the very next write: `level` no longer required, and
    // `employees` gone.
    let fields = c.get("/api/v1/custom-fields").await;
    let field = |key: &str| {
        fields
            .body
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["key"] == key)
            .unwrap()
            .clone()
    };
    let level = field("level");
    let r = c
        .patch(
            &format!("/api/v1/custom-fields/{}", level["id"].as_str().unwrap()),
            json!({"key": "level", "label_zh": "会员等级", "label_en": "Level", "field_type": "select",
                   "options": ["金卡", "银卡"], "required": false}),
            Some(&format!("\"{}\"", level["version"])),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let employees = field("employees");
    let r = c
        .delete(
            &format!(
                "/api/v1/custom-fields/{}",
                employees["id"].as_str().unwrap()
            ),
            Some(&format!("\"{}\"", employees["version"])),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    c.customer(json!({"kind": "person", "name": "不再必填"}))
        .await;
    let r = c
        .post(
            "/api/v1/customers",
            json!({"kind": "person", "name": "已删字段", "custom_fields": {"employees": 3}}),
        )
        .await;
    assert_eq!(
        r.codes(),
        vec![(
            "custom_fields.employees".to_string(),
            "custom_field.unknown".to_string()
        )]
    );
}
both!(custom_fields_are_typed_and_validated);

async fn departments_form_a_tree_and_users_are_unique(b: Backend) {
    let s = Server::start(b).await;
    let mut c = s.login("admin").await;
    let sales = c
        .post("/api/v1/departments", json!({"name": "销售中心"}))
        .await
        .body;
    let east = c
        .post(
            "/api/v1/departments",
            json!({"name": "华东区", "parent_id": sales["id"]}),
        )
        .await
        .body;
    let sh = c
        .post(
            "/api/v1/departments",
            json!({"name": "上海组", "parent_id": east["id"]}),
        )
        .await
        .body;
    assert_eq!(sh["depth"], 2);
    let dup = c
        .post(
            "/api/v1/departments",
            json!({"name": "华东区", "parent_id": sales["id"]}),
        )
        .await;
    assert_eq!(dup.status, StatusCode::CONFLICT);
    assert_eq!(dup.codes()[0].1, "unique.department_name");
    // Moving a department under its own child is refused.
    let r = c
        .patch(
            &format!("/api/v1/departments/{}", sales["id"].as_str().unwrap()),
            json!({"name": "销售中心", "parent_id": sh["id"]}),
            Some("1"),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    assert_eq!(r.codes()[0].1, "department.cycle");
    // A manager of 销售中心 sees customers of reps in 上海组 (department and below).
    let boss = s
        .user("boss", "manager", Some(sales["id"].as_str().unwrap()), None)
        .await;
    let rep = s
        .user(
            "rep",
            "sales",
            Some(sh["id"].as_str().unwrap()),
            Some(&boss),
        )
        .await;
    let _ = rep;
    let mut rep_c = s.login("rep").await;
    rep_c
        .customer(json!({"kind": "person", "name": "上海客户"}))
        .await;
    let boss_c = s.login("boss").await;
    assert_eq!(
        boss_c.get("/api/v1/customers").await.body["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let by_dept = c
        .get(&format!(
            "/api/v1/customers?department_id={}",
            east["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(
        by_dept.body["items"].as_array().unwrap().len(),
        1,
        "filter by department includes sub-departments"
    );
    // Non-empty departments cannot be deleted.
    let r = c
        .delete(
            &format!("/api/v1/departments/{}", sh["id"].as_str().unwrap()),
            Some("1"),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    // Logins are unique within a tenant.
    let r = c
        .post(
            "/api/v1/users",
            json!({"login": "rep", "password": "another-long-pass", "role": "sales"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.codes()[0].1, "unique.login");
    let r = c
        .post(
            "/api/v1/users",
            json!({"login": "new.rep", "password": "short", "role": "wizard"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let codes = r.codes();
    assert!(
        codes.contains(&("password".into(), "password.too_short".into()))
            && codes.contains(&("role".into(), "role.unknown".into())),
        "{codes:?}"
    );
    // Sales reps cannot administer users.
    let mut rep_c = s.login("rep").await;
    assert_eq!(
        rep_c
            .post(
                "/api/v1/users",
                json!({"login": "x1", "password": "long-enough-pw", "role": "admin"})
            )
            .await
            .status,
        StatusCode::FORBIDDEN
    );
}
both!(departments_form_a_tree_and_users_are_unique);
