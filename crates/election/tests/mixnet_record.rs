//! Ranked and graded questions after `close` (spec §11.12–§11.14, checks M1, D1, D5, D6,
//! R4, S1): the trustees' shuffles, the decryption of the rows and the count, on whole
//! records, and what each tampering fails.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use scrutin_election::Hash32;
use scrutin_election::ballot;
use scrutin_election::ceremony::{self, TrusteeStep};
use scrutin_election::credential::Credential;
use scrutin_election::crypto::elgamal::{Ciphertext, EncryptionKey};
use scrutin_election::crypto::knowledge::RandomnessProof;
use scrutin_election::crypto::rng::SeededRng;
use scrutin_election::crypto::schnorr::SchnorrProof;
use scrutin_election::crypto::transcript::Transcript;
use scrutin_election::crypto::{Point, Scalar};
use scrutin_election::definition::{ElectionDescription, Question, QuestionChoice};
use scrutin_election::demo::{self, DemoOptions, DemoOutcome};
use scrutin_election::mix::CountResult;
use scrutin_election::record::{Event, RecordWriter, parse_line};
use scrutin_election::roles::Signed;
use scrutin_election::verify::{NoProgress, RecordState, VerifyError, verify_record};

const QUESTIONS: &str = r#"
title = "t"
threshold = 2

[[question]]
text = "Who should chair?"
answers = ["Ada", "Blaise", "Claude"]
min = 1
max = 1
blank = true

[[question]]
text = "Rank the logos"
answers = ["Red", "Green", "Blue"]
kind = "ranked"
method = "schulze"

[[question]]
text = "Grade each proposal"
answers = ["North", "South"]
kind = "grades"
method = "majority-judgment"
grades = ["Excellent", "Good", "Poor"]

[[question]]
text = "Elect two"
answers = ["Ada", "Blaise", "Claude", "Dorothy"]
kind = "ranked"
method = "stv"
seats = 2
"#;

fn questions() -> Vec<Question> {
    let (trustees, authority) = demo::role_keys(&["A", "B", "C"], b"mixnet record");
    let text = format!("{QUESTIONS}{}", demo::roles_toml(&trustees, &authority));
    ElectionDescription::from_toml(&text).unwrap().questions
}

fn election(seed: &[u8], absent: Vec<u32>) -> DemoOutcome {
    demo::run(
        &DemoOptions {
            voters: 5,
            trustees: 3,
            threshold: 2,
            absent_trustees: absent,
            weights: 2,
            questions: questions(),
            ..Default::default()
        },
        &mut SeededRng::new(seed),
    )
    .unwrap()
}

fn events(record: &str) -> Vec<Event> {
    record
        .lines()
        .map(|l| parse_line(l.as_bytes()).unwrap().event)
        .collect()
}

/// The record of `events`, chained anew.
fn record_of(events: &[Event]) -> String {
    let mut w = RecordWriter::default();
    events
        .iter()
        .map(|e| format!("{}\n", w.line(e).unwrap()))
        .collect()
}

fn verify(events: &[Event]) -> Result<RecordState, VerifyError> {
    verify_record(record_of(events).as_bytes(), &NoProgress).map(|v| v.state)
}

fn expect(events: &[Event], check: &str, seq: usize) {
    let e = verify(events).err().expect("the record must be refused");
    assert_eq!((e.check, e.seq), (check, Some(seq as u64)), "{e}");
}

fn context(events: &[Event]) -> Hash32 {
    let line = record_of(&events[..1]);
    Hash32::of(line.trim_end().as_bytes())
}

fn positions(events: &[Event], kind: &str) -> Vec<usize> {
    events
        .iter()
        .enumerate()
        .filter(|(_, e)| e.kind() == kind)
        .map(|(i, _)| i)
        .collect()
}

/// Signs a changed shuffle again with its trustee's key, as a dishonest trustee would.
fn resign(outcome: &DemoOutcome, events: &mut [Event], i: usize) {
    let ctx = context(events);
    let Event::Shuffle(s) = &events[i] else {
        panic!("not a shuffle")
    };
    let file = &outcome.trustees[s.body.trustee as usize - 1];
    let body = s.body.clone();
    events[i] = Event::Shuffle(
        Signed::sign(
            body,
            "shuffle",
            &ctx,
            &file.role_key,
            &mut SeededRng::new(b"r"),
        )
        .unwrap(),
    );
}

fn shuffle_mut(events: &mut [Event], i: usize) -> &mut scrutin_election::mix::Shuffle {
    match &mut events[i] {
        Event::Shuffle(s) => &mut s.body,
        _ => panic!("not a shuffle"),
    }
}

#[test]
fn a_mixed_election_verifies_with_its_shuffles_decryption_and_count() {
    let outcome = election(b"mixed", vec![]);
    let events = events(&outcome.record);
    let state = verify(&events).unwrap();
    assert_eq!(state.shuffles.len(), 3);
    let result = state.result.as_ref().unwrap();
    let mixed = result.mixed.as_ref().unwrap();
    assert_eq!(mixed.len(), 3);
    // Every unit of weight is one row: the total weight of those who voted.
    for m in mixed {
        assert_eq!(m.ballots.len() as u64, result.total_weight);
    }
    assert!(matches!(mixed[0].count, CountResult::Schulze(_)));
    assert!(matches!(mixed[1].count, CountResult::MajorityJudgment(_)));
    match &mixed[2].count {
        CountResult::Stv(r) => assert_eq!(r.elected.len(), 2),
        other => panic!("{other:?}"),
    }
    // Only two trustees present: two shuffles suffice (k = 2).
    let outcome = election(b"two present", vec![3]);
    let state = verify(&events_of(&outcome)).unwrap();
    assert_eq!(state.shuffles.len(), 2);
    assert!(state.result.unwrap().mixed.is_some());
}

fn events_of(outcome: &DemoOutcome) -> Vec<Event> {
    events(&outcome.record)
}

#[test]
fn a_ciphertext_replaced_in_a_shuffle_output_fails_m1() {
    let outcome = election(b"mixed", vec![]);
    let mut ev = events_of(&outcome);
    let at = positions(&ev, "shuffle")[1];
    let key = EncryptionKey::new(match &ev[positions(&ev, "election_key")[0]] {
        Event::ElectionKey(k) => k.public_key,
        _ => panic!("no election key"),
    });
    shuffle_mut(&mut ev, at).questions[0].outputs[2][1] =
        Ciphertext::encrypt(&key, 1, &Scalar::from(12345u64));
    resign(&outcome, &mut ev, at);
    expect(&ev, "M1", at);
}

#[test]
fn two_rows_swapped_without_proof_fail_m1() {
    let outcome = election(b"mixed", vec![]);
    let mut ev = events_of(&outcome);
    let at = positions(&ev, "shuffle")[2];
    shuffle_mut(&mut ev, at).questions[2].outputs.swap(0, 1);
    resign(&outcome, &mut ev, at);
    expect(&ev, "M1", at);
}

#[test]
fn a_proof_from_another_shuffle_fails_m1() {
    let outcome = election(b"mixed", vec![]);
    let mut ev = events_of(&outcome);
    let [first, second, ..] = positions(&ev, "shuffle")[..] else {
        panic!("two shuffles")
    };
    let proof = shuffle_mut(&mut ev, first).questions[1].proof.clone();
    shuffle_mut(&mut ev, second).questions[1].proof = proof;
    resign(&outcome, &mut ev, second);
    expect(&ev, "M1", second);
    // The same outputs and proof under another question's number do not verify either.
    let mut ev = events_of(&outcome);
    let q = shuffle_mut(&mut ev, first).questions.clone();
    shuffle_mut(&mut ev, first).questions = vec![q[0].clone(), q[0].clone(), q[2].clone()];
    resign(&outcome, &mut ev, first);
    expect(&ev, "M1", first);
}

#[test]
fn a_trustee_shuffles_once_and_signs_its_shuffle() {
    let outcome = election(b"mixed", vec![]);
    let ev = events_of(&outcome);
    let shuffles = positions(&ev, "shuffle");
    // The first shuffle again, after the others: trustee 1 shuffled already.
    let mut twice = ev[..=shuffles[2]].to_vec();
    twice.push(ev[shuffles[0]].clone());
    let e = verify(&twice).err().expect("refused");
    assert_eq!(
        (e.check, e.seq),
        ("M1", Some(twice.len() as u64 - 1)),
        "{e}"
    );
    assert!(e.message.contains("shuffled twice"), "{e}");
    // Signed with another trustee's key.
    let mut forged = ev.clone();
    let Event::Shuffle(s) = &forged[shuffles[0]] else {
        panic!()
    };
    let body = s.body.clone();
    forged[shuffles[0]] = Event::Shuffle(
        Signed::sign(
            body,
            "shuffle",
            &context(&ev),
            &outcome.trustees[1].role_key,
            &mut SeededRng::new(b"f"),
        )
        .unwrap(),
    );
    expect(&forged, "S1", shuffles[0]);
}

#[test]
fn the_decryption_waits_for_k_shuffles() {
    let outcome = election(b"mixed", vec![]);
    let ev = events_of(&outcome);
    let shuffles = positions(&ev, "shuffle");
    let first_share = positions(&ev, "decryption_share")[0];
    // Only one shuffle (k = 2) before the first share.
    let mut one: Vec<Event> = ev[..=shuffles[0]].to_vec();
    one.push(ev[first_share].clone());
    expect(&one, "R4", shuffles[0] + 1);
    // A shuffle after a decryption share.
    let mut late: Vec<Event> = ev[..=first_share].to_vec();
    late.push(ev[shuffles[2]].clone());
    expect(&late, "R4", first_share + 1);
    // The ceremony says whose turn it is.
    let closed = verify(&ev[..shuffles[0]]).unwrap();
    assert_eq!(
        ceremony::trustee_step(&closed, 1).unwrap(),
        TrusteeStep::Shuffle
    );
    assert!(
        ceremony::trustee_decrypt(&closed, &outcome.trustees[0], &mut SeededRng::new(b"d"))
            .is_err()
    );
    let two = verify(&ev[..=shuffles[1]]).unwrap();
    assert_eq!(
        ceremony::trustee_step(&two, 1).unwrap(),
        TrusteeStep::Decrypt
    );
    assert_eq!(
        ceremony::trustee_step(&two, 3).unwrap(),
        TrusteeStep::Shuffle
    );
    assert!(
        ceremony::trustee_shuffle(&two, &outcome.trustees[0], &mut SeededRng::new(b"s")).is_err()
    );
    let done = verify(&ev).unwrap();
    assert_eq!(ceremony::trustee_step(&done, 2).unwrap(), TrusteeStep::Done);
}

fn result_mut(events: &mut [Event]) -> &mut scrutin_election::tally::ElectionResult {
    match events.last_mut() {
        Some(Event::Result(r)) => r,
        _ => panic!("the last event is the result"),
    }
}

#[test]
fn a_wrong_count_fails_d6_and_a_wrong_value_d5() {
    let outcome = election(b"mixed", vec![]);
    let ev = events_of(&outcome);
    let last = ev.len() - 1;

    let mut wrong = ev.clone();
    match &mut result_mut(&mut wrong).mixed.as_mut().unwrap()[0].count {
        CountResult::Schulze(r) => r.pairwise[0][1] += 1,
        _ => panic!(),
    }
    expect(&wrong, "D6", last);

    let mut wrong = ev.clone();
    match &mut result_mut(&mut wrong).mixed.as_mut().unwrap()[2].count {
        CountResult::Stv(r) => r.elected.reverse(),
        _ => panic!(),
    }
    expect(&wrong, "D6", last);

    // A decrypted rank changed, with the count recomputed to match it: D5.
    let mut wrong = ev.clone();
    let state = verify(&ev).unwrap();
    let question = &state.definition.as_ref().unwrap().questions[1];
    let m = &mut result_mut(&mut wrong).mixed.as_mut().unwrap()[0];
    m.ballots[0][0] = Some(match m.ballots[0][0] {
        Some(0) => 1,
        _ => 0,
    });
    m.count = scrutin_election::mix::count_rows(question, &m.ballots).unwrap();
    expect(&wrong, "D5", last);

    // A value written as null where the decryption is a rank.
    let mut wrong = ev.clone();
    result_mut(&mut wrong).mixed.as_mut().unwrap()[1].ballots[2][1] = None;
    expect(&wrong, "D5", last);

    // Rows dropped from the decrypted ballots.
    let mut wrong = ev.clone();
    result_mut(&mut wrong).mixed.as_mut().unwrap()[1]
        .ballots
        .pop();
    expect(&wrong, "D5", last);

    // No decrypted ballots at all.
    let mut wrong = ev.clone();
    result_mut(&mut wrong).mixed = None;
    expect(&wrong, "D5", last);

    // A share without its factors of the rows.
    let mut wrong = ev.clone();
    let at = positions(&ev, "decryption_share")[0];
    if let Event::DecryptionShare(s) = &mut wrong[at] {
        let mut body = s.body.clone();
        body.mixed = None;
        let file = &outcome.trustees[body.trustee as usize - 1];
        *s = Signed::sign(
            body,
            "decryption_share",
            &context(&ev),
            &file.role_key,
            &mut SeededRng::new(b"x"),
        )
        .unwrap();
    }
    expect(&wrong, "D1", at);
}

/// The transcript of a proof of knowledge as §10.7 builds it.
fn knowledge_transcript(fp: &Hash32, credential: &Point, q: u64, a: u64) -> Transcript {
    let mut t = Transcript::new("ballot-randomness");
    t.append("election", &fp.0)
        .append_point("credential", credential)
        .append_u64("question", q)
        .append_u64("answer", a);
    t
}

#[test]
fn a_rank_no_booth_gives_is_counted_as_invalid_and_shown() {
    // The election open, a voter whose booth encrypts the ranks 3, 2 and 2⁴⁰ (a rank
    // above the value bound) with valid proofs.
    let outcome = demo::run(
        &DemoOptions {
            voters: 3,
            trustees: 3,
            threshold: 2,
            questions: questions(),
            leave_open: true,
            revote_percent: 0,
            ..Default::default()
        },
        &mut SeededRng::new(b"invalid rank"),
    )
    .unwrap();
    let mut state = RecordState::from_record(outcome.record.as_bytes()).unwrap();
    let mut record = outcome.record.clone();
    let ctx = state.context.clone().unwrap();
    let cred = Credential::parse(&outcome.credentials[0].credential).unwrap();
    let signing = cred.signing_key(&ctx.definition.id);
    let choices = vec![
        QuestionChoice::Values(vec![1, 0, 0]),
        QuestionChoice::Values(vec![1, 2, 3]),
        QuestionChoice::Values(vec![0, 1]),
        QuestionChoice::Values(vec![1, 2, 0, 0]),
    ];
    let mut rng = SeededRng::new(b"bad booth");
    let (mut b, _) = ballot::encrypt(&ctx, &cred, &choices, &mut rng).unwrap();
    for (a, value) in [(0usize, 3u64), (2, 1 << 40)] {
        let r = Scalar::random(&mut rng);
        let ct = Ciphertext::encrypt(&ctx.key, value, &r);
        b.answers[1].choices[a] = ct;
        b.answers[1].randomness_proofs.as_mut().unwrap()[a] = RandomnessProof::prove(
            knowledge_transcript(&ctx.fingerprint, &b.credential, 1, a as u64),
            ctx.key.point(),
            &ct,
            &r,
            &mut rng,
        );
    }
    let mut t = Transcript::new("ballot-signature");
    t.append("election", &b.election.0)
        .append("content", &b.content_digest());
    b.signature = SchnorrProof::prove(t, &b.credential, signing.expose(), &mut rng);
    // The ballot is valid: its proofs say nothing about the values.
    ballot::verify(&ctx, &b).unwrap();
    let mut push = |state: &mut RecordState, e: Event| {
        let line = ceremony::lines_after(state, &[e]).unwrap();
        state
            .push_line(
                line.trim_end().as_bytes(),
                scrutin_election::verify::Proofs::Verify,
            )
            .unwrap();
        record.push_str(&line);
    };
    push(&mut state, Event::Ballot(Box::new(b)));
    let close = ceremony::close_event(&state).unwrap();
    push(&mut state, close);
    for t in &outcome.trustees {
        for e in ceremony::trustee_shuffle(&state, t, &mut rng).unwrap() {
            push(&mut state, e);
        }
    }
    for t in &outcome.trustees[..2] {
        for e in ceremony::trustee_decrypt(&state, t, &mut rng).unwrap() {
            push(&mut state, e);
        }
    }
    let result = ceremony::result_event(&state).unwrap();
    push(&mut state, result);
    let state = verify_record(record.as_bytes(), &NoProgress).unwrap().state;
    let result = state.result.unwrap();
    let ranked = &result.mixed.as_ref().unwrap()[0];
    // The bad row is there, shuffled among the others, with null for the value no
    // discrete logarithm up to V = 3 gives.
    let bad: Vec<_> = ranked
        .ballots
        .iter()
        .enumerate()
        .filter(|(_, row)| row.contains(&None))
        .collect();
    assert_eq!(bad.len(), 1, "{:?}", ranked.ballots);
    assert_eq!(bad[0].1, &vec![Some(3), Some(2), None]);
    match &ranked.count {
        CountResult::Schulze(r) => {
            assert_eq!(r.invalid.len(), 1);
            assert_eq!(r.invalid[0].position, bad[0].0 as u64);
            assert_eq!(r.valid_ballots + 1, ranked.ballots.len() as u64);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn an_election_nobody_voted_in_has_no_shuffle_and_empty_counts() {
    let outcome = demo::run(
        &DemoOptions {
            voters: 1,
            trustees: 3,
            threshold: 2,
            questions: questions(),
            leave_open: true,
            ..Default::default()
        },
        &mut SeededRng::new(b"nobody"),
    )
    .unwrap();
    let ev = events_of(&outcome);
    let open = positions(&ev, "open")[0];
    let mut record = record_of(&ev[..=open]);
    let mut state = RecordState::from_record(record.as_bytes()).unwrap();
    let mut push = |state: &mut RecordState, e: Event| {
        let line = ceremony::lines_after(state, &[e]).unwrap();
        state
            .push_line(
                line.trim_end().as_bytes(),
                scrutin_election::verify::Proofs::Verify,
            )
            .unwrap();
        record.push_str(&line);
    };
    let close = ceremony::close_event(&state).unwrap();
    push(&mut state, close);
    assert_eq!(
        ceremony::trustee_step(&state, 1).unwrap(),
        TrusteeStep::Decrypt
    );
    let mut rng = SeededRng::new(b"nobody shuffles");
    assert!(ceremony::trustee_shuffle(&state, &outcome.trustees[0], &mut rng).is_err());
    for t in &outcome.trustees[1..] {
        for e in ceremony::trustee_decrypt(&state, t, &mut rng).unwrap() {
            push(&mut state, e);
        }
    }
    let result = ceremony::result_event(&state).unwrap();
    push(&mut state, result);
    let state = verify_record(record.as_bytes(), &NoProgress).unwrap().state;
    let mixed = state.result.unwrap().mixed.unwrap();
    assert_eq!(mixed.len(), 3);
    assert!(mixed.iter().all(|m| m.ballots.is_empty()));
}

/// The mixed election of [`election`] from its `close` on, shuffled by trustees 1 and 2 and
/// decrypted by them with every row in a part of its own (§11.15), and its trustees.
fn in_parts(seed: &[u8]) -> (DemoOutcome, Vec<Event>) {
    use scrutin_election::parts::Layout;
    let outcome = election(seed, vec![]);
    let ev = events(&outcome.record);
    let close = positions(&ev, "close")[0];
    let mut record = record_of(&ev[..=close]);
    let mut rng = SeededRng::new(seed);
    // The widest row has 4 answers: parts of 1 ciphertext hold one row each.
    let layout = Layout::Parts(1);
    for t in &outcome.trustees[..2] {
        let st = RecordState::from_record(record.as_bytes()).unwrap();
        let e = ceremony::trustee_shuffle_laid_out(&st, t, layout, &mut rng).unwrap();
        record.push_str(&ceremony::lines_after(&st, &e).unwrap());
    }
    for t in &outcome.trustees[..2] {
        let st = RecordState::from_record(record.as_bytes()).unwrap();
        let e = ceremony::trustee_decrypt_laid_out(&st, t, layout, &mut rng).unwrap();
        record.push_str(&ceremony::lines_after(&st, &e).unwrap());
    }
    let st = RecordState::from_record(record.as_bytes()).unwrap();
    record.push_str(&ceremony::lines_after(&st, &[ceremony::result_event(&st).unwrap()]).unwrap());
    (outcome, events(&record))
}

/// Signs a changed part again with its trustee's key, as a dishonest trustee would.
fn resign_part(outcome: &DemoOutcome, events: &mut [Event], i: usize) {
    let ctx = context(events);
    let mut rng = SeededRng::new(b"part");
    events[i] = match &events[i] {
        Event::ShuffleRows(s) => {
            let key = &outcome.trustees[s.body.trustee as usize - 1].role_key;
            Event::ShuffleRows(
                Signed::sign(s.body.clone(), "shuffle_rows", &ctx, key, &mut rng).unwrap(),
            )
        }
        Event::DecryptionRows(s) => {
            let key = &outcome.trustees[s.body.trustee as usize - 1].role_key;
            Event::DecryptionRows(
                Signed::sign(s.body.clone(), "decryption_rows", &ctx, key, &mut rng).unwrap(),
            )
        }
        other => panic!("not a part: {}", other.kind()),
    };
}

#[test]
fn shuffles_and_shares_in_parts_verify_and_each_bad_part_is_named() {
    let (outcome, ev) = in_parts(b"parts");
    let st = verify(&ev).unwrap();
    let rows = st.mix_rows[0].len();
    assert_eq!(positions(&ev, "shuffle_rows").len(), 2 * 3 * rows);
    assert_eq!(positions(&ev, "decryption_rows").len(), 2 * 3 * rows);
    // The same count as the one-line election of the same ballots.
    let one_line = verify(&events(&outcome.record)).unwrap();
    let counts = |s: &RecordState| {
        s.result
            .as_ref()
            .unwrap()
            .mixed
            .as_ref()
            .unwrap()
            .iter()
            .map(|m| m.count.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(counts(&st), counts(&one_line));

    let part = positions(&ev, "shuffle_rows")[0];
    let share_part = positions(&ev, "decryption_rows")[0];
    let with_part = |change: &dyn Fn(&mut scrutin_election::parts::ShuffleRows)| {
        let mut e = ev.clone();
        let Event::ShuffleRows(s) = &mut e[part] else {
            panic!("not a part")
        };
        change(&mut s.body);
        resign_part(&outcome, &mut e, part);
        e
    };
    // A part of a question that is not ranked or graded (question 1 is a single choice).
    expect(&with_part(&|p| p.question = 0), "M1", part);
    // A part whose lists are not of one length.
    expect(
        &with_part(&|p| {
            p.s_hat.pop();
        }),
        "M1",
        part,
    );
    // A part with no row.
    expect(
        &with_part(&|p| {
            *p = scrutin_election::parts::ShuffleRows {
                trustee: p.trustee,
                question: p.question,
                ..Default::default()
            }
        }),
        "M1",
        part,
    );
    // A part that brings its question beyond its rows.
    expect(
        &with_part(&|p| {
            let extra = p.clone();
            for _ in 0..rows {
                p.outputs.extend(extra.outputs.clone());
                p.permutation.extend(extra.permutation.clone());
                p.chain.extend(extra.chain.clone());
                p.t_hat.extend(extra.t_hat.clone());
                p.s_hat.extend(extra.s_hat.clone());
                p.s_prime.extend(extra.s_prime.clone());
            }
        }),
        "M1",
        part,
    );
    // A part of the STV question before one of the Schulze question: out of question order.
    let mut e = ev.clone();
    let last_part = positions(&ev, "shuffle")[0] - 1;
    let moved = e.remove(last_part);
    e.insert(part, moved);
    expect(&e, "M1", part + 1);
    // A part not signed by its trustee's key.
    let mut e = ev.clone();
    if let Event::ShuffleRows(s) = &mut e[part] {
        s.body.trustee = 2;
    }
    expect(&e, "S1", part);
    // A part of trustee 3, who does not shuffle here, signed by trustee 3: taken as the
    // start of trustee 3's shuffle, it interrupts nothing, but trustee 1's parts that
    // follow then do (R4).
    let mut e = ev.clone();
    if let Event::ShuffleRows(s) = &mut e[part] {
        s.body.trustee = 3;
    }
    resign_part(&outcome, &mut e, part);
    expect(&e, "R4", part + 1);
    // A decryption part from a trustee that shares twice (its share is later): once its
    // share is in, another part of it is refused (D1).
    let mut e = ev.clone();
    let second_share = positions(&ev, "decryption_share")[1];
    let again = e[share_part].clone();
    e.insert(second_share + 1, again);
    expect(&e, "D1", second_share + 1);
    // The record cut after a part is an election in progress; a part after the result is
    // refused.
    let cut = verify(&ev[..=part]).unwrap();
    assert!(cut.pending_parts.is_some());
    let mut e = ev.clone();
    e.push(ev[share_part].clone());
    expect(&e, "R4", ev.len());
}
