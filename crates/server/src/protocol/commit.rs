//! Group commit of ballots: the ballots cast to an election at the same moment are appended
//! to its board together, in one storage transaction.
//!
//! A ballot reaches [`commit`] with its proofs already verified (outside any lock, in
//! parallel on all cores). It joins the election's queue of pending ballots, and a task takes
//! the election's lock — one task for the ballots queued until it gets it, not one per
//! ballot. It takes *every* pending ballot (up to `MAX_BATCH`), admits each against the
//! verified state (spec §12 B2, B7, R4: the order-dependent checks), appends the admitted
//! ones in one transaction (one fsync for all), applies them to the state, and answers each
//! ballot's waiter. While one batch is being written the next one gathers, so the more
//! voters cast at once, the larger the batches and the cheaper each ballot.
//!
//! Invariants:
//! - a waiter is answered only after its ballot is durable on the board (or refused);
//! - a batch runs in a task of its own: a voter who disconnects cancels nothing, neither
//!   their own ballot nor the others of the batch;
//! - within a batch, ballots are admitted in queue order as if appended one by one: the
//!   second copy of a ballot gets the first one's place, and a ballot that reuses a
//!   ciphertext of an earlier ballot of the batch is refused (B7) as it would be on the
//!   board.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::Ordering::SeqCst;

use axum::http::StatusCode;
use scrutin_election::Hash32;
use scrutin_election::ballot::Ballot;
use tokio::sync::oneshot;

use super::{ElectionSlot, verify_error};
use crate::http::error::ApiError;
use crate::state::AppState;

/// The most ballots appended in one transaction (the rest wait for the next batch): bounds
/// the time the election's lock is held and the size of one write.
const MAX_BATCH: usize = 512;

/// How often a batch refused because another server appended first is tried again.
const BOARD_MOVED_RETRIES: usize = 3;

/// A verified ballot waiting to be appended.
pub(super) struct PendingBallot {
    ballot: Ballot,
    tracker: Hash32,
    done: oneshot::Sender<Result<Placed, ApiError>>,
}

/// Where a committed ballot stands on the board.
#[derive(Debug, Clone, Copy)]
pub(super) enum Placed {
    /// Appended by this commit at `seq`; `head` is the hash of its line.
    Appended {
        /// Its sequence number.
        seq: u64,
        /// The SHA-256 of its line.
        head: Hash32,
        /// The weight of its credential (§9.3).
        weight: u64,
    },
    /// The same ballot was already on the board at `seq` (a retried request).
    AlreadyThere {
        /// Its sequence number.
        seq: u64,
        /// The weight of its credential (§9.3).
        weight: u64,
    },
}

/// Appends `ballot` (whose proofs were verified, and whose tracker is `tracker`) to
/// election `id` with the ballots cast at the same moment, durably; answers where it stands.
pub(super) async fn commit(
    app: &AppState,
    id: &str,
    ballot: Ballot,
    tracker: Hash32,
) -> Result<Placed, ApiError> {
    let slot = app.elections.slot(id);
    let (done, placed) = oneshot::channel();
    slot.pending
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .push(PendingBallot {
            ballot,
            tracker,
            done,
        });
    arm_batch(app, id, slot);
    placed
        .await
        .map_err(|_| ApiError::internal("the append of this ballot was interrupted; retry"))?
}

/// Starts a task that will take the pending ballots, unless one is on its way: one task per
/// batch, not one per ballot queueing on the election's lock.
fn arm_batch(app: &AppState, id: &str, slot: Arc<ElectionSlot>) {
    if slot.batch_armed.swap(true, SeqCst) {
        return;
    }
    let (app, eid) = (app.clone(), id.to_owned());
    tokio::spawn(async move { run_batch(&app, &eid, slot).await });
}

/// Takes the election's lock, then every pending ballot, and commits them.
async fn run_batch(app: &AppState, id: &str, slot: Arc<ElectionSlot>) {
    let guard = Arc::clone(&slot.state).lock_owned().await;
    // Disarmed before the queue is taken: a ballot queued after this arms the next batch,
    // one queued before it is in this one (or, past `MAX_BATCH`, re-armed just below).
    slot.batch_armed.store(false, SeqCst);
    let (batch, more) = {
        let mut pending = slot.pending.lock().unwrap_or_else(|p| p.into_inner());
        let n = pending.len().min(MAX_BATCH);
        let batch = pending.drain(..n).collect::<Vec<_>>();
        (batch, !pending.is_empty())
    };
    if more {
        arm_batch(app, id, Arc::clone(&slot));
    }
    if batch.is_empty() {
        // An earlier task took this one's ballot.
        return;
    }
    let mut locked = match app.elections.locked(app, id, guard).await {
        Ok(l) => l,
        Err(e) => {
            for p in batch {
                let _ = p.done.send(Err(e.clone()));
            }
            return;
        }
    };
    let mut batch = batch;
    for attempt in 0..=BOARD_MOVED_RETRIES {
        let Admitted {
            ballots,
            waiters,
            copies,
        } = match locked.state() {
            Ok(st) => admit(st, batch),
            Err(e) => {
                for p in batch {
                    let _ = p.done.send(Err(e.clone()));
                }
                return;
            }
        };
        if ballots.is_empty() {
            return;
        }
        let admitted = ballots.iter().map(|(b, t, _)| (b.clone(), *t)).collect();
        match locked.append_admitted(app, admitted).await {
            Ok(appended) => {
                use std::sync::atomic::Ordering::Relaxed;
                app.elections.commits.fetch_add(1, Relaxed);
                app.elections
                    .committed
                    .fetch_add(appended.hashes.len() as u64, Relaxed);
                let placed: Vec<Placed> = appended
                    .hashes
                    .iter()
                    .zip(&ballots)
                    .enumerate()
                    .map(|(i, (head, (_, _, weight)))| Placed::Appended {
                        seq: appended.first_seq + i as u64,
                        head: *head,
                        weight: *weight,
                    })
                    .collect();
                for (i, done) in waiters.into_iter().enumerate() {
                    let _ = done.send(placed.get(i).copied().ok_or_else(lost));
                }
                for (i, done) in copies {
                    let _ = done.send(placed.get(i).copied().ok_or_else(lost));
                }
                return;
            }
            Err(e) if e.code == "board_moved" && attempt < BOARD_MOVED_RETRIES => {
                // Another server appended first: catch up with the board, admit again.
                match super::catch_up_locked(app, &mut locked).await {
                    Ok(()) => {}
                    Err(e) => {
                        answer_all(waiters, copies, &e);
                        return;
                    }
                }
                batch = requeue(ballots, waiters, copies);
            }
            Err(e) => {
                answer_all(waiters, copies, &e);
                return;
            }
        }
    }
}

fn lost() -> ApiError {
    ApiError::internal("the board answered fewer lines than appended")
}

type Waiter = oneshot::Sender<Result<Placed, ApiError>>;

/// The ballots of a batch that are to be appended, in order, with their waiters; and the
/// waiters of copies of one of them (index into `ballots`).
struct Admitted {
    ballots: Vec<(Ballot, Hash32, u64)>,
    waiters: Vec<Waiter>,
    copies: Vec<(usize, Waiter)>,
}

/// The order-dependent checks of each ballot against the verified state and the ballots
/// before it in the batch; a refused ballot's waiter is answered here.
fn admit(st: &scrutin_election::verify::RecordState, batch: Vec<PendingBallot>) -> Admitted {
    let mut out = Admitted {
        ballots: Vec::new(),
        waiters: Vec::new(),
        copies: Vec::new(),
    };
    let mut trackers: HashMap<Hash32, usize> = HashMap::new();
    let mut alphas: HashSet<[u8; 32]> = HashSet::new();
    for p in batch {
        let weight = st
            .credential_weight(p.ballot.credential.as_bytes())
            .unwrap_or(0);
        if let Some(seq) = st.trackers.get(&p.tracker).copied() {
            let _ = p.done.send(Ok(Placed::AlreadyThere { seq, weight }));
            continue;
        }
        if let Some(i) = trackers.get(&p.tracker).copied() {
            out.copies.push((i, p.done));
            continue;
        }
        if let Err(e) = st.admit_ballot(&p.ballot) {
            let _ = p.done.send(Err(verify_error(e)));
            continue;
        }
        let mine: Vec<[u8; 32]> = p
            .ballot
            .ciphertexts()
            .map(|c| *c.alpha.as_bytes())
            .collect();
        if mine.iter().any(|a| alphas.contains(a)) {
            let _ = p.done.send(Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "verification_failed",
                format!(
                    "check B7 failed at event {}: a ciphertext of this ballot already appears on the board (copied or replayed ballot)",
                    st.events
                ),
            )));
            continue;
        }
        alphas.extend(mine);
        trackers.insert(p.tracker, out.ballots.len());
        out.ballots.push((p.ballot, p.tracker, weight));
        out.waiters.push(p.done);
    }
    out
}

/// Puts a batch back together to admit it again (after the board moved).
fn requeue(
    ballots: Vec<(Ballot, Hash32, u64)>,
    waiters: Vec<Waiter>,
    copies: Vec<(usize, Waiter)>,
) -> Vec<PendingBallot> {
    let mut batch: Vec<PendingBallot> = Vec::with_capacity(ballots.len() + copies.len());
    let mut originals: Vec<(Ballot, Hash32)> = Vec::with_capacity(ballots.len());
    for ((ballot, tracker, _), done) in ballots.into_iter().zip(waiters) {
        originals.push((ballot.clone(), tracker));
        batch.push(PendingBallot {
            ballot,
            tracker,
            done,
        });
    }
    for (i, done) in copies {
        if let Some((ballot, tracker)) = originals.get(i) {
            batch.push(PendingBallot {
                ballot: ballot.clone(),
                tracker: *tracker,
                done,
            });
        }
    }
    batch
}

fn answer_all(waiters: Vec<Waiter>, copies: Vec<(usize, Waiter)>, e: &ApiError) {
    for done in waiters {
        let _ = done.send(Err(e.clone()));
    }
    for (_, done) in copies {
        let _ = done.send(Err(e.clone()));
    }
}
