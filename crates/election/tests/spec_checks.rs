//! The numbered checks of the verifier (`verify::CHECKS`) are those of the table of spec
//! §12, in the same order: a check added to one and not the other fails here.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use scrutin_election::verify::{CHECKS, NoProgress, verify_record};

fn spec_checks() -> Vec<String> {
    let spec = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/spec.md"))
        .expect("docs/spec.md");
    let start = spec.find("## §12 Verification checks").expect("§12");
    let end = spec[start..].find("\n## §13").expect("§13") + start;
    spec[start..end]
        .lines()
        .filter_map(|l| l.strip_prefix("| "))
        .filter_map(|l| l.split(" |").next())
        .filter(|code| {
            code.len() == 2
                && code.as_bytes()[0].is_ascii_uppercase()
                && code.as_bytes()[1].is_ascii_digit()
        })
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_verifier_checks_are_the_spec_table() {
    let ours: Vec<String> = CHECKS.iter().map(|(c, _)| (*c).to_owned()).collect();
    assert_eq!(spec_checks(), ours);
}

#[test]
fn an_invisible_character_in_an_answer_fails_e2() {
    let outcome = scrutin_election::demo::run(
        &scrutin_election::demo::DemoOptions {
            voters: 2,
            ..Default::default()
        },
        &mut scrutin_election::crypto::rng::SeededRng::new(b"e2"),
    )
    .expect("demo");
    let first = outcome.record.lines().next().expect("line 0");
    // The demo's first answer with a zero-width space appended: it looks the same.
    let question = &scrutin_election::demo::DemoOptions::default_questions()[0];
    let answer = serde_json::to_string(&question.answers[0]).expect("json");
    let hidden = format!("{}\u{200B}\"", &answer[..answer.len() - 1]);
    let line = first.replacen(&answer, &hidden, 1);
    assert_ne!(line, first);
    let e = verify_record(format!("{line}\n").as_bytes(), &NoProgress)
        .err()
        .expect("refused");
    assert_eq!((e.check, e.seq), ("E2", Some(0)), "{e}");
    assert!(
        e.message
            .contains("answer 1 of question 1 contains U+200B ZERO WIDTH SPACE"),
        "{e}"
    );
}
