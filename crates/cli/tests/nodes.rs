//! Availability with real processes (issue 10): several `scrutin serve` nodes on one
//! PostgreSQL database behind nginx, a node killed with SIGKILL under load, and the failover
//! of a PostgreSQL primary to its synchronous standby under load. The voters are played by
//! `scrutin loadtest`, which fails unless every voter got a receipt, every receipt is on the
//! record, and the record verifies.
//!
//! Each test needs tools beyond Rust (a PostgreSQL server through `SCRUTIN_TEST_POSTGRES`,
//! the PostgreSQL server binaries, nginx): without them it says so loudly and passes, unless
//! `SCRUTIN_REQUIRE_POSTGRES=1` (CI), where it fails.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

#[path = "../../server/tests/common/cluster.rs"]
mod cluster;

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::pg::{TestDatabase, admin_sql};
use common::{ADMIN, PASSWORD, free_port, serve_child};
use serde_json::{Value, json};

/// nginx, or `None` after saying why the test is skipped.
fn nginx_bin(test: &str) -> Option<PathBuf> {
    for p in ["/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/bin/nginx"] {
        if Path::new(p).is_file() {
            return Some(PathBuf::from(p));
        }
    }
    cluster::skip(
        test,
        "nginx was not found (install the Debian package nginx)",
    );
    None
}

/// Writes the nodes' configuration: one database, one data folder (one board key), one
/// dry-run outbox, nginx's address trusted for `X-Forwarded-For`. Creates the
/// administrator. Returns the configuration file and the outbox.
fn configure(dir: &Path, database: &str) -> (PathBuf, PathBuf) {
    configure_with(
        dir,
        &format!("database = {database:?}\n"),
        "per_ip_rate_per_sec = 1.0\nper_ip_burst = 300\n",
    )
}

/// [`configure`] with `backend` (a `database = …` line, or nothing for SQLite in the data
/// folder) and `limits` (lines of the `[limits]` table).
fn configure_with(dir: &Path, backend: &str, limits: &str) -> (PathBuf, PathBuf) {
    let config = dir.join("server.toml");
    let outbox = dir.join("outbox");
    std::fs::write(
        &config,
        format!(
            "data_dir = {:?}\n{backend}trusted_proxies = [\"127.0.0.1\"]\n\
             [mail]\noutbox = {:?}\n\
             [limits]\n{limits}\
             [otp]\nmax_sends_per_hour = 1000\nmax_sends_per_client_per_hour = 1000\n",
            dir.join("data"),
            outbox
        ),
    )
    .unwrap();
    let created = Command::new(env!("CARGO_BIN_EXE_scrutin"))
        .args(["serve", "--config", config.to_str().unwrap()])
        .args(["--create-admin", ADMIN])
        .env("SCRUTIN_ADMIN_PASSWORD", PASSWORD)
        .output()
        .unwrap();
    assert!(created.status.success(), "{created:?}");
    (config, outbox)
}

/// A node: `scrutin serve` on its own port.
struct Node {
    child: Child,
    listen: String,
}

impl Node {
    fn start(config: &Path) -> Self {
        let listen = format!("127.0.0.1:{}", free_port());
        Self::start_on(config, listen)
    }
    fn start_on(config: &Path, listen: String) -> Self {
        let child = serve_child(config, &listen);
        Self { child, listen }
    }
    fn url(&self) -> String {
        format!("http://{}", self.listen)
    }
    fn kill9(&mut self) {
        self.child.kill().unwrap(); // SIGKILL
        self.child.wait().unwrap();
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// nginx in front of `upstreams`, round robin, run as this user from a folder of its own;
/// its access log names the node that served each request.
struct Nginx {
    child: Child,
    port: u16,
    access_log: PathBuf,
}

impl Nginx {
    fn start(bin: &Path, dir: &Path, upstreams: &[&str]) -> Self {
        let dir = dir.join("nginx");
        std::fs::create_dir_all(&dir).unwrap();
        let port = free_port();
        let servers: String = upstreams
            .iter()
            .map(|u| format!("        server {u} max_fails=1 fail_timeout=1s;\n"))
            .collect();
        let user = if cluster::is_root() {
            "user root root;\n"
        } else {
            ""
        };
        let d = dir.display();
        // A ballot sent twice is answered with its receipt (spec §12), so a request whose
        // node died may be tried on another (`non_idempotent`).
        let conf = format!(
            "{user}worker_processes 1;\nerror_log {d}/error.log warn;\n\
             events {{ worker_connections 1024; }}\n\
             http {{\n\
             log_format nodes '$request_method $uri $status $upstream_addr';\n\
             access_log {d}/access.log nodes;\n\
             client_body_temp_path {d}/body; proxy_temp_path {d}/proxy;\n\
             fastcgi_temp_path {d}/fastcgi; uwsgi_temp_path {d}/uwsgi; scgi_temp_path {d}/scgi;\n\
             client_max_body_size 16m; client_body_buffer_size 1m;\n\
             upstream scrutin {{\n{servers}        keepalive 16;\n    }}\n\
             server {{\n\
                 listen 127.0.0.1:{port};\n\
                 location / {{\n\
                     proxy_pass http://scrutin;\n\
                     proxy_http_version 1.1;\n\
                     proxy_set_header Connection \"\";\n\
                     proxy_set_header Host $host;\n\
                     proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;\n\
                     proxy_next_upstream error timeout non_idempotent;\n\
                     proxy_connect_timeout 2s;\n\
                     proxy_read_timeout 60s;\n\
                     proxy_buffering off;\n\
                 }}\n\
             }}\n\
             }}\n"
        );
        std::fs::write(dir.join("nginx.conf"), conf).unwrap();
        let child = Command::new(bin)
            .arg("-p")
            .arg(&dir)
            .arg("-e")
            .arg(dir.join("error.log"))
            .args(["-c", "nginx.conf", "-g"])
            .arg(format!("daemon off; pid {d}/nginx.pid;"))
            .stdin(Stdio::null())
            .spawn()
            .unwrap();
        let me = Self {
            child,
            port,
            access_log: dir.join("access.log"),
        };
        let http = client(None);
        for _ in 0..200 {
            if http
                .get(format!("{}/api/health", me.url()))
                .send()
                .is_ok_and(|r| r.status() == 200)
            {
                return me;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!(
            "nginx did not come up: {}",
            std::fs::read_to_string(dir.join("error.log")).unwrap_or_default()
        );
    }
    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
    /// The access log's lines: method, path, status, upstream address(es).
    fn log(&self) -> Vec<String> {
        std::fs::read_to_string(&self.access_log)
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect()
    }
    /// Ballots answered 200, per node that served them.
    fn ballots_by_node(&self, from_line: usize) -> HashMap<String, usize> {
        let mut by = HashMap::new();
        for l in self.log().iter().skip(from_line) {
            let f: Vec<&str> = l.split(' ').collect();
            if f.len() >= 4 && f[0] == "POST" && f[1].ends_with("/ballots") && f[2] == "200" {
                // Tried on several ("a, b"): the last one answered.
                let node = f[f.len() - 1].to_owned();
                *by.entry(node).or_insert(0) += 1;
            }
        }
        by
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        // SIGTERM: the master stops its workers, then exits (SIGKILL would leave them).
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An HTTP client, from `local` (a loopback address) when given.
fn client(local: Option<Ipv4Addr>) -> reqwest::blocking::Client {
    let mut b = reqwest::blocking::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(30));
    if let Some(ip) = local {
        b = b.local_address(IpAddr::V4(ip));
    }
    b.build().unwrap()
}

/// `scrutin loadtest` against `server` with a new election of `voters`; returns the child
/// (its report on stdout, as JSON).
fn loadtest(
    dir: &Path,
    server: &str,
    outbox: &Path,
    voters: usize,
    flows: &str,
    levels: &str,
) -> Child {
    loadtest_command(dir, server, outbox, voters, flows, levels)
        .spawn()
        .unwrap()
}

fn loadtest_command(
    dir: &Path,
    server: &str,
    outbox: &Path,
    voters: usize,
    flows: &str,
    levels: &str,
) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_scrutin"));
    c.args([
        "loadtest",
        "--server",
        server,
        "--voters",
        &voters.to_string(),
    ])
    .args(["--admin-user", ADMIN, "--dir"])
    .arg(dir.join("election"))
    .arg("--outbox")
    .arg(outbox)
    .args(["--flows", flows, "--concurrency", levels, "--json"])
    .args(["--max-wait", "10", "--code-wait", "60"])
    .env("SCRUTIN_ADMIN_PASSWORD", PASSWORD)
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    c
}

/// `scrutin loadtest` of the voters of election `id` (whose private credentials the first
/// load test kept in `dir`), casting; writes the receipts it was given to `receipts`, if
/// given.
fn loadtest_again(
    dir: &Path,
    server: &str,
    id: &str,
    outbox: &Path,
    levels: &str,
    receipts: Option<&Path>,
) -> Child {
    let mut c = Command::new(env!("CARGO_BIN_EXE_scrutin"));
    c.args(["loadtest", "--server", server, "--election", id])
        .arg("--private")
        .arg(dir.join("election").join("credentials.json"))
        .arg("--outbox")
        .arg(outbox)
        .args(["--flows", "cast", "--concurrency", levels, "--json"])
        .args(["--max-wait", "10", "--code-wait", "60"]);
    if let Some(file) = receipts {
        c.arg("--receipts").arg(file);
    }
    c.stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits for the load test; it must have succeeded. Returns its report.
fn finished(child: Child) -> Value {
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "loadtest failed:\n{stdout}\n{stderr}");
    let report: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["ok"], true, "{report:#}");
    assert_eq!(report["lost"], 0, "{report:#}");
    assert_eq!(report["record"]["verified"], true, "{report:#}");
    assert_eq!(report["receipts"]["not_on_record"], 0, "{report:#}");
    report
}

/// An administrator's session token on `server`.
fn admin_token(server: &str) -> String {
    let v: Value = client(None)
        .post(format!("{server}/api/admin/login"))
        .json(&json!({"username": ADMIN, "password": PASSWORD}))
        .send()
        .unwrap()
        .json()
        .unwrap();
    v["token"].as_str().unwrap().to_owned()
}

/// The first election on the server (the one the load test created), once it is open.
fn open_election(server: &str, deadline: Duration) -> String {
    let http = client(None);
    let token = admin_token(server);
    let started = Instant::now();
    loop {
        if let Ok(r) = http
            .get(format!("{server}/api/admin/elections"))
            .bearer_auth(&token)
            .send()
            && let Ok(v) = r.json::<Value>()
            && let Some(id) = v
                .as_array()
                .or_else(|| v["elections"].as_array())
                .and_then(|a| a.iter().find(|e| e["state"] == "open"))
                .and_then(|e| e["id"].as_str())
        {
            return id.to_owned();
        }
        assert!(started.elapsed() < deadline, "no election opened in time");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// `GET /api/elections/{id}` on `server`.
fn election(server: &str, id: &str) -> Value {
    client(None)
        .get(format!("{server}/api/elections/{id}"))
        .send()
        .unwrap()
        .json()
        .unwrap()
}

/// The record as `server` serves it.
fn record(server: &str, id: &str) -> Vec<u8> {
    let r = client(None)
        .get(format!("{server}/api/elections/{id}/record"))
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    r.bytes().unwrap().to_vec()
}

/// Waits until `server` has at least `n` ballots of election `id` on its board.
fn wait_ballots(server: &str, id: &str, n: u64, deadline: Duration) {
    let started = Instant::now();
    loop {
        if let Ok(r) = client(None)
            .get(format!("{server}/api/elections/{id}"))
            .send()
            && let Ok(v) = r.json::<Value>()
            && v["ballots"].as_u64().unwrap_or(0) >= n
        {
            return;
        }
        assert!(
            started.elapsed() < deadline,
            "fewer than {n} ballots in time"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Queries the first column of the first row, as text (a tiny client on its own thread).
fn sql_value(url: &str, sql: &str) -> String {
    let (url, sql) = (url.to_owned(), sql.to_owned());
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
                .await
                .unwrap();
            let task = tokio::spawn(conn);
            let rows = client.simple_query(&sql).await.unwrap();
            let v = rows
                .iter()
                .find_map(|m| match m {
                    tokio_postgres::SimpleQueryMessage::Row(r) => r.get(0).map(str::to_owned),
                    _ => None,
                })
                .unwrap_or_default();
            drop(client);
            let _ = task.await;
            v
        })
    })
    .join()
    .unwrap()
}

/// Three nodes on one database behind nginx (round robin): voters sign in and cast through
/// nginx at once; every receipt is on one board that verifies, each node served ballots,
/// every node serves the same record, closing on one node is seen by all, one scheduler
/// lease is held, and `X-Forwarded-For` counts only from nginx.
#[test]
fn three_nodes_behind_nginx_serve_one_board_postgres() {
    const TEST: &str = "three_nodes_behind_nginx_serve_one_board_postgres";
    let Some(nginx_bin) = nginx_bin(TEST) else {
        return;
    };
    let Some(db) = TestDatabase::create(TEST) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (config, outbox) = configure(dir.path(), &db.url);
    let nodes: Vec<Node> = (0..3).map(|_| Node::start(&config)).collect();
    let listens: Vec<&str> = nodes.iter().map(|n| n.listen.as_str()).collect();
    let nginx = Nginx::start(&nginx_bin, dir.path(), &listens);

    let report = finished(loadtest(
        dir.path(),
        &nginx.url(),
        &outbox,
        24,
        "login",
        "8",
    ));
    assert_eq!(report["receipts"]["total"], 24, "{report:#}");
    let id = report["election"].as_str().unwrap().to_owned();

    // Each node served some of the ballots.
    let by_node = nginx.ballots_by_node(0);
    for n in &listens {
        assert!(
            by_node.get(*n).is_some_and(|&c| c > 0),
            "node {n} served no ballot: {by_node:?}"
        );
    }
    assert_eq!(by_node.values().sum::<usize>(), 24, "{by_node:?}");
    // One board: every node serves the same record.
    let reference = record(&nginx.url(), &id);
    for n in &nodes {
        assert_eq!(
            record(&n.url(), &id),
            reference,
            "node {} differs",
            n.listen
        );
    }

    // One scheduler lease among the nodes' sessions (every node has ticked at least once:
    // its scheduler starts with the server).
    let lease = i64::from_be_bytes(*b"schedule");
    let held = sql_value(
        &db.url,
        &format!(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted \
             AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) \
             AND ((classid::bigint << 32) | objid::bigint) = {lease}"
        ),
    );
    assert_eq!(held, "1", "scheduler leases held");

    // X-Forwarded-For from a client straight to a node is not believed: forging a new
    // address on every request, a client at 127.0.0.2 still exhausts its own bucket.
    let forger = client(Some(Ipv4Addr::new(127, 0, 0, 2)));
    let mut limited = false;
    for i in 0..400u32 {
        let r = forger
            .get(format!("{}/api/elections/{id}/head", nodes[0].url()))
            .header(
                "x-forwarded-for",
                format!("127.1.{}.{}", i / 250, i % 250 + 1),
            )
            .send()
            .unwrap();
        if r.status() == 429 {
            assert!(r.headers().contains_key("retry-after"));
            limited = true;
            break;
        }
        assert_eq!(r.status(), 200);
    }
    assert!(limited, "a forged X-Forwarded-For escaped the rate limit");
    // Through nginx it is believed: the same client (127.0.0.2, spent on node 0) is limited
    // when nginx's round robin sends it to node 0, while another client (127.0.0.3) is not,
    // though both reach the nodes from nginx's address.
    let mut limited_through_nginx = 0;
    for _ in 0..6 {
        let r = forger
            .get(format!("{}/api/elections/{id}/head", nginx.url()))
            .send()
            .unwrap();
        limited_through_nginx += usize::from(r.status() == 429);
    }
    assert!(
        limited_through_nginx > 0,
        "nginx's X-Forwarded-For was ignored"
    );
    let other = client(Some(Ipv4Addr::new(127, 0, 0, 3)));
    for _ in 0..6 {
        let r = other
            .get(format!("{}/api/elections/{id}/head", nginx.url()))
            .send()
            .unwrap();
        assert_eq!(r.status(), 200);
    }

    // A lifecycle change on one node is seen by all.
    // A node whose view is behind the board answers 503 `board_moved` with `Retry-After`
    // and catches up: the request is sent again, as every client does.
    let token = admin_token(&nodes[1].url());
    let mut closed = false;
    for _ in 0..10 {
        let r = client(None)
            .post(format!("{}/api/admin/elections/{id}/close", nodes[1].url()))
            .bearer_auth(&token)
            .send()
            .unwrap();
        if r.status() == 503 {
            assert!(r.headers().contains_key("retry-after"));
            std::thread::sleep(Duration::from_secs(1));
            continue;
        }
        assert_eq!(r.status(), 200, "{:?}", r.text());
        closed = true;
        break;
    }
    assert!(closed, "the close kept being refused");
    for n in &nodes {
        assert_eq!(
            election(&n.url(), &id)["state"],
            "closed",
            "node {}",
            n.listen
        );
    }
    drop(nginx);
    drop(nodes);
}

/// Two nodes behind nginx; one is killed with SIGKILL while voters cast, and started again.
/// The other keeps serving, nginx sends the killed node's requests to it, the restarted node
/// serves ballots again on the same board, and every receipt is on the record.
#[test]
fn a_node_killed_under_load_loses_no_ballot_postgres() {
    const TEST: &str = "a_node_killed_under_load_loses_no_ballot_postgres";
    let Some(nginx_bin) = nginx_bin(TEST) else {
        return;
    };
    let Some(db) = TestDatabase::create(TEST) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (config, outbox) = configure(dir.path(), &db.url);
    let mut nodes: Vec<Node> = (0..2).map(|_| Node::start(&config)).collect();
    let listens: Vec<String> = nodes.iter().map(|n| n.listen.clone()).collect();
    let refs: Vec<&str> = listens.iter().map(String::as_str).collect();
    let nginx = Nginx::start(&nginx_bin, dir.path(), &refs);

    const VOTERS: usize = 40;
    const RUNS: usize = 3;
    let lt = loadtest(dir.path(), &nginx.url(), &outbox, VOTERS, "cast", "8,8,8");
    let id = open_election(&nodes[0].url(), Duration::from_secs(120));
    wait_ballots(&nodes[0].url(), &id, 8, Duration::from_secs(120));
    nodes[1].kill9();
    let killed_at = nginx.log().len();
    // Started again at once; meanwhile the survivor serves alone.
    nodes[1] = Node::start_on(&config, listens[1].clone());
    let report = finished(lt);
    assert_eq!(report["receipts"]["total"], RUNS * VOTERS, "{report:#}");
    let during = nginx.ballots_by_node(killed_at);
    assert!(
        during.get(&listens[0]).is_some_and(|&c| c > 0),
        "the surviving node served no ballot: {during:?}"
    );
    // The restarted node caught up: it serves the same record, and takes every voter's
    // next ballot itself (admitting each against the board the other node extended).
    assert_eq!(record(&nodes[1].url(), &id), record(&nodes[0].url(), &id));
    let again = loadtest_again(dir.path(), &nodes[1].url(), &id, &outbox, "8", None);
    let report = finished(again);
    assert_eq!(report["receipts"]["total"], VOTERS, "{report:#}");
    assert_eq!(
        election(&nodes[0].url(), &id)["ballots"],
        ((RUNS + 1) * VOTERS) as u64
    );
}

/// A primary with a synchronous streaming standby (commits wait for the standby), two nodes
/// on the multi-host connection string; while voters cast, the primary is killed with
/// SIGKILL and the standby promoted. The nodes reconnect to it, the voters' retries go
/// through, and every receipt acknowledged before or after is on the promoted board.
#[test]
fn failover_to_a_synchronous_standby_loses_no_acknowledged_ballot() {
    const TEST: &str = "failover_to_a_synchronous_standby_loses_no_acknowledged_ballot";
    let Some(bin) = cluster::bin_dir(TEST) else {
        return;
    };
    let root = cluster::scratch();
    let mut primary = cluster::Cluster::init(&bin, root.path(), "primary");
    primary.configure("synchronous_standby_names = 'FIRST 1 (standby)'\n");
    primary.start();
    let mut standby = cluster::Cluster::standby_of(&primary, root.path(), "standby");
    // Once promoted it has no standby of its own: commits must not wait for one.
    standby.configure("synchronous_standby_names = ''\n");
    standby.start();
    // The standby is synchronous before anything is cast.
    let deadline = Instant::now() + Duration::from_secs(30);
    while sql_value(
        &primary.url("postgres"),
        "SELECT sync_state FROM pg_stat_replication WHERE application_name = 'standby'",
    ) != "sync"
    {
        assert!(
            Instant::now() < deadline,
            "the standby did not become synchronous"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    admin_sql(&primary.url("postgres"), "CREATE DATABASE scrutin").unwrap();
    let url = format!(
        "postgresql://{}@127.0.0.1:{},127.0.0.1:{}/scrutin?target_session_attrs=read-write",
        cluster::USER,
        primary.port,
        standby.port
    );
    let dir = tempfile::tempdir().unwrap();
    let (config, outbox) = configure(dir.path(), &url);
    let nodes: Vec<Node> = (0..2).map(|_| Node::start(&config)).collect();

    const VOTERS: usize = 40;
    let lt = loadtest(dir.path(), &nodes[0].url(), &outbox, VOTERS, "cast", "8,8");
    let id = open_election(&nodes[0].url(), Duration::from_secs(120));
    wait_ballots(&nodes[0].url(), &id, 10, Duration::from_secs(120));
    primary.kill9();
    std::thread::sleep(Duration::from_millis(500));
    standby.promote();
    let report = finished(lt);
    assert_eq!(report["receipts"]["total"], 2 * VOTERS, "{report:#}");
    assert!(
        report["runs"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["overloaded_503"].as_u64().unwrap_or(0) > 0),
        "the failover was not noticed: {report:#}"
    );
    // Both nodes are on the promoted server, with the same board.
    assert_eq!(record(&nodes[1].url(), &id), record(&nodes[0].url(), &id));
    assert_eq!(
        sql_value(&standby.url("scrutin"), "SELECT pg_is_in_recovery()::text"),
        "false"
    );
}

/// Kills in the crash tests under load (issue 10: "20 kills at random moments").
const KILLS: usize = 20;

/// Drives voters through `server` while `kill_and_restart` is called [`KILLS`] times, each
/// at a random moment once the board has taken a ballot since the last restart: one
/// `scrutin loadtest` after another (each must succeed: every voter got a receipt, every
/// receipt is on the record it downloads, which verifies), each keeping the receipts it was
/// given. Then every receipt of every load test must be on the final record, which must
/// verify.
fn kills_under_load(dir: &Path, server: &str, outbox: &Path, mut kill_and_restart: impl FnMut()) {
    const VOTERS: usize = 24;
    const LEVELS: &str = "6,6,6,6,6";
    let receipts = |n: usize| dir.join(format!("receipts-{n}.json"));
    let mut load = loadtest_command(dir, server, outbox, VOTERS, "cast", LEVELS)
        .arg("--receipts")
        .arg(receipts(0))
        .spawn()
        .unwrap();
    let id = open_election(server, Duration::from_secs(120));
    let mut loads = 1;
    let ballots = |server: &str| -> Option<u64> {
        client(None)
            .get(format!("{server}/api/elections/{id}"))
            .send()
            .ok()?
            .json::<Value>()
            .ok()?["ballots"]
            .as_u64()
    };
    let mut last = 0;
    for kill in 0..KILLS {
        // Under load: the board takes a ballot after the last restart before the next kill.
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            if load.try_wait().unwrap().is_some() {
                finished(load);
                load = loadtest_again(dir, server, &id, outbox, LEVELS, Some(&receipts(loads)));
                loads += 1;
            }
            if let Some(now) = ballots(server)
                && now > last
            {
                last = now;
                break;
            }
            assert!(
                Instant::now() < deadline,
                "no ballot taken before kill {kill}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        std::thread::sleep(Duration::from_millis(random_below(400)));
        kill_and_restart();
    }
    finished(load);
    let record = record(server, &id);
    let verified =
        scrutin_election::verify::verify_record(&record, &scrutin_election::verify::NoProgress)
            .unwrap_or_else(|e| panic!("the record after {KILLS} kills does not verify: {e}"));
    let lines = scrutin_election::record::split_lines(&record).unwrap();
    let mut total = 0;
    for n in 0..loads {
        let text = std::fs::read_to_string(receipts(n)).unwrap();
        let given: Vec<scrutin_election::roles::Receipt> = serde_json::from_str(&text).unwrap();
        for r in &given {
            let check = scrutin_election::roles::check_receipt_in_lines(&lines, &verified.state, r)
                .unwrap();
            assert!(
                matches!(
                    check,
                    scrutin_election::roles::ReceiptCheck::OnRecord { .. }
                ),
                "receipt {} at {} after {KILLS} kills: {check:?}",
                r.tracker,
                r.seq
            );
        }
        total += given.len();
    }
    assert_eq!(total, loads * VOTERS * LEVELS.split(',').count());
    eprintln!("{KILLS} kills under load: {loads} load tests, {total} receipts, all on the record");
}

/// A random number below `n` (std's randomly keyed hasher: no dependency for a delay).
fn random_below(n: u64) -> u64 {
    use std::hash::{BuildHasher, Hasher};
    std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish()
        % n
}

/// A node on SQLite (the embedded default) killed with SIGKILL at 20 random moments while
/// voters cast, and started again on the same data folder each time: every receipt given
/// before or after any kill is on the record, which verifies.
#[test]
fn twenty_kills_of_a_node_on_sqlite_under_load_lose_no_acknowledged_ballot() {
    let dir = tempfile::tempdir().unwrap();
    let (config, outbox) = configure_with(dir.path(), "", CRASH_LIMITS);
    let listen = format!("127.0.0.1:{}", free_port());
    let mut node = Node::start_on(&config, listen.clone());
    let url = node.url();
    kills_under_load(dir.path(), &url, &outbox, || {
        node.kill9();
        node = Node::start_on(&config, listen.clone());
    });
}

/// PostgreSQL's server (postmaster and backends) killed with SIGKILL at 20 random moments
/// while voters cast through a node, and started again each time (crash recovery); the
/// node reconnects: every receipt given before or after any kill is on the record, which
/// verifies.
#[test]
fn twenty_kills_of_postgresql_under_load_lose_no_acknowledged_ballot() {
    const TEST: &str = "twenty_kills_of_postgresql_under_load_lose_no_acknowledged_ballot";
    let Some(bin) = cluster::bin_dir(TEST) else {
        return;
    };
    let root = cluster::scratch();
    let mut pg = cluster::Cluster::init(&bin, root.path(), "primary");
    pg.start();
    admin_sql(&pg.url("postgres"), "CREATE DATABASE scrutin").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (config, outbox) = configure_with(
        dir.path(),
        &format!("database = {:?}\n", pg.url("scrutin")),
        CRASH_LIMITS,
    );
    let node = Node::start(&config);
    kills_under_load(dir.path(), &node.url(), &outbox, || {
        pg.kill9();
        pg.start();
    });
}

/// The crash tests' limits: one client address plays every voter, and each voter casts
/// once per run of many load tests.
const CRASH_LIMITS: &str = "per_ip_rate_per_sec = 100000.0\nper_ip_burst = 100000\n\
    max_connections_per_ip = 4096\nmax_ballots_per_credential = 1000\n\
    max_ballots_per_session_per_hour = 1000\n";
