//! `scrutin bench`: encryption and verification speed for a ballot with one approval
//! question of 10 answers (spec §10), the time to verify a whole record, and a trustee's
//! shuffle of ranked ballots with its proof and its verification (spec §5.5, §11.12); with
//! `--restart-ballots`, a server node's restart instead ([`crate::bench_restart`]).

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
    /// Ranked ballots (rows of 10 ciphertexts) shuffled, proved and verified as one
    /// trustee's `shuffle` of one ten-candidate question (0 to skip).
    #[arg(long, default_value_t = 100_000)]
    shuffle_ballots: usize,
    /// Instead of the other figures: a server node's restart on a stored election of this
    /// many ballots, with and without its checkpoint, and its memory per ballot.
    #[arg(long, default_value_t = 0)]
    restart_ballots: usize,
    /// Where the restart figure makes its data folder (removed afterwards); default: the
    /// temporary directory.
    #[arg(long)]
    restart_dir: Option<std::path::PathBuf>,
    /// One load of the restart figure, in a process of its own (run by the figure itself).
    #[arg(long, hide = true)]
    restart_phase: Option<String>,
}

/// Candidates of the ranked question of the shuffle figures: each ballot is a row of this
/// many ciphertexts (§10.7).
const RANKED_CANDIDATES: usize = 10;

/// Seconds for one trustee to shuffle and prove `ballots` rows of [`RANKED_CANDIDATES`]
/// ciphertexts (`mix::shuffle_rows`, what `scrutin trustee shuffle` runs), and seconds to
/// verify that shuffle as the record verifier does (`mix::add_shuffle_to_batch`, check M1).
///
/// The input rows are fresh encryptions of ranks under a fresh key: the shuffle does not
/// depend on what the ciphertexts hold, and encrypting 100,000 whole ballots first would
/// only make the benchmark longer.
fn shuffle_figures(ballots: usize, log: &dyn Fn(&str)) -> Result<(f64, f64)> {
    use rayon::prelude::*;
    use scrutin_election::Hash32;
    use scrutin_election::crypto::batch::BatchVerifier;
    use scrutin_election::crypto::elgamal::{Ciphertext, EncryptionKey};
    use scrutin_election::crypto::{Point, RistrettoPoint, Scalar};
    use scrutin_election::mix;

    log(&format!(
        "Encrypting {ballots} ranked ballots of {RANKED_CANDIDATES} ciphertexts (all cores)…"
    ));
    let key = EncryptionKey::new(Point::from_point(RistrettoPoint::mul_base(
        &Scalar::random(&mut os_rng()),
    )));
    let rows: mix::Rows = (0..ballots)
        .into_par_iter()
        .chunks(1024)
        .flat_map_iter(|chunk| {
            let mut rng = os_rng();
            let items: Vec<(u64, Scalar)> = chunk
                .iter()
                .flat_map(|i| (0..RANKED_CANDIDATES).map(move |k| ((i + k) % 11) as u64))
                .map(|m| (m, Scalar::random(&mut rng)))
                .collect();
            let (flat, _) = Ciphertext::encrypt_many(&key, &items);
            flat.chunks(RANKED_CANDIDATES)
                .map(<[Ciphertext]>::to_vec)
                .collect::<Vec<_>>()
        })
        .collect();
    let fp = Hash32([7; 32]);
    let inputs = [rows];

    log("Shuffling and proving, as one trustee…");
    let start = Instant::now();
    let shuffled = mix::shuffle_rows(&fp, key.point(), 1, &[0], &inputs, &mut os_rng())?;
    let shuffle_seconds = start.elapsed().as_secs_f64();

    log("Verifying the shuffle, as the record verifier…");
    let start = Instant::now();
    let mut batch = BatchVerifier::new(&mut os_rng());
    mix::add_shuffle_to_batch(&fp, key.point(), &[0], &inputs, &shuffled, &mut batch)?;
    anyhow::ensure!(batch.verify(), "the shuffle's proof did not verify");
    let verify_seconds = start.elapsed().as_secs_f64();
    Ok((shuffle_seconds, verify_seconds))
}

pub(crate) fn approval_question() -> Question {
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
    match (&args.restart_phase, &args.restart_dir) {
        (Some(phase), Some(dir)) => return crate::bench_restart::phase(dir, phase),
        (Some(_), None) => anyhow::bail!("--restart-phase needs --restart-dir"),
        _ => {}
    }
    if args.restart_ballots > 0 {
        return crate::bench_restart::run(
            args.restart_ballots,
            args.restart_dir.as_deref(),
            args.json,
        );
    }
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

    let mut shuffle_seconds = None;
    if args.shuffle_ballots > 0 {
        shuffle_seconds = Some(shuffle_figures(args.shuffle_ballots, &log)?);
    }

    let cores = rayon::current_num_threads();
    let is_100k = args.shuffle_ballots == 100_000;
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
                "shuffle_100k_ranked10_s": shuffle_seconds.filter(|_| is_100k).map(|s| s.0),
                "verify_shuffle_100k_ranked10_s": shuffle_seconds.filter(|_| is_100k).map(|s| s.1),
                "shuffle_ranked10_s": shuffle_seconds.map(|s| s.0),
                "verify_shuffle_ranked10_s": shuffle_seconds.map(|s| s.1),
                "shuffle_ballots": args.shuffle_ballots,
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
        if let Some((shuffle, verify)) = shuffle_seconds {
            println!(
                "Ranked ballots: {} rows of {RANKED_CANDIDATES} ciphertexts, one trustee's shuffle",
                args.shuffle_ballots
            );
            println!("  shuffle + prove              {shuffle:>9.1} s");
            println!("  verify the shuffle           {verify:>9.1} s");
        }
    }
    Ok(())
}
