//! Voter one-time codes over real HTTP, with mail going to the outbox directory.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::{TestServer, json_error};
use scrutin_server::storage::{ElectionState, Voter, blocking};
use serde_json::{Value, json};

async fn setup(tweak: impl FnOnce(&mut scrutin_server::ServerConfig)) -> TestServer {
    let s = TestServer::start_with(tweak, axum::Router::new()).await;
    s.election("e1", ElectionState::Open).await;
    blocking(&s.state.storage, |st| {
        st.add_voters(
            "e1",
            &[
                Voter {
                    login: "alice".into(),
                    email: "alice@example.org".into(),
                    weight: 1,
                    language: None,
                },
                Voter {
                    login: "bob".into(),
                    email: "bob@example.org".into(),
                    weight: 1,
                    language: None,
                },
            ],
        )
    })
    .await
    .unwrap();
    s
}

/// Waits for the `n`th mail in the outbox and returns the code it carries.
async fn code_from_mail(s: &TestServer, n: usize, digits: usize) -> String {
    for _ in 0..100 {
        let mut files: Vec<_> = std::fs::read_dir(s.outbox())
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "eml"))
            .collect();
        files.sort();
        if files.len() >= n {
            let text = std::fs::read_to_string(&files[n - 1]).unwrap();
            let code = text
                .lines()
                .map(str::trim)
                .find(|l| l.len() == digits && l.bytes().all(|b| b.is_ascii_digit()))
                .unwrap_or_else(|| panic!("no code in {text}"));
            return code.to_owned();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no mail number {n}");
}

fn outbox_count(s: &TestServer) -> usize {
    std::fs::read_dir(s.outbox())
        .map(|d| d.count())
        .unwrap_or(0)
}

async fn request_code(s: &TestServer, login: &str) -> reqwest::Response {
    s.client
        .post(s.url("/api/elections/e1/login"))
        .json(&json!({"login": login}))
        .send()
        .await
        .unwrap()
}

async fn verify(s: &TestServer, login: &str, code: &str) -> reqwest::Response {
    s.client
        .post(s.url("/api/elections/e1/verify-code"))
        .json(&json!({"login": login, "code": code}))
        .send()
        .await
        .unwrap()
}

fn wrong(code: &str) -> String {
    if code.starts_with('0') {
        code.replacen('0', "1", 1)
    } else {
        format!("0{}", &code[1..])
    }
}

#[tokio::test]
async fn code_is_single_use_and_gives_a_voter_session() {
    let s = setup(|_| {}).await;
    let r = request_code(&s, "alice").await;
    assert_eq!(r.status(), 202);
    let listed: Value = r.json().await.unwrap();
    let code = code_from_mail(&s, 1, 8).await;
    let mail = std::fs::read_to_string(s.outbox().join("000000000001.eml")).unwrap();
    assert!(mail.contains("To: alice@example.org"));

    // an unlisted login gets the same answer and no mail
    let r = request_code(&s, "mallory").await;
    assert_eq!(r.status(), 202);
    assert_eq!(r.json::<Value>().await.unwrap(), listed);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(outbox_count(&s), 1);

    let r = verify(&s, "alice", &wrong(&code)).await;
    let (status, c, v) = json_error(r).await;
    assert_eq!((status, c.as_str()), (401, "invalid_code"));
    assert!(v["message"].as_str().unwrap().contains("4 attempts left"));
    // another voter's code, like no code at all, is a wrong code
    let r = verify(&s, "bob", &code).await;
    assert_eq!(json_error(r).await.1, "invalid_code");

    let r = verify(&s, "alice", &code).await;
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["token"].as_str().unwrap().len(), 64);
    // single use
    let r = verify(&s, "alice", &code).await;
    assert_eq!(json_error(r).await.1, "invalid_code");
    // a voter token is not an admin token
    let r = s
        .client
        .get(s.url("/api/admin/elections/e1/mail-status"))
        .bearer_auth(v["token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(json_error(r).await.0, 403);
    // a voter logs out; the token is dead afterwards
    let voter_token = v["token"].as_str().unwrap().to_owned();
    let r = s
        .client
        .post(s.url("/api/elections/other/logout"))
        .bearer_auth(&voter_token)
        .send()
        .await
        .unwrap();
    assert_eq!(json_error(r).await.0, 403);
    for expected in [204, 401] {
        let r = s
            .client
            .post(s.url("/api/elections/e1/logout"))
            .bearer_auth(&voter_token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), expected);
    }

    // officials see the delivery
    let token = s.admin_token().await;
    let r = s
        .client
        .get(s.url("/api/admin/elections/e1/mail-status"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["counts"], json!({"queued": 0, "sent": 1, "failed": 0}));
}

#[tokio::test]
async fn code_expires() {
    let s = setup(|c| c.otp.ttl_secs = 1).await;
    assert_eq!(request_code(&s, "alice").await.status(), 202);
    let code = code_from_mail(&s, 1, 8).await;
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let r = verify(&s, "alice", &code).await;
    let (status, c, _) = json_error(r).await;
    assert_eq!((status, c.as_str()), (401, "invalid_code"));
}

/// Wrong codes lock the client that typed them, for the hour, whatever new codes are sent;
/// the voter's code still works from another client (`lockout.rs` has the attack).
#[tokio::test]
async fn wrong_codes_lock_the_client_that_typed_them() {
    let s = setup(|c| {
        c.otp.max_attempts = 3;
        c.otp.digits = 6;
        c.trusted_proxies = vec!["127.0.0.1".into()];
    })
    .await;
    let verify_from = |login: &'static str, code: String, client: &'static str| {
        s.client
            .post(s.url("/api/elections/e1/verify-code"))
            .header("x-forwarded-for", client)
            .json(&json!({"login": login, "code": code}))
            .send()
    };
    assert_eq!(request_code(&s, "alice").await.status(), 202);
    let code = code_from_mail(&s, 1, 6).await;
    for left in [2, 1, 0] {
        let r = verify_from("alice", wrong(&code), "192.0.2.1")
            .await
            .unwrap();
        let (_, c, v) = json_error(r).await;
        assert_eq!(c, "invalid_code");
        assert!(
            v["message"]
                .as_str()
                .unwrap()
                .contains(&format!("{left} attempts left"))
        );
    }
    // even the right code is refused from that client now, and a new code changes nothing
    let r = verify_from("alice", code.clone(), "192.0.2.1")
        .await
        .unwrap();
    let (status, c, _) = json_error(r).await;
    assert_eq!((status, c.as_str()), (403, "code_locked"));
    assert_eq!(request_code(&s, "alice").await.status(), 202);
    let fresh = code_from_mail(&s, 2, 6).await;
    let r = verify_from("alice", fresh.clone(), "192.0.2.1")
        .await
        .unwrap();
    assert_eq!(json_error(r).await.1, "code_locked");
    // from the voter's own device, the code works (spaces are ignored)
    let spaced = format!("{} {}", &fresh[..3], &fresh[3..]);
    let r = verify_from("alice", spaced, "198.51.100.4").await.unwrap();
    assert_eq!(r.status(), 200);
}

/// Code requests are limited per (login, client); the answer is the same for an unlisted
/// login, so the limit does not tell who is on the list.
#[tokio::test]
async fn code_requests_are_rate_limited_per_login_and_client() {
    let s = setup(|c| c.otp.max_sends_per_client_per_hour = 2).await;
    assert_eq!(request_code(&s, "alice").await.status(), 202);
    assert_eq!(request_code(&s, "alice").await.status(), 202);
    let r = request_code(&s, "alice").await;
    assert!(r.headers().contains_key("retry-after"));
    assert_eq!(json_error(r).await.0, 429);
    // the same for an unlisted login: no enumeration through the limit
    assert_eq!(request_code(&s, "zed").await.status(), 202);
    assert_eq!(request_code(&s, "zed").await.status(), 202);
    assert_eq!(request_code(&s, "zed").await.status(), 429);
    // other logins are unaffected
    assert_eq!(request_code(&s, "bob").await.status(), 202);
}

/// The login's own hourly limit stops mails, silently (the answer is the same), and the
/// codes already sent keep working.
#[tokio::test]
async fn the_hourly_limit_of_a_login_stops_mails_not_codes() {
    let s = setup(|c| c.otp.max_sends_per_hour = 2).await;
    for _ in 0..3 {
        assert_eq!(request_code(&s, "alice").await.status(), 202);
    }
    let first = code_from_mail(&s, 1, 8).await;
    code_from_mail(&s, 2, 8).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(outbox_count(&s), 2);
    assert_eq!(verify(&s, "alice", &first).await.status(), 200);
}

#[tokio::test]
async fn voters_cannot_log_in_unless_open() {
    let s = setup(|_| {}).await;
    s.election("draft1", ElectionState::Draft).await;
    let r = s
        .client
        .post(s.url("/api/elections/draft1/login"))
        .json(&json!({"login": "alice"}))
        .send()
        .await
        .unwrap();
    assert_eq!(json_error(r).await.1, "election_not_open");
    let r = s
        .client
        .post(s.url("/api/elections/none/login"))
        .json(&json!({"login": "alice"}))
        .send()
        .await
        .unwrap();
    assert_eq!(json_error(r).await.0, 404);
}
