//! Group writes: small writes of one kind that are asked for at the same moment go to
//! storage together, in one call (one transaction, one commit), while the group before them
//! is being written. The mail status of every code and confirmation mail is written this
//! way ([`crate::mail`]): at a first-day rush there are hundreds a second, and one commit
//! each would queue them behind each other on the private store's single writer.
//!
//! Invariants:
//! - a caller is answered only once its write has returned from storage (committed or failed),
//!   with the storage's own error when it failed;
//! - at most one group of a [`GroupWrite`] is being written at a time, in the order asked;
//! - a group runs in a task of its own: a caller that goes away cancels nothing.

use std::sync::{Arc, Mutex};

use tokio::sync::oneshot;

use crate::storage::{SharedStorage, Storage, StorageError, StorageResult, blocking};

/// Writes a group of items in one storage call; answers one result per item, in order.
type WriteGroup<T, R> = dyn Fn(&dyn Storage, Vec<T>) -> StorageResult<Vec<R>> + Send + Sync;

type Waiter<R> = oneshot::Sender<StorageResult<R>>;

/// Items waiting to be written, and the one writer at a time.
pub struct GroupWrite<T, R> {
    storage: SharedStorage,
    write: Arc<WriteGroup<T, R>>,
    pending: Mutex<Vec<(T, Waiter<R>)>>,
    turn: tokio::sync::Mutex<()>,
    max: usize,
}

impl<T: Send + 'static, R: Send + 'static> GroupWrite<T, R> {
    /// Writes groups of at most `max` items with `write`.
    pub fn new(
        storage: SharedStorage,
        max: usize,
        write: impl Fn(&dyn Storage, Vec<T>) -> StorageResult<Vec<R>> + Send + Sync + 'static,
    ) -> Arc<Self> {
        Arc::new(GroupWrite {
            storage,
            write: Arc::new(write),
            pending: Mutex::new(Vec::new()),
            turn: tokio::sync::Mutex::new(()),
            max: max.max(1),
        })
    }

    /// Writes `item` with the others asked for at the same moment; its result.
    pub async fn write(self: &Arc<Self>, item: T) -> StorageResult<R> {
        let (done, result) = oneshot::channel();
        self.pending
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push((item, done));
        let this = Arc::clone(self);
        tokio::spawn(async move { this.write_group().await });
        result
            .await
            .map_err(|_| StorageError::Backend("a grouped write was interrupted".to_owned()))?
    }

    /// Takes the turn, then every waiting item (at most `max`), and writes them. The tasks
    /// of the items it took find nothing left and stop at once.
    async fn write_group(&self) {
        let _turn = self.turn.lock().await;
        let group: Vec<(T, Waiter<R>)> = {
            let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
            let n = pending.len().min(self.max);
            pending.drain(..n).collect()
        };
        if group.is_empty() {
            return;
        }
        let (items, waiters): (Vec<T>, Vec<Waiter<R>>) = group.into_iter().unzip();
        let count = items.len();
        let write = Arc::clone(&self.write);
        match blocking(&self.storage, move |s| write(s, items)).await {
            Ok(results) if results.len() == count => {
                for (waiter, r) in waiters.into_iter().zip(results) {
                    let _ = waiter.send(Ok(r));
                }
            }
            Ok(results) => {
                let e = format!("a group of {count} writes answered {}", results.len());
                for waiter in waiters {
                    let _ = waiter.send(Err(StorageError::Backend(e.clone())));
                }
            }
            // Each caller gets the error as it is (an unavailable database stays one: the
            // caller may try again).
            Err(e) => {
                for waiter in waiters {
                    let _ = waiter.send(Err(e.clone()));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;
    use crate::storage::sqlite::SqliteStorage;
    use crate::storage::{MailStatus, MailStatusUpdate, NewMail};

    /// Many mails recorded at once: each caller gets its own id, the ids are distinct, and
    /// the writes went in fewer groups than callers.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_writes_are_grouped_and_each_gets_its_answer() {
        let dir = tempfile::tempdir().unwrap();
        let storage: SharedStorage =
            Arc::new(SqliteStorage::open(&dir.path().join("data")).unwrap());
        let groups = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counted = Arc::clone(&groups);
        let inserts = GroupWrite::new(Arc::clone(&storage), 64, move |s, mails: Vec<NewMail>| {
            // The first group takes its time: the other callers pile up behind it.
            if counted.fetch_add(1, std::sync::atomic::Ordering::Relaxed) == 0 {
                std::thread::sleep(std::time::Duration::from_millis(200));
            }
            s.insert_mails(&mails, 1)
        });
        let statuses = GroupWrite::new(Arc::clone(&storage), 64, |s, u: Vec<MailStatusUpdate>| {
            let n = u.len();
            s.set_mail_statuses(&u, 2).map(|()| vec![(); n])
        });
        let tasks: Vec<_> = (0..200)
            .map(|i| {
                let (inserts, statuses) = (Arc::clone(&inserts), Arc::clone(&statuses));
                tokio::spawn(async move {
                    let id = inserts
                        .write(NewMail {
                            election: Some("e".to_owned()),
                            login: format!("voter{i}"),
                            kind: "confirmation".to_owned(),
                        })
                        .await
                        .unwrap();
                    let status = if i % 2 == 0 {
                        MailStatus::Sent
                    } else {
                        MailStatus::Failed
                    };
                    statuses
                        .write(MailStatusUpdate {
                            id,
                            status,
                            error: (i % 2 == 1).then(|| "refused".to_owned()),
                        })
                        .await
                        .unwrap();
                    id
                })
            })
            .collect();
        let mut ids = Vec::new();
        for t in tasks {
            ids.push(t.await.unwrap());
        }
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), 200, "every mail has an id of its own");
        let counts = storage.mail_status_counts("e").unwrap();
        assert_eq!((counts.sent, counts.failed, counts.queued), (100, 100, 0));
        let groups = groups.load(std::sync::atomic::Ordering::Relaxed);
        // One group of 1, then the 199 others in groups of at most 64 (4), give or take the
        // few that arrive while the first is being taken.
        assert!(
            groups <= 10,
            "200 concurrent inserts went in {groups} groups"
        );
    }

    /// A failed group answers each caller with the storage's error, variant and all: an
    /// unavailable database must stay a "try again" (503), not become an internal error.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failed_group_answers_each_caller_with_its_error() {
        let dir = tempfile::tempdir().unwrap();
        let storage: SharedStorage =
            Arc::new(SqliteStorage::open(&dir.path().join("data")).unwrap());
        let failing = GroupWrite::new(storage, 8, |_, _: Vec<u32>| -> StorageResult<Vec<()>> {
            Err(StorageError::Unavailable("failover".to_owned()))
        });
        let tasks: Vec<_> = (0..20)
            .map(|i| {
                let failing = Arc::clone(&failing);
                tokio::spawn(async move { failing.write(i).await })
            })
            .collect();
        for t in tasks {
            match t.await.unwrap() {
                Err(StorageError::Unavailable(m)) => assert_eq!(m, "failover"),
                other => panic!("expected the storage's own error, got {other:?}"),
            }
        }
    }
}
