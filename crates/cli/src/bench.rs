//! `scrutin bench`: encryption and verification speed for a ballot with one approval
//! question of 10 answers (spec §10), and the time to verify a whole record.

use std::time::Instant;

use anyhow::{Context, Result};
use clap::Args;
use scrutin_election::ballot::{self, Ballot, BallotParts, VotingContext};
use scrutin_election::credential::Credential;
use scrutin_election::crypto::batch::BatchVerifier;
use scrutin_election::crypto::rng::{SeededRng, os_rng};
use scrutin_election::definition::{Question, QuestionChoice};
use scrutin_election::demo::{self, DemoOptions};
use scrutin_election::verify::{NoProgress, verify_record};

#[derive(Args)]
pub struct BenchArgs {
    /// Print the figures as one JSON object.
    #[arg(long)]
    json: bool,
    /// Ballots encrypted and verified for the per-core figures.
    #[arg(long, default_value_t = 2000)]
    samples: usize,
    /// Ballots in the record verified end to end (0 to skip).
    #[arg(long, default_value_t = 100_000)]
    record_ballots: usize,
}

fn approval_question() -> Question {
    Question {
        text: "Approve any of these ten options".into(),
        answers: (1..=10).map(|i| format!("Option {i}")).collect(),
        min: 0,
        max: 10,
        max_per_answer: 1,
        blank: false,
        kind: None,
        method: None,
        seats: None,
        grades: None,
    }
}

fn one_core<T: Send>(f: impl FnOnce() -> T + Send) -> Result<T> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .context("thread pool")?;
    Ok(pool.install(f))
}

pub fn run(args: &BenchArgs) -> Result<()> {
    let samples = args.samples.max(10);
    let log = |s: &str| {
        if !args.json {
            eprintln!("{s}");
        }
    };
    log("Setting up an election with one 10-answer approval question…");
    let opts = DemoOptions {
        voters: samples,
        trustees: 1,
        threshold: 1,
        revote_percent: 0,
        blank_percent: 0,
        questions: vec![approval_question()],
        leave_open: true,
        ..DemoOptions::default()
    };
    let outcome = demo::run(&opts, &mut os_rng())?;
    let state = verify_record(outcome.record.as_bytes(), &NoProgress)?.state;
    let ctx: &VotingContext = state.context.as_ref().context("not open")?;
    let creds: Vec<Credential> = outcome
        .credentials
        .iter()
        .map(|c| Credential::parse(&c.credential))
        .collect::<Result<_, _>>()?;
    let mut rng = SeededRng::new(b"bench choices");
    let choices: Vec<Vec<QuestionChoice>> = (0..samples)
        .map(|_| {
            vec![demo::random_choice(
                &ctx.definition.questions[0],
                0,
                &mut rng,
            )]
        })
        .collect();

    // Encryption, one core.
    log(&format!("Encrypting {samples} ballots on one core…"));
    let start = Instant::now();
    let ballots: Vec<Ballot> = one_core(|| -> Result<Vec<Ballot>> {
        let mut rng = os_rng();
        let mut out = Vec::with_capacity(creds.len());
        for (c, ch) in creds.iter().zip(&choices) {
            out.push(ballot::encrypt(ctx, c, ch, &mut rng)?.0);
        }
        Ok(out)
    })??;
    let encrypt_rate = samples as f64 / start.elapsed().as_secs_f64();
    let texts: Vec<String> = ballots
        .iter()
        .map(serde_json::to_string)
        .collect::<Result<_, _>>()?;

    // Verification one by one, from JSON text (decoding the points is part of the cost).
    log("Verifying them one by one…");
    let start = Instant::now();
    one_core(|| -> Result<()> {
        for t in &texts {
            let b: Ballot = serde_json::from_str(t)?;
            ballot::verify(ctx, &b)
                .map_err(|r| anyhow::anyhow!("{}: {}", r.check.code(), r.reason))?;
        }
        Ok(())
    })??;
    let verify_rate = samples as f64 / start.elapsed().as_secs_f64();

    // Verification in batches of 128 (as the record verifier) on one core.
    log("Verifying them in batches on one core…");
    let start = Instant::now();
    one_core(|| -> Result<()> {
        for group in texts.chunks(128) {
            let mut batch = BatchVerifier::new(&mut os_rng());
            let bases = ctx.register_bases(&mut batch);
            for t in group {
                let b: Ballot = serde_json::from_str(t)?;
                ballot::check_shape(ctx, &b).map_err(|r| anyhow::anyhow!(r.reason))?;
                ballot::add_to_batch(ctx, &b, &mut batch, &bases, BallotParts::ALL)
                    .map_err(|r| anyhow::anyhow!(r.reason))?;
            }
            anyhow::ensure!(batch.verify(), "batch failed");
        }
        Ok(())
    })??;
    let batched_rate = samples as f64 / start.elapsed().as_secs_f64();

    // A whole record, all cores.
    let mut record_seconds = None;
    if args.record_ballots > 0 {
        log(&format!(
            "Generating a record of {} ballots (all cores; this takes a while)…",
            args.record_ballots
        ));
        let opts = DemoOptions {
            voters: args.record_ballots,
            ..opts.clone()
        };
        let big = demo::run(&opts, &mut os_rng())?;
        log(&format!(
            "Verifying the whole record ({} MB) on all cores…",
            big.record.len() >> 20
        ));
        let start = Instant::now();
        let verified = verify_record(big.record.as_bytes(), &NoProgress)?;
        record_seconds = Some(start.elapsed().as_secs_f64());
        anyhow::ensure!(
            verified.state.ballots == args.record_ballots as u64,
            "ballot count"
        );
    }

    let cores = rayon::current_num_threads();
    if args.json {
        println!(
            "{}",
            serde_json::json!({
                "encrypt_ballots_per_s_per_core": encrypt_rate.round(),
                "verify_ballots_per_s_per_core": verify_rate.round(),
                "verify_ballots_per_s_per_core_batched": batched_rate.round(),
                "verify_record_100k_s": if args.record_ballots == 100_000 { record_seconds } else { None },
                "verify_record_s": record_seconds,
                "record_ballots": args.record_ballots,
                "cores": cores,
                "samples": samples,
            })
        );
    } else {
        println!(
            "Ballot: one approval question with 10 answers ({samples} samples, {cores} cores)"
        );
        println!("  encrypt + prove + sign       {encrypt_rate:>9.0} ballots/s per core");
        println!("  verify, one by one           {verify_rate:>9.0} ballots/s per core");
        println!("  verify, batched              {batched_rate:>9.0} ballots/s per core");
        if let Some(s) = record_seconds {
            println!(
                "  verify a record of {} ballots end to end: {s:.1} s on {cores} cores",
                args.record_ballots
            );
        }
    }
    Ok(())
}
