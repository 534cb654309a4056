//! The voter roll over real HTTP: list and search, add, edit and remove one voter in a draft
//! (refused once open), who has voted and the mail status during voting, and the CSV export
//! with formula cells neutralised.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::election::{DESCRIPTION, encrypt, open_election, state_of};
use common::{TestServer, json_error};
use scrutin_server::protocol;
use scrutin_server::storage::ElectionState;
use serde_json::{Value, json};

fn roll_url(s: &TestServer, id: &str) -> String {
    s.url(&format!("/api/admin/elections/{id}/roll"))
}

async fn roll(s: &TestServer, token: &str, id: &str, query: &str) -> Value {
    let r = s
        .client
        .get(format!("{}{query}", roll_url(s, id)))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

fn logins(v: &Value) -> Vec<String> {
    v["voters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["login"].as_str().unwrap().to_owned())
        .collect()
}

async fn add(s: &TestServer, token: &str, id: &str, body: Value) -> reqwest::Response {
    s.client
        .post(roll_url(s, id))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn export(s: &TestServer, token: &str, id: &str) -> String {
    let r = s
        .client
        .get(s.url(&format!("/api/admin/elections/{id}/roll.csv")))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    r.text().await.unwrap()
}

#[tokio::test]
async fn a_draft_roll_is_listed_searched_and_edited() {
    let s = TestServer::start().await;
    s.election("d1", ElectionState::Draft).await;
    s.election("open1", ElectionState::Open).await;
    let token = s.admin_token().await;

    for (login, email) in [
        ("alice", "alice@example.org"),
        ("bob", "bob@example.net"),
        ("carol", "carol@example.org"),
    ] {
        let r = add(&s, &token, "d1", json!({"login": login, "email": email})).await;
        assert_eq!(r.status(), 201);
    }
    let r = add(
        &s,
        &token,
        "d1",
        json!({"login": "dave", "email": "dave@example.org", "weight": 3, "language": "fr"}),
    )
    .await;
    assert_eq!(r.status(), 201);
    // a listed login, a bad address, a bad weight, an unknown field: refused
    let (status, code, _) = json_error(
        add(
            &s,
            &token,
            "d1",
            json!({"login": "bob", "email": "b@example.org"}),
        )
        .await,
    )
    .await;
    assert_eq!((status, code.as_str()), (409, "voter_exists"));
    let (status, code, _) = json_error(
        add(
            &s,
            &token,
            "d1",
            json!({"login": "erin", "email": "not-an-address"}),
        )
        .await,
    )
    .await;
    assert_eq!((status, code.as_str()), (422, "invalid_voter"));
    let (status, _, _) = json_error(
        add(
            &s,
            &token,
            "d1",
            json!({"login": "erin", "email": "erin@example.org", "weight": 0}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 422);
    let (status, _, _) = json_error(
        add(
            &s,
            &token,
            "d1",
            json!({"login": "erin", "email": "erin@example.org", "admin": true}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 422);

    let v = roll(&s, &token, "d1", "").await;
    assert_eq!(logins(&v), ["alice", "bob", "carol", "dave"]);
    assert_eq!(v["total_voters"], 4);
    assert_eq!(v["total_weight"], 6);
    assert_eq!(v["state"], "draft");
    assert_eq!(v["voters"][3]["language"], "fr");
    assert_eq!(v["voters"][3]["weight"], 3);
    assert_eq!(v["voters"][0]["voted"], false);
    // search on login and on address, case-insensitive; pages
    assert_eq!(logins(&roll(&s, &token, "d1", "?q=CAR").await), ["carol"]);
    assert_eq!(
        logins(&roll(&s, &token, "d1", "?q=example.net").await),
        ["bob"]
    );
    assert!(logins(&roll(&s, &token, "d1", "?q=%25").await).is_empty());
    let page = roll(&s, &token, "d1", "?limit=2").await;
    assert_eq!(logins(&page), ["alice", "bob"]);
    assert_eq!(page["next_after"], "bob");
    let page = roll(&s, &token, "d1", "?limit=2&after=bob").await;
    assert_eq!(logins(&page), ["carol", "dave"]);

    // edit
    let r = s
        .client
        .put(format!("{}/bob", roll_url(&s, "d1")))
        .bearer_auth(&token)
        .json(&json!({"email": "robert@example.org", "weight": 2, "language": "en"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v = roll(&s, &token, "d1", "?q=bob").await;
    assert_eq!(v["voters"][0]["email"], "robert@example.org");
    assert_eq!(v["voters"][0]["weight"], 2);
    assert_eq!(v["voters"][0]["language"], "en");
    let r = s
        .client
        .put(format!("{}/nobody", roll_url(&s, "d1")))
        .bearer_auth(&token)
        .json(&json!({"email": "n@example.org"}))
        .send()
        .await
        .unwrap();
    assert_eq!(json_error(r).await.0, 404);

    // remove
    let r = s
        .client
        .delete(format!("{}/carol", roll_url(&s, "d1")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let r = s
        .client
        .delete(format!("{}/carol", roll_url(&s, "d1")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(json_error(r).await.0, 404);
    let v = roll(&s, &token, "d1", "").await;
    assert_eq!(logins(&v), ["alice", "bob", "dave"]);
    assert_eq!(v["total_weight"], 6);

    // every change is in the audit log
    let r = s
        .client
        .get(s.url("/api/admin/elections/d1/audit-log"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    let v: Value = r.json().await.unwrap();
    let actions: Vec<&str> = v["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "voters.add",
            "voters.add",
            "voters.add",
            "voters.add",
            "voters.edit",
            "voters.remove"
        ]
    );

    // once open, the roll is frozen
    let (status, code, _) = json_error(
        add(
            &s,
            &token,
            "open1",
            json!({"login": "x", "email": "x@example.org"}),
        )
        .await,
    )
    .await;
    assert_eq!((status, code.as_str()), (409, "voter_list_frozen"));
    for method in [reqwest::Method::PUT, reqwest::Method::DELETE] {
        let r = s
            .client
            .request(method, format!("{}/x", roll_url(&s, "open1")))
            .bearer_auth(&token)
            .json(&json!({"email": "x@example.org"}))
            .send()
            .await
            .unwrap();
        let (status, code, _) = json_error(r).await;
        assert_eq!((status, code.as_str()), (409, "voter_list_frozen"));
    }
    // only officials see the roll
    let r = s.client.get(roll_url(&s, "d1")).send().await.unwrap();
    assert_eq!(json_error(r).await.0, 401);
    let r = s
        .client
        .get(s.url("/api/admin/elections/d1/roll.csv"))
        .send()
        .await
        .unwrap();
    assert_eq!(json_error(r).await.0, 401);
    let r = s
        .client
        .get(roll_url(&s, "nope"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(json_error(r).await.0, 404);
}

#[tokio::test]
async fn the_export_neutralises_formulas() {
    let s = TestServer::start().await;
    s.election("d1", ElectionState::Draft).await;
    let token = s.admin_token().await;
    let csv = b"=cmd|'/C_calc'!A0,=x@example.org\n\
                +x,+x@example.org\n\
                -x,-x@example.org\n\
                @x,at@example.org\n\
                plain,plain@example.org,2,fr\n";
    let r = s
        .client
        .post(s.url("/api/admin/elections/d1/voters"))
        .bearer_auth(&token)
        .header("content-type", "text/csv")
        .body(csv.to_vec())
        .send()
        .await
        .unwrap();
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["imported"], true, "{v}");
    let out = export(&s, &token, "d1").await;
    let lines: Vec<&str> = out.split("\r\n").collect();
    assert_eq!(
        lines,
        [
            "\"login\",\"email\",\"weight\",\"language\",\"voted\",\"code_mail\",\"credential_mail\",\"confirmation_mail\",\"reminder_mail\"",
            "\"'+x\",\"'+x@example.org\",\"1\",\"\",\"no\",\"\",\"\",\"\",\"\"",
            "\"'-x\",\"'-x@example.org\",\"1\",\"\",\"no\",\"\",\"\",\"\",\"\"",
            "\"'=cmd|'/C_calc'!A0\",\"'=x@example.org\",\"1\",\"\",\"no\",\"\",\"\",\"\",\"\"",
            "\"'@x\",\"at@example.org\",\"1\",\"\",\"no\",\"\",\"\",\"\",\"\"",
            "\"plain\",\"plain@example.org\",\"2\",\"fr\",\"no\",\"\",\"\",\"\",\"\"",
            "",
        ]
    );
    // no cell of the export starts with a formula character
    for line in lines {
        for cell in line.split("\",\"") {
            let cell = cell.trim_start_matches('"');
            assert!(
                !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "{cell}"
            );
        }
    }
}

async fn voter_session(s: &TestServer, id: &str, login: &str) -> String {
    let r = s
        .client
        .post(s.url(&format!("/api/elections/{id}/login")))
        .json(&json!({ "login": login }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    let code = code_for(s, login).await;
    let r = s
        .client
        .post(s.url(&format!("/api/elections/{id}/verify-code")))
        .json(&json!({ "login": login, "code": code }))
        .send()
        .await
        .unwrap();
    let v: Value = r.json().await.unwrap();
    v["token"].as_str().unwrap().to_owned()
}

/// The login code mailed to `login`, once it is in the outbox.
async fn code_for(s: &TestServer, login: &str) -> String {
    for _ in 0..200 {
        let code = std::fs::read_dir(s.outbox()).ok().and_then(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| std::fs::read_to_string(e.path()).unwrap_or_default())
                .filter(|m| m.contains(&format!("{login}@example.org")))
                .find_map(|m| {
                    m.lines()
                        .map(str::trim)
                        .find(|l| l.len() == 8 && l.bytes().all(|b| b.is_ascii_digit()))
                        .map(str::to_owned)
                })
        });
        if let Some(code) = code {
            return code;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("no code was mailed to {login}");
}

#[tokio::test]
async fn during_voting_the_roll_shows_who_voted_and_mail_status() {
    let s = TestServer::start_with(|_| {}, protocol::api::routes()).await;
    let (id, creds) = open_election(&s, DESCRIPTION, &["alice", "bob", "carol"]).await;
    let token = s.admin_token().await;
    let st = state_of(&s, &id).await;
    // alice logs in and votes; bob only logs in
    let alice = voter_session(&s, &id, "alice").await;
    let _bob = voter_session(&s, &id, "bob").await;
    let r = s
        .client
        .post(s.url(&format!("/api/elections/{id}/ballots")))
        .bearer_auth(&alice)
        .json(&encrypt(&st, &creds[0], true))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());

    let v = roll(&s, &token, &id, "").await;
    assert_eq!(v["state"], "open");
    let voted: Vec<bool> = v["voters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["voted"].as_bool().unwrap())
        .collect();
    assert_eq!(voted, [true, false, false]);
    assert_eq!(v["voters"][0]["mails"]["otp"], "sent");
    assert_eq!(v["voters"][1]["mails"]["otp"], "sent");
    assert!(v["voters"][2]["mails"].as_object().unwrap().is_empty());
    // nothing about the ballot itself
    let alice_entry = v["voters"][0].as_object().unwrap();
    let mut keys: Vec<&str> = alice_entry.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        ["email", "language", "login", "mails", "voted", "weight"]
    );

    let out = export(&s, &token, &id).await;
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 4);
    assert!(
        lines[1].starts_with("\"alice\",\"alice@example.org\",\"1\",\"\",\"yes\",\"sent\","),
        "{}",
        lines[1]
    );
    assert!(
        lines[2].starts_with("\"bob\",\"bob@example.org\",\"1\",\"\",\"no\",\"sent\","),
        "{}",
        lines[2]
    );
    assert_eq!(
        lines[3],
        "\"carol\",\"carol@example.org\",\"1\",\"\",\"no\",\"\",\"\",\"\",\"\""
    );
}

#[test]
fn the_roll_routes_are_documented() {
    let doc: Value = serde_json::from_str(protocol::api::OPENAPI).unwrap();
    for (path, method) in [
        ("/api/admin/elections/{id}/roll", "get"),
        ("/api/admin/elections/{id}/roll", "post"),
        ("/api/admin/elections/{id}/roll/{login}", "put"),
        ("/api/admin/elections/{id}/roll/{login}", "delete"),
        ("/api/admin/elections/{id}/roll.csv", "get"),
        ("/api/admin/elections/{id}/roll/{login}/resend", "post"),
        ("/api/admin/elections/{id}/reminders", "get"),
        ("/api/admin/elections/{id}/reminders", "post"),
    ] {
        let op = &doc["paths"][path][method];
        assert_eq!(
            op["security"][0]["adminSession"],
            json!([]),
            "{method} {path}"
        );
    }
    let entry = &doc["components"]["schemas"]["RollEntry"]["properties"];
    for field in [
        "login", "email", "weight", "language", "voted", "mails", "resend",
    ] {
        assert!(entry[field].is_object(), "{field} not documented");
    }
    for path in [
        "/api/elections/{id}/authority/resends",
        "/api/elections/{id}/authority/resends/{login}/sent",
    ] {
        let op = doc["paths"][path]
            .as_object()
            .and_then(|p| p.values().next())
            .unwrap_or_else(|| panic!("{path} not documented"));
        assert_eq!(op["security"][0]["roleToken"], json!([]), "{path}");
    }
}
