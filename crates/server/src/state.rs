//! Shared application state handed to every handler.
//!
//! Invariant: one `AppState` per server; cloning it clones `Arc`s only. The election protocol
//! integration adds its own fields here (e.g. a cache of election parameters) and its routes
//! through [`crate::http::build_router`]'s `extra` argument.

use std::net::IpAddr;
use std::sync::Arc;

use tokio::sync::Semaphore;

use scrutin_election::crypto::rng::os_rng;
use scrutin_election::roles::{Role as KeyRole, RoleKey};

use crate::board::Board;
use crate::config::ServerConfig;
use crate::mail::{MailError, Mailer};
use crate::ratelimit::{KeyedLimiter, ProxyList};
use crate::storage::{SharedStorage, StorageError};

/// Errors while assembling the state.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// The configuration is invalid.
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    /// The database could not be opened.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// The mailer could not be built.
    #[error(transparent)]
    Mail(#[from] MailError),
    /// The board key could not be read or created.
    #[error("board key {path}: {message}")]
    BoardKey { path: String, message: String },
}

/// The name of the board key's file in the data folder.
pub const BOARD_KEY_FILE: &str = "board-key.json";

/// Reads the server's board key (§14) from `path`, or draws one and writes it there
/// (mode 0600) if the file does not exist. The key signs receipts and heads; its public
/// half goes into every election this server creates.
pub fn load_or_create_board_key(path: &std::path::Path) -> Result<RoleKey, StateError> {
    let err = |message: String| StateError::BoardKey {
        path: path.display().to_string(),
        message,
    };
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let key = RoleKey::from_json(&text).map_err(|e| err(e.to_string()))?;
            if key.role != KeyRole::Board {
                return Err(err(format!(
                    "this is a {} key, not a board key",
                    key.role.name()
                )));
            }
            Ok(key)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let key = RoleKey::generate(KeyRole::Board, "board", &mut os_rng());
            let text = serde_json::to_string_pretty(&key).map_err(|e| err(e.to_string()))?;
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir).map_err(|e| err(e.to_string()))?;
            }
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let mut file = options.open(path).map_err(|e| err(e.to_string()))?;
            std::io::Write::write_all(&mut file, text.as_bytes())
                .and_then(|()| file.sync_all())
                .map_err(|e| err(e.to_string()))?;
            tracing::info!(fingerprint = %key.fingerprint(), "created the board key");
            Ok(key)
        }
        Err(e) => Err(err(e.to_string())),
    }
}

/// Rate limiters and the concurrency gate, shared by the middleware and handlers.
pub struct Guards {
    /// The reverse proxies whose `X-Forwarded-For` is believed.
    pub proxies: ProxyList,
    /// Per client address (IPv6 by /64).
    pub per_ip: KeyedLimiter<IpAddr>,
    /// Requests for a one-time code per (election, login, client address): one client
    /// cannot use up the login's hourly sends (the send limit per login is in storage).
    pub otp_requests: KeyedLimiter<(String, String, IpAddr)>,
    /// Admin login attempts per (user name, client address): password guessing is slowed
    /// without letting a stranger lock an official out from everywhere.
    pub admin_logins: KeyedLimiter<(String, IpAddr)>,
    /// Admin login attempts per client address, whatever the names tried.
    pub admin_logins_per_ip: KeyedLimiter<IpAddr>,
    /// Ballots cast per voter session (keyed by the session's token hash).
    pub ballots_per_session: KeyedLimiter<String>,
    /// Permits for requests in flight.
    pub in_flight: Arc<Semaphore>,
    /// Permits for login codes being looked up, issued and queued after their request was
    /// answered.
    pub code_issuance: Arc<Semaphore>,
    /// Permits for argon2 verifications (19 MiB and most of a core each): an attempt that
    /// finds none is refused at once, so a login flood cannot take the CPU.
    pub password_checks: Arc<Semaphore>,
}

impl Guards {
    /// Limiters sized from the configuration (already validated).
    pub fn new(config: &ServerConfig) -> Self {
        let l = &config.limits;
        fn per_hour<K: std::hash::Hash + Eq + Clone>(n: u32, keys: usize) -> KeyedLimiter<K> {
            KeyedLimiter::new(f64::from(n) / 3600.0, n, keys)
        }
        let keys = l.max_tracked_clients;
        Self {
            proxies: ProxyList::parse(&config.trusted_proxies).unwrap_or_default(),
            per_ip: KeyedLimiter::new(l.per_ip_rate_per_sec, l.per_ip_burst, l.max_tracked_clients),
            otp_requests: per_hour(config.otp.max_sends_per_client_per_hour, keys),
            admin_logins: per_hour(10, keys),
            admin_logins_per_ip: per_hour(l.admin_logins_per_ip_per_hour, keys),
            ballots_per_session: per_hour(l.max_ballots_per_session_per_hour, keys),
            in_flight: Arc::new(Semaphore::new(l.max_concurrent_requests)),
            code_issuance: Arc::new(Semaphore::new(l.max_concurrent_requests)),
            password_checks: Arc::new(Semaphore::new(l.max_concurrent_password_checks)),
        }
    }
}

/// The state of a running server.
#[derive(Clone)]
pub struct AppState {
    /// Configuration.
    pub config: Arc<ServerConfig>,
    /// Database.
    pub storage: SharedStorage,
    /// Serialized appends to election records.
    pub board: Arc<Board>,
    /// Outgoing mail.
    pub mailer: Arc<Mailer>,
    /// Limiters.
    pub guards: Arc<Guards>,
    /// Verified state of each election's record (the protocol).
    pub elections: Arc<crate::protocol::Elections>,
    /// The board key: signs receipts and heads (§14).
    pub board_key: Arc<RoleKey>,
}

impl AppState {
    /// Assembles the state from a configuration and an open storage.
    pub fn new(config: ServerConfig, storage: SharedStorage) -> Result<Self, StateError> {
        config.validate()?;
        let mailer = Mailer::new(&config, Arc::clone(&storage))?;
        let board_key = load_or_create_board_key(&config.data_dir.join(BOARD_KEY_FILE))?;
        Ok(Self {
            board_key: Arc::new(board_key),
            guards: Arc::new(Guards::new(&config)),
            config: Arc::new(config),
            board: Arc::new(Board::new(Arc::clone(&storage))),
            storage,
            mailer: Arc::new(mailer),
            elections: Arc::new(crate::protocol::Elections::default()),
        })
    }

    /// Starts the background upkeep: every `every`, expired sessions are purged. The task
    /// ends when the returned handle is aborted or dropped with the runtime.
    pub fn spawn_maintenance(&self, every: std::time::Duration) -> tokio::task::JoinHandle<()> {
        let storage = Arc::clone(&self.storage);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                let now = crate::storage::now();
                match crate::storage::blocking(&storage, move |s| s.purge_expired_sessions(now))
                    .await
                {
                    Ok(n) if n > 0 => tracing::info!(purged = n, "expired sessions purged"),
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "session purge failed"),
                }
            }
        })
    }

    /// Opens the storage (`config.database`, or SQLite in `config.data_dir`) and assembles
    /// the state. Mails left `queued` by a previous run are marked failed (they were never
    /// handed over).
    pub fn open(config: ServerConfig) -> Result<Self, StateError> {
        config.validate()?;
        // The data folder holds the board key and the outbox whatever the database.
        crate::private_files::ensure_private_dir(&config.data_dir)
            .map_err(|e| StorageError::Backend(e.to_string()))?;
        let storage = crate::storage::open(config.database.as_deref(), &config.data_dir)?;
        let stale = storage.fail_queued_mails(
            "server restarted before delivery; the voter can request a new code",
            crate::storage::now(),
        )?;
        if stale > 0 {
            tracing::warn!(mails = stale, "mails queued before restart marked failed");
        }
        Self::new(config, storage)
    }
}
