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
use scrutin_election::ceremony::{self, TrusteeSecretFile};
use scrutin_election::credential::{
    self, Credential, CredentialList, IssuedCredential, PublicCredential,
};
use scrutin_election::crypto::batch::BatchVerifier;
use scrutin_election::crypto::bits::BitsProof;
use scrutin_election::crypto::chaum_pedersen::{DleqProof, DleqStatement};
use scrutin_election::crypto::dkg::{
    Complaint, DealerShares, JointKey, KeyShare, TrusteeCheck, TrusteeCommitment,
};
use scrutin_election::crypto::elgamal::SecretScalar;
use scrutin_election::crypto::rng::SeededRng;
use scrutin_election::crypto::schnorr::SchnorrProof;
use scrutin_election::crypto::transcript::Transcript;
use scrutin_election::crypto::{Point, RistrettoPoint, Scalar};
use scrutin_election::definition::{ElectionDefinition, QuestionChoice};
use scrutin_election::demo::{self, DemoOptions};
use scrutin_election::record::{Close, Event, Open, Signer, parse_line};
use scrutin_election::roles::{Role, RoleKey, Signed};
use scrutin_election::tally::{self, DecryptionShare, ElectionResult, PerQuestion};
use scrutin_election::verify::{NoProgress, RecordState, Stage, VerifyError, verify_record};
use serde::Serialize;
use serde::de::DeserializeOwned;

// ---------------------------------------------------------------------------------------
// Fixtures and helpers
// ---------------------------------------------------------------------------------------

struct Fixture {
    record: String,
    credentials: Vec<IssuedCredential>,
    election_id: String,
    /// The trustees' secret files (role key and key-generation secrets), in order.
    trustees: Vec<TrusteeSecretFile>,
    /// The credential authority's role key.
    authority: RoleKey,
}

impl Fixture {
    /// The role key of trustee `index` (from 1).
    fn trustee_key(&self, index: u32) -> &RoleKey {
        &self.trustees[index as usize - 1].role_key
    }
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
        trustees: outcome.trustees,
        authority: outcome.authority,
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

/// The signed body of a line of a signed event type (§11.11).
fn signed<T: Serialize + DeserializeOwned>(line: &str) -> Signed<T> {
    Signed::from_json(envelope(line).body).unwrap()
}

/// Replaces the body of line `i` by a signed body, as given (without re-chaining).
fn set_signed<T: Serialize + DeserializeOwned>(lines: &mut [String], i: usize, value: &Signed<T>) {
    let text = value.to_json().unwrap();
    set_body_text(lines, i, &text);
}

/// The context of the record's signatures: the hash of its first line (§11.11).
fn context(lines: &[String]) -> Hash32 {
    Hash32::of(lines[0].as_bytes())
}

/// Replaces the body of line `i` by `body` signed with `key` as an event of the line's
/// type, as the holder of `key` would sign it (without re-chaining).
fn set_signed_body<T: Serialize + DeserializeOwned>(
    lines: &mut [String],
    i: usize,
    body: T,
    key: &RoleKey,
) {
    let kind = envelope(&lines[i]).kind.to_owned();
    let value = Signed::sign(
        body,
        &kind,
        &context(lines),
        key,
        &mut SeededRng::new(b"re-sign"),
    )
    .unwrap();
    set_signed(lines, i, &value);
}

/// The event of a line.
fn event_of(line: &str) -> Event {
    parse_line(line.as_bytes()).unwrap().event
}

/// Signs the body of the signed event of line `i` again with `key`, as an event of type
/// `kind` of the election whose context is `ctx` (without re-chaining).
fn resign_line(lines: &mut [String], i: usize, key: &RoleKey, kind: &str, ctx: &Hash32) {
    let rng = &mut SeededRng::new(b"re-sign line");
    let event = match event_of(&lines[i]) {
        Event::TrusteeCommitment(s) => {
            Event::TrusteeCommitment(Signed::sign(s.body, kind, ctx, key, rng).unwrap())
        }
        Event::DealerShares(s) => {
            Event::DealerShares(Signed::sign(s.body, kind, ctx, key, rng).unwrap())
        }
        Event::TrusteeCheck(s) => {
            Event::TrusteeCheck(Signed::sign(s.body, kind, ctx, key, rng).unwrap())
        }
        Event::Credentials(s) => {
            Event::Credentials(Signed::sign(s.body, kind, ctx, key, rng).unwrap())
        }
        Event::DecryptionShare(s) => {
            Event::DecryptionShare(Signed::sign(s.body, kind, ctx, key, rng).unwrap())
        }
        other => panic!("a {} event is not signed", other.kind()),
    };
    set_body_text(lines, i, &event.body_json().unwrap());
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
    // The signature changed, so did the tracker, but the ballot is the voter's own: the
    // record verifies up to close.
    let c = first(&l, "close");
    let state = verify_lines(&l[..=c]).unwrap();
    assert_eq!(state.stage(), Stage::Closed);
    // The trustees' shares name the close line they decrypted, which is no longer this one.
    expect_err(&l, "D1", Some(c + 1));
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
            kind: None,
            method: None,
            seats: None,
            grades: None,
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
    let b = indices(&original, "ballot");
    let creds: Vec<Point> = b
        .iter()
        .map(|i| body::<Ballot>(&original[*i]).credential)
        .collect();
    let counted = |n: usize| !creds[n + 1..].contains(&creds[n]);
    let lone = (0..b.len()).find(|n| counted(*n)).unwrap();
    let mut l = original.clone();
    l.remove(b[lone]);
    rechain(&mut l);
    expect_err(&l, "T1", Some(first(&original, "close") - 1));
    // A ballot superseded by a re-vote does not count: dropping it leaves close right, and
    // only the close line the trustees decrypted tells (D1); a voter's receipt would too.
    let superseded = (0..b.len()).find(|n| !counted(*n)).unwrap();
    let mut l = original.clone();
    l.remove(b[superseded]);
    rechain(&mut l);
    expect_err(&l, "D1", Some(first(&original, "close")));
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
/// a swap is consistent up to close (only the published chain fixes the order), and the
/// trustees' shares, which name the close line they decrypted, tell.
#[test]
fn swapped_ballots_of_different_voters_with_rechain_are_consistent() {
    let fx = closed();
    let mut l = lines(&fx.record);
    let b = indices(&l, "ballot");
    let (x, y): (Ballot, Ballot) = (body(&l[b[0]]), body(&l[b[1]]));
    assert_ne!(x.credential, y.credential);
    l.swap(b[0], b[1]);
    rechain(&mut l);
    let c = first(&l, "close");
    let state = verify_lines(&l[..=c]).unwrap();
    assert_eq!(state.stage(), Stage::Closed);
    // The decryption shares name the published close line, whose hash the swap changed.
    expect_err(&l, "D1", Some(c + 1));
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
        .find(|i| signed::<DecryptionShare>(&l[*i]).body.trustee == 1)
        .unwrap();
    l.remove(one);
    rechain(&mut l);
    expect_err(&l, "D2", Some(l.len() - 1));
}

// ---------------------------------------------------------------------------------------
// 7. A bad decryption share
// ---------------------------------------------------------------------------------------

/// A factor replaced by another valid point, the share re-signed by its trustee: the
/// signature is valid, the factor's proof is not (D1).
#[test]
fn decryption_share_with_another_valid_point_is_d1() {
    let fx = closed();
    let original = lines(&fx.record);
    for (n, d) in indices(&original, "decryption_share")
        .into_iter()
        .enumerate()
    {
        let mut l = original.clone();
        let mut share = signed::<DecryptionShare>(&l[d]).body;
        let f = if n == 0 {
            &mut share.factors[0].choices[0]
        } else {
            share.factors[1].choices.last_mut().unwrap()
        };
        f.factor = add_g(&f.factor);
        let key = fx.trustee_key(share.trustee);
        set_signed_body(&mut l, d, share, key);
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
    // Misshapen, re-signed by its trustee.
    let mut l = original.clone();
    let mut share = signed::<DecryptionShare>(&l[d]).body;
    share.factors[0].choices.pop();
    let key = fx.trustee_key(share.trustee);
    set_signed_body(&mut l, d, share, key);
    rechain(&mut l);
    expect_err(&l, "D1", Some(d));
    // Trustee 1's share under another trustee's number, signed by that trustee: its proofs
    // are bound to trustee 1.
    let mut l = original.clone();
    let share = signed::<DecryptionShare>(&l[d]).body;
    let others: Vec<u32> = indices(&l, "decryption_share")
        .iter()
        .map(|i| signed::<DecryptionShare>(&l[*i]).body.trustee)
        .collect();
    l.retain(|line| {
        kind(line) != "decryption_share"
            || signed::<DecryptionShare>(line).body.trustee == share.trustee
    });
    let mut moved = share.clone();
    moved.trustee = *others.iter().find(|t| **t != share.trustee).unwrap();
    let key = fx.trustee_key(moved.trustee);
    set_signed_body(&mut l, d, moved, key);
    rechain(&mut l);
    let e = expect_err(&l, "D1", Some(d));
    assert!(e.message.contains("proof"), "{e}");
}

/// A share that names another close line than the record's, re-signed by its trustee
/// (a share made for another tally, or for a close line the board later replaced): D1.
#[test]
fn decryption_share_naming_another_close_line_is_d1() {
    let fx = closed();
    let original = lines(&fx.record);
    let c = first(&original, "close");
    for (n, d) in indices(&original, "decryption_share")
        .into_iter()
        .enumerate()
    {
        let mut l = original.clone();
        let mut share = signed::<DecryptionShare>(&l[d]).body;
        assert_eq!(share.close_hash, Hash32::of(original[c].as_bytes()));
        share.close_hash = match n {
            0 => Hash32::of(b"another close line"),
            1 => Hash32::of(original[c - 1].as_bytes()),
            _ => Hash32::of(original[c].replacen("\"seq\":", "\"seq\": ", 1).as_bytes()),
        };
        let key = fx.trustee_key(share.trustee);
        set_signed_body(&mut l, d, share, key);
        rechain(&mut l);
        let e = expect_err(&l, "D1", Some(d));
        assert!(e.message.contains("another close line"), "{e}");
    }
}

// ---------------------------------------------------------------------------------------
// 8. Key generation
// ---------------------------------------------------------------------------------------

fn definition(id: &str, trustees: &[RoleKey], authority: &RoleKey) -> ElectionDefinition {
    ElectionDefinition {
        id: id.into(),
        title: "Key generation under attack".into(),
        description: String::new(),
        trustees: trustees.iter().map(RoleKey::holder).collect(),
        threshold: 2,
        authority: authority.holder(),
        board_key: None,
        monitors: Vec::new(),
        questions: DemoOptions::default_questions(),
    }
}

fn push(record: &mut String, state: &RecordState, events: &[Event]) -> RecordState {
    record.push_str(&ceremony::lines_after(state, events).unwrap());
    verify_ok(record)
}

/// `f(j)` for the polynomial of the given coefficients.
fn evaluate(coefficients: &[SecretScalar], j: u32) -> Scalar {
    coefficients
        .iter()
        .rev()
        .fold(Scalar::ZERO, |acc, a| acc * Scalar::from(j) + a.expose())
}

/// `Σₜ jᵗ Aₜ`: the Feldman commitment to `f(j)`.
fn feldman_at(commitments: &[Point], j: u32) -> RistrettoPoint {
    commitments
        .iter()
        .rev()
        .fold(RistrettoPoint::default(), |acc, a| {
            acc * Scalar::from(j) + a.point()
        })
}

/// A key generation between three trustees (threshold 2), every role played here.
struct Ceremony {
    record: String,
    state: RecordState,
    files: Vec<TrusteeSecretFile>,
    authority: RoleKey,
    rng: SeededRng,
}

impl Ceremony {
    /// The record up to the dealers' shares. For each `(dealer, recipient)` of `bad`, the
    /// dealer adds 1 to the share it sends the recipient and signs its dealing so altered;
    /// with the same seed, records differ only in those dealings.
    fn until_dealt(bad: &[(u32, u32)]) -> Self {
        let mut rng = SeededRng::new(b"dkg-attack");
        let (keys, authority) = demo::role_keys(&["Ann", "Bob", "Cyd"], b"dkg-attack keys");
        let def = definition("dkg-attack", &keys, &authority);
        let mut record = String::new();
        let mut state = push(
            &mut record,
            &RecordState::empty(),
            &[ceremony::election_event(&def).unwrap()],
        );
        let mut files = Vec::new();
        let mut events = Vec::new();
        for key in &keys {
            let (f, e) = ceremony::trustee_commit(&state, key, &mut rng).unwrap();
            files.push(f);
            events.push(e);
        }
        state = push(&mut record, &state, &events);
        let mut deals = Vec::new();
        for f in &files {
            let mut e = ceremony::trustee_deal(&state, f, &mut rng).unwrap();
            let Event::DealerShares(d) = &mut e else {
                panic!("not a dealing")
            };
            let mut body = d.body.clone();
            let mine: Vec<u32> = bad
                .iter()
                .filter(|(dealer, _)| *dealer == body.dealer)
                .map(|(_, recipient)| *recipient)
                .collect();
            for recipient in &mine {
                let share = &mut body.shares[*recipient as usize - 1];
                assert_eq!(share.recipient, *recipient);
                share.masked_share += Scalar::ONE;
            }
            if !mine.is_empty() {
                *d = Signed::sign(
                    body,
                    "dealer_shares",
                    &state.election_hash,
                    &f.role_key,
                    &mut SeededRng::new(b"bad dealer"),
                )
                .unwrap();
            }
            deals.push(e);
        }
        state = push(&mut record, &state, &deals);
        Ceremony {
            record,
            state,
            files,
            authority,
            rng,
        }
    }

    fn push(&mut self, events: &[Event]) {
        self.state = push(&mut self.record, &self.state, events);
    }

    /// Every trustee's honest check of the shares it received.
    fn checks(&mut self) -> Vec<Event> {
        self.files
            .iter()
            .map(|f| ceremony::trustee_check(&self.state, f, &mut self.rng).unwrap())
            .collect()
    }

    /// The honest checks and the election key.
    fn finish_key_generation(&mut self) {
        let checks = self.checks();
        self.push(&checks);
        let key = ceremony::election_key_event(&self.state).unwrap();
        self.push(&[key]);
    }

    /// Credentials for five voters, their ballots and close; the plaintext count.
    fn vote_and_close(&mut self) -> Vec<PerQuestion<u64>> {
        let def = self.state.definition.clone().unwrap();
        let voters: Vec<(String, u64)> = (0..5).map(|i| (format!("v{i}"), 1)).collect();
        let (issued, list) = credential::issue(&def.id, &voters, &mut self.rng).unwrap();
        let e =
            ceremony::credentials_event(&self.state, list, &self.authority, &mut self.rng).unwrap();
        self.push(&[e]);
        let e = ceremony::open_event(&self.state).unwrap();
        self.push(&[e]);
        let ctx = self.state.context.clone().unwrap();
        let mut expected: Vec<PerQuestion<u64>> = def
            .questions
            .iter()
            .map(|q| PerQuestion {
                choices: vec![0; q.tallied_answers()],
                blank: q.blank.then_some(0),
            })
            .collect();
        let mut ballots = Vec::new();
        for issued in &issued {
            let choices: Vec<QuestionChoice> = def
                .questions
                .iter()
                .map(|q| demo::random_choice(q, 20, &mut self.rng))
                .collect();
            demo::count_choices(&mut expected, &choices, 1);
            let cred = Credential::parse(&issued.credential).unwrap();
            ballots.push(Event::Ballot(Box::new(
                ballot::encrypt(&ctx, &cred, &choices, &mut self.rng)
                    .unwrap()
                    .0,
            )));
        }
        self.push(&ballots);
        let e = ceremony::close_event(&self.state).unwrap();
        self.push(&[e]);
        expected
    }

    /// Each dealing's coefficient commitments, as published in the record.
    fn published_coefficients(&self) -> Vec<Vec<Point>> {
        let l = lines(&self.record);
        indices(&l, "dealer_shares")
            .iter()
            .map(|i| signed::<DealerShares>(&l[*i]).body.coefficient_commitments)
            .collect()
    }
}

fn complained_about(event: &Event) -> Vec<u32> {
    let Event::TrusteeCheck(check) = event else {
        panic!("not a check")
    };
    check.body.complaints.iter().map(|c| c.dealer).collect()
}

/// A dealer's bad share: the recipient complains, the record verifies, and the election
/// runs with the key of **every** dealing. The complaining trustee holds no valid key
/// share and cannot decrypt; the two others can.
#[test]
fn bad_dealer_share_excludes_its_recipient_from_decryption() {
    let mut c = Ceremony::until_dealt(&[(2, 3)]);
    let checks = c.checks();
    for (i, check) in checks.iter().enumerate() {
        let expected: Vec<u32> = if i == 2 { vec![2] } else { vec![] };
        assert_eq!(complained_about(check), expected, "trustee {}", i + 1);
    }
    c.push(&checks);
    assert_eq!(c.state.complained, vec![3]);
    let e = ceremony::election_key_event(&c.state).unwrap();
    c.push(&[e]);
    let key = c.state.joint_key.clone().unwrap();
    assert_eq!(key.decryptors, vec![1, 2]);
    let a = c.published_coefficients();
    let sum: RistrettoPoint = a.iter().map(|a| *a[0].point()).sum();
    assert_eq!(key.public_key, Point::from_point(sum));

    let expected = c.vote_and_close();
    // Trustee 3 received a bad share: it has no key share to decrypt with.
    let refused = ceremony::trustee_decrypt(&c.state, &c.files[2], &mut c.rng).unwrap_err();
    assert!(
        refused.to_string().contains("no valid key share"),
        "{refused}"
    );
    let shares: Vec<Event> = c.files[..2]
        .iter()
        .flat_map(|f| ceremony::trustee_decrypt(&c.state, f, &mut c.rng).unwrap())
        .collect();
    c.push(&shares);
    let e = ceremony::result_event(&c.state).unwrap();
    c.push(&[e]);
    let result = c.state.result.as_ref().unwrap();
    assert_eq!(result.trustees, vec![1, 2]);
    assert_eq!(result.questions, expected);
}

/// The attack on Pedersen's key generation (Gennaro, Jarecki, Krawczyk, Rabin), at record
/// level: dealer 3, having seen the others' coefficients, sends itself a bad share
/// (signing its dealing so altered) and complains about it. Disqualifying the dealer would
/// let it choose, after the fact, whether its contribution is in the key. Here the record
/// verifies, the key is the sum of all three dealers' first coefficient commitments, and
/// trustee 3 only loses its own key share; any other key, or any other set of
/// decryptors, is K4.
#[test]
fn self_complaint_does_not_remove_a_dealing_from_the_key() {
    let mut c = Ceremony::until_dealt(&[(3, 3)]);
    let checks = c.checks();
    assert_eq!(complained_about(&checks[0]), Vec::<u32>::new());
    assert_eq!(complained_about(&checks[1]), Vec::<u32>::new());
    assert_eq!(complained_about(&checks[2]), vec![3]);
    c.push(&checks);
    assert_eq!(c.state.complained, vec![3]);
    let e = ceremony::election_key_event(&c.state).unwrap();
    c.push(&[e]);
    let state = verify_ok(&c.record);
    let key = state.joint_key.clone().unwrap();
    let a = c.published_coefficients();
    assert_eq!(a.len(), 3);
    assert_eq!(
        key.public_key,
        Point::from_point(a[0][0].point() + a[1][0].point() + a[2][0].point())
    );
    assert_eq!(key.decryptors, vec![1, 2]);
    assert!(!key.decryptors.contains(&3));

    let l = lines(&c.record);
    let k = first(&l, "election_key");
    assert_eq!(k, l.len() - 1);
    // The key the attacker aimed at: dealers 1 and 2 only, verification keys included.
    let without_3 = JointKey {
        public_key: Point::from_point(a[0][0].point() + a[1][0].point()),
        decryptors: vec![1, 2],
        verification_keys: (1..=3)
            .map(|j| Point::from_point(feldman_at(&a[0], j) + feldman_at(&a[1], j)))
            .collect(),
    };
    let forgeries = [
        (without_3, "dealer 3's dealing left out"),
        (
            JointKey {
                decryptors: vec![1, 2, 3],
                ..key.clone()
            },
            "the complaining trustee among the decryptors",
        ),
        (
            JointKey {
                decryptors: vec![1],
                ..key.clone()
            },
            "trustee 2 left out",
        ),
        (
            JointKey {
                decryptors: vec![2, 1],
                ..key.clone()
            },
            "decryptors out of order",
        ),
    ];
    for (forged, what) in forgeries {
        let mut l = l.clone();
        set_body(&mut l, k, &forged);
        let e = verify_lines(&l)
            .err()
            .unwrap_or_else(|| panic!("{what}: verified"));
        assert_eq!((e.check, e.seq), ("K4", Some(k as u64)), "{what}: {e}");
    }
}

/// Trustee 3 of the self-complaint above knows every share it should hold (its own
/// polynomial and the honest dealers' shares), so it can compute the key share that
/// matches its verification key and a decryption share whose proofs are all valid. It
/// is not a decryptor, and its share is refused all the same (D1).
#[test]
fn decryption_share_of_a_trustee_that_complained_is_d1() {
    let mut c = Ceremony::until_dealt(&[(3, 3)]);
    c.finish_key_generation();
    c.vote_and_close();
    let key = c.state.joint_key.clone().unwrap();
    assert_eq!(key.decryptors, vec![1, 2]);
    let x: Scalar = c
        .files
        .iter()
        .map(|f| evaluate(&f.dkg.coefficients, 3))
        .sum();
    let share = KeyShare {
        index: 3,
        secret: SecretScalar::new(x),
    };
    let vk = key.verification_keys[2];
    assert_eq!(share.secret.public(), vk);
    let def = c.state.definition.clone().unwrap();
    let fp = c.state.fingerprint.unwrap();
    let close = c.state.close.clone().unwrap();
    let body = tally::decryption_share(
        &fp,
        c.state.close_hash.unwrap(),
        &close.tally,
        &share,
        &vk,
        &mut c.rng,
    );
    let mut batch = BatchVerifier::new(&mut c.rng);
    tally::add_share_to_batch(&fp, &def, &close.tally, &body, &vk, &mut batch).unwrap();
    assert!(batch.verify(), "the share's proofs are valid");
    let event = Event::DecryptionShare(
        Signed::sign(
            body,
            "decryption_share",
            &c.state.election_hash,
            &c.files[2].role_key,
            &mut c.rng,
        )
        .unwrap(),
    );
    let seq = c.state.events as usize;
    let mut record = c.record.clone();
    record.push_str(&ceremony::lines_after(&c.state, &[event]).unwrap());
    let e = expect_err(&lines(&record), "D1", Some(seq));
    assert!(e.message.contains("no valid key share"), "{e}");
    // The decryptors' shares are accepted.
    let shares: Vec<Event> = c.files[..2]
        .iter()
        .flat_map(|f| ceremony::trustee_decrypt(&c.state, f, &mut c.rng).unwrap())
        .collect();
    c.push(&shares);
    assert_eq!(c.state.shares.len(), 2);
}

/// Trustee 1 complains about honest dealer 2 with a valid proof of its shared key, and
/// signs its check: the share opens correctly, the complaint is false (K3).
#[test]
fn false_complaint_is_k3() {
    let mut c = Ceremony::until_dealt(&[]);
    let me = &c.files[0];
    let my_commitment = c.state.commitments[0].clone().unwrap();
    let dealt: DealerShares = c.state.dealt[1].clone().unwrap();
    let share = dealt.shares[0];
    let secret = me.dkg.communication_secret.expose();
    let shared = Point::from_point(share.ephemeral.point() * secret);
    let statement = DleqStatement {
        base: &share.ephemeral,
        public: &my_commitment.communication_key,
        image: &shared,
    };
    let mut t = Transcript::new("dkg-complaint");
    t.append("context", &c.state.election_hash.0)
        .append_u64("dealer", 2)
        .append_u64("recipient", 1);
    let proof = DleqProof::prove(t, &statement, secret, &mut c.rng);
    let forged = TrusteeCheck {
        index: 1,
        complaints: vec![Complaint {
            dealer: 2,
            shared_key: shared,
            proof,
        }],
    };
    let seq = c.state.events as usize;
    let key = me.role_key.clone();
    let with_check = |check: TrusteeCheck| -> Vec<String> {
        let check = Signed::sign(
            check,
            "trustee_check",
            &c.state.election_hash,
            &key,
            &mut SeededRng::new(b"forged check"),
        )
        .unwrap();
        let mut r = c.record.clone();
        r.push_str(&ceremony::lines_after(&c.state, &[Event::TrusteeCheck(check)]).unwrap());
        lines(&r)
    };
    let err = expect_err(&with_check(forged.clone()), "K3", Some(seq));
    assert!(err.message.contains("correct"), "{err}");
    // A complaint with a wrong shared key fails its proof: K3 as well.
    let mut bad = forged.clone();
    bad.complaints[0].shared_key = add_g(&shared);
    expect_err(&with_check(bad), "K3", Some(seq));
    // A complaint about a dealer that does not exist, and a check by a stranger.
    for (index, dealer) in [(1, 4), (1, 0), (0, 2), (4, 2)] {
        let mut bad = forged.clone();
        bad.index = index;
        bad.complaints[0].dealer = dealer;
        expect_err(&with_check(bad), "K3", Some(seq));
    }
    // The honest checks verify (the forged record was never extended).
    let checks = c.checks();
    c.push(&checks);
    assert!(c.state.complained.is_empty());
}

/// Two justified complaints of trustee 3 (dealers 1 and 2 both sent it a bad share),
/// rewritten and re-signed by trustee 3: out of dealer order, or one dealer twice, is K3.
/// The same check with its complaints dropped by the server, the trustee's signature
/// kept, is S1.
#[test]
fn complaints_repeated_or_out_of_dealer_order_are_k3() {
    let mut c = Ceremony::until_dealt(&[(1, 3), (2, 3)]);
    let checks = c.checks();
    assert_eq!(complained_about(&checks[2]), vec![1, 2]);
    c.push(&checks);
    assert_eq!(c.state.complained, vec![3]);
    let original = lines(&c.record);
    let i = original.len() - 1;
    let check = signed::<TrusteeCheck>(&original[i]);
    assert_eq!(check.body.index, 3);
    let key = &c.files[2].role_key;
    let (one, two) = (check.body.complaints[0], check.body.complaints[1]);
    // Re-signed unchanged, the check verifies (the forger's tools are sound).
    let mut l = original.clone();
    set_signed_body(&mut l, i, check.body.clone(), key);
    verify_lines(&l).unwrap();
    for (complaints, what) in [
        (vec![two, one], "out of dealer order"),
        (vec![two, two], "dealer 2 twice"),
        (vec![one, one, two], "dealer 1 twice"),
        (vec![one, two, two], "dealer 2 twice, last"),
    ] {
        let mut l = original.clone();
        set_signed_body(
            &mut l,
            i,
            TrusteeCheck {
                index: 3,
                complaints,
            },
            key,
        );
        let e = verify_lines(&l)
            .err()
            .unwrap_or_else(|| panic!("{what}: verified"));
        assert_eq!((e.check, e.seq), ("K3", Some(i as u64)), "{what}: {e}");
        assert!(e.message.contains("increasing dealer order"), "{what}: {e}");
    }
    for keep in [vec![], vec![one], vec![two]] {
        let mut l = original.clone();
        let mut dropped = check.clone();
        dropped.body.complaints = keep;
        set_signed(&mut l, i, &dropped);
        expect_err(&l, "S1", Some(i));
    }
}

#[test]
fn tampered_trustee_commitment_is_k1() {
    let fx = closed();
    let original = lines(&fx.record);
    let commits = indices(&original, "trustee_commitment");
    assert_eq!(commits, vec![1, 2, 3]);
    let edits: [fn(&mut TrusteeCommitment); 5] = [
        |c| c.communication_proof.response += Scalar::ONE,
        |c| c.communication_proof.commitment = add_g(&c.communication_proof.commitment),
        |c| c.communication_key = add_g(&c.communication_key),
        |c| c.communication_key = Point::identity(),
        |c| c.index = 4,
    ];
    for (n, edit) in edits.iter().enumerate() {
        let i = commits[n % 3];
        let mut l = original.clone();
        let mut c = signed::<TrusteeCommitment>(&l[i]).body;
        let key = fx.trustee_key(c.index);
        edit(&mut c);
        set_signed_body(&mut l, i, c, key);
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
    let edits: [fn(&mut DealerShares); 7] = [
        |x| x.shares.swap(0, 1),
        |x| {
            x.shares.pop();
        },
        |x| x.dealer = 0,
        |x| x.coefficient_proofs[1].response += Scalar::ONE,
        |x| x.coefficient_proofs.swap(0, 1),
        |x| {
            x.coefficient_commitments.pop();
            x.coefficient_proofs.pop();
        },
        |x| x.coefficient_commitments[1] = Point::identity(),
    ];
    for edit in edits {
        let mut l = original.clone();
        let mut x = signed::<DealerShares>(&l[d]).body;
        let key = fx.trustee_key(x.dealer);
        edit(&mut x);
        set_signed_body(&mut l, d, x, key);
        rechain(&mut l);
        expect_err(&l, "K2", Some(d));
    }
    let mut l = original.clone();
    l[d + 1] = l[d].clone();
    rechain(&mut l);
    expect_err(&l, "K2", Some(d + 1));
}

/// Each dealer reveals Feldman commitments other than those it hashed in step 1, each with
/// a valid proof of knowledge, and signs its dealing: only the hash tells (K2).
#[test]
fn coefficients_not_matching_the_committed_hash_are_k2() {
    let fx = closed();
    let original = lines(&fx.record);
    let ctx = context(&original);
    let mut rng = SeededRng::new(b"other coefficients");
    for d in indices(&original, "dealer_shares") {
        let mut l = original.clone();
        let mut x = signed::<DealerShares>(&l[d]).body;
        let dealer = x.dealer;
        for (t, (a, proof)) in x
            .coefficient_commitments
            .iter_mut()
            .zip(&mut x.coefficient_proofs)
            .enumerate()
        {
            let secret = SecretScalar::new(Scalar::random(&mut rng));
            *a = secret.public();
            let mut transcript = Transcript::new("dkg-coefficient");
            transcript
                .append("context", &ctx.0)
                .append_u64("trustee", dealer.into())
                .append_u64("position", t as u64);
            *proof = SchnorrProof::prove(transcript.clone(), a, secret.expose(), &mut rng);
            proof.verify(transcript, a).unwrap();
        }
        set_signed_body(&mut l, d, x, fx.trustee_key(dealer));
        rechain(&mut l);
        let e = expect_err(&l, "K2", Some(d));
        assert!(e.message.contains("do not hash"), "{e}");
    }
}

#[test]
fn wrong_election_key_is_k4() {
    let fx = closed();
    let original = lines(&fx.record);
    let k = first(&original, "election_key");
    let edits: [fn(&mut JointKey); 7] = [
        |x| x.public_key = add_g(&x.public_key),
        |x| x.verification_keys[1] = add_g(&x.verification_keys[1]),
        |x| {
            x.verification_keys.pop();
        },
        // Nobody complained: every trustee is a decryptor.
        |x| x.decryptors = vec![1, 3],
        |x| x.decryptors = vec![1, 2],
        |x| x.decryptors.push(4),
        |x| x.decryptors = vec![],
    ];
    for edit in edits {
        let mut l = original.clone();
        let mut x: JointKey = body(&l[k]);
        assert_eq!(x.decryptors, vec![1, 2, 3]);
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
    for i in [
        0,
        first(&original, "trustee_commitment"),
        first(&original, "credentials"),
        first(&original, "ballot"),
        first(&original, "decryption_share"),
        original.len() - 1,
    ] {
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
        let mut x = signed::<CredentialList>(&l[c]).body;
        edit(&mut x);
        set_signed_body(&mut l, c, x, &fx.authority);
        rechain(&mut l);
        expect_err(&l, "C1", Some(c));
    }
    let mut l = original.clone();
    set_signed_body(
        &mut l,
        c,
        CredentialList {
            credentials: vec![],
        },
        &fx.authority,
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
    // A different but valid credential list (one weight changed), signed by the
    // credential authority, re-chained.
    let mut list = signed::<CredentialList>(&l[c]).body;
    assert_eq!(list.credentials[0].weight, 1);
    list.credentials[0].weight = 2;
    set_signed_body(&mut l, c, list, &fx.authority);
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

// ---------------------------------------------------------------------------------------
// 10. Signatures of the roles
// ---------------------------------------------------------------------------------------

/// The event types a trustee signs.
const TRUSTEE_EVENTS: [&str; 4] = [
    "trustee_commitment",
    "dealer_shares",
    "trustee_check",
    "decryption_share",
];

/// The trustee who must have signed line `i`.
fn trustee_signer(line: &str) -> u32 {
    match event_of(line).signer() {
        Signer::Trustee(t) => t,
        other => panic!("not a trustee's event: {other:?}"),
    }
}

/// A record whose line `i` is re-signed (and the record re-chained) with the signer's own
/// key is consistent up to `open`, whose fingerprint now differs when `i` precedes it.
#[track_caller]
fn expect_resigned_ok(lines: &[String], i: usize) {
    let open = first(lines, "open");
    if i < open {
        expect_err(lines, "O1", Some(open));
    } else {
        verify_lines(lines).unwrap();
    }
}

/// S1: each trustee event, signed with another trustee's key, a key the definition does
/// not name, the authority's key, or the right key for another event type or another
/// election.
#[test]
fn trustee_event_signed_otherwise_than_by_its_trustee_is_s1() {
    let fx = closed();
    let original = lines(&fx.record);
    let ctx = context(&original);
    let stranger = RoleKey::generate(
        Role::Trustee,
        "Trustee 1",
        &mut SeededRng::new(b"a key of nobody's"),
    );
    for kind in TRUSTEE_EVENTS {
        let all = indices(&original, kind);
        assert!(all.len() >= 3, "{kind}");
        for (n, i) in all.into_iter().enumerate() {
            let t = trustee_signer(&original[i]);
            let own = fx.trustee_key(t);
            // Re-signed by its own trustee, the event passes S1.
            let mut l = original.clone();
            resign_line(&mut l, i, own, kind, &ctx);
            rechain(&mut l);
            expect_resigned_ok(&l, i);
            let other_kind = if kind == "trustee_check" {
                "trustee_commitment"
            } else {
                "trustee_check"
            };
            let another_election = Hash32::of(b"another election");
            let forgeries: Vec<(&RoleKey, &str, &Hash32, &str)> = if n == 0 {
                vec![
                    (
                        fx.trustee_key(t % 3 + 1),
                        kind,
                        &ctx,
                        "another trustee's key",
                    ),
                    (&stranger, kind, &ctx, "a key not in the definition"),
                    (&fx.authority, kind, &ctx, "the authority's key"),
                    (own, other_kind, &ctx, "signed as another event type"),
                    (own, kind, &another_election, "signed for another election"),
                ]
            } else {
                vec![(
                    fx.trustee_key(t % 3 + 1),
                    kind,
                    &ctx,
                    "another trustee's key",
                )]
            };
            for (key, signed_kind, signed_ctx, what) in forgeries {
                let mut l = original.clone();
                resign_line(&mut l, i, key, signed_kind, signed_ctx);
                rechain(&mut l);
                let e = verify_lines(&l)
                    .err()
                    .unwrap_or_else(|| panic!("{kind} at {i}, {what}: verified"));
                assert_eq!(
                    (e.check, e.seq),
                    ("S1", Some(i as u64)),
                    "{kind} at {i}, {what}: {e}"
                );
                assert!(e.message.contains(&own.fingerprint()), "{e}");
            }
        }
    }
}

/// S1: a trustee event changed after it was signed, each change passing the event's own
/// checks (K1–K3, D1), so that only the signature tells.
#[test]
fn trustee_event_changed_after_signing_is_s1() {
    let fx = closed();
    let original = lines(&fx.record);
    // A commitment to other coefficients: the hash is only bytes to K1.
    let i = first(&original, "trustee_commitment");
    let mut l = original.clone();
    let mut c = signed::<TrusteeCommitment>(&l[i]);
    c.body.coefficients_hash[0] ^= 1;
    set_signed(&mut l, i, &c);
    rechain(&mut l);
    expect_err(&l, "S1", Some(i));
    // Another encrypted share: K2 does not open shares.
    let d = first(&original, "dealer_shares");
    let mut l = original.clone();
    let mut x = signed::<DealerShares>(&l[d]);
    x.body.shares[1].masked_share += Scalar::ONE;
    set_signed(&mut l, d, &x);
    rechain(&mut l);
    expect_err(&l, "S1", Some(d));
    // Trustee 1's check relabelled as trustee 2's (trustee 2's own check removed).
    let k = first(&original, "trustee_check");
    let mut l = original.clone();
    let mut check = signed::<TrusteeCheck>(&l[k]);
    assert_eq!(check.body.index, 1);
    check.body.index = 2;
    set_signed(&mut l, k, &check);
    l.remove(k + 1);
    rechain(&mut l);
    expect_err(&l, "S1", Some(k));
    // A decryption share whose signature is damaged, or is another trustee's.
    let s = indices(&original, "decryption_share");
    let mut l = original.clone();
    let mut share = signed::<DecryptionShare>(&l[s[0]]);
    share.signature.response += Scalar::ONE;
    set_signed(&mut l, s[0], &share);
    rechain(&mut l);
    expect_err(&l, "S1", Some(s[0]));
    let mut l = original.clone();
    let mut share = signed::<DecryptionShare>(&l[s[0]]);
    share.signature = signed::<DecryptionShare>(&l[s[1]]).signature;
    set_signed(&mut l, s[0], &share);
    rechain(&mut l);
    expect_err(&l, "S1", Some(s[0]));
    // An unsigned body does not even parse (R5).
    let mut l = original.clone();
    let unsigned = serde_json::to_string(&signed::<DecryptionShare>(&l[s[0]]).body).unwrap();
    set_body_text(&mut l, s[0], &unsigned);
    rechain(&mut l);
    expect_err(&l, "R5", Some(s[0]));
}

/// An edit of the credential list.
type ListEdit = Box<dyn Fn(&mut CredentialList)>;

/// S2: the credential list signed by anyone but the credential authority the definition
/// names, or changed after it was signed: the server cannot add, drop or re-weight a
/// credential without the authority.
#[test]
fn credentials_not_as_signed_by_the_authority_are_s2() {
    let fx = closed();
    let original = lines(&fx.record);
    let ctx = context(&original);
    let c = first(&original, "credentials");
    // Re-signed by the authority, the list passes S2 (the fingerprint changes: O1).
    let mut l = original.clone();
    resign_line(&mut l, c, &fx.authority, "credentials", &ctx);
    rechain(&mut l);
    expect_resigned_ok(&l, c);
    let impostor = RoleKey::generate(
        Role::Authority,
        &fx.authority.name,
        &mut SeededRng::new(b"another authority"),
    );
    let another_election = Hash32::of(b"another election");
    for (key, kind, signed_ctx, what) in [
        (fx.trustee_key(1), "credentials", &ctx, "a trustee's key"),
        (
            &impostor,
            "credentials",
            &ctx,
            "a key not in the definition",
        ),
        (&fx.authority, "trustee_check", &ctx, "another event type"),
        (
            &fx.authority,
            "credentials",
            &another_election,
            "another election",
        ),
    ] {
        let mut l = original.clone();
        resign_line(&mut l, c, key, kind, signed_ctx);
        rechain(&mut l);
        let e = verify_lines(&l)
            .err()
            .unwrap_or_else(|| panic!("{what}: verified"));
        assert_eq!((e.check, e.seq), ("S2", Some(c as u64)), "{what}: {e}");
        assert!(e.message.contains(&fx.authority.fingerprint()), "{e}");
    }
    // Valid lists (C1 passes) changed after signing.
    let list = signed::<CredentialList>(&original[c]);
    let mut rng = SeededRng::new(b"server's own credential");
    let own = Credential::generate(&mut rng)
        .signing_key(&fx.election_id)
        .public();
    let edits: Vec<(ListEdit, &str)> = vec![
        (
            Box::new(|x| x.credentials[0].weight += 1),
            "a weight raised",
        ),
        (
            Box::new(|x| {
                x.credentials[1].weight += x.credentials[0].weight;
                x.credentials.remove(0);
            }),
            "a voter's weight given to another",
        ),
        (
            Box::new(|x| {
                x.credentials.pop();
            }),
            "a voter dropped",
        ),
        (
            Box::new(move |x| {
                x.credentials.push(PublicCredential {
                    key: own,
                    weight: 1,
                });
                x.credentials
                    .sort_by(|a, b| a.key.as_bytes().cmp(b.key.as_bytes()));
            }),
            "a credential of the server's added",
        ),
    ];
    for (edit, what) in edits {
        let mut l = original.clone();
        let mut x = list.clone();
        edit(&mut x.body);
        x.body.validate(2).unwrap();
        set_signed(&mut l, c, &x);
        rechain(&mut l);
        let e = verify_lines(&l)
            .err()
            .unwrap_or_else(|| panic!("{what}: verified"));
        assert_eq!((e.check, e.seq), ("S2", Some(c as u64)), "{what}: {e}");
    }
}

/// The operator-takeover attack at record level. Whoever runs the server can hand the
/// trustees' and the authority's tokens to itself and play every role with keys of its
/// own: each proof of its record is then valid, but no event is signed by a key the
/// definition names. The ceremony refuses such keys outright, and the verifier refuses
/// the record at its first commitment (S1); with the trustees' own events, a credential
/// list of the operator's is refused at the list (S2).
#[test]
fn record_signed_by_keys_the_definition_does_not_name_is_s1_then_s2() {
    let fx = closed();
    let original = lines(&fx.record);
    let ctx = context(&original);
    let (operator_trustees, operator_authority) =
        demo::role_keys(&["Trustee 1", "Trustee 2", "Trustee 3"], b"operator");
    // The operator's keys cannot act through the ceremony.
    let setup = verify_lines(&original[..1]).unwrap();
    let refused = ceremony::trustee_commit(
        &setup,
        &operator_trustees[0],
        &mut SeededRng::new(b"operator"),
    )
    .unwrap_err();
    assert!(
        refused
            .to_string()
            .contains("is not one of the trustee keys"),
        "{refused}"
    );
    let list = original
        .iter()
        .find_map(|l| match event_of(l) {
            Event::Credentials(signed) => Some(signed.body.clone()),
            _ => None,
        })
        .unwrap();
    assert!(
        ceremony::credentials_event(
            &setup,
            list,
            &operator_authority,
            &mut SeededRng::new(b"operator")
        )
        .is_err()
    );
    // Every signed event of the record signed by the operator.
    let mut l = original.clone();
    let mut signed_events = 0;
    for i in 0..l.len() {
        let kind = kind(&l[i]).to_owned();
        match event_of(&l[i]).signer() {
            Signer::Trustee(t) => {
                resign_line(&mut l, i, &operator_trustees[t as usize - 1], &kind, &ctx)
            }
            Signer::Authority => resign_line(&mut l, i, &operator_authority, &kind, &ctx),
            Signer::Nobody => continue,
        }
        signed_events += 1;
    }
    assert!(signed_events > 10);
    rechain(&mut l);
    let e = expect_err(&l, "S1", Some(1));
    assert!(e.message.contains(&fx.trustee_key(1).fingerprint()), "{e}");
    // Only the credential list is the operator's.
    let mut l = original.clone();
    let c = first(&l, "credentials");
    resign_line(&mut l, c, &operator_authority, "credentials", &ctx);
    rechain(&mut l);
    expect_err(&l, "S2", Some(c));
    // Only one trustee's events are the operator's: S1 at that trustee's first event.
    let mut l = original.clone();
    for i in 0..l.len() {
        if matches!(event_of(&l[i]).signer(), Signer::Trustee(2)) {
            let kind = kind(&l[i]).to_owned();
            resign_line(&mut l, i, &operator_trustees[1], &kind, &ctx);
        }
    }
    rechain(&mut l);
    expect_err(&l, "S1", Some(2));
}
