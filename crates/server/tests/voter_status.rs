//! What the booth asks before the choices, and what a replaced ballot's tracker says
//! (`crate::protocol::voter`): a signed-in voter's ballots, whether a credential (its public
//! key) may sign this login's ballot, and the later ballot that replaced a tracker's, in the
//! API and on the board page; the board and result pages write times as UTC `<time>`s that
//! their script localises.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::election::{DESCRIPTION, encrypt, open_election_closing_at, state_of};
use common::{TestServer, json_error};
use scrutin_election::credential::Credential;
use scrutin_server::auth;
use scrutin_server::protocol;
use scrutin_server::storage::{SessionSubject, blocking, now};
use serde_json::{Value, json};

/// 14 March 2027, 17:00 UTC.
const CLOSES_AT: i64 = 1_805_043_600;

async fn server() -> TestServer {
    TestServer::start_with(|_| {}, protocol::api::routes()).await
}

/// A voter session of `login` in election `id`.
async fn session(s: &TestServer, id: &str, login: &str) -> String {
    let subject = SessionSubject::Voter {
        election: id.to_owned(),
        login: login.to_owned(),
    };
    blocking(&s.state.storage, move |st| {
        Ok(auth::issue_session(st, subject, now(), 3600).unwrap().token)
    })
    .await
    .unwrap()
}

/// The public key of a private credential, as the booth computes it.
async fn public_key(s: &TestServer, id: &str, credential: &str) -> String {
    let st = state_of(s, id).await;
    let def = st.definition.unwrap();
    Credential::parse(credential)
        .unwrap()
        .signing_key(&def.id)
        .public()
        .to_hex()
}

async fn voter(s: &TestServer, id: &str, token: &str) -> Value {
    let r = s
        .client
        .get(s.url(&format!("/api/elections/{id}/voter")))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["cache-control"], "no-store");
    r.json().await.unwrap()
}

async fn may_use(s: &TestServer, id: &str, token: &str, key: &str) -> String {
    let r = s
        .client
        .post(s.url(&format!("/api/elections/{id}/voter/credential")))
        .bearer_auth(token)
        .json(&json!({ "credential": key }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    let status = v["status"].as_str().unwrap().to_owned();
    assert_eq!(
        v["usable"].as_bool().unwrap(),
        status == "unused" || status == "this_login",
        "{v}"
    );
    status
}

/// Casts a yes-or-no ballot over HTTP; returns the receipt.
async fn cast(s: &TestServer, id: &str, token: &str, credential: &str, yes: bool) -> Value {
    let b = encrypt(&state_of(s, id).await, credential, yes);
    let r = s
        .client
        .post(s.url(&format!("/api/elections/{id}/ballots")))
        .bearer_auth(token)
        .json(&b)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

async fn tracker(s: &TestServer, id: &str, t: &str) -> Value {
    let r = s
        .client
        .get(s.url(&format!("/api/elections/{id}/trackers/{t}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["cache-control"], "no-cache");
    r.json().await.unwrap()
}

#[tokio::test]
async fn the_booth_learns_before_the_choices_what_the_cast_would_refuse() {
    let s = server().await;
    let (id, creds) =
        open_election_closing_at(&s, DESCRIPTION, &["alice", "bob", "carol"], Some(CLOSES_AT))
            .await;
    let (alice, bob) = (
        session(&s, &id, "alice").await,
        session(&s, &id, "bob").await,
    );
    let mut keys = Vec::new();
    for c in &creds {
        keys.push(public_key(&s, &id, c).await);
    }

    // Nobody voted: every credential is unused, and alice has no ballot.
    let v = voter(&s, &id, &alice).await;
    assert_eq!(v["login"], "alice");
    assert_eq!(v["voted"], false);
    assert_eq!(v["ballots"], 0);
    assert!(v["last_ballot"].is_null());
    assert_eq!(may_use(&s, &id, &alice, &keys[0]).await, "unused");
    assert_eq!(may_use(&s, &id, &bob, &keys[0]).await, "unused");

    // Alice votes: she is told so, with her ballot.
    let r1 = cast(&s, &id, &alice, &creds[0], true).await;
    let v = voter(&s, &id, &alice).await;
    assert_eq!(v["voted"], true);
    assert_eq!(v["ballots"], 1);
    assert_eq!(v["last_ballot"]["seq"], r1["seq"]);
    assert_eq!(v["last_ballot"]["tracker"], r1["tracker"]);
    // Her own credential again: a new ballot replaces the last; another one: refused.
    assert_eq!(may_use(&s, &id, &alice, &keys[0]).await, "this_login");
    assert_eq!(
        may_use(&s, &id, &alice, &keys[1]).await,
        "login_uses_another"
    );
    // Bob cannot use alice's credential (its ballot is on the board); his own is free, and
    // so is carol's, which the board shows no ballot of: nothing beyond the board is told.
    assert_eq!(may_use(&s, &id, &bob, &keys[0]).await, "another_login");
    assert_eq!(may_use(&s, &id, &bob, &keys[1]).await, "unused");
    assert_eq!(may_use(&s, &id, &bob, &keys[2]).await, "unused");
    // And the cast refuses what the check announced.
    let b = encrypt(&state_of(&s, &id).await, &creds[0], false);
    let r = s
        .client
        .post(s.url(&format!("/api/elections/{id}/ballots")))
        .bearer_auth(&bob)
        .json(&b)
        .send()
        .await
        .unwrap();
    let (status, _, body) = json_error(r).await;
    assert_eq!(status, 403, "{body}");

    // Malformed keys, no session, another election's session.
    let r = s
        .client
        .post(s.url(&format!("/api/elections/{id}/voter/credential")))
        .bearer_auth(&bob)
        .json(&json!({ "credential": "K7QH-2M9P" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let r = s
        .client
        .post(s.url(&format!("/api/elections/{id}/voter/credential")))
        .json(&json!({ "credential": keys[0] }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let elsewhere = session(&s, "another-election", "bob").await;
    let r = s
        .client
        .get(s.url(&format!("/api/elections/{id}/voter")))
        .bearer_auth(&elsewhere)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);

    // Alice votes again: her first ballot is replaced, not counted.
    let r2 = cast(&s, &id, &alice, &creds[0], false).await;
    let (t1, t2) = (
        r1["tracker"].as_str().unwrap(),
        r2["tracker"].as_str().unwrap(),
    );
    let first = tracker(&s, &id, t1).await;
    assert_eq!(first["seq"], r1["seq"]);
    assert_eq!(first["replaced"], true);
    assert_eq!(first["replaced_by"]["seq"], r2["seq"]);
    assert_eq!(first["replaced_by"]["tracker"], t2);
    let last = tracker(&s, &id, t2).await;
    assert_eq!(last["replaced"], false);
    assert!(last["replaced_by"].is_null());
    let v = voter(&s, &id, &alice).await;
    assert_eq!(v["ballots"], 2);
    assert_eq!(v["last_ballot"]["tracker"], t2);

    // The board's lookup and list say so too.
    let board = s
        .client
        .get(s.url(&format!("/elections/{id}/board?tracker={t1}&lang=en")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(board.contains("data-replaced=\"true\""), "{board}");
    assert!(board.contains(&format!(
        "Replaced by a later ballot of the same credential (event {}): this ballot is not counted.",
        r2["seq"]
    )));
    let row = |t: &str| {
        let at = board
            .find(&format!("<td class=\"tracker\">{t}</td>"))
            .unwrap();
        let start = board[..at].rfind("<tr").unwrap();
        let end = at + board[at..].find("</tr>").unwrap();
        board[start..end].to_owned()
    };
    assert!(
        row(t1).starts_with("<tr class=\"found replaced\""),
        "{}",
        row(t1)
    );
    assert!(row(t1).contains(&format!(
        "Replaced by a later ballot (event {}), not counted",
        r2["seq"]
    )));
    assert!(row(t2).contains("Last ballot of its credential"));
    let board_fr = s
        .client
        .get(s.url(&format!("/elections/{id}/board?tracker={t2}&lang=fr")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(board_fr.contains("data-replaced=\"false\""));
    assert!(board_fr.contains("Remplacé par un bulletin ultérieur"));

    // Times: UTC with the zone's name in a <time>, which the page's script localises.
    let time = "<time datetime=\"2027-03-14T17:00:00Z\">2027-03-14 17:00 UTC</time>";
    assert!(board.contains(time));
    assert!(board.contains("<script type=\"module\" src=\"/static/js/local-time.js\"></script>"));
    let result = s
        .client
        .get(s.url(&format!("/elections/{id}/result?lang=en")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        result.contains(&format!("Voting is open until {time}.")),
        "{result}"
    );
}
