//! `scrutin serve`: the voting server (bulletin board, election lifecycle, roles over HTTP)
//! on an embedded SQLite database or a PostgreSQL database shared by several nodes, and the
//! creation of its first administrator account.

use std::io::BufRead;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::Args;
use scrutin_server::config::TlsConfig;
use scrutin_server::{AppState, ServerConfig, auth, build_router, protocol};

#[derive(Args)]
pub struct ServeArgs {
    /// Folder of the databases (board.sqlite: public record; private.sqlite: voters,
    /// accounts, audit log) and, without SMTP, of the dry-run mail outbox. Overrides
    /// `data_dir` of the configuration file. Default: ./data
    #[arg(long, value_name = "DIR")]
    pub data: Option<PathBuf>,
    /// A PostgreSQL database instead of the SQLite files, e.g.
    /// postgresql://scrutin:secret@db.internal/scrutin (several servers may share it; the
    /// board key stays in --data). Overrides `database` of the configuration file.
    #[arg(long, value_name = "URL")]
    pub database: Option<String>,
    /// Address and port to listen on, e.g. 127.0.0.1:8080 (plain HTTP is allowed on
    /// loopback only, unless insecure_http is set in the configuration). Overrides `listen`.
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<SocketAddr>,
    /// A TOML configuration file (every key is documented in
    /// crates/server/config.example.toml); flags override it.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// PEM certificate chain: serve HTTPS (with --tls-key).
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key of --tls-cert.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Base URL voters see in mails (default: http(s)://ADDR of --listen).
    #[arg(long, value_name = "URL")]
    pub public_url: Option<String>,
    /// Create the administrator account NAME and exit. The password (at least 12
    /// characters) is read from the SCRUTIN_ADMIN_PASSWORD environment variable, or else
    /// from the first line of the standard input.
    #[arg(long, value_name = "NAME")]
    pub create_admin: Option<String>,
    /// With --create-admin: `server` (the default) sees and acts on every election and
    /// creates the other accounts; `official` acts only on the elections they create.
    #[arg(long, value_name = "ROLE", default_value = "server", requires = "create_admin", value_parser = ["server", "official"])]
    pub role: String,
    /// Serve the web pages from this folder (scrutin's web/) instead of the copy built into
    /// the binary, to edit pages or translations without rebuilding. Overrides `web_dir`.
    #[arg(long, value_name = "DIR")]
    pub web_dir: Option<PathBuf>,
}

/// The configuration the flags ask for.
pub fn config(args: &ServeArgs) -> Result<ServerConfig> {
    let mut config = match &args.config {
        Some(path) => {
            ServerConfig::load(path).with_context(|| format!("cannot load {}", path.display()))?
        }
        None => ServerConfig::default(),
    };
    if let Some(d) = &args.data {
        config.data_dir = d.clone();
    }
    if let Some(url) = &args.database {
        config.database = Some(url.clone());
    }
    if let (Some(cert), Some(key)) = (&args.tls_cert, &args.tls_key) {
        config.tls = Some(TlsConfig {
            cert: cert.clone(),
            key: key.clone(),
        });
    }
    if let Some(l) = args.listen {
        config.listen = l;
        if args.config.is_none() && args.public_url.is_none() {
            let scheme = if config.tls.is_some() {
                "https"
            } else {
                "http"
            };
            config.public_url = format!("{scheme}://{l}");
        }
    }
    if let Some(u) = &args.public_url {
        config.public_url = u.trim_end_matches('/').to_owned();
    }
    if let Some(d) = &args.web_dir {
        config.web_dir = Some(d.clone());
    }
    config.validate()?;
    Ok(config)
}

pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("SCRUTIN_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

/// The whole application: built-in routes and the protocol's.
pub fn app(state: &AppState) -> axum::Router {
    build_router(state.clone(), protocol::api::routes())
}

/// Starts the background tasks of a server: session purge and the election scheduler.
pub fn spawn_background(state: &AppState) {
    state.spawn_maintenance(Duration::from_secs(600));
    protocol::spawn_scheduler(state.clone(), Duration::from_secs(5));
}

pub fn run(args: &ServeArgs) -> Result<()> {
    check(args)?;
    let config = config(args)?;
    if let Some(name) = &args.create_admin {
        let password = match std::env::var("SCRUTIN_ADMIN_PASSWORD") {
            Ok(p) => p,
            Err(_) => {
                eprintln!("Password for {name} (at least 12 characters), then Enter:");
                let mut line = String::new();
                std::io::stdin()
                    .lock()
                    .read_line(&mut line)
                    .context("cannot read the password")?;
                line.trim_end_matches(['\r', '\n']).to_owned()
            }
        };
        let storage = scrutin_server::storage::open(config.database.as_deref(), &config.data_dir)?;
        let role = scrutin_server::storage::AdminRole::parse(&args.role)
            .context("--role is server or official")?;
        auth::create_account(storage.as_ref(), name, &password, role)?;
        let what = match role {
            scrutin_server::storage::AdminRole::Server => "Server administrator",
            scrutin_server::storage::AdminRole::Official => "Election official",
        };
        match &config.database {
            Some(_) => println!("{what} {name} created in the PostgreSQL database."),
            None => println!("{what} {name} created in {}.", config.data_dir.display()),
        }
        return Ok(());
    }
    init_logging();
    let rt = runtime()?;
    rt.block_on(async {
        let state = AppState::open(config.clone())?;
        spawn_background(&state);
        let scheme = if config.tls.is_some() {
            "https"
        } else {
            "http"
        };
        eprintln!(
            "scrutin serving on {scheme}://{} (data in {})",
            config.listen,
            config.data_dir.display()
        );
        scrutin_server::serve(&config, app(&state)).await?;
        // Requests have finished: a checkpoint of each election's state lets the next
        // start skip verifying the records again.
        state.elections.checkpoint_all(&state).await;
        Ok::<(), anyhow::Error>(())
    })?;
    Ok(())
}

/// Refuses flags that make no sense together.
pub fn check(args: &ServeArgs) -> Result<()> {
    if args.create_admin.is_some() && (args.tls_cert.is_some() || args.listen.is_some()) {
        bail!("--create-admin only creates the account: drop --listen and --tls-*");
    }
    Ok(())
}
