//! The officials' view of one election (`GET /api/admin/elections/{id}`): metadata, stage and
//! counts only, behind the admin session, never a voter's identity.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{TestServer, json_error};
use scrutin_election::demo::{role_keys, roles_toml};
use scrutin_server::protocol;
use serde_json::{Value, json};

const DESCRIPTION: &str = r#"
id = "board-2026"
title = "Board 2026"
threshold = 2

[[question]]
text = "Who?"
answers = ["Ada", "Blaise"]
min = 0
max = 1
blank = true
"#;

/// The description with its trustees and credential authority named by their keys.
fn description() -> String {
    let (trustees, authority) = role_keys(&["Alice", "Bob"], b"admin api");
    format!("{DESCRIPTION}{}", roles_toml(&trustees, &authority))
}

async fn server() -> TestServer {
    TestServer::start_with(|_| {}, protocol::api::routes()).await
}

#[tokio::test]
async fn admin_election_gives_counts_and_no_identity() {
    let s = server().await;
    let token = s.admin_token().await;
    let r = s
        .client
        .post(s.url("/api/admin/elections"))
        .bearer_auth(&token)
        .json(&json!({"description": description(), "opens_at": 2_000_000_000i64}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());

    let view = |token: Option<String>| {
        let mut req = s.client.get(s.url("/api/admin/elections/board-2026"));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send()
    };
    let v: Value = view(Some(token.clone()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["id"], "board-2026");
    assert_eq!(v["state"], "draft");
    assert_eq!(v["stage"], "setup");
    assert_eq!(v["opens_at"], 2_000_000_000i64);
    assert!(v["closes_at"].is_null());
    assert!(
        v["description_toml"]
            .as_str()
            .unwrap()
            .contains("Board 2026")
    );
    assert_eq!(
        (v["voters"].as_u64(), v["total_weight"].as_u64()),
        (Some(0), Some(0))
    );
    assert!(v["credentials"].is_null());
    assert_eq!(v["ballots"], 0);
    assert_eq!(v["ballots_counted"], 0);
    assert_eq!(v["counted_weight"], 0);
    assert_eq!(v["mail"], json!({"queued": 0, "sent": 0, "failed": 0}));

    let r = s
        .client
        .post(s.url("/api/admin/elections/board-2026/voters"))
        .bearer_auth(&token)
        .header("content-type", "text/csv")
        .body("alice.secret,alice.secret@example.org,3\nbob.hidden,bob.hidden@example.org\n")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = view(Some(token.clone())).await.unwrap();
    assert_eq!(r.status(), 200);
    let text = r.text().await.unwrap();
    for identity in ["alice.secret", "bob.hidden", "example.org"] {
        assert!(!text.contains(identity), "{identity} leaked: {text}");
    }
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        (v["voters"].as_u64(), v["total_weight"].as_u64()),
        (Some(2), Some(4))
    );

    // The list carries each election's title.
    let r = s
        .client
        .get(s.url("/api/admin/elections"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    let list: Value = r.json().await.unwrap();
    assert_eq!(list["elections"][0]["id"], "board-2026");
    assert_eq!(list["elections"][0]["title"], "Board 2026");
    assert_eq!(list["elections"][0]["state"], "draft");

    // Officials only; unknown or malformed ids are 404.
    let (status, _, _) = json_error(view(None).await.unwrap()).await;
    assert_eq!(status, 401);
    let (status, _, _) = json_error(view(Some("0".repeat(64))).await.unwrap()).await;
    assert_eq!(status, 401);
    for id in ["nope", "bad%20id"] {
        let r = s
            .client
            .get(s.url(&format!("/api/admin/elections/{id}")))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        let (status, _, _) = json_error(r).await;
        assert_eq!(status, 404);
    }
}

#[tokio::test]
async fn admin_election_is_documented() {
    let doc: Value = serde_json::from_str(protocol::api::OPENAPI).unwrap();
    let get = &doc["paths"]["/api/admin/elections/{id}"]["get"];
    assert_eq!(get["security"][0]["adminSession"], json!([]));
    let schema = &doc["components"]["schemas"]["AdminElection"]["properties"];
    for field in [
        "id",
        "state",
        "stage",
        "voters",
        "total_weight",
        "credentials",
        "ballots",
        "ballots_counted",
        "counted_weight",
        "mail",
    ] {
        assert!(schema[field].is_object(), "{field} not documented");
    }
}

/// An abandoned draft can be deleted by its owner: gone from the list and the board, its
/// voters gone from the private store, the deletion in the audit log; an election that is
/// no longer a draft cannot be.
#[tokio::test]
async fn a_draft_election_can_be_deleted_with_its_voters() {
    let s = server().await;
    let token = s.admin_token().await;
    let r = s
        .client
        .post(s.url("/api/admin/elections"))
        .bearer_auth(&token)
        .json(&json!({"description": description()}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let r = s
        .client
        .post(s.url("/api/admin/elections/board-2026/voters"))
        .bearer_auth(&token)
        .header("content-type", "text/csv; charset=utf-8")
        .body("login,email\nada,ada@example.org\n")
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());
    let storage = s.state.storage.clone();
    let voters = || {
        let storage = storage.clone();
        async move {
            scrutin_server::storage::blocking(&storage, |st| st.voter_count("board-2026"))
                .await
                .unwrap()
        }
    };
    assert_eq!(voters().await, (1, 1));

    let delete = |id: &'static str| {
        s.client
            .delete(s.url(&format!("/api/admin/elections/{id}")))
            .bearer_auth(&token)
            .send()
    };
    let r = delete("board-2026").await.unwrap();
    assert_eq!(r.status(), 204, "{}", r.text().await.unwrap());
    assert_eq!(voters().await, (0, 0));
    let list: Value = s
        .client
        .get(s.url("/api/admin/elections"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["elections"], json!([]), "{list}");
    for path in [
        "/api/admin/elections/board-2026",
        "/api/elections/board-2026",
        "/api/elections/board-2026/record",
    ] {
        let r = s
            .client
            .get(s.url(path))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404, "{path}");
    }
    let log: Value = s
        .client
        .get(s.url("/api/admin/audit-log"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let text = log.to_string();
    assert!(
        text.contains("election.delete") && text.contains("Board 2026"),
        "{text}"
    );

    // Only a draft: an open election stays.
    s.election("running", scrutin_server::storage::ElectionState::Open)
        .await;
    let (status, code, _) = json_error(delete("running").await.unwrap()).await;
    assert_eq!((status, code.as_str()), (409, "wrong_election_state"));
}
