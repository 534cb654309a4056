//! PostgreSQL for the tests: `SCRUTIN_TEST_POSTGRES` names a server and a role that may
//! create databases; each test gets a fresh database of its own, dropped afterwards. Unset,
//! the PostgreSQL variants say loudly that they were skipped and pass, unless
//! `SCRUTIN_REQUIRE_POSTGRES=1` (CI), where they fail.

use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};

/// The server's URL, or `None` (after a loud line) when the PostgreSQL variant of `test`
/// is to be skipped.
pub fn server_url(test: &str) -> Option<String> {
    match std::env::var("SCRUTIN_TEST_POSTGRES") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            assert!(
                std::env::var("SCRUTIN_REQUIRE_POSTGRES").as_deref() != Ok("1"),
                "SCRUTIN_REQUIRE_POSTGRES=1 but SCRUTIN_TEST_POSTGRES is not set ({test})"
            );
            // Written past the test harness's capture, so that it shows in every run.
            let _ = writeln!(
                std::io::stderr(),
                "\n**** {test}: skipped: set SCRUTIN_TEST_POSTGRES=postgresql://user:password@host/postgres \
                 (a role that may create databases) to run it on PostgreSQL ****\n"
            );
            None
        }
    }
}

/// `url` with its database name replaced by `name`.
pub fn with_database(url: &str, name: &str) -> String {
    let (scheme, rest) = url.split_once("://").expect("a postgresql:// URL");
    let (authority, query) = match rest.split_once('/') {
        Some((authority, path)) => (authority, path.split_once('?').map(|(_, q)| q)),
        None => match rest.split_once('?') {
            Some((authority, q)) => (authority, Some(q)),
            None => (rest, None),
        },
    };
    match query {
        Some(q) => format!("{scheme}://{authority}/{name}?{q}"),
        None => format!("{scheme}://{authority}/{name}"),
    }
}

/// Runs SQL statements on the database at `url` from a thread of its own (so that it works
/// from async tests too).
pub fn admin_sql(url: &str, sql: &str) -> Result<(), String> {
    let (url, sql) = (url.to_owned(), sql.to_owned());
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
                .await
                .map_err(|e| e.to_string())?;
            let task = tokio::spawn(conn);
            let r = client.batch_execute(&sql).await.map_err(|e| {
                e.as_db_error()
                    .map(|d| d.message().to_owned())
                    .unwrap_or_else(|| e.to_string())
            });
            drop(client);
            let _ = task.await;
            r
        })
    })
    .join()
    .unwrap()
}

/// A database created for one test and dropped with this value.
pub struct TestDatabase {
    server: String,
    pub name: String,
    /// Its URL, with the role of `SCRUTIN_TEST_POSTGRES`.
    pub url: String,
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// A random suffix for names in a cluster that other test processes share.
pub fn unique(prefix: &str) -> String {
    let mut b = [0u8; 6];
    getrandom::fill(&mut b).unwrap();
    format!(
        "{prefix}_{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        hex::encode(b)
    )
}

impl TestDatabase {
    /// A fresh database, or `None` when PostgreSQL tests are skipped.
    pub fn create(test: &str) -> Option<Self> {
        let server = server_url(test)?;
        let name = unique("scrutin_test");
        admin_sql(&server, &format!("CREATE DATABASE {name}"))
            .unwrap_or_else(|e| panic!("cannot create the test database {name}: {e}"));
        let url = with_database(&server, &name);
        Some(Self { server, name, url })
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Err(e) = admin_sql(
            &self.server,
            &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
        ) {
            eprintln!("cannot drop the test database {}: {e}", self.name);
        }
    }
}
