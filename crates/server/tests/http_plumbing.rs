//! The HTTP plumbing over real HTTP: security headers, JSON errors, body limit, rate limit,
//! load shedding, timeouts, refusal of plain HTTP on a public address, TLS.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use common::{TestServer, assert_security_headers, json_error};
use scrutin_server::AppState;

fn slow_routes(secs: u64) -> Router<AppState> {
    slow_routes_counted(secs, Arc::new(AtomicUsize::new(0)))
}

/// A route that sleeps `secs`, counting the requests that reached it in `entered`.
fn slow_routes_counted(secs: u64, entered: Arc<AtomicUsize>) -> Router<AppState> {
    Router::new().route(
        "/test/slow",
        get(move || {
            let entered = entered.clone();
            async move {
                entered.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_secs(secs)).await;
                "done"
            }
        }),
    )
}

#[tokio::test]
async fn security_headers_on_every_response() {
    let s = TestServer::start().await;
    let c = &s.client;
    let ok = c.get(s.url("/api/health")).send().await.unwrap();
    assert_eq!(ok.status(), 200);
    assert_security_headers(&ok, false);
    let cases = vec![
        c.get(s.url("/nope")).send().await.unwrap(),
        c.get(s.url("/api/admin/login")).send().await.unwrap(), // 405
        c.post(s.url("/api/admin/login"))
            .header("content-type", "application/json")
            .body("{")
            .send()
            .await
            .unwrap(),
        c.get(s.url("/api/admin/elections/x/audit-log"))
            .send()
            .await
            .unwrap(), // 401
    ];
    for r in cases {
        assert!(r.status().as_u16() >= 400);
        assert_security_headers(&r, false);
        json_error(r).await;
    }
}

#[tokio::test]
async fn unknown_route_and_method_are_json() {
    let s = TestServer::start().await;
    let r = s.client.get(s.url("/no/such/route")).send().await.unwrap();
    let (status, code, _) = json_error(r).await;
    assert_eq!((status, code.as_str()), (404, "not_found"));
    let r = s.client.delete(s.url("/api/health")).send().await.unwrap();
    assert!(r.headers().contains_key("allow"));
    let (status, code, _) = json_error(r).await;
    assert_eq!((status, code.as_str()), (405, "method_not_allowed"));
}

#[tokio::test]
async fn malformed_json_wrong_type_and_oversized_bodies() {
    let s = TestServer::start_with(|c| c.limits.body_limit_bytes = 1024, Router::new()).await;
    let url = s.url("/api/admin/login");
    let r = s
        .client
        .post(&url)
        .header("content-type", "application/json")
        .body("{\"username\": ")
        .send()
        .await
        .unwrap();
    let (status, code, _) = json_error(r).await;
    assert_eq!((status, code.as_str()), (400, "malformed_json"));

    let r = s
        .client
        .post(&url)
        .header("content-type", "application/json")
        .body("{\"username\": 3}")
        .send()
        .await
        .unwrap();
    let (status, code, _) = json_error(r).await;
    assert_eq!((status, code.as_str()), (422, "invalid_body"));

    let r = s
        .client
        .post(&url)
        .header("content-type", "text/plain")
        .body("{}")
        .send()
        .await
        .unwrap();
    let (status, code, _) = json_error(r).await;
    assert_eq!((status, code.as_str()), (415, "unsupported_media_type"));

    let big = format!(
        "{{\"username\": \"a\", \"password\": \"{}\"}}",
        "x".repeat(4096)
    );
    let r = s
        .client
        .post(&url)
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
        .unwrap();
    let (status, code, _) = json_error(r).await;
    assert_eq!((status, code.as_str()), (413, "payload_too_large"));

    // chunked (no Content-Length) oversized body
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        (0..64).map(|_| Ok(vec![b' '; 1024])).collect();
    let body = reqwest::Body::wrap_stream(futures_util::stream::iter(chunks));
    let r = s
        .client
        .post(&url)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    let (status, _, _) = json_error(r).await;
    assert_eq!(status, 413);
}

#[tokio::test]
async fn per_ip_rate_limit_answers_429_with_retry_after() {
    let s = TestServer::start_with(
        |c| {
            c.limits.per_ip_burst = 3;
            c.limits.per_ip_rate_per_sec = 0.1;
        },
        Router::new(),
    )
    .await;
    let url = s.url("/api/elections/e/login");
    for _ in 0..3 {
        let r = s
            .client
            .post(&url)
            .json(&serde_json::json!({"login": "a"}))
            .send()
            .await
            .unwrap();
        assert_ne!(r.status(), 429);
    }
    let r = s
        .client
        .post(&url)
        .json(&serde_json::json!({"login": "a"}))
        .send()
        .await
        .unwrap();
    assert_security_headers(&r, false);
    let retry: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=10).contains(&retry), "retry-after {retry}");
    let (status, code, _) = json_error(r).await;
    assert_eq!((status, code.as_str()), (429, "rate_limited"));
    // health is exempt, so probes keep working
    let r = s.client.get(s.url("/api/health")).send().await.unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn overload_is_shed_with_503_and_retry_after() {
    let entered = Arc::new(AtomicUsize::new(0));
    let s = TestServer::start_with(
        |c| c.limits.max_concurrent_requests = 2,
        slow_routes_counted(3, entered.clone()),
    )
    .await;
    let slow = s.url("/test/slow");
    let c1 = s.client.clone();
    let c2 = s.client.clone();
    let (u1, u2) = (slow.clone(), slow.clone());
    let h1 = tokio::spawn(async move { c1.get(u1).send().await.unwrap().status() });
    let h2 = tokio::spawn(async move { c2.get(u2).send().await.unwrap().status() });
    tokio::time::sleep(Duration::from_millis(500)).await;
    let started = std::time::Instant::now();
    let r = s.client.get(&slow).send().await.unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "shed, not queued"
    );
    assert_security_headers(&r, false);
    assert!(r.headers().contains_key("retry-after"));
    let (status, code, _) = json_error(r).await;
    assert_eq!((status, code.as_str()), (503, "overloaded"));
    // health still answers while the server is saturated
    let r = s.client.get(s.url("/api/health")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(h1.await.unwrap(), 200);
    assert_eq!(h2.await.unwrap(), 200);
    // capacity comes back
    let r = s.client.get(s.url("/nope")).send().await.unwrap();
    assert_eq!(r.status(), 404);
}

#[tokio::test]
async fn slow_requests_time_out_with_json_503() {
    let s = TestServer::start_with(|c| c.limits.request_timeout_secs = 1, slow_routes(5)).await;
    let started = std::time::Instant::now();
    let r = s.client.get(s.url("/test/slow")).send().await.unwrap();
    assert!(started.elapsed() < Duration::from_secs(4));
    assert!(r.headers().contains_key("retry-after"));
    let (status, code, _) = json_error(r).await;
    assert_eq!((status, code.as_str()), (503, "timeout"));
}

#[tokio::test]
async fn plain_http_on_public_address_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = common::test_config(dir.path());
    config.listen = "0.0.0.0:0".parse().unwrap();
    let state = AppState::open(config.clone()).unwrap();
    let app = scrutin_server::build_router(state, Router::new());
    let err = scrutin_server::start(&config, app.clone())
        .await
        .err()
        .unwrap();
    assert!(
        matches!(err, scrutin_server::ServeError::InsecureBind(_)),
        "{err}"
    );
    // explicitly allowed (behind a TLS proxy): binds; then stop at once
    config.insecure_http = true;
    let server = scrutin_server::start(&config, app).await.unwrap();
    server.shutdown(Duration::from_secs(1)).await.unwrap();
}

#[tokio::test]
async fn https_with_rustls_and_hsts() {
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let s = TestServer::start_with(
        |c| {
            c.tls = Some(scrutin_server::config::TlsConfig {
                cert: fixtures.join("test-cert.pem"),
                key: fixtures.join("test-key.pem"),
            });
        },
        Router::new(),
    )
    .await;
    let port = s.server.as_ref().unwrap().local_addr().port();
    let pem = std::fs::read(fixtures.join("test-cert.pem")).unwrap();
    let client = reqwest::Client::builder()
        .no_proxy()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(&pem).unwrap())
        .build()
        .unwrap();
    let r = client
        .get(format!("https://localhost:{port}/api/health"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_security_headers(&r, true);
    let r = client
        .get(format!("https://localhost:{port}/missing"))
        .send()
        .await
        .unwrap();
    assert_security_headers(&r, true);
    json_error(r).await;
    // plain HTTP to the TLS port does not get an answer from the API
    assert!(
        s.client
            .get(format!("http://127.0.0.1:{port}/api/health"))
            .send()
            .await
            .map(|r| r.status() != 200)
            .unwrap_or(true)
    );
}

#[tokio::test]
async fn a_burst_gets_answers_or_polite_503s_never_errors() {
    let s = TestServer::start_with(
        |c| {
            c.limits.max_concurrent_requests = 4;
            // A hundred clients, all on the loopback address here.
            c.limits.max_connections_per_ip = 1000;
        },
        Router::new().route(
            "/test/work",
            get(|| async {
                tokio::time::sleep(Duration::from_millis(100)).await;
                "ok"
            }),
        ),
    )
    .await;
    let mut handles = Vec::new();
    for _ in 0..100 {
        let c = s.client.clone();
        let url = s.url("/test/work");
        handles.push(tokio::spawn(async move {
            let r = c.get(url).send().await.unwrap();
            let status = r.status().as_u16();
            let retry = r.headers().contains_key("retry-after");
            (status, retry)
        }));
    }
    let (mut ok, mut shed) = (0, 0);
    for h in handles {
        match h.await.unwrap() {
            (200, _) => ok += 1,
            (503, true) => shed += 1,
            other => panic!("unexpected answer {other:?}"),
        }
    }
    assert_eq!(ok + shed, 100);
    assert!(ok >= 4 && shed > 0, "ok {ok}, shed {shed}");
}

#[tokio::test]
async fn connections_beyond_the_limit_are_closed() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let s = TestServer::start_with(|c| c.limits.max_connections = 2, Router::new()).await;
    let addr = s.server.as_ref().unwrap().local_addr();
    let idle1 = tokio::net::TcpStream::connect(addr).await.unwrap();
    let idle2 = tokio::net::TcpStream::connect(addr).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut third = tokio::net::TcpStream::connect(addr).await.unwrap();
    let _ = third
        .write_all(b"GET /api/health HTTP/1.1\r\nHost: x\r\n\r\n")
        .await;
    let mut buf = [0u8; 64];
    let n = tokio::time::timeout(Duration::from_secs(5), third.read(&mut buf))
        .await
        .unwrap()
        .unwrap_or(0);
    assert_eq!(
        n, 0,
        "the third connection must be closed without an answer"
    );
    drop(idle1);
    drop(idle2);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let r = s.client.get(s.url("/api/health")).send().await.unwrap();
    assert_eq!(r.status(), 200);
}

/// Slowloris: one address holding idle connections used to fill the global cap, making even
/// `/api/health` unreachable. Now it fills only its own share; other clients are served.
#[tokio::test]
async fn connections_beyond_the_per_address_limit_are_closed() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let s = TestServer::start_with(
        |c| {
            c.limits.max_connections_per_ip = 2;
            c.limits.header_timeout_secs = 30;
        },
        Router::new(),
    )
    .await;
    let addr = s.server.as_ref().unwrap().local_addr();
    let from = |ip: &str| {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.bind(format!("{ip}:0").parse().unwrap()).unwrap();
        socket.connect(addr)
    };
    let _idle1 = from("127.0.0.1").await.unwrap();
    let _idle2 = from("127.0.0.1").await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut third = from("127.0.0.1").await.unwrap();
    let _ = third
        .write_all(b"GET /api/health HTTP/1.1\r\nHost: x\r\n\r\n")
        .await;
    let mut buf = [0u8; 64];
    let n = tokio::time::timeout(Duration::from_secs(5), third.read(&mut buf))
        .await
        .unwrap()
        .unwrap_or(0);
    assert_eq!(
        n, 0,
        "a third connection from the same address must be closed"
    );
    // Another address is served while the first holds its connections.
    let mut other = from("127.0.0.2").await.unwrap();
    other
        .write_all(b"GET /api/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), other.read_to_end(&mut answer))
        .await
        .unwrap()
        .unwrap();
    assert!(String::from_utf8_lossy(&answer).starts_with("HTTP/1.1 200"));
}

#[tokio::test]
async fn idle_connections_are_closed_after_the_header_timeout() {
    use tokio::io::AsyncReadExt;
    let s = TestServer::start_with(|c| c.limits.header_timeout_secs = 1, Router::new()).await;
    let addr = s.server.as_ref().unwrap().local_addr();
    let mut idle = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut buf = [0u8; 64];
    let started = std::time::Instant::now();
    let n = tokio::time::timeout(Duration::from_secs(10), idle.read(&mut buf))
        .await
        .unwrap()
        .unwrap_or(0);
    assert_eq!(n, 0);
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn idle_keep_alive_connections_are_closed() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let s = TestServer::start_with(|c| c.limits.header_timeout_secs = 1, Router::new()).await;
    let addr = s.server.as_ref().unwrap().local_addr();
    let mut conn = tokio::net::TcpStream::connect(addr).await.unwrap();
    conn.write_all(b"GET /api/health HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut buf = vec![0u8; 4096];
    let n = conn.read(&mut buf).await.unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
    // now idle: the server must hang up by itself
    let started = std::time::Instant::now();
    let n = tokio::time::timeout(Duration::from_secs(10), conn.read(&mut buf))
        .await
        .expect("idle keep-alive connection was never closed")
        .unwrap_or(0);
    assert_eq!(n, 0);
    assert!(started.elapsed() < Duration::from_secs(5));
}
