//! One conformance suite for every storage backend: each case below takes a [`Db`] (a way to
//! open the backend, once or several times on the same database) and runs on SQLite and on
//! PostgreSQL (see `common/pg.rs` for how the tests find PostgreSQL). What only one backend
//! has (SQLite's migrations of old files, PostgreSQL's schemas and roles) is tested at the
//! end or beside the backend.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::HashSet;
use std::sync::Arc;

use common::pg::{self, TestDatabase};
use scrutin_server::mail_text::Lang;
use scrutin_server::storage::postgres::{BOARD_READER_ROLE, PostgresStorage};
use scrutin_server::storage::sqlite::SqliteStorage;
use scrutin_server::storage::{
    AdminAccount, AdminRole, AuditEntry, BallotIndexEntry, BindOutcome, CredentialBinding,
    ElectionMeta, ElectionState, MailStatus, MailStatusUpdate, NewMail, OtpAttemptLimits,
    OtpOutcome, OtpRecord, OtpSendLimits, Role, RoleToken, SessionRecord, SessionSubject,
    SharedStorage, Storage, StorageError, StoredCheckpoint, Voter, blocking,
};
use sha2::{Digest, Sha256};

/// A database of one backend for one test.
enum Db {
    Sqlite(tempfile::TempDir),
    Postgres(TestDatabase),
}

impl Db {
    /// Opens the backend on this database (again: a second server node).
    fn open(&self) -> SharedStorage {
        match self {
            Db::Sqlite(dir) => Arc::new(SqliteStorage::open(&dir.path().join("data")).unwrap()),
            Db::Postgres(db) => Arc::new(PostgresStorage::open(&db.url).unwrap()),
        }
    }
}

macro_rules! conformance {
    ($($case:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[test]
                fn $case() {
                    super::$case(&super::Db::Sqlite(tempfile::tempdir().unwrap()));
                }
            )*
        }
        mod postgres {
            $(
                #[test]
                fn $case() {
                    if let Some(db) = super::TestDatabase::create(stringify!($case)) {
                        super::$case(&super::Db::Postgres(db));
                    }
                }
            )*
        }
    };
}

conformance!(
    elections_are_created_once_and_listed,
    state_is_compare_and_set,
    appends_are_atomic_and_check_the_seq,
    ballot_index_answers_queries,
    cast_facts_are_the_single_reads,
    mail_facts_are_the_single_reads,
    voters_are_added_listed_and_counted,
    import_is_all_or_nothing,
    voters_are_searched_updated_and_removed,
    sessions_are_stored_and_purged,
    otp_sends_are_limited,
    otp_attempts_are_limited,
    audit_log_is_filtered_and_paged,
    mails_are_tracked,
    mails_are_tracked_in_groups,
    role_tokens_are_replaced,
    logins_bind_to_one_credential,
    groups_of_bindings_see_the_bindings_before_them,
    admins_and_owners,
    data_survives_reopening,
    works_from_async_code_and_the_blocking_pool,
    concurrent_appends_from_two_nodes_make_one_chain,
    concurrent_otp_limits_hold_across_nodes,
    a_lone_instance_holds_the_scheduler_lease,
    drafts_are_deleted_with_their_lines_and_voters,
    resend_requests_and_trustee_emails,
    checkpoints_keep_the_latest_and_go_with_drafts,
    claims_hold_once_per_interval,
    concurrent_claims_from_two_nodes_make_one,
);

/// One checkpoint per election: a later one replaces it, an earlier one (another node's,
/// written late) does not; it survives reopening, is per election, and goes with a deleted
/// draft.
fn checkpoints_keep_the_latest_and_go_with_drafts(db: &Db) {
    let s = db.open();
    let cp = |events: u64, fill: u8| StoredCheckpoint {
        events,
        head: format!("{fill:064x}"),
        bytes: vec![fill; 3000 + events as usize],
    };
    assert!(matches!(
        s.put_checkpoint("missing", &cp(1, 1)),
        Err(StorageError::NotFound(_))
    ));
    s.create_election(&meta("e", 1)).unwrap();
    s.create_election(&meta("other", 1)).unwrap();
    assert_eq!(s.checkpoint("e").unwrap(), None);
    s.put_checkpoint("e", &cp(10, 1)).unwrap();
    assert_eq!(s.checkpoint("e").unwrap(), Some(cp(10, 1)));
    s.put_checkpoint("e", &cp(20, 2)).unwrap();
    assert_eq!(s.checkpoint("e").unwrap(), Some(cp(20, 2)));
    // An older one, written late by another node, is not kept.
    let node2 = db.open();
    node2.put_checkpoint("e", &cp(15, 3)).unwrap();
    assert_eq!(node2.checkpoint("e").unwrap(), Some(cp(20, 2)));
    // The same number of lines: the newer bytes (a later layout version, say) are kept.
    node2.put_checkpoint("e", &cp(20, 4)).unwrap();
    assert_eq!(s.checkpoint("e").unwrap(), Some(cp(20, 4)));
    assert_eq!(s.checkpoint("other").unwrap(), None);
    s.put_checkpoint("other", &cp(0, 5)).unwrap();
    drop((s, node2));
    let s = db.open();
    assert_eq!(s.checkpoint("e").unwrap(), Some(cp(20, 4)));
    assert_eq!(s.checkpoint("other").unwrap(), Some(cp(0, 5)));
    // A draft's checkpoint goes with it; the id can be used again without it.
    s.delete_draft_election("e").unwrap();
    assert_eq!(s.checkpoint("e").unwrap(), None);
    s.create_election(&meta("e", 2)).unwrap();
    assert_eq!(s.checkpoint("e").unwrap(), None);
    assert_eq!(s.checkpoint("other").unwrap(), Some(cp(0, 5)));
}

/// A claim is taken once within its interval and again after it; with no interval, once
/// ever; per election and per name; a deleted draft loses its claims.
fn claims_hold_once_per_interval(db: &Db) {
    let s = db.open();
    assert_eq!(s.claimed_at("e", "reminder").unwrap(), None);
    assert!(s.claim("e", "reminder", 1000, Some(3600)).unwrap());
    assert_eq!(s.claimed_at("e", "reminder").unwrap(), Some(1000));
    // Within the hour: refused, and the claim keeps its time.
    assert!(!s.claim("e", "reminder", 1000, Some(3600)).unwrap());
    assert!(!s.claim("e", "reminder", 4599, Some(3600)).unwrap());
    assert_eq!(s.claimed_at("e", "reminder").unwrap(), Some(1000));
    // A claim from a node whose clock is behind is refused too.
    assert!(!s.claim("e", "reminder", 900, Some(3600)).unwrap());
    // The hour over: taken again, from then on.
    assert!(s.claim("e", "reminder", 4600, Some(3600)).unwrap());
    assert_eq!(s.claimed_at("e", "reminder").unwrap(), Some(4600));
    assert!(!s.claim("e", "reminder", 8000, Some(3600)).unwrap());
    assert!(s.claim("e", "reminder", 8200, Some(3600)).unwrap());
    // Once ever: never again, however late.
    assert!(s.claim("e", "trustee-1-commit", 10, None).unwrap());
    assert!(!s.claim("e", "trustee-1-commit", 10, None).unwrap());
    assert!(!s.claim("e", "trustee-1-commit", i64::MAX, None).unwrap());
    assert_eq!(s.claimed_at("e", "trustee-1-commit").unwrap(), Some(10));
    // Other names and other elections are claims of their own.
    assert!(s.claim("e", "trustee-2-commit", 10, None).unwrap());
    assert!(s.claim("e", "trustee-1-deal", 10, None).unwrap());
    assert!(s.claim("other", "reminder", 8300, Some(3600)).unwrap());
    assert!(s.claim("other", "trustee-1-commit", 10, None).unwrap());
    assert_eq!(s.claimed_at("other", "reminder").unwrap(), Some(8300));
    assert_eq!(s.claimed_at("e", "reminder").unwrap(), Some(8200));
    // A negative interval is refused, and claims nothing.
    assert!(matches!(
        s.claim("x", "reminder", 10, Some(-1)),
        Err(StorageError::Invalid(_))
    ));
    assert_eq!(s.claimed_at("x", "reminder").unwrap(), None);
    // Claims are durable: another instance sees them.
    let again = db.open();
    assert!(!again.claim("e", "reminder", 8300, Some(3600)).unwrap());
    assert_eq!(again.claimed_at("e", "trustee-2-commit").unwrap(), Some(10));
    // A deleted draft loses its claims; other elections keep theirs.
    s.create_election(&meta("d", 1)).unwrap();
    assert!(s.claim("d", "trustee-1-commit", 5, None).unwrap());
    s.delete_draft_election("d").unwrap();
    assert_eq!(s.claimed_at("d", "trustee-1-commit").unwrap(), None);
    assert!(s.claim("d", "trustee-1-commit", 6, None).unwrap());
    assert_eq!(s.claimed_at("other", "reminder").unwrap(), Some(8300));
}

/// Claims of one name made at once from two nodes (several threads each): exactly one is
/// taken, in every round, whether the claim holds for an interval or for ever.
fn concurrent_claims_from_two_nodes_make_one(db: &Db) {
    const THREADS_PER_NODE: usize = 4;
    const ROUNDS: i64 = 10;
    let nodes = [db.open(), db.open()];
    for round in 0..ROUNDS {
        let barrier = std::sync::Barrier::new(2 * THREADS_PER_NODE);
        let won: usize = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..2 * THREADS_PER_NODE)
                .map(|t| {
                    let (node, barrier) = (&nodes[t % 2], &barrier);
                    scope.spawn(move || {
                        let at = 1000 + round * 3600;
                        barrier.wait();
                        let hourly = node.claim("e", "reminder", at, Some(3600)).unwrap();
                        let once = node
                            .claim("e", &format!("trustee-1-step{round}"), at, None)
                            .unwrap();
                        usize::from(hourly) + usize::from(once)
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).sum()
        });
        assert_eq!(won, 2, "round {round}: {won} claims taken, not one of each");
        assert_eq!(
            nodes[1].claimed_at("e", "reminder").unwrap(),
            Some(1000 + round * 3600)
        );
    }
}

/// Re-send requests are pending until marked done, renewed by a new request; reminders find
/// their latest mail; trustees' addresses are replaced as a whole; a deleted draft loses them.
fn resend_requests_and_trustee_emails(db: &Db) {
    let s = db.open();
    assert!(s.credential_resends("e").unwrap().is_empty());
    s.request_credential_resend("e", "bob", "official", 10)
        .unwrap();
    s.request_credential_resend("e", "ada", "official", 11)
        .unwrap();
    s.request_credential_resend("other", "ada", "x", 12)
        .unwrap();
    let pending = s.credential_resends("e").unwrap();
    assert_eq!(
        pending
            .iter()
            .map(|r| (
                r.login.as_str(),
                r.requested_by.as_str(),
                r.requested_at,
                r.sent_at
            ))
            .collect::<Vec<_>>(),
        [("ada", "official", 11, None), ("bob", "official", 10, None)]
    );
    assert!(s.mark_credential_resent("e", "ada", 20).unwrap());
    assert!(!s.mark_credential_resent("e", "ada", 21).unwrap());
    assert!(!s.mark_credential_resent("e", "nobody", 21).unwrap());
    assert_eq!(s.credential_resends("e").unwrap()[0].sent_at, Some(20));
    // Asked again: pending again, with the new time and official.
    s.request_credential_resend("e", "ada", "second", 30)
        .unwrap();
    let again = &s.credential_resends("e").unwrap()[0];
    assert_eq!(
        (
            again.requested_by.as_str(),
            again.requested_at,
            again.sent_at
        ),
        ("second", 30, None)
    );
    assert_eq!(s.credential_resends("other").unwrap().len(), 1);

    assert_eq!(s.last_mail_of_kind("e", "reminder").unwrap(), None);
    s.insert_mail(Some("e"), "ada", "reminder", 40).unwrap();
    s.insert_mail(Some("e"), "bob", "reminder", 41).unwrap();
    s.insert_mail(Some("e"), "bob", "otp", 50).unwrap();
    s.insert_mail(Some("other"), "bob", "reminder", 60).unwrap();
    assert_eq!(s.last_mail_of_kind("e", "reminder").unwrap(), Some(41));

    assert!(s.trustee_emails("e").unwrap().is_empty());
    s.set_trustee_emails(
        "e",
        &[(2, "b@example.org".into()), (1, "a@example.org".into())],
    )
    .unwrap();
    assert_eq!(
        s.trustee_emails("e").unwrap(),
        [
            (1, "a@example.org".to_owned()),
            (2, "b@example.org".to_owned())
        ]
    );
    s.set_trustee_emails("e", &[(2, "c@example.org".into())])
        .unwrap();
    assert_eq!(
        s.trustee_emails("e").unwrap(),
        [(2, "c@example.org".to_owned())]
    );

    // A wait is recorded once; the first time stays.
    assert!(s.record_trustee_wait("e", 2, "deal", 70).unwrap());
    assert!(!s.record_trustee_wait("e", 2, "deal", 80).unwrap());
    assert!(s.record_trustee_wait("e", 1, "deal", 75).unwrap());
    assert!(s.record_trustee_wait("e", 1, "commit", 60).unwrap());
    assert!(s.record_trustee_wait("other", 1, "commit", 1).unwrap());
    assert_eq!(
        s.trustee_waits("e").unwrap(),
        [
            (1, "commit".to_owned(), 60),
            (1, "deal".to_owned(), 75),
            (2, "deal".to_owned(), 70)
        ]
    );

    s.create_election(&meta("d", 1)).unwrap();
    s.record_trustee_wait("d", 1, "commit", 1).unwrap();
    s.request_credential_resend("d", "ada", "x", 1).unwrap();
    s.set_trustee_emails("d", &[(1, "a@example.org".into())])
        .unwrap();
    s.delete_draft_election("d").unwrap();
    assert!(s.credential_resends("d").unwrap().is_empty());
    assert!(s.trustee_emails("d").unwrap().is_empty());
    assert!(s.trustee_waits("d").unwrap().is_empty());
}

/// A draft goes with its lines, index and private data; an election that opened cannot be
/// deleted, and its lines stay.
fn drafts_are_deleted_with_their_lines_and_voters(db: &Db) {
    let s = db.open();
    for id in ["draft", "opened"] {
        s.create_election(&meta(id, 1)).unwrap();
        s.append_events(id, 0, &["a".into(), "b".into()], &[])
            .unwrap();
        s.add_voters(id, &[voter("ada", 1)]).unwrap();
        s.set_election_owner(id, "admin").unwrap();
    }
    s.set_election_state("opened", ElectionState::Draft, ElectionState::Open)
        .unwrap();
    assert!(matches!(
        s.delete_draft_election("opened"),
        Err(StorageError::StateMismatch { .. })
    ));
    s.delete_draft_election("draft").unwrap();
    assert!(s.election("draft").unwrap().is_none());
    assert!(s.events_from("draft", 0, 10).unwrap().is_empty());
    assert!(s.voter("draft", "ada").unwrap().is_none());
    assert_eq!(s.election_owner("draft").unwrap(), None);
    assert_eq!(s.events_from("opened", 0, 10).unwrap(), ["a", "b"]);
    assert!(s.voter("opened", "ada").unwrap().is_some());
    // The id can be used again.
    s.create_election(&meta("draft", 2)).unwrap();
    assert_eq!(s.head("draft").unwrap().next_seq, 0);
}

fn meta(id: &str, created_at: i64) -> ElectionMeta {
    ElectionMeta {
        id: id.to_owned(),
        state: ElectionState::Draft,
        description_toml: format!("name = \"{id}\""),
        opens_at: Some(100),
        closes_at: None,
        created_at,
    }
}

fn voter(login: &str, weight: u64) -> Voter {
    Voter {
        login: login.to_owned(),
        email: format!("{login}@Example.org"),
        weight,
        language: None,
    }
}

fn logins(voters: &[Voter]) -> Vec<&str> {
    voters.iter().map(|v| v.login.as_str()).collect()
}

fn entry(seq: u64, tracker: &str, credential: &str) -> BallotIndexEntry {
    BallotIndexEntry {
        seq,
        tracker: tracker.to_owned(),
        credential: credential.to_owned(),
    }
}

fn elections_are_created_once_and_listed(db: &Db) {
    let s = db.open();
    assert!(s.list_elections().unwrap().is_empty());
    assert_eq!(s.election("b").unwrap(), None);
    s.create_election(&meta("b", 2)).unwrap();
    s.create_election(&meta("a", 2)).unwrap();
    s.create_election(&meta("c", 1)).unwrap();
    assert!(matches!(
        s.create_election(&meta("a", 5)),
        Err(StorageError::AlreadyExists(_))
    ));
    for bad in ["", "a b", "a/b", &"x".repeat(65)] {
        assert!(matches!(
            s.create_election(&meta(bad, 1)),
            Err(StorageError::Invalid(_))
        ));
    }
    // Oldest first, then by id.
    let ids: Vec<String> = s
        .list_elections()
        .unwrap()
        .into_iter()
        .map(|m| m.id)
        .collect();
    assert_eq!(ids, ["c", "a", "b"]);
    // A new election is a draft whatever the caller said.
    let mut open = meta("d", 3);
    open.state = ElectionState::Open;
    s.create_election(&open).unwrap();
    let got = s.election("d").unwrap().unwrap();
    assert_eq!(got.state, ElectionState::Draft);
    assert_eq!(got.description_toml, "name = \"d\"");
    assert_eq!(
        (got.opens_at, got.closes_at, got.created_at),
        (Some(100), None, 3)
    );
}

fn state_is_compare_and_set(db: &Db) {
    let s = db.open();
    s.create_election(&meta("e", 1)).unwrap();
    s.update_election_draft("e", "name = \"new\"", None, Some(500))
        .unwrap();
    let m = s.election("e").unwrap().unwrap();
    assert_eq!(
        (m.description_toml.as_str(), m.opens_at, m.closes_at),
        ("name = \"new\"", None, Some(500))
    );
    s.set_election_state("e", ElectionState::Draft, ElectionState::Open)
        .unwrap();
    assert!(matches!(
        s.set_election_state("e", ElectionState::Draft, ElectionState::Open),
        Err(StorageError::StateMismatch {
            expected: ElectionState::Draft,
            actual: ElectionState::Open
        })
    ));
    assert!(matches!(
        s.update_election_draft("e", "", None, None),
        Err(StorageError::StateMismatch { .. })
    ));
    assert_eq!(
        s.election("e").unwrap().unwrap().description_toml,
        "name = \"new\""
    );
    s.set_election_state("e", ElectionState::Open, ElectionState::Closed)
        .unwrap();
    assert_eq!(
        s.election("e").unwrap().unwrap().state,
        ElectionState::Closed
    );
    assert!(matches!(
        s.set_election_state("nope", ElectionState::Draft, ElectionState::Open),
        Err(StorageError::NotFound(_))
    ));
    assert!(matches!(
        s.update_election_draft("nope", "", None, None),
        Err(StorageError::NotFound(_))
    ));
}

fn appends_are_atomic_and_check_the_seq(db: &Db) {
    let s = db.open();
    s.create_election(&meta("e1", 1)).unwrap();
    s.create_election(&meta("e2", 1)).unwrap();
    assert_eq!(s.head("e1").unwrap().next_seq, 0);
    assert_eq!(s.head("e1").unwrap().last_line, None);
    let lines: Vec<String> = vec!["a".into(), "b".into()];
    assert_eq!(
        s.append_events("e1", 0, &lines, &[entry(1, "t1", "c1")])
            .unwrap(),
        2
    );
    assert!(matches!(
        s.append_events("e1", 0, &lines, &[]),
        Err(StorageError::SeqMismatch {
            expected: 0,
            actual: 2
        })
    ));
    assert!(matches!(
        s.append_events("e1", 3, &lines, &[]),
        Err(StorageError::SeqMismatch {
            expected: 3,
            actual: 2
        })
    ));
    // A tracker already indexed: nothing of the batch is written.
    assert!(matches!(
        s.append_events("e1", 2, &["c".into(), "d".into()], &[entry(3, "t1", "c2")]),
        Err(StorageError::AlreadyExists(_))
    ));
    // Two equal trackers in one batch: the same.
    assert!(matches!(
        s.append_events(
            "e1",
            2,
            &["c".into(), "d".into()],
            &[entry(2, "t9", "c2"), entry(3, "t9", "c3")]
        ),
        Err(StorageError::AlreadyExists(_))
    ));
    assert_eq!(s.head("e1").unwrap().next_seq, 2);
    assert_eq!(s.ballot_by_tracker("e1", "t9").unwrap(), None);
    // Line breaks and index entries outside the batch are refused.
    assert!(matches!(
        s.append_events("e1", 2, &["x\ny".into()], &[]),
        Err(StorageError::Invalid(_))
    ));
    assert!(matches!(
        s.append_events("e1", 2, &["x\ry".into()], &[]),
        Err(StorageError::Invalid(_))
    ));
    assert!(matches!(
        s.append_events("e1", 2, &["x".into()], &[entry(3, "t3", "c3")]),
        Err(StorageError::Invalid(_))
    ));
    assert!(matches!(
        s.append_events("nope", 0, &lines, &[]),
        Err(StorageError::NotFound(_))
    ));
    assert!(matches!(s.head("nope"), Err(StorageError::NotFound(_))));
    // The same tracker in another election is another ballot.
    s.append_events("e2", 0, &["z".into()], &[entry(0, "t1", "c1")])
        .unwrap();
    assert_eq!(s.append_events("e1", 2, &["c".into()], &[]).unwrap(), 3);
    // An empty batch changes nothing.
    assert_eq!(s.append_events("e1", 3, &[], &[]).unwrap(), 3);
    let head = s.head("e1").unwrap();
    assert_eq!((head.next_seq, head.last_line.as_deref()), (3, Some("c")));
    assert_eq!(s.events_from("e1", 0, 10).unwrap(), ["a", "b", "c"]);
    assert_eq!(s.events_from("e1", 1, 1).unwrap(), ["b"]);
    assert_eq!(s.events_from("e1", 1, usize::MAX).unwrap(), ["b", "c"]);
    assert!(s.events_from("e1", 3, 10).unwrap().is_empty());
    assert_eq!(s.events_from("e2", 0, 10).unwrap(), ["z"]);
    // Unicode and long lines come back byte for byte.
    let long = format!("{{\"é\":\"{}\"}}", "ü€😀".repeat(20_000));
    s.append_events("e1", 3, std::slice::from_ref(&long), &[])
        .unwrap();
    assert_eq!(s.events_from("e1", 3, 1).unwrap(), [long]);
}

fn ballot_index_answers_queries(db: &Db) {
    let s = db.open();
    s.create_election(&meta("e", 1)).unwrap();
    let lines: Vec<String> = (0..6).map(|i| format!("l{i}")).collect();
    s.append_events(
        "e",
        0,
        &lines,
        &[
            entry(1, "t1", "cA"),
            entry(2, "t2", "cB"),
            entry(4, "t4", "cA"),
            entry(5, "t5", "cC"),
        ],
    )
    .unwrap();
    assert_eq!(s.ballot_by_tracker("e", "t4").unwrap(), Some(4));
    assert_eq!(s.ballot_by_tracker("e", "t3").unwrap(), None);
    assert_eq!(s.ballot_by_tracker("other", "t4").unwrap(), None);
    assert_eq!(s.ballots_of_credential("e", "cA").unwrap(), 2);
    assert_eq!(s.ballots_of_credential("e", "cZ").unwrap(), 0);
    assert_eq!(s.latest_ballot_of_credential("e", "cA").unwrap(), Some(4));
    assert_eq!(s.latest_ballot_of_credential("e", "cZ").unwrap(), None);
    let mut creds = s.credentials_with_ballots("e").unwrap();
    creds.sort();
    assert_eq!(creds, ["cA", "cB", "cC"]);
    let page = |before, skip, limit| {
        s.ballots_newest_first("e", before, skip, limit)
            .unwrap()
            .into_iter()
            .map(|(seq, t)| format!("{seq}{t}"))
            .collect::<Vec<_>>()
    };
    assert_eq!(page(None, 0, 10), ["5t5", "4t4", "2t2", "1t1"]);
    assert_eq!(page(None, 1, 2), ["4t4", "2t2"]);
    assert_eq!(page(Some(4), 0, 10), ["2t2", "1t1"]);
    assert_eq!(page(Some(4), 1, usize::MAX), ["1t1"]);
    assert!(page(Some(1), 0, 10).is_empty());
}

/// `cast_facts` answers what the four single reads answer, for an election that exists or
/// not, a bound login or not, a known ballot or not.
fn cast_facts_are_the_single_reads(db: &Db) {
    let s = db.open();
    s.create_election(&meta("e", 1)).unwrap();
    let lines: Vec<String> = (0..3).map(|i| format!("l{i}")).collect();
    s.append_events(
        "e",
        0,
        &lines,
        &[entry(1, "t1", "cA"), entry(2, "t2", "cA")],
    )
    .unwrap();
    assert_eq!(
        s.bind_credential("e", "alice", "cA").unwrap(),
        BindOutcome::Bound
    );
    for (election, login, tracker, credential) in [
        ("e", "alice", "t2", "cA"),
        ("e", "bob", "t9", "cB"),
        ("nope", "alice", "t1", "cA"),
    ] {
        let facts = s.cast_facts(election, login, tracker, credential).unwrap();
        assert_eq!(facts.election, s.election(election).unwrap());
        assert_eq!(facts.bound, s.credential_of_login(election, login).unwrap());
        assert_eq!(
            facts.known,
            s.ballot_by_tracker(election, tracker).unwrap().is_some()
        );
        assert_eq!(
            facts.cast,
            s.ballots_of_credential(election, credential).unwrap()
        );
    }
    let facts = s.cast_facts("e", "alice", "t2", "cA").unwrap();
    assert_eq!(facts.election.map(|m| m.id), Some("e".to_owned()));
    assert_eq!(facts.bound.as_deref(), Some("cA"));
    assert!(facts.known);
    assert_eq!(facts.cast, 2);
}

/// `mail_facts` answers the election, the voter and the language its mails are in: the
/// voter's own, else the election's, else English.
fn mail_facts_are_the_single_reads(db: &Db) {
    let s = db.open();
    s.create_election(&meta("e", 1)).unwrap();
    let mut french = voter("fr", 1);
    french.language = Some(Lang::Fr);
    assert!(
        s.add_voters("e", &[voter("plain", 1), french])
            .unwrap()
            .is_empty()
    );
    let language = |login: &str| s.mail_facts("e", login).unwrap().language();
    // One rule for every mail: the facts read at once, and the voter's line then the
    // election's language read apart (`voter_mail::mail_language_of`).
    let read_apart = |login: &str| {
        let voter = s.voter("e", login).unwrap().unwrap();
        scrutin_server::voter_mail::mail_language_of(&*s, "e", &voter).unwrap()
    };
    assert_eq!(language("plain"), Lang::En);
    assert_eq!(language("fr"), Lang::Fr);
    s.set_mail_language("e", Lang::Fr).unwrap();
    assert_eq!(language("plain"), Lang::Fr);
    s.set_mail_language("e", Lang::En).unwrap();
    assert_eq!(language("plain"), Lang::En);
    assert_eq!(language("fr"), Lang::Fr);
    for login in ["plain", "fr"] {
        assert_eq!(read_apart(login), language(login), "{login}");
    }
    s.set_mail_language("e", Lang::Fr).unwrap();
    assert_eq!(language("plain"), Lang::Fr);
    for login in ["plain", "fr"] {
        assert_eq!(read_apart(login), language(login), "{login}");
    }
    let facts = s.mail_facts("e", "plain").unwrap();
    assert_eq!(facts.election, s.election("e").unwrap());
    assert_eq!(facts.voter, s.voter("e", "plain").unwrap());
    let unlisted = s.mail_facts("e", "nobody").unwrap();
    assert!(unlisted.election.is_some() && unlisted.voter.is_none());
    let nowhere = s.mail_facts("nope", "plain").unwrap();
    assert!(nowhere.election.is_none() && nowhere.voter.is_none());
}

fn voters_are_added_listed_and_counted(db: &Db) {
    let s = db.open();
    let voters = vec![voter("c", 1), voter("a", 2), voter("b", 3)];
    assert!(s.add_voters("e", &voters).unwrap().is_empty());
    // Already on the list, and twice in one call: refused, the others added.
    assert_eq!(
        s.add_voters("e", &[voter("a", 9), voter("d", 1), voter("d", 5)])
            .unwrap(),
        [0, 2]
    );
    assert_eq!(s.voter("e", "a").unwrap().unwrap().weight, 2);
    assert_eq!(s.voter("e", "d").unwrap().unwrap().weight, 1);
    assert_eq!(s.voter("e", "zz").unwrap(), None);
    assert_eq!(s.voter("other", "a").unwrap(), None);
    assert_eq!(s.voter_count("e").unwrap(), (4, 7));
    assert_eq!(s.voter_count("other").unwrap(), (0, 0));
    assert_eq!(logins(&s.list_voters("e", "", 2).unwrap()), ["a", "b"]);
    assert_eq!(logins(&s.list_voters("e", "b", 2).unwrap()), ["c", "d"]);
    assert!(s.list_voters("e", "d", 2).unwrap().is_empty());
    assert!(s.list_voters("other", "", 2).unwrap().is_empty());
    // Byte order of logins, whatever the database's locale.
    s.add_voters("e", &[voter("B", 1), voter("_x", 1), voter("é", 1)])
        .unwrap();
    assert_eq!(
        logins(&s.list_voters("e", "", 100).unwrap()),
        ["B", "_x", "a", "b", "c", "d", "é"]
    );
    // Languages are kept per voter; the election's default is set and replaced.
    let fr = Voter {
        language: Some(Lang::Fr),
        ..voter("fr", 1)
    };
    s.add_voters("e", std::slice::from_ref(&fr)).unwrap();
    assert_eq!(s.voter("e", "fr").unwrap().unwrap(), fr);
    assert_eq!(s.voter("e", "a").unwrap().unwrap().language, None);
    assert_eq!(s.mail_language("e").unwrap(), None);
    s.set_mail_language("e", Lang::Fr).unwrap();
    s.set_mail_language("e", Lang::En).unwrap();
    assert_eq!(s.mail_language("e").unwrap(), Some(Lang::En));
    assert_eq!(s.mail_language("other").unwrap(), None);
    // Large weights round-trip.
    s.add_voters("big", &[voter("w", i64::MAX as u64)]).unwrap();
    assert_eq!(s.voter_count("big").unwrap(), (1, i64::MAX as u64));
}

fn import_is_all_or_nothing(db: &Db) {
    let s = db.open();
    s.add_voters("e", &[voter("a", 1)]).unwrap();
    // A login already on the list: none is added.
    assert_eq!(
        s.import_voters("e", &[voter("x", 1), voter("a", 1), voter("y", 1)], true)
            .unwrap(),
        [1]
    );
    // A login twice in the file: none is added.
    assert_eq!(
        s.import_voters("e", &[voter("x", 1), voter("x", 1)], true)
            .unwrap(),
        [1]
    );
    assert_eq!(s.voter_count("e").unwrap(), (1, 1));
    // A check without commit adds nothing either.
    assert!(
        s.import_voters("e", &[voter("x", 1), voter("y", 1)], false)
            .unwrap()
            .is_empty()
    );
    assert_eq!(s.voter_count("e").unwrap(), (1, 1));
    assert!(
        s.import_voters("e", &[voter("x", 1), voter("y", 2)], true)
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        logins(&s.list_voters("e", "", 10).unwrap()),
        ["a", "x", "y"]
    );
    assert_eq!(s.voter_count("e").unwrap(), (3, 4));
}

fn voters_are_searched_updated_and_removed(db: &Db) {
    let s = db.open();
    let mut people = vec![
        voter("alice", 1),
        voter("bob", 1),
        voter("Carol", 1),
        voter("dave", 1),
    ];
    people[3].email = "d@ALICE.net".to_owned();
    s.add_voters("e", &people).unwrap();
    s.add_voters("other", &[voter("alice2", 1)]).unwrap();
    let search = |q: &str, after: &str, limit| {
        logins(&s.search_voters("e", q, after, limit).unwrap()).join(",")
    };
    assert_eq!(search("", "", 10), "Carol,alice,bob,dave");
    assert_eq!(search("ALIC", "", 10), "alice,dave");
    assert_eq!(search("alic", "alice", 10), "dave");
    assert_eq!(search("carol", "", 10), "Carol");
    assert_eq!(search("example", "", 2), "Carol,alice");
    assert_eq!(search("example", "alice", 2), "bob");
    assert_eq!(search("zzz", "", 10), "");
    // Wildcards of SQL are plain characters.
    assert_eq!(search("%", "", 10), "");
    assert_eq!(search("_", "", 10), "");

    let mut bob = voter("bob", 7);
    bob.email = "bob@new.org".to_owned();
    bob.language = Some(Lang::Fr);
    assert!(s.update_voter("e", &bob).unwrap());
    assert_eq!(s.voter("e", "bob").unwrap().unwrap(), bob);
    assert!(!s.update_voter("e", &voter("nobody", 1)).unwrap());
    assert!(!s.update_voter("other", &bob).unwrap());
    assert_eq!(s.voter_count("e").unwrap(), (4, 10));

    assert!(s.remove_voter("e", "bob").unwrap());
    assert!(!s.remove_voter("e", "bob").unwrap());
    assert!(!s.remove_voter("e", "alice2").unwrap());
    assert_eq!(s.voter("e", "bob").unwrap(), None);
    assert_eq!(s.voter_count("e").unwrap(), (3, 3));
    assert_eq!(s.voter_count("other").unwrap(), (1, 1));
}

fn sessions_are_stored_and_purged(db: &Db) {
    let s = db.open();
    let admin = SessionRecord {
        token_hash: "h1".into(),
        subject: SessionSubject::Admin {
            username: "root".into(),
        },
        expires_at: 100,
    };
    let voter = SessionRecord {
        token_hash: "h2".into(),
        subject: SessionSubject::Voter {
            election: "e".into(),
            login: "v".into(),
        },
        expires_at: 200,
    };
    s.insert_session(&admin).unwrap();
    s.insert_session(&voter).unwrap();
    assert!(s.insert_session(&admin).is_err());
    assert_eq!(s.session("h1").unwrap().unwrap(), admin);
    assert_eq!(s.session("h2").unwrap().unwrap(), voter);
    assert_eq!(s.session("h3").unwrap(), None);
    // Expired sessions are still returned (the caller checks), until purged.
    assert_eq!(s.purge_expired_sessions(100).unwrap(), 0);
    assert_eq!(s.purge_expired_sessions(150).unwrap(), 1);
    assert_eq!(s.session("h1").unwrap(), None);
    s.delete_session("h2").unwrap();
    s.delete_session("h2").unwrap();
    assert_eq!(s.session("h2").unwrap(), None);
}

fn code(salt: &str, expires_at: i64) -> OtpRecord {
    OtpRecord {
        code_hash: format!("hash-{salt}"),
        salt: salt.to_owned(),
        expires_at,
    }
}

const SENDS: OtpSendLimits = OtpSendLimits {
    max_sends: 3,
    window_secs: 3600,
    last_lives_until: 5000,
};

const ATTEMPTS: OtpAttemptLimits = OtpAttemptLimits {
    per_client: 3,
    per_login: 5,
    window_secs: 600,
};

/// The live codes of `login`, seen by an attempt that matches none (it costs a failure from
/// a client used only for this).
fn live_salts(s: &dyn Storage, login: &str, now: i64) -> Vec<String> {
    let mut seen = Vec::new();
    let limits = OtpAttemptLimits {
        per_client: 1000,
        per_login: 1000,
        window_secs: 1,
    };
    let outcome = s
        .otp_attempt("e", login, "inspector", now, &limits, &mut |c| {
            seen.push(c.salt.clone());
            false
        })
        .unwrap();
    assert!(matches!(outcome, OtpOutcome::Rejected { .. }));
    seen.sort();
    seen
}

fn otp_sends_are_limited(db: &Db) {
    let s = db.open();
    assert!(
        s.put_otp("e", "v", &code("s1", 1600), 1000, &SENDS)
            .unwrap()
    );
    assert!(
        s.put_otp("e", "v", &code("s2", 1700), 1100, &SENDS)
            .unwrap()
    );
    // The third send reaches the limit: its code lives until `last_lives_until`.
    assert!(
        s.put_otp("e", "v", &code("s3", 1800), 1200, &SENDS)
            .unwrap()
    );
    assert!(
        !s.put_otp("e", "v", &code("s4", 1900), 1300, &SENDS)
            .unwrap()
    );
    assert_eq!(s.otp_sends_since("e", "v", 0).unwrap(), 3);
    assert_eq!(s.otp_sends_since("e", "v", 1100).unwrap(), 2);
    assert_eq!(s.otp_sends_since("e", "other", 0).unwrap(), 0);
    assert_eq!(live_salts(s.as_ref(), "v", 1300), ["s1", "s2", "s3"]);
    let mut expiry = 0;
    s.otp_attempt("e", "v", "x", 1300, &ATTEMPTS, &mut |c| {
        if c.salt == "s3" {
            expiry = c.expires_at;
        }
        false
    })
    .unwrap();
    assert_eq!(expiry, 5000);
    // An hour after the first send, one more is allowed; expired codes are dropped and at
    // most `max_sends` live codes are kept.
    assert!(
        s.put_otp("e", "v", &code("s5", 9000), 4601, &SENDS)
            .unwrap()
    );
    assert_eq!(live_salts(s.as_ref(), "v", 4601), ["s3", "s5"]);
    // Other logins and elections have their own limits.
    assert!(
        s.put_otp("e", "w", &code("w1", 1600), 1300, &SENDS)
            .unwrap()
    );
    assert!(
        s.put_otp("f", "v", &code("f1", 1600), 1300, &SENDS)
            .unwrap()
    );
}

fn otp_attempts_are_limited(db: &Db) {
    let s = db.open();
    s.put_otp("e", "v", &code("s1", 2000), 1000, &SENDS)
        .unwrap();
    s.put_otp("e", "v", &code("s2", 2000), 1000, &SENDS)
        .unwrap();
    let attempt = |client: &str, now: i64, good: &str| {
        s.otp_attempt("e", "v", client, now, &ATTEMPTS, &mut |c| c.salt == good)
            .unwrap()
    };
    assert_eq!(
        attempt("a", 1001, "-"),
        OtpOutcome::Rejected { remaining: 2 }
    );
    assert_eq!(
        attempt("a", 1002, "-"),
        OtpOutcome::Rejected { remaining: 1 }
    );
    assert_eq!(
        attempt("a", 1003, "-"),
        OtpOutcome::Rejected { remaining: 0 }
    );
    // Client `a` is locked out, even with the right code; another client is not.
    assert_eq!(attempt("a", 1004, "s2"), OtpOutcome::Locked);
    assert_eq!(
        attempt("b", 1005, "-"),
        OtpOutcome::Rejected { remaining: 2 }
    );
    assert_eq!(
        attempt("b", 1006, "-"),
        OtpOutcome::Rejected { remaining: 1 }
    );
    // Five failures for the login from all clients: everyone is locked out.
    assert_eq!(attempt("c", 1007, "s2"), OtpOutcome::Locked);
    // After the window, the right code (either of the two) is accepted and spends both.
    assert_eq!(attempt("c", 1700, "s2"), OtpOutcome::Accepted);
    assert_eq!(
        attempt("c", 1701, "s1"),
        OtpOutcome::Rejected { remaining: 2 }
    );
    // An expired code never matches, nor does a login without codes.
    s.put_otp("e", "w", &code("w1", 1800), 1750, &SENDS)
        .unwrap();
    assert_eq!(
        s.otp_attempt("e", "w", "d", 1800, &ATTEMPTS, &mut |_| true)
            .unwrap(),
        OtpOutcome::Rejected { remaining: 2 }
    );
    assert_eq!(
        s.otp_attempt("e", "nobody", "d", 1800, &ATTEMPTS, &mut |_| true)
            .unwrap(),
        OtpOutcome::Rejected { remaining: 2 }
    );
}

fn audit(election: Option<&str>, action: &str) -> AuditEntry {
    AuditEntry {
        id: 0,
        at: 42,
        actor: "root".into(),
        election: election.map(str::to_owned),
        action: action.into(),
        details: serde_json::json!({"n": 1, "list": ["a", "é"], "nested": {"x": null}}),
    }
}

fn audit_log_is_filtered_and_paged(db: &Db) {
    let s = db.open();
    let a = s.append_audit(&audit(Some("e"), "one")).unwrap();
    let g = s.append_audit(&audit(None, "global")).unwrap();
    let b = s.append_audit(&audit(Some("e"), "two")).unwrap();
    s.append_audit(&audit(Some("f"), "other")).unwrap();
    assert!(a < g && g < b);
    let log = s.audit_log(Some("e"), 0, 10).unwrap();
    assert_eq!(
        log.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(),
        ["one", "two"]
    );
    assert_eq!(log[0].id, a);
    assert_eq!(
        log[0],
        AuditEntry {
            id: a,
            ..audit(Some("e"), "one")
        }
    );
    assert_eq!(s.audit_log(Some("e"), a, 10).unwrap()[0].id, b);
    assert_eq!(s.audit_log(Some("e"), 0, 1).unwrap().len(), 1);
    let global = s.audit_log(None, 0, 10).unwrap();
    assert_eq!(global.len(), 1);
    assert_eq!(global[0].election, None);
    assert!(s.audit_log(Some("zz"), 0, 10).unwrap().is_empty());
}

fn mails_are_tracked(db: &Db) {
    let s = db.open();
    let a = s.insert_mail(Some("e"), "a", "otp", 1).unwrap();
    let b = s.insert_mail(Some("e"), "b", "otp", 1).unwrap();
    let a2 = s.insert_mail(Some("e"), "a", "otp", 2).unwrap();
    let c = s.insert_mail(Some("e"), "a", "credential", 2).unwrap();
    let other = s.insert_mail(None, "x", "otp", 2).unwrap();
    assert!(a < b && b < a2 && a2 < c && c < other);
    s.set_mail_status(a, MailStatus::Failed, Some("refused"), 3)
        .unwrap();
    s.set_mail_status(a2, MailStatus::Sent, None, 3).unwrap();
    s.set_mail_status(c, MailStatus::Failed, Some("bounced"), 4)
        .unwrap();
    assert!(matches!(
        s.set_mail_status(other + 100, MailStatus::Sent, None, 3),
        Err(StorageError::NotFound(_))
    ));
    assert_eq!(
        s.latest_mail_statuses("e").unwrap(),
        [
            ("a".to_owned(), "credential".to_owned(), MailStatus::Failed),
            ("a".to_owned(), "otp".to_owned(), MailStatus::Sent),
            ("b".to_owned(), "otp".to_owned(), MailStatus::Queued),
        ]
    );
    let counts = s.mail_status_counts("e").unwrap();
    assert_eq!((counts.queued, counts.sent, counts.failed), (1, 1, 2));
    let failures = s.mail_failures("e", 10).unwrap();
    assert_eq!(
        failures
            .iter()
            .map(|f| (f.id, f.login.as_str(), f.error.as_str(), f.at))
            .collect::<Vec<_>>(),
        [(c, "a", "bounced", 4), (a, "a", "refused", 3)]
    );
    assert_eq!(s.mail_failures("e", 1).unwrap().len(), 1);
    // At a restart, every queued mail (of any election, or none) is marked failed.
    assert_eq!(s.fail_queued_mails("restarted", 5).unwrap(), 2);
    assert_eq!(s.fail_queued_mails("restarted", 5).unwrap(), 0);
    let counts = s.mail_status_counts("e").unwrap();
    assert_eq!((counts.queued, counts.sent, counts.failed), (0, 1, 3));
    let failures = s.mail_failures("e", 10).unwrap();
    assert_eq!(failures.iter().map(|f| f.id).collect::<Vec<_>>(), [c, b, a]);
    assert_eq!(failures[1].error, "restarted");
}

/// The grouped forms the mailer uses: ids in order, statuses of each, an unknown id passed over.
fn mails_are_tracked_in_groups(db: &Db) {
    let s = db.open();
    let mail = |login: &str, kind: &str| NewMail {
        election: Some("e".to_owned()),
        login: login.to_owned(),
        kind: kind.to_owned(),
    };
    let ids = s
        .insert_mails(
            &[
                mail("a", "otp"),
                mail("b", "otp"),
                mail("a", "confirmation"),
            ],
            1,
        )
        .unwrap();
    assert_eq!(ids.len(), 3);
    assert!(ids[0] < ids[1] && ids[1] < ids[2]);
    assert!(s.insert_mails(&[], 1).unwrap().is_empty());
    let update = |id, status, error: Option<&str>| MailStatusUpdate {
        id,
        status,
        error: error.map(str::to_owned),
    };
    s.set_mail_statuses(
        &[
            update(ids[0], MailStatus::Sent, None),
            update(ids[2] + 100, MailStatus::Sent, None),
            update(ids[2], MailStatus::Failed, Some("bounced")),
        ],
        2,
    )
    .unwrap();
    assert_eq!(
        s.latest_mail_statuses("e").unwrap(),
        [
            (
                "a".to_owned(),
                "confirmation".to_owned(),
                MailStatus::Failed
            ),
            ("a".to_owned(), "otp".to_owned(), MailStatus::Sent),
            ("b".to_owned(), "otp".to_owned(), MailStatus::Queued),
        ]
    );
    let failures = s.mail_failures("e", 10).unwrap();
    assert_eq!(failures.len(), 1);
    assert_eq!(
        (failures[0].id, failures[0].error.as_str()),
        (ids[2], "bounced")
    );
}

/// A group of bindings is applied in order, each seeing the ones before it, in one commit.
fn groups_of_bindings_see_the_bindings_before_them(db: &Db) {
    let s = db.open();
    let bind = |election: &str, login: &str, credential: &str| CredentialBinding {
        election: election.to_owned(),
        login: login.to_owned(),
        credential: credential.to_owned(),
    };
    assert_eq!(
        s.bind_credential("e", "z", "c9").unwrap(),
        BindOutcome::Bound
    );
    let outcomes = s
        .bind_credentials(&[
            bind("e", "a", "c1"),
            bind("e", "a", "c2"),
            bind("e", "b", "c1"),
            bind("e", "a", "c1"),
            bind("e", "b", "c9"),
            bind("f", "b", "c1"),
            bind("e", "b", "c2"),
        ])
        .unwrap();
    assert_eq!(
        outcomes,
        [
            BindOutcome::Bound,
            BindOutcome::LoginUsesAnother,
            BindOutcome::CredentialTaken,
            BindOutcome::Bound,
            BindOutcome::CredentialTaken,
            BindOutcome::Bound,
            BindOutcome::Bound,
        ]
    );
    assert!(s.bind_credentials(&[]).unwrap().is_empty());
    drop(s);
    // Durable: another instance reads them.
    let s = db.open();
    assert_eq!(
        s.credential_bindings("e").unwrap(),
        [
            ("a".to_owned(), "c1".to_owned()),
            ("b".to_owned(), "c2".to_owned()),
            ("z".to_owned(), "c9".to_owned())
        ]
    );
    assert_eq!(
        s.credential_of_login("f", "b").unwrap().as_deref(),
        Some("c1")
    );
}

fn role_tokens_are_replaced(db: &Db) {
    let s = db.open();
    let token = |hash: &str, election: &str, role| RoleToken {
        token_hash: hash.into(),
        election: election.into(),
        role,
    };
    let first = [
        token("t1", "e", Role::Trustee { index: 1 }),
        token("ca", "e", Role::CredentialAuthority),
    ];
    s.replace_role_tokens("e", &first).unwrap();
    s.replace_role_tokens("f", &[token("f1", "f", Role::Trustee { index: 2 })])
        .unwrap();
    assert_eq!(s.role_token("t1").unwrap().unwrap(), first[0]);
    assert_eq!(s.role_token("ca").unwrap().unwrap(), first[1]);
    s.replace_role_tokens("e", &[token("t2", "e", Role::Trustee { index: 3 })])
        .unwrap();
    assert_eq!(s.role_token("t1").unwrap(), None);
    assert_eq!(s.role_token("ca").unwrap(), None);
    assert_eq!(
        s.role_token("t2").unwrap().unwrap().role,
        Role::Trustee { index: 3 }
    );
    assert_eq!(s.role_token("f1").unwrap().unwrap().election, "f");
}

fn logins_bind_to_one_credential(db: &Db) {
    let s = db.open();
    assert_eq!(s.credential_of_login("e", "a").unwrap(), None);
    assert_eq!(
        s.bind_credential("e", "a", "c1").unwrap(),
        BindOutcome::Bound
    );
    assert_eq!(
        s.bind_credential("e", "a", "c1").unwrap(),
        BindOutcome::Bound
    );
    assert_eq!(
        s.bind_credential("e", "a", "c2").unwrap(),
        BindOutcome::LoginUsesAnother
    );
    assert_eq!(
        s.bind_credential("e", "b", "c1").unwrap(),
        BindOutcome::CredentialTaken
    );
    assert_eq!(
        s.bind_credential("e", "b", "c2").unwrap(),
        BindOutcome::Bound
    );
    assert_eq!(
        s.bind_credential("f", "b", "c1").unwrap(),
        BindOutcome::Bound
    );
    assert_eq!(
        s.credential_of_login("e", "a").unwrap().as_deref(),
        Some("c1")
    );
    assert_eq!(
        s.credential_bindings("e").unwrap(),
        [
            ("a".to_owned(), "c1".to_owned()),
            ("b".to_owned(), "c2".to_owned())
        ]
    );
}

fn admins_and_owners(db: &Db) {
    let s = db.open();
    let account = |name: &str, role| AdminAccount {
        username: name.into(),
        password_hash: format!("$argon2id$…{name}"),
        role,
    };
    assert!(s.admins().unwrap().is_empty());
    s.create_admin(&account("root", AdminRole::Server)).unwrap();
    s.create_admin(&account("olga", AdminRole::Official))
        .unwrap();
    assert!(matches!(
        s.create_admin(&account("olga", AdminRole::Server)),
        Err(StorageError::AlreadyExists(_))
    ));
    assert_eq!(
        s.admin("olga").unwrap().unwrap(),
        account("olga", AdminRole::Official)
    );
    assert_eq!(s.admin("nobody").unwrap(), None);
    assert_eq!(
        s.admins().unwrap(),
        [
            ("olga".to_owned(), AdminRole::Official),
            ("root".to_owned(), AdminRole::Server)
        ]
    );
    assert_eq!(s.election_owner("e").unwrap(), None);
    s.set_election_owner("e", "olga").unwrap();
    s.set_election_owner("f", "root").unwrap();
    assert_eq!(s.election_owner("e").unwrap().as_deref(), Some("olga"));
    s.set_election_owner("e", "root").unwrap();
    assert_eq!(s.election_owner("e").unwrap().as_deref(), Some("root"));
}

fn data_survives_reopening(db: &Db) {
    {
        let s = db.open();
        s.create_election(&meta("e", 1)).unwrap();
        s.append_events("e", 0, &["a".into()], &[entry(0, "t", "c")])
            .unwrap();
        s.add_voters("e", &[voter("v", 2)]).unwrap();
        s.create_admin(&AdminAccount {
            username: "root".into(),
            password_hash: "h".into(),
            role: AdminRole::Server,
        })
        .unwrap();
    }
    // Opening again (the migrations find nothing to do) keeps everything.
    let s = db.open();
    let again = db.open();
    assert_eq!(s.events_from("e", 0, 10).unwrap(), ["a"]);
    assert_eq!(again.ballot_by_tracker("e", "t").unwrap(), Some(0));
    assert_eq!(s.voter("e", "v").unwrap().unwrap().weight, 2);
    assert_eq!(
        again.admin("root").unwrap().unwrap().role,
        AdminRole::Server
    );
}

fn works_from_async_code_and_the_blocking_pool(db: &Db) {
    let s = db.open();
    s.create_election(&meta("e", 1)).unwrap();
    // Through the blocking pool of a multi-thread runtime, as the server calls it, and
    // directly from a task of a current-thread runtime (as a test or a start-up step may).
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let st = Arc::clone(&s);
    let next = rt.block_on(async move {
        let mut tasks = Vec::new();
        for i in 0..8u64 {
            let st = Arc::clone(&st);
            tasks.push(tokio::spawn(async move {
                blocking(&st, move |s| {
                    s.add_voters("e", &[voter(&format!("v{i}"), 1)])
                })
                .await
            }));
        }
        for t in tasks {
            assert!(t.await.unwrap().unwrap().is_empty());
        }
        blocking(&st, |s| s.append_events("e", 0, &["a".into()], &[])).await
    });
    assert_eq!(next.unwrap(), 1);
    let current = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let st = Arc::clone(&s);
    current.block_on(async move {
        assert_eq!(st.head("e").unwrap().next_seq, 1);
        assert_eq!(st.voter_count("e").unwrap(), (8, 8));
        let n = blocking(&st, |s| s.append_events("e", 1, &["b".into()], &[]))
            .await
            .unwrap();
        assert_eq!(n, 2);
    });
    // And the storage may be dropped inside a runtime.
    let st = Arc::clone(&s);
    drop(s);
    current.block_on(async move { drop(st) });
}

fn hash(line: &str) -> String {
    hex::encode(Sha256::digest(line.as_bytes()))
}

fn concurrent_appends_from_two_nodes_make_one_chain(db: &Db) {
    let nodes = [db.open(), db.open()];
    nodes[0].create_election(&meta("e", 1)).unwrap();
    nodes[0]
        .append_events("e", 0, &["genesis".into()], &[])
        .unwrap();
    const WRITERS_PER_NODE: usize = 3;
    const APPENDS: usize = 15;
    std::thread::scope(|scope| {
        for (n, node) in nodes.iter().enumerate() {
            for w in 0..WRITERS_PER_NODE {
                scope.spawn(move || {
                    for i in 0..APPENDS {
                        // Each line names the hash of the line it follows, as the record's
                        // chain does: a line appended on a stale head would break it.
                        loop {
                            let head = node.head("e").unwrap();
                            let prev = hash(head.last_line.as_deref().unwrap());
                            let line = format!("{prev} n{n}w{w}i{i}");
                            let tracker = format!("n{n}w{w}i{i}");
                            let idx = [entry(head.next_seq + 1, &tracker, "c")];
                            let lines = [line, format!("ballot {tracker}")];
                            match node.append_events("e", head.next_seq, &lines, &idx) {
                                Ok(end) => {
                                    assert_eq!(end, head.next_seq + 2);
                                    break;
                                }
                                Err(StorageError::SeqMismatch { expected, actual }) => {
                                    assert!(actual > expected);
                                }
                                Err(e) => panic!("append failed: {e}"),
                            }
                        }
                    }
                });
            }
        }
    });
    let total = 1 + 2 * 2 * WRITERS_PER_NODE * APPENDS;
    for node in &nodes {
        let lines = node.events_from("e", 0, usize::MAX).unwrap();
        assert_eq!(lines.len(), total);
        assert_eq!(node.head("e").unwrap().next_seq, total as u64);
        let mut seen = HashSet::new();
        for (k, pair) in lines[1..].chunks(2).enumerate() {
            let seq = 1 + 2 * k;
            let (prev, name) = pair[0].split_once(' ').unwrap();
            assert_eq!(prev, hash(&lines[seq - 1]), "fork at seq {seq}");
            assert_eq!(pair[1], format!("ballot {name}"));
            assert!(seen.insert(name.to_owned()), "duplicate {name}");
            assert_eq!(
                node.ballot_by_tracker("e", name).unwrap(),
                Some(seq as u64 + 1)
            );
        }
        assert_eq!(seen.len(), 2 * WRITERS_PER_NODE * APPENDS);
    }
}

fn concurrent_otp_limits_hold_across_nodes(db: &Db) {
    let nodes = [db.open(), db.open()];
    let sends = OtpSendLimits {
        max_sends: 5,
        window_secs: 3600,
        last_lives_until: 5000,
    };
    let attempts = OtpAttemptLimits {
        per_client: 100,
        per_login: 7,
        window_secs: 600,
    };
    let (sent, rejected) = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..8)
            .map(|t| {
                let node = &nodes[t % 2];
                scope.spawn(move || {
                    let (mut sent, mut rejected) = (0, 0);
                    for i in 0..4 {
                        let salt = format!("t{t}i{i}");
                        if node
                            .put_otp("e", "v", &code(&salt, 4000), 1000, &sends)
                            .unwrap()
                        {
                            sent += 1;
                        }
                        let client = format!("client{t}");
                        match node
                            .otp_attempt("e", "v", &client, 1001, &attempts, &mut |_| false)
                            .unwrap()
                        {
                            OtpOutcome::Rejected { .. } => rejected += 1,
                            OtpOutcome::Locked => {}
                            OtpOutcome::Accepted => panic!("no code matches"),
                        }
                    }
                    (sent, rejected)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap())
            .fold((0, 0), |(a, b), (c, d)| (a + c, b + d))
    });
    assert_eq!(sent, 5, "sends beyond the limit");
    assert_eq!(rejected, 7, "attempts beyond the limit");
    assert_eq!(nodes[1].otp_sends_since("e", "v", 0).unwrap(), 5);
}

fn a_lone_instance_holds_the_scheduler_lease(db: &Db) {
    let s = db.open();
    assert!(s.scheduler_lease().unwrap());
    assert!(s.scheduler_lease().unwrap());
}

// ---- PostgreSQL only ----

/// Of the instances on one database, one holds the scheduler lease until it goes; then
/// another takes it, and keeps it.
/// Durable writes go through connections with `synchronous_commit=on`, the writes a voter
/// can redo through the relaxed pool's, with `off`; a code sent and tried through the
/// relaxed pool is there for the durable one to see.
#[test]
fn postgres_relaxed_writes_have_a_pool_of_their_own() {
    let Some(db) = TestDatabase::create("postgres_relaxed_writes_have_a_pool_of_their_own") else {
        return;
    };
    let s = PostgresStorage::open(&db.url).unwrap();
    assert_eq!(
        s.synchronous_commit_settings().unwrap(),
        ("on".to_owned(), "off".to_owned())
    );
    s.create_election(&meta("e", 1)).unwrap();
    s.insert_session(&SessionRecord {
        token_hash: "t".to_owned(),
        subject: SessionSubject::Voter {
            election: "e".to_owned(),
            login: "alice".to_owned(),
        },
        expires_at: 100,
    })
    .unwrap();
    assert!(s.session("t").unwrap().is_some());
}

#[test]
fn postgres_one_instance_holds_the_scheduler_lease() {
    let Some(db) = TestDatabase::create("postgres_one_instance_holds_the_scheduler_lease") else {
        return;
    };
    let a = PostgresStorage::open(&db.url).unwrap();
    let b = PostgresStorage::open(&db.url).unwrap();
    assert!(a.scheduler_lease().unwrap());
    assert!(!b.scheduler_lease().unwrap());
    assert!(a.scheduler_lease().unwrap());
    assert!(!b.scheduler_lease().unwrap());
    drop(a);
    let mut taken = false;
    for _ in 0..100 {
        if b.scheduler_lease().unwrap() {
            taken = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(taken, "the lease was not released when its holder went");
    let c = PostgresStorage::open(&db.url).unwrap();
    assert!(!c.scheduler_lease().unwrap());
    assert!(b.scheduler_lease().unwrap());
}

/// A login role granted the board reader role reads the record and is refused the voters.
#[test]
fn postgres_board_reader_cannot_read_voters() {
    let Some(db) = TestDatabase::create("postgres_board_reader_cannot_read_voters") else {
        return;
    };
    let s = PostgresStorage::open(&db.url).unwrap();
    s.create_election(&meta("e", 1)).unwrap();
    s.append_events("e", 0, &["line".into()], &[entry(0, "t", "c")])
        .unwrap();
    s.add_voters("e", &[voter("secret-voter", 1)]).unwrap();
    let reader = pg::unique("scrutin_reader");
    pg::admin_sql(
        &db.url,
        &format!(
            "CREATE ROLE {reader} LOGIN PASSWORD 'reader-pw'; GRANT {BOARD_READER_ROLE} TO {reader};"
        ),
    )
    .unwrap();
    let as_reader = reader_url(&db.url, &reader, "reader-pw");
    let result = (
        pg::admin_sql(&as_reader, "SELECT line FROM board.events"),
        pg::admin_sql(&as_reader, "SELECT tracker FROM board.ballot_index"),
        pg::admin_sql(&as_reader, "SELECT id FROM board.elections"),
        pg::admin_sql(&as_reader, "SELECT login FROM private.voters"),
        pg::admin_sql(&as_reader, "SELECT token_hash FROM private.sessions"),
        pg::admin_sql(
            &as_reader,
            "INSERT INTO board.events VALUES ('e', 1, 'forged')",
        ),
    );
    drop(s);
    drop(db);
    pg::admin_sql(
        &pg::server_url("cleanup").unwrap(),
        &format!("DROP ROLE {reader}"),
    )
    .unwrap();
    let (events, index, elections, voters, sessions, insert) = result;
    events.unwrap();
    index.unwrap();
    elections.unwrap();
    assert!(voters.unwrap_err().contains("permission denied"));
    assert!(sessions.unwrap_err().contains("permission denied"));
    assert!(insert.unwrap_err().contains("permission denied"));
}

/// `url` with another user and password.
fn reader_url(url: &str, user: &str, password: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap();
    let host = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
    format!("{scheme}://{user}:{password}@{host}")
}

/// The record (past the draft) and the audit log refuse updates, deletes and truncation at
/// the database.
#[test]
fn postgres_record_and_audit_log_are_append_only() {
    let Some(db) = TestDatabase::create("postgres_record_and_audit_log_are_append_only") else {
        return;
    };
    let s = PostgresStorage::open(&db.url).unwrap();
    s.create_election(&meta("e", 1)).unwrap();
    s.append_events("e", 0, &["a".into()], &[]).unwrap();
    s.set_election_state("e", ElectionState::Draft, ElectionState::Open)
        .unwrap();
    s.append_audit(&audit(Some("e"), "x")).unwrap();
    for sql in [
        "UPDATE board.events SET line = 'b'",
        "DELETE FROM board.events",
        "TRUNCATE board.events",
        "UPDATE private.audit_log SET actor = 'someone'",
        "DELETE FROM private.audit_log",
        "TRUNCATE private.audit_log",
    ] {
        let e = pg::admin_sql(&db.url, sql).unwrap_err();
        assert!(e.contains("append-only"), "{sql}: {e}");
    }
    assert_eq!(s.events_from("e", 0, 10).unwrap(), ["a"]);
}

/// A bad URL or an unreachable server is an error that does not show the password; an
/// unreachable server is "unavailable" (answered 503 with `Retry-After`, not 500).
#[test]
fn postgres_open_errors_are_clear() {
    let e = PostgresStorage::open("postgresql://u:hunter2@127.0.0.1:1/db")
        .err()
        .unwrap();
    assert!(matches!(e, StorageError::Unavailable(_)), "{e}");
    assert!(!e.to_string().contains("hunter2"), "{e}");
    let e = PostgresStorage::open("postgresql://u:hunter2@[bad/db")
        .err()
        .unwrap();
    assert!(matches!(e, StorageError::Invalid(_)), "{e}");
    assert!(!e.to_string().contains("hunter2"), "{e}");
}

/// The backend speaks to PostgreSQL without TLS: a URL that requires TLS is refused at open,
/// never silently served in clear.
#[test]
fn postgres_url_requiring_tls_is_refused() {
    let Some(db) = TestDatabase::create("postgres_url_requiring_tls_is_refused") else {
        return;
    };
    let e = PostgresStorage::open(&format!("{}?sslmode=require", db.url))
        .err()
        .unwrap();
    assert!(matches!(e, StorageError::Backend(_)), "{e}");
    PostgresStorage::open(&format!("{}?sslmode=disable", db.url)).unwrap();
}
