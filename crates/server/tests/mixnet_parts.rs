//! Shuffles and decryption shares written over several lines (spec §11.15), posted over
//! HTTP: each trustee posts its parts and its event in one request, the server appends them
//! as consecutive lines, and the board verifies to the same count. A post whose parts do
//! not lead to their event, whose events are of another kind or another trustee, or whose
//! part was altered, is refused and leaves the board as it was.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{ADMIN, TestServer, json_error};
use scrutin_election::ceremony::{self, TrusteeSecretFile};
use scrutin_election::crypto::rng::SeededRng;
use scrutin_election::definition::ElectionDescription;
use scrutin_election::demo::{self, DemoOptions};
use scrutin_election::parts::Layout;
use scrutin_election::record::Event;
use scrutin_election::roles::Signed;
use scrutin_election::verify::{NoProgress, RecordState, verify_record};
use scrutin_server::protocol;
use scrutin_server::storage::{ElectionState, blocking};
use serde_json::{Value, json};

const QUESTIONS: &str = r#"
title = "Ranked council"
threshold = 2

[[question]]
text = "Elect two"
answers = ["Ada", "Blaise", "Claude", "Dorothy"]
kind = "ranked"
method = "stv"
seats = 2
"#;

/// The events as a trustee posts them: `{events: [{type, body}, …]}`.
fn posted(events: &[Event]) -> Value {
    let list: Vec<Value> = events
        .iter()
        .map(|e| {
            json!({
                "type": e.kind(),
                "body": serde_json::from_str::<Value>(&e.body_json().unwrap()).unwrap(),
            })
        })
        .collect();
    json!({ "events": list })
}

async fn record_of(server: &TestServer) -> String {
    server
        .client
        .get(server.url("/api/elections/parts/record"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

async fn state_of(server: &TestServer) -> RecordState {
    verify_record(record_of(server).await.as_bytes(), &NoProgress)
        .unwrap()
        .state
}

async fn post(server: &TestServer, token: &str, body: &Value) -> reqwest::Response {
    server
        .client
        .post(server.url("/api/elections/parts/trustee/events"))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn long_shuffles_and_shares_are_posted_in_parts_and_verify() {
    let (trustees, authority) = demo::role_keys(&["A", "B"], b"parts over http");
    let text = format!("{QUESTIONS}{}", demo::roles_toml(&trustees, &authority));
    let questions = ElectionDescription::from_toml(&text).unwrap().questions;
    let mut rng = SeededRng::new(b"parts over http");
    let outcome = demo::run(
        &DemoOptions {
            voters: 5,
            trustees: 2,
            threshold: 2,
            questions,
            leave_open: true,
            ..Default::default()
        },
        &mut rng,
    )
    .unwrap();
    // The record up to `close`, on the board of a closed election.
    let open = RecordState::from_record(outcome.record.as_bytes()).unwrap();
    let close = ceremony::lines_after(&open, &[ceremony::close_event(&open).unwrap()]).unwrap();
    let record = format!("{}{close}", outcome.record);
    let closed = record.clone();
    let server = TestServer::start_with(|_| {}, protocol::api::routes()).await;
    server.election("parts", ElectionState::Closed).await;
    let lines: Vec<String> = record.lines().map(str::to_owned).collect();
    blocking(&server.state.storage, move |s| {
        s.append_events("parts", 0, &lines, &[]).map(|_| ())
    })
    .await
    .unwrap();
    let tokens = protocol::issue_role_tokens(&server.state, ADMIN, "parts")
        .await
        .unwrap();
    let token = |t: &TrusteeSecretFile| tokens.trustees[t.dkg.index as usize - 1].token.clone();
    // Four answers a row: parts of 8 ciphertexts hold two rows each.
    let layout = Layout::Parts(8);
    let files = &outcome.trustees;

    // Refused, the board unchanged: parts without their shuffle; a shuffle posted by the
    // other trustee's token; a part altered (its trustee's signature then fails, S1).
    let st = state_of(&server).await;
    let events = ceremony::trustee_shuffle_laid_out(&st, &files[0], layout, &mut rng).unwrap();
    assert_eq!(
        events.iter().filter(|e| e.kind() == "shuffle_rows").count(),
        3,
        "5 rows in parts of 2"
    );
    let head = st.head;
    let r = post(&server, &token(&files[0]), &posted(&events[..2])).await;
    let (status, code, _) = json_error(r).await;
    assert_eq!((status, code.as_str()), (400, "bad_request"));
    let r = post(&server, &token(&files[1]), &posted(&events)).await;
    assert_eq!(r.status(), 403);
    let mut altered = events.clone();
    if let Event::ShuffleRows(p) = &mut altered[1] {
        p.body.outputs.swap(0, 1);
    }
    let r = post(&server, &token(&files[0]), &posted(&altered)).await;
    let (status, _, body) = json_error(r).await;
    assert_eq!(status, 422, "{body}");
    assert!(body.to_string().contains("S1"), "{body}");
    // The same, signed again by its trustee: the rows no longer join into a shuffle (M1).
    if let Event::ShuffleRows(p) = &mut altered[1] {
        *p = Signed::sign(
            p.body.clone(),
            "shuffle_rows",
            &st.election_hash,
            &files[0].role_key,
            &mut rng,
        )
        .unwrap();
    }
    let r = post(&server, &token(&files[0]), &posted(&altered)).await;
    let (status, _, body) = json_error(r).await;
    assert_eq!(status, 422, "{body}");
    assert!(body.to_string().contains("M1"), "{body}");
    assert_eq!(state_of(&server).await.head, head);

    // Each trustee shuffles, then decrypts, in parts; then the result.
    let r = post(&server, &token(&files[0]), &posted(&events)).await;
    assert_eq!(r.status(), 200);
    let seq = r.json::<Value>().await.unwrap()["seq"].as_u64().unwrap();
    let st = state_of(&server).await;
    assert_eq!(
        seq + 1,
        st.events,
        "the seq answered is the shuffle's, after its parts"
    );
    let events = ceremony::trustee_shuffle_laid_out(&st, &files[1], layout, &mut rng).unwrap();
    let r = post(&server, &token(&files[1]), &posted(&events)).await;
    assert_eq!(r.status(), 200);
    for f in files {
        let st = state_of(&server).await;
        let events = ceremony::trustee_decrypt_laid_out(&st, f, layout, &mut rng).unwrap();
        assert!(events.len() > 1);
        let r = post(&server, &token(f), &posted(&events)).await;
        assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    }
    protocol::tally(&server.state, ADMIN, "parts")
        .await
        .unwrap();
    let record = record_of(&server).await;
    let st = verify_record(record.as_bytes(), &NoProgress).unwrap().state;
    assert_eq!(record.matches(r#""type":"shuffle_rows""#).count(), 6);
    assert_eq!(record.matches(r#""type":"decryption_rows""#).count(), 6);
    // The same election shuffled and decrypted on one line each, here: the same ballots
    // (in another order) and the same count.
    let mut local = closed;
    for f in files {
        let st = RecordState::from_record(local.as_bytes()).unwrap();
        let events = ceremony::trustee_shuffle(&st, f, &mut rng).unwrap();
        assert_eq!(events.len(), 1);
        local.push_str(&ceremony::lines_after(&st, &events).unwrap());
    }
    for f in files {
        let st = RecordState::from_record(local.as_bytes()).unwrap();
        let events = ceremony::trustee_decrypt(&st, f, &mut rng).unwrap();
        local.push_str(&ceremony::lines_after(&st, &events).unwrap());
    }
    let st_local = RecordState::from_record(local.as_bytes()).unwrap();
    let result = ceremony::result_event(&st_local).unwrap();
    let Event::Result(local_result) = result else {
        panic!("not a result")
    };
    let (parts, one_line) = (
        &st.result.unwrap().mixed.unwrap()[0],
        &local_result.mixed.unwrap()[0],
    );
    let sorted = |b: &Vec<Vec<Option<u64>>>| {
        let mut b = b.clone();
        b.sort();
        b
    };
    assert_eq!(sorted(&parts.ballots), sorted(&one_line.ballots));
    assert_eq!(parts.count, one_line.count);
}
