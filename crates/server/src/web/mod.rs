//! The web front end: the pages, scripts, styles, translations and the booth's WebAssembly
//! bundle, embedded in the binary from `web/` by `build.rs` (see `web/README.md`).
//!
//! | route | page |
//! |---|---|
//! | `GET /` | home: find an election |
//! | `GET /admin` | the officials' pages (election list, creation, voters, ceremony, lifecycle, audit log) |
//! | `GET /elections/{id}` | the voting booth |
//! | `GET /elections/{id}/trustee` | a trustee's key generation and decryption share (token in the URL fragment) |
//! | `GET /elections/{id}/authority` | the credential authority's step (token in the URL fragment) |
//! | `GET /elections/{id}/verify` | the universal verifier, in the browser |
//! | `GET /elections/{id}/board` | the public board, rendered by the server ([`public`]) |
//! | `GET /elections/{id}/result` | the result with its charts, rendered by the server ([`public`]) |
//! | `GET /static/…`, `/i18n/…`, `/pkg/…` | the embedded files |
//!
//! Every page is a static HTML shell with its script from `/static/js/`, except the board
//! and the result, which the server renders whole (they need no script); no page loads
//! anything from another origin, which the Content-Security-Policy of
//! [`crate::http::middleware::CSP`] enforces. With `web_dir` set in the configuration the
//! files are read from that folder at each request instead (to edit pages or translations
//! without rebuilding).

use std::path::Path as FsPath;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use sha2::{Digest, Sha256};

use crate::http::error::ApiError;
use crate::state::AppState;

pub mod chart;
pub mod html;
pub mod i18n;
pub mod public;

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/web_assets.rs"));
}

/// The embedded file at `path` (relative to `web/`).
pub fn embedded(path: &str) -> Option<&'static [u8]> {
    embedded::ASSETS
        .binary_search_by(|(p, _)| (*p).cmp(path))
        .ok()
        .and_then(|i| embedded::ASSETS.get(i))
        .map(|(_, bytes)| *bytes)
}

/// Paths of every embedded file.
pub fn embedded_paths() -> impl Iterator<Item = &'static str> {
    embedded::ASSETS.iter().map(|(p, _)| *p)
}

/// The media type of a served file, from its extension.
pub fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" => "application/json",
        "wasm" => "application/wasm",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// A relative path made only of safe segments (no `..`, no hidden files, no backslashes).
fn safe_path(path: &str) -> bool {
    !path.is_empty()
        && path.len() <= 200
        && path.split('/').all(|seg| {
            !seg.is_empty()
                && !seg.starts_with('.')
                && seg
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        })
}

/// Reads a file of `web/`: from `web_dir` when configured, else from the binary.
async fn load(app: &AppState, path: &str) -> Option<Vec<u8>> {
    if !safe_path(path) {
        return None;
    }
    match &app.config.web_dir {
        Some(dir) => tokio::fs::read(FsPath::new(dir).join(path)).await.ok(),
        None => embedded(path).map(<[u8]>::to_vec),
    }
}

/// Serves one file with its type, a strong ETag and revalidation on every use (the files
/// change with each release; an ETag keeps the reload cheap).
async fn serve_file(app: &AppState, path: &str, headers: &HeaderMap) -> Response {
    let Some(bytes) = load(app, path).await else {
        return ApiError::not_found("no such file").into_response();
    };
    let etag = format!("\"{}\"", hex::encode(&Sha256::digest(&bytes)[..16]));
    let matches = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag));
    let mut resp = if matches {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        bytes.into_response()
    };
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(content_type(path)),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    resp
}

/// The page routes and the embedded files.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/",
            get(|s: State<AppState>, h: HeaderMap| page(s, h, "index.html")),
        )
        .route(
            "/admin",
            get(|s: State<AppState>, h: HeaderMap| page(s, h, "admin.html")),
        )
        .route("/elections/{id}", get(election_page))
        .route("/elections/{id}/board", get(public::board))
        .route("/elections/{id}/result", get(public::result))
        .route("/elections/{id}/verify", get(public::verify))
        .route("/elections/{id}/{page}", get(election_subpage))
        .route("/static/{*path}", get(static_file))
        .route("/i18n/{*path}", get(i18n_file))
        .route("/pkg/{*path}", get(pkg_file))
}

async fn page(State(app): State<AppState>, headers: HeaderMap, file: &'static str) -> Response {
    serve_file(&app, &format!("pages/{file}"), &headers).await
}

async fn election_page(
    State(app): State<AppState>,
    Path(_id): Path<String>,
    headers: HeaderMap,
) -> Response {
    serve_file(&app, "pages/booth.html", &headers).await
}

async fn election_subpage(
    State(app): State<AppState>,
    Path((_id, name)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    match name.as_str() {
        "trustee" | "authority" => serve_file(&app, &format!("pages/{name}.html"), &headers).await,
        _ => ApiError::not_found("no such page").into_response(),
    }
}

async fn static_file(
    State(app): State<AppState>,
    Path(path): Path<String>,
    headers: HeaderMap,
) -> Response {
    serve_file(&app, &format!("static/{path}"), &headers).await
}

async fn i18n_file(
    State(app): State<AppState>,
    Path(path): Path<String>,
    headers: HeaderMap,
) -> Response {
    serve_file(&app, &format!("i18n/{path}"), &headers).await
}

async fn pkg_file(
    State(app): State<AppState>,
    Path(path): Path<String>,
    headers: HeaderMap,
) -> Response {
    serve_file(&app, &format!("pkg/{path}"), &headers).await
}
