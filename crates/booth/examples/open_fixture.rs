//! Writes the fixture of the browser tests: an open election (3 trustees, 20 voters who
//! have voted) with one approval question of 10 answers (0 to 10 of them), and the
//! private credentials of its voters. Made from a fixed seed, so it is reproducible.
//!
//! ```sh
//! cargo run --release -p scrutin-booth --example open_fixture -- web/test/fixture
//! ```

use std::path::PathBuf;

use scrutin_election::crypto::rng::SeededRng;
use scrutin_election::definition::Question;
use scrutin_election::demo::{self, DemoOptions};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = PathBuf::from(
        std::env::args()
            .nth(1)
            .ok_or("usage: open_fixture OUTPUT-FOLDER")?,
    );
    let opts = DemoOptions {
        title: "Browser test election".into(),
        voters: 20,
        revote_percent: 10,
        blank_percent: 0,
        leave_open: true,
        questions: vec![Question {
            text: "Which projects should be funded?".into(),
            answers: (1..=10).map(|i| format!("Project {i}")).collect(),
            min: 0,
            max: 10,
            max_per_answer: 1,
            blank: false,
            kind: None,
            method: None,
            seats: None,
            grades: None,
        }],
        ..DemoOptions::default()
    };
    let outcome = demo::run(&opts, &mut SeededRng::new(b"scrutin booth browser fixture"))?;
    std::fs::create_dir_all(&dir)?;
    std::fs::write(dir.join("record.jsonl"), &outcome.record)?;
    std::fs::write(
        dir.join("credentials.json"),
        serde_json::to_string_pretty(&outcome.credentials)? + "\n",
    )?;
    println!(
        "wrote {} ({} ballots) and the credentials of {} voters",
        dir.join("record.jsonl").display(),
        outcome.ballots_cast,
        outcome.credentials.len()
    );
    Ok(())
}
