//! Helpers shared by the CLI's integration tests: a real server (in process or as a
//! `scrutin serve` child), a small HTTP client, the `scrutin` binary, an election set up
//! role by role through the CLI, and a stand-in board that serves whatever record it is
//! given (to play a dishonest server).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, dead_code)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::blocking::Client;

/// PostgreSQL test databases: the server crate's helper (`SCRUTIN_TEST_POSTGRES`).
#[path = "../../../server/tests/common/pg.rs"]
pub mod pg;
use scrutin_election::Hash32;
use scrutin_election::ballot::{self, Ballot};
use scrutin_election::credential::Credential;
use scrutin_election::crypto::rng::{SeededRng, os_rng};
use scrutin_election::definition::QuestionChoice;
use scrutin_election::record::{Event, RecordWriter, parse_line};
use scrutin_election::roles::{RoleKey, SignedHead};
use scrutin_election::tally::PerQuestion;
use scrutin_election::verify::RecordState;
use scrutin_server::{AppState, RunningServer, ServerConfig, auth, build_router, protocol};
use serde_json::{Value, json};

pub const ADMIN: &str = "official";
pub const PASSWORD: &str = "correct horse battery staple";

/// The election of these tests, without its role holders (see [`description_with_keys`]).
pub const DESCRIPTION: &str = r#"
title = "Association board 2026"
threshold = 2

[[question]]
text = "Who should preside?"
answers = ["Ada", "Blaise", "Claude"]
min = 1
max = 1
blank = true

[[question]]
text = "Which projects?"
answers = ["Library", "Garden", "Bikes", "Solar"]
min = 0
max = 2
"#;

/// The names of the trustees of [`DESCRIPTION`].
pub const TRUSTEES: [&str; 3] = ["Alice", "Bob", "Carol"];

/// Runs `scrutin` and returns its output, whatever its exit status.
pub fn scrutin_output(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_scrutin"))
        .args(args)
        .output()
        .unwrap()
}

/// Runs `scrutin`, which must fail; returns its stdout and stderr together.
pub fn scrutin_fails(args: &[&str]) -> String {
    let out = scrutin_output(args);
    let text = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!out.status.success(), "scrutin {args:?} succeeded:\n{text}");
    text
}

/// `scrutin trustee keygen` or `scrutin credentials keygen` (`role`) into `out`; returns
/// the public key it printed, checked against the file.
pub fn keygen(role: &str, name: &str, out: &Path) -> String {
    let printed = scrutin(&[
        role,
        "keygen",
        "--name",
        name,
        "--out",
        out.to_str().unwrap(),
    ]);
    let key = printed
        .lines()
        .find_map(|l| l.trim().strip_prefix("public key"))
        .unwrap_or_else(|| panic!("no public key in {printed}"))
        .trim()
        .to_owned();
    let file = RoleKey::from_json(&std::fs::read_to_string(out).unwrap()).unwrap();
    assert_eq!(file.signing_key.to_hex(), key);
    assert!(printed.contains(&file.fingerprint()), "{printed}");
    key
}

/// Where trustee `i`'s key is kept in `dir`.
pub fn trustee_key_file(dir: &Path, i: usize) -> PathBuf {
    dir.join(format!("trustee{i}-key.json"))
}

/// Where the credential authority's key is kept in `dir`.
pub fn authority_key_file(dir: &Path) -> PathBuf {
    dir.join("authority-key.json")
}

/// The TOML tables naming trustees and authority with these public keys.
pub fn roles_tables(trustees: &[(&str, String)], authority: (&str, &str)) -> String {
    let mut toml = String::new();
    for (name, key) in trustees {
        toml.push_str(&format!(
            "\n[[trustee]]\nname = \"{name}\"\nkey = \"{key}\"\n"
        ));
    }
    toml.push_str(&format!(
        "\n[authority]\nname = \"{}\"\nkey = \"{}\"\n",
        authority.0, authority.1
    ));
    toml
}

/// [`DESCRIPTION`] naming trustees and authority with keys each draws with the CLI into
/// `dir` (unless already there).
pub fn description_with_keys(dir: &Path) -> String {
    with_keys(dir, DESCRIPTION)
}

/// `head` (title, threshold, questions) followed by the trustees and the authority, with
/// keys each draws with the CLI into `dir` (unless already there).
pub fn with_keys(dir: &Path, head: &str) -> String {
    let pub_key = |role: &str, name: &str, path: PathBuf| {
        if path.exists() {
            RoleKey::from_json(&std::fs::read_to_string(&path).unwrap())
                .unwrap()
                .signing_key
                .to_hex()
        } else {
            keygen(role, name, &path)
        }
    };
    let trustees: Vec<(&str, String)> = TRUSTEES
        .iter()
        .enumerate()
        .map(|(i, name)| {
            (
                *name,
                pub_key("trustee", name, trustee_key_file(dir, i + 1)),
            )
        })
        .collect();
    let authority = pub_key("credentials", "Registrar", authority_key_file(dir));
    format!(
        "{head}{}",
        roles_tables(&trustees, ("Registrar", &authority))
    )
}

/// Polls `check` until it gives a value, for at most `secs` seconds.
pub fn wait_for<T>(secs: u64, what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = check() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The lines of a record, without their `\n`.
pub fn lines(record: &[u8]) -> Vec<String> {
    String::from_utf8(record.to_vec())
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

/// The events of `lines` written again as a hash chain from the start (each line's
/// number and predecessor recomputed), as a board that rewrites history would.
pub fn rechain(lines: &[String]) -> Vec<String> {
    let mut w = RecordWriter::default();
    lines
        .iter()
        .map(|l| w.line(&parse_line(l.as_bytes()).unwrap().event).unwrap())
        .collect()
}

/// `lines` as record bytes.
pub fn record_bytes(lines: &[String]) -> Vec<u8> {
    lines
        .iter()
        .flat_map(|l| [l.as_bytes(), b"\n"].concat())
        .collect()
}

/// The position of the first line of type `kind`.
pub fn position_of(lines: &[String], kind: &str) -> usize {
    let marker = format!("\"type\":\"{kind}\"");
    lines
        .iter()
        .position(|l| l.contains(&marker))
        .unwrap_or_else(|| panic!("no {kind} line"))
}

/// What a stand-in board serves and what it was asked.
#[derive(Default)]
pub struct Board {
    /// The record it serves, one line each.
    pub lines: Vec<String>,
    /// Signs the heads it serves (none: no signed head).
    pub key: Option<RoleKey>,
    /// Served as the signed head instead of one signed by `key`.
    pub forged_head: Option<SignedHead>,
    /// POST requests received (a stand-in refuses them all).
    pub posts: usize,
    /// Requests of the record from its start (`from=0` or no `from`).
    pub from_zero: usize,
}

/// A stand-in board on a loopback port serving one election's `/record`, `/head` and
/// `/role` with the layout of a scrutin server, from a [`Board`] the test controls.
pub struct StandIn {
    pub base: String,
    pub board: Arc<Mutex<Board>>,
}

impl StandIn {
    pub fn start(election: &str, board: Board) -> StandIn {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let board = Arc::new(Mutex::new(board));
        let shared = Arc::clone(&board);
        let prefix = format!("/api/elections/{election}");
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let (shared, prefix) = (Arc::clone(&shared), prefix.clone());
                std::thread::spawn(move || {
                    let _ = answer(stream, &shared, &prefix);
                });
            }
        });
        StandIn { base, board }
    }

    pub fn set_lines(&self, lines: Vec<String>) {
        self.board.lock().unwrap().lines = lines;
    }

    pub fn posts(&self) -> usize {
        self.board.lock().unwrap().posts
    }

    pub fn requests_from_start(&self) -> usize {
        self.board.lock().unwrap().from_zero
    }
}

fn answer(stream: std::net::TcpStream, board: &Mutex<Board>, prefix: &str) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut w = stream.try_clone()?;
    let mut r = BufReader::new(stream);
    let mut request = String::new();
    r.read_line(&mut request)?;
    let mut length = 0usize;
    loop {
        let mut h = String::new();
        if r.read_line(&mut h)? == 0 || h.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = h.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0u8; length];
    r.read_exact(&mut body)?;
    let mut parts = request.split_whitespace();
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let from: usize = query
        .split('&')
        .find_map(|kv| kv.strip_prefix("from="))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let (status, kind, content) = {
        let mut b = board.lock().unwrap();
        match (method, path.strip_prefix(prefix)) {
            ("POST", _) => {
                b.posts += 1;
                (
                    "403 Forbidden",
                    "application/json",
                    json!({"error": "stand_in", "message": "a stand-in board takes nothing"})
                        .to_string()
                        .into_bytes(),
                )
            }
            ("GET", Some("/record")) => {
                if from == 0 {
                    b.from_zero += 1;
                }
                let tail = b.lines.get(from..).unwrap_or_default();
                ("200 OK", "application/jsonl", record_bytes(tail))
            }
            ("GET", Some("/head")) => {
                let n = b.lines.len() as u64;
                let head = b
                    .lines
                    .last()
                    .map(|l| Hash32::of(l.as_bytes()))
                    .unwrap_or(scrutin_election::record::GENESIS);
                let signed = match (&b.forged_head, &b.key, b.lines.first()) {
                    (Some(f), _, _) => Some(f.clone()),
                    (None, Some(k), Some(first)) => Some(SignedHead::sign(
                        k,
                        Hash32::of(first.as_bytes()),
                        n,
                        head,
                        &mut os_rng(),
                    )),
                    _ => None,
                };
                let v = json!({"events": n, "head": head, "signed": signed});
                ("200 OK", "application/json", v.to_string().into_bytes())
            }
            ("GET", Some("/role")) => (
                "200 OK",
                "application/json",
                json!({"role": "trustee", "index": 1})
                    .to_string()
                    .into_bytes(),
            ),
            _ => ("404 Not Found", "text/plain", b"not found".to_vec()),
        }
    };
    write!(
        w,
        "HTTP/1.1 {status}\r\ncontent-type: {kind}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        content.len()
    )?;
    w.write_all(&content)?;
    w.flush()
}

/// A `scrutin monitor` child following `server`, serving on a free port, polling every
/// second; killed when dropped.
pub struct MonitorChild {
    pub child: std::process::Child,
    pub base: String,
    pub store: PathBuf,
}

impl MonitorChild {
    pub fn start(server: &str, election: &str, store: &Path, peers: &[&str]) -> MonitorChild {
        Self::start_on(free_port(), server, election, store, peers)
    }

    pub fn start_on(
        port: u16,
        server: &str,
        election: &str,
        store: &Path,
        peers: &[&str],
    ) -> MonitorChild {
        let listen = format!("127.0.0.1:{port}");
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_scrutin"));
        cmd.args(["monitor", "--server", server, "--election", election])
            .args(["--store", store.to_str().unwrap(), "--listen", &listen])
            .args(["--interval", "1"])
            .env("SCRUTIN_LOG", "warn")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        for p in peers {
            cmd.args(["--peer", p]);
        }
        let child = cmd.spawn().unwrap();
        let m = MonitorChild {
            child,
            base: format!("http://{listen}"),
            store: store.to_owned(),
        };
        wait_for(60, "the monitor to listen", || m.try_status());
        m
    }

    /// The monitor's status, if it answers.
    pub fn try_status(&self) -> Option<Value> {
        let http = Client::builder()
            .no_proxy()
            .pool_max_idle_per_host(0)
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap();
        let r = http
            .get(format!("{}/api/monitor/status", self.base))
            .send()
            .ok()?;
        r.json().ok()
    }

    pub fn status(&self) -> Value {
        self.try_status().expect("the monitor does not answer")
    }

    /// Waits until the monitor holds at least `events` events.
    pub fn wait_for_events(&self, events: u64) -> Value {
        wait_for(120, &format!("the monitor to hold {events} events"), || {
            self.try_status()
                .filter(|s| s["events"].as_u64().is_some_and(|n| n >= events))
        })
    }
}

impl Drop for MonitorChild {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `scrutin monitor --check` of `server` on `store`: (exit code, status printed).
pub fn monitor_check(server: &str, election: &str, store: &Path, peers: &[&str]) -> (i32, Value) {
    let mut args = vec![
        "monitor",
        "--server",
        server,
        "--election",
        election,
        "--store",
        store.to_str().unwrap(),
        "--check",
    ];
    for p in peers {
        args.extend(["--peer", p]);
    }
    let out = scrutin_output(&args);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let status = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "no status from monitor --check ({e}):\n{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap_or(-1), status)
}

/// The kinds of the alarms in a monitor's status.
pub fn alarm_kinds(status: &Value) -> Vec<String> {
    status["alarms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["kind"].as_str().unwrap().to_owned())
        .collect()
}

/// A ballot event for `credential` (seeded), to put on a forged record.
pub fn ballot_event(state: &RecordState, credential: &str, seed: &str) -> Event {
    let choices = vec![
        QuestionChoice::Values(vec![1, 0, 0]),
        QuestionChoice::Values(vec![0, 0, 0, 0]),
    ];
    Event::Ballot(Box::new(encrypt(state, credential, &choices, seed)))
}

pub struct Server {
    pub rt: tokio::runtime::Runtime,
    pub state: AppState,
    pub running: Option<RunningServer>,
    pub base: String,
    /// The PostgreSQL database of the server, dropped after it (SQLite when `None`).
    pub db: Option<pg::TestDatabase>,
}

pub fn config(dir: &Path) -> ServerConfig {
    let mut config = ServerConfig {
        data_dir: dir.join("data"),
        listen: "127.0.0.1:0".parse().unwrap(),
        ..ServerConfig::default()
    };
    config.mail.outbox = Some(dir.join("outbox"));
    config.limits.per_ip_burst = 1_000_000;
    config.limits.per_ip_rate_per_sec = 1_000_000.0;
    config.otp.max_sends_per_hour = 1000;
    config
}

impl Server {
    pub fn start(dir: &Path, create_admin: bool) -> Server {
        Self::start_on(dir, create_admin, None)
    }

    /// A server on the PostgreSQL database `db`, or on SQLite in `dir`'s data folder.
    pub fn start_on(dir: &Path, create_admin: bool, db: Option<pg::TestDatabase>) -> Server {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let mut config = config(dir);
        config.database = db.as_ref().map(|db| db.url.clone());
        let (state, running) = rt.block_on(async {
            let state = AppState::open(config.clone()).unwrap();
            if create_admin {
                let storage = state.storage.clone();
                tokio::task::spawn_blocking(move || {
                    auth::create_admin(storage.as_ref(), ADMIN, PASSWORD).unwrap()
                })
                .await
                .unwrap();
            }
            let app = build_router(state.clone(), protocol::api::routes());
            let running = scrutin_server::start(&config, app).await.unwrap();
            (state, running)
        });
        let base = format!("http://{}", running.local_addr());
        Server {
            rt,
            state,
            running: Some(running),
            base,
            db,
        }
    }

    pub fn stop(mut self) {
        if let Some(r) = self.running.take() {
            self.rt
                .block_on(r.shutdown(Duration::from_secs(5)))
                .unwrap();
        }
        self.rt.shutdown_timeout(Duration::from_secs(5));
    }
}

pub struct Api {
    pub base: String,
    pub http: Client,
}

impl Api {
    pub fn new(base: &str) -> Api {
        Api {
            base: base.to_owned(),
            // A fresh connection per request: the server closes idle keep-alive
            // connections, and a pooled one can be closed just as it is reused.
            http: Client::builder()
                .no_proxy()
                .pool_max_idle_per_host(0)
                .timeout(Duration::from_secs(120))
                .build()
                .unwrap(),
        }
    }

    pub fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> (u16, Value) {
        let url = format!("{}{path}", self.base);
        let mut req = match method {
            "GET" => self.http.get(url),
            "PUT" => self.http.put(url),
            _ => self.http.post(url),
        };
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        let resp = req.send().unwrap();
        let status = resp.status().as_u16();
        let text = resp.text().unwrap();
        let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (status, value)
    }

    pub fn ok(&self, method: &str, path: &str, token: Option<&str>, body: Option<&Value>) -> Value {
        let (status, v) = self.call(method, path, token, body);
        assert!(
            (200..300).contains(&status),
            "{method} {path}: {status} {v}"
        );
        v
    }

    pub fn record(&self, id: &str) -> Vec<u8> {
        let r = self
            .http
            .get(format!("{}/api/elections/{id}/record", self.base))
            .send()
            .unwrap();
        assert_eq!(r.status(), 200);
        r.bytes().unwrap().to_vec()
    }
}

pub fn scrutin(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_scrutin"))
        .args(args)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "scrutin {args:?} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// The login-code mails of the outbox in the order they were sent: (recipient, code). The
/// other mails (ballot confirmations) carry no 8-digit line and are skipped.
pub fn code_mails(outbox: &Path) -> Vec<(String, String)> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(outbox)
        .map(|d| d.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    files.retain(|p| p.extension().is_some_and(|e| e == "eml"));
    files.sort();
    files
        .iter()
        .filter_map(|f| {
            let text = std::fs::read_to_string(f).unwrap();
            let code = text
                .lines()
                .map(str::trim)
                .find(|l| l.len() == 8 && l.bytes().all(|b| b.is_ascii_digit()))?
                .to_owned();
            let to = text
                .lines()
                .find_map(|l| l.strip_prefix("To: "))
                .unwrap()
                .trim()
                .to_owned();
            Some((to, code))
        })
        .collect()
}

/// The code of the latest login-code mail sent to each address, once the outbox holds
/// `expected` of them.
pub fn codes_from_outbox(outbox: &Path, expected: usize) -> HashMap<String, String> {
    for _ in 0..400 {
        let mails = code_mails(outbox);
        if mails.len() >= expected {
            return mails.into_iter().collect();
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("fewer than {expected} login-code mails in the outbox");
}

pub struct Setup {
    pub id: String,
    pub admin: String,
    pub trustee_tokens: Vec<String>,
    /// The credential authority's token.
    pub authority: String,
    /// login → (email, weight, credential)
    pub voters: Vec<(String, String, u64, String)>,
}

/// Creates, keys and opens an election with `n` voters through HTTP and the CLI.
pub fn setup(api: &Api, dir: &Path, n: usize) -> Setup {
    let s = prepare(api, dir, n);
    let opened = api.ok(
        "POST",
        &format!("/api/admin/elections/{}/open", s.id),
        Some(&s.admin),
        None,
    );
    assert_eq!(opened["head"].as_str().unwrap().len(), 64);
    s
}

/// Creates an election with `n` voters, its key and credentials, through HTTP and the CLI.
pub fn prepare(api: &Api, dir: &Path, n: usize) -> Setup {
    prepare_then(api, dir, n, &mut |_| {})
}

/// [`prepare`], calling `created` with the election's id as soon as it exists.
pub fn prepare_then(api: &Api, dir: &Path, n: usize, created: &mut dyn FnMut(&str)) -> Setup {
    prepare_described(api, dir, n, DESCRIPTION, created)
}

/// [`prepare_then`] for an election whose definition begins with `head` (title,
/// threshold, questions; the roles are added).
pub fn prepare_described(
    api: &Api,
    dir: &Path,
    n: usize,
    head: &str,
    created: &mut dyn FnMut(&str),
) -> Setup {
    let v = api.ok(
        "POST",
        "/api/admin/login",
        None,
        Some(&json!({"username": ADMIN, "password": PASSWORD})),
    );
    let admin = v["token"].as_str().unwrap().to_owned();
    let meta = api.ok(
        "POST",
        "/api/admin/elections",
        Some(&admin),
        Some(&json!({ "description": with_keys(dir, head) })),
    );
    let id = meta["id"].as_str().unwrap().to_owned();
    assert_eq!(meta["state"], "draft");
    created(&id);
    // Weights 1 and 2; the languages of the mails fr, en and (the election's default) none.
    let csv: String = (1..=n)
        .map(|i| {
            format!(
                "voter{i:03},voter{i:03}@example.org,{},{}\n",
                1 + (i % 3 == 0) as u64,
                ["", "fr", "en"][i % 3]
            )
        })
        .collect();
    let r = api
        .http
        .post(format!("{}/api/admin/elections/{id}/voters", api.base))
        .bearer_auth(&admin)
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().unwrap());
    let roles = api.ok(
        "POST",
        &format!("/api/admin/elections/{id}/roles"),
        Some(&admin),
        None,
    );
    let trustee_tokens: Vec<String> = roles["trustees"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["token"].as_str().unwrap().to_owned())
        .collect();
    let authority = roles["credential_authority"].as_str().unwrap().to_owned();
    let base = api.base.clone();
    for step in ["commit", "deal", "check"] {
        for (i, token) in trustee_tokens.iter().enumerate() {
            let secret = dir.join(format!("trustee{}.json", i + 1));
            let key = trustee_key_file(dir, i + 1);
            let mut args = vec![
                "trustee",
                step,
                "--server",
                &base,
                "--election",
                &id,
                "--token",
                token,
                "--secret",
                secret.to_str().unwrap(),
            ];
            if step == "commit" {
                args.extend(["--key", key.to_str().unwrap()]);
            }
            scrutin(&args);
        }
    }
    let public = api.ok("GET", &format!("/api/elections/{id}"), None, None);
    assert!(public["election_key"].is_string(), "{public}");
    let private = dir.join("credentials.json");
    let authority_key = authority_key_file(dir);
    scrutin(&[
        "credentials",
        "generate",
        "--server",
        &base,
        "--election",
        &id,
        "--token",
        &authority,
        "--key",
        authority_key.to_str().unwrap(),
        "--private",
        private.to_str().unwrap(),
    ]);
    let creds: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(&private).unwrap()).unwrap();
    let voters = creds
        .iter()
        .map(|c| {
            (
                c["login"].as_str().unwrap().to_owned(),
                c["email"].as_str().unwrap().to_owned(),
                c["weight"].as_u64().unwrap(),
                c["credential"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    Setup {
        id,
        admin,
        trustee_tokens,
        authority,
        voters,
    }
}

/// Logs voters in (codes from the outbox); returns login → voter session token.
pub fn log_in(
    api: &Api,
    id: &str,
    outbox: &Path,
    voters: &[(String, String, u64, String)],
) -> HashMap<String, String> {
    let before = code_mails(outbox).len();
    for (login, ..) in voters {
        let (status, v) = api.call(
            "POST",
            &format!("/api/elections/{id}/login"),
            None,
            Some(&json!({ "login": login })),
        );
        assert_eq!(status, 202, "{v}");
    }
    let codes = codes_from_outbox(outbox, before + voters.len());
    voters
        .iter()
        .map(|(login, email, ..)| {
            let v = api.ok(
                "POST",
                &format!("/api/elections/{id}/verify-code"),
                None,
                Some(&json!({"login": login, "code": codes[email]})),
            );
            (login.clone(), v["token"].as_str().unwrap().to_owned())
        })
        .collect()
}

pub fn encrypt(
    state: &RecordState,
    credential: &str,
    choices: &[QuestionChoice],
    seed: &str,
) -> Ballot {
    let ctx = state.context.as_ref().unwrap();
    let cred = Credential::parse(credential).unwrap();
    ballot::encrypt(ctx, &cred, choices, &mut SeededRng::new(seed.as_bytes()))
        .unwrap()
        .0
}

pub fn cast(api: &Api, id: &str, token: &str, b: &Ballot) -> (u16, Value) {
    api.call(
        "POST",
        &format!("/api/elections/{id}/ballots"),
        Some(token),
        Some(&serde_json::to_value(b).unwrap()),
    )
}

pub fn empty_count(state: &RecordState) -> Vec<PerQuestion<u64>> {
    state
        .definition
        .as_ref()
        .unwrap()
        .questions
        .iter()
        .map(|q| PerQuestion {
            choices: vec![0; q.tallied_answers()],
            blank: q.blank.then_some(0),
        })
        .collect()
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `scrutin serve` as a child process, up and answering.
pub fn serve_child(config: &Path, listen: &str) -> std::process::Child {
    let mut child = Command::new(env!("CARGO_BIN_EXE_scrutin"))
        .args([
            "serve",
            "--config",
            config.to_str().unwrap(),
            "--listen",
            listen,
        ])
        .env("SCRUTIN_LOG", "warn")
        .spawn()
        .unwrap();
    let http = Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    for _ in 0..200 {
        if http
            .get(format!("http://{listen}/api/health"))
            .send()
            .is_ok_and(|r| r.status() == 200)
        {
            return child;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("scrutin serve did not come up on {listen}");
}

/// A minimal SMTP relay on a loopback port that keeps every message it is given.
pub fn smtp_sink() -> (u16, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let mails = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let kept = mails.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let kept = kept.clone();
            std::thread::spawn(move || {
                let mut w = stream.try_clone().unwrap();
                let mut r = BufReader::new(stream);
                let _ = w.write_all(b"220 sink ESMTP\r\n");
                let mut line = String::new();
                loop {
                    line.clear();
                    if r.read_line(&mut line).unwrap_or(0) == 0 {
                        break;
                    }
                    let up = line.to_ascii_uppercase();
                    let answer: &[u8] = if up.starts_with("EHLO") {
                        b"250-sink\r\n250 8BITMIME\r\n"
                    } else if up.starts_with("DATA") {
                        let _ = w.write_all(b"354 go on\r\n");
                        let mut mail = String::new();
                        loop {
                            let mut l = String::new();
                            if r.read_line(&mut l).unwrap_or(0) == 0 || l == ".\r\n" {
                                break;
                            }
                            mail.push_str(&l);
                        }
                        kept.lock().unwrap().push(mail);
                        b"250 kept\r\n"
                    } else if up.starts_with("QUIT") {
                        let _ = w.write_all(b"221 bye\r\n");
                        break;
                    } else {
                        b"250 ok\r\n"
                    };
                    let _ = w.write_all(answer);
                }
            });
        }
    });
    (port, mails)
}
