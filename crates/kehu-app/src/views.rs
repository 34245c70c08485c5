//! What the use cases take and return, as JSON-shaped types. Field names are
//! the glossary's English words in snake_case. Every view is built already
//! masked and filtered for the caller; nothing here holds a clear sensitive
//! value except [`RevealView`], which only the audited reveal returns.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub fn rfc3339(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

/// `YYYY-MM-DD` (start of that day, Beijing time) or RFC 3339, as Unix ms.
pub fn parse_instant_ms(s: &str) -> Option<i64> {
    if let Ok(t) = time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339) {
        return Some((t.unix_timestamp_nanos() / 1_000_000) as i64);
    }
    let d = kehu_domain::validate::parse_date("", s).ok()?;
    Some(
        d.midnight()
            .assume_offset(time::macros::offset!(+8))
            .unix_timestamp()
            * 1000,
    )
}

/// A customer as the caller may see it. Fields the caller's role hides are
/// absent; sensitive fields are masked (`138****5678`) and listed in `masked`.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct CustomerView {
    pub id: String,
    pub code: String,
    /// `person` or `company`.
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phones: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub emails: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub province: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub district: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub industry: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub occupation: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub employer: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub birthday: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unified_social_credit_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_number: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = HashMap<String, serde_json::Value>)]
    pub custom_fields: Option<serde_json::Value>,
    /// Fields shown masked; `POST /customers/{id}/reveal` returns them in clear.
    pub masked: Vec<String>,
    /// Value tier of the last classification (`A`…`D`); list responses only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tier: Option<String>,
    /// Lifecycle stage code of the last classification; list responses only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage: Option<String>,
    pub version: i64,
    pub created_at: String,
    pub updated_at: String,
}

/// Body of `POST /customers` and `PATCH /customers/{id}`. On PATCH only the
/// fields present change; `null` clears a field.
#[allow(dead_code)]
#[derive(Deserialize, ToSchema)]
pub struct CustomerBody {
    /// `person` or `company` (required on create).
    pub kind: Option<String>,
    /// Required on create; at most 100 characters.
    pub name: Option<String>,
    /// Mobile or landline numbers in any common written form; stored as E.164.
    pub phones: Option<Vec<String>>,
    pub emails: Option<Vec<String>>,
    pub province: Option<String>,
    pub city: Option<String>,
    pub district: Option<String>,
    pub address: Option<String>,
    pub industry: Option<String>,
    pub occupation: Option<String>,
    /// 工作单位, for persons.
    pub employer: Option<String>,
    pub source: Option<String>,
    pub owner_id: Option<String>,
    /// `YYYY-MM-DD`.
    pub birthday: Option<String>,
    /// 统一社会信用代码 (companies), check character verified.
    pub unified_social_credit_code: Option<String>,
    /// 居民身份证号 (persons), check digit and birth date verified.
    pub id_number: Option<String>,
    pub notes: Option<String>,
    /// Custom field key → value; on PATCH only the keys present change, `null` clears.
    #[schema(value_type = Option<HashMap<String, serde_json::Value>>)]
    pub custom_fields: Option<serde_json::Value>,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct CustomerPage {
    pub items: Vec<CustomerView>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Clone, Debug, Deserialize, ToSchema)]
pub struct RevealRequest {
    /// Which masked fields to show in clear.
    pub fields: Vec<String>,
    /// Why (recorded in the audit log).
    pub reason: String,
}

/// Clear values of the requested fields; every call is audited.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema, Default)]
pub struct RevealView {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phones: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub emails: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub birthday: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_number: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct ContactView {
    pub id: String,
    pub customer_id: String,
    pub name: String,
    pub title: Option<String>,
    /// Masked.
    pub phones: Vec<String>,
    /// Masked.
    pub emails: Vec<String>,
    pub is_primary: bool,
    pub version: i64,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactBody {
    pub name: String,
    pub title: Option<String>,
    #[serde(default)]
    pub phones: Vec<String>,
    #[serde(default)]
    pub emails: Vec<String>,
    #[serde(default)]
    pub is_primary: bool,
}

/// A contact edit: only the fields present change (`title: null` clears it).
/// Phones and emails, when present, replace the whole list.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactPatch {
    pub name: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub title: Option<Option<String>>,
    pub phones: Option<Vec<String>>,
    pub emails: Option<Vec<String>>,
    pub is_primary: Option<bool>,
}

impl From<&ContactBody> for ContactPatch {
    fn from(b: &ContactBody) -> Self {
        ContactPatch {
            name: Some(b.name.clone()),
            title: Some(b.title.clone()),
            phones: Some(b.phones.clone()),
            emails: Some(b.emails.clone()),
            is_primary: Some(b.is_primary),
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct OrderLineView {
    pub product: String,
    pub category: Option<String>,
    pub quantity: i64,
    /// Line total in 分 (1/100 yuan).
    pub amount_fen: i64,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct OrderView {
    pub id: String,
    pub customer_id: String,
    /// `YYYY-MM-DD`.
    pub ordered_on: String,
    pub channel: Option<String>,
    /// In 分.
    pub total_fen: i64,
    pub lines: Vec<OrderLineView>,
    pub created_at: String,
}

#[derive(Clone, Debug, Deserialize, ToSchema)]
pub struct OrderBody {
    pub ordered_on: String,
    pub channel: Option<String>,
    pub lines: Vec<OrderLineBody>,
}

#[derive(Clone, Debug, Deserialize, ToSchema)]
pub struct OrderLineBody {
    pub product: String,
    pub category: Option<String>,
    pub quantity: i64,
    pub amount_fen: i64,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct OrderPage {
    pub items: Vec<OrderView>,
    pub next_cursor: Option<String>,
    /// All orders of the customer, not just this page.
    pub order_count: i64,
    pub total_fen: i64,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct TimelineEntry {
    pub id: String,
    /// `created`, `updated`, `owner_changed`, `deleted`, `contact_added`, `order`, …
    pub kind: String,
    pub at: String,
    pub actor_id: Option<String>,
    /// For `updated`: `{"changes": [{"field", "from", "to"} | {"field", "redacted": true}]}`.
    #[schema(value_type = HashMap<String, serde_json::Value>)]
    pub detail: serde_json::Value,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct TimelinePage {
    pub items: Vec<TimelineEntry>,
    pub next_cursor: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct TeamMemberView {
    pub user_id: String,
    /// `read` or `write`.
    pub access: String,
    pub created_at: String,
}

#[derive(Clone, Debug, Deserialize, ToSchema)]
pub struct TeamMemberBody {
    pub access: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct UserView {
    pub id: String,
    pub login: String,
    pub display_name: String,
    /// Role key: admin, manager, sales, service, marketing, auditor or a custom one.
    pub role: String,
    pub department_id: Option<String>,
    pub manager_id: Option<String>,
    pub locale: String,
    pub disabled: bool,
    pub version: i64,
    pub created_at: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct MeView {
    pub user: UserView,
    pub tenant: String,
    pub permissions: Vec<String>,
    pub data_scope: String,
    /// Field → `hidden` | `read` | `edit`, for every customer field.
    #[schema(value_type = HashMap<String, serde_json::Value>)]
    pub fields: serde_json::Value,
    /// With a session cookie: the token to send as `X-CSRF-Token` (a reloaded page recovers it here).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub csrf_token: Option<String>,
}

#[derive(Clone, Debug, Deserialize, ToSchema)]
pub struct UserCreate {
    pub login: String,
    pub display_name: Option<String>,
    pub password: String,
    pub role: String,
    pub department_id: Option<String>,
    pub manager_id: Option<String>,
    pub locale: Option<String>,
}

/// Only the fields present change.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
pub struct UserPatch {
    pub display_name: Option<String>,
    pub role: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub department_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub manager_id: Option<Option<String>>,
    pub locale: Option<String>,
    pub disabled: Option<bool>,
    /// Sets a new password (an administrator's reset).
    pub password: Option<String>,
}

/// Distinguishes a missing field (outer `None`) from `null` (`Some(None)`).
fn double_option<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

#[derive(Clone, Debug, Deserialize, ToSchema)]
pub struct PasswordChange {
    pub current_password: String,
    pub new_password: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct DepartmentView {
    pub id: String,
    pub parent_id: Option<String>,
    pub name: String,
    /// Depth in the tree, 0 for a top-level department.
    pub depth: i64,
    pub version: i64,
}

#[derive(Clone, Debug, Deserialize, ToSchema)]
pub struct DepartmentBody {
    pub name: String,
    pub parent_id: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct RoleView {
    pub id: String,
    pub key: String,
    pub permissions: Vec<String>,
    /// own | own_and_subordinates | department | department_and_below | all
    pub data_scope: String,
    /// Field → hidden | read | edit (fields not listed follow the role's default).
    #[schema(value_type = HashMap<String, serde_json::Value>)]
    pub fields: serde_json::Value,
    pub version: i64,
}

#[derive(Clone, Debug, Deserialize, ToSchema)]
pub struct RoleBody {
    /// Only on create: a new role's key.
    pub key: Option<String>,
    pub permissions: Vec<String>,
    pub data_scope: String,
    #[serde(default)]
    #[schema(value_type = HashMap<String, serde_json::Value>)]
    pub fields: serde_json::Map<String, serde_json::Value>,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct CustomFieldView {
    pub id: String,
    pub key: String,
    pub label_zh: String,
    pub label_en: String,
    /// text | number | date | bool | select | multi_select
    pub field_type: String,
    pub options: Vec<String>,
    pub required: bool,
    pub position: i64,
    pub version: i64,
}

#[derive(Clone, Debug, Deserialize, ToSchema)]
pub struct CustomFieldBody {
    pub key: String,
    pub label_zh: String,
    pub label_en: String,
    pub field_type: String,
    #[serde(default)]
    pub options: Vec<String>,
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub position: i64,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct CodeSettingsView {
    /// e.g. `KH{YYYY}{MM}{SEQ:5}`; tokens {YYYY} {YY} {MM} {DD} {SEQ:n}.
    pub pattern: String,
    /// daily | monthly | yearly | never
    pub reset: String,
    /// What the next code would look like today.
    pub example: String,
    pub version: i64,
}

#[derive(Clone, Debug, Deserialize, ToSchema)]
pub struct CodeSettingsBody {
    pub pattern: String,
    pub reset: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct AuditView {
    pub seq: i64,
    pub at: String,
    pub actor_id: Option<String>,
    pub actor_login: Option<String>,
    pub ip: Option<String>,
    pub action: String,
    pub object_type: String,
    pub object_id: Option<String>,
    #[schema(value_type = HashMap<String, serde_json::Value>)]
    pub detail: serde_json::Value,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct AuditPage {
    pub items: Vec<AuditView>,
    pub next_cursor: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct TokenView {
    pub id: String,
    pub name: String,
    pub created_at: String,
    pub last_used_at: Option<String>,
    pub revoked: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct NewToken {
    pub id: String,
    /// Shown once; send as `Authorization: Bearer <token>`.
    pub token: String,
}

/// A saved list view: a user's own named search, filters, sort and columns.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct SavedView {
    pub id: String,
    pub name: String,
    /// The list it belongs to; `customers` for now.
    pub kind: String,
    /// The web app's settings for the list (opaque to the server).
    #[schema(value_type = HashMap<String, serde_json::Value>)]
    pub config: serde_json::Value,
    pub version: i64,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Clone, Debug, Deserialize, ToSchema)]
pub struct SavedViewCreate {
    /// At most 50 characters, unique among the user's views of this kind.
    pub name: String,
    /// `customers`.
    pub kind: String,
    /// A JSON object of at most 16 KB.
    #[schema(value_type = HashMap<String, serde_json::Value>)]
    pub config: serde_json::Value,
}

/// Only the fields present change.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
pub struct SavedViewPatch {
    pub name: Option<String>,
    #[schema(value_type = Option<HashMap<String, serde_json::Value>>)]
    pub config: Option<serde_json::Value>,
}

/// One action applied to many customers; each customer succeeds or fails on its own.
#[derive(Clone, Debug, Deserialize, ToSchema)]
pub struct BulkRequest {
    /// Customer ids, at most 500.
    pub ids: Vec<String>,
    /// `assign_owner` (needs `owner_id`) or `add_team` (needs `user_id` and `access`).
    pub action: String,
    pub owner_id: Option<String>,
    pub user_id: Option<String>,
    /// `read` or `write`.
    pub access: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct BulkResult {
    /// How many customers the action changed.
    pub updated: i64,
    pub failed: Vec<BulkFailure>,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct BulkFailure {
    pub id: String,
    /// The HTTP status the single request would have had.
    pub status: u16,
    pub code: String,
    /// In the request's language.
    pub message: String,
}
