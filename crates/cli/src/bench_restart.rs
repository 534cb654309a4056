//! `scrutin bench --restart-ballots N`: how long a server node takes to serve an election of
//! `N` ballots again after a restart, verifying its whole record or starting from its
//! checkpoint (`scrutin_election::checkpoint`), and the node's resident memory per ballot.
//!
//! The record (one 10-answer approval question, as the other figures, voting still open) is
//! made with `scrutin_election::demo` and stored with the storage API in a SQLite data
//! folder. Each load then runs in a fresh process of its own (this command, run again with
//! `--restart-phase`), so that the resident memory it reports (`VmRSS` of
//! `/proc/self/status`, before and after the load) is that of the node's state alone:
//! - `full`: a node with no checkpoint verifies the whole record (what every restart did
//!   before checkpoints), then writes its checkpoint as at shutdown;
//! - `checkpoint`: a node restarts on the same folder and reads that checkpoint.
//!
//! The nodes log on stderr (`SCRUTIN_LOG`), where the checkpoint's line says how long its
//! encoding held the election's lock (`encode_ms`) and how long storing it took.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use scrutin_election::crypto::rng::os_rng;
use scrutin_election::demo::{self, DemoOptions};
use scrutin_server::storage::{ElectionMeta, ElectionState, Storage, now};
use scrutin_server::{AppState, ServerConfig};

const ELECTION: &str = "bench";

/// Resident memory of this process, in bytes (Linux; 0 elsewhere).
fn rss() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

fn config(dir: &Path) -> ServerConfig {
    let mut c = ServerConfig {
        data_dir: dir.join("data"),
        ..ServerConfig::default()
    };
    c.mail.outbox = Some(dir.join("outbox"));
    c
}

/// Makes the record and stores it in `dir`.
fn build(dir: &Path, ballots: usize, log: &dyn Fn(&str)) -> Result<()> {
    log(&format!(
        "Generating a record of {ballots} ballots (all cores; this takes a while)…"
    ));
    let started = Instant::now();
    let outcome = demo::run(
        &DemoOptions {
            voters: ballots,
            trustees: 1,
            threshold: 1,
            revote_percent: 0,
            blank_percent: 0,
            questions: vec![super::bench::approval_question()],
            leave_open: true,
            ..DemoOptions::default()
        },
        &mut os_rng(),
    )?;
    log(&format!(
        "Generated in {:.1} s ({} MB); storing it…",
        started.elapsed().as_secs_f64(),
        outcome.record.len() >> 20
    ));
    let storage = scrutin_server::storage::sqlite::SqliteStorage::open(&dir.join("data"))?;
    storage.create_election(&ElectionMeta {
        id: ELECTION.into(),
        state: ElectionState::Draft,
        description_toml: "title = \"bench\"".into(),
        opens_at: None,
        closes_at: None,
        created_at: now(),
    })?;
    storage.set_election_state(ELECTION, ElectionState::Draft, ElectionState::Open)?;
    let lines: Vec<String> = outcome.record.lines().map(str::to_owned).collect();
    drop(outcome);
    let mut next = 0u64;
    for chunk in lines.chunks(5000) {
        next = storage.append_events(ELECTION, next, chunk, &[])?;
    }
    Ok(())
}

/// One load in this process: prints its figures as JSON.
pub fn phase(dir: &Path, phase: &str) -> Result<()> {
    // The node's own log on stderr: the checkpoint's encoding and storing times.
    crate::serve::init_logging();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    rt.block_on(async {
        let before = rss();
        let node = AppState::open(config(dir))?;
        let started = Instant::now();
        let view = node
            .elections
            .view(&node, ELECTION)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let load_s = started.elapsed().as_secs_f64();
        let after = rss();
        let from_checkpoint = node.elections.loads_from_checkpoint() == 1;
        match (phase, from_checkpoint) {
            ("full", false) | ("checkpoint", true) => {}
            _ => bail!("the {phase} load did not load as expected"),
        }
        let mut out = serde_json::json!({
            "load_s": load_s,
            "ballots": view.ballots,
            "events": view.events,
            "rss_before_bytes": before,
            "rss_after_bytes": after,
        });
        if phase == "full" {
            let started = Instant::now();
            node.elections.checkpoint_all(&node).await;
            out["checkpoint_write_s"] = started.elapsed().as_secs_f64().into();
            let stored = node
                .storage
                .checkpoint(ELECTION)?
                .context("no checkpoint written")?;
            out["checkpoint_bytes"] = stored.bytes.len().into();
        }
        println!("{out}");
        Ok(())
    })
}

fn run_phase(dir: &Path, ballots: usize, name: &str) -> Result<serde_json::Value> {
    let exe = std::env::current_exe().context("this program's path")?;
    let out = std::process::Command::new(exe)
        .args(["bench", "--restart-ballots", &ballots.to_string()])
        .arg("--restart-dir")
        .arg(dir)
        .args(["--restart-phase", name])
        .stderr(std::process::Stdio::inherit())
        .output()
        .context("running a load")?;
    if !out.status.success() {
        bail!("the {name} load failed");
    }
    serde_json::from_slice(&out.stdout).context("the load's figures")
}

/// The figures: made in a fresh data folder under `dir` (a temporary one by default),
/// removed afterwards.
pub fn run(ballots: usize, dir: Option<&Path>, json: bool) -> Result<()> {
    let log = |s: &str| {
        if !json {
            eprintln!("{s}");
        }
    };
    let base: PathBuf = dir
        .map(Path::to_path_buf)
        .unwrap_or_else(std::env::temp_dir)
        .join(format!("scrutin-bench-restart-{}", std::process::id()));
    std::fs::create_dir_all(&base).with_context(|| format!("creating {}", base.display()))?;
    let result = (|| {
        build(&base, ballots, &log)?;
        log("Loading it as a node without a checkpoint (whole record verified)…");
        let full = run_phase(&base, ballots, "full")?;
        log("Loading it as a restarted node (from the checkpoint)…");
        let restart = run_phase(&base, ballots, "checkpoint")?;
        Ok::<_, anyhow::Error>((full, restart))
    })();
    let _ = std::fs::remove_dir_all(&base);
    let (full, restart) = result?;
    let per_ballot = |v: &serde_json::Value| {
        let a = v["rss_after_bytes"].as_f64().unwrap_or(0.0);
        let b = v["rss_before_bytes"].as_f64().unwrap_or(0.0);
        (a - b) / ballots.max(1) as f64
    };
    let figures = serde_json::json!({
        "restart_ballots": ballots,
        "full_verification_load_s": full["load_s"],
        "checkpoint_load_s": restart["load_s"],
        "checkpoint_write_s": full["checkpoint_write_s"],
        "checkpoint_bytes": full["checkpoint_bytes"],
        "rss_per_ballot_after_full_load_bytes": per_ballot(&full).round(),
        "rss_per_ballot_after_checkpoint_load_bytes": per_ballot(&restart).round(),
        "full": full,
        "checkpoint": restart,
    });
    if json {
        println!("{figures}");
    } else {
        println!("Restart on {ballots} ballots (one 10-answer approval question)");
        println!(
            "  load, whole record verified   {:>8.2} s",
            full["load_s"].as_f64().unwrap_or(0.0)
        );
        println!(
            "  load from the checkpoint      {:>8.2} s",
            restart["load_s"].as_f64().unwrap_or(0.0)
        );
        println!(
            "  checkpoint written in         {:>8.2} s ({} bytes)",
            full["checkpoint_write_s"].as_f64().unwrap_or(0.0),
            full["checkpoint_bytes"]
        );
        println!(
            "  resident memory per ballot    {:>8.0} bytes after a checkpoint load ({:.0} after a full load)",
            per_ballot(&restart),
            per_ballot(&full)
        );
    }
    Ok(())
}
