//! Administration: users, departments, roles, custom fields, the customer
//! code pattern and the audit log.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use kehu_app::AuditVerdict;
use kehu_app::kehu_store::audit::AuditFilter;
use kehu_app::views::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::auth::Auth;
use crate::error::{ApiJson, ApiQuery, ApiResult, IfMatch, Problem, with_etag};

fn created<T: Serialize>(version: i64, v: T) -> Response {
    let mut res = with_etag(version, v);
    *res.status_mut() = StatusCode::CREATED;
    res
}

/// All users of the tenant (names for owner pickers).
#[utoipa::path(get, path = "/users", tag = "admin", responses((status = 200, body = Vec<UserView>)))]
pub async fn list_users(State(s): State<AppState>, auth: Auth) -> ApiResult<Json<Vec<UserView>>> {
    Ok(Json(s.app.list_users(&auth.actor).await?))
}

/// Add a user (user administrators).
#[utoipa::path(post, path = "/users", tag = "admin", request_body = UserCreate,
    responses((status = 201, body = UserView, headers(("ETag" = String))), (status = 409, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json")))]
pub async fn create_user(
    State(s): State<AppState>,
    auth: Auth,
    ApiJson(b): ApiJson<UserCreate>,
) -> ApiResult<Response> {
    let v = s.app.create_user(&auth.actor, &b).await?;
    Ok(created(v.version, v))
}

#[utoipa::path(get, path = "/users/{id}", tag = "admin", params(("id" = String, Path)), responses((status = 200, body = UserView, headers(("ETag" = String))), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get_user(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let v = s.app.get_user(&auth.actor, &id).await?;
    Ok(with_etag(v.version, v))
}

/// Change role, department, manager, name, language; disable; reset password. Needs `If-Match`.
#[utoipa::path(patch, path = "/users/{id}", tag = "admin", params(("id" = String, Path), ("If-Match" = String, Header)), request_body = UserPatch,
    responses((status = 200, body = UserView, headers(("ETag" = String))), (status = 412, body = Problem, content_type = "application/problem+json"), (status = 428, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn patch_user(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    IfMatch(v): IfMatch,
    ApiJson(b): ApiJson<UserPatch>,
) -> ApiResult<Response> {
    let u = s.app.update_user(&auth.actor, &id, v, &b).await?;
    Ok(with_etag(u.version, u))
}

/// The department tree, in tree order.
#[utoipa::path(get, path = "/departments", tag = "admin", responses((status = 200, body = Vec<DepartmentView>)))]
pub async fn list_departments(
    State(s): State<AppState>,
    auth: Auth,
) -> ApiResult<Json<Vec<DepartmentView>>> {
    Ok(Json(s.app.list_departments(&auth.actor).await?))
}

#[utoipa::path(post, path = "/departments", tag = "admin", request_body = DepartmentBody,
    responses((status = 201, body = DepartmentView, headers(("ETag" = String))), (status = 409, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn create_department(
    State(s): State<AppState>,
    auth: Auth,
    ApiJson(b): ApiJson<DepartmentBody>,
) -> ApiResult<Response> {
    let v = s.app.create_department(&auth.actor, &b).await?;
    Ok(created(v.version, v))
}

/// Rename or move a department (with its sub-departments). Needs `If-Match`.
#[utoipa::path(patch, path = "/departments/{id}", tag = "admin", params(("id" = String, Path), ("If-Match" = String, Header)), request_body = DepartmentBody,
    responses((status = 200, body = DepartmentView, headers(("ETag" = String))), (status = 409, body = Problem, content_type = "application/problem+json"), (status = 412, body = Problem, content_type = "application/problem+json"), (status = 428, body = Problem, content_type = "application/problem+json")))]
pub async fn patch_department(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    IfMatch(v): IfMatch,
    ApiJson(b): ApiJson<DepartmentBody>,
) -> ApiResult<Response> {
    let d = s.app.update_department(&auth.actor, &id, v, &b).await?;
    Ok(with_etag(d.version, d))
}

/// Delete an empty department. Needs `If-Match`.
#[utoipa::path(delete, path = "/departments/{id}", tag = "admin", params(("id" = String, Path), ("If-Match" = String, Header)),
    responses((status = 204), (status = 409, body = Problem, content_type = "application/problem+json"), (status = 412, body = Problem, content_type = "application/problem+json"), (status = 428, body = Problem, content_type = "application/problem+json")))]
pub async fn delete_department(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    IfMatch(v): IfMatch,
) -> ApiResult<StatusCode> {
    s.app.delete_department(&auth.actor, &id, v).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Roles with permissions, data scope and field permissions.
#[utoipa::path(get, path = "/roles", tag = "admin", responses((status = 200, body = Vec<RoleView>)))]
pub async fn list_roles(State(s): State<AppState>, auth: Auth) -> ApiResult<Json<Vec<RoleView>>> {
    Ok(Json(s.app.list_roles(&auth.actor).await?))
}

#[utoipa::path(post, path = "/roles", tag = "admin", request_body = RoleBody,
    responses((status = 201, body = RoleView, headers(("ETag" = String))), (status = 409, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn create_role(
    State(s): State<AppState>,
    auth: Auth,
    ApiJson(b): ApiJson<RoleBody>,
) -> ApiResult<Response> {
    let v = s.app.create_role(&auth.actor, &b).await?;
    Ok(created(v.version, v))
}

/// Change a role's permissions, data scope and field permissions. Needs `If-Match`.
#[utoipa::path(patch, path = "/roles/{id}", tag = "admin", params(("id" = String, Path), ("If-Match" = String, Header)), request_body = RoleBody,
    responses((status = 200, body = RoleView, headers(("ETag" = String))), (status = 412, body = Problem, content_type = "application/problem+json"), (status = 428, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn patch_role(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    IfMatch(v): IfMatch,
    ApiJson(b): ApiJson<RoleBody>,
) -> ApiResult<Response> {
    let r = s.app.update_role(&auth.actor, &id, v, &b).await?;
    Ok(with_etag(r.version, r))
}

/// Custom field definitions of the tenant.
#[utoipa::path(get, path = "/custom-fields", tag = "admin", responses((status = 200, body = Vec<CustomFieldView>)))]
pub async fn list_fields(
    State(s): State<AppState>,
    auth: Auth,
) -> ApiResult<Json<Vec<CustomFieldView>>> {
    Ok(Json(s.app.list_custom_fields(&auth.actor).await?))
}

#[utoipa::path(post, path = "/custom-fields", tag = "admin", request_body = CustomFieldBody,
    responses((status = 201, body = CustomFieldView, headers(("ETag" = String))), (status = 409, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn create_field(
    State(s): State<AppState>,
    auth: Auth,
    ApiJson(b): ApiJson<CustomFieldBody>,
) -> ApiResult<Response> {
    let v = s.app.create_custom_field(&auth.actor, &b).await?;
    Ok(created(v.version, v))
}

/// Change labels, options, required flag or position (key and type are fixed). Needs `If-Match`.
#[utoipa::path(patch, path = "/custom-fields/{id}", tag = "admin", params(("id" = String, Path), ("If-Match" = String, Header)), request_body = CustomFieldBody,
    responses((status = 200, body = CustomFieldView, headers(("ETag" = String))), (status = 412, body = Problem, content_type = "application/problem+json"), (status = 428, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn patch_field(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    IfMatch(v): IfMatch,
    ApiJson(b): ApiJson<CustomFieldBody>,
) -> ApiResult<Response> {
    let f = s.app.update_custom_field(&auth.actor, &id, v, &b).await?;
    Ok(with_etag(f.version, f))
}

#[utoipa::path(delete, path = "/custom-fields/{id}", tag = "admin", params(("id" = String, Path), ("If-Match" = String, Header)),
    responses((status = 204), (status = 412, body = Problem, content_type = "application/problem+json"), (status = 428, body = Problem, content_type = "application/problem+json")))]
pub async fn delete_field(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    IfMatch(v): IfMatch,
) -> ApiResult<StatusCode> {
    s.app.delete_custom_field(&auth.actor, &id, v).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The customer code pattern and its sequence reset.
#[utoipa::path(get, path = "/settings/customer-code", tag = "admin", responses((status = 200, body = CodeSettingsView, headers(("ETag" = String)))))]
pub async fn get_code(State(s): State<AppState>, auth: Auth) -> ApiResult<Response> {
    let v = s.app.code_settings(&auth.actor).await?;
    Ok(with_etag(v.version, v))
}

/// Change the customer code pattern. Needs `If-Match`.
#[utoipa::path(patch, path = "/settings/customer-code", tag = "admin", params(("If-Match" = String, Header)), request_body = CodeSettingsBody,
    responses((status = 200, body = CodeSettingsView, headers(("ETag" = String))), (status = 412, body = Problem, content_type = "application/problem+json"), (status = 428, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn patch_code(
    State(s): State<AppState>,
    auth: Auth,
    IfMatch(v): IfMatch,
    ApiJson(b): ApiJson<CodeSettingsBody>,
) -> ApiResult<Response> {
    let c = s.app.update_code_settings(&auth.actor, v, &b).await?;
    Ok(with_etag(c.version, c))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    pub actor_id: Option<String>,
    /// e.g. `customer.update`, `customer.reveal`, `auth.login_failed`.
    pub action: Option<String>,
    pub object_type: Option<String>,
    pub object_id: Option<String>,
    /// RFC 3339 or `YYYY-MM-DD`.
    pub from: Option<String>,
    pub to: Option<String>,
    pub cursor: Option<String>,
    pub limit: Option<i64>,
}

fn instant(field: &str, s: &Option<String>) -> ApiResult<Option<i64>> {
    let Some(s) = s else { return Ok(None) };
    match kehu_app::views::parse_instant_ms(s) {
        Some(t) => Ok(Some(t)),
        None => Err(
            kehu_app::AppError::from(kehu_domain::FieldError::new(field, "date.invalid")).into(),
        ),
    }
}

/// The audit log, newest first (auditors and administrators).
#[utoipa::path(get, path = "/audit", tag = "admin", params(AuditQuery), responses((status = 200, body = AuditPage), (status = 422, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json")))]
pub async fn list_audit(
    State(s): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> ApiResult<Json<AuditPage>> {
    let f = AuditFilter {
        actor_id: q.actor_id,
        action: q.action,
        object_type: q.object_type,
        object_id: q.object_id,
        from: instant("from", &q.from)?,
        to: instant("to", &q.to)?,
    };
    Ok(Json(
        s.app
            .list_audit(&auth.actor, &f, q.cursor.as_deref(), q.limit)
            .await?,
    ))
}

#[derive(Serialize, ToSchema)]
pub struct AuditVerifyView {
    pub intact: bool,
    pub rows: i64,
    /// First sequence number where the chain breaks.
    pub broken_at: Option<i64>,
    pub reason: Option<String>,
}

/// Recompute the audit hash chain and say whether any row was edited or removed.
#[utoipa::path(get, path = "/audit/verify", tag = "admin", responses((status = 200, body = AuditVerifyView), (status = 403, body = Problem, content_type = "application/problem+json")))]
pub async fn verify_audit(
    State(s): State<AppState>,
    auth: Auth,
) -> ApiResult<Json<AuditVerifyView>> {
    auth.actor
        .require(kehu_domain::access::Permission::AuditRead)?;
    Ok(Json(
        match s.app.verify_audit(&auth.actor.tenant_id).await? {
            AuditVerdict::Intact { rows } => AuditVerifyView {
                intact: true,
                rows,
                broken_at: None,
                reason: None,
            },
            AuditVerdict::Broken { seq, reason } => AuditVerifyView {
                intact: false,
                rows: seq - 1,
                broken_at: Some(seq),
                reason: Some(reason.into()),
            },
        },
    ))
}
