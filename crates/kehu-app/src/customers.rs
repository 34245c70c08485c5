//! Customer use cases: create, read, list and search, update, delete,
//! reveal; contacts, orders, timeline and team members.

use std::collections::BTreeMap;

use base64::Engine;
use kehu_crypto::TenantKeys;
use kehu_domain::access::{
    CUSTOMER_FIELDS, FieldAccess, Permission, SENSITIVE_FIELDS, is_sensitive,
};
use kehu_domain::code::{CodePattern, CodeReset};
use kehu_domain::custom_field::{CustomFieldDef, FieldType, RawValue};
use kehu_domain::customer::{
    ContactInput, Customer, CustomerInput, Kind, OrderInput, OrderLineInput, validate_contact,
    validate_customer, validate_edit, validate_order,
};
use kehu_domain::mask;
use kehu_domain::search::{index_terms, plan_query};
use kehu_domain::validate::format_date;
use kehu_domain::{FieldError, FieldErrors};
use kehu_store::customers::{
    self as cs, Access, ContactRow, Cursor, CursorValue, CustomerFilter, CustomerRow, Lookup,
    OrderLineRow, OrderRow, SearchSpec, SortKey, TeamRow, TimelineRow,
};
use kehu_store::{Tx, org};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::views::*;
use crate::{Actor, App, AppError, AuditEvent, Result, new_id, today};

/// The sealed part of a customer or contact: never stored or logged in clear.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Sensitive {
    #[serde(default)]
    pub phones: Vec<String>,
    #[serde(default)]
    pub emails: Vec<String>,
    #[serde(default)]
    pub id_number: Option<String>,
    #[serde(default)]
    pub birthday: Option<String>,
    #[serde(default)]
    pub address: Option<String>,
}

impl Sensitive {
    /// The sealed part of a checked customer, in its stored (normalised) form.
    pub fn of(c: &Customer) -> Sensitive {
        Sensitive {
            phones: c.phones.iter().map(|p| p.e164().to_string()).collect(),
            emails: c.emails.iter().map(|e| e.as_str().to_string()).collect(),
            id_number: c.id_number.as_ref().map(|i| i.as_str().to_string()),
            birthday: c.birthday.map(format_date),
            address: c.address.clone(),
        }
    }
}

/// The AAD binds a ciphertext to its row: copied into another row, it fails to open.
pub fn customer_aad(tenant_id: &str, id: &str) -> Vec<u8> {
    format!("customer/{tenant_id}/{id}").into_bytes()
}

pub fn contact_aad(tenant_id: &str, id: &str) -> Vec<u8> {
    format!("contact/{tenant_id}/{id}").into_bytes()
}

pub fn seal(keys: &TenantKeys, aad: &[u8], s: &Sensitive) -> Vec<u8> {
    keys.seal(
        aad,
        &serde_json::to_vec(s).expect("plain struct serialises"),
    )
}

pub fn open(keys: &TenantKeys, aad: &[u8], sealed: &[u8]) -> Result<Sensitive> {
    let clear = keys
        .open(aad, sealed)
        .map_err(|e| AppError::Internal(format!("sealed data: {e}")))?;
    serde_json::from_slice(&clear).map_err(|e| AppError::Internal(format!("sealed data: {e}")))
}

pub fn raw_from_json(v: &Value) -> RawValue {
    match v {
        Value::Null => RawValue::Null,
        Value::Bool(b) => RawValue::Bool(*b),
        Value::Number(n) => RawValue::Number(n.as_f64().unwrap_or(f64::NAN)),
        Value::String(s) => RawValue::Text(s.clone()),
        Value::Array(a) => RawValue::List(a.iter().map(raw_from_json).collect()),
        // Objects are not a custom field type; NaN makes every type check fail.
        Value::Object(_) => RawValue::Number(f64::NAN),
    }
}

pub fn raw_to_json(v: &RawValue) -> Value {
    match v {
        RawValue::Null => Value::Null,
        RawValue::Bool(b) => json!(b),
        RawValue::Number(n) => json!(n),
        RawValue::Text(s) => json!(s),
        RawValue::List(l) => Value::Array(l.iter().map(raw_to_json).collect()),
    }
}

fn custom_to_json(m: &BTreeMap<String, RawValue>) -> String {
    Value::Object(m.iter().map(|(k, v)| (k.clone(), raw_to_json(v))).collect()).to_string()
}

fn custom_from_json(s: &str) -> BTreeMap<String, RawValue> {
    match serde_json::from_str::<Value>(s) {
        Ok(Value::Object(m)) => m
            .iter()
            .map(|(k, v)| (k.clone(), raw_from_json(v)))
            .collect(),
        _ => BTreeMap::new(),
    }
}

pub fn field_defs(rows: &[cs::CustomFieldRow]) -> Vec<CustomFieldDef> {
    rows.iter()
        .filter_map(|r| {
            Some(CustomFieldDef {
                key: r.key.clone(),
                label_zh: r.label_zh.clone(),
                label_en: r.label_en.clone(),
                field_type: FieldType::parse(&r.field_type)?,
                options: serde_json::from_str(&r.options).unwrap_or_default(),
                required: r.required != 0,
            })
        })
        .collect()
}

/// The input a stored customer was made from (clear values), for re-validation on edit.
fn stored_input(row: &CustomerRow, s: &Sensitive) -> CustomerInput {
    CustomerInput {
        kind: row.kind.clone(),
        name: row.name.clone(),
        phones: s.phones.clone(),
        emails: s.emails.clone(),
        province: row.province.clone(),
        city: row.city.clone(),
        district: row.district.clone(),
        address: s.address.clone(),
        industry: row.industry.clone(),
        occupation: row.occupation.clone(),
        employer: row.employer.clone(),
        source: row.source.clone(),
        notes: row.notes.clone(),
        birthday: s.birthday.clone(),
        unified_social_credit_code: row.uscc.clone(),
        id_number: s.id_number.clone(),
        custom_fields: custom_from_json(&row.custom_fields),
    }
}

/// Field → clear value, the common shape for diffs.
fn flatten(c: &CustomerInput, owner: &Option<String>) -> BTreeMap<&'static str, Value> {
    let mut m = BTreeMap::new();
    m.insert("kind", json!(c.kind));
    m.insert("name", json!(c.name));
    m.insert("phones", json!(c.phones));
    m.insert("emails", json!(c.emails));
    let opts = [
        ("province", &c.province),
        ("city", &c.city),
        ("district", &c.district),
        ("address", &c.address),
        ("industry", &c.industry),
        ("occupation", &c.occupation),
        ("employer", &c.employer),
        ("source", &c.source),
        ("notes", &c.notes),
        ("birthday", &c.birthday),
        ("unified_social_credit_code", &c.unified_social_credit_code),
        ("id_number", &c.id_number),
        ("owner_id", owner),
    ];
    for (k, v) in opts {
        m.insert(k, json!(v));
    }
    m.insert(
        "custom_fields",
        Value::Object(
            c.custom_fields
                .iter()
                .map(|(k, v)| (k.clone(), raw_to_json(v)))
                .collect(),
        ),
    );
    m
}

/// Back from checked values to the stored string shape.
fn normalised_input(c: &Customer) -> CustomerInput {
    CustomerInput {
        kind: c.kind.as_str().to_string(),
        name: c.name.clone(),
        phones: c.phones.iter().map(|p| p.e164().to_string()).collect(),
        emails: c.emails.iter().map(|e| e.as_str().to_string()).collect(),
        province: c.province.clone(),
        city: c.city.clone(),
        district: c.district.clone(),
        address: c.address.clone(),
        industry: c.industry.clone(),
        occupation: c.occupation.clone(),
        employer: c.employer.clone(),
        source: c.source.clone(),
        notes: c.notes.clone(),
        birthday: c.birthday.map(format_date),
        unified_social_credit_code: c.uscc.as_ref().map(|u| u.as_str().to_string()),
        id_number: c.id_number.as_ref().map(|i| i.as_str().to_string()),
        custom_fields: c.custom_fields.clone(),
    }
}

/// Field-level changes; sensitive values never appear, only that they changed.
pub fn diff(
    old: &BTreeMap<&'static str, Value>,
    new: &BTreeMap<&'static str, Value>,
) -> Vec<Value> {
    let mut out = Vec::new();
    for (k, nv) in new {
        let ov = old.get(k).unwrap_or(&Value::Null);
        if ov != nv {
            if is_sensitive(k) {
                out.push(json!({"field": k, "redacted": true}));
            } else {
                out.push(json!({"field": k, "from": ov, "to": nv}));
            }
        }
    }
    out
}

fn type_error(field: &str, expected: &str) -> FieldError {
    FieldError::new(field, "value.type").with("expected", expected)
}

fn opt_string(field: &str, v: &Value) -> Result<Option<String>, FieldError> {
    match v {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s.clone())),
        _ => Err(type_error(field, "string")),
    }
}

fn string_list(field: &str, v: &Value) -> Result<Vec<String>, FieldError> {
    match v {
        Value::Null => Ok(Vec::new()),
        Value::Array(items) => items
            .iter()
            .map(|i| {
                i.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| type_error(field, "array of strings"))
            })
            .collect(),
        _ => Err(type_error(field, "array of strings")),
    }
}

/// Applies the fields present in a JSON body to `input`, checking the
/// caller's field permissions. Returns the names of the fields touched.
fn apply_body(
    input: &mut CustomerInput,
    owner: &mut Option<String>,
    body: &Map<String, Value>,
    actor: &Actor,
    creating: bool,
) -> Result<()> {
    let mut errors = FieldErrors::default();
    let mut forbidden = FieldErrors::default();
    for (key, v) in body {
        let known = key == "kind" || CUSTOMER_FIELDS.contains(&key.as_str());
        if !known {
            errors.push(FieldError::new(key.clone(), "field.unknown"));
            continue;
        }
        if key == "kind" {
            if !creating {
                // The kind decides which identifiers apply; changing it is a new customer.
                forbidden.push(FieldError::new("kind", "field.read_only"));
                continue;
            }
        } else if actor.field(key) != FieldAccess::Edit {
            forbidden.push(FieldError::new(key.clone(), "field.read_only"));
            continue;
        }
        let r: Result<(), FieldError> = (|| {
            match key.as_str() {
                "kind" => input.kind = opt_string(key, v)?.unwrap_or_default(),
                "name" => input.name = opt_string(key, v)?.unwrap_or_default(),
                "phones" => input.phones = string_list(key, v)?,
                "emails" => input.emails = string_list(key, v)?,
                "province" => input.province = opt_string(key, v)?,
                "city" => input.city = opt_string(key, v)?,
                "district" => input.district = opt_string(key, v)?,
                "address" => input.address = opt_string(key, v)?,
                "industry" => input.industry = opt_string(key, v)?,
                "occupation" => input.occupation = opt_string(key, v)?,
                "employer" => input.employer = opt_string(key, v)?,
                "source" => input.source = opt_string(key, v)?,
                "notes" => input.notes = opt_string(key, v)?,
                "birthday" => input.birthday = opt_string(key, v)?,
                "unified_social_credit_code" => {
                    input.unified_social_credit_code = opt_string(key, v)?
                }
                "id_number" => input.id_number = opt_string(key, v)?,
                "owner_id" => *owner = opt_string(key, v)?,
                "custom_fields" => match v {
                    Value::Null => input.custom_fields.clear(),
                    // Keys present replace, `null` removes; others stay.
                    Value::Object(m) => {
                        for (k, fv) in m {
                            if fv.is_null() {
                                input.custom_fields.remove(k);
                            } else {
                                input.custom_fields.insert(k.clone(), raw_from_json(fv));
                            }
                        }
                    }
                    _ => return Err(type_error(key, "object")),
                },
                _ => unreachable!("checked against CUSTOMER_FIELDS"),
            }
            Ok(())
        })();
        if let Err(e) = r {
            errors.push(e);
        }
    }
    if !forbidden.is_empty() {
        return Err(AppError::FieldForbidden(forbidden));
    }
    errors.into_result()?;
    Ok(())
}

/// What [`lookups`] is derived from: an edit that changes none of it keeps
/// the stored blind indexes.
type LookupSources<'a> = (&'a [String], &'a [String], Option<&'a str>, Option<&'a str>);

fn lookup_sources(c: &CustomerInput) -> LookupSources<'_> {
    (
        &c.phones,
        &c.emails,
        c.id_number.as_deref(),
        c.unified_social_credit_code.as_deref(),
    )
}

/// What [`search_terms`] is derived from, contact names aside (contact
/// writes refresh the terms themselves).
fn term_sources(c: &CustomerInput) -> (&str, &str, Option<&str>) {
    (&c.kind, &c.name, c.employer.as_deref())
}

pub(crate) fn lookups(keys: &TenantKeys, c: &Customer) -> Vec<Lookup> {
    let mut out = Vec::new();
    for p in &c.phones {
        out.push(Lookup {
            kind: "phone",
            digest: keys.blind_index("phone", p.e164()),
        });
    }
    for e in &c.emails {
        out.push(Lookup {
            kind: "email",
            digest: keys.blind_index("email", &e.lookup_key()),
        });
    }
    if let Some(id) = &c.id_number {
        out.push(Lookup {
            kind: "id",
            digest: keys.blind_index("id", id.as_str()),
        });
    }
    if let Some(u) = &c.uscc {
        out.push(Lookup {
            kind: "uscc",
            digest: keys.blind_index("uscc", u.as_str()),
        });
    }
    out
}

pub(crate) fn contact_lookups(keys: &TenantKeys, s: &Sensitive) -> Vec<Lookup> {
    let mut out = Vec::new();
    for p in &s.phones {
        out.push(Lookup {
            kind: "phone",
            digest: keys.blind_index("phone", p),
        });
    }
    for e in &s.emails {
        out.push(Lookup {
            kind: "email",
            digest: keys.blind_index("email", &e.to_lowercase()),
        });
    }
    out
}

/// Space-separated search tokens for a customer and its contacts' names.
pub fn search_terms(
    kind: &str,
    name: &str,
    employer: Option<&str>,
    contact_names: &[String],
) -> String {
    let mut terms = index_terms(name, kind == Kind::Person.as_str());
    if let Some(e) = employer {
        terms.extend(index_terms(e, false));
    }
    for n in contact_names {
        terms.extend(index_terms(n, true));
    }
    let mut seen = std::collections::HashSet::new();
    terms.retain(|t| seen.insert(t.clone()));
    terms.join(" ")
}

/// Builds the caller's view of a customer: hidden fields dropped, sensitive ones masked.
pub fn customer_view(actor: &Actor, row: &CustomerRow, s: &Sensitive) -> CustomerView {
    let show = |f: &str| actor.field(f) != FieldAccess::Hidden;
    let text = |f: &str, v: &Option<String>| if show(f) { v.clone() } else { None };
    let mut masked = Vec::new();
    let mut sensitive = |f: &'static str, present: bool| {
        let visible = show(f);
        if visible && present {
            masked.push(f.to_string());
        }
        visible
    };
    let phones = sensitive("phones", !s.phones.is_empty())
        .then(|| s.phones.iter().map(|p| mask::mask_phone(p)).collect());
    let emails = sensitive("emails", !s.emails.is_empty())
        .then(|| s.emails.iter().map(|e| mask::mask_email(e)).collect());
    let address = if sensitive("address", s.address.is_some()) {
        s.address.as_deref().map(mask::mask_address)
    } else {
        None
    };
    let birthday = if sensitive("birthday", s.birthday.is_some()) {
        s.birthday.as_deref().map(mask::mask_birthday)
    } else {
        None
    };
    let id_number = if sensitive("id_number", s.id_number.is_some()) {
        s.id_number.as_deref().map(mask::mask_id_number)
    } else {
        None
    };
    CustomerView {
        id: row.id.clone(),
        code: row.code.clone(),
        kind: row.kind.clone(),
        name: show("name").then(|| row.name.clone()),
        phones,
        emails,
        province: text("province", &row.province),
        city: text("city", &row.city),
        district: text("district", &row.district),
        address,
        industry: text("industry", &row.industry),
        occupation: text("occupation", &row.occupation),
        employer: text("employer", &row.employer),
        source: text("source", &row.source),
        owner_id: text("owner_id", &row.owner_id),
        birthday,
        unified_social_credit_code: text("unified_social_credit_code", &row.uscc),
        id_number,
        notes: text("notes", &row.notes),
        custom_fields: show("custom_fields")
            .then(|| serde_json::from_str(&row.custom_fields).unwrap_or(json!({}))),
        masked,
        tier: None,
        stage: None,
        version: row.version,
        created_at: crate::views::rfc3339(row.created_at),
        updated_at: crate::views::rfc3339(row.updated_at),
    }
}

/// Query parameters of the customer list.
#[derive(Clone, Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Search: Chinese name substring (2+ characters), pinyin or initials, phone, email, ID number, USCC, or code.
    pub q: Option<String>,
    pub owner_id: Option<String>,
    /// Customers owned by users of this department and its sub-departments.
    pub department_id: Option<String>,
    /// `person` or `company`.
    pub kind: Option<String>,
    pub province: Option<String>,
    /// `YYYY-MM-DD` (Beijing time) or RFC 3339; inclusive.
    pub created_from: Option<String>,
    /// Exclusive.
    pub created_to: Option<String>,
    pub updated_from: Option<String>,
    pub updated_to: Option<String>,
    /// Value tier of the last classification: `A`, `B`, `C` or `D`.
    pub tier: Option<String>,
    /// Lifecycle stage: `prospect`, `new`, `active`, `loyal`, `at_risk`, `churned` or `won_back`.
    pub stage: Option<String>,
    /// Customers carrying this tag (from tag rules).
    pub tag: Option<String>,
    /// `created_at`, `updated_at`, `name` or `code`; prefix `-` for descending. Default `-created_at`.
    pub sort: Option<String>,
    pub cursor: Option<String>,
    /// 1–200, default 50.
    pub limit: Option<i64>,
}

fn parse_instant(field: &str, s: &str) -> Result<i64, FieldError> {
    crate::views::parse_instant_ms(s).ok_or_else(|| FieldError::new(field, "date.invalid"))
}

fn encode_cursor(sort: &str, c: &Cursor) -> String {
    let v = match &c.value {
        CursorValue::Int(i) => json!(i),
        CursorValue::Text(t) => json!(t),
    };
    encode_token(json!([sort, v, c.id]))
}

fn decode_cursor(sort: &str, s: &str) -> Result<Cursor, FieldError> {
    let bad = || FieldError::new("cursor", "cursor.invalid");
    let a = decode_token(s, 3)?;
    if a[0].as_str() != Some(sort) {
        return Err(bad());
    }
    let value = match &a[1] {
        Value::Number(n) => CursorValue::Int(n.as_i64().ok_or_else(bad)?),
        Value::String(t) => CursorValue::Text(t.clone()),
        _ => return Err(bad()),
    };
    Ok(Cursor {
        value,
        id: a[2].as_str().ok_or_else(bad)?.to_string(),
    })
}

/// An opaque page cursor: a JSON array, base64url-encoded.
pub(crate) fn encode_token(parts: Value) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(parts.to_string())
}

/// The `len` parts of a cursor from [`encode_token`]; anything else is
/// `cursor.invalid`.
pub(crate) fn decode_token(s: &str, len: usize) -> Result<Vec<Value>, FieldError> {
    let bad = || FieldError::new("cursor", "cursor.invalid");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s)
        .map_err(|_| bad())?;
    match serde_json::from_slice(&bytes) {
        Ok(Value::Array(a)) if a.len() == len => Ok(a),
        _ => Err(bad()),
    }
}

/// A page size: 1–[`MAX_PAGE`], 50 when not given.
pub(crate) fn page_limit(limit: Option<i64>) -> Result<i64, FieldError> {
    let limit = limit.unwrap_or(50);
    if (1..=MAX_PAGE).contains(&limit) {
        Ok(limit)
    } else {
        Err(FieldError::new("limit", "value.out_of_range")
            .with("min", 1)
            .with("max", MAX_PAGE))
    }
}

pub const MAX_PAGE: i64 = 200;

impl App {
    /// Validated against by every create and update ([`crate::defs_cache`]).
    async fn defs(&self, tenant_id: &str) -> Result<crate::defs_cache::Defs> {
        let generation = match self.defs.get(tenant_id) {
            Ok(defs) => return Ok(defs),
            Err(generation) => generation,
        };
        let mut r = self.store.fast_reader().await?;
        let defs = std::sync::Arc::new(field_defs(
            &cs::custom_fields(&mut r.read(), tenant_id).await?,
        ));
        self.defs.put(tenant_id, generation, defs.clone());
        Ok(defs)
    }

    /// Commits a change to the tenant's custom field definitions and drops
    /// the cached ones, before the COMMIT and after it: a request cancelled
    /// after the COMMIT (while it waits for the disk) must not leave old
    /// definitions in use here.
    pub(crate) async fn commit_defs_change(&self, tx: Tx, tenant_id: &str) -> Result<()> {
        self.defs.forget(tenant_id);
        tx.commit().await?;
        self.defs.forget(tenant_id);
        Ok(())
    }

    /// Checks that an owner is an enabled user of the tenant.
    async fn check_owner(
        &self,
        tx: &mut Tx,
        tenant_id: &str,
        owner: &Option<String>,
    ) -> Result<()> {
        match owner {
            Some(o) => active_user(&mut tx.conn(), tenant_id, o, "owner_id").await,
            None => Ok(()),
        }
    }

    async fn next_code(&self, tx: &mut Tx, tenant_id: &str) -> Result<String> {
        let t = org::tenant_by_id(&mut tx.conn(), tenant_id)
            .await?
            .ok_or(AppError::NotFound)?;
        let reset = CodeReset::parse(&t.code_reset).unwrap_or(CodeReset::Never);
        let pattern = CodePattern::parse(&t.code_pattern, reset)
            .map_err(|e| AppError::Internal(e.to_string()))?;
        let day = today(self.now());
        let seq = org::next_code_seq(tx, tenant_id, &reset.period_key(day)).await?;
        Ok(pattern.render(day, seq as u64))
    }

    pub async fn create_customer(
        &self,
        actor: &Actor,
        body: &Map<String, Value>,
    ) -> Result<CustomerView> {
        actor.require(Permission::CustomerCreate)?;
        let mut input = CustomerInput::default();
        let mut owner = Some(actor.user_id.clone());
        apply_body(&mut input, &mut owner, body, actor, true)?;
        let defs = self.defs(&actor.tenant_id).await?;
        let now = self.now();
        let c = validate_customer(&input, &defs, today(now))?;
        let keys = self.tenant_keys(&actor.tenant_id).await?;
        let id = new_id();
        let stored = normalised_input(&c);
        let sens = Sensitive::of(&c);
        let mut row = CustomerRow {
            rid: 0,
            tenant_id: actor.tenant_id.clone(),
            id: id.clone(),
            code: String::new(),
            kind: stored.kind.clone(),
            name: stored.name.clone(),
            owner_id: owner.clone(),
            province: stored.province.clone(),
            city: stored.city.clone(),
            district: stored.district.clone(),
            industry: stored.industry.clone(),
            occupation: stored.occupation.clone(),
            employer: stored.employer.clone(),
            source: stored.source.clone(),
            notes: stored.notes.clone(),
            uscc: stored.unified_social_credit_code.clone(),
            custom_fields: custom_to_json(&stored.custom_fields),
            sealed: seal(&keys, &customer_aad(&actor.tenant_id, &id), &sens),
            version: 1,
            created_by: Some(actor.user_id.clone()),
            created_at: now,
            updated_at: now,
        };
        let terms = search_terms(&row.kind, &row.name, row.employer.as_deref(), &[]);
        let lk = lookups(&keys, &c);
        let mut tx = self.store.begin().await?;
        self.check_owner(&mut tx, &actor.tenant_id, &owner).await?;
        row.code = self.next_code(&mut tx, &actor.tenant_id).await?;
        row.rid = cs::insert_customer(&mut tx, &row, &lk, &terms).await?;
        let changes = diff(&BTreeMap::new(), &flatten(&stored, &owner));
        cs::insert_timeline(
            &mut tx,
            &timeline_entry(
                actor,
                &id,
                now,
                "created",
                json!({"code": row.code, "changes": changes}).to_string(),
            ),
        )
        .await?;
        self.audit(
            &mut tx,
            &keys,
            &actor.tenant_id,
            Some(actor),
            AuditEvent {
                action: "customer.create",
                object_type: "customer",
                object_id: Some(&id),
                detail: json!({"code": row.code, "changes": changes}),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(customer_view(actor, &row, &sens))
    }

    async fn load(
        &self,
        actor: &Actor,
        id: &str,
        access: Access,
    ) -> Result<(CustomerRow, Sensitive, TenantKeys)> {
        actor.require(Permission::CustomerRead)?;
        let mut r = self.store.fast_reader().await?;
        let row = cs::customer(&mut r.read(), &actor.viewer(), id, access).await?;
        drop(r);
        self.opened(actor, id, row).await
    }

    /// [`App::load`] inside a write transaction. On SQLite that is the
    /// writer's own connection, whose cache holds what it wrote; a read
    /// connection drops its cache and memory map after every write.
    async fn load_in(
        &self,
        tx: &mut Tx,
        actor: &Actor,
        id: &str,
        access: Access,
    ) -> Result<(CustomerRow, Sensitive, TenantKeys)> {
        actor.require(Permission::CustomerRead)?;
        let row = cs::customer(&mut tx.conn(), &actor.viewer(), id, access).await?;
        self.opened(actor, id, row).await
    }

    async fn opened(
        &self,
        actor: &Actor,
        id: &str,
        row: Option<CustomerRow>,
    ) -> Result<(CustomerRow, Sensitive, TenantKeys)> {
        let row = row.ok_or(AppError::NotFound)?;
        let keys = self.tenant_keys(&actor.tenant_id).await?;
        let s = open(&keys, &customer_aad(&actor.tenant_id, id), &row.sealed)?;
        Ok((row, s, keys))
    }

    pub async fn get_customer(&self, actor: &Actor, id: &str) -> Result<CustomerView> {
        let (row, s, _) = self.load(actor, id, Access::Read).await?;
        Ok(customer_view(actor, &row, &s))
    }

    pub async fn list_customers(&self, actor: &Actor, q: &ListQuery) -> Result<CustomerPage> {
        actor.require(Permission::CustomerRead)?;
        let mut errors = FieldErrors::default();
        // Reported with the other parameters' errors; 50 stands in meanwhile.
        let limit = errors.take(page_limit(q.limit)).unwrap_or(50);
        let sort_s = q.sort.clone().unwrap_or_else(|| "-created_at".into());
        let (desc, key) = match sort_s.strip_prefix('-') {
            Some(k) => (true, k),
            None => (false, sort_s.as_str()),
        };
        let sort = match key {
            "created_at" => Some(SortKey::CreatedAt),
            "updated_at" => Some(SortKey::UpdatedAt),
            "name" => Some(SortKey::Name),
            "code" => Some(SortKey::Code),
            _ => {
                errors.push(
                    FieldError::new("sort", "value.invalid")
                        .with("allowed", "created_at, updated_at, name, code"),
                );
                None
            }
        };
        let cursor = q
            .cursor
            .as_deref()
            .and_then(|c| errors.take(decode_cursor(&sort_s, c)));
        let mut inst = |f: &str, v: &Option<String>| {
            v.as_deref().and_then(|s| errors.take(parse_instant(f, s)))
        };
        let mut filter = CustomerFilter {
            owner_id: q.owner_id.clone(),
            department_id: q.department_id.clone(),
            kind: q.kind.clone(),
            province: q.province.clone(),
            created_from: inst("created_from", &q.created_from),
            created_to: inst("created_to", &q.created_to),
            updated_from: inst("updated_from", &q.updated_from),
            updated_to: inst("updated_to", &q.updated_to),
            tier: q.tier.clone(),
            stage: q.stage.clone(),
            tag: q.tag.clone(),
            search: None,
        };
        if let Some(t) = &q.tier
            && !["A", "B", "C", "D"].contains(&t.as_str())
        {
            errors.push(FieldError::new("tier", "value.invalid").with("allowed", "A, B, C, D"));
        }
        if let Some(st) = &q.stage
            && !kehu_domain::analytics::Stage::ALL
                .iter()
                .any(|x| x.code() == st)
        {
            errors.push(FieldError::new("stage", "value.invalid").with(
                "allowed",
                "prospect, new, active, loyal, at_risk, churned, won_back",
            ));
        }
        if let Some(k) = &q.kind
            && Kind::parse(k).is_none()
        {
            errors.push(FieldError::new("kind", "kind.invalid"));
        }
        errors.into_result()?;
        let sort = sort.expect("checked");
        let keys = self.tenant_keys(&actor.tenant_id).await?;
        if let Some(text) = q.q.as_deref().filter(|t| !t.trim().is_empty()) {
            if text.chars().count() > 100 {
                return Err(FieldError::new("q", "text.too_long")
                    .with("max", 100)
                    .into());
            }
            let plan = plan_query(text);
            let mut spec = SearchSpec {
                terms: plan
                    .terms
                    .iter()
                    .map(|t| (t.text.clone(), t.prefix))
                    .collect(),
                ..Default::default()
            };
            let mut add = |kind: &'static str, v: &Option<String>| {
                if let Some(v) = v {
                    spec.lookups.push(Lookup {
                        kind,
                        digest: keys.blind_index(kind, v),
                    });
                }
            };
            add("phone", &plan.phone);
            add("email", &plan.email);
            add("id", &plan.id_number);
            add("uscc", &plan.uscc);
            spec.code = plan.code.clone();
            filter.search = Some(spec);
        }
        let mut r = self.store.fast_reader().await?;
        let rows = cs::list_customers(
            &mut r.read(),
            &actor.viewer(),
            &filter,
            sort,
            desc,
            cursor.as_ref(),
            limit + 1,
        )
        .await?;
        drop(r);
        let more = rows.len() as i64 > limit;
        let mut items = Vec::with_capacity(limit as usize);
        let mut last = None;
        for listed in rows.into_iter().take(limit as usize) {
            let row = listed.customer;
            let s = open(&keys, &customer_aad(&actor.tenant_id, &row.id), &row.sealed)?;
            let mut view = customer_view(actor, &row, &s);
            // Tier and stage badges from the last classification.
            view.tier = listed.tier;
            view.stage = listed.stage;
            items.push(view);
            last = Some(row);
        }
        let next_cursor = if more {
            last.map(|r| encode_cursor(&sort_s, &Cursor::after(&r, sort)))
        } else {
            None
        };
        Ok(CustomerPage { items, next_cursor })
    }

    pub async fn update_customer(
        &self,
        actor: &Actor,
        id: &str,
        if_match: i64,
        body: &Map<String, Value>,
    ) -> Result<CustomerView> {
        actor.require(Permission::CustomerUpdate)?;
        let defs = self.defs(&actor.tenant_id).await?;
        let mut tx = self.store.begin().await?;
        let (row, s, keys) = self.load_in(&mut tx, actor, id, Access::Write).await?;
        if row.version != if_match {
            return Err(AppError::VersionMismatch);
        }
        let old_input = stored_input(&row, &s);
        let mut input = old_input.clone();
        let mut owner = row.owner_id.clone();
        apply_body(&mut input, &mut owner, body, actor, false)?;
        let now = self.now();
        let c = validate_edit(&input, &old_input.phones, &defs, today(now))?;
        let stored = normalised_input(&c);
        let changes = diff(
            &flatten(&old_input, &row.owner_id),
            &flatten(&stored, &owner),
        );
        if changes.is_empty() {
            return Ok(customer_view(actor, &row, &s));
        }
        let sens = Sensitive::of(&c);
        let mut new = row.clone();
        new.name = stored.name.clone();
        new.owner_id = owner.clone();
        new.province = stored.province.clone();
        new.city = stored.city.clone();
        new.district = stored.district.clone();
        new.industry = stored.industry.clone();
        new.occupation = stored.occupation.clone();
        new.employer = stored.employer.clone();
        new.source = stored.source.clone();
        new.notes = stored.notes.clone();
        new.uscc = stored.unified_social_credit_code.clone();
        new.custom_fields = custom_to_json(&stored.custom_fields);
        new.sealed = seal(&keys, &customer_aad(&actor.tenant_id, id), &sens);
        if owner != row.owner_id {
            self.check_owner(&mut tx, &actor.tenant_id, &owner).await?;
        }
        // Unchanged sources: the stored terms and blind indexes are right.
        let terms = if term_sources(&stored) != term_sources(&old_input) {
            let contact_names: Vec<String> = cs::contacts(&mut tx.conn(), &actor.tenant_id, id)
                .await?
                .into_iter()
                .map(|k| k.name)
                .collect();
            Some(search_terms(
                &new.kind,
                &new.name,
                new.employer.as_deref(),
                &contact_names,
            ))
        } else {
            None
        };
        let new_lookups =
            (lookup_sources(&stored) != lookup_sources(&old_input)).then(|| lookups(&keys, &c));
        new.version =
            cs::update_customer(&mut tx, &new, new_lookups.as_deref(), terms.as_deref(), now)
                .await?;
        new.updated_at = now;
        let tl =
            |kind: &str, detail: Value| timeline_entry(actor, id, now, kind, detail.to_string());
        let entry = tl("updated", json!({"changes": changes}));
        cs::insert_timeline(&mut tx, &entry).await?;
        if owner != row.owner_id {
            let entry = tl(
                "owner_changed",
                json!({"from": row.owner_id, "to": owner, "reason": "assign"}),
            );
            cs::insert_timeline(&mut tx, &entry).await?;
        }
        self.audit(
            &mut tx,
            &keys,
            &actor.tenant_id,
            Some(actor),
            AuditEvent {
                action: "customer.update",
                object_type: "customer",
                object_id: Some(id),
                detail: json!({"changes": changes}),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(customer_view(actor, &new, &sens))
    }

    pub async fn delete_customer(&self, actor: &Actor, id: &str, if_match: i64) -> Result<()> {
        actor.require(Permission::CustomerDelete)?;
        let (row, _, keys) = self.load(actor, id, Access::Write).await?;
        if row.version != if_match {
            return Err(AppError::VersionMismatch);
        }
        let now = self.now();
        let mut tx = self.store.begin().await?;
        cs::delete_customer(&mut tx, &actor.tenant_id, id, row.rid, row.version, now).await?;
        cs::insert_timeline(
            &mut tx,
            &timeline_entry(actor, id, now, "deleted", "{}".into()),
        )
        .await?;
        self.audit(
            &mut tx,
            &keys,
            &actor.tenant_id,
            Some(actor),
            AuditEvent {
                action: "customer.delete",
                object_type: "customer",
                object_id: Some(id),
                detail: json!({"code": row.code, "name": row.name}),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Clear values of masked fields, for a role with the reveal permission.
    /// Audited with the reason, in the same transaction as nothing else: the
    /// audit row is written before the values are returned.
    pub async fn reveal(&self, actor: &Actor, id: &str, req: &RevealRequest) -> Result<RevealView> {
        actor.require(Permission::CustomerReveal)?;
        let mut errors = FieldErrors::default();
        if req.fields.is_empty() {
            errors.push(FieldError::new("fields", "text.required"));
        }
        for f in &req.fields {
            if !SENSITIVE_FIELDS.contains(&f.as_str()) {
                errors.push(
                    FieldError::new("fields", "value.invalid")
                        .with("allowed", SENSITIVE_FIELDS.join(", ")),
                );
            } else if actor.field(f) == FieldAccess::Hidden {
                return Err(AppError::Forbidden);
            }
        }
        let reason = errors.take(kehu_domain::normalize::required_text(
            "reason",
            &req.reason,
            200,
        ));
        errors.into_result()?;
        let (row, s, keys) = self.load(actor, id, Access::Read).await?;
        let want = |f: &str| req.fields.iter().any(|x| x == f);
        let view = RevealView {
            phones: want("phones").then(|| s.phones.clone()),
            emails: want("emails").then(|| s.emails.clone()),
            address: if want("address") {
                s.address.clone()
            } else {
                None
            },
            birthday: if want("birthday") {
                s.birthday.clone()
            } else {
                None
            },
            id_number: if want("id_number") {
                s.id_number.clone()
            } else {
                None
            },
        };
        let mut tx = self.store.begin().await?;
        self.audit(
            &mut tx,
            &keys,
            &actor.tenant_id,
            Some(actor),
            AuditEvent {
                action: "customer.reveal",
                object_type: "customer",
                object_id: Some(&row.id),
                detail: json!({"fields": req.fields, "reason": reason}),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(view)
    }

    // ---- contacts ----

    fn contact_view(row: &ContactRow, s: &Sensitive) -> ContactView {
        ContactView {
            id: row.id.clone(),
            customer_id: row.customer_id.clone(),
            name: row.name.clone(),
            title: row.title.clone(),
            phones: s.phones.iter().map(|p| mask::mask_phone(p)).collect(),
            emails: s.emails.iter().map(|e| mask::mask_email(e)).collect(),
            is_primary: row.is_primary != 0,
            version: row.version,
            created_at: crate::views::rfc3339(row.created_at),
            updated_at: crate::views::rfc3339(row.updated_at),
        }
    }

    pub async fn list_contacts(
        &self,
        actor: &Actor,
        customer_id: &str,
    ) -> Result<Vec<ContactView>> {
        let (_, _, keys) = self.load(actor, customer_id, Access::Read).await?;
        let mut r = self.store.reader().await?;
        let rows = cs::contacts(&mut r.conn(), &actor.tenant_id, customer_id).await?;
        rows.iter()
            .map(|k| {
                Ok(Self::contact_view(
                    k,
                    &open(&keys, &contact_aad(&actor.tenant_id, &k.id), &k.sealed)?,
                ))
            })
            .collect()
    }

    pub async fn save_contact(
        &self,
        actor: &Actor,
        customer_id: &str,
        contact_id: Option<(&str, i64)>,
        body: &ContactPatch,
    ) -> Result<ContactView> {
        actor.require(Permission::CustomerUpdate)?;
        // The customer is read in the transaction that rewrites its search
        // terms from its name: read before it, a rename committing meanwhile
        // would be overwritten by terms of the old name.
        let mut tx = self.store.begin().await?;
        let (row, _, keys) = self
            .load_in(&mut tx, actor, customer_id, Access::Write)
            .await?;
        if row.kind != Kind::Company.as_str() {
            return Err(FieldError::new("customer_id", "contact.company_only").into());
        }
        let now = self.now();
        let existing = cs::contacts(&mut tx.conn(), &actor.tenant_id, customer_id).await?;
        // An edit starts from what is stored: a field the request leaves out
        // keeps its value (a missing `phones` must not erase the numbers).
        let (id, version, created_at, action, mut input) = match contact_id {
            Some((cid, v)) => {
                let old = existing
                    .iter()
                    .find(|c| c.id == cid)
                    .ok_or(AppError::NotFound)?;
                if old.version != v {
                    return Err(AppError::VersionMismatch);
                }
                let s = open(&keys, &contact_aad(&actor.tenant_id, cid), &old.sealed)?;
                let input = ContactInput {
                    name: old.name.clone(),
                    title: old.title.clone(),
                    phones: s.phones,
                    emails: s.emails,
                    is_primary: old.is_primary != 0,
                };
                (cid.to_string(), v, old.created_at, "contact.update", input)
            }
            None => (
                new_id(),
                1,
                now,
                "contact.create",
                ContactInput {
                    name: String::new(),
                    title: None,
                    phones: Vec::new(),
                    emails: Vec::new(),
                    is_primary: false,
                },
            ),
        };
        if let Some(n) = &body.name {
            input.name = n.clone();
        }
        if let Some(t) = &body.title {
            input.title = t.clone();
        }
        if let Some(p) = &body.phones {
            input.phones = p.clone();
        }
        if let Some(e) = &body.emails {
            input.emails = e.clone();
        }
        if let Some(p) = body.is_primary {
            input.is_primary = p;
        }
        let k = validate_contact(&input)?;
        let sens = Sensitive {
            phones: k.phones.iter().map(|p| p.e164().to_string()).collect(),
            emails: k.emails.iter().map(|e| e.as_str().to_string()).collect(),
            ..Default::default()
        };
        // The first contact of a company is its primary contact.
        let others_primary = existing.iter().any(|c| c.id != id && c.is_primary != 0);
        let is_primary = k.is_primary || !others_primary;
        let mut crow = ContactRow {
            tenant_id: actor.tenant_id.clone(),
            id: id.clone(),
            customer_id: customer_id.to_string(),
            name: k.name.clone(),
            title: k.title.clone(),
            is_primary: is_primary as i64,
            sealed: seal(&keys, &contact_aad(&actor.tenant_id, &id), &sens),
            version,
            created_at,
            updated_at: now,
        };
        if contact_id.is_some() {
            crow.version =
                cs::update_contact(&mut tx, &crow, &contact_lookups(&keys, &sens)).await?;
        } else {
            cs::insert_contact(&mut tx, &crow, &contact_lookups(&keys, &sens)).await?;
        }
        let mut names: Vec<String> = existing
            .iter()
            .filter(|c| c.id != id)
            .map(|c| c.name.clone())
            .collect();
        names.push(crow.name.clone());
        cs::put_search_terms(
            &mut tx,
            &actor.tenant_id,
            row.rid,
            &search_terms(&row.kind, &row.name, row.employer.as_deref(), &names),
        )
        .await?;
        let detail = json!({"contact_id": id, "name": crow.name, "is_primary": is_primary});
        cs::insert_timeline(
            &mut tx,
            &timeline_entry(
                actor,
                customer_id,
                now,
                if contact_id.is_some() {
                    "contact_updated"
                } else {
                    "contact_added"
                },
                detail.to_string(),
            ),
        )
        .await?;
        self.audit(
            &mut tx,
            &keys,
            &actor.tenant_id,
            Some(actor),
            AuditEvent {
                action,
                object_type: "contact",
                object_id: Some(&id),
                detail,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(Self::contact_view(&crow, &sens))
    }

    pub async fn delete_contact(
        &self,
        actor: &Actor,
        customer_id: &str,
        contact_id: &str,
        if_match: i64,
    ) -> Result<()> {
        actor.require(Permission::CustomerUpdate)?;
        // Read in the transaction, as in `save_contact`.
        let mut tx = self.store.begin().await?;
        let (row, _, keys) = self
            .load_in(&mut tx, actor, customer_id, Access::Write)
            .await?;
        let now = self.now();
        let existing = cs::contacts(&mut tx.conn(), &actor.tenant_id, customer_id).await?;
        let old = existing
            .iter()
            .find(|c| c.id == contact_id)
            .ok_or(AppError::NotFound)?;
        if old.version != if_match {
            return Err(AppError::VersionMismatch);
        }
        cs::delete_contact(&mut tx, &actor.tenant_id, customer_id, contact_id, if_match).await?;
        let rest: Vec<&ContactRow> = existing.iter().filter(|c| c.id != contact_id).collect();
        // A company keeps a primary contact while it has contacts.
        if old.is_primary != 0
            && let Some(next) = rest.first()
        {
            let mut promoted = (*next).clone();
            promoted.is_primary = 1;
            promoted.updated_at = now;
            let s = open(
                &keys,
                &contact_aad(&actor.tenant_id, &promoted.id),
                &promoted.sealed,
            )?;
            cs::update_contact(&mut tx, &promoted, &contact_lookups(&keys, &s)).await?;
        }
        let names: Vec<String> = rest.iter().map(|c| c.name.clone()).collect();
        cs::put_search_terms(
            &mut tx,
            &actor.tenant_id,
            row.rid,
            &search_terms(&row.kind, &row.name, row.employer.as_deref(), &names),
        )
        .await?;
        let detail = json!({"contact_id": contact_id, "name": old.name});
        cs::insert_timeline(
            &mut tx,
            &timeline_entry(
                actor,
                customer_id,
                now,
                "contact_removed",
                detail.to_string(),
            ),
        )
        .await?;
        self.audit(
            &mut tx,
            &keys,
            &actor.tenant_id,
            Some(actor),
            AuditEvent {
                action: "contact.delete",
                object_type: "contact",
                object_id: Some(contact_id),
                detail,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    // ---- orders ----

    pub async fn create_order(
        &self,
        actor: &Actor,
        customer_id: &str,
        body: &OrderBody,
    ) -> Result<OrderView> {
        actor.require(Permission::OrderWrite)?;
        let (_, _, keys) = self.load(actor, customer_id, Access::Write).await?;
        let now = self.now();
        let o = validate_order(
            &OrderInput {
                ordered_on: body.ordered_on.clone(),
                channel: body.channel.clone(),
                lines: body
                    .lines
                    .iter()
                    .map(|l| OrderLineInput {
                        product: l.product.clone(),
                        category: l.category.clone(),
                        quantity: l.quantity,
                        amount_fen: l.amount_fen,
                    })
                    .collect(),
            },
            today(now),
        )?;
        let id = new_id();
        let orow = OrderRow {
            tenant_id: actor.tenant_id.clone(),
            id: id.clone(),
            customer_id: customer_id.to_string(),
            ordered_on: format_date(o.ordered_on),
            channel: o.channel.clone(),
            total_fen: o.total_fen(),
            line_count: o.lines.len() as i64,
            created_by: Some(actor.user_id.clone()),
            created_at: now,
        };
        let lines: Vec<OrderLineRow> = o
            .lines
            .iter()
            .enumerate()
            .map(|(i, l)| OrderLineRow {
                tenant_id: actor.tenant_id.clone(),
                order_id: id.clone(),
                line_no: i as i64 + 1,
                product: l.product.clone(),
                category: l.category.clone(),
                quantity: l.quantity,
                amount_fen: l.amount_fen,
            })
            .collect();
        let mut tx = self.store.begin().await?;
        cs::insert_order(&mut tx, &orow, &lines).await?;
        // Re-classify the customer in the background, committed with the order.
        crate::insight::enqueue_customer_update(&mut tx, &actor.tenant_id, customer_id, now)
            .await?;
        self.audit(
            &mut tx,
            &keys,
            &actor.tenant_id,
            Some(actor),
            AuditEvent {
                action: "order.create",
                object_type: "order",
                object_id: Some(&id),
                detail: json!({"customer_id": customer_id, "ordered_on": orow.ordered_on, "total_fen": orow.total_fen}),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(order_view(&orow, &lines))
    }

    pub async fn list_orders(
        &self,
        actor: &Actor,
        customer_id: &str,
        cursor: Option<&str>,
        limit: Option<i64>,
    ) -> Result<OrderPage> {
        self.load(actor, customer_id, Access::Read).await?;
        let limit = page_limit(limit)?;
        let before = match cursor {
            Some(c) => {
                let (day, id) = c
                    .split_once('_')
                    .ok_or_else(|| FieldError::new("cursor", "cursor.invalid"))?;
                Some((day.to_string(), id.to_string()))
            }
            None => None,
        };
        let mut r = self.store.reader().await?;
        let rows = cs::orders(
            &mut r.conn(),
            &actor.tenant_id,
            customer_id,
            before.as_ref().map(|(a, b)| (a.as_str(), b.as_str())),
            limit + 1,
        )
        .await?;
        let more = rows.len() as i64 > limit;
        let rows: Vec<OrderRow> = rows.into_iter().take(limit as usize).collect();
        let ids: Vec<String> = rows.iter().map(|o| o.id.clone()).collect();
        let lines = cs::order_lines(&mut r.conn(), &actor.tenant_id, &ids).await?;
        let totals = cs::order_totals(&mut r.conn(), &actor.tenant_id, customer_id).await?;
        let next_cursor = if more {
            rows.last().map(|o| format!("{}_{}", o.ordered_on, o.id))
        } else {
            None
        };
        let items = rows
            .iter()
            .map(|o| {
                order_view(
                    o,
                    &lines
                        .iter()
                        .filter(|l| l.order_id == o.id)
                        .cloned()
                        .collect::<Vec<_>>(),
                )
            })
            .collect();
        Ok(OrderPage {
            items,
            next_cursor,
            order_count: totals.order_count,
            total_fen: totals.total_fen,
        })
    }

    // ---- timeline ----

    /// Timeline entries and orders, newest first. `cursor` is `<ms>_<id>` of the last entry seen.
    pub async fn timeline(
        &self,
        actor: &Actor,
        customer_id: &str,
        cursor: Option<&str>,
        limit: Option<i64>,
    ) -> Result<TimelinePage> {
        self.load(actor, customer_id, Access::Read).await?;
        let limit = limit.unwrap_or(50).clamp(1, MAX_PAGE);
        let before: Option<(i64, String)> = match cursor {
            Some(c) => {
                let bad = || FieldError::new("cursor", "cursor.invalid");
                let (at, id) = c.split_once('_').ok_or_else(bad)?;
                Some((at.parse::<i64>().map_err(|_| bad())?, id.to_string()))
            }
            None => None,
        };
        let mut r = self.store.reader().await?;
        let rows = cs::timeline(
            &mut r.conn(),
            &actor.tenant_id,
            customer_id,
            before.as_ref().map(|(at, id)| (*at, id.as_str())),
            limit + 1,
        )
        .await?;
        let mut items: Vec<(i64, TimelineEntry)> = rows
            .into_iter()
            .map(|t| {
                (
                    t.at,
                    TimelineEntry {
                        id: t.id,
                        kind: t.kind,
                        at: crate::views::rfc3339(t.at),
                        actor_id: t.actor_id,
                        detail: serde_json::from_str(&t.detail).unwrap_or(json!({})),
                    },
                )
            })
            .collect();
        // Orders appear at their order date (noon Beijing time keeps the day right in any zone near China).
        let orders = cs::orders(
            &mut r.conn(),
            &actor.tenant_id,
            customer_id,
            None,
            MAX_PAGE * 5,
        )
        .await?;
        for o in orders {
            let at = parse_instant("ordered_on", &o.ordered_on).unwrap_or(o.created_at)
                + 4 * 3600 * 1000;
            if before
                .as_ref()
                .is_some_and(|(b_at, b_id)| (at, o.id.as_str()) >= (*b_at, b_id.as_str()))
            {
                continue;
            }
            items.push((at, TimelineEntry {
                id: o.id.clone(),
                kind: "order".into(),
                at: crate::views::rfc3339(at),
                actor_id: o.created_by.clone(),
                detail: json!({"order_id": o.id, "ordered_on": o.ordered_on, "total_fen": o.total_fen, "channel": o.channel, "lines": o.line_count}),
            }));
        }
        items.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| b.1.id.cmp(&a.1.id)));
        let more = items.len() as i64 > limit;
        items.truncate(limit as usize);
        let next_cursor = if more {
            items.last().map(|(at, e)| format!("{at}_{}", e.id))
        } else {
            None
        };
        Ok(TimelinePage {
            items: items.into_iter().map(|(_, e)| e).collect(),
            next_cursor,
        })
    }

    // ---- team members ----

    pub async fn list_team(&self, actor: &Actor, customer_id: &str) -> Result<Vec<TeamMemberView>> {
        self.load(actor, customer_id, Access::Read).await?;
        let mut r = self.store.reader().await?;
        Ok(cs::team(&mut r.conn(), &actor.tenant_id, customer_id)
            .await?
            .into_iter()
            .map(|t| TeamMemberView {
                user_id: t.user_id,
                access: t.access,
                created_at: crate::views::rfc3339(t.created_at),
            })
            .collect())
    }

    pub async fn put_team_member(
        &self,
        actor: &Actor,
        customer_id: &str,
        user_id: &str,
        access: &str,
    ) -> Result<TeamMemberView> {
        actor.require(Permission::CustomerAssign)?;
        if access != "read" && access != "write" {
            return Err(FieldError::new("access", "value.invalid")
                .with("allowed", "read, write")
                .into());
        }
        let (_, _, keys) = self.load(actor, customer_id, Access::Write).await?;
        let now = self.now();
        let mut tx = self.store.begin().await?;
        active_user(&mut tx.conn(), &actor.tenant_id, user_id, "user_id").await?;
        let t = TeamRow {
            tenant_id: actor.tenant_id.clone(),
            customer_id: customer_id.into(),
            user_id: user_id.into(),
            access: access.into(),
            created_at: now,
        };
        cs::put_team_member(&mut tx, &t).await?;
        let detail = json!({"user_id": user_id, "access": access});
        cs::insert_timeline(
            &mut tx,
            &timeline_entry(
                actor,
                customer_id,
                now,
                "team_member_added",
                detail.to_string(),
            ),
        )
        .await?;
        self.audit(
            &mut tx,
            &keys,
            &actor.tenant_id,
            Some(actor),
            AuditEvent {
                action: "customer.team_add",
                object_type: "customer",
                object_id: Some(customer_id),
                detail,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(TeamMemberView {
            user_id: t.user_id,
            access: t.access,
            created_at: crate::views::rfc3339(now),
        })
    }

    pub async fn remove_team_member(
        &self,
        actor: &Actor,
        customer_id: &str,
        user_id: &str,
    ) -> Result<()> {
        actor.require(Permission::CustomerAssign)?;
        let (_, _, keys) = self.load(actor, customer_id, Access::Write).await?;
        let now = self.now();
        let mut tx = self.store.begin().await?;
        cs::remove_team_member(&mut tx, &actor.tenant_id, customer_id, user_id).await?;
        let detail = json!({"user_id": user_id});
        cs::insert_timeline(
            &mut tx,
            &timeline_entry(
                actor,
                customer_id,
                now,
                "team_member_removed",
                detail.to_string(),
            ),
        )
        .await?;
        self.audit(
            &mut tx,
            &keys,
            &actor.tenant_id,
            Some(actor),
            AuditEvent {
                action: "customer.team_remove",
                object_type: "customer",
                object_id: Some(customer_id),
                detail,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

/// A timeline entry written by `actor` about `customer_id`.
fn timeline_entry(
    actor: &Actor,
    customer_id: &str,
    at: i64,
    kind: &str,
    detail: String,
) -> TimelineRow {
    TimelineRow {
        tenant_id: actor.tenant_id.clone(),
        id: new_id(),
        customer_id: customer_id.to_string(),
        at,
        actor_id: Some(actor.user_id.clone()),
        kind: kind.to_string(),
        detail,
    }
}

pub fn order_view(o: &OrderRow, lines: &[OrderLineRow]) -> OrderView {
    OrderView {
        id: o.id.clone(),
        customer_id: o.customer_id.clone(),
        ordered_on: o.ordered_on.clone(),
        channel: o.channel.clone(),
        total_fen: o.total_fen,
        lines: lines
            .iter()
            .map(|l| OrderLineView {
                product: l.product.clone(),
                category: l.category.clone(),
                quantity: l.quantity,
                amount_fen: l.amount_fen,
            })
            .collect(),
        created_at: crate::views::rfc3339(o.created_at),
    }
}

/// An enabled user of the tenant, or a field error naming `field`: who a
/// customer may be assigned or shared to.
pub(crate) async fn active_user(
    c: &mut kehu_store::db::Conn<'_>,
    tenant_id: &str,
    user_id: &str,
    field: &str,
) -> Result<()> {
    match org::user(c, tenant_id, user_id).await? {
        Some(u) if u.disabled == 0 => Ok(()),
        _ => Err(FieldError::new(field, "user.unknown").into()),
    }
}
