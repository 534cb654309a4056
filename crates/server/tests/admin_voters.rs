//! Admin API over real HTTP: login, all-or-nothing voter-list import with its report, frozen
//! roll, audit log, mail status.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{ADMIN, ADMIN_PASSWORD, TestServer, json_error};
use scrutin_server::storage::ElectionState;
use serde_json::{Value, json};

#[tokio::test]
async fn admin_login_wrong_password_is_401() {
    let s = TestServer::start().await;
    let url = s.url("/api/admin/login");
    for (user, pass) in [
        (ADMIN, "wrong password, long"),
        ("nobody", ADMIN_PASSWORD),
        ("bad name!", ADMIN_PASSWORD),
    ] {
        let r = s
            .client
            .post(&url)
            .json(&json!({"username": user, "password": pass}))
            .send()
            .await
            .unwrap();
        let (status, code, _) = json_error(r).await;
        assert_eq!((status, code.as_str()), (401, "invalid_credentials"));
    }
    let token = s.admin_token().await;
    assert_eq!(token.len(), 64);
    // a bad or missing token is refused
    s.election("e1", ElectionState::Draft).await;
    for auth in [
        None,
        Some("Bearer 00"),
        Some(&*format!("Bearer {}", "0".repeat(64))),
    ] {
        let mut req = s.client.get(s.url("/api/admin/elections/e1/audit-log"));
        if let Some(a) = auth {
            req = req.header("authorization", a);
        }
        let r = req.send().await.unwrap();
        assert_eq!(r.headers()["www-authenticate"], "Bearer");
        let (status, _, _) = json_error(r).await;
        assert_eq!(status, 401);
    }
    // logout ends the session
    let r = s
        .client
        .post(s.url("/api/admin/logout"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let r = s
        .client
        .get(s.url("/api/admin/elections/e1/audit-log"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}

async fn upload(s: &TestServer, token: &str, election: &str, body: &[u8]) -> reqwest::Response {
    s.client
        .post(s.url(&format!("/api/admin/elections/{election}/voters")))
        .bearer_auth(token)
        .header("content-type", "text/csv; charset=utf-8")
        .body(body.to_vec())
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn voter_import_is_all_or_nothing_and_reports_every_bad_line() {
    let s = TestServer::start().await;
    s.election("e1", ElectionState::Draft).await;
    let token = s.admin_token().await;
    let csv = b"login,email,weight\n\
                alice,alice@example.org\n\
                bob,bob@example.org,2\n\
                carol,carol-at-example.org\n\
                \xff\xfe,x@example.org\n\
                alice,again@example.org\n\
                dave,dave@example.org,1,too,many\n";
    let r = upload(&s, &token, "e1", csv).await;
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["imported"], false);
    assert_eq!(v["accepted"], 0);
    assert_eq!(v["rejected"], 4);
    assert_eq!(v["total_voters"], 0, "a file with a bad line adds nobody");
    assert_eq!(v["total_weight"], 0);
    let lines: Vec<u64> = v["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["line"].as_u64().unwrap())
        .collect();
    assert_eq!(lines, vec![4, 5, 6, 7]);
    assert!(v["errors"][1]["reason"].as_str().unwrap().contains("UTF-8"));

    // the corrected file imports
    let fixed = b"login,email,weight\n\
                  alice,alice@example.org\n\
                  bob,bob@example.org,2\n\
                  carol,carol@example.org\n";
    let v: Value = upload(&s, &token, "e1", fixed).await.json().await.unwrap();
    assert_eq!(v["imported"], true);
    assert_eq!(v["accepted"], 3);
    assert_eq!(v["rejected"], 0);
    assert_eq!(v["total_voters"], 3);
    assert_eq!(v["total_weight"], 4);

    // a second file naming a listed login adds nobody, and says which line
    let r = upload(
        &s,
        &token,
        "e1",
        b"erin,erin@example.org\nbob,bob2@example.org\nfrank,frank@example.org\n",
    )
    .await;
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["imported"], false);
    assert_eq!(v["accepted"], 0);
    assert_eq!(v["rejected"], 1);
    assert_eq!(v["errors"][0]["line"], 2);
    assert!(
        v["errors"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("already")
    );
    assert_eq!(v["total_voters"], 3);
    // a bad line and a listed login: both reported, nobody added
    let v: Value = upload(&s, &token, "e1", b"bob,b@example.org\ngina,nope\n")
        .await
        .json()
        .await
        .unwrap();
    let lines: Vec<u64> = v["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["line"].as_u64().unwrap())
        .collect();
    assert_eq!(lines, vec![1, 2]);
    assert_eq!(v["total_voters"], 3);

    // wrong content type, unknown election, too large
    let r = s
        .client
        .post(s.url("/api/admin/elections/e1/voters"))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(json_error(r).await.0, 415);
    let r = upload(&s, &token, "nope", b"a,a@example.org").await;
    assert_eq!(json_error(r).await.0, 404);
    let r = upload(&s, &token, "bad%20id", b"a,a@example.org").await;
    assert_eq!(json_error(r).await.0, 404);

    // the audit log shows the imports
    let r = s
        .client
        .get(s.url("/api/admin/elections/e1/audit-log"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    let v: Value = r.json().await.unwrap();
    let entries = v["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 4);
    assert_eq!(entries[0]["action"], "voters.import");
    assert_eq!(entries[0]["actor"], ADMIN);
    assert_eq!(entries[0]["details"]["imported"], false);
    assert_eq!(entries[1]["details"]["imported"], true);
    assert_eq!(entries[1]["details"]["accepted"], 3);
}

#[tokio::test]
async fn voter_list_is_frozen_once_open_and_bounded() {
    let s = TestServer::start_with(
        |c| c.limits.voter_list_limit_bytes = 64 * 1024,
        axum::Router::new(),
    )
    .await;
    s.election("open1", ElectionState::Open).await;
    s.election("d1", ElectionState::Draft).await;
    let token = s.admin_token().await;
    let r = upload(&s, &token, "open1", b"a,a@example.org").await;
    let (status, code, _) = json_error(r).await;
    assert_eq!((status, code.as_str()), (409, "voter_list_frozen"));
    let big = "a,a@example.org\n".repeat(10_000);
    let r = upload(&s, &token, "d1", big.as_bytes()).await;
    assert_eq!(json_error(r).await.0, 413);
}

#[tokio::test]
async fn mail_status_counts() {
    let s = TestServer::start().await;
    s.election("e1", ElectionState::Open).await;
    let token = s.admin_token().await;
    let r = s
        .client
        .get(s.url("/api/admin/elections/e1/mail-status"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["counts"], json!({"queued": 0, "sent": 0, "failed": 0}));
}

#[tokio::test]
async fn global_audit_log_records_logins_and_failures() {
    let s = TestServer::start().await;
    let r = s
        .client
        .post(s.url("/api/admin/login"))
        .json(&json!({"username": ADMIN, "password": "not the password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let token = s.admin_token().await;
    let r = s
        .client
        .get(s.url("/api/admin/audit-log"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["cache-control"], "no-store");
    let v: Value = r.json().await.unwrap();
    let actions: Vec<&str> = v["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["admin.login_failed", "admin.login"]);
    // no secret in the log
    assert!(!v.to_string().contains("not the password"));
}

#[tokio::test]
async fn maintenance_purges_expired_sessions() {
    use scrutin_server::storage::{SessionRecord, SessionSubject, blocking};
    let s = TestServer::start().await;
    let live = s.admin_token().await;
    blocking(&s.state.storage, |st| {
        st.insert_session(&SessionRecord {
            token_hash: "expired".into(),
            subject: SessionSubject::Admin {
                username: ADMIN.into(),
            },
            expires_at: 1,
        })
    })
    .await
    .unwrap();
    let task = s
        .state
        .spawn_maintenance(std::time::Duration::from_millis(20));
    let mut gone = false;
    for _ in 0..100 {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        if blocking(&s.state.storage, |st| st.session("expired"))
            .await
            .unwrap()
            .is_none()
        {
            gone = true;
            break;
        }
    }
    task.abort();
    assert!(gone);
    let hash = scrutin_server::auth::token_hash(&live);
    let still = blocking(&s.state.storage, move |st| st.session(&hash))
        .await
        .unwrap();
    assert!(still.is_some());
}
