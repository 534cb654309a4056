//! A whole election in one process: 3 trustees with threshold 2 (one absent at the tally),
//! 200 voters with re-votes and blank votes; the decrypted result equals the plaintext
//! count and the record verifies.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use scrutin_election::crypto::rng::SeededRng;
use scrutin_election::demo::{self, DemoOptions};
use scrutin_election::verify::{NoProgress, Stage, verify_record};

#[test]
fn election_with_absent_trustee_revotes_and_blanks() {
    let opts = DemoOptions {
        voters: 200,
        trustees: 3,
        threshold: 2,
        absent_trustees: vec![2],
        revote_percent: 20,
        blank_percent: 15,
        ..DemoOptions::default()
    };
    let outcome = demo::run(&opts, &mut SeededRng::new(b"end-to-end")).unwrap();
    assert!(outcome.ballots_cast > 200, "some voters re-voted");
    let verified = verify_record(outcome.record.as_bytes(), &NoProgress).unwrap();
    let state = &verified.state;
    assert_eq!(state.stage(), Stage::Tallied);
    let result = state.result.as_ref().unwrap();
    assert_eq!(result.trustees, vec![1, 3]);
    assert_eq!(result.ballots_counted, 200);
    assert_eq!(result.questions, outcome.expected);
    assert!(
        outcome.expected[0].blank.unwrap() > 0,
        "some voters voted blank"
    );
}

#[test]
fn weighted_election_counts_weights() {
    let opts = DemoOptions {
        voters: 30,
        weights: 5,
        trustees: 1,
        threshold: 1,
        ..DemoOptions::default()
    };
    let outcome = demo::run(&opts, &mut SeededRng::new(b"weights")).unwrap();
    let verified = verify_record(outcome.record.as_bytes(), &NoProgress).unwrap();
    let result = verified.state.result.as_ref().unwrap();
    assert_eq!(
        result.total_weight,
        (0..30u64).map(|i| 1 + i % 5).sum::<u64>()
    );
    assert_eq!(result.questions, outcome.expected);
}

#[test]
fn an_open_record_verifies_as_open() {
    let opts = DemoOptions {
        voters: 10,
        leave_open: true,
        ..DemoOptions::default()
    };
    let outcome = demo::run(&opts, &mut SeededRng::new(b"open")).unwrap();
    let verified = verify_record(outcome.record.as_bytes(), &NoProgress).unwrap();
    assert_eq!(verified.state.stage(), Stage::Open);
    assert!(verified.state.result.is_none());
}

#[test]
fn a_record_followed_line_by_line_reaches_the_same_state() {
    use scrutin_election::verify::{Proofs, RecordState};
    let opts = DemoOptions {
        voters: 15,
        ..DemoOptions::default()
    };
    let outcome = demo::run(&opts, &mut SeededRng::new(b"follow")).unwrap();
    let whole = verify_record(outcome.record.as_bytes(), &NoProgress)
        .unwrap()
        .state;
    let mut state = RecordState::empty();
    for line in outcome.record.lines() {
        state.push_line(line.as_bytes(), Proofs::Verify).unwrap();
    }
    assert_eq!(state.head, whole.head);
    assert_eq!(state.result, whole.result);
    assert_eq!(state.trackers, whole.trackers);
    assert_eq!(state.proofs, whole.proofs);
    // A tampered line is refused and leaves nothing half-applied for the caller to use.
    let mut state = RecordState::empty();
    let lines: Vec<&str> = outcome.record.lines().collect();
    for line in &lines[..lines.len() - 1] {
        state.push_line(line.as_bytes(), Proofs::Verify).unwrap();
    }
    let bad =
        lines[lines.len() - 1].replacen("\"ballots_counted\":15", "\"ballots_counted\":16", 1);
    assert_eq!(
        state
            .push_line(bad.as_bytes(), Proofs::Verify)
            .unwrap_err()
            .check,
        "D4"
    );
}
