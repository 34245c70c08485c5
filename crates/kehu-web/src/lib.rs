//! `kehu-web`: the HTTP edge. REST API under `/api/v1`, documented by the
//! OpenAPI document at `/api/v1/openapi.json`; `/healthz`; `/metrics`.
//!
//! Architecture invariant: this is the only crate that knows HTTP (status
//! codes, headers, cookies). Handlers are thin: extract, call one
//! `kehu_app::App` method, respond. Errors become problem+json in the
//! caller's language in one place ([`error::localize`]).

pub mod admin;
pub mod auth;
pub mod customers;
pub mod error;
pub mod insight;
pub mod spa;
pub mod views;

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use axum::extract::{ConnectInfo, DefaultBodyLimit, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use kehu_app::App;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use tower_http::compression::predicate::{DefaultPredicate, Predicate, SizeAbove};
use tower_http::set_header::SetResponseHeaderLayer;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::ApiError;

/// Responses up to this many bytes are not compressed: they fit one TCP
/// segment either way (a customer's JSON is about 640 bytes).
const COMPRESS_ABOVE: u64 = 1400;

/// Who may read `/metrics`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MetricsAccess {
    /// Only callers on 127.0.0.1 / ::1 (a local Prometheus or sidecar).
    Loopback,
    /// Signed-in users whose role has `metrics.read`, from anywhere.
    Admin,
    Off,
}

#[derive(Clone, Debug)]
pub struct WebConfig {
    /// Mark the session cookie `Secure` (serve over HTTPS).
    pub secure_cookies: bool,
    pub metrics: MetricsAccess,
    /// Largest request body accepted.
    pub body_limit: usize,
}

impl Default for WebConfig {
    fn default() -> Self {
        WebConfig {
            secure_cookies: false,
            metrics: MetricsAccess::Loopback,
            body_limit: 1024 * 1024,
        }
    }
}

#[derive(Clone)]
pub struct AppState {
    pub app: Arc<App>,
    pub config: Arc<WebConfig>,
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Kehu API", description = "Kehu (客户) customer management REST API. Errors are application/problem+json with per-field codes; messages follow Accept-Language (zh-CN default, en).", version = "1"),
    servers((url = "/api/v1")),
    tags((name = "auth"), (name = "customers"), (name = "contacts"), (name = "orders"), (name = "admin"), (name = "views"), (name = "insight")),
    components(schemas(error::Problem, error::ProblemField)),
    modifiers(&Security),
    security(("session" = []), ("bearer" = []))
)]
struct ApiDoc;

/// Declares the two ways to authenticate: the session cookie from
/// `POST /auth/login` (unsafe methods also send `X-CSRF-Token`) or a bearer token.
struct Security;

impl utoipa::Modify for Security {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{
            ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme,
        };
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                "kehu_session",
                "Set by POST /auth/login. POST, PUT, PATCH and DELETE also need the header X-CSRF-Token with the csrf_token from the login response.",
            ))),
        );
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The API router and its OpenAPI document, built from the same handlers.
pub fn api() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(auth::login))
        .routes(routes!(auth::logout))
        .routes(routes!(auth::me, auth::patch_me))
        .routes(routes!(auth::change_password))
        .routes(routes!(auth::create_token, auth::list_tokens))
        .routes(routes!(auth::revoke_token))
        .routes(routes!(customers::list, customers::create))
        .routes(routes!(customers::get, customers::patch, customers::delete))
        .routes(routes!(customers::reveal))
        .routes(routes!(customers::bulk))
        .routes(routes!(customers::list_contacts, customers::create_contact))
        .routes(routes!(customers::patch_contact, customers::delete_contact))
        .routes(routes!(customers::list_orders, customers::create_order))
        .routes(routes!(customers::timeline))
        .routes(routes!(customers::list_team))
        .routes(routes!(customers::put_team, customers::delete_team))
        .routes(routes!(admin::list_users, admin::create_user))
        .routes(routes!(admin::get_user, admin::patch_user))
        .routes(routes!(admin::list_departments, admin::create_department))
        .routes(routes!(admin::patch_department, admin::delete_department))
        .routes(routes!(admin::list_roles, admin::create_role))
        .routes(routes!(admin::patch_role))
        .routes(routes!(admin::list_fields, admin::create_field))
        .routes(routes!(admin::patch_field, admin::delete_field))
        .routes(routes!(admin::get_code, admin::patch_code))
        .routes(routes!(admin::list_audit))
        .routes(routes!(admin::verify_audit))
        .routes(routes!(views::list_views, views::create_view))
        .routes(routes!(views::patch_view, views::delete_view))
        .routes(routes!(insight::customer_insight))
        .routes(routes!(insight::at_risk))
        .routes(routes!(insight::upgrades))
        .routes(routes!(insight::cost_benefit))
        .routes(routes!(insight::get_settings, insight::put_settings))
        .routes(routes!(insight::list_rules, insight::create_rule))
        .routes(routes!(
            insight::get_rule,
            insight::patch_rule,
            insight::delete_rule
        ))
        .routes(routes!(insight::preview_rule))
        .routes(routes!(insight::list_runs, insight::queue_run))
        .split_for_parts()
}

pub fn openapi_json() -> String {
    api()
        .1
        .to_pretty_json()
        .expect("OpenAPI document serialises")
}

fn prometheus() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new().build_recorder();
        let handle = recorder.handle();
        // Several servers in one test process share the first recorder.
        let _ = metrics::set_global_recorder(recorder);
        handle
    })
}

async fn track(req: Request, next: Next) -> Response {
    let method = req.method().to_string();
    let started = Instant::now();
    let res = next.run(req).await;
    let status = res.status().as_u16().to_string();
    metrics::counter!("kehu_http_requests_total", "method" => method, "status" => status)
        .increment(1);
    metrics::histogram!("kehu_http_request_seconds").record(started.elapsed().as_secs_f64());
    res
}

async fn healthz(State(s): State<AppState>) -> Response {
    if s.app.store.ping().await {
        (StatusCode::OK, Json(serde_json::json!({"status": "ok"}))).into_response()
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(serde_json::json!({"status": "database unavailable"})),
        )
            .into_response()
    }
}

async fn metrics_endpoint(
    State(s): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    req: Request,
) -> Result<Response, ApiError> {
    match s.config.metrics {
        MetricsAccess::Off => {
            return Err(ApiError::status(StatusCode::NOT_FOUND, "problem.not_found"));
        }
        MetricsAccess::Loopback if !peer.ip().is_loopback() => {
            return Err(ApiError::status(StatusCode::FORBIDDEN, "problem.forbidden"));
        }
        MetricsAccess::Loopback => {}
        MetricsAccess::Admin => {
            let (mut parts, _) = req.into_parts();
            let auth =
                <auth::Auth as axum::extract::FromRequestParts<AppState>>::from_request_parts(
                    &mut parts, &s,
                )
                .await?;
            auth.actor
                .require(kehu_domain::access::Permission::MetricsRead)?;
        }
    }
    let mut res = prometheus().render().into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4"),
    );
    Ok(res)
}

async fn openapi_handler() -> Response {
    static DOC: OnceLock<String> = OnceLock::new();
    let body = DOC.get_or_init(openapi_json).clone();
    let mut res = body.into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    res
}

/// The whole HTTP service. Serve it with
/// `into_make_service_with_connect_info::<SocketAddr>()` (throttling and
/// `/metrics` use the peer address).
pub fn router(app: Arc<App>, config: WebConfig) -> Router {
    prometheus();
    let limit = config.body_limit;
    let state = AppState {
        app,
        config: Arc::new(config),
    };
    let (api, _) = api();
    let api = api.route("/openapi.json", get(openapi_handler));
    Router::new()
        .nest("/api/v1", api)
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics_endpoint))
        .fallback(spa::serve)
        .with_state(state)
        .layer(DefaultBodyLimit::max(limit))
        .layer(middleware::from_fn(error::localize))
        .layer(middleware::from_fn(track))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            // Element Plus sets inline style attributes; scripts stay strictly same-origin.
            HeaderValue::from_static("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
        .layer(SetResponseHeaderLayer::if_not_present(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")))
        .layer(SetResponseHeaderLayer::if_not_present(header::REFERRER_POLICY, HeaderValue::from_static("same-origin")))
        // API answers carry personal data and CSRF tokens: never stored by
        // browsers or proxies. The app's files set their own caching.
        .layer(SetResponseHeaderLayer::if_not_present(header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
        // The fastest level: at the default one, deflate was a quarter of the
        // server's CPU for a search page (31 KB of JSON: 8.4 KB at this level
        // against 6.6 KB), and a response that fits one TCP segment is sent
        // as it is (docs/BENCHMARKS.md, "Response compression").
        .layer(
            tower_http::compression::CompressionLayer::new()
                .gzip(true)
                .quality(tower_http::CompressionLevel::Fastest)
                .compress_when(DefaultPredicate::new().and(SizeAbove::new(COMPRESS_ABOVE))),
        )
}
