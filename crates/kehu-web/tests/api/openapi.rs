//! The OpenAPI document, held to what the server really sends. Every
//! documented operation is called with realistic data (and the usual error
//! cases); each response must have a documented status, the documented
//! media type, a body that validates against the documented schema (`$ref`s
//! into `#/components/schemas` resolved) and the documented headers. Object
//! schemas are made strict (`additionalProperties: false`) so an undocumented
//! field fails too, and a response carrying an `ETag` must declare it. At the
//! end every documented path + method must have been exercised, so a new
//! endpoint cannot go untested here.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

use jsonschema::Draft;
use kehu_app::seed::demo_password;
use reqwest::header::{HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::both;
use crate::customers::urlencode;
use crate::support::{Backend, Client, Resp, Server};

const BASE: &str = "/api/v1";
const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

/// The document, with strict object schemas, and what has been exercised.
struct Spec {
    doc: Value,
    /// `components` of the document, made strict.
    components: Value,
    /// (METHOD, path template) → statuses seen.
    seen: Mutex<BTreeMap<(String, String), BTreeSet<u16>>>,
}

/// Adds `additionalProperties: false` to every object schema that lists its
/// properties (the document never means "and anything else").
fn strict(schema: &mut Value) {
    let Some(m) = schema.as_object_mut() else {
        return;
    };
    if m.contains_key("properties") && !m.contains_key("additionalProperties") {
        m.insert("additionalProperties".into(), Value::Bool(false));
    }
    for (k, child) in m.iter_mut() {
        match k.as_str() {
            "properties" | "$defs" | "schemas" => {
                if let Some(props) = child.as_object_mut() {
                    props.values_mut().for_each(strict);
                }
            }
            "items" | "additionalProperties" | "not" => strict(child),
            "allOf" | "anyOf" | "oneOf" | "prefixItems" => {
                if let Some(list) = child.as_array_mut() {
                    list.iter_mut().for_each(strict);
                }
            }
            _ => {}
        }
    }
}

impl Spec {
    fn new(doc: Value) -> Spec {
        assert!(
            doc["openapi"]
                .as_str()
                .is_some_and(|v| v.starts_with("3.1")),
            "an OpenAPI 3.1 document (JSON Schema 2020-12 dialect)"
        );
        let mut components = doc["components"].clone();
        strict(&mut components);
        Spec {
            doc,
            components,
            seen: Mutex::default(),
        }
    }

    /// The documented template a concrete path (under `/api/v1`, query
    /// allowed) falls under; literal segments beat `{parameters}`.
    fn template(&self, path: &str) -> Result<String, String> {
        let path = path.split('?').next().unwrap_or_default();
        let segs: Vec<&str> = path.split('/').collect();
        let mut best: Option<(usize, &String)> = None;
        for t in self.doc["paths"].as_object().expect("paths").keys() {
            let ts: Vec<&str> = t.split('/').collect();
            if ts.len() != segs.len() {
                continue;
            }
            let mut literal = 0;
            let matches = ts.iter().zip(&segs).all(|(t, s)| {
                if t.starts_with('{') && t.ends_with('}') {
                    !s.is_empty()
                } else {
                    literal += 1;
                    t == s
                }
            });
            if matches && best.is_none_or(|(l, _)| literal > l) {
                best = Some((literal, t));
            }
        }
        best.map(|(_, t)| t.clone())
            .ok_or_else(|| format!("no documented path matches {path}"))
    }

    /// Validation errors of `instance` against `schema` (a schema object of
    /// the document, resolved against its components).
    fn errors(&self, schema: &Value, instance: &Value) -> Vec<String> {
        let mut root = schema.clone();
        strict(&mut root);
        let obj = root.as_object_mut().expect("a schema object");
        obj.insert(
            "$schema".into(),
            json!("https://json-schema.org/draft/2020-12/schema"),
        );
        obj.insert("components".into(), self.components.clone());
        let validator = jsonschema::options()
            .with_draft(Draft::Draft202012)
            .build(&root)
            .unwrap_or_else(|e| panic!("the documented schema compiles: {e}: {schema}"));
        validator
            .iter_errors(instance)
            .map(|e| format!("at {:?}: {e}", e.instance_path().as_str()))
            .collect()
    }

    /// Checks one exchange against the document and records it; panics on a mismatch.
    #[track_caller]
    fn check(&self, method: &Method, path: &str, request: Option<&Value>, r: &Resp) {
        if let Err(e) = self.verdict(method, path, request, r) {
            panic!("{e}");
        }
    }

    /// What is wrong with one exchange, if anything; records it when right.
    fn verdict(
        &self,
        method: &Method,
        path: &str,
        request: Option<&Value>,
        r: &Resp,
    ) -> Result<(), String> {
        let t = self.template(path)?;
        let m = method.as_str().to_ascii_lowercase();
        let status = r.status.as_u16();
        let what = format!("{method} {path} → {status} (documented as {method} {t})");
        let op = self.doc["paths"][&t]
            .get(&m)
            .ok_or_else(|| format!("{what}: the operation is not documented"))?;
        let declared = op["responses"].get(status.to_string()).ok_or_else(|| {
            format!(
                "{what}: status {status} is not documented (documented: {:?}); body: {}",
                op["responses"]
                    .as_object()
                    .map(|o| o.keys().cloned().collect::<Vec<_>>()),
                r.text
            )
        })?;

        match declared.get("content").and_then(Value::as_object) {
            Some(content) => {
                let served = r
                    .headers
                    .get("content-type")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .split(';')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_string();
                let media = content.get(&served).ok_or_else(|| {
                    format!(
                        "{what}: served as {served:?} but documented as {:?}",
                        content.keys().collect::<Vec<_>>()
                    )
                })?;
                let body: Value = serde_json::from_str(&r.text)
                    .map_err(|e| format!("{what}: the body is not JSON ({e}): {}", r.text))?;
                let errs = self.errors(&media["schema"], &body);
                if !errs.is_empty() {
                    return Err(format!(
                        "{what}: the body does not match the documented schema:\n  {}\nbody: {}",
                        errs.join("\n  "),
                        r.text
                    ));
                }
            }
            None if !r.text.is_empty() => {
                return Err(format!(
                    "{what}: documented without a body, but sent {}",
                    r.text
                ));
            }
            None => {}
        }

        let headers: Vec<String> = declared
            .get("headers")
            .and_then(Value::as_object)
            .map(|h| h.keys().map(|k| k.to_ascii_lowercase()).collect())
            .unwrap_or_default();
        if let Some(h) = headers.iter().find(|h| !r.headers.contains_key(h.as_str())) {
            return Err(format!("{what}: the documented header {h} is missing"));
        }
        if r.headers.contains_key("etag") && !headers.iter().any(|h| h == "etag") {
            return Err(format!(
                "{what}: sends an ETag the document does not declare"
            ));
        }

        // A body the server accepted must fit the documented request body.
        if let (true, Some(req)) = (r.status.is_success(), request) {
            let schema = op
                .pointer("/requestBody/content/application~1json/schema")
                .ok_or_else(|| format!("{what}: took a JSON body that is not documented"))?;
            let errs = self.errors(schema, req);
            if !errs.is_empty() {
                return Err(format!(
                    "{what}: the accepted request body does not match the documented one:\n  {}\nrequest: {req}",
                    errs.join("\n  ")
                ));
            }
        }

        self.seen
            .lock()
            .unwrap()
            .entry((m.to_ascii_uppercase(), t))
            .or_default()
            .insert(status);
        Ok(())
    }

    /// Every documented path + method was called and succeeded, and every
    /// status the document declares for it was produced at least once.
    fn assert_everything_exercised(&self) {
        let seen = self.seen.lock().unwrap();
        let mut missing = Vec::new();
        for (t, item) in self.doc["paths"].as_object().unwrap() {
            for (m, op) in item.as_object().unwrap() {
                if !METHODS.contains(&m.as_str()) {
                    continue;
                }
                let key = (m.to_ascii_uppercase(), t.clone());
                let statuses = seen.get(&key);
                if !statuses.is_some_and(|s| s.iter().any(|s| (200..300).contains(s))) {
                    missing.push(format!("{} {t}: never succeeded", key.0));
                }
                for s in op["responses"].as_object().unwrap().keys() {
                    let s: u16 = s.parse().unwrap_or(0);
                    if !statuses.is_some_and(|seen| seen.contains(&s)) {
                        missing.push(format!("{} {t}: never answered {s}", key.0));
                    }
                }
            }
        }
        assert!(
            missing.is_empty(),
            "documented but not exercised here (add a call to this test):\n  {}",
            missing.join("\n  ")
        );
    }
}

/// A client whose every exchange is checked against the document.
struct Api<'a> {
    c: Client,
    spec: &'a Spec,
}

impl Api<'_> {
    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        extra: &[(&str, &str)],
    ) -> Resp {
        let full = format!("{BASE}{path}");
        let r = self
            .c
            .send(
                method.clone(),
                &full,
                body.as_ref().map(|b| b.to_string().into_bytes()),
                extra,
            )
            .await;
        self.spec.check(&method, path, body.as_ref(), &r);
        r
    }
    async fn get(&self, path: &str) -> Resp {
        self.call(Method::GET, path, None, &[]).await
    }
    async fn post(&self, path: &str, body: Value) -> Resp {
        self.call(Method::POST, path, Some(body), &[]).await
    }
    async fn put(&self, path: &str, body: Value) -> Resp {
        self.call(Method::PUT, path, Some(body), &[]).await
    }
    async fn patch(&self, path: &str, body: Value, if_match: Option<&str>) -> Resp {
        let extra: Vec<(&str, &str)> = if_match.map(|v| vec![("if-match", v)]).unwrap_or_default();
        self.call(Method::PATCH, path, Some(body), &extra).await
    }
    async fn delete(&self, path: &str, if_match: Option<&str>) -> Resp {
        let extra: Vec<(&str, &str)> = if_match.map(|v| vec![("if-match", v)]).unwrap_or_default();
        self.call(Method::DELETE, path, None, &extra).await
    }
}

#[track_caller]
fn want(r: Resp, status: u16) -> Resp {
    assert_eq!(r.status.as_u16(), status, "{}", r.text);
    r
}

#[track_caller]
fn want_problem(r: Resp, status: u16, code: &str) -> Resp {
    let r = want(r, status);
    assert_eq!(r.body["type"], code, "{}", r.text);
    r
}

fn id(r: &Resp) -> String {
    r.body["id"].as_str().expect("an id").to_string()
}

async fn login<'a>(s: &Server, spec: &'a Spec, login: &str) -> Api<'a> {
    let mut api = Api { c: s.anon(), spec };
    let r = api
        .post(
            "/auth/login",
            json!({"tenant": s.tenant, "login": login, "password": demo_password(login)}),
        )
        .await;
    let r = want(r, 200);
    api.c.csrf = Some(r.body["csrf_token"].as_str().unwrap().to_string());
    api
}

/// An id that names nothing.
const NOBODY: &str = "01900000-0000-7000-8000-00000000dead";

async fn every_documented_operation_matches_the_document(b: Backend) {
    let s = Server::start(b).await;
    let served = s.anon().get("/api/v1/openapi.json").await;
    assert_eq!(served.status, StatusCode::OK);
    let doc: Value = serde_json::from_str(&kehu_web::openapi_json()).unwrap();
    assert_eq!(served.body, doc, "the served document is openapi_json()");
    let spec = Spec::new(doc);

    // ---- signing in; 401 ----
    let anon = Api {
        c: s.anon(),
        spec: &spec,
    };
    want_problem(anon.get("/customers").await, 401, "problem.unauthorized");
    want(anon.get("/auth/me").await, 401);
    want(
        anon.call(Method::POST, "/auth/logout", None, &[]).await,
        401,
    );
    want(
        anon.post(
            "/auth/login",
            json!({"tenant": s.tenant, "login": "admin", "password": "not-the-password-2026"}),
        )
        .await,
        401,
    );
    let a = login(&s, &spec, "admin").await;
    let me = want(a.get("/auth/me").await, 200);
    let admin_id = me.body["user"]["id"].as_str().unwrap().to_string();
    want(
        a.patch("/auth/me", json!({"locale": "en"}), None).await,
        200,
    );
    want(
        a.patch("/auth/me", json!({"locale": "fr"}), None).await,
        422,
    );
    want(
        a.patch("/auth/me", json!({"locale": "zh-CN"}), None).await,
        200,
    );

    // ---- departments ----
    let east = want(
        a.post("/departments", json!({"name": "华东大区"})).await,
        201,
    );
    let east_id = id(&east);
    let sh = want(
        a.post(
            "/departments",
            json!({"name": "上海销售部", "parent_id": east_id}),
        )
        .await,
        201,
    );
    let sh_id = id(&sh);
    let temp = want(
        a.post(
            "/departments",
            json!({"name": "临时项目组", "parent_id": null}),
        )
        .await,
        201,
    );
    want(
        a.post("/departments", json!({"name": "华东大区"})).await,
        409,
    );
    want(a.post("/departments", json!({"name": ""})).await, 422);
    let list = want(a.get("/departments").await, 200);
    assert_eq!(list.body.as_array().unwrap().len(), 3, "{}", list.text);
    let dep = format!("/departments/{sh_id}");
    let body = json!({"name": "上海一部", "parent_id": east_id});
    want(a.patch(&dep, body.clone(), None).await, 428);
    want(a.patch(&dep, body.clone(), Some("\"9\"")).await, 412);
    let sh2 = want(a.patch(&dep, body, Some(&sh.etag())).await, 200);
    assert_eq!(sh2.body["depth"], 1);
    want(
        a.patch(
            &format!("/departments/{east_id}"),
            json!({"name": "华东大区", "parent_id": sh_id}),
            Some(&east.etag()),
        )
        .await,
        409,
    );
    want(
        a.delete(&format!("/departments/{east_id}"), Some(&east.etag()))
            .await,
        409,
    );
    let tmp = format!("/departments/{}", id(&temp));
    want(a.delete(&tmp, None).await, 428);
    want(a.delete(&tmp, Some("\"9\"")).await, 412);
    want(a.delete(&tmp, Some(&temp.etag())).await, 204);

    // ---- roles ----
    want(a.get("/roles").await, 200);
    let role_body = json!({"key": "key_account",
        "permissions": ["customer.read", "customer.create", "customer.update", "customer.reveal", "order.write"],
        "data_scope": "department_and_below", "fields": {"id_number": "read", "notes": "hidden"}});
    let role = want(a.post("/roles", role_body.clone()).await, 201);
    want(a.post("/roles", role_body).await, 409);
    want(
        a.post(
            "/roles",
            json!({"key": "pilot", "permissions": ["customer.fly"], "data_scope": "galaxy"}),
        )
        .await,
        422,
    );
    let rp = format!("/roles/{}", id(&role));
    let body = json!({"permissions": ["customer.read", "customer.update", "customer.reveal", "order.write"],
        "data_scope": "department", "fields": {"id_number": "hidden"}});
    want(a.patch(&rp, body.clone(), None).await, 428);
    want(a.patch(&rp, body.clone(), Some("\"9\"")).await, 412);
    want(
        a.patch(
            &rp,
            json!({"permissions": [], "data_scope": "everywhere"}),
            Some(&role.etag()),
        )
        .await,
        422,
    );
    let role2 = want(a.patch(&rp, body, Some(&role.etag())).await, 200);
    assert_eq!(role2.body["data_scope"], "department");

    // ---- custom fields, one of each type ----
    let defs = [
        json!({"key": "vip_level", "label_zh": "会员等级", "label_en": "VIP level", "field_type": "select",
            "options": ["普通", "黄金", "钻石"], "required": false, "position": 1}),
        json!({"key": "interests", "label_zh": "兴趣", "label_en": "Interests", "field_type": "multi_select",
            "options": ["茶叶", "家具", "电子"], "position": 2}),
        json!({"key": "annual_budget", "label_zh": "年度预算", "label_en": "Annual budget", "field_type": "number", "position": 3}),
        json!({"key": "contract_date", "label_zh": "签约日期", "label_en": "Contract date", "field_type": "date", "position": 4}),
        json!({"key": "key_account", "label_zh": "重点客户", "label_en": "Key account", "field_type": "bool", "position": 5}),
        json!({"key": "wechat", "label_zh": "微信号", "label_en": "WeChat ID", "field_type": "text", "position": 6}),
    ];
    let mut fields = Vec::new();
    for d in &defs {
        fields.push(want(a.post("/custom-fields", d.clone()).await, 201));
    }
    want(a.post("/custom-fields", defs[0].clone()).await, 409);
    want(
        a.post(
            "/custom-fields",
            json!({"key": "colour", "label_zh": "颜色", "label_en": "Colour", "field_type": "colour"}),
        )
        .await,
        422,
    );
    let list = want(a.get("/custom-fields").await, 200);
    assert_eq!(list.body.as_array().unwrap().len(), defs.len());
    let fp = format!("/custom-fields/{}", id(&fields[0]));
    let body = json!({"key": "vip_level", "label_zh": "会员级别", "label_en": "Membership", "field_type": "select",
        "options": ["普通", "白银", "黄金", "钻石"], "required": false, "position": 0});
    want(a.patch(&fp, body.clone(), None).await, 428);
    want(a.patch(&fp, body.clone(), Some("\"9\"")).await, 412);
    let mut bad = body.clone();
    bad["label_zh"] = json!("");
    want(a.patch(&fp, bad, Some(&fields[0].etag())).await, 422);
    want(a.patch(&fp, body, Some(&fields[0].etag())).await, 200);
    let gone = want(
        a.post(
            "/custom-fields",
            json!({"key": "fax", "label_zh": "传真", "label_en": "Fax", "field_type": "text"}),
        )
        .await,
        201,
    );
    let gp = format!("/custom-fields/{}", id(&gone));
    want(a.delete(&gp, None).await, 428);
    want(a.delete(&gp, Some("\"9\"")).await, 412);
    want(a.delete(&gp, Some(&gone.etag())).await, 204);

    // ---- customer code settings ----
    let code = want(a.get("/settings/customer-code").await, 200);
    let body = json!({"pattern": "KH{YY}{MM}{SEQ:4}", "reset": "monthly"});
    want(
        a.patch("/settings/customer-code", body.clone(), None).await,
        428,
    );
    want(
        a.patch("/settings/customer-code", body.clone(), Some("\"9\""))
            .await,
        412,
    );
    want(
        a.patch(
            "/settings/customer-code",
            json!({"pattern": "C{SEQ:4}", "reset": "daily"}),
            Some(&code.etag()),
        )
        .await,
        422,
    );
    want(
        a.patch("/settings/customer-code", body, Some(&code.etag()))
            .await,
        200,
    );

    // ---- users ----
    want(a.get("/users").await, 200);
    let li = want(
        a.post(
            "/users",
            json!({"login": "li.na", "display_name": "李娜", "password": demo_password("li.na"),
                "role": "sales", "department_id": sh_id, "manager_id": admin_id, "locale": "zh-CN"}),
        )
        .await,
        201,
    );
    let li_id = id(&li);
    let wang = want(
        a.post(
            "/users",
            json!({"login": "wang.qiang", "password": demo_password("wang.qiang"), "role": "key_account",
                "department_id": east_id}),
        )
        .await,
        201,
    );
    let wang_id = id(&wang);
    want(
        a.post(
            "/users",
            json!({"login": "li.na", "password": demo_password("li.na"), "role": "sales"}),
        )
        .await,
        409,
    );
    want(
        a.post(
            "/users",
            json!({"login": "", "password": "x", "role": "pilot"}),
        )
        .await,
        422,
    );
    want(a.get(&format!("/users/{li_id}")).await, 200);
    want(a.get(&format!("/users/{NOBODY}")).await, 404);
    let up = format!("/users/{wang_id}");
    let w = want(a.get(&up).await, 200);
    let body = json!({"display_name": "王强", "manager_id": li_id, "locale": "en"});
    want(a.patch(&up, body.clone(), None).await, 428);
    want(a.patch(&up, body.clone(), Some("\"9\"")).await, 412);
    want(
        a.patch(&up, json!({"role": "pilot"}), Some(&w.etag()))
            .await,
        422,
    );
    let w = want(a.patch(&up, body, Some(&w.etag())).await, 200);
    let w = want(
        a.patch(
            &up,
            json!({"department_id": null, "manager_id": null, "disabled": false}),
            Some(&w.etag()),
        )
        .await,
        200,
    );
    assert!(w.body["department_id"].is_null(), "{}", w.text);
    want(
        a.patch(
            &up,
            json!({"department_id": east_id, "password": "Wang-Qiang-reset-2026"}),
            Some(&w.etag()),
        )
        .await,
        200,
    );
    let sales = login(&s, &spec, "li.na").await;

    // ---- customers: one of each kind with every field ----
    let company_body = json!({
        "kind": "company", "name": "福州闽江贸易有限公司", "phones": ["0591-8765 4321", "138 0013 8000"],
        "emails": ["Sales@MinJiang.cn"], "province": "福建省", "city": "福州市", "district": "鼓楼区",
        "address": "五四路 88 号", "industry": "批发零售", "occupation": "贸易", "source": "展会", "owner_id": li_id,
        "unified_social_credit_code": "91350100M000100Y43", "notes": "年底集中采购",
        "custom_fields": {"vip_level": "黄金", "interests": ["茶叶", "家具"], "annual_budget": 1200000.5,
            "contract_date": "2025-03-01", "key_account": true, "wechat": "minjiang_trade"}
    });
    let company = want(a.post("/customers", company_body).await, 201);
    let co = id(&company);
    let person_body = json!({
        "kind": "person", "name": "钱多多", "phones": ["13812345678"], "emails": ["qian@example.com"],
        "province": "北京市", "city": "北京市", "district": "朝阳区", "address": "建国路 1 号院 2 号楼",
        "industry": "金融", "occupation": "财务总监", "employer": "北京华信投资有限公司", "source": "转介绍",
        "owner_id": admin_id, "birthday": "1949-12-31", "id_number": "11010519491231002X",
        "notes": "偏好电话联系", "custom_fields": {"vip_level": "钻石", "key_account": false}
    });
    let person = want(a.post("/customers", person_body).await, 201);
    let pe = id(&person);
    for i in 0..3 {
        want(
            a.post(
                "/customers",
                json!({"kind": "person", "name": format!("客户{i}")}),
            )
            .await,
            201,
        );
    }
    want(
        a.post(
            "/customers",
            json!({"kind": "person", "name": "", "phones": ["1380013800"], "emails": ["a@"]}),
        )
        .await,
        422,
    );
    want_problem(
        sales
            .post(
                "/customers",
                json!({"kind": "person", "name": "越权客户", "owner_id": admin_id}),
            )
            .await,
        403,
        "problem.field_forbidden",
    );

    let page = want(a.get("/customers?limit=2&sort=name").await, 200);
    let cursor = page.body["next_cursor"].as_str().expect("a next page");
    let page2 = want(
        a.get(&format!("/customers?limit=2&sort=name&cursor={cursor}"))
            .await,
        200,
    );
    assert_eq!(page2.body["items"].as_array().unwrap().len(), 2);
    let found = want(
        a.get(&format!(
            "/customers?q={}&kind=company&province={}&owner_id={li_id}&department_id={east_id}&created_from=2000-01-01&sort=-updated_at",
            urlencode("闽江"),
            urlencode("福建省")
        ))
        .await,
        200,
    );
    assert_eq!(found.body["items"].as_array().unwrap().len(), 1);
    assert!(found.body["next_cursor"].is_null());
    want(a.get("/customers?limit=999").await, 422);
    want(a.get("/customers?created_from=yesterday").await, 422);
    // The sales rep sees the company (hers) masked, without hidden fields.
    let mine = want(sales.get("/customers").await, 200);
    assert_eq!(mine.body["items"].as_array().unwrap().len(), 1);

    let cp = format!("/customers/{co}");
    let got = want(a.get(&cp).await, 200);
    assert_eq!(got.etag(), "\"1\"");
    want_problem(
        a.get(&format!("/customers/{NOBODY}")).await,
        404,
        "problem.not_found",
    );
    want(sales.get(&format!("/customers/{pe}")).await, 404);
    let body = json!({"industry": "制造业", "notes": null, "custom_fields": {"wechat": null, "annual_budget": 800000}});
    want_problem(
        a.patch(&cp, body.clone(), None).await,
        428,
        "problem.precondition_required",
    );
    want_problem(
        a.patch(&cp, body.clone(), Some("\"9\"")).await,
        412,
        "problem.version_mismatch",
    );
    want(
        a.patch(&cp, json!({"phones": ["12345"]}), Some("\"1\""))
            .await,
        422,
    );
    want(
        sales
            .patch(&cp, json!({"owner_id": admin_id}), Some("\"1\""))
            .await,
        403,
    );
    want(
        sales
            .patch(
                &format!("/customers/{pe}"),
                json!({"notes": "x"}),
                Some("\"1\""),
            )
            .await,
        404,
    );
    let patched = want(a.patch(&cp, body, Some("\"1\"")).await, 200);
    assert_eq!(patched.etag(), "\"2\"");
    assert!(patched.body.get("notes").is_none(), "{}", patched.text);
    // The sales rep's own edit.
    want(
        sales
            .patch(&cp, json!({"source": "老客户介绍"}), Some("\"2\""))
            .await,
        200,
    );

    // ---- reveal ----
    let rv = format!("/customers/{pe}/reveal");
    let clear = want(
        a.post(
            &rv,
            json!({"fields": ["phones", "emails", "address", "birthday", "id_number"], "reason": "客户来电核实身份"}),
        )
        .await,
        200,
    );
    assert_eq!(clear.body["id_number"], "11010519491231002X");
    want(
        a.post(&rv, json!({"fields": ["phones"], "reason": ""}))
            .await,
        422,
    );
    want(
        sales
            .post(
                &format!("/customers/{co}/reveal"),
                json!({"fields": ["phones"], "reason": "回访"}),
            )
            .await,
        403,
    );
    want(
        a.post(
            &format!("/customers/{NOBODY}/reveal"),
            json!({"fields": ["phones"], "reason": "核实"}),
        )
        .await,
        404,
    );

    // ---- contacts ----
    let cc = format!("/customers/{co}/contacts");
    let k1 = want(
        a.post(
            &cc,
            json!({"name": "王晓明", "title": "采购经理", "phones": ["021-62345678"],
                "emails": ["wxm@minjiang.cn"], "is_primary": false}),
        )
        .await,
        201,
    );
    assert_eq!(k1.body["is_primary"], true, "the first contact is primary");
    let k2 = want(a.post(&cc, json!({"name": "孙八"})).await, 201);
    assert!(k2.body["title"].is_null());
    want(a.post(&cc, json!({"name": ""})).await, 422);
    want(
        a.post(
            &format!("/customers/{NOBODY}/contacts"),
            json!({"name": "无名"}),
        )
        .await,
        404,
    );
    let list = want(a.get(&cc).await, 200);
    assert_eq!(list.body.as_array().unwrap().len(), 2);
    want(a.get(&format!("/customers/{NOBODY}/contacts")).await, 404);
    let kp = format!("{cc}/{}", id(&k2));
    let body = json!({"name": "孙八", "title": "财务", "phones": ["13800000002"], "emails": [], "is_primary": true});
    want(a.patch(&kp, body.clone(), None).await, 428);
    want(a.patch(&kp, body.clone(), Some("\"9\"")).await, 412);
    want(
        a.patch(&format!("{cc}/{NOBODY}"), body.clone(), Some("\"1\""))
            .await,
        404,
    );
    let k2b = want(a.patch(&kp, body, Some(&k2.etag())).await, 200);
    assert_eq!(k2b.body["is_primary"], true);
    let k1p = format!("{cc}/{}", id(&k1));
    want(a.delete(&k1p, None).await, 428);
    want(a.delete(&k1p, Some("\"9\"")).await, 412);
    want(
        a.delete(&format!("{cc}/{NOBODY}"), Some("\"1\"")).await,
        404,
    );
    let now = want(a.get(&cc).await, 200);
    let k1 = now
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["id"] == k1.body["id"])
        .unwrap();
    want(
        a.delete(&k1p, Some(&format!("\"{}\"", k1["version"])))
            .await,
        204,
    );

    // ---- orders ----
    let op = format!("/customers/{co}/orders");
    want(
        a.post(
            &op,
            json!({"ordered_on": "2025-10-01", "channel": "门店", "lines": [
                {"product": "办公椅", "category": "家具", "quantity": 4, "amount_fen": 199600},
                {"product": "台灯", "category": null, "quantity": 2, "amount_fen": 15800}]}),
        )
        .await,
        201,
    );
    want(
        a.post(
            &op,
            json!({"ordered_on": "2025-11-11", "lines": [{"product": "铁观音", "quantity": 10, "amount_fen": 88000}]}),
        )
        .await,
        201,
    );
    want(
        a.post(&op, json!({"ordered_on": "2099-01-01", "lines": []}))
            .await,
        422,
    );
    want(
        a.post(
            &format!("/customers/{NOBODY}/orders"),
            json!({"ordered_on": "2025-01-01", "lines": [{"product": "茶", "quantity": 1, "amount_fen": 100}]}),
        )
        .await,
        404,
    );
    let orders = want(a.get(&format!("{op}?limit=1")).await, 200);
    assert_eq!(orders.body["order_count"], 2);
    // Newest first: the order without a channel.
    assert!(
        orders.body["items"][0]["channel"].is_null(),
        "{}",
        orders.text
    );
    let cursor = orders.body["next_cursor"].as_str().expect("a next page");
    let last = want(a.get(&format!("{op}?limit=1&cursor={cursor}")).await, 200);
    assert_eq!(last.body["items"][0]["channel"], "门店", "{}", last.text);
    assert!(last.body["next_cursor"].is_null(), "{}", last.text);
    want(a.get(&format!("/customers/{NOBODY}/orders")).await, 404);

    // ---- insight ----
    let ip = format!("/customers/{co}/insight");
    let before = want(a.get(&ip).await, 200);
    assert!(before.body["computed_at"].is_null(), "{}", before.text);
    want(a.get(&format!("/customers/{NOBODY}/insight")).await, 404);
    s.app
        .run_classification(&s.tenant_id, "test")
        .await
        .expect("a classification run");
    let after = want(a.get(&ip).await, 200);
    assert!(
        after.body["tier"]["explanation"].is_string(),
        "{}",
        after.text
    );
    want(a.get("/insight/at-risk?limit=5").await, 200);
    want(a.get("/insight/at-risk?limit=0").await, 422);
    want(a.get("/insight/upgrades").await, 200);
    want(a.get("/insight/upgrades?cursor=nonsense").await, 422);
    want(a.get("/insight/cost-benefit").await, 200);
    let settings = want(a.get("/insight/settings").await, 200);
    let mut body = settings.body.clone();
    body.as_object_mut().unwrap().remove("version");
    let sp = "/insight/settings";
    want(a.call(Method::PUT, sp, Some(body.clone()), &[]).await, 428);
    want(
        a.call(
            Method::PUT,
            sp,
            Some(body.clone()),
            &[("if-match", "\"5\"")],
        )
        .await,
        412,
    );
    let mut bad = body.clone();
    bad["tier"]["b_min_fen"] = json!(99_000_000);
    want_problem(
        a.call(Method::PUT, sp, Some(bad), &[("if-match", "\"0\"")])
            .await,
        422,
        "problem.validation",
    );
    want(
        sales
            .call(
                Method::PUT,
                sp,
                Some(body.clone()),
                &[("if-match", "\"0\"")],
            )
            .await,
        403,
    );
    want(
        a.call(Method::PUT, sp, Some(body), &[("if-match", "\"0\"")])
            .await,
        200,
    );
    let rule = want(
        a.post(
            "/insight/rules",
            json!({"name": "回头客", "tag": "回头客", "rule": "purchase_days >= 2", "description": "买过两天以上"}),
        )
        .await,
        201,
    );
    let rp = format!("/insight/rules/{}", id(&rule));
    want(
        a.post(
            "/insight/rules",
            json!({"name": "回头客", "tag": "x", "rule": "orders_90d > 1"}),
        )
        .await,
        409,
    );
    want(
        a.post(
            "/insight/rules",
            json!({"name": "坏规则", "tag": "x", "rule": "orders_90d >"}),
        )
        .await,
        422,
    );
    want(
        sales
            .post(
                "/insight/rules",
                json!({"name": "销售的", "tag": "x", "rule": "orders_90d > 1"}),
            )
            .await,
        403,
    );
    want(a.get("/insight/rules").await, 200);
    want(a.get(&rp).await, 200);
    want(a.get(&format!("/insight/rules/{NOBODY}")).await, 404);
    want(a.patch(&rp, json!({"enabled": false}), None).await, 428);
    want(
        a.patch(&rp, json!({"enabled": false}), Some("\"7\"")).await,
        412,
    );
    want(
        a.patch(&rp, json!({"rule": "kind ="}), Some("\"1\"")).await,
        422,
    );
    want(
        a.patch(
            &format!("/insight/rules/{NOBODY}"),
            json!({"enabled": false}),
            Some("\"1\""),
        )
        .await,
        404,
    );
    want(
        a.post(
            "/insight/rules",
            json!({"name": "第二条", "tag": "y", "rule": "kind = \"company\""}),
        )
        .await,
        201,
    );
    want(
        a.patch(&rp, json!({"name": "第二条"}), Some("\"1\"")).await,
        409,
    );
    want(
        a.patch(&rp, json!({"enabled": false}), Some("\"1\"")).await,
        200,
    );
    want(
        a.post(
            "/insight/rules/preview",
            json!({"rule": "purchase_days >= 2"}),
        )
        .await,
        200,
    );
    want(
        a.post(
            "/insight/rules/preview",
            json!({"rule": "purchase_days >="}),
        )
        .await,
        422,
    );
    want(a.delete(&rp, None).await, 428);
    want(a.delete(&rp, Some("\"1\"")).await, 412);
    want(a.delete(&rp, Some("\"2\"")).await, 204);
    want(a.delete(&rp, Some("\"2\"")).await, 404);
    want(a.get("/insight/runs").await, 200);
    want(a.call(Method::POST, "/insight/runs", None, &[]).await, 202);
    want(
        sales.call(Method::POST, "/insight/runs", None, &[]).await,
        403,
    );
    // While a run of the tenant is under way another is refused.
    {
        use kehu_store::insight::{RunRow, start_run};
        let now = s.app.clock.now_ms();
        let mut tx = s.app.store.begin().await.unwrap();
        let run = RunRow::running(&s.tenant_id, "under-way", "test", now, "2026-01-01");
        start_run(&mut tx, &run).await.unwrap();
        tx.commit().await.unwrap();
        want(a.call(Method::POST, "/insight/runs", None, &[]).await, 409);
        let mut tx = s.app.store.begin().await.unwrap();
        kehu_store::insight::fail_stale_runs(&mut tx, &s.tenant_id, now + 1, now, "test")
            .await
            .unwrap();
        tx.commit().await.unwrap();
    }
    want(
        a.get(&format!(
            "/customers?tier=D&stage=prospect&tag={}",
            urlencode("回头客")
        ))
        .await,
        200,
    );
    want(a.get("/customers?tier=E").await, 422);

    // ---- team ----
    let tp = format!("/customers/{co}/team/{wang_id}");
    want(a.put(&tp, json!({"access": "read"})).await, 200);
    want(a.put(&tp, json!({"access": "write"})).await, 200);
    want(a.put(&tp, json!({"access": "owner"})).await, 422);
    want(sales.put(&tp, json!({"access": "read"})).await, 403);
    let team = want(a.get(&format!("/customers/{co}/team")).await, 200);
    assert_eq!(team.body.as_array().unwrap().len(), 1);
    want(a.get(&format!("/customers/{NOBODY}/team")).await, 404);
    want(a.delete(&tp, None).await, 204);
    want(a.delete(&tp, None).await, 404);

    // ---- bulk actions ----
    let b = want(
        a.post(
            "/customers/bulk",
            json!({"ids": [co, NOBODY], "action": "add_team", "user_id": wang_id, "access": "read"}),
        )
        .await,
        200,
    );
    assert_eq!(
        (
            b.body["updated"].as_i64(),
            b.body["failed"][0]["status"].as_i64()
        ),
        (Some(1), Some(404)),
        "{}",
        b.text
    );
    want(
        a.post("/customers/bulk", json!({"ids": [co], "action": "merge"}))
            .await,
        422,
    );
    want(
        sales
            .post(
                "/customers/bulk",
                json!({"ids": [co], "action": "add_team", "user_id": wang_id}),
            )
            .await,
        403,
    );
    want(a.delete(&tp, None).await, 204);

    // ---- saved views ----
    let view = want(
        sales
            .post("/views", json!({"name": "本月新客户", "kind": "customers", "config": {"sort": "created_at"}}))
            .await,
        201,
    );
    want(
        sales
            .post(
                "/views",
                json!({"name": "本月新客户", "kind": "customers", "config": {}}),
            )
            .await,
        409,
    );
    want(
        sales
            .post(
                "/views",
                json!({"name": "", "kind": "customers", "config": {}}),
            )
            .await,
        422,
    );
    want(sales.get("/views?kind=customers").await, 200);
    want(sales.get("/views?kind=nothing").await, 422);
    let vp = format!("/views/{}", id(&view));
    want(sales.patch(&vp, json!({"name": "新客户"}), None).await, 428);
    want(
        sales
            .patch(&vp, json!({"name": "新客户"}), Some("\"5\""))
            .await,
        412,
    );
    want(
        sales
            .patch(&vp, json!({"name": "新客户"}), Some("\"1\""))
            .await,
        200,
    );
    want(
        a.patch(&vp, json!({"name": "别人的"}), Some("\"2\"")).await,
        404,
    );
    want(
        sales
            .post(
                "/views",
                json!({"name": "另一个", "kind": "customers", "config": {}}),
            )
            .await,
        201,
    );
    want(
        sales
            .patch(&vp, json!({"name": "另一个"}), Some("\"2\""))
            .await,
        409,
    );
    want(sales.delete(&vp, None).await, 428);
    want(sales.delete(&vp, Some("\"1\"")).await, 412);
    want(sales.delete(&vp, Some("\"2\"")).await, 204);
    want(sales.delete(&vp, Some("\"2\"")).await, 404);

    // ---- timeline ----
    let tl = format!("/customers/{co}/timeline");
    let t = want(a.get(&format!("{tl}?limit=3")).await, 200);
    let cursor = t.body["next_cursor"].as_str().expect("a next page");
    want(a.get(&format!("{tl}?limit=50&cursor={cursor}")).await, 200);
    want(a.get(&format!("/customers/{NOBODY}/timeline")).await, 404);

    // ---- API tokens ----
    let tok = want(
        a.post("/auth/tokens", json!({"name": "ERP 同步"})).await,
        201,
    );
    let fresh = want(a.get("/auth/tokens").await, 200);
    assert!(fresh.body[0]["last_used_at"].is_null(), "{}", fresh.text);
    let mut bearer = Api {
        c: s.anon(),
        spec: &spec,
    };
    bearer.c.bearer = Some(tok.body["token"].as_str().unwrap().to_string());
    want(bearer.get("/auth/me").await, 200);
    want(bearer.get("/customers?kind=person").await, 200);
    let used = want(a.get("/auth/tokens").await, 200);
    assert!(used.body[0]["last_used_at"].is_string(), "{}", used.text);
    want(
        sales.post("/auth/tokens", json!({"name": "不允许"})).await,
        403,
    );
    want(
        a.delete(&format!("/auth/tokens/{}", id(&tok)), None).await,
        204,
    );
    want(a.delete(&format!("/auth/tokens/{NOBODY}"), None).await, 404);
    want(bearer.get("/auth/me").await, 401);
    let revoked = want(a.get("/auth/tokens").await, 200);
    assert_eq!(revoked.body[0]["revoked"], true);

    // ---- users: permission, password, throttling ----
    want(
        sales
            .post(
                "/users",
                json!({"login": "x.y", "password": demo_password("x.y"), "role": "sales"}),
            )
            .await,
        403,
    );
    want(
        sales
            .post(
                "/auth/password",
                json!({"current_password": "wrong-password-2026", "new_password": "Li-Na-new-pass-2026"}),
            )
            .await,
        422,
    );
    want(
        sales
            .post(
                "/auth/password",
                json!({"current_password": demo_password("li.na"), "new_password": "Li-Na-new-pass-2026"}),
            )
            .await,
        204,
    );
    for i in 0..5 {
        want(
            anon.post(
                "/auth/login",
                json!({"tenant": s.tenant, "login": "wang.qiang", "password": format!("wrong-{i}-wrong")}),
            )
            .await,
            401,
        );
    }
    want_problem(
        anon.post(
            "/auth/login",
            json!({"tenant": s.tenant, "login": "wang.qiang", "password": "Wang-Qiang-reset-2026"}),
        )
        .await,
        429,
        "problem.throttled",
    );

    // ---- audit ----
    want(sales.get("/audit").await, 403);
    want(sales.get("/audit/verify").await, 403);
    let audit = want(a.get("/audit?limit=5").await, 200);
    let cursor = audit.body["next_cursor"].as_str().expect("a next page");
    want(a.get(&format!("/audit?limit=5&cursor={cursor}")).await, 200);
    let reveals = want(
        a.get(&format!(
            "/audit?action=customer.reveal&object_type=customer&object_id={pe}&actor_id={admin_id}&from=2000-01-01&to={}",
            urlencode("2999-01-01T00:00:00+08:00")
        ))
        .await,
        200,
    );
    assert_eq!(reveals.body["items"].as_array().unwrap().len(), 1);
    want(a.get("/audit?from=yesterday").await, 422);
    let v = want(a.get("/audit/verify").await, 200);
    assert_eq!(v.body["intact"], true, "{}", v.text);

    // ---- deleting a customer ----
    want(a.delete(&format!("/customers/{pe}"), None).await, 428);
    want(
        a.delete(&format!("/customers/{pe}"), Some("\"9\"")).await,
        412,
    );
    want(
        a.delete(&format!("/customers/{pe}"), Some("\"1\"")).await,
        204,
    );
    want(
        a.delete(&format!("/customers/{pe}"), Some("\"1\"")).await,
        404,
    );

    // ---- a broken audit chain still fits the document ----
    let mut tx = s.app.store.begin().await.unwrap();
    tx.exec(kehu_store::Sql::with(
        "UPDATE audit_log SET detail = '{}' WHERE tenant_id = $1 AND action = 'customer.create' AND seq = (SELECT MIN(seq) FROM audit_log WHERE tenant_id = $1 AND action = 'customer.create')",
        vec![s.tenant_id.clone().into()],
    ))
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let v = want(a.get("/audit/verify").await, 200);
    assert_eq!(v.body["intact"], false, "{}", v.text);

    // ---- signing out ----
    want(a.call(Method::POST, "/auth/logout", None, &[]).await, 204);
    want(a.get("/auth/me").await, 401);

    spec.assert_everything_exercised();
}
both!(every_documented_operation_matches_the_document);

fn spec() -> Spec {
    Spec::new(serde_json::from_str(&kehu_web::openapi_json()).unwrap())
}

fn resp(status: u16, content_type: &str, etag: bool, body: &Value) -> Resp {
    let mut headers = HeaderMap::new();
    headers.insert("content-type", HeaderValue::from_str(content_type).unwrap());
    if etag {
        headers.insert("etag", HeaderValue::from_static("\"1\""));
    }
    let text = if body.is_null() {
        String::new()
    } else {
        body.to_string()
    };
    Resp {
        status: StatusCode::from_u16(status).unwrap(),
        headers,
        body: body.clone(),
        bytes: text.clone().into_bytes(),
        text,
    }
}

/// The validator is real: a right body passes, wrong ones do not.
#[test]
fn the_validator_rejects_bodies_that_break_the_document() {
    let spec = spec();
    let schema = json!({"$ref": "#/components/schemas/CustomerView"});
    let good = json!({"id": "c1", "code": "KH0001", "kind": "person", "name": "张三",
        "phones": ["138****5678"], "custom_fields": {}, "masked": ["phones"], "version": 1,
        "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z"});
    assert_eq!(spec.errors(&schema, &good), Vec::<String>::new());

    let mut wrong_type = good.clone();
    wrong_type["version"] = json!("1");
    let mut missing = good.clone();
    missing.as_object_mut().unwrap().remove("masked");
    let mut undocumented = good.clone();
    undocumented["secret"] = json!("13812345678");
    let mut nested = good.clone();
    nested["phones"] = json!([138]);
    for (what, body) in [
        ("a string version", wrong_type),
        ("no masked", missing),
        ("an undocumented field", undocumented),
        ("a number in phones", nested),
    ] {
        assert!(
            !spec.errors(&schema, &body).is_empty(),
            "{what} must be rejected"
        );
    }
    // `$ref`s inside arrays and pages resolve too.
    let page = json!({"$ref": "#/components/schemas/CustomerPage"});
    assert!(
        spec.errors(&page, &json!({"items": [good], "next_cursor": null}))
            .is_empty()
    );
    assert!(
        !spec
            .errors(&page, &json!({"items": [{"id": 1}]}))
            .is_empty()
    );

    // The exchange check: documented statuses, media types, headers and bodies only.
    let m = Method::GET;
    let path = "/customers/c1";
    let json = "application/json";
    assert_eq!(
        spec.verdict(&m, path, None, &resp(200, json, true, &good)),
        Ok(())
    );
    for (what, r, expect) in [
        ("a teapot", resp(418, json, false, &good), "not documented"),
        (
            "plain text",
            resp(200, "text/plain", true, &good),
            "served as",
        ),
        (
            "no ETag",
            resp(200, json, false, &good),
            "header etag is missing",
        ),
        (
            "half a customer",
            resp(200, json, true, &json!({"id": "c1"})),
            "documented schema",
        ),
        (
            "a problem as JSON",
            resp(404, json, false, &json!({"type": "problem.not_found"})),
            "served as",
        ),
        (
            "an incomplete problem",
            resp(
                404,
                "application/problem+json",
                false,
                &json!({"type": "problem.not_found"}),
            ),
            "documented schema",
        ),
    ] {
        let err = spec.verdict(&m, path, None, &r).expect_err(what);
        assert!(err.contains(expect), "{what}: {err}");
    }
    let err = spec
        .verdict(
            &Method::PUT,
            path,
            None,
            &resp(204, json, false, &Value::Null),
        )
        .unwrap_err();
    assert!(err.contains("not documented"), "{err}");
    let err = spec
        .verdict(
            &m,
            "/customers/c1/contacts",
            None,
            &resp(204, json, false, &Value::Null),
        )
        .unwrap_err();
    assert!(err.contains("not documented"), "{err}");
    let err = spec
        .verdict(&Method::POST, "/customers/c1/contacts", Some(&json!({"title": "经理"})), &resp(201, json, true, &json!({"id": "k1", "customer_id": "c1", "name": "王", "title": null, "phones": [], "emails": [], "is_primary": true, "version": 1, "created_at": "", "updated_at": ""})))
        .unwrap_err();
    assert!(err.contains("request body"), "{err}");
    assert!(
        spec.verdict(&m, "/nowhere", None, &resp(200, json, false, &good))
            .is_err()
    );
    // Literal segments win over parameters.
    assert_eq!(spec.template("/audit/verify").unwrap(), "/audit/verify");
    assert_eq!(
        spec.template("/customers/c1/contacts/k1?x=1").unwrap(),
        "/customers/{id}/contacts/{contact_id}"
    );
}
