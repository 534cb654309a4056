//! What a tracker lookup and a signed-in voter learn about the ballots already on the
//! board, so that the booth can say it before the choices rather than after the encryption:
//! - a tracker's ballot is **replaced** when a later ballot of the same credential is on the
//!   board (only a credential's last ballot counts, spec §11.7);
//! - a signed-in voter is told whether their login already voted, with its last ballot;
//! - a signed-in voter may ask whether a credential's **public key** (never the secret) can
//!   sign their ballot: the server binds a login to the first credential it casts with and a
//!   credential to one login ([`crate::storage::Storage::bind_credential`]).
//!
//! Invariant: none of these answers tells more than the public board. The credential check
//! says "another login" only for a credential whose ballots are on the board (the ballots
//! name their credential), and it speaks of the asking login's own binding, never of whose
//! a credential is.

use scrutin_election::Hash32;
use scrutin_election::record::{Event, parse_line};
use serde::Serialize;

use crate::http::error::ApiError;
use crate::state::AppState;
use crate::storage::blocking;

/// A ballot on the board, named by its position and tracker.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct BallotRef {
    /// Its sequence number on the board.
    pub seq: u64,
    /// Its tracker, hex.
    pub tracker: String,
}

/// Where the ballot of a tracker is, and whether a later ballot replaced it.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct TrackerStatus {
    /// The ballot's position on the board.
    pub seq: u64,
    /// The credential's last ballot, when it is a later one: this ballot is not counted.
    pub replaced_by: Option<BallotRef>,
}

/// A signed-in voter's ballots (`GET /api/elections/{id}/voter`).
#[derive(Clone, Debug, Serialize)]
pub struct VoterStatus {
    /// The login of the session.
    pub login: String,
    /// Whether a ballot of this login is on the board.
    pub voted: bool,
    /// How many ballots its credential cast.
    pub ballots: u64,
    /// The last of them, the one that counts until a new ballot replaces it. The board keeps
    /// no casting time (ballot events are not timestamped), so none is given.
    pub last_ballot: Option<BallotRef>,
}

/// Whether a credential may sign this login's ballot.
#[derive(Clone, Copy, Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum CredentialUse {
    /// No ballot of this credential is on the board, and the login voted with none.
    Unused,
    /// This login already voted with this credential: a new ballot replaces the last one.
    ThisLogin,
    /// Ballots of this credential are on the board, cast by another login: refused.
    AnotherLogin,
    /// This login already voted with another credential: refused.
    LoginUsesAnother,
}

/// The credential of the ballot on line `seq` (hex), if that line is a ballot.
fn credential_of_line(line: &str) -> Option<String> {
    match parse_line(line.as_bytes()).ok()?.event {
        Event::Ballot(b) => Some(b.credential.to_hex()),
        _ => None,
    }
}

/// The tracker of the ballot at `seq`.
fn ballot_ref(
    s: &dyn crate::storage::Storage,
    id: &str,
    seq: u64,
) -> crate::storage::StorageResult<Option<BallotRef>> {
    Ok(
        s.ballots_newest_first(id, Some(seq.saturating_add(1)), 0, 1)?
            .into_iter()
            .find(|(found, _)| *found == seq)
            .map(|(seq, tracker)| BallotRef { seq, tracker }),
    )
}

/// The statuses of the ballots at `seqs` (positions of ballots on the board): for each, the
/// later ballot of the same credential that replaced it, if any.
pub async fn replaced_by(
    app: &AppState,
    id: &str,
    seqs: Vec<u64>,
) -> Result<Vec<Option<BallotRef>>, ApiError> {
    let eid = id.to_owned();
    Ok(blocking(&app.storage, move |s| {
        let mut out = Vec::with_capacity(seqs.len());
        for seq in seqs {
            let line = s.events_from(&eid, seq, 1)?;
            let Some(credential) = line.first().and_then(|l| credential_of_line(l)) else {
                out.push(None);
                continue;
            };
            match s.latest_ballot_of_credential(&eid, &credential)? {
                Some(last) if last > seq => out.push(ballot_ref(s, &eid, last)?),
                _ => out.push(None),
            }
        }
        Ok(out)
    })
    .await?)
}

/// The ballot of `tracker` (64 hexadecimal characters, already checked), if on the board.
pub async fn tracker_status(
    app: &AppState,
    id: &str,
    tracker: &Hash32,
) -> Result<Option<TrackerStatus>, ApiError> {
    let (eid, hex) = (id.to_owned(), tracker.to_hex());
    let Some(seq) = blocking(&app.storage, move |s| s.ballot_by_tracker(&eid, &hex)).await? else {
        return Ok(None);
    };
    let replaced_by = replaced_by(app, id, vec![seq]).await?.pop().flatten();
    Ok(Some(TrackerStatus { seq, replaced_by }))
}

/// What the board holds of `login`'s ballots.
pub async fn voter_status(app: &AppState, id: &str, login: &str) -> Result<VoterStatus, ApiError> {
    let (eid, lg) = (id.to_owned(), login.to_owned());
    blocking(&app.storage, move |s| {
        let Some(credential) = s.credential_of_login(&eid, &lg)? else {
            return Ok(VoterStatus {
                login: lg,
                voted: false,
                ballots: 0,
                last_ballot: None,
            });
        };
        let ballots = s.ballots_of_credential(&eid, &credential)?;
        let last_ballot = match s.latest_ballot_of_credential(&eid, &credential)? {
            Some(seq) => ballot_ref(s, &eid, seq)?,
            None => None,
        };
        Ok(VoterStatus {
            login: lg,
            voted: last_ballot.is_some(),
            ballots,
            last_ballot,
        })
    })
    .await
    .map_err(ApiError::from)
}

/// Whether `login` may cast a ballot signed with the credential whose public key is
/// `credential` (hex), as the cast would decide it (`bind_credential`), told only from the
/// login's own binding and the public board.
pub async fn credential_use(
    app: &AppState,
    id: &str,
    login: &str,
    credential: &str,
) -> Result<CredentialUse, ApiError> {
    let credential = Hash32::from_hex(credential.trim())
        .map_err(|_| {
            ApiError::bad_request("a credential's public key is 64 hexadecimal characters")
        })?
        .to_hex();
    let (eid, lg) = (id.to_owned(), login.to_owned());
    blocking(&app.storage, move |s| {
        if let Some(bound) = s.credential_of_login(&eid, &lg)? {
            return Ok(if bound == credential {
                CredentialUse::ThisLogin
            } else {
                CredentialUse::LoginUsesAnother
            });
        }
        Ok(if s.ballots_of_credential(&eid, &credential)? > 0 {
            CredentialUse::AnotherLogin
        } else {
            CredentialUse::Unused
        })
    })
    .await
    .map_err(ApiError::from)
}
