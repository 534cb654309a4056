//! `scrutin`: the command-line tool of scrutin. Every role of an offline election works
//! on one election record file (JSON Lines, spec §11); each command first verifies the
//! whole record (fail closed), then appends its events. The same role commands work
//! against a server (`--server URL`): the record is downloaded and verified locally, and
//! only the public event is posted. `scrutin serve` runs the server itself.
#![forbid(unsafe_code)]

mod bench;
mod demo;
mod demo_serve;
mod mailing;
mod output;
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
}

#[derive(Args)]
struct VerifyArgs {
    /// The election record (JSON Lines).
    record: PathBuf,
    /// Print the report as one JSON object.
    #[arg(long)]
    json: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Demo(args) => demo::run(&args),
        Command::Serve(args) => serve::run(&args),
        Command::Verify(args) => verify(&args),
        Command::Bench(args) => bench::run(&args),
        Command::Election(cmd) => roles::election(cmd),
        Command::Trustee(cmd) => roles::trustee(cmd),
        Command::Credentials(cmd) => roles::credentials(cmd),
        Command::Ballot(cmd) => roles::ballot(cmd),
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
    let verified = record_file::verify_path(&args.record, true)?;
    if args.json {
        println!("{}", output::report_json(&verified.state)?);
    } else {
        output::print_report(&verified.state);
    }
    Ok(())
}
