//! Checkpoints of each election's verified state ([`scrutin_election::checkpoint`]): how a
//! node restarting on a large election serves it again without verifying its whole record.
//!
//! Invariants:
//! - **a checkpoint is this node's cache of a verification it ran**, never evidence: it is
//!   written from a [`RecordState`] that `push_line` or `from_record` built (spec §12), kept
//!   in storage beside the board (the table `checkpoints`, derived from public lines only),
//!   and public verifiers never read it;
//! - **it is used only on the record it was taken on**: [`restore`] decodes it (every length,
//!   point and checksum checked), then checks that stored line `events − 1` hashes to its
//!   `head` — the hash chain (§11.1) then fixes every line before it — and the lines after it
//!   are verified with `push_line` as any catch-up is. A checkpoint that fails any of this,
//!   or whose next lines do not verify, is ignored with a warning and the whole record is
//!   verified instead;
//! - **it is never on a cast's path**: it is written by a task of its own after an append,
//!   once [`CheckpointPolicy::every_lines`] lines and [`CheckpointPolicy::every_secs`]
//!   seconds have passed since the last one, and at graceful shutdown. The election's lock
//!   is held while the state is encoded (a linear walk, no copy of the state), not while it
//!   is stored (on SQLite, storing it takes the board's writer connection for that time).
//!
//! [`CheckpointPolicy::every_lines`]: crate::config::CheckpointPolicy::every_lines
//! [`CheckpointPolicy::every_secs`]: crate::config::CheckpointPolicy::every_secs

use std::sync::Arc;
use std::time::{Duration, Instant};

use scrutin_election::checkpoint;
use scrutin_election::verify::RecordState;

use super::{ElectionSlot, Elections};
use crate::state::AppState;
use crate::storage::{StoredCheckpoint, blocking};

/// The last checkpoint this node wrote or read for one election.
#[derive(Default)]
pub(super) struct Mark {
    /// Lines it covers.
    events: u64,
    /// When it was written or read.
    at: Option<Instant>,
    /// A writer task is running.
    running: bool,
}

impl ElectionSlot {
    fn mark(&self) -> std::sync::MutexGuard<'_, Mark> {
        self.checkpoint.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// After an append or a load that left the state at `events` lines: spawns a writer when a
/// checkpoint is due ([module documentation](self)).
pub(super) fn after_append(app: &AppState, id: &str, slot: &ElectionSlot, events: u64) {
    let policy = &app.config.checkpoints;
    {
        let mut mark = slot.mark();
        if mark.running
            || events < mark.events.saturating_add(policy.every_lines)
            || mark
                .at
                .is_some_and(|at| at.elapsed() < Duration::from_secs(policy.every_secs))
        {
            return;
        }
        mark.running = true;
    }
    let (app, id) = (app.clone(), id.to_owned());
    tokio::spawn(async move {
        let slot = app.elections.slot(&id);
        let written = write(&app, &id, &slot, None).await;
        let mut mark = slot.mark();
        mark.running = false;
        mark.at = Some(Instant::now());
        match written {
            Ok(Some(events)) => mark.events = events,
            Ok(None) => {}
            Err(e) => tracing::warn!(election = %id, "checkpoint not written: {e}"),
        }
    });
}

/// Encodes the slot's state (under its lock) and stores it; `None` when there is no state,
/// or when it is still at `unless_at` lines.
async fn write(
    app: &AppState,
    id: &str,
    slot: &ElectionSlot,
    unless_at: Option<u64>,
) -> Result<Option<u64>, String> {
    let guard = Arc::clone(&slot.state).lock_owned().await;
    let encoded = tokio::task::spawn_blocking(move || {
        let st = guard.as_ref()?;
        if unless_at == Some(st.events) {
            return None;
        }
        let started = Instant::now();
        Some(checkpoint::encode(st).map(|b| (b, st.events, st.head, started.elapsed())))
    })
    .await
    .map_err(|e| e.to_string())?;
    let Some(encoded) = encoded else {
        return Ok(None);
    };
    let (bytes, events, head, took) = encoded.map_err(|e| e.to_string())?;
    let size = bytes.len();
    let stored = StoredCheckpoint {
        events,
        head: head.to_hex(),
        bytes,
    };
    let eid = id.to_owned();
    let started = Instant::now();
    blocking(&app.storage, move |s| s.put_checkpoint(&eid, &stored))
        .await
        .map_err(|e| e.to_string())?;
    tracing::info!(
        election = %id,
        events,
        bytes = size,
        encode_ms = took.as_millis() as u64,
        store_ms = started.elapsed().as_millis() as u64,
        "checkpoint written"
    );
    Ok(Some(events))
}

/// The state of election `id` from its stored checkpoint, anchored to the stored record
/// (not yet caught up with the lines after it); `Ok(None)` without a checkpoint, `Err` with
/// why one cannot be used.
pub(super) async fn restore(app: &AppState, id: &str) -> Result<Option<RecordState>, String> {
    let eid = id.to_owned();
    let stored = blocking(&app.storage, move |s| s.checkpoint(&eid))
        .await
        .map_err(|e| e.to_string())?;
    let Some(stored) = stored else {
        return Ok(None);
    };
    let anchor = match stored.events.checked_sub(1) {
        None => None,
        Some(last) => {
            let eid = id.to_owned();
            let lines = blocking(&app.storage, move |s| s.events_from(&eid, last, 1))
                .await
                .map_err(|e| e.to_string())?;
            Some(
                lines
                    .into_iter()
                    .next()
                    .ok_or_else(|| format!("the stored record has no line {last}"))?,
            )
        }
    };
    let (events, head) = (stored.events, stored.head);
    tokio::task::spawn_blocking(move || {
        let cp = checkpoint::decode(&stored.bytes).map_err(|e| e.to_string())?;
        if cp.events() != events || cp.head().to_hex() != head {
            return Err("its stored line count and head are not those of its bytes".to_owned());
        }
        cp.anchored_by(anchor.as_deref().map(str::as_bytes))
            .map(Some)
            .map_err(|e| e.to_string())
    })
    .await
    .map_err(|e| e.to_string())?
}

/// Notes that the state of election `id` was read from a checkpoint of `events` lines.
pub(super) fn restored(slot: &ElectionSlot, events: u64) {
    let mut mark = slot.mark();
    mark.events = events;
    mark.at = Some(Instant::now());
}

impl Elections {
    /// Writes a checkpoint of every election whose state this node holds and has changed
    /// since its last one: at graceful shutdown, once requests have finished.
    pub async fn checkpoint_all(&self, app: &AppState) {
        let slots: Vec<(String, Arc<ElectionSlot>)> = self
            .slots
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .map(|(id, slot)| (id.clone(), Arc::clone(slot)))
            .collect();
        for (id, slot) in slots {
            // A writer started by the last append finishes first (for at most 30 s): its
            // checkpoint may already be of the final state.
            for _ in 0..1500 {
                if !slot.mark().running {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            let last = slot.mark().events;
            match write(app, &id, &slot, Some(last)).await {
                Ok(Some(events)) => restored(&slot, events),
                Ok(None) => {}
                Err(e) => tracing::warn!(election = %id, "checkpoint not written: {e}"),
            }
        }
    }

    /// How many loads of a record started from a checkpoint (the others verified it all).
    pub fn loads_from_checkpoint(&self) -> u64 {
        self.checkpoint_loads
            .load(std::sync::atomic::Ordering::Relaxed)
    }
}
