//! Hostile and malformed input: random bytes, random JSON, truncated lines and random
//! mutations of a valid record never make the verifier or the parsers panic, and each is
//! refused with a numbered check (the verifier) or an error message (the parsers). Sizes
//! an attacker controls (counts, indices, nesting, line length, proof branches, selection
//! limits) are refused before anything large is allocated or computed.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::OnceLock;

use proptest::prelude::*;
use scrutin_election::Hash32;
use scrutin_election::ballot::{self, Ballot};
use scrutin_election::credential::Credential;
use scrutin_election::credential::CredentialList;
use scrutin_election::crypto::dkg::{DealerShares, TrusteeCheck, TrusteeCommitment};
use scrutin_election::crypto::rng::SeededRng;
use scrutin_election::crypto::schnorr::SchnorrProof;
use scrutin_election::crypto::transcript::Transcript;
use scrutin_election::definition::{ElectionDefinition, ElectionDescription};
use scrutin_election::demo::{self, DemoOptions};
use scrutin_election::record::{self, MAX_LINE};
use scrutin_election::roles::{Receipt, RoleKey, Signed, SignedHead};
use scrutin_election::tally::{DecryptionShare, ElectionResult};
use scrutin_election::verify::{CHECKS, NoProgress, RecordState, VerifyError, verify_record};
use serde_json::Value;

// ---------------------------------------------------------------------------------------
// Fixture and helpers
// ---------------------------------------------------------------------------------------

struct Fixture {
    record: String,
    credentials: Vec<String>,
    election_id: String,
    /// The trustees' role keys, in order.
    trustees: Vec<RoleKey>,
}

/// A small tallied election: 6 voters, 3 trustees, threshold 2.
fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let opts = DemoOptions {
            voters: 6,
            trustees: 3,
            threshold: 2,
            revote_percent: 20,
            ..DemoOptions::default()
        };
        let outcome = demo::run(&opts, &mut SeededRng::new(b"malformed")).unwrap();
        let state = verify_ok(outcome.record.as_bytes());
        Fixture {
            record: outcome.record,
            credentials: outcome
                .credentials
                .into_iter()
                .map(|c| c.credential)
                .collect(),
            election_id: state.definition.unwrap().id,
            trustees: outcome.trustees.into_iter().map(|t| t.role_key).collect(),
        }
    })
}

/// The fixture's state (its voting context, for ballot checks).
fn state() -> &'static RecordState {
    static S: OnceLock<RecordState> = OnceLock::new();
    S.get_or_init(|| verify_ok(fixture().record.as_bytes()))
}

fn verify_ok(record: &[u8]) -> RecordState {
    match verify_record(record, &NoProgress) {
        Ok(v) => v.state,
        Err(e) => panic!("should verify: {e}"),
    }
}

fn verify_err(record: &[u8]) -> VerifyError {
    match verify_record(record, &NoProgress) {
        Ok(_) => panic!("hostile record verified"),
        Err(e) => e,
    }
}

/// An error names a check of §12 and says something.
fn assert_clear(e: &VerifyError) {
    assert!(
        CHECKS.iter().any(|(c, _)| *c == e.check),
        "unknown check {}",
        e.check
    );
    assert!(!e.message.is_empty());
    assert!(e.to_string().contains(e.check));
}

fn lines(record: &str) -> Vec<String> {
    record.split_terminator('\n').map(String::from).collect()
}

fn join(lines: &[String]) -> String {
    let mut s = String::new();
    for l in lines {
        s.push_str(l);
        s.push('\n');
    }
    s
}

/// The type and body of a canonical line (by position, without parsing a huge body).
fn kind_body(line: &str) -> (String, String) {
    let at = line.find("\",\"type\":\"").unwrap() + 10;
    let rest = &line[at..];
    let quote = rest.find('"').unwrap();
    let body = rest[quote..].strip_prefix("\",\"body\":").unwrap();
    (
        rest[..quote].to_string(),
        body[..body.len() - 1].to_string(),
    )
}

fn make_line(seq: u64, prev: &str, kind: &str, body: &str) -> String {
    format!(r#"{{"seq":{seq},"prev":"{prev}","type":"{kind}","body":{body}}}"#)
}

/// Rewrites every seq and prev, keeping types and bodies byte for byte.
fn rechain(lines: &mut [String]) {
    let mut prev = "0".repeat(64);
    for (i, l) in lines.iter_mut().enumerate() {
        let (kind, body) = kind_body(l);
        let new = make_line(i as u64, &prev, &kind, &body);
        prev = Hash32::of(new.as_bytes()).to_hex();
        *l = new;
    }
}

fn first(lines: &[String], kind: &str) -> usize {
    lines.iter().position(|l| kind_body(l).0 == kind).unwrap()
}

/// The fixture with the body of line `i` replaced and the record re-chained.
fn with_body(i: usize, body: &str) -> Vec<String> {
    let mut l = lines(&fixture().record);
    let (kind, _) = kind_body(&l[i]);
    l[i] = make_line(i as u64, &"0".repeat(64), &kind, body);
    rechain(&mut l);
    l
}

#[track_caller]
fn expect(lines: &[String], check: &str, seq: usize) {
    let e = verify_err(join(lines).as_bytes());
    assert_clear(&e);
    assert_eq!((e.check, e.seq), (check, Some(seq as u64)), "{e}");
}

const TOML_BASE: &str = r#"
title = "Board election"
threshold = 2

[[question]]
text = "Who?"
answers = ["A", "B", "C"]
min = 1
max = 1
blank = true

[[question]]
text = "Approve"
answers = ["x", "y"]
min = 0
max = 2
"#;

/// A valid description: the questions above, three trustees and the credential authority
/// named with their keys.
fn toml() -> &'static str {
    static T: OnceLock<String> = OnceLock::new();
    T.get_or_init(|| {
        let (trustees, authority) = demo::role_keys(&["Alice", "Bob", "Carol"], b"malformed toml");
        let text = format!("{TOML_BASE}{}", demo::roles_toml(&trustees, &authority));
        ElectionDescription::from_toml(&text)
            .and_then(|d| d.into_definition(&mut SeededRng::new(b"id")))
            .unwrap();
        text
    })
}

const TYPES: &[&str] = &[
    "election",
    "trustee_commitment",
    "dealer_shares",
    "trustee_check",
    "election_key",
    "credentials",
    "open",
    "ballot",
    "close",
    "decryption_share",
    "result",
];

/// Random JSON values whose keys include field names of the record's events, so that
/// the parsers get past the first key now and then.
fn json() -> impl Strategy<Value = Value> {
    let hex64 = "[0-9a-f]{64}".prop_map(Value::String);
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<u64>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        prop_oneof![
            Just(0u64),
            Just(1),
            Just(2),
            Just(3),
            Just(u64::MAX),
            Just(u32::MAX as u64)
        ]
        .prop_map(Value::from),
        "\\PC{0,12}".prop_map(Value::String),
        hex64.clone(),
        hex64,
    ];
    let key = prop_oneof![
        Just("election"),
        Just("credential"),
        Just("answers"),
        Just("signature"),
        Just("choices"),
        Just("choice_proofs"),
        Just("bits_proof"),
        Just("f"),
        Just("masks"),
        Just("blank"),
        Just("commitment"),
        Just("response"),
        Just("alpha"),
        Just("beta"),
        Just("a"),
        Just("b"),
        Just("c"),
        Just("r"),
        Just("trustee"),
        Just("index"),
        Just("dealer"),
        Just("complaints"),
        Just("coefficients_hash"),
        Just("coefficient_commitments"),
        Just("close_hash"),
        Just("decryptors"),
        Just("key"),
        Just("name"),
        Just("authority"),
        Just("factors"),
        Just("factor"),
        Just("trustees"),
        Just("questions"),
        Just("ballots_counted"),
        Just("total_weight"),
        Just("tally"),
        Just("credentials"),
        Just("seq"),
        Just("prev"),
        Just("type"),
        Just("body"),
        Just("x"),
    ]
    .prop_map(String::from);
    leaf.prop_recursive(5, 64, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((key.clone(), inner), 0..6)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

/// Every parser on one piece of text; none may panic.
fn parse_everything(text: &str) {
    let _ = record::parse_line(text.as_bytes());
    let _ = serde_json::from_str::<Ballot>(text);
    let _ = serde_json::from_str::<ElectionDefinition>(text);
    let _ = serde_json::from_str::<DecryptionShare>(text);
    let _ = Signed::<DecryptionShare>::from_json(text);
    let _ = Signed::<TrusteeCommitment>::from_json(text);
    let _ = Signed::<DealerShares>::from_json(text);
    let _ = Signed::<TrusteeCheck>::from_json(text);
    let _ = Signed::<CredentialList>::from_json(text);
    let _ = RoleKey::from_json(text);
    let _ = serde_json::from_str::<SignedHead>(text);
    let _ = serde_json::from_str::<Receipt>(text);
    let _ = serde_json::from_str::<ElectionResult>(text);
    let _ =
        ElectionDescription::from_toml(text).map(|d| d.into_definition(&mut SeededRng::new(b"id")));
    let _ = Credential::parse(text);
    let mut record = text.as_bytes().to_vec();
    record.push(b'\n');
    if let Err(e) = verify_record(&record, &NoProgress) {
        assert_clear(&e);
    }
}

// ---------------------------------------------------------------------------------------
// Property tests
// ---------------------------------------------------------------------------------------

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_are_refused(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        let e = verify_err(&bytes);
        assert_clear(&e);
        prop_assert!(record::parse_line(&bytes).is_err());
        prop_assert!(serde_json::from_slice::<Ballot>(&bytes).is_err());
        if let Ok(text) = std::str::from_utf8(&bytes) {
            parse_everything(text);
        }
    }

    #[test]
    fn random_text_is_refused(text in "[\\[\\]{}\":,0-9a-f tbody_seqprv\\n-]{0,300}") {
        parse_everything(&text);
        prop_assert!(serde_json::from_str::<Ballot>(&text).is_err());
    }

    #[test]
    fn random_json_is_refused(v in json()) {
        let text = v.to_string();
        parse_everything(&text);
        prop_assert!(serde_json::from_str::<Ballot>(&text).is_err());
        prop_assert!(record::parse_line(text.as_bytes()).is_err());
    }

    /// Random JSON as the body of each event type, in a first line and in place of the
    /// event of that type in a valid record (re-chained): refused at that line.
    #[test]
    fn random_json_bodies_are_refused(v in json(), t in 0..TYPES.len()) {
        let body = v.to_string();
        let line = make_line(0, &"0".repeat(64), TYPES[t], &body);
        prop_assert!(record::parse_line(line.as_bytes()).is_err());
        let e = verify_err(format!("{line}\n").as_bytes());
        assert_clear(&e);
        prop_assert_eq!(e.seq, Some(0));
        let i = first(&lines(&fixture().record), TYPES[t]);
        let l = with_body(i, &body);
        let e = verify_err(join(&l).as_bytes());
        assert_clear(&e);
        prop_assert_eq!(e.seq, Some(i as u64), "{}", e);
    }

    /// A record cut anywhere: a prefix of whole lines verifies as far as it goes, any
    /// other cut is R1 (no newline at the end).
    #[test]
    fn truncated_records(cut in 0usize..100_000) {
        let record = fixture().record.as_bytes();
        let cut = cut % (record.len() + 1);
        let prefix = &record[..cut];
        match verify_record(prefix, &NoProgress) {
            Ok(v) => {
                prop_assert!(cut > 0 && record[cut - 1] == b'\n');
                let n = prefix.iter().filter(|b| **b == b'\n').count() as u64;
                prop_assert_eq!(v.state.events, n);
            }
            Err(e) => {
                prop_assert!(cut == 0 || record[cut - 1] != b'\n', "{}", e);
                prop_assert_eq!((e.check, e.seq), ("R1", None));
            }
        }
    }

    /// One line cut short (its newline kept): R1 at that line.
    #[test]
    fn truncated_lines(line in 0usize..1000, cut in 0usize..100_000) {
        let mut l = lines(&fixture().record);
        let i = line % l.len();
        let cut = cut % l[i].len();
        l[i].truncate(cut);
        prop_assert!(record::parse_line(l[i].as_bytes()).is_err());
        let e = verify_err(join(&l).as_bytes());
        prop_assert_eq!((e.check, e.seq), ("R1", Some(i as u64)), "{}", e);
    }

    /// Random byte changes anywhere in a valid record: never a panic; a change before the
    /// last line always breaks the record (the last line is protected by no later `prev`,
    /// so a change there may be harmless: see `last_line_is_not_chained`).
    #[test]
    fn mutated_records(edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4)) {
        let original = fixture().record.as_bytes();
        let mut record = original.to_vec();
        for (at, byte) in &edits {
            let i = at.index(record.len());
            record[i] = *byte;
        }
        let last_start = original[..original.len() - 1].iter().rposition(|b| *b == b'\n').unwrap() + 1;
        let first_change = record.iter().zip(original).position(|(a, b)| a != b);
        for line in record.split(|b| *b == b'\n') {
            let _ = record::parse_line(line);
        }
        match (verify_record(&record, &NoProgress), first_change) {
            (Ok(_), Some(at)) => prop_assert!(at >= last_start, "change at byte {} accepted", at),
            (Err(e), Some(_)) => assert_clear(&e),
            (Err(e), None) => panic!("the unchanged record fails: {e}"),
            (Ok(_), None) => {}
        }
    }

    /// Random byte changes in a ballot body: parsing never panics, and a ballot that still
    /// parses but differs is refused by the full ballot check, also without a panic.
    #[test]
    fn mutated_ballots(edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4)) {
        let l = lines(&fixture().record);
        let (_, body) = kind_body(&l[first(&l, "ballot")]);
        let original: Ballot = serde_json::from_str(&body).unwrap();
        let mut bytes = body.into_bytes();
        for (at, byte) in &edits {
            let i = at.index(bytes.len());
            bytes[i] = *byte;
        }
        if let Ok(b) = serde_json::from_slice::<Ballot>(&bytes) {
            let ctx = state().context.as_ref().unwrap();
            let r = ballot::verify(ctx, &b);
            if b == original {
                prop_assert!(r.is_ok());
            } else {
                prop_assert!(r.is_err());
            }
        }
    }

    #[test]
    fn mutated_toml_never_panics(edits in prop::collection::vec((any::<prop::sample::Index>(), any::<char>()), 1..4)) {
        let mut chars: Vec<char> = toml().chars().collect();
        for (at, c) in &edits {
            let i = at.index(chars.len());
            chars[i] = *c;
        }
        let text: String = chars.into_iter().collect();
        if let Ok(d) = ElectionDescription::from_toml(&text) {
            let _ = d.into_definition(&mut SeededRng::new(b"id"));
        }
    }

    #[test]
    fn random_toml_never_panics(text in "\\PC{0,400}") {
        if let Ok(d) = ElectionDescription::from_toml(&text) {
            let _ = d.into_definition(&mut SeededRng::new(b"id"));
        }
    }

    #[test]
    fn random_credentials_never_panic(text in "\\PC{0,300}") {
        let _ = Credential::parse(&text);
    }

    /// Credentials are read as typed: any case, dashes and spaces anywhere.
    #[test]
    fn issued_credentials_parse_as_typed(n in 0usize..6, lower in any::<bool>(), sep in "[- ]{0,3}") {
        let shown = &fixture().credentials[n];
        let c = Credential::parse(shown).unwrap();
        let mut typed: String = shown.chars().filter(|c| *c != '-').flat_map(|c| [c].into_iter().chain(sep.chars())).collect();
        if lower {
            typed = typed.to_lowercase();
        }
        prop_assert_eq!(Credential::parse(&typed).unwrap(), c);
    }
}

// ---------------------------------------------------------------------------------------
// Explicit cases
// ---------------------------------------------------------------------------------------

/// The last line has no successor whose `prev` would fix it: a change that keeps it valid
/// (here the same result from another pair of trustees) verifies. Publishing the head
/// hash (`state.head`) is what protects the end of the record.
#[test]
fn last_line_is_not_chained() {
    let fx = fixture();
    let mut l = lines(&fx.record);
    let r = l.len() - 1;
    let (_, body) = kind_body(&l[r]);
    let mut result: ElectionResult = serde_json::from_str(&body).unwrap();
    assert_eq!(result.trustees, vec![1, 2]);
    result.trustees = vec![3, 1];
    l[r] = make_line(
        r as u64,
        &"0".repeat(64),
        "result",
        &serde_json::to_string(&result).unwrap(),
    );
    rechain(&mut l);
    let forged = verify_ok(join(&l).as_bytes());
    assert_ne!(forged.head, state().head, "the head hash tells");
}

#[test]
fn huge_counts_are_refused() {
    let fx = fixture();
    let l = lines(&fx.record);
    let r = first(&l, "result");
    let (_, body) = kind_body(&l[r]);
    let result: ElectionResult = serde_json::from_str(&body).unwrap();
    let mut x = result.clone();
    x.questions[0].choices[0] = u64::MAX;
    expect(&with_body(r, &serde_json::to_string(&x).unwrap()), "D3", r);
    let mut x = result.clone();
    x.ballots_counted = u64::MAX;
    expect(&with_body(r, &serde_json::to_string(&x).unwrap()), "D4", r);
    let mut x = result.clone();
    x.total_weight = u64::MAX;
    expect(&with_body(r, &serde_json::to_string(&x).unwrap()), "D4", r);
    // Beyond u64: the body does not parse.
    let text = serde_json::to_string(&result).unwrap().replacen(
        "\"ballots_counted\":6",
        "\"ballots_counted\":18446744073709551616",
        1,
    );
    assert_ne!(text, serde_json::to_string(&result).unwrap());
    expect(&with_body(r, &text), "R5", r);
    let text = serde_json::to_string(&result).unwrap().replacen(
        "\"ballots_counted\":6",
        "\"ballots_counted\":-1",
        1,
    );
    expect(&with_body(r, &text), "R5", r);
    let text = serde_json::to_string(&result).unwrap().replacen(
        "\"ballots_counted\":6",
        "\"ballots_counted\":6.0",
        1,
    );
    expect(&with_body(r, &text), "R5", r);
    // close with u64::MAX ballots.
    let c = first(&l, "close");
    let (_, body) = kind_body(&l[c]);
    let mut v: Value = serde_json::from_str(&body).unwrap();
    v["ballots_counted"] = Value::from(u64::MAX);
    expect(&with_body(c, &v.to_string()), "T1", c);
    // seq u64::MAX and beyond.
    let mut m = l.clone();
    m[3] = m[3].replacen("\"seq\":3", &format!("\"seq\":{}", u64::MAX), 1);
    expect(&m, "R2", 3);
    let mut m = l.clone();
    m[3] = m[3].replacen("\"seq\":3", "\"seq\":18446744073709551616", 1);
    expect(&m, "R1", 3);
}

/// Trustee indices 0 and 2³²−1 (and 2³², which is no u32) in every event that names one.
#[test]
fn huge_trustee_indices_are_refused() {
    let fx = fixture();
    let l = lines(&fx.record);
    let cases: &[(&str, &str, &str)] = &[
        ("trustee_commitment", "/index", "K1"),
        ("dealer_shares", "/dealer", "K2"),
        ("dealer_shares", "/shares/0/recipient", "K2"),
        ("trustee_check", "/index", "K3"),
        ("decryption_share", "/trustee", "D1"),
        ("result", "/trustees/0", "D2"),
    ];
    for (kind, pointer, check) in cases {
        let i = first(&l, kind);
        for index in [0u64, u32::MAX as u64] {
            let (_, body) = kind_body(&l[i]);
            let mut v: Value = serde_json::from_str(&body).unwrap();
            *v.pointer_mut(pointer).unwrap() = Value::from(index);
            expect(&with_body(i, &v.to_string()), check, i);
        }
        let (_, body) = kind_body(&l[i]);
        let mut v: Value = serde_json::from_str(&body).unwrap();
        *v.pointer_mut(pointer).unwrap() = Value::from(u32::MAX as u64 + 1);
        expect(&with_body(i, &v.to_string()), "R5", i);
    }
    // A complaint naming dealer 0 or 2³²−1 (the fixture has none: add one, copied shape),
    // signed by the trustee.
    let i = first(&l, "trustee_check");
    let context = Hash32::of(l[0].as_bytes());
    for dealer in [0u64, u32::MAX as u64] {
        let g = "e2f2ae0a6abc4e71a884a961c500515f58e30b6aa582dd8db6a65945e08d2d76";
        let zero = "0".repeat(64);
        let unsigned = format!(
            r#"{{"index":1,"complaints":[{{"dealer":{dealer},"shared_key":"{g}","proof":{{"commitment_g":"{g}","commitment_b":"{g}","response":"{zero}"}}}}]}}"#
        );
        let check: TrusteeCheck = serde_json::from_str(&unsigned).unwrap();
        let body = Signed::sign(
            check,
            "trustee_check",
            &context,
            &fx.trustees[0],
            &mut SeededRng::new(b"complaint"),
        )
        .unwrap()
        .to_json()
        .unwrap();
        expect(&with_body(i, &body), "K3", i);
    }
}

/// A thousand levels of nesting and a million: serde_json's recursion limit (128) and its
/// iterative skipping of raw values keep the stack safe; everything is an error.
#[test]
fn deeply_nested_json_is_refused() {
    for depth in [200usize, 100_000, 1_000_000] {
        let nested = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        let err = serde_json::from_str::<Value>(&nested).unwrap_err();
        assert!(err.to_string().contains("recursion limit"), "{err}");
        let objects = format!("{}1{}", "{\"a\":".repeat(depth), "}".repeat(depth));
        assert!(serde_json::from_str::<Value>(&objects).is_err());
        for text in [&nested, &objects] {
            assert!(serde_json::from_str::<Ballot>(text).is_err());
            assert!(record::parse_line(text.as_bytes()).is_err());
            let e = verify_err(format!("{text}\n").as_bytes());
            assert_eq!((e.check, e.seq), ("R1", Some(0)), "{e}");
        }
        // As the body of each event type (the envelope skips it as a raw value).
        for kind in TYPES.iter().chain(&["unknown"]) {
            let line = make_line(0, &"0".repeat(64), kind, &nested);
            assert!(record::parse_line(line.as_bytes()).is_err());
            let e = verify_err(format!("{line}\n").as_bytes());
            assert_eq!((e.check, e.seq), ("R5", Some(0)), "{kind}: {e}");
        }
        // Inside a ballot, where a list is expected.
        let b = format!(
            r#"{{"election":"{}","credential":"{}","answers":{nested}}}"#,
            "0".repeat(64),
            "0".repeat(64)
        );
        assert!(serde_json::from_str::<Ballot>(&b).is_err());
        // Nested in an unknown envelope field.
        let line = format!(
            r#"{{"seq":0,"prev":"{}","extra":{nested},"type":"open","body":{{}}}}"#,
            "0".repeat(64)
        );
        let e = verify_err(format!("{line}\n").as_bytes());
        assert_eq!((e.check, e.seq), ("R1", Some(0)), "{e}");
    }
}

/// A 20 MB line is refused by its length (R1) before it is parsed.
#[test]
fn line_longer_than_max_line_is_r1() {
    let fx = fixture();
    let mut l = lines(&fx.record);
    let n = l.len() - 1;
    l.truncate(n); // drop the result, a ballot-sized line takes its place
    let big = make_line(
        n as u64,
        &Hash32::of(l[n - 1].as_bytes()).to_hex(),
        "result",
        &format!("\"{}\"", "x".repeat(20 << 20)),
    );
    assert!(big.len() > MAX_LINE);
    assert!(record::parse_line(big.as_bytes()).is_err());
    l.push(big);
    let e = verify_err(join(&l).as_bytes());
    assert_eq!((e.check, e.seq), ("R1", Some(n as u64)), "{e}");
    assert!(e.message.contains("longer"), "{e}");
    // A whole record of one 20 MB line without newlines at all: R1.
    let e = verify_err(&vec![b'{'; 20 << 20]);
    assert_eq!(e.check, "R1");
}

/// A selection limit of 2³¹−1 (which once made a range proof allocate 51 GB elsewhere) is
/// refused by validation, quickly, in the TOML description and in the record.
#[test]
fn huge_max_per_answer_is_refused_before_allocating() {
    let start = std::time::Instant::now();
    let mut rng = SeededRng::new(b"id");
    let toml = toml();
    for bad in [
        toml.replace("blank = true", "blank = true\nmax_per_answer = 2147483647"),
        toml.replace(
            "max = 2\n",
            "max = 2\nmax_per_answer = 18446744073709551615\n",
        ),
        toml.replace("max = 1\n", "max = 2147483647\n"),
        toml.replace("min = 1\n", "min = 18446744073709551615\n"),
    ] {
        assert_ne!(bad, toml);
        let r = ElectionDescription::from_toml(&bad).and_then(|d| d.into_definition(&mut rng));
        let e = r.err().unwrap_or_else(|| panic!("accepted: {bad}"));
        assert!(!e.to_string().is_empty());
    }
    // u64 overflow in TOML is a parse error.
    assert!(
        ElectionDescription::from_toml(&toml.replace("min = 0", "min = 18446744073709551616"))
            .is_err()
    );
    // In the election event of a record: E1 at line 0.
    let l = lines(&fixture().record);
    let (_, body) = kind_body(&l[0]);
    for (field, value) in [
        ("max_per_answer", (1u64 << 31) - 1),
        ("max_per_answer", u64::MAX),
        ("max", u64::MAX),
        ("min", u64::MAX),
    ] {
        let mut v: Value = serde_json::from_str(&body).unwrap();
        v["questions"][1][field] = Value::from(value);
        expect(&with_body(0, &v.to_string()), "E1", 0);
    }
    let mut v: Value = serde_json::from_str(&body).unwrap();
    v["threshold"] = Value::from(u32::MAX);
    expect(&with_body(0, &v.to_string()), "E1", 0);
    let mut v: Value = serde_json::from_str(&body).unwrap();
    let holder = v["trustees"][0].clone();
    v["trustees"] = Value::from(vec![holder; 1000]);
    v["threshold"] = Value::from(2);
    expect(&with_body(0, &v.to_string()), "E1", 0);
    assert!(
        start.elapsed().as_secs() < 5,
        "validation took {:?}",
        start.elapsed()
    );
}

/// A sum proof with 10⁶ branches makes a line of ~280 MB: refused by its length (R1). One
/// with 40,000 branches fits in a line, parses, and is refused by the branch count (B6)
/// before any group operation; its re-signed ballot is not otherwise wrong.
#[test]
fn proofs_with_too_many_branches_are_refused() {
    let fx = fixture();
    let st = state();
    let l = lines(&fx.record);
    let s = first(&l, "ballot");
    let (_, body) = kind_body(&l[s]);
    let original: Ballot = serde_json::from_str(&body).unwrap();
    let key = fx
        .credentials
        .iter()
        .map(|c| Credential::parse(c).unwrap().signing_key(&fx.election_id))
        .find(|k| k.public() == original.credential)
        .unwrap();
    let branch = original.answers[0].sum_proof.as_ref().unwrap().branches[0];
    let branch_json = serde_json::to_string(&branch).unwrap();

    for (count, check) in [(1_000_000usize, "R1"), (40_000, "B6")] {
        let mut b = original.clone();
        b.answers[0].sum_proof.as_mut().unwrap().branches = vec![branch; 1];
        if check == "B6" {
            b.answers[0].sum_proof.as_mut().unwrap().branches = vec![branch; count];
            let mut t = Transcript::new("ballot-signature");
            t.append("election", &b.election.0)
                .append("content", &b.content_digest());
            b.signature =
                SchnorrProof::prove(t, &b.credential, key.expose(), &mut SeededRng::new(b"sig"));
            let r = ballot::verify(st.context.as_ref().unwrap(), &b).unwrap_err();
            assert_eq!(r.check.code(), "B6", "{}", r.reason);
        }
        let mut text = serde_json::to_string(&b).unwrap();
        if check == "R1" {
            let many = vec![branch_json.as_str(); count].join(",");
            text = text.replacen(&format!("[{branch_json}]"), &format!("[{many}]"), 1);
            assert!(text.len() > MAX_LINE);
        }
        let mut m = l.clone();
        m[s] = make_line(s as u64, &"0".repeat(64), "ballot", &text);
        drop(text);
        rechain(&mut m);
        expect(&m, check, s);
    }
}

/// Points and scalars that are not canonical, and hashes of the wrong length: R5.
#[test]
fn non_canonical_encodings_are_r5() {
    let fx = fixture();
    let l = lines(&fx.record);
    let s = first(&l, "ballot");
    let (_, body) = kind_body(&l[s]);
    let v: Value = serde_json::from_str(&body).unwrap();
    let l_order = "edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010";
    let cases: Vec<(&str, Value)> = vec![
        ("/credential", Value::from("ff".repeat(32))),
        ("/credential", Value::from("00")),
        ("/credential", Value::from("zz".repeat(32))),
        ("/credential", Value::from(1)),
        ("/signature/response", Value::from(l_order)),
        ("/signature/response", Value::from("f".repeat(64))),
        ("/election", Value::from("0".repeat(63))),
        ("/election", Value::from("é".repeat(32))),
        ("/answers/0/choices/0/alpha", Value::Null),
        ("/answers/0/sum_proof/0/c", Value::from(l_order)),
        ("/answers/0/bits_proof/f/0", Value::from(l_order)),
        ("/answers/0/bits_proof/masks", Value::from("ff".repeat(32))),
    ];
    for (pointer, value) in cases {
        let mut v = v.clone();
        *v.pointer_mut(pointer)
            .unwrap_or_else(|| panic!("{pointer}")) = value;
        expect(&with_body(s, &v.to_string()), "R5", s);
    }
    // The neutral element as credential is well encoded but refused (B3).
    let mut v = v.clone();
    v["credential"] = Value::from("0".repeat(64));
    expect(&with_body(s, &v.to_string()), "B3", s);
}

/// A hexadecimal string with a digit written as a JSON escape (`\u0030` for `0`) is refused
/// (spec §2.1), in a ballot body (a point, a scalar, the fingerprint: R5) and in `prev`
/// (R1), with a message that says why; so is a ballot read on its own (an audit file).
#[test]
fn escaped_hex_digits_are_refused() {
    let fx = fixture();
    let l = lines(&fx.record);
    let s = first(&l, "ballot");
    let (_, body) = kind_body(&l[s]);
    let v: Value = serde_json::from_str(&body).unwrap();
    // Escapes the first digit of the string at `pointer` in the compact body.
    let escape_at = |pointer: &str| -> String {
        let text = v.pointer(pointer).unwrap().as_str().unwrap();
        let digit = text.chars().next().unwrap();
        let escaped = format!("\\u{:04x}{}", digit as u32, &text[1..]);
        assert_eq!(body.matches(text).count(), 1, "{pointer}");
        body.replacen(text, &escaped, 1)
    };
    for pointer in [
        "/election",
        "/credential",
        "/signature/response",
        "/answers/0/choices/0/alpha",
    ] {
        let escaped = escape_at(pointer);
        let e = verify_err(join(&with_body(s, &escaped)).as_bytes());
        assert_eq!((e.check, e.seq), ("R5", Some(s as u64)), "{e}");
        assert!(e.message.contains("without JSON escape sequences"), "{e}");
        let err = serde_json::from_str::<Ballot>(&escaped).unwrap_err();
        assert!(
            err.to_string().contains("without JSON escape sequences"),
            "{err}"
        );
    }
    let mut m = l.clone();
    let at = m[s].find("\"prev\":\"").unwrap() + 8;
    let digit = m[s][at..].chars().next().unwrap();
    m[s] = format!("{}\\u{:04x}{}", &m[s][..at], digit as u32, &m[s][at + 1..]);
    let e = verify_err(join(&m).as_bytes());
    assert_eq!((e.check, e.seq), ("R1", Some(s as u64)), "{e}");
    assert!(e.message.contains("without JSON escape sequences"), "{e}");
    // The unescaped body is still accepted (the same body, decoded the same way).
    assert!(serde_json::from_str::<Ballot>(&body).is_ok());
}

/// Lines that are not UTF-8, empty lines, blank record, CRLF, a newline alone.
#[test]
fn odd_lines_are_r1() {
    let fx = fixture();
    let mut bytes = fx.record.as_bytes().to_vec();
    let at = bytes.iter().position(|b| *b == b'\n').unwrap() + 5;
    bytes[at] = 0xff;
    let e = verify_err(&bytes);
    assert_eq!((e.check, e.seq), ("R1", Some(1)), "{e}");
    for record in [
        &b"\n"[..],
        b"\n\n",
        b" \n",
        b"null\n",
        b"{}\n",
        b"[]\n",
        b"\"x\"\n",
        b"\xef\xbb\xbf{}\n",
    ] {
        let e = verify_err(record);
        assert_eq!((e.check, e.seq), ("R1", Some(0)), "{e}");
    }
    // An empty line in the middle of a record.
    let mut l = lines(&fx.record);
    l.insert(2, String::new());
    let e = verify_err(join(&l).as_bytes());
    assert_eq!((e.check, e.seq), ("R1", Some(2)), "{e}");
}
