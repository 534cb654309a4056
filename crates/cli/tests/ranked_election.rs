//! A mixed election (a single choice and a ranked question, spec §8.1) driven through the
//! `scrutin` binary on files: ballots, close, the trustees' shuffles (§11.12), decryption
//! and the count (§11.14), then the verifier; the demo with a ranked question; and a
//! whole election with every counting method over HTTP with the CLI roles.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn run(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_scrutin"))
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap()
}

fn scrutin(dir: &Path, args: &[&str]) -> String {
    let out = run(dir, args);
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "scrutin {args:?} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

fn scrutin_fails(dir: &Path, args: &[&str]) -> String {
    let out = run(dir, args);
    assert!(!out.status.success(), "scrutin {args:?} should have failed");
    String::from_utf8_lossy(&out.stderr).to_string()
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("scrutin-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

const QUESTIONS: &str = r#"
title = "Club vote"
threshold = 2

[[question]]
text = "Who should preside?"
answers = ["Ada", "Blaise", "Claude"]
min = 1
max = 1

[[question]]
text = "Which logo?"
answers = ["Red", "Green", "Blue"]
kind = "ranked"
method = "schulze"
"#;

fn public_key(printed: &str) -> String {
    printed
        .lines()
        .find_map(|l| l.trim().strip_prefix("public key"))
        .unwrap_or_else(|| panic!("no public key in {printed}"))
        .trim()
        .to_owned()
}

#[test]
fn a_ranked_question_through_the_command_line() {
    let dir = temp_dir("ranked");
    let mut toml = QUESTIONS.to_owned();
    for (i, name) in ["Alice", "Bob", "Carol"].iter().enumerate() {
        let out = format!("trustee{}-key.json", i + 1);
        let key = public_key(&scrutin(
            &dir,
            &["trustee", "keygen", "--name", name, "--out", &out],
        ));
        toml.push_str(&format!(
            "\n[[trustee]]\nname = \"{name}\"\nkey = \"{key}\"\n"
        ));
    }
    let key = public_key(&scrutin(
        &dir,
        &[
            "credentials",
            "keygen",
            "--name",
            "R",
            "--out",
            "authority-key.json",
        ],
    ));
    toml.push_str(&format!("\n[authority]\nname = \"R\"\nkey = \"{key}\"\n"));
    std::fs::write(dir.join("election.toml"), &toml).unwrap();
    let r = ["--record", "record.jsonl"];
    scrutin(
        &dir,
        &[
            "election",
            "setup",
            "--description",
            "election.toml",
            r[0],
            r[1],
        ],
    );
    for i in 1..=3 {
        let (key, secret) = (format!("trustee{i}-key.json"), format!("trustee{i}.json"));
        scrutin(
            &dir,
            &[
                "trustee", "commit", r[0], r[1], "--key", &key, "--secret", &secret,
            ],
        );
    }
    for step in ["deal", "check"] {
        for i in 1..=3 {
            let secret = format!("trustee{i}.json");
            scrutin(&dir, &["trustee", step, r[0], r[1], "--secret", &secret]);
        }
    }
    scrutin(&dir, &["election", "key", r[0], r[1]]);
    std::fs::write(dir.join("voters.txt"), "alice\nbob, 2\ncarol\n").unwrap();
    scrutin(
        &dir,
        &[
            "credentials",
            "generate",
            r[0],
            r[1],
            "--key",
            "authority-key.json",
            "--voters",
            "voters.txt",
            "--private",
            "private.json",
        ],
    );
    scrutin(&dir, &["election", "open", r[0], r[1]]);
    let issued: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("private.json")).unwrap()).unwrap();
    let by_name = |name: &str| {
        issued
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["login"] == name)
            .unwrap()["credential"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    // alice: Ada; Green > Blue > Red. bob (weight 2): Blaise; Red > Green, Blue unranked.
    // carol: Ada; Green = Blue > Red (Schulze allows equal ranks).
    let votes = [
        ("alice", r#"[[1,0,0],[3,1,2]]"#),
        ("bob", r#"[[0,1,0],[1,2,0]]"#),
        ("carol", r#"[[1,0,0],[2,1,1]]"#),
    ];
    for (name, choices) in votes {
        let file = format!("{name}.json");
        std::fs::write(dir.join(&file), choices).unwrap();
        scrutin(
            &dir,
            &[
                "ballot",
                "cast",
                r[0],
                r[1],
                "--credential",
                &by_name(name),
                "--choices",
                &file,
            ],
        );
    }
    // A ranking with a gap is refused before encryption.
    std::fs::write(dir.join("gap.json"), r#"[[1,0,0],[1,3,0]]"#).unwrap();
    let err = scrutin_fails(
        &dir,
        &[
            "ballot",
            "cast",
            r[0],
            r[1],
            "--credential",
            &by_name("alice"),
            "--choices",
            "gap.json",
        ],
    );
    assert!(err.contains("not a valid ballot"), "{err}");
    scrutin(&dir, &["election", "close", r[0], r[1]]);

    // Nobody decrypts before two shuffles; each trustee shuffles once.
    let err = scrutin_fails(
        &dir,
        &[
            "trustee",
            "decrypt",
            r[0],
            r[1],
            "--secret",
            "trustee1.json",
        ],
    );
    assert!(err.contains("shuffled by at least 2"), "{err}");
    let out = scrutin(
        &dir,
        &[
            "trustee",
            "shuffle",
            r[0],
            r[1],
            "--secret",
            "trustee2.json",
        ],
    );
    assert!(out.contains("shuffle 1 of at least 2"), "{out}");
    let err = scrutin_fails(
        &dir,
        &[
            "trustee",
            "shuffle",
            r[0],
            r[1],
            "--secret",
            "trustee2.json",
        ],
    );
    assert!(err.contains("already shuffled"), "{err}");
    scrutin(
        &dir,
        &[
            "trustee",
            "shuffle",
            r[0],
            r[1],
            "--secret",
            "trustee3.json",
        ],
    );
    for i in [1, 3] {
        let secret = format!("trustee{i}.json");
        scrutin(
            &dir,
            &["trustee", "decrypt", r[0], r[1], "--secret", &secret],
        );
    }
    let err = scrutin_fails(
        &dir,
        &[
            "trustee",
            "shuffle",
            r[0],
            r[1],
            "--secret",
            "trustee1.json",
        ],
    );
    assert!(err.contains("no more shuffles"), "{err}");
    let out = scrutin(&dir, &["election", "tally", r[0], r[1]]);
    // One row per unit of weight: alice's, bob's twice, carol's.
    assert!(out.contains("Schulze, 4 valid ballots, 0 invalid"), "{out}");
    let report = scrutin(&dir, &["verify", "record.jsonl"]);
    assert!(report.contains("tallied"), "{report}");
    let record = std::fs::read_to_string(dir.join("record.jsonl")).unwrap();
    assert_eq!(record.matches(r#""type":"shuffle""#).count(), 2);
}

#[test]
fn the_demo_runs_a_ranked_question() {
    let dir = temp_dir("ranked-demo");
    std::fs::write(
        dir.join("questions.toml"),
        format!(
            "{QUESTIONS}\n[[question]]\ntext = \"Grade\"\nanswers = [\"N\", \"S\"]\nkind = \"grades\"\nmethod = \"majority-judgment\"\ngrades = [\"Good\", \"Bad\"]\n\n[[trustee]]\nname = \"x\"\nkey = \"{k}\"\n\n[authority]\nname = \"y\"\nkey = \"{k2}\"\n",
            k = "e2f2ae0a6abc4e71a884a961c500515f58e30b6aa582dd8db6a65945e08d2d76",
            k2 = "6a493210f7499cd17fecb510ae0cea23a110e8d5b901f8acadd3095c73a3b919",
        ),
    )
    .unwrap();
    let out = scrutin(
        &dir,
        &[
            "demo",
            "--voters",
            "6",
            "--weights",
            "2",
            "--questions",
            "questions.toml",
            "--out",
            "demo.jsonl",
            "--seed",
            "ranked demo",
        ],
    );
    assert!(out.contains("equals the plaintext count"), "{out}");
    // Weights 1, 2, 1, 2, 1, 2: nine rows.
    assert!(out.contains("Schulze, 9 valid ballots, 0 invalid"), "{out}");
    assert!(out.contains("majority judgment"), "{out}");
}

/// A whole mixed election over HTTP with the CLI roles (spec §8.1, §10.7, §11.12–§11.14):
/// an approval question beside STV (2 seats), Schulze, instant-runoff and majority
/// judgment; 3 trustees, threshold 2; voters of weight 1 and 2 cast through the server,
/// some of them twice; trustees 2 and 3 shuffle with `scrutin trustee shuffle --server`,
/// trustees 1 and 3 decrypt, the official tallies. The decrypted ballots of each ranked or
/// graded question are exactly the plaintext rows of the counted ballots (one per unit of
/// weight), the published count is the count of those plaintext rows, the approval sums are
/// the plaintext sums, and the record verifies.
#[test]
fn a_mixed_election_over_http_with_the_cli_roles() {
    use common::{Api, Server, cast, empty_count, encrypt, log_in, prepare_described};
    use scrutin_election::crypto::rng::SeededRng;
    use scrutin_election::definition::QuestionChoice;
    use scrutin_election::demo::{count_choices, random_choice};
    use scrutin_election::mix;
    use scrutin_election::verify::RecordState;

    const MIXED: &str = r#"
title = "Union congress"
threshold = 2

[[question]]
text = "Which motions?"
answers = ["Pay", "Hours", "Safety", "Training"]
min = 0
max = 4

[[question]]
text = "Elect two delegates"
answers = ["Ada", "Blaise", "Claude", "Dana"]
kind = "ranked"
method = "stv"
seats = 2

[[question]]
text = "Which venue?"
answers = ["North", "South", "East"]
kind = "ranked"
method = "schulze"

[[question]]
text = "Chair"
answers = ["Eve", "Finn", "Gus"]
kind = "ranked"
method = "irv"

[[question]]
text = "Grade the budget lines"
answers = ["Travel", "Events", "Legal"]
kind = "grades"
method = "majority-judgment"
grades = ["Excellent", "Good", "Fair", "Poor"]
"#;

    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), true);
    let api = Api::new(&server.base);
    let s = prepare_described(&api, dir.path(), 12, MIXED, &mut |_| {});
    let id = s.id.clone();
    api.ok(
        "POST",
        &format!("/api/admin/elections/{id}/open"),
        Some(&s.admin),
        None,
    );
    let state = RecordState::from_record(&api.record(&id)).unwrap();
    let def = state.definition.clone().unwrap();
    let tokens = log_in(&api, &id, &dir.path().join("outbox"), &s.voters);

    // Each voter's last choices count, once per unit of weight.
    let mut rng = SeededRng::new(b"mixed choices");
    let mut expected_sums = empty_count(&state);
    let mut rows: Vec<Vec<Vec<Option<u64>>>> = vec![Vec::new(); def.questions.len()];
    for (n, (login, _, weight, credential)) in s.voters.iter().enumerate() {
        let mut draw = || -> Vec<QuestionChoice> {
            def.questions
                .iter()
                .map(|q| random_choice(q, 0, &mut rng))
                .collect()
        };
        if n % 4 == 0 {
            let first = encrypt(&state, credential, &draw(), &format!("{login}-first"));
            let (status, v) = cast(&api, &id, &tokens[login], &first);
            assert_eq!(status, 200, "{v}");
        }
        let choices = draw();
        let b = encrypt(&state, credential, &choices, login);
        let (status, v) = cast(&api, &id, &tokens[login], &b);
        assert_eq!(status, 200, "{v}");
        count_choices(&mut expected_sums, &choices, *weight);
        for (q, c) in choices.iter().enumerate() {
            if let (true, QuestionChoice::Values(values)) = (def.questions[q].is_mixed(), c) {
                for _ in 0..*weight {
                    rows[q].push(values.iter().map(|v| Some(*v)).collect());
                }
            }
        }
    }
    api.ok(
        "POST",
        &format!("/api/admin/elections/{id}/close"),
        Some(&s.admin),
        None,
    );

    let trustee = |step: &str, i: usize| {
        let secret = dir.path().join(format!("trustee{i}.json"));
        common::scrutin(&[
            "trustee",
            step,
            "--server",
            &api.base,
            "--election",
            &id,
            "--token",
            &s.trustee_tokens[i - 1],
            "--secret",
            secret.to_str().unwrap(),
        ])
    };
    // The tally waits for the shuffles, the shuffles come before any decryption.
    let (status, v) = api.call(
        "POST",
        &format!("/api/admin/elections/{id}/tally"),
        Some(&s.admin),
        None,
    );
    assert_eq!(status, 409, "{v}");
    assert!(trustee("shuffle", 2).contains("shuffle 1 of at least 2"));
    assert!(trustee("shuffle", 3).contains("shuffle 2 of at least 2"));
    for i in [1, 3] {
        trustee("decrypt", i);
    }
    api.ok(
        "POST",
        &format!("/api/admin/elections/{id}/tally"),
        Some(&s.admin),
        None,
    );

    let record = api.record(&id);
    let path = dir.path().join("record.jsonl");
    std::fs::write(&path, &record).unwrap();
    let report = common::scrutin(&["verify", path.to_str().unwrap()]);
    assert!(report.contains("tallied"), "{report}");
    let state = RecordState::from_record(&record).unwrap();
    let result = state.result.as_ref().unwrap();
    assert_eq!(state.shuffles.len(), 2);
    // Approval: the homomorphic sums of the plaintext choices.
    assert_eq!(result.questions[0], expected_sums[0]);
    // Ranked and graded: the decrypted rows are the plaintext rows, in another order, and
    // the count is the count of the plaintext rows.
    let mixed = result.mixed.as_ref().unwrap();
    let questions = mix::mixed_questions(&def);
    assert_eq!(questions, vec![1, 2, 3, 4]);
    for (m, q) in mixed.iter().zip(questions) {
        let mut decrypted = m.ballots.clone();
        let mut plaintext = rows[q].clone();
        assert_ne!(
            decrypted, plaintext,
            "question {q}: the shuffle kept the order"
        );
        decrypted.sort();
        plaintext.sort();
        assert_eq!(decrypted, plaintext, "question {q}: decrypted rows");
        let recount = mix::count_rows(&def.questions[q], &rows[q]).unwrap();
        assert_eq!(m.count, recount, "question {q}: count");
    }
    let published = api.ok("GET", &format!("/api/elections/{id}/result"), None, None);
    assert_eq!(published["result"], serde_json::to_value(result).unwrap());
    server.stop();
}
