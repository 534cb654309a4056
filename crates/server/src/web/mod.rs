//! The web front end: the pages, scripts, styles, translations and the booth's WebAssembly
//! bundle, embedded in the binary from `web/` by `build.rs` (see `web/README.md`).
//!
//! | route | page |
//! |---|---|
//! | `GET /` | home: find an election |
//! | `GET /admin` | the officials' pages (election list, creation, voters, ceremony, lifecycle, audit log); with `?election={id}`, its `connect-src` also names that election's monitors |
//! | `GET /keys` | a trustee's or credential authority's role key, drawn in the browser; checking a key file |
//! | `GET /elections/{id}` | the voting booth (its `connect-src` also names the election's monitors) |
//! | `GET /elections/{id}/trustee` | a trustee's key generation and decryption share (token in the URL fragment; its `connect-src` also names the election's monitors) |
//! | `GET /elections/{id}/authority` | the credential authority's step (token in the URL fragment; its `connect-src` also names the election's monitors) |
//! | `GET /elections/{id}/verify` | the universal verifier, in the browser |
//! | `GET /elections/{id}/board` | the public board, rendered by the server ([`public`]) |
//! | `GET /elections/{id}/result` | the result with its charts, rendered by the server ([`public`]) |
//! | `GET /static/…`, `/i18n/…`, `/pkg/…` | the embedded files |
//!
//! Every page is a static HTML shell with its script from `/static/js/`, except the board
//! and the result, which the server renders whole (they need no script: theirs only shows
//! times in the reader's zone); no page loads
//! anything from another origin, which the Content-Security-Policy of
//! [`crate::http::middleware::CSP`] enforces (the booth, the trustee page, the credential
//! authority's page and the officials' page of an election with monitors may also fetch
//! from those monitors, and only from them: the booth compares the board's head with
//! theirs, the trustee page and the officials' tally compare the `close` line with theirs,
//! the authority's page the record's last line, spec §14.4). With `web_dir` set in the configuration the
//! files are read from that folder at each request instead (to edit pages or translations
//! without rebuilding).

use std::path::Path as FsPath;

use axum::Router;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use sha2::{Digest, Sha256};

use crate::http::error::ApiError;
use crate::http::middleware;
use crate::state::AppState;

pub mod chart;
pub mod exports;
pub mod html;
pub mod i18n;
pub mod mixed;
pub mod public;
pub mod report;

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
pub(crate) async fn load(app: &AppState, path: &str) -> Option<Vec<u8>> {
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
        .route("/admin", get(admin_page))
        .route(
            "/keys",
            get(|s: State<AppState>, h: HeaderMap| page(s, h, "keys.html")),
        )
        .route("/elections/{id}", get(election_page))
        .route("/elections/{id}/board", get(public::board))
        .route("/elections/{id}/result", get(public::result))
        .route("/elections/{id}/verify", get(public::verify))
        .route("/elections/{id}/report", get(report::report))
        .route("/api/elections/{id}/result.csv", get(exports::result_csv))
        .route(
            "/api/elections/{id}/result/{question}/ballots.blt",
            get(mixed::ballots_blt),
        )
        .route(
            "/api/elections/{id}/result/{question}/ballots.csv",
            get(mixed::ballots_csv),
        )
        .route("/elections/{id}/{page}", get(election_subpage))
        .route("/static/{*path}", get(static_file))
        .route("/i18n/{*path}", get(i18n_file))
        .route("/pkg/{*path}", get(pkg_file))
}

async fn page(State(app): State<AppState>, headers: HeaderMap, file: &'static str) -> Response {
    serve_file(&app, &format!("pages/{file}"), &headers).await
}

/// The booth. When the election names monitors (spec §14.3), its Content-Security-Policy
/// lets the page reach exactly their origins, to compare the board's head with theirs.
async fn election_page(
    State(app): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    page_with_monitors(&app, "pages/booth.html", &id, &headers).await
}

/// The query of `/admin`: `election` names the election shown, whose monitors the page
/// may reach (to compare the `close` line with theirs before the tally, spec §14.4).
#[derive(serde::Deserialize)]
struct AdminQuery {
    election: Option<String>,
}

/// The officials' page; `?election={id}` lets it reach that election's monitors, and only
/// them (the election is chosen in the fragment, which the server never sees, so the page
/// names it in the query too).
async fn admin_page(
    State(app): State<AppState>,
    query: Result<Query<AdminQuery>, QueryRejection>,
    headers: HeaderMap,
) -> Response {
    let election = query.ok().and_then(|Query(q)| q.election);
    match election {
        Some(id) => page_with_monitors(&app, "pages/admin.html", &id, &headers).await,
        None => serve_file(&app, "pages/admin.html", &headers).await,
    }
}

/// Serves `file` with a Content-Security-Policy whose `connect-src` also names the origins
/// of election `id`'s monitors (the common policy when it names none, or is unknown).
async fn page_with_monitors(app: &AppState, file: &str, id: &str, headers: &HeaderMap) -> Response {
    let origins = monitor_origins(app, id).await;
    let mut resp = serve_file(app, file, headers).await;
    if !origins.is_empty()
        && let Ok(v) = HeaderValue::from_str(&middleware::csp_connecting_to(&origins))
    {
        resp.headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, v);
    }
    resp
}

/// The distinct origins of the monitors the election's definition names (none for an
/// unknown election or one without monitors).
async fn monitor_origins(app: &AppState, id: &str) -> Vec<String> {
    if crate::protocol::election_meta(app, id).await.is_err() {
        return Vec::new();
    }
    let monitors = match app.elections.view(app, id).await {
        Ok(v) => v
            .definition
            .as_ref()
            .map(|d| d.monitors.clone())
            .unwrap_or_default(),
        Err(_) => Vec::new(),
    };
    let mut origins: Vec<String> = Vec::new();
    for m in &monitors {
        if let Some(o) = middleware::url_origin(m)
            && !origins.contains(&o)
        {
            origins.push(o);
        }
    }
    origins
}

async fn election_subpage(
    State(app): State<AppState>,
    Path((id, name)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    match name.as_str() {
        // The trustee compares the `close` line with the monitors' before decrypting (§14.4).
        "trustee" => page_with_monitors(&app, "pages/trustee.html", &id, &headers).await,
        // The credential authority compares the record's last line with the monitors' before
        // generating the credentials (§14.4).
        "authority" => page_with_monitors(&app, "pages/authority.html", &id, &headers).await,
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
