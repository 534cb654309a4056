//! A whole election through a real server over HTTP on a loopback port, with the real
//! `scrutin` binary for the trustees and the credential authority: 3 trustees (threshold
//! 2), 100 voters with re-votes, one-time codes read from the dry-run outbox, close, tally
//! with one trustee absent, then `scrutin verify` on the downloaded record and the result
//! compared with the plaintext count. Plus abuse cases of the protocol routes, and a
//! restart in the middle of the voting.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::*;
use scrutin_election::Hash32;
use scrutin_election::ceremony;
use scrutin_election::credential;
use scrutin_election::crypto::dkg;
use scrutin_election::crypto::rng::{SeededRng, os_rng};
use scrutin_election::definition::QuestionChoice;
use scrutin_election::demo::{count_choices, random_choice};
use scrutin_election::record::Event;
use scrutin_election::roles::{Receipt, Role, RoleKey, Signed};
use scrutin_election::tally::PerQuestion;
use scrutin_election::verify::RecordState;
use scrutin_server::protocol;
use serde::Deserialize;
use serde_json::{Value, json};

/// A receipt as the server sent it, checked to be signed by the board key the record's
/// definition names.
fn signed_receipt(state: &RecordState, v: &Value) -> Receipt {
    let r = Receipt::deserialize(v).unwrap();
    r.verify(&state.definition.as_ref().unwrap().board_key.unwrap())
        .unwrap();
    r
}

/// Two receipts for the same ballot: the same statement (each signature is drawn afresh).
fn same_statement(a: &Value, b: &Value) {
    let strip = |v: &Value| {
        let mut v = v.clone();
        v.as_object_mut().unwrap().remove("signature");
        v
    };
    assert_eq!(strip(a), strip(b));
    assert!(a["signature"].is_object() && b["signature"].is_object());
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
    whole_election_over_http(None);
}

#[test]
fn whole_election_over_http_with_the_cli_roles_postgres() {
    if let Some(db) =
        pg::TestDatabase::create("whole_election_over_http_with_the_cli_roles_postgres")
    {
        whole_election_over_http(Some(db));
    }
}

fn whole_election_over_http(db: Option<pg::TestDatabase>) {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_on(dir.path(), true, db);
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
        assert_eq!(receipt["weight"], *weight);
        signed_receipt(&state, &receipt);
        count_choices(&mut expected, &choices, *weight);
        receipts.push(receipt);
        ballots.push((login.clone(), b));
    }
    // The first voter votes with the CLI: code requested here, read from the outbox.
    let (login, email, weight, credential) = &s.voters[0];
    let before = code_mails(&outbox).len();
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
    same_statement(&again, &receipts[0]);
    signed_receipt(&state, &again);
    let after = api.ok("GET", &format!("/api/elections/{id}"), None, None);
    assert_eq!(after["ballots"], public["ballots"]);

    // A ballot copied under another credential: its signature is not that credential's
    // (B4), its proofs are bound to the first credential (B5) and its ciphertexts are on
    // the board (B7); the proofs are checked first.
    let (login2, b2) = &ballots[1];
    let mut copy = b1.clone();
    copy.credential = b2.credential;
    let (status, v) = cast(&api, &id, &tokens[login2], &copy);
    assert!((400..500).contains(&status), "{status} {v}");
    let msg = v["message"].as_str().unwrap();
    assert!(["B4", "B5", "B7"].iter().any(|c| msg.contains(c)), "{v}");

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

    check_receipts(dir.path(), &receipts);

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
    // The same head, signed by the same board key (kept in the data folder).
    let head_after = api.ok("GET", &format!("/api/elections/{id}/head"), None, None);
    for k in ["events", "head", "board_key"] {
        assert_eq!(head_after[k], head_before[k], "{k}");
    }
    same_statement(&head_after["signed"], &head_before["signed"]);
    let signed = scrutin_election::roles::SignedHead::deserialize(&head_after["signed"]).unwrap();
    signed
        .verify(&state.definition.as_ref().unwrap().board_key.unwrap())
        .unwrap();
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
    same_statement(&r, &receipts[0]);
    signed_receipt(&state, &r);
    close_tally_verify(&api, dir.path(), &s, &[2, 3], &expected);
    server.stop();
}

#[test]
fn the_scheduler_opens_and_closes_on_time() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), true);
    let api = Api::new(&server.base);
    let s = prepare(&api, dir.path(), 3);
    // Before the opening the credentials cannot be mailed: each mail carries the election
    // fingerprint, which the opening fixes.
    let mails = dir.path().join("early-mails");
    let err = scrutin_fails(&[
        "credentials",
        "mail",
        "--server",
        &api.base,
        "--election",
        &s.id,
        "--private",
        dir.path().join("credentials.json").to_str().unwrap(),
        "--outbox",
        mails.to_str().unwrap(),
    ]);
    assert!(err.contains("not open yet"), "{err}");
    assert!(!mails.exists());
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
        Some(&json!({ "description": description_with_keys(dir.path()) })),
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
        "--key",
        trustee_key_file(dir.path(), 1).to_str().unwrap(),
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

/// Logs in as the administrator; returns the session token.
fn admin_login(api: &Api) -> String {
    api.ok(
        "POST",
        "/api/admin/login",
        None,
        Some(&json!({"username": ADMIN, "password": PASSWORD})),
    )["token"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Adds voters (login, weight) to a draft election.
fn add_voters(api: &Api, admin: &str, id: &str, voters: &[(&str, u64)]) {
    let csv: String = voters
        .iter()
        .map(|(login, w)| format!("{login},{login}@example.org,{w}\n"))
        .collect();
    let r = api
        .http
        .post(format!("{}/api/admin/elections/{id}/voters", api.base))
        .bearer_auth(admin)
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().unwrap());
}

/// Posts a signed event as a role token holder: (status, answer).
fn post_event(api: &Api, id: &str, token: &str, event: &Event) -> (u16, Value) {
    let body: Value = serde_json::from_str(&event.body_json().unwrap()).unwrap();
    match event {
        Event::Credentials(_) => api.call(
            "POST",
            &format!("/api/elections/{id}/authority/credentials"),
            Some(token),
            Some(&body),
        ),
        _ => api.call(
            "POST",
            &format!("/api/elections/{id}/trustee/events"),
            Some(token),
            Some(&json!({"type": event.kind(), "body": body})),
        ),
    }
}

/// The administrator takes the role tokens over (it can always issue new ones) and posts,
/// with them, key-generation events and a credential list signed with keys of its own:
/// every one is refused by the checks of the signatures against the keys the definition
/// names (S1, S2), and the record does not change.
#[test]
fn an_operator_with_the_role_tokens_cannot_act_for_the_trustees_or_the_authority() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), true);
    let api = Api::new(&server.base);
    let admin = admin_login(&api);
    let id = api.ok(
        "POST",
        "/api/admin/elections",
        Some(&admin),
        Some(&json!({ "description": description_with_keys(dir.path()) })),
    )["id"]
        .as_str()
        .unwrap()
        .to_owned();
    add_voters(&api, &admin, &id, &[("ann", 1), ("ben", 1), ("cat", 2)]);
    let roles_url = format!("/api/admin/elections/{id}/roles");
    let first = api.ok("POST", &roles_url, Some(&admin), None);
    let token =
        |roles: &Value, i: usize| roles["trustees"][i]["token"].as_str().unwrap().to_owned();
    let commit = |i: usize, token: &str| {
        let secret = dir.path().join(format!("trustee{i}.json"));
        scrutin(&[
            "trustee",
            "commit",
            "--server",
            &api.base,
            "--election",
            &id,
            "--token",
            token,
            "--key",
            trustee_key_file(dir.path(), i).to_str().unwrap(),
            "--secret",
            secret.to_str().unwrap(),
        ]);
    };
    commit(1, &token(&first, 0));
    commit(2, &token(&first, 1));

    // The takeover: new tokens (the old ones stop working) and keys of the operator's own.
    let roles = api.ok("POST", &roles_url, Some(&admin), None);
    let (status, _) = api.call(
        "POST",
        &format!("/api/elections/{id}/trustee/events"),
        Some(&token(&first, 2)),
        Some(&json!({"type": "trustee_commitment", "body": {}})),
    );
    assert_eq!(status, 401);
    let mut rng = os_rng();
    let own_trustee = RoleKey::generate(Role::Trustee, "Carol", &mut rng);
    let own_authority = RoleKey::generate(Role::Authority, "Registrar", &mut rng);
    let before = api.record(&id);
    let state = RecordState::from_record(&before).unwrap();
    let ctx = state.election_hash;
    let refused = |event: &Event, token: &str, check: &str| {
        let (status, v) = post_event(&api, &id, token, event);
        assert!(
            (400..500).contains(&status),
            "{} accepted: {status} {v}",
            event.kind()
        );
        let message = v["message"].as_str().unwrap();
        assert!(message.contains(check), "{check} not named: {v}");
        assert_eq!(api.record(&id), before, "the record changed");
    };

    // Trustee 3's commitment, correct in every other respect (its proofs are bound to
    // trustee 3), signed with the operator's key.
    let params = state.dkg_parameters().unwrap();
    let (_, commitment) = dkg::commit(&params, &ctx.0, 3, &mut rng).unwrap();
    let forged = Event::TrusteeCommitment(
        Signed::sign(
            commitment,
            "trustee_commitment",
            &ctx,
            &own_trustee,
            &mut rng,
        )
        .unwrap(),
    );
    refused(&forged, &token(&roles, 2), "S1");

    // Trustee 3 commits with the new token (the definition names its key: accepted).
    commit(3, &token(&roles, 2));
    let before = api.record(&id);
    let state = RecordState::from_record(&before).unwrap();
    // Trustee 1's very dealing, signed again with the operator's key.
    let secrets: ceremony::TrusteeSecretFile =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("trustee1.json")).unwrap())
            .unwrap();
    let Event::DealerShares(real) = ceremony::trustee_deal(&state, &secrets, &mut rng).unwrap()
    else {
        panic!("not a dealing")
    };
    let forged = Event::DealerShares(
        Signed::sign(
            real.body.clone(),
            "dealer_shares",
            &ctx,
            &own_trustee,
            &mut rng,
        )
        .unwrap(),
    );
    let (status, v) = post_event(&api, &id, &token(&roles, 0), &forged);
    assert_eq!(status, 422, "{v}");
    assert!(v["message"].as_str().unwrap().contains("S1"), "{v}");
    assert_eq!(api.record(&id), before);

    // A credential list matching the voter list (count, weights), signed with the
    // operator's key.
    let named = vec![
        ("ann".to_owned(), 1),
        ("ben".to_owned(), 1),
        ("cat".to_owned(), 2),
    ];
    let (_, list) = credential::issue(&id, &named, &mut rng).unwrap();
    let forged = Event::Credentials(
        Signed::sign(list.clone(), "credentials", &ctx, &own_authority, &mut rng).unwrap(),
    );
    let (status, v) = post_event(
        &api,
        &id,
        roles["credential_authority"].as_str().unwrap(),
        &forged,
    );
    assert_eq!(status, 422, "{v}");
    assert!(v["message"].as_str().unwrap().contains("S2"), "{v}");
    assert_eq!(api.record(&id), before);
    // The same dealing and list signed with the keys the definition names are accepted:
    // only the signatures were wrong.
    let real = Event::DealerShares(real);
    let (status, v) = post_event(&api, &id, &token(&roles, 0), &real);
    assert_eq!(status, 200, "{v}");
    let authority =
        RoleKey::from_json(&std::fs::read_to_string(authority_key_file(dir.path())).unwrap())
            .unwrap();
    let genuine =
        Event::Credentials(Signed::sign(list, "credentials", &ctx, &authority, &mut rng).unwrap());
    let (status, v) = post_event(
        &api,
        &id,
        roles["credential_authority"].as_str().unwrap(),
        &genuine,
    );
    assert_eq!(status, 200, "{v}");
    RecordState::from_record(&api.record(&id)).unwrap();
    server.stop();
}

/// An election whose definition names keys the trustee and the credential authority do
/// not hold (the operator put its own there): the CLI refuses to act, says so, and posts
/// nothing.
#[test]
fn the_cli_refuses_to_act_in_an_election_naming_other_keys() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), true);
    let api = Api::new(&server.base);
    let admin = admin_login(&api);
    let real = dir.path().join("real.json");
    let real_ca = dir.path().join("real-ca.json");
    keygen("trustee", "Alice", &real);
    keygen("credentials", "Registrar", &real_ca);
    let (attacker, attacker_ca) =
        scrutin_election::demo::role_keys(&TRUSTEES, b"keys the operator holds");
    let description = format!(
        "{DESCRIPTION}{}",
        scrutin_election::demo::roles_toml(&attacker, &attacker_ca)
    );
    let id = api.ok(
        "POST",
        "/api/admin/elections",
        Some(&admin),
        Some(&json!({ "description": description })),
    )["id"]
        .as_str()
        .unwrap()
        .to_owned();
    add_voters(&api, &admin, &id, &[("ann", 1), ("ben", 1)]);
    let roles = api.ok(
        "POST",
        &format!("/api/admin/elections/{id}/roles"),
        Some(&admin),
        None,
    );
    let before = api.record(&id);
    let secret = dir.path().join("secret.json");
    let err = scrutin_fails(&[
        "trustee",
        "commit",
        "--server",
        &api.base,
        "--election",
        &id,
        "--token",
        roles["trustees"][0]["token"].as_str().unwrap(),
        "--key",
        real.to_str().unwrap(),
        "--secret",
        secret.to_str().unwrap(),
    ]);
    assert!(err.contains("is not one of the trustee keys"), "{err}");
    assert!(err.contains("your key is not the one"), "{err}");
    assert!(!secret.exists());
    let private = dir.path().join("private.json");
    let err = scrutin_fails(&[
        "credentials",
        "generate",
        "--server",
        &api.base,
        "--election",
        &id,
        "--token",
        roles["credential_authority"].as_str().unwrap(),
        "--key",
        real_ca.to_str().unwrap(),
        "--private",
        private.to_str().unwrap(),
    ]);
    assert!(err.contains("is not the credential authority key"), "{err}");
    assert!(!private.exists());
    assert_eq!(api.record(&id), before);
    server.stop();
}

/// After the close, the board shows one trustee a forked record (the same up to `open`,
/// then a single ballot and a close of its own, chained properly: it verifies), while a
/// monitor follows the real one. The trustee's `decrypt --monitor` sees the monitor hold
/// another close event and refuses, posting nothing; against the real board it decrypts,
/// and its share names the real close line.
#[test]
fn a_trustee_refuses_to_decrypt_a_record_the_monitor_does_not_hold() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), true);
    let api = Api::new(&server.base);
    let s = setup(&api, dir.path(), 4);
    let id = s.id.clone();
    let state = RecordState::from_record(&api.record(&id)).unwrap();
    let tokens = log_in(&api, &id, &dir.path().join("outbox"), &s.voters);
    for (i, (login, _, _, credential)) in s.voters.iter().enumerate() {
        let choices = vec![
            QuestionChoice::Values((0..3).map(|a| u64::from(a == i % 3)).collect()),
            QuestionChoice::Values(vec![0, 0, 0, 0]),
        ];
        let (status, v) = cast(
            &api,
            &id,
            &tokens[login],
            &encrypt(&state, credential, &choices, login),
        );
        assert_eq!(status, 200, "{v}");
    }
    api.ok(
        "POST",
        &format!("/api/admin/elections/{id}/close"),
        Some(&s.admin),
        None,
    );
    let real = lines(&api.record(&id));
    let real_close = position_of(&real, "close");
    let monitor = MonitorChild::start(&server.base, &id, &dir.path().join("monitor"), &[]);
    monitor.wait_for_events(real.len() as u64);

    // The fork: everything up to `open`, the first ballot, and a close of its own.
    let open = position_of(&real, "open");
    let mut fork: Vec<String> = real[..=open + 1].to_vec();
    let st = RecordState::from_record(&record_bytes(&fork)).unwrap();
    let close = ceremony::close_event(&st).unwrap();
    fork.extend(lines(
        ceremony::lines_after(&st, &[close]).unwrap().as_bytes(),
    ));
    let forked = RecordState::from_record(&record_bytes(&fork)).unwrap();
    assert!(forked.close_hash.is_some());
    assert_ne!(
        forked.close_hash,
        RecordState::from_record(&record_bytes(&real))
            .unwrap()
            .close_hash
    );
    let stand_in = StandIn::start(
        &id,
        Board {
            lines: fork.clone(),
            ..Board::default()
        },
    );
    let secret = dir.path().join("trustee1.json");
    let decrypt = |server: &str| {
        scrutin_output(&[
            "trustee",
            "decrypt",
            "--server",
            server,
            "--election",
            &id,
            "--token",
            &s.trustee_tokens[0],
            "--secret",
            secret.to_str().unwrap(),
            "--monitor",
            &monitor.base,
        ])
    };
    let out = decrypt(&stand_in.base);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!out.status.success(), "decrypted a forked record: {text}");
    assert!(
        text.contains(&format!("holds another event {}", fork.len() - 1)),
        "{text}"
    );
    assert!(text.contains("(a fork)"), "{text}");
    assert_eq!(
        stand_in.posts(),
        0,
        "the trustee posted to the forked board"
    );

    // Against the real board, with the same monitor: the share names the real close line.
    let out = decrypt(&server.base);
    assert!(out.status.success(), "{out:?}");
    let after = lines(&api.record(&id));
    let share: Value = serde_json::from_str(&after[real.len()]).unwrap();
    assert_eq!(share["type"], "decryption_share");
    assert_eq!(
        share["body"]["close_hash"],
        Hash32::of(real[real_close].as_bytes()).to_hex()
    );
    assert_eq!(monitor.status()["ok"], true);
    drop(monitor);
    server.stop();
}

/// Every receipt the voters got is on the final record (`scrutin receipt check`, exit 0).
/// A copy of the record without one acknowledged ballot, its chain written again so that
/// it verifies, makes that receipt evidence (exit 1); a receipt whose position or tracker
/// was changed is refused as not signed by the board.
fn check_receipts(dir: &Path, receipts: &[Value]) {
    let record = dir.join("record.jsonl");
    let final_record = std::fs::read(&record).unwrap();
    let check = |receipt: &Value, record: &Path| {
        let file = dir.join("receipt.json");
        std::fs::write(&file, receipt.to_string()).unwrap();
        let out = scrutin_output(&[
            "receipt",
            "check",
            file.to_str().unwrap(),
            "--record",
            record.to_str().unwrap(),
        ]);
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.code(), text)
    };
    for r in receipts {
        let (code, text) = check(r, &record);
        assert_eq!(code, Some(0), "{r}: {text}");
        assert!(
            text.contains(&format!("at position {}", r["seq"])),
            "{text}"
        );
    }
    // The board drops the first acknowledged ballot and writes the chain again (up to the
    // close, which would otherwise no longer match): the copy verifies.
    let all = lines(&final_record);
    let victim = &receipts[0];
    let seq = victim["seq"].as_u64().unwrap() as usize;
    let close = position_of(&all, "close");
    let mut dropped: Vec<String> = all[..close].to_vec();
    dropped.remove(seq);
    let dropped = rechain(&dropped);
    let copy = dir.join("dropped.jsonl");
    std::fs::write(&copy, record_bytes(&dropped)).unwrap();
    RecordState::from_record(&record_bytes(&dropped)).unwrap();
    let (code, text) = check(victim, &copy);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("EVIDENCE"), "{text}");
    // Receipts changed after the board signed them are not the board's.
    for (member, value) in [
        ("seq", json!(victim["seq"].as_u64().unwrap() + 1)),
        ("tracker", receipts[1]["tracker"].clone()),
    ] {
        let mut changed = victim.clone();
        changed[member] = value;
        let (code, text) = check(&changed, &record);
        assert_ne!(code, Some(0), "{member}: {text}");
        assert!(
            text.contains("not signed by this election's board key"),
            "{member}: {text}"
        );
    }
}
