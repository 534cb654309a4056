//! PostgreSQL backend: one database shared by any number of server nodes.
//!
//! The public board lives in the schema `board`, everything that identifies a voter or an
//! administrator in the schema `private`; the NOLOGIN role `scrutin_board_reader` (created
//! when the connecting role may create roles) is granted `USAGE` and `SELECT` on `board`
//! only, so a login role granted it reads the record and is refused the voter list.
//!
//! Several nodes append to one election: [`PostgresStorage::append_events`] locks the
//! election's row (`SELECT … FOR UPDATE`) before it reads the next sequence number, so
//! appends to one election are serialized across connections and nodes (no fork, gap or
//! duplicate), and the primary key `(election_id, seq)` backs that up. One-time code sends
//! and attempts take a transaction advisory lock on `(election, login)`, so their limits
//! hold across nodes. Every connection runs with `synchronous_commit=on`: a commit is
//! flushed before the call returns. Only the writes a voter can redo and that protect
//! nothing once lost — login codes and their attempts, sessions, mail status — commit with
//! `synchronous_commit = off`, through a second, smaller pool of connections set so
//! ([`PostgresStorage::with_relaxed`]): a crash of the database server may undo the last of
//! them (the voter asks for another code or signs in again), as on SQLite. A single write
//! there is one round trip, with no transaction to open and no setting to change.
//!
//! The [`Storage`] trait is synchronous. The backend owns a small tokio runtime that drives
//! the connections; each method enters that runtime and waits for its future on the calling
//! thread ([`PostgresStorage::run`]), which works from tokio's blocking pool, from a plain
//! thread and from inside an async task alike (the last blocks that task's thread, as any
//! synchronous storage call does).
//!
//! The election scheduler runs on one node at a time: [`Storage::scheduler_lease`] is a
//! session advisory lock on a connection of its own, released by PostgreSQL when that
//! connection ends.
//!
//! The schema is versioned in `private.schema_version`; [`PostgresStorage::open`] applies
//! the missing migrations in one transaction under an advisory lock, so nodes starting
//! together do not race.

use std::collections::HashMap;
use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use deadpool_postgres::{GenericClient, Manager, ManagerConfig, Object, Pool, RecyclingMethod};
use tokio_postgres::NoTls;
use tokio_postgres::Row;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::ToSql;

use super::{
    AdminAccount, AdminRole, AuditEntry, BallotIndexEntry, BindOutcome, BoardHead, CastFacts,
    CredentialBinding, ElectionMeta, ElectionState, MailFacts, MailFailure, MailStatus,
    MailStatusCounts, MailStatusUpdate, NewMail, OtpAttemptLimits, OtpOutcome, OtpRecord,
    OtpSendLimits, ResendRequest, RoleToken, SessionRecord, SessionSubject, Storage, StorageError,
    StorageResult, StoredCheckpoint, UnixTime, Voter,
};
use crate::mail_text::Lang;

/// Connections of the relaxed pool (`synchronous_commit = off`), per node.
const RELAXED_POOL_SIZE: usize = 8;

/// The statement of a transaction advisory lock on a text key.
const ADVISORY_LOCK: &str = "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))";

/// The [`ADVISORY_LOCK`] key under which a login's codes are issued and checked, so that the
/// count and the write of a request or a check are one step for every node.
fn otp_lock_key(election: &str, login: &str) -> String {
    format!("otp/{election}/{login}")
}

// The reads that a single method makes and that `cast_facts` or `mail_facts` pipeline: one
// text each, so both share the connection's prepared statement.

/// The credential a login is bound to (`$1` election, `$2` login).
const CREDENTIAL_OF_LOGIN: &str =
    "SELECT credential FROM private.credential_bindings WHERE election_id = $1 AND login = $2";
/// The seq of a ballot by its tracker (`$1` election, `$2` tracker).
const BALLOT_BY_TRACKER: &str =
    "SELECT seq FROM board.ballot_index WHERE election_id = $1 AND tracker = $2";
/// The number of ballots of a credential (`$1` election, `$2` credential).
const BALLOTS_OF_CREDENTIAL: &str =
    "SELECT COUNT(*) FROM board.ballot_index WHERE election_id = $1 AND credential = $2";
/// An election's mail language (`$1` election).
const MAIL_LANGUAGE: &str = "SELECT language FROM private.election_mail WHERE election_id = $1";

/// An election by id (`$1`).
fn election_by_id() -> String {
    format!("SELECT {ELECTION_COLS} FROM board.elections WHERE id = $1")
}

/// A voter by login (`$1` election, `$2` login).
fn voter_by_login() -> String {
    format!("SELECT {VOTER_COLS} FROM private.voters WHERE election_id = $1 AND login = $2")
}

/// The role granted read access to the board schema only.
pub const BOARD_READER_ROLE: &str = "scrutin_board_reader";

/// Advisory lock key held while migrating ("scrutin" in ASCII).
const MIGRATION_LOCK: i64 = 0x0073_6372_7574_696e;

/// Session advisory lock key of the scheduler lease ("schedule" in ASCII).
const SCHEDULER_LEASE: i64 = 0x7363_6865_6475_6c65;

/// Connections kept by one node.
const POOL_SIZE: usize = 16;

/// The migrations, in order; `private.schema_version` holds how many were applied.
const MIGRATIONS: &[&str] = &[
    r#"
CREATE SCHEMA IF NOT EXISTS board;
REVOKE ALL ON SCHEMA private FROM PUBLIC;
REVOKE ALL ON SCHEMA board FROM PUBLIC;

CREATE TABLE board.elections (
    id TEXT COLLATE "C" PRIMARY KEY,
    state TEXT NOT NULL,
    description_toml TEXT NOT NULL,
    opens_at BIGINT,
    closes_at BIGINT,
    created_at BIGINT NOT NULL
);
CREATE TABLE board.events (
    election_id TEXT COLLATE "C" NOT NULL REFERENCES board.elections (id),
    seq BIGINT NOT NULL CHECK (seq >= 0),
    line TEXT NOT NULL,
    PRIMARY KEY (election_id, seq)
);
CREATE TABLE board.ballot_index (
    election_id TEXT COLLATE "C" NOT NULL,
    tracker TEXT COLLATE "C" NOT NULL,
    credential TEXT COLLATE "C" NOT NULL,
    seq BIGINT NOT NULL,
    CONSTRAINT ballot_index_tracker PRIMARY KEY (election_id, tracker)
);
CREATE INDEX ballot_by_credential ON board.ballot_index (election_id, credential, seq);
CREATE INDEX ballot_by_seq ON board.ballot_index (election_id, seq);
CREATE FUNCTION board.append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
END $$;
CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON board.events
    FOR EACH ROW EXECUTE FUNCTION board.append_only();
CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON board.events
    FOR EACH STATEMENT EXECUTE FUNCTION board.append_only();

CREATE TABLE private.voters (
    election_id TEXT COLLATE "C" NOT NULL,
    login TEXT COLLATE "C" NOT NULL,
    email TEXT COLLATE "C" NOT NULL,
    weight BIGINT NOT NULL,
    language TEXT,
    PRIMARY KEY (election_id, login)
);
CREATE TABLE private.admins (
    username TEXT COLLATE "C" PRIMARY KEY,
    password_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    role TEXT NOT NULL
);
CREATE TABLE private.sessions (
    token_hash TEXT COLLATE "C" PRIMARY KEY,
    subject TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_expiry ON private.sessions (expires_at);
CREATE TABLE private.login_codes (
    election_id TEXT COLLATE "C" NOT NULL,
    login TEXT COLLATE "C" NOT NULL,
    salt TEXT COLLATE "C" NOT NULL,
    code_hash TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (election_id, login, salt)
);
CREATE TABLE private.login_code_failures (
    election_id TEXT COLLATE "C" NOT NULL,
    login TEXT COLLATE "C" NOT NULL,
    client TEXT COLLATE "C" NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX login_code_failures_by_login
    ON private.login_code_failures (election_id, login, at);
CREATE TABLE private.otp_sends (
    election_id TEXT COLLATE "C" NOT NULL,
    login TEXT COLLATE "C" NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX otp_sends_by_login ON private.otp_sends (election_id, login, at);
CREATE TABLE private.audit_log (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    election_id TEXT COLLATE "C",
    action TEXT NOT NULL,
    details TEXT NOT NULL
);
CREATE INDEX audit_by_election ON private.audit_log (election_id, id);
CREATE FUNCTION private.append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
END $$;
CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON private.audit_log
    FOR EACH ROW EXECUTE FUNCTION private.append_only();
CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON private.audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION private.append_only();
CREATE TABLE private.mails (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    election_id TEXT COLLATE "C",
    login TEXT COLLATE "C" NOT NULL,
    kind TEXT COLLATE "C" NOT NULL,
    status TEXT NOT NULL,
    error TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX mails_by_election ON private.mails (election_id, status);
CREATE INDEX mails_by_login ON private.mails (election_id, login, kind, id);
CREATE INDEX mails_queued ON private.mails (status) WHERE status = 'queued';
CREATE TABLE private.role_tokens (
    token_hash TEXT COLLATE "C" PRIMARY KEY,
    election_id TEXT COLLATE "C" NOT NULL,
    role TEXT NOT NULL
);
CREATE INDEX role_tokens_by_election ON private.role_tokens (election_id);
CREATE TABLE private.election_mail (
    election_id TEXT COLLATE "C" PRIMARY KEY,
    language TEXT NOT NULL
);
CREATE TABLE private.credential_bindings (
    election_id TEXT COLLATE "C" NOT NULL,
    login TEXT COLLATE "C" NOT NULL,
    credential TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (election_id, login),
    UNIQUE (election_id, credential)
);
CREATE TABLE private.election_owners (
    election_id TEXT COLLATE "C" PRIMARY KEY,
    username TEXT COLLATE "C" NOT NULL
);
"#,
    // 2: the lines of a draft election (which never opened) go when the draft is deleted; every
    // other line stays append-only.
    r#"
CREATE FUNCTION board.events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE'
       AND (SELECT state FROM board.elections WHERE id = OLD.election_id) = 'draft' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
END $$;
DROP TRIGGER events_append_only ON board.events;
CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON board.events
    FOR EACH ROW EXECUTE FUNCTION board.events_append_only();
"#,
    // 3: officials' requests to mail a credential again, trustees' mail addresses, and the
    // latest mail of a kind (reminders).
    r#"
CREATE TABLE private.credential_resends (
    election_id TEXT COLLATE "C" NOT NULL,
    login TEXT COLLATE "C" NOT NULL,
    requested_by TEXT NOT NULL,
    requested_at BIGINT NOT NULL,
    sent_at BIGINT,
    PRIMARY KEY (election_id, login)
);
CREATE TABLE private.trustee_emails (
    election_id TEXT COLLATE "C" NOT NULL,
    trustee BIGINT NOT NULL,
    email TEXT NOT NULL,
    PRIMARY KEY (election_id, trustee)
);
CREATE TABLE private.trustee_waits (
    election_id TEXT COLLATE "C" NOT NULL,
    trustee BIGINT NOT NULL,
    step TEXT COLLATE "C" NOT NULL,
    since BIGINT NOT NULL,
    PRIMARY KEY (election_id, trustee, step)
);
CREATE INDEX mails_by_kind ON private.mails (election_id, kind, created_at);
"#,
    // 4: claims, which keep "at most once" rules (one reminder mailing an hour, one mail to a
    // trustee per step) across the nodes sharing the database.
    r#"
CREATE TABLE private.claims (
    election_id TEXT COLLATE "C" NOT NULL,
    name TEXT COLLATE "C" NOT NULL,
    claimed_at BIGINT NOT NULL,
    PRIMARY KEY (election_id, name)
);
"#,
    // 5: the latest checkpoint of each election's verified state, derived from the board's
    // lines alone (a node's cache; not part of the record).
    r#"
CREATE TABLE board.checkpoints (
    election_id TEXT COLLATE "C" PRIMARY KEY REFERENCES board.elections (id),
    events BIGINT NOT NULL CHECK (events >= 0),
    head TEXT NOT NULL,
    bytes BYTEA NOT NULL
);
"#,
];

/// Creates the board reader role when it is missing and the connecting role may create
/// roles, then grants it the board schema (run after every migration: new tables included).
const GRANT_BOARD_READER: &str = r#"
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'scrutin_board_reader')
       AND EXISTS (SELECT FROM pg_roles WHERE rolname = current_user
                   AND (rolsuper OR rolcreaterole)) THEN
        BEGIN
            CREATE ROLE scrutin_board_reader NOLOGIN;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL; -- another database of the cluster created it meanwhile
        END;
    END IF;
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'scrutin_board_reader') THEN
        GRANT USAGE ON SCHEMA board TO scrutin_board_reader;
        GRANT SELECT ON ALL TABLES IN SCHEMA board TO scrutin_board_reader;
    END IF;
END $$;
"#;

/// PostgreSQL implementation of [`Storage`].
pub struct PostgresStorage {
    pool: Pool,
    /// Connections whose commits use `synchronous_commit = off`, for the writes a voter can
    /// redo ([`PostgresStorage::with_relaxed`]).
    relaxed: Pool,
    /// For the connection of the scheduler lease (outside the pool: the lease is a session
    /// advisory lock, held as long as that connection lives).
    config: tokio_postgres::Config,
    lease: tokio::sync::Mutex<Lease>,
    handle: tokio::runtime::Handle,
    /// Drives the connections; shut down without blocking on drop (which may happen inside
    /// an async task).
    runtime: Option<tokio::runtime::Runtime>,
}

impl Drop for PostgresStorage {
    fn drop(&mut self) {
        self.pool.close();
        self.relaxed.close();
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

/// The scheduler lease's own connection, and whether its session holds the lease.
#[derive(Default)]
struct Lease {
    client: Option<tokio_postgres::Client>,
    held: bool,
}

/// Wakes the thread that waits in [`wait_for`].
struct ThreadWaker(std::thread::Thread);

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

/// Polls `fut` on this thread, parking between wake-ups.
fn wait_for<F: Future>(fut: F) -> F::Output {
    let mut fut = pin!(fut);
    let waker = Waker::from(Arc::new(ThreadWaker(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    loop {
        if let Poll::Ready(v) = fut.as_mut().poll(&mut cx) {
            return v;
        }
        std::thread::park();
    }
}

fn db(e: tokio_postgres::Error) -> StorageError {
    match e.as_db_error() {
        Some(d) if unavailable(d.code()) => {
            StorageError::Unavailable(format!("PostgreSQL: {} ({})", d.message(), d.code().code()))
        }
        Some(d) => {
            StorageError::Backend(format!("PostgreSQL: {} ({})", d.message(), d.code().code()))
        }
        // No answer from the server: the connection is closed, refused or broken.
        None if connection_lost(&e) => StorageError::Unavailable(format!("PostgreSQL: {e}")),
        None => StorageError::Backend(format!("PostgreSQL: {e}")),
    }
}

/// A connection closed, refused, timed out or broken by an I/O error (not a query error).
fn connection_lost(e: &tokio_postgres::Error) -> bool {
    let io = std::error::Error::source(e).is_some_and(|s| s.is::<std::io::Error>());
    let text = e.to_string();
    e.is_closed()
        || io
        || text.starts_with("error connecting to server")
        || text.starts_with("timeout waiting for server")
}

/// The errors a failover or a restart of the database server gives: connection exceptions
/// (class 08), the server shutting down or starting (57P01–57P03), and a write refused by a
/// server that is (still or again) a standby (25006). The request may be tried again.
fn unavailable(code: &SqlState) -> bool {
    code.code().starts_with("08")
        || [
            SqlState::ADMIN_SHUTDOWN,
            SqlState::CRASH_SHUTDOWN,
            SqlState::CANNOT_CONNECT_NOW,
            SqlState::READ_ONLY_SQL_TRANSACTION,
        ]
        .contains(code)
}

fn is_unique_violation(e: &tokio_postgres::Error) -> bool {
    e.code() == Some(&SqlState::UNIQUE_VIOLATION)
}

fn to_i64(v: u64) -> StorageResult<i64> {
    i64::try_from(v).map_err(|_| StorageError::Invalid("number out of range".to_owned()))
}

fn to_u64(v: i64) -> StorageResult<u64> {
    u64::try_from(v).map_err(|_| StorageError::Backend("negative number in database".to_owned()))
}

fn limit_of(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}

fn count_u32(n: i64) -> u32 {
    u32::try_from(n.max(0)).unwrap_or(u32::MAX)
}

fn state_of(s: &str) -> StorageResult<ElectionState> {
    ElectionState::parse(s).ok_or_else(|| StorageError::Backend(format!("bad state {s}")))
}

fn mail_status_of(s: &str) -> StorageResult<MailStatus> {
    match s {
        "queued" => Ok(MailStatus::Queued),
        "sent" => Ok(MailStatus::Sent),
        "failed" => Ok(MailStatus::Failed),
        other => Err(StorageError::Backend(format!("bad mail status {other}"))),
    }
}

fn election_from_row(r: &tokio_postgres::Row) -> StorageResult<ElectionMeta> {
    Ok(ElectionMeta {
        id: r.try_get(0).map_err(db)?,
        state: state_of(r.try_get(1).map_err(db)?)?,
        description_toml: r.try_get(2).map_err(db)?,
        opens_at: r.try_get(3).map_err(db)?,
        closes_at: r.try_get(4).map_err(db)?,
        created_at: r.try_get(5).map_err(db)?,
    })
}

fn voter_from_row(r: &tokio_postgres::Row) -> StorageResult<Voter> {
    let language: Option<&str> = r.try_get(3).map_err(db)?;
    Ok(Voter {
        login: r.try_get(0).map_err(db)?,
        email: r.try_get(1).map_err(db)?,
        weight: to_u64(r.try_get(2).map_err(db)?)?,
        language: language.and_then(Lang::parse),
    })
}

const ELECTION_COLS: &str = "id, state, description_toml, opens_at, closes_at, created_at";
const VOTER_COLS: &str = "login, email, weight, language";

/// The state of an election, its row locked until the end of the transaction.
async fn lock_election(
    tx: &deadpool_postgres::Transaction<'_>,
    id: &str,
) -> StorageResult<ElectionState> {
    let row = tx
        .cached_query_opt(
            "SELECT state FROM board.elections WHERE id = $1 FOR UPDATE",
            &[&id],
        )
        .await
        .map_err(db)?;
    match row {
        Some(r) => state_of(r.try_get(0).map_err(db)?),
        None => Err(StorageError::NotFound(format!("election {id}"))),
    }
}

/// Serializes, across nodes, the transactions that hold the same `key` (released at commit
/// or rollback).
async fn advisory_lock(tx: &deadpool_postgres::Transaction<'_>, key: &str) -> StorageResult<()> {
    tx.cached_execute(ADVISORY_LOCK, &[&key])
        .await
        .map_err(db)?;
    Ok(())
}

/// Binds `b` in `tx`, whose election's binding lock is held (see
/// [`Storage::bind_credential`]).
async fn bind_in(
    tx: &deadpool_postgres::Transaction<'_>,
    b: &CredentialBinding,
) -> StorageResult<BindOutcome> {
    let mine = tx
        .cached_query_opt(CREDENTIAL_OF_LOGIN, &[&b.election, &b.login])
        .await
        .map_err(db)?;
    if let Some(r) = mine {
        let c: &str = r.try_get(0).map_err(db)?;
        return Ok(if c == b.credential {
            BindOutcome::Bound
        } else {
            BindOutcome::LoginUsesAnother
        });
    }
    let other = tx
        .cached_query_opt(
            "SELECT login FROM private.credential_bindings
             WHERE election_id = $1 AND credential = $2",
            &[&b.election, &b.credential],
        )
        .await
        .map_err(db)?;
    if other.is_some() {
        return Ok(BindOutcome::CredentialTaken);
    }
    tx.cached_execute(
        "INSERT INTO private.credential_bindings (election_id, login, credential)
         VALUES ($1, $2, $3)",
        &[&b.election, &b.login, &b.credential],
    )
    .await
    .map_err(db)?;
    Ok(BindOutcome::Bound)
}

/// Inserts `voters` in `tx`; returns the index of each one whose login is already on the
/// list (not inserted). The caller commits or rolls back.
async fn insert_voters(
    tx: &deadpool_postgres::Transaction<'_>,
    election: &str,
    voters: &[Voter],
) -> StorageResult<Vec<usize>> {
    let ins = tx
        .prepare_cached(
            "INSERT INTO private.voters (election_id, login, email, weight, language)
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
        )
        .await
        .map_err(db)?;
    let mut refused = Vec::new();
    for (i, v) in voters.iter().enumerate() {
        let n = tx
            .execute(
                &ins,
                &[
                    &election,
                    &v.login,
                    &v.email,
                    &to_i64(v.weight)?,
                    &v.language.map(Lang::code),
                ],
            )
            .await
            .map_err(db)?;
        if n == 0 {
            refused.push(i);
        }
    }
    Ok(refused)
}

impl PostgresStorage {
    /// Connects to the database at `url` (`postgresql://user:password@host:port/db`, or
    /// key=value pairs), applies the missing migrations and grants the board reader role.
    pub fn open(url: &str) -> StorageResult<Self> {
        // The error of a connection string may quote it, password included: it is not shown.
        let mut config: tokio_postgres::Config = url.parse().map_err(|_| {
            StorageError::Invalid(
                "the database URL is not a PostgreSQL connection string \
                 (postgresql://user:password@host:port/database)"
                    .to_owned(),
            )
        })?;
        let given = config.get_options().map(str::to_owned);
        let with_sync = |value: &str| match &given {
            Some(o) => format!("{o} -c synchronous_commit={value}"),
            None => format!("-c synchronous_commit={value}"),
        };
        let mut relaxed_config = config.clone();
        config.options(with_sync("on"));
        relaxed_config.options(with_sync("off"));
        for c in [&mut config, &mut relaxed_config] {
            if c.get_application_name().is_none() {
                c.application_name("scrutin");
            }
            if c.get_connect_timeout().is_none() {
                c.connect_timeout(Duration::from_secs(10));
            }
        }
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("scrutin-postgres")
            .enable_all()
            .build()
            .map_err(|e| {
                StorageError::Backend(format!("cannot start the database runtime: {e}"))
            })?;
        let pool = |config: &tokio_postgres::Config, size: usize| {
            let manager = Manager::from_config(
                config.clone(),
                NoTls,
                ManagerConfig {
                    recycling_method: RecyclingMethod::Fast,
                },
            );
            Pool::builder(manager)
                .max_size(size)
                .runtime(deadpool_postgres::Runtime::Tokio1)
                .wait_timeout(Some(Duration::from_secs(30)))
                .create_timeout(Some(Duration::from_secs(15)))
                .build()
                .map_err(|e| {
                    StorageError::Backend(format!("cannot build the connection pool: {e}"))
                })
        };
        let storage = Self {
            pool: pool(&config, POOL_SIZE)?,
            relaxed: pool(&relaxed_config, RELAXED_POOL_SIZE)?,
            config,
            lease: tokio::sync::Mutex::new(Lease::default()),
            handle: runtime.handle().clone(),
            runtime: Some(runtime),
        };
        storage.run(storage.migrate())?;
        Ok(storage)
    }

    /// The `synchronous_commit` setting of a connection of each pool: the durable one
    /// (every write but the relaxed ones; `on` unless the URL's options say otherwise) and
    /// the relaxed one (`off`).
    pub fn synchronous_commit_settings(&self) -> StorageResult<(String, String)> {
        self.run(async {
            let show = async |c: Object| -> StorageResult<String> {
                c.cached_query_one("SHOW synchronous_commit", &[])
                    .await
                    .map_err(db)?
                    .try_get(0)
                    .map_err(db)
            };
            Ok((
                show(self.client().await?).await?,
                show(self.relaxed_client().await?).await?,
            ))
        })
    }

    /// Runs `fut` to completion on the calling thread, in the context of the backend's
    /// runtime (whose worker threads drive the connections). Cooperative scheduling is off
    /// for it: the caller's task budget, if any, must not stall it.
    fn run<T>(&self, fut: impl Future<Output = StorageResult<T>>) -> StorageResult<T> {
        let _entered = self.handle.enter();
        wait_for(tokio::task::unconstrained(fut))
    }

    async fn client(&self) -> StorageResult<Object> {
        Self::client_of(&self.pool).await
    }

    /// A connection of the relaxed pool (`synchronous_commit = off`).
    async fn relaxed_client(&self) -> StorageResult<Object> {
        Self::client_of(&self.relaxed).await
    }

    async fn client_of(pool: &Pool) -> StorageResult<Object> {
        pool.get().await.map_err(|e| match e {
            deadpool_postgres::PoolError::Backend(e) => db(e),
            // A connection could not be made or waited for in time.
            e => StorageError::Unavailable(format!("PostgreSQL connection: {e}")),
        })
    }

    async fn migrate(&self) -> StorageResult<()> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db)?;
        tx.cached_execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
            .await
            .map_err(db)?;
        tx.batch_execute(
            "CREATE SCHEMA IF NOT EXISTS private;
             CREATE TABLE IF NOT EXISTS private.schema_version (version INTEGER NOT NULL);",
        )
        .await
        .map_err(db)?;
        let version: i32 = tx
            .cached_query_one(
                "SELECT COALESCE(MAX(version), 0) FROM private.schema_version",
                &[],
            )
            .await
            .map_err(db)?
            .try_get(0)
            .map_err(db)?;
        let known = i32::try_from(MIGRATIONS.len()).unwrap_or(i32::MAX);
        if version > known {
            return Err(StorageError::Backend(format!(
                "the database schema is version {version}, newer than this server's {known}: \
                 upgrade the server"
            )));
        }
        for (v, sql) in (1..)
            .zip(MIGRATIONS)
            .skip(usize::try_from(version).unwrap_or(0))
        {
            tx.batch_execute(sql).await.map_err(|e| {
                let StorageError::Backend(m) = db(e) else {
                    return StorageError::Backend(format!("migration {v} failed"));
                };
                StorageError::Backend(format!("migration {v} failed: {m}"))
            })?;
            tx.cached_execute(
                "INSERT INTO private.schema_version (version) VALUES ($1)",
                &[&v],
            )
            .await
            .map_err(db)?;
        }
        tx.batch_execute(GRANT_BOARD_READER).await.map_err(db)?;
        tx.commit().await.map_err(db)
    }

    /// Runs `f` on a pooled connection.
    fn with_client<T>(&self, f: impl AsyncFnOnce(&Object) -> StorageResult<T>) -> StorageResult<T> {
        self.run(async {
            let client = self.client().await?;
            f(&client).await
        })
    }

    /// Runs `f` on a connection of the relaxed pool, whose commits use
    /// `synchronous_commit = off`: for the writes a voter can redo (login codes and attempts,
    /// sessions, mail status), which a crash of the database server may undo without harm
    /// (see the module's doc). Each statement commits on its own.
    fn with_relaxed<T>(
        &self,
        f: impl AsyncFnOnce(&Object) -> StorageResult<T>,
    ) -> StorageResult<T> {
        self.run(async {
            let client = self.relaxed_client().await?;
            f(&client).await
        })
    }

    /// [`PostgresStorage::with_relaxed`] in one transaction, for writes that go together.
    fn with_relaxed_transaction<T>(
        &self,
        f: impl AsyncFnOnce(&deadpool_postgres::Transaction<'_>) -> StorageResult<T>,
    ) -> StorageResult<T> {
        self.run(async {
            let mut client = self.relaxed_client().await?;
            let tx = client.transaction().await.map_err(db)?;
            let out = f(&tx).await?;
            tx.commit().await.map_err(db)?;
            Ok(out)
        })
    }
}

/// Queries through the connection's statement cache (deadpool's `prepare_cached`): each SQL
/// text is parsed and planned once per connection, and a query then takes one round trip
/// instead of two (a query given as text is first prepared by the server, then run).
trait CachedQueries: GenericClient {
    async fn cached_query(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> PgResult<Vec<Row>> {
        let statement = self.prepare_cached(sql).await?;
        self.query(&statement, params).await
    }

    async fn cached_query_opt(
        &self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> PgResult<Option<Row>> {
        let statement = self.prepare_cached(sql).await?;
        self.query_opt(&statement, params).await
    }

    async fn cached_query_one(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> PgResult<Row> {
        let statement = self.prepare_cached(sql).await?;
        self.query_one(&statement, params).await
    }

    async fn cached_execute(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> PgResult<u64> {
        let statement = self.prepare_cached(sql).await?;
        self.execute(&statement, params).await
    }

    /// Runs `statements` in their order in one round trip, and answers the rows of each.
    /// All are prepared first (from the cache; a round trip only for those not prepared
    /// yet on this connection), then all are sent before the first answer is read: the
    /// connection pipelines requests polled together, and the server runs them in the
    /// order sent. A failed statement fails the ones after it in a transaction.
    async fn pipelined(&self, statements: &[Sql<'_>]) -> PgResult<Vec<Vec<Row>>> {
        let prepared = futures_util::future::try_join_all(
            statements.iter().map(|(sql, _)| self.prepare_cached(sql)),
        )
        .await?;
        futures_util::future::try_join_all(
            prepared
                .iter()
                .zip(statements)
                .map(|(statement, (_, params))| self.query(statement, params)),
        )
        .await
    }
}

/// A statement and its parameters, for [`CachedQueries::pipelined`].
type Sql<'a> = (&'a str, &'a [&'a (dyn ToSql + Sync)]);

/// The first column of the first row of a statement's answer (a `COUNT`, say).
fn first_value<T: for<'r> tokio_postgres::types::FromSql<'r>>(
    rows: &[Vec<Row>],
    i: usize,
) -> StorageResult<T> {
    rows.get(i)
        .and_then(|r| r.first())
        .ok_or_else(|| StorageError::Backend("a statement answered no row".to_owned()))?
        .try_get(0)
        .map_err(db)
}

impl<C: GenericClient> CachedQueries for C {}

type PgResult<T> = Result<T, tokio_postgres::Error>;

impl Storage for PostgresStorage {
    fn create_election(&self, meta: &ElectionMeta) -> StorageResult<()> {
        if !super::valid_election_id(&meta.id) {
            return Err(StorageError::Invalid("bad election id".to_owned()));
        }
        self.with_client(async |c| {
            let r = c
                .cached_execute(
                    "INSERT INTO board.elections
                     (id, state, description_toml, opens_at, closes_at, created_at)
                     VALUES ($1, 'draft', $2, $3, $4, $5)",
                    &[
                        &meta.id,
                        &meta.description_toml,
                        &meta.opens_at,
                        &meta.closes_at,
                        &meta.created_at,
                    ],
                )
                .await;
            match r {
                Ok(_) => Ok(()),
                Err(e) if is_unique_violation(&e) => {
                    Err(StorageError::AlreadyExists(format!("election {}", meta.id)))
                }
                Err(e) => Err(db(e)),
            }
        })
    }

    fn election(&self, id: &str) -> StorageResult<Option<ElectionMeta>> {
        self.with_client(async |c| {
            let row = c
                .cached_query_opt(&election_by_id(), &[&id])
                .await
                .map_err(db)?;
            row.as_ref().map(election_from_row).transpose()
        })
    }

    fn list_elections(&self) -> StorageResult<Vec<ElectionMeta>> {
        self.with_client(async |c| {
            let rows = c
                .cached_query(
                    &format!("SELECT {ELECTION_COLS} FROM board.elections ORDER BY created_at, id"),
                    &[],
                )
                .await
                .map_err(db)?;
            rows.iter().map(election_from_row).collect()
        })
    }

    fn set_election_state(
        &self,
        id: &str,
        from: ElectionState,
        to: ElectionState,
    ) -> StorageResult<()> {
        self.run(async {
            let mut client = self.client().await?;
            let tx = client.transaction().await.map_err(db)?;
            let actual = lock_election(&tx, id).await?;
            if actual != from {
                return Err(StorageError::StateMismatch {
                    expected: from,
                    actual,
                });
            }
            tx.cached_execute(
                "UPDATE board.elections SET state = $2 WHERE id = $1",
                &[&id, &to.as_str()],
            )
            .await
            .map_err(db)?;
            tx.commit().await.map_err(db)
        })
    }

    fn delete_draft_election(&self, id: &str) -> StorageResult<()> {
        self.run(async {
            let mut client = self.client().await?;
            let tx = client.transaction().await.map_err(db)?;
            let actual = lock_election(&tx, id).await?;
            if actual != ElectionState::Draft {
                return Err(StorageError::StateMismatch {
                    expected: ElectionState::Draft,
                    actual,
                });
            }
            // Board and private store in one transaction: both schemas are one database.
            for table in [
                "board.ballot_index",
                "board.checkpoints",
                "board.events",
                "board.elections",
                "private.voters",
                "private.login_codes",
                "private.login_code_failures",
                "private.otp_sends",
                "private.mails",
                "private.role_tokens",
                "private.election_mail",
                "private.credential_bindings",
                "private.election_owners",
                "private.credential_resends",
                "private.trustee_emails",
                "private.trustee_waits",
                "private.claims",
            ] {
                let column = if table == "board.elections" {
                    "id"
                } else {
                    "election_id"
                };
                tx.cached_execute(&format!("DELETE FROM {table} WHERE {column} = $1"), &[&id])
                    .await
                    .map_err(db)?;
            }
            tx.commit().await.map_err(db)
        })
    }

    fn update_election_draft(
        &self,
        id: &str,
        description_toml: &str,
        opens_at: Option<UnixTime>,
        closes_at: Option<UnixTime>,
    ) -> StorageResult<()> {
        self.run(async {
            let mut client = self.client().await?;
            let tx = client.transaction().await.map_err(db)?;
            let actual = lock_election(&tx, id).await?;
            if actual != ElectionState::Draft {
                return Err(StorageError::StateMismatch {
                    expected: ElectionState::Draft,
                    actual,
                });
            }
            tx.cached_execute(
                "UPDATE board.elections SET description_toml = $2, opens_at = $3, closes_at = $4
                 WHERE id = $1",
                &[&id, &description_toml, &opens_at, &closes_at],
            )
            .await
            .map_err(db)?;
            tx.commit().await.map_err(db)
        })
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
        let first = to_i64(expected_next_seq)?;
        to_i64(end)?;
        let trackers: Vec<&str> = index.iter().map(|e| e.tracker.as_str()).collect();
        let credentials: Vec<&str> = index.iter().map(|e| e.credential.as_str()).collect();
        let seqs = index
            .iter()
            .map(|e| to_i64(e.seq))
            .collect::<StorageResult<Vec<i64>>>()?;
        self.run(async {
            let mut client = self.client().await?;
            let tx = client.transaction().await.map_err(db)?;
            // The election's row lock serializes appends to it across every connection.
            lock_election(&tx, election).await?;
            let actual: i64 = tx
                .cached_query_one(
                    "SELECT COALESCE(MAX(seq) + 1, 0) FROM board.events WHERE election_id = $1",
                    &[&election],
                )
                .await
                .map_err(db)?
                .try_get(0)
                .map_err(db)?;
            let actual = to_u64(actual)?;
            if actual != expected_next_seq {
                return Err(StorageError::SeqMismatch {
                    expected: expected_next_seq,
                    actual,
                });
            }
            tx.cached_execute(
                "INSERT INTO board.events (election_id, seq, line)
                 SELECT $1, $2 + n - 1, line FROM unnest($3::text[]) WITH ORDINALITY AS l (line, n)",
                &[&election, &first, &lines],
            )
            .await
            .map_err(db)?;
            if !index.is_empty() {
                let r = tx
                    .cached_execute(
                        "INSERT INTO board.ballot_index (election_id, tracker, credential, seq)
                         SELECT $1, t, c, s FROM unnest($2::text[], $3::text[], $4::bigint[])
                             AS i (t, c, s)",
                        &[&election, &trackers, &credentials, &seqs],
                    )
                    .await;
                if let Err(e) = r {
                    let tracker = e
                        .as_db_error()
                        .filter(|d| {
                            d.code() == &SqlState::UNIQUE_VIOLATION
                                && d.constraint() == Some("ballot_index_tracker")
                        })
                        .is_some();
                    return Err(if tracker {
                        StorageError::AlreadyExists("a tracker of the batch".to_owned())
                    } else {
                        db(e)
                    });
                }
            }
            tx.commit().await.map_err(db)?;
            Ok(end)
        })
    }

    fn events_from(
        &self,
        election: &str,
        from_seq: u64,
        limit: usize,
    ) -> StorageResult<Vec<String>> {
        let from = to_i64(from_seq)?;
        self.with_client(async |c| {
            let rows = c
                .cached_query(
                    "SELECT line FROM board.events WHERE election_id = $1 AND seq >= $2
                     ORDER BY seq LIMIT $3",
                    &[&election, &from, &limit_of(limit)],
                )
                .await
                .map_err(db)?;
            rows.iter().map(|r| r.try_get(0).map_err(db)).collect()
        })
    }

    fn put_checkpoint(&self, election: &str, checkpoint: &StoredCheckpoint) -> StorageResult<()> {
        let events = to_i64(checkpoint.events)?;
        self.with_client(async |c| {
            let n = c
                .cached_execute(
                    "INSERT INTO board.checkpoints AS c (election_id, events, head, bytes)
                     SELECT id, $2, $3, $4 FROM board.elections WHERE id = $1
                     ON CONFLICT (election_id) DO UPDATE
                     SET events = excluded.events, head = excluded.head, bytes = excluded.bytes
                     WHERE excluded.events >= c.events",
                    &[&election, &events, &checkpoint.head, &checkpoint.bytes],
                )
                .await
                .map_err(db)?;
            if n == 0 {
                // Nothing written: no such election, or a later checkpoint is kept.
                let exists = c
                    .cached_query_opt("SELECT 1 FROM board.elections WHERE id = $1", &[&election])
                    .await
                    .map_err(db)?;
                if exists.is_none() {
                    return Err(StorageError::NotFound(format!("election {election}")));
                }
            }
            Ok(())
        })
    }

    fn checkpoint(&self, election: &str) -> StorageResult<Option<StoredCheckpoint>> {
        self.with_client(async |c| {
            let row = c
                .cached_query_opt(
                    "SELECT events, head, bytes FROM board.checkpoints WHERE election_id = $1",
                    &[&election],
                )
                .await
                .map_err(db)?;
            row.map(|r| {
                Ok(StoredCheckpoint {
                    events: to_u64(r.try_get(0).map_err(db)?)?,
                    head: r.try_get(1).map_err(db)?,
                    bytes: r.try_get(2).map_err(db)?,
                })
            })
            .transpose()
        })
    }

    fn head(&self, election: &str) -> StorageResult<BoardHead> {
        self.with_client(async |c| {
            // One statement, one snapshot: the election exists and this is its last line.
            let row = c
                .cached_query_opt(
                    "SELECT e.seq, e.line FROM board.elections el
                     LEFT JOIN LATERAL (SELECT seq, line FROM board.events
                         WHERE election_id = el.id ORDER BY seq DESC LIMIT 1) e ON true
                     WHERE el.id = $1",
                    &[&election],
                )
                .await
                .map_err(db)?
                .ok_or_else(|| StorageError::NotFound(format!("election {election}")))?;
            let seq: Option<i64> = row.try_get(0).map_err(db)?;
            Ok(match seq {
                Some(seq) => BoardHead {
                    next_seq: to_u64(seq)? + 1,
                    last_line: Some(row.try_get(1).map_err(db)?),
                },
                None => BoardHead {
                    next_seq: 0,
                    last_line: None,
                },
            })
        })
    }

    fn ballot_by_tracker(&self, election: &str, tracker: &str) -> StorageResult<Option<u64>> {
        self.with_client(async |c| {
            let row = c
                .cached_query_opt(BALLOT_BY_TRACKER, &[&election, &tracker])
                .await
                .map_err(db)?;
            row.map(|r| to_u64(r.try_get(0).map_err(db)?)).transpose()
        })
    }

    fn ballots_newest_first(
        &self,
        election: &str,
        before: Option<u64>,
        skip: u64,
        limit: usize,
    ) -> StorageResult<Vec<(u64, String)>> {
        let before = match before {
            Some(b) => to_i64(b)?,
            None => i64::MAX,
        };
        let skip = to_i64(skip)?;
        self.with_client(async |c| {
            let rows = c
                .cached_query(
                    "SELECT seq, tracker FROM board.ballot_index
                     WHERE election_id = $1 AND seq < $2
                     ORDER BY seq DESC LIMIT $3 OFFSET $4",
                    &[&election, &before, &limit_of(limit), &skip],
                )
                .await
                .map_err(db)?;
            rows.iter()
                .map(|r| {
                    Ok((
                        to_u64(r.try_get(0).map_err(db)?)?,
                        r.try_get(1).map_err(db)?,
                    ))
                })
                .collect()
        })
    }

    fn ballots_of_credential(&self, election: &str, credential: &str) -> StorageResult<u64> {
        self.with_client(async |c| {
            let n: i64 = c
                .cached_query_one(BALLOTS_OF_CREDENTIAL, &[&election, &credential])
                .await
                .map_err(db)?
                .try_get(0)
                .map_err(db)?;
            to_u64(n)
        })
    }

    fn cast_facts(
        &self,
        election: &str,
        login: &str,
        tracker: &str,
        credential: &str,
    ) -> StorageResult<CastFacts> {
        self.with_client(async |c| {
            let election_sql = election_by_id();
            let rows = c
                .pipelined(&[
                    (&election_sql, &[&election]),
                    (CREDENTIAL_OF_LOGIN, &[&election, &login]),
                    (BALLOT_BY_TRACKER, &[&election, &tracker]),
                    (BALLOTS_OF_CREDENTIAL, &[&election, &credential]),
                ])
                .await
                .map_err(db)?;
            let first = |i: usize| rows.get(i).and_then(|r| r.first());
            Ok(CastFacts {
                election: first(0).map(election_from_row).transpose()?,
                bound: first(1).map(|r| r.try_get(0).map_err(db)).transpose()?,
                known: first(2).is_some(),
                cast: to_u64(first_value(&rows, 3)?)?,
            })
        })
    }

    fn latest_ballot_of_credential(
        &self,
        election: &str,
        credential: &str,
    ) -> StorageResult<Option<u64>> {
        self.with_client(async |c| {
            let seq: Option<i64> = c
                .cached_query_one(
                    "SELECT MAX(seq) FROM board.ballot_index WHERE election_id = $1 AND credential = $2",
                    &[&election, &credential],
                )
                .await
                .map_err(db)?
                .try_get(0)
                .map_err(db)?;
            seq.map(to_u64).transpose()
        })
    }

    fn add_voters(&self, election: &str, voters: &[Voter]) -> StorageResult<Vec<usize>> {
        self.run(async {
            let mut client = self.client().await?;
            let tx = client.transaction().await.map_err(db)?;
            let refused = insert_voters(&tx, election, voters).await?;
            tx.commit().await.map_err(db)?;
            Ok(refused)
        })
    }

    fn voter(&self, election: &str, login: &str) -> StorageResult<Option<Voter>> {
        self.with_client(async |c| {
            let row = c
                .cached_query_opt(&voter_by_login(), &[&election, &login])
                .await
                .map_err(db)?;
            row.as_ref().map(voter_from_row).transpose()
        })
    }

    fn voter_count(&self, election: &str) -> StorageResult<(u64, u64)> {
        self.with_client(async |c| {
            let row = c
                .cached_query_one(
                    "SELECT COUNT(*), COALESCE(SUM(weight), 0)::BIGINT FROM private.voters
                     WHERE election_id = $1",
                    &[&election],
                )
                .await
                .map_err(db)?;
            Ok((
                to_u64(row.try_get(0).map_err(db)?)?,
                to_u64(row.try_get(1).map_err(db)?)?,
            ))
        })
    }

    fn list_voters(
        &self,
        election: &str,
        after_login: &str,
        limit: usize,
    ) -> StorageResult<Vec<Voter>> {
        self.with_client(async |c| {
            let rows = c
                .cached_query(
                    &format!(
                        "SELECT {VOTER_COLS} FROM private.voters
                         WHERE election_id = $1 AND login > $2 ORDER BY login LIMIT $3"
                    ),
                    &[&election, &after_login, &limit_of(limit)],
                )
                .await
                .map_err(db)?;
            rows.iter().map(voter_from_row).collect()
        })
    }

    fn import_voters(
        &self,
        election: &str,
        voters: &[Voter],
        commit: bool,
    ) -> StorageResult<Vec<usize>> {
        self.run(async {
            let mut client = self.client().await?;
            let tx = client.transaction().await.map_err(db)?;
            let refused = insert_voters(&tx, election, voters).await?;
            if commit && refused.is_empty() {
                tx.commit().await.map_err(db)?;
            } else {
                tx.rollback().await.map_err(db)?;
            }
            Ok(refused)
        })
    }

    fn search_voters(
        &self,
        election: &str,
        query: &str,
        after_login: &str,
        limit: usize,
    ) -> StorageResult<Vec<Voter>> {
        // Case-insensitive for ASCII only, as documented: the columns' collation is "C".
        let query = query.to_ascii_lowercase();
        self.with_client(async |c| {
            let rows = c
                .cached_query(
                    &format!(
                        "SELECT {VOTER_COLS} FROM private.voters
                         WHERE election_id = $1 AND login > $2
                           AND ($3 = '' OR strpos(lower(login), $3) > 0
                                OR strpos(lower(email), $3) > 0)
                         ORDER BY login LIMIT $4"
                    ),
                    &[&election, &after_login, &query, &limit_of(limit)],
                )
                .await
                .map_err(db)?;
            rows.iter().map(voter_from_row).collect()
        })
    }

    fn update_voter(&self, election: &str, voter: &Voter) -> StorageResult<bool> {
        let weight = to_i64(voter.weight)?;
        self.with_client(async |c| {
            let n = c
                .cached_execute(
                    "UPDATE private.voters SET email = $3, weight = $4, language = $5
                     WHERE election_id = $1 AND login = $2",
                    &[
                        &election,
                        &voter.login,
                        &voter.email,
                        &weight,
                        &voter.language.map(Lang::code),
                    ],
                )
                .await
                .map_err(db)?;
            Ok(n > 0)
        })
    }

    fn remove_voter(&self, election: &str, login: &str) -> StorageResult<bool> {
        self.with_client(async |c| {
            let n = c
                .cached_execute(
                    "DELETE FROM private.voters WHERE election_id = $1 AND login = $2",
                    &[&election, &login],
                )
                .await
                .map_err(db)?;
            Ok(n > 0)
        })
    }

    fn credential_bindings(&self, election: &str) -> StorageResult<Vec<(String, String)>> {
        self.with_client(async |c| {
            let rows = c
                .cached_query(
                    "SELECT login, credential FROM private.credential_bindings
                     WHERE election_id = $1 ORDER BY login",
                    &[&election],
                )
                .await
                .map_err(db)?;
            rows.iter()
                .map(|r| Ok((r.try_get(0).map_err(db)?, r.try_get(1).map_err(db)?)))
                .collect()
        })
    }

    fn credentials_with_ballots(&self, election: &str) -> StorageResult<Vec<String>> {
        self.with_client(async |c| {
            let rows = c
                .cached_query(
                    "SELECT DISTINCT credential FROM board.ballot_index WHERE election_id = $1",
                    &[&election],
                )
                .await
                .map_err(db)?;
            rows.iter().map(|r| r.try_get(0).map_err(db)).collect()
        })
    }

    fn latest_mail_statuses(
        &self,
        election: &str,
    ) -> StorageResult<Vec<(String, String, MailStatus)>> {
        self.with_client(async |c| {
            let rows = c
                .cached_query(
                    "SELECT DISTINCT ON (login, kind) login, kind, status FROM private.mails
                     WHERE election_id = $1 ORDER BY login, kind, id DESC",
                    &[&election],
                )
                .await
                .map_err(db)?;
            rows.iter()
                .map(|r| {
                    Ok((
                        r.try_get(0).map_err(db)?,
                        r.try_get(1).map_err(db)?,
                        mail_status_of(r.try_get(2).map_err(db)?)?,
                    ))
                })
                .collect()
        })
    }

    fn set_mail_language(&self, election: &str, language: Lang) -> StorageResult<()> {
        self.with_client(async |c| {
            c.cached_execute(
                "INSERT INTO private.election_mail (election_id, language) VALUES ($1, $2)
                 ON CONFLICT (election_id) DO UPDATE SET language = excluded.language",
                &[&election, &language.code()],
            )
            .await
            .map_err(db)?;
            Ok(())
        })
    }

    fn mail_language(&self, election: &str) -> StorageResult<Option<Lang>> {
        self.with_client(async |c| {
            let row = c
                .cached_query_opt(MAIL_LANGUAGE, &[&election])
                .await
                .map_err(db)?;
            match row {
                Some(r) => Ok(Lang::parse(r.try_get(0).map_err(db)?)),
                None => Ok(None),
            }
        })
    }

    fn mail_facts(&self, election: &str, login: &str) -> StorageResult<MailFacts> {
        self.with_client(async |c| {
            let (election_sql, voter_sql) = (election_by_id(), voter_by_login());
            let rows = c
                .pipelined(&[
                    (&election_sql, &[&election]),
                    (&voter_sql, &[&election, &login]),
                    (MAIL_LANGUAGE, &[&election]),
                ])
                .await
                .map_err(db)?;
            let first = |i: usize| rows.get(i).and_then(|r| r.first());
            let election_language = match first(2) {
                Some(r) => Lang::parse(r.try_get(0).map_err(db)?),
                None => None,
            };
            Ok(MailFacts {
                election: first(0).map(election_from_row).transpose()?,
                voter: first(1).map(voter_from_row).transpose()?,
                election_language,
            })
        })
    }

    fn create_admin(&self, account: &AdminAccount) -> StorageResult<()> {
        self.with_client(async |c| {
            let r = c
                .cached_execute(
                    "INSERT INTO private.admins (username, password_hash, created_at, role)
                     VALUES ($1, $2, $3, $4)",
                    &[
                        &account.username,
                        &account.password_hash,
                        &super::now(),
                        &account.role.as_str(),
                    ],
                )
                .await;
            match r {
                Ok(_) => Ok(()),
                Err(e) if is_unique_violation(&e) => Err(StorageError::AlreadyExists(format!(
                    "admin {}",
                    account.username
                ))),
                Err(e) => Err(db(e)),
            }
        })
    }

    fn admins(&self) -> StorageResult<Vec<(String, AdminRole)>> {
        self.with_client(async |c| {
            let rows = c
                .cached_query(
                    "SELECT username, role FROM private.admins ORDER BY username",
                    &[],
                )
                .await
                .map_err(db)?;
            rows.iter()
                .map(|r| {
                    let role: &str = r.try_get(1).map_err(db)?;
                    let role = AdminRole::parse(role).ok_or_else(|| {
                        StorageError::Backend(format!("unknown admin role {role:?}"))
                    })?;
                    Ok((r.try_get(0).map_err(db)?, role))
                })
                .collect()
        })
    }

    fn set_election_owner(&self, election: &str, username: &str) -> StorageResult<()> {
        self.with_client(async |c| {
            c.cached_execute(
                "INSERT INTO private.election_owners (election_id, username) VALUES ($1, $2)
                 ON CONFLICT (election_id) DO UPDATE SET username = excluded.username",
                &[&election, &username],
            )
            .await
            .map_err(db)?;
            Ok(())
        })
    }

    fn election_owner(&self, election: &str) -> StorageResult<Option<String>> {
        self.with_client(async |c| {
            let row = c
                .cached_query_opt(
                    "SELECT username FROM private.election_owners WHERE election_id = $1",
                    &[&election],
                )
                .await
                .map_err(db)?;
            row.map(|r| r.try_get(0).map_err(db)).transpose()
        })
    }

    fn admin(&self, username: &str) -> StorageResult<Option<AdminAccount>> {
        self.with_client(async |c| {
            let row = c
                .cached_query_opt(
                    "SELECT username, password_hash, role FROM private.admins WHERE username = $1",
                    &[&username],
                )
                .await
                .map_err(db)?;
            row.map(|r| {
                let role: &str = r.try_get(2).map_err(db)?;
                Ok(AdminAccount {
                    username: r.try_get(0).map_err(db)?,
                    password_hash: r.try_get(1).map_err(db)?,
                    role: AdminRole::parse(role).ok_or_else(|| {
                        StorageError::Backend(format!("unknown admin role {role:?}"))
                    })?,
                })
            })
            .transpose()
        })
    }

    fn insert_session(&self, session: &SessionRecord) -> StorageResult<()> {
        let subject = serde_json::to_string(&session.subject)
            .map_err(|e| StorageError::Invalid(e.to_string()))?;
        self.with_relaxed(async |c| {
            c.cached_execute(
                "INSERT INTO private.sessions (token_hash, subject, expires_at) VALUES ($1, $2, $3)",
                &[&session.token_hash, &subject, &session.expires_at],
            )
            .await
            .map_err(db)?;
            Ok(())
        })
    }

    fn session(&self, token_hash: &str) -> StorageResult<Option<SessionRecord>> {
        self.with_client(async |c| {
            let row = c
                .cached_query_opt(
                    "SELECT subject, expires_at FROM private.sessions WHERE token_hash = $1",
                    &[&token_hash],
                )
                .await
                .map_err(db)?;
            row.map(|r| {
                let subject: SessionSubject = serde_json::from_str(r.try_get(0).map_err(db)?)
                    .map_err(|e| StorageError::Backend(format!("bad session subject: {e}")))?;
                Ok(SessionRecord {
                    token_hash: token_hash.to_owned(),
                    subject,
                    expires_at: r.try_get(1).map_err(db)?,
                })
            })
            .transpose()
        })
    }

    fn delete_session(&self, token_hash: &str) -> StorageResult<()> {
        self.with_relaxed(async |c| {
            c.cached_execute(
                "DELETE FROM private.sessions WHERE token_hash = $1",
                &[&token_hash],
            )
            .await
            .map_err(db)?;
            Ok(())
        })
    }

    fn purge_expired_sessions(&self, now: UnixTime) -> StorageResult<u64> {
        self.with_relaxed(async |c| {
            c.cached_execute(
                "DELETE FROM private.sessions WHERE expires_at < $1",
                &[&now],
            )
            .await
            .map_err(db)
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
        self.with_relaxed_transaction(async |tx| {
            // The count and the insert below are one step for every node.
            let key = otp_lock_key(election, login);
            let since = now.saturating_sub(limits.window_secs);
            let rows = tx
                .pipelined(&[
                    (ADVISORY_LOCK, &[&key]),
                    (
                        "SELECT COUNT(*) FROM private.otp_sends
                         WHERE election_id = $1 AND login = $2 AND at >= $3",
                        &[&election, &login, &since],
                    ),
                ])
                .await
                .map_err(db)?;
            let sent: i64 = first_value(&rows, 1)?;
            let max = i64::from(limits.max_sends);
            if sent >= max {
                return Ok(false);
            }
            let expires_at = if sent + 1 >= max {
                record.expires_at.max(limits.last_lives_until)
            } else {
                record.expires_at
            };
            let keep = i64::from(limits.max_sends.max(1)) - 1;
            let a_day_ago = now.saturating_sub(86_400);
            tx.pipelined(&[
                // Expired codes go; the newest `max_sends - 1` live ones stay beside the new one.
                (
                    "DELETE FROM private.login_codes
                     WHERE election_id = $1 AND login = $2 AND expires_at <= $3",
                    &[&election, &login, &now],
                ),
                (
                    "DELETE FROM private.login_codes WHERE election_id = $1 AND login = $2
                     AND salt NOT IN (SELECT salt FROM private.login_codes
                         WHERE election_id = $1 AND login = $2 ORDER BY expires_at DESC LIMIT $3)",
                    &[&election, &login, &keep],
                ),
                (
                    "INSERT INTO private.login_codes (election_id, login, salt, code_hash, expires_at)
                     VALUES ($1, $2, $3, $4, $5)",
                    &[
                        &election,
                        &login,
                        &record.salt,
                        &record.code_hash,
                        &expires_at,
                    ],
                ),
                (
                    "INSERT INTO private.otp_sends (election_id, login, at) VALUES ($1, $2, $3)",
                    &[&election, &login, &now],
                ),
                // Sends older than a day no longer matter for any hourly limit.
                (
                    "DELETE FROM private.otp_sends WHERE election_id = $1 AND login = $2 AND at < $3",
                    &[&election, &login, &a_day_ago],
                ),
            ])
            .await
            .map_err(db)?;
            Ok(true)
        })
    }

    fn otp_sends_since(&self, election: &str, login: &str, since: UnixTime) -> StorageResult<u32> {
        self.with_client(async |c| {
            let n: i64 = c
                .cached_query_one(
                    "SELECT COUNT(*) FROM private.otp_sends
                     WHERE election_id = $1 AND login = $2 AND at >= $3",
                    &[&election, &login, &since],
                )
                .await
                .map_err(db)?
                .try_get(0)
                .map_err(db)?;
            Ok(count_u32(n))
        })
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
        self.with_relaxed_transaction(async |tx| {
            let key = otp_lock_key(election, login);
            let since = now.saturating_sub(limits.window_secs);
            // The lock first, then the failures and the codes under it, in one round trip.
            let rows = tx
                .pipelined(&[
                    (ADVISORY_LOCK, &[&key]),
                    (
                        "SELECT COUNT(*) FILTER (WHERE client = $4), COUNT(*)
                         FROM private.login_code_failures
                         WHERE election_id = $1 AND login = $2 AND at >= $3",
                        &[&election, &login, &since, &client],
                    ),
                    (
                        "SELECT code_hash, salt, expires_at FROM private.login_codes
                         WHERE election_id = $1 AND login = $2",
                        &[&election, &login],
                    ),
                ])
                .await
                .map_err(db)?;
            let counts = rows
                .get(1)
                .and_then(|r| r.first())
                .ok_or_else(|| StorageError::Backend("no count of failures".to_owned()))?;
            let by_client = count_u32(counts.try_get(0).map_err(db)?);
            let by_login = count_u32(counts.try_get(1).map_err(db)?);
            if by_client >= limits.per_client || by_login >= limits.per_login {
                return Ok(OtpOutcome::Locked);
            }
            let codes = rows
                .get(2)
                .map(Vec::as_slice)
                .unwrap_or_default()
                .iter()
                .map(|r| {
                    Ok(OtpRecord {
                        code_hash: r.try_get(0).map_err(db)?,
                        salt: r.try_get(1).map_err(db)?,
                        expires_at: r.try_get(2).map_err(db)?,
                    })
                })
                .collect::<StorageResult<Vec<_>>>()?;
            // Every live code is compared, so the time taken does not say which one matched;
            // no code, an expired code and a wrong code are one and the same failure.
            let mut matched = false;
            for c in codes.iter().filter(|c| now < c.expires_at) {
                matched |= matches(c);
            }
            if matched {
                tx.cached_execute(
                    "DELETE FROM private.login_codes WHERE election_id = $1 AND login = $2",
                    &[&election, &login],
                )
                .await
                .map_err(db)?;
                return Ok(OtpOutcome::Accepted);
            }
            let a_day_ago = now.saturating_sub(86_400);
            tx.pipelined(&[
                (
                    "INSERT INTO private.login_code_failures (election_id, login, client, at)
                     VALUES ($1, $2, $3, $4)",
                    &[&election, &login, &client, &now],
                ),
                (
                    "DELETE FROM private.login_code_failures
                     WHERE election_id = $1 AND login = $2 AND at < $3",
                    &[&election, &login, &a_day_ago],
                ),
            ])
            .await
            .map_err(db)?;
            Ok(OtpOutcome::Rejected {
                remaining: limits.per_client.saturating_sub(by_client + 1),
            })
        })
    }

    fn append_audit(&self, entry: &AuditEntry) -> StorageResult<i64> {
        let details = serde_json::to_string(&entry.details)
            .map_err(|e| StorageError::Invalid(e.to_string()))?;
        self.with_client(async |c| {
            c.cached_query_one(
                "INSERT INTO private.audit_log (at, actor, election_id, action, details)
                 VALUES ($1, $2, $3, $4, $5) RETURNING id",
                &[
                    &entry.at,
                    &entry.actor,
                    &entry.election,
                    &entry.action,
                    &details,
                ],
            )
            .await
            .map_err(db)?
            .try_get(0)
            .map_err(db)
        })
    }

    fn audit_log(
        &self,
        election: Option<&str>,
        after_id: i64,
        limit: usize,
    ) -> StorageResult<Vec<AuditEntry>> {
        self.with_client(async |c| {
            let rows = c
                .cached_query(
                    "SELECT id, at, actor, election_id, action, details FROM private.audit_log
                     WHERE election_id IS NOT DISTINCT FROM $1 AND id > $2 ORDER BY id LIMIT $3",
                    &[&election, &after_id, &limit_of(limit)],
                )
                .await
                .map_err(db)?;
            rows.iter()
                .map(|r| {
                    Ok(AuditEntry {
                        id: r.try_get(0).map_err(db)?,
                        at: r.try_get(1).map_err(db)?,
                        actor: r.try_get(2).map_err(db)?,
                        election: r.try_get(3).map_err(db)?,
                        action: r.try_get(4).map_err(db)?,
                        details: serde_json::from_str(r.try_get(5).map_err(db)?).map_err(|e| {
                            StorageError::Backend(format!("bad audit details: {e}"))
                        })?,
                    })
                })
                .collect()
        })
    }

    fn insert_mail(
        &self,
        election: Option<&str>,
        login: &str,
        kind: &str,
        now: UnixTime,
    ) -> StorageResult<i64> {
        self.with_relaxed(async |c| {
            c.cached_query_one(
                "INSERT INTO private.mails
                 (election_id, login, kind, status, error, created_at, updated_at)
                 VALUES ($1, $2, $3, 'queued', NULL, $4, $4) RETURNING id",
                &[&election, &login, &kind, &now],
            )
            .await
            .map_err(db)?
            .try_get(0)
            .map_err(db)
        })
    }

    fn set_mail_status(
        &self,
        id: i64,
        status: MailStatus,
        error: Option<&str>,
        now: UnixTime,
    ) -> StorageResult<()> {
        self.with_relaxed(async |c| {
            let n = c
                .cached_execute(
                    "UPDATE private.mails SET status = $2, error = $3, updated_at = $4
                     WHERE id = $1",
                    &[&id, &status.as_str(), &error, &now],
                )
                .await
                .map_err(db)?;
            if n == 0 {
                return Err(StorageError::NotFound(format!("mail {id}")));
            }
            Ok(())
        })
    }

    fn insert_mails(&self, mails: &[NewMail], now: UnixTime) -> StorageResult<Vec<i64>> {
        self.with_relaxed_transaction(async |c| {
            let insert = c
                .prepare_cached(
                    "INSERT INTO private.mails
                     (election_id, login, kind, status, error, created_at, updated_at)
                     VALUES ($1, $2, $3, 'queued', NULL, $4, $4) RETURNING id",
                )
                .await
                .map_err(db)?;
            // Sent together: the connection pipelines them, one round trip for the group.
            let params: Vec<[&(dyn ToSql + Sync); 4]> = mails
                .iter()
                .map(|m| [&m.election as &(dyn ToSql + Sync), &m.login, &m.kind, &now])
                .collect();
            let rows =
                futures_util::future::try_join_all(params.iter().map(|p| c.query_one(&insert, p)))
                    .await
                    .map_err(db)?;
            rows.iter().map(|row| row.try_get(0).map_err(db)).collect()
        })
    }

    fn set_mail_statuses(&self, updates: &[MailStatusUpdate], now: UnixTime) -> StorageResult<()> {
        self.with_relaxed(async |c| {
            // One statement for the group; a mail updated twice in it keeps its last status,
            // as if the updates were made one by one.
            let mut last: HashMap<i64, &MailStatusUpdate> = HashMap::with_capacity(updates.len());
            for u in updates {
                last.insert(u.id, u);
            }
            let ids: Vec<i64> = last.keys().copied().collect();
            let statuses: Vec<&str> = ids.iter().map(|i| last[i].status.as_str()).collect();
            let errors: Vec<Option<&str>> = ids.iter().map(|i| last[i].error.as_deref()).collect();
            c.cached_execute(
                "UPDATE private.mails AS m SET status = u.status, error = u.error, updated_at = $4
                 FROM unnest($1::bigint[], $2::text[], $3::text[]) AS u (id, status, error)
                 WHERE m.id = u.id",
                &[&ids, &statuses, &errors, &now],
            )
            .await
            .map_err(db)?;
            Ok(())
        })
    }

    fn fail_queued_mails(&self, error: &str, now: UnixTime) -> StorageResult<u64> {
        self.with_client(async |c| {
            c.cached_execute(
                "UPDATE private.mails SET status = 'failed', error = $1, updated_at = $2
                 WHERE status = 'queued'",
                &[&error, &now],
            )
            .await
            .map_err(db)
        })
    }

    fn mail_status_counts(&self, election: &str) -> StorageResult<MailStatusCounts> {
        self.with_client(async |c| {
            let rows = c
                .cached_query(
                    "SELECT status, COUNT(*) FROM private.mails WHERE election_id = $1
                     GROUP BY status",
                    &[&election],
                )
                .await
                .map_err(db)?;
            let mut counts = MailStatusCounts::default();
            for r in &rows {
                let n = to_u64(r.try_get(1).map_err(db)?)?;
                match mail_status_of(r.try_get(0).map_err(db)?)? {
                    MailStatus::Queued => counts.queued = n,
                    MailStatus::Sent => counts.sent = n,
                    MailStatus::Failed => counts.failed = n,
                }
            }
            Ok(counts)
        })
    }

    fn mail_failures(&self, election: &str, limit: usize) -> StorageResult<Vec<MailFailure>> {
        self.with_client(async |c| {
            let rows = c
                .cached_query(
                    "SELECT id, login, COALESCE(error, ''), updated_at FROM private.mails
                     WHERE election_id = $1 AND status = 'failed' ORDER BY id DESC LIMIT $2",
                    &[&election, &limit_of(limit)],
                )
                .await
                .map_err(db)?;
            rows.iter()
                .map(|r| {
                    Ok(MailFailure {
                        id: r.try_get(0).map_err(db)?,
                        login: r.try_get(1).map_err(db)?,
                        error: r.try_get(2).map_err(db)?,
                        at: r.try_get(3).map_err(db)?,
                    })
                })
                .collect()
        })
    }

    fn replace_role_tokens(&self, election: &str, tokens: &[RoleToken]) -> StorageResult<()> {
        let roles = tokens
            .iter()
            .map(|t| {
                serde_json::to_string(&t.role).map_err(|e| StorageError::Invalid(e.to_string()))
            })
            .collect::<StorageResult<Vec<_>>>()?;
        self.run(async {
            let mut client = self.client().await?;
            let tx = client.transaction().await.map_err(db)?;
            tx.cached_execute(
                "DELETE FROM private.role_tokens WHERE election_id = $1",
                &[&election],
            )
            .await
            .map_err(db)?;
            for (t, role) in tokens.iter().zip(&roles) {
                tx.cached_execute(
                    "INSERT INTO private.role_tokens (token_hash, election_id, role)
                     VALUES ($1, $2, $3)",
                    &[&t.token_hash, &election, role],
                )
                .await
                .map_err(db)?;
            }
            tx.commit().await.map_err(db)
        })
    }

    fn role_token(&self, token_hash: &str) -> StorageResult<Option<RoleToken>> {
        self.with_client(async |c| {
            let row = c
                .cached_query_opt(
                    "SELECT election_id, role FROM private.role_tokens WHERE token_hash = $1",
                    &[&token_hash],
                )
                .await
                .map_err(db)?;
            row.map(|r| {
                Ok(RoleToken {
                    token_hash: token_hash.to_owned(),
                    election: r.try_get(0).map_err(db)?,
                    role: serde_json::from_str(r.try_get(1).map_err(db)?)
                        .map_err(|e| StorageError::Backend(format!("bad role: {e}")))?,
                })
            })
            .transpose()
        })
    }

    fn credential_of_login(&self, election: &str, login: &str) -> StorageResult<Option<String>> {
        self.with_client(async |c| {
            let row = c
                .cached_query_opt(CREDENTIAL_OF_LOGIN, &[&election, &login])
                .await
                .map_err(db)?;
            row.map(|r| r.try_get(0).map_err(db)).transpose()
        })
    }

    fn bind_credentials(&self, bindings: &[CredentialBinding]) -> StorageResult<Vec<BindOutcome>> {
        self.run(async {
            let mut client = self.client().await?;
            let tx = client.transaction().await.map_err(db)?;
            // Two nodes binding in one election at once see each other's binding; the
            // elections' locks are taken in one order, so two groups never wait on each other.
            let mut elections: Vec<&str> = bindings.iter().map(|b| b.election.as_str()).collect();
            elections.sort_unstable();
            elections.dedup();
            for election in elections {
                advisory_lock(&tx, &format!("bind/{election}")).await?;
            }
            let mut outcomes = Vec::with_capacity(bindings.len());
            for b in bindings {
                outcomes.push(bind_in(&tx, b).await?);
            }
            tx.commit().await.map_err(db)?;
            Ok(outcomes)
        })
    }

    /// A session advisory lock on a connection of its own: held while that connection
    /// lives, released by PostgreSQL when it ends (this instance dropped, the node killed,
    /// the network cut), after which another instance takes it at its next call.
    fn request_credential_resend(
        &self,
        election: &str,
        login: &str,
        requested_by: &str,
        now: UnixTime,
    ) -> StorageResult<()> {
        self.with_client(async |c| {
            c.cached_execute(
                "INSERT INTO private.credential_resends
                 (election_id, login, requested_by, requested_at, sent_at)
                 VALUES ($1, $2, $3, $4, NULL)
                 ON CONFLICT (election_id, login) DO UPDATE SET
                     requested_by = excluded.requested_by,
                     requested_at = excluded.requested_at, sent_at = NULL",
                &[&election, &login, &requested_by, &now],
            )
            .await
            .map_err(db)?;
            Ok(())
        })
    }

    fn credential_resends(&self, election: &str) -> StorageResult<Vec<ResendRequest>> {
        self.with_client(async |c| {
            let rows = c
                .cached_query(
                    "SELECT login, requested_by, requested_at, sent_at
                     FROM private.credential_resends WHERE election_id = $1 ORDER BY login",
                    &[&election],
                )
                .await
                .map_err(db)?;
            rows.iter()
                .map(|r| {
                    Ok(ResendRequest {
                        login: r.try_get(0).map_err(db)?,
                        requested_by: r.try_get(1).map_err(db)?,
                        requested_at: r.try_get(2).map_err(db)?,
                        sent_at: r.try_get(3).map_err(db)?,
                    })
                })
                .collect()
        })
    }

    fn mark_credential_resent(
        &self,
        election: &str,
        login: &str,
        now: UnixTime,
    ) -> StorageResult<bool> {
        self.with_client(async |c| {
            let n = c
                .cached_execute(
                    "UPDATE private.credential_resends SET sent_at = $3
                     WHERE election_id = $1 AND login = $2 AND sent_at IS NULL",
                    &[&election, &login, &now],
                )
                .await
                .map_err(db)?;
            Ok(n > 0)
        })
    }

    fn last_mail_of_kind(&self, election: &str, kind: &str) -> StorageResult<Option<UnixTime>> {
        self.with_client(async |c| {
            c.cached_query_one(
                "SELECT MAX(created_at) FROM private.mails WHERE election_id = $1 AND kind = $2",
                &[&election, &kind],
            )
            .await
            .map_err(db)?
            .try_get(0)
            .map_err(db)
        })
    }

    fn set_trustee_emails(&self, election: &str, emails: &[(u32, String)]) -> StorageResult<()> {
        self.run(async {
            let mut client = self.client().await?;
            let tx = client.transaction().await.map_err(db)?;
            tx.cached_execute(
                "DELETE FROM private.trustee_emails WHERE election_id = $1",
                &[&election],
            )
            .await
            .map_err(db)?;
            for (index, email) in emails {
                tx.cached_execute(
                    "INSERT INTO private.trustee_emails (election_id, trustee, email)
                     VALUES ($1, $2, $3)",
                    &[&election, &i64::from(*index), email],
                )
                .await
                .map_err(db)?;
            }
            tx.commit().await.map_err(db)
        })
    }

    fn trustee_emails(&self, election: &str) -> StorageResult<Vec<(u32, String)>> {
        self.with_client(async |c| {
            let rows = c
                .cached_query(
                    "SELECT trustee, email FROM private.trustee_emails
                     WHERE election_id = $1 ORDER BY trustee",
                    &[&election],
                )
                .await
                .map_err(db)?;
            rows.iter()
                .map(|r| {
                    let index: i64 = r.try_get(0).map_err(db)?;
                    let index = u32::try_from(index)
                        .map_err(|_| StorageError::Backend(format!("bad trustee index {index}")))?;
                    Ok((index, r.try_get(1).map_err(db)?))
                })
                .collect()
        })
    }

    fn record_trustee_wait(
        &self,
        election: &str,
        trustee: u32,
        step: &str,
        now: UnixTime,
    ) -> StorageResult<bool> {
        self.with_client(async |c| {
            let n = c
                .cached_execute(
                    "INSERT INTO private.trustee_waits (election_id, trustee, step, since)
                     VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                    &[&election, &i64::from(trustee), &step, &now],
                )
                .await
                .map_err(db)?;
            Ok(n > 0)
        })
    }

    fn trustee_waits(&self, election: &str) -> StorageResult<Vec<(u32, String, UnixTime)>> {
        self.with_client(async |c| {
            let rows = c
                .cached_query(
                    "SELECT trustee, step, since FROM private.trustee_waits
                     WHERE election_id = $1 ORDER BY trustee, step",
                    &[&election],
                )
                .await
                .map_err(db)?;
            rows.iter()
                .map(|r| {
                    let index: i64 = r.try_get(0).map_err(db)?;
                    let index = u32::try_from(index)
                        .map_err(|_| StorageError::Backend(format!("bad trustee index {index}")))?;
                    Ok((index, r.try_get(1).map_err(db)?, r.try_get(2).map_err(db)?))
                })
                .collect()
        })
    }

    fn claim(
        &self,
        election: &str,
        name: &str,
        at: UnixTime,
        not_within_secs: Option<i64>,
    ) -> StorageResult<bool> {
        let cutoff = super::claim_cutoff(at, not_within_secs)?;
        // One statement: a concurrent claim of the same name waits on the row the first
        // inserts or locks, then evaluates the `WHERE` against it (and fails it). A NULL
        // cutoff never passes, so with `None` an existing claim is never renewed.
        self.with_client(async |c| {
            let n = c
                .cached_execute(
                    "INSERT INTO private.claims AS old (election_id, name, claimed_at)
                     VALUES ($1, $2, $3)
                     ON CONFLICT (election_id, name)
                     DO UPDATE SET claimed_at = EXCLUDED.claimed_at
                     WHERE old.claimed_at <= $4",
                    &[&election, &name, &at, &cutoff],
                )
                .await
                .map_err(db)?;
            Ok(n > 0)
        })
    }

    fn claimed_at(&self, election: &str, name: &str) -> StorageResult<Option<UnixTime>> {
        self.with_client(async |c| {
            c.cached_query_opt(
                "SELECT claimed_at FROM private.claims WHERE election_id = $1 AND name = $2",
                &[&election, &name],
            )
            .await
            .map_err(db)?
            .map(|r| r.try_get(0).map_err(db))
            .transpose()
        })
    }

    fn scheduler_lease(&self) -> StorageResult<bool> {
        self.run(async {
            let mut lease = self.lease.lock().await;
            // Taken out: on any error below the connection is dropped (which releases a
            // lock it held) and the lease is not held.
            let Lease { client, held } = std::mem::take(&mut *lease);
            let (client, was_held) = match client {
                Some(c) if !c.is_closed() => (Some(c), held),
                _ => (None, false),
            };
            let client = match client {
                Some(c) => c,
                None => {
                    let (client, connection) = self.config.connect(NoTls).await.map_err(db)?;
                    tokio::spawn(async move {
                        if let Err(e) = connection.await {
                            tracing::warn!(error = %e, "scheduler lease connection ended");
                        }
                    });
                    client
                }
            };
            let held = if was_held {
                // The session is alive, so the lock is still this instance's.
                client.simple_query("SELECT 1").await.map_err(db)?;
                true
            } else {
                client
                    .query_one("SELECT pg_try_advisory_lock($1)", &[&SCHEDULER_LEASE])
                    .await
                    .map_err(db)?
                    .try_get(0)
                    .map_err(db)?
            };
            *lease = Lease {
                client: Some(client),
                held,
            };
            Ok(held)
        })
    }
}
