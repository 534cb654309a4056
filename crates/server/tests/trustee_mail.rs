//! Trustees told when it is their turn: the officials give each trustee an address, the
//! server mails each awaited trustee once per step (commitment, dealing, check, decryption
//! share) with the link to its page, and the officials see who is awaited since when.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::election::{DESCRIPTION, post, state_of};
use common::{ADMIN, TestServer};
use scrutin_election::ceremony;
use scrutin_election::crypto::rng::os_rng;
use scrutin_election::demo::{role_keys, roles_toml};
use scrutin_server::protocol;
use serde_json::{Value, json};

/// The mails in the outbox, oldest first, each parsed as a mail client would: recipient,
/// language, subject and text part (decoded), checked to be headed by the title.
fn outbox(s: &TestServer) -> Vec<String> {
    let mut files: Vec<_> = std::fs::read_dir(s.outbox())
        .map(|d| d.filter_map(|e| e.ok()).map(|e| e.path()).collect())
        .unwrap_or_default();
    files.retain(|p: &std::path::PathBuf| p.extension().is_some_and(|e| e == "eml"));
    files.sort();
    files
        .iter()
        .map(|p| {
            let raw = std::fs::read(p).unwrap();
            let m = mail_parser::MessageParser::default().parse(&raw).unwrap();
            let to = m
                .to()
                .and_then(|t| t.first())
                .and_then(|a| a.address())
                .unwrap();
            let lang = m.header_raw("Content-Language").unwrap().trim().to_owned();
            let subject = m.subject().unwrap().to_owned();
            assert!(subject.contains("Availability"), "{subject}");
            assert_eq!((m.text_body_count(), m.html_body_count()), (1, 1));
            let text = m.body_text(0).unwrap().replace("\r\n", "\n");
            assert!(text.starts_with("Availability\n"), "{text}");
            assert!(m.body_html(0).unwrap().contains("<h1>Availability</h1>"));
            format!("To: {to}\nContent-Language: {lang}\nSubject: {subject}\n\n{text}")
        })
        .collect()
}

async fn wait_for_mails(s: &TestServer, n: usize) -> Vec<String> {
    for _ in 0..200 {
        let mails = outbox(s);
        if mails.len() >= n {
            return mails;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("{} mails, not {n}", outbox(s).len());
}

async fn trustees(s: &TestServer, token: &str, id: &str) -> Value {
    let r = s
        .client
        .get(s.url(&format!("/api/admin/elections/{id}/trustees")))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

#[tokio::test]
async fn each_awaited_trustee_is_mailed_once_per_step() {
    let s = TestServer::start_with(|_| {}, protocol::api::routes()).await;
    let app = &s.state;
    let (keys, authority) = role_keys(&["Alice", "Bob"], b"trustee mail tests");
    let toml = format!("{DESCRIPTION}{}", roles_toml(&keys, &authority));
    let id = protocol::create_election(app, ADMIN, toml, None, None)
        .await
        .unwrap()
        .id;
    let token = s.admin_token().await;
    // Both are awaited for their commitment since the creation; nobody told yet.
    let v = trustees(&s, &token, &id).await;
    for tr in v["trustees"].as_array().unwrap() {
        assert_eq!(tr["awaited"], "commit", "{v}");
        assert!(tr["since"].is_i64(), "{v}");
        assert!(tr["email"].is_null(), "{v}");
    }
    assert!(outbox(&s).is_empty());

    let put = |body: Value| {
        s.client
            .put(s.url(&format!("/api/admin/elections/{id}/trustees")))
            .bearer_auth(&token)
            .json(&body)
            .send()
    };
    // Refused: a trustee the election does not have, a bad address.
    let r = put(json!({"emails": [{"trustee": 3, "email": "c@example.org"}]}))
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let r = put(json!({"emails": [{"trustee": 1, "email": "not an address"}]}))
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    // Given now: each is told of the step awaited now.
    let r = put(json!({"emails": [
        {"trustee": 1, "email": "alice@example.org"},
        {"trustee": 2, "email": "bob@example.org"}
    ]}))
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    let mails = wait_for_mails(&s, 2).await;
    assert_eq!(mails.len(), 2);
    for (mail, to) in mails.iter().zip(["alice", "bob"]) {
        assert!(mail.contains(&format!("To: {to}@example.org")), "{mail}");
        assert!(mail.contains("Content-Language: en"), "{mail}");
        assert!(mail.contains(&format!("/elections/{id}/trustee")), "{mail}");
        assert!(mail.contains("publish your commitment"), "{mail}");
        assert!(mail.contains("Availability"), "{mail}");
        // A trustee's mail has its own link, not the voters' page and closing time.
        assert!(!mail.contains("Voting page:"), "{mail}");
    }

    // Alice commits: Bob, already told, is not mailed again.
    let st = state_of(&s, &id).await;
    let (alice, commit) = ceremony::trustee_commit(&st, &keys[0], &mut os_rng()).unwrap();
    post(&s, &id, 1, &commit).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(outbox(&s).len(), 2);
    let v = trustees(&s, &token, &id).await;
    assert!(v["trustees"][0]["awaited"].is_null(), "{v}");
    assert_eq!(v["trustees"][1]["awaited"], "commit");
    // Bob commits: both are awaited for their dealing, each told once.
    let st = state_of(&s, &id).await;
    let (bob, commit) = ceremony::trustee_commit(&st, &keys[1], &mut os_rng()).unwrap();
    post(&s, &id, 2, &commit).await.unwrap();
    let mails = wait_for_mails(&s, 4).await;
    assert!(
        mails[2..].iter().all(|m| m.contains("deal your shares")),
        "{mails:?}"
    );
    let v = trustees(&s, &token, &id).await;
    assert_eq!(v["trustees"][0]["awaited"], "deal");
    assert!(v["trustees"][0]["since"].is_i64());
    // The same state again tells nobody.
    protocol::set_schedule(app, ADMIN, &id, None, None)
        .await
        .unwrap();
    let _ = trustees(&s, &token, &id).await;
    let deal = ceremony::trustee_deal(&state_of(&s, &id).await, &alice, &mut os_rng()).unwrap();
    post(&s, &id, 1, &deal).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(outbox(&s).len(), 4);
    let deal = ceremony::trustee_deal(&state_of(&s, &id).await, &bob, &mut os_rng()).unwrap();
    post(&s, &id, 2, &deal).await.unwrap();
    let mails = wait_for_mails(&s, 6).await;
    assert!(
        mails[4..].iter().all(|m| m.contains("check the shares")),
        "{mails:?}"
    );
    // Audited.
    let r = s
        .client
        .get(s.url(&format!("/api/admin/elections/{id}/audit-log")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    let log: Value = r.json().await.unwrap();
    assert!(
        log["entries"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "trustees.emails"),
        "{log}"
    );
}

#[test]
fn the_trustee_routes_are_documented() {
    let doc: Value = serde_json::from_str(protocol::api::OPENAPI).unwrap();
    for method in ["get", "put"] {
        let op = &doc["paths"]["/api/admin/elections/{id}/trustees"][method];
        assert_eq!(op["security"][0]["adminSession"], json!([]), "{method}");
    }
}
