//! The web app (`web/dist`, embedded at build time) and its client-side routes.

use std::borrow::Cow;
use std::collections::HashMap;
use std::io::Write;
use std::sync::{Mutex, OnceLock};

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use flate2::Compression;
use flate2::write::GzEncoder;
use kehu_domain::i18n::weighted;
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

/// Text files, worth compressing (fonts and images already are).
fn compressible(path: &str) -> bool {
    matches!(
        path.rsplit_once('.').map(|(_, ext)| ext),
        Some("html" | "js" | "mjs" | "css" | "json" | "svg" | "txt")
    )
}

/// Whether `Accept-Encoding` takes gzip: named, or by `*` when not named,
/// with a weight above 0.
fn accepts_gzip(headers: &HeaderMap) -> bool {
    let (mut gzip, mut any) = (None, None);
    for value in headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
    {
        for (coding, q) in weighted(value) {
            if coding.eq_ignore_ascii_case("gzip") {
                gzip = Some(q > 0.0);
            } else if coding == "*" {
                any = Some(q > 0.0);
            }
        }
    }
    gzip.or(any).unwrap_or(false)
}

/// A file of the app gzip'd at the best level, once per process: the files
/// are fixed for the binary's life, and the response layer's level (the
/// fastest, for API answers) made the first load about 14 % larger.
fn gzipped(path: &str, data: &[u8]) -> Bytes {
    static CACHE: OnceLock<Mutex<HashMap<String, Bytes>>> = OnceLock::new();
    let mut cache = CACHE
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    cache
        .entry(path.to_string())
        .or_insert_with(|| {
            let mut z = GzEncoder::new(Vec::with_capacity(data.len() / 3), Compression::best());
            z.write_all(data).expect("writing to memory");
            Bytes::from(z.finish().expect("writing to memory"))
        })
        .clone()
}

fn file(path: &str, data: Cow<'static, [u8]>, headers: &HeaderMap) -> Response {
    // Vite names assets by content hash: cache them for good; index.html
    // must be revalidated so a new release is picked up.
    let cache = if path.starts_with("assets/") {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    let text = compressible(path);
    let gzip = text && accepts_gzip(headers);
    let body = match data {
        _ if gzip => Body::from(gzipped(path, &data)),
        // Embedded in release builds: sent without a copy.
        Cow::Borrowed(b) => Body::from(Bytes::from_static(b)),
        Cow::Owned(v) => Body::from(v),
    };
    let mut res = body.into_response();
    let h = res.headers_mut();
    if gzip {
        h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    if text {
        h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
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
        return file(path, f.data, &headers);
    }
    let last = path.rsplit('/').next().unwrap_or("");
    if last.contains('.') {
        return ApiError::status(StatusCode::NOT_FOUND, "problem.not_found").into_response();
    }
    match Dist::get("index.html") {
        Some(f) => file("index.html", f.data, &headers),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn asks(v: &str) -> bool {
        let mut h = HeaderMap::new();
        h.insert(header::ACCEPT_ENCODING, HeaderValue::from_str(v).unwrap());
        accepts_gzip(&h)
    }

    #[test]
    fn gzip_is_taken_when_named_or_by_star_and_not_refused() {
        assert!(asks("gzip, deflate, br, zstd"));
        assert!(asks("br;q=1.0, GZIP;q=0.5"));
        assert!(asks("*"));
        assert!(!asks("br, zstd"));
        assert!(!asks("gzip;q=0"));
        assert!(!asks("gzip; q=0.0, br"));
        assert!(!asks("gzip;q=0, *"), "named refusal wins over *");
        assert!(!asks("*;q=0"));
        assert!(asks("*;q=0, gzip"));
        assert!(!accepts_gzip(&HeaderMap::new()));
    }
}
