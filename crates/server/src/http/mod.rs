//! HTTP plumbing: router assembly with the middleware stack, and the listener (plain HTTP or
//! HTTPS with rustls).
//!
//! Invariants: every response carries the security headers and every error is JSON
//! ([`error::ApiError`]); request bodies are bounded (`limits.body_limit_bytes`, larger only
//! where a route says so); plain HTTP is refused on a non-loopback address unless
//! `insecure_http` is set; slow clients get `limits.header_timeout_secs` to finish the TLS
//! handshake, to send their first request and to send each request's headers; at most
//! `limits.max_connections` connections are open at once, `limits.max_connections_per_ip`
//! from one address ([`conn`]).

pub mod conn;
pub mod error;
pub mod extract;
pub mod middleware;

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware::{from_fn, from_fn_with_state};
use axum_server::Handle;
use axum_server::accept::DefaultAcceptor;
use axum_server::tls_rustls::{RustlsAcceptor, RustlsConfig};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::config::{ServerConfig, TlsConfig};
use crate::state::AppState;
pub use error::ApiError;

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// Plain HTTP on a public address without `insecure_http`.
    #[error(
        "refusing plain HTTP on non-loopback address {0}: configure [tls] or set insecure_http (only behind a TLS proxy)"
    )]
    InsecureBind(SocketAddr),
    /// TLS material could not be loaded.
    #[error("TLS: {0}")]
    Tls(String),
    /// Socket error.
    #[error(transparent)]
    Io(#[from] io::Error),
}

async fn not_found() -> ApiError {
    ApiError::not_found("no such route")
}

/// The complete application: the built-in routes, the `extra` routes (the election protocol),
/// the JSON 404 fallback and the middleware stack.
pub fn build_router(state: AppState, extra: Router<AppState>) -> Router {
    let body_limit = state.config.limits.body_limit_bytes;
    crate::routes::routes(&state.config)
        .merge(crate::roll::routes())
        .merge(crate::trustee_mail::routes())
        .merge(extra)
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(from_fn_with_state(
            state.clone(),
            middleware::election_owners,
        ))
        .layer(from_fn_with_state(state.clone(), middleware::timeout))
        .layer(from_fn_with_state(state.clone(), middleware::load_shed))
        .layer(from_fn_with_state(state.clone(), middleware::rate_limit))
        .layer(from_fn(middleware::json_errors))
        .layer(from_fn(middleware::access_log))
        .layer(from_fn_with_state(
            state.clone(),
            middleware::security_headers,
        ))
        .with_state(state)
}

/// Loads a rustls server configuration (ring provider, TLS 1.2 and 1.3, h2 and http/1.1).
pub fn load_tls(tls: &TlsConfig) -> Result<rustls::ServerConfig, ServeError> {
    let certs = CertificateDer::pem_file_iter(&tls.cert)
        .map_err(|e| ServeError::Tls(format!("{}: {e}", tls.cert.display())))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| ServeError::Tls(format!("{}: {e}", tls.cert.display())))?;
    if certs.is_empty() {
        return Err(ServeError::Tls(format!(
            "{}: no certificate",
            tls.cert.display()
        )));
    }
    let key = PrivateKeyDer::from_pem_file(&tls.key)
        .map_err(|e| ServeError::Tls(format!("{}: {e}", tls.key.display())))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| ServeError::Tls(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| ServeError::Tls(e.to_string()))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

/// A server accepting connections in the background.
pub struct RunningServer {
    local_addr: SocketAddr,
    tls: bool,
    handle: Handle<SocketAddr>,
    task: tokio::task::JoinHandle<io::Result<()>>,
}

impl RunningServer {
    /// The bound address (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Whether it speaks HTTPS.
    pub fn is_tls(&self) -> bool {
        self.tls
    }

    /// Stops accepting, lets requests in flight finish for up to `grace`, then returns.
    pub async fn shutdown(self, grace: Duration) -> io::Result<()> {
        self.handle.graceful_shutdown(Some(grace));
        self.task.await.map_err(io::Error::other)?
    }

    /// Waits until the server stops by itself (an accept error).
    pub async fn wait(self) -> io::Result<()> {
        self.task.await.map_err(io::Error::other)?
    }
}

/// Connection settings: HTTP/1 header (and idle keep-alive) timeout; HTTP/2 pings to drop
/// dead peers and a cap on streams per connection.
fn tune(
    builder: &mut hyper_util::server::conn::auto::Builder<hyper_util::rt::TokioExecutor>,
    header_timeout: Duration,
) {
    builder.http1().header_read_timeout(Some(header_timeout));
    builder
        .http2()
        .max_concurrent_streams(100)
        .keep_alive_interval(Some(Duration::from_secs(30)))
        .keep_alive_timeout(Duration::from_secs(10));
}

/// Binds `config.listen` and starts serving `app` in the background.
pub async fn start(config: &ServerConfig, app: Router) -> Result<RunningServer, ServeError> {
    if config.tls.is_none() && !config.listen.ip().is_loopback() && !config.insecure_http {
        return Err(ServeError::InsecureBind(config.listen));
    }
    let tls = match &config.tls {
        Some(t) => Some(RustlsConfig::from_config(Arc::new(load_tls(t)?))),
        None => None,
    };
    let listener = std::net::TcpListener::bind(config.listen)?;
    let local_addr = listener.local_addr()?;
    let handle = Handle::new();
    let header_timeout = Duration::from_secs(config.limits.header_timeout_secs);
    let make = app.into_make_service_with_connect_info::<SocketAddr>();
    let is_tls = tls.is_some();
    let max_conns = config.limits.max_connections;
    let proxies = crate::ratelimit::ProxyList::parse(&config.trusted_proxies)
        .map_err(|e| io::Error::other(format!("trusted_proxies: {e}")))?;
    let limit = conn::LimitAcceptor::new(
        DefaultAcceptor::new(),
        max_conns,
        config.limits.max_connections_per_ip,
        proxies,
    );
    let task = match tls {
        Some(rc) => {
            let acceptor = RustlsAcceptor::new(rc)
                .handshake_timeout(header_timeout)
                .acceptor(limit);
            let mut server = axum_server::from_tcp(listener)?
                .acceptor(acceptor)
                .handle(handle.clone())
                .first_request_timeout(header_timeout);
            tune(server.http_builder(), header_timeout);
            tokio::spawn(server.serve(make))
        }
        None => {
            let mut server = axum_server::from_tcp(listener)?
                .acceptor(limit)
                .handle(handle.clone())
                .first_request_timeout(header_timeout);
            tune(server.http_builder(), header_timeout);
            tokio::spawn(server.serve(make))
        }
    };
    tracing::info!(%local_addr, tls = is_tls, "listening");
    Ok(RunningServer {
        local_addr,
        tls: is_tls,
        handle,
        task,
    })
}

/// Serves until Ctrl-C or SIGTERM, then shuts down gracefully (10 s for requests in flight).
pub async fn serve(config: &ServerConfig, app: Router) -> Result<(), ServeError> {
    let server = start(config, app).await?;
    shutdown_signal().await;
    tracing::info!("shutting down");
    server.shutdown(Duration::from_secs(10)).await?;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
