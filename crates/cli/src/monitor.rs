//! `scrutin monitor`: an independent copy of a board that raises an alarm when the board
//! rewrites, removes or reorders what it published, or signs two records (spec §14.3).
//!
//! A monitor follows one election of one server: it downloads the record's new lines
//! (`/record?from=`), verifies each as it arrives (`RecordState::push_line`, the same
//! verifier as `scrutin verify`), appends it to its own store, and asks for the board's
//! signed head (§14.1). Anyone can run one — a party, a newspaper, the trustees. Its own
//! copy is served read-only with the server's URL layout, so trustees (`scrutin trustee
//! decrypt --monitor`), voters' booths and other monitors (`--peer`) compare what they were
//! shown with what it holds. Two heads signed by the board that cannot lie on one chain
//! are a proof that the board showed two records; the monitor keeps them as evidence.
//!
//! Store: `record.jsonl` (the lines, as served), `heads.jsonl` (every distinct signed head
//! seen), `alarms.jsonl` (every alarm, with its evidence). A restarted monitor verifies its
//! store and resumes from its last line without downloading again.

use std::fs::{File, OpenOptions};
use std::io::{Seek, SeekFrom, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use axum::Router;
use axum::extract::{Path as UrlPath, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use clap::Args;
use scrutin_election::Hash32;
use scrutin_election::crypto::Point;
use scrutin_election::record::split_lines;
use scrutin_election::roles::{HeadCheck, SignedHead, head_matches_record};
use scrutin_election::verify::{Proofs, RecordState, verify_record};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

#[derive(Args)]
pub struct MonitorArgs {
    /// The board to follow: the URL of a scrutin server.
    #[arg(long)]
    server: String,
    /// The election's id on that server.
    #[arg(long)]
    election: String,
    /// The folder of this monitor's copy (created if missing; resumed if present).
    #[arg(long)]
    store: PathBuf,
    /// Serve the copy, the board's signed head and the status (read-only) on this address.
    #[arg(long)]
    listen: Option<SocketAddr>,
    /// Another monitor of the same election to compare signed heads with (repeatable).
    #[arg(long = "peer", value_name = "URL")]
    peers: Vec<String>,
    /// Follow once, compare once, print the status and exit: 0 if no alarm was ever
    /// raised on this store, 1 otherwise.
    #[arg(long)]
    check: bool,
    /// Seconds between two polls of the board.
    #[arg(long, default_value_t = 5)]
    interval: u64,
}

/// What went wrong, in the words of §14.3.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum AlarmKind {
    /// A line the monitor holds was replaced on the board.
    Rewrite,
    /// The board no longer serves lines it served before.
    Removal,
    /// New lines do not follow the monitor's last line (reordered or forked chain).
    Fork,
    /// The board published an event the verifier refuses.
    Invalid,
    /// A head signed by the board is not on the monitor's chain (two records signed).
    Equivocation,
    /// A head claimed to be the board's does not carry its signature.
    ForgedHead,
}

/// One alarm, with what proves it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Alarm {
    pub kind: AlarmKind,
    pub message: String,
    pub evidence: Value,
    pub at: u64,
}

#[derive(Clone, Debug, Serialize)]
struct PeerStatus {
    url: String,
    events: Option<u64>,
    consistent: Option<bool>,
    error: Option<String>,
}

/// The monitor's copy and what it has seen.
struct Monitor {
    args_server: String,
    election: String,
    dir: PathBuf,
    file: File,
    state: RecordState,
    hashes: Vec<Hash32>,
    /// Byte offset of each line in `record.jsonl`, and the file's length.
    offsets: Vec<u64>,
    length: u64,
    board_key: Option<Point>,
    latest_head: Option<SignedHead>,
    seen_heads: Vec<SignedHead>,
    alarms: Vec<Alarm>,
    /// After an alarm about the chain itself, the copy stops following (it is evidence).
    frozen: bool,
    peers: Vec<PeerStatus>,
    last_poll: Option<u64>,
    last_error: Option<String>,
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn client() -> Result<reqwest::blocking::Client> {
    reqwest::blocking::Client::builder()
        .pool_max_idle_per_host(0)
        .timeout(Duration::from_secs(120))
        .build()
        .context("cannot build the HTTP client")
}

fn base(url: &str) -> Result<String> {
    if !(url.starts_with("https://") || url.starts_with("http://")) {
        bail!("{url:?} is not an http:// or https:// URL");
    }
    Ok(url.trim_end_matches('/').to_owned())
}

fn get_bytes(http: &reqwest::blocking::Client, url: &str) -> Result<Vec<u8>> {
    let resp = http
        .get(url)
        .send()
        .with_context(|| format!("cannot reach {url}"))?;
    if !resp.status().is_success() {
        bail!("{url} answered {}", resp.status());
    }
    Ok(resp.bytes().context("download interrupted")?.to_vec())
}

fn get_json(http: &reqwest::blocking::Client, url: &str) -> Result<Value> {
    serde_json::from_slice(&get_bytes(http, url)?).with_context(|| format!("{url}: not JSON"))
}

/// The lines of a downloaded piece of record (each without its `\n`).
fn lines_of(bytes: &[u8]) -> Result<Vec<&[u8]>> {
    if bytes.is_empty() {
        return Ok(Vec::new());
    }
    split_lines(bytes).map_err(|e| anyhow::anyhow!("{e}"))
}

impl Monitor {
    fn open(server: &str, election: &str, dir: &Path) -> Result<Monitor> {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let path = dir.join("record.jsonl");
        let mut file = OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .open(&path)
            .with_context(|| format!("cannot open {}", path.display()))?;
        let bytes = std::fs::read(&path)?;
        let (state, hashes, offsets) = if bytes.is_empty() {
            (RecordState::empty(), Vec::new(), Vec::new())
        } else {
            let state = verify_record(&bytes, &scrutin_election::verify::NoProgress)
                .map_err(|e| anyhow::anyhow!("the store {} does not verify: {e}", path.display()))?
                .state;
            let mut hashes = Vec::new();
            let mut offsets = Vec::new();
            let mut at = 0u64;
            for line in lines_of(&bytes)? {
                offsets.push(at);
                hashes.push(Hash32::of(line));
                at += line.len() as u64 + 1;
            }
            (state, hashes, offsets)
        };
        file.seek(SeekFrom::End(0))?;
        // Each line is decoded from its text: hex strings must be read as written (§2.1).
        let read_text = |name: &str| std::fs::read_to_string(dir.join(name)).unwrap_or_default();
        let alarms_text = read_text("alarms.jsonl");
        let alarms: Vec<Alarm> = alarms_text
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect();
        let heads_text = read_text("heads.jsonl");
        let seen_heads: Vec<SignedHead> = heads_text
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect();
        let frozen = alarms.iter().any(|a| {
            matches!(
                a.kind,
                AlarmKind::Rewrite | AlarmKind::Removal | AlarmKind::Fork | AlarmKind::Invalid
            )
        });
        let board_key = state.definition.as_ref().and_then(|d| d.board_key);
        let latest_head = seen_heads
            .iter()
            .filter(|h| {
                head_matches_record(h, |i| hashes.get(i as usize).copied()) == HeadCheck::Consistent
            })
            .max_by_key(|h| h.length)
            .cloned();
        Ok(Monitor {
            args_server: base(server)?,
            election: election.to_owned(),
            dir: dir.to_owned(),
            file,
            length: bytes.len() as u64,
            state,
            hashes,
            offsets,
            board_key,
            latest_head,
            seen_heads,
            alarms,
            frozen,
            peers: Vec::new(),
            last_poll: None,
            last_error: None,
        })
    }

    fn url(&self, path: &str) -> String {
        format!("{}/api/elections/{}{path}", self.args_server, self.election)
    }

    fn raise(&mut self, kind: AlarmKind, message: String, evidence: Value) {
        if self
            .alarms
            .iter()
            .any(|a| a.kind == kind && a.message == message)
        {
            return;
        }
        tracing::error!(kind = ?kind, "ALARM: {message}");
        eprintln!("ALARM ({kind:?}): {message}");
        let alarm = Alarm {
            kind,
            message,
            evidence,
            at: now(),
        };
        if let Ok(line) = serde_json::to_string(&alarm) {
            let _ = OpenOptions::new()
                .create(true)
                .append(true)
                .open(self.dir.join("alarms.jsonl"))
                .and_then(|mut f| writeln!(f, "{line}").and_then(|()| f.sync_all()));
        }
        if !matches!(alarm.kind, AlarmKind::Equivocation | AlarmKind::ForgedHead) {
            self.frozen = true;
        }
        self.alarms.push(alarm);
    }

    /// Downloads and verifies the board's new lines.
    fn follow(&mut self, http: &reqwest::blocking::Client) -> Result<()> {
        if self.frozen {
            return Ok(());
        }
        let n = self.hashes.len() as u64;
        let from = n.saturating_sub(1);
        let bytes = get_bytes(http, &self.url(&format!("/record?from={from}")))?;
        let lines = lines_of(&bytes)?;
        let mut new = lines.as_slice();
        if n > 0 {
            let Some((first, rest)) = lines.split_first() else {
                self.raise(
                    AlarmKind::Removal,
                    format!(
                        "the board no longer serves event {from}, which it served before (this copy holds {n} events)"
                    ),
                    json!({"events_held": n, "last_hash": self.hashes.last()}),
                );
                return Ok(());
            };
            let held = self.hashes[from as usize];
            let served = Hash32::of(first);
            if served != held {
                let first = first.to_vec();
                self.diverged(http, from, served, &first);
                return Ok(());
            }
            new = rest;
        }
        let mut appended = false;
        for line in new {
            let seq = self.hashes.len() as u64;
            if let Err(e) = self.state.push_line(line, Proofs::Verify) {
                let kind = if matches!(e.check, "R2" | "R3") {
                    AlarmKind::Fork
                } else {
                    AlarmKind::Invalid
                };
                self.raise(
                    kind,
                    format!("event {seq} from the board fails: {e}"),
                    json!({"seq": seq, "line": String::from_utf8_lossy(line), "check": e.check}),
                );
                break;
            }
            self.file.write_all(line)?;
            self.file.write_all(b"\n")?;
            self.offsets.push(self.length);
            self.length += line.len() as u64 + 1;
            self.hashes.push(Hash32::of(line));
            appended = true;
        }
        if appended {
            self.file.sync_all()?;
        }
        if self.board_key.is_none() {
            self.board_key = self.state.definition.as_ref().and_then(|d| d.board_key);
        }
        Ok(())
    }

    /// The board serves another event `seq` (hash `served`) than the one this copy holds:
    /// downloads the whole record once to tell a fork (a whole other chain that verifies,
    /// after a common prefix: events reordered, removed or replaced and the chain written
    /// again) from a rewrite (a line changed in place, which breaks the chain).
    fn diverged(
        &mut self,
        http: &reqwest::blocking::Client,
        seq: u64,
        served: Hash32,
        line: &[u8],
    ) {
        let held = self.hashes[seq as usize];
        let whole = get_bytes(http, &self.url("/record?from=0")).ok();
        let chain = whole.as_deref().and_then(|bytes| {
            let lines = lines_of(bytes).ok()?;
            let common = lines
                .iter()
                .zip(&self.hashes)
                .take_while(|(l, h)| Hash32::of(l) == **h)
                .count();
            let verifies = verify_record(bytes, &scrutin_election::verify::NoProgress).is_ok();
            Some((common, verifies, lines.len()))
        });
        match chain {
            Some((common, true, length)) if (common as u64) < seq + 1 => {
                self.raise(
                    AlarmKind::Fork,
                    format!(
                        "the board now serves another chain of {length} events that shares only its first {common} events with the {} this copy holds (event {seq}: hash {served} instead of {held}): the record was forked (events reordered, removed or replaced, and the chain written again)",
                        self.hashes.len()
                    ),
                    json!({"common_prefix": common, "seq": seq, "held_hash": held, "served_line": String::from_utf8_lossy(line)}),
                );
            }
            _ => {
                self.raise(
                    AlarmKind::Rewrite,
                    format!(
                        "the board now serves another event {seq} (hash {served}) than the one it served before (hash {held})"
                    ),
                    json!({"seq": seq, "held_hash": held, "served_line": String::from_utf8_lossy(line)}),
                );
            }
        }
    }

    /// Checks a head said to be signed by the board against this copy. `from` names where
    /// it came from (the board itself, or a peer).
    fn check_head(&mut self, head: SignedHead, from: &str) -> Option<bool> {
        let key = self.board_key?;
        let context = *self.hashes.first()?;
        if head.election != context {
            self.raise(
                AlarmKind::Equivocation,
                format!(
                    "{from} holds a head signed for another election context {} than this copy's {context}",
                    head.election
                ),
                json!({"signed_head": head}),
            );
            return Some(false);
        }
        if head.verify(&key).is_err() {
            self.raise(
                AlarmKind::ForgedHead,
                format!("{from} served a head that the board key did not sign"),
                json!({"head": head}),
            );
            return Some(false);
        }
        if !self.seen_heads.contains(&head) {
            if let Ok(line) = serde_json::to_string(&head) {
                let _ = OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(self.dir.join("heads.jsonl"))
                    .and_then(|mut f| writeln!(f, "{line}"));
            }
            self.seen_heads.push(head.clone());
        }
        match head_matches_record(&head, |i| self.hashes.get(i as usize).copied()) {
            HeadCheck::Consistent => {
                if self
                    .latest_head
                    .as_ref()
                    .is_none_or(|h| h.length < head.length)
                {
                    self.latest_head = Some(head);
                }
                Some(true)
            }
            HeadCheck::Ahead => None,
            HeadCheck::Conflict { found } => {
                self.raise(
                    AlarmKind::Equivocation,
                    format!(
                        "{from} holds a head signed by the board with event {} hashing to {}, but this copy's event {} hashes to {found}: the board signed two different records",
                        head.length - 1,
                        head.head,
                        head.length - 1
                    ),
                    json!({"signed_head": head, "held_hash": found}),
                );
                Some(false)
            }
        }
    }

    fn compare_board_head(&mut self, http: &reqwest::blocking::Client) -> Result<()> {
        let v = get_json(http, &self.url("/head"))?;
        let signed = v
            .get("signed")
            .context("the board's /head answer has no signed head")?;
        let head =
            SignedHead::deserialize(signed).context("the board's signed head does not parse")?;
        self.check_head(head, "the board");
        Ok(())
    }

    fn compare_peers(&mut self, http: &reqwest::blocking::Client, peers: &[String]) {
        let mut statuses = Vec::new();
        for peer in peers {
            let mut status = PeerStatus {
                url: peer.clone(),
                events: None,
                consistent: None,
                error: None,
            };
            let url = format!(
                "{}/api/elections/{}/head",
                peer.trim_end_matches('/'),
                self.election
            );
            match get_json(http, &url) {
                Ok(v) => {
                    status.events = v["events"].as_u64();
                    if let Some(head) = v
                        .get("signed")
                        .and_then(|s| SignedHead::deserialize(s).ok())
                    {
                        status.consistent = self.check_head(head, &format!("monitor {peer}"));
                    }
                }
                Err(e) => status.error = Some(format!("{e:#}")),
            }
            statuses.push(status);
        }
        self.peers = statuses;
    }

    fn cycle(&mut self, http: &reqwest::blocking::Client, peers: &[String]) {
        let r = self
            .follow(http)
            .and_then(|()| self.compare_board_head(http));
        // The board may have moved between the two requests: follow once more so that a
        // head just signed is compared with the lines it covers.
        let r = r.and_then(|()| self.follow(http));
        match r {
            Ok(()) => {
                self.last_poll = Some(now());
                self.last_error = None;
            }
            Err(e) => {
                tracing::warn!("cannot poll the board: {e:#}");
                self.last_error = Some(format!("{e:#}"));
            }
        }
        self.compare_peers(http, peers);
    }

    fn status(&self) -> Value {
        json!({
            "ok": self.alarms.is_empty(),
            "election": self.election,
            "server": self.args_server,
            "events": self.hashes.len(),
            "head": self.hashes.last(),
            "signed_head": self.latest_head,
            "alarms": self.alarms,
            "peers": self.peers,
            "last_poll": self.last_poll,
            "last_error": self.last_error,
        })
    }

    /// What it serves, as of now.
    fn view(&self) -> View {
        View {
            election: self.election.clone(),
            dir: self.dir.clone(),
            offsets: Arc::new(self.offsets.clone()),
            length: self.length,
            events: self.hashes.len(),
            head: self.hashes.last().copied(),
            signed: self.latest_head.clone(),
            ok: self.alarms.is_empty(),
            status: self.status(),
        }
    }
}

/// What a monitor serves: a copy of its state made after each cycle. A request never waits
/// for a cycle, which asks the board and the peers over the network — and peers comparing
/// heads ask each other at the same moment, so a lock held across a cycle would make two
/// monitors wait on each other until their requests time out.
#[derive(Clone)]
struct View {
    election: String,
    dir: PathBuf,
    offsets: Arc<Vec<u64>>,
    length: u64,
    events: usize,
    head: Option<Hash32>,
    signed: Option<SignedHead>,
    ok: bool,
    status: Value,
}

impl View {
    /// The stored lines from `from` on, as far as this view goes (the copy only grows).
    fn record_from(&self, from: u64) -> Result<Vec<u8>> {
        let Some(&start) = self.offsets.get(from as usize) else {
            return Ok(Vec::new());
        };
        let mut f = File::open(self.dir.join("record.jsonl"))?;
        f.seek(SeekFrom::Start(start))?;
        let mut buf = vec![0u8; self.length.saturating_sub(start) as usize];
        std::io::Read::read_exact(&mut f, &mut buf)?;
        Ok(buf)
    }
}

type Shared = Arc<RwLock<View>>;

fn view(shared: &Shared) -> View {
    shared.read().unwrap_or_else(|p| p.into_inner()).clone()
}

#[derive(Deserialize)]
struct FromQuery {
    from: Option<u64>,
}

async fn serve_record(
    State(m): State<Shared>,
    UrlPath(id): UrlPath<String>,
    Query(q): Query<FromQuery>,
) -> Response {
    let m = view(&m);
    if id != m.election {
        return (StatusCode::NOT_FOUND, "no such election").into_response();
    }
    match m.record_from(q.from.unwrap_or(0)) {
        Ok(bytes) => {
            let mut resp = bytes.into_response();
            resp.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/jsonl"),
            );
            resp
        }
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

async fn serve_head(State(m): State<Shared>, UrlPath(id): UrlPath<String>) -> Response {
    let m = view(&m);
    if id != m.election {
        return (StatusCode::NOT_FOUND, "no such election").into_response();
    }
    axum::Json(json!({
        "events": m.events,
        "head": m.head,
        "signed": m.signed,
        "monitor": true,
    }))
    .into_response()
}

async fn serve_status(State(m): State<Shared>) -> Response {
    let m = view(&m);
    let code = if m.ok {
        StatusCode::OK
    } else {
        StatusCode::CONFLICT
    };
    (code, axum::Json(m.status)).into_response()
}

/// `Access-Control-Allow-Origin: *` on every answer: the copy is public, and a booth
/// served by the board must be able to read it.
async fn allow_any_origin(mut resp: Response) -> Response {
    resp.headers_mut().insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    resp
}

/// `scrutin monitor`.
pub fn run(args: MonitorArgs) -> Result<ExitCode> {
    crate::serve::init_logging();
    let peers: Vec<String> = args.peers.iter().map(|p| base(p)).collect::<Result<_>>()?;
    let http = client()?;
    let monitor = Monitor::open(&args.server, &args.election, &args.store)?;
    if args.check {
        let mut m = monitor;
        m.cycle(&http, &peers);
        println!("{}", serde_json::to_string_pretty(&m.status())?);
        if let Some(e) = &m.last_error {
            eprintln!("could not poll the board: {e}");
        }
        return Ok(if m.alarms.is_empty() && m.last_error.is_none() {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        });
    }
    let shared: Shared = Arc::new(RwLock::new(monitor.view()));
    let mut monitor = Some(monitor);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        if let Some(addr) = args.listen {
            let app = Router::new()
                .route("/api/elections/{id}/record", get(serve_record))
                .route("/api/elections/{id}/head", get(serve_head))
                .route("/api/monitor/status", get(serve_status))
                .with_state(Arc::clone(&shared))
                // Everything served is public and read-only: voters' booths on the board's
                // origin read it from their browsers (§14.3).
                .layer(axum::middleware::map_response(allow_any_origin));
            let listener = tokio::net::TcpListener::bind(addr)
                .await
                .with_context(|| format!("cannot listen on {addr}"))?;
            println!("monitor serving on http://{}", listener.local_addr()?);
            tokio::spawn(async move {
                if let Err(e) = axum::serve(listener, app).await {
                    tracing::error!("monitor server stopped: {e}");
                }
            });
        }
        let every = Duration::from_secs(args.interval.max(1));
        loop {
            let Some(mut m) = monitor.take() else {
                bail!("the monitor's state was lost");
            };
            let (http, peers) = (http.clone(), peers.clone());
            // The polls block: they run on the blocking pool; what is served is the view
            // published after each cycle.
            let m = tokio::task::spawn_blocking(move || {
                m.cycle(&http, &peers);
                m
            })
            .await
            .context("poll task")?;
            *shared.write().unwrap_or_else(|p| p.into_inner()) = m.view();
            monitor = Some(m);
            tokio::select! {
                _ = tokio::time::sleep(every) => {}
                r = tokio::signal::ctrl_c() => { r?; return Ok(ExitCode::SUCCESS); }
            }
        }
    })
}

/// The sequence number of the line of `record` whose hash is `hash`.
pub fn seq_of_hash(record: &[u8], hash: &Hash32) -> Option<u64> {
    lines_of(record)
        .ok()?
        .iter()
        .position(|l| Hash32::of(l) == *hash)
        .map(|i| i as u64)
}

/// Before a trustee (or anyone) acts on line `seq` of `record`, as downloaded from a
/// board: every monitor must report no alarm and hold the very same line there. Refuses,
/// naming the disagreement, otherwise (§14.4).
pub fn confirm_with_monitors(
    election: &str,
    record: &[u8],
    seq: u64,
    monitors: &[String],
) -> Result<()> {
    let lines = lines_of(record)?;
    let mine = lines
        .get(seq as usize)
        .map(|l| Hash32::of(l))
        .context("the record does not reach that event")?;
    if monitors.is_empty() {
        eprintln!(
            "warning: no --monitor given: nothing shows that everybody is shown this record (event {seq}, hash {mine})"
        );
        return Ok(());
    }
    let http = client()?;
    for m in monitors {
        let m = base(m)?;
        let status = get_json(&http, &format!("{m}/api/monitor/status"))
            .with_context(|| format!("cannot ask monitor {m}: not acting without it"))?;
        if status["ok"] != Value::Bool(true) {
            let alarms: Vec<String> = status["alarms"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|x| x["message"].as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default();
            bail!(
                "monitor {m} has raised alarms about this board: {}. Not acting: the board may be showing different records to different people",
                alarms.join("; ")
            );
        }
        let bytes = get_bytes(
            &http,
            &format!("{m}/api/elections/{election}/record?from={seq}"),
        )?;
        let theirs = lines_of(&bytes)?.first().map(|l| Hash32::of(l));
        match theirs {
            None => bail!(
                "monitor {m} has not seen event {seq} yet (it holds {} events): wait until it has caught up, then try again",
                status["events"]
            ),
            Some(h) if h != mine => bail!(
                "monitor {m} holds another event {seq} (hash {h}) than the record this board gave you (hash {mine}): the board is showing you a different record (a fork). Do not act on it; keep both records as evidence"
            ),
            Some(_) => println!("Monitor {m} holds the same event {seq} ({mine})."),
        }
    }
    Ok(())
}
