//! Who is calling: the session cookie (with CSRF token on unsafe methods)
//! or an `Authorization: Bearer` API token; and the auth endpoints.

use std::net::SocketAddr;

use axum::Json;
use axum::extract::{ConnectInfo, FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use kehu_app::views::{MeView, NewToken, PasswordChange, TokenView, UserView};
use kehu_app::{Actor, AppError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::error::{ApiError, ApiJson, ApiResult, Problem};

pub const SESSION_COOKIE: &str = "kehu_session";
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The peer address; behind a proxy this is the proxy (documented).
pub fn client_ip(parts: &Parts) -> String {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string())
        .unwrap_or_else(|| "unknown".into())
}

fn cookie_value(parts: &Parts, name: &str) -> Option<String> {
    parts
        .headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|kv| {
            let (k, v) = kv.trim().split_once('=')?;
            (k == name).then(|| v.to_string())
        })
}

/// Text the server renders for the caller (explanations, signals) follows
/// the request's `Accept-Language` when it names a language, like errors
/// do; otherwise the user's own setting.
fn prefer_request_language(actor: &mut Actor, parts: &Parts) {
    if parts.headers.contains_key(header::ACCEPT_LANGUAGE) {
        actor.locale = crate::error::locale_of(&parts.headers).tag().to_string();
    }
}

/// A signed-in caller.
pub struct Auth {
    pub actor: Actor,
    /// The session token when signed in by cookie (for logout).
    pub session: Option<String>,
    /// The session's CSRF token, so a reloaded page can recover it from `/auth/me`.
    pub csrf: Option<String>,
}

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let ip = client_ip(parts);
        if let Some(h) = parts.headers.get(header::AUTHORIZATION) {
            let token = h
                .to_str()
                .ok()
                .and_then(|s| s.strip_prefix("Bearer "))
                .map(str::trim)
                .unwrap_or("");
            if token.is_empty() {
                return Err(AppError::Unauthorized("auth.invalid_token").into());
            }
            let mut actor = state.app.bearer_actor(token, &ip).await?;
            prefer_request_language(&mut actor, parts);
            return Ok(Auth {
                actor,
                session: None,
                csrf: None,
            });
        }
        let token = cookie_value(parts, SESSION_COOKIE).ok_or(ApiError::from(
            AppError::Unauthorized("problem.unauthorized"),
        ))?;
        let (mut actor, csrf) = state.app.session_actor(&token, &ip).await?;
        prefer_request_language(&mut actor, parts);
        let safe = matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
        if !safe {
            let sent = parts
                .headers
                .get(CSRF_HEADER)
                .map(|v| v.as_bytes())
                .unwrap_or(b"");
            if !kehu_crypto::ct_eq(sent, csrf.as_bytes()) {
                return Err(ApiError::status(StatusCode::FORBIDDEN, "problem.csrf"));
            }
        }
        Ok(Auth {
            actor,
            session: Some(token),
            csrf: Some(csrf),
        })
    }
}

#[derive(Deserialize, ToSchema)]
pub struct LoginRequest {
    /// Tenant slug, e.g. `demo`.
    pub tenant: String,
    pub login: String,
    pub password: String,
}

#[derive(Serialize, ToSchema)]
pub struct LoginResponse {
    /// Send as header `X-CSRF-Token` on every POST/PUT/PATCH/DELETE made with the session cookie.
    pub csrf_token: String,
    pub user: UserView,
}

fn session_cookie(state: &AppState, value: &str, max_age: i64) -> HeaderValue {
    let secure = if state.config.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={value}; HttpOnly; SameSite=Lax; Path=/; Max-Age={max_age}{secure}"
    ))
    .expect("cookie is ASCII")
}

/// Sign in with tenant, login and password.
#[utoipa::path(post, path = "/auth/login", tag = "auth", security(()), request_body = LoginRequest,
    responses((status = 200, description = "Signed in; sets the HttpOnly session cookie", body = LoginResponse),
              (status = 401, body = Problem, content_type = "application/problem+json"), (status = 429, description = "Too many failures; see Retry-After", body = Problem, content_type = "application/problem+json",
                headers(("Retry-After" = u64, description = "Seconds until the next attempt is allowed")))))]
pub async fn login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    ApiJson(body): ApiJson<LoginRequest>,
) -> ApiResult<Response> {
    let ok = state
        .app
        .login(
            &body.tenant,
            &body.login,
            &body.password,
            &peer.ip().to_string(),
        )
        .await?;
    let max_age = state.app.config.session_absolute_ms / 1000;
    let mut res = Json(LoginResponse {
        csrf_token: ok.csrf_token,
        user: ok.user,
    })
    .into_response();
    res.headers_mut().insert(
        header::SET_COOKIE,
        session_cookie(&state, &ok.session_token, max_age),
    );
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}

/// Sign out: ends the session and clears the cookie.
#[utoipa::path(post, path = "/auth/logout", tag = "auth", responses((status = 204), (status = 401, body = Problem, content_type = "application/problem+json")))]
pub async fn logout(State(state): State<AppState>, auth: Auth) -> ApiResult<Response> {
    if let Some(token) = &auth.session {
        state.app.logout(&auth.actor, token).await?;
    }
    let mut res = StatusCode::NO_CONTENT.into_response();
    res.headers_mut()
        .insert(header::SET_COOKIE, session_cookie(&state, "", 0));
    Ok(res)
}

/// The signed-in user, with permissions, data scope and field permissions.
#[utoipa::path(get, path = "/auth/me", tag = "auth", responses((status = 200, body = MeView), (status = 401, body = Problem, content_type = "application/problem+json")))]
pub async fn me(State(state): State<AppState>, auth: Auth) -> ApiResult<Json<MeView>> {
    let mut me = state.app.me(&auth.actor).await?;
    me.csrf_token = auth.csrf;
    Ok(Json(me))
}

#[derive(Deserialize, ToSchema)]
pub struct MePatch {
    /// `zh-CN` or `en`.
    pub locale: String,
}

/// Change the signed-in user's language (remembered per user).
#[utoipa::path(patch, path = "/auth/me", tag = "auth", request_body = MePatch, responses((status = 200, body = UserView), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn patch_me(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(body): ApiJson<MePatch>,
) -> ApiResult<Json<UserView>> {
    Ok(Json(state.app.set_locale(&auth.actor, &body.locale).await?))
}

/// Change the signed-in user's password.
#[utoipa::path(post, path = "/auth/password", tag = "auth", request_body = PasswordChange, responses((status = 204), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn change_password(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(body): ApiJson<PasswordChange>,
) -> ApiResult<StatusCode> {
    state.app.change_password(&auth.actor, &body).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
pub struct TokenRequest {
    /// What the token is for, e.g. "ERP sync".
    pub name: String,
}

/// Create an API token for `Authorization: Bearer` use; it is shown once and stored hashed.
#[utoipa::path(post, path = "/auth/tokens", tag = "auth", request_body = TokenRequest, responses((status = 201, body = NewToken), (status = 403, body = Problem, content_type = "application/problem+json")))]
pub async fn create_token(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(body): ApiJson<TokenRequest>,
) -> ApiResult<(StatusCode, Json<NewToken>)> {
    Ok((
        StatusCode::CREATED,
        Json(state.app.create_token(&auth.actor, &body.name).await?),
    ))
}

/// The signed-in user's API tokens.
#[utoipa::path(get, path = "/auth/tokens", tag = "auth", responses((status = 200, body = Vec<TokenView>)))]
pub async fn list_tokens(
    State(state): State<AppState>,
    auth: Auth,
) -> ApiResult<Json<Vec<TokenView>>> {
    Ok(Json(state.app.list_tokens(&auth.actor).await?))
}

/// Revoke one of the signed-in user's API tokens.
#[utoipa::path(delete, path = "/auth/tokens/{id}", tag = "auth", params(("id" = String, Path)), responses((status = 204), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn revoke_token(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    state.app.revoke_token(&auth.actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
