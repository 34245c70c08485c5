//! `/insight/…` and `/customers/{id}/insight`: classification results,
//! at-risk and upgrade lists, cost-benefit, settings, tag rules with live
//! preview, and run history (docs/INSIGHT.md).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use kehu_app::insight::*;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::AppState;
use crate::auth::Auth;
use crate::error::{ApiJson, ApiQuery, ApiResult, IfMatch, Problem, with_etag};

#[derive(Deserialize, IntoParams)]
pub struct RankQuery {
    /// Only customers of this owner.
    pub owner_id: Option<String>,
    pub cursor: Option<String>,
    /// 1–200, default 50.
    pub limit: Option<i64>,
}

/// A customer's tier, stage, classes, RFM, prediction, signals, tags and
/// change history, each with the reason in the caller's language.
#[utoipa::path(get, path = "/customers/{id}/insight", tag = "insight", params(("id" = String, Path)),
    responses((status = 200, body = InsightView), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn customer_insight(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<InsightView>> {
    Ok(Json(s.app.customer_insight(&auth.actor, &id).await?))
}

/// Customers in the caller's scope with at-risk signals, by value at risk
/// (12-month contribution × (1 − P(alive))), highest first.
#[utoipa::path(get, path = "/insight/at-risk", tag = "insight", params(RankQuery),
    responses((status = 200, body = AtRiskPage), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn at_risk(
    State(s): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<RankQuery>,
) -> ApiResult<Json<AtRiskPage>> {
    Ok(Json(
        s.app
            .at_risk(
                &auth.actor,
                q.owner_id.as_deref(),
                q.cursor.as_deref(),
                q.limit,
            )
            .await?,
    ))
}

/// Customers in the caller's scope whose predicted 12-month contribution
/// reaches the next tier's threshold, highest first.
#[utoipa::path(get, path = "/insight/upgrades", tag = "insight", params(RankQuery),
    responses((status = 200, body = UpgradePage), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn upgrades(
    State(s): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<RankQuery>,
) -> ApiResult<Json<UpgradePage>> {
    Ok(Json(
        s.app
            .upgrades(
                &auth.actor,
                q.owner_id.as_deref(),
                q.cursor.as_deref(),
                q.limit,
            )
            .await?,
    ))
}

/// Contribution against cost to serve, per tier, over the caller's scope.
#[utoipa::path(get, path = "/insight/cost-benefit", tag = "insight",
    responses((status = 200, body = CostBenefitView)))]
pub async fn cost_benefit(
    State(s): State<AppState>,
    auth: Auth,
) -> ApiResult<Json<CostBenefitView>> {
    Ok(Json(s.app.cost_benefit(&auth.actor).await?))
}

/// The tenant's classification settings (defaults until first saved: version 0).
#[utoipa::path(get, path = "/insight/settings", tag = "insight",
    responses((status = 200, body = InsightSettingsView, headers(("ETag" = String)))))]
pub async fn get_settings(State(s): State<AppState>, auth: Auth) -> ApiResult<Response> {
    let v = s.app.insight_settings(&auth.actor).await?;
    Ok(with_etag(v.version, &v))
}

/// Replaces the settings; they apply from the next run. Needs `If-Match`
/// (`"0"` while the defaults apply) and `settings.admin`.
#[utoipa::path(put, path = "/insight/settings", tag = "insight", params(("If-Match" = String, Header)), request_body = InsightSettings,
    responses((status = 200, body = InsightSettingsView, headers(("ETag" = String))), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 412, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json"), (status = 428, body = Problem, content_type = "application/problem+json")))]
pub async fn put_settings(
    State(s): State<AppState>,
    auth: Auth,
    IfMatch(v): IfMatch,
    ApiJson(b): ApiJson<InsightSettings>,
) -> ApiResult<Response> {
    let view = s.app.put_insight_settings(&auth.actor, &b, v).await?;
    Ok(with_etag(view.version, &view))
}

/// Tag rules in evaluation order.
#[utoipa::path(get, path = "/insight/rules", tag = "insight",
    responses((status = 200, body = RuleList)))]
pub async fn list_rules(State(s): State<AppState>, auth: Auth) -> ApiResult<Json<RuleList>> {
    Ok(Json(s.app.list_rules(&auth.actor).await?))
}

/// A new tag rule (evaluated after the existing ones). Needs `settings.admin`.
#[utoipa::path(post, path = "/insight/rules", tag = "insight", request_body = RuleBody,
    responses((status = 201, body = RuleView, headers(("ETag" = String))), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 409, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn create_rule(
    State(s): State<AppState>,
    auth: Auth,
    ApiJson(b): ApiJson<RuleBody>,
) -> ApiResult<Response> {
    let v = s.app.create_rule(&auth.actor, &b).await?;
    let mut res = with_etag(v.version, &v);
    *res.status_mut() = StatusCode::CREATED;
    Ok(res)
}

#[utoipa::path(get, path = "/insight/rules/{id}", tag = "insight", params(("id" = String, Path)),
    responses((status = 200, body = RuleView, headers(("ETag" = String))), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get_rule(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let v = s.app.get_rule(&auth.actor, &id).await?;
    Ok(with_etag(v.version, &v))
}

/// Changes a rule. Needs `If-Match` and `settings.admin`.
#[utoipa::path(patch, path = "/insight/rules/{id}", tag = "insight", params(("id" = String, Path), ("If-Match" = String, Header)), request_body = RulePatch,
    responses((status = 200, body = RuleView, headers(("ETag" = String))), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 409, body = Problem, content_type = "application/problem+json"), (status = 412, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json"), (status = 428, body = Problem, content_type = "application/problem+json")))]
pub async fn patch_rule(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    IfMatch(v): IfMatch,
    ApiJson(b): ApiJson<RulePatch>,
) -> ApiResult<Response> {
    let r = s.app.patch_rule(&auth.actor, &id, &b, v).await?;
    Ok(with_etag(r.version, &r))
}

/// Deletes a rule; its tags go at the next run. Needs `If-Match`.
#[utoipa::path(delete, path = "/insight/rules/{id}", tag = "insight", params(("id" = String, Path), ("If-Match" = String, Header)),
    responses((status = 204), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 412, body = Problem, content_type = "application/problem+json"), (status = 428, body = Problem, content_type = "application/problem+json")))]
pub async fn delete_rule(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    IfMatch(v): IfMatch,
) -> ApiResult<StatusCode> {
    s.app.delete_rule(&auth.actor, &id, v).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// How many customers in the caller's scope a rule matches now, with up to
/// 20 of them; a rule that does not parse is 422 naming the column.
#[utoipa::path(post, path = "/insight/rules/preview", tag = "insight", request_body = PreviewRequest,
    responses((status = 200, body = PreviewView), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn preview_rule(
    State(s): State<AppState>,
    auth: Auth,
    ApiJson(b): ApiJson<PreviewRequest>,
) -> ApiResult<Json<PreviewView>> {
    Ok(Json(s.app.preview_rule(&auth.actor, &b.rule).await?))
}

/// The last 50 classification runs, newest first.
#[utoipa::path(get, path = "/insight/runs", tag = "insight",
    responses((status = 200, body = RunList)))]
pub async fn list_runs(State(s): State<AppState>, auth: Auth) -> ApiResult<Json<RunList>> {
    Ok(Json(s.app.list_runs(&auth.actor).await?))
}

/// Queues a full classification run now; it shows in `GET /insight/runs`
/// when it starts. Needs `settings.admin`. 409 `insight.run_running` while
/// a run of the tenant is under way (one at a time).
#[utoipa::path(post, path = "/insight/runs", tag = "insight",
    responses((status = 202, body = QueuedJob), (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json")))]
pub async fn queue_run(State(s): State<AppState>, auth: Auth) -> ApiResult<Response> {
    let j = s.app.queue_run(&auth.actor).await?;
    Ok((StatusCode::ACCEPTED, Json(j)).into_response())
}
