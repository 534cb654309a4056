//! `scrutin loadtest` against a live `scrutin serve` with a dry-run outbox: it creates an
//! election through the administrator API, drives both flows (sign in with a login code
//! from the outbox then cast; cast while signed in) at two concurrency levels, and reports
//! every receipt on the verified record. The receipts it saved are checked here again,
//! independently, against the record the server serves. Behind a proxy that drops the
//! latest ballot from the record it serves, the receipt of that ballot is reported as not
//! on the record and the command fails.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use scrutin_election::roles::{Receipt, ReceiptCheck, check_receipt};
use scrutin_election::verify::RecordState;
use serde_json::Value;

const VOTERS: usize = 30;
const LEVELS: [usize; 2] = [4, 8];

/// A `scrutin serve` child with an administrator and a dry-run outbox, its data in `dir`;
/// returns it, its URL and the outbox.
fn serve(dir: &Path) -> (std::process::Child, String, PathBuf) {
    let config = dir.join("server.toml");
    let outbox = dir.join("outbox");
    // One client address plays every voter: the per-address limits are raised.
    std::fs::write(
        &config,
        format!(
            "data_dir = {:?}\n[mail]\noutbox = {:?}\n[limits]\nper_ip_rate_per_sec = 100000.0\nper_ip_burst = 1000000\n[otp]\nmax_sends_per_hour = 1000\nmax_sends_per_client_per_hour = 1000\n",
            dir.join("data"),
            outbox
        ),
    )
    .unwrap();
    let created = Command::new(env!("CARGO_BIN_EXE_scrutin"))
        .args(["serve", "--config", config.to_str().unwrap()])
        .args(["--create-admin", ADMIN])
        .env("SCRUTIN_ADMIN_PASSWORD", PASSWORD)
        .output()
        .unwrap();
    assert!(created.status.success(), "{created:?}");
    let listen = format!("127.0.0.1:{}", free_port());
    let child = serve_child(&config, &listen);
    (child, format!("http://{listen}"), outbox)
}

#[test]
fn loadtest_casts_every_ballot_and_finds_every_receipt_on_the_record() {
    let dir = tempfile::tempdir().unwrap();
    let (mut server, base, outbox) = serve(dir.path());
    let keep = dir.path().join("election");
    let receipts_file = dir.path().join("receipts.json");
    let levels = LEVELS.map(|c| c.to_string()).join(",");
    let out = Command::new(env!("CARGO_BIN_EXE_scrutin"))
        .args([
            "loadtest",
            "--server",
            &base,
            "--voters",
            &VOTERS.to_string(),
        ])
        .args(["--admin-user", ADMIN, "--dir", keep.to_str().unwrap()])
        .args([
            "--outbox",
            outbox.to_str().unwrap(),
            "--concurrency",
            &levels,
        ])
        .args(["--receipts", receipts_file.to_str().unwrap(), "--json"])
        .args(["--followers", "2"])
        .env("SCRUTIN_ADMIN_PASSWORD", PASSWORD)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "loadtest failed:\n{stdout}\n{stderr}");
    let report: Value = serde_json::from_str(&stdout).unwrap();

    // Both flows, each at both levels, every voter with a receipt.
    let runs = report["runs"].as_array().unwrap();
    let shape: Vec<(String, u64)> = runs
        .iter()
        .map(|r| {
            (
                r["flow"].as_str().unwrap().to_owned(),
                r["concurrency"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        shape,
        [("login", 4), ("login", 8), ("cast", 4), ("cast", 8)]
            .map(|(f, c)| (f.to_owned(), c))
            .to_vec()
    );
    for r in runs {
        assert_eq!(r["receipts"], VOTERS, "{r}");
        assert_eq!(r["failed"], 0, "{r}");
        assert!(r["ballots_per_s"].as_f64().unwrap() > 0.0, "{r}");
        // Two mirrors read the board's tail all along.
        assert!(r["follower_reads"].as_u64().unwrap() >= 2, "{r}");
        let l = &r["latency_ms"];
        let p = |k: &str| l[k].as_f64().unwrap();
        assert!(
            0.0 < p("p50") && p("p50") <= p("p90") && p("p90") <= p("p99") && p("p99") <= p("max"),
            "{r}"
        );
    }
    let total = VOTERS * runs.len();
    assert_eq!(report["receipts"]["total"], total);
    assert_eq!(report["receipts"]["on_record"], total);
    assert_eq!(report["receipts"]["not_on_record"], 0);
    // Each voter cast once per run: all but its last ballot were replaced.
    assert_eq!(report["receipts"]["replaced"], total - VOTERS);
    assert_eq!(report["record"]["verified"], true);
    assert_eq!(report["record"]["ballots"], total);
    assert_eq!(report["lost"], 0);
    assert_eq!(report["ok"], true);

    // The same receipts, checked here against the record the server serves now.
    let id = report["election"].as_str().unwrap();
    let record = Api::new(&base).record(id);
    let state = RecordState::from_record(&record).unwrap();
    assert_eq!(state.ballots, total as u64);
    let receipts: Vec<Receipt> =
        serde_json::from_str(&std::fs::read_to_string(&receipts_file).unwrap()).unwrap();
    assert_eq!(receipts.len(), total);
    let mut trackers: Vec<_> = receipts.iter().map(|r| r.tracker).collect();
    trackers.sort();
    trackers.dedup();
    assert_eq!(trackers.len(), total, "two receipts name the same ballot");
    for r in &receipts {
        assert!(
            matches!(
                check_receipt(&record, &state, r).unwrap(),
                ReceiptCheck::OnRecord { .. }
            ),
            "receipt not on the record: {r:?}"
        );
    }
    // The keys, tokens and secrets of the election were kept for its close and tally.
    for f in [
        "authority-key.json",
        "role-tokens.json",
        "credentials.json",
        "trustee1.json",
    ] {
        assert!(keep.join(f).exists(), "{f} not kept");
    }
    let _ = server.kill();
    let _ = server.wait();
}

/// A proxy in front of the server that forwards every request but serves the record
/// without its last line when that line is a ballot: a board that dropped the latest
/// ballot after signing its receipt (the shorter record still verifies).
fn dropping_proxy(server: &str) -> String {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let server = server.to_owned();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let server = server.clone();
            std::thread::spawn(move || {
                let mut w = stream.try_clone().unwrap();
                let mut r = BufReader::new(stream);
                let mut request = String::new();
                if r.read_line(&mut request).unwrap_or(0) == 0 {
                    return;
                }
                let mut headers = Vec::new();
                let mut length = 0usize;
                loop {
                    let mut h = String::new();
                    if r.read_line(&mut h).unwrap_or(0) == 0 || h.trim().is_empty() {
                        break;
                    }
                    if let Some((name, value)) = h.split_once(':') {
                        let (name, value) = (name.trim().to_owned(), value.trim().to_owned());
                        if name.eq_ignore_ascii_case("content-length") {
                            length = value.parse().unwrap_or(0);
                        }
                        if name.eq_ignore_ascii_case("authorization")
                            || name.eq_ignore_ascii_case("content-type")
                        {
                            headers.push((name, value));
                        }
                    }
                }
                let mut body = vec![0u8; length];
                r.read_exact(&mut body).unwrap();
                let mut parts = request.split_whitespace();
                let (method, target) = (parts.next().unwrap(), parts.next().unwrap());
                let http = reqwest::blocking::Client::builder()
                    .no_proxy()
                    .build()
                    .unwrap();
                let url = format!("{server}{target}");
                let mut req = if method == "GET" {
                    http.get(url)
                } else {
                    http.post(url)
                };
                for (name, value) in headers {
                    req = req.header(name, value);
                }
                let resp = req.body(body).send().unwrap();
                let status = resp.status();
                let kind = resp
                    .headers()
                    .get("content-type")
                    .map(|v| v.to_str().unwrap().to_owned())
                    .unwrap_or_default();
                let mut content = resp.bytes().unwrap().to_vec();
                if target.split('?').next().unwrap().ends_with("/record") {
                    let mut kept = lines(&content);
                    if kept
                        .last()
                        .is_some_and(|l| l.contains("\"type\":\"ballot\""))
                    {
                        kept.pop();
                    }
                    content = record_bytes(&kept);
                }
                let _ = write!(
                    w,
                    "HTTP/1.1 {} {}\r\ncontent-type: {kind}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    status.as_u16(),
                    status.canonical_reason().unwrap_or(""),
                    content.len()
                );
                let _ = w.write_all(&content);
                let _ = w.flush();
            });
        }
    });
    base
}

#[test]
fn loadtest_fails_when_a_receipt_is_not_on_the_record() {
    let dir = tempfile::tempdir().unwrap();
    let (mut server, base, outbox) = serve(dir.path());
    let proxy = dropping_proxy(&base);
    let out = Command::new(env!("CARGO_BIN_EXE_scrutin"))
        .args(["loadtest", "--server", &proxy, "--voters", "10"])
        .args(["--admin-user", ADMIN])
        .args(["--dir", dir.path().join("election").to_str().unwrap()])
        .args(["--outbox", outbox.to_str().unwrap()])
        .args(["--concurrency", "4", "--flows", "cast", "--json"])
        .env("SCRUTIN_ADMIN_PASSWORD", PASSWORD)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success(),
        "loadtest succeeded:\n{stdout}\n{stderr}"
    );
    assert!(
        stderr.contains("1 receipts signed by the board are not on its record"),
        "{stderr}"
    );
    let report: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["runs"][0]["receipts"], 10, "{report}");
    assert_eq!(report["record"]["verified"], true, "{report}");
    assert_eq!(report["record"]["ballots"], 9, "{report}");
    assert_eq!(report["receipts"]["on_record"], 9, "{report}");
    assert_eq!(report["receipts"]["not_on_record"], 1, "{report}");
    assert_eq!(report["lost"], 1, "{report}");
    assert_eq!(report["ok"], false, "{report}");
    let _ = server.kill();
    let _ = server.wait();
}
