//! Tampered records: every forgery of a small election record is rejected by the universal
//! verifier with the number of the check of §12 that catches it and, where one event is
//! at fault, its sequence number.
//!
//! Records are edited as JSON Lines text. An edit that is not re-chained breaks the hash
//! chain (R2/R3); the interesting forgeries are **re-chained**: every `prev` after the
//! edit is recomputed (see [`rechain`]), as a dishonest board could do before publishing,
//! and the forgery must then be caught by the cryptographic or the accounting checks.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::OnceLock;

use scrutin_election::Hash32;
use scrutin_election::ballot::{self, Ballot};
use scrutin_election::ceremony;
use scrutin_election::credential::{self, Credential, CredentialList, IssuedCredential};
use scrutin_election::crypto::bits::BitsProof;
use scrutin_election::crypto::chaum_pedersen::{DleqProof, DleqStatement};
use scrutin_election::crypto::dkg::{
    Complaint, DealerShares, JointKey, TrusteeCheck, TrusteeCommitment, TrusteeSecrets,
};
use scrutin_election::crypto::elgamal::SecretScalar;
use scrutin_election::crypto::rng::SeededRng;
use scrutin_election::crypto::schnorr::SchnorrProof;
use scrutin_election::crypto::transcript::Transcript;
use scrutin_election::crypto::{Point, RistrettoPoint, Scalar};
use scrutin_election::definition::{ElectionDefinition, QuestionChoice};
use scrutin_election::demo::{self, DemoOptions};
use scrutin_election::record::{Close, Event, Open};
use scrutin_election::tally::{DecryptionShare, ElectionResult, PerQuestion};
use scrutin_election::verify::{NoProgress, RecordState, Stage, VerifyError, verify_record};

// ---------------------------------------------------------------------------------------
// Fixtures and helpers
// ---------------------------------------------------------------------------------------

struct Fixture {
    record: String,
    credentials: Vec<IssuedCredential>,
    election_id: String,
}

fn options(leave_open: bool) -> DemoOptions {
    DemoOptions {
        voters: 12,
        trustees: 3,
        threshold: 2,
        revote_percent: 25,
        blank_percent: 20,
        leave_open,
        ..DemoOptions::default()
    }
}

fn fixture(leave_open: bool, seed: &[u8]) -> Fixture {
    let outcome = demo::run(&options(leave_open), &mut SeededRng::new(seed)).unwrap();
    let state = verify_ok(&outcome.record);
    let election_id = state.definition.as_ref().unwrap().id.clone();
    Fixture {
        record: outcome.record,
        credentials: outcome.credentials,
        election_id,
    }
}

/// A tallied election: 12 voters, some re-votes and blank votes, 3 trustees, threshold 2.
fn closed() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| fixture(false, b"tamper-closed"))
}

/// The same kind of election left open after the ballots.
fn open() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| fixture(true, b"tamper-open"))
}

fn verify_ok(record: &str) -> RecordState {
    match verify_record(record.as_bytes(), &NoProgress) {
        Ok(v) => v.state,
        Err(e) => panic!("the record should verify: {e}"),
    }
}

fn verify_lines(lines: &[String]) -> Result<RecordState, VerifyError> {
    verify_record(join(lines).as_bytes(), &NoProgress).map(|v| v.state)
}

/// Verifies and asserts the exact check and event that fail.
#[track_caller]
fn expect_err(lines: &[String], check: &str, seq: Option<usize>) -> VerifyError {
    match verify_lines(lines) {
        Ok(_) => panic!("the forged record verified; expected {check} at {seq:?}"),
        Err(e) => {
            assert_eq!(
                (e.check, e.seq),
                (check, seq.map(|s| s as u64)),
                "unexpected failure: {e}"
            );
            e
        }
    }
}

fn lines(record: &str) -> Vec<String> {
    record.split_terminator('\n').map(String::from).collect()
}

fn join(lines: &[String]) -> String {
    let mut s = String::with_capacity(lines.iter().map(|l| l.len() + 1).sum());
    for l in lines {
        s.push_str(l);
        s.push('\n');
    }
    s
}

/// The four fields of a line written in the canonical form of §11.1.
struct Env<'a> {
    seq: u64,
    prev: &'a str,
    kind: &'a str,
    body: &'a str,
}

fn envelope(line: &str) -> Env<'_> {
    let rest = line
        .strip_prefix("{\"seq\":")
        .expect("line starts with seq");
    let comma = rest.find(',').unwrap();
    let seq = rest[..comma].parse().unwrap();
    let rest = rest[comma..]
        .strip_prefix(",\"prev\":\"")
        .expect("prev follows seq");
    let prev = &rest[..64];
    let rest = rest[64..]
        .strip_prefix("\",\"type\":\"")
        .expect("type follows prev");
    let quote = rest.find('"').unwrap();
    let kind = &rest[..quote];
    let rest = rest[quote..]
        .strip_prefix("\",\"body\":")
        .expect("body follows type");
    let body = rest.strip_suffix('}').expect("line ends with }");
    Env {
        seq,
        prev,
        kind,
        body,
    }
}

fn make_line(seq: u64, prev: &str, kind: &str, body: &str) -> String {
    format!(r#"{{"seq":{seq},"prev":"{prev}","type":"{kind}","body":{body}}}"#)
}

/// Rewrites every line's `seq` (its position) and `prev` (SHA-256 of the previous line),
/// keeping each type and body byte for byte: the forger's re-chaining.
fn rechain(lines: &mut [String]) {
    let mut prev = "0".repeat(64);
    for (i, l) in lines.iter_mut().enumerate() {
        let e = envelope(l);
        let new = make_line(i as u64, &prev, e.kind, e.body);
        prev = Hash32::of(new.as_bytes()).to_hex();
        *l = new;
    }
}

fn kind(line: &str) -> &str {
    envelope(line).kind
}

fn indices(lines: &[String], k: &str) -> Vec<usize> {
    lines
        .iter()
        .enumerate()
        .filter(|(_, l)| kind(l) == k)
        .map(|(i, _)| i)
        .collect()
}

fn first(lines: &[String], k: &str) -> usize {
    indices(lines, k)[0]
}

fn body<T: serde::de::DeserializeOwned>(line: &str) -> T {
    serde_json::from_str(envelope(line).body).unwrap()
}

/// Replaces the body of line `i` (without re-chaining).
fn set_body<T: serde::Serialize>(lines: &mut [String], i: usize, value: &T) {
    let e = envelope(&lines[i]);
    let new = make_line(
        e.seq,
        e.prev,
        e.kind,
        &serde_json::to_string(value).unwrap(),
    );
    lines[i] = new;
}

fn set_body_text(lines: &mut [String], i: usize, text: &str) {
    let e = envelope(&lines[i]);
    let new = make_line(e.seq, e.prev, e.kind, text);
    lines[i] = new;
}

/// The signing key of the listed credential `key`, from the authority's private list.
fn signing_key(fx: &Fixture, key: &Point) -> SecretScalar {
    for issued in &fx.credentials {
        let k = Credential::parse(&issued.credential)
            .unwrap()
            .signing_key(&fx.election_id);
        if k.public() == *key {
            return k;
        }
    }
    panic!("credential not issued in this election");
}

/// Signs `ballot` with `key` as the booth does (the transcript of ballot.rs, §10.4).
fn sign(ballot: &mut Ballot, key: &SecretScalar, rng: &mut SeededRng) {
    let mut t = Transcript::new("ballot-signature");
    t.append("election", &ballot.election.0)
        .append("content", &ballot.content_digest());
    ballot.signature = SchnorrProof::prove(t, &ballot.credential, key.expose(), rng);
}

/// Hex-digit positions just after `"label":"` in `line` (at most `max` of them).
fn hex_positions(line: &str, label: &str, max: usize) -> Vec<usize> {
    let pat = format!("\"{label}\":\"");
    line.match_indices(&pat)
        .take(max)
        .map(|(i, _)| i + pat.len())
        .collect()
}

fn flip_hex(line: &str, pos: usize) -> String {
    let mut bytes = line.as_bytes().to_vec();
    bytes[pos] = if bytes[pos] == b'0' { b'1' } else { b'0' };
    String::from_utf8(bytes).unwrap()
}

fn add_g(p: &Point) -> Point {
    Point::from_point(p.point() + Point::generator().point())
}

// ---------------------------------------------------------------------------------------
// The helpers themselves
// ---------------------------------------------------------------------------------------

#[test]
fn rechaining_an_untouched_record_changes_nothing() {
    let fx = closed();
    let mut l = lines(&fx.record);
    rechain(&mut l);
    assert_eq!(join(&l), fx.record);
    let state = verify_ok(&fx.record);
    assert_eq!(state.stage(), Stage::Tallied);
    assert_eq!(kind(&l[0]), "election");
    assert_eq!(kind(l.last().unwrap()), "result");
}

#[test]
fn re_signing_an_unchanged_ballot_verifies() {
    let fx = closed();
    let mut l = lines(&fx.record);
    let s = first(&l, "ballot");
    let mut b: Ballot = body(&l[s]);
    let key = signing_key(fx, &b.credential);
    sign(&mut b, &key, &mut SeededRng::new(b"resign"));
    set_body(&mut l, s, &b);
    rechain(&mut l);
    // The signature changed, so did the tracker, but the ballot is the voter's own.
    verify_lines(&l).unwrap();
}

// ---------------------------------------------------------------------------------------
// 1. A changed byte in a ballot
// ---------------------------------------------------------------------------------------

/// A scalar's first hex digit is its low nibble: changing it keeps the scalar canonical,
/// the line parses, and only the hash chain tells.
#[test]
fn changed_scalar_in_ballot_without_rechain_is_r3_at_next_line() {
    let fx = closed();
    let original = lines(&fx.record);
    let s = first(&original, "ballot");
    let mut positions = Vec::new();
    for label in ["c", "r", "response"] {
        positions.extend(hex_positions(&original[s], label, 3));
    }
    assert!(positions.len() >= 7);
    for pos in positions {
        let mut l = original.clone();
        l[s] = flip_hex(&l[s], pos);
        expect_err(&l, "R3", Some(s + 1));
    }
}

/// Any byte of a ballot line, changed: the line no longer parses or fits (R1, R2, R3, R5,
/// B1–B3 at the ballot), or it does and the next line's `prev` is wrong (R3).
#[test]
fn any_changed_byte_in_ballot_without_rechain_is_caught() {
    let fx = closed();
    let original = lines(&fx.record);
    let s = first(&original, "ballot");
    let len = original[s].len();
    let mut at_next = 0;
    for pos in (0..len).step_by(len / 37).chain([len - 1]) {
        let mut bytes = original[s].clone().into_bytes();
        bytes[pos] = match bytes[pos] {
            b'0' => b'1',
            c if c.is_ascii_hexdigit() => b'0',
            b'"' => b'x',
            _ => b'"',
        };
        let mut l = original.clone();
        l[s] = String::from_utf8(bytes).unwrap();
        let e = verify_lines(&l)
            .err()
            .unwrap_or_else(|| panic!("byte {pos} changed, record verified"));
        let ok = (e.seq == Some(s as u64)
            && ["R1", "R2", "R3", "R5", "B1", "B2", "B3"].contains(&e.check))
            || (e.seq == Some(s as u64 + 1) && e.check == "R3");
        assert!(ok, "byte {pos}: unexpected {e}");
        at_next += usize::from(e.seq == Some(s as u64 + 1));
    }
    assert!(at_next > 0, "some edits parse and are caught by the chain");
}

/// Re-chained, a changed proof scalar is caught by the signature (B4): the credential
/// signs the digest of everything in the ballot.
#[test]
fn changed_scalar_in_ballot_with_rechain_is_b4() {
    let fx = closed();
    let original = lines(&fx.record);
    for s in [
        first(&original, "ballot"),
        *indices(&original, "ballot").last().unwrap(),
    ] {
        let mut positions = Vec::new();
        for label in ["c", "r", "response"] {
            positions.extend(hex_positions(&original[s], label, 2));
        }
        for pos in positions {
            let mut l = original.clone();
            l[s] = flip_hex(&l[s], pos);
            rechain(&mut l);
            expect_err(&l, "B4", Some(s));
        }
    }
}

/// Re-chained, a changed point: either it no longer decodes (R5) or the signature fails (B4).
#[test]
fn changed_point_in_ballot_with_rechain_is_r5_or_b4() {
    let fx = closed();
    let original = lines(&fx.record);
    let s = first(&original, "ballot");
    let mut seen = Vec::new();
    for label in [
        "alpha",
        "beta",
        "a",
        "b",
        "commitment",
        "bits",
        "masks",
        "t1",
        "link_beta",
    ] {
        for start in hex_positions(&original[s], label, 2) {
            for offset in [0, 1, 31] {
                let mut l = original.clone();
                l[s] = flip_hex(&l[s], start + offset);
                rechain(&mut l);
                let e = verify_lines(&l).err().expect("forgery verified");
                assert_eq!(e.seq, Some(s as u64), "{e}");
                assert!(["R5", "B4"].contains(&e.check), "{label}+{offset}: {e}");
                seen.push(e.check);
            }
        }
    }
    assert!(seen.contains(&"R5"));
}

/// The voter forges their own ballot (re-signed with their own credential): the
/// signature is valid, and the proofs catch it.
fn forge_own_ballot(edit: impl Fn(&mut Ballot)) -> (Vec<String>, usize) {
    let fx = closed();
    let mut l = lines(&fx.record);
    let s = first(&l, "ballot");
    let mut b: Ballot = body(&l[s]);
    edit(&mut b);
    let key = signing_key(fx, &b.credential);
    sign(&mut b, &key, &mut SeededRng::new(b"forger"));
    set_body(&mut l, s, &b);
    rechain(&mut l);
    (l, s)
}

/// An edit of the bits proof of one question.
type BitsEdit = (usize, fn(&mut BitsProof));

#[test]
fn re_signed_ballot_with_tampered_bits_proof_is_b5() {
    let edits: [BitsEdit; 5] = [
        (0, |p| p.f[0] += Scalar::ONE),
        (1, |p| p.f[4] += Scalar::ONE),
        (1, |p| p.z_link += Scalar::ONE),
        (0, |p| p.t0 = add_g(&p.t0)),
        (0, |p| p.bits = add_g(&p.bits)),
    ];
    for (q, edit) in edits {
        let (l, s) = forge_own_ballot(|b| edit(b.answers[q].bits_proof.as_mut().unwrap()));
        expect_err(&l, "B5", Some(s));
    }
}

/// A score question (`max_per_answer = 3`): one membership proof per answer, and the
/// bits proof covers the blank indicator alone.
#[test]
fn score_question_range_proofs_and_blank_bit() {
    use scrutin_election::definition::Question;
    let opts = DemoOptions {
        voters: 8,
        trustees: 1,
        threshold: 1,
        blank_percent: 30,
        questions: vec![Question {
            text: "Rate each proposal from 0 to 3".into(),
            answers: vec!["North".into(), "South".into(), "East".into()],
            min: 0,
            max: 9,
            max_per_answer: 3,
            blank: true,
        }],
        ..DemoOptions::default()
    };
    let outcome = demo::run(&opts, &mut SeededRng::new(b"score")).unwrap();
    let state = verify_ok(&outcome.record);
    assert_eq!(
        state.result.as_ref().unwrap().questions,
        outcome.expected,
        "the tally equals the plaintext count"
    );
    let mut l = lines(&outcome.record);
    let s = first(&l, "ballot");
    let original: Ballot = body(&l[s]);
    assert_eq!(original.answers[0].choice_proofs.as_ref().unwrap().len(), 3);
    assert_eq!(original.answers[0].bits_proof.as_ref().unwrap().f.len(), 1);
    let key = outcome
        .credentials
        .iter()
        .map(|c| Credential::parse(&c.credential).unwrap())
        .map(|c| c.signing_key(&state.definition.as_ref().unwrap().id))
        .find(|k| k.public() == original.credential)
        .unwrap();
    let mut forge = |edit: &dyn Fn(&mut Ballot), check: &str| {
        let mut b = original.clone();
        edit(&mut b);
        sign(&mut b, &key, &mut SeededRng::new(b"forger"));
        set_body(&mut l, s, &b);
        rechain(&mut l);
        expect_err(&l, check, Some(s));
    };
    forge(
        &|b| b.answers[0].choice_proofs.as_mut().unwrap()[1].branches[2].r += Scalar::ONE,
        "B5",
    );
    // A score of 4 (β + G on a 3, or 1 + 3 on a 1) is out of range.
    forge(
        &|b| {
            let c = &mut b.answers[0].choices[2];
            c.beta = add_g(&add_g(&add_g(&c.beta)));
        },
        "B5",
    );
    forge(
        &|b| b.answers[0].bits_proof.as_mut().unwrap().z_t += Scalar::ONE,
        "B5",
    );
    forge(&|b| b.answers[0].choice_proofs = None, "B3");
    forge(
        &|b| b.answers[0].choice_proofs.as_mut().unwrap().truncate(2),
        "B3",
    );
}

/// Adding G to β turns a 0 into a 1 or a 1 into a 2: an over-vote the range proof refuses.
#[test]
fn re_signed_ballot_with_tampered_ciphertext_is_b5() {
    let (l, s) =
        forge_own_ballot(|b| b.answers[1].choices[0].beta = add_g(&b.answers[1].choices[0].beta));
    expect_err(&l, "B5", Some(s));
}

#[test]
fn re_signed_ballot_with_tampered_sum_proof_is_b6_and_blank_indicator_b5() {
    let (l, s) =
        forge_own_ballot(|b| b.answers[0].sum_proof.as_mut().unwrap().branches[1].r += Scalar::ONE);
    expect_err(&l, "B6", Some(s));
    let (l, s) =
        forge_own_ballot(|b| b.answers[1].sum_proof.as_mut().unwrap().branches[0].c += Scalar::ONE);
    expect_err(&l, "B6", Some(s));
    // A blank indicator of 2 (β + G): the bits proof refuses it.
    let (l, s) = forge_own_ballot(|b| {
        let blank = b.answers[0].blank.as_mut().unwrap();
        blank.beta = add_g(&blank.beta);
    });
    expect_err(&l, "B5", Some(s));
}

#[test]
fn re_signed_ballot_for_another_election_is_b1_and_misshapen_is_b3() {
    let (l, s) = forge_own_ballot(|b| b.election = Hash32([7; 32]));
    expect_err(&l, "B1", Some(s));
    let (l, s) = forge_own_ballot(|b| {
        b.answers.pop();
    });
    expect_err(&l, "B3", Some(s));
    let (l, s) = forge_own_ballot(|b| {
        b.answers[1].choices.pop();
    });
    expect_err(&l, "B3", Some(s));
    let (l, s) = forge_own_ballot(|b| b.answers[0].bits_proof = None);
    expect_err(&l, "B3", Some(s));
    let (l, s) = forge_own_ballot(|b| b.answers[0].blank = None);
    expect_err(&l, "B3", Some(s));
    let (l, s) = forge_own_ballot(|b| {
        let p = b.answers[0].bits_proof.clone();
        b.answers[0].choice_proofs = Some(vec![]);
        b.answers[0].bits_proof = p;
    });
    expect_err(&l, "B3", Some(s));
}

// ---------------------------------------------------------------------------------------
// 2. A removed line
// ---------------------------------------------------------------------------------------

#[test]
fn removed_ballot_line_is_r2() {
    let fx = closed();
    let original = lines(&fx.record);
    for s in [first(&original, "ballot"), first(&original, "close") - 1] {
        let mut l = original.clone();
        l.remove(s);
        expect_err(&l, "R2", Some(s));
    }
    // Removing the first line: line 0 now has seq 1.
    let mut l = original.clone();
    l.remove(0);
    expect_err(&l, "R2", Some(0));
}

/// The same line removed and the line renumbered by hand (no re-chaining): R3.
#[test]
fn removed_ballot_line_with_renumbering_only_is_r3() {
    let fx = closed();
    let mut l = lines(&fx.record);
    let s = first(&l, "ballot");
    l.remove(s);
    for (i, line) in l.iter_mut().enumerate().skip(s) {
        let e = envelope(line);
        *line = make_line(i as u64, e.prev, e.kind, e.body);
    }
    expect_err(&l, "R3", Some(s));
}

/// A ballot dropped by the board and the record re-chained: close no longer matches (T1).
#[test]
fn removed_ballot_line_with_rechain_is_t1() {
    let fx = closed();
    let original = lines(&fx.record);
    let s = first(&original, "ballot");
    let mut l = original.clone();
    l.remove(s);
    rechain(&mut l);
    expect_err(&l, "T1", Some(first(&original, "close") - 1));
}

// ---------------------------------------------------------------------------------------
// 3. Swapped lines
// ---------------------------------------------------------------------------------------

#[test]
fn swapped_lines_are_r2() {
    let fx = closed();
    let original = lines(&fx.record);
    let b = indices(&original, "ballot");
    let mut l = original.clone();
    l.swap(b[1], b[4]);
    expect_err(&l, "R2", Some(b[1]));
    let mut l = original.clone();
    l.swap(1, 2);
    expect_err(&l, "R2", Some(1));
}

/// Swapped and renumbered (seq fixed, prev not): R3.
#[test]
fn swapped_and_renumbered_lines_are_r3() {
    let fx = closed();
    let mut l = lines(&fx.record);
    let b = indices(&l, "ballot");
    l.swap(b[1], b[4]);
    for i in [b[1], b[4]] {
        let e = envelope(&l[i]);
        l[i] = make_line(i as u64, e.prev, e.kind, e.body);
    }
    expect_err(&l, "R3", Some(b[1]));
}

/// The order of two different voters' ballots does not change the tally: re-chained, such
/// a swap is a consistent record (only the published chain fixes the order).
#[test]
fn swapped_ballots_of_different_voters_with_rechain_are_consistent() {
    let fx = closed();
    let mut l = lines(&fx.record);
    let b = indices(&l, "ballot");
    let (x, y): (Ballot, Ballot) = (body(&l[b[0]]), body(&l[b[1]]));
    assert_ne!(x.credential, y.credential);
    l.swap(b[0], b[1]);
    rechain(&mut l);
    let state = verify_lines(&l).unwrap();
    assert_eq!(state.stage(), Stage::Tallied);
}

/// A voter's re-vote swapped with the earlier ballot: the wrong ballot now counts (T1).
#[test]
fn swapped_revote_with_rechain_is_t1() {
    let fx = closed();
    let mut l = lines(&fx.record);
    let b = indices(&l, "ballot");
    let creds: Vec<Point> = b
        .iter()
        .map(|i| body::<Ballot>(&l[*i]).credential)
        .collect();
    let (i, j) = (0..creds.len())
        .flat_map(|i| (i + 1..creds.len()).map(move |j| (i, j)))
        .find(|(i, j)| creds[*i] == creds[*j])
        .expect("the fixture has a re-vote");
    l.swap(b[i], b[j]);
    rechain(&mut l);
    expect_err(&l, "T1", Some(first(&l, "close")));
}

/// The last ballot moved after close: close's tally counts a ballot not yet cast (T1).
#[test]
fn ballot_swapped_with_close_with_rechain_is_t1() {
    let fx = closed();
    let mut l = lines(&fx.record);
    let c = first(&l, "close");
    l.swap(c - 1, c);
    rechain(&mut l);
    expect_err(&l, "T1", Some(c - 1));
}

/// A decryption share before close: R4.
#[test]
fn decryption_share_swapped_with_close_with_rechain_is_r4() {
    let fx = closed();
    let mut l = lines(&fx.record);
    let c = first(&l, "close");
    l.swap(c, c + 1);
    rechain(&mut l);
    expect_err(&l, "R4", Some(c));
}

// ---------------------------------------------------------------------------------------
// 4. A ballot signed by an unknown credential
// ---------------------------------------------------------------------------------------

#[test]
fn ballot_of_unknown_credential_is_b2() {
    let fx = open();
    let state = verify_ok(&fx.record);
    let ctx = state.context.as_ref().unwrap();
    let mut rng = SeededRng::new(b"intruder");
    let intruder = Credential::generate(&mut rng);
    let choices: Vec<QuestionChoice> = ctx
        .definition
        .questions
        .iter()
        .map(|q| demo::random_choice(q, 0, &mut rng))
        .collect();
    let (b, _) = ballot::encrypt(ctx, &intruder, &choices, &mut rng).unwrap();
    // The ballot itself is perfectly well formed and signed.
    ballot::verify(ctx, &b).unwrap();
    let mut record = fx.record.clone();
    record.push_str(&ceremony::lines_after(&state, &[Event::Ballot(Box::new(b))]).unwrap());
    expect_err(&lines(&record), "B2", Some(state.events as usize));
}

// ---------------------------------------------------------------------------------------
// 5. Copied and replayed ballots
// ---------------------------------------------------------------------------------------

/// Voter A's ballot under voter B's credential, signed with B's key.
fn copy_to_other_voter(fx: &Fixture, original: &Ballot) -> Ballot {
    let other = fx
        .credentials
        .iter()
        .map(|c| {
            Credential::parse(&c.credential)
                .unwrap()
                .signing_key(&fx.election_id)
        })
        .find(|k| k.public() != original.credential)
        .unwrap();
    let mut copy = original.clone();
    copy.credential = other.public();
    sign(&mut copy, &other, &mut SeededRng::new(b"copier"));
    copy
}

/// While the original is on the board, the copy reuses its ciphertexts: B7 (checked before
/// the proofs, which would fail too).
#[test]
fn ballot_copied_to_another_credential_is_b7() {
    let fx = open();
    let state = verify_ok(&fx.record);
    let l = lines(&fx.record);
    let original: Ballot = body(&l[first(&l, "ballot")]);
    let copy = copy_to_other_voter(fx, &original);
    let mut record = fx.record.clone();
    record.push_str(&ceremony::lines_after(&state, &[Event::Ballot(Box::new(copy))]).unwrap());
    expect_err(&lines(&record), "B7", Some(state.events as usize));
}

/// With the original removed from the board (and the record re-chained), the copy's range
/// proofs are bound to the original credential: B5.
#[test]
fn ballot_copied_to_another_credential_without_original_is_b5() {
    let fx = open();
    let mut l = lines(&fx.record);
    let b = indices(&l, "ballot");
    let creds: Vec<Point> = b
        .iter()
        .map(|i| body::<Ballot>(&l[*i]).credential)
        .collect();
    let lone = (0..b.len())
        .find(|i| creds.iter().filter(|c| **c == creds[*i]).count() == 1)
        .unwrap();
    let original: Ballot = body(&l[b[lone]]);
    let copy = copy_to_other_voter(fx, &original);
    l.remove(b[lone]);
    rechain(&mut l);
    let state = verify_lines(&l).unwrap();
    let mut record = join(&l);
    record.push_str(&ceremony::lines_after(&state, &[Event::Ballot(Box::new(copy))]).unwrap());
    expect_err(&lines(&record), "B5", Some(state.events as usize));
}

/// The same ballot line body appended again: B7.
#[test]
fn replayed_ballot_is_b7() {
    let fx = open();
    let mut l = lines(&fx.record);
    let s = first(&l, "ballot");
    l.push(l[s].clone());
    rechain(&mut l);
    expect_err(&l, "B7", Some(l.len() - 1));
    // Replayed in the closed election, before close.
    let fx = closed();
    let mut l = lines(&fx.record);
    let s = first(&l, "ballot");
    let c = first(&l, "close");
    l.insert(c, l[s].clone());
    rechain(&mut l);
    expect_err(&l, "B7", Some(c));
}

// ---------------------------------------------------------------------------------------
// 6. A wrong result
// ---------------------------------------------------------------------------------------

fn edit_result(edit: impl Fn(&mut ElectionResult)) -> (Vec<String>, usize) {
    let fx = closed();
    let mut l = lines(&fx.record);
    let r = first(&l, "result");
    let mut result: ElectionResult = body(&l[r]);
    edit(&mut result);
    set_body(&mut l, r, &result);
    rechain(&mut l);
    (l, r)
}

#[test]
fn changed_count_in_result_is_d3() {
    let (l, r) = edit_result(|x| x.questions[0].choices[0] += 1);
    expect_err(&l, "D3", Some(r));
    let (l, r) =
        edit_result(|x| x.questions[1].choices[4] = x.questions[1].choices[4].wrapping_sub(1));
    expect_err(&l, "D3", Some(r));
    let (l, r) = edit_result(|x| *x.questions[0].blank.as_mut().unwrap() += 1);
    expect_err(&l, "D3", Some(r));
    // Two counts exchanged.
    let (l, r) = edit_result(|x| {
        let q = &mut x.questions[1].choices;
        if q[0] == q[1] {
            q[0] += 1;
        }
        q.swap(0, 1);
    });
    expect_err(&l, "D3", Some(r));
    // A result of the wrong shape.
    let (l, r) = edit_result(|x| x.questions[1].blank = Some(0));
    expect_err(&l, "D3", Some(r));
}

#[test]
fn changed_ballots_counted_or_weight_in_result_is_d4() {
    let (l, r) = edit_result(|x| x.ballots_counted += 1);
    expect_err(&l, "D4", Some(r));
    let (l, r) = edit_result(|x| x.ballots_counted -= 1);
    expect_err(&l, "D4", Some(r));
    let (l, r) = edit_result(|x| x.total_weight += 1);
    expect_err(&l, "D4", Some(r));
}

#[test]
fn changed_ballots_counted_in_close_is_t1() {
    let fx = closed();
    let mut l = lines(&fx.record);
    let c = first(&l, "close");
    let mut close: Close = body(&l[c]);
    close.ballots_counted += 1;
    set_body(&mut l, c, &close);
    rechain(&mut l);
    expect_err(&l, "T1", Some(c));
}

#[test]
fn result_with_too_few_or_unpublished_trustees_is_d2() {
    let (l, r) = edit_result(|x| {
        x.trustees.pop();
    });
    expect_err(&l, "D2", Some(r));
    let (l, r) = edit_result(|x| x.trustees = vec![1, 1]);
    expect_err(&l, "D2", Some(r));
    // Trustee 1's share removed from the record (result still names it).
    let fx = closed();
    let mut l = lines(&fx.record);
    let shares = indices(&l, "decryption_share");
    let one = shares
        .iter()
        .copied()
        .find(|i| body::<DecryptionShare>(&l[*i]).trustee == 1)
        .unwrap();
    l.remove(one);
    rechain(&mut l);
    expect_err(&l, "D2", Some(l.len() - 1));
}

// ---------------------------------------------------------------------------------------
// 7. A bad decryption share
// ---------------------------------------------------------------------------------------

#[test]
fn decryption_share_with_another_valid_point_is_d1() {
    let fx = closed();
    let original = lines(&fx.record);
    for (n, d) in indices(&original, "decryption_share")
        .into_iter()
        .enumerate()
    {
        let mut l = original.clone();
        let mut share: DecryptionShare = body(&l[d]);
        let f = if n == 0 {
            &mut share.factors[0].choices[0]
        } else {
            share.factors[1].choices.last_mut().unwrap()
        };
        f.factor = add_g(&f.factor);
        set_body(&mut l, d, &share);
        rechain(&mut l);
        expect_err(&l, "D1", Some(d));
    }
}

#[test]
fn decryption_share_published_twice_or_misshapen_or_by_stranger_is_d1() {
    let fx = closed();
    let original = lines(&fx.record);
    let d = first(&original, "decryption_share");
    // Twice.
    let mut l = original.clone();
    l.insert(d + 1, l[d].clone());
    rechain(&mut l);
    expect_err(&l, "D1", Some(d + 1));
    // Misshapen.
    let mut l = original.clone();
    let mut share: DecryptionShare = body(&l[d]);
    share.factors[0].choices.pop();
    set_body(&mut l, d, &share);
    rechain(&mut l);
    expect_err(&l, "D1", Some(d));
    // Another trustee's number on trustee 1's share: its proofs are bound to trustee 1.
    let mut l = original.clone();
    let mut share: DecryptionShare = body(&l[d]);
    let others: Vec<u32> = indices(&l, "decryption_share")
        .iter()
        .map(|i| body::<DecryptionShare>(&l[*i]).trustee)
        .collect();
    l.retain(|line| {
        kind(line) != "decryption_share" || body::<DecryptionShare>(line).trustee == share.trustee
    });
    share.trustee = *others.iter().find(|t| **t != share.trustee).unwrap();
    set_body(&mut l, d, &share);
    rechain(&mut l);
    expect_err(&l, "D1", Some(d));
}

// ---------------------------------------------------------------------------------------
// 8. Key generation
// ---------------------------------------------------------------------------------------

fn definition(id: &str) -> ElectionDefinition {
    ElectionDefinition {
        id: id.into(),
        title: "Key generation under attack".into(),
        description: String::new(),
        trustees: vec!["Ann".into(), "Bob".into(), "Cyd".into()],
        threshold: 2,
        questions: DemoOptions::default_questions(),
    }
}

fn push(record: &mut String, state: &RecordState, events: &[Event]) -> RecordState {
    record.push_str(&ceremony::lines_after(state, events).unwrap());
    verify_ok(record)
}

/// The record up to the dealers' shares, dealer 2 adding 1 to trustee 3's share when
/// `cheat`; with the same seed both records are identical but for that share.
fn dkg_until_dealt(cheat: bool) -> (String, RecordState, Vec<TrusteeSecrets>, SeededRng) {
    let mut rng = SeededRng::new(b"dkg-attack");
    let def = definition("dkg-attack");
    let mut record = String::new();
    let mut state = push(
        &mut record,
        &RecordState::empty(),
        &[ceremony::election_event(&def).unwrap()],
    );
    let mut secrets = Vec::new();
    let mut events = Vec::new();
    for i in 1..=3 {
        let (s, e) = ceremony::trustee_commit(&state, i, &mut rng).unwrap();
        secrets.push(s);
        events.push(e);
    }
    state = push(&mut record, &state, &events);
    let mut deals = Vec::new();
    for s in &secrets {
        let mut e = ceremony::trustee_deal(&state, s, &mut rng).unwrap();
        if let Event::DealerShares(d) = &mut e
            && cheat
            && d.dealer == 2
        {
            assert_eq!(d.shares[2].recipient, 3);
            d.shares[2].masked_share += Scalar::ONE;
        }
        deals.push(e);
    }
    state = push(&mut record, &state, &deals);
    (record, state, secrets, rng)
}

/// A dealer's bad share: the honest recipient complains, the record verifies, the dealer
/// is disqualified and the election still runs, with a key from dealers 1 and 3.
#[test]
fn bad_dealer_share_disqualifies_the_dealer() {
    let (mut record, mut state, secrets, mut rng) = dkg_until_dealt(true);
    let checks: Vec<Event> = secrets
        .iter()
        .map(|s| ceremony::trustee_check(&state, s, &mut rng).unwrap())
        .collect();
    for (i, c) in checks.iter().enumerate() {
        let Event::TrusteeCheck(c) = c else { panic!() };
        let complained: Vec<u32> = c.complaints.iter().map(|c| c.dealer).collect();
        assert_eq!(
            complained,
            if i == 2 { vec![2] } else { vec![] },
            "trustee {}",
            i + 1
        );
    }
    state = push(&mut record, &state, &checks);
    assert_eq!(state.disqualified, vec![2]);
    state = push(
        &mut record,
        &state,
        &[ceremony::election_key_event(&state).unwrap()],
    );
    let key = state.joint_key.clone().unwrap();
    assert_eq!(key.qualified, vec![1, 3]);
    let c = state.all_commitments().unwrap();
    let expected: RistrettoPoint =
        c[0].coefficient_commitments[0].point() + c[2].coefficient_commitments[0].point();
    assert_eq!(key.public_key, Point::from_point(expected));

    // The rest of the election, decrypted by trustees 2 and 3 (2 still holds a key share).
    let def = state.definition.clone().unwrap();
    let voters: Vec<(String, u64)> = (0..5).map(|i| (format!("v{i}"), 1)).collect();
    let (issued, list) = credential::issue(&def.id, &voters, &mut rng).unwrap();
    state = push(
        &mut record,
        &state,
        &[ceremony::credentials_event(&state, list).unwrap()],
    );
    state = push(
        &mut record,
        &state,
        &[ceremony::open_event(&state).unwrap()],
    );
    let ctx = state.context.as_ref().unwrap();
    let mut expected: Vec<PerQuestion<u64>> = def
        .questions
        .iter()
        .map(|q| PerQuestion {
            choices: vec![0; q.answers.len()],
            blank: q.blank.then_some(0),
        })
        .collect();
    let mut ballots = Vec::new();
    for issued in &issued {
        let choices: Vec<QuestionChoice> = def
            .questions
            .iter()
            .map(|q| demo::random_choice(q, 20, &mut rng))
            .collect();
        demo::count_choices(&mut expected, &choices, 1);
        let cred = Credential::parse(&issued.credential).unwrap();
        ballots.push(Event::Ballot(Box::new(
            ballot::encrypt(ctx, &cred, &choices, &mut rng).unwrap().0,
        )));
    }
    state = push(&mut record, &state, &ballots);
    state = push(
        &mut record,
        &state,
        &[ceremony::close_event(&state).unwrap()],
    );
    let shares: Vec<Event> = secrets[1..]
        .iter()
        .map(|s| ceremony::trustee_decrypt(&state, s, &mut rng).unwrap())
        .collect();
    state = push(&mut record, &state, &shares);
    state = push(
        &mut record,
        &state,
        &[ceremony::result_event(&state).unwrap()],
    );
    let result = state.result.as_ref().unwrap();
    assert_eq!(result.trustees, vec![2, 3]);
    assert_eq!(result.questions, expected);
    assert_eq!(state.disqualified, vec![2]);
}

/// Trustee 1 complains about honest dealer 2 with a valid proof of its shared key: the
/// share opens correctly, the complaint is false (K3).
#[test]
fn false_complaint_is_k3() {
    let (mut record, state, secrets, mut rng) = dkg_until_dealt(false);
    let me = &secrets[0];
    let my_commitment = state.commitments[0].clone().unwrap();
    let dealt: DealerShares = state.dealt[1].clone().unwrap();
    let share = dealt.shares[0];
    let shared = Point::from_point(share.ephemeral.point() * me.communication_secret.expose());
    let statement = DleqStatement {
        base: &share.ephemeral,
        public: &my_commitment.communication_key,
        image: &shared,
    };
    let mut t = Transcript::new("dkg-complaint");
    t.append("context", &state.election_hash.0)
        .append_u64("dealer", 2)
        .append_u64("recipient", 1);
    let proof = DleqProof::prove(t, &statement, me.communication_secret.expose(), &mut rng);
    let forged = TrusteeCheck {
        index: 1,
        complaints: vec![Complaint {
            dealer: 2,
            shared_key: shared,
            proof,
        }],
    };
    let seq = state.events as usize;
    let err = {
        let mut r = record.clone();
        r.push_str(&ceremony::lines_after(&state, &[Event::TrusteeCheck(forged.clone())]).unwrap());
        expect_err(&lines(&r), "K3", Some(seq))
    };
    assert!(err.message.contains("correct"), "{err}");
    // A complaint with a wrong shared key fails its proof: K3 as well.
    let mut bad = forged.clone();
    bad.complaints[0].shared_key = add_g(&shared);
    let mut r = record.clone();
    r.push_str(&ceremony::lines_after(&state, &[Event::TrusteeCheck(bad)]).unwrap());
    expect_err(&lines(&r), "K3", Some(seq));
    // A complaint about a dealer that does not exist, and a check by a stranger.
    for (index, dealer) in [(1, 4), (1, 0), (0, 2), (4, 2)] {
        let mut bad = forged.clone();
        bad.index = index;
        bad.complaints[0].dealer = dealer;
        let mut r = record.clone();
        r.push_str(&ceremony::lines_after(&state, &[Event::TrusteeCheck(bad)]).unwrap());
        expect_err(&lines(&r), "K3", Some(seq));
    }
    // The honest checks verify (the forged record was never extended).
    let checks: Vec<Event> = secrets
        .iter()
        .map(|s| ceremony::trustee_check(&state, s, &mut rng).unwrap())
        .collect();
    let state = push(&mut record, &state, &checks);
    assert!(state.disqualified.is_empty());
}

#[test]
fn tampered_trustee_commitment_is_k1() {
    let fx = closed();
    let original = lines(&fx.record);
    let commits = indices(&original, "trustee_commitment");
    assert_eq!(commits, vec![1, 2, 3]);
    let edits: [fn(&mut TrusteeCommitment); 4] = [
        |c| c.communication_proof.response += Scalar::ONE,
        |c| c.coefficient_proofs[1].response += Scalar::ONE,
        |c| c.coefficient_commitments[0] = add_g(&c.coefficient_commitments[0]),
        |c| {
            c.coefficient_commitments.pop();
        },
    ];
    for (n, edit) in edits.iter().enumerate() {
        let i = commits[n % 3];
        let mut l = original.clone();
        let mut c: TrusteeCommitment = body(&l[i]);
        edit(&mut c);
        set_body(&mut l, i, &c);
        rechain(&mut l);
        expect_err(&l, "K1", Some(i));
    }
    // A commitment published twice.
    let mut l = original.clone();
    l.insert(2, l[1].clone());
    rechain(&mut l);
    expect_err(&l, "K1", Some(2));
    let mut l = original.clone();
    l[3] = l[1].clone();
    rechain(&mut l);
    expect_err(&l, "K1", Some(3));
}

#[test]
fn misshapen_dealer_shares_are_k2() {
    let fx = closed();
    let original = lines(&fx.record);
    let d = first(&original, "dealer_shares");
    let edits: [fn(&mut DealerShares); 3] = [
        |x| x.shares.swap(0, 1),
        |x| {
            x.shares.pop();
        },
        |x| x.dealer = 0,
    ];
    for edit in edits {
        let mut l = original.clone();
        let mut x: DealerShares = body(&l[d]);
        edit(&mut x);
        set_body(&mut l, d, &x);
        rechain(&mut l);
        expect_err(&l, "K2", Some(d));
    }
    let mut l = original.clone();
    l[d + 1] = l[d].clone();
    rechain(&mut l);
    expect_err(&l, "K2", Some(d + 1));
}

#[test]
fn wrong_election_key_is_k4() {
    let fx = closed();
    let original = lines(&fx.record);
    let k = first(&original, "election_key");
    let edits: [fn(&mut JointKey); 4] = [
        |x| x.public_key = add_g(&x.public_key),
        |x| x.verification_keys[1] = add_g(&x.verification_keys[1]),
        |x| x.qualified = vec![1, 3],
        |x| {
            x.verification_keys.pop();
        },
    ];
    for edit in edits {
        let mut l = original.clone();
        let mut x: JointKey = body(&l[k]);
        edit(&mut x);
        set_body(&mut l, k, &x);
        rechain(&mut l);
        expect_err(&l, "K4", Some(k));
    }
}

// ---------------------------------------------------------------------------------------
// 9. Structure of the record
// ---------------------------------------------------------------------------------------

#[test]
fn empty_record_is_r1() {
    let e = verify_record(b"", &NoProgress).err().unwrap();
    assert_eq!((e.check, e.seq), ("R1", None));
}

#[test]
fn record_without_trailing_newline_is_r1() {
    let fx = closed();
    let e = verify_record(fx.record.trim_end_matches('\n').as_bytes(), &NoProgress)
        .err()
        .unwrap();
    assert_eq!((e.check, e.seq), ("R1", None), "{e}");
}

#[test]
fn line_with_extra_field_is_r1() {
    let fx = closed();
    let original = lines(&fx.record);
    for i in [0, first(&original, "ballot"), original.len() - 1] {
        let mut l = original.clone();
        let line = l[i].strip_suffix('}').unwrap().to_string();
        l[i] = format!("{line},\"extra\":1}}");
        expect_err(&l, "R1", Some(i));
        // Also inside the body (every body type denies unknown fields): R5.
        let mut l = original.clone();
        let e = envelope(&l[i]);
        let b = format!("{},\"extra\":1}}", e.body.strip_suffix('}').unwrap());
        set_body_text(&mut l, i, &b);
        expect_err(&l, "R5", Some(i));
    }
}

#[test]
fn unknown_event_type_is_r5() {
    let fx = closed();
    let mut l = lines(&fx.record);
    let s = first(&l, "ballot");
    l[s] = l[s].replacen("\"type\":\"ballot\"", "\"type\":\"bollot\"", 1);
    expect_err(&l, "R5", Some(s));
    let mut l = lines(&fx.record);
    l[0] = l[0].replacen("\"type\":\"election\"", "\"type\":\"\"", 1);
    expect_err(&l, "R5", Some(0));
}

#[test]
fn ballot_before_open_is_r4() {
    let fx = closed();
    let mut l = lines(&fx.record);
    let o = first(&l, "open");
    let s = first(&l, "ballot");
    let b = l.remove(s);
    l.insert(o, b);
    rechain(&mut l);
    expect_err(&l, "R4", Some(o));
    // Even before the credentials.
    let mut l = lines(&fx.record);
    let b = l.remove(s);
    l.insert(first(&l, "credentials"), b);
    rechain(&mut l);
    expect_err(&l, "R4", Some(first(&l, "ballot")));
}

#[test]
fn event_after_result_is_r4() {
    let fx = closed();
    let original = lines(&fx.record);
    for k in ["ballot", "decryption_share", "result", "close"] {
        let mut l = original.clone();
        l.push(l[first(&l, k)].clone());
        rechain(&mut l);
        expect_err(&l, "R4", Some(l.len() - 1));
    }
}

#[test]
fn events_out_of_order_are_r4() {
    let fx = closed();
    let original = lines(&fx.record);
    // A second election event.
    let mut l = original.clone();
    l.insert(1, l[0].clone());
    rechain(&mut l);
    expect_err(&l, "R4", Some(1));
    // Dealer shares before every trustee has committed.
    let mut l = original.clone();
    l.swap(3, 4);
    rechain(&mut l);
    expect_err(&l, "R4", Some(3));
    // Open before the credentials.
    let mut l = original.clone();
    let c = first(&l, "credentials");
    l.swap(c, c + 1);
    rechain(&mut l);
    expect_err(&l, "R4", Some(c));
    // Close twice.
    let mut l = original.clone();
    let c = first(&l, "close");
    l.insert(c + 1, l[c].clone());
    rechain(&mut l);
    expect_err(&l, "R4", Some(c + 1));
}

#[test]
fn credentials_out_of_order_or_invalid_are_c1() {
    let fx = closed();
    let original = lines(&fx.record);
    let c = first(&original, "credentials");
    let edits: [fn(&mut CredentialList); 5] = [
        |x| x.credentials.swap(0, 1),
        |x| x.credentials[1] = x.credentials[0],
        |x| x.credentials[0].weight = 0,
        |x| x.credentials[0].weight = u64::MAX,
        |x| x.credentials[0].key = Point::identity(),
    ];
    for edit in edits {
        let mut l = original.clone();
        let mut x: CredentialList = body(&l[c]);
        edit(&mut x);
        set_body(&mut l, c, &x);
        rechain(&mut l);
        expect_err(&l, "C1", Some(c));
    }
    let mut l = original.clone();
    set_body(
        &mut l,
        c,
        &CredentialList {
            credentials: vec![],
        },
    );
    rechain(&mut l);
    expect_err(&l, "C1", Some(c));
}

#[test]
fn open_with_wrong_fingerprint_is_o1() {
    let fx = closed();
    let mut l = lines(&fx.record);
    let o = first(&l, "open");
    set_body(
        &mut l,
        o,
        &Open {
            fingerprint: Hash32([0; 32]),
        },
    );
    rechain(&mut l);
    expect_err(&l, "O1", Some(o));
    // Not re-chained: the changed fingerprint breaks the next line's prev.
    let mut l = lines(&fx.record);
    set_body(
        &mut l,
        o,
        &Open {
            fingerprint: Hash32::of(b"another election"),
        },
    );
    expect_err(&l, "O1", Some(o));
}

/// A record re-chained from an earlier event changes the fingerprint; the old `open`
/// then names the wrong one (O1), so ballots cannot be moved to another key or list.
#[test]
fn rechained_setup_invalidates_open_with_o1() {
    let fx = closed();
    let mut l = lines(&fx.record);
    let c = first(&l, "credentials");
    // A different but valid credential list (one weight changed), re-chained.
    let e = envelope(&l[c]);
    assert!(e.body.contains(r#""weight":1"#));
    let b = e.body.replacen(r#""weight":1"#, r#""weight":2"#, 1);
    set_body_text(&mut l, c, &b);
    rechain(&mut l);
    expect_err(&l, "O1", Some(first(&l, "open")));
    // The same content written with a space is another byte string: refused (R1).
    let mut l = lines(&fx.record);
    let b = envelope(&l[c]).body.replacen(':', ": ", 1);
    set_body_text(&mut l, c, &b);
    rechain(&mut l);
    expect_err(&l, "R1", Some(c));
}

#[test]
fn close_with_wrong_tally_is_t1() {
    let fx = closed();
    let original = lines(&fx.record);
    let c = first(&original, "close");
    let edits: [fn(&mut Close); 3] = [
        |x| x.tally[0].choices.swap(0, 1),
        |x| x.tally[1].choices[2].beta = add_g(&x.tally[1].choices[2].beta),
        |x| x.tally[0].blank = None,
    ];
    for edit in edits {
        let mut l = original.clone();
        let mut x: Close = body(&l[c]);
        edit(&mut x);
        set_body(&mut l, c, &x);
        rechain(&mut l);
        expect_err(&l, "T1", Some(c));
    }
}

#[test]
fn election_definition_breaking_a_rule_is_e1() {
    let fx = closed();
    let mut l = lines(&fx.record);
    let mut def: ElectionDefinition = body(&l[0]);
    def.threshold = 4;
    set_body(&mut l, 0, &def);
    rechain(&mut l);
    expect_err(&l, "E1", Some(0));
}
