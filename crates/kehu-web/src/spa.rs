//! The web app (`web/dist`, embedded at build time) and its client-side routes.

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use rust_embed::Embed;

use crate::error::{ApiError, locale_of};

#[derive(Embed)]
#[folder = "$CARGO_MANIFEST_DIR/../../web/dist/"]
#[allow_missing = true]
struct Dist;

/// Whether this binary carries the web app.
pub fn built() -> bool {
    Dist::get("index.html").is_some()
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit_once('.').map(|(_, ext)| ext) {
        Some("html") => "text/html; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("json") => "application/json",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        Some("woff2") => "font/woff2",
        Some("woff") => "font/woff",
        Some("ttf") => "font/ttf",
        Some("txt") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

fn file(path: &str, data: Vec<u8>) -> Response {
    // Vite names assets by content hash: cache them for good; index.html
    // must be revalidated so a new release is picked up.
    let cache = if path.starts_with("assets/") {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    let mut res = Body::from(data).into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(content_type(path)),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    res
}

/// Serves a file of the app, or `index.html` for a client-side route
/// (a path without a file extension), or the plain page when the app was
/// not built.
pub async fn serve(method: Method, uri: Uri, headers: HeaderMap) -> Response {
    let path = uri.path().trim_start_matches('/');
    if method != Method::GET && method != Method::HEAD {
        let status = if path.starts_with("api/") {
            StatusCode::NOT_FOUND
        } else {
            StatusCode::METHOD_NOT_ALLOWED
        };
        let code = if status == StatusCode::NOT_FOUND {
            "problem.not_found"
        } else {
            "problem.method_not_allowed"
        };
        return ApiError::status(status, code).into_response();
    }
    if path.starts_with("api/") {
        return ApiError::status(StatusCode::NOT_FOUND, "problem.not_found").into_response();
    }
    // `.vite/` holds the build manifest: for tools, not for browsers.
    let servable = !path.is_empty() && !path.starts_with(".vite/");
    if let Some(f) = Dist::get(path).filter(|_| servable) {
        return file(path, f.data.into_owned());
    }
    let last = path.rsplit('/').next().unwrap_or("");
    if last.contains('.') {
        return ApiError::status(StatusCode::NOT_FOUND, "problem.not_found").into_response();
    }
    match Dist::get("index.html") {
        Some(f) => file("index.html", f.data.into_owned()),
        None => not_built(&headers),
    }
}

/// What `/` says when the binary was built without the web app.
fn not_built(headers: &HeaderMap) -> Response {
    let locale = locale_of(headers);
    let m = |code: &str| kehu_domain::i18n::message(locale, code, &[]);
    let body = format!(
        "<!doctype html><html lang=\"{}\"><meta charset=\"utf-8\"><title>Kehu</title><h1>{}</h1><p>{}</p><p><a href=\"/api/v1/openapi.json\">/api/v1/openapi.json</a></p></html>",
        locale.tag(),
        m("ui.index.title"),
        m("ui.index.body")
    );
    let mut res = Body::from(body).into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    res
}
