//! `scrutin`: the command-line tool of scrutin. Every role of an offline election works
//! on one election record file (JSON Lines, spec §11); each command first verifies the
//! whole record (fail closed), then appends its events. The same role commands work
//! against a server (`--server URL`): the record is downloaded and verified locally, and
//! only the public event is posted. `scrutin serve` runs the server itself.
#![forbid(unsafe_code)]

mod bench;
mod bench_restart;
mod demo;
mod demo_serve;
mod loadtest;
mod mailing;
mod monitor;
mod output;
mod receipt;
mod record_file;
mod remote;
mod roles;
mod serve;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

/// scrutin — end-to-end verifiable internet voting.
#[derive(Parser)]
#[command(name = "scrutin", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a complete election in one process, write its record, verify it and print the
    /// result; or, with --serve, start a server with an election ready for voting.
    Demo(demo::DemoArgs),
    /// Run the voting server: bulletin board, election lifecycle and the roles' API over
    /// HTTP(S), on an embedded SQLite database (or create its first administrator).
    Serve(serve::ServeArgs),
    /// Verify an election record: every numbered check of the specification (§12).
    ///
    /// Exits 0 and prints what was verified, or exits 1 naming the failed check and the
    /// event's sequence number. A record still open verifies as far as it goes.
    Verify(VerifyArgs),
    /// Measure encryption and verification speed on this machine.
    Bench(bench::BenchArgs),
    /// Measure a running server: voters signing in and casting at several concurrency
    /// levels, then every receipt checked against the verified record.
    Loadtest(loadtest::LoadtestArgs),
    /// Administrator steps: set up, compute the key, open, close, tally.
    #[command(subcommand)]
    Election(roles::ElectionCommand),
    /// Trustee steps: key generation (commit, deal, check) and decryption.
    #[command(subcommand)]
    Trustee(roles::TrusteeCommand),
    /// Credential authority: generate the voters' credentials and publish the public list.
    #[command(subcommand)]
    Credentials(roles::CredentialsCommand),
    /// Voter: cast a ballot, or make and check a Benaloh audit, or find a tracker.
    #[command(subcommand)]
    Ballot(roles::BallotCommand),
    /// Check a receipt signed by the board against a record (spec §14.2).
    #[command(subcommand)]
    Receipt(receipt::ReceiptCommand),
    /// Follow a board, verify every event as it arrives, keep a copy, serve it and raise an
    /// alarm on any rewrite, removal, reordering, fork or equivocation (spec §14.3).
    Monitor(monitor::MonitorArgs),
}

#[derive(Args)]
struct VerifyArgs {
    /// The election record (JSON Lines).
    record: PathBuf,
    /// Print the report as one JSON object.
    #[arg(long)]
    json: bool,
    /// A head signed by the board (the `signed` member of `GET …/head`, or the whole
    /// answer), saved in a file: checked against the record (spec §14.1); a head of
    /// another chain is reported as equivocation and fails the verification. Repeatable.
    #[arg(long = "signed-head", value_name = "FILE")]
    signed_heads: Vec<PathBuf>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Demo(args) => demo::run(&args),
        Command::Serve(args) => serve::run(&args),
        Command::Verify(args) => verify(&args),
        Command::Bench(args) => bench::run(&args),
        Command::Loadtest(args) => loadtest::run(&args),
        Command::Election(cmd) => roles::election(cmd),
        Command::Trustee(cmd) => roles::trustee(cmd),
        Command::Credentials(cmd) => roles::credentials(cmd),
        Command::Ballot(cmd) => roles::ballot(cmd),
        Command::Receipt(cmd) => receipt::run(cmd),
        Command::Monitor(args) => match monitor::run(args) {
            Ok(code) => return code,
            Err(e) => Err(e),
        },
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn verify(args: &VerifyArgs) -> anyhow::Result<()> {
    let bytes = record_file::read_record(&args.record)?;
    let verified = match record_file::verify_bytes(&bytes, true) {
        Ok(v) => v,
        Err(e) => {
            // The failure in one plain sentence (spec §12, conclusions), then the check that failed.
            let said = scrutin_election::conclusions::failure(&e);
            if args.json {
                println!("{}", output::failure_json(&e, &said)?);
            }
            anyhow::bail!(
                "{} does not verify. {}\n({e})",
                args.record.display(),
                said.text
            );
        }
    };
    if args.json {
        println!("{}", output::report_json(&verified.state)?);
    } else {
        output::print_report(&verified.state);
    }
    if !args.signed_heads.is_empty() {
        check_signed_heads(args, &verified.state)?;
    }
    Ok(())
}

/// Checks heads signed by the board against the verified record (§14.1).
fn check_signed_heads(
    args: &VerifyArgs,
    state: &scrutin_election::verify::RecordState,
) -> anyhow::Result<()> {
    use anyhow::{Context, bail};
    use scrutin_election::Hash32;
    use scrutin_election::roles::{HeadCheck, SignedHead, head_matches_record};
    use serde::Deserialize;
    let board_key = state
        .definition
        .as_ref()
        .and_then(|d| d.board_key)
        .context("this election names no board key: it has no signed heads")?;
    let bytes = std::fs::read(&args.record)?;
    let hashes: Vec<Hash32> = scrutin_election::record::split_lines(&bytes)?
        .iter()
        .map(|l| Hash32::of(l))
        .collect();
    let mut conflicts = 0;
    for path in &args.signed_heads {
        let text = record_file::read_small(path, 1 << 16)?;
        let value: serde_json::Value = serde_json::from_str(&text)
            .with_context(|| format!("{} is not JSON", path.display()))?;
        // Hex strings are decoded as written (spec §2.1): from the borrowed value.
        let head = SignedHead::deserialize(value.get("signed").unwrap_or(&value))
            .with_context(|| format!("{} is not a signed head", path.display()))?;
        if head.verify(&board_key).is_err() || Some(&head.election) != hashes.first() {
            bail!(
                "{}: not a head signed by this election's board key: it proves nothing",
                path.display()
            );
        }
        match head_matches_record(&head, |i| hashes.get(i as usize).copied()) {
            HeadCheck::Consistent => println!(
                "{}: the board's signed head of {} events is on this record.",
                path.display(),
                head.length
            ),
            HeadCheck::Ahead => println!(
                "{}: the board signed a head of {} events; this record has {}: it is older (compare again with a newer record).",
                path.display(),
                head.length,
                hashes.len()
            ),
            HeadCheck::Conflict { found } => {
                conflicts += 1;
                println!(
                    "EQUIVOCATION: {}: the board signed event {} with hash {}, but this record's event {} hashes to {found}: the board signed two different records. Keep both as evidence.",
                    path.display(),
                    head.length - 1,
                    head.head,
                    head.length - 1
                );
            }
        }
    }
    if conflicts > 0 {
        bail!("{conflicts} signed heads are not on this record: the board equivocated");
    }
    Ok(())
}
