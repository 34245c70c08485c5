use reqwest::StatusCode;
use serde_json::json;

use crate::both;
use crate::support::{Backend, Server};

async fn create_read_update_delete_with_versions(b: Backend) {
    let s = Server::start(b).await;
    let mut c = s.login("admin").await;
    let created = c
        .customer(json!({
            "kind": "company", "name": "福州闽江贸易有限公司", "phones": ["0591-8765 4321", "138 0013 8000"],
            "emails": ["Sales@MinJiang.cn"], "province": "福建省", "city": "福州市", "district": "鼓楼区",
            "address": "五四路 88 号", "industry": "批发零售", "source": "展会",
            "unified_social_credit_code": "91350100M000100Y43"
        }))
        .await;
    let id = created["id"].as_str().unwrap();
    assert!(
        created["code"].as_str().unwrap().starts_with("KH"),
        "{created}"
    );
    assert_eq!(created["version"], 1);
    assert_eq!(created["phones"], json!(["0591-****4321", "138****8000"]));

    let r = c.get(&format!("/api/v1/customers/{id}")).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.etag(), "\"1\"");

    // PATCH needs If-Match: 428 without, 412 when stale.
    let path = format!("/api/v1/customers/{id}");
    let r = c.patch(&path, json!({"industry": "制造业"}), None).await;
    assert_eq!(r.status, StatusCode::PRECONDITION_REQUIRED);
    let r = c
        .patch(&path, json!({"industry": "制造业"}), Some("\"7\""))
        .await;
    assert_eq!(r.status, StatusCode::PRECONDITION_FAILED);
    assert_eq!(r.body["type"], "problem.version_mismatch");
    let r = c
        .patch(
            &path,
            json!({"industry": "制造业", "phones": ["138 0013 8000"]}),
            Some("\"1\""),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.etag(), "\"2\"");
    assert_eq!(r.body["industry"], "制造业");
    // The old version is now stale: nothing is silently overwritten.
    let r = c
        .patch(&path, json!({"industry": "餐饮"}), Some("\"1\""))
        .await;
    assert_eq!(r.status, StatusCode::PRECONDITION_FAILED);

    // The timeline shows the edit with a field diff, phones redacted.
    let t = c.get(&format!("/api/v1/customers/{id}/timeline")).await;
    let items = t.body["items"].as_array().unwrap();
    let upd = items
        .iter()
        .find(|e| e["kind"] == "updated")
        .expect("updated entry");
    let changes = upd["detail"]["changes"].as_array().unwrap();
    assert!(
        changes.contains(&json!({"field": "industry", "from": "批发零售", "to": "制造业"})),
        "{changes:?}"
    );
    assert!(
        changes.contains(&json!({"field": "phones", "redacted": true})),
        "{changes:?}"
    );
    assert!(
        !t.text.contains("8765") && !t.text.contains("13800138000"),
        "no phone digits in the timeline"
    );
    assert!(items.iter().any(|e| e["kind"] == "created"));

    assert_eq!(
        c.delete(&path, None).await.status,
        StatusCode::PRECONDITION_REQUIRED
    );
    assert_eq!(
        c.delete(&path, Some("\"2\"")).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(c.get(&path).await.status, StatusCode::NOT_FOUND);
}
both!(create_read_update_delete_with_versions);

async fn validation_errors_name_the_field_in_the_callers_language(b: Backend) {
    let s = Server::start(b).await;
    let mut c = s.login("admin").await;
    let body = json!({"kind": "person", "name": "", "phones": ["1380013800"], "id_number": "110105194902301234", "emails": ["a@"]});
    let r = c.post("/api/v1/customers", body.clone()).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        r.headers.get("content-type").unwrap(),
        "application/problem+json"
    );
    let codes = r.codes();
    for expected in [
        ("name", "text.required"),
        ("phones[0]", "phone.invalid"),
        ("id_number", "id_number.birth_date"),
        ("emails[0]", "email.invalid"),
    ] {
        assert!(
            codes.contains(&(expected.0.into(), expected.1.into())),
            "{codes:?}"
        );
    }
    let phone_msg = r.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["field"] == "phones[0]")
        .unwrap()["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        phone_msg.contains("电话") || phone_msg.contains("手机"),
        "zh-CN message: {phone_msg}"
    );
    c.lang = "en-US,en;q=0.9";
    let r = c.post("/api/v1/customers", body).await;
    let en = r.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["field"] == "phones[0]")
        .unwrap()["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(en.is_ascii() && !en.is_empty(), "English message: {en}");
    // Nothing half-written: no customer exists.
    c.lang = "zh-CN";
    assert_eq!(
        c.get("/api/v1/customers").await.body["items"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
}
both!(validation_errors_name_the_field_in_the_callers_language);

async fn codes_follow_the_tenant_pattern_and_are_never_reused(b: Backend) {
    let s = Server::start(b).await;
    let mut c = s.login("admin").await;
    let settings = c.get("/api/v1/settings/customer-code").await;
    let r = c
        .patch(
            "/api/v1/settings/customer-code",
            json!({"pattern": "C{SEQ:4}", "reset": "never"}),
            Some(&settings.etag()),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["example"], "C0001");
    let a = c.customer(json!({"kind": "person", "name": "甲"})).await;
    let b2 = c.customer(json!({"kind": "person", "name": "乙"})).await;
    assert_eq!(a["code"], "C0001");
    assert_eq!(b2["code"], "C0002");
    c.delete(
        &format!("/api/v1/customers/{}", b2["id"].as_str().unwrap()),
        Some("1"),
    )
    .await;
    let d = c.customer(json!({"kind": "person", "name": "丙"})).await;
    assert_eq!(
        d["code"], "C0003",
        "a deleted customer's code is not handed out again"
    );
    let bad = c
        .patch(
            "/api/v1/settings/customer-code",
            json!({"pattern": "C{SEQ:4}", "reset": "daily"}),
            Some("\"2\""),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad.codes()[0].1, "code_pattern.reset_needs_date");
}
both!(codes_follow_the_tenant_pattern_and_are_never_reused);

async fn search_finds_chinese_pinyin_phone_email_and_code(b: Backend) {
    let s = Server::start(b).await;
    let mut c = s.login("admin").await;
    let zs = c.customer(json!({"kind": "person", "name": "张三丰", "phones": ["13912345678"], "emails": ["zsf@wudang.cn"]})).await;
    c.customer(json!({"kind": "person", "name": "李四", "phones": ["13700000001"]}))
        .await;
    let co = c
        .customer(json!({"kind": "company", "name": "单县华丰食品有限公司"}))
        .await;
    let cid = co["id"].as_str().unwrap();
    let r = c
        .post(
            &format!("/api/v1/customers/{cid}/contacts"),
            json!({"name": "王晓明", "phones": ["021-62345678"]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);

    let names = |r: &crate::support::Resp| -> Vec<String> {
        r.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["name"].as_str().unwrap().to_string())
            .collect()
    };
    let q = |q: &str| format!("/api/v1/customers?q={}", urlencode(q));
    for (query, expect) in [
        ("张三", "张三丰"),
        ("三丰", "张三丰"),
        ("zs", "张三丰"),
        ("zhangs", "张三丰"),
        ("zhangsanfeng", "张三丰"),
        ("139 1234 5678", "张三丰"),
        ("+86-139-1234-5678", "张三丰"),
        ("ZSF@wudang.cn", "张三丰"),
        ("华丰食品", "单县华丰食品有限公司"),
        ("晓明", "单县华丰食品有限公司"),
        ("021-62345678", "单县华丰食品有限公司"),
    ] {
        let r = c.get(&q(query)).await;
        assert_eq!(r.status, StatusCode::OK, "{query}: {}", r.text);
        assert_eq!(names(&r), vec![expect.to_string()], "query {query}");
    }
    let r = c.get(&q(zs["code"].as_str().unwrap())).await;
    assert_eq!(names(&r), vec!["张三丰".to_string()]);
    assert!(names(&c.get(&q("王五")).await).is_empty());
    assert!(names(&c.get(&q("13912345679")).await).is_empty());
}
both!(search_finds_chinese_pinyin_phone_email_and_code);

/// An edit rewrites the search terms and blind indexes only when their
/// sources change; each kind of edit must leave search right.
async fn edits_keep_search_in_step(b: Backend) {
    let s = Server::start(b).await;
    let mut c = s.login("admin").await;
    let created = c
        .customer(
            json!({"kind": "person", "name": "陈思莉", "phones": ["13912340001"],
                         "emails": ["chensl@example.cn"], "employer": "宁波港务集团"}),
        )
        .await;
    let path = format!("/api/v1/customers/{}", created["id"].as_str().unwrap());
    let found = |r: &crate::support::Resp| r.body["items"].as_array().unwrap().len();
    let q = |q: &str| format!("/api/v1/customers?q={}", urlencode(q));
    let mut version = 1;
    let mut patch = async |c: &crate::support::Client, body| {
        let r = c.patch(&path, body, Some(&format!("\"{version}\""))).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        version += 1;
    };

    // Neither terms nor identifiers change: everything still found.
    patch(&c, json!({"notes": "老客户", "city": "宁波市"})).await;
    for query in ["思莉", "csl", "13912340001", "chensl@example.cn", "港务"] {
        assert_eq!(
            found(&c.get(&q(query)).await),
            1,
            "after a notes edit: {query}"
        );
    }
    // New identifiers replace the old ones.
    patch(
        &c,
        json!({"phones": ["13912340002"], "emails": ["si.li@example.cn"]}),
    )
    .await;
    for (query, n) in [
        ("13912340001", 0),
        ("chensl@example.cn", 0),
        ("13912340002", 1),
        ("si.li@example.cn", 1),
    ] {
        assert_eq!(
            found(&c.get(&q(query)).await),
            n,
            "after a phone edit: {query}"
        );
    }
    // A new name and employer replace the old terms.
    patch(&c, json!({"name": "周建国", "employer": "温州鞋业"})).await;
    for (query, n) in [
        ("思莉", 0),
        ("csl", 0),
        ("港务", 0),
        ("zjg", 1),
        ("建国", 1),
        ("鞋业", 1),
        ("13912340002", 1),
    ] {
        assert_eq!(found(&c.get(&q(query)).await), n, "after a rename: {query}");
    }
}
both!(edits_keep_search_in_step);

pub fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

async fn keyset_pages_cover_every_row_once(b: Backend) {
    let s = Server::start(b).await;
    let mut c = s.login("admin").await;
    for i in 0..25 {
        c.customer(json!({"kind": "person", "name": format!("客户{i:02}")}))
            .await;
    }
    for sort in ["-created_at", "name", "-name", "code", "updated_at"] {
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut path = format!("/api/v1/customers?limit=7&sort={sort}");
            if let Some(cur) = &cursor {
                path.push_str(&format!("&cursor={cur}"));
            }
            let r = c.get(&path).await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.text);
            for i in r.body["items"].as_array().unwrap() {
                seen.push(i["name"].as_str().unwrap().to_string());
            }
            match r.body["next_cursor"].as_str() {
                Some(n) => cursor = Some(n.to_string()),
                None => break,
            }
        }
        assert_eq!(seen.len(), 25, "{sort}");
        let mut uniq = seen.clone();
        uniq.sort();
        uniq.dedup();
        assert_eq!(uniq.len(), 25, "{sort}: no duplicates");
        if sort == "name" {
            assert_eq!(seen, uniq, "sorted by name");
        }
    }
    let r = c.get("/api/v1/customers?limit=201").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = c.get("/api/v1/customers?cursor=garbage").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.codes()[0].1, "cursor.invalid");
}
both!(keyset_pages_cover_every_row_once);

async fn contacts_orders_and_filters(b: Backend) {
    let s = Server::start(b).await;
    let mut c = s.login("admin").await;
    let co = c
        .customer(json!({"kind": "company", "name": "杭州云帆科技有限公司", "province": "浙江省"}))
        .await;
    c.customer(json!({"kind": "person", "name": "赵六", "province": "广东省"}))
        .await;
    let id = co["id"].as_str().unwrap();
    let a = c
        .post(
            &format!("/api/v1/customers/{id}/contacts"),
            json!({"name": "钱七", "title": "采购经理", "phones": ["13800000002"]}),
        )
        .await;
    assert_eq!(a.body["is_primary"], true, "the first contact is primary");
    let b2 = c
        .post(
            &format!("/api/v1/customers/{id}/contacts"),
            json!({"name": "孙八", "is_primary": true}),
        )
        .await;
    assert_eq!(b2.body["is_primary"], true);
    let list = c.get(&format!("/api/v1/customers/{id}/contacts")).await;
    let primaries: Vec<_> = list
        .body
        .as_array()
        .unwrap()
        .iter()
        .filter(|k| k["is_primary"] == true)
        .collect();
    assert_eq!(
        primaries.len(),
        1,
        "exactly one primary contact: {}",
        list.text
    );
    assert_eq!(primaries[0]["name"], "孙八");

    // An edit changes only what it sends: making 钱七 primary again keeps
    // the phone that the client only ever saw masked.
    let qian = format!(
        "/api/v1/customers/{id}/contacts/{}",
        a.body["id"].as_str().unwrap()
    );
    let v = list
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["name"] == "钱七")
        .unwrap()["version"]
        .to_string();
    let r = c
        .patch(&qian, json!({"is_primary": true, "title": null}), Some(&v))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["phones"], json!(["138****0002"]), "{}", r.text);
    assert_eq!(
        (r.body["name"].as_str(), r.body["is_primary"].as_bool()),
        (Some("钱七"), Some(true))
    );
    assert!(
        r.body["title"].is_null(),
        "null clears the title: {}",
        r.text
    );
    let hits = c.get("/api/v1/customers?q=13800000002").await;
    assert_eq!(
        hits.body["items"][0]["id"], id,
        "still found by the kept phone"
    );
    let v = r.body["version"].to_string();
    let typo = c
        .patch(&qian, json!({"phone": ["13800000009"]}), Some(&v))
        .await;
    assert!(
        typo.status.is_client_error(),
        "a misspelled field is refused, not ignored: {}",
        typo.text
    );
    let r = c.patch(&qian, json!({"phones": ["12345"]}), Some(&v)).await;
    assert_eq!(
        r.codes(),
        vec![("phones[0]".to_string(), "phone.invalid".to_string())]
    );

    let o = c.post(&format!("/api/v1/customers/{id}/orders"), json!({"ordered_on": "2026-10-01", "channel": "门店",
        "lines": [{"product": "办公椅", "category": "家具", "quantity": 4, "amount_fen": 199600}, {"product": "台灯", "quantity": 2, "amount_fen": 15800}]})).await;
    assert_eq!(o.status, StatusCode::CREATED, "{}", o.text);
    assert_eq!(o.body["total_fen"], 215400);
    let bad = c
        .post(
            &format!("/api/v1/customers/{id}/orders"),
            json!({"ordered_on": "2099-01-01", "lines": []}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let orders = c.get(&format!("/api/v1/customers/{id}/orders")).await;
    assert_eq!(orders.body["order_count"], 1);
    assert_eq!(orders.body["total_fen"], 215400);
    assert_eq!(
        orders.body["items"][0]["lines"].as_array().unwrap().len(),
        2
    );
    let t = c.get(&format!("/api/v1/customers/{id}/timeline")).await;
    assert!(
        t.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["kind"] == "order"),
        "{}",
        t.text
    );

    let r = c
        .get(&format!(
            "/api/v1/customers?province={}",
            crate::customers::urlencode("浙江省")
        ))
        .await;
    assert_eq!(r.body["items"].as_array().unwrap().len(), 1);
    let r = c.get("/api/v1/customers?kind=person").await;
    assert_eq!(r.body["items"][0]["name"], "赵六");
    let r = c
        .get("/api/v1/customers?created_from=2000-01-01&created_to=2001-01-01")
        .await;
    assert_eq!(r.body["items"].as_array().unwrap().len(), 0);
}
both!(contacts_orders_and_filters);
