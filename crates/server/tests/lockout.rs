//! Attacks on availability, each reproduced and shown to fail: a stranger cannot keep a
//! voter from logging in (code requests, wrong codes), cannot tell listed logins from
//! unlisted ones, cannot flood the board with one credential or one session, cannot make
//! the server re-verify its record with a refused event; a valid election's largest ballot
//! fits the body limit; the data folder and the outbox are closed to other users.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::election::{DESCRIPTION, encrypt, open_election, post, state_of};
use common::{ADMIN, TestServer, json_error};
use scrutin_election::ballot;
use scrutin_election::ceremony;
use scrutin_election::credential::Credential;
use scrutin_election::crypto::rng::os_rng;
use scrutin_election::definition::QuestionChoice;
use scrutin_election::demo::{role_keys, roles_toml};
use scrutin_server::protocol;
use serde_json::{Value, json};

/// A server behind a trusted proxy (loopback), so each test request names its client in
/// `X-Forwarded-For`.
async fn server(tweak: impl FnOnce(&mut scrutin_server::ServerConfig)) -> TestServer {
    TestServer::start_with(
        |c| {
            c.trusted_proxies = vec!["127.0.0.1".into()];
            tweak(c);
        },
        protocol::api::routes(),
    )
    .await
}

async fn request_code(s: &TestServer, id: &str, login: &str, client: &str) -> reqwest::Response {
    s.client
        .post(s.url(&format!("/api/elections/{id}/login")))
        .header("x-forwarded-for", client)
        .json(&json!({ "login": login }))
        .send()
        .await
        .unwrap()
}

async fn verify_code(
    s: &TestServer,
    id: &str,
    login: &str,
    code: &str,
    client: &str,
) -> reqwest::Response {
    s.client
        .post(s.url(&format!("/api/elections/{id}/verify-code")))
        .header("x-forwarded-for", client)
        .json(&json!({ "login": login, "code": code }))
        .send()
        .await
        .unwrap()
}

/// The codes mailed to `login`, oldest first, once `n` of them are in the outbox.
async fn codes_for(s: &TestServer, login: &str, n: usize) -> Vec<String> {
    for _ in 0..200 {
        let mut mails: Vec<(String, String)> = std::fs::read_dir(s.outbox())
            .map(|d| {
                d.filter_map(|e| e.ok())
                    .map(|e| e.path())
                    .filter(|p| p.extension().is_some_and(|x| x == "eml"))
                    .map(|p| {
                        let name = p.file_name().unwrap().to_string_lossy().into_owned();
                        (name, std::fs::read_to_string(&p).unwrap_or_default())
                    })
                    .collect()
            })
            .unwrap_or_default();
        mails.sort();
        let codes: Vec<String> = mails
            .iter()
            .filter(|(_, m)| m.contains(&format!("{login}@example.org")))
            .filter_map(|(_, m)| {
                m.lines()
                    .map(str::trim)
                    .find(|l| l.len() == 8 && l.bytes().all(|b| b.is_ascii_digit()))
                    .map(str::to_owned)
            })
            .collect();
        if codes.len() >= n {
            return codes;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("fewer than {n} codes were mailed to {login}");
}

fn wrong(code: &str) -> String {
    if code == "00000000" {
        "11111111".into()
    } else {
        "00000000".into()
    }
}

/// Before: six code requests from anywhere blocked the login for 12 minutes, and five
/// wrong codes locked the voter's valid code. Now a stranger exhausts only their own
/// allowance, the voter's mailbox always holds a live code, and the stranger's wrong codes
/// lock the stranger only.
#[tokio::test]
async fn a_stranger_cannot_lock_a_voter_out() {
    let s = server(|_| {}).await;
    let (id, _) = open_election(&s, DESCRIPTION, &["alice", "bob"]).await;
    let attacker = "203.0.113.66";
    for i in 0..3 {
        let r = request_code(&s, &id, "alice", attacker).await;
        assert_eq!(r.status(), 202, "request {i}");
    }
    let (status, code, _) = json_error(request_code(&s, &id, "alice", attacker).await).await;
    assert_eq!((status, code.as_str()), (429, "rate_limited"));
    // The voter, from their own address, still gets a code.
    let voter = "198.51.100.7";
    assert_eq!(request_code(&s, &id, "alice", voter).await.status(), 202);
    // The attacker uses up the login's hourly sends from other addresses …
    for client in ["203.0.113.67", "203.0.113.68"] {
        request_code(&s, &id, "alice", client).await;
    }
    let codes = codes_for(&s, "alice", 5).await;
    // … and types wrong codes until refused.
    for _ in 0..5 {
        let r = verify_code(&s, &id, "alice", &wrong(&codes[0]), attacker).await;
        assert_eq!(r.status(), 401);
    }
    let (status, code, _) =
        json_error(verify_code(&s, &id, "alice", &codes[4], attacker).await).await;
    assert_eq!((status, code.as_str()), (403, "code_locked"));
    // Any code in the voter's mailbox still works from the voter's device; here the one
    // that reached the hourly limit (it lives for the hour).
    let r = verify_code(&s, &id, "alice", &codes[4], voter).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    // Other voters are untouched by all this.
    assert_eq!(request_code(&s, &id, "bob", voter).await.status(), 202);
    let bob = codes_for(&s, "bob", 1).await;
    assert_eq!(
        verify_code(&s, &id, "bob", &bob[0], voter).await.status(),
        200
    );
}

/// The login endpoints answer the same for a listed and an unlisted login, including when
/// the listed login has reached its hourly sends (which used to answer 429 only for it).
#[tokio::test]
async fn listed_and_unlisted_logins_get_the_same_answers() {
    let s = server(|c| c.otp.max_sends_per_client_per_hour = 100).await;
    let (id, _) = open_election(&s, DESCRIPTION, &["alice"]).await;
    let answer = |r: reqwest::Response| async move {
        let status = r.status().as_u16();
        let body: Value = r.json().await.unwrap();
        (status, body)
    };
    for i in 0..8 {
        let listed = answer(request_code(&s, &id, "alice", "198.51.100.1").await).await;
        let unlisted = answer(request_code(&s, &id, "mallory", "198.51.100.1").await).await;
        assert_eq!(listed, unlisted, "request {i}");
        assert_eq!(listed.0, 202);
    }
    let listed = answer(verify_code(&s, &id, "alice", "12345678", "198.51.100.2").await).await;
    let unlisted = answer(verify_code(&s, &id, "mallory", "12345678", "198.51.100.2").await).await;
    assert_eq!(listed.0, 401);
    assert_eq!(unlisted.0, 401);
}

async fn voter_session(s: &TestServer, id: &str, login: &str) -> String {
    let client = "198.51.100.9";
    let before = codes_for(s, login, 0).await.len();
    assert_eq!(request_code(s, id, login, client).await.status(), 202);
    let codes = codes_for(s, login, before + 1).await;
    let r = verify_code(s, id, login, codes.last().unwrap(), client).await;
    let v: Value = r.json().await.unwrap();
    v["token"].as_str().unwrap().to_owned()
}

async fn cast(s: &TestServer, id: &str, token: &str, b: &ballot::Ballot) -> reqwest::Response {
    s.client
        .post(s.url(&format!("/api/elections/{id}/ballots")))
        .bearer_auth(token)
        .json(b)
        .send()
        .await
        .unwrap()
}

/// Before: one session posted 294 re-votes in 10 s. Now a session casts at most
/// `max_ballots_per_session_per_hour`, and a credential at most `max_ballots_per_credential`
/// whatever the sessions.
#[tokio::test]
async fn re_votes_are_bounded_per_session_and_per_credential() {
    let s = server(|c| {
        c.limits.max_ballots_per_session_per_hour = 3;
        c.limits.max_ballots_per_credential = 4;
        c.otp.max_sends_per_client_per_hour = 100;
        c.otp.max_sends_per_hour = 100;
    })
    .await;
    let (id, creds) = open_election(&s, DESCRIPTION, &["alice"]).await;
    let st = state_of(&s, &id).await;
    let first = voter_session(&s, &id, "alice").await;
    for i in 0..3 {
        let r = cast(&s, &id, &first, &encrypt(&st, &creds[0], i % 2 == 0)).await;
        assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    }
    let (status, code, _) =
        json_error(cast(&s, &id, &first, &encrypt(&st, &creds[0], true)).await).await;
    assert_eq!((status, code.as_str()), (429, "rate_limited"));
    // A new session may cast again, up to the credential's limit.
    let second = voter_session(&s, &id, "alice").await;
    let r = cast(&s, &id, &second, &encrypt(&st, &creds[0], false)).await;
    assert_eq!(r.status(), 200);
    let (status, code, body) =
        json_error(cast(&s, &id, &second, &encrypt(&st, &creds[0], true)).await).await;
    assert_eq!((status, code.as_str()), (409, "too_many_ballots"), "{body}");
    assert_eq!(state_of(&s, &id).await.ballots, 4);
}

/// Before: a refused trustee event made the server drop its verified state and re-verify
/// the whole record on the next request. Now the state stays as it was.
#[tokio::test]
async fn a_refused_event_does_not_make_the_server_reverify_the_record() {
    let s = server(|_| {}).await;
    let app = &s.state;
    let (trustees, authority) = role_keys(&["Alice"], b"refused event");
    let toml = format!("{DESCRIPTION}{}", roles_toml(&trustees, &authority));
    let id = protocol::create_election(app, ADMIN, toml, None, None)
        .await
        .unwrap()
        .id;
    let st = state_of(&s, &id).await;
    let (_, commit) = ceremony::trustee_commit(&st, &trustees[0], &mut os_rng()).unwrap();
    post(&s, &id, 1, &commit).await.unwrap();
    let before = state_of(&s, &id).await;
    let loads = app.elections.loads();
    // The same commitment again: refused by the record's rules.
    let e = post(&s, &id, 1, &commit).await.unwrap_err();
    assert!(e.contains("R4") || e.contains("K1"), "{e}");
    let after = state_of(&s, &id).await;
    assert_eq!((after.events, after.head), (before.events, before.head));
    assert_eq!(
        app.elections.loads(),
        loads,
        "the record was verified again"
    );
}

/// A valid definition whose ballots are bigger than the default body limit: its ballots
/// are accepted, and a body bigger than its own bound is refused.
#[tokio::test]
async fn the_body_limit_follows_the_election() {
    let answers: Vec<String> = (1..=40).map(|i| format!("\"C{i}\"")).collect();
    let description = format!(
        "title = \"Big\"\nthreshold = 1\n\n[[question]]\ntext = \"Score\"\nanswers = [{}]\nmin = 0\nmax = 200\nmax_per_answer = 5\n",
        answers.join(", ")
    );
    let s = server(|c| {
        c.limits.body_limit_bytes = 64 * 1024;
        c.otp.max_sends_per_client_per_hour = 100;
    })
    .await;
    let (id, creds) = open_election(&s, &description, &["alice"]).await;
    let st = state_of(&s, &id).await;
    let ctx = st.context.as_ref().unwrap();
    let cred = Credential::parse(&creds[0]).unwrap();
    let choice = QuestionChoice::Values((0..40).map(|i| i % 6).collect());
    let b = ballot::encrypt(ctx, &cred, &[choice], &mut os_rng())
        .unwrap()
        .0;
    let size = serde_json::to_vec(&b).unwrap().len();
    assert!(
        size > 64 * 1024,
        "the ballot ({size} bytes) must exceed the default limit"
    );
    let bound = protocol::ballot_size_bound(st.definition.as_ref().unwrap());
    assert!(size <= bound, "{size} > bound {bound}");
    let token = voter_session(&s, &id, "alice").await;
    let r = cast(&s, &id, &token, &b).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let padded = format!(
        "{}{}",
        serde_json::to_string(&b).unwrap(),
        " ".repeat(bound)
    );
    let r = s
        .client
        .post(s.url(&format!("/api/elections/{id}/ballots")))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body(padded)
        .send()
        .await
        .unwrap();
    let (status, code, _) = json_error(r).await;
    assert_eq!((status, code.as_str()), (413, "payload_too_large"));
}

/// Admin logins: limited per address whatever the user names tried.
#[tokio::test]
async fn admin_logins_are_limited_per_address_whatever_the_name() {
    let s = server(|c| c.limits.admin_logins_per_ip_per_hour = 4).await;
    let login = |name: String, client: &'static str| {
        s.client
            .post(s.url("/api/admin/login"))
            .header("x-forwarded-for", client)
            .json(&json!({"username": name, "password": "not the password"}))
            .send()
    };
    for i in 0..4 {
        let r = login(format!("random{i}"), "203.0.113.5").await.unwrap();
        assert_eq!(r.status(), 401);
    }
    let (status, _, _) = json_error(login("random9".into(), "203.0.113.5").await.unwrap()).await;
    assert_eq!(status, 429);
    // The official, from another address, is not affected.
    let r = s
        .client
        .post(s.url("/api/admin/login"))
        .header("x-forwarded-for", "198.51.100.20")
        .json(&json!({"username": ADMIN, "password": common::ADMIN_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

/// `X-Forwarded-For` from a peer that is not a trusted proxy is ignored: a client cannot
/// pick a fresh address for each request to escape its limits.
#[tokio::test]
async fn forwarded_for_from_an_untrusted_peer_is_ignored() {
    let s = TestServer::start_with(
        |c| {
            c.trusted_proxies = vec!["192.0.2.1".into()];
            c.limits.admin_logins_per_ip_per_hour = 2;
        },
        protocol::api::routes(),
    )
    .await;
    let mut statuses = Vec::new();
    for i in 0..3 {
        let r = s
            .client
            .post(s.url("/api/admin/login"))
            .header("x-forwarded-for", format!("198.51.100.{i}"))
            .json(&json!({"username": "x", "password": "not the password"}))
            .send()
            .await
            .unwrap();
        statuses.push(r.status().as_u16());
    }
    assert_eq!(statuses, [401, 401, 429]);
}

/// The data folder and its files, and the outbox, are closed to other users; a data folder
/// that others can read is refused with a message saying how to fix it.
#[cfg(unix)]
#[tokio::test]
async fn personal_data_is_closed_to_other_users() {
    use std::os::unix::fs::PermissionsExt;
    let s = server(|_| {}).await;
    let (id, _) = open_election(&s, DESCRIPTION, &["alice"]).await;
    request_code(&s, &id, "alice", "198.51.100.1").await;
    codes_for(&s, "alice", 1).await;
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let data = s.dir.path().join("data");
    assert_eq!(mode(&data), 0o700);
    for entry in std::fs::read_dir(&data).unwrap() {
        let p = entry.unwrap().path();
        if p.is_file() {
            assert_eq!(mode(&p), 0o600, "{}", p.display());
        }
    }
    assert_eq!(mode(&s.outbox()), 0o700);
    for entry in std::fs::read_dir(s.outbox()).unwrap() {
        assert_eq!(mode(&entry.unwrap().path()), 0o600);
    }
    let open = tempfile::tempdir().unwrap();
    let exposed = open.path().join("data");
    std::fs::create_dir(&exposed).unwrap();
    std::fs::set_permissions(&exposed, std::fs::Permissions::from_mode(0o755)).unwrap();
    let config = scrutin_server::ServerConfig {
        data_dir: exposed.clone(),
        ..common::test_config(open.path())
    };
    let e = scrutin_server::AppState::open(config)
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("chmod 700"), "{e}");
}
