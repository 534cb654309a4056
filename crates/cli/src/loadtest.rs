//! `scrutin loadtest`: drives a running `scrutin serve` through the voters' real HTTP
//! flow and measures it. It creates an election through the administrator API (role keys
//! drawn here, the trustees' and the credential authority's steps run by the same code as
//! `scrutin trustee … --server` and `scrutin credentials generate --server`), or takes an
//! open one with its private credential file. Every ballot is encrypted before the timed
//! window; then, at each concurrency level, every voter either casts while signed in
//! (`cast`) or requests a one-time login code, reads it from the server's dry-run outbox,
//! signs in and casts (`login`). 429 and 503 answers are waited out as their `Retry-After`
//! says, and counted; network errors, and 502/504 from a proxy in front of several nodes,
//! are retried a few times (a ballot sent again is answered with its receipt). Afterwards the record is downloaded and verified whole
//! (`verify::verify_record`), and every receipt the board signed is checked against it
//! (spec §14.2): a voter without a receipt, a receipt not on the record or a record that
//! does not verify makes the command fail.

use std::collections::{HashMap, HashSet};
use std::ffi::OsString;
use std::io::{BufRead, IsTerminal};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;
use reqwest::StatusCode;
use scrutin_election::Hash32;
use scrutin_election::ballot::{self, VotingContext};
use scrutin_election::credential::Credential;
use scrutin_election::crypto::rng::{SeededRng, os_rng};
use scrutin_election::demo::{self, DemoOptions};
use scrutin_election::roles::{self, Receipt, ReceiptCheck, Role, RoleKey};
use scrutin_election::verify::{RecordState, Stage};
use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio::sync::watch;

use crate::demo_serve::Description;
use crate::mailing::{self, PrivateCredential};
use crate::record_file::{verify_bytes, write_secret};
use crate::remote::Remote;
use crate::roles::Place;

/// Most concurrent voters in one run.
const MAX_CONCURRENCY: usize = 4096;
/// Most voters of an election created here.
const MAX_VOTERS: usize = 1_000_000;
/// Retries of one request after a network error.
const NETWORK_RETRIES: u32 = 5;
/// A voter whose login code has not come after this long asks for another.
const ASK_AGAIN_AFTER: Duration = Duration::from_secs(15);
/// Retries of one request answered 429 or 503.
const BUSY_RETRIES: u32 = 100;

#[derive(Args)]
pub struct LoadtestArgs {
    /// The URL of the running server (`scrutin serve`).
    #[arg(long)]
    server: String,
    /// Create an election with this many voters (with --admin-user and --dir).
    #[arg(long, conflicts_with_all = ["election", "private"], requires_all = ["admin_user", "dir"])]
    voters: Option<usize>,
    /// The administrator account that creates the election; its password is read from the
    /// SCRUTIN_ADMIN_PASSWORD environment variable, or else from the first line of the
    /// standard input.
    #[arg(long, requires = "voters")]
    admin_user: Option<String>,
    /// A new folder where the created election's role keys, role tokens, trustee secrets
    /// and private credentials are kept (mode 0600), to close and tally it afterwards with
    /// `scrutin election`/`scrutin trustee … --server`.
    #[arg(long, requires = "voters")]
    dir: Option<PathBuf>,
    /// Trustees of the created election.
    #[arg(long, default_value_t = 3, requires = "voters")]
    trustees: u32,
    /// Decryption threshold of the created election.
    #[arg(long, default_value_t = 2, requires = "voters")]
    threshold: u32,
    /// Or an open election already on the server (with --private).
    #[arg(long, requires = "private")]
    election: Option<String>,
    /// Its private credential file, as `scrutin credentials generate --server` writes it:
    /// every voter of it votes.
    #[arg(long, requires = "election")]
    private: Option<PathBuf>,
    /// The server's dry-run outbox (`[mail] outbox`, on this machine), where the one-time
    /// login codes are read. Each mail that arrives during the test is moved, once read,
    /// into the outbox's `.loadtest-read` folder, so that watching the outbox stays cheap.
    #[arg(long)]
    outbox: PathBuf,
    /// Concurrency levels: voters in flight at once; each level is one run of every voter.
    #[arg(long, value_delimiter = ',', default_value = "16,64,128")]
    concurrency: Vec<usize>,
    /// The flows measured, in this order, each at every level: `login` (request a login
    /// code, read it, sign in, cast) and `cast` (voters already signed in cast; those not
    /// signed in yet by an earlier run sign in first, outside the timed window).
    #[arg(long, value_delimiter = ',', default_value = "login,cast")]
    flows: Vec<Flow>,
    /// The longest `Retry-After` (seconds) waited for; a longer one fails the voter.
    #[arg(long, default_value_t = 60)]
    max_wait: u64,
    /// How long to wait for a login code mail (seconds).
    #[arg(long, default_value_t = 60)]
    code_wait: u64,
    /// Mirrors following the board during every timed run: each reads the head, then the
    /// record's last 100 lines (`/record?from=`), again and again, as a mirror or monitor
    /// does. Their reads are counted in the report, so that two runs, with and without
    /// followers, show what following costs the voters.
    #[arg(long, default_value_t = 0)]
    followers: usize,
    /// Write every receipt the board signed (a JSON array) to this file.
    #[arg(long)]
    receipts: Option<PathBuf>,
    /// Print the report as one JSON object.
    #[arg(long)]
    json: bool,
}

/// What a voter does in a run.
#[derive(Clone, Copy, PartialEq, Eq, Debug, ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Flow {
    /// Request a one-time login code, read it from the outbox, sign in, cast.
    Login,
    /// Cast while signed in.
    Cast,
}

impl Flow {
    fn name(self) -> &'static str {
        match self {
            Flow::Login => "login",
            Flow::Cast => "cast",
        }
    }
}

/// An encrypted ballot, ready to send.
struct Prepared {
    body: Vec<u8>,
    tracker: Hash32,
}

#[derive(Serialize, Default)]
struct Latency {
    p50: f64,
    p90: f64,
    p99: f64,
    max: f64,
}

/// The figures of one run.
#[derive(Serialize)]
struct RunReport {
    flow: Flow,
    concurrency: usize,
    voters: usize,
    receipts: usize,
    failed: usize,
    seconds: f64,
    ballots_per_s: f64,
    /// Voters through their whole flow (for `login`: signed in and cast) per second.
    voters_per_s: f64,
    /// Per voter, from its first request to its receipt, in milliseconds.
    latency_ms: Latency,
    rate_limited_429: u64,
    overloaded_503: u64,
    network_retries: u64,
    /// Voters whose session was refused when they cast, who signed in again.
    signed_in_again: u64,
    /// Reads of the record's tail by the followers (`--followers`) during the run, and
    /// their rate.
    follower_reads: u64,
    follower_reads_per_s: f64,
    /// The first few failures.
    errors: Vec<String>,
}

#[derive(Serialize, Default)]
struct ReceiptReport {
    total: usize,
    on_record: usize,
    /// On the record, and replaced by a later ballot of the same credential (re-voting).
    replaced: usize,
    not_on_record: usize,
    problems: Vec<String>,
}

#[derive(Serialize, Default)]
struct RecordReport {
    verified: bool,
    error: Option<String>,
    bytes: usize,
    events: u64,
    ballots: u64,
    verify_seconds: f64,
}

#[derive(Serialize)]
struct Report {
    server: String,
    election: String,
    created: bool,
    voters: usize,
    encrypted: usize,
    encrypt_seconds: f64,
    runs: Vec<RunReport>,
    receipts: ReceiptReport,
    record: RecordReport,
    /// Voters of all runs without a receipt, plus receipts not on the record.
    lost: usize,
    ok: bool,
}

pub fn run(args: &LoadtestArgs) -> Result<()> {
    if args.concurrency.is_empty()
        || args
            .concurrency
            .iter()
            .any(|&c| c == 0 || c > MAX_CONCURRENCY)
    {
        bail!("--concurrency takes levels from 1 to {MAX_CONCURRENCY}, e.g. 16,64,128");
    }
    if args.flows.is_empty() {
        bail!("--flows takes login, cast or both");
    }
    // What it is doing, on the standard error (the report goes to the standard output).
    let log = |s: &str| eprintln!("{s}");
    let base = args.server.trim_end_matches('/').to_owned();
    let (election, private, created) = match (args.voters, &args.election, &args.private) {
        (Some(n), None, None) => {
            if n == 0 || n > MAX_VOTERS {
                bail!("--voters must be 1 to {MAX_VOTERS}");
            }
            let dir = args.dir.as_deref().context("give --dir with --voters")?;
            let user = args
                .admin_user
                .as_deref()
                .context("give --admin-user with --voters")?;
            log(&format!("Creating an election with {n} voters on {base}…"));
            let (id, private) = create_election(args, &base, user, dir, n)?;
            (id, private, true)
        }
        (None, Some(id), Some(private)) => (id.clone(), private.clone(), false),
        _ => bail!(
            "give --voters N with --admin-user and --dir to create an election, or --election ID with --private FILE"
        ),
    };
    let voters = mailing::read_private(&private)?;
    let remote = Remote::new(&base, &election, None)?;
    let state = remote.verified_state()?;
    if state.stage() != Stage::Open {
        bail!("election {election} is not open for voting");
    }
    let ctx = state.context.as_ref().context("the election is not open")?;
    let credentials = check_credentials(&state, &voters)?;

    let runs: Vec<(Flow, usize)> = args
        .flows
        .iter()
        .flat_map(|&f| args.concurrency.iter().map(move |&c| (f, c)))
        .collect();
    log(&format!(
        "Encrypting {} ballots ({} voters × {} runs) on {} cores…",
        voters.len() * runs.len(),
        voters.len(),
        runs.len(),
        rayon::current_num_threads()
    ));
    let started = Instant::now();
    let prepared = encrypt_all(ctx, &credentials, runs.len(), !args.json)?;
    let encrypt_seconds = started.elapsed().as_secs_f64();

    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let outbox = Outbox::watch(&args.outbox)?;
    let shared = Arc::new(Shared {
        http: reqwest::Client::builder()
            .no_proxy()
            .pool_idle_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(120))
            .build()
            .context("cannot build the HTTP client")?,
        base: format!("{base}/api/elections/{election}"),
        max_wait: args.max_wait,
        code_wait: Duration::from_secs(args.code_wait),
        outbox: outbox.clone(),
        voters: voters
            .iter()
            .map(|v| Voter {
                login: v.login.clone(),
                email: normalize_address(&v.email),
            })
            .collect(),
        sessions: (0..voters.len())
            .map(|_| Mutex::new(Session::default()))
            .collect(),
    });
    let prepared = Arc::new(prepared);
    let mut reports = Vec::new();
    let mut receipts: Vec<Receipt> = Vec::new();
    let outcome = rt.block_on(async {
        for (r, &(flow, concurrency)) in runs.iter().enumerate() {
            if flow == Flow::Cast {
                let missing = shared
                    .sessions
                    .iter()
                    .filter(|s| lock(s).token.is_none())
                    .count();
                if missing > 0 {
                    log(&format!(
                        "Signing {missing} voters in for the cast flow (not timed)…"
                    ));
                    let failed =
                        sign_in_all(&shared, *args.concurrency.iter().max().unwrap_or(&1)).await;
                    if let Some(e) = failed.first() {
                        bail!("{} voters could not sign in; the first: {e}", failed.len());
                    }
                }
            }
            let followers = Followers::start(&shared, args.followers);
            let (mut report, got) =
                drive(&shared, &prepared, r, flow, concurrency, !args.json).await;
            report.follower_reads = followers.stop().await;
            report.follower_reads_per_s = report.follower_reads as f64 / report.seconds.max(1e-9);
            log(&format!(
                "{:<5} concurrency {:>4}: {} receipts, {} failed in {:.1} s",
                flow.name(),
                concurrency,
                report.receipts,
                report.failed,
                report.seconds
            ));
            reports.push(report);
            receipts.extend(got);
        }
        Ok(())
    });
    outbox.stop();
    outcome?;

    log("Downloading and verifying the record…");
    let record = remote.record()?;
    let started = Instant::now();
    let verified = verify_bytes(&record, !args.json);
    let mut record_report = RecordReport {
        bytes: record.len(),
        verify_seconds: started.elapsed().as_secs_f64(),
        ..RecordReport::default()
    };
    let receipt_report = match &verified {
        Ok(v) => {
            record_report.verified = true;
            record_report.events = v.state.events;
            record_report.ballots = v.state.ballots;
            check_receipts(&record, &v.state, &receipts)
        }
        Err(e) => {
            record_report.error = Some(e.to_string());
            ReceiptReport {
                total: receipts.len(),
                not_on_record: receipts.len(),
                problems: vec!["the record does not verify: no receipt can be confirmed".into()],
                ..ReceiptReport::default()
            }
        }
    };
    if let Some(path) = &args.receipts {
        std::fs::write(path, serde_json::to_string_pretty(&receipts)?)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    let failed: usize = reports.iter().map(|r| r.failed).sum();
    let lost = failed + receipt_report.not_on_record;
    let report = Report {
        server: base,
        election,
        created,
        voters: voters.len(),
        encrypted: prepared.len(),
        encrypt_seconds,
        runs: reports,
        ok: lost == 0 && record_report.verified,
        lost,
        receipts: receipt_report,
        record: record_report,
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_report(&report);
    }
    if !report.record.verified {
        bail!(
            "the server's record does not verify: {}",
            report.record.error.as_deref().unwrap_or("")
        );
    }
    if report.receipts.not_on_record > 0 {
        bail!(
            "{} receipts signed by the board are not on its record",
            report.receipts.not_on_record
        );
    }
    if failed > 0 {
        bail!("{failed} voters got no receipt");
    }
    Ok(())
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Creates, keys and opens an election with `n` voters through the administrator API;
/// returns its id and the private credential file.
fn create_election(
    args: &LoadtestArgs,
    base: &str,
    user: &str,
    dir: &Path,
    n: usize,
) -> Result<(String, PathBuf)> {
    if dir.exists() {
        bail!("{} exists: give a new --dir", dir.display());
    }
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder
        .create(dir)
        .with_context(|| format!("cannot create {}", dir.display()))?;
    let password = match std::env::var("SCRUTIN_ADMIN_PASSWORD") {
        Ok(p) => p,
        Err(_) => {
            eprintln!("Password of {user}, then Enter:");
            let mut line = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut line)
                .context("cannot read the password")?;
            line.trim_end_matches(['\r', '\n']).to_owned()
        }
    };
    #[derive(Deserialize)]
    struct Token {
        token: String,
    }
    let mut admin = Remote::new(base, "", None)?;
    let token: Token = admin.post_root(
        "/api/admin/login",
        &json!({"username": user, "password": password}),
    )?;
    admin.set_token(token.token);

    // Each role's key, as each would draw it on its own machine (§8.6).
    let trustee_keys: Vec<RoleKey> = (1..=args.trustees)
        .map(|i| RoleKey::generate(Role::Trustee, &format!("Trustee {i}"), &mut os_rng()))
        .collect();
    let authority_key = RoleKey::generate(Role::Authority, "Credential authority", &mut os_rng());
    for (i, key) in trustee_keys.iter().enumerate() {
        let path = dir.join(format!("trustee{}-key.json", i + 1));
        write_secret(&path, &serde_json::to_string_pretty(key)?)?;
    }
    let authority_file = dir.join("authority-key.json");
    write_secret(
        &authority_file,
        &serde_json::to_string_pretty(&authority_key)?,
    )?;
    let questions = DemoOptions::default_questions();
    let description = toml::to_string(&Description {
        title: "scrutin load test",
        description: "An election created by `scrutin loadtest`.",
        threshold: args.threshold,
        trustee: trustee_keys.iter().map(RoleKey::holder).collect(),
        authority: authority_key.holder(),
        question: &questions,
    })?;
    let meta: serde_json::Value = admin.post_root(
        "/api/admin/elections",
        &json!({ "description": description }),
    )?;
    let id = meta["id"]
        .as_str()
        .context("the server did not name the election it created")?
        .to_owned();
    let csv: String = (1..=n)
        .map(|i| format!("voter{i:06},voter{i:06}@loadtest.example.org\n"))
        .collect();
    let imported: serde_json::Value =
        admin.post_csv_root(&format!("/api/admin/elections/{id}/voters"), csv)?;
    if imported["imported"] != json!(true) {
        bail!("the server refused the voter list: {imported}");
    }
    let tokens: serde_json::Value =
        admin.post_root(&format!("/api/admin/elections/{id}/roles"), &json!({}))?;
    write_secret(
        &dir.join("role-tokens.json"),
        &serde_json::to_string_pretty(&tokens)?,
    )?;
    let trustee_tokens: Vec<String> = tokens["trustees"]
        .as_array()
        .context("no trustee tokens in the server's answer")?
        .iter()
        .map(|t| t["token"].as_str().map(str::to_owned))
        .collect::<Option<_>>()
        .context("a trustee token is missing")?;
    if trustee_tokens.len() != trustee_keys.len() {
        bail!("the server gave {} trustee tokens", trustee_tokens.len());
    }
    let places: Vec<Place> = trustee_tokens
        .iter()
        .map(|t| Remote::new(base, &id, Some(t.clone())).map(Place::Server))
        .collect::<Result<_>>()?;
    let secret = |i: usize| dir.join(format!("trustee{}.json", i + 1));
    for (i, (place, key)) in places.iter().zip(&trustee_keys).enumerate() {
        crate::roles::trustee_commit(place, key, &secret(i))?;
    }
    for (i, place) in places.iter().enumerate() {
        crate::roles::trustee_deal(place, &secret(i))?;
    }
    for (i, place) in places.iter().enumerate() {
        let (index, complaints, _) = crate::roles::trustee_check(place, &secret(i))?;
        if !complaints.is_empty() {
            bail!("trustee {index} complained about trustees {complaints:?}");
        }
    }
    let authority = Remote::new(
        base,
        &id,
        Some(
            tokens["credential_authority"]
                .as_str()
                .context("no credential authority token in the server's answer")?
                .to_owned(),
        ),
    )?;
    let private = dir.join("credentials.json");
    mailing::publish_credentials(&authority, &authority_key, &private, &[])?;
    let _: serde_json::Value =
        admin.post_root(&format!("/api/admin/elections/{id}/open"), &json!({}))?;
    Ok((id, private))
}

/// Every voter's credential, checked against the election's published list.
fn check_credentials(state: &RecordState, voters: &[PrivateCredential]) -> Result<Vec<Credential>> {
    let def = state
        .definition
        .as_ref()
        .context("the record has no election")?;
    voters
        .iter()
        .map(|v| {
            let c = Credential::parse(v.credential.trim())
                .with_context(|| format!("{}: not a credential", v.login))?;
            if state
                .credential_weight(c.signing_key(&def.id).public().as_bytes())
                .is_none()
            {
                bail!(
                    "the credential of {} is not on this election's published list",
                    v.login
                );
            }
            Ok(c)
        })
        .collect()
}

fn bar(len: usize, what: &str, show: bool) -> ProgressBar {
    if !show || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len as u64);
    bar.set_style(
        ProgressStyle::with_template(&format!("{what} {{bar:40}} {{pos}}/{{len}} ({{eta}})"))
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar
}

/// One ballot per voter and run (index `run × voters + voter`), random choices, on all
/// cores.
fn encrypt_all(
    ctx: &VotingContext,
    credentials: &[Credential],
    runs: usize,
    show: bool,
) -> Result<Vec<Prepared>> {
    let n = credentials.len();
    let progress = bar(n * runs, "encrypting", show);
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(|e| anyhow::anyhow!("random generator: {e}"))?;
    let prepared = (0..n * runs)
        .into_par_iter()
        .map(|k| {
            let mut choice_rng = SeededRng::new(&[&seed[..], &k.to_le_bytes()].concat());
            let choices: Vec<_> = ctx
                .definition
                .questions
                .iter()
                .map(|q| demo::random_choice(q, 10, &mut choice_rng))
                .collect();
            let (b, _) = ballot::encrypt(ctx, &credentials[k % n], &choices, &mut os_rng())?;
            progress.inc(1);
            Ok(Prepared {
                body: serde_json::to_vec(&b)?,
                tracker: b.tracker(),
            })
        })
        .collect::<Result<Vec<_>>>();
    progress.finish_and_clear();
    prepared
}

/// A voter as the runs know it.
struct Voter {
    login: String,
    email: String,
}

/// A voter's session, carried from run to run.
#[derive(Default)]
struct Session {
    token: Option<String>,
    /// Login codes already typed (each works once).
    used_codes: Vec<String>,
}

/// What every voter task shares.
struct Shared {
    http: reqwest::Client,
    /// The election's API URL.
    base: String,
    max_wait: u64,
    code_wait: Duration,
    outbox: Arc<Outbox>,
    voters: Vec<Voter>,
    sessions: Vec<Mutex<Session>>,
}

/// The waits and retries of one run.
#[derive(Default)]
struct Counters {
    rate_limited: AtomicU64,
    overloaded: AtomicU64,
    network: AtomicU64,
    signed_in_again: AtomicU64,
}

fn refusal(status: StatusCode, body: &[u8]) -> anyhow::Error {
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(v) => Refused {
            status: status.as_u16(),
            code: v["error"].as_str().unwrap_or("error").to_owned(),
            message: v["message"].as_str().unwrap_or("").to_owned(),
        }
        .into(),
        Err(_) => anyhow::anyhow!("the server answered {status}"),
    }
}

/// A request the server answered with an error of its API (`{error, message}`).
#[derive(Debug)]
struct Refused {
    status: u16,
    code: String,
    message: String,
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the server refused ({}, {}): {}",
            self.status, self.code, self.message
        )
    }
}

impl std::error::Error for Refused {}

/// Whether `e` is the server's refusal with error code `code`.
fn refused_with(e: &anyhow::Error, code: &str) -> bool {
    e.chain()
        .any(|c| c.downcast_ref::<Refused>().is_some_and(|r| r.code == code))
}

impl Shared {
    /// POSTs a JSON body under the election's URL; waits out 429 and 503 as `Retry-After`
    /// says and retries after network errors (a ballot sent again is answered with its
    /// receipt, not recorded twice). Returns the answer's body.
    async fn post(
        &self,
        path: &str,
        token: Option<&str>,
        body: &[u8],
        counters: &Counters,
    ) -> Result<Vec<u8>> {
        let (mut network, mut busy) = (0u32, 0u32);
        loop {
            let mut req = self
                .http
                .post(format!("{}{path}", self.base))
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body.to_vec());
            if let Some(t) = token {
                req = req.bearer_auth(t);
            }
            let answer = match req.send().await {
                Ok(resp) => {
                    let status = resp.status();
                    let retry_after = resp
                        .headers()
                        .get(reqwest::header::RETRY_AFTER)
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.trim().parse::<u64>().ok());
                    resp.bytes().await.map(|b| (status, retry_after, b))
                }
                Err(e) => Err(e),
            };
            let (status, retry_after, bytes) = match answer {
                // A proxy in front of several nodes that lost the one it chose (a node
                // killed or restarting): a network error on the way, retried the same way.
                Ok((status, _, _))
                    if status == StatusCode::BAD_GATEWAY
                        || status == StatusCode::GATEWAY_TIMEOUT =>
                {
                    counters.network.fetch_add(1, Ordering::Relaxed);
                    network += 1;
                    if network > NETWORK_RETRIES {
                        bail!(
                            "POST {path}: the proxy answered {status} ({NETWORK_RETRIES} retries)"
                        );
                    }
                    tokio::time::sleep(Duration::from_millis(100 << network)).await;
                    continue;
                }
                Ok(a) => a,
                Err(e) => {
                    counters.network.fetch_add(1, Ordering::Relaxed);
                    network += 1;
                    if network > NETWORK_RETRIES {
                        bail!("POST {path}: {e} ({NETWORK_RETRIES} retries)");
                    }
                    tokio::time::sleep(Duration::from_millis(100 << network)).await;
                    continue;
                }
            };
            if status == StatusCode::TOO_MANY_REQUESTS || status == StatusCode::SERVICE_UNAVAILABLE
            {
                let counter = if status == StatusCode::TOO_MANY_REQUESTS {
                    &counters.rate_limited
                } else {
                    &counters.overloaded
                };
                counter.fetch_add(1, Ordering::Relaxed);
                busy += 1;
                let wait = retry_after.unwrap_or(1).max(1);
                if wait > self.max_wait {
                    bail!(
                        "POST {path}: {}; it asks to wait {wait} s, more than --max-wait",
                        refusal(status, &bytes)
                    );
                }
                if busy > BUSY_RETRIES {
                    bail!("POST {path}: still {status} after {BUSY_RETRIES} waits");
                }
                tokio::time::sleep(Duration::from_secs(wait)).await;
                continue;
            }
            if !status.is_success() {
                return Err(refusal(status, &bytes).context(format!("POST {path}")));
            }
            return Ok(bytes.to_vec());
        }
    }

    /// What a mirror does to follow the board: the head, then the last 100 lines.
    async fn read_tail(&self) -> Result<()> {
        #[derive(Deserialize)]
        struct Head {
            events: u64,
        }
        let head: Head = self
            .http
            .get(format!("{}/head", self.base))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        let from = head.events.saturating_sub(100);
        self.http
            .get(format!("{}/record?from={from}", self.base))
            .send()
            .await?
            .error_for_status()?
            .bytes()
            .await?;
        Ok(())
    }

    /// Requests a login code for voter `i`, reads it from the outbox and signs in. As a
    /// voter does, asks for another code when none came ([`ASK_AGAIN_AFTER`]) or when the
    /// one that came is refused (a database that crashed loses the codes of its last
    /// moments: a voter can ask again).
    async fn sign_in(&self, i: usize, counters: &Counters) -> Result<()> {
        let deadline = tokio::time::Instant::now() + self.code_wait;
        loop {
            match self.sign_in_once(i, counters, deadline).await {
                Err(e)
                    if refused_with(&e, "invalid_code")
                        && tokio::time::Instant::now() < deadline => {}
                done => return done,
            }
        }
    }

    async fn sign_in_once(
        &self,
        i: usize,
        counters: &Counters,
        deadline: tokio::time::Instant,
    ) -> Result<()> {
        let voter = &self.voters[i];
        let used = lock(&self.sessions[i]).used_codes.clone();
        // A voter whose code has not come asks for another, as the page offers; the codes
        // asked for earlier stay valid.
        let code = loop {
            let mut changes = self.outbox.changes();
            self.post(
                "/login",
                None,
                &serde_json::to_vec(&json!({ "login": voter.login }))?,
                counters,
            )
            .await?;
            let until = deadline.min(tokio::time::Instant::now() + ASK_AGAIN_AFTER);
            if let Some(code) = self
                .outbox
                .wait_code(&mut changes, &voter.email, &used, until)
                .await?
            {
                break code;
            }
            if tokio::time::Instant::now() >= deadline {
                bail!(
                    "no login code for {} reached the outbox within {} s (is --outbox the server's dry-run outbox?)",
                    voter.email,
                    self.code_wait.as_secs()
                );
            }
        };
        lock(&self.sessions[i]).used_codes.push(code.clone());
        let answer = self
            .post(
                "/verify-code",
                None,
                &serde_json::to_vec(&json!({ "login": voter.login, "code": code }))?,
                counters,
            )
            .await?;
        #[derive(Deserialize)]
        struct Token {
            token: String,
        }
        let token: Token =
            serde_json::from_slice(&answer).context("unexpected answer to /verify-code")?;
        lock(&self.sessions[i]).token = Some(token.token);
        Ok(())
    }

    /// Casts voter `i`'s ballot with its session; returns the board's receipt.
    async fn cast(&self, i: usize, ballot: &Prepared, counters: &Counters) -> Result<Receipt> {
        let token = lock(&self.sessions[i])
            .token
            .clone()
            .context("the voter is not signed in")?;
        let answer = self
            .post("/ballots", Some(&token), &ballot.body, counters)
            .await?;
        let receipt: Receipt =
            serde_json::from_slice(&answer).context("the answer to a ballot is not a receipt")?;
        if receipt.tracker != ballot.tracker {
            bail!(
                "the receipt names tracker {}, the ballot sent has {}",
                receipt.tracker,
                ballot.tracker
            );
        }
        Ok(receipt)
    }
}

/// Signs every voter without a session in, `concurrency` at a time; returns the failures.
async fn sign_in_all(shared: &Arc<Shared>, concurrency: usize) -> Vec<String> {
    let next = Arc::new(AtomicUsize::new(0));
    let counters = Arc::new(Counters::default());
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (shared, next, counters) = (shared.clone(), next.clone(), counters.clone());
        tasks.push(tokio::spawn(async move {
            let mut failed = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= shared.voters.len() {
                    break;
                }
                if lock(&shared.sessions[i]).token.is_some() {
                    continue;
                }
                if let Err(e) = shared.sign_in(i, &counters).await {
                    failed.push(format!("{}: {e:#}", shared.voters[i].login));
                }
            }
            failed
        }));
    }
    let mut failed = Vec::new();
    for t in tasks {
        match t.await {
            Ok(f) => failed.extend(f),
            Err(e) => failed.push(format!("a task failed: {e}")),
        }
    }
    failed
}

/// One timed run: every voter through `flow`, `concurrency` at a time.
async fn drive(
    shared: &Arc<Shared>,
    prepared: &Arc<Vec<Prepared>>,
    run: usize,
    flow: Flow,
    concurrency: usize,
    show: bool,
) -> (RunReport, Vec<Receipt>) {
    let n = shared.voters.len();
    let progress = bar(n, &format!("{} ×{concurrency}", flow.name()), show);
    let next = Arc::new(AtomicUsize::new(0));
    let counters = Arc::new(Counters::default());
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (shared, prepared, next, counters, progress) = (
            shared.clone(),
            prepared.clone(),
            next.clone(),
            counters.clone(),
            progress.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut out = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    break;
                }
                let ballot = &prepared[run * n + i];
                let t0 = Instant::now();
                let outcome = async {
                    if flow == Flow::Login {
                        shared.sign_in(i, &counters).await?;
                    }
                    match shared.cast(i, ballot, &counters).await {
                        // The session is gone (a database that crashed loses the sessions
                        // of its last moments): the voter signs in again and casts again.
                        Err(e) if refused_with(&e, "unauthorized") => {
                            counters.signed_in_again.fetch_add(1, Ordering::Relaxed);
                            shared.sign_in(i, &counters).await?;
                            shared.cast(i, ballot, &counters).await
                        }
                        cast => cast,
                    }
                }
                .await;
                out.push(
                    outcome
                        .map(|r| (r, t0.elapsed()))
                        .map_err(|e| format!("{}: {e:#}", shared.voters[i].login)),
                );
                progress.inc(1);
            }
            out
        }));
    }
    let mut receipts = Vec::new();
    let mut latencies = Vec::new();
    let mut errors = Vec::new();
    let mut failed = 0;
    for t in tasks {
        let outcomes = match t.await {
            Ok(o) => o,
            Err(e) => vec![Err(format!("a task failed: {e}"))],
        };
        for o in outcomes {
            match o {
                Ok((receipt, latency)) => {
                    receipts.push(receipt);
                    latencies.push(latency);
                }
                Err(e) => {
                    failed += 1;
                    if errors.len() < 5 {
                        errors.push(e);
                    }
                }
            }
        }
    }
    // Voters a failed task never reached are failures too.
    failed += n.saturating_sub(receipts.len() + failed);
    let seconds = started.elapsed().as_secs_f64();
    progress.finish_and_clear();
    let rate = receipts.len() as f64 / seconds.max(1e-9);
    let report = RunReport {
        flow,
        concurrency,
        voters: n,
        receipts: receipts.len(),
        failed,
        seconds,
        ballots_per_s: rate,
        voters_per_s: rate,
        latency_ms: percentiles(&mut latencies),
        rate_limited_429: counters.rate_limited.load(Ordering::Relaxed),
        overloaded_503: counters.overloaded.load(Ordering::Relaxed),
        network_retries: counters.network.load(Ordering::Relaxed),
        signed_in_again: counters.signed_in_again.load(Ordering::Relaxed),
        follower_reads: 0,
        follower_reads_per_s: 0.0,
        errors,
    };
    (report, receipts)
}

/// Mirrors reading the board's tail while voters cast (`--followers`).
struct Followers {
    stop: Arc<AtomicBool>,
    reads: Arc<AtomicU64>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Followers {
    fn start(shared: &Arc<Shared>, n: usize) -> Followers {
        let stop = Arc::new(AtomicBool::new(false));
        let reads = Arc::new(AtomicU64::new(0));
        let tasks = (0..n)
            .map(|_| {
                let (shared, stop, reads) = (shared.clone(), stop.clone(), reads.clone());
                // Each follower reads at least once, however short the run.
                tokio::spawn(async move {
                    loop {
                        if shared.read_tail().await.is_ok() {
                            reads.fetch_add(1, Ordering::Relaxed);
                        } else {
                            tokio::time::sleep(Duration::from_millis(100)).await;
                        }
                        if stop.load(Ordering::Relaxed) {
                            break;
                        }
                    }
                })
            })
            .collect();
        Followers { stop, reads, tasks }
    }

    /// Stops the followers; how many tails they read.
    async fn stop(self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.tasks {
            let _ = t.await;
        }
        self.reads.load(Ordering::Relaxed)
    }
}

/// Nearest-rank percentiles, in milliseconds.
fn percentiles(latencies: &mut [Duration]) -> Latency {
    if latencies.is_empty() {
        return Latency::default();
    }
    latencies.sort();
    let at = |q: f64| {
        let rank = ((q * latencies.len() as f64).ceil() as usize).clamp(1, latencies.len());
        latencies[rank - 1].as_secs_f64() * 1000.0
    };
    Latency {
        p50: at(0.50),
        p90: at(0.90),
        p99: at(0.99),
        max: at(1.0),
    }
}

/// Checks every receipt against the verified record (spec §14.2).
fn check_receipts(record: &[u8], state: &RecordState, receipts: &[Receipt]) -> ReceiptReport {
    let mut report = ReceiptReport {
        total: receipts.len(),
        ..ReceiptReport::default()
    };
    let lines = match scrutin_election::record::split_lines(record) {
        Ok(lines) => lines,
        Err(e) => {
            report.not_on_record = receipts.len();
            report
                .problems
                .push(format!("the record cannot be read: {e}"));
            return report;
        }
    };
    let problem = |report: &mut ReceiptReport, text: String| {
        report.not_on_record += 1;
        if report.problems.len() < 10 {
            report.problems.push(text);
        }
    };
    for r in receipts {
        match roles::check_receipt_in_lines(&lines, state, r) {
            Ok(ReceiptCheck::OnRecord { replaced_by }) => {
                report.on_record += 1;
                if replaced_by.is_some() {
                    report.replaced += 1;
                }
            }
            Ok(ReceiptCheck::NotYet { length }) => problem(
                &mut report,
                format!(
                    "ballot {} at position {}: the record has only {length} events",
                    r.tracker, r.seq
                ),
            ),
            Ok(ReceiptCheck::Missing { found }) => problem(
                &mut report,
                format!(
                    "ballot {} at position {}: the record holds another line there (hash {found})",
                    r.tracker, r.seq
                ),
            ),
            Ok(ReceiptCheck::WrongWeight { listed }) => problem(
                &mut report,
                format!(
                    "ballot {}: the receipt says weight {}, the list {listed}",
                    r.tracker, r.weight
                ),
            ),
            Err(e) => problem(&mut report, format!("ballot {}: {e}", r.tracker)),
        }
    }
    report
}

fn print_report(r: &Report) {
    println!(
        "Election {} on {} ({}): {} voters; {} ballots encrypted beforehand in {:.1} s.",
        r.election,
        r.server,
        if r.created {
            "created for this test"
        } else {
            "existing"
        },
        r.voters,
        r.encrypted,
        r.encrypt_seconds
    );
    println!(
        "{:<6}{:>6}{:>9}{:>7}{:>9}{:>12}   {:>8}{:>8}{:>8}{:>8}{:>7}{:>7}{:>7}",
        "flow",
        "conc",
        "receipts",
        "failed",
        "seconds",
        "per second",
        "p50 ms",
        "p90 ms",
        "p99 ms",
        "max ms",
        "429",
        "503",
        "net"
    );
    for run in &r.runs {
        println!(
            "{:<6}{:>6}{:>9}{:>7}{:>9.1}{:>12.1}   {:>8.0}{:>8.0}{:>8.0}{:>8.0}{:>7}{:>7}{:>7}",
            run.flow.name(),
            run.concurrency,
            run.receipts,
            run.failed,
            run.seconds,
            run.ballots_per_s,
            run.latency_ms.p50,
            run.latency_ms.p90,
            run.latency_ms.p99,
            run.latency_ms.max,
            run.rate_limited_429,
            run.overloaded_503,
            run.network_retries
        );
        if run.signed_in_again > 0 {
            println!(
                "      {} voters signed in again: their session was refused when they cast",
                run.signed_in_again
            );
        }
        if run.follower_reads > 0 {
            println!(
                "      meanwhile the followers read the tail {} times ({:.1} per second)",
                run.follower_reads, run.follower_reads_per_s
            );
        }
        for e in &run.errors {
            println!("    failed: {e}");
        }
    }
    println!(
        "(per second: ballots for `cast`, voters signed in and cast for `login`; latency per voter, first request to receipt)"
    );
    if r.runs.iter().any(|run| run.rate_limited_429 > 0) {
        println!(
            "Note: every voter comes from this one client address; the server's per-address limits ([limits], [otp]) answer 429 and were waited out."
        );
    }
    match &r.record.error {
        None => println!(
            "Record: {} events, {} ballots, {} bytes: verified (every check of §12) in {:.1} s.",
            r.record.events, r.record.ballots, r.record.bytes, r.record.verify_seconds
        ),
        Some(e) => println!("Record: DOES NOT VERIFY: {e}"),
    }
    println!(
        "Receipts: {} signed by the board, {} on the record ({} replaced by a later ballot of the same voter), {} not on it.",
        r.receipts.total, r.receipts.on_record, r.receipts.replaced, r.receipts.not_on_record
    );
    for p in &r.receipts.problems {
        println!("    {p}");
    }
    if r.ok {
        println!("No ballot lost.");
    } else {
        println!("LOST: {}", r.lost);
    }
}

/// A mail address as the outbox's `To:` lines and the voter list are compared.
fn normalize_address(address: &str) -> String {
    let a = address.trim();
    let a = match (a.rfind('<'), a.rfind('>')) {
        (Some(open), Some(close)) if open < close => &a[open + 1..close],
        _ => a,
    };
    a.trim().to_ascii_lowercase()
}

/// The recipient and the code of a login-code mail: the only mail whose text has a line
/// of 6 to 8 digits alone (the code; a confirmation shows a 64-character tracker).
fn code_of_mail(text: &str) -> Option<(String, String)> {
    let code = text
        .lines()
        .map(str::trim)
        .find(|l| (6..=8).contains(&l.len()) && l.bytes().all(|b| b.is_ascii_digit()))?;
    let to = text.lines().find_map(|l| l.strip_prefix("To: "))?;
    Some((normalize_address(to), code.to_owned()))
}

/// The login codes that reach the server's dry-run outbox after the test starts, by
/// recipient, read by a thread that watches the folder. Every mail read is moved into the
/// outbox's [`READ_FOLDER`], so that each look at the folder lists only the mails not yet
/// read: with tens of thousands of mails (codes and confirmations), listing them all
/// again at every look took a core from the server under test.
struct Outbox {
    codes: Mutex<HashMap<String, Vec<String>>>,
    changed: watch::Sender<u64>,
    stop: AtomicBool,
}

/// Where, in the outbox, the mails read are moved.
const READ_FOLDER: &str = ".loadtest-read";

impl Outbox {
    /// Starts watching `dir`; the mails already there are ignored.
    fn watch(dir: &Path) -> Result<Arc<Outbox>> {
        let mut seen: HashSet<OsString> = HashSet::new();
        match std::fs::read_dir(dir) {
            Ok(entries) => seen.extend(entries.flatten().map(|e| e.file_name())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", dir.display())),
        }
        let outbox = Arc::new(Outbox {
            codes: Mutex::new(HashMap::new()),
            changed: watch::Sender::new(0),
            stop: AtomicBool::new(false),
        });
        let (watcher, dir) = (outbox.clone(), dir.to_owned());
        std::thread::spawn(move || watcher.follow(&dir, seen));
        Ok(outbox)
    }

    fn follow(&self, dir: &Path, mut seen: HashSet<OsString>) {
        let read_folder = dir.join(READ_FOLDER);
        let mut generation = 0u64;
        while !self.stop.load(Ordering::Relaxed) {
            let mut found = false;
            if let Ok(entries) = std::fs::read_dir(dir) {
                for entry in entries.flatten() {
                    let name = entry.file_name();
                    let Some(text_name) = name.to_str() else {
                        continue;
                    };
                    if seen.contains(&name)
                        || text_name.starts_with('.')
                        || !text_name.ends_with(".eml")
                    {
                        continue;
                    }
                    // Mails are renamed into place once written: a file read is whole.
                    let Ok(text) = std::fs::read_to_string(entry.path()) else {
                        continue;
                    };
                    if std::fs::create_dir_all(&read_folder)
                        .and_then(|()| std::fs::rename(entry.path(), read_folder.join(&name)))
                        .is_err()
                    {
                        seen.insert(name);
                    }
                    if let Some((to, code)) = code_of_mail(&text) {
                        lock(&self.codes).entry(to).or_default().push(code);
                        found = true;
                    }
                }
            }
            if found {
                generation += 1;
                self.changed.send_replace(generation);
            } else {
                std::thread::sleep(Duration::from_millis(10));
            }
        }
    }

    fn stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
    }

    /// A receiver of the watcher's news, to give [`Outbox::wait_code`].
    fn changes(&self) -> watch::Receiver<u64> {
        self.changed.subscribe()
    }

    /// Waits until `deadline` for a code mailed to `email` that is not one of `used`.
    async fn wait_code(
        &self,
        changes: &mut watch::Receiver<u64>,
        email: &str,
        used: &[String],
        deadline: tokio::time::Instant,
    ) -> Result<Option<String>> {
        loop {
            changes.borrow_and_update();
            let found = lock(&self.codes)
                .get(email)
                .and_then(|codes| codes.iter().rev().find(|c| !used.contains(c)).cloned());
            if let Some(code) = found {
                return Ok(Some(code));
            }
            match tokio::time::timeout_at(deadline, changes.changed()).await {
                Ok(Ok(())) => {}
                Ok(Err(_)) => bail!("the outbox is no longer watched"),
                Err(_) => return Ok(None),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_and_codes_are_read_from_mails() {
        assert_eq!(
            normalize_address(" Voter <V1@Example.org> "),
            "v1@example.org"
        );
        let mail =
            "To: v1@example.org\r\nSubject: x\r\n\r\nHere is your code:\r\n\r\n  01234567\r\n";
        assert_eq!(
            code_of_mail(mail),
            Some(("v1@example.org".into(), "01234567".into()))
        );
        let confirmation = "To: v1@example.org\r\n\r\nPosition on the board: 12345678\r\nabcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789\r\n";
        assert_eq!(code_of_mail(confirmation), None);
    }

    #[test]
    fn percentiles_are_nearest_rank() {
        let mut l: Vec<Duration> = (1..=100).rev().map(Duration::from_millis).collect();
        let p = percentiles(&mut l);
        assert_eq!((p.p50, p.p90, p.p99, p.max), (50.0, 90.0, 99.0, 100.0));
    }
}
