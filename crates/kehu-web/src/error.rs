//! Errors as RFC 9457 `application/problem+json` with
//! `errors: [{field, code, params, message}]`. Handlers return codes; the
//! [`localize`] middleware renders the messages in the caller's language
//! (Accept-Language), so no handler formats user-visible text.

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use kehu_app::AppError;
use kehu_domain::FieldError;
use kehu_domain::i18n::{Locale, field_label, message};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use utoipa::ToSchema;

/// The problem document (schema for the OpenAPI document).
#[derive(Serialize, ToSchema)]
pub struct Problem {
    /// A stable code, e.g. `problem.validation`.
    pub r#type: String,
    /// Short, translated summary.
    pub title: String,
    pub status: u16,
    /// Translated explanation of what to do.
    pub detail: String,
    pub errors: Vec<ProblemField>,
}

#[derive(Serialize, ToSchema)]
pub struct ProblemField {
    /// JSON name of the field, e.g. `phones[1]`.
    pub field: String,
    /// Rule code, e.g. `phone.invalid`; the web app translates it.
    pub code: String,
    #[schema(value_type = HashMap<String, serde_json::Value>)]
    pub params: Value,
    /// The message in the request's language.
    pub message: String,
}

/// What a failed request carries until [`localize`] renders it.
#[derive(Clone, Debug)]
pub struct ProblemSpec {
    pub status: StatusCode,
    pub code: &'static str,
    pub params: Vec<(&'static str, String)>,
    pub errors: Vec<FieldError>,
    pub retry_after: Option<u64>,
}

impl ProblemSpec {
    pub fn new(status: StatusCode, code: &'static str) -> Self {
        ProblemSpec {
            status,
            code,
            params: Vec::new(),
            errors: Vec::new(),
            retry_after: None,
        }
    }

    pub(crate) fn render(&self, locale: Locale) -> Value {
        let errors: Vec<Value> = self
            .errors
            .iter()
            .map(|e| {
                let mut params: Vec<(&str, String)> = e.params.clone();
                params.push(("field", field_label(locale, &e.field)));
                json!({
                    "field": e.field,
                    "code": e.code,
                    "params": e.params.iter().map(|(k, v)| (k.to_string(), json!(v))).collect::<serde_json::Map<_, _>>(),
                    "message": message(locale, e.code, &params),
                })
            })
            .collect();
        let mut params = self.params.clone();
        params.push(("count", self.errors.len().to_string()));
        let detail = message(locale, self.code, &params);
        json!({
            "type": self.code,
            "title": title(locale, self.status, self.code),
            "status": self.status.as_u16(),
            "detail": detail,
            "errors": errors,
        })
    }
}

/// The problem's short summary, in the caller's language.
fn title(locale: Locale, status: StatusCode, code: &str) -> &'static str {
    let (zh, en) = match status.as_u16() {
        403 if code == "problem.csrf" => ("页面已过期", "Page expired"),
        400 => ("请求无效", "Bad request"),
        401 => ("需要登录", "Sign-in required"),
        403 => ("没有权限", "Not allowed"),
        404 => ("未找到", "Not found"),
        405 => ("不支持的操作", "Method not allowed"),
        409 => ("与现有数据冲突", "Conflict"),
        412 => ("记录已被修改", "Changed by someone else"),
        413 => ("内容过大", "Too large"),
        415 => ("不支持的内容类型", "Unsupported content type"),
        422 => ("输入有误", "Invalid input"),
        428 => ("缺少版本号", "Version required"),
        429 => ("操作过于频繁", "Too many attempts"),
        503 => ("服务暂不可用", "Service unavailable"),
        _ if status.is_server_error() => ("系统出错", "Server error"),
        _ => return status.canonical_reason().unwrap_or(""),
    };
    match locale {
        Locale::ZhCn => zh,
        Locale::En => en,
    }
}

/// A handler error: an [`AppError`] or an HTTP-level problem.
#[derive(Debug)]
pub struct ApiError(pub ProblemSpec);

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        use StatusCode as S;
        let spec = match e {
            AppError::Validation(errs) => {
                let mut p = ProblemSpec::new(S::UNPROCESSABLE_ENTITY, "problem.validation");
                p.errors = errs.0;
                p
            }
            AppError::NotFound => ProblemSpec::new(S::NOT_FOUND, "problem.not_found"),
            AppError::Forbidden => ProblemSpec::new(S::FORBIDDEN, "problem.forbidden"),
            AppError::FieldForbidden(errs) => {
                let mut p = ProblemSpec::new(S::FORBIDDEN, "problem.field_forbidden");
                p.errors = errs.0;
                p
            }
            AppError::Unauthorized(code) => ProblemSpec::new(S::UNAUTHORIZED, code),
            AppError::VersionMismatch => {
                ProblemSpec::new(S::PRECONDITION_FAILED, "problem.version_mismatch")
            }
            AppError::Throttled(secs) => {
                let mut p = ProblemSpec::new(S::TOO_MANY_REQUESTS, "problem.throttled");
                p.params.push(("seconds", secs.to_string()));
                p.retry_after = Some(secs);
                p
            }
            AppError::Conflict(fe) => {
                let mut p = ProblemSpec::new(S::CONFLICT, "problem.conflict");
                p.errors = vec![fe];
                p
            }
            AppError::Internal(msg) => {
                // Details go to the log, never to the client.
                tracing::error!(error = %msg, "internal error");
                ProblemSpec::new(S::INTERNAL_SERVER_ERROR, "problem.internal")
            }
        };
        ApiError(spec)
    }
}

impl ApiError {
    pub fn status(status: StatusCode, code: &'static str) -> Self {
        ApiError(ProblemSpec::new(status, code))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        // Rendered in zh-CN here; `localize` re-renders for the caller's language.
        let body = self.0.render(Locale::ZhCn).to_string();
        let mut res = (self.0.status, body).into_response();
        res.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let Some(s) = self.0.retry_after {
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(s));
        }
        res.extensions_mut().insert(self.0);
        res
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

pub fn locale_of(headers: &HeaderMap) -> Locale {
    Locale::from_accept_language(
        headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok()),
    )
}

/// Renders problem bodies in the language the request asked for, and turns
/// axum's own plain-text errors (unknown route, wrong method) into problems.
pub async fn localize(req: Request, next: Next) -> Response {
    let locale = locale_of(req.headers());
    let res = next.run(req).await;
    let spec = match res.extensions().get::<ProblemSpec>() {
        Some(spec) => spec.clone(),
        None if res.status() == StatusCode::NOT_FOUND && !is_json(&res) => {
            ProblemSpec::new(StatusCode::NOT_FOUND, "problem.not_found")
        }
        None if res.status() == StatusCode::METHOD_NOT_ALLOWED => {
            ProblemSpec::new(StatusCode::METHOD_NOT_ALLOWED, "problem.method_not_allowed")
        }
        None if res.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            ProblemSpec::new(StatusCode::PAYLOAD_TOO_LARGE, "problem.payload_too_large")
        }
        None => return res,
    };
    let (mut parts, _) = res.into_parts();
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    parts.headers.remove(header::CONTENT_LENGTH);
    let body = spec.render(locale).to_string();
    Response::from_parts(parts, axum::body::Body::from(body))
}

fn is_json(res: &Response) -> bool {
    res.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("json") || v.contains("html"))
}

/// `Json` whose rejections are problems (bad JSON, wrong type, too large).
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(ApiJson(v)),
            Err(rej) => Err(json_rejection(rej)),
        }
    }
}

fn json_rejection(rej: JsonRejection) -> ApiError {
    use StatusCode as S;
    match rej {
        JsonRejection::MissingJsonContentType(_) => {
            ApiError::status(S::UNSUPPORTED_MEDIA_TYPE, "problem.unsupported_media_type")
        }
        JsonRejection::JsonDataError(e) => {
            // serde names the path and the expectation; keep the path only.
            let text = e.body_text();
            let field = text
                .split(": ")
                .next()
                .unwrap_or("")
                .trim_start_matches("Failed to deserialize the JSON body into the target type")
                .trim()
                .to_string();
            let mut p = ProblemSpec::new(S::UNPROCESSABLE_ENTITY, "problem.validation");
            p.errors.push(
                FieldError::new(
                    if field.is_empty() {
                        "body".to_string()
                    } else {
                        field
                    },
                    "value.type",
                )
                .with("expected", "schema"),
            );
            ApiError(p)
        }
        JsonRejection::JsonSyntaxError(_) => ApiError::status(S::BAD_REQUEST, "problem.bad_json"),
        JsonRejection::BytesRejection(e) if e.status() == S::PAYLOAD_TOO_LARGE => {
            ApiError::status(S::PAYLOAD_TOO_LARGE, "problem.payload_too_large")
        }
        _ => ApiError::status(S::BAD_REQUEST, "problem.bad_json"),
    }
}

/// `Query` whose rejections are problems.
pub struct ApiQuery<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(ApiQuery(v)),
            Err(QueryRejection::FailedToDeserializeQueryString(e)) => {
                let mut p =
                    ProblemSpec::new(StatusCode::UNPROCESSABLE_ENTITY, "problem.validation");
                p.errors
                    .push(FieldError::new("query", "value.type").with("expected", e.body_text()));
                Err(ApiError(p))
            }
            Err(_) => Err(ApiError::status(
                StatusCode::BAD_REQUEST,
                "problem.bad_request",
            )),
        }
    }
}

/// The version a write expects, from `If-Match` (`"3"`, `W/"3"` or `3`).
pub struct IfMatch(pub i64);

impl<S: Send + Sync> FromRequestParts<S> for IfMatch {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, Self::Rejection> {
        let raw = parts.headers.get(header::IF_MATCH).ok_or_else(|| {
            ApiError::status(
                StatusCode::PRECONDITION_REQUIRED,
                "problem.precondition_required",
            )
        })?;
        let s = raw.to_str().unwrap_or("").trim();
        let s = s.strip_prefix("W/").unwrap_or(s).trim_matches('"');
        s.parse::<i64>().map(IfMatch).map_err(|_| {
            ApiError::status(StatusCode::PRECONDITION_FAILED, "problem.version_mismatch")
        })
    }
}

/// A JSON body with an `ETag` of the resource's version.
pub fn with_etag<T: Serialize>(version: i64, body: T) -> Response {
    let mut res = axum::Json(body).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("\"{version}\"")) {
        res.headers_mut().insert(header::ETAG, v);
    }
    res
}
