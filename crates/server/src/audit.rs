//! The audit log of administrative actions, kept in `private.sqlite`.
//!
//! Invariants: entries are only ever appended (the SQLite backend also refuses UPDATE and
//! DELETE on the table by trigger); each entry says when, who, which election, what action
//! and a JSON object of details. Details never hold secrets (passwords, codes, tokens).

use serde_json::Value;

use crate::storage::{AuditEntry, SharedStorage, StorageResult, blocking, now};

/// Name of the actor for actions the server takes by itself.
pub const SYSTEM_ACTOR: &str = "system";

/// Appends one entry, durably, and returns its id.
pub async fn record(
    storage: &SharedStorage,
    actor: &str,
    election: Option<&str>,
    action: &str,
    details: Value,
) -> StorageResult<i64> {
    let entry = AuditEntry {
        id: 0,
        at: now(),
        actor: actor.to_owned(),
        election: election.map(str::to_owned),
        action: action.to_owned(),
        details,
    };
    blocking(storage, move |s| s.append_audit(&entry)).await
}

/// Entries of one election (or global ones with `None`) after `after_id`, oldest first.
pub async fn entries(
    storage: &SharedStorage,
    election: Option<&str>,
    after_id: i64,
    limit: usize,
) -> StorageResult<Vec<AuditEntry>> {
    let election = election.map(str::to_owned);
    blocking(storage, move |s| {
        s.audit_log(election.as_deref(), after_id, limit)
    })
    .await
}
