//! Writes the test vectors of spec §13 into a directory:
//!
//! ```text
//! cargo run --release -p scrutin-election --example test_vectors -- docs/test-vectors
//! ```
//!
//! A small election (2 trustees, threshold 2; one question with 3 answers, min 1, max 1,
//! blank allowed, and one score question with 2 answers rated 0 to 2; 3 voters with
//! weights 1, 1, 2, one of whom votes twice) is run from the
//! seed `"scrutin test vectors"` through the roles' steps of [`scrutin_election::ceremony`].
//! The role keys of the two trustees, the credential authority and the board are the
//! generator's first draws. The example writes `record.jsonl` (the whole record) and
//! `proofs.json` (one proof of each kind with its statement, exact transcript bytes and
//! challenge; the role keys and their fingerprints; an event signature, a signed head and
//! a receipt; the coefficients hash; the credential, checksum, content digest and tracker
//! derivations; every line hash; a Benaloh audit), its members in alphabetical order, and
//! `shuffle.json` (a verifiable shuffle of 3 rows of 2 ciphertexts with its proof, §5.5).
//! From the seed `"scrutin mixed test vectors"` it runs a second, mixed election (a
//! single-choice question and a Schulze question, §8.1) through [`scrutin_election::demo`]
//! and writes `mixed.jsonl` (its record, with two shuffles, §11.12–§11.14) and `mixed.json`
//! (the rows at `close`, each shuffle's transcripts and challenges, one proof of knowledge
//! of randomness, one decryption factor proof of a row, the Lagrange combination and the
//! decrypted rows, and the count); then `mixed-parts.jsonl`, the same election shuffled and
//! decrypted again from its `close` with every row in a part of its own (§11.15).
//!
//! Every transcript is rebuilt here **from the specification** (not with the library's
//! private builders) and the challenge obtained is checked against the library's
//! `challenge()` methods and against the verification equations. The whole run is done
//! twice and the outputs compared, to check that they are deterministic.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;

use serde_json::{Value, json};
use sha2::{Digest, Sha256, Sha512};

use scrutin_election::Hash32;
use scrutin_election::ballot::{self, AuditedBallot, Ballot, VotingContext};
use scrutin_election::ceremony;
use scrutin_election::credential::{self, ALPHABET, Credential};
use scrutin_election::crypto::bits::{self, BitsProof, BitsStatement};
use scrutin_election::crypto::chaum_pedersen::DleqStatement;
use scrutin_election::crypto::disjunctive::{MembershipProof, MembershipStatement};
use scrutin_election::crypto::dkg;
use scrutin_election::crypto::elgamal::{Ciphertext, EncryptionKey};
use scrutin_election::crypto::rng::SeededRng;
use scrutin_election::crypto::schnorr::SchnorrProof;
use scrutin_election::crypto::shuffle::{self, ShuffleProof, ShuffleStatement};
use scrutin_election::crypto::transcript::Transcript;
use scrutin_election::crypto::{Point, RistrettoPoint, Scalar};
use scrutin_election::definition::{ElectionDefinition, Question, QuestionChoice};
use scrutin_election::record::{Event, RecordWriter, split_lines};
use scrutin_election::roles::{self, Receipt, Role, RoleKey, SignedHead};
use scrutin_election::verify::{NoProgress, RecordState, Stage, verify_record};

const SEED: &[u8] = b"scrutin test vectors";

fn h(bytes: &[u8]) -> String {
    hex::encode(bytes)
}

fn sh(s: &Scalar) -> String {
    hex::encode(s.as_bytes())
}

fn mul_g(s: &Scalar) -> RistrettoPoint {
    RistrettoPoint::mul_base(s)
}

/// `int_le(SHA-512(bytes)) mod ℓ`, computed from the bytes alone (spec §3.1).
fn challenge_of(bytes: &[u8]) -> Scalar {
    let d: [u8; 64] = Sha512::digest(bytes).into();
    Scalar::from_bytes_mod_order_wide(&d)
}

fn event_of_line(line: &str) -> Event {
    scrutin_election::record::parse_line(line.as_bytes())
        .unwrap_or_else(|e| panic!("{e}"))
        .event
}

fn state_of(record: &str) -> RecordState {
    verify_record(record.as_bytes(), &NoProgress)
        .map(|v| v.state)
        .unwrap_or_else(|e| panic!("invalid record: {e}"))
}

fn push(record: &mut String, events: &[Event]) -> RecordState {
    let state = if record.is_empty() {
        RecordState::empty()
    } else {
        state_of(record)
    };
    record.push_str(&ceremony::lines_after(&state, events).unwrap());
    state_of(record)
}

/// The role keys, drawn first from the run's generator: trustee 1, trustee 2, the
/// credential authority, the board.
struct Keys {
    trustees: Vec<RoleKey>,
    authority: RoleKey,
    board: RoleKey,
}

fn role_keys(rng: &mut SeededRng) -> Keys {
    let trustees = (1..=2)
        .map(|i| RoleKey::generate(Role::Trustee, &format!("Trustee {i}"), rng))
        .collect();
    let authority = RoleKey::generate(Role::Authority, "Credential authority", rng);
    let board = RoleKey::generate(Role::Board, "Board", rng);
    Keys {
        trustees,
        authority,
        board,
    }
}

fn definition(keys: &Keys) -> ElectionDefinition {
    ElectionDefinition {
        id: "scrutin-test-vectors".into(),
        title: "scrutin test vectors".into(),
        description: String::new(),
        trustees: keys.trustees.iter().map(RoleKey::holder).collect(),
        threshold: 2,
        authority: keys.authority.holder(),
        board_key: Some(keys.board.signing_key),
        monitors: Vec::new(),
        questions: vec![
            Question {
                text: "Who should chair the council?".into(),
                answers: vec!["Ada".into(), "Blaise".into(), "Claude".into()],
                min: 1,
                max: 1,
                max_per_answer: 1,
                blank: true,
                kind: None,
                method: None,
                seats: None,
                grades: None,
            },
            Question {
                text: "Rate each proposal from 0 to 2".into(),
                answers: vec!["North".into(), "South".into()],
                min: 0,
                max: 4,
                max_per_answer: 2,
                blank: false,
                kind: None,
                method: None,
                seats: None,
                grades: None,
            },
        ],
    }
}

/// `from_uniform_bytes(SHA-512(start("bits-generator") ‖ item))`, from spec §5.7.
fn generator_from_spec(label: &str, data: &[u8]) -> RistrettoPoint {
    let mut t = Transcript::new("bits-generator");
    t.append(label, data);
    let d: [u8; 64] = Sha512::digest(t.bytes()).into();
    RistrettoPoint::from_uniform_bytes(&d)
}

/// A bit-vector proof (spec §5.7) with its transcripts and equations rebuilt from the spec.
fn bits_vector(caller: Transcript, key: &Point, cts: &[Ciphertext], proof: &BitsProof) -> Value {
    let n = cts.len();
    let j = generator_from_spec("name", b"J");
    assert_eq!(j, bits::generator_j());
    let gs: Vec<RistrettoPoint> = (0..n)
        .map(|i| generator_from_spec("index", &(i as u64).to_le_bytes()))
        .collect();
    for (i, g) in gs.iter().enumerate() {
        assert_eq!(*g, bits::generator_g(i));
    }
    let caller_bytes = caller.bytes().to_vec();
    let mut t = caller.clone();
    t.append_point("key", key);
    for c in cts {
        t.append_point("alpha", &c.alpha)
            .append_point("beta", &c.beta);
    }
    t.append_point("bits", &proof.bits)
        .append_point("masks", &proof.masks);
    let y_bytes = t.bytes().to_vec();
    let y = challenge_of(&y_bytes);
    t.append_point("t1", &proof.t1)
        .append_point("t0", &proof.t0)
        .append_point("link_alpha", &proof.link_alpha)
        .append_point("link_beta", &proof.link_beta);
    let x = challenge_of(t.bytes());
    let statement = BitsStatement {
        key,
        ciphertexts: cts,
    };
    assert_eq!(proof.challenge_values(caller, &statement), (y, x));
    let mut yi = Vec::new();
    let mut p = y;
    for _ in 0..n {
        yi.push(p);
        p *= y;
    }
    // The four equations, one by one.
    let lhs: RistrettoPoint = proof
        .f
        .iter()
        .zip(&gs)
        .map(|(f, g)| g * f)
        .sum::<RistrettoPoint>()
        + j * proof.z_masks;
    assert_eq!(
        lhs,
        proof.masks.point() + proof.bits.point() * x,
        "bits: (1)"
    );
    let e = yi
        .iter()
        .zip(&proof.f)
        .fold(Scalar::ZERO, |acc, (y, f)| acc + y * f * (x - f));
    assert_eq!(
        mul_g(&e) + j * proof.z_t,
        proof.t1.point() * x + proof.t0.point(),
        "bits: (2)"
    );
    let sum_alpha: RistrettoPoint = cts.iter().zip(&yi).map(|(c, y)| c.alpha.point() * y).sum();
    let sum_beta: RistrettoPoint = cts.iter().zip(&yi).map(|(c, y)| c.beta.point() * y).sum();
    assert_eq!(
        mul_g(&proof.z_link),
        proof.link_alpha.point() + sum_alpha * x,
        "bits: (3)"
    );
    let yf = yi
        .iter()
        .zip(&proof.f)
        .fold(Scalar::ZERO, |acc, (y, f)| acc + y * f);
    assert_eq!(
        mul_g(&yf) + key.point() * proof.z_link,
        proof.link_beta.point() + sum_beta * x,
        "bits: (4)"
    );
    json!({
        "statement": {"key": key.to_hex(), "ciphertexts": cts.iter().map(ct_json).collect::<Vec<_>>()},
        "generators": {
            "J": Point::from_point(j).to_hex(),
            "G": gs.iter().map(|g| Point::from_point(*g).to_hex()).collect::<Vec<_>>(),
        },
        "caller_transcript_hex": h(&caller_bytes),
        "y_transcript_hex": h(&y_bytes),
        "y": sh(&y),
        "x_transcript_hex": h(t.bytes()),
        "x": sh(&x),
        "e": sh(&e),
        "proof": serde_json::to_value(proof).unwrap(),
    })
}

/// The ciphertext as JSON.
fn ct_json(c: &Ciphertext) -> Value {
    json!({"alpha": c.alpha.to_hex(), "beta": c.beta.to_hex()})
}

/// A membership proof (spec §5.4) with its transcript rebuilt from the spec.
fn membership_vector(
    name: &str,
    caller: Transcript,
    key: &Point,
    ct: &Ciphertext,
    values: &[u64],
    proof: &MembershipProof,
) -> Value {
    let caller_bytes = caller.bytes().to_vec();
    let mut t = caller.clone();
    t.append_point("key", key)
        .append_point("alpha", &ct.alpha)
        .append_point("beta", &ct.beta);
    for v in values {
        t.append_u64("value", *v);
    }
    for b in &proof.branches {
        t.append_point("a", &b.a).append_point("b", &b.b);
    }
    let c = challenge_of(t.bytes());
    let statement = MembershipStatement {
        key,
        ciphertext: ct,
        values,
    };
    assert_eq!(
        c,
        proof.challenge(caller, &statement),
        "{name}: challenge differs from the library's"
    );
    let sum = proof.branches.iter().fold(Scalar::ZERO, |acc, b| acc + b.c);
    assert_eq!(sum, c, "{name}: challenges do not sum to c");
    for (b, v) in proof.branches.iter().zip(values) {
        assert_eq!(
            mul_g(&b.r),
            b.a.point() + ct.alpha.point() * b.c,
            "{name}: r·G"
        );
        let shifted = ct.beta.point() - mul_g(&Scalar::from(*v));
        assert_eq!(
            key.point() * b.r,
            b.b.point() + shifted * b.c,
            "{name}: r·H"
        );
    }
    json!({
        "statement": {"key": key.to_hex(), "ciphertext": ct_json(ct), "values": values},
        "caller_transcript_hex": h(&caller_bytes),
        "transcript_hex": h(t.bytes()),
        "sha512_hex": h(&Sha512::digest(t.bytes())),
        "challenge": sh(&c),
        "branches": serde_json::to_value(proof).unwrap(),
    })
}

/// The `ballot-content` transcript, rebuilt from spec §10.4.
fn content_transcript(b: &Ballot) -> Transcript {
    let mut t = Transcript::new("ballot-content");
    t.append("election", &b.election.0)
        .append_point("credential", &b.credential);
    let proof = |t: &mut Transcript, p: &MembershipProof| {
        for br in &p.branches {
            t.append_point("a", &br.a)
                .append_point("b", &br.b)
                .append_scalar("c", &br.c)
                .append_scalar("r", &br.r);
        }
    };
    for (q, a) in b.answers.iter().enumerate() {
        t.append_u64("question", q as u64);
        for c in a.choices.iter().chain(&a.blank) {
            t.append_point("alpha", &c.alpha)
                .append_point("beta", &c.beta);
        }
        if let Some(p) = &a.bits_proof {
            t.append_point("bits", &p.bits)
                .append_point("masks", &p.masks)
                .append_point("t1", &p.t1)
                .append_point("t0", &p.t0)
                .append_point("link_alpha", &p.link_alpha)
                .append_point("link_beta", &p.link_beta);
            for f in &p.f {
                t.append_scalar("f", f);
            }
            t.append_scalar("z_masks", &p.z_masks)
                .append_scalar("z_link", &p.z_link)
                .append_scalar("z_t", &p.z_t);
        }
        for p in a.choice_proofs.iter().flatten() {
            proof(&mut t, p);
        }
        if let Some(p) = &a.sum_proof {
            proof(&mut t, p);
        }
    }
    t
}

/// The Schnorr signature `(A, z)` of `public` on the caller transcript `caller` (§5.2),
/// with the full transcript rebuilt from the spec and the verification equation checked.
fn schnorr_signature(caller: &Transcript, public: &Point, signature: &SchnorrProof) -> Value {
    let mut t = caller.clone();
    t.append_point("public", public)
        .append_point("commitment", &signature.commitment);
    let c = challenge_of(t.bytes());
    assert_eq!(c, signature.challenge(caller.clone(), public));
    assert_eq!(
        mul_g(&signature.response),
        signature.commitment.point() + public.point() * c
    );
    json!({
        "public": public.to_hex(),
        "caller_transcript_hex": h(caller.bytes()),
        "transcript_hex": h(t.bytes()),
        "sha512_hex": h(&Sha512::digest(t.bytes())),
        "challenge": sh(&c),
        "commitment": signature.commitment.to_hex(),
        "response": sh(&signature.response),
    })
}

/// A role key's fingerprint (§8.6), computed from the spec.
fn fingerprint_vector(key: &RoleKey) -> Value {
    let mut t = Transcript::new("role-key-fingerprint");
    t.append_point("key", &key.signing_key);
    let d = Sha512::digest(t.bytes());
    let mut bits = String::new();
    for b in &d[..10] {
        bits.push_str(&format!("{b:08b}"));
    }
    let mut shown = String::new();
    for (i, five) in bits.as_bytes().chunks(5).enumerate() {
        if i > 0 && i % 4 == 0 {
            shown.push('-');
        }
        let index = five
            .iter()
            .fold(0usize, |acc, b| acc * 2 + usize::from(*b == b'1'));
        shown.push(char::from(ALPHABET[index]));
    }
    assert_eq!(shown, key.fingerprint());
    assert_eq!(shown, roles::fingerprint(&key.signing_key));
    json!({
        "role": key.role,
        "name": key.name,
        "key": key.signing_key.to_hex(),
        "transcript_hex": h(t.bytes()),
        "digest_10_bytes_hex": h(&d[..10]),
        "fingerprint": shown,
    })
}

/// Every object's members in alphabetical order.
fn sorted(v: Value) -> Value {
    match v {
        Value::Object(map) => {
            let mut members: Vec<(String, Value)> = map.into_iter().collect();
            members.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(members.into_iter().map(|(k, v)| (k, sorted(v))).collect())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(sorted).collect()),
        other => other,
    }
}

/// `from_uniform_bytes(SHA-512(start("shuffle-generator") ‖ item("caller", T) ‖ item))`,
/// from spec §5.5.
fn shuffle_generator_from_spec(caller: &[u8], label: &str, data: &[u8]) -> RistrettoPoint {
    let mut t = Transcript::new("shuffle-generator");
    t.append("caller", caller).append(label, data);
    let d: [u8; 64] = Sha512::digest(t.bytes()).into();
    RistrettoPoint::from_uniform_bytes(&d)
}

fn rows_json(rows: &[Vec<Ciphertext>]) -> Value {
    json!(
        rows.iter()
            .map(|row| row.iter().map(ct_json).collect::<Vec<_>>())
            .collect::<Vec<_>>()
    )
}

/// A shuffle of 3 rows of 2 ciphertexts under the election key `H` (spec §5.5), drawn
/// from the run's generator after everything else, with its proof rebuilt from the spec:
/// generators, transcripts, challenges and the five kinds of verification equations.
fn shuffle_vector(rng: &mut SeededRng, fp: &Hash32, h_key: &Point) -> Value {
    let key = EncryptionKey::new(*h_key);
    let messages: [[u64; 2]; 3] = [[1, 2], [3, 4], [5, 6]];
    let mut input_randomness = Vec::new();
    let inputs: Vec<Vec<Ciphertext>> = messages
        .iter()
        .map(|row| {
            row.iter()
                .map(|m| {
                    let r = Scalar::random(rng);
                    input_randomness.push(sh(&r));
                    Ciphertext::encrypt(&key, *m, &r)
                })
                .collect()
        })
        .collect();
    let (outputs, witness) = shuffle::shuffle(&key, &inputs, rng).unwrap();
    assert_eq!(witness.apply(&key, &inputs).unwrap(), outputs);
    let mut caller = Transcript::new("test-shuffle");
    caller.append("election", &fp.0);
    let s = ShuffleStatement {
        key: h_key,
        inputs: &inputs,
        outputs: &outputs,
    };
    let proof = ShuffleProof::prove(caller.clone(), &s, &witness, rng).unwrap();
    proof.verify(caller.clone(), &s).unwrap();
    let (n, w) = (inputs.len(), inputs[0].len());

    // Generators.
    let j = shuffle_generator_from_spec(caller.bytes(), "name", b"J");
    assert_eq!(j, shuffle::generator_j(&caller));
    let f: Vec<RistrettoPoint> = (0..n)
        .map(|i| shuffle_generator_from_spec(caller.bytes(), "index", &(i as u64).to_le_bytes()))
        .collect();
    for (i, fi) in f.iter().enumerate() {
        assert_eq!(*fi, shuffle::generator_f(&caller, i));
    }

    // Tᵘ, the uᵢ; Tᶜ, c.
    let mut t = caller.clone();
    t.append_point("key", h_key)
        .append_u64("rows", n as u64)
        .append_u64("width", w as u64);
    for e in inputs.iter().flatten() {
        t.append_point("input_alpha", &e.alpha)
            .append_point("input_beta", &e.beta);
    }
    for e in outputs.iter().flatten() {
        t.append_point("output_alpha", &e.alpha)
            .append_point("output_beta", &e.beta);
    }
    for c in &proof.permutation {
        t.append_point("permutation", c);
    }
    let u_bytes = t.bytes().to_vec();
    let u: Vec<Scalar> = (0..n)
        .map(|i| {
            let mut ti = t.clone();
            ti.append_u64("index", i as u64);
            challenge_of(ti.bytes())
        })
        .collect();
    for p in &proof.chain {
        t.append_point("chain", p);
    }
    t.append_point("t1", &proof.t1)
        .append_point("t2", &proof.t2)
        .append_point("t3", &proof.t3);
    for (a, b) in proof.t4_alpha.iter().zip(&proof.t4_beta) {
        t.append_point("t4_alpha", a).append_point("t4_beta", b);
    }
    for p in &proof.t_hat {
        t.append_point("t_hat", p);
    }
    let c = challenge_of(t.bytes());
    assert_eq!(
        proof.challenge_values(caller.clone(), &s).unwrap(),
        (u.clone(), c)
    );

    // The equations, one by one.
    let sum = |ps: &[Point]| ps.iter().map(|p| *p.point()).sum::<RistrettoPoint>();
    let f_sum: RistrettoPoint = f.iter().sum();
    assert_eq!(
        mul_g(&proof.s1),
        proof.t1.point() + (sum(&proof.permutation) - f_sum) * c,
        "shuffle: (1)"
    );
    let u_product = u.iter().fold(Scalar::ONE, |acc, x| acc * x);
    assert_eq!(
        mul_g(&proof.s2),
        proof.t2.point() + (proof.chain[n - 1].point() - j * u_product) * c,
        "shuffle: (2)"
    );
    let sf: RistrettoPoint = proof.s_prime.iter().zip(&f).map(|(s, f)| f * s).sum();
    let uc: RistrettoPoint = u
        .iter()
        .zip(&proof.permutation)
        .map(|(u, c)| c.point() * u)
        .sum();
    assert_eq!(
        mul_g(&proof.s3) + sf,
        proof.t3.point() + uc * c,
        "shuffle: (3)"
    );
    for k in 0..w {
        let out_a: RistrettoPoint = (0..n)
            .map(|i| outputs[i][k].alpha.point() * proof.s_prime[i])
            .sum();
        let out_b: RistrettoPoint = (0..n)
            .map(|i| outputs[i][k].beta.point() * proof.s_prime[i])
            .sum();
        let in_a: RistrettoPoint = (0..n).map(|j| inputs[j][k].alpha.point() * u[j]).sum();
        let in_b: RistrettoPoint = (0..n).map(|j| inputs[j][k].beta.point() * u[j]).sum();
        assert_eq!(
            out_a - mul_g(&proof.s4[k]),
            proof.t4_alpha[k].point() + in_a * c,
            "shuffle: (4) alpha, column {k}"
        );
        assert_eq!(
            out_b - h_key.point() * proof.s4[k],
            proof.t4_beta[k].point() + in_b * c,
            "shuffle: (4) beta, column {k}"
        );
    }
    for i in 0..n {
        let previous = if i == 0 {
            j
        } else {
            *proof.chain[i - 1].point()
        };
        assert_eq!(
            mul_g(&proof.s_hat[i]) + previous * proof.s_prime[i],
            proof.t_hat[i].point() + proof.chain[i].point() * c,
            "shuffle: (5), row {i}"
        );
    }

    json!({
        "seed": String::from_utf8_lossy(SEED),
        "fingerprint": fp.to_hex(),
        "key": h_key.to_hex(),
        "rows": n,
        "width": w,
        "input_messages": messages,
        "input_randomness": input_randomness,
        "inputs": rows_json(&inputs),
        "permutation": witness.permutation(),
        "reencryption_randomness": witness
            .randomness()
            .iter()
            .map(|row| row.iter().map(|r| sh(r.expose())).collect::<Vec<_>>())
            .collect::<Vec<_>>(),
        "outputs": rows_json(&outputs),
        "caller_transcript_hex": h(caller.bytes()),
        "generators": {
            "J": Point::from_point(j).to_hex(),
            "F": f.iter().map(|g| Point::from_point(*g).to_hex()).collect::<Vec<_>>(),
        },
        "u_transcript_hex": h(&u_bytes),
        "u": u.iter().map(sh).collect::<Vec<_>>(),
        "c_transcript_hex": h(t.bytes()),
        "challenge": sh(&c),
        "proof": serde_json::to_value(&proof).unwrap(),
    })
}

struct Output {
    record: String,
    proofs: String,
    shuffle: String,
    mixed_record: String,
    mixed: String,
    mixed_parts_record: String,
}

const MIXED_SEED: &[u8] = b"scrutin mixed test vectors";

/// The transcript of §11.12, built from the specification.
fn shuffle_caller(fp: &Hash32, trustee: u32, q: u64) -> Transcript {
    let mut t = Transcript::new("shuffle");
    t.append("election", &fp.0)
        .append_u64("trustee", trustee.into())
        .append_u64("question", q);
    t
}

/// A mixed election (§8.1, §10.7, §11.12–§11.14): its record and the intermediate values.
fn mixed_vectors() -> (String, Value, String) {
    use scrutin_election::crypto::knowledge::RandomnessProof;
    use scrutin_election::crypto::threshold;
    use scrutin_election::mix;
    let ranked = Question {
        text: "Rank the logos".into(),
        answers: vec!["Red".into(), "Green".into(), "Blue".into()],
        min: 0,
        max: 0,
        max_per_answer: 1,
        blank: false,
        kind: Some(scrutin_election::definition::QuestionKind::Ranked),
        method: Some(scrutin_election::definition::Method::Schulze),
        seats: None,
        grades: None,
    };
    let mut questions = scrutin_election::demo::DemoOptions::default_questions();
    questions.truncate(1);
    questions.push(ranked);
    let outcome = scrutin_election::demo::run(
        &scrutin_election::demo::DemoOptions {
            title: "scrutin mixed test vectors".into(),
            voters: 3,
            trustees: 2,
            threshold: 2,
            revote_percent: 0,
            blank_percent: 0,
            questions,
            ..Default::default()
        },
        &mut SeededRng::new(MIXED_SEED),
    )
    .unwrap();
    let record = outcome.record.clone();
    let events = events_of(&record);
    let state = state_of(&record);
    let fp = state.fingerprint.unwrap();
    let key = state.joint_key.as_ref().unwrap().public_key;

    // §11.12: the rows at close, from the last ballots in the order of the list.
    let close_at = events.iter().position(|e| e.kind() == "close").unwrap();
    let at_close = state_of(&rechained(&events[..=close_at]));
    let mut rows = at_close.mix_rows[0].clone();
    let rows_at_close = rows_json(&rows);
    let mut shuffles = Vec::new();
    for (seq, e) in events.iter().enumerate() {
        let Event::Shuffle(s) = e else { continue };
        let part = &s.body.questions[0];
        let caller = shuffle_caller(&fp, s.body.trustee, 1);
        assert_eq!(
            caller.bytes(),
            mix::shuffle_transcript(&fp, s.body.trustee, 1).bytes()
        );
        let statement = ShuffleStatement {
            key: &key,
            inputs: &rows,
            outputs: &part.outputs,
        };
        part.proof.verify(caller.clone(), &statement).unwrap();
        let (u, c) = part
            .proof
            .challenge_values(caller.clone(), &statement)
            .unwrap();
        shuffles.push(json!({
            "seq": seq,
            "trustee": s.body.trustee,
            "caller_transcript_hex": h(caller.bytes()),
            "u": u.iter().map(sh).collect::<Vec<_>>(),
            "challenge": sh(&c),
        }));
        rows = part.outputs.clone();
    }

    // §10.7: the proof of knowledge of answer 0 of the ranked question of the first ballot.
    let first_ballot = events.iter().position(|e| e.kind() == "ballot").unwrap();
    let Event::Ballot(b) = &events[first_ballot] else {
        panic!("no ballot")
    };
    let ct = b.answers[1].choices[0];
    let proof: RandomnessProof = b.answers[1].randomness_proofs.as_ref().unwrap()[0];
    let mut caller = Transcript::new("ballot-randomness");
    caller
        .append("election", &fp.0)
        .append_point("credential", &b.credential)
        .append_u64("question", 1)
        .append_u64("answer", 0);
    let mut full = caller.clone();
    full.append_point("key", &key)
        .append_point("alpha", &ct.alpha)
        .append_point("beta", &ct.beta)
        .append_point("commitment", &proof.commitment);
    let c = challenge_of(full.bytes());
    assert_eq!(c, proof.challenge(caller.clone(), &key, &ct));
    assert_eq!(
        mul_g(&proof.response),
        proof.commitment.point() + ct.alpha.point() * c,
        "§5.8: zG = A + cα"
    );
    let knowledge = json!({
        "seq": first_ballot,
        "statement": {"key": key.to_hex(), "ciphertext": ct_json(&ct)},
        "caller_transcript_hex": h(caller.bytes()),
        "transcript_hex": h(full.bytes()),
        "challenge": sh(&c),
        "commitment": proof.commitment.to_hex(),
        "response": sh(&proof.response),
    });

    // §11.13: trustee 1's factor of answer 0 of row 0, and the combination of §11.14.
    let shares = &state.shares;
    let vk = state.joint_key.as_ref().unwrap().verification_keys[0];
    let f = &shares[0].mixed.as_ref().unwrap()[0][0][0];
    let mut caller = Transcript::new("decryption-share");
    caller
        .append("election", &fp.0)
        .append_u64("trustee", shares[0].trustee.into())
        .append_u64("question", 1)
        .append_u64("row", 0)
        .append_u64("column", 0);
    let statement = f.statement(&vk, &rows[0][0].alpha);
    f.proof.verify(caller.clone(), &statement).unwrap();
    let factor = json!({
        "trustee": shares[0].trustee,
        "statement": {"alpha": rows[0][0].alpha.to_hex(), "public": vk.to_hex(), "image": f.factor.to_hex()},
        "caller_transcript_hex": h(caller.bytes()),
        "challenge": sh(&f.proof.challenge(caller, &statement)),
    });
    let result = state.result.as_ref().unwrap();
    let lambdas = threshold::lagrange_at_zero(&result.trustees).unwrap();
    let mixed = &result.mixed.as_ref().unwrap()[0];
    let combined: Vec<Vec<String>> = rows
        .iter()
        .enumerate()
        .map(|(i, row)| {
            row.iter()
                .enumerate()
                .map(|(k, ct)| {
                    let mut m = *ct.beta.point();
                    for (lambda, share) in lambdas.iter().zip(shares) {
                        m -= share.mixed.as_ref().unwrap()[0][i][k].factor.point() * lambda;
                    }
                    assert_eq!(
                        m,
                        mul_g(&Scalar::from(mixed.ballots[i][k].unwrap())),
                        "§11.14: mG = β − Σ λⱼDⱼ"
                    );
                    Point::from_point(m).to_hex()
                })
                .collect()
        })
        .collect();
    assert_eq!(
        mix::count_rows(
            &state.definition.as_ref().unwrap().questions[1],
            &mixed.ballots
        )
        .unwrap(),
        mixed.count
    );
    let values = json!({
        "seed": String::from_utf8_lossy(MIXED_SEED),
        "fingerprint": fp.to_hex(),
        "election_key": key.to_hex(),
        "head": Hash32::of(record.lines().last().unwrap().as_bytes()).to_hex(),
        "rows_at_close": rows_at_close,
        "shuffles": shuffles,
        "randomness_proof": knowledge,
        "row_decryption_factor": factor,
        "lagrange": lambdas.iter().map(sh).collect::<Vec<_>>(),
        "combined": combined,
        "ballots": serde_json::to_value(&mixed.ballots).unwrap(),
        "count": serde_json::to_value(&mixed.count).unwrap(),
    });
    check_mixed(&record, &outcome.trustees);
    let parts = mixed_parts(&record, &outcome.trustees);
    (record, values, parts)
}

const MIXED_PARTS_SEED: &[u8] = b"scrutin mixed test vectors, in parts";

/// §11.15: the election of `mixed.jsonl` from its `close` on, with every shuffle and share
/// written in parts of one row; its negative tests.
fn mixed_parts(record: &str, trustees: &[ceremony::TrusteeSecretFile]) -> String {
    use scrutin_election::parts::Layout;
    let events = events_of(record);
    let close_at = events.iter().position(|e| e.kind() == "close").unwrap();
    let mut out = rechained(&events[..=close_at]);
    let mut rng = SeededRng::new(MIXED_PARTS_SEED);
    // Three answers a row: parts of 3 ciphertexts hold one row each.
    let layout = Layout::Parts(3);
    for t in trustees {
        let state = state_of(&out);
        let shuffle = ceremony::trustee_shuffle_laid_out(&state, t, layout, &mut rng).unwrap();
        out.push_str(&ceremony::lines_after(&state, &shuffle).unwrap());
    }
    for t in trustees {
        let state = state_of(&out);
        let share = ceremony::trustee_decrypt_laid_out(&state, t, layout, &mut rng).unwrap();
        out.push_str(&ceremony::lines_after(&state, &share).unwrap());
    }
    let state = state_of(&out);
    out.push_str(
        &ceremony::lines_after(&state, &[ceremony::result_event(&state).unwrap()]).unwrap(),
    );
    let state = state_of(&out);
    // The same ballots, shuffled otherwise: the same count.
    let one_line = state_of(record);
    let count = |s: &RecordState| {
        s.result.as_ref().unwrap().mixed.as_ref().unwrap()[0]
            .count
            .clone()
    };
    assert_eq!(count(&state), count(&one_line));

    let parts = events_of(&out);
    let kinds: Vec<&str> = parts.iter().map(Event::kind).collect();
    let after_close: Vec<&str> = kinds[close_at + 1..].to_vec();
    assert_eq!(
        after_close,
        [
            "shuffle_rows",
            "shuffle_rows",
            "shuffle_rows",
            "shuffle",
            "shuffle_rows",
            "shuffle_rows",
            "shuffle_rows",
            "shuffle",
            "decryption_rows",
            "decryption_rows",
            "decryption_rows",
            "decryption_share",
            "decryption_rows",
            "decryption_rows",
            "decryption_rows",
            "decryption_share",
            "result",
        ]
    );
    let at = |kind: &str, n: usize| {
        kinds
            .iter()
            .enumerate()
            .filter(|(_, k)| **k == kind)
            .nth(n)
            .unwrap()
            .0
    };
    // A part left out (the record chained again): the shuffle has a row too few, M1; the
    // share too, D1.
    let without = |i: usize| {
        let mut e = parts.clone();
        e.remove(i);
        e
    };
    let second_shuffle = at("shuffle", 1);
    expect_failure(
        &without(at("shuffle_rows", 4)),
        "M1",
        second_shuffle as u64 - 1,
    );
    let first_share = at("decryption_share", 0);
    expect_failure(
        &without(at("decryption_rows", 1)),
        "D1",
        first_share as u64 - 1,
    );
    // Two parts of a shuffle swapped: the rows are out of order, M1.
    let mut e = parts.clone();
    e.swap(at("shuffle_rows", 0), at("shuffle_rows", 1));
    expect_failure(&e, "M1", at("shuffle", 0) as u64);
    // Trustee 2's first part of its share before trustee 1's share: the lines of one event
    // are consecutive, R4.
    let mut e = parts.clone();
    let moved = e.remove(at("decryption_rows", 3));
    e.insert(first_share, moved);
    expect_failure(&e, "R4", first_share as u64);
    // A result line right after parts: R4.
    let mut e = parts.clone();
    e.truncate(at("decryption_rows", 3) + 1);
    e.push(parts.last().unwrap().clone());
    expect_failure(&e, "R4", at("decryption_rows", 3) as u64 + 1);
    out
}

/// The negative tests of §13 for `mixed.jsonl`.
fn check_mixed(record: &str, trustees: &[ceremony::TrusteeSecretFile]) {
    let events = events_of(record);
    let kinds: Vec<&str> = events.iter().map(Event::kind).collect();
    let shuffles: Vec<usize> = (0..kinds.len())
        .filter(|i| kinds[*i] == "shuffle")
        .collect();
    assert_eq!(shuffles.len(), 2);
    // Two output rows swapped, or one output ciphertext replaced, in the second shuffle
    // (signed again by its trustee): M1.
    let ctx = state_of(record).election_hash;
    let resigned = |change: &dyn Fn(&mut scrutin_election::mix::Shuffle)| {
        let mut e = events.clone();
        let Event::Shuffle(s) = &e[shuffles[1]] else {
            panic!("no shuffle")
        };
        let mut body = s.body.clone();
        change(&mut body);
        let key = &trustees[body.trustee as usize - 1].role_key;
        e[shuffles[1]] = Event::Shuffle(
            roles::Signed::sign(body, "shuffle", &ctx, key, &mut SeededRng::new(b"m1")).unwrap(),
        );
        e
    };
    expect_failure(
        &resigned(&|b| b.questions[0].outputs.swap(0, 1)),
        "M1",
        shuffles[1] as u64,
    );
    expect_failure(
        &resigned(&|b| b.questions[0].outputs[1][2] = b.questions[0].outputs[0][2]),
        "M1",
        shuffles[1] as u64,
    );
    // A count of the result changed: D6.
    let mut e = events.clone();
    let Some(Event::Result(r)) = e.last_mut() else {
        panic!("no result")
    };
    if let Some(scrutin_election::mix::CountResult::Schulze(s)) =
        r.mixed.as_mut().map(|m| &mut m[0].count)
    {
        s.pairwise[0][1] += 1;
    }
    expect_failure(&e, "D6", events.len() as u64 - 1);
    // A decrypted rank changed: D5.
    let mut e = events.clone();
    let Some(Event::Result(r)) = e.last_mut() else {
        panic!("no result")
    };
    let m = &mut r.mixed.as_mut().unwrap()[0];
    m.ballots[0][0] = Some(m.ballots[0][0].map_or(0, |v| (v + 1) % 4));
    expect_failure(&e, "D5", events.len() as u64 - 1);
}

fn build() -> Output {
    let mut rng = SeededRng::new(SEED);
    let keys = role_keys(&mut rng);
    let def = definition(&keys);
    let mut record = String::new();

    // §11.3: the election; §6: the key generation.
    let mut state = push(&mut record, &[ceremony::election_event(&def).unwrap()]);
    let mut secrets = Vec::new();
    let mut events = Vec::new();
    for key in &keys.trustees {
        let (s, e) = ceremony::trustee_commit(&state, key, &mut rng).unwrap();
        secrets.push(s);
        events.push(e);
    }
    state = push(&mut record, &events);
    let deals: Vec<Event> = secrets
        .iter()
        .map(|s| ceremony::trustee_deal(&state, s, &mut rng).unwrap())
        .collect();
    state = push(&mut record, &deals);
    let checks: Vec<Event> = secrets
        .iter()
        .map(|s| ceremony::trustee_check(&state, s, &mut rng).unwrap())
        .collect();
    state = push(&mut record, &checks);
    state = push(
        &mut record,
        &[ceremony::election_key_event(&state).unwrap()],
    );

    // §9: credentials for three voters, weights 1, 1, 2.
    let voters: Vec<(String, u64)> = vec![
        ("voter1".into(), 1),
        ("voter2".into(), 1),
        ("voter3".into(), 2),
    ];
    let (issued, list) = credential::issue(&def.id, &voters, &mut rng).unwrap();
    state = push(
        &mut record,
        &[ceremony::credentials_event(&state, list, &keys.authority, &mut rng).unwrap()],
    );
    state = push(&mut record, &[ceremony::open_event(&state).unwrap()]);

    // §10: ballots. voter3 votes twice; the second ballot counts.
    let creds: Vec<Credential> = issued
        .iter()
        .map(|c| Credential::parse(&c.credential).unwrap())
        .collect();
    let votes: Vec<(usize, Vec<QuestionChoice>)> = vec![
        (
            0,
            vec![
                QuestionChoice::Values(vec![1, 0, 0]),
                QuestionChoice::Values(vec![2, 1]),
            ],
        ),
        (
            1,
            vec![QuestionChoice::blank(), QuestionChoice::Values(vec![0, 0])],
        ),
        (
            2,
            vec![
                QuestionChoice::Values(vec![0, 1, 0]),
                QuestionChoice::Values(vec![1, 1]),
            ],
        ),
        (
            2,
            vec![
                QuestionChoice::Values(vec![0, 0, 1]),
                QuestionChoice::Values(vec![0, 2]),
            ],
        ),
    ];
    let ctx: &VotingContext = state.context.as_ref().unwrap();
    let mut ballots = Vec::new();
    for (v, choice) in &votes {
        let (b, _) = ballot::encrypt(ctx, &creds[*v], choice, &mut rng).unwrap();
        ballots.push(b);
    }
    // A Benaloh audit (§10.6) of a ballot that is never cast.
    let audit_choices = vec![
        QuestionChoice::Values(vec![0, 0, 1]),
        QuestionChoice::Values(vec![1, 0]),
    ];
    let (audit_ballot, audit_randomness) =
        ballot::encrypt(ctx, &creds[0], &audit_choices, &mut rng).unwrap();
    let audit = AuditedBallot {
        ballot: audit_ballot,
        choices: audit_choices.clone(),
        randomness: audit_randomness,
    };
    assert_eq!(ballot::check_audit(ctx, &audit).unwrap(), audit_choices);

    let ballot_events: Vec<Event> = ballots
        .iter()
        .map(|b| Event::Ballot(Box::new(b.clone())))
        .collect();
    state = push(&mut record, &ballot_events);
    state = push(&mut record, &[ceremony::close_event(&state).unwrap()]);
    let shares: Vec<Event> = secrets
        .iter()
        .flat_map(|s| ceremony::trustee_decrypt(&state, s, &mut rng).unwrap())
        .collect();
    state = push(&mut record, &shares);
    state = push(&mut record, &[ceremony::result_event(&state).unwrap()]);
    assert_eq!(state.stage(), Stage::Tallied);
    let result = state.result.clone().unwrap();
    // voter1 → Ada (1), voter2 → blank (1), voter3 (weight 2) → Claude.
    assert_eq!(result.questions[0].choices, vec![1, 0, 2]);
    assert_eq!(result.questions[0].blank, Some(1));
    // Scores: voter1 (2, 1), voter2 (0, 0), voter3 (weight 2) (0, 2).
    assert_eq!(result.questions[1].choices, vec![2, 5]);
    assert_eq!(result.ballots_counted, 3);
    assert_eq!(result.total_weight, 4);

    let fp = state.fingerprint.unwrap();
    let ctx_bytes = state.election_hash.0;
    let key = state.joint_key.clone().unwrap();
    let h_key = key.public_key;

    // Line hashes (§11.1).
    let lines = split_lines(record.as_bytes()).unwrap();
    let mut prev = [0u8; 32];
    let mut line_hashes = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        let v: Value = serde_json::from_slice(l).unwrap();
        assert_eq!(v["seq"], json!(i));
        assert_eq!(v["prev"], json!(h(&prev)));
        let hash: [u8; 32] = Sha256::digest(l).into();
        line_hashes.push(json!({"seq": i, "type": v["type"], "prev": h(&prev), "hash": h(&hash), "length": l.len()}));
        prev = hash;
    }
    assert_eq!(h(&prev), state.head.to_hex());
    assert_eq!(h(&ctx_bytes), line_hashes[0]["hash"].as_str().unwrap());
    let open_seq = line_hashes
        .iter()
        .position(|l| l["type"] == "open")
        .unwrap();
    assert_eq!(fp.to_hex(), line_hashes[open_seq]["prev"].as_str().unwrap());

    // §9: credential of voter1.
    let shown = issued[0].credential.clone();
    let symbols: String = shown.chars().filter(|c| *c != '-').collect();
    let random_part = &symbols[..22];
    let mut ck = Transcript::new("credential-checksum");
    ck.append("credential", random_part.as_bytes());
    let ck_digest = Sha512::digest(ck.bytes());
    let check_syms = [
        ALPHABET[(ck_digest[0] & 31) as usize] as char,
        ALPHABET[(ck_digest[1] & 31) as usize] as char,
    ];
    assert_eq!(&symbols[22..], check_syms.iter().collect::<String>());
    let mut sk_t = Transcript::new("credential-key");
    sk_t.append("election", def.id.as_bytes())
        .append("credential", symbols.as_bytes());
    let sk = challenge_of(sk_t.bytes());
    assert_eq!(sk, *creds[0].signing_key(&def.id).expose());
    let pk = Point::from_point(mul_g(&sk));
    assert!(state.credential_weight(pk.as_bytes()).is_some());
    // A sloppy typing of the same credential parses to the same one.
    let sloppy: String = shown
        .to_lowercase()
        .replace('-', " ")
        .chars()
        .map(|c| match c {
            '0' => 'o',
            '1' => 'l',
            c => c,
        })
        .collect();
    assert_eq!(Credential::parse(&sloppy).unwrap(), creds[0]);
    let credential_vector = json!({
        "election_id": def.id,
        "voter": issued[0].voter,
        "display": shown,
        "typed_variant_accepted": sloppy,
        "symbols": symbols,
        "checksum": {
            "random_symbols": random_part,
            "transcript_hex": h(ck.bytes()),
            "sha512_hex": h(&ck_digest),
            "byte0": ck_digest[0],
            "byte1": ck_digest[1],
            "index0": ck_digest[0] & 31,
            "index1": ck_digest[1] & 31,
            "checksum_symbols": check_syms.iter().collect::<String>(),
        },
        "signing_key_transcript_hex": h(sk_t.bytes()),
        "signing_key": sh(&sk),
        "public_key": pk.to_hex(),
    });

    // §5.1 / §6.3: Schnorr proof of trustee 1's coefficient a₁₀, in its dealing.
    let dealing = state.dealt[0].clone().unwrap();
    let x = dealing.coefficient_commitments[0];
    let proof = dealing.coefficient_proofs[0];
    let mut caller = Transcript::new("dkg-coefficient");
    caller
        .append("context", &ctx_bytes)
        .append_u64("trustee", 1)
        .append_u64("position", 0);
    let mut t = caller.clone();
    t.append_point("public", &x)
        .append_point("commitment", &proof.commitment);
    let c = challenge_of(t.bytes());
    assert_eq!(c, proof.challenge(caller.clone(), &x));
    assert_eq!(
        mul_g(&proof.response),
        proof.commitment.point() + x.point() * c
    );
    let schnorr_vector = json!({
        "seq": line_hashes.iter().position(|l| l["type"] == "dealer_shares").unwrap(),
        "tag": "dkg-coefficient",
        "context_hex": h(&ctx_bytes),
        "trustee": 1, "position": 0,
        "statement": {"public": x.to_hex()},
        "caller_transcript_hex": h(caller.bytes()),
        "transcript_hex": h(t.bytes()),
        "sha512_hex": h(&Sha512::digest(t.bytes())),
        "challenge": sh(&c),
        "commitment": proof.commitment.to_hex(),
        "response": sh(&proof.response),
    });

    // §10.4: the signature of voter1's ballot, its content digest; §10.5: its tracker.
    let b0 = &ballots[0];
    let content = content_transcript(b0);
    let digest: [u8; 64] = Sha512::digest(content.bytes()).into();
    assert_eq!(digest, b0.content_digest());
    let mut sig_caller = Transcript::new("ballot-signature");
    sig_caller
        .append("election", &fp.0)
        .append("content", &digest);
    let mut t = sig_caller.clone();
    t.append_point("public", &b0.credential)
        .append_point("commitment", &b0.signature.commitment);
    let c = challenge_of(t.bytes());
    assert_eq!(
        c,
        b0.signature.challenge(sig_caller.clone(), &b0.credential)
    );
    assert_eq!(
        mul_g(&b0.signature.response),
        b0.signature.commitment.point() + b0.credential.point() * c
    );
    let mut tr = Transcript::new("ballot-tracker");
    tr.append("content", &digest)
        .append_point("signature_commitment", &b0.signature.commitment)
        .append_scalar("signature_response", &b0.signature.response);
    let tracker: [u8; 32] = Sha256::digest(tr.bytes()).into();
    assert_eq!(h(&tracker), b0.tracker().to_hex());
    let ballot_seq = line_hashes
        .iter()
        .position(|l| l["type"] == "ballot")
        .unwrap();
    let signature_vector = json!({
        "ballot_seq": ballot_seq,
        "content_transcript_hex": h(content.bytes()),
        "content_digest": h(&digest),
        "caller_transcript_hex": h(sig_caller.bytes()),
        "transcript_hex": h(t.bytes()),
        "sha512_hex": h(&Sha512::digest(t.bytes())),
        "statement": {"public": b0.credential.to_hex()},
        "challenge": sh(&c),
        "commitment": b0.signature.commitment.to_hex(),
        "response": sh(&b0.signature.response),
        "tracker_transcript_hex": h(tr.bytes()),
        "tracker": h(&tracker),
    });

    // §10.2: the bits proof of voter1's first question (3 answers and the blank
    // indicator) and the range proof of their score for the first proposal; §10.3: the
    // sum proof of the first question.
    let a0 = &b0.answers[0];
    let blank_ct = a0.blank.unwrap();
    let mut bi = Transcript::new("ballot-bits");
    bi.append("election", &fp.0)
        .append_point("credential", &b0.credential)
        .append_u64("question", 0);
    let bit_cts: Vec<Ciphertext> = a0.choices.iter().copied().chain([blank_ct]).collect();
    let bits_vector = bits_vector(bi, &h_key, &bit_cts, a0.bits_proof.as_ref().unwrap());
    let a1 = &b0.answers[1];
    let mut ch = Transcript::new("ballot-choice");
    ch.append("election", &fp.0)
        .append_point("credential", &b0.credential)
        .append_u64("question", 1)
        .append_u64("answer", 0);
    let choice_vector = membership_vector(
        "choice",
        ch,
        &h_key,
        &a1.choices[0],
        &[0, 1, 2],
        &a1.choice_proofs.as_ref().unwrap()[0],
    );
    let marker = Scalar::from(4u64);
    let mut sa = RistrettoPoint::default();
    let mut sb = RistrettoPoint::default();
    for c in &a0.choices {
        sa += c.alpha.point();
        sb += c.beta.point();
    }
    sa += blank_ct.alpha.point() * marker;
    sb += blank_ct.beta.point() * marker;
    let sum_ct = Ciphertext {
        alpha: Point::from_point(sa),
        beta: Point::from_point(sb),
    };
    let mut su = Transcript::new("ballot-sum");
    su.append("election", &fp.0)
        .append_point("credential", &b0.credential)
        .append_u64("question", 0);
    let sum_vector = membership_vector(
        "sum",
        su,
        &h_key,
        &sum_ct,
        &[1, 4],
        a0.sum_proof.as_ref().unwrap(),
    );

    // §5.3 / §11.9: trustee 1's decryption factor for position 0 (Ada).
    let close = state.close.clone().unwrap();
    let share = &state.shares[0];
    let tally_ct = close.tally[0].choices[0];
    let factor = share.factors[0].choices[0];
    let y = key.verification_keys[0];
    let mut dc = Transcript::new("decryption-share");
    dc.append("election", &fp.0)
        .append_u64("trustee", 1)
        .append_u64("position", 0);
    let mut t = dc.clone();
    t.append_point("base", &tally_ct.alpha)
        .append_point("public", &y)
        .append_point("image", &factor.factor)
        .append_point("commitment_g", &factor.proof.commitment_g)
        .append_point("commitment_b", &factor.proof.commitment_b);
    let c = challenge_of(t.bytes());
    let st = DleqStatement {
        base: &tally_ct.alpha,
        public: &y,
        image: &factor.factor,
    };
    assert_eq!(c, factor.proof.challenge(dc.clone(), &st));
    assert_eq!(
        mul_g(&factor.proof.response),
        factor.proof.commitment_g.point() + y.point() * c
    );
    assert_eq!(
        tally_ct.alpha.point() * factor.proof.response,
        factor.proof.commitment_b.point() + factor.factor.point() * c
    );
    let dleq_vector = json!({
        "tag": "decryption-share",
        "trustee": 1, "position": 0,
        "statement": {"base": tally_ct.alpha.to_hex(), "public": y.to_hex(), "image": factor.factor.to_hex()},
        "caller_transcript_hex": h(dc.bytes()),
        "transcript_hex": h(t.bytes()),
        "sha512_hex": h(&Sha512::digest(t.bytes())),
        "challenge": sh(&c),
        "commitment_g": factor.proof.commitment_g.to_hex(),
        "commitment_b": factor.proof.commitment_b.to_hex(),
        "response": sh(&factor.proof.response),
    });

    // §6.2: trustee 1's coefficients hash, from the commitments it reveals in its dealing.
    let commitment = state.commitments[0].clone().unwrap();
    let mut ch_t = Transcript::new("dkg-coefficients-hash");
    ch_t.append("context", &ctx_bytes).append_u64("trustee", 1);
    for a in &dealing.coefficient_commitments {
        ch_t.append_point("commitment", a);
    }
    assert_eq!(
        ch_t.bytes(),
        dkg::coefficients_hash_transcript(&ctx_bytes, 1, &dealing.coefficient_commitments).bytes()
    );
    let ch_digest = Sha512::digest(ch_t.bytes());
    assert_eq!(ch_digest[..32], commitment.coefficients_hash);
    let coefficients_hash_vector = json!({
        "trustee": 1,
        "commitments": dealing.coefficient_commitments.iter().map(Point::to_hex).collect::<Vec<_>>(),
        "transcript_hex": h(ch_t.bytes()),
        "coefficients_hash": h(&ch_digest[..32]),
    });

    // §8.6: the role keys and their fingerprints.
    let role_keys_vector: Vec<Value> = keys
        .trustees
        .iter()
        .chain([&keys.authority, &keys.board])
        .map(fingerprint_vector)
        .collect();

    // §11.11: trustee 1's signature on its trustee_commitment (line 1).
    let line1 = std::str::from_utf8(lines[1]).unwrap();
    let Event::TrusteeCommitment(signed) = event_of_line(line1) else {
        panic!("line 1 is not a trustee commitment")
    };
    let unsigned = serde_json::to_string(&signed.body).unwrap();
    let mut es = Transcript::new("event-signature");
    es.append("context", &ctx_bytes)
        .append("type", b"trustee_commitment")
        .append("body", unsigned.as_bytes());
    assert_eq!(
        es.bytes(),
        roles::event_transcript(
            &state.election_hash,
            "trustee_commitment",
            unsigned.as_bytes()
        )
        .bytes()
    );
    let signature_json = serde_json::to_string(&signed.signature).unwrap();
    let written = format!(
        "{},\"signature\":{signature_json}}}",
        unsigned.strip_suffix('}').unwrap()
    );
    assert!(line1.ends_with(&format!(",\"body\":{written}}}")));
    signed
        .verify(
            "trustee_commitment",
            &state.election_hash,
            &keys.trustees[0].signing_key,
        )
        .unwrap();
    let mut event_signature_vector =
        schnorr_signature(&es, &keys.trustees[0].signing_key, &signed.signature);
    event_signature_vector["seq"] = json!(1);
    event_signature_vector["type"] = json!("trustee_commitment");
    event_signature_vector["unsigned_body"] = json!(unsigned);
    event_signature_vector["body"] = json!(written);

    // §14.1: the board's signed head of the final record.
    let length = lines.len() as u64;
    let head = SignedHead::sign(
        &keys.board,
        state.election_hash,
        length,
        state.head,
        &mut rng,
    );
    head.verify(&keys.board.signing_key).unwrap();
    let mut ht = Transcript::new("board-head");
    ht.append("election", &ctx_bytes)
        .append_u64("length", length)
        .append("head", &state.head.0);
    let mut signed_head_vector = schnorr_signature(&ht, &keys.board.signing_key, &head.signature);
    signed_head_vector["signed_head"] = serde_json::to_value(&head).unwrap();

    // §14.2: the board's receipt for the ballot at the first ballot's seq (voter 1).
    let ballot_line_hash = Hash32::of(lines[ballot_seq]);
    let receipt = Receipt::sign(
        &keys.board,
        fp,
        ballot_seq as u64,
        b0.tracker(),
        ballot_line_hash,
        issued[0].weight,
        &mut rng,
    );
    receipt.verify(&keys.board.signing_key).unwrap();
    let mut rt = Transcript::new("board-receipt");
    rt.append("election", &fp.0)
        .append_u64("seq", ballot_seq as u64)
        .append("tracker", &b0.tracker().0)
        .append("head", &ballot_line_hash.0)
        .append_u64("weight", issued[0].weight);
    let mut receipt_vector = schnorr_signature(&rt, &keys.board.signing_key, &receipt.signature);
    receipt_vector["receipt"] = serde_json::to_value(&receipt).unwrap();

    // The private list of the credential authority (§9.4), with each derived public key.
    let private: Vec<Value> = issued
        .iter()
        .zip(&creds)
        .map(|(i, c)| {
            json!({"issued": serde_json::to_value(i).unwrap(), "public_key": c.signing_key(&def.id).public().to_hex()})
        })
        .collect();

    let proofs = json!({
        "seed": String::from_utf8_lossy(SEED),
        "board_key": keys.board.signing_key.to_hex(),
        "role_keys": role_keys_vector,
        "event_signature": event_signature_vector,
        "coefficients_hash": coefficients_hash_vector,
        "signed_head": signed_head_vector,
        "receipt": receipt_vector,
        "election_id": def.id,
        "dkg_context": h(&ctx_bytes),
        "fingerprint": fp.to_hex(),
        "election_key": h_key.to_hex(),
        "head": state.head.to_hex(),
        "line_hashes": line_hashes,
        "credential": credential_vector,
        "issued_credentials": private,
        "schnorr_coefficient_proof": schnorr_vector,
        "ballot_signature": signature_vector,
        "bits_proof": bits_vector,
        "choice_range_proof": choice_vector,
        "sum_proof": sum_vector,
        "decryption_factor_proof": dleq_vector,
        "benaloh_audit": serde_json::to_value(&audit).unwrap(),
        "benaloh_audit_tracker": audit.ballot.tracker().to_hex(),
        "result": serde_json::to_value(&result).unwrap(),
    });
    // §5.5: a shuffle, from the same generator, after every other draw.
    let shuffle = shuffle_vector(&mut rng, &fp, &h_key);
    let (mixed_record, mixed, mixed_parts_record) = mixed_vectors();
    Output {
        record,
        proofs: serde_json::to_string_pretty(&sorted(proofs)).unwrap() + "\n",
        shuffle: serde_json::to_string_pretty(&sorted(shuffle)).unwrap() + "\n",
        mixed_record,
        mixed: serde_json::to_string_pretty(&sorted(mixed)).unwrap() + "\n",
        mixed_parts_record,
    }
}

/// The events of a record's lines.
fn events_of(record: &str) -> Vec<Event> {
    record.lines().map(event_of_line).collect()
}

/// The record of `events`, each line's `seq` and `prev` recomputed.
fn rechained(events: &[Event]) -> String {
    let mut writer = RecordWriter::default();
    let mut out = String::new();
    for e in events {
        out.push_str(&writer.line(e).unwrap());
        out.push('\n');
    }
    out
}

#[track_caller]
fn expect_failure(events: &[Event], check: &str, seq: u64) {
    match verify_record(rechained(events).as_bytes(), &NoProgress) {
        Ok(_) => panic!("the altered record verified; expected {check} at {seq}"),
        Err(e) => assert_eq!((e.check, e.seq), (check, Some(seq)), "{e}"),
    }
}

/// The negative tests and prefixes that spec §13 describes.
fn check_section_13(record: &str) {
    let events = events_of(record);
    assert_eq!(rechained(&events), record);
    let kinds: Vec<&str> = events.iter().map(Event::kind).collect();
    assert_eq!(
        kinds,
        [
            "election",
            "trustee_commitment",
            "trustee_commitment",
            "dealer_shares",
            "dealer_shares",
            "trustee_check",
            "trustee_check",
            "election_key",
            "credentials",
            "open",
            "ballot",
            "ballot",
            "ballot",
            "ballot",
            "close",
            "decryption_share",
            "decryption_share",
            "result",
        ]
    );
    // A count of the result changed: D3.
    let mut e = events.clone();
    let Some(Event::Result(r)) = e.last_mut() else {
        panic!("no result")
    };
    r.questions[0].choices[0] += 1;
    expect_failure(&e, "D3", 17);
    // The signature commitment of the ballot at seq 10 replaced: B4.
    let mut e = events.clone();
    let Event::Ballot(b) = &mut e[10] else {
        panic!("no ballot at 10")
    };
    b.signature.commitment = Point::generator();
    expect_failure(&e, "B4", 10);
    // A copy of that ballot inserted before close: B7.
    let mut e = events.clone();
    e.insert(14, events[10].clone());
    expect_failure(&e, "B7", 14);
    // The re-vote (seq 13) removed: T1.
    let mut e = events.clone();
    e.remove(13);
    expect_failure(&e, "T1", 13);
    // Prefixes: without the last line, a closed record; lines 0–11, an open one.
    let closed = rechained(&events[..17]);
    let v = verify_record(closed.as_bytes(), &NoProgress).unwrap();
    assert_eq!(v.state.stage(), Stage::Closed);
    let open = rechained(&events[..12]);
    let v = verify_record(open.as_bytes(), &NoProgress).unwrap();
    assert_eq!(v.state.stage(), Stage::Open);
}

fn main() {
    let dir = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "docs/test-vectors".into()),
    );
    let first = build();
    let second = build();
    assert_eq!(
        first.record, second.record,
        "the record is not deterministic"
    );
    assert_eq!(
        first.proofs, second.proofs,
        "proofs.json is not deterministic"
    );
    assert_eq!(
        first.shuffle, second.shuffle,
        "shuffle.json is not deterministic"
    );
    assert_eq!(
        first.mixed_record, second.mixed_record,
        "mixed.jsonl is not deterministic"
    );
    assert_eq!(first.mixed, second.mixed, "mixed.json is not deterministic");
    assert_eq!(
        first.mixed_parts_record, second.mixed_parts_record,
        "mixed-parts.jsonl is not deterministic"
    );
    let verified =
        verify_record(first.record.as_bytes(), &NoProgress).unwrap_or_else(|e| panic!("{e}"));
    check_section_13(&first.record);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("record.jsonl"), &first.record).unwrap();
    std::fs::write(dir.join("proofs.json"), &first.proofs).unwrap();
    std::fs::write(dir.join("shuffle.json"), &first.shuffle).unwrap();
    std::fs::write(dir.join("mixed.jsonl"), &first.mixed_record).unwrap();
    std::fs::write(dir.join("mixed.json"), &first.mixed).unwrap();
    std::fs::write(dir.join("mixed-parts.jsonl"), &first.mixed_parts_record).unwrap();
    println!("{}", verified.summary());
    println!(
        "wrote record.jsonl, proofs.json, shuffle.json, mixed.jsonl, mixed.json and mixed-parts.jsonl in {}",
        dir.display()
    );
}
