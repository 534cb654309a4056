//! Two servers on one database: storage is the one source of truth, so ballots cast to
//! either land on one board (no fork, no gap, no duplicate), each server catches up with the
//! other's appends instead of answering `board_moved` forever, and a lifecycle change made
//! on one is seen by the other; the "at most once" mail rules hold across the two (one
//! reminder mailing when both are asked at once, one mail to a trustee per step). On SQLite
//! (one data folder) and on PostgreSQL (one database).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::election::{DESCRIPTION, encrypt, open_election, open_election_closing_at, state_of};
use common::pg::TestDatabase;
use common::{ADMIN, TestServer};
use scrutin_election::verify::RecordState;
use scrutin_server::storage::postgres::PostgresStorage;
use scrutin_server::storage::{ElectionState, Storage, blocking, now};
use scrutin_server::{AppState, RunningServer, build_router, protocol, start, trustee_mail};

/// A second server process on the same data folder, as a second node would be.
fn second_node(s: &TestServer) -> AppState {
    AppState::open((*s.state.config).clone()).unwrap()
}

/// A second node answering HTTP on a port of its own: its state, server and base URL.
async fn second_server(s: &TestServer) -> (AppState, RunningServer, String) {
    let b = second_node(s);
    let server = start(&b.config, build_router(b.clone(), protocol::api::routes()))
        .await
        .unwrap();
    let base = format!("http://{}", server.local_addr());
    (b, server, base)
}

/// The recipients of the mails in the outbox the nodes share, once no more arrive (at least
/// `n` of them).
async fn delivered(s: &TestServer, n: usize) -> Vec<String> {
    let read = || {
        std::fs::read_dir(s.outbox())
            .map(|d| {
                d.filter_map(|e| e.ok())
                    .map(|e| e.path())
                    .filter(|p| p.extension().is_some_and(|e| e == "eml"))
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default()
    };
    for _ in 0..400 {
        if read().len() >= n {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    // A mail queued twice would show within this.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let mut to: Vec<String> = read()
        .iter()
        .map(|p| {
            let raw = std::fs::read(p).unwrap();
            let m = mail_parser::MessageParser::default().parse(&raw).unwrap();
            let address = m.to().and_then(|t| t.first()).and_then(|a| a.address());
            address.unwrap().to_owned()
        })
        .collect();
    to.sort();
    to
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

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_reminder_asked_of_two_nodes_at_once_goes_once() {
    reminder_asked_of_two_nodes_goes_once(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_reminder_asked_of_two_nodes_at_once_goes_once_postgres() {
    if let Some(db) =
        TestDatabase::create("a_reminder_asked_of_two_nodes_at_once_goes_once_postgres")
    {
        reminder_asked_of_two_nodes_goes_once(Some(db)).await;
    }
}

/// Two officials ask for a reminder at the same moment, one of each node: one mailing goes
/// (202), the other is refused as too soon (409), and each voter who has not voted gets one
/// reminder. Then both nodes refuse a third and show when the next may go.
async fn reminder_asked_of_two_nodes_goes_once(db: Option<TestDatabase>) {
    let a = TestServer::start_on(db, |_| {}, protocol::api::routes()).await;
    let logins: Vec<String> = (0..6).map(|i| format!("voter{i}")).collect();
    let names: Vec<&str> = logins.iter().map(String::as_str).collect();
    let (id, creds) = open_election(&a, DESCRIPTION, &names).await;
    let st = state_of(&a, &id).await;
    cast_until_done(&a.state, &id, &logins[0], encrypt(&st, &creds[0], true)).await;
    let (_b, b_server, b_base) = second_server(&a).await;
    let token = a.admin_token().await;
    let path = format!("/api/admin/elections/{id}/reminders");
    let bases = [a.base.clone(), b_base.clone()];
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(bases.len()));
    let tasks: Vec<_> = bases
        .iter()
        .map(|base| {
            let (client, url, token) = (a.client.clone(), format!("{base}{path}"), token.clone());
            let barrier = barrier.clone();
            tokio::spawn(async move {
                barrier.wait().await;
                let r = client.post(url).bearer_auth(token).send().await.unwrap();
                let status = r.status().as_u16();
                (status, r.json::<serde_json::Value>().await.unwrap())
            })
        })
        .collect();
    let mut answers = Vec::new();
    for t in tasks {
        answers.push(t.await.unwrap());
    }
    answers.sort_by_key(|(status, _)| *status);
    let statuses: Vec<u16> = answers.iter().map(|(status, _)| *status).collect();
    assert_eq!(statuses, [202, 409], "{answers:?}");
    assert_eq!(answers[0].1["queued"], 5, "{answers:?}");
    assert_eq!(answers[1].1["error"], "reminder_too_soon", "{answers:?}");
    assert!(
        answers[1].1["message"]
            .as_str()
            .unwrap()
            .contains("one per hour"),
        "{answers:?}"
    );
    // One reminder to each voter who has not voted, whichever node sent it.
    let expected: Vec<String> = logins[1..]
        .iter()
        .map(|l| format!("{l}@example.org"))
        .collect();
    assert_eq!(delivered(&a, expected.len()).await, expected);
    // Both nodes refuse another and say when the next may go.
    for base in &bases {
        let r = a
            .client
            .post(format!("{base}{path}"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 409);
        let v: serde_json::Value = a
            .client
            .get(format!("{base}{path}"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(v["not_voted"], 5, "{v}");
        let (last, next) = (
            v["last_sent_at"].as_i64().unwrap(),
            v["next_allowed_at"].as_i64().unwrap(),
        );
        assert_eq!(
            next,
            last + scrutin_server::roll::REMINDER_INTERVAL_SECS,
            "{v}"
        );
    }
    b_server
        .shutdown(std::time::Duration::from_secs(5))
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_trustee_awaited_on_two_nodes_at_once_is_mailed_once() {
    trustee_awaited_on_two_nodes_is_mailed_once(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_trustee_awaited_on_two_nodes_at_once_is_mailed_once_postgres() {
    if let Some(db) =
        TestDatabase::create("a_trustee_awaited_on_two_nodes_at_once_is_mailed_once_postgres")
    {
        trustee_awaited_on_two_nodes_is_mailed_once(Some(db)).await;
    }
}

/// Both nodes find the two trustees awaited for their commitment and untold, several times
/// at once: each trustee is mailed once.
async fn trustee_awaited_on_two_nodes_is_mailed_once(db: Option<TestDatabase>) {
    let a = TestServer::start_on(db, |_| {}, protocol::api::routes()).await;
    let (keys, authority) =
        scrutin_election::demo::role_keys(&["Alice", "Bob"], b"two nodes trustee mail");
    let toml = format!(
        "{DESCRIPTION}{}",
        scrutin_election::demo::roles_toml(&keys, &authority)
    );
    let id = protocol::create_election(&a.state, ADMIN, toml, None, None)
        .await
        .unwrap()
        .id;
    // The addresses go straight to storage, so that nobody is told yet.
    let eid = id.clone();
    blocking(&a.state.storage, move |s| {
        s.set_trustee_emails(
            &eid,
            &[
                (1, "alice@example.org".into()),
                (2, "bob@example.org".into()),
            ],
        )
    })
    .await
    .unwrap();
    let b = second_node(&a);
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(8));
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let node = if i % 2 == 0 {
                a.state.clone()
            } else {
                b.clone()
            };
            let (id, barrier) = (id.clone(), barrier.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                trustee_mail::notify(&node, &id).await;
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(
        delivered(&a, 2).await,
        ["alice@example.org", "bob@example.org"]
    );
    // And again later: already told.
    trustee_mail::notify(&b, &id).await;
    trustee_mail::notify(&a.state, &id).await;
    assert_eq!(delivered(&a, 2).await.len(), 2);
}
