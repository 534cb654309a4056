//! Group commit: ballots cast to one election at the same moment are appended together,
//! each answered only once durable, in the order they were admitted, with a retried ballot
//! given its first place and nothing lost or duplicated.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::TestServer;
use common::election::{DESCRIPTION, encrypt, open_election, state_of};
use scrutin_election::roles::{ReceiptCheck, check_receipt};
use scrutin_election::verify::RecordState;
use scrutin_server::protocol;
use scrutin_server::storage::blocking;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_ballots_are_committed_together_and_each_lands_once() {
    let s = TestServer::start_with(|_| {}, protocol::api::routes()).await;
    let logins: Vec<String> = (0..48).map(|i| format!("voter{i}")).collect();
    let names: Vec<&str> = logins.iter().map(String::as_str).collect();
    let (id, creds) = open_election(&s, DESCRIPTION, &names).await;
    let st = state_of(&s, &id).await;
    let (commits_before, _) = s.state.elections.group_commits();

    // Every voter at once; the first eight post their ballot twice at the same moment (a
    // retry racing its original).
    let mut tasks = Vec::new();
    for (i, login) in logins.iter().enumerate() {
        let ballot = encrypt(&st, &creds[i], i % 3 == 0);
        let copies = if i < 8 { 2 } else { 1 };
        for _ in 0..copies {
            let (app, id, login, ballot) =
                (s.state.clone(), id.clone(), login.clone(), ballot.clone());
            tasks.push(tokio::spawn(async move {
                (
                    login.clone(),
                    protocol::cast_ballot(&app, &id, &login, ballot).await,
                )
            }));
        }
    }
    let mut receipts = Vec::new();
    for t in tasks {
        let (login, r) = t.await.unwrap();
        let r = r.unwrap_or_else(|e| panic!("{login}: {}: {}", e.code, e.message));
        receipts.push((login, r));
    }

    let eid = id.clone();
    let lines = blocking(&s.state.storage, move |st| {
        st.events_from(&eid, 0, usize::MAX)
    })
    .await
    .unwrap();
    let record: Vec<u8> = lines
        .iter()
        .flat_map(|l| format!("{l}\n").into_bytes())
        .collect();
    let verified = RecordState::from_record(&record).unwrap();
    assert_eq!(verified.ballots, 48, "each ballot once, retries included");
    for (login, r) in &receipts {
        assert_eq!(
            check_receipt(&record, &verified, r).unwrap(),
            ReceiptCheck::OnRecord { replaced_by: None },
            "{login}"
        );
    }
    // A ballot and its retry got one place.
    for login in &logins[..8] {
        let mine: Vec<u64> = receipts
            .iter()
            .filter(|(l, _)| l == login)
            .map(|(_, r)| r.seq)
            .collect();
        assert_eq!(mine.len(), 2);
        assert_eq!(mine[0], mine[1], "{login}");
    }
    let (commits, committed) = s.state.elections.group_commits();
    let transactions = commits - commits_before;
    assert!(committed >= 48 && (1..=48).contains(&transactions));
    eprintln!("48 ballots in {transactions} transactions");
    // The server's state is the record's.
    let locked = s.state.elections.lock(&s.state, &id).await.unwrap();
    let mine = locked.state().unwrap();
    assert_eq!((mine.events, mine.head), (verified.events, verified.head));
}
