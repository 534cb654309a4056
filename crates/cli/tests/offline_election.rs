//! A real offline election driven through the `scrutin` binary, role by role, on files.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Command;

fn scrutin(dir: &Path, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_scrutin"))
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(
        out.status.success(),
        "scrutin {args:?} failed:\n{stdout}\n{stderr}"
    );
    stdout
}

fn scrutin_fails(dir: &Path, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_scrutin"))
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap();
    assert!(!out.status.success(), "scrutin {args:?} should have failed");
    String::from_utf8_lossy(&out.stderr).to_string()
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("scrutin-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

const DESCRIPTION: &str = r#"
title = "Association board 2026"
trustees = ["Alice", "Bob", "Carol"]
threshold = 2

[[question]]
text = "Who should preside?"
answers = ["Ada", "Blaise", "Claude"]
min = 1
max = 1
blank = true
"#;

#[test]
fn offline_election_on_files() {
    let dir = temp_dir("offline");
    std::fs::write(dir.join("election.toml"), DESCRIPTION).unwrap();
    let r = ["--record", "record.jsonl"];
    scrutin(
        &dir,
        &[
            "election",
            "setup",
            "--description",
            "election.toml",
            "--record",
            "record.jsonl",
        ],
    );
    for i in 1..=3 {
        let secret = format!("trustee{i}.json");
        scrutin(
            &dir,
            &[
                "trustee",
                "commit",
                r[0],
                r[1],
                "--trustee",
                &i.to_string(),
                "--secret",
                &secret,
            ],
        );
    }
    for step in ["deal", "check"] {
        for i in 1..=3 {
            scrutin(
                &dir,
                &[
                    "trustee",
                    step,
                    r[0],
                    r[1],
                    "--secret",
                    &format!("trustee{i}.json"),
                ],
            );
        }
    }
    scrutin(&dir, &["election", "key", r[0], r[1]]);
    std::fs::write(
        dir.join("voters.txt"),
        "alice\nbob, 2\n# a comment\ncarol\ndave\n",
    )
    .unwrap();
    scrutin(
        &dir,
        &[
            "credentials",
            "generate",
            r[0],
            r[1],
            "--voters",
            "voters.txt",
            "--private",
            "private.json",
        ],
    );
    // The election cannot be voted in before it opens.
    let issued: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("private.json")).unwrap()).unwrap();
    let cred = |i: usize| issued[i]["credential"].as_str().unwrap().to_string();
    std::fs::write(dir.join("ada.json"), r#"[[1,0,0]]"#).unwrap();
    std::fs::write(dir.join("blaise.json"), r#"[[0,1,0]]"#).unwrap();
    std::fs::write(dir.join("blank.json"), r#"["blank"]"#).unwrap();
    std::fs::write(dir.join("two.json"), r#"[[1,1,0]]"#).unwrap();
    scrutin_fails(
        &dir,
        &[
            "ballot",
            "cast",
            r[0],
            r[1],
            "--credential",
            &cred(0),
            "--choices",
            "ada.json",
        ],
    );
    scrutin(&dir, &["election", "open", r[0], r[1]]);

    // alice votes Ada then changes to Blaise; bob (weight 2) audits a ballot, then votes Ada;
    // carol votes blank; dave's over-vote is refused before encryption.
    scrutin(
        &dir,
        &[
            "ballot",
            "cast",
            r[0],
            r[1],
            "--credential",
            &cred(0),
            "--choices",
            "ada.json",
        ],
    );
    let out = scrutin(
        &dir,
        &[
            "ballot",
            "cast",
            r[0],
            r[1],
            "--credential",
            &cred(0),
            "--choices",
            "blaise.json",
        ],
    );
    let tracker = out
        .split("Tracker: ")
        .nth(1)
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .trim()
        .to_string();
    scrutin(
        &dir,
        &[
            "ballot",
            "audit",
            r[0],
            r[1],
            "--credential",
            &cred(1),
            "--choices",
            "blaise.json",
            "--out",
            "audit.json",
        ],
    );
    let audit = scrutin(&dir, &["ballot", "check-audit", r[0], r[1], "audit.json"]);
    assert!(audit.contains("Who should preside?: Blaise"), "{audit}");
    scrutin(
        &dir,
        &[
            "ballot",
            "cast",
            r[0],
            r[1],
            "--credential",
            &cred(1),
            "--choices",
            "ada.json",
        ],
    );
    scrutin(
        &dir,
        &[
            "ballot",
            "cast",
            r[0],
            r[1],
            "--credential",
            &cred(2).to_lowercase(),
            "--choices",
            "blank.json",
        ],
    );
    let err = scrutin_fails(
        &dir,
        &[
            "ballot",
            "cast",
            r[0],
            r[1],
            "--credential",
            &cred(3),
            "--choices",
            "two.json",
        ],
    );
    assert!(err.contains("add up to"), "{err}");
    let err = scrutin_fails(
        &dir,
        &[
            "ballot",
            "cast",
            r[0],
            r[1],
            "--credential",
            "AAAA-AAAA-AAAA-AAAA-AAAA-AAAA",
            "--choices",
            "ada.json",
        ],
    );
    assert!(err.contains("checksum"), "{err}");
    let found = scrutin(&dir, &["ballot", "find", r[0], r[1], &tracker]);
    assert!(found.contains("Found"), "{found}");

    scrutin(&dir, &["election", "close", r[0], r[1]]);
    // Trustee 2 is absent at the tally.
    scrutin(
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
    scrutin(
        &dir,
        &[
            "trustee",
            "decrypt",
            r[0],
            r[1],
            "--secret",
            "trustee3.json",
        ],
    );
    let result = scrutin(&dir, &["election", "tally", r[0], r[1]]);
    assert!(
        result.contains("3 ballots counted, total weight 4"),
        "{result}"
    );
    let json = scrutin(&dir, &["verify", "record.jsonl", "--json"]);
    let report: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(report["status"], "tallied");
    // Ada: bob (weight 2); Blaise: alice (her last ballot); blank: carol.
    assert_eq!(
        report["result"]["questions"][0]["choices"],
        serde_json::json!([2, 1, 0])
    );
    assert_eq!(report["result"]["questions"][0]["blank"], 1);
    assert_eq!(report["ballots"], 4);

    // A changed byte anywhere makes `scrutin verify` fail, naming the check.
    let record = std::fs::read_to_string(dir.join("record.jsonl")).unwrap();
    let tampered = record.replacen("\"weight\":2", "\"weight\":3", 1);
    std::fs::write(dir.join("tampered.jsonl"), tampered).unwrap();
    let err = scrutin_fails(&dir, &["verify", "tampered.jsonl"]);
    assert!(err.contains("check R3 failed at event"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn demo_writes_and_verifies_a_record() {
    let dir = temp_dir("demo");
    let out = scrutin(
        &dir,
        &[
            "demo",
            "--voters",
            "20",
            "--absent",
            "3",
            "--seed",
            "test",
            "--out",
            "demo.jsonl",
        ],
    );
    assert!(out.contains("equals the plaintext count"), "{out}");
    scrutin(&dir, &["verify", "demo.jsonl"]);
    let err = scrutin_fails(
        &dir,
        &[
            "demo", "--voters", "5", "--absent", "1,2", "--out", "x.jsonl",
        ],
    );
    assert!(err.contains("needed to decrypt"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bench_json_has_the_documented_keys() {
    let dir = temp_dir("bench");
    let out = scrutin(
        &dir,
        &[
            "bench",
            "--json",
            "--samples",
            "20",
            "--record-ballots",
            "50",
        ],
    );
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    for key in [
        "encrypt_ballots_per_s_per_core",
        "verify_ballots_per_s_per_core_batched",
        "verify_record_s",
    ] {
        assert!(v[key].as_f64().unwrap() > 0.0, "{key} in {out}");
    }
    assert!(v.get("verify_record_100k_s").is_some());
    let _ = std::fs::remove_dir_all(&dir);
}
