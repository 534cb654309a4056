//! Ranked and graded questions up to `close` (spec §8.1–§8.5, §10.7, checks B3, B7, B8):
//! the definition and its bounds, the choices a booth accepts, the ballots and their
//! proofs of knowledge of the randomness, and what a tampered ballot fails.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use scrutin_election::ballot::{self, Ballot, BallotCheck};
use scrutin_election::credential::Credential;
use scrutin_election::crypto::elgamal::Ciphertext;
use scrutin_election::crypto::elgamal::SecretScalar;
use scrutin_election::crypto::rng::SeededRng;
use scrutin_election::crypto::schnorr::SchnorrProof;
use scrutin_election::crypto::transcript::Transcript;
use scrutin_election::definition::{
    ElectionDescription, Method, Question, QuestionChoice, QuestionKind, validate_choices,
};
use scrutin_election::demo::{self, DemoOptions};
use scrutin_election::verify::{NoProgress, RecordState, verify_record};

const MIXED: &str = r#"
title = "Mixed election"
threshold = 2

[[question]]
text = "Who should chair?"
answers = ["Ada", "Blaise", "Claude"]
min = 1
max = 1
blank = true

[[question]]
text = "Elect two members"
answers = ["Ada", "Blaise", "Claude", "Dorothy"]
kind = "ranked"
method = "stv"
seats = 2

[[question]]
text = "Grade each proposal"
answers = ["North", "South"]
kind = "grades"
method = "majority-judgment"
grades = ["Excellent", "Good", "Poor"]

[[question]]
text = "Rank the logos"
answers = ["Red", "Green", "Blue"]
kind = "ranked"
method = "schulze"
"#;

fn toml(extra: &str) -> String {
    let (trustees, authority) = demo::role_keys(&["Alice", "Bob", "Carol"], b"ranked tests");
    format!("{extra}{}", demo::roles_toml(&trustees, &authority))
}

fn mixed_questions() -> Vec<Question> {
    ElectionDescription::from_toml(&toml(MIXED))
        .unwrap()
        .questions
}

#[test]
fn a_mixed_definition_parses_validates_and_round_trips() {
    let def = ElectionDescription::from_toml(&toml(MIXED))
        .unwrap()
        .into_definition(&mut SeededRng::new(b"id"))
        .unwrap();
    let q = &def.questions;
    assert_eq!(q[0].kind, None);
    assert_eq!(
        (q[1].kind, q[1].method, q[1].seats),
        (Some(QuestionKind::Ranked), Some(Method::Stv), Some(2))
    );
    assert_eq!(q[2].method, Some(Method::MajorityJudgment));
    assert_eq!((q[1].value_bound(), q[2].value_bound()), (4, 2));
    assert_eq!((q[1].tallied_answers(), q[0].tallied_answers()), (0, 3));
    assert_eq!(
        (q[1].bit_count(), q[1].sum_values(), q[1].proof_size()),
        (0, None, 4)
    );
    let json = serde_json::to_string(&def).unwrap();
    assert!(
        json.contains(r#""min":0,"max":0,"max_per_answer":1,"blank":false,"kind":"ranked","method":"stv","seats":2}"#),
        "{json}"
    );
    assert!(json.contains(
        r#""kind":"grades","method":"majority-judgment","grades":["Excellent","Good","Poor"]}"#
    ));
    let back: scrutin_election::definition::ElectionDefinition =
        serde_json::from_str(&json).unwrap();
    assert_eq!(back, def);
    // A homomorphic question is written as before: no kind, no method.
    assert!(
        json.contains(r#""max_per_answer":1,"blank":true},"#),
        "{json}"
    );
}

#[test]
fn every_size_and_combination_is_checked() {
    let stv = "kind = \"ranked\"\nmethod = \"stv\"\nseats = 2\n";
    let grades = "grades = [\"Excellent\", \"Good\", \"Poor\"]";
    for (bad, why) in [
        (MIXED.replace("seats = 2", "seats = 4"), "seats"),
        (MIXED.replace("seats = 2", "seats = 0"), "seats"),
        (MIXED.replace("seats = 2\n", ""), "seats"),
        (
            MIXED.replace("method = \"schulze\"", "method = \"schulze\"\nseats = 1"),
            "seats",
        ),
        (
            MIXED.replace(grades, "grades = [\"Only\"]"),
            "2 to 100 grades",
        ),
        (
            MIXED.replace(
                grades,
                &format!("grades = [{}]", vec!["\"g\""; 101].join(",")),
            ),
            "2 to 100 grades",
        ),
        (
            MIXED.replace(grades, "grades = [\"Good\", \"\"]"),
            "grade 2",
        ),
        (MIXED.replace(grades, ""), "needs its grades"),
        (
            MIXED.replace(stv, "kind = \"ranked\"\nmethod = \"majority-judgment\"\n"),
            "does not count",
        ),
        (
            MIXED.replace(
                "method = \"schulze\"",
                "method = \"irv\"\ngrades = [\"a\", \"b\"]",
            ),
            "only a graded",
        ),
        (MIXED.replace(stv, "kind = \"ranked\"\n"), "kind and method"),
        (MIXED.replace(stv, "method = \"irv\"\n"), "kind and method"),
        (MIXED.replace(stv, &format!("{stv}min = 1\n")), "no min"),
        (
            MIXED.replace(stv, &format!("{stv}blank = true\n")),
            "no min",
        ),
        (
            MIXED.replace(stv, &format!("{stv}max_per_answer = 2\n")),
            "no min",
        ),
        (
            MIXED.replace(
                "answers = [\"Red\", \"Green\", \"Blue\"]",
                &format!("answers = [{}]", vec!["\"c\""; 101].join(",")),
            ),
            "1 to 100 answers",
        ),
    ] {
        let e = ElectionDescription::from_toml(&toml(&bad))
            .and_then(|d| d.into_definition(&mut SeededRng::new(b"id")))
            .expect_err(&bad)
            .to_string();
        assert!(e.contains(why), "{why}: {e}");
    }
    for bad in [
        MIXED.replace("method = \"stv\"", "method = \"borda\""),
        MIXED.replace("kind = \"grades\"", "kind = \"approval\""),
        MIXED.replace("seats = 2", "seats = -1"),
    ] {
        assert!(
            ElectionDescription::from_toml(&toml(&bad)).is_err(),
            "{bad}"
        );
    }
    // A format character in a grade name is refused too (E2).
    let hidden = MIXED.replace("\"Good\"", "\"Go\u{200B}od\"");
    let e = ElectionDescription::from_toml(&toml(&hidden))
        .and_then(|d| d.into_definition(&mut SeededRng::new(b"id")))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("grade 2 of question 3") && e.contains("U+200B"),
        "{e}"
    );
}

#[test]
fn the_booth_encrypts_only_valid_rankings_and_grades() {
    let def = ElectionDescription::from_toml(&toml(MIXED))
        .unwrap()
        .into_definition(&mut SeededRng::new(b"id"))
        .unwrap();
    let with = |stv: Vec<u64>, mj: Vec<u64>, schulze: Vec<u64>| {
        validate_choices(
            &def,
            &[
                QuestionChoice::Values(vec![1, 0, 0]),
                QuestionChoice::Values(stv),
                QuestionChoice::Values(mj),
                QuestionChoice::Values(schulze),
            ],
        )
    };
    assert!(with(vec![2, 1, 0, 0], vec![0, 2], vec![1, 1, 2]).is_ok());
    assert!(with(vec![1, 2, 3, 4], vec![1, 1], vec![3, 2, 1]).is_ok());
    for (stv, mj, schulze) in [
        (vec![1, 1, 0, 0], vec![0, 0], vec![1, 2, 3]), // a tie under STV
        (vec![1, 3, 0, 0], vec![0, 0], vec![1, 2, 3]), // a gap
        (vec![0, 0, 0, 0], vec![0, 0], vec![1, 2, 3]), // nobody ranked
        (vec![1, 5, 2, 3], vec![0, 0], vec![1, 2, 3]), // a rank above A
        (vec![1, 2, 0], vec![0, 0], vec![1, 2, 3]),    // wrong length
        (vec![1, 2, 0, 0], vec![0, 3], vec![1, 2, 3]), // a grade beyond the scale
        (vec![1, 2, 0, 0], vec![0, 0], vec![1, 1, 3]), // a gap after a tie
    ] {
        assert!(
            with(stv.clone(), mj.clone(), schulze.clone()).is_err(),
            "{stv:?} {mj:?} {schulze:?}"
        );
    }
    let blank = validate_choices(
        &def,
        &[
            QuestionChoice::blank(),
            QuestionChoice::blank(),
            QuestionChoice::Values(vec![0, 0]),
            QuestionChoice::Values(vec![1, 2, 3]),
        ],
    );
    assert!(blank.is_err());
}

/// An open mixed election with three voters, its state and its credentials.
fn open_election() -> (RecordState, Vec<Credential>) {
    let outcome = demo::run(
        &DemoOptions {
            voters: 3,
            questions: mixed_questions(),
            leave_open: true,
            ..Default::default()
        },
        &mut SeededRng::new(b"ranked ballots"),
    )
    .unwrap();
    let state = RecordState::from_record(outcome.record.as_bytes()).unwrap();
    let credentials = outcome
        .credentials
        .iter()
        .map(|c| Credential::parse(&c.credential).unwrap())
        .collect();
    (state, credentials)
}

fn choices() -> Vec<QuestionChoice> {
    vec![
        QuestionChoice::Values(vec![0, 1, 0]),
        QuestionChoice::Values(vec![2, 0, 1, 3]),
        QuestionChoice::Values(vec![1, 0]),
        QuestionChoice::Values(vec![1, 1, 2]),
    ]
}

fn sign(ballot: &mut Ballot, key: &SecretScalar) {
    let mut t = Transcript::new("ballot-signature");
    t.append("election", &ballot.election.0)
        .append("content", &ballot.content_digest());
    ballot.signature = SchnorrProof::prove(
        t,
        &ballot.credential,
        key.expose(),
        &mut SeededRng::new(b"sig"),
    );
}

fn check_of(state: &RecordState, b: &Ballot) -> Option<&'static str> {
    let ctx = state.context.as_ref().unwrap();
    ballot::verify(ctx, b).err().map(|r| r.check.code())
}

#[test]
fn a_ranked_ballot_verifies_and_its_audit_opens() {
    let (state, creds) = open_election();
    let ctx = state.context.as_ref().unwrap();
    let (b, randomness) =
        ballot::encrypt(ctx, &creds[0], &choices(), &mut SeededRng::new(b"v")).unwrap();
    assert_eq!(check_of(&state, &b), None);
    let answer = &b.answers[1];
    assert_eq!(answer.choices.len(), 4);
    assert_eq!(answer.randomness_proofs.as_ref().map(Vec::len), Some(4));
    assert!(answer.blank.is_none() && answer.bits_proof.is_none());
    assert!(answer.choice_proofs.is_none() && answer.sum_proof.is_none());
    // The homomorphic question is as before.
    assert!(b.answers[0].randomness_proofs.is_none() && b.answers[0].bits_proof.is_some());
    let audit = ballot::AuditedBallot {
        ballot: b.clone(),
        choices: choices(),
        randomness,
    };
    assert_eq!(ballot::check_audit(ctx, &audit).unwrap(), choices());
    let mut lying = audit.clone();
    lying.choices[1] = QuestionChoice::Values(vec![1, 0, 2, 3]);
    assert!(ballot::check_audit(ctx, &lying).is_err());
}

#[test]
fn a_closed_mixed_election_sums_only_the_homomorphic_question() {
    let outcome = demo::run(
        &DemoOptions {
            voters: 6,
            questions: mixed_questions(),
            weights: 2,
            ..Default::default()
        },
        &mut SeededRng::new(b"mixed close"),
    )
    .unwrap();
    let state = verify_record(outcome.record.as_bytes(), &NoProgress)
        .unwrap()
        .state;
    let close = state.close.as_ref().unwrap();
    let shape: Vec<(usize, bool)> = close
        .tally
        .iter()
        .map(|q| (q.choices.len(), q.blank.is_some()))
        .collect();
    assert_eq!(shape, vec![(3, true), (0, false), (0, false), (0, false)]);
    let close_line = outcome
        .record
        .lines()
        .find(|l| l.contains(r#""type":"close""#))
        .unwrap();
    assert!(
        close_line.contains(r#"{"choices":[]},{"choices":[]},{"choices":[]}]"#),
        "{close_line}"
    );
}

#[test]
fn a_tampered_proof_of_knowledge_fails_b8() {
    let (state, creds) = open_election();
    let ctx = state.context.as_ref().unwrap();
    let key = creds[0].signing_key(&ctx.definition.id);
    let (b, _) = ballot::encrypt(ctx, &creds[0], &choices(), &mut SeededRng::new(b"v")).unwrap();

    // A changed response.
    let mut bad = b.clone();
    let p = &mut bad.answers[1].randomness_proofs.as_mut().unwrap()[2];
    p.response += scrutin_election::crypto::Scalar::ONE;
    sign(&mut bad, &key);
    assert_eq!(check_of(&state, &bad), Some("B8"));

    // Two answers swapped with their proofs: each proof names its answer.
    let mut swapped = b.clone();
    swapped.answers[1].choices.swap(0, 1);
    swapped.answers[1]
        .randomness_proofs
        .as_mut()
        .unwrap()
        .swap(0, 1);
    sign(&mut swapped, &key);
    assert_eq!(check_of(&state, &swapped), Some("B8"));

    // β shifted (the rank changed) under the same α and proof.
    let mut shifted = b.clone();
    let c = &mut shifted.answers[3].choices[0];
    *c = Ciphertext {
        alpha: c.alpha,
        beta: scrutin_election::crypto::Point::from_point(
            c.beta.point() + scrutin_election::crypto::RistrettoPoint::mul_base(&1u64.into()),
        ),
    };
    sign(&mut shifted, &key);
    assert_eq!(check_of(&state, &shifted), Some("B8"));

    // Without re-signing, the signature fails first.
    let mut unsigned = b.clone();
    unsigned.answers[2].randomness_proofs.as_mut().unwrap()[0].response +=
        scrutin_election::crypto::Scalar::ONE;
    assert_eq!(check_of(&state, &unsigned), Some("B4"));
    assert_eq!(BallotCheck::Knowledge.code(), "B8");
}

#[test]
fn a_copied_ranked_answer_is_refused() {
    let (state, creds) = open_election();
    let ctx = state.context.as_ref().unwrap();
    let (victim, _) =
        ballot::encrypt(ctx, &creds[0], &choices(), &mut SeededRng::new(b"victim")).unwrap();
    let (mut copier, _) =
        ballot::encrypt(ctx, &creds[1], &choices(), &mut SeededRng::new(b"copier")).unwrap();
    // The copier takes the victim's ranked answer, proofs included, and signs.
    copier.answers[1] = victim.answers[1].clone();
    sign(&mut copier, &creds[1].signing_key(&ctx.definition.id));
    // The proofs name the victim's credential: B8.
    assert_eq!(check_of(&state, &copier), Some("B8"));
    // On the board after the victim's ballot, the reused ciphertexts fail B7 first.
    let s = state.clone();
    s.admit_ballot(&victim).unwrap();
    let mut after = s.clone();
    let line = scrutin_election::ceremony::lines_after(
        &s,
        &[scrutin_election::record::Event::Ballot(Box::new(
            victim.clone(),
        ))],
    )
    .unwrap();
    after
        .push_line(
            line.trim_end().as_bytes(),
            scrutin_election::verify::Proofs::Verify,
        )
        .unwrap();
    let e = after.admit_ballot(&copier).unwrap_err();
    assert_eq!(e.check, "B7", "{e}");
}

#[test]
fn a_ranked_answer_of_the_wrong_length_fails_b3() {
    let (state, creds) = open_election();
    let ctx = state.context.as_ref().unwrap();
    let key = creds[0].signing_key(&ctx.definition.id);
    let (b, _) = ballot::encrypt(ctx, &creds[0], &choices(), &mut SeededRng::new(b"v")).unwrap();

    let mut short = b.clone();
    short.answers[1].choices.pop();
    short.answers[1].randomness_proofs.as_mut().unwrap().pop();
    sign(&mut short, &key);
    assert_eq!(check_of(&state, &short), Some("B3"));

    let mut unproved = b.clone();
    unproved.answers[2]
        .randomness_proofs
        .as_mut()
        .unwrap()
        .pop();
    sign(&mut unproved, &key);
    assert_eq!(check_of(&state, &unproved), Some("B3"));

    let mut no_proofs = b.clone();
    no_proofs.answers[3].randomness_proofs = None;
    sign(&mut no_proofs, &key);
    assert_eq!(check_of(&state, &no_proofs), Some("B3"));

    // A homomorphic answer with proofs of knowledge is not of its shape either.
    let mut extra = b.clone();
    extra.answers[0].randomness_proofs = b.answers[3].randomness_proofs.clone();
    sign(&mut extra, &key);
    assert_eq!(check_of(&state, &extra), Some("B3"));

    // A ranked answer carrying a bits proof instead.
    let mut other = b.clone();
    other.answers[1].bits_proof = b.answers[0].bits_proof.clone();
    sign(&mut other, &key);
    assert_eq!(check_of(&state, &other), Some("B3"));
}

#[test]
fn the_electorate_of_ranked_questions_fits_in_a_record_line() {
    let def = ElectionDescription::from_toml(&toml(MIXED))
        .unwrap()
        .into_definition(&mut SeededRng::new(b"id"))
        .unwrap();
    // Σ (A + 22) over the ranked and graded questions: 26 + 24 + 25 = 75 entries per row.
    let most = scrutin_election::definition::MAX_MIXED_ENTRIES / 75;
    assert!(def.check_mix_weight(most).is_ok());
    let e = def.check_mix_weight(most + 1).unwrap_err().to_string();
    assert!(e.contains("in its record line"), "{e}");
    // Without ranked or graded questions there is no such bound.
    let mut plain = def.clone();
    plain.questions.truncate(1);
    assert!(plain.check_mix_weight(1_000_000_000).is_ok());
}

/// §9.3 rule 6 keeps the `result` line within 16 MiB whatever the shape: at the bound, with
/// every decrypted row out of range (each listed as an invalid ballot, the longest entry), a
/// question's part of the result takes at most 14.5 MB, leaving room for the counts.
#[test]
fn the_result_at_the_electorate_bound_fits_in_a_record_line() {
    use scrutin_election::definition::{MAX_MIXED_ENTRIES, mixed_row_entries};
    use scrutin_election::mix::{MixedResult, count_rows};
    let question = |answers: usize, kind: QuestionKind, method: Method| Question {
        text: "Q".into(),
        answers: (0..answers).map(|a| format!("A{a}")).collect(),
        min: 0,
        max: 0,
        max_per_answer: 1,
        blank: false,
        kind: Some(kind),
        method: Some(method),
        seats: (method == Method::Stv).then_some(1),
        grades: (kind == QuestionKind::Grades).then(|| vec!["Good".into(), "Bad".into()]),
    };
    for q in [
        question(1, QuestionKind::Grades, Method::MajorityJudgment),
        question(2, QuestionKind::Ranked, Method::Stv),
        question(10, QuestionKind::Ranked, Method::Stv),
        question(100, QuestionKind::Ranked, Method::Schulze),
    ] {
        let rows = MAX_MIXED_ENTRIES / mixed_row_entries(q.answers.len() as u64);
        let ballots = vec![vec![None; q.answers.len()]; rows as usize];
        let count = count_rows(&q, &ballots).unwrap();
        let line = serde_json::to_string(&[MixedResult { ballots, count }]).unwrap();
        assert!(
            line.len() <= 14_500_000,
            "{} answers, {rows} rows: {} bytes",
            q.answers.len(),
            line.len()
        );
    }
}
