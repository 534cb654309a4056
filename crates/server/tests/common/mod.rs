//! Shared helpers of the integration tests: a real server on a loopback port in a temp dir.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, dead_code)]

pub mod cluster;
pub mod election;
pub mod pg;

use std::path::PathBuf;
use std::time::Duration;

use axum::Router;
use scrutin_server::storage::{ElectionMeta, ElectionState, blocking, now};
use scrutin_server::{AppState, RunningServer, ServerConfig, auth, build_router, start};

pub const ADMIN: &str = "official";
pub const ADMIN_PASSWORD: &str = "correct horse battery staple";

pub struct TestServer {
    pub server: Option<RunningServer>,
    pub state: AppState,
    pub dir: tempfile::TempDir,
    pub base: String,
    pub client: reqwest::Client,
    /// The PostgreSQL database of the server, dropped after it (SQLite when `None`).
    pub db: Option<pg::TestDatabase>,
}

pub fn test_config(dir: &std::path::Path) -> ServerConfig {
    let mut config = ServerConfig {
        data_dir: dir.join("data"),
        listen: "127.0.0.1:0".parse().unwrap(),
        ..ServerConfig::default()
    };
    config.mail.outbox = Some(dir.join("outbox"));
    config.limits.per_ip_burst = 10_000;
    config.limits.per_ip_rate_per_sec = 10_000.0;
    config
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

impl TestServer {
    pub async fn start() -> Self {
        Self::start_with(|_| {}, Router::new()).await
    }

    pub async fn start_with(
        tweak: impl FnOnce(&mut ServerConfig),
        extra: Router<AppState>,
    ) -> Self {
        Self::start_on(None, tweak, extra).await
    }

    /// A server on the PostgreSQL database `db`, or on SQLite in its data folder.
    pub async fn start_on(
        db: Option<pg::TestDatabase>,
        tweak: impl FnOnce(&mut ServerConfig),
        extra: Router<AppState>,
    ) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut config = test_config(dir.path());
        config.database = db.as_ref().map(|db| db.url.clone());
        tweak(&mut config);
        let state = AppState::open(config.clone()).unwrap();
        let st = state.storage.clone();
        blocking(&st, |s| {
            auth::create_admin(s, ADMIN, ADMIN_PASSWORD)
                .map_err(|e| scrutin_server::storage::StorageError::Backend(e.to_string()))
        })
        .await
        .unwrap();
        let app = build_router(state.clone(), extra);
        let server = start(&config, app).await.unwrap();
        let base = format!("http://{}", server.local_addr());
        Self {
            server: Some(server),
            state,
            dir,
            base,
            client: client(),
            db,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub fn outbox(&self) -> PathBuf {
        self.dir.path().join("outbox")
    }

    /// Creates an election directly in storage, in the given state.
    pub async fn election(&self, id: &str, state: ElectionState) {
        let meta = ElectionMeta {
            id: id.to_owned(),
            state: ElectionState::Draft,
            description_toml: "name = \"test\"".to_owned(),
            opens_at: None,
            closes_at: None,
            created_at: now(),
        };
        let id = id.to_owned();
        blocking(&self.state.storage, move |s| {
            s.create_election(&meta)?;
            if state != ElectionState::Draft {
                s.set_election_state(&id, ElectionState::Draft, state)?;
            }
            Ok(())
        })
        .await
        .unwrap();
    }

    pub async fn admin_token(&self) -> String {
        let r = self
            .client
            .post(self.url("/api/admin/login"))
            .json(&serde_json::json!({"username": ADMIN, "password": ADMIN_PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let v: serde_json::Value = r.json().await.unwrap();
        v["token"].as_str().unwrap().to_owned()
    }

    pub async fn stop(&mut self) {
        if let Some(s) = self.server.take() {
            s.shutdown(Duration::from_secs(5)).await.unwrap();
        }
    }
}

/// Checks the security headers of a response.
pub fn assert_security_headers(r: &reqwest::Response, tls: bool) {
    let h = r.headers();
    let get = |n: &str| {
        h.get(n)
            .unwrap_or_else(|| panic!("missing {n} on {} {}", r.status(), r.url()))
            .to_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(
        get("content-security-policy"),
        scrutin_server::http::middleware::CSP
    );
    assert!(get("content-security-policy").contains("frame-ancestors 'none'"));
    assert_eq!(get("x-content-type-options"), "nosniff");
    assert_eq!(get("referrer-policy"), "no-referrer");
    assert_eq!(get("x-frame-options"), "DENY");
    assert!(!get("permissions-policy").is_empty());
    assert_eq!(h.contains_key("strict-transport-security"), tls);
}

/// Reads a JSON error body and checks its shape; returns the error code.
pub async fn json_error(r: reqwest::Response) -> (u16, String, serde_json::Value) {
    let status = r.status().as_u16();
    assert!(status >= 400, "status {status}");
    let ct = r
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    assert!(ct.starts_with("application/json"), "content-type {ct}");
    let v: serde_json::Value = r.json().await.unwrap();
    let code = v["error"].as_str().expect("error field").to_owned();
    assert!(v["message"].is_string(), "message field in {v}");
    (status, code, v)
}
