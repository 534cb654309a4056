//! `scrutin demo`: a complete election in one process, written to a record file and
//! verified from that file as an auditor would.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::Args;
use scrutin_election::crypto::rng::{SeededRng, os_rng};
use scrutin_election::definition::Question;
use scrutin_election::demo::{self, DemoOptions};

use crate::output;
use crate::record_file::{read_small, verify_path};

#[derive(Args)]
pub struct DemoArgs {
    /// Number of voters.
    #[arg(long, default_value_t = 100)]
    pub voters: usize,
    /// Number of trustees sharing the election key.
    #[arg(long, default_value_t = 3)]
    pub trustees: u32,
    /// How many trustees are needed to decrypt.
    #[arg(long, default_value_t = 2)]
    pub threshold: u32,
    /// Trustees absent at the tally (comma-separated numbers), e.g. `--absent 2`. Not with
    /// --serve, where nobody tallies until the officials close the election.
    #[arg(long, value_delimiter = ',', conflicts_with = "serve")]
    absent: Vec<u32>,
    /// Percentage of voters who vote twice (the last ballot counts). Not with --serve,
    /// where the voters vote themselves.
    #[arg(long, default_value_t = 10, conflicts_with = "serve")]
    revote_percent: u32,
    /// Percentage of voters who vote blank where blank votes are allowed. Not with --serve,
    /// where the voters vote themselves.
    #[arg(long, default_value_t = 10, conflicts_with = "serve")]
    blank_percent: u32,
    /// Voter weights cycle through 1..=W (1: every voter weighs 1).
    #[arg(long, default_value_t = 1)]
    pub weights: u64,
    /// Questions from a TOML election description (its [[question]] tables are used).
    #[arg(long)]
    pub questions: Option<PathBuf>,
    /// Seed (any text) for a reproducible demo; random by default. Not with --serve: the
    /// keys and credentials of an election others can reach are never drawn from a seed.
    #[arg(long, conflicts_with = "serve")]
    seed: Option<String>,
    /// Where to write the election record.
    #[arg(long, required_unless_present = "serve")]
    out: Option<PathBuf>,
    /// Instead: start a server with an election ready for voting (key generation and
    /// credentials done, mails to a dry-run outbox) and print its URL and a few voters'
    /// logins and credentials.
    #[arg(long, conflicts_with = "out")]
    pub serve: bool,
    /// With --serve: the address to listen on.
    #[arg(long, requires = "serve", default_value = "127.0.0.1:8080")]
    pub listen: std::net::SocketAddr,
    /// With --serve: the data folder (default: a new folder in the system's temporary folder).
    #[arg(long, requires = "serve")]
    pub data: Option<PathBuf>,
    /// With --serve: an empty PostgreSQL database (postgresql://…) instead of SQLite files
    /// in the data folder (the demo creates its account `admin` there).
    #[arg(long, requires = "serve", value_name = "URL")]
    pub database: Option<String>,
    /// With --serve: serve the web pages from this folder (scrutin's web/) instead of the
    /// copy built into the binary, to edit them without rebuilding.
    #[arg(long, requires = "serve", value_name = "DIR")]
    pub web_dir: Option<PathBuf>,
}

/// The `[[question]]` tables of a TOML file: a whole election description, or a file of
/// questions alone (the demo brings its own title, trustees and authority).
pub fn questions_of(text: &str) -> Result<Vec<Question>> {
    #[derive(serde::Deserialize)]
    struct Questions {
        #[serde(rename = "question", default)]
        questions: Vec<Question>,
    }
    let file: Questions = toml::from_str(text).context("malformed TOML")?;
    if file.questions.is_empty() {
        bail!("the file has no [[question]] table");
    }
    Ok(file.questions)
}

pub fn run(args: &DemoArgs) -> Result<()> {
    if args.serve {
        return crate::demo_serve::run(args);
    }
    let out = args.out.clone().context("give --out FILE")?;
    let questions: Vec<Question> = match &args.questions {
        Some(path) => questions_of(&read_small(path, 1 << 20)?)?,
        None => DemoOptions::default_questions(),
    };
    let present = args.trustees as usize
        - args
            .absent
            .iter()
            .filter(|a| **a >= 1 && **a <= args.trustees)
            .count();
    if present < args.threshold as usize {
        bail!(
            "only {present} trustees present, {} needed to decrypt",
            args.threshold
        );
    }
    let opts = DemoOptions {
        voters: args.voters,
        trustees: args.trustees,
        threshold: args.threshold,
        absent_trustees: args.absent.clone(),
        revote_percent: args.revote_percent.min(100),
        blank_percent: args.blank_percent.min(100),
        weights: args.weights.max(1),
        questions,
        ..DemoOptions::default()
    };
    println!(
        "Running an election: {} voters, {} trustees (threshold {}{}).",
        opts.voters,
        opts.trustees,
        opts.threshold,
        if opts.absent_trustees.is_empty() {
            String::new()
        } else {
            format!(", absent at the tally: {:?}", opts.absent_trustees)
        }
    );
    let start = Instant::now();
    let outcome = match &args.seed {
        Some(seed) => demo::run(&opts, &mut SeededRng::new(seed.as_bytes()))?,
        None => demo::run(&opts, &mut os_rng())?,
    };
    std::fs::write(&out, &outcome.record)
        .with_context(|| format!("cannot write {}", out.display()))?;
    println!(
        "Key ceremony, {} credentials, {} ballots cast (re-votes included), tally and decryption done in {:.1} s.",
        outcome.credentials.len(),
        outcome.ballots_cast,
        start.elapsed().as_secs_f64()
    );
    println!(
        "Record written to {}. Verifying it as an auditor would:",
        out.display()
    );
    let start = Instant::now();
    let verified = verify_path(&out, true)?;
    output::print_report(&verified.state);
    println!("(verified in {:.2} s)", start.elapsed().as_secs_f64());
    let result = verified
        .state
        .result
        .as_ref()
        .context("the record has no result")?;
    if result.questions != outcome.expected {
        bail!("the decrypted result differs from the plaintext count of the choices");
    }
    println!("The decrypted result equals the plaintext count of the voters' choices.");
    println!("Try: scrutin verify {}", out.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::questions_of;

    #[test]
    fn questions_come_from_a_questions_file_or_a_whole_description() {
        let alone = "[[question]]\ntext = \"Elect two\"\nanswers = [\"A\", \"B\", \"C\"]\nkind = \"ranked\"\nmethod = \"stv\"\nseats = 2\n";
        let q = questions_of(alone).unwrap();
        assert_eq!((q.len(), q[0].answers.len(), q[0].seats), (1, 3, Some(2)));
        let whole = format!("title = \"T\"\nthreshold = 1\n{alone}");
        assert_eq!(questions_of(&whole).unwrap(), q);
        let e = questions_of("title = \"T\"\n").unwrap_err().to_string();
        assert!(e.contains("no [[question]] table"), "{e}");
        let e = questions_of("[[question]\n").unwrap_err().to_string();
        assert!(e.contains("malformed TOML"), "{e}");
    }
}
