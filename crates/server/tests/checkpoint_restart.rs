//! A node restarting on an election reads its latest checkpoint, anchored to the stored
//! record, and verifies only the lines after it; a checkpoint that is not anchored to the
//! stored record (another record's, or altered) is ignored and the whole record verified.
//! Nodes are restarted as in `two_nodes.rs`: a new [`AppState`] on the same storage.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::TestServer;
use common::pg::TestDatabase;
use scrutin_election::checkpoint;
use scrutin_election::crypto::rng::SeededRng;
use scrutin_election::demo::{self, DemoOptions};
use scrutin_election::verify::{RecordState, Stage};
use scrutin_server::storage::{ElectionState, StoredCheckpoint, blocking};
use scrutin_server::{AppState, protocol};

fn restart(s: &TestServer) -> AppState {
    AppState::open((*s.state.config).clone()).unwrap()
}

fn record(seed: &[u8]) -> Vec<String> {
    record_of(seed, 8)
}

fn record_of(seed: &[u8], voters: usize) -> Vec<String> {
    let outcome = demo::run(
        &DemoOptions {
            voters,
            revote_percent: 30,
            ..Default::default()
        },
        &mut SeededRng::new(seed),
    )
    .unwrap();
    outcome.record.lines().map(str::to_owned).collect()
}

async fn append(node: &AppState, id: &str, from: u64, lines: &[String]) {
    let (id, lines) = (id.to_owned(), lines.to_vec());
    blocking(&node.storage, move |s| {
        s.append_events(&id, from, &lines, &[]).map(|_| ())
    })
    .await
    .unwrap();
}

async fn stored(node: &AppState, id: &str) -> Option<StoredCheckpoint> {
    let id = id.to_owned();
    blocking(&node.storage, move |s| s.checkpoint(&id))
        .await
        .unwrap()
}

#[tokio::test]
async fn a_restart_reads_the_checkpoint_then_the_lines_after_it() {
    restart_from_checkpoint(None).await;
}

#[tokio::test]
async fn a_restart_reads_the_checkpoint_then_the_lines_after_it_postgres() {
    if let Some(db) = TestDatabase::create("checkpoint_restart") {
        restart_from_checkpoint(Some(db)).await;
    }
}

async fn restart_from_checkpoint(db: Option<TestDatabase>) {
    let lines = record(b"checkpoint restart");
    let whole = RecordState::from_record((lines.join("\n") + "\n").as_bytes()).unwrap();
    // Stop in the middle of the voting: the checkpoint is of an open election.
    let open_at = lines
        .iter()
        .position(|l| l.contains("\"type\":\"open\""))
        .unwrap();
    let cut = open_at + 4;
    let server = TestServer::start_on(db, |_| {}, protocol::api::routes()).await;
    server.election("e", ElectionState::Open).await;
    append(&server.state, "e", 0, &lines[..cut]).await;

    // The first node verifies the whole record, then writes its checkpoint at shutdown.
    let a = &server.state;
    let view = a.elections.view(a, "e").await.unwrap();
    assert_eq!(view.events, cut as u64);
    assert_eq!(a.elections.loads_from_checkpoint(), 0);
    assert!(stored(a, "e").await.is_none(), "not yet due (5,000 lines)");
    a.elections.checkpoint_all(a).await;
    let cp = stored(a, "e").await.unwrap();
    assert_eq!(cp.events, cut as u64);
    assert_eq!(cp.head, view.head.to_hex());
    // Nothing changed: nothing written again.
    a.elections.checkpoint_all(a).await;

    // The rest of the record arrives (another node appends it).
    append(a, "e", cut as u64, &lines[cut..]).await;

    // A restarted node starts from the checkpoint and verifies the lines after it.
    let b = restart(&server);
    let view = b.elections.view(&b, "e").await.unwrap();
    assert_eq!(b.elections.loads(), 1);
    assert_eq!(b.elections.loads_from_checkpoint(), 1);
    assert_eq!(view.head, whole.head);
    assert_eq!(view.events, whole.events);
    assert_eq!(view.stage, Stage::Tallied);
    assert_eq!(view.counted, whole.ballots_counted());
    assert_eq!(view.result.as_deref(), whole.result.as_ref());
    // The stored lifecycle state followed the record.
    assert_eq!(
        protocol::election_meta(&b, "e").await.unwrap().state,
        ElectionState::Tallied
    );
    // Its own checkpoint, at shutdown, covers the whole record.
    b.elections.checkpoint_all(&b).await;
    assert_eq!(stored(&b, "e").await.unwrap().events, whole.events);
    let c = restart(&server);
    let view = c.elections.view(&c, "e").await.unwrap();
    assert_eq!(c.elections.loads_from_checkpoint(), 1);
    assert_eq!(view.head, whole.head);
}

/// A checkpoint of another record with as many lines, or one whose bytes were altered, is
/// refused: the restarted node verifies the whole record and has its true state.
#[tokio::test]
async fn a_checkpoint_not_anchored_to_the_stored_record_is_ignored() {
    let lines = record(b"the stored record");
    let other = record_of(b"another record", 20);
    let whole = RecordState::from_record((lines.join("\n") + "\n").as_bytes()).unwrap();
    // As many lines of another record.
    let other = &other[..lines.len()];
    let foreign = RecordState::from_record((other.join("\n") + "\n").as_bytes()).unwrap();
    assert_eq!(foreign.events, whole.events);
    assert_ne!(whole.head, foreign.head);

    let server = TestServer::start_with(|_| {}, protocol::api::routes()).await;
    server.election("e", ElectionState::Tallied).await;
    append(&server.state, "e", 0, &lines).await;
    let put = |cp: StoredCheckpoint| {
        let storage = server.state.storage.clone();
        async move {
            blocking(&storage, move |s| s.put_checkpoint("e", &cp))
                .await
                .unwrap()
        }
    };

    // Another record's checkpoint, its columns consistent with its bytes.
    put(StoredCheckpoint {
        events: foreign.events,
        head: foreign.head.to_hex(),
        bytes: checkpoint::encode(&foreign).unwrap(),
    })
    .await;
    let b = restart(&server);
    let view = b.elections.view(&b, "e").await.unwrap();
    assert_eq!(b.elections.loads(), 1);
    assert_eq!(b.elections.loads_from_checkpoint(), 0, "verified in full");
    assert_eq!(view.head, whole.head);
    assert_eq!(view.result.as_deref(), whole.result.as_ref());

    // The right state, but columns that lie about it, or altered bytes.
    let mut bytes = checkpoint::encode(&whole).unwrap();
    put(StoredCheckpoint {
        events: whole.events,
        head: foreign.head.to_hex(),
        bytes: bytes.clone(),
    })
    .await;
    let c = restart(&server);
    assert_eq!(c.elections.view(&c, "e").await.unwrap().head, whole.head);
    assert_eq!(c.elections.loads_from_checkpoint(), 0);
    let middle = bytes.len() / 2;
    bytes[middle] ^= 1;
    put(StoredCheckpoint {
        events: whole.events,
        head: whole.head.to_hex(),
        bytes,
    })
    .await;
    let d = restart(&server);
    assert_eq!(d.elections.view(&d, "e").await.unwrap().head, whole.head);
    assert_eq!(d.elections.loads_from_checkpoint(), 0);

    // The genuine one is used.
    put(StoredCheckpoint {
        events: whole.events,
        head: whole.head.to_hex(),
        bytes: checkpoint::encode(&whole).unwrap(),
    })
    .await;
    let e = restart(&server);
    assert_eq!(e.elections.view(&e, "e").await.unwrap().head, whole.head);
    assert_eq!(e.elections.loads_from_checkpoint(), 1);
}

/// With a policy of every line at once, the load itself is followed by a checkpoint written
/// in the background.
#[tokio::test]
async fn a_checkpoint_is_written_in_the_background_when_due() {
    let lines = record(b"background checkpoint");
    let server = TestServer::start_with(
        |c| {
            c.checkpoints.every_lines = 1;
            c.checkpoints.every_secs = 0;
        },
        protocol::api::routes(),
    )
    .await;
    server.election("e", ElectionState::Tallied).await;
    append(&server.state, "e", 0, &lines).await;
    let a = &server.state;
    let view = a.elections.view(a, "e").await.unwrap();
    let mut cp = None;
    for _ in 0..200 {
        cp = stored(a, "e").await;
        if cp.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let cp = cp.expect("a checkpoint written after the load");
    assert_eq!((cp.events, cp.head), (view.events, view.head.to_hex()));
}
