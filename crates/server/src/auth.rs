//! Authentication: admin accounts, bearer sessions and voter one-time codes.
//!
//! Invariants:
//! - admin passwords are stored only as argon2id PHC strings; a login for an unknown user
//!   still runs one argon2 verification, so timing does not reveal which accounts exist;
//! - session tokens are 32 random bytes from the OS (64 hex chars); only their SHA-256 is
//!   stored, and a session is valid only before its expiry;
//! - one-time login codes are uniform random decimal strings of the configured length,
//!   stored as a salted SHA-256 bound to the election and login, compared in constant time,
//!   expired after `ttl_secs`; a successful login spends every code of that voter;
//! - nobody but the voter can keep the voter from logging in (spec §14 has the threat):
//!   asking for a new code never invalidates the codes already mailed; at most
//!   `max_sends_per_hour` codes go to one login per hour, and the code that reaches that
//!   limit stays valid for the whole hour, so the voter's mailbox always holds a live code;
//!   wrong codes are counted per client (`max_attempts` lock only that client out) and per
//!   login from all clients (`max_failures_per_login`, a bound on guessing by a crowd).
//!
//! All functions here block (argon2, database): call them from `spawn_blocking`.

use std::sync::OnceLock;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::config::OtpPolicy;
use crate::storage::{
    AdminAccount, AdminRole, OtpAttemptLimits, OtpOutcome, OtpRecord, OtpSendLimits, SessionRecord,
    SessionSubject, Storage, StorageError, UnixTime,
};

/// Errors of authentication operations.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// The OS random generator failed.
    #[error("random generator failed")]
    Random,
    /// Password hashing failed.
    #[error("password hashing failed: {0}")]
    Hash(String),
    /// A password or name breaks the account rules.
    #[error("{0}")]
    Invalid(String),
    /// Too many codes were sent recently.
    #[error("too many codes sent; retry in {retry_after_secs} s")]
    TooManySends {
        /// Seconds until another code may be sent.
        retry_after_secs: u64,
    },
    /// Storage failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// Shortest admin password accepted.
pub const MIN_PASSWORD_LEN: usize = 12;
/// Longest admin password accepted (bounds hashing work).
pub const MAX_PASSWORD_LEN: usize = 1024;

fn random_bytes<const N: usize>() -> Result<[u8; N], AuthError> {
    let mut b = [0u8; N];
    getrandom::fill(&mut b).map_err(|_| AuthError::Random)?;
    Ok(b)
}

/// Hashes a password with argon2id (default parameters of the `argon2` crate) and a random salt.
pub fn hash_password(password: &str) -> Result<String, AuthError> {
    let salt_bytes = random_bytes::<16>()?;
    let salt = SaltString::encode_b64(&salt_bytes).map_err(|e| AuthError::Hash(e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AuthError::Hash(e.to_string()))
}

/// Checks a password against a PHC string; any malformed hash is a mismatch.
pub fn verify_password(phc: &str, password: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(parsed) => Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| hash_password("scrutin-dummy-password").unwrap_or_default())
}

/// A valid admin user name: 1 to 64 characters of `[A-Za-z0-9._@-]`.
pub fn valid_username(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'@' | b'-'))
}

/// Creates a server administrator account (sees and acts on every election).
pub fn create_admin(
    storage: &dyn Storage,
    username: &str,
    password: &str,
) -> Result<(), AuthError> {
    create_account(storage, username, password, AdminRole::Server)
}

/// Creates an administrator account with `role`.
pub fn create_account(
    storage: &dyn Storage,
    username: &str,
    password: &str,
    role: AdminRole,
) -> Result<(), AuthError> {
    if !valid_username(username) {
        return Err(AuthError::Invalid("invalid user name".to_owned()));
    }
    let n = password.chars().count();
    if n < MIN_PASSWORD_LEN || password.len() > MAX_PASSWORD_LEN {
        return Err(AuthError::Invalid(format!(
            "password must have {MIN_PASSWORD_LEN} to {MAX_PASSWORD_LEN} characters"
        )));
    }
    let password_hash = hash_password(password)?;
    storage.create_admin(&AdminAccount {
        username: username.to_owned(),
        password_hash,
        role,
    })?;
    Ok(())
}

/// A freshly issued bearer token (shown once to its owner).
#[derive(Debug, Clone)]
pub struct IssuedToken {
    /// The token, 64 hex chars.
    pub token: String,
    /// Its expiry.
    pub expires_at: UnixTime,
}

/// SHA-256 of a bearer token, hex; the storage key of a session.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Issues a session for `subject` valid for `ttl_secs` from `now`.
pub fn issue_session(
    storage: &dyn Storage,
    subject: SessionSubject,
    now: UnixTime,
    ttl_secs: u64,
) -> Result<IssuedToken, AuthError> {
    let token = hex::encode(random_bytes::<32>()?);
    let expires_at = now.saturating_add(i64::try_from(ttl_secs).unwrap_or(i64::MAX));
    storage.insert_session(&SessionRecord {
        token_hash: token_hash(&token),
        subject,
        expires_at,
    })?;
    Ok(IssuedToken { token, expires_at })
}

/// Checks an admin's password and issues a session; `None` on a wrong name or password.
pub fn admin_login(
    storage: &dyn Storage,
    username: &str,
    password: &str,
    now: UnixTime,
    ttl_secs: u64,
) -> Result<Option<IssuedToken>, AuthError> {
    if password.len() > MAX_PASSWORD_LEN || !valid_username(username) {
        // Same work as a real check, so the answer time says nothing.
        let _ = verify_password(dummy_hash(), password.get(..MAX_PASSWORD_LEN).unwrap_or(""));
        return Ok(None);
    }
    let account = storage.admin(username)?;
    let ok = match &account {
        Some(a) => verify_password(&a.password_hash, password),
        None => {
            let _ = verify_password(dummy_hash(), password);
            false
        }
    };
    if !ok {
        return Ok(None);
    }
    let subject = SessionSubject::Admin {
        username: username.to_owned(),
    };
    issue_session(storage, subject, now, ttl_secs).map(Some)
}

/// Resolves a bearer token to its live session subject.
pub fn authenticate(
    storage: &dyn Storage,
    token: &str,
    now: UnixTime,
) -> Result<Option<SessionSubject>, AuthError> {
    if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(None);
    }
    match storage.session(&token_hash(token))? {
        Some(s) if now < s.expires_at => Ok(Some(s.subject)),
        _ => Ok(None),
    }
}

/// Ends a session.
pub fn logout(storage: &dyn Storage, token: &str) -> Result<(), AuthError> {
    storage.delete_session(&token_hash(token))?;
    Ok(())
}

/// A uniform random code of `digits` decimal digits (leading zeros kept).
pub fn generate_code(digits: u32) -> Result<String, AuthError> {
    let digits = digits.clamp(6, 8);
    let modulus = 10u32.pow(digits);
    // Rejection sampling: accept only below the largest multiple of the modulus.
    let zone = u32::MAX - (u32::MAX % modulus);
    loop {
        let v = u32::from_le_bytes(random_bytes::<4>()?);
        if v < zone {
            return Ok(format!("{:0width$}", v % modulus, width = digits as usize));
        }
    }
}

/// Salted hash of a one-time code, bound to its election and login.
pub fn hash_code(election: &str, login: &str, code: &str, salt_hex: &str) -> String {
    let mut h = Sha256::new();
    for part in [
        "scrutin/otp/v1".as_bytes(),
        salt_hex.as_bytes(),
        election.as_bytes(),
        login.as_bytes(),
        code.as_bytes(),
    ] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part);
    }
    hex::encode(h.finalize())
}

/// Creates and stores a new one-time code for a listed voter, enforcing the hourly send
/// limit; returns the code to mail. The codes already sent stay valid; the code that reaches
/// the hourly limit lives until the hour is over, so requests by a stranger can never leave
/// the voter without a live code.
pub fn new_voter_code(
    storage: &dyn Storage,
    policy: &OtpPolicy,
    election: &str,
    login: &str,
    now: UnixTime,
) -> Result<String, AuthError> {
    let code = generate_code(policy.digits)?;
    let salt = hex::encode(random_bytes::<16>()?);
    let record = OtpRecord {
        code_hash: hash_code(election, login, &code, &salt),
        salt,
        expires_at: now.saturating_add(i64::try_from(policy.ttl_secs).unwrap_or(i64::MAX)),
    };
    let limits = OtpSendLimits {
        max_sends: policy.max_sends_per_hour,
        window_secs: SEND_WINDOW_SECS,
        last_lives_until: now.saturating_add(SEND_WINDOW_SECS),
    };
    if storage.put_otp(election, login, &record, now, &limits)? {
        Ok(code)
    } else {
        Err(AuthError::TooManySends {
            retry_after_secs: 3600 / u64::from(policy.max_sends_per_hour.max(1)),
        })
    }
}

/// The window of the send limit and of the failure counts, in seconds.
pub const SEND_WINDOW_SECS: i64 = 3600;

/// Checks a code typed on `client` (a client address key): constant-time comparison with
/// every live code of the voter, single use, per-client and per-login failure limits,
/// expiry.
pub fn check_voter_code(
    storage: &dyn Storage,
    policy: &OtpPolicy,
    election: &str,
    login: &str,
    client: &str,
    code: &str,
    now: UnixTime,
) -> Result<OtpOutcome, AuthError> {
    // Normalise what people type: spaces and dashes are ignored.
    let code: String = code
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .take(16)
        .collect();
    let mut matches = |rec: &OtpRecord| {
        let candidate = hash_code(election, login, &code, &rec.salt);
        bool::from(candidate.as_bytes().ct_eq(rec.code_hash.as_bytes()))
    };
    let limits = OtpAttemptLimits {
        per_client: policy.max_attempts,
        per_login: policy.max_failures_per_login,
        window_secs: SEND_WINDOW_SECS,
    };
    Ok(storage.otp_attempt(election, login, client, now, &limits, &mut matches)?)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use crate::storage::sqlite::SqliteStorage;

    #[test]
    fn codes_have_the_right_shape() {
        for d in 6..=8 {
            let c = generate_code(d).unwrap();
            assert_eq!(c.len(), d as usize);
            assert!(c.bytes().all(|b| b.is_ascii_digit()));
        }
    }

    #[test]
    fn passwords_and_sessions() {
        let dir = tempfile::tempdir().unwrap();
        let s = SqliteStorage::open(&dir.path().join("data")).unwrap();
        assert!(create_admin(&s, "root", "short").is_err());
        create_admin(&s, "root", "correct horse battery").unwrap();
        assert!(
            admin_login(&s, "root", "wrong password!!", 0, 60)
                .unwrap()
                .is_none()
        );
        assert!(
            admin_login(&s, "nobody", "correct horse battery", 0, 60)
                .unwrap()
                .is_none()
        );
        let t = admin_login(&s, "root", "correct horse battery", 100, 60)
            .unwrap()
            .unwrap();
        assert_eq!(
            authenticate(&s, &t.token, 120).unwrap(),
            Some(SessionSubject::Admin {
                username: "root".into()
            })
        );
        assert_eq!(authenticate(&s, &t.token, 160).unwrap(), None);
        assert_eq!(authenticate(&s, "zz", 120).unwrap(), None);
        logout(&s, &t.token).unwrap();
        assert_eq!(authenticate(&s, &t.token, 120).unwrap(), None);
    }

    #[test]
    fn otp_rules() {
        let dir = tempfile::tempdir().unwrap();
        let s = SqliteStorage::open(&dir.path().join("data")).unwrap();
        let p = OtpPolicy {
            digits: 6,
            ttl_secs: 100,
            max_attempts: 3,
            max_sends_per_hour: 4,
            max_sends_per_client_per_hour: 3,
            max_failures_per_login: 5,
        };
        let wrong_for = |c: &str| if c == "000000" { "000001" } else { "000000" };
        let code = new_voter_code(&s, &p, "e", "alice", 1000).unwrap();
        let wrong = wrong_for(&code);
        assert_eq!(
            check_voter_code(&s, &p, "e", "alice", "x", wrong, 1001).unwrap(),
            OtpOutcome::Rejected { remaining: 2 }
        );
        assert_eq!(
            check_voter_code(&s, &p, "e", "bob", "x", &code, 1001).unwrap(),
            OtpOutcome::Rejected { remaining: 2 }
        );
        assert_eq!(
            check_voter_code(&s, &p, "e", "alice", "x", &code, 1001).unwrap(),
            OtpOutcome::Accepted
        );
        assert_eq!(
            check_voter_code(&s, &p, "e", "alice", "y", &code, 1002).unwrap(),
            OtpOutcome::Rejected { remaining: 2 }
        );
        // A new code does not invalidate the previous one; a login spends both.
        let first = new_voter_code(&s, &p, "e", "alice", 1010).unwrap();
        let second = new_voter_code(&s, &p, "e", "alice", 1011).unwrap();
        assert_eq!(
            check_voter_code(&s, &p, "e", "alice", "x", &first, 1012).unwrap(),
            OtpOutcome::Accepted
        );
        assert_eq!(
            check_voter_code(&s, &p, "e", "alice", "z", &second, 1013).unwrap(),
            OtpOutcome::Rejected { remaining: 2 }
        );
        // The fourth send reaches the hourly limit: that code lives for the hour.
        let last = new_voter_code(&s, &p, "e", "alice", 1020).unwrap();
        assert!(matches!(
            new_voter_code(&s, &p, "e", "alice", 1021),
            Err(AuthError::TooManySends { .. })
        ));
        assert_eq!(
            check_voter_code(&s, &p, "e", "alice", "x", &last, 1000 + 3599).unwrap(),
            OtpOutcome::Accepted
        );
        // An ordinary code expires after its lifetime.
        let code = new_voter_code(&s, &p, "e", "carol", 1000).unwrap();
        assert_eq!(
            check_voter_code(&s, &p, "e", "carol", "x", &code, 1100).unwrap(),
            OtpOutcome::Rejected { remaining: 2 }
        );
        // Wrong codes lock the client that typed them, not the voter's own client.
        let code = new_voter_code(&s, &p, "e", "dave", 5000).unwrap();
        for _ in 0..3 {
            check_voter_code(&s, &p, "e", "dave", "attacker", wrong_for(&code), 5001).unwrap();
        }
        assert_eq!(
            check_voter_code(&s, &p, "e", "dave", "attacker", &code, 5002).unwrap(),
            OtpOutcome::Locked
        );
        assert_eq!(
            check_voter_code(&s, &p, "e", "dave", "voter", &code, 5002).unwrap(),
            OtpOutcome::Accepted
        );
        // Failures from a crowd of clients are bounded per login.
        let code = new_voter_code(&s, &p, "e", "erin", 6000).unwrap();
        for i in 0..5 {
            let client = format!("crowd{i}");
            check_voter_code(&s, &p, "e", "erin", &client, wrong_for(&code), 6001).unwrap();
        }
        assert_eq!(
            check_voter_code(&s, &p, "e", "erin", "voter", &code, 6002).unwrap(),
            OtpOutcome::Locked
        );
        // … for the window only.
        assert_eq!(
            check_voter_code(&s, &p, "e", "erin", "voter", &code, 6002 + 3600).unwrap(),
            OtpOutcome::Rejected { remaining: 2 }
        );
    }
}
