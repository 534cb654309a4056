//! Storage: the one seam between the server and its database.
//!
//! [`Storage`] is a synchronous trait; the HTTP layer calls it through [`blocking`], which runs
//! the call on tokio's blocking pool, so a backend may do plain blocking I/O. SQLite
//! ([`sqlite::SqliteStorage`], files in the data folder) is the default and embedded backend;
//! PostgreSQL ([`postgres::PostgresStorage`]) is the one several server nodes can share.
//! [`open`] picks one from the configuration. Both pass the same conformance suite
//! (`tests/storage_conformance.rs`).
//!
//! Two stores with different audiences:
//! - the **board** (public): elections' metadata and state, the append-only record of opaque
//!   event lines `(election, seq, line)`, and the ballot index (tracker → seq, credential →
//!   latest seq). Nothing in it identifies a voter;
//! - the **private** store: voter lists (login, email, weight, mail language), each
//!   election's default mail language, hashed one-time codes, admin
//!   accounts, hashed session tokens, the audit log, mail delivery status, and the claims
//!   ([`Storage::claim`]) that keep "at most once" rules across the nodes sharing it.
//!
//! Invariants every backend keeps:
//! - a method that returns `Ok` after a write has made it durable (committed and synced);
//! - event sequence numbers of an election are `0, 1, 2, …` without gaps; events and audit
//!   entries are never updated or deleted; [`Storage::append_events`] is atomic: all lines
//!   and index entries, or none;
//! - a line never contains `\n` or `\r` (the record is JSON Lines);
//! - secrets (session tokens, one-time codes, passwords) are stored only as hashes.

pub mod postgres;
pub mod sqlite;

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::mail_text::Lang;

/// Errors of a storage backend.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StorageError {
    /// The election (or other named object) does not exist.
    #[error("not found: {0}")]
    NotFound(String),
    /// An object with that key exists already.
    #[error("already exists: {0}")]
    AlreadyExists(String),
    /// `append_events` was called with a stale sequence number.
    #[error("sequence mismatch: expected next seq {expected}, board is at {actual}")]
    SeqMismatch {
        /// What the caller believed the next seq to be.
        expected: u64,
        /// The actual next seq.
        actual: u64,
    },
    /// A state transition was refused because the current state differs.
    #[error("election state is {actual:?}, not {expected:?}")]
    StateMismatch {
        /// The state the caller required.
        expected: ElectionState,
        /// The current state.
        actual: ElectionState,
    },
    /// The caller passed data that breaks an invariant.
    #[error("invalid: {0}")]
    Invalid(String),
    /// The database failed.
    #[error("database error: {0}")]
    Backend(String),
    /// The database cannot be reached for now (connection lost or refused, the server
    /// shutting down or not yet accepting writes, as during a failover): nothing was
    /// acknowledged, and the same request may be tried again shortly.
    #[error("database unavailable: {0}")]
    Unavailable(String),
}

/// Result of storage calls.
pub type StorageResult<T> = Result<T, StorageError>;

/// Seconds since the Unix epoch.
pub type UnixTime = i64;

/// Lifecycle of an election.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ElectionState {
    /// Being set up: voter list and parameters may change.
    Draft,
    /// Accepting ballots.
    Open,
    /// No more ballots; tally pending.
    Closed,
    /// Result published.
    Tallied,
    /// Kept for the record only.
    Archived,
}

impl ElectionState {
    /// Stable lowercase name, as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Open => "open",
            Self::Closed => "closed",
            Self::Tallied => "tallied",
            Self::Archived => "archived",
        }
    }

    /// Parses [`Self::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "draft" => Self::Draft,
            "open" => Self::Open,
            "closed" => Self::Closed,
            "tallied" => Self::Tallied,
            "archived" => Self::Archived,
            _ => return None,
        })
    }
}

/// Public metadata of an election.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ElectionMeta {
    /// Identifier (see [`valid_election_id`]).
    pub id: String,
    /// Lifecycle state.
    pub state: ElectionState,
    /// The election description as the official wrote it (TOML).
    pub description_toml: String,
    /// Planned opening time.
    pub opens_at: Option<UnixTime>,
    /// Planned closing time.
    pub closes_at: Option<UnixTime>,
    /// Creation time.
    pub created_at: UnixTime,
}

/// Where the board of an election stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BoardHead {
    /// Sequence number the next event will get (= number of events).
    pub next_seq: u64,
    /// The last line, if any (for chaining its hash).
    pub last_line: Option<String>,
}

/// The latest checkpoint of an election's verified record state
/// ([`scrutin_election::checkpoint`]): a node's cache of a verification it ran, derived from
/// the public record only. It covers the first `events` lines; `head` is the SHA-256 (hex)
/// of the last of them, which the loader checks against the stored line before use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCheckpoint {
    pub events: u64,
    pub head: String,
    pub bytes: Vec<u8>,
}

/// What a mail to a voter reads of storage ([`Storage::mail_facts`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailFacts {
    /// The election, if there is one by that id.
    pub election: Option<ElectionMeta>,
    /// The voter, if listed.
    pub voter: Option<Voter>,
    /// The election's mail language, if set (read at least when the voter names none).
    pub election_language: Option<Lang>,
}

impl MailFacts {
    /// The language of the voter's mails ([`mail_language`]).
    pub fn language(&self) -> Lang {
        mail_language(
            self.voter.as_ref().and_then(|v| v.language),
            self.election_language,
        )
    }
}

/// The language of a voter's mails: the voter's own, else the election's, else English.
pub fn mail_language(voter: Option<Lang>, election: Option<Lang>) -> Lang {
    voter.or(election).unwrap_or_default()
}

/// The election's mail language as a mail to `voter` needs it: read from storage only when
/// the voter is listed with no language of their own ([`mail_language`]).
pub fn election_language_for<S: Storage + ?Sized>(
    s: &S,
    election: &str,
    voter: Option<&Voter>,
) -> StorageResult<Option<Lang>> {
    match voter {
        Some(v) if v.language.is_none() => s.mail_language(election),
        _ => Ok(None),
    }
}

/// What a cast reads of storage ([`Storage::cast_facts`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CastFacts {
    /// The election, if there is one by that id.
    pub election: Option<ElectionMeta>,
    /// The credential (hex) the login is bound to, if any.
    pub bound: Option<String>,
    /// Whether the ballot is already on the board (a retried request).
    pub known: bool,
    /// How many ballots the credential cast.
    pub cast: u64,
}

/// A ballot index entry written atomically with its event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BallotIndexEntry {
    /// Sequence number of the ballot event (must be one of the appended lines).
    pub seq: u64,
    /// The ballot tracker (hash) shown to the voter; unique per election.
    pub tracker: String,
    /// The public credential that signed the ballot.
    pub credential: String,
}

/// One voter of an election's list (private store).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Voter {
    /// Login, unique per election.
    pub login: String,
    /// Mail address.
    pub email: String,
    /// Voting weight (1 unless weighted).
    pub weight: u64,
    /// The language of the voter's mails (the election's default when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<Lang>,
}

/// An admin account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminAccount {
    /// User name.
    pub username: String,
    /// PHC string of the argon2id hash.
    pub password_hash: String,
    /// What the account may do.
    pub role: AdminRole,
}

/// What an administrator account may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AdminRole {
    /// Runs the server: sees and acts on every election, manages the accounts, reads the
    /// server-wide audit log.
    Server,
    /// An election official: creates elections and acts only on the ones they own.
    Official,
}

impl AdminRole {
    /// The name stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            AdminRole::Server => "server",
            AdminRole::Official => "official",
        }
    }

    /// The role named `s`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "server" => Some(AdminRole::Server),
            "official" => Some(AdminRole::Official),
            _ => None,
        }
    }
}

/// Who a session belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum SessionSubject {
    /// An election official.
    Admin {
        /// User name.
        username: String,
    },
    /// A voter of one election.
    Voter {
        /// Election.
        election: String,
        /// Login.
        login: String,
    },
}

/// A stored session; the token itself is never stored, only its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    /// Hex SHA-256 of the bearer token.
    pub token_hash: String,
    /// Owner.
    pub subject: SessionSubject,
    /// Expiry.
    pub expires_at: UnixTime,
}

/// One live one-time login code of a voter (a voter may hold several: asking for a new
/// code never invalidates the ones already mailed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OtpRecord {
    /// Hex hash of the code (see `auth`).
    pub code_hash: String,
    /// Hex salt of the hash.
    pub salt: String,
    /// Expiry.
    pub expires_at: UnixTime,
}

/// The hourly send limit of one login (see [`Storage::put_otp`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OtpSendLimits {
    /// Codes sent to one login in the window.
    pub max_sends: u32,
    /// The sliding window, in seconds.
    pub window_secs: i64,
    /// The expiry given at least to the code that reaches the limit.
    pub last_lives_until: UnixTime,
}

/// How many wrong login codes are tolerated within `window_secs` before attempts are
/// refused: `per_client` from one client (so a stranger's guesses never lock the voter's
/// own attempts), `per_login` from all clients together (bounding guesses by a crowd).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OtpAttemptLimits {
    /// Wrong codes from one client for one login.
    pub per_client: u32,
    /// Wrong codes from all clients for one login.
    pub per_login: u32,
    /// The sliding window, in seconds.
    pub window_secs: i64,
}

/// What happened to a one-time code attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OtpOutcome {
    /// It matched a live code; every code of the voter is now spent.
    Accepted,
    /// It matched no live code (wrong, expired, none sent, or a login not on the list: one
    /// answer for all, so that it says nothing about the voter list); this many attempts
    /// remain to this client for this login.
    Rejected {
        /// Attempts left to this client before it is refused for the window.
        remaining: u32,
    },
    /// Too many wrong attempts from this client, or from everyone, in the window.
    Locked,
}

/// An audit-log entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// Position in the log (assigned by storage; ignored on append).
    pub id: i64,
    /// Time of the action.
    pub at: UnixTime,
    /// Admin who acted (or `"system"`).
    pub actor: String,
    /// Election concerned, if any.
    pub election: Option<String>,
    /// Short action name, e.g. `"voters.import"`.
    pub action: String,
    /// Free-form details.
    pub details: serde_json::Value,
}

/// Delivery status of a mail.
/// A mail to record as queued ([`Storage::insert_mails`]).
#[derive(Debug, Clone)]
pub struct NewMail {
    /// The election it concerns.
    pub election: Option<String>,
    /// The voter's login.
    pub login: String,
    /// Its kind (`"otp"`, `"confirmation"`, …).
    pub kind: String,
}

/// A mail's new status ([`Storage::set_mail_statuses`]).
#[derive(Debug, Clone)]
pub struct MailStatusUpdate {
    /// The mail.
    pub id: i64,
    /// Its status.
    pub status: MailStatus,
    /// Why it failed.
    pub error: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MailStatus {
    /// Recorded, not yet handed over.
    Queued,
    /// Accepted by the relay (or written to the outbox).
    Sent,
    /// Delivery failed; see the error.
    Failed,
}

impl MailStatus {
    /// Stable name, as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Sent => "sent",
            Self::Failed => "failed",
        }
    }
}

/// Counts of mails by status for one election.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailStatusCounts {
    /// Not yet handed over.
    pub queued: u64,
    /// Handed over.
    pub sent: u64,
    /// Failed.
    pub failed: u64,
}

/// One failed mail, for officials.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailFailure {
    /// Mail id.
    pub id: i64,
    /// Voter login.
    pub login: String,
    /// Error text.
    pub error: String,
    /// Last update.
    pub at: UnixTime,
}

/// What a role token lets its bearer do in one election (trustees and the credential
/// authority act through the API with these tokens; only their hash is stored).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleToken {
    /// Hex SHA-256 of the token.
    pub token_hash: String,
    /// Election the token is for.
    pub election: String,
    /// The role.
    pub role: Role,
}

/// A protocol role other than administrator and voter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "role", rename_all = "snake_case")]
pub enum Role {
    /// Trustee number `index` (1 to n).
    Trustee {
        /// Its number in the election's trustee list.
        index: u32,
    },
    /// The credential authority.
    CredentialAuthority,
}

/// An official's request that the credential authority mail one voter's credential again
/// (the server never holds credentials, spec §9.4: it only keeps the request and its status).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResendRequest {
    /// The voter's login.
    pub login: String,
    /// The official who asked (user name).
    pub requested_by: String,
    /// When it was (last) asked.
    pub requested_at: UnixTime,
    /// When the credential authority reported the credential mailed; `None` while pending.
    pub sent_at: Option<UnixTime>,
}

/// A voter login to bind to the credential that signs its ballots ([`Storage::bind_credentials`]).
#[derive(Debug, Clone)]
pub struct CredentialBinding {
    /// The election.
    pub election: String,
    /// The voter's login.
    pub login: String,
    /// The credential, hex.
    pub credential: String,
}

/// Outcome of binding a voter login to the credential that signs its ballots.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BindOutcome {
    /// The login is (now, or already) bound to this credential.
    Bound,
    /// The login already voted with another credential.
    LoginUsesAnother,
    /// Another login already voted with this credential.
    CredentialTaken,
}

/// The storage seam. Every method may block; call it through [`blocking`] from async code.
pub trait Storage: Send + Sync + 'static {
    // ---- board (public) ----

    /// Creates an election in [`ElectionState::Draft`]. `AlreadyExists` if the id is taken.
    fn create_election(&self, meta: &ElectionMeta) -> StorageResult<()>;
    /// Metadata of one election.
    fn election(&self, id: &str) -> StorageResult<Option<ElectionMeta>>;
    /// All elections, oldest first.
    fn list_elections(&self) -> StorageResult<Vec<ElectionMeta>>;
    /// Compare-and-set of the state: `StateMismatch` unless the state is `from`.
    fn set_election_state(
        &self,
        id: &str,
        from: ElectionState,
        to: ElectionState,
    ) -> StorageResult<()>;
    /// Replaces description and planned times; only while in `Draft`.
    /// Deletes a draft election: its row, any lines of its record and its checkpoint from the board, and
    /// from the private store its voters, login codes, role tokens, mails, bindings,
    /// re-send requests, trustees' addresses and owner. Refused ([`StorageError::StateMismatch`]) unless the election is a draft.
    /// The audit log keeps its entries.
    fn delete_draft_election(&self, id: &str) -> StorageResult<()>;

    fn update_election_draft(
        &self,
        id: &str,
        description_toml: &str,
        opens_at: Option<UnixTime>,
        closes_at: Option<UnixTime>,
    ) -> StorageResult<()>;
    /// Appends `lines` at `expected_next_seq, expected_next_seq + 1, …` with the ballot index
    /// entries, atomically and durably; returns the new next seq. `SeqMismatch` if the board
    /// is not at `expected_next_seq`; `AlreadyExists` if a tracker is already indexed.
    fn append_events(
        &self,
        election: &str,
        expected_next_seq: u64,
        lines: &[String],
        index: &[BallotIndexEntry],
    ) -> StorageResult<u64>;
    /// Up to `limit` lines starting at `from_seq` (line `i` has seq `from_seq + i`).
    fn events_from(
        &self,
        election: &str,
        from_seq: u64,
        limit: usize,
    ) -> StorageResult<Vec<String>>;
    /// Next seq and last line.
    fn head(&self, election: &str) -> StorageResult<BoardHead>;
    /// Keeps `checkpoint` as the election's latest, unless the one stored already covers
    /// more lines (two nodes may write one each). `NotFound` if the election does not exist.
    /// A cache: not part of the record, never read by verifiers.
    fn put_checkpoint(&self, election: &str, checkpoint: &StoredCheckpoint) -> StorageResult<()>;
    /// The latest checkpoint of the election, if any.
    fn checkpoint(&self, election: &str) -> StorageResult<Option<StoredCheckpoint>>;
    /// Seq of the ballot with this tracker.
    fn ballot_by_tracker(&self, election: &str, tracker: &str) -> StorageResult<Option<u64>>;
    /// The ballots of the board newest first: `(seq, tracker)` of at most `limit` ballots
    /// with a sequence number below `before` (all when `None`), skipping the first `skip`
    /// of them. For the public board's paginated list.
    fn ballots_newest_first(
        &self,
        election: &str,
        before: Option<u64>,
        skip: u64,
        limit: usize,
    ) -> StorageResult<Vec<(u64, String)>>;
    /// Number of ballots cast with `credential` (hex) in the election.
    fn ballots_of_credential(&self, election: &str, credential: &str) -> StorageResult<u64>;
    /// Seq of the latest ballot of this credential.
    fn latest_ballot_of_credential(
        &self,
        election: &str,
        credential: &str,
    ) -> StorageResult<Option<u64>>;

    /// What a cast reads of storage, at once: the election, the credential `login` is bound
    /// to, whether the ballot `tracker` (hex) is on the board, and how many ballots
    /// `credential` (hex) cast. A backend may answer in one round trip.
    fn cast_facts(
        &self,
        election: &str,
        login: &str,
        tracker: &str,
        credential: &str,
    ) -> StorageResult<CastFacts> {
        Ok(CastFacts {
            election: self.election(election)?,
            bound: self.credential_of_login(election, login)?,
            known: self.ballot_by_tracker(election, tracker)?.is_some(),
            cast: self.ballots_of_credential(election, credential)?,
        })
    }

    // ---- private ----

    /// Adds voters in one transaction. Returns, for each voter refused because the login is
    /// already on the list, its index in `voters`; the others are all added.
    fn add_voters(&self, election: &str, voters: &[Voter]) -> StorageResult<Vec<usize>>;
    /// One voter.
    fn voter(&self, election: &str, login: &str) -> StorageResult<Option<Voter>>;
    /// Number of voters and total weight.
    fn voter_count(&self, election: &str) -> StorageResult<(u64, u64)>;
    /// Voters in login order, after `after_login` (exclusive; `""` for the start), at most
    /// `limit` of them: for the credential authority and for sending credentials.
    fn list_voters(
        &self,
        election: &str,
        after_login: &str,
        limit: usize,
    ) -> StorageResult<Vec<Voter>>;

    /// Adds all of `voters` in one transaction, or none of them: returns the index in
    /// `voters` of each one whose login is already on the list; the transaction is committed
    /// only when that list is empty and `commit` is true (`false` checks without adding).
    fn import_voters(
        &self,
        election: &str,
        voters: &[Voter],
        commit: bool,
    ) -> StorageResult<Vec<usize>>;
    /// Voters in login order after `after_login` (exclusive), at most `limit`, whose login
    /// or mail address contains `query` (case-insensitive for ASCII; `""` matches all).
    fn search_voters(
        &self,
        election: &str,
        query: &str,
        after_login: &str,
        limit: usize,
    ) -> StorageResult<Vec<Voter>>;
    /// Replaces the mail address, weight and language of the voter with `voter.login`;
    /// `false` if no such voter.
    fn update_voter(&self, election: &str, voter: &Voter) -> StorageResult<bool>;
    /// Removes one voter; `false` if no such voter.
    fn remove_voter(&self, election: &str, login: &str) -> StorageResult<bool>;
    /// Every login–credential binding of an election (login order).
    fn credential_bindings(&self, election: &str) -> StorageResult<Vec<(String, String)>>;
    /// The distinct credentials that cast at least one ballot in the election.
    fn credentials_with_ballots(&self, election: &str) -> StorageResult<Vec<String>>;
    /// The status of the latest mail of each kind to each login of the election:
    /// `(login, kind, status)`.
    fn latest_mail_statuses(
        &self,
        election: &str,
    ) -> StorageResult<Vec<(String, String, MailStatus)>>;

    /// Sets the default language of an election's mails (for voters whose line names none).
    fn set_mail_language(&self, election: &str, language: Lang) -> StorageResult<()>;
    /// The default language of an election's mails, if set.
    fn mail_language(&self, election: &str) -> StorageResult<Option<Lang>>;

    /// What a mail to voter `login` needs, read at once: the election, the voter, and the
    /// election's mail language when the voter's line names none. A backend may answer in
    /// one round trip.
    fn mail_facts(&self, election: &str, login: &str) -> StorageResult<MailFacts> {
        let meta = self.election(election)?;
        let voter = self.voter(election, login)?;
        let election_language = election_language_for(self, election, voter.as_ref())?;
        Ok(MailFacts {
            election: meta,
            voter,
            election_language,
        })
    }

    /// Creates an admin; `AlreadyExists` if the name is taken.
    fn create_admin(&self, account: &AdminAccount) -> StorageResult<()>;
    /// One admin.
    /// Every administrator account: (user name, role), by name.
    fn admins(&self) -> StorageResult<Vec<(String, AdminRole)>>;
    /// Records who owns an election (its creator).
    fn set_election_owner(&self, election: &str, username: &str) -> StorageResult<()>;
    /// The owner of an election, if recorded.
    fn election_owner(&self, election: &str) -> StorageResult<Option<String>>;
    fn admin(&self, username: &str) -> StorageResult<Option<AdminAccount>>;

    /// Stores a session.
    fn insert_session(&self, session: &SessionRecord) -> StorageResult<()>;
    /// Looks a session up by token hash (expired ones included; the caller checks).
    fn session(&self, token_hash: &str) -> StorageResult<Option<SessionRecord>>;
    /// Deletes one session.
    fn delete_session(&self, token_hash: &str) -> StorageResult<()>;
    /// Deletes sessions expired before `now`; returns how many.
    fn purge_expired_sessions(&self, now: UnixTime) -> StorageResult<u64>;

    /// Adds a one-time code for the voter and records a send at `now`, in one transaction
    /// with the check of the send limit: `false` (and nothing stored) when the login already
    /// had `limits.max_sends` codes in the window. The code that reaches the limit lives at
    /// least until `limits.last_lives_until`. Expired codes are dropped and at most
    /// `max_sends` live codes are kept (the newest).
    fn put_otp(
        &self,
        election: &str,
        login: &str,
        record: &OtpRecord,
        now: UnixTime,
        limits: &OtpSendLimits,
    ) -> StorageResult<bool>;
    /// Number of codes sent to this voter since `since`.
    fn otp_sends_since(&self, election: &str, login: &str, since: UnixTime) -> StorageResult<u32>;
    /// Checks an attempt from `client` atomically: refuses it if the client or the login has
    /// too many recent failures, calls `matches` on every live code, then spends all the
    /// voter's codes (a match) or records a failure for this client and login (also when the
    /// login has no code or is not on the list).
    #[allow(clippy::too_many_arguments)]
    fn otp_attempt(
        &self,
        election: &str,
        login: &str,
        client: &str,
        now: UnixTime,
        limits: &OtpAttemptLimits,
        matches: &mut dyn FnMut(&OtpRecord) -> bool,
    ) -> StorageResult<OtpOutcome>;

    /// Appends to the audit log; returns the entry id.
    fn append_audit(&self, entry: &AuditEntry) -> StorageResult<i64>;
    /// Audit entries of an election (or global ones with `None`) with id > `after_id`.
    fn audit_log(
        &self,
        election: Option<&str>,
        after_id: i64,
        limit: usize,
    ) -> StorageResult<Vec<AuditEntry>>;

    /// Records a mail as queued; returns its id.
    fn insert_mail(
        &self,
        election: Option<&str>,
        login: &str,
        kind: &str,
        now: UnixTime,
    ) -> StorageResult<i64>;
    /// Updates the status of a mail.
    fn set_mail_status(
        &self,
        id: i64,
        status: MailStatus,
        error: Option<&str>,
        now: UnixTime,
    ) -> StorageResult<()>;
    /// Records mails as `queued`, all in one transaction where the backend can (the mails
    /// queued at the same moment share one commit); their ids, in order.
    fn insert_mails(&self, mails: &[NewMail], now: UnixTime) -> StorageResult<Vec<i64>> {
        mails
            .iter()
            .map(|m| self.insert_mail(m.election.as_deref(), &m.login, &m.kind, now))
            .collect()
    }
    /// Updates the status of mails, all in one transaction where the backend can; an id
    /// that names no mail is passed over.
    fn set_mail_statuses(&self, updates: &[MailStatusUpdate], now: UnixTime) -> StorageResult<()> {
        for u in updates {
            match self.set_mail_status(u.id, u.status, u.error.as_deref(), now) {
                Ok(()) | Err(StorageError::NotFound(_)) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
    /// Marks every mail still `queued` as `failed` with `error`; returns how many. Called at
    /// startup: a mail queued before a crash or restart was never handed over (bodies are
    /// not stored, since they hold one-time codes).
    fn fail_queued_mails(&self, error: &str, now: UnixTime) -> StorageResult<u64>;
    /// Counts by status for an election.
    fn mail_status_counts(&self, election: &str) -> StorageResult<MailStatusCounts>;
    /// Latest failures for an election.
    fn mail_failures(&self, election: &str, limit: usize) -> StorageResult<Vec<MailFailure>>;

    // ---- protocol roles (private) ----

    /// Replaces every role token of an election with `tokens` (earlier ones stop working).
    fn replace_role_tokens(&self, election: &str, tokens: &[RoleToken]) -> StorageResult<()>;
    /// Looks a role token up by its hash.
    fn role_token(&self, token_hash: &str) -> StorageResult<Option<RoleToken>>;
    /// The credential a voter login is bound to, if it voted.
    fn credential_of_login(&self, election: &str, login: &str) -> StorageResult<Option<String>>;
    /// Binds a login to a credential on first use (durably); a login cannot switch
    /// credentials and a credential cannot serve two logins.
    fn bind_credential(
        &self,
        election: &str,
        login: &str,
        credential: &str,
    ) -> StorageResult<BindOutcome> {
        let one = CredentialBinding {
            election: election.to_owned(),
            login: login.to_owned(),
            credential: credential.to_owned(),
        };
        self.bind_credentials(std::slice::from_ref(&one))?
            .into_iter()
            .next()
            .ok_or_else(|| StorageError::Backend("no binding outcome".to_owned()))
    }
    /// [`Storage::bind_credential`] for each of `bindings`, in order, in one durable
    /// transaction (one commit for the voters who cast their first ballot at the same
    /// moment); a binding sees those before it.
    fn bind_credentials(&self, bindings: &[CredentialBinding]) -> StorageResult<Vec<BindOutcome>>;

    // ---- officials' requests and trustees' addresses (private) ----

    /// Records (or renews) a request to mail `login`'s credential again: pending, asked by
    /// `requested_by` at `now` (a request already done becomes pending again).
    fn request_credential_resend(
        &self,
        election: &str,
        login: &str,
        requested_by: &str,
        now: UnixTime,
    ) -> StorageResult<()>;
    /// Every re-send request of an election, in login order.
    fn credential_resends(&self, election: &str) -> StorageResult<Vec<ResendRequest>>;
    /// Marks the pending request of `login` done at `now`; `false` when it has no pending
    /// request.
    fn mark_credential_resent(
        &self,
        election: &str,
        login: &str,
        now: UnixTime,
    ) -> StorageResult<bool>;
    /// When the latest mail of `kind` of the election was queued, if any.
    fn last_mail_of_kind(&self, election: &str, kind: &str) -> StorageResult<Option<UnixTime>>;
    /// Replaces the mail addresses of the election's trustees: `(index, address)`, index 1
    /// to n as in the definition.
    fn set_trustee_emails(&self, election: &str, emails: &[(u32, String)]) -> StorageResult<()>;
    /// The trustees' mail addresses, by index.
    fn trustee_emails(&self, election: &str) -> StorageResult<Vec<(u32, String)>>;
    /// Records that the record waits for trustee `trustee`'s `step` since `now`, unless
    /// already recorded: `true` only for the call that recorded it. The time is what the
    /// officials' page shows as "late since"; the mail that tells the trustee goes once
    /// per step through [`Storage::claim`].
    fn record_trustee_wait(
        &self,
        election: &str,
        trustee: u32,
        step: &str,
        now: UnixTime,
    ) -> StorageResult<bool>;
    /// Every recorded wait: `(trustee, step, since)`, by trustee then step.
    fn trustee_waits(&self, election: &str) -> StorageResult<Vec<(u32, String, UnixTime)>>;

    // ---- claims ----

    /// Claims `name` for the election at `at`: records the claim and answers `true`, unless
    /// a claim of that name stands — one made less than `not_within_secs` seconds before
    /// `at`, or any earlier one when `None` — then answers `false` and changes nothing. One
    /// atomic write: of concurrent claims of one name, from any connections or nodes sharing
    /// the database, exactly one answers `true`. This is what keeps the "at most once" rules
    /// (one reminder mailing an hour, one mail to a trustee per step) across nodes. A
    /// negative `not_within_secs` is [`StorageError::Invalid`].
    fn claim(
        &self,
        election: &str,
        name: &str,
        at: UnixTime,
        not_within_secs: Option<i64>,
    ) -> StorageResult<bool>;
    /// When `name` was last claimed for the election (by a [`Storage::claim`] that answered
    /// `true`), if ever.
    fn claimed_at(&self, election: &str, name: &str) -> StorageResult<Option<UnixTime>>;

    // ---- nodes ----

    /// Whether this instance is the one that runs the election scheduler: of the instances
    /// sharing a database, at most one answers `true` at a time, and it keeps answering
    /// `true` until it or its connection ends (then another takes over at its next call).
    /// A backend that one node alone uses answers `true`.
    fn scheduler_lease(&self) -> StorageResult<bool>;
}

/// A storage backend shared by the server.
pub type SharedStorage = Arc<dyn Storage>;

/// Opens the backend `database` names (a PostgreSQL URL), or SQLite in `data_dir` when it is
/// `None`.
pub fn open(database: Option<&str>, data_dir: &std::path::Path) -> StorageResult<SharedStorage> {
    Ok(match database {
        Some(url) => Arc::new(postgres::PostgresStorage::open(url)?),
        None => Arc::new(sqlite::SqliteStorage::open(data_dir)?),
    })
}

/// Runs a storage call on the blocking pool. The call completes even if the awaiting future
/// is dropped (e.g. on a request timeout), so a write is never torn.
pub async fn blocking<T, F>(storage: &SharedStorage, f: F) -> StorageResult<T>
where
    T: Send + 'static,
    F: FnOnce(&dyn Storage) -> StorageResult<T> + Send + 'static,
{
    let storage = Arc::clone(storage);
    tokio::task::spawn_blocking(move || f(storage.as_ref()))
        .await
        .map_err(|e| StorageError::Backend(format!("storage task failed: {e}")))?
}

/// An election id is 1 to 64 characters of `[A-Za-z0-9_-]`: safe in URLs, file names and logs.
pub fn valid_election_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The time at or before which an earlier claim no longer stands, for a claim at `at` that
/// no claim of the last `not_within_secs` seconds may precede (`None`: every earlier claim
/// stands). Shared by the backends' [`Storage::claim`].
pub(crate) fn claim_cutoff(
    at: UnixTime,
    not_within_secs: Option<i64>,
) -> StorageResult<Option<UnixTime>> {
    match not_within_secs {
        None => Ok(None),
        Some(secs) if secs < 0 => Err(StorageError::Invalid(format!(
            "a claim interval cannot be negative ({secs} seconds)"
        ))),
        Some(secs) => Ok(Some(at.saturating_sub(secs))),
    }
}

/// Current time in Unix seconds.
pub fn now() -> UnixTime {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}
