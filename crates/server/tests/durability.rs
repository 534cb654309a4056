//! Durability of the SQLite storage: what was acknowledged is there after reopening, and no
//! voter identity is written to the public board file.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use scrutin_server::storage::sqlite::SqliteStorage;
use scrutin_server::storage::{
    BallotIndexEntry, ElectionMeta, ElectionState, Storage, StorageError, Voter,
};

fn meta(id: &str) -> ElectionMeta {
    ElectionMeta {
        id: id.to_owned(),
        state: ElectionState::Draft,
        description_toml: "name = \"durable\"".to_owned(),
        opens_at: Some(10),
        closes_at: Some(20),
        created_at: 5,
    }
}

#[test]
fn append_drop_reopen_data_present() {
    let dir = tempfile::tempdir().unwrap();
    {
        let s = SqliteStorage::open(&dir.path().join("data")).unwrap();
        s.create_election(&meta("e1")).unwrap();
        s.set_election_state("e1", ElectionState::Draft, ElectionState::Open)
            .unwrap();
        let lines: Vec<String> = (0..100).map(|i| format!("{{\"seq\":{i}}}")).collect();
        let index: Vec<BallotIndexEntry> = (0..100)
            .map(|i| BallotIndexEntry {
                seq: i,
                tracker: format!("t{i}"),
                credential: format!("c{}", i % 10),
            })
            .collect();
        assert_eq!(s.append_events("e1", 0, &lines, &index).unwrap(), 100);
        s.add_voters(
            "e1",
            &[Voter {
                login: "secret-voter-login".into(),
                email: "secret-voter@example.org".into(),
                weight: 2,
                language: None,
            }],
        )
        .unwrap();
    }
    let s = SqliteStorage::open(&dir.path().join("data")).unwrap();
    let e = s.election("e1").unwrap().unwrap();
    assert_eq!(e.state, ElectionState::Open);
    assert_eq!(e.opens_at, Some(10));
    let head = s.head("e1").unwrap();
    assert_eq!(head.next_seq, 100);
    assert_eq!(head.last_line.as_deref(), Some("{\"seq\":99}"));
    let page = s.events_from("e1", 40, 25).unwrap();
    assert_eq!(page.len(), 25);
    assert_eq!(page[0], "{\"seq\":40}");
    assert_eq!(s.ballot_by_tracker("e1", "t57").unwrap(), Some(57));
    assert_eq!(s.latest_ballot_of_credential("e1", "c3").unwrap(), Some(93));
    assert_eq!(s.voter_count("e1").unwrap(), (1, 2));
    assert!(matches!(
        s.append_events("e1", 99, &["x".into()], &[]),
        Err(StorageError::SeqMismatch { .. })
    ));
    drop(s);

    // the public file holds no voter identity
    let board = std::fs::read(dir.path().join("data/board.sqlite")).unwrap();
    let wal = std::fs::read(dir.path().join("data/board.sqlite-wal")).unwrap_or_default();
    for needle in [&b"secret-voter"[..]] {
        for hay in [&board, &wal] {
            assert!(!hay.windows(needle.len()).any(|w| w == needle));
        }
    }
}

#[test]
fn wal_and_full_sync_are_on() {
    let dir = tempfile::tempdir().unwrap();
    let _s = SqliteStorage::open(&dir.path().join("data")).unwrap();
    for file in ["board.sqlite", "private.sqlite"] {
        let conn = rusqlite_check::open(&dir.path().join("data").join(file));
        assert_eq!(conn, "wal");
    }
}

mod rusqlite_check {
    /// Reads the journal mode from the file header: WAL databases have version bytes 2/2.
    pub fn open(path: &std::path::Path) -> &'static str {
        let bytes = std::fs::read(path).unwrap();
        if bytes.len() >= 20 && bytes[18] == 2 && bytes[19] == 2 {
            "wal"
        } else {
            "other"
        }
    }
}

#[tokio::test]
async fn data_survives_a_server_restart() {
    let mut s = common::TestServer::start().await;
    s.election("e1", ElectionState::Draft).await;
    let token = s.admin_token().await;
    let r = s
        .client
        .post(s.url("/api/admin/elections/e1/voters"))
        .bearer_auth(&token)
        .header("content-type", "text/csv")
        .body("alice,alice@example.org\n")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    s.stop().await;
    let data_dir = s.dir.path().join("data");
    // the state (and its storage) is still alive in `s`; open a second handle as a restart would
    let reopened = SqliteStorage::open(&data_dir).unwrap();
    assert_eq!(reopened.voter_count("e1").unwrap(), (1, 1));
    assert_eq!(reopened.audit_log(Some("e1"), 0, 10).unwrap().len(), 1);
    // the admin session survives too
    let hash = scrutin_server::auth::token_hash(&token);
    assert!(reopened.session(&hash).unwrap().is_some());
}

const CHILD_ENV: &str = "SCRUTIN_DURABILITY_CHILD_DIR";

/// Child half of `acknowledged_appends_survive_kill_9`: appends one event at a time and
/// prints `ack N` only after `append_events` returned. Does nothing in a normal test run.
#[test]
fn child_writer() {
    use std::io::Write;
    let Ok(dir) = std::env::var(CHILD_ENV) else {
        return;
    };
    let s = SqliteStorage::open(std::path::Path::new(&dir)).unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let mut out = std::io::stdout().lock();
    let mut seq = 0u64;
    while std::time::Instant::now() < deadline {
        s.append_events("k", seq, &[format!("{{\"n\":{seq}}}")], &[])
            .unwrap();
        writeln!(out, "ack {seq}").unwrap();
        out.flush().unwrap();
        seq += 1;
    }
}

#[test]
fn acknowledged_appends_survive_kill_9() {
    use std::io::BufRead;
    if std::env::var(CHILD_ENV).is_ok() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    SqliteStorage::open(&dir.path().join("data"))
        .unwrap()
        .create_election(&meta("k"))
        .unwrap();
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child_writer", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, dir.path().join("data"))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut last_ack = None;
    for line in std::io::BufReader::new(stdout).lines() {
        let line = line.unwrap();
        if let Some(n) = line.strip_prefix("ack ") {
            let n: u64 = n.trim().parse().unwrap();
            last_ack = Some(n);
            if n >= 40 {
                break;
            }
        }
    }
    child.kill().unwrap(); // SIGKILL: no destructor, no flush, no checkpoint
    child.wait().unwrap();
    let last_ack = last_ack.expect("child acknowledged nothing");
    let s = SqliteStorage::open(&dir.path().join("data")).unwrap();
    let head = s.head("k").unwrap();
    assert!(head.next_seq > last_ack, "{} <= {last_ack}", head.next_seq);
    let lines = s.events_from("k", 0, usize::MAX).unwrap();
    for (i, line) in lines.iter().enumerate() {
        assert_eq!(line, &format!("{{\"n\":{i}}}"));
    }
}

/// How many times [`acknowledged_appends_survive_kill_9_of_postgres`] kills the server.
/// `SCRUTIN_PG_KILLS` raises it (the 20-kill run of docs/POSTGRESQL.md).
fn pg_kills() -> usize {
    std::env::var("SCRUTIN_PG_KILLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(4)
}

/// The same on PostgreSQL, with the database server killed instead: a writer appends one
/// event at a time and counts an append as acknowledged only once `append_events` returned;
/// meanwhile the PostgreSQL server (postmaster and backends) is killed with SIGKILL at
/// random moments and restarted (crash recovery). The writer's connections fail, it retries
/// (an append whose commit reached the disk before the kill is found there by its sequence
/// number), and at the end every acknowledged line is on the board, in order, with no gap.
#[test]
fn acknowledged_appends_survive_kill_9_of_postgres() {
    use scrutin_server::storage::postgres::PostgresStorage;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    use std::time::{Duration, Instant};

    const TEST: &str = "acknowledged_appends_survive_kill_9_of_postgres";
    let Some(bin) = common::cluster::bin_dir(TEST) else {
        return;
    };
    let root = common::cluster::scratch();
    let mut pg = common::cluster::Cluster::init(&bin, root.path(), "primary");
    pg.start();
    let url = pg.url("postgres");
    let s = PostgresStorage::open(&url).unwrap();
    s.create_election(&meta("k")).unwrap();

    // Acknowledged appends: the highest seq + 1 (0: none yet).
    let acked = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (acked, stop) = (acked.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut seq = 0u64;
            let mut errors = 0u64;
            while !stop.load(Ordering::Relaxed) {
                match s.append_events("k", seq, &[format!("{{\"n\":{seq}}}")], &[]) {
                    Ok(next) => {
                        assert_eq!(next, seq + 1);
                        seq += 1;
                        acked.store(seq, Ordering::SeqCst);
                    }
                    // Committed before the kill, its answer lost: it is on the board.
                    Err(StorageError::SeqMismatch { actual, .. }) if actual == seq + 1 => {
                        seq += 1;
                    }
                    Err(StorageError::Unavailable(_)) => {
                        errors += 1;
                        std::thread::sleep(Duration::from_millis(20));
                    }
                    Err(e) => panic!("append {seq}: {e}"),
                }
            }
            (s, errors)
        })
    };
    let random_ms = |lo: u64, hi: u64| {
        let mut b = [0u8; 8];
        getrandom::fill(&mut b).unwrap();
        lo + u64::from_le_bytes(b) % (hi - lo)
    };
    let wait_for_progress = |from: u64| {
        let deadline = Instant::now() + Duration::from_secs(60);
        while acked.load(Ordering::SeqCst) < from + 5 {
            assert!(
                Instant::now() < deadline,
                "no append acknowledged after a restart"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    };
    wait_for_progress(0);
    let kills = pg_kills();
    for _ in 0..kills {
        std::thread::sleep(Duration::from_millis(random_ms(100, 1500)));
        pg.kill9();
        let at_kill = acked.load(Ordering::SeqCst);
        pg.start();
        wait_for_progress(at_kill);
    }
    stop.store(true, Ordering::Relaxed);
    let (s, errors) = writer.join().unwrap();
    let last = acked.load(Ordering::SeqCst);
    assert!(errors > 0, "the kills were not noticed by the writer");
    let head = s.head("k").unwrap();
    assert!(head.next_seq >= last, "{} < {last}", head.next_seq);
    let lines = s.events_from("k", 0, usize::MAX).unwrap();
    assert_eq!(lines.len() as u64, head.next_seq);
    for (i, line) in lines.iter().enumerate() {
        assert_eq!(line, &format!("{{\"n\":{i}}}"));
    }
    eprintln!("{kills} kills of PostgreSQL: {last} appends acknowledged, all on the board");
}
