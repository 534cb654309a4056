//! SQLite backend: `board.sqlite` (public) and `private.sqlite` (private) in the data dir.
//!
//! Both files run in WAL mode with `synchronous=FULL`, so a commit is fsynced before the call
//! returns: an acknowledged write survives a kill or a power loss. The private writes that
//! a voter can redo and that protect nothing once lost — login codes and their attempts,
//! sessions, mail status — commit with `synchronous=NORMAL` instead ([`relaxed`]): they
//! survive a kill of the server, a power loss may undo the last of them (the voter then
//! asks for another code or signs in again), and the next durable commit on the file
//! makes them durable too, since the write-ahead log is written in order. That takes most
//! fsyncs out of the login flow. Each file has one writer behind a mutex (for
//! `private.sqlite`, two connections under that one mutex, [`PrivateWriter`]: `synchronous`
//! is a connection's setting, and switching it back and forth would compile two pragmas
//! again at every write) and a few reader connections (WAL lets readers proceed during a
//! write). Triggers make the event table and the audit log append-only at the database level
//! (the lines of a draft election, which never opened, go when the draft is deleted).

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, TryLockError};

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use super::{
    AdminAccount, AdminRole, AuditEntry, BallotIndexEntry, BoardHead, ElectionMeta, ElectionState,
    MailFailure, MailStatus, MailStatusCounts, OtpAttemptLimits, OtpOutcome, OtpRecord,
    OtpSendLimits, SessionRecord, SessionSubject, Storage, StorageError, StorageResult, UnixTime,
    Voter,
};
use super::{
    BindOutcome, CredentialBinding, MailStatusUpdate, NewMail, ResendRequest, RoleToken,
    StoredCheckpoint,
};
use crate::mail_text::Lang;

const BOARD_SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS elections (
    id TEXT PRIMARY KEY,
    state TEXT NOT NULL,
    description_toml TEXT NOT NULL,
    opens_at INTEGER,
    closes_at INTEGER,
    created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS events (
    election_id TEXT NOT NULL REFERENCES elections(id),
    seq INTEGER NOT NULL,
    line TEXT NOT NULL,
    PRIMARY KEY (election_id, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS ballot_index (
    election_id TEXT NOT NULL,
    tracker TEXT NOT NULL,
    credential TEXT NOT NULL,
    seq INTEGER NOT NULL,
    PRIMARY KEY (election_id, tracker)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS ballot_by_credential ON ballot_index (election_id, credential, seq);
CREATE INDEX IF NOT EXISTS ballot_by_seq ON ballot_index (election_id, seq);
CREATE TRIGGER IF NOT EXISTS events_no_update BEFORE UPDATE ON events
    BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
DROP TRIGGER IF EXISTS events_no_delete;
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
    WHEN (SELECT state FROM elections WHERE id = OLD.election_id) IS NOT 'draft'
    BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
CREATE TABLE IF NOT EXISTS checkpoints (
    election_id TEXT PRIMARY KEY REFERENCES elections(id),
    events INTEGER NOT NULL,
    head TEXT NOT NULL,
    bytes BLOB NOT NULL
) WITHOUT ROWID;
PRAGMA user_version = 1;
";

const PRIVATE_SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS voters (
    election_id TEXT NOT NULL,
    login TEXT NOT NULL,
    email TEXT NOT NULL,
    weight INTEGER NOT NULL,
    PRIMARY KEY (election_id, login)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS admins (
    username TEXT PRIMARY KEY,
    password_hash TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS sessions (
    token_hash TEXT PRIMARY KEY,
    subject TEXT NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS sessions_expiry ON sessions (expires_at);
DROP TABLE IF EXISTS otp_codes;
CREATE TABLE IF NOT EXISTS login_codes (
    election_id TEXT NOT NULL,
    login TEXT NOT NULL,
    salt TEXT NOT NULL,
    code_hash TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (election_id, login, salt)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS login_code_failures (
    election_id TEXT NOT NULL,
    login TEXT NOT NULL,
    client TEXT NOT NULL,
    at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS login_code_failures_by_login
    ON login_code_failures (election_id, login, at);
CREATE TABLE IF NOT EXISTS otp_sends (
    election_id TEXT NOT NULL,
    login TEXT NOT NULL,
    at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS otp_sends_by_login ON otp_sends (election_id, login, at);
CREATE TABLE IF NOT EXISTS audit_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at INTEGER NOT NULL,
    actor TEXT NOT NULL,
    election_id TEXT,
    action TEXT NOT NULL,
    details TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_by_election ON audit_log (election_id, id);
CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit_log
    BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit_log
    BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
CREATE TABLE IF NOT EXISTS mails (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    election_id TEXT,
    login TEXT NOT NULL,
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    error TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS mails_by_election ON mails (election_id, status);
CREATE INDEX IF NOT EXISTS mails_by_login ON mails (election_id, login, kind, id);
CREATE TABLE IF NOT EXISTS role_tokens (
    token_hash TEXT PRIMARY KEY,
    election_id TEXT NOT NULL,
    role TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS role_tokens_by_election ON role_tokens (election_id);
CREATE TABLE IF NOT EXISTS election_mail (
    election_id TEXT PRIMARY KEY,
    language TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS credential_bindings (
    election_id TEXT NOT NULL,
    login TEXT NOT NULL,
    credential TEXT NOT NULL,
    PRIMARY KEY (election_id, login),
    UNIQUE (election_id, credential)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS election_owners (
    election_id TEXT PRIMARY KEY,
    username TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS credential_resends (
    election_id TEXT NOT NULL,
    login TEXT NOT NULL,
    requested_by TEXT NOT NULL,
    requested_at INTEGER NOT NULL,
    sent_at INTEGER,
    PRIMARY KEY (election_id, login)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS trustee_emails (
    election_id TEXT NOT NULL,
    trustee INTEGER NOT NULL,
    email TEXT NOT NULL,
    PRIMARY KEY (election_id, trustee)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS trustee_waits (
    election_id TEXT NOT NULL,
    trustee INTEGER NOT NULL,
    step TEXT NOT NULL,
    since INTEGER NOT NULL,
    PRIMARY KEY (election_id, trustee, step)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS claims (
    election_id TEXT NOT NULL,
    name TEXT NOT NULL,
    claimed_at INTEGER NOT NULL,
    PRIMARY KEY (election_id, name)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS mails_by_kind ON mails (election_id, kind, created_at);
PRAGMA user_version = 1;
";

/// SQLite implementation of [`Storage`].
pub struct SqliteStorage {
    board_w: Mutex<Connection>,
    board_r: ReaderPool,
    private_w: Mutex<PrivateWriter>,
    private_r: ReaderPool,
}

/// The writer of `private.sqlite`: two connections to the file behind one mutex, so they
/// never wait on each other's write lock. `durable` commits with `synchronous=FULL`,
/// `relaxed` with `synchronous=NORMAL` ([`relaxed`]); a `durable` commit also makes every
/// earlier `relaxed` one durable, the write-ahead log being written in order.
struct PrivateWriter {
    durable: Connection,
    relaxed: Connection,
}

impl std::ops::Deref for PrivateWriter {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        &self.durable
    }
}

impl std::ops::DerefMut for PrivateWriter {
    fn deref_mut(&mut self) -> &mut Connection {
        &mut self.durable
    }
}

/// A few read-only connections: a reader takes a free one, or waits on one in turn.
struct ReaderPool {
    conns: Vec<Mutex<Connection>>,
    next: AtomicUsize,
}

impl ReaderPool {
    fn open(path: &Path, n: usize) -> StorageResult<Self> {
        let conns = (0..n.max(1))
            .map(|_| open_conn(path, None).map(Mutex::new))
            .collect::<StorageResult<Vec<_>>>()?;
        Ok(Self {
            conns,
            next: AtomicUsize::new(0),
        })
    }

    fn get(&self) -> MutexGuard<'_, Connection> {
        for c in &self.conns {
            match c.try_lock() {
                Ok(g) => return g,
                Err(TryLockError::Poisoned(p)) => return p.into_inner(),
                Err(TryLockError::WouldBlock) => {}
            }
        }
        let i = self.next.fetch_add(1, Ordering::Relaxed) % self.conns.len();
        lock(&self.conns[i])
    }
}

fn db(e: rusqlite::Error) -> StorageError {
    StorageError::Backend(e.to_string())
}

fn to_i64(v: u64) -> StorageResult<i64> {
    i64::try_from(v).map_err(|_| StorageError::Invalid("number out of range".to_owned()))
}

fn to_u64(v: i64) -> StorageResult<u64> {
    u64::try_from(v).map_err(|_| StorageError::Backend("negative number in database".to_owned()))
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the lock cannot leave a half-done transaction behind (rusqlite
    // rolls back on drop), so a poisoned connection is still usable.
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Runs `f` on the private writer's connection with `synchronous=NORMAL` (see the module's
/// doc): for writes that a power loss may undo without harm.
fn relaxed<T>(
    writer: &Mutex<PrivateWriter>,
    f: impl FnOnce(&mut Connection) -> StorageResult<T>,
) -> StorageResult<T> {
    let mut writer = lock(writer);
    f(&mut writer.relaxed)
}

/// How many prepared statements each connection keeps: every statement of this module
/// fits, so none is compiled again after its first use.
const STATEMENT_CACHE: usize = 128;

/// `query_row` and `execute` through the connection's cache of prepared statements:
/// compiling a statement costs more than running the short ones of this module.
trait CachedStatements {
    fn cached_row<T, P: rusqlite::Params>(
        &self,
        sql: &str,
        params: P,
        f: impl FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    ) -> rusqlite::Result<T>;
    fn cached_execute<P: rusqlite::Params>(&self, sql: &str, params: P) -> rusqlite::Result<usize>;
}

impl CachedStatements for Connection {
    fn cached_row<T, P: rusqlite::Params>(
        &self,
        sql: &str,
        params: P,
        f: impl FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    ) -> rusqlite::Result<T> {
        self.prepare_cached(sql)?.query_row(params, f)
    }

    fn cached_execute<P: rusqlite::Params>(&self, sql: &str, params: P) -> rusqlite::Result<usize> {
        self.prepare_cached(sql)?.execute(params)
    }
}

/// Binds `b` in `tx` (see [`Storage::bind_credential`]); whether it wrote a binding.
fn bind_in(
    tx: &rusqlite::Transaction<'_>,
    b: &CredentialBinding,
) -> StorageResult<(BindOutcome, bool)> {
    let mine: Option<String> = tx
        .cached_row(
            "SELECT credential FROM credential_bindings WHERE election_id = ?1 AND login = ?2",
            [&b.election, &b.login],
            |r| r.get(0),
        )
        .optional()
        .map_err(db)?;
    if let Some(c) = mine {
        let outcome = if c == b.credential {
            BindOutcome::Bound
        } else {
            BindOutcome::LoginUsesAnother
        };
        return Ok((outcome, false));
    }
    let other: Option<String> = tx
        .cached_row(
            "SELECT login FROM credential_bindings WHERE election_id = ?1 AND credential = ?2",
            [&b.election, &b.credential],
            |r| r.get(0),
        )
        .optional()
        .map_err(db)?;
    if other.is_some() {
        return Ok((BindOutcome::CredentialTaken, false));
    }
    tx.cached_execute(
        "INSERT INTO credential_bindings (election_id, login, credential) VALUES (?1, ?2, ?3)",
        [&b.election, &b.login, &b.credential],
    )
    .map_err(db)?;
    Ok((BindOutcome::Bound, true))
}

fn open_conn(path: &Path, schema: Option<&str>) -> StorageResult<Connection> {
    let conn = Connection::open(path).map_err(db)?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    conn.busy_timeout(std::time::Duration::from_secs(10))
        .map_err(db)?;
    let mode: String = conn
        .query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))
        .map_err(db)?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StorageError::Backend(format!(
            "cannot enable WAL on {}: journal_mode={mode}",
            path.display()
        )));
    }
    conn.execute_batch("PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;")
        .map_err(db)?;
    if let Some(schema) = schema {
        conn.execute_batch(schema).map_err(db)?;
    }
    Ok(conn)
}

/// A voter's row: login, email, weight, language.
type VoterRow = (String, String, i64, Option<String>);

fn voter_from_row((login, email, weight, language): VoterRow) -> StorageResult<Voter> {
    Ok(Voter {
        login,
        email,
        weight: to_u64(weight)?,
        language: language.as_deref().and_then(Lang::parse),
    })
}

/// Brings a private store made by an earlier version up to date: columns added since are
/// added (existing rows get their default). Each step checks before it changes anything,
/// so running it again does nothing.
fn migrate_private(conn: &Connection) -> StorageResult<()> {
    let has_language: bool = conn
        .cached_row(
            "SELECT COUNT(*) FROM pragma_table_info('voters') WHERE name = 'language'",
            [],
            |r| r.get::<_, i64>(0),
        )
        .map_err(db)?
        > 0;
    if !has_language {
        conn.execute_batch("ALTER TABLE voters ADD COLUMN language TEXT;")
            .map_err(db)?;
    }
    // Accounts made before roles existed ran everything: they stay server administrators.
    let has_role: bool = conn
        .cached_row(
            "SELECT COUNT(*) FROM pragma_table_info('admins') WHERE name = 'role'",
            [],
            |r| r.get::<_, i64>(0),
        )
        .map(|n| n > 0)
        .map_err(db)?;
    if !has_role {
        conn.execute_batch("ALTER TABLE admins ADD COLUMN role TEXT NOT NULL DEFAULT 'server';")
            .map_err(db)?;
    }
    Ok(())
}

/// Inserts `voters` in `tx`; returns the index of each one whose login is already on the
/// list (not inserted). The caller commits or rolls back.
fn insert_voters(tx: &Connection, election: &str, voters: &[Voter]) -> StorageResult<Vec<usize>> {
    let mut refused = Vec::new();
    let mut ins = tx
        .prepare_cached(
            "INSERT OR IGNORE INTO voters (election_id, login, email, weight, language)
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )
        .map_err(db)?;
    for (i, v) in voters.iter().enumerate() {
        let n = ins
            .execute(params![
                election,
                v.login,
                v.email,
                to_i64(v.weight)?,
                v.language.map(Lang::code)
            ])
            .map_err(db)?;
        if n == 0 {
            refused.push(i);
        }
    }
    Ok(refused)
}

fn state_of(s: &str) -> StorageResult<ElectionState> {
    ElectionState::parse(s).ok_or_else(|| StorageError::Backend(format!("bad state {s}")))
}

fn read_election(row: &rusqlite::Row<'_>) -> rusqlite::Result<ElectionRow> {
    Ok((
        row.get(0)?,
        row.get(1)?,
        row.get(2)?,
        row.get(3)?,
        row.get(4)?,
        row.get(5)?,
    ))
}

type ElectionRow = (String, String, String, Option<i64>, Option<i64>, i64);

fn election_from_row(r: ElectionRow) -> StorageResult<ElectionMeta> {
    Ok(ElectionMeta {
        id: r.0,
        state: state_of(&r.1)?,
        description_toml: r.2,
        opens_at: r.3,
        closes_at: r.4,
        created_at: r.5,
    })
}

const ELECTION_COLS: &str = "id, state, description_toml, opens_at, closes_at, created_at";

fn current_state(conn: &Connection, id: &str) -> StorageResult<ElectionState> {
    let s: Option<String> = conn
        .cached_row("SELECT state FROM elections WHERE id = ?1", [id], |r| {
            r.get(0)
        })
        .optional()
        .map_err(db)?;
    match s {
        Some(s) => state_of(&s),
        None => Err(StorageError::NotFound(format!("election {id}"))),
    }
}

fn next_seq(conn: &Connection, election: &str) -> StorageResult<u64> {
    let n: i64 = conn
        .cached_row(
            "SELECT COALESCE(MAX(seq) + 1, 0) FROM events WHERE election_id = ?1",
            [election],
            |r| r.get(0),
        )
        .map_err(db)?;
    to_u64(n)
}

impl SqliteStorage {
    /// Opens (creating if needed) `board.sqlite` and `private.sqlite` in `data_dir`.
    pub fn open(data_dir: &Path) -> StorageResult<Self> {
        crate::private_files::ensure_private_dir(data_dir)
            .map_err(|e| StorageError::Backend(e.to_string()))?;
        let board = data_dir.join("board.sqlite");
        let private = data_dir.join("private.sqlite");
        // SQLite gives its -wal and -shm files the mode of the database file.
        for file in [&board, &private] {
            crate::private_files::ensure_private_file(file).map_err(|e| {
                StorageError::Backend(format!("cannot create {}: {e}", file.display()))
            })?;
        }
        let board_w = open_conn(&board, Some(BOARD_SCHEMA))?;
        let board_r = ReaderPool::open(&board, 4)?;
        let private_w = open_conn(&private, Some(PRIVATE_SCHEMA))?;
        migrate_private(&private_w)?;
        let private_relaxed = open_conn(&private, None)?;
        private_relaxed
            .execute_batch("PRAGMA synchronous=NORMAL;")
            .map_err(db)?;
        let private_r = ReaderPool::open(&private, 2)?;
        Ok(Self {
            board_w: Mutex::new(board_w),
            board_r,
            private_w: Mutex::new(PrivateWriter {
                durable: private_w,
                relaxed: private_relaxed,
            }),
            private_r,
        })
    }
}

impl Storage for SqliteStorage {
    fn create_election(&self, meta: &ElectionMeta) -> StorageResult<()> {
        if !super::valid_election_id(&meta.id) {
            return Err(StorageError::Invalid("bad election id".to_owned()));
        }
        let conn = lock(&self.board_w);
        let r = conn.cached_execute(
            "INSERT INTO elections (id, state, description_toml, opens_at, closes_at, created_at)
             VALUES (?1, 'draft', ?2, ?3, ?4, ?5)",
            params![
                meta.id,
                meta.description_toml,
                meta.opens_at,
                meta.closes_at,
                meta.created_at
            ],
        );
        match r {
            Ok(_) => Ok(()),
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::ConstraintViolation =>
            {
                Err(StorageError::AlreadyExists(format!("election {}", meta.id)))
            }
            Err(e) => Err(db(e)),
        }
    }

    fn election(&self, id: &str) -> StorageResult<Option<ElectionMeta>> {
        let conn = self.board_r.get();
        let row = conn
            .cached_row(
                &format!("SELECT {ELECTION_COLS} FROM elections WHERE id = ?1"),
                [id],
                read_election,
            )
            .optional()
            .map_err(db)?;
        row.map(election_from_row).transpose()
    }

    fn list_elections(&self) -> StorageResult<Vec<ElectionMeta>> {
        let conn = self.board_r.get();
        let mut stmt = conn
            .prepare(&format!(
                "SELECT {ELECTION_COLS} FROM elections ORDER BY created_at, id"
            ))
            .map_err(db)?;
        let rows = stmt
            .query_map([], read_election)
            .map_err(db)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(db)?;
        rows.into_iter().map(election_from_row).collect()
    }

    fn set_election_state(
        &self,
        id: &str,
        from: ElectionState,
        to: ElectionState,
    ) -> StorageResult<()> {
        let mut conn = lock(&self.board_w);
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(db)?;
        let actual = current_state(&tx, id)?;
        if actual != from {
            return Err(StorageError::StateMismatch {
                expected: from,
                actual,
            });
        }
        tx.cached_execute(
            "UPDATE elections SET state = ?2 WHERE id = ?1",
            params![id, to.as_str()],
        )
        .map_err(db)?;
        tx.commit().map_err(db)
    }

    fn delete_draft_election(&self, id: &str) -> StorageResult<()> {
        {
            let mut conn = lock(&self.board_w);
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(db)?;
            let actual = current_state(&tx, id)?;
            if actual != ElectionState::Draft {
                return Err(StorageError::StateMismatch {
                    expected: ElectionState::Draft,
                    actual,
                });
            }
            for table in ["ballot_index", "checkpoints", "events"] {
                tx.execute(&format!("DELETE FROM {table} WHERE election_id = ?1"), [id])
                    .map_err(db)?;
            }
            tx.cached_execute("DELETE FROM elections WHERE id = ?1", [id])
                .map_err(db)?;
            tx.commit().map_err(db)?;
        }
        let mut conn = lock(&self.private_w);
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(db)?;
        for table in [
            "voters",
            "login_codes",
            "login_code_failures",
            "otp_sends",
            "mails",
            "role_tokens",
            "election_mail",
            "credential_bindings",
            "election_owners",
            "credential_resends",
            "trustee_emails",
            "trustee_waits",
            "claims",
        ] {
            tx.execute(&format!("DELETE FROM {table} WHERE election_id = ?1"), [id])
                .map_err(db)?;
        }
        tx.commit().map_err(db)
    }

    fn update_election_draft(
        &self,
        id: &str,
        description_toml: &str,
        opens_at: Option<UnixTime>,
        closes_at: Option<UnixTime>,
    ) -> StorageResult<()> {
        let mut conn = lock(&self.board_w);
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(db)?;
        let actual = current_state(&tx, id)?;
        if actual != ElectionState::Draft {
            return Err(StorageError::StateMismatch {
                expected: ElectionState::Draft,
                actual,
            });
        }
        tx.cached_execute(
            "UPDATE elections SET description_toml = ?2, opens_at = ?3, closes_at = ?4 WHERE id = ?1",
            params![id, description_toml, opens_at, closes_at],
        )
        .map_err(db)?;
        tx.commit().map_err(db)
    }

    fn append_events(
        &self,
        election: &str,
        expected_next_seq: u64,
        lines: &[String],
        index: &[BallotIndexEntry],
    ) -> StorageResult<u64> {
        if lines.iter().any(|l| l.contains(['\n', '\r'])) {
            return Err(StorageError::Invalid(
                "an event line contains a line break".to_owned(),
            ));
        }
        let end = expected_next_seq
            .checked_add(lines.len() as u64)
            .ok_or_else(|| StorageError::Invalid("seq overflow".to_owned()))?;
        if index
            .iter()
            .any(|e| e.seq < expected_next_seq || e.seq >= end)
        {
            return Err(StorageError::Invalid(
                "ballot index entry outside the appended events".to_owned(),
            ));
        }
        let mut conn = lock(&self.board_w);
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(db)?;
        current_state(&tx, election)?;
        let actual = next_seq(&tx, election)?;
        if actual != expected_next_seq {
            return Err(StorageError::SeqMismatch {
                expected: expected_next_seq,
                actual,
            });
        }
        {
            let mut ins = tx
                .prepare_cached("INSERT INTO events (election_id, seq, line) VALUES (?1, ?2, ?3)")
                .map_err(db)?;
            for (i, line) in lines.iter().enumerate() {
                let seq = to_i64(expected_next_seq + i as u64)?;
                ins.execute(params![election, seq, line]).map_err(db)?;
            }
            let mut idx = tx
                .prepare_cached(
                    "INSERT INTO ballot_index (election_id, tracker, credential, seq)
                     VALUES (?1, ?2, ?3, ?4)",
                )
                .map_err(db)?;
            for e in index {
                match idx.execute(params![election, e.tracker, e.credential, to_i64(e.seq)?]) {
                    Ok(_) => {}
                    Err(rusqlite::Error::SqliteFailure(f, _))
                        if f.code == rusqlite::ErrorCode::ConstraintViolation =>
                    {
                        return Err(StorageError::AlreadyExists(format!(
                            "tracker {}",
                            e.tracker
                        )));
                    }
                    Err(err) => return Err(db(err)),
                }
            }
        }
        tx.commit().map_err(db)?;
        Ok(end)
    }

    fn events_from(
        &self,
        election: &str,
        from_seq: u64,
        limit: usize,
    ) -> StorageResult<Vec<String>> {
        let conn = self.board_r.get();
        let mut stmt = conn
            .prepare_cached(
                "SELECT line FROM events WHERE election_id = ?1 AND seq >= ?2 ORDER BY seq LIMIT ?3",
            )
            .map_err(db)?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        stmt.query_map(params![election, to_i64(from_seq)?, limit], |r| r.get(0))
            .map_err(db)?
            .collect::<Result<Vec<String>, _>>()
            .map_err(db)
    }

    fn put_checkpoint(&self, election: &str, checkpoint: &StoredCheckpoint) -> StorageResult<()> {
        let conn = lock(&self.board_w);
        current_state(&conn, election)?;
        conn.cached_execute(
            "INSERT INTO checkpoints (election_id, events, head, bytes) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (election_id) DO UPDATE
             SET events = excluded.events, head = excluded.head, bytes = excluded.bytes
             WHERE excluded.events >= checkpoints.events",
            params![
                election,
                to_i64(checkpoint.events)?,
                checkpoint.head,
                checkpoint.bytes
            ],
        )
        .map_err(db)?;
        Ok(())
    }

    fn checkpoint(&self, election: &str) -> StorageResult<Option<StoredCheckpoint>> {
        let conn = self.board_r.get();
        let row: Option<(i64, String, Vec<u8>)> = conn
            .cached_row(
                "SELECT events, head, bytes FROM checkpoints WHERE election_id = ?1",
                [election],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()
            .map_err(db)?;
        row.map(|(events, head, bytes)| {
            Ok(StoredCheckpoint {
                events: to_u64(events)?,
                head,
                bytes,
            })
        })
        .transpose()
    }

    fn head(&self, election: &str) -> StorageResult<BoardHead> {
        let conn = self.board_r.get();
        current_state(&conn, election)?;
        let last: Option<(i64, String)> = conn
            .cached_row(
                "SELECT seq, line FROM events WHERE election_id = ?1 ORDER BY seq DESC LIMIT 1",
                [election],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(db)?;
        Ok(match last {
            Some((seq, line)) => BoardHead {
                next_seq: to_u64(seq)? + 1,
                last_line: Some(line),
            },
            None => BoardHead {
                next_seq: 0,
                last_line: None,
            },
        })
    }

    fn ballot_by_tracker(&self, election: &str, tracker: &str) -> StorageResult<Option<u64>> {
        let conn = self.board_r.get();
        let seq: Option<i64> = conn
            .cached_row(
                "SELECT seq FROM ballot_index WHERE election_id = ?1 AND tracker = ?2",
                [election, tracker],
                |r| r.get(0),
            )
            .optional()
            .map_err(db)?;
        seq.map(to_u64).transpose()
    }

    fn ballots_newest_first(
        &self,
        election: &str,
        before: Option<u64>,
        skip: u64,
        limit: usize,
    ) -> StorageResult<Vec<(u64, String)>> {
        let conn = self.board_r.get();
        let mut stmt = conn
            .prepare_cached(
                "SELECT seq, tracker FROM ballot_index WHERE election_id = ?1 AND seq < ?2
                 ORDER BY seq DESC LIMIT ?3 OFFSET ?4",
            )
            .map_err(db)?;
        let before = match before {
            Some(b) => to_i64(b)?,
            None => i64::MAX,
        };
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = stmt
            .query_map(params![election, before, limit, to_i64(skip)?], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
            })
            .map_err(db)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(db)?;
        rows.into_iter()
            .map(|(seq, tracker)| Ok((to_u64(seq)?, tracker)))
            .collect()
    }

    fn ballots_of_credential(&self, election: &str, credential: &str) -> StorageResult<u64> {
        let conn = self.board_r.get();
        let n: i64 = conn
            .cached_row(
                "SELECT COUNT(*) FROM ballot_index WHERE election_id = ?1 AND credential = ?2",
                [election, credential],
                |r| r.get(0),
            )
            .map_err(db)?;
        to_u64(n)
    }

    fn latest_ballot_of_credential(
        &self,
        election: &str,
        credential: &str,
    ) -> StorageResult<Option<u64>> {
        let conn = self.board_r.get();
        let seq: Option<i64> = conn
            .cached_row(
                "SELECT MAX(seq) FROM ballot_index WHERE election_id = ?1 AND credential = ?2",
                [election, credential],
                |r| r.get(0),
            )
            .map_err(db)?;
        seq.map(to_u64).transpose()
    }

    fn add_voters(&self, election: &str, voters: &[Voter]) -> StorageResult<Vec<usize>> {
        let mut conn = lock(&self.private_w);
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(db)?;
        let refused = insert_voters(&tx, election, voters)?;
        tx.commit().map_err(db)?;
        Ok(refused)
    }

    fn voter(&self, election: &str, login: &str) -> StorageResult<Option<Voter>> {
        let conn = self.private_r.get();
        let row: Option<VoterRow> = conn
            .cached_row(
                "SELECT login, email, weight, language FROM voters
                 WHERE election_id = ?1 AND login = ?2",
                [election, login],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .optional()
            .map_err(db)?;
        row.map(voter_from_row).transpose()
    }

    fn voter_count(&self, election: &str) -> StorageResult<(u64, u64)> {
        let conn = self.private_r.get();
        let (n, w): (i64, i64) = conn
            .cached_row(
                "SELECT COUNT(*), COALESCE(SUM(weight), 0) FROM voters WHERE election_id = ?1",
                [election],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map_err(db)?;
        Ok((to_u64(n)?, to_u64(w)?))
    }

    fn list_voters(
        &self,
        election: &str,
        after_login: &str,
        limit: usize,
    ) -> StorageResult<Vec<Voter>> {
        let conn = self.private_r.get();
        let mut stmt = conn
            .prepare_cached(
                "SELECT login, email, weight, language FROM voters
                 WHERE election_id = ?1 AND login > ?2 ORDER BY login LIMIT ?3",
            )
            .map_err(db)?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = stmt
            .query_map(params![election, after_login, limit], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })
            .map_err(db)?
            .collect::<Result<Vec<VoterRow>, _>>()
            .map_err(db)?;
        rows.into_iter().map(voter_from_row).collect()
    }

    fn import_voters(
        &self,
        election: &str,
        voters: &[Voter],
        commit: bool,
    ) -> StorageResult<Vec<usize>> {
        let mut conn = lock(&self.private_w);
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(db)?;
        let refused = insert_voters(&tx, election, voters)?;
        if commit && refused.is_empty() {
            tx.commit().map_err(db)?;
        } else {
            tx.rollback().map_err(db)?;
        }
        Ok(refused)
    }

    fn search_voters(
        &self,
        election: &str,
        query: &str,
        after_login: &str,
        limit: usize,
    ) -> StorageResult<Vec<Voter>> {
        let conn = self.private_r.get();
        let mut stmt = conn
            .prepare_cached(
                "SELECT login, email, weight, language FROM voters
                 WHERE election_id = ?1 AND login > ?2
                   AND (?3 = '' OR instr(lower(login), lower(?3)) > 0
                        OR instr(lower(email), lower(?3)) > 0)
                 ORDER BY login LIMIT ?4",
            )
            .map_err(db)?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = stmt
            .query_map(params![election, after_login, query, limit], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })
            .map_err(db)?
            .collect::<Result<Vec<VoterRow>, _>>()
            .map_err(db)?;
        rows.into_iter().map(voter_from_row).collect()
    }

    fn update_voter(&self, election: &str, voter: &Voter) -> StorageResult<bool> {
        let conn = lock(&self.private_w);
        let n = conn
            .cached_execute(
                "UPDATE voters SET email = ?3, weight = ?4, language = ?5
                 WHERE election_id = ?1 AND login = ?2",
                params![
                    election,
                    voter.login,
                    voter.email,
                    to_i64(voter.weight)?,
                    voter.language.map(Lang::code)
                ],
            )
            .map_err(db)?;
        Ok(n > 0)
    }

    fn remove_voter(&self, election: &str, login: &str) -> StorageResult<bool> {
        let conn = lock(&self.private_w);
        let n = conn
            .cached_execute(
                "DELETE FROM voters WHERE election_id = ?1 AND login = ?2",
                [election, login],
            )
            .map_err(db)?;
        Ok(n > 0)
    }

    fn credential_bindings(&self, election: &str) -> StorageResult<Vec<(String, String)>> {
        let conn = self.private_r.get();
        let mut stmt = conn
            .prepare_cached(
                "SELECT login, credential FROM credential_bindings
                 WHERE election_id = ?1 ORDER BY login",
            )
            .map_err(db)?;
        stmt.query_map([election], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(db)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(db)
    }

    fn credentials_with_ballots(&self, election: &str) -> StorageResult<Vec<String>> {
        let conn = self.board_r.get();
        let mut stmt = conn
            .prepare_cached("SELECT DISTINCT credential FROM ballot_index WHERE election_id = ?1")
            .map_err(db)?;
        stmt.query_map([election], |r| r.get(0))
            .map_err(db)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(db)
    }

    fn latest_mail_statuses(
        &self,
        election: &str,
    ) -> StorageResult<Vec<(String, String, MailStatus)>> {
        let conn = self.private_r.get();
        let mut stmt = conn
            .prepare_cached(
                "SELECT m.login, m.kind, m.status FROM mails m
                 WHERE m.election_id = ?1 AND m.id = (
                     SELECT MAX(id) FROM mails
                     WHERE election_id = ?1 AND login = m.login AND kind = m.kind)
                 ORDER BY m.login, m.kind",
            )
            .map_err(db)?;
        let rows = stmt
            .query_map([election], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                ))
            })
            .map_err(db)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(db)?;
        rows.into_iter()
            .map(|(login, kind, status)| {
                let status = match status.as_str() {
                    "queued" => MailStatus::Queued,
                    "sent" => MailStatus::Sent,
                    "failed" => MailStatus::Failed,
                    other => {
                        return Err(StorageError::Backend(format!("bad mail status {other}")));
                    }
                };
                Ok((login, kind, status))
            })
            .collect()
    }

    fn set_mail_language(&self, election: &str, language: Lang) -> StorageResult<()> {
        let conn = lock(&self.private_w);
        conn.cached_execute(
            "INSERT INTO election_mail (election_id, language) VALUES (?1, ?2)
             ON CONFLICT (election_id) DO UPDATE SET language = excluded.language",
            params![election, language.code()],
        )
        .map_err(db)?;
        Ok(())
    }

    fn mail_language(&self, election: &str) -> StorageResult<Option<Lang>> {
        let conn = self.private_r.get();
        let code: Option<String> = conn
            .cached_row(
                "SELECT language FROM election_mail WHERE election_id = ?1",
                [election],
                |r| r.get(0),
            )
            .optional()
            .map_err(db)?;
        Ok(code.as_deref().and_then(Lang::parse))
    }

    fn create_admin(&self, account: &AdminAccount) -> StorageResult<()> {
        let conn = lock(&self.private_w);
        let r = conn.cached_execute(
            "INSERT INTO admins (username, password_hash, created_at, role) VALUES (?1, ?2, ?3, ?4)",
            params![
                account.username,
                account.password_hash,
                super::now(),
                account.role.as_str()
            ],
        );
        match r {
            Ok(_) => Ok(()),
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::ConstraintViolation =>
            {
                Err(StorageError::AlreadyExists(format!(
                    "admin {}",
                    account.username
                )))
            }
            Err(e) => Err(db(e)),
        }
    }

    fn admin(&self, username: &str) -> StorageResult<Option<AdminAccount>> {
        let conn = self.private_r.get();
        let row: Option<(String, String, String)> = conn
            .cached_row(
                "SELECT username, password_hash, role FROM admins WHERE username = ?1",
                [username],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()
            .map_err(db)?;
        row.map(|(username, password_hash, role)| {
            let role = AdminRole::parse(&role)
                .ok_or_else(|| StorageError::Backend(format!("unknown admin role {role:?}")))?;
            Ok(AdminAccount {
                username,
                password_hash,
                role,
            })
        })
        .transpose()
    }

    fn admins(&self) -> StorageResult<Vec<(String, AdminRole)>> {
        let conn = self.private_r.get();
        let mut stmt = conn
            .prepare("SELECT username, role FROM admins ORDER BY username")
            .map_err(db)?;
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
            .map_err(db)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(db)?;
        rows.into_iter()
            .map(|(name, role)| {
                AdminRole::parse(&role)
                    .map(|r| (name, r))
                    .ok_or_else(|| StorageError::Backend(format!("unknown admin role {role:?}")))
            })
            .collect()
    }

    fn set_election_owner(&self, election: &str, username: &str) -> StorageResult<()> {
        let conn = lock(&self.private_w);
        conn.cached_execute(
            "INSERT INTO election_owners (election_id, username) VALUES (?1, ?2)
             ON CONFLICT (election_id) DO UPDATE SET username = excluded.username",
            params![election, username],
        )
        .map_err(db)?;
        Ok(())
    }

    fn election_owner(&self, election: &str) -> StorageResult<Option<String>> {
        let conn = self.private_r.get();
        conn.cached_row(
            "SELECT username FROM election_owners WHERE election_id = ?1",
            [election],
            |r| r.get(0),
        )
        .optional()
        .map_err(db)
    }

    fn insert_session(&self, session: &SessionRecord) -> StorageResult<()> {
        let subject = serde_json::to_string(&session.subject)
            .map_err(|e| StorageError::Invalid(e.to_string()))?;
        relaxed(&self.private_w, |conn| {
            conn.cached_execute(
                "INSERT INTO sessions (token_hash, subject, expires_at) VALUES (?1, ?2, ?3)",
                params![session.token_hash, subject, session.expires_at],
            )
            .map_err(db)?;
            Ok(())
        })
    }

    fn session(&self, token_hash: &str) -> StorageResult<Option<SessionRecord>> {
        let conn = self.private_r.get();
        let row: Option<(String, i64)> = conn
            .cached_row(
                "SELECT subject, expires_at FROM sessions WHERE token_hash = ?1",
                [token_hash],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(db)?;
        row.map(|(subject, expires_at)| {
            let subject: SessionSubject = serde_json::from_str(&subject)
                .map_err(|e| StorageError::Backend(format!("bad session subject: {e}")))?;
            Ok(SessionRecord {
                token_hash: token_hash.to_owned(),
                subject,
                expires_at,
            })
        })
        .transpose()
    }

    fn delete_session(&self, token_hash: &str) -> StorageResult<()> {
        relaxed(&self.private_w, |conn| {
            conn.cached_execute("DELETE FROM sessions WHERE token_hash = ?1", [token_hash])
                .map_err(db)?;
            Ok(())
        })
    }

    fn purge_expired_sessions(&self, now: UnixTime) -> StorageResult<u64> {
        relaxed(&self.private_w, |conn| {
            let n = conn
                .cached_execute("DELETE FROM sessions WHERE expires_at < ?1", [now])
                .map_err(db)?;
            Ok(n as u64)
        })
    }

    fn put_otp(
        &self,
        election: &str,
        login: &str,
        record: &OtpRecord,
        now: UnixTime,
        limits: &OtpSendLimits,
    ) -> StorageResult<bool> {
        relaxed(&self.private_w, |conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(db)?;
            let sent: i64 = tx
                .cached_row(
                    "SELECT COUNT(*) FROM otp_sends WHERE election_id = ?1 AND login = ?2 AND at >= ?3",
                    params![election, login, now.saturating_sub(limits.window_secs)],
                    |r| r.get(0),
                )
                .map_err(db)?;
            let max = i64::from(limits.max_sends);
            if sent >= max {
                return Ok(false);
            }
            let expires_at = if sent + 1 >= max {
                record.expires_at.max(limits.last_lives_until)
            } else {
                record.expires_at
            };
            let keep = limits.max_sends;
            // Expired codes go; the newest `keep - 1` live ones stay beside the new one.
            tx.cached_execute(
                "DELETE FROM login_codes WHERE election_id = ?1 AND login = ?2 AND expires_at <= ?3",
                params![election, login, now],
            )
            .map_err(db)?;
            tx.cached_execute(
                "DELETE FROM login_codes WHERE election_id = ?1 AND login = ?2 AND salt NOT IN
                 (SELECT salt FROM login_codes WHERE election_id = ?1 AND login = ?2
                  ORDER BY expires_at DESC LIMIT ?3)",
                params![election, login, i64::from(keep.max(1)) - 1],
            )
            .map_err(db)?;
            tx.cached_execute(
                "INSERT INTO login_codes (election_id, login, salt, code_hash, expires_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![election, login, record.salt, record.code_hash, expires_at],
            )
            .map_err(db)?;
            tx.cached_execute(
                "INSERT INTO otp_sends (election_id, login, at) VALUES (?1, ?2, ?3)",
                params![election, login, now],
            )
            .map_err(db)?;
            // Sends older than a day no longer matter for any hourly limit.
            tx.cached_execute(
                "DELETE FROM otp_sends WHERE election_id = ?1 AND login = ?2 AND at < ?3",
                params![election, login, now.saturating_sub(86_400)],
            )
            .map_err(db)?;
            tx.commit().map_err(db)?;
            Ok(true)
        })
    }

    fn otp_sends_since(&self, election: &str, login: &str, since: UnixTime) -> StorageResult<u32> {
        let conn = self.private_r.get();
        let n: i64 = conn
            .cached_row(
                "SELECT COUNT(*) FROM otp_sends WHERE election_id = ?1 AND login = ?2 AND at >= ?3",
                params![election, login, since],
                |r| r.get(0),
            )
            .map_err(db)?;
        Ok(u32::try_from(n).unwrap_or(u32::MAX))
    }

    fn otp_attempt(
        &self,
        election: &str,
        login: &str,
        client: &str,
        now: UnixTime,
        limits: &OtpAttemptLimits,
        matches: &mut dyn FnMut(&OtpRecord) -> bool,
    ) -> StorageResult<OtpOutcome> {
        relaxed(&self.private_w, |conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(db)?;
            let since = now.saturating_sub(limits.window_secs);
            let count = |sql: &str, args: &[&dyn rusqlite::ToSql]| -> StorageResult<u32> {
                let n: i64 = tx.query_row(sql, args, |r| r.get(0)).map_err(db)?;
                Ok(u32::try_from(n).unwrap_or(u32::MAX))
            };
            let by_client = count(
                "SELECT COUNT(*) FROM login_code_failures
                 WHERE election_id = ?1 AND login = ?2 AND at >= ?3 AND client = ?4",
                &[&election, &login, &since, &client],
            )?;
            if by_client >= limits.per_client {
                return Ok(OtpOutcome::Locked);
            }
            let by_login = count(
                "SELECT COUNT(*) FROM login_code_failures
                 WHERE election_id = ?1 AND login = ?2 AND at >= ?3",
                &[&election, &login, &since],
            )?;
            if by_login >= limits.per_login {
                return Ok(OtpOutcome::Locked);
            }
            let codes: Vec<OtpRecord> = {
                let mut stmt = tx
                    .prepare(
                        "SELECT code_hash, salt, expires_at FROM login_codes
                         WHERE election_id = ?1 AND login = ?2",
                    )
                    .map_err(db)?;
                stmt.query_map([election, login], |r| {
                    Ok(OtpRecord {
                        code_hash: r.get(0)?,
                        salt: r.get(1)?,
                        expires_at: r.get(2)?,
                    })
                })
                .map_err(db)?
                .collect::<Result<_, _>>()
                .map_err(db)?
            };
            // Every live code is compared, so the time taken does not say which one matched;
            // no code, an expired code and a wrong code are one and the same failure, so the
            // answer does not say whether the login is on the voter list.
            let mut matched = false;
            for c in codes.iter().filter(|c| now < c.expires_at) {
                matched |= matches(c);
            }
            let outcome = if matched {
                tx.cached_execute(
                    "DELETE FROM login_codes WHERE election_id = ?1 AND login = ?2",
                    [election, login],
                )
                .map_err(db)?;
                OtpOutcome::Accepted
            } else {
                tx.cached_execute(
                    "INSERT INTO login_code_failures (election_id, login, client, at)
                     VALUES (?1, ?2, ?3, ?4)",
                    params![election, login, client, now],
                )
                .map_err(db)?;
                tx.cached_execute(
                    "DELETE FROM login_code_failures WHERE election_id = ?1 AND login = ?2 AND at < ?3",
                    params![election, login, now.saturating_sub(86_400)],
                )
                .map_err(db)?;
                OtpOutcome::Rejected {
                    remaining: limits.per_client.saturating_sub(by_client + 1),
                }
            };
            tx.commit().map_err(db)?;
            Ok(outcome)
        })
    }

    fn append_audit(&self, entry: &AuditEntry) -> StorageResult<i64> {
        let details = serde_json::to_string(&entry.details)
            .map_err(|e| StorageError::Invalid(e.to_string()))?;
        let conn = lock(&self.private_w);
        conn.cached_execute(
            "INSERT INTO audit_log (at, actor, election_id, action, details) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![entry.at, entry.actor, entry.election, entry.action, details],
        )
        .map_err(db)?;
        Ok(conn.last_insert_rowid())
    }

    fn audit_log(
        &self,
        election: Option<&str>,
        after_id: i64,
        limit: usize,
    ) -> StorageResult<Vec<AuditEntry>> {
        let conn = self.private_r.get();
        let mut stmt = conn
            .prepare_cached(
                "SELECT id, at, actor, election_id, action, details FROM audit_log
                 WHERE election_id IS ?1 AND id > ?2 ORDER BY id LIMIT ?3",
            )
            .map_err(db)?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = stmt
            .query_map(params![election, after_id, limit], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, Option<String>>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, String>(5)?,
                ))
            })
            .map_err(db)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(db)?;
        rows.into_iter()
            .map(|(id, at, actor, election, action, details)| {
                Ok(AuditEntry {
                    id,
                    at,
                    actor,
                    election,
                    action,
                    details: serde_json::from_str(&details)
                        .map_err(|e| StorageError::Backend(format!("bad audit details: {e}")))?,
                })
            })
            .collect()
    }

    fn insert_mail(
        &self,
        election: Option<&str>,
        login: &str,
        kind: &str,
        now: UnixTime,
    ) -> StorageResult<i64> {
        relaxed(&self.private_w, |conn| {
            conn.cached_execute(
                "INSERT INTO mails (election_id, login, kind, status, error, created_at, updated_at)
                 VALUES (?1, ?2, ?3, 'queued', NULL, ?4, ?4)",
                params![election, login, kind, now],
            )
            .map_err(db)?;
            Ok(conn.last_insert_rowid())
        })
    }

    fn set_mail_status(
        &self,
        id: i64,
        status: MailStatus,
        error: Option<&str>,
        now: UnixTime,
    ) -> StorageResult<()> {
        relaxed(&self.private_w, |conn| {
            let n = conn
                .cached_execute(
                    "UPDATE mails SET status = ?2, error = ?3, updated_at = ?4 WHERE id = ?1",
                    params![id, status.as_str(), error, now],
                )
                .map_err(db)?;
            if n == 0 {
                return Err(StorageError::NotFound(format!("mail {id}")));
            }
            Ok(())
        })
    }

    fn insert_mails(&self, mails: &[NewMail], now: UnixTime) -> StorageResult<Vec<i64>> {
        relaxed(&self.private_w, |conn| {
            let tx = conn.transaction().map_err(db)?;
            let mut ids = Vec::with_capacity(mails.len());
            for m in mails {
                tx.cached_execute(
                    "INSERT INTO mails (election_id, login, kind, status, error, created_at, updated_at)
                     VALUES (?1, ?2, ?3, 'queued', NULL, ?4, ?4)",
                    params![m.election, m.login, m.kind, now],
                )
                .map_err(db)?;
                ids.push(tx.last_insert_rowid());
            }
            tx.commit().map_err(db)?;
            Ok(ids)
        })
    }

    fn set_mail_statuses(&self, updates: &[MailStatusUpdate], now: UnixTime) -> StorageResult<()> {
        relaxed(&self.private_w, |conn| {
            let tx = conn.transaction().map_err(db)?;
            for u in updates {
                tx.cached_execute(
                    "UPDATE mails SET status = ?2, error = ?3, updated_at = ?4 WHERE id = ?1",
                    params![u.id, u.status.as_str(), u.error, now],
                )
                .map_err(db)?;
            }
            tx.commit().map_err(db)
        })
    }

    fn fail_queued_mails(&self, error: &str, now: UnixTime) -> StorageResult<u64> {
        let conn = lock(&self.private_w);
        let n = conn
            .cached_execute(
                "UPDATE mails SET status = 'failed', error = ?1, updated_at = ?2 WHERE status = 'queued'",
                params![error, now],
            )
            .map_err(db)?;
        Ok(n as u64)
    }

    fn mail_status_counts(&self, election: &str) -> StorageResult<MailStatusCounts> {
        let conn = self.private_r.get();
        let mut stmt = conn
            .prepare_cached(
                "SELECT status, COUNT(*) FROM mails WHERE election_id = ?1 GROUP BY status",
            )
            .map_err(db)?;
        let rows = stmt
            .query_map([election], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
            })
            .map_err(db)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(db)?;
        let mut counts = MailStatusCounts::default();
        for (status, n) in rows {
            let n = to_u64(n)?;
            match status.as_str() {
                "queued" => counts.queued = n,
                "sent" => counts.sent = n,
                "failed" => counts.failed = n,
                other => return Err(StorageError::Backend(format!("bad mail status {other}"))),
            }
        }
        Ok(counts)
    }

    fn mail_failures(&self, election: &str, limit: usize) -> StorageResult<Vec<MailFailure>> {
        let conn = self.private_r.get();
        let mut stmt = conn
            .prepare_cached(
                "SELECT id, login, COALESCE(error, ''), updated_at FROM mails
                 WHERE election_id = ?1 AND status = 'failed' ORDER BY id DESC LIMIT ?2",
            )
            .map_err(db)?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        stmt.query_map(params![election, limit], |r| {
            Ok(MailFailure {
                id: r.get(0)?,
                login: r.get(1)?,
                error: r.get(2)?,
                at: r.get(3)?,
            })
        })
        .map_err(db)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(db)
    }
    fn replace_role_tokens(&self, election: &str, tokens: &[RoleToken]) -> StorageResult<()> {
        let mut conn = lock(&self.private_w);
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(db)?;
        tx.cached_execute("DELETE FROM role_tokens WHERE election_id = ?1", [election])
            .map_err(db)?;
        for t in tokens {
            let role =
                serde_json::to_string(&t.role).map_err(|e| StorageError::Invalid(e.to_string()))?;
            tx.cached_execute(
                "INSERT INTO role_tokens (token_hash, election_id, role) VALUES (?1, ?2, ?3)",
                params![t.token_hash, election, role],
            )
            .map_err(db)?;
        }
        tx.commit().map_err(db)
    }

    fn role_token(&self, token_hash: &str) -> StorageResult<Option<RoleToken>> {
        let conn = self.private_r.get();
        let row: Option<(String, String)> = conn
            .cached_row(
                "SELECT election_id, role FROM role_tokens WHERE token_hash = ?1",
                [token_hash],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(db)?;
        row.map(|(election, role)| {
            Ok(RoleToken {
                token_hash: token_hash.to_owned(),
                election,
                role: serde_json::from_str(&role)
                    .map_err(|e| StorageError::Backend(format!("bad role: {e}")))?,
            })
        })
        .transpose()
    }

    fn credential_of_login(&self, election: &str, login: &str) -> StorageResult<Option<String>> {
        let conn = self.private_r.get();
        conn.cached_row(
            "SELECT credential FROM credential_bindings WHERE election_id = ?1 AND login = ?2",
            [election, login],
            |r| r.get(0),
        )
        .optional()
        .map_err(db)
    }

    fn bind_credentials(&self, bindings: &[CredentialBinding]) -> StorageResult<Vec<BindOutcome>> {
        let mut conn = lock(&self.private_w);
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(db)?;
        let mut outcomes = Vec::with_capacity(bindings.len());
        let mut wrote = false;
        for b in bindings {
            let outcome = bind_in(&tx, b)?;
            wrote |= outcome.1;
            outcomes.push(outcome.0);
        }
        if wrote {
            tx.commit().map_err(db)?;
        }
        Ok(outcomes)
    }

    /// The SQLite files belong to one node (the embedded choice): it runs the scheduler.
    fn request_credential_resend(
        &self,
        election: &str,
        login: &str,
        requested_by: &str,
        now: UnixTime,
    ) -> StorageResult<()> {
        let conn = lock(&self.private_w);
        conn.cached_execute(
            "INSERT INTO credential_resends (election_id, login, requested_by, requested_at, sent_at)
             VALUES (?1, ?2, ?3, ?4, NULL)
             ON CONFLICT (election_id, login) DO UPDATE SET requested_by = excluded.requested_by,
                 requested_at = excluded.requested_at, sent_at = NULL",
            params![election, login, requested_by, now],
        )
        .map_err(db)?;
        Ok(())
    }

    fn credential_resends(&self, election: &str) -> StorageResult<Vec<ResendRequest>> {
        let conn = self.private_r.get();
        let mut stmt = conn
            .prepare_cached(
                "SELECT login, requested_by, requested_at, sent_at FROM credential_resends
                 WHERE election_id = ?1 ORDER BY login",
            )
            .map_err(db)?;
        stmt.query_map([election], |r| {
            Ok(ResendRequest {
                login: r.get(0)?,
                requested_by: r.get(1)?,
                requested_at: r.get(2)?,
                sent_at: r.get(3)?,
            })
        })
        .map_err(db)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(db)
    }

    fn mark_credential_resent(
        &self,
        election: &str,
        login: &str,
        now: UnixTime,
    ) -> StorageResult<bool> {
        let conn = lock(&self.private_w);
        let n = conn
            .cached_execute(
                "UPDATE credential_resends SET sent_at = ?3
                 WHERE election_id = ?1 AND login = ?2 AND sent_at IS NULL",
                params![election, login, now],
            )
            .map_err(db)?;
        Ok(n > 0)
    }

    fn last_mail_of_kind(&self, election: &str, kind: &str) -> StorageResult<Option<UnixTime>> {
        let conn = self.private_r.get();
        conn.cached_row(
            "SELECT MAX(created_at) FROM mails WHERE election_id = ?1 AND kind = ?2",
            params![election, kind],
            |r| r.get(0),
        )
        .map_err(db)
    }

    fn set_trustee_emails(&self, election: &str, emails: &[(u32, String)]) -> StorageResult<()> {
        let mut conn = lock(&self.private_w);
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(db)?;
        tx.cached_execute(
            "DELETE FROM trustee_emails WHERE election_id = ?1",
            [election],
        )
        .map_err(db)?;
        for (index, email) in emails {
            tx.cached_execute(
                "INSERT INTO trustee_emails (election_id, trustee, email) VALUES (?1, ?2, ?3)",
                params![election, index, email],
            )
            .map_err(db)?;
        }
        tx.commit().map_err(db)
    }

    fn trustee_emails(&self, election: &str) -> StorageResult<Vec<(u32, String)>> {
        let conn = self.private_r.get();
        let mut stmt = conn
            .prepare_cached(
                "SELECT trustee, email FROM trustee_emails WHERE election_id = ?1 ORDER BY trustee",
            )
            .map_err(db)?;
        stmt.query_map([election], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(db)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(db)
    }

    fn record_trustee_wait(
        &self,
        election: &str,
        trustee: u32,
        step: &str,
        now: UnixTime,
    ) -> StorageResult<bool> {
        let conn = lock(&self.private_w);
        let n = conn
            .cached_execute(
                "INSERT INTO trustee_waits (election_id, trustee, step, since)
                 VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING",
                params![election, trustee, step, now],
            )
            .map_err(db)?;
        Ok(n > 0)
    }

    fn trustee_waits(&self, election: &str) -> StorageResult<Vec<(u32, String, UnixTime)>> {
        let conn = self.private_r.get();
        let mut stmt = conn
            .prepare_cached(
                "SELECT trustee, step, since FROM trustee_waits WHERE election_id = ?1
                 ORDER BY trustee, step",
            )
            .map_err(db)?;
        stmt.query_map([election], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .map_err(db)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(db)
    }

    fn claim(
        &self,
        election: &str,
        name: &str,
        at: UnixTime,
        not_within_secs: Option<i64>,
    ) -> StorageResult<bool> {
        let cutoff = super::claim_cutoff(at, not_within_secs)?;
        // One write transaction, taken at once: another process on the same file waits for
        // it and then finds the claim. A NULL cutoff never passes the `WHERE`, so with
        // `None` an existing claim is never renewed.
        let mut conn = lock(&self.private_w);
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(db)?;
        let n = tx
            .cached_execute(
                "INSERT INTO claims (election_id, name, claimed_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (election_id, name) DO UPDATE SET claimed_at = excluded.claimed_at
                 WHERE claims.claimed_at <= ?4",
                params![election, name, at, cutoff],
            )
            .map_err(db)?;
        tx.commit().map_err(db)?;
        Ok(n > 0)
    }

    fn claimed_at(&self, election: &str, name: &str) -> StorageResult<Option<UnixTime>> {
        let conn = self.private_r.get();
        conn.cached_row(
            "SELECT claimed_at FROM claims WHERE election_id = ?1 AND name = ?2",
            [election, name],
            |r| r.get(0),
        )
        .optional()
        .map_err(db)
    }

    fn scheduler_lease(&self) -> StorageResult<bool> {
        Ok(true)
    }
}

/// What only SQLite has: migrations of files made by earlier versions, and the triggers.
/// Behaviour common to every backend is tested in `tests/storage_conformance.rs`.
#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    /// The private writer's two connections keep their own `synchronous` setting: the
    /// durable one FULL (2), the relaxed one NORMAL (1), after relaxed writes too.
    #[test]
    fn the_private_writer_keeps_one_durable_and_one_relaxed_connection() {
        let dir = tempfile::tempdir().unwrap();
        let s = SqliteStorage::open(&dir.path().join("data")).unwrap();
        let level = |c: &Connection| -> i64 {
            c.query_row("PRAGMA synchronous", [], |r| r.get(0)).unwrap()
        };
        for _ in 0..2 {
            relaxed(&s.private_w, |c| {
                assert_eq!(level(c), 1);
                Ok(())
            })
            .unwrap();
            let w = lock(&s.private_w);
            assert_eq!(level(&w.durable), 2);
            assert_eq!(level(&w), 2, "the writer derefs to the durable connection");
        }
    }

    fn meta(id: &str) -> ElectionMeta {
        ElectionMeta {
            id: id.to_owned(),
            state: ElectionState::Draft,
            description_toml: "name = \"x\"".to_owned(),
            opens_at: None,
            closes_at: None,
            created_at: 1,
        }
    }

    #[test]
    fn accounts_made_before_roles_stay_server_administrators() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("data");
        crate::private_files::ensure_private_dir(&dir).unwrap();
        {
            let conn = Connection::open(dir.join("private.sqlite")).unwrap();
            conn.execute_batch(
                "CREATE TABLE admins (username TEXT PRIMARY KEY, password_hash TEXT NOT NULL,
                 created_at INTEGER NOT NULL);
                 INSERT INTO admins VALUES ('root', 'x', 1);",
            )
            .unwrap();
        }
        let s = SqliteStorage::open(&dir).unwrap();
        assert_eq!(s.admin("root").unwrap().unwrap().role, AdminRole::Server);
        s.create_admin(&AdminAccount {
            username: "olga".into(),
            password_hash: "y".into(),
            role: AdminRole::Official,
        })
        .unwrap();
        assert_eq!(
            s.admins().unwrap(),
            [
                ("olga".to_owned(), AdminRole::Official),
                ("root".to_owned(), AdminRole::Server)
            ]
        );
        assert_eq!(s.election_owner("e").unwrap(), None);
        s.set_election_owner("e", "olga").unwrap();
        assert_eq!(s.election_owner("e").unwrap().as_deref(), Some("olga"));
        drop(s);
        // Opening again changes nothing.
        let s = SqliteStorage::open(&dir).unwrap();
        assert_eq!(s.admin("olga").unwrap().unwrap().role, AdminRole::Official);
    }

    #[test]
    fn languages_are_kept_and_old_stores_gain_the_column() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("data");
        crate::private_files::ensure_private_dir(&dir).unwrap();
        // A private store as an earlier version made it: voters without a language.
        {
            let conn = Connection::open(dir.join("private.sqlite")).unwrap();
            conn.execute_batch(
                "CREATE TABLE voters (election_id TEXT NOT NULL, login TEXT NOT NULL,
                 email TEXT NOT NULL, weight INTEGER NOT NULL, PRIMARY KEY (election_id, login))
                 WITHOUT ROWID;
                 INSERT INTO voters VALUES ('e', 'old', 'old@x.org', 1);",
            )
            .unwrap();
        }
        let s = SqliteStorage::open(&dir).unwrap();
        assert_eq!(s.voter("e", "old").unwrap().unwrap().language, None);
        let fr = Voter {
            login: "fr".to_owned(),
            email: "fr@x.org".to_owned(),
            weight: 1,
            language: Some(Lang::Fr),
        };
        assert!(
            s.add_voters("e", std::slice::from_ref(&fr))
                .unwrap()
                .is_empty()
        );
        assert_eq!(s.voter("e", "fr").unwrap().unwrap(), fr);
        assert_eq!(s.list_voters("e", "", 10).unwrap()[0], fr);
        assert_eq!(s.mail_language("e").unwrap(), None);
        s.set_mail_language("e", Lang::Fr).unwrap();
        s.set_mail_language("e", Lang::En).unwrap();
        assert_eq!(s.mail_language("e").unwrap(), Some(Lang::En));
        drop(s);
        // Opening it again changes nothing.
        let s = SqliteStorage::open(&dir).unwrap();
        assert_eq!(s.voter("e", "fr").unwrap().unwrap(), fr);
        assert_eq!(s.mail_language("e").unwrap(), Some(Lang::En));
    }

    #[test]
    fn append_only_triggers() {
        let dir = tempfile::tempdir().unwrap();
        let s = SqliteStorage::open(&dir.path().join("data")).unwrap();
        s.create_election(&meta("e")).unwrap();
        s.append_events("e", 0, &["a".into()], &[]).unwrap();
        s.set_election_state("e", ElectionState::Draft, ElectionState::Open)
            .unwrap();
        // Only the record of a draft, deleted with its election, may go.
        s.create_election(&meta("draft")).unwrap();
        s.append_events("draft", 0, &["a".into()], &[]).unwrap();
        assert!(matches!(
            s.delete_draft_election("e"),
            Err(StorageError::StateMismatch { .. })
        ));
        s.delete_draft_election("draft").unwrap();
        assert!(s.election("draft").unwrap().is_none());
        let conn = lock(&s.board_w);
        assert!(conn.execute("DELETE FROM events", []).is_err());
        assert!(conn.execute("UPDATE events SET line = 'b'", []).is_err());
        let lines: i64 = conn
            .query_row("SELECT count(*) FROM events", [], |r| r.get(0))
            .unwrap();
        assert_eq!(lines, 1);
    }
}
