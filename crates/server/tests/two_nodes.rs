//! Two servers on one database: storage is the one source of truth, so ballots cast to
//! either land on one board (no fork, no gap, no duplicate), each server catches up with the
//! other's appends instead of answering `board_moved` forever, and a lifecycle change made
//! on one is seen by the other. On SQLite (one data folder) and on PostgreSQL (one database).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::election::{DESCRIPTION, encrypt, open_election, open_election_closing_at, state_of};
use common::pg::TestDatabase;
use common::{ADMIN, TestServer};
use scrutin_election::verify::RecordState;
use scrutin_server::storage::postgres::PostgresStorage;
use scrutin_server::storage::{ElectionState, Storage, blocking, now};
use scrutin_server::{AppState, protocol};

/// A second server process on the same data folder, as a second node would be.
fn second_node(s: &TestServer) -> AppState {
    AppState::open((*s.state.config).clone()).unwrap()
}

/// Casts, retrying while the board moved under the request (what the booth does with a
/// 503 and `Retry-After`).
async fn cast_until_done(
    node: &AppState,
    id: &str,
    login: &str,
    ballot: scrutin_election::ballot::Ballot,
) -> scrutin_election::roles::Receipt {
    for _ in 0..50 {
        match protocol::cast_ballot(node, id, login, ballot.clone()).await {
            Ok(receipt) => return receipt,
            Err(e) if e.code == "board_moved" => {
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            }
            Err(e) => panic!("{login}: {}: {}", e.code, e.message),
        }
    }
    panic!("{login}: the board kept moving");
}

async fn stored_record(node: &AppState, id: &str) -> Vec<u8> {
    let id = id.to_owned();
    let lines = blocking(&node.storage, move |s| s.events_from(&id, 0, usize::MAX))
        .await
        .unwrap();
    let mut record = Vec::new();
    for l in lines {
        record.extend_from_slice(l.as_bytes());
        record.push(b'\n');
    }
    record
}

#[tokio::test]
async fn ballots_cast_to_two_servers_land_on_one_board() {
    ballots_land_on_one_board(None).await;
}

#[tokio::test]
async fn ballots_cast_to_two_servers_land_on_one_board_postgres() {
    if let Some(db) = TestDatabase::create("ballots_cast_to_two_servers_land_on_one_board_postgres")
    {
        ballots_land_on_one_board(Some(db)).await;
    }
}

async fn ballots_land_on_one_board(db: Option<TestDatabase>) {
    let a = TestServer::start_on(db, |_| {}, protocol::api::routes()).await;
    let logins: Vec<String> = (0..12).map(|i| format!("voter{i}")).collect();
    let names: Vec<&str> = logins.iter().map(String::as_str).collect();
    let (id, creds) = open_election(&a, DESCRIPTION, &names).await;
    let b = second_node(&a);
    let st = state_of(&a, &id).await;

    // One after the other, alternating: each server sees the other's ballots.
    for i in 0..4 {
        let node = if i % 2 == 0 { &a.state } else { &b };
        cast_until_done(node, &id, &logins[i], encrypt(&st, &creds[i], true)).await;
    }
    // Concurrently, on both.
    let mut tasks = Vec::new();
    for i in 4..12 {
        let node = if i % 2 == 0 {
            a.state.clone()
        } else {
            b.clone()
        };
        let (id, login) = (id.clone(), logins[i].clone());
        let ballot = encrypt(&st, &creds[i], i % 3 == 0);
        tasks.push(tokio::spawn(async move {
            cast_until_done(&node, &id, &login, ballot).await
        }));
    }
    let mut receipts = Vec::new();
    for t in tasks {
        receipts.push(t.await.unwrap());
    }
    // A re-vote through the other server replaces the first ballot.
    cast_until_done(&b, &id, &logins[0], encrypt(&st, &creds[0], false)).await;

    // One board: it verifies, with every ballot once, and both servers hold its state.
    let record = stored_record(&a.state, &id).await;
    let verified = RecordState::from_record(&record).unwrap();
    assert_eq!(verified.ballots, 13);
    assert_eq!(verified.ballots_counted(), 12);
    for r in &receipts {
        assert_eq!(verified.trackers.get(&r.tracker), Some(&r.seq));
    }
    for node in [&a.state, &b] {
        let locked = node.elections.lock(node, &id).await.unwrap();
        let st = locked.state().unwrap();
        assert_eq!((st.events, st.head), (verified.events, verified.head));
    }
    // Catching up applied the other's lines; nobody re-read the whole record.
    assert_eq!(a.state.elections.loads(), 1);
    assert_eq!(b.elections.loads(), 1);

    // Closing on one server: the other sees it and refuses ballots.
    protocol::close(&b, ADMIN, &id).await.unwrap();
    let e = protocol::cast_ballot(&a.state, &id, &logins[1], encrypt(&st, &creds[1], false))
        .await
        .unwrap_err();
    assert_eq!(e.code, "election_not_open", "{}", e.message);
    let meta = protocol::election_meta(&a.state, &id).await.unwrap();
    assert_eq!(meta.state, ElectionState::Closed);
    let locked = a.state.elections.lock(&a.state, &id).await.unwrap();
    assert!(locked.state().unwrap().close.is_some());
}

/// On PostgreSQL, the scheduler runs only on the node that holds the lease: a node whose
/// scheduler ticks while another instance holds the lease leaves a due closing alone, and
/// does it as soon as that instance is gone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scheduler_runs_only_on_the_node_holding_the_lease_postgres() {
    let Some(db) =
        TestDatabase::create("the_scheduler_runs_only_on_the_node_holding_the_lease_postgres")
    else {
        return;
    };
    let url = db.url.clone();
    let a = TestServer::start_on(Some(db), |_| {}, protocol::api::routes()).await;
    // Another node holds the lease.
    let holder = tokio::task::spawn_blocking(move || {
        let holder = PostgresStorage::open(&url).unwrap();
        assert!(holder.scheduler_lease().unwrap());
        holder
    })
    .await
    .unwrap();
    let closes_at = now() + 4;
    let (id, _) = open_election_closing_at(&a, DESCRIPTION, &["v1", "v2"], Some(closes_at)).await;
    let scheduler =
        protocol::spawn_scheduler(a.state.clone(), std::time::Duration::from_millis(100));
    let state = |app: &AppState| {
        let (app, id) = (app.clone(), id.clone());
        async move { protocol::election_meta(&app, &id).await.unwrap().state }
    };
    while now() <= closes_at + 1 {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert_eq!(
        state(&a.state).await,
        ElectionState::Open,
        "closed without the lease"
    );
    // The holder goes: this node takes the lease and closes the election.
    tokio::task::spawn_blocking(move || drop(holder))
        .await
        .unwrap();
    let mut closed = false;
    for _ in 0..100 {
        if state(&a.state).await == ElectionState::Closed {
            closed = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(closed, "the scheduler did not take over");
    assert!(
        blocking(&a.state.storage, |s| s.scheduler_lease())
            .await
            .unwrap()
    );
    scheduler.abort();
}
