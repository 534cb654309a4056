//! The election protocol on the server: the verified state of each election's record, the
//! lifecycle (draft → open → closed → tallied → archived), the trustees' and credential
//! authority's events, ballots, and the scheduler that opens and closes elections on time.
//!
//! Invariants:
//! - **nothing reaches the board unverified**: every line is first applied to the election's
//!   [`RecordState`] (`push_line`, which runs the checks of spec §12), then appended durably
//!   through [`crate::board::Board`]; a ballot's proofs are checked by
//!   [`ballot::verify`] outside the per-election lock, its order-dependent checks under it,
//!   with the other ballots of its group commit ([`commit`]);
//! - public reads use the [`view`] published after each change, never the lock;
//! - the in-memory state is taken out of its slot while an append is in flight and put back
//!   only once the append is durable: if anything fails, the slot stays empty and the state
//!   is rebuilt from storage by the next caller. Loads and appends run in tasks of their
//!   own, so a request that times out or disconnects neither tears an append nor wastes
//!   the verification of a large record;
//! - the record is the truth: the stored lifecycle state follows the record's stage when
//!   the state is loaded, so a crash between an append and the state change heals itself;
//! - the server holds no secret of any role: trustees and the credential authority post
//!   public events computed on their own machines; voters' logins are bound to the public
//!   credential that signs their ballots in `private.sqlite` only;
//! - a restart does not verify a large record again: the state is read from this node's
//!   latest [`checkpoint`] of it, used only once anchored to the stored record's hash chain,
//!   then caught up with `push_line` (any doubt: the whole record is verified instead).

pub mod api;
mod checkpoint;
mod commit;
mod verify_queue;
mod view;
pub mod voter;

pub use view::ElectionView;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::StatusCode;
use scrutin_election::Hash32;
use scrutin_election::ballot::Ballot;
use scrutin_election::ceremony;
use scrutin_election::credential::CredentialList;
use scrutin_election::crypto::rng::os_rng;
use scrutin_election::definition::ElectionDescription;
use scrutin_election::record::{Event, Signer};
use scrutin_election::roles::Signed;
use scrutin_election::verify::{Proofs, RecordState, Stage, VerifyError};
use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio::sync::OwnedMutexGuard;

use crate::audit;
use crate::auth;
use crate::board::{AppendError, Batch};
use crate::group_write::GroupWrite;
use crate::http::error::ApiError;
use crate::mail_text::Lang;
use crate::state::AppState;
use crate::storage::{
    BallotIndexEntry, BindOutcome, CredentialBinding, ElectionMeta, ElectionState,
    MailStatusCounts, Role, RoleToken, StorageError, UnixTime, blocking, now, valid_election_id,
};

/// One election in this process: its verified state (the lock that serializes appends) and
/// the ballots waiting for the next group commit ([`commit`]).
#[derive(Default)]
struct ElectionSlot {
    state: Arc<tokio::sync::Mutex<Option<RecordState>>>,
    pending: Mutex<Vec<commit::PendingBallot>>,
    /// True while a task that will take the pending ballots is on its way ([`commit`]).
    batch_armed: std::sync::atomic::AtomicBool,
    /// What public reads see ([`view`]).
    view: Mutex<Option<Arc<ElectionView>>>,
    /// The last checkpoint of the state written or read by this node ([`checkpoint`]).
    checkpoint: Mutex<checkpoint::Mark>,
}

impl ElectionSlot {
    /// Publishes the view of `st` (unless the published one is of this very state).
    fn publish(&self, st: &RecordState) {
        let mut view = self.view.lock().unwrap_or_else(|p| p.into_inner());
        if view
            .as_ref()
            .is_some_and(|v| v.events == st.events && v.head == st.head)
        {
            return;
        }
        let next = ElectionView::of(st, view.as_deref());
        *view = Some(Arc::new(next));
    }

    fn published(&self) -> Option<Arc<ElectionView>> {
        self.view.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

type Slot = Arc<ElectionSlot>;

/// The verified record state of every election this process has touched.
#[derive(Default)]
pub struct Elections {
    slots: Mutex<HashMap<String, Slot>>,
    /// The body limit of a ballot of each election ([`ballot_size_bound`]).
    ballot_limits: Mutex<HashMap<String, usize>>,
    /// Records read from storage so far: verified in full, or from a checkpoint and the
    /// lines after it (`checkpoint_loads` of them).
    loads: std::sync::atomic::AtomicU64,
    checkpoint_loads: std::sync::atomic::AtomicU64,
    /// Group commits of ballots so far: transactions, and ballots in them ([`commit`]).
    commits: std::sync::atomic::AtomicU64,
    committed: std::sync::atomic::AtomicU64,
    /// Ballots waiting for their proofs to be verified, in batches ([`verify_queue`]).
    verify_queue: Arc<verify_queue::VerifyQueue>,
    /// The logins bound to their credentials at their first ballot, in groups (one durable
    /// commit for the voters casting their first ballot at the same moment).
    bindings: std::sync::OnceLock<Arc<GroupWrite<CredentialBinding, BindOutcome>>>,
}

/// The most bindings written in one commit.
const MAX_BINDINGS: usize = 256;

/// An upper bound on the JSON size of a ballot of `definition` (§10): every ciphertext,
/// every proof element counted at its hex length with room for names and punctuation. A
/// valid definition can need more than the server's default body limit (spec §8.2 bounds
/// the proofs at 10,000 elements per ballot), so the limit of the cast route follows each
/// election's own questions.
pub fn ballot_size_bound(definition: &scrutin_election::definition::ElectionDefinition) -> usize {
    // 64 hex digits, quotes, a name and separators: at most 90 bytes per element.
    const ELEMENT: usize = 90;
    let per_question: usize = definition
        .questions
        .iter()
        .map(|q| {
            let ciphertexts = 2 * (q.answers.len() + 1);
            // A branch of a membership proof has 4 elements; a bit of the bits proof 1.
            let proofs = 4 * q.proof_size();
            (ciphertexts + proofs + 16) * ELEMENT
        })
        .sum();
    4096 + per_question
}

/// An election's state, locked: appends to the election are serialized through it.
pub struct Locked {
    id: String,
    guard: Option<Guard>,
}

type Guard = OwnedMutexGuard<Option<RecordState>>;

/// What an append produced.
#[derive(Debug, Clone)]
pub struct Appended {
    /// Sequence number of the first line appended.
    pub first_seq: u64,
    /// SHA-256 of each appended line (the head after it).
    pub hashes: Vec<Hash32>,
}

fn verify_error(e: VerifyError) -> ApiError {
    let status = if e.check == "R4" {
        StatusCode::CONFLICT
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let code = if e.check == "R4" {
        "wrong_election_stage"
    } else {
        "verification_failed"
    };
    ApiError::new(status, code, e.to_string())
}

fn not_ready(e: impl std::fmt::Display) -> ApiError {
    ApiError::conflict("not_ready", e.to_string())
}

async fn cpu<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(ApiError::internal)
}

impl Elections {
    /// How many times a record was read from storage (in full, or from a checkpoint:
    /// [`Self::loads_from_checkpoint`]).
    pub fn loads(&self) -> u64 {
        self.loads.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Ballot appends so far: `(transactions, ballots)`; the ratio is the mean batch size of
    /// the group commit.
    pub fn group_commits(&self) -> (u64, u64) {
        use std::sync::atomic::Ordering::Relaxed;
        (self.commits.load(Relaxed), self.committed.load(Relaxed))
    }

    /// The body limit of a ballot cast to election `id`: [`ballot_size_bound`] of its
    /// definition, at least the server's default body limit.
    pub async fn ballot_limit(&self, app: &AppState, id: &str) -> Result<usize, ApiError> {
        let cached = self
            .ballot_limits
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(id)
            .copied();
        if let Some(limit) = cached {
            return Ok(limit);
        }
        let view = self.view(app, id).await?;
        let default = app.config.limits.body_limit_bytes;
        let Some(definition) = view.definition.as_ref() else {
            return Ok(default);
        };
        let limit = ballot_size_bound(definition).max(default);
        self.ballot_limits
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(id.to_owned(), limit);
        Ok(limit)
    }

    fn slot(&self, id: &str) -> Slot {
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        Arc::clone(slots.entry(id.to_owned()).or_default())
    }

    /// Locks an election's state: loads (and verifies) its record if this process has not,
    /// or else catches up with the lines other servers appended since ([`catch_up`]).
    pub async fn lock(&self, app: &AppState, id: &str) -> Result<Locked, ApiError> {
        let guard = Arc::clone(&self.slot(id).state).lock_owned().await;
        self.locked(app, id, guard).await
    }

    /// [`Self::lock`] once the slot's lock is held.
    async fn locked(&self, app: &AppState, id: &str, guard: Guard) -> Result<Locked, ApiError> {
        if guard.is_none() {
            self.loads
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        // In a task of its own: a request that gives up (timeout, disconnect) does not throw
        // the verification of a large record, or of the lines it catches up on, away.
        let (task_app, eid) = (app.clone(), id.to_owned());
        let (guard, loaded) = tokio::spawn(async move {
            let mut guard = guard;
            let loaded = if guard.is_some() {
                catch_up(&task_app, &eid, &mut guard).await
            } else {
                load(&task_app, &eid, &mut guard).await
            };
            (guard, loaded)
        })
        .await
        .map_err(ApiError::internal)?;
        loaded?;
        if let Some(st) = guard.as_ref() {
            let slot = self.slot(id);
            slot.publish(st);
            checkpoint::after_append(app, id, &slot, st.events);
        }
        Ok(Locked {
            id: id.to_owned(),
            guard: Some(guard),
        })
    }

    /// The published view of election `id`, without waiting behind appends: caught up with
    /// the board first when nobody holds the election's lock ([`view`]).
    pub async fn view(&self, app: &AppState, id: &str) -> Result<Arc<ElectionView>, ApiError> {
        let slot = self.slot(id);
        if let Ok(guard) = Arc::clone(&slot.state).try_lock_owned() {
            drop(self.locked(app, id, guard).await?);
        }
        if let Some(v) = slot.published() {
            return Ok(v);
        }
        // Nothing published yet: the first load is in flight; wait for it.
        self.caught_up_view(app, id).await
    }

    /// The published view of election `id` when it shows the election open, without reading
    /// storage.
    pub fn published_open(&self, id: &str) -> Option<Arc<ElectionView>> {
        self.published_view(id).filter(|v| v.stage == Stage::Open)
    }

    /// The view of election `id` last published by this node, if any, without reading
    /// storage: it may be behind the board (appends by other nodes), so it serves only what
    /// does not change once published (the definition, the fingerprint).
    /// Creates no slot: any request can name any election.
    pub fn published_view(&self, id: &str) -> Option<Arc<ElectionView>> {
        let slot = self
            .slots
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(id)
            .cloned();
        slot.and_then(|s| s.published())
    }

    /// The view once this node has caught up with the board, waiting for the election's
    /// lock if an append holds it: for a reader that knows the board went further than the
    /// published view (the election opened on another node, say).
    pub async fn caught_up_view(
        &self,
        app: &AppState,
        id: &str,
    ) -> Result<Arc<ElectionView>, ApiError> {
        drop(self.lock(app, id).await?);
        self.slot(id)
            .published()
            .ok_or_else(|| ApiError::internal("election state not loaded"))
    }
}

/// Reads and verifies an election's record, then makes the stored lifecycle state follow
/// the record's stage (a crash between an append and the state change heals here). Starts
/// from the latest checkpoint when it is anchored to the stored record, verifying only the
/// lines after it; otherwise (none, refused, or a later line refused on top of it) verifies
/// the whole record.
async fn load(app: &AppState, id: &str, slot: &mut Option<RecordState>) -> Result<(), ApiError> {
    match checkpoint::restore(app, id).await {
        Ok(Some(mut state)) => {
            state.read_replaced_ballots_from(stored_lines(app, id));
            let events = state.events;
            *slot = Some(state);
            match catch_up(app, id, slot).await {
                Ok(()) if slot.is_some() => {
                    checkpoint::restored(&app.elections.slot(id), events);
                    app.elections
                        .checkpoint_loads
                        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let stage = slot.as_ref().map_or(Stage::Setup, RecordState::stage);
                    return follow_stage(app, id, stage).await;
                }
                Ok(()) => tracing::warn!(
                    election = %id,
                    "state lost after its checkpoint; verifying the whole record"
                ),
                Err(e) => tracing::warn!(
                    election = %id,
                    "the lines after the checkpoint of {events} lines fail ({e}); verifying the whole record"
                ),
            }
        }
        Ok(None) => {}
        Err(why) => tracing::warn!(
            election = %id,
            "checkpoint not used ({why}); verifying the whole record"
        ),
    }
    *slot = None;
    let eid = id.to_owned();
    let lines = blocking(&app.storage, move |s| s.events_from(&eid, 0, usize::MAX)).await?;
    let state = cpu(move || {
        let mut record = String::with_capacity(lines.iter().map(|l| l.len() + 1).sum());
        for l in &lines {
            record.push_str(l);
            record.push('\n');
        }
        RecordState::from_record(record.as_bytes())
    })
    .await?
    .map_err(|e| ApiError::internal(format!("the stored record of {id} fails: {e}")))?;
    let mut state = state;
    state.read_replaced_ballots_from(stored_lines(app, id));
    let stage = state.stage();
    *slot = Some(state);
    follow_stage(app, id, stage).await
}

/// The stored record of one election, line by line: where its state reads back the ballot a
/// re-vote replaces instead of holding every counted ballot in memory.
struct StoredLines {
    storage: crate::storage::SharedStorage,
    election: String,
}

/// How long [`StoredLines`] keeps trying a read while the database is unavailable (a
/// restart, a failover), before the state that asked for the line is given up.
const READ_BACK_RETRY_FOR: Duration = Duration::from_secs(10);

impl scrutin_election::verify::RecordLines for StoredLines {
    /// Called on a blocking thread, with the election's lock held: a database that is
    /// briefly unavailable is waited for, as every cast waits for it anyway.
    fn line(&self, seq: u64) -> Result<String, String> {
        let started = std::time::Instant::now();
        let mut pause = Duration::from_millis(50);
        loop {
            match self.storage.events_from(&self.election, seq, 1) {
                Ok(lines) => {
                    return lines
                        .into_iter()
                        .next()
                        .ok_or_else(|| format!("the stored record has no line {seq}"));
                }
                Err(StorageError::Unavailable(_))
                    if started.elapsed() + pause < READ_BACK_RETRY_FOR =>
                {
                    std::thread::sleep(pause);
                    pause = (pause * 2).min(Duration::from_secs(1));
                }
                Err(e) => return Err(e.to_string()),
            }
        }
    }
}

fn stored_lines(app: &AppState, id: &str) -> Arc<dyn scrutin_election::verify::RecordLines> {
    Arc::new(StoredLines {
        storage: Arc::clone(&app.storage),
        election: id.to_owned(),
    })
}

/// Storage is the one source of truth for the record: applies (and verifies) the lines
/// appended to it since this state last saw it — by another server sharing the database —
/// so that the state is the record's, whoever wrote it. One read of the head when nothing
/// is new.
async fn catch_up(
    app: &AppState,
    id: &str,
    slot: &mut Option<RecordState>,
) -> Result<(), ApiError> {
    let known = slot.as_ref().map_or(0, |s| s.events);
    let eid = id.to_owned();
    let head = blocking(&app.storage, move |s| s.head(&eid)).await?;
    if head.next_seq == known {
        return Ok(());
    }
    if head.next_seq < known {
        *slot = None;
        return Err(ApiError::internal(format!(
            "the stored record of {id} has {} lines, fewer than the {known} already verified",
            head.next_seq
        )));
    }
    let eid = id.to_owned();
    let count = usize::try_from(head.next_seq - known).unwrap_or(usize::MAX);
    let lines = blocking(&app.storage, move |s| s.events_from(&eid, known, count)).await?;
    let Some(state) = slot.take() else {
        return Ok(());
    };
    let (state, applied) = cpu(move || {
        let mut state = state;
        for l in &lines {
            if let Err(e) = state.push_line(l.as_bytes(), Proofs::Verify) {
                return (None, Err(e));
            }
        }
        (Some(state), Ok(()))
    })
    .await?;
    *slot = state;
    applied.map_err(|e| ApiError::internal(format!("the stored record of {id} fails: {e}")))?;
    let stage = slot.as_ref().map_or(Stage::Setup, RecordState::stage);
    follow_stage(app, id, stage).await
}

/// [`catch_up`] for an election already locked (a batch refused because another server
/// appended first).
async fn catch_up_locked(app: &AppState, locked: &mut Locked) -> Result<(), ApiError> {
    let guard = locked
        .guard
        .take()
        .ok_or_else(|| ApiError::internal("election state not locked"))?;
    let (app, eid) = (app.clone(), locked.id.clone());
    let (guard, caught) = tokio::spawn(async move {
        let mut guard = guard;
        let caught = catch_up(&app, &eid, &mut guard).await;
        (guard, caught)
    })
    .await
    .map_err(ApiError::internal)?;
    let ok = guard.is_some();
    locked.guard = Some(guard);
    caught?;
    if ok {
        Ok(())
    } else {
        Err(ApiError::internal("election state not loaded"))
    }
}

/// Moves the stored lifecycle state forward to the record's stage: the state an official
/// sees is derived from the record, never ahead of it and never left behind.
async fn follow_stage(app: &AppState, id: &str, stage: Stage) -> Result<(), ApiError> {
    let target = match stage {
        Stage::Setup => return Ok(()),
        Stage::Open => ElectionState::Open,
        Stage::Closed => ElectionState::Closed,
        Stage::Tallied => ElectionState::Tallied,
    };
    let id = id.to_owned();
    blocking(&app.storage, move |s| {
        let Some(meta) = s.election(&id)? else {
            return Ok(());
        };
        let order = |st: ElectionState| match st {
            ElectionState::Draft => 0,
            ElectionState::Open => 1,
            ElectionState::Closed => 2,
            ElectionState::Tallied => 3,
            ElectionState::Archived => 4,
        };
        if order(meta.state) < order(target) {
            s.set_election_state(&id, meta.state, target)?;
        }
        Ok(())
    })
    .await?;
    Ok(())
}

impl Locked {
    /// The verified state of the record.
    pub fn state(&self) -> Result<&RecordState, ApiError> {
        self.guard
            .as_ref()
            .and_then(|g| (**g).as_ref())
            .ok_or_else(|| ApiError::internal("election state not loaded"))
    }

    /// Verifies `events` against the state, appends them durably, then keeps the new state.
    /// The work runs in a task of its own, so that a request cancelled mid-append still
    /// leaves the state in step with the board.
    pub async fn append(
        &mut self,
        app: &AppState,
        events: Vec<Event>,
        proofs: Proofs,
    ) -> Result<Appended, ApiError> {
        self.append_events(app, events, proofs, None).await
    }

    /// Appends ballots admitted against the state (their proofs verified), each with its
    /// tracker as the cast computed it; otherwise as [`Locked::append`].
    pub(crate) async fn append_admitted(
        &mut self,
        app: &AppState,
        ballots: Vec<(Ballot, Hash32)>,
    ) -> Result<Appended, ApiError> {
        let (events, trackers) = ballots
            .into_iter()
            .map(|(b, t)| (Event::Ballot(Box::new(b)), t))
            .unzip();
        self.append_events(app, events, Proofs::AlreadyVerified, Some(trackers))
            .await
    }

    async fn append_events(
        &mut self,
        app: &AppState,
        events: Vec<Event>,
        proofs: Proofs,
        trackers: Option<Vec<Hash32>>,
    ) -> Result<Appended, ApiError> {
        let guard = self
            .guard
            .take()
            .ok_or_else(|| ApiError::internal("election state not locked"))?;
        let (task_app, id) = (app.clone(), self.id.clone());
        let (guard, appended) = tokio::spawn(async move {
            let mut guard = guard;
            let appended = append_to(&task_app, &id, &mut guard, events, proofs, trackers).await;
            (guard, appended)
        })
        .await
        .map_err(ApiError::internal)?;
        if appended.is_ok()
            && let Some(st) = guard.as_ref()
        {
            let slot = app.elections.slot(&self.id);
            slot.publish(st);
            checkpoint::after_append(app, &self.id, &slot, st.events);
        }
        self.guard = Some(guard);
        appended
    }
}

/// See [`Locked::append`]. Nothing is appended that the verifier would refuse, and the
/// state is never left half-applied:
/// - ballots were admitted against this state (cheap checks under the lock, proofs outside
///   it), so they are applied once they are durable;
/// - any other event is applied to a copy first: one the rules refuse (a trustee's bad
///   share) leaves the state as it was, with no re-verification of the record.
///
/// If another server appended meanwhile, nothing is written and the state is kept; the next
/// [`Elections::lock`] catches up with the board.
///
/// `trackers`, when given, has one entry per event: the tracker of that event's ballot
/// (not computed again here).
async fn append_to(
    app: &AppState,
    id: &str,
    slot: &mut Option<RecordState>,
    events: Vec<Event>,
    proofs: Proofs,
    trackers: Option<Vec<Hash32>>,
) -> Result<Appended, ApiError> {
    let state = slot
        .take()
        .ok_or_else(|| ApiError::internal("election state not loaded"))?;
    let first_seq = state.events;
    let text = match ceremony::lines_after(&state, &events) {
        Ok(t) => t,
        Err(e) => {
            *slot = Some(state);
            return Err(not_ready(e));
        }
    };
    let lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let mut index = Vec::new();
    let tracker_of = |i: usize, b: &Ballot| {
        trackers
            .as_ref()
            .and_then(|t| t.get(i).copied())
            .unwrap_or_else(|| b.tracker())
    };
    for (i, e) in events.iter().enumerate() {
        if let Event::Ballot(b) = e {
            index.push(BallotIndexEntry {
                seq: first_seq + i as u64,
                tracker: tracker_of(i, b).to_hex(),
                credential: b.credential.to_hex(),
            });
        }
    }
    let admitted =
        proofs == Proofs::AlreadyVerified && events.iter().all(|e| matches!(e, Event::Ballot(_)));
    let (state, checked) = if admitted {
        (state, None)
    } else {
        let to_check = lines.clone();
        let (state, trial) = cpu(move || {
            let mut trial = state.clone();
            for l in &to_check {
                if let Err(e) = trial.push_line(l.as_bytes(), proofs) {
                    return (state, Err(e));
                }
            }
            (state, Ok(trial))
        })
        .await?;
        match trial {
            Ok(t) => (state, Some(t)),
            Err(e) => {
                *slot = Some(state);
                return Err(verify_error(e));
            }
        }
    };
    let hashes = lines.iter().map(|l| Hash32::of(l.as_bytes())).collect();
    // Admitted ballots are applied from the events they were written from, once durable.
    let to_apply: Vec<(Event, String, Option<Hash32>)> = if admitted {
        events
            .into_iter()
            .zip(lines.iter().cloned())
            .enumerate()
            .map(|(i, (e, l))| (e, l, trackers.as_ref().and_then(|t| t.get(i).copied())))
            .collect()
    } else {
        Vec::new()
    };
    let appended = app
        .board
        .append(id, move |head| {
            if head.next_seq != first_seq {
                return Err(());
            }
            Ok(Batch {
                lines: lines.clone(),
                index: index.clone(),
                value: (),
            })
        })
        .await;
    if let Err(e) = appended {
        *slot = Some(state);
        return Err(match e {
            AppendError::Refused(()) => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "board_moved",
                "the board changed under this request; retry",
            )
            .with_retry_after(1),
            AppendError::Storage(StorageError::AlreadyExists(_)) => {
                ApiError::conflict("duplicate_ballot", "this ballot is already on the board")
            }
            AppendError::Storage(e) => e.into(),
        });
    }
    let state = match checked {
        Some(trial) => trial,
        None => {
            let (state, applied) = cpu(move || {
                let mut state = state;
                for (event, line, tracker) in to_apply {
                    if let Err(e) = state.push_written(event, line.as_bytes(), tracker) {
                        return (None, Err(e));
                    }
                }
                (Some(state), Ok(()))
            })
            .await?;
            // An admitted ballot the state cannot apply (the ballot a re-vote replaces could
            // not be read back): the state is dropped and read again from storage by the next
            // caller, which will say what is wrong. The ballots are on the board already, so
            // their voters are told to retry, not refused: a retry finds its ballot there and
            // gets its receipt.
            applied.map_err(|e| {
                tracing::warn!(election = %id, "appended ballots not applied to the state ({e}); it is read again");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "state_reloading",
                    "the ballot is on the board; retry to get its receipt",
                )
                .with_retry_after(1)
            })?;
            state.ok_or_else(|| ApiError::internal("verified state lost"))?
        }
    };
    *slot = Some(state);
    Ok(Appended { first_seq, hashes })
}

/// Loads an election's metadata or answers 404.
pub async fn election_meta(app: &AppState, id: &str) -> Result<ElectionMeta, ApiError> {
    crate::routes::load_election(app, id).await
}

async fn set_state(
    app: &AppState,
    id: &str,
    from: ElectionState,
    to: ElectionState,
) -> Result<(), ApiError> {
    let id = id.to_owned();
    blocking(&app.storage, move |s| s.set_election_state(&id, from, to)).await?;
    Ok(())
}

fn require_state(meta: &ElectionMeta, wanted: ElectionState, what: &str) -> Result<(), ApiError> {
    if meta.state == wanted {
        Ok(())
    } else {
        Err(ApiError::conflict(
            "wrong_election_state",
            format!(
                "{what} needs the election to be {}; it is {}",
                wanted.as_str(),
                meta.state.as_str()
            ),
        ))
    }
}

/// Creates an election from its TOML description: the record's first line is `election`.
pub async fn create_election(
    app: &AppState,
    actor: &str,
    description_toml: String,
    opens_at: Option<UnixTime>,
    closes_at: Option<UnixTime>,
) -> Result<ElectionMeta, ApiError> {
    if let (Some(o), Some(c)) = (opens_at, closes_at)
        && c <= o
    {
        return Err(ApiError::bad_request("closes_at must come after opens_at"));
    }
    let def = ElectionDescription::from_toml(&description_toml)
        .and_then(|d| d.into_definition(&mut os_rng()))
        .and_then(|mut d| {
            // This server's board key signs the receipts and heads of the election (§14).
            d.board_key = Some(app.board_key.signing_key);
            d.validate().map(|()| d)
        })
        .map_err(|e| {
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_description",
                e.to_string(),
            )
        })?;
    if !valid_election_id(&def.id) {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_description",
            "the election id must be 1 to 64 characters of A-Z, a-z, 0-9, '-' and '_'",
        ));
    }
    let event = ceremony::election_event(&def).map_err(|e| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_description",
            e.to_string(),
        )
    })?;
    let meta = ElectionMeta {
        id: def.id.clone(),
        state: ElectionState::Draft,
        description_toml,
        opens_at,
        closes_at,
        created_at: now(),
    };
    let (m, owner) = (meta.clone(), actor.to_owned());
    blocking(&app.storage, move |s| {
        s.create_election(&m)?;
        // The creator owns it: an official acts only on the elections they own.
        s.set_election_owner(&m.id, &owner)
    })
    .await?;
    let mut locked = app.elections.lock(app, &meta.id).await?;
    locked.append(app, vec![event], Proofs::Verify).await?;
    audit::record(
        &app.storage,
        actor,
        Some(&meta.id),
        "election.create",
        json!({"title": def.title, "trustees": def.trustees.len(), "threshold": def.threshold,
               "opens_at": opens_at, "closes_at": closes_at}),
    )
    .await?;
    drop(locked);
    crate::trustee_mail::notify(app, &meta.id).await;
    Ok(meta)
}

/// An election as its officials see it: the metadata, the stage of the record, and counts
/// only (voters on the list, credentials, ballots, mails), never a voter's identity.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AdminElection {
    /// The stored metadata (id, state, description, schedule).
    #[serde(flatten)]
    pub meta: ElectionMeta,
    /// The record's stage (`setup`, `open`, `closed`, `tallied`).
    pub stage: String,
    /// Voters on the list.
    pub voters: u64,
    /// Their total weight.
    pub total_weight: u64,
    /// Public credentials on the record, once published.
    pub credentials: Option<u64>,
    /// Ballot events on the record (re-votes included).
    pub ballots: u64,
    /// Credentials whose last ballot counts.
    pub ballots_counted: u64,
    /// Total weight of those credentials.
    pub counted_weight: u64,
    /// Mails of the election by delivery status.
    pub mail: MailStatusCounts,
    /// The language of the mails of voters whose line names none.
    pub mail_language: Lang,
}

/// The officials' view of an election ([`AdminElection`]).
pub async fn admin_election(app: &AppState, id: &str) -> Result<AdminElection, ApiError> {
    let meta = election_meta(app, id).await?;
    let (stage, credentials, ballots, ballots_counted, counted_weight) = {
        let locked = app.elections.lock(app, id).await?;
        let st = locked.state()?;
        (
            st.stage().name().to_owned(),
            st.credentials.as_ref().map(|c| c.len() as u64),
            st.ballots,
            st.ballots_counted(),
            st.counted_weight(),
        )
    };
    let eid = id.to_owned();
    let ((voters, total_weight), mail, mail_language) = blocking(&app.storage, move |s| {
        Ok((
            s.voter_count(&eid)?,
            s.mail_status_counts(&eid)?,
            s.mail_language(&eid)?.unwrap_or_default(),
        ))
    })
    .await?;
    Ok(AdminElection {
        meta,
        stage,
        voters,
        total_weight,
        credentials,
        ballots,
        ballots_counted,
        counted_weight,
        mail,
        mail_language,
    })
}

/// Changes the planned opening and closing times (draft only).
pub async fn set_schedule(
    app: &AppState,
    actor: &str,
    id: &str,
    opens_at: Option<UnixTime>,
    closes_at: Option<UnixTime>,
) -> Result<ElectionMeta, ApiError> {
    let meta = election_meta(app, id).await?;
    require_state(&meta, ElectionState::Draft, "changing the schedule")?;
    if let (Some(o), Some(c)) = (opens_at, closes_at)
        && c <= o
    {
        return Err(ApiError::bad_request("closes_at must come after opens_at"));
    }
    let (eid, toml) = (id.to_owned(), meta.description_toml.clone());
    blocking(&app.storage, move |s| {
        s.update_election_draft(&eid, &toml, opens_at, closes_at)
    })
    .await?;
    audit::record(
        &app.storage,
        actor,
        Some(id),
        "election.schedule",
        json!({"opens_at": opens_at, "closes_at": closes_at}),
    )
    .await?;
    election_meta(app, id).await
}

/// A trustee's token, as handed out once by [`issue_role_tokens`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TrusteeToken {
    /// Trustee number.
    pub index: u32,
    /// Trustee name from the definition.
    pub name: String,
    /// Bearer token.
    pub token: String,
}

/// Every role token of an election (shown once; only hashes are stored).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RoleTokens {
    /// One per trustee.
    pub trustees: Vec<TrusteeToken>,
    /// The credential authority's.
    pub credential_authority: String,
}

fn new_token() -> Result<String, ApiError> {
    let mut b = [0u8; 32];
    getrandom::fill(&mut b).map_err(|_| ApiError::internal("random generator failed"))?;
    Ok(hex::encode(b))
}

/// Issues (or re-issues, revoking the previous ones) one token per trustee and one for the
/// credential authority.
pub async fn issue_role_tokens(
    app: &AppState,
    actor: &str,
    id: &str,
) -> Result<RoleTokens, ApiError> {
    let meta = election_meta(app, id).await?;
    if matches!(meta.state, ElectionState::Tallied | ElectionState::Archived) {
        return Err(ApiError::conflict(
            "wrong_election_state",
            "the election is over",
        ));
    }
    let names = {
        let locked = app.elections.lock(app, id).await?;
        locked
            .state()?
            .definition
            .as_ref()
            .map(|d| d.trustees.clone())
            .ok_or_else(|| ApiError::internal("the record has no definition"))?
    };
    let mut trustees = Vec::new();
    let mut stored = Vec::new();
    for (i, holder) in names.into_iter().enumerate() {
        let name = holder.name;
        let token = new_token()?;
        let index = i as u32 + 1;
        stored.push(RoleToken {
            token_hash: auth::token_hash(&token),
            election: id.to_owned(),
            role: Role::Trustee { index },
        });
        trustees.push(TrusteeToken { index, name, token });
    }
    let credential_authority = new_token()?;
    stored.push(RoleToken {
        token_hash: auth::token_hash(&credential_authority),
        election: id.to_owned(),
        role: Role::CredentialAuthority,
    });
    let eid = id.to_owned();
    blocking(&app.storage, move |s| s.replace_role_tokens(&eid, &stored)).await?;
    audit::record(
        &app.storage,
        actor,
        Some(id),
        "election.role_tokens",
        json!({"trustees": trustees.len()}),
    )
    .await?;
    Ok(RoleTokens {
        trustees,
        credential_authority,
    })
}

/// Event types a trustee may post, and the trustee number each names.
fn trustee_of(event: &Event) -> Option<u32> {
    match event.signer() {
        Signer::Trustee(index) => Some(index),
        _ => None,
    }
}

/// Where an event landed on the board.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Posted {
    /// Its sequence number.
    pub seq: u64,
    /// The head of the board after it (and after any event the server added).
    pub head: String,
    /// Events the server appended after it (`election_key` after the last check).
    pub followed_by: Vec<String>,
}

impl Posted {
    /// The receipt of an event the server appended with nothing after it.
    fn alone(appended: &Appended) -> Self {
        Posted {
            seq: appended.first_seq,
            head: appended
                .hashes
                .last()
                .map(|h| h.to_hex())
                .unwrap_or_default(),
            followed_by: vec![],
        }
    }
}

/// A trustee posts one of its events (`trustee_commitment`, `dealer_shares`,
/// `trustee_check`, `shuffle`, `decryption_share`), computed on its own machine.
pub async fn post_trustee_event(
    app: &AppState,
    id: &str,
    trustee: u32,
    kind: &str,
    body: &serde_json::Value,
) -> Result<Posted, ApiError> {
    let text =
        serde_json::value::RawValue::from_string(body.to_string()).map_err(ApiError::internal)?;
    post_trustee_events(app, id, trustee, &[(kind.to_owned(), text)]).await
}

/// The body limit of a trustee's post to election `id`: one record line, or, once the
/// election is closed with ranked or graded questions, a shuffle or share of as many rows
/// as §9.3 rule 6 allows with all its parts (§11.15), counted generously (400 bytes per
/// ciphertext or factor and 600 per row and question).
pub async fn trustee_events_limit(app: &AppState, id: &str) -> Result<usize, ApiError> {
    use scrutin_election::definition::{MAX_MIXED_ENTRIES, mixed_row_entries};
    let view = app.elections.view(app, id).await?;
    let line = scrutin_election::record::MAX_LINE + 4096;
    let Some(def) = view.definition.as_ref() else {
        return Ok(line);
    };
    let mixed: Vec<u64> = def
        .questions
        .iter()
        .filter(|q| q.is_mixed())
        .map(|q| q.answers.len() as u64)
        .collect();
    if mixed.is_empty() || view.stage != Stage::Closed {
        return Ok(line);
    }
    let per_row: u64 = mixed.iter().map(|&a| mixed_row_entries(a)).sum();
    let rows = MAX_MIXED_ENTRIES / per_row.max(1);
    let bytes_per_row: u64 = mixed.iter().map(|&a| 400 * a + 600).sum();
    let bound = rows.saturating_mul(bytes_per_row);
    Ok(usize::try_from(bound)
        .unwrap_or(usize::MAX)
        .saturating_add(line))
}

/// A trustee posts its events, appended together as consecutive lines: one event, or the
/// parts of a long shuffle or share followed by that event (§11.15). Nothing is appended
/// unless all of them verify.
pub async fn post_trustee_events(
    app: &AppState,
    id: &str,
    trustee: u32,
    posted: &[(String, Box<serde_json::value::RawValue>)],
) -> Result<Posted, ApiError> {
    let Some(((kind, _), parts)) = posted.split_last() else {
        return Err(ApiError::bad_request("no event posted"));
    };
    let kind = kind.as_str();
    let meta = election_meta(app, id).await?;
    let (wanted, part_kind) = match kind {
        "trustee_commitment" | "dealer_shares" | "trustee_check" => (ElectionState::Draft, None),
        "shuffle" => (ElectionState::Closed, Some("shuffle_rows")),
        "decryption_share" => (ElectionState::Closed, Some("decryption_rows")),
        _ => {
            return Err(ApiError::bad_request(format!(
                "a trustee posts trustee_commitment, dealer_shares, trustee_check, shuffle or decryption_share (the last event posted), not {:?}",
                kind.chars().take(40).collect::<String>()
            )));
        }
    };
    if let Some((other, _)) = parts.iter().find(|(k, _)| Some(k.as_str()) != part_kind) {
        return Err(ApiError::bad_request(format!(
            "only the parts of a {kind} may come before it in one post ({}), not {:?}",
            part_kind.unwrap_or("none"),
            other.chars().take(40).collect::<String>()
        )));
    }
    require_state(&meta, wanted, kind)?;
    let mut events = Vec::with_capacity(posted.len());
    for (k, body) in posted {
        let event = Event::parse(k, body.get()).map_err(|e| {
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_body",
                format!("check R5 failed: {e}"),
            )
        })?;
        if trustee_of(&event) != Some(trustee) {
            return Err(ApiError::forbidden(format!(
                "this token is trustee {trustee}'s; the event is another trustee's"
            )));
        }
        events.push(event);
    }
    let mut locked = app.elections.lock(app, id).await?;
    let lines = events.len() as u64;
    let appended = locked.append(app, events, Proofs::Verify).await?;
    // The event itself is the last line; its parts, if any, come just before it.
    let seq = appended.first_seq + lines - 1;
    let mut followed_by = Vec::new();
    let mut head = appended.hashes.last().copied();
    let st = locked.state()?;
    if kind == "trustee_check" && st.checks.iter().all(Option::is_some) && st.joint_key.is_none() {
        let key = ceremony::election_key_event(st).map_err(not_ready)?;
        let more = locked.append(app, vec![key], Proofs::Verify).await?;
        head = more.hashes.last().copied();
        followed_by.push("election_key".to_owned());
    }
    audit::record(
        &app.storage,
        &format!("trustee:{trustee}"),
        Some(id),
        &format!("trustee.{kind}"),
        json!({"seq": seq, "parts": lines - 1, "followed_by": followed_by}),
    )
    .await?;
    drop(locked);
    crate::trustee_mail::notify(app, id).await;
    Ok(Posted {
        seq,
        head: head.map(|h| h.to_hex()).unwrap_or_default(),
        followed_by,
    })
}

/// The credential authority posts the public credential list, signed with its role key
/// (checked, with the list itself, by the verifier: S2, C1). It must have one credential
/// per voter on the list, and the same weights: the multiset of the list's weights must be
/// that of the voter list, so that a credential authority cannot move weight from one
/// voter to another unnoticed by the server (which still does not know whose credential
/// is whose; each voter sees their own weight in the booth and on the receipt).
pub async fn post_credentials(
    app: &AppState,
    id: &str,
    list: Signed<CredentialList>,
) -> Result<Posted, ApiError> {
    let meta = election_meta(app, id).await?;
    require_state(&meta, ElectionState::Draft, "publishing credentials")?;
    let eid = id.to_owned();
    let (voters, weight) = blocking(&app.storage, move |s| s.voter_count(&eid)).await?;
    let n = list.body.credentials.len() as u64;
    let w: u64 = list
        .body
        .credentials
        .iter()
        .fold(0u64, |a, c| a.saturating_add(c.weight));
    let mismatch = |what: String| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "credentials_mismatch",
            what,
        )
    };
    if n != voters || w != weight {
        return Err(mismatch(format!(
            "the voter list has {voters} voters of total weight {weight}; the credential list has {n} of total weight {w}"
        )));
    }
    let mut roll = roll_weights(app, id).await?;
    let mut listed: Vec<u64> = list.body.credentials.iter().map(|c| c.weight).collect();
    roll.sort_unstable();
    listed.sort_unstable();
    if roll != listed {
        return Err(mismatch(
            "the credential list's weights are not the voter list's weights (same count and total, but distributed differently)".into(),
        ));
    }
    let mut locked = app.elections.lock(app, id).await?;
    if locked.state()?.credentials.is_some() {
        return Err(ApiError::conflict(
            "already_published",
            "the credentials are already published",
        ));
    }
    let appended = locked
        .append(app, vec![Event::Credentials(list)], Proofs::Verify)
        .await?;
    audit::record(
        &app.storage,
        "credential-authority",
        Some(id),
        "credentials.publish",
        json!({"credentials": n, "total_weight": w, "seq": appended.first_seq}),
    )
    .await?;
    Ok(Posted::alone(&appended))
}

/// The weight of every voter on the list.
async fn roll_weights(app: &AppState, id: &str) -> Result<Vec<u64>, ApiError> {
    let mut weights = Vec::new();
    let mut after = String::new();
    loop {
        let (eid, a) = (id.to_owned(), after.clone());
        let page = blocking(&app.storage, move |s| s.list_voters(&eid, &a, 10_000)).await?;
        let Some(last) = page.last() else {
            return Ok(weights);
        };
        after = last.login.clone();
        weights.extend(page.iter().map(|v| v.weight));
    }
}

/// Opens the election: freezes the voter list, appends `open` (the fingerprint).
pub async fn open(app: &AppState, actor: &str, id: &str) -> Result<Posted, ApiError> {
    let meta = election_meta(app, id).await?;
    require_state(&meta, ElectionState::Draft, "opening")?;
    let mut locked = app.elections.lock(app, id).await?;
    let st = locked.state()?;
    let event = ceremony::open_event(st).map_err(not_ready)?;
    let credentials = st.credentials.as_ref().map(|c| c.len() as u64).unwrap_or(0);
    let eid = id.to_owned();
    let (voters, _) = blocking(&app.storage, move |s| s.voter_count(&eid)).await?;
    if voters != credentials {
        return Err(ApiError::conflict(
            "credentials_mismatch",
            format!(
                "{voters} voters on the list but {credentials} credentials published: voters were added after the credentials"
            ),
        ));
    }
    let appended = locked.append(app, vec![event], Proofs::Verify).await?;
    set_state(app, id, ElectionState::Draft, ElectionState::Open).await?;
    let fingerprint = locked.state()?.fingerprint.map(|f| f.to_hex());
    audit::record(
        &app.storage,
        actor,
        Some(id),
        "election.open",
        json!({"fingerprint": fingerprint, "seq": appended.first_seq}),
    )
    .await?;
    Ok(Posted {
        seq: appended.first_seq,
        head: fingerprint.unwrap_or_default(),
        followed_by: vec![],
    })
}

/// Closes the election: appends `close` with the encrypted tally.
pub async fn close(app: &AppState, actor: &str, id: &str) -> Result<Posted, ApiError> {
    let meta = election_meta(app, id).await?;
    require_state(&meta, ElectionState::Open, "closing")?;
    let mut locked = app.elections.lock(app, id).await?;
    let st = locked.state()?;
    let event = ceremony::close_event(st).map_err(not_ready)?;
    let counted = st.ballots_counted();
    let appended = locked.append(app, vec![event], Proofs::Verify).await?;
    set_state(app, id, ElectionState::Open, ElectionState::Closed).await?;
    audit::record(
        &app.storage,
        actor,
        Some(id),
        "election.close",
        json!({"ballots_counted": counted, "seq": appended.first_seq}),
    )
    .await?;
    drop(locked);
    crate::trustee_mail::notify(app, id).await;
    Ok(Posted::alone(&appended))
}

/// Publishes the result once at least k trustees have posted their decryption shares.
pub async fn tally(app: &AppState, actor: &str, id: &str) -> Result<Posted, ApiError> {
    let meta = election_meta(app, id).await?;
    require_state(&meta, ElectionState::Closed, "the tally")?;
    let mut locked = app.elections.lock(app, id).await?;
    let st = locked.state()?;
    let k = st.definition.as_ref().map(|d| d.threshold).unwrap_or(0) as usize;
    if st.shares.len() < k {
        return Err(ApiError::conflict(
            "not_ready",
            format!(
                "{} decryption shares published, {k} needed",
                st.shares.len()
            ),
        ));
    }
    let event = ceremony::result_event(st).map_err(not_ready)?;
    let appended = locked.append(app, vec![event], Proofs::Verify).await?;
    set_state(app, id, ElectionState::Closed, ElectionState::Tallied).await?;
    let trustees = locked.state()?.result.as_ref().map(|r| r.trustees.clone());
    audit::record(
        &app.storage,
        actor,
        Some(id),
        "election.tally",
        json!({"trustees": trustees, "seq": appended.first_seq}),
    )
    .await?;
    Ok(Posted::alone(&appended))
}

/// Archives a tallied election (the record stays public).
pub async fn archive(app: &AppState, actor: &str, id: &str) -> Result<(), ApiError> {
    let meta = election_meta(app, id).await?;
    require_state(&meta, ElectionState::Tallied, "archiving")?;
    set_state(app, id, ElectionState::Tallied, ElectionState::Archived).await?;
    audit::record(&app.storage, actor, Some(id), "election.archive", json!({})).await?;
    Ok(())
}

/// Deletes an abandoned draft election (never opened): from the board, its lists, and the
/// private store with its voters (see [`Storage::delete_draft_election`]). Done under the
/// election's lock, so that no trustee event is appended meanwhile, and audited in the
/// server-wide log.
///
/// [`Storage::delete_draft_election`]: crate::storage::Storage::delete_draft_election
pub async fn delete_draft(app: &AppState, actor: &str, id: &str) -> Result<(), ApiError> {
    let meta = election_meta(app, id).await?;
    require_state(&meta, ElectionState::Draft, "deleting")?;
    let mut locked = app.elections.lock(app, id).await?;
    let title = locked
        .state()
        .ok()
        .and_then(|s| s.definition.as_ref())
        .map(|d| d.title.clone());
    let eid = id.to_owned();
    blocking(&app.storage, move |s| s.delete_draft_election(&eid)).await?;
    if let Some(guard) = locked.guard.as_mut() {
        **guard = None;
    }
    drop(locked);
    app.elections
        .slots
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .remove(id);
    app.elections
        .ballot_limits
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .remove(id);
    app.board.invalidate(id);
    // In the server-wide log: the election it would belong to no longer exists.
    audit::record(
        &app.storage,
        actor,
        None,
        "election.delete",
        json!({ "election": id, "title": title }),
    )
    .await?;
    Ok(())
}

/// One trustee's progress through the key ceremony and the tally, as the record shows it
/// (spec §6, §11.9): what the public board and `GET /api/elections/{id}` report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TrusteeProgress {
    /// 1-based trustee index.
    pub index: u32,
    /// The name in the election definition.
    pub name: String,
    /// Its commitment is on the record.
    pub committed: bool,
    /// Its encrypted shares are on the record.
    pub dealt: bool,
    /// Its check of the shares it received is on the record.
    pub checked: bool,
    /// Short fingerprint of the trustee's role key named in the definition (§8.6).
    pub key_fingerprint: String,
    /// Its signed commitment is on the record: it has proven that it holds that key.
    pub key_proven: bool,
    /// It complained about a bad share and so holds no key share (§6.4).
    pub complained: bool,
    /// Its shuffle of the ranked and graded answers is on the record (§11.12).
    pub shuffled: bool,
    /// Its decryption share is on the record.
    pub decryption_share: bool,
}

/// Every trustee's progress (empty before the election event).
pub fn trustee_progress(st: &RecordState) -> Vec<TrusteeProgress> {
    let Some(def) = &st.definition else {
        return Vec::new();
    };
    def.trustees
        .iter()
        .enumerate()
        .map(|(i, holder)| {
            let index = i as u32 + 1;
            TrusteeProgress {
                index,
                name: holder.name.clone(),
                key_fingerprint: scrutin_election::roles::fingerprint(&holder.key),
                key_proven: st.commitments.get(i).is_some_and(Option::is_some),
                committed: st.commitments.get(i).is_some_and(Option::is_some),
                dealt: st.dealt.get(i).is_some_and(Option::is_some),
                checked: st.checks.get(i).is_some_and(Option::is_some),
                complained: st.complained.contains(&index),
                shuffled: st.shuffles.iter().any(|s| s.trustee == index),
                decryption_share: st.shares.iter().any(|s| s.trustee == index),
            }
        })
        .collect()
}

/// What a voter gets back for a ballot on the board: signed by the board key (§14.2), so
/// that a board that loses or forks away an acknowledged ballot leaves evidence.
pub use scrutin_election::roles::Receipt;

/// The signed receipt of the ballot with `tracker` at `seq`, whose credential has
/// `weight`.
async fn receipt_of(
    app: &AppState,
    id: &str,
    tracker: Hash32,
    seq: u64,
    fingerprint: Hash32,
    weight: u64,
) -> Result<Receipt, ApiError> {
    let eid = id.to_owned();
    let line = blocking(&app.storage, move |s| s.events_from(&eid, seq, 1)).await?;
    let head = line
        .first()
        .map(|l| Hash32::of(l.as_bytes()))
        .ok_or_else(|| ApiError::internal("indexed ballot missing from the board"))?;
    Ok(sign_receipt(app, fingerprint, seq, tracker, head, weight))
}

fn sign_receipt(
    app: &AppState,
    fingerprint: Hash32,
    seq: u64,
    tracker: Hash32,
    head: Hash32,
    weight: u64,
) -> Receipt {
    Receipt::sign(
        &app.board_key,
        fingerprint,
        seq,
        tracker,
        head,
        weight,
        &mut os_rng(),
    )
}

fn bind_error(outcome: BindOutcome) -> Result<(), ApiError> {
    match outcome {
        BindOutcome::Bound => Ok(()),
        BindOutcome::LoginUsesAnother => Err(ApiError::forbidden(
            "this login already voted with another credential; vote again with the same one",
        )),
        BindOutcome::CredentialTaken => Err(ApiError::forbidden(
            "this credential is already used by another login",
        )),
    }
}

/// Casts a voter's ballot: checks it completely, binds the login to its credential,
/// appends it durably and answers the receipt. The same ballot twice gets the same receipt.
pub async fn cast_ballot(
    app: &AppState,
    id: &str,
    login: &str,
    ballot: Ballot,
) -> Result<Receipt, ApiError> {
    crate::routes::check_election_id(id)?;
    let ballot = Arc::new(ballot);
    // The content digest is computed once: the tracker, the batch of proofs and the
    // commit all take it from here.
    let digest = ballot.content_digest();
    let tracker = ballot.tracker_from_digest(&digest);
    let credential = ballot.credential.to_hex();
    // What storage knows of this election, login, credential and ballot, read in one go:
    // the election's lifecycle state, the credential the login is bound to, whether the
    // ballot is already on the board (a retried request gets its receipt again), and how
    // many ballots the credential cast.
    let (eid, lg, cred, hex) = (
        id.to_owned(),
        login.to_owned(),
        credential.clone(),
        tracker.to_hex(),
    );
    let crate::storage::CastFacts {
        election: meta,
        bound,
        known,
        cast,
    } = blocking(&app.storage, move |s| s.cast_facts(&eid, &lg, &hex, &cred)).await?;
    let meta = meta.ok_or_else(|| ApiError::not_found("no such election"))?;
    if meta.state != ElectionState::Open {
        return Err(ApiError::conflict(
            "election_not_open",
            format!("this election is {}, not open", meta.state.as_str()),
        ));
    }
    if bound.as_ref().is_some_and(|b| *b != credential) {
        bind_error(BindOutcome::LoginUsesAnother)?;
    }
    // Proofs are verified against the published view, without the election's lock: the
    // order-dependent checks (a copy of a ballot already on the board, B2, B7) are the
    // group commit's, under it. A view that shows the election open is used as it is: its
    // voting context is fixed from the `open` on, and a `close` appended since (here or by
    // another node) is found by the group commit, which catches up with the board first.
    let mut view = match app.elections.published_open(id) {
        Some(v) => v,
        None => app.elections.view(app, id).await?,
    };
    if view.stage != Stage::Open {
        // Storage says open: the view may be from before the open, appended by another
        // node while this one was appending; catch up before answering.
        view = app.elections.caught_up_view(app, id).await?;
    }
    let (Some(fp), Some(ctx)) = (view.fingerprint, view.context.clone()) else {
        return Err(ApiError::conflict(
            "election_not_open",
            "the election is not open",
        ));
    };
    if view.stage != Stage::Open {
        return Err(ApiError::conflict(
            "election_not_open",
            format!("this election is {}, not open", view.stage.name()),
        ));
    }
    drop(view);
    let most = u64::from(app.config.limits.max_ballots_per_credential);
    if !known && cast >= most {
        return Err(ApiError::conflict(
            "too_many_ballots",
            format!(
                "this credential has cast {cast} ballots, the most this election accepts; the last one counts"
            ),
        ));
    }
    if !known {
        app.elections
            .verify_queue
            .verify(ctx, Arc::clone(&ballot), digest)
            .await?
            .map_err(|r| {
                ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "verification_failed",
                    format!("check {} failed: {}", r.check.code(), r.reason),
                )
            })?;
    }
    // The binding is atomic on its own: made before the append, it keeps the election's
    // lock short (a ballot refused below leaves the login bound to a credential whose
    // signature it just proved it holds).
    if bound.is_none() {
        let bindings = app.elections.bindings.get_or_init(|| {
            GroupWrite::new(Arc::clone(&app.storage), MAX_BINDINGS, |s, b| {
                s.bind_credentials(&b)
            })
        });
        let binding = CredentialBinding {
            election: id.to_owned(),
            login: login.to_owned(),
            credential: credential.clone(),
        };
        bind_error(bindings.write(binding).await?)?;
    }
    let ballot = Arc::try_unwrap(ballot).unwrap_or_else(|b| (*b).clone());
    match commit::commit(app, id, ballot, tracker).await? {
        commit::Placed::Appended { seq, head, weight } => {
            Ok(sign_receipt(app, fp, seq, tracker, head, weight))
        }
        commit::Placed::AlreadyThere { seq, weight } => {
            receipt_of(app, id, tracker, seq, fp, weight).await
        }
    }
}

/// One pass of the scheduler: opens drafts whose `opens_at` has come and closes open
/// elections whose `closes_at` has come.
pub async fn run_schedule(app: &AppState) -> Result<(), ApiError> {
    let t = now();
    let elections = blocking(&app.storage, |s| s.list_elections()).await?;
    for e in elections {
        let due = match e.state {
            ElectionState::Draft if e.opens_at.is_some_and(|o| o <= t) => Some("open"),
            ElectionState::Open if e.closes_at.is_some_and(|c| c <= t) => Some("close"),
            _ => None,
        };
        let outcome = match due {
            Some("open") => open(app, audit::SYSTEM_ACTOR, &e.id).await.map(|_| ()),
            Some(_) => close(app, audit::SYSTEM_ACTOR, &e.id).await.map(|_| ()),
            None => continue,
        };
        match outcome {
            Ok(()) => tracing::info!(election = %e.id, action = due, "scheduled"),
            Err(err) => {
                tracing::warn!(election = %e.id, action = due, error = %err, "scheduled action failed")
            }
        }
    }
    Ok(())
}

/// Runs [`run_schedule`] every `every` in the background, on the one node that holds the
/// storage's scheduler lease ([`crate::storage::Storage::scheduler_lease`]); the other nodes
/// sharing the database ask again at each tick and take over when the holder goes.
pub fn spawn_scheduler(app: AppState, every: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut leading = false;
        loop {
            tick.tick().await;
            let lease = blocking(&app.storage, |s| s.scheduler_lease()).await;
            match lease {
                Ok(true) if !leading => tracing::info!("this node runs the election scheduler"),
                Ok(true) => {}
                Ok(false) if leading => {
                    tracing::warn!("scheduler lease lost: another node runs the scheduler");
                }
                Ok(false) => {}
                Err(ref e) => tracing::warn!(error = %e, "scheduler lease check failed"),
            }
            leading = matches!(lease, Ok(true));
            if !leading {
                continue;
            }
            if let Err(e) = run_schedule(&app).await {
                tracing::warn!(error = %e, "scheduler pass failed");
            }
        }
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    /// Asking for the published view of elections that do not exist (what any code request
    /// can do) keeps nothing in memory.
    #[test]
    fn published_views_of_unknown_elections_create_no_slot() {
        let elections = Elections::default();
        for i in 0..1000 {
            assert!(elections.published_open(&format!("e{i}")).is_none());
            assert!(elections.published_view(&format!("e{i}")).is_none());
        }
        assert!(elections.slots.lock().unwrap().is_empty());
    }
}
