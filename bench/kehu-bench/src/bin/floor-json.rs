//! F_json: the floor for HTTP reads. A bare axum handler returning a small
//! JSON object, built with the workspace's release profile and run the way
//! `kehu serve` runs (multi-threaded tokio runtime, pinned by the caller).
//! Every path answers, so the load generator sends byte-for-byte the same
//! requests (same paths, same `Authorization` header) as it sends to Kehu.

use std::net::SocketAddr;

use axum::Json;
use axum::Router;
use serde::Serialize;

#[derive(Serialize)]
struct Small {
    id: &'static str,
    name: &'static str,
    version: i64,
    ok: bool,
}

async fn handler() -> Json<Small> {
    Json(Small {
        id: "0190b6c2-6d5e-7a3c-9a1e-3f2b1c0d4e5f",
        name: "张三",
        version: 1,
        ok: true,
    })
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let bind: SocketAddr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:18081".into())
        .parse()?;
    let app = Router::new().fallback(handler);
    let listener = tokio::net::TcpListener::bind(bind).await?;
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}
