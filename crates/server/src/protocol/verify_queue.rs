//! Batched verification of the ballots being cast (spec §5.6): the ballots that arrive
//! while earlier ones are being verified are verified together, every equation of all of
//! them in one multiscalar multiplication, about half the cost of verifying each alone.
//!
//! A ballot joins the queue and a task waits for a verification worker (one per core);
//! the worker takes every waiting ballot (at most [`MAX_BATCH`]), checks each one's shape,
//! and verifies those of one election as one batch. If the batch fails, each of its ballots
//! is verified alone, so an invalid ballot is refused with its own check and never takes a
//! valid one down with it. A lone ballot is verified alone. The answer of each ballot is the
//! one [`ballot::verify`] would give.

use std::sync::{Arc, Mutex};

use scrutin_election::ballot::{self, Ballot, BallotParts, BallotRejection, VotingContext};
use scrutin_election::crypto::batch::BatchVerifier;
use scrutin_election::crypto::rng::os_rng;
use tokio::sync::{Semaphore, oneshot};

use crate::http::error::ApiError;

/// The most ballots verified in one batch: enough to share the cost, small enough that a
/// batch with an invalid ballot is cheap to verify again one by one.
const MAX_BATCH: usize = 64;

type Outcome = Result<(), BallotRejection>;

struct Job {
    ctx: Arc<VotingContext>,
    ballot: Arc<Ballot>,
    /// The ballot's content digest (§10.4), computed once by the caller.
    digest: [u8; 64],
    done: oneshot::Sender<Outcome>,
}

/// The ballots waiting to be verified, and the workers (one per core).
pub(super) struct VerifyQueue {
    pending: Mutex<Vec<Job>>,
    workers: Arc<Semaphore>,
}

impl Default for VerifyQueue {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Self {
            pending: Mutex::new(Vec::new()),
            workers: Arc::new(Semaphore::new(cores)),
        }
    }
}

impl VerifyQueue {
    /// Verifies `ballot`, whose content digest is `digest` ([`Ballot::content_digest`]),
    /// completely against `ctx` (shape, signature, every proof), with the other ballots
    /// waiting at the same moment.
    pub(super) async fn verify(
        self: &Arc<Self>,
        ctx: Arc<VotingContext>,
        ballot: Arc<Ballot>,
        digest: [u8; 64],
    ) -> Result<Outcome, ApiError> {
        let (done, outcome) = oneshot::channel();
        self.pending
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(Job {
                ctx,
                ballot,
                digest,
                done,
            });
        let queue = Arc::clone(self);
        tokio::spawn(async move { queue.run().await });
        outcome
            .await
            .map_err(|_| ApiError::internal("the verification of this ballot was interrupted"))
    }

    async fn run(self: Arc<Self>) {
        let Ok(worker) = Arc::clone(&self.workers).acquire_owned().await else {
            return;
        };
        let jobs = {
            let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
            let n = pending.len().min(MAX_BATCH);
            pending.drain(..n).collect::<Vec<_>>()
        };
        if jobs.is_empty() {
            // An earlier worker took this task's ballot.
            return;
        }
        let _ = tokio::task::spawn_blocking(move || {
            let _worker = worker;
            verify_jobs(jobs);
        })
        .await;
    }
}

/// Verifies the jobs, a batch per election.
fn verify_jobs(jobs: Vec<Job>) {
    let mut groups: Vec<(Arc<VotingContext>, Vec<Job>)> = Vec::new();
    for job in jobs {
        match groups.iter_mut().find(|(c, _)| Arc::ptr_eq(c, &job.ctx)) {
            Some((_, g)) => g.push(job),
            None => groups.push((Arc::clone(&job.ctx), vec![job])),
        }
    }
    for (ctx, group) in groups {
        verify_group(&ctx, group);
    }
}

fn verify_group(ctx: &VotingContext, group: Vec<Job>) {
    let mut shaped = Vec::with_capacity(group.len());
    for job in group {
        match ballot::check_shape(ctx, &job.ballot) {
            Ok(()) => shaped.push(job),
            Err(r) => {
                let _ = job.done.send(Err(r));
            }
        }
    }
    if shaped.len() > 1 {
        let mut batch = BatchVerifier::new(&mut os_rng());
        let bases = ctx.register_bases(&mut batch);
        let added = shaped.iter().all(|job| {
            ballot::add_to_batch_with_digest(
                ctx,
                &job.ballot,
                &job.digest,
                &mut batch,
                &bases,
                BallotParts::ALL,
            )
            .is_ok()
        });
        if added && batch.verify() {
            for job in shaped {
                let _ = job.done.send(Ok(()));
            }
            return;
        }
    }
    for job in shaped {
        let outcome = ballot::verify(ctx, &job.ballot);
        let _ = job.done.send(outcome);
    }
}
