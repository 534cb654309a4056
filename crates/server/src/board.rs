//! Serialized, durable appends to an election's record: the seam for the protocol.
//!
//! Each record line carries its sequence number and the hash of the previous line, so the
//! lines of an append depend on the head of the board at that moment. [`Board::append`] takes
//! a per-election writer lock (fair, FIFO), hands the current head to the caller's `build`
//! closure, and appends what it returns with [`Storage::append_events`](crate::storage::Storage::append_events),
//! durably, before answering.
//!
//! Invariants:
//! - appends to one election never interleave inside this process; the head is cached between
//!   appends, so a ballot costs one write and no read;
//! - if the board moved under us (another process, or an append cancelled mid-flight), the
//!   storage answers `SeqMismatch`; the head is reloaded and `build` runs once more;
//! - a cancelled, failed or refused append leaves no cached head behind (the next one
//!   reads it from storage, so a head moved by another server is never trusted twice);
//! - `build` must be cheap (hashing, serialising): verify ballots *before* calling `append`,
//!   since the lock is held while `build` runs.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::storage::{BallotIndexEntry, BoardHead, SharedStorage, StorageError, blocking};

/// What `build` returns: the lines to append, their ballot index entries, and a value handed
/// back to the caller (e.g. the receipt).
#[derive(Debug, Clone)]
pub struct Batch<T> {
    /// Lines, appended at `head.next_seq, head.next_seq + 1, …`.
    pub lines: Vec<String>,
    /// Ballot index entries for some of those lines.
    pub index: Vec<BallotIndexEntry>,
    /// Returned to the caller on success.
    pub value: T,
}

/// Why an append did not happen.
#[derive(Debug, thiserror::Error)]
pub enum AppendError<E> {
    /// `build` refused (e.g. a duplicate ballot); nothing was written.
    #[error("refused: {0}")]
    Refused(E),
    /// Storage failed or refused (unknown election, duplicate tracker, …); nothing was written.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

type HeadCell = Arc<tokio::sync::Mutex<Option<BoardHead>>>;

/// Per-election writer locks with cached heads.
pub struct Board {
    storage: SharedStorage,
    heads: Mutex<HashMap<String, HeadCell>>,
}

impl Board {
    /// A board over `storage`.
    pub fn new(storage: SharedStorage) -> Self {
        Self {
            storage,
            heads: Mutex::new(HashMap::new()),
        }
    }

    fn cell(&self, election: &str) -> HeadCell {
        let mut heads = self.heads.lock().unwrap_or_else(|p| p.into_inner());
        Arc::clone(heads.entry(election.to_owned()).or_default())
    }

    /// Appends what `build` makes of the current head; returns its value and the new head.
    pub async fn append<T, E, F>(
        &self,
        election: &str,
        mut build: F,
    ) -> Result<(T, BoardHead), AppendError<E>>
    where
        F: FnMut(&BoardHead) -> Result<Batch<T>, E>,
    {
        let cell = self.cell(election);
        let mut cached = cell.lock().await;
        let mut retried = false;
        loop {
            // Taken, not borrowed: if this future is dropped mid-append, no stale head stays.
            let head = match cached.take() {
                Some(h) => h,
                None => {
                    let e = election.to_owned();
                    blocking(&self.storage, move |s| s.head(&e)).await?
                }
            };
            // A refusal may mean that the head is stale (another server appended): it is
            // not put back, so the next append reads it again.
            let batch = build(&head).map_err(AppendError::Refused)?;
            let last_line = batch.lines.last().cloned().or(head.last_line);
            let (lines, index, expected) = (batch.lines, batch.index, head.next_seq);
            let e = election.to_owned();
            let result = blocking(&self.storage, move |s| {
                s.append_events(&e, expected, &lines, &index)
            })
            .await;
            match result {
                Ok(next_seq) => {
                    let new_head = BoardHead {
                        next_seq,
                        last_line,
                    };
                    *cached = Some(new_head.clone());
                    return Ok((batch.value, new_head));
                }
                Err(StorageError::SeqMismatch { .. }) if !retried => {
                    retried = true;
                }
                Err(err) => return Err(err.into()),
            }
        }
    }

    /// Forgets the cached head of an election (after writing to it by other means).
    pub fn invalidate(&self, election: &str) {
        let mut heads = self.heads.lock().unwrap_or_else(|p| p.into_inner());
        heads.remove(election);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use crate::storage::sqlite::SqliteStorage;
    use crate::storage::{ElectionMeta, ElectionState, Storage};
    use sha2::{Digest, Sha256};

    fn line(head: &BoardHead, body: &str) -> String {
        let prev = head
            .last_line
            .as_deref()
            .map(|l| hex::encode(Sha256::digest(l.as_bytes())))
            .unwrap_or_default();
        format!(
            "{{\"seq\":{},\"prev\":\"{prev}\",\"body\":\"{body}\"}}",
            head.next_seq
        )
    }

    fn setup() -> (tempfile::TempDir, SharedStorage) {
        let dir = tempfile::tempdir().unwrap();
        let s = SqliteStorage::open(&dir.path().join("data")).unwrap();
        s.create_election(&ElectionMeta {
            id: "e".into(),
            state: ElectionState::Open,
            description_toml: String::new(),
            opens_at: None,
            closes_at: None,
            created_at: 0,
        })
        .unwrap();
        (dir, Arc::new(s))
    }

    fn check_chain(storage: &SharedStorage, n: usize) {
        let lines = storage.events_from("e", 0, usize::MAX).unwrap();
        assert_eq!(lines.len(), n);
        let mut head = BoardHead {
            next_seq: 0,
            last_line: None,
        };
        for l in &lines {
            let expected_prefix = line(&head, "");
            let cut = expected_prefix.len() - 2; // without the empty body and closing brace
            assert_eq!(&l[..cut], &expected_prefix[..cut]);
            head = BoardHead {
                next_seq: head.next_seq + 1,
                last_line: Some(l.clone()),
            };
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_appends_form_one_chain() {
        let (_dir, storage) = setup();
        let board = Arc::new(Board::new(storage.clone()));
        let mut tasks = Vec::new();
        for i in 0..40 {
            let board = board.clone();
            tasks.push(tokio::spawn(async move {
                board
                    .append("e", |h| {
                        Ok::<_, ()>(Batch {
                            lines: vec![line(h, &format!("b{i}"))],
                            index: vec![BallotIndexEntry {
                                seq: h.next_seq,
                                tracker: format!("t{i}"),
                                credential: format!("c{i}"),
                            }],
                            value: h.next_seq,
                        })
                    })
                    .await
                    .unwrap()
                    .0
            }));
        }
        let mut seqs = Vec::new();
        for t in tasks {
            seqs.push(t.await.unwrap());
        }
        seqs.sort_unstable();
        assert_eq!(seqs, (0..40).collect::<Vec<_>>());
        check_chain(&storage, 40);
    }

    #[tokio::test]
    async fn refusals_write_nothing_and_outside_writes_are_caught_up() {
        let (_dir, storage) = setup();
        let board = Board::new(storage.clone());
        let one = |h: &BoardHead| {
            Ok::<_, &str>(Batch {
                lines: vec![line(h, "x")],
                index: vec![],
                value: (),
            })
        };
        board.append("e", one).await.unwrap();
        let r = board
            .append("e", |_| Err::<Batch<()>, _>("duplicate"))
            .await;
        assert!(matches!(r, Err(AppendError::Refused("duplicate"))));
        // someone else writes behind the cache's back
        let head = storage.head("e").unwrap();
        storage
            .append_events("e", 1, &[line(&head, "outside")], &[])
            .unwrap();
        let (_, head) = board.append("e", one).await.unwrap();
        assert_eq!(head.next_seq, 3);
        check_chain(&storage, 3);
        // unknown election
        assert!(matches!(
            board.append("nope", one).await,
            Err(AppendError::Storage(StorageError::NotFound(_)))
        ));
    }
}
