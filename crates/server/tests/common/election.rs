//! An open election on a test server, built with the protocol functions the routes call:
//! one trustee, a voter list, credentials, opened.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, dead_code)]

use scrutin_election::ballot;
use scrutin_election::ceremony;
use scrutin_election::credential::{self, Credential};
use scrutin_election::crypto::rng::os_rng;
use scrutin_election::definition::QuestionChoice;
use scrutin_election::demo::{role_keys, roles_toml};
use scrutin_election::record::Event;
use scrutin_election::roles::Signed;
use scrutin_election::verify::RecordState;
use scrutin_server::protocol;
use scrutin_server::storage::{Voter, blocking};
use serde_json::Value;

use super::{ADMIN, TestServer};

/// A one-question election (yes or no).
pub const DESCRIPTION: &str = r#"
title = "Availability"
threshold = 1

[[question]]
text = "Adopt the budget?"
answers = ["Yes", "No"]
min = 1
max = 1
"#;

pub async fn state_of(s: &TestServer, id: &str) -> RecordState {
    let locked = s.state.elections.lock(&s.state, id).await.unwrap();
    locked.state().unwrap().clone()
}

pub async fn post(s: &TestServer, id: &str, trustee: u32, event: &Event) -> Result<(), String> {
    let body: Value = serde_json::from_str(&event.body_json().unwrap()).unwrap();
    protocol::post_trustee_event(&s.state, id, trustee, event.kind(), &body)
        .await
        .map(|_| ())
        .map_err(|e| format!("{}: {}", e.code, e.message))
}

/// An open election with one trustee and the voters `logins` (weight 1 each); returns its
/// id and each voter's private credential, in order.
pub async fn open_election(
    s: &TestServer,
    description: &str,
    logins: &[&str],
) -> (String, Vec<String>) {
    open_election_closing_at(s, description, logins, None).await
}

/// [`open_election`], planned to close at `closes_at`.
pub async fn open_election_closing_at(
    s: &TestServer,
    description: &str,
    logins: &[&str],
    closes_at: Option<i64>,
) -> (String, Vec<String>) {
    let app = &s.state;
    let (trustees, authority) = role_keys(&["Alice"], b"lockout tests");
    let toml = format!("{description}{}", roles_toml(&trustees, &authority));
    let id = protocol::create_election(app, ADMIN, toml, None, closes_at)
        .await
        .unwrap()
        .id;
    let roll: Vec<Voter> = logins
        .iter()
        .map(|login| Voter {
            login: (*login).into(),
            email: format!("{login}@example.org"),
            weight: 1,
            language: None,
        })
        .collect();
    let eid = id.clone();
    blocking(&app.storage, move |st| st.add_voters(&eid, &roll))
        .await
        .unwrap();
    let st = state_of(s, &id).await;
    let (file, commit) = ceremony::trustee_commit(&st, &trustees[0], &mut os_rng()).unwrap();
    post(s, &id, 1, &commit).await.unwrap();
    let deal = ceremony::trustee_deal(&state_of(s, &id).await, &file, &mut os_rng()).unwrap();
    post(s, &id, 1, &deal).await.unwrap();
    let check = ceremony::trustee_check(&state_of(s, &id).await, &file, &mut os_rng()).unwrap();
    post(s, &id, 1, &check).await.unwrap();
    let st = state_of(s, &id).await;
    let named: Vec<(String, u64)> = logins.iter().map(|l| ((*l).to_owned(), 1)).collect();
    let (private, list) = credential::issue(&id, &named, &mut os_rng()).unwrap();
    let signed = Signed::sign(
        list,
        "credentials",
        &st.election_hash,
        &authority,
        &mut os_rng(),
    )
    .unwrap();
    protocol::post_credentials(app, &id, signed).await.unwrap();
    protocol::open(app, ADMIN, &id).await.unwrap();
    (id, private.into_iter().map(|c| c.credential).collect())
}

/// A yes-or-no ballot of the election of `st`, cast with `credential`.
pub fn encrypt(st: &RecordState, credential: &str, yes: bool) -> ballot::Ballot {
    let ctx = st.context.as_ref().unwrap();
    let cred = Credential::parse(credential).unwrap();
    let choice = QuestionChoice::Values(vec![u64::from(yes), u64::from(!yes)]);
    ballot::encrypt(ctx, &cred, &[choice], &mut os_rng())
        .unwrap()
        .0
}
