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

/// The record's lines, each with its newline.
fn record_lines(dir: &Path) -> Vec<&'static str> {
    let text = std::fs::read_to_string(dir.join("record.jsonl")).unwrap();
    String::leak(text).split_inclusive('\n').collect()
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("scrutin-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

const DESCRIPTION: &str = r#"
title = "Association board 2026"
threshold = 2

[[question]]
text = "Who should preside?"
answers = ["Ada", "Blaise", "Claude"]
min = 1
max = 1
blank = true
"#;

/// `scrutin trustee keygen` or `scrutin credentials keygen` (`role`): writes the key to
/// `out` and returns the public key it printed.
fn keygen(dir: &Path, role: &str, name: &str, out: &str) -> String {
    let printed = scrutin(dir, &[role, "keygen", "--name", name, "--out", out]);
    let key = printed
        .lines()
        .find_map(|l| l.trim().strip_prefix("public key"))
        .unwrap_or_else(|| panic!("no public key in {printed}"))
        .trim()
        .to_owned();
    assert!(printed.contains("fingerprint"), "{printed}");
    let file: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join(out)).unwrap()).unwrap();
    assert_eq!(file["signing_key"], key.as_str());
    key
}

/// The election description naming the trustees (keys in `trustee{i}-key.json`) and the
/// credential authority (`authority-key.json`), keys drawn here with the CLI.
fn description_with_keys(dir: &Path) -> String {
    let mut toml = DESCRIPTION.to_owned();
    for (i, name) in ["Alice", "Bob", "Carol"].iter().enumerate() {
        let key = keygen(dir, "trustee", name, &format!("trustee{}-key.json", i + 1));
        toml.push_str(&format!(
            "\n[[trustee]]\nname = \"{name}\"\nkey = \"{key}\"\n"
        ));
    }
    let key = keygen(dir, "credentials", "Registrar", "authority-key.json");
    toml.push_str(&format!(
        "\n[authority]\nname = \"Registrar\"\nkey = \"{key}\"\n"
    ));
    toml
}

#[test]
fn offline_election_on_files() {
    let dir = temp_dir("offline");
    let description = description_with_keys(&dir);
    std::fs::write(dir.join("election.toml"), description).unwrap();
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
    // The trustees act in the order of their keys in the definition, whatever the order
    // they come in: trustee 3 first.
    for i in [3, 1, 2] {
        let secret = format!("trustee{i}.json");
        let out = scrutin(
            &dir,
            &[
                "trustee",
                "commit",
                r[0],
                r[1],
                "--key",
                &format!("trustee{i}-key.json"),
                "--secret",
                &secret,
            ],
        );
        assert!(out.contains(&format!("Trustee {i} (")), "{out}");
    }
    // The authority's key is not a trustee's.
    let err = scrutin_fails(
        &dir,
        &[
            "trustee",
            "commit",
            r[0],
            r[1],
            "--key",
            "authority-key.json",
            "--secret",
            "nobody.json",
        ],
    );
    assert!(err.contains("not a trustee"), "{err}");
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
    // A second election key is refused, as a second opening or closing is, and nothing is
    // appended.
    let before = std::fs::read(dir.join("record.jsonl")).unwrap();
    let err = scrutin_fails(&dir, &["election", "key", r[0], r[1]]);
    assert!(err.contains("already published"), "{err}");
    assert_eq!(std::fs::read(dir.join("record.jsonl")).unwrap(), before);
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
            "--key",
            "authority-key.json",
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
    // The authority's one private format (§9.4): login, weight, credential (no address in
    // this voter list).
    let mut fields: Vec<&str> = issued[1]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    fields.sort_unstable();
    assert_eq!(fields, ["credential", "login", "weight"], "{issued}");
    assert_eq!(
        (issued[1]["login"].as_str(), issued[1]["weight"].as_u64()),
        (Some("bob"), Some(2))
    );
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
    // Without addresses in the voter list, nothing can be mailed from the private file.
    let err = scrutin_fails(
        &dir,
        &[
            "credentials",
            "mail",
            r[0],
            r[1],
            "--private",
            "private.json",
            "--voting-url",
            "https://vote.example.org",
            "--outbox",
            "mails",
        ],
    );
    assert!(err.contains("alice: no mail address"), "{err}");
    assert!(!dir.join("mails").exists());

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
    // The same audit with one hexadecimal digit written as a JSON escape is refused
    // (spec §2.1: hexadecimal strings are written literally).
    let text = std::fs::read_to_string(dir.join("audit.json")).unwrap();
    let at = text.find("\"election\": \"").unwrap() + "\"election\": \"".len();
    let digit = text[at..].chars().next().unwrap();
    let escaped = format!("{}\\u{:04x}{}", &text[..at], digit as u32, &text[at + 1..]);
    std::fs::write(dir.join("escaped-audit.json"), escaped).unwrap();
    let err = scrutin_fails(
        &dir,
        &["ballot", "check-audit", r[0], r[1], "escaped-audit.json"],
    );
    assert!(
        err.contains("not audit data") && err.contains("without JSON escape sequences"),
        "{err}"
    );
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
    // The conclusions in plain sentences (spec §12, conclusions): every one of a tallied election,
    // each resting on its checks.
    let keys: Vec<&str> = report["conclusions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["key"].as_str().unwrap())
        .collect();
    assert_eq!(
        keys,
        [
            "chain",
            "definition",
            "key",
            "credentials",
            "opened",
            "eligible",
            "valid",
            "no_copies",
            "last_counts",
            "result"
        ]
    );
    let human = scrutin(&dir, &["verify", "record.jsonl"]);
    let head = report["head"].as_str().unwrap();
    let events = report["events"].as_u64().unwrap();
    for sentence in [
        format!(
            "The record is one unbroken chain of {events} lines, in the order the protocol sets, ending in head {head}."
        ),
        "Every ballot on the record (4) was cast for this election with a credential from the published list, and signed with it.".to_owned(),
        "No credential was counted twice: only the last ballot of each credential counts, 3 ballots in all, and the encrypted tally at close is their sum.".to_owned(),
        "The published result is the decryption of the sum of the counted ballots, proven by 2 of the 3 trustees.".to_owned(),
        "The election key was generated by the 3 trustees together, each signing their part: 2 of them are needed to decrypt.".to_owned(),
    ] {
        assert!(human.contains(&sentence), "{sentence}\n{human}");
    }

    // A missing line is said with the line and the number it carries instead.
    let lines: Vec<&str> = record_lines(&dir);
    let ballot = lines
        .iter()
        .position(|l| l.contains("\"type\":\"ballot\""))
        .unwrap();
    let mut gap = lines.clone();
    gap.remove(ballot);
    std::fs::write(dir.join("gap.jsonl"), gap.concat()).unwrap();
    let err = scrutin_fails(&dir, &["verify", "gap.jsonl"]);
    assert!(
        err.contains(&format!(
            "A line is missing from the record, or one was added or moved: line {ballot} is numbered {}.",
            ballot + 1
        )),
        "{err}"
    );
    // A line whose link to the line before it was edited breaks the chain there.
    let mut edited = lines.clone();
    let at = lines[ballot].find("\"prev\":\"").unwrap() + 8;
    let first = &lines[ballot][at..at + 1];
    let changed = format!(
        "{}{}{}",
        &lines[ballot][..at],
        if first == "0" { "1" } else { "0" },
        &lines[ballot][at + 1..]
    );
    edited[ballot] = &changed;
    std::fs::write(dir.join("edited.jsonl"), edited.concat()).unwrap();
    let err = scrutin_fails(&dir, &["verify", "edited.jsonl"]);
    assert!(
        err.contains(&format!("The chain is broken at line {ballot}:")),
        "{err}"
    );
    // --json says the failure too, with its sentence.
    let out = Command::new(env!("CARGO_BIN_EXE_scrutin"))
        .current_dir(&dir)
        .args(["verify", "gap.jsonl", "--json"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let failed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(failed["status"], "failed");
    assert_eq!(failed["check"], "R2");
    assert_eq!(failed["failure"]["key"], "fail_numbering");
    assert_eq!(failed["failure"]["params"]["found"], ballot + 1);

    // A changed byte anywhere makes `scrutin verify` fail, naming the check.
    let record = std::fs::read_to_string(dir.join("record.jsonl")).unwrap();
    let tampered = record.replacen("\"weight\":2", "\"weight\":3", 1);
    std::fs::write(dir.join("tampered.jsonl"), tampered).unwrap();
    let err = scrutin_fails(&dir, &["verify", "tampered.jsonl"]);
    // The credential list is signed by the authority: the changed weight breaks its
    // signature (S2) before the next line's link to it (R3).
    assert!(err.contains("check S2 failed at event"), "{err}");
    assert!(
        err.contains("is not signed by the credential authority the election names"),
        "{err}"
    );
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
    // The options of the simulated vote have no use with --serve, where people vote: each
    // is refused rather than ignored, before anything starts.
    for (option, value) in [
        ("--seed", "test"),
        ("--absent", "1"),
        ("--revote-percent", "20"),
        ("--blank-percent", "0"),
    ] {
        let err = scrutin_fails(&dir, &["demo", "--serve", option, value]);
        assert!(
            err.contains(option) && err.contains("cannot be used with"),
            "{err}"
        );
    }
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

/// The restart figure stores an election, loads it in full in one process and from the
/// checkpoint that load wrote in another (each phase fails unless it loaded as named), and
/// removes its data folder.
#[test]
fn bench_restart_loads_from_the_checkpoint() {
    let dir = temp_dir("bench-restart");
    let out = scrutin(
        &dir,
        &[
            "bench",
            "--json",
            "--restart-ballots",
            "30",
            "--restart-dir",
            dir.to_str().unwrap(),
        ],
    );
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    for key in [
        "full_verification_load_s",
        "checkpoint_load_s",
        "checkpoint_write_s",
        "checkpoint_bytes",
        "rss_per_ballot_after_checkpoint_load_bytes",
    ] {
        assert!(v[key].as_f64().unwrap() > 0.0, "{key} in {out}");
    }
    assert_eq!(v["checkpoint"]["ballots"], 30);
    assert_eq!(v["full"]["events"], v["checkpoint"]["events"]);
    let left: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("scrutin-bench-restart")
        })
        .collect();
    assert!(left.is_empty(), "the data folder is removed");
    let _ = std::fs::remove_dir_all(&dir);
}

/// With one trustee (threshold 1), `trustee commit --all-steps` runs the whole key
/// generation in one command; with several, it stops after the commitment and says that the
/// other trustees must act first (spec §6.6: dealings need every commitment).
#[test]
fn one_trustee_generates_the_key_in_one_command() {
    let dir = temp_dir("one-trustee");
    let key = keygen(&dir, "trustee", "Alice", "trustee1-key.json");
    let authority = keygen(&dir, "credentials", "Registrar", "authority-key.json");
    let description = format!(
        "{}\n[[trustee]]\nname = \"Alice\"\nkey = \"{key}\"\n\n[authority]\nname = \"Registrar\"\nkey = \"{authority}\"\n",
        DESCRIPTION.replace("threshold = 2", "threshold = 1")
    );
    std::fs::write(dir.join("election.toml"), description).unwrap();
    let setup = |record: &str| {
        scrutin(
            &dir,
            &[
                "election",
                "setup",
                "--description",
                "election.toml",
                "--record",
                record,
            ],
        )
    };
    setup("one.jsonl");
    let out = scrutin(
        &dir,
        &[
            "trustee",
            "commit",
            "--record",
            "one.jsonl",
            "--key",
            "trustee1-key.json",
            "--secret",
            "trustee1.json",
            "--all-steps",
        ],
    );
    assert!(out.contains("Trustee 1 dealt its shares."), "{out}");
    assert!(out.contains("Trustee 1 checked its shares."), "{out}");
    assert!(out.contains("scrutin election key"), "{out}");
    let record = std::fs::read_to_string(dir.join("one.jsonl")).unwrap();
    for kind in ["trustee_commitment", "dealer_shares", "trustee_check"] {
        assert_eq!(
            record.matches(&format!("\"type\":\"{kind}\"")).count(),
            1,
            "{kind} in {record}"
        );
    }
    let out = scrutin(&dir, &["election", "key", "--record", "one.jsonl"]);
    assert!(out.contains("Election key"), "{out}");
    scrutin(&dir, &["verify", "one.jsonl"]);

    // Two trustees: the commitment only.
    let bob = keygen(&dir, "trustee", "Bob", "trustee2-key.json");
    let two = std::fs::read_to_string(dir.join("election.toml"))
        .unwrap()
        .replace(
            "\n[authority]",
            &format!("\n[[trustee]]\nname = \"Bob\"\nkey = \"{bob}\"\n\n[authority]"),
        );
    std::fs::write(dir.join("election.toml"), two).unwrap();
    setup("two.jsonl");
    let out = scrutin(
        &dir,
        &[
            "trustee",
            "commit",
            "--record",
            "two.jsonl",
            "--key",
            "trustee1-key.json",
            "--secret",
            "two-trustee1.json",
            "--all-steps",
        ],
    );
    assert!(out.contains("waits for the other trustees"), "{out}");
    let record = std::fs::read_to_string(dir.join("two.jsonl")).unwrap();
    assert!(!record.contains("\"type\":\"dealer_shares\""), "{record}");
}
