//! Server configuration: one TOML file, every key documented, every field public so that a
//! command line can override what it was given.
//!
//! Invariants, checked by [`ServerConfig::validate`] (which [`ServerConfig::load`] and
//! [`ServerConfig::from_toml_str`] call): every limit is positive, TLS has both a certificate
//! and a key or neither, SMTP and the dry-run outbox are never both selected, and the one-time
//! code policy stays within 6–8 digits. Unknown keys are an error, so a typo never silently
//! falls back to a default.
//!
//! A complete file, every key with its default (`config.example.toml` beside the crate's
//! `Cargo.toml`, checked by a test):
//!
#![doc = concat!("```toml\n", include_str!("../config.example.toml"), "```")]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// Why a configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not valid TOML for this schema.
    #[error("invalid configuration: {0}")]
    Parse(#[from] toml::de::Error),
    /// The values are inconsistent.
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

/// The whole server configuration. See the module documentation for every key.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Directory of `board.sqlite` and `private.sqlite` (with SQLite), of the board key and,
    /// without SMTP, of the dry-run outbox.
    pub data_dir: PathBuf,
    /// A PostgreSQL database instead of SQLite, e.g.
    /// `"postgresql://scrutin:secret@db.internal:5432/scrutin"`: several server nodes may
    /// share it. Unset: SQLite files in `data_dir`.
    pub database: Option<String>,
    /// Listening address.
    pub listen: SocketAddr,
    /// Base URL shown to voters, without trailing slash.
    pub public_url: String,
    /// Allow plain HTTP on a non-loopback address.
    pub insecure_http: bool,
    /// Reverse proxies (addresses or CIDR blocks, e.g. `"127.0.0.1"`, `"10.0.0.0/8"`) whose
    /// `X-Forwarded-For` is believed: the client address is the last entry that is not one of
    /// them. From any other peer the header is ignored. Empty: never believed.
    pub trusted_proxies: Vec<String>,
    /// TLS certificate and key; HTTPS when present.
    pub tls: Option<TlsConfig>,
    /// Outgoing mail.
    pub mail: MailConfig,
    /// Request limits.
    pub limits: Limits,
    /// Voter one-time code policy.
    pub otp: OtpPolicy,
    /// Session lifetimes.
    pub sessions: SessionPolicy,
    /// When a checkpoint of an election's verified state is written.
    pub checkpoints: CheckpointPolicy,
    /// Serve the web pages from this folder (a copy of `web/`) instead of the files built
    /// into the binary: to edit pages or translations without rebuilding.
    pub web_dir: Option<PathBuf>,
}

/// PEM files of the TLS certificate chain and private key.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    /// Certificate chain, PEM.
    pub cert: PathBuf,
    /// Private key, PEM.
    pub key: PathBuf,
}

/// Outgoing mail: SMTP or a dry-run outbox directory.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct MailConfig {
    /// `From:` header.
    pub from: String,
    /// Dry-run directory.
    pub outbox: Option<PathBuf>,
    /// SMTP relay.
    pub smtp: Option<SmtpConfig>,
    /// Deliveries in flight at once.
    pub max_concurrent_sends: usize,
}

/// How to reach the SMTP relay.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SmtpConfig {
    /// Host name (also the TLS server name).
    pub host: String,
    /// Port.
    #[serde(default = "default_smtp_port")]
    pub port: u16,
    /// Transport security.
    #[serde(default)]
    pub security: SmtpSecurity,
    /// Login, if the relay wants one.
    #[serde(default)]
    pub username: Option<String>,
    /// Password, if the relay wants one.
    #[serde(default)]
    pub password: Option<String>,
    /// Connection and command timeout.
    #[serde(default = "default_smtp_timeout")]
    pub timeout_secs: u64,
}

fn default_smtp_port() -> u16 {
    587
}
fn default_smtp_timeout() -> u64 {
    30
}

/// SMTP transport security.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum SmtpSecurity {
    /// Plain connection upgraded with STARTTLS (required, not opportunistic).
    #[default]
    Starttls,
    /// Implicit TLS from the first byte.
    Tls,
    /// No encryption at all: only for a local sink or a relay on the same host.
    Plain,
}

/// Request limits.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Largest request body for JSON routes.
    pub body_limit_bytes: usize,
    /// Largest voter-list upload.
    pub voter_list_limit_bytes: usize,
    /// Most lines in one voter-list upload.
    pub voter_list_max_lines: usize,
    /// Time limit of one request.
    pub request_timeout_secs: u64,
    /// Time a client has to finish the TLS handshake, its first request's headers and each
    /// request's headers (slow-header attacks are cut off after this).
    pub header_timeout_secs: u64,
    /// Requests in flight; more are shed with 503.
    pub max_concurrent_requests: usize,
    /// Open connections; more are closed at once.
    pub max_connections: usize,
    /// Open connections from one client address (IPv6 by /64; trusted proxies exempt).
    pub max_connections_per_ip: usize,
    /// Token-bucket refill rate per client address, tokens per second.
    pub per_ip_rate_per_sec: f64,
    /// Token-bucket capacity per client address.
    pub per_ip_burst: u32,
    /// Most client addresses tracked by the limiter.
    pub max_tracked_clients: usize,
    /// Ballots one credential may cast in an election (re-votes included); the last one
    /// counts, later ones are refused.
    pub max_ballots_per_credential: u32,
    /// Ballots one voter session may cast per hour.
    pub max_ballots_per_session_per_hour: u32,
    /// Administrator login attempts from one client address per hour, whatever the names
    /// tried (each attempt costs an argon2 verification).
    pub admin_logins_per_ip_per_hour: u32,
    /// Argon2 password verifications running at once; more attempts get 503 at once.
    pub max_concurrent_password_checks: usize,
}

/// Voter one-time code policy.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct OtpPolicy {
    /// Number of decimal digits, 6 to 8.
    pub digits: u32,
    /// Lifetime of a code in seconds.
    pub ttl_secs: u64,
    /// Wrong codes one client may type for one login in an hour; then that client (only)
    /// is refused for the rest of the hour.
    pub max_attempts: u32,
    /// Codes sent per login per election per hour, whoever asks; the code that reaches
    /// this limit stays valid for the hour.
    pub max_sends_per_hour: u32,
    /// Code requests one client may make for one login per hour.
    pub max_sends_per_client_per_hour: u32,
    /// Wrong codes for one login from all clients together in an hour, after which
    /// attempts for that login are refused for the rest of the hour (a bound on guessing
    /// from many addresses).
    pub max_failures_per_login: u32,
}

/// Session lifetimes.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct SessionPolicy {
    /// Admin token lifetime in seconds.
    pub admin_ttl_secs: u64,
    /// Voter token lifetime in seconds.
    pub voter_ttl_secs: u64,
}

/// When a node writes a checkpoint of an election's verified state (crate `scrutin_election`,
/// module `checkpoint`): after an append, once both `every_lines` lines and `every_secs`
/// seconds have passed since its last one, in the background; and at graceful shutdown.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct CheckpointPolicy {
    /// Lines appended since the last checkpoint (at least 1).
    pub every_lines: u64,
    /// Seconds since the last checkpoint.
    pub every_secs: u64,
}

impl Default for CheckpointPolicy {
    fn default() -> Self {
        Self {
            every_lines: 5000,
            every_secs: 60,
        }
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("data"),
            database: None,
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            public_url: "http://127.0.0.1:8080".to_owned(),
            insecure_http: false,
            trusted_proxies: Vec::new(),
            tls: None,
            mail: MailConfig::default(),
            limits: Limits::default(),
            otp: OtpPolicy::default(),
            web_dir: None,
            sessions: SessionPolicy::default(),
            checkpoints: CheckpointPolicy::default(),
        }
    }
}

impl Default for MailConfig {
    fn default() -> Self {
        Self {
            from: "scrutin <noreply@localhost>".to_owned(),
            outbox: None,
            smtp: None,
            max_concurrent_sends: 8,
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            body_limit_bytes: 1024 * 1024,
            voter_list_limit_bytes: 16 * 1024 * 1024,
            voter_list_max_lines: 1_000_000,
            request_timeout_secs: 30,
            header_timeout_secs: 10,
            max_concurrent_requests: 256,
            max_connections: 4096,
            max_connections_per_ip: 64,
            per_ip_rate_per_sec: 20.0,
            per_ip_burst: 100,
            max_tracked_clients: 100_000,
            max_ballots_per_credential: 20,
            max_ballots_per_session_per_hour: 10,
            admin_logins_per_ip_per_hour: 30,
            max_concurrent_password_checks: 2,
        }
    }
}

impl Default for OtpPolicy {
    fn default() -> Self {
        Self {
            digits: 8,
            ttl_secs: 15 * 60,
            max_attempts: 5,
            max_sends_per_hour: 5,
            max_sends_per_client_per_hour: 3,
            max_failures_per_login: 100,
        }
    }
}

impl Default for SessionPolicy {
    fn default() -> Self {
        Self {
            admin_ttl_secs: 8 * 3600,
            voter_ttl_secs: 3600,
        }
    }
}

impl ServerConfig {
    /// Reads and validates a TOML file.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::from_toml_str(&text)
    }

    /// Parses and validates TOML text.
    pub fn from_toml_str(text: &str) -> Result<Self, ConfigError> {
        let config: Self = toml::from_str(text)?;
        config.validate()?;
        Ok(config)
    }

    /// Checks the invariants listed in the module documentation.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let bad = |m: &str| Err(ConfigError::Invalid(m.to_owned()));
        let l = &self.limits;
        if l.body_limit_bytes == 0 || l.voter_list_limit_bytes == 0 || l.voter_list_max_lines == 0 {
            return bad("size limits must be positive");
        }
        if l.request_timeout_secs == 0 {
            return bad("limits.request_timeout_secs must be positive");
        }
        if l.max_concurrent_requests == 0 || l.max_connections == 0 {
            return bad(
                "limits.max_concurrent_requests and limits.max_connections must be positive",
            );
        }
        if !(l.per_ip_rate_per_sec.is_finite() && l.per_ip_rate_per_sec > 0.0) {
            return bad("limits.per_ip_rate_per_sec must be a positive number");
        }
        if l.per_ip_burst == 0 || l.max_tracked_clients == 0 {
            return bad("limits.per_ip_burst and limits.max_tracked_clients must be positive");
        }
        if !(6..=8).contains(&self.otp.digits) {
            return bad("otp.digits must be between 6 and 8");
        }
        if l.header_timeout_secs == 0 || l.max_connections_per_ip == 0 {
            return bad(
                "limits.header_timeout_secs and limits.max_connections_per_ip must be positive",
            );
        }
        if l.max_ballots_per_credential == 0
            || l.max_ballots_per_session_per_hour == 0
            || l.admin_logins_per_ip_per_hour == 0
            || l.max_concurrent_password_checks == 0
        {
            return bad("limits on ballots, admin logins and password checks must be positive");
        }
        let o = &self.otp;
        if o.ttl_secs == 0
            || o.max_attempts == 0
            || o.max_sends_per_hour == 0
            || o.max_sends_per_client_per_hour == 0
            || o.max_failures_per_login == 0
        {
            return bad("otp values must be positive");
        }
        if let Err(e) = crate::ratelimit::ProxyList::parse(&self.trusted_proxies) {
            return Err(ConfigError::Invalid(format!("trusted_proxies: {e}")));
        }
        if self.checkpoints.every_lines == 0 {
            return Err(ConfigError::Invalid(
                "checkpoints.every_lines must be at least 1".into(),
            ));
        }
        if self.sessions.admin_ttl_secs == 0 || self.sessions.voter_ttl_secs == 0 {
            return bad("session lifetimes must be positive");
        }
        if self.mail.outbox.is_some() && self.mail.smtp.is_some() {
            return bad("mail.outbox and mail.smtp are exclusive");
        }
        if self.mail.max_concurrent_sends == 0 {
            return bad("mail.max_concurrent_sends must be positive");
        }
        if let Some(url) = &self.database
            && !valid_database_url(url)
        {
            return bad("database must be a postgresql:// or postgres:// URL without spaces");
        }
        if self.public_url.ends_with('/') {
            return bad("public_url must not end with '/'");
        }
        if !(self.public_url.starts_with("https://") || self.public_url.starts_with("http://"))
            || self
                .public_url
                .chars()
                .any(|c| c.is_whitespace() || c.is_control())
        {
            return bad("public_url must be an http:// or https:// URL without spaces");
        }
        Ok(())
    }

    /// Where dry-run mails go, if mail is not sent over SMTP.
    pub fn outbox_dir(&self) -> Option<PathBuf> {
        match (&self.mail.smtp, &self.mail.outbox) {
            (Some(_), _) => None,
            (None, Some(dir)) => Some(dir.clone()),
            (None, None) => Some(self.data_dir.join("outbox")),
        }
    }
}

/// A PostgreSQL URL: the scheme, then something, without spaces or control characters.
fn valid_database_url(url: &str) -> bool {
    let rest = url
        .strip_prefix("postgresql://")
        .or_else(|| url.strip_prefix("postgres://"));
    rest.is_some_and(|r| !r.is_empty()) && !url.chars().any(|c| c.is_whitespace() || c.is_control())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn defaults_validate() {
        ServerConfig::default().validate().unwrap();
        let c = ServerConfig::from_toml_str("").unwrap();
        assert_eq!(c, ServerConfig::default());
    }

    #[test]
    fn example_file_parses_with_defaults() {
        let c = ServerConfig::from_toml_str(include_str!("../config.example.toml")).unwrap();
        let d = ServerConfig::default();
        assert_eq!(c.limits, d.limits);
        assert_eq!(c.otp, d.otp);
        assert_eq!(c.sessions, d.sessions);
        assert_eq!(c.checkpoints, d.checkpoints);
        assert_eq!(c.data_dir, d.data_dir);
        assert!(c.tls.is_some() && c.mail.smtp.is_some());
    }

    #[test]
    fn module_doc_example_parses() {
        let text = "data_dir = \"d\"\nlisten = \"0.0.0.0:443\"\n[tls]\ncert = \"c\"\nkey = \"k\"\n\
                    [mail.smtp]\nhost = \"h\"\nsecurity = \"tls\"\n[otp]\ndigits = 6\n";
        let c = ServerConfig::from_toml_str(text).unwrap();
        assert_eq!(c.otp.digits, 6);
        assert_eq!(c.mail.smtp.unwrap().security, SmtpSecurity::Tls);
    }

    #[test]
    fn unknown_keys_and_bad_values_rejected() {
        assert!(ServerConfig::from_toml_str("data_dri = \"x\"").is_err());
        assert!(ServerConfig::from_toml_str("[otp]\ndigits = 4").is_err());
        assert!(ServerConfig::from_toml_str("public_url = \"javascript:x\"").is_err());
        assert!(ServerConfig::from_toml_str("public_url = \"https://a/\"").is_err());
        assert!(ServerConfig::from_toml_str("[limits]\nper_ip_rate_per_sec = nan").is_err());
        assert!(
            ServerConfig::from_toml_str("[mail]\noutbox = \"o\"\n[mail.smtp]\nhost = \"h\"")
                .is_err()
        );
    }

    #[test]
    fn database_is_a_postgresql_url() {
        assert_eq!(ServerConfig::default().database, None);
        let c =
            ServerConfig::from_toml_str("database = \"postgresql://u:p@db:5432/scrutin\"").unwrap();
        assert_eq!(
            c.database.as_deref(),
            Some("postgresql://u:p@db:5432/scrutin")
        );
        ServerConfig::from_toml_str("database = \"postgres://db/scrutin\"").unwrap();
        for bad in [
            "mysql://db/scrutin",
            "postgresql://",
            "postgresql://db/ scrutin",
            "/var/lib/scrutin/db.sqlite",
            "",
        ] {
            let text = format!("database = {bad:?}");
            assert!(
                matches!(
                    ServerConfig::from_toml_str(&text),
                    Err(ConfigError::Invalid(m)) if m.contains("database")
                ),
                "{bad} accepted"
            );
        }
    }
}
