//! Middleware applied to every request.
//!
//! Order, outermost first: security headers → access log → JSON errors → per-IP rate limit →
//! load shedding → timeout → handler. So every response, even a 429 or 503 made by the layers
//! below, carries the security headers and a JSON error body. `/api/health` bypasses the rate
//! limit and load shedding, so a load balancer does not take an overloaded node for a dead one.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderName, HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::error::ApiError;
use crate::ratelimit::{ProxyList, client_key, retry_after_secs};
use crate::state::AppState;

/// Content-Security-Policy of every response, unless the handler set its own: only the
/// voting booth does, to let the voter's browser reach the election's monitors
/// ([`csp_connecting_to`]).
pub const CSP: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; \
style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; \
base-uri 'none'; form-action 'self'";

/// [`CSP`] with `connect-src` widened to `origins` (each `scheme://host[:port]`, as
/// [`url_origin`] makes them) besides the page's own: the booth of an election that names
/// monitors compares the board's head with theirs (spec §14.3), and nothing else.
pub fn csp_connecting_to(origins: &[String]) -> String {
    let mut sources = String::from("connect-src 'self'");
    for o in origins {
        sources.push(' ');
        sources.push_str(o);
    }
    CSP.replace("connect-src 'self'", &sources)
}

/// The origin `scheme://host[:port]` of an `http://` or `https://` URL, lowercased, or
/// `None` when the URL has none that a Content-Security-Policy source can name safely
/// (user information, characters other than those of a host name, an IP literal and a
/// port).
pub fn url_origin(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "https" && scheme != "http" {
        return None;
    }
    let authority = rest.split(['/', '?', '#']).next()?;
    let host_ok = !authority.is_empty()
        && !authority.starts_with(':')
        && authority
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'));
    host_ok.then(|| format!("{scheme}://{}", authority.to_ascii_lowercase()))
}

/// Permissions-Policy of every response.
pub const PERMISSIONS_POLICY: &str = "accelerometer=(), camera=(), geolocation=(), \
gyroscope=(), magnetometer=(), microphone=(), payment=(), usb=()";

/// HSTS when TLS is on: two years, subdomains included.
pub const HSTS: &str = "max-age=63072000; includeSubDomains";

const HEALTH_PATH: &str = "/api/health";

/// The client address: the socket peer, or, when the peer is a trusted proxy, the last
/// `X-Forwarded-For` entry that is not one ([`ProxyList::client_of`]).
pub fn client_ip(req: &Request, proxies: &ProxyList) -> IpAddr {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
        .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
    if proxies.is_empty() {
        return peer;
    }
    let forwarded = req
        .headers()
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok());
    proxies.client_of(peer, forwarded)
}

/// Adds the security headers to every response.
pub async fn security_headers(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    let set = |h: &mut axum::http::HeaderMap, name: HeaderName, value: &'static str| {
        h.insert(name, HeaderValue::from_static(value));
    };
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        set(h, header::CONTENT_SECURITY_POLICY, CSP);
    }
    set(h, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(h, header::REFERRER_POLICY, "no-referrer");
    set(h, header::X_FRAME_OPTIONS, "DENY");
    set(
        h,
        HeaderName::from_static("permissions-policy"),
        PERMISSIONS_POLICY,
    );
    set(
        h,
        HeaderName::from_static("cross-origin-opener-policy"),
        "same-origin",
    );
    set(
        h,
        HeaderName::from_static("cross-origin-resource-policy"),
        "same-origin",
    );
    if state.config.tls.is_some() {
        set(h, header::STRICT_TRANSPORT_SECURITY, HSTS);
    }
    // API answers (tokens, voter data) are not cached unless a route says otherwise.
    if !h.contains_key(header::CACHE_CONTROL) {
        set(h, header::CACHE_CONTROL, "no-store");
    }
    resp
}

/// One log line per request: method, route pattern (not the raw path), status, duration.
/// Client addresses are not logged (they are personal data).
pub async fn access_log(req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let route = req
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "<unmatched>".to_owned());
    let started = std::time::Instant::now();
    let resp = next.run(req).await;
    tracing::info!(
        %method,
        %route,
        status = resp.status().as_u16(),
        ms = started.elapsed().as_millis() as u64,
        "request"
    );
    resp
}

/// Turns any error response without a JSON body (axum rejections, 404, 405, …) into the
/// API's JSON error shape, keeping `Allow` and `Retry-After`. The HTML error pages of the
/// server-rendered public pages ([`crate::web`]) are left as they are.
pub async fn json_errors(req: Request, next: Next) -> Response {
    let resp = next.run(req).await;
    let status = resp.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return resp;
    }
    let keep = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/json") || ct.starts_with("text/html"));
    if keep {
        return resp;
    }
    let (parts, _) = resp.into_parts();
    let message = match status.as_u16() {
        413 => "request body too large".to_owned(),
        415 => "unsupported content type".to_owned(),
        _ => status.canonical_reason().unwrap_or("error").to_owned(),
    };
    let mut new = ApiError::new(status, ApiError::code_for(status), message).into_response();
    for name in [header::ALLOW, header::RETRY_AFTER] {
        if let Some(v) = parts.headers.get(&name) {
            new.headers_mut().insert(name, v.clone());
        }
    }
    new
}

/// The client address as seen by the rate limiter, stored in the request extensions for
/// handlers (`Option<Extension<ClientIp>>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

/// Per-client token bucket: 429 with `Retry-After` when empty. Also records [`ClientIp`].
pub async fn rate_limit(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let ip = client_ip(&req, &state.guards.proxies);
    req.extensions_mut().insert(ClientIp(ip));
    let limited = if req.uri().path() == HEALTH_PATH {
        Ok(())
    } else {
        state.guards.per_ip.check(&client_key(ip))
    };
    if let Err(wait) = limited {
        return ApiError::too_many_requests(retry_after_secs(wait)).into_response();
    }
    next.run(req).await
}

/// Global concurrency limit: when every permit is taken the request is refused at once with
/// 503 and `Retry-After` instead of waiting in an unbounded queue.
pub async fn load_shed(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if req.uri().path() == HEALTH_PATH {
        return next.run(req).await;
    }
    match state.guards.in_flight.clone().try_acquire_owned() {
        Ok(permit) => {
            let resp = next.run(req).await;
            drop(permit);
            resp
        }
        Err(_) => ApiError::overloaded(1).into_response(),
    }
}

/// Request time limit: 503 with `Retry-After` when exceeded. Storage calls already started
/// run to completion on the blocking pool, so a write is never torn by a timeout.
pub async fn timeout(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let limit = Duration::from_secs(state.config.limits.request_timeout_secs);
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(resp) => resp,
        Err(_) => ApiError::new(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            "timeout",
            "the request took too long; retry shortly",
        )
        .with_retry_after(2)
        .into_response(),
    }
}

/// Officials act only on the elections they own: every request to
/// `/api/admin/elections/{id}` or below, with an official's session, for an election they
/// do not own, is answered 404 as if it did not exist (so that officials cannot learn of
/// each other's elections). Server administrators pass; requests without an admin session
/// pass too, for the handler to refuse.
pub async fn election_owners(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let Some(id) = req
        .uri()
        .path()
        .strip_prefix("/api/admin/elections/")
        .and_then(|rest| rest.split('/').next())
        .filter(|id| !id.is_empty())
        .map(str::to_owned)
    else {
        return next.run(req).await;
    };
    let token = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, t)| t.trim().to_owned());
    let Some(token) = token else {
        return next.run(req).await;
    };
    let admin = match super::extract::admin_of(&state, &token).await {
        Ok(a) => a,
        Err(e) => return e.into_response(),
    };
    match admin {
        Some((username, crate::storage::AdminRole::Official)) => {
            let eid = id.clone();
            let owner =
                crate::storage::blocking(&state.storage, move |s| s.election_owner(&eid)).await;
            match owner {
                Ok(Some(owner)) if owner == username => next.run(req).await,
                Ok(_) => ApiError::not_found("no such election").into_response(),
                Err(e) => ApiError::from(e).into_response(),
            }
        }
        _ => next.run(req).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn monitor_origins_widen_connect_src_only() {
        assert_eq!(
            url_origin("https://Monitor.example.org/scrutin/"),
            Some("https://monitor.example.org".into())
        );
        assert_eq!(
            url_origin("http://127.0.0.1:8081"),
            Some("http://127.0.0.1:8081".into())
        );
        assert_eq!(
            url_origin("https://[::1]:9000?x"),
            Some("https://[::1]:9000".into())
        );
        for bad in [
            "ftp://example.org",
            "https://",
            "https://user@example.org",
            "https://a;b.example.org",
            "https://example.org,evil",
            "https://:80",
            "example.org",
        ] {
            assert_eq!(url_origin(bad), None, "{bad}");
        }
        let csp = csp_connecting_to(&["https://m1.example".into(), "http://m2:81".into()]);
        assert!(csp.contains("connect-src 'self' https://m1.example http://m2:81;"));
        assert_eq!(csp.replace(" https://m1.example http://m2:81", ""), CSP);
        assert_eq!(csp_connecting_to(&[]), CSP);
    }
}
