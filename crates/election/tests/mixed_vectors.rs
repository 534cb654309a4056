//! The mixed-election test vectors of spec §13 (`docs/test-vectors/mixed.jsonl` and
//! `mixed.json`, §11.12–§11.14): the record verifies, and the intermediate values are
//! those the verifier and the library compute from it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::Value;

use scrutin_election::Hash32;
use scrutin_election::crypto::shuffle::ShuffleStatement;
use scrutin_election::mix::{self, CountResult};
use scrutin_election::record::Event;
use scrutin_election::verify::{NoProgress, verify_record};

fn read(name: &str) -> String {
    let path = format!(
        "{}/../../docs/test-vectors/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn the_mixed_record_verifies_and_its_values_are_recomputed() {
    let record = read("mixed.jsonl");
    let values: Value = serde_json::from_str(&read("mixed.json")).unwrap();
    let state = verify_record(record.as_bytes(), &NoProgress).unwrap().state;
    assert_eq!(state.events, 19);
    let head = Hash32::of(record.lines().last().unwrap().as_bytes());
    assert_eq!(values["head"], head.to_hex().as_str());
    assert_eq!(
        values["fingerprint"],
        state.fingerprint.unwrap().to_hex().as_str()
    );
    let result = state.result.as_ref().unwrap();
    let mixed = &result.mixed.as_ref().unwrap()[0];
    assert_eq!(
        values["ballots"],
        serde_json::to_value(&mixed.ballots).unwrap()
    );
    assert_eq!(values["count"], serde_json::to_value(&mixed.count).unwrap());
    assert!(matches!(mixed.count, CountResult::Schulze(_)));

    // Each shuffle's transcript and challenges, its inputs being the previous outputs.
    let key = state.joint_key.as_ref().unwrap().public_key;
    let fp = state.fingerprint.unwrap();
    let mut rows: Vec<Vec<_>> = serde_json::from_str(&values["rows_at_close"].to_string()).unwrap();
    let published = values["shuffles"].as_array().unwrap();
    let events: Vec<Event> = record
        .lines()
        .map(|l| {
            scrutin_election::record::parse_line(l.as_bytes())
                .unwrap()
                .event
        })
        .collect();
    let shuffles: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            Event::Shuffle(s) => Some(&s.body),
            _ => None,
        })
        .collect();
    assert_eq!(shuffles.len(), published.len());
    for (s, v) in shuffles.iter().zip(published) {
        let t = mix::shuffle_transcript(&fp, s.trustee, 1);
        assert_eq!(v["caller_transcript_hex"], hex::encode(t.bytes()).as_str());
        let part = &s.questions[0];
        let statement = ShuffleStatement {
            key: &key,
            inputs: &rows,
            outputs: &part.outputs,
        };
        part.proof.verify(t.clone(), &statement).unwrap();
        let (u, c) = part.proof.challenge_values(t, &statement).unwrap();
        let hex = |s: &scrutin_election::crypto::Scalar| hex::encode(s.as_bytes());
        assert_eq!(v["challenge"], hex(&c).as_str());
        let u: Vec<String> = u.iter().map(hex).collect();
        assert_eq!(v["u"], serde_json::to_value(u).unwrap());
        rows = part.outputs.clone();
    }
    assert_eq!(rows, state.mix_rows[0]);
}

/// §11.15: `mixed-parts.jsonl` is the election of `mixed.jsonl` from its `close` on, every
/// shuffle and share written in parts of one row. It verifies; joined, its shuffles have as
/// many rows as the one-line ones, and its count is the same.
#[test]
fn the_record_in_parts_verifies_and_counts_the_same() {
    let one_line = verify_record(read("mixed.jsonl").as_bytes(), &NoProgress)
        .unwrap()
        .state;
    let record = read("mixed-parts.jsonl");
    let state = verify_record(record.as_bytes(), &NoProgress).unwrap().state;
    let kinds: Vec<String> = record
        .lines()
        .map(|l| {
            scrutin_election::record::parse_line(l.as_bytes())
                .unwrap()
                .event
                .kind()
                .to_owned()
        })
        .collect();
    let count = |k: &str| kinds.iter().filter(|x| *x == k).count();
    assert_eq!(count("shuffle_rows"), 6);
    assert_eq!(count("decryption_rows"), 6);
    assert_eq!(count("shuffle"), 2);
    assert!(state.pending_parts.is_none());
    for (a, b) in state.shuffles.iter().zip(&one_line.shuffles) {
        assert_eq!(a.questions[0].outputs.len(), b.questions[0].outputs.len());
        assert_eq!(
            a.questions[0].proof.s_prime.len(),
            b.questions[0].proof.s_prime.len()
        );
    }
    let mixed = |s: &scrutin_election::verify::RecordState| {
        s.result.as_ref().unwrap().mixed.as_ref().unwrap()[0]
            .count
            .clone()
    };
    assert_eq!(mixed(&state), mixed(&one_line));
    // A record cut in the middle of a shuffle's parts is an election in progress, waiting
    // for the rest of that shuffle.
    let cut: String = record
        .lines()
        .take(kinds.iter().position(|k| k == "shuffle").unwrap())
        .map(|l| format!("{l}\n"))
        .collect();
    let waiting = verify_record(cut.as_bytes(), &NoProgress).unwrap().state;
    assert!(waiting.pending_parts.is_some());
}
