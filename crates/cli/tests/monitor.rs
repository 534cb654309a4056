//! `scrutin monitor` against a live `scrutin serve`: two monitors that compare notes
//! follow an honest election from its creation to its result without an alarm. Then
//! against a stand-in board signing with the same board key: every way of changing what
//! was published (a line rewritten, lines removed, two lines swapped or a different chain
//! after a common prefix, each with the chain written again), a head not signed by the
//! board key and two signed heads of different chains shown to two monitors are each
//! detected and named, and `--check` exits 1. A monitor restarted on its store resumes
//! where it was without downloading the record again.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::Path;
use std::process::Command;

use common::*;
use scrutin_election::Hash32;
use scrutin_election::ceremony;
use scrutin_election::crypto::rng::os_rng;
use scrutin_election::definition::QuestionChoice;
use scrutin_election::record::Event;
use scrutin_election::roles::{Role, RoleKey, SignedHead};
use scrutin_election::verify::RecordState;

/// A `scrutin serve` child with an admin, its data in `dir`; returns it and its URL.
fn serve(dir: &Path) -> (std::process::Child, String) {
    let config = dir.join("server.toml");
    std::fs::write(
        &config,
        format!(
            "data_dir = {:?}\n[mail]\noutbox = {:?}\n[limits]\nper_ip_rate_per_sec = 100000.0\nper_ip_burst = 1000000\n[otp]\nmax_sends_per_hour = 1000\n",
            dir.join("data"),
            dir.join("outbox")
        ),
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_scrutin"))
        .args(["serve", "--config", config.to_str().unwrap()])
        .args(["--create-admin", ADMIN])
        .env("SCRUTIN_ADMIN_PASSWORD", PASSWORD)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let listen = format!("127.0.0.1:{}", free_port());
    (serve_child(&config, &listen), format!("http://{listen}"))
}

/// `lines` followed by `events`, chained.
fn extend(lines: &[String], events: &[Event]) -> Vec<String> {
    let state = RecordState::from_record(&record_bytes(lines)).unwrap();
    let mut out = lines.to_vec();
    out.extend(common::lines(
        ceremony::lines_after(&state, events).unwrap().as_bytes(),
    ));
    out
}

/// What an honest election leaves: the record up to its close (still open, so that
/// ballots can be added or moved and the chain still verifies), the board key, the
/// voters' credentials.
struct Honest {
    id: String,
    open: Vec<String>,
    board_key: RoleKey,
    credentials: Vec<String>,
}

/// An honest election on a live `scrutin serve`, followed from its creation by two
/// monitors that peer with each other: no alarm, ever.
fn honest_election(dir: &Path) -> Honest {
    let (mut child, base) = serve(dir);
    let api = Api::new(&base);
    let (p1, p2) = (free_port(), free_port());
    let (u1, u2) = (
        format!("http://127.0.0.1:{p1}"),
        format!("http://127.0.0.1:{p2}"),
    );
    let mut monitors: Vec<MonitorChild> = Vec::new();
    let s = prepare_then(&api, dir, 4, &mut |id| {
        monitors.push(MonitorChild::start_on(
            p1,
            &base,
            id,
            &dir.join("m1"),
            &[&u2],
        ));
        monitors.push(MonitorChild::start_on(
            p2,
            &base,
            id,
            &dir.join("m2"),
            &[&u1],
        ));
    });
    let id = s.id.clone();
    api.ok(
        "POST",
        &format!("/api/admin/elections/{id}/open"),
        Some(&s.admin),
        None,
    );
    let state = RecordState::from_record(&api.record(&id)).unwrap();
    let tokens = log_in(&api, &id, &dir.join("outbox"), &s.voters);
    for (i, (login, _, _, credential)) in s.voters.iter().enumerate() {
        let choices = vec![
            QuestionChoice::Values((0..3).map(|a| u64::from(a == i % 3)).collect()),
            QuestionChoice::Values((0..4).map(|a| u64::from(a == i % 4)).collect()),
        ];
        let (status, v) = cast(
            &api,
            &id,
            &tokens[login],
            &encrypt(&state, credential, &choices, login),
        );
        assert_eq!(status, 200, "{v}");
    }
    api.ok(
        "POST",
        &format!("/api/admin/elections/{id}/close"),
        Some(&s.admin),
        None,
    );
    let closed = api.record(&id);
    for m in &monitors {
        m.wait_for_events(lines(&closed).len() as u64);
    }
    for i in [1, 2] {
        let secret = dir.join(format!("trustee{i}.json"));
        let out = scrutin(&[
            "trustee",
            "decrypt",
            "--server",
            &base,
            "--election",
            &id,
            "--token",
            &s.trustee_tokens[i - 1],
            "--secret",
            secret.to_str().unwrap(),
            "--monitor",
            &u1,
            "--monitor",
            &u2,
        ]);
        assert!(out.contains("holds the same event"), "{out}");
    }
    api.ok(
        "POST",
        &format!("/api/admin/elections/{id}/tally"),
        Some(&s.admin),
        None,
    );
    let record = api.record(&id);
    let n = lines(&record).len() as u64;
    assert_eq!(
        RecordState::from_record(&record).unwrap().stage(),
        scrutin_election::verify::Stage::Tallied
    );
    for m in &monitors {
        m.wait_for_events(n);
        // Both have compared the other's signed head of the whole record.
        let status = wait_for(60, "the peers to agree on the last head", || {
            let st = m.try_status()?;
            (st["peers"][0]["consistent"] == true && st["peers"][0]["events"] == n).then_some(st)
        });
        assert_eq!(status["ok"], true, "{status}");
        assert!(status["alarms"].as_array().unwrap().is_empty(), "{status}");
        assert_eq!(status["signed_head"]["length"], n);
        let copy = Api::new(&m.base).record(&id);
        assert_eq!(copy, record);
    }
    let (code, status) = monitor_check(&base, &id, &dir.join("m3"), &[&u1, &u2]);
    assert_eq!(code, 0, "{status}");
    assert_eq!(status["ok"], true);
    assert_eq!(status["events"], n);
    drop(monitors);
    let _ = child.kill();
    let _ = child.wait();

    let all = lines(&record);
    let close = position_of(&all, "close");
    let board_key = RoleKey::from_json(
        &std::fs::read_to_string(dir.join("data").join("board-key.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        Some(board_key.signing_key),
        state.definition.as_ref().unwrap().board_key
    );
    Honest {
        id,
        open: all[..close].to_vec(),
        board_key,
        credentials: s.voters.iter().map(|v| v.3.clone()).collect(),
    }
}

/// A stand-in serving `lines` signed with the board key, a first `--check` on a fresh
/// store that finds nothing wrong, then `attacked` served instead: the second `--check`
/// exits 1 and names `kind`. Returns the alarms' messages.
fn detects(h: &Honest, dir: &Path, name: &str, attacked: Vec<String>, kind: &str) -> String {
    let stand_in = StandIn::start(
        &h.id,
        Board {
            lines: h.open.clone(),
            key: Some(h.board_key.clone()),
            ..Board::default()
        },
    );
    let store = dir.join(name);
    let (code, status) = monitor_check(&stand_in.base, &h.id, &store, &[]);
    assert_eq!(code, 0, "{name}: {status}");
    assert_eq!(status["events"], h.open.len() as u64);
    stand_in.set_lines(attacked);
    let (code, status) = monitor_check(&stand_in.base, &h.id, &store, &[]);
    assert_eq!(code, 1, "{name}: {status}");
    assert_eq!(status["ok"], false);
    let kinds = alarm_kinds(&status);
    assert!(
        kinds.iter().any(|k| k == kind),
        "{name}: {kind} not in {status}"
    );
    // The alarm is kept: a later check on the store still fails.
    let (code, _) = monitor_check(&stand_in.base, &h.id, &store, &[]);
    assert_eq!(code, 1, "{name}");
    status["alarms"].to_string()
}

#[test]
fn monitors_follow_an_honest_election_and_detect_every_change_of_the_record() {
    let dir = tempfile::tempdir().unwrap();
    let h = honest_election(dir.path());
    let open = h.open.clone();
    let n = open.len();
    let first_ballot = position_of(&open, "ballot");
    assert!(n - first_ballot >= 4, "four ballots on the record");
    let state = RecordState::from_record(&record_bytes(&open)).unwrap();

    // Resuming: a second run on the same store asks only for what is new.
    let stand_in = StandIn::start(
        &h.id,
        Board {
            lines: open.clone(),
            key: Some(h.board_key.clone()),
            ..Board::default()
        },
    );
    let store = dir.path().join("resume");
    let (code, status) = monitor_check(&stand_in.base, &h.id, &store, &[]);
    assert_eq!((code, status["events"].as_u64()), (0, Some(n as u64)));
    assert_eq!(stand_in.requests_from_start(), 1);
    let more = extend(&open, &[ballot_event(&state, &h.credentials[0], "later")]);
    stand_in.set_lines(more.clone());
    let (code, status) = monitor_check(&stand_in.base, &h.id, &store, &[]);
    assert_eq!((code, status["events"].as_u64()), (0, Some(n as u64 + 1)));
    assert_eq!(
        stand_in.requests_from_start(),
        1,
        "the restarted monitor downloaded again"
    );
    assert_eq!(
        std::fs::read(store.join("record.jsonl")).unwrap(),
        record_bytes(&more)
    );

    // A line rewritten in place (its chain not written again).
    let mut rewritten = open.clone();
    let last = rewritten.last().unwrap().clone();
    let at = last.find("\"credential\":\"").unwrap() + 14;
    let flipped = if &last[at..=at] == "0" { "1" } else { "0" };
    rewritten[n - 1] = format!("{}{flipped}{}", &last[..at], &last[at + 1..]);
    detects(&h, dir.path(), "rewrite", rewritten, "rewrite");

    // Lines removed.
    detects(&h, dir.path(), "removal", open[..n - 2].to_vec(), "removal");

    // Two ballots swapped, the chain written again: it verifies, but it is not the same.
    let mut swapped = open.clone();
    swapped.swap(first_ballot, first_ballot + 1);
    let swapped = rechain(&swapped);
    RecordState::from_record(&record_bytes(&swapped)).unwrap();
    let alarms = detects(&h, dir.path(), "reorder", swapped, "fork");
    assert!(
        alarms.contains(&format!("shares only its first {first_ballot} events")),
        "{alarms}"
    );

    // Another chain after the first ballot, as long as the real one.
    let prefix = &open[..=first_ballot];
    let events: Vec<Event> = (1..n - first_ballot)
        .map(|i| ballot_event(&state, &h.credentials[i], &format!("fork {i}")))
        .collect();
    let fork = extend(prefix, &events);
    assert_eq!(fork.len(), n);
    let alarms = detects(&h, dir.path(), "fork", fork, "fork");
    assert!(
        alarms.contains(&format!(
            "shares only its first {} events",
            first_ballot + 1
        )),
        "{alarms}"
    );

    // A head that the board key did not sign.
    let stand_in = StandIn::start(
        &h.id,
        Board {
            lines: open.clone(),
            key: Some(h.board_key.clone()),
            ..Board::default()
        },
    );
    let store = dir.path().join("forged");
    assert_eq!(monitor_check(&stand_in.base, &h.id, &store, &[]).0, 0);
    let impostor = RoleKey::generate(Role::Board, "board", &mut os_rng());
    let context = Hash32::of(open[0].as_bytes());
    let head = Hash32::of(open[n - 1].as_bytes());
    stand_in.board.lock().unwrap().forged_head = Some(SignedHead::sign(
        &impostor,
        context,
        n as u64,
        head,
        &mut os_rng(),
    ));
    let (code, status) = monitor_check(&stand_in.base, &h.id, &store, &[]);
    assert_eq!(code, 1, "{status}");
    assert!(
        alarm_kinds(&status).contains(&"forged_head".to_owned()),
        "{status}"
    );

    // Equivocation: two boards signing with the board key, each showing one monitor its
    // own chain (the same up to the close of the voting so far, then one other ballot).
    let a = extend(&open, &[ballot_event(&state, &h.credentials[1], "for a")]);
    let b = extend(&open, &[ballot_event(&state, &h.credentials[2], "for b")]);
    let board = |lines: Vec<String>| {
        StandIn::start(
            &h.id,
            Board {
                lines,
                key: Some(h.board_key.clone()),
                ..Board::default()
            },
        )
    };
    let (board_a, board_b) = (board(a), board(b));
    let (pa, pb) = (free_port(), free_port());
    let (ua, ub) = (
        format!("http://127.0.0.1:{pa}"),
        format!("http://127.0.0.1:{pb}"),
    );
    let ma = MonitorChild::start_on(pa, &board_a.base, &h.id, &dir.path().join("ma"), &[&ub]);
    let mb = MonitorChild::start_on(pb, &board_b.base, &h.id, &dir.path().join("mb"), &[&ua]);
    for m in [&ma, &mb] {
        let status = wait_for(60, "equivocation to be detected", || {
            let st = m.try_status()?;
            alarm_kinds(&st)
                .contains(&"equivocation".to_owned())
                .then_some(st)
        });
        assert_eq!(status["ok"], false);
        assert!(
            status.to_string().contains("signed two different records"),
            "{status}"
        );
    }
    let (code, status) = monitor_check(&board_a.base, &h.id, &dir.path().join("mc"), &[&ub]);
    assert_eq!(code, 1, "{status}");
    assert!(alarm_kinds(&status).contains(&"equivocation".to_owned()));
    // Each board's own chain verifies: only the comparison of signed heads shows the fork.
    for board in [&board_a, &board_b] {
        let served = board.board.lock().unwrap().lines.clone();
        RecordState::from_record(&record_bytes(&served)).unwrap();
    }
}
