//! A whole election through a real server over HTTP on a loopback port, with the real
//! `scrutin` binary for the trustees and the credential authority: 3 trustees (threshold
//! 2), 100 voters with re-votes, one-time codes read from the dry-run outbox, close, tally
//! with one trustee absent, then `scrutin verify` on the downloaded record and the result
//! compared with the plaintext count. Plus abuse cases of the protocol routes, and a
//! restart in the middle of the voting.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use reqwest::blocking::Client;
use scrutin_election::ballot::{self, Ballot};
use scrutin_election::credential::Credential;
use scrutin_election::crypto::rng::SeededRng;
use scrutin_election::definition::QuestionChoice;
use scrutin_election::demo::{count_choices, random_choice};
use scrutin_election::tally::PerQuestion;
use scrutin_election::verify::RecordState;
use scrutin_server::{AppState, RunningServer, ServerConfig, auth, build_router, protocol};
use serde_json::{Value, json};

const ADMIN: &str = "official";
const PASSWORD: &str = "correct horse battery staple";

const DESCRIPTION: &str = r#"
title = "Association board 2026"
trustees = ["Alice", "Bob", "Carol"]
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

struct Server {
    rt: tokio::runtime::Runtime,
    state: AppState,
    running: Option<RunningServer>,
    base: String,
}

fn config(dir: &Path) -> ServerConfig {
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
    fn start(dir: &Path, create_admin: bool) -> Server {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let config = config(dir);
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
        }
    }

    fn stop(mut self) {
        if let Some(r) = self.running.take() {
            self.rt
                .block_on(r.shutdown(Duration::from_secs(5)))
                .unwrap();
        }
        self.rt.shutdown_timeout(Duration::from_secs(5));
    }
}

struct Api {
    base: String,
    http: Client,
}

impl Api {
    fn new(base: &str) -> Api {
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

    fn call(
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

    fn ok(&self, method: &str, path: &str, token: Option<&str>, body: Option<&Value>) -> Value {
        let (status, v) = self.call(method, path, token, body);
        assert!(
            (200..300).contains(&status),
            "{method} {path}: {status} {v}"
        );
        v
    }

    fn record(&self, id: &str) -> Vec<u8> {
        let r = self
            .http
            .get(format!("{}/api/elections/{id}/record", self.base))
            .send()
            .unwrap();
        assert_eq!(r.status(), 200);
        r.bytes().unwrap().to_vec()
    }
}

fn scrutin(args: &[&str]) -> String {
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

/// The code of the latest mail sent to `email` in the outbox, waiting for it.
fn codes_from_outbox(outbox: &Path, expected: usize) -> HashMap<String, String> {
    for _ in 0..400 {
        let mut files: Vec<PathBuf> = std::fs::read_dir(outbox)
            .map(|d| d.map(|e| e.unwrap().path()).collect())
            .unwrap_or_default();
        files.retain(|p| p.extension().is_some_and(|e| e == "eml"));
        files.sort();
        if files.len() >= expected {
            let mut codes = HashMap::new();
            for f in files {
                let text = std::fs::read_to_string(&f).unwrap();
                let to = text
                    .lines()
                    .find_map(|l| l.strip_prefix("To: "))
                    .unwrap()
                    .trim()
                    .to_owned();
                let code = text
                    .lines()
                    .map(str::trim)
                    .find(|l| l.len() == 8 && l.bytes().all(|b| b.is_ascii_digit()))
                    .unwrap_or_else(|| panic!("no code in {text}"))
                    .to_owned();
                codes.insert(to, code);
            }
            return codes;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("fewer than {expected} mails in the outbox");
}

/// A minimal SMTP relay on a loopback port that keeps every message it is given.
fn smtp_sink() -> (u16, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
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

struct Setup {
    id: String,
    admin: String,
    trustee_tokens: Vec<String>,
    /// login → (email, weight, credential)
    voters: Vec<(String, String, u64, String)>,
}

/// Creates, keys and opens an election with `n` voters through HTTP and the CLI.
fn setup(api: &Api, dir: &Path, n: usize) -> Setup {
    let s = prepare(api, dir, n, None);
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
/// With `smtp_port`, the credential authority mails the credentials through that relay;
/// otherwise it writes them to an outbox folder.
fn prepare(api: &Api, dir: &Path, n: usize, smtp_port: Option<u16>) -> Setup {
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
        Some(&json!({ "description": DESCRIPTION })),
    );
    let id = meta["id"].as_str().unwrap().to_owned();
    assert_eq!(meta["state"], "draft");
    let csv: String = (1..=n)
        .map(|i| {
            format!(
                "voter{i:03},voter{i:03}@example.org,{}\n",
                1 + (i % 3 == 0) as u64
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
            scrutin(&[
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
            ]);
        }
    }
    let public = api.ok("GET", &format!("/api/elections/{id}"), None, None);
    assert!(public["election_key"].is_string(), "{public}");
    let private = dir.join("credentials.json");
    let outbox = dir.join("credential-mails");
    let port = smtp_port.map(|p| p.to_string()).unwrap_or_default();
    let mut args = vec![
        "credentials",
        "generate",
        "--server",
        &base,
        "--election",
        &id,
        "--token",
        &authority,
        "--private",
        private.to_str().unwrap(),
    ];
    if smtp_port.is_some() {
        args.extend([
            "--send-mail",
            "127.0.0.1",
            "--smtp-port",
            &port,
            "--smtp-security",
            "plain",
            "--mail-from",
            "authority@example.org",
        ]);
    } else {
        args.extend(["--outbox", outbox.to_str().unwrap()]);
    }
    scrutin(&args);
    if smtp_port.is_none() {
        assert_eq!(std::fs::read_dir(&outbox).unwrap().count(), n);
    }
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
        voters,
    }
}

/// Logs voters in (codes from the outbox); returns login → voter session token.
fn log_in(
    api: &Api,
    id: &str,
    outbox: &Path,
    voters: &[(String, String, u64, String)],
) -> HashMap<String, String> {
    let before = std::fs::read_dir(outbox).map(|d| d.count()).unwrap_or(0);
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

fn encrypt(
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

fn cast(api: &Api, id: &str, token: &str, b: &Ballot) -> (u16, Value) {
    api.call(
        "POST",
        &format!("/api/elections/{id}/ballots"),
        Some(token),
        Some(&serde_json::to_value(b).unwrap()),
    )
}

fn empty_count(state: &RecordState) -> Vec<PerQuestion<u64>> {
    state
        .definition
        .as_ref()
        .unwrap()
        .questions
        .iter()
        .map(|q| PerQuestion {
            choices: vec![0; q.answers.len()],
            blank: q.blank.then_some(0),
        })
        .collect()
}

fn close_tally_verify(
    api: &Api,
    dir: &Path,
    s: &Setup,
    present: &[usize],
    expected: &[PerQuestion<u64>],
) {
    let id = &s.id;
    api.ok(
        "POST",
        &format!("/api/admin/elections/{id}/close"),
        Some(&s.admin),
        None,
    );
    // Tally refused before k shares.
    let (status, v) = api.call(
        "POST",
        &format!("/api/admin/elections/{id}/tally"),
        Some(&s.admin),
        None,
    );
    assert_eq!(status, 409, "{v}");
    for &i in present {
        let secret = dir.join(format!("trustee{i}.json"));
        scrutin(&[
            "trustee",
            "decrypt",
            "--server",
            &api.base,
            "--election",
            id,
            "--token",
            &s.trustee_tokens[i - 1],
            "--secret",
            secret.to_str().unwrap(),
        ]);
    }
    api.ok(
        "POST",
        &format!("/api/admin/elections/{id}/tally"),
        Some(&s.admin),
        None,
    );
    let public = api.ok("GET", &format!("/api/elections/{id}"), None, None);
    assert_eq!(public["state"], "tallied");
    let record = api.record(id);
    let text = String::from_utf8(record.clone()).unwrap();
    assert!(!text.contains("example.org") && !text.contains("voter0"));
    let path = dir.join("record.jsonl");
    std::fs::write(&path, &record).unwrap();
    let report: Value =
        serde_json::from_str(&scrutin(&["verify", path.to_str().unwrap(), "--json"])).unwrap();
    assert!(report.to_string().contains("tallied"), "{report}");
    let state = RecordState::from_record(&record).unwrap();
    let result = state.result.as_ref().unwrap();
    assert_eq!(result.questions, expected);
    let mut trustees = result.trustees.clone();
    trustees.sort_unstable();
    assert_eq!(
        trustees,
        present.iter().map(|i| *i as u32).collect::<Vec<_>>()
    );
    let published = api.ok("GET", &format!("/api/elections/{id}/result"), None, None);
    assert_eq!(published["result"], serde_json::to_value(result).unwrap());
    let (status, _) = api.call(
        "POST",
        &format!("/api/admin/elections/{id}/archive"),
        Some(&s.admin),
        None,
    );
    assert_eq!(status, 204);
    let public = api.ok("GET", &format!("/api/elections/{id}"), None, None);
    assert_eq!(public["state"], "archived");
    assert_eq!(api.record(id), record);
}

#[test]
fn whole_election_over_http_with_the_cli_roles() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), true);
    let api = Api::new(&server.base);
    let s = setup(&api, dir.path(), 100);
    let id = s.id.clone();
    let outbox = dir.path().join("outbox");

    // The OpenAPI document is served.
    let doc = api.ok("GET", "/api/openapi.json", None, None);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));

    let state = RecordState::from_record(&api.record(&id)).unwrap();
    let def = state.definition.clone().unwrap();
    let tokens = log_in(&api, &id, &outbox, &s.voters);
    let mut rng = SeededRng::new(b"choices");
    let mut expected = empty_count(&state);
    let mut receipts = Vec::new();
    let mut ballots = Vec::new();
    for (n, (login, _, weight, credential)) in s.voters.iter().enumerate().skip(1) {
        let mut draw = || -> Vec<QuestionChoice> {
            def.questions
                .iter()
                .map(|q| random_choice(q, 10, &mut rng))
                .collect()
        };
        let mut choices = draw();
        if n % 5 == 0 {
            // A re-vote: the first ballot is replaced by the second in the tally.
            let first = encrypt(&state, credential, &choices, &format!("{login}-1"));
            let (status, v) = cast(&api, &id, &tokens[login], &first);
            assert_eq!(status, 200, "{v}");
            choices = draw();
        }
        let b = encrypt(&state, credential, &choices, login);
        let (status, receipt) = cast(&api, &id, &tokens[login], &b);
        assert_eq!(status, 200, "{receipt}");
        assert_eq!(receipt["tracker"], b.tracker().to_hex());
        assert_eq!(receipt["election"], state.fingerprint.unwrap().to_hex());
        count_choices(&mut expected, &choices, *weight);
        receipts.push(receipt);
        ballots.push((login.clone(), b));
    }
    // The first voter votes with the CLI: code requested here, read from the outbox.
    let (login, email, weight, credential) = &s.voters[0];
    let before = std::fs::read_dir(&outbox).unwrap().count();
    api.ok(
        "POST",
        &format!("/api/elections/{id}/login"),
        None,
        Some(&json!({ "login": login })),
    );
    let code = codes_from_outbox(&outbox, before + 1)[email].clone();
    let choices_path = dir.path().join("choices.json");
    std::fs::write(&choices_path, r#"[[0,1,0],[1,0,0,1]]"#).unwrap();
    let out = scrutin(&[
        "ballot",
        "cast",
        "--server",
        &api.base,
        "--election",
        &id,
        "--login",
        login,
        "--code",
        &code,
        "--credential",
        credential,
        "--choices",
        choices_path.to_str().unwrap(),
    ]);
    assert!(out.contains("Tracker:"), "{out}");
    count_choices(
        &mut expected,
        &[
            QuestionChoice::Values(vec![0, 1, 0]),
            QuestionChoice::Values(vec![1, 0, 0, 1]),
        ],
        *weight,
    );

    // Public lookups.
    let r0 = &receipts[0];
    let found = api.ok(
        "GET",
        &format!(
            "/api/elections/{id}/trackers/{}",
            r0["tracker"].as_str().unwrap()
        ),
        None,
        None,
    );
    assert_eq!(found["seq"], r0["seq"]);
    let (status, _) = api.call(
        "GET",
        &format!("/api/elections/{id}/trackers/{}", "0".repeat(64)),
        None,
        None,
    );
    assert_eq!(status, 404);
    let head = api.ok("GET", &format!("/api/elections/{id}/head"), None, None);
    let full = api.record(&id);
    assert_eq!(
        head["head"],
        RecordState::from_record(&full).unwrap().head.to_hex()
    );
    // Resumable: the record from a sequence number is the tail of the whole.
    let from = r0["seq"].as_u64().unwrap();
    let tail = api
        .http
        .get(format!(
            "{}/api/elections/{id}/record?from={from}",
            api.base
        ))
        .send()
        .unwrap()
        .bytes()
        .unwrap();
    assert!(full.ends_with(&tail) && tail.len() < full.len());
    let public = api.ok("GET", &format!("/api/elections/{id}"), None, None);
    assert_eq!(public["ballots"], 100 + 99 / 5);
    assert!(!public.to_string().contains("example.org"));

    // Abuse: a replayed ballot gets the same receipt and no second entry.
    let (login1, b1) = &ballots[0];
    let (status, again) = cast(&api, &id, &tokens[login1], b1);
    assert_eq!(status, 200, "{again}");
    assert_eq!(&again, &receipts[0]);
    let after = api.ok("GET", &format!("/api/elections/{id}"), None, None);
    assert_eq!(after["ballots"], public["ballots"]);

    // A ballot copied under another credential: its ciphertexts are on the board (B7) and
    // its proofs are bound to the first credential (B5).
    let (login2, b2) = &ballots[1];
    let mut copy = b1.clone();
    copy.credential = b2.credential;
    let (status, v) = cast(&api, &id, &tokens[login2], &copy);
    assert!((400..500).contains(&status), "{status} {v}");
    let msg = v["message"].as_str().unwrap();
    assert!(msg.contains("B7") || msg.contains("B5"), "{v}");

    // A login cannot switch credentials.
    let other = encrypt(
        &state,
        &s.voters[4].3,
        &[
            QuestionChoice::blank(),
            QuestionChoice::Values(vec![0, 0, 0, 0]),
        ],
        "x",
    );
    let (status, v) = cast(&api, &id, &tokens[login2], &other);
    assert_eq!(status, 403, "{v}");

    // Malformed and oversized bodies.
    let t = &tokens[login2];
    let url = format!("{}/api/elections/{id}/ballots", api.base);
    for (body, want) in [
        ("{not json".to_owned(), 400),
        (r#"{"election":"00"}"#.to_owned(), 422),
        (format!(r#"{{"x":"{}"}}"#, "a".repeat(2 << 20)), 413),
    ] {
        let r = api
            .http
            .post(&url)
            .bearer_auth(t)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .unwrap();
        assert_eq!(r.status().as_u16(), want);
        let v: Value = r.json().unwrap();
        assert!(v["error"].is_string() && v["message"].is_string(), "{v}");
    }
    // A trustee's event for the wrong stage or another trustee.
    let (status, v) = api.call(
        "POST",
        &format!("/api/elections/{id}/trustee/events"),
        Some(&s.trustee_tokens[0]),
        Some(&json!({"type": "decryption_share", "body": {}})),
    );
    assert_eq!(status, 409, "{v}");
    let (status, _) = api.call(
        "POST",
        &format!("/api/elections/{id}/trustee/events"),
        Some("f".repeat(64).as_str()),
        Some(&json!({"type": "trustee_check", "body": {}})),
    );
    assert_eq!(status, 401);

    // Close, then a late ballot is refused.
    let late = encrypt(
        &state,
        &s.voters[3].3,
        &[
            QuestionChoice::blank(),
            QuestionChoice::Values(vec![0, 0, 0, 0]),
        ],
        "late",
    );
    let present = [1usize, 3];
    let expected_clone = expected.clone();
    close_tally_verify(&api, dir.path(), &s, &present, &expected_clone);
    let (status, v) = cast(&api, &id, &tokens[&s.voters[3].0], &late);
    assert_eq!(status, 409, "{v}");
    assert_eq!(v["error"], "election_not_open");

    // The audit log has every administrative step.
    let log = api.ok(
        "GET",
        &format!("/api/admin/elections/{id}/audit-log?limit=1000"),
        Some(&s.admin),
        None,
    );
    let actions: Vec<&str> = log["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for a in [
        "election.create",
        "voters.import",
        "election.role_tokens",
        "credentials.publish",
        "election.open",
        "election.close",
        "election.tally",
    ] {
        assert!(actions.contains(&a), "{a} missing from {actions:?}");
    }
    server.stop();
}

#[test]
fn acknowledged_ballots_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), true);
    let api = Api::new(&server.base);
    let s = setup(&api, dir.path(), 12);
    let id = s.id.clone();
    let outbox = dir.path().join("outbox");
    let state = RecordState::from_record(&api.record(&id)).unwrap();
    let tokens = log_in(&api, &id, &outbox, &s.voters);
    let mut expected = empty_count(&state);
    let mut receipts = Vec::new();
    let choose = |i: usize| {
        vec![
            QuestionChoice::Values((0..3).map(|a| u64::from(a == i % 3)).collect()),
            QuestionChoice::Values((0..4).map(|a| u64::from(a == i % 4)).collect()),
        ]
    };
    for (i, (login, _, weight, credential)) in s.voters.iter().enumerate().take(6) {
        let b = encrypt(&state, credential, &choose(i), login);
        let (status, r) = cast(&api, &id, &tokens[login], &b);
        assert_eq!(status, 200, "{r}");
        receipts.push(r);
        count_choices(&mut expected, &choose(i), *weight);
    }
    let head_before = api.ok("GET", &format!("/api/elections/{id}/head"), None, None);
    server.stop();

    let server = Server::start(dir.path(), false);
    let api = Api::new(&server.base);
    assert_eq!(
        api.ok("GET", &format!("/api/elections/{id}/head"), None, None),
        head_before
    );
    for r in &receipts {
        let found = api.ok(
            "GET",
            &format!(
                "/api/elections/{id}/trackers/{}",
                r["tracker"].as_str().unwrap()
            ),
            None,
            None,
        );
        assert_eq!(found["seq"], r["seq"]);
    }
    let record = api.record(&id);
    let after = RecordState::from_record(&record).unwrap();
    assert_eq!(after.ballots, 6);
    // Voting goes on after the restart (sessions are durable too).
    for (i, (login, _, weight, credential)) in s.voters.iter().enumerate().skip(6) {
        let b = encrypt(&state, credential, &choose(i), login);
        let (status, r) = cast(&api, &id, &tokens[login], &b);
        assert_eq!(status, 200, "{r}");
        count_choices(&mut expected, &choose(i), *weight);
    }
    // A replay of a ballot acknowledged before the restart gets its receipt again.
    let (login, _, _, credential) = &s.voters[0];
    let b = encrypt(&state, credential, &choose(0), login);
    let (status, r) = cast(&api, &id, &tokens[login], &b);
    assert_eq!(status, 200);
    assert_eq!(r, receipts[0]);
    close_tally_verify(&api, dir.path(), &s, &[2, 3], &expected);
    server.stop();
}

#[test]
fn the_scheduler_opens_and_closes_on_time() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), true);
    let api = Api::new(&server.base);
    let (port, sink) = smtp_sink();
    let s = prepare(&api, dir.path(), 3, Some(port));
    // The credential authority mailed each voter its credential through its own relay.
    let mails = sink.lock().unwrap().clone();
    assert_eq!(mails.len(), 3);
    for (login, email, _, credential) in &s.voters {
        assert!(
            mails.iter().any(|m| m.contains(email.as_str())
                && m.contains(credential.as_str())
                && m.contains(login.as_str())),
            "no mail for {login} in {mails:?}"
        );
    }
    // And mails again later from (part of) the private file, as the authority's web page
    // also saves it; a credential that is not on the published list is refused first.
    let all: Vec<Value> = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("credentials.json")).unwrap(),
    )
    .unwrap();
    let part = dir.path().join("part.json");
    let port = port.to_string();
    let mail = |file: &Path| {
        Command::new(env!("CARGO_BIN_EXE_scrutin"))
            .args(["credentials", "mail", "--server", &api.base, "--election"])
            .args([&s.id, "--private", file.to_str().unwrap(), "--send-mail"])
            .args([
                "127.0.0.1",
                "--smtp-port",
                &port,
                "--smtp-security",
                "plain",
            ])
            .args(["--mail-from", "authority@example.org"])
            .output()
            .unwrap()
    };
    std::fs::write(&part, serde_json::to_string(&all[1..2]).unwrap()).unwrap();
    let out = mail(&part);
    assert!(out.status.success(), "{out:?}");
    let mails = sink.lock().unwrap().clone();
    assert_eq!(mails.len(), 4);
    assert!(mails[3].contains(all[1]["credential"].as_str().unwrap()));
    let mut forged = all[1..2].to_vec();
    forged[0]["credential"] = Credential::generate(&mut SeededRng::new(b"stranger"))
        .display()
        .into();
    std::fs::write(&part, serde_json::to_string(&forged).unwrap()).unwrap();
    let out = mail(&part);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("not on this election's published list"),
        "{out:?}"
    );
    assert_eq!(sink.lock().unwrap().len(), 4);
    let id = &s.id;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let (status, v) = api.call(
        "PUT",
        &format!("/api/admin/elections/{id}/schedule"),
        Some(&s.admin),
        Some(&json!({"opens_at": now + 1, "closes_at": now})),
    );
    assert_eq!(status, 400, "{v}");
    let meta = api.ok(
        "PUT",
        &format!("/api/admin/elections/{id}/schedule"),
        Some(&s.admin),
        Some(&json!({"opens_at": now, "closes_at": now + 3})),
    );
    assert_eq!(meta["opens_at"], now);
    {
        let _rt = server.rt.enter();
        protocol::spawn_scheduler(server.state.clone(), Duration::from_millis(200));
    }
    let wait_for = |state: &str| {
        for _ in 0..100 {
            let v = api.ok("GET", &format!("/api/elections/{id}"), None, None);
            if v["state"] == state {
                return v;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("the election never became {state}");
    };
    let open = wait_for("open");
    assert_eq!(open["stage"], "open");
    let closed = wait_for("closed");
    assert_eq!(closed["stage"], "closed");
    let log = api.ok(
        "GET",
        &format!("/api/admin/elections/{id}/audit-log"),
        Some(&s.admin),
        None,
    );
    let by_system: Vec<&str> = log["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["actor"] == "system")
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(by_system, ["election.open", "election.close"]);
    server.stop();
}

#[test]
fn scrutin_serve_creates_an_admin_and_serves() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let out = Command::new(env!("CARGO_BIN_EXE_scrutin"))
        .args([
            "serve",
            "--data",
            data.to_str().unwrap(),
            "--create-admin",
            ADMIN,
        ])
        .env("SCRUTIN_ADMIN_PASSWORD", PASSWORD)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let listen = format!("127.0.0.1:{port}");
    let mut child = Command::new(env!("CARGO_BIN_EXE_scrutin"))
        .args([
            "serve",
            "--data",
            data.to_str().unwrap(),
            "--listen",
            &listen,
        ])
        .env("SCRUTIN_LOG", "warn")
        .spawn()
        .unwrap();
    let api = Api::new(&format!("http://{listen}"));
    let mut up = false;
    for _ in 0..100 {
        if api
            .http
            .get(format!("{}/api/health", api.base))
            .send()
            .is_ok_and(|r| r.status() == 200)
        {
            up = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let login = up.then(|| {
        api.call(
            "POST",
            "/api/admin/login",
            None,
            Some(&json!({"username": ADMIN, "password": PASSWORD})),
        )
    });
    let doc = up.then(|| api.call("GET", "/api/openapi.json", None, None));
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(up, "the server did not come up");
    let (status, v) = login.unwrap();
    assert_eq!(status, 200, "{v}");
    assert_eq!(doc.unwrap().0, 200);
}

#[test]
fn invalid_role_events_are_refused_naming_the_check() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), true);
    let api = Api::new(&server.base);
    let admin = api.ok(
        "POST",
        "/api/admin/login",
        None,
        Some(&json!({"username": ADMIN, "password": PASSWORD})),
    )["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, v) = api.call(
        "POST",
        "/api/admin/elections",
        Some(&admin),
        Some(&json!({"description": "title = \"x\"\ntrustees = []\nthreshold = 1\n"})),
    );
    assert_eq!(status, 422, "{v}");
    let id = api.ok(
        "POST",
        "/api/admin/elections",
        Some(&admin),
        Some(&json!({ "description": DESCRIPTION })),
    )["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let roles = api.ok(
        "POST",
        &format!("/api/admin/elections/{id}/roles"),
        Some(&admin),
        None,
    );
    let t = |i: usize| roles["trustees"][i]["token"].as_str().unwrap().to_owned();
    let secret = dir.path().join("t1.json");
    scrutin(&[
        "trustee",
        "commit",
        "--server",
        &api.base,
        "--election",
        &id,
        "--token",
        &t(0),
        "--secret",
        secret.to_str().unwrap(),
    ]);
    let record = String::from_utf8(api.record(&id)).unwrap();
    let line: Value = serde_json::from_str(record.lines().nth(1).unwrap()).unwrap();
    let mut body = line["body"].clone();
    let events = format!("/api/elections/{id}/trustee/events");
    // Trustee 1's token cannot post for trustee 2.
    body["index"] = json!(2);
    let (status, v) = api.call(
        "POST",
        &events,
        Some(&t(0)),
        Some(&json!({"type": "trustee_commitment", "body": body})),
    );
    assert_eq!(status, 403, "{v}");
    // Trustee 2 replaying trustee 1's commitment: its proofs are bound to trustee 1 (K1).
    let (status, v) = api.call(
        "POST",
        &events,
        Some(&t(1)),
        Some(&json!({"type": "trustee_commitment", "body": body})),
    );
    assert_eq!(status, 422, "{v}");
    assert!(v["message"].as_str().unwrap().contains("K1"), "{v}");
    // A body that is not a commitment at all (R5), an unknown type, the wrong stage.
    let (status, v) = api.call(
        "POST",
        &events,
        Some(&t(1)),
        Some(&json!({"type": "trustee_commitment", "body": {"index": 2}})),
    );
    assert_eq!(status, 422, "{v}");
    assert!(v["message"].as_str().unwrap().contains("R5"), "{v}");
    let (status, _) = api.call(
        "POST",
        &events,
        Some(&t(1)),
        Some(&json!({"type": "result", "body": {}})),
    );
    assert_eq!(status, 400);
    let (status, v) = api.call(
        "POST",
        &events,
        Some(&t(1)),
        Some(&json!({"type": "dealer_shares", "body": {"dealer": 2, "shares": []}})),
    );
    assert!(status == 409 || status == 422, "{status} {v}");
    // The record is unchanged, and verifies.
    let after = api.record(&id);
    assert_eq!(after, record.as_bytes());
    RecordState::from_record(&after).unwrap();
    // The credential authority's list must match the voter list; its token is not a trustee's.
    let ca = roles["credential_authority"].as_str().unwrap();
    let (status, v) = api.call(
        "POST",
        &format!("/api/elections/{id}/authority/credentials"),
        Some(ca),
        Some(&json!({"credentials": []})),
    );
    assert_eq!(status, 422, "{v}");
    let (status, _) = api.call(
        "POST",
        &events,
        Some(ca),
        Some(&json!({"type": "trustee_check", "body": {}})),
    );
    assert_eq!(status, 403);
    // Opening before the key is refused.
    let (status, v) = api.call(
        "POST",
        &format!("/api/admin/elections/{id}/open"),
        Some(&admin),
        None,
    );
    assert_eq!(status, 409, "{v}");
    server.stop();
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `scrutin serve` as a child process, up and answering.
fn serve_child(config: &Path, listen: &str) -> std::process::Child {
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

#[test]
fn acknowledged_ballots_survive_kill_9_of_scrutin_serve() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("server.toml");
    std::fs::write(
        &config,
        format!(
            "data_dir = {:?}\n[mail]\noutbox = {:?}\n[limits]\nper_ip_rate_per_sec = 100000.0\nper_ip_burst = 1000000\n[otp]\nmax_sends_per_hour = 1000\n",
            dir.path().join("data"),
            dir.path().join("outbox")
        ),
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_scrutin"))
        .args(["serve", "--config", config.to_str().unwrap()])
        .args(["--create-admin", ADMIN])
        .env("SCRUTIN_ADMIN_PASSWORD", PASSWORD)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let listen = format!("127.0.0.1:{}", free_port());
    let mut child = serve_child(&config, &listen);
    let api = Api::new(&format!("http://{listen}"));
    let s = setup(&api, dir.path(), 8);
    let id = s.id.clone();
    let state = RecordState::from_record(&api.record(&id)).unwrap();
    let tokens = log_in(&api, &id, &dir.path().join("outbox"), &s.voters);
    let mut expected = empty_count(&state);
    let mut receipts = Vec::new();
    for (i, (login, _, weight, credential)) in s.voters.iter().enumerate() {
        let choices = vec![
            QuestionChoice::Values((0..3).map(|a| u64::from(a == i % 3)).collect()),
            QuestionChoice::Values((0..4).map(|a| u64::from(a == (i + 1) % 4)).collect()),
        ];
        let b = encrypt(&state, credential, &choices, login);
        let (status, r) = cast(&api, &id, &tokens[login], &b);
        assert_eq!(status, 200, "{r}");
        receipts.push(r);
        count_choices(&mut expected, &choices, *weight);
    }
    // SIGKILL right after the last receipt: no graceful shutdown.
    child.kill().unwrap();
    child.wait().unwrap();

    let listen = format!("127.0.0.1:{}", free_port());
    let mut child = serve_child(&config, &listen);
    let api = Api::new(&format!("http://{listen}"));
    for r in &receipts {
        let found = api.ok(
            "GET",
            &format!(
                "/api/elections/{id}/trackers/{}",
                r["tracker"].as_str().unwrap()
            ),
            None,
            None,
        );
        assert_eq!(found["seq"], r["seq"]);
    }
    let after = RecordState::from_record(&api.record(&id)).unwrap();
    assert_eq!(after.ballots, 8);
    let last = receipts.last().unwrap();
    assert_eq!(after.head.to_hex(), last["head"].as_str().unwrap());
    close_tally_verify(&api, dir.path(), &s, &[1, 2], &expected);
    child.kill().unwrap();
    child.wait().unwrap();
}
