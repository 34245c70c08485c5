//! `/customers` and everything under one customer.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use kehu_app::customers::ListQuery;
use kehu_app::views::*;
use serde::Deserialize;
use serde_json::{Map, Value};
use utoipa::IntoParams;

use crate::AppState;
use crate::auth::Auth;
use crate::error::{ApiJson, ApiQuery, ApiResult, IfMatch, Problem, with_etag};

/// List and search customers in the caller's data scope (keyset pages).
#[utoipa::path(get, path = "/customers", tag = "customers", params(ListQuery),
    responses((status = 200, body = CustomerPage), (status = 422, body = Problem, content_type = "application/problem+json"), (status = 401, body = Problem, content_type = "application/problem+json")))]
pub async fn list(
    State(s): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> ApiResult<Json<CustomerPage>> {
    Ok(Json(s.app.list_customers(&auth.actor, &q).await?))
}

/// Create a customer. The owner defaults to the caller; the code comes from the tenant's pattern.
#[utoipa::path(post, path = "/customers", tag = "customers", request_body = CustomerBody,
    responses((status = 201, body = CustomerView, headers(("ETag" = String))), (status = 422, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json")))]
pub async fn create(
    State(s): State<AppState>,
    auth: Auth,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> ApiResult<Response> {
    let v = s.app.create_customer(&auth.actor, &body).await?;
    let mut res = with_etag(v.version, &v);
    *res.status_mut() = StatusCode::CREATED;
    Ok(res)
}

/// One customer, masked for the caller; 404 outside the caller's data scope.
#[utoipa::path(get, path = "/customers/{id}", tag = "customers", params(("id" = String, Path)),
    responses((status = 200, body = CustomerView, headers(("ETag" = String))), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let v = s.app.get_customer(&auth.actor, &id).await?;
    Ok(with_etag(v.version, &v))
}

/// Change the fields present in the body. Needs `If-Match` with the version from the ETag.
#[utoipa::path(patch, path = "/customers/{id}", tag = "customers", params(("id" = String, Path), ("If-Match" = String, Header)),
    request_body = CustomerBody,
    responses((status = 200, body = CustomerView, headers(("ETag" = String))), (status = 412, body = Problem, content_type = "application/problem+json"),
              (status = 428, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn patch(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    IfMatch(v): IfMatch,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> ApiResult<Response> {
    let c = s.app.update_customer(&auth.actor, &id, v, &body).await?;
    Ok(with_etag(c.version, &c))
}

/// Delete a customer (kept for history; its code is never reused). Needs `If-Match`.
#[utoipa::path(delete, path = "/customers/{id}", tag = "customers", params(("id" = String, Path), ("If-Match" = String, Header)),
    responses((status = 204), (status = 412, body = Problem, content_type = "application/problem+json"), (status = 428, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn delete(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    IfMatch(v): IfMatch,
) -> ApiResult<StatusCode> {
    s.app.delete_customer(&auth.actor, &id, v).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Show masked fields in clear, with a reason. Audited.
#[utoipa::path(post, path = "/customers/{id}/reveal", tag = "customers", params(("id" = String, Path)), request_body = RevealRequest,
    responses((status = 200, body = RevealView), (status = 422, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn reveal(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<RevealRequest>,
) -> ApiResult<Response> {
    let v = s.app.reveal(&auth.actor, &id, &body).await?;
    let mut res = Json(v).into_response();
    res.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    Ok(res)
}

/// Contacts of a company customer, primary first.
#[utoipa::path(get, path = "/customers/{id}/contacts", tag = "contacts", params(("id" = String, Path)),
    responses((status = 200, body = Vec<ContactView>), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn list_contacts(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<ContactView>>> {
    Ok(Json(s.app.list_contacts(&auth.actor, &id).await?))
}

/// Add a contact; the first one becomes the primary contact.
#[utoipa::path(post, path = "/customers/{id}/contacts", tag = "contacts", params(("id" = String, Path)), request_body = ContactBody,
    responses((status = 201, body = ContactView, headers(("ETag" = String))), (status = 422, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn create_contact(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ContactBody>,
) -> ApiResult<Response> {
    let v = s
        .app
        .save_contact(&auth.actor, &id, None, &ContactPatch::from(&body))
        .await?;
    let mut res = with_etag(v.version, &v);
    *res.status_mut() = StatusCode::CREATED;
    Ok(res)
}

/// Change a contact: only the fields present change. Needs `If-Match`.
#[utoipa::path(patch, path = "/customers/{id}/contacts/{contact_id}", tag = "contacts",
    params(("id" = String, Path), ("contact_id" = String, Path), ("If-Match" = String, Header)), request_body = ContactPatch,
    responses((status = 200, body = ContactView, headers(("ETag" = String))), (status = 412, body = Problem, content_type = "application/problem+json"), (status = 428, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn patch_contact(
    State(s): State<AppState>,
    auth: Auth,
    Path((id, cid)): Path<(String, String)>,
    IfMatch(v): IfMatch,
    ApiJson(body): ApiJson<ContactPatch>,
) -> ApiResult<Response> {
    let c = s
        .app
        .save_contact(&auth.actor, &id, Some((&cid, v)), &body)
        .await?;
    Ok(with_etag(c.version, &c))
}

/// Remove a contact. Needs `If-Match`.
#[utoipa::path(delete, path = "/customers/{id}/contacts/{contact_id}", tag = "contacts",
    params(("id" = String, Path), ("contact_id" = String, Path), ("If-Match" = String, Header)),
    responses((status = 204), (status = 412, body = Problem, content_type = "application/problem+json"), (status = 428, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn delete_contact(
    State(s): State<AppState>,
    auth: Auth,
    Path((id, cid)): Path<(String, String)>,
    IfMatch(v): IfMatch,
) -> ApiResult<StatusCode> {
    s.app.delete_contact(&auth.actor, &id, &cid, v).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    pub cursor: Option<String>,
    /// 1–200, default 50.
    pub limit: Option<i64>,
}

/// Purchase history, newest first, with totals over all orders.
#[utoipa::path(get, path = "/customers/{id}/orders", tag = "orders", params(("id" = String, Path), PageQuery),
    responses((status = 200, body = OrderPage), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn list_orders(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> ApiResult<Json<OrderPage>> {
    Ok(Json(
        s.app
            .list_orders(&auth.actor, &id, q.cursor.as_deref(), q.limit)
            .await?,
    ))
}

/// Record an order (amounts in 分).
#[utoipa::path(post, path = "/customers/{id}/orders", tag = "orders", params(("id" = String, Path)), request_body = OrderBody,
    responses((status = 201, body = OrderView), (status = 422, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn create_order(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<OrderBody>,
) -> ApiResult<(StatusCode, Json<OrderView>)> {
    Ok((
        StatusCode::CREATED,
        Json(s.app.create_order(&auth.actor, &id, &body).await?),
    ))
}

/// Everything that happened to a customer, newest first.
#[utoipa::path(get, path = "/customers/{id}/timeline", tag = "customers", params(("id" = String, Path), PageQuery),
    responses((status = 200, body = TimelinePage), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn timeline(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> ApiResult<Json<TimelinePage>> {
    Ok(Json(
        s.app
            .timeline(&auth.actor, &id, q.cursor.as_deref(), q.limit)
            .await?,
    ))
}

/// Team members who share this customer (read or read-write).
#[utoipa::path(get, path = "/customers/{id}/team", tag = "customers", params(("id" = String, Path)),
    responses((status = 200, body = Vec<TeamMemberView>), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn list_team(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<TeamMemberView>>> {
    Ok(Json(s.app.list_team(&auth.actor, &id).await?))
}

/// Add or change a team member.
#[utoipa::path(put, path = "/customers/{id}/team/{user_id}", tag = "customers", params(("id" = String, Path), ("user_id" = String, Path)),
    request_body = TeamMemberBody, responses((status = 200, body = TeamMemberView), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn put_team(
    State(s): State<AppState>,
    auth: Auth,
    Path((id, uid)): Path<(String, String)>,
    ApiJson(body): ApiJson<TeamMemberBody>,
) -> ApiResult<Json<TeamMemberView>> {
    Ok(Json(
        s.app
            .put_team_member(&auth.actor, &id, &uid, &body.access)
            .await?,
    ))
}

/// Remove a team member.
#[utoipa::path(delete, path = "/customers/{id}/team/{user_id}", tag = "customers", params(("id" = String, Path), ("user_id" = String, Path)),
    responses((status = 204), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn delete_team(
    State(s): State<AppState>,
    auth: Auth,
    Path((id, uid)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    s.app.remove_team_member(&auth.actor, &id, &uid).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Assign an owner to, or add a team member on, up to 500 customers at once.
/// Each customer goes through the same checks as a single request and
/// succeeds or fails alone; failures are listed with the reason.
#[utoipa::path(post, path = "/customers/bulk", tag = "customers", request_body = BulkRequest,
    responses((status = 200, body = BulkResult), (status = 422, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json")))]
pub async fn bulk(
    State(s): State<AppState>,
    auth: Auth,
    headers: axum::http::HeaderMap,
    ApiJson(b): ApiJson<BulkRequest>,
) -> ApiResult<Json<BulkResult>> {
    let locale = crate::error::locale_of(&headers);
    let (updated, failures) = s.app.bulk_customers(&auth.actor, &b).await?;
    let failed = failures
        .into_iter()
        .map(|(id, e)| {
            let spec = crate::error::ApiError::from(e).0;
            let body = spec.render(locale);
            let first = body["errors"].get(0);
            let pick = |key: &str, fallback: &Value| {
                first
                    .and_then(|f| f[key].as_str())
                    .or(fallback.as_str())
                    .unwrap_or_default()
                    .to_string()
            };
            BulkFailure {
                id,
                status: spec.status.as_u16(),
                code: pick("code", &body["type"]),
                message: pick("message", &body["detail"]),
            }
        })
        .collect();
    Ok(Json(BulkResult { updated, failed }))
}
