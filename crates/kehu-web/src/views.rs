//! `/views`: each user's saved list views.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use kehu_app::views::*;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::AppState;
use crate::auth::Auth;
use crate::error::{ApiJson, ApiQuery, ApiResult, IfMatch, Problem, with_etag};

#[derive(Deserialize, IntoParams)]
pub struct ViewQuery {
    /// The list the views belong to; `customers` (the default).
    pub kind: Option<String>,
}

/// The caller's own saved views of one list, by name.
#[utoipa::path(get, path = "/views", tag = "views", params(ViewQuery),
    responses((status = 200, body = Vec<SavedView>), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn list_views(
    State(s): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<ViewQuery>,
) -> ApiResult<Json<Vec<SavedView>>> {
    let kind = q.kind.as_deref().unwrap_or("customers");
    Ok(Json(s.app.list_views(&auth.actor, kind).await?))
}

#[utoipa::path(post, path = "/views", tag = "views", request_body = SavedViewCreate,
    responses((status = 201, body = SavedView, headers(("ETag" = String))), (status = 409, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn create_view(
    State(s): State<AppState>,
    auth: Auth,
    ApiJson(b): ApiJson<SavedViewCreate>,
) -> ApiResult<Response> {
    let v = s.app.create_view(&auth.actor, &b).await?;
    let mut res = with_etag(v.version, &v);
    *res.status_mut() = StatusCode::CREATED;
    Ok(res)
}

/// Rename a view or replace its settings. Needs `If-Match`.
#[utoipa::path(patch, path = "/views/{id}", tag = "views", params(("id" = String, Path), ("If-Match" = String, Header)), request_body = SavedViewPatch,
    responses((status = 200, body = SavedView, headers(("ETag" = String))), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 409, body = Problem, content_type = "application/problem+json"), (status = 412, body = Problem, content_type = "application/problem+json"), (status = 428, body = Problem, content_type = "application/problem+json")))]
pub async fn patch_view(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    IfMatch(v): IfMatch,
    ApiJson(b): ApiJson<SavedViewPatch>,
) -> ApiResult<Response> {
    let view = s.app.update_view(&auth.actor, &id, v, &b).await?;
    Ok(with_etag(view.version, view))
}

/// Needs `If-Match`.
#[utoipa::path(delete, path = "/views/{id}", tag = "views", params(("id" = String, Path), ("If-Match" = String, Header)),
    responses((status = 204), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 412, body = Problem, content_type = "application/problem+json"), (status = 428, body = Problem, content_type = "application/problem+json")))]
pub async fn delete_view(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    IfMatch(v): IfMatch,
) -> ApiResult<StatusCode> {
    s.app.delete_view(&auth.actor, &id, v).await?;
    Ok(StatusCode::NO_CONTENT)
}
