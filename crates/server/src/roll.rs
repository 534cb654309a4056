//! The voter roll as election officials manage it:
//!
//! | route | what |
//! |---|---|
//! | `GET /api/admin/elections/{id}/roll?q=&after=&limit=` | voters in login order (search on login and mail address), each with voted yes/no and the status of its latest mail of each kind |
//! | `POST /api/admin/elections/{id}/roll` | `{login, email, weight?, language?}` adds one voter (draft only) |
//! | `PUT /api/admin/elections/{id}/roll/{login}` | `{email, weight?, language?}` edits one voter (draft only) |
//! | `DELETE /api/admin/elections/{id}/roll/{login}` | removes one voter (draft only) |
//! | `GET /api/admin/elections/{id}/roll.csv` | the whole roll with voted and mail status, as CSV |
//! | `POST /api/admin/elections/{id}/roll/{login}/resend` | asks the credential authority to mail this voter's credential again (open election only) |
//! | `GET /api/admin/elections/{id}/reminders` | how many voters have not voted, when the last reminder went, when the next may go |
//! | `POST /api/admin/elections/{id}/reminders` | mails a reminder to every voter who has not voted (open election only; at most one per [`REMINDER_INTERVAL_SECS`]) |
//!
//! The server never holds a credential (spec §9.4): a re-send request is only stored, and
//! the credential authority, who holds the private credential file, lists the pending ones
//! (`GET /api/elections/{id}/authority/resends`), mails them (`scrutin credentials mail
//! --resend`) and marks each done; the roll shows each request's status.
//!
//! Invariants: every route requires an admin session; every change is refused once the
//! election has left the draft state (the roll is frozen at opening, as for the import) and
//! is written to the audit log; "voted" says only whether the voter's login is bound to a
//! credential that has a ballot on the board, never which ballot; every CSV cell is quoted
//! and a cell that a spreadsheet would read as a formula (starting with `=`, `+`, `-`, `@`,
//! tab or carriage return) is prefixed with `'`.

use std::collections::{BTreeMap, HashMap, HashSet};

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::audit;
use crate::csv::csv_row;
use crate::http::error::ApiError;
use crate::http::extract::{AdminAuth, JsonBody};
use crate::mail_text::Lang;
use crate::routes::load_election;
use crate::state::AppState;
use crate::storage::{
    ElectionState, MailStatus, ResendRequest, Storage, StorageResult, UnixTime, Voter, blocking,
    now,
};
use crate::{voter_mail, voters};

/// The shortest time between two reminders of one election, in seconds.
pub const REMINDER_INTERVAL_SECS: i64 = 3600;

/// The name under which a reminder mailing is claimed ([`Storage::claim`]) before its first
/// mail is queued: the claim keeps the interval across the nodes sharing the database.
pub const REMINDER_CLAIM: &str = "reminder";

/// Most voters in one page of the roll.
pub const MAX_PAGE: usize = 1000;
/// Longest search string, in bytes.
pub const MAX_QUERY_BYTES: usize = 256;
/// Voters read from storage at a time while exporting.
const EXPORT_CHUNK: usize = 5000;

/// The roll's routes (state not yet attached).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/admin/elections/{id}/roll",
            get(list_roll).post(add_voter),
        )
        .route(
            "/api/admin/elections/{id}/roll/{login}",
            axum::routing::put(edit_voter).delete(remove_voter),
        )
        .route("/api/admin/elections/{id}/roll.csv", get(export_roll))
        .route(
            "/api/admin/elections/{id}/roll/{login}/resend",
            axum::routing::post(request_resend),
        )
        .route(
            "/api/admin/elections/{id}/reminders",
            get(reminder_status).post(send_reminders),
        )
}

/// One voter as officials see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RollEntry {
    /// Login.
    pub login: String,
    /// Mail address.
    pub email: String,
    /// Voting weight.
    pub weight: u64,
    /// Language of the voter's mails (`None`: the election's default).
    pub language: Option<Lang>,
    /// Whether a ballot of this voter is on the board (never which one).
    pub voted: bool,
    /// Status of the latest mail of each kind (`otp`, `confirmation`, `reminder`, …) sent to
    /// the voter.
    pub mails: BTreeMap<String, MailStatus>,
    /// The latest request to mail this voter's credential again, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resend: Option<ResendStatus>,
}

/// Where a request to mail a credential again stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResendStatus {
    /// When an official asked.
    pub requested_at: UnixTime,
    /// When the credential authority reported it mailed (`None`: pending).
    pub sent_at: Option<UnixTime>,
}

/// What the roll knows beyond the voter list: who voted, the mail status and the re-send
/// requests.
struct RollStatus {
    voted: HashSet<String>,
    mails: HashMap<String, BTreeMap<String, MailStatus>>,
    resends: HashMap<String, ResendRequest>,
}

impl RollStatus {
    fn load(s: &dyn Storage, election: &str) -> StorageResult<Self> {
        let with_ballots: HashSet<String> =
            s.credentials_with_ballots(election)?.into_iter().collect();
        let voted = s
            .credential_bindings(election)?
            .into_iter()
            .filter(|(_, credential)| with_ballots.contains(credential))
            .map(|(login, _)| login)
            .collect();
        let mut mails: HashMap<String, BTreeMap<String, MailStatus>> = HashMap::new();
        for (login, kind, status) in s.latest_mail_statuses(election)? {
            mails.entry(login).or_default().insert(kind, status);
        }
        let resends = s
            .credential_resends(election)?
            .into_iter()
            .map(|r| (r.login.clone(), r))
            .collect();
        Ok(Self {
            voted,
            mails,
            resends,
        })
    }

    fn entry(&self, v: Voter) -> RollEntry {
        RollEntry {
            voted: self.voted.contains(&v.login),
            mails: self.mails.get(&v.login).cloned().unwrap_or_default(),
            resend: self.resends.get(&v.login).map(|r| ResendStatus {
                requested_at: r.requested_at,
                sent_at: r.sent_at,
            }),
            login: v.login,
            email: v.email,
            weight: v.weight,
            language: v.language,
        }
    }
}

/// Query of `GET …/roll`.
#[derive(Debug, Deserialize)]
struct RollQuery {
    q: Option<String>,
    after: Option<String>,
    limit: Option<usize>,
}

async fn list_roll(
    State(state): State<AppState>,
    _admin: AdminAuth,
    Path(id): Path<String>,
    Query(q): Query<RollQuery>,
) -> Result<Response, ApiError> {
    let election = load_election(&state, &id).await?;
    let query = q.q.unwrap_or_default();
    if query.len() > MAX_QUERY_BYTES {
        return Err(ApiError::bad_request(format!(
            "search longer than {MAX_QUERY_BYTES} bytes"
        )));
    }
    let after = q.after.unwrap_or_default();
    let limit = q.limit.unwrap_or(100).clamp(1, MAX_PAGE);
    let (entries, total_voters, total_weight) = blocking(&state.storage, move |s| {
        let status = RollStatus::load(s, &id)?;
        let page = s.search_voters(&id, query.trim(), &after, limit)?;
        let (n, w) = s.voter_count(&id)?;
        Ok((
            page.into_iter()
                .map(|v| status.entry(v))
                .collect::<Vec<_>>(),
            n,
            w,
        ))
    })
    .await?;
    let next_after = if entries.len() == limit {
        entries.last().map(|e| e.login.clone())
    } else {
        None
    };
    Ok(axum::Json(json!({
        "state": election.state,
        "voters": entries,
        "next_after": next_after,
        "total_voters": total_voters,
        "total_weight": total_weight,
    }))
    .into_response())
}

/// Body of `POST …/roll`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewVoter {
    login: String,
    email: String,
    weight: Option<u64>,
    language: Option<Lang>,
}

/// Body of `PUT …/roll/{login}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct VoterChange {
    email: String,
    weight: Option<u64>,
    language: Option<Lang>,
}

/// Loads the election and refuses unless it is a draft.
async fn draft(state: &AppState, id: &str) -> Result<(), ApiError> {
    let election = load_election(state, id).await?;
    if election.state != ElectionState::Draft {
        return Err(ApiError::conflict(
            "voter_list_frozen",
            "the voter list can only change while the election is a draft",
        ));
    }
    Ok(())
}

fn invalid_voter(reason: String) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_voter", reason)
}

async fn add_voter(
    State(state): State<AppState>,
    admin: AdminAuth,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<NewVoter>,
) -> Result<Response, ApiError> {
    draft(&state, &id).await?;
    let voter = Voter {
        login: body.login.trim().to_owned(),
        email: body.email.trim().to_owned(),
        weight: body.weight.unwrap_or(1),
        language: body.language,
    };
    voters::check_voter(&voter).map_err(invalid_voter)?;
    let eid = id.clone();
    let v = voter.clone();
    let refused = blocking(&state.storage, move |s| {
        s.import_voters(&eid, std::slice::from_ref(&v), true)
    })
    .await?;
    if !refused.is_empty() {
        return Err(ApiError::conflict(
            "voter_exists",
            "this login is already on the voter list",
        ));
    }
    audit::record(
        &state.storage,
        &admin.username,
        Some(&id),
        "voters.add",
        json!({"login": voter.login, "weight": voter.weight}),
    )
    .await?;
    Ok((StatusCode::CREATED, axum::Json(voter)).into_response())
}

async fn edit_voter(
    State(state): State<AppState>,
    admin: AdminAuth,
    Path((id, login)): Path<(String, String)>,
    JsonBody(body): JsonBody<VoterChange>,
) -> Result<Response, ApiError> {
    draft(&state, &id).await?;
    let voter = Voter {
        login,
        email: body.email.trim().to_owned(),
        weight: body.weight.unwrap_or(1),
        language: body.language,
    };
    voters::check_voter(&voter).map_err(invalid_voter)?;
    let eid = id.clone();
    let v = voter.clone();
    let found = blocking(&state.storage, move |s| s.update_voter(&eid, &v)).await?;
    if !found {
        return Err(ApiError::not_found("no such voter"));
    }
    audit::record(
        &state.storage,
        &admin.username,
        Some(&id),
        "voters.edit",
        json!({"login": voter.login, "weight": voter.weight}),
    )
    .await?;
    Ok(axum::Json(voter).into_response())
}

async fn remove_voter(
    State(state): State<AppState>,
    admin: AdminAuth,
    Path((id, login)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    draft(&state, &id).await?;
    let eid = id.clone();
    let l = login.clone();
    let found = blocking(&state.storage, move |s| s.remove_voter(&eid, &l)).await?;
    if !found {
        return Err(ApiError::not_found("no such voter"));
    }
    audit::record(
        &state.storage,
        &admin.username,
        Some(&id),
        "voters.remove",
        json!({ "login": login }),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Loads the election and refuses unless voting is open.
async fn voting(state: &AppState, id: &str, what: &str) -> Result<(), ApiError> {
    let election = load_election(state, id).await?;
    if election.state != ElectionState::Open {
        return Err(ApiError::conflict(
            "not_open",
            format!("{what} only while the election is open"),
        ));
    }
    Ok(())
}

/// Asks the credential authority to mail one voter's credential again: stored as a pending
/// request (a new request renews one already done), audited.
async fn request_resend(
    State(state): State<AppState>,
    admin: AdminAuth,
    Path((id, login)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    voting(&state, &id, "credentials can be sent again").await?;
    let (eid, l, who) = (id.clone(), login.clone(), admin.username.clone());
    let at = now();
    let found = blocking(&state.storage, move |s| {
        if s.voter(&eid, &l)?.is_none() {
            return Ok(false);
        }
        s.request_credential_resend(&eid, &l, &who, at)?;
        Ok(true)
    })
    .await?;
    if !found {
        return Err(ApiError::not_found("no such voter"));
    }
    audit::record(
        &state.storage,
        &admin.username,
        Some(&id),
        "voters.resend_request",
        json!({ "login": login }),
    )
    .await?;
    Ok((
        StatusCode::ACCEPTED,
        axum::Json(ResendStatus {
            requested_at: at,
            sent_at: None,
        }),
    )
        .into_response())
}

/// The voters of the roll who have not voted, in login order.
fn not_voted(s: &dyn Storage, election: &str) -> StorageResult<Vec<Voter>> {
    let status = RollStatus::load(s, election)?;
    let mut out = Vec::new();
    let mut after = String::new();
    loop {
        let chunk = s.list_voters(election, &after, EXPORT_CHUNK)?;
        let Some(last) = chunk.last() else { break };
        after = last.login.clone();
        let full = chunk.len() == EXPORT_CHUNK;
        out.extend(
            chunk
                .into_iter()
                .filter(|v| !status.voted.contains(&v.login)),
        );
        if !full {
            break;
        }
    }
    Ok(out)
}

/// Where the reminders of an election stand.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReminderStatus {
    /// Voters on the roll with no ballot on the board (those a reminder would go to).
    pub not_voted: u64,
    /// When the last reminder mailing went (its claim, or its latest mail for a mailing
    /// made before claims existed).
    pub last_sent_at: Option<UnixTime>,
    /// The earliest time the next reminder may go (`None`: now).
    pub next_allowed_at: Option<UnixTime>,
}

async fn reminder_counts(state: &AppState, id: &str) -> Result<ReminderStatus, ApiError> {
    let eid = id.to_owned();
    let (n, last) = blocking(&state.storage, move |s| {
        let claimed = s.claimed_at(&eid, REMINDER_CLAIM)?;
        let mailed = s.last_mail_of_kind(&eid, voter_mail::REMINDER_KIND)?;
        Ok((not_voted(s, &eid)?.len() as u64, claimed.max(mailed)))
    })
    .await?;
    Ok(ReminderStatus {
        not_voted: n,
        last_sent_at: last,
        next_allowed_at: last
            .map(|t| t.saturating_add(REMINDER_INTERVAL_SECS))
            .filter(|t| *t > now()),
    })
}

async fn reminder_status(
    State(state): State<AppState>,
    _admin: AdminAuth,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    load_election(&state, &id).await?;
    Ok(axum::Json(reminder_counts(&state, &id).await?).into_response())
}

/// The refusal of a reminder asked for within [`REMINDER_INTERVAL_SECS`] of the last one.
fn reminder_too_soon(status: &ReminderStatus) -> ApiError {
    let at = now();
    let last = status.last_sent_at.unwrap_or(at);
    let next = status.next_allowed_at.unwrap_or(at);
    let minutes = (next - at).max(1).div_euclid(60).max(1);
    ApiError::conflict(
        "reminder_too_soon",
        format!(
            "a reminder was sent {} minutes ago; the next one can be sent in {minutes} minutes (at most one per hour)",
            (at - last).max(0) / 60
        ),
    )
}

/// Mails a reminder to every voter who has not voted: refused while voting is not open and
/// within [`REMINDER_INTERVAL_SECS`] of the last one; the mails go through the mail queue
/// (each recorded, then delivered in the background), audited with their number only.
///
/// The interval holds across the nodes sharing the database: the mailing is claimed in
/// storage ([`REMINDER_CLAIM`], [`Storage::claim`]) before its first mail is queued, and of
/// two requests at once, on one node or on two, one alone gets the claim (the other is
/// refused as too soon). With nobody left to remind nothing is claimed.
async fn send_reminders(
    State(state): State<AppState>,
    admin: AdminAuth,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    voting(&state, &id, "reminders can be sent").await?;
    // Refused early without a claim; for mailings made before claims existed, the only
    // check.
    let status = reminder_counts(&state, &id).await?;
    if status.next_allowed_at.is_some() {
        return Err(reminder_too_soon(&status));
    }
    let meta = load_election(&state, &id).await?;
    let facts = voter_mail::election_facts(&state, &meta).await;
    let eid = id.clone();
    let voters = blocking(&state.storage, move |s| not_voted(s, &eid)).await?;
    if !voters.is_empty() {
        let (eid, at) = (id.clone(), now());
        let claimed = blocking(&state.storage, move |s| {
            s.claim(&eid, REMINDER_CLAIM, at, Some(REMINDER_INTERVAL_SECS))
        })
        .await?;
        if !claimed {
            return Err(reminder_too_soon(&reminder_counts(&state, &id).await?));
        }
    }
    let mut queued = 0u64;
    for voter in voters {
        let mail = voter_mail::reminder(&state, &facts, voter).await?;
        match state.mailer.queue(mail).await {
            Ok(_) => queued += 1,
            // Already recorded as failed, shown in the mail status.
            Err(crate::mail::MailError::Invalid(_)) => {}
            Err(e) => return Err(e.into()),
        }
    }
    audit::record(
        &state.storage,
        &admin.username,
        Some(&id),
        "voters.remind",
        json!({ "voters": status.not_voted, "queued": queued }),
    )
    .await?;
    Ok((
        StatusCode::ACCEPTED,
        axum::Json(json!({ "queued": queued, "not_voted": status.not_voted })),
    )
        .into_response())
}

/// The mail kinds given a column of their own in the export, with the column's name.
const EXPORT_MAIL_KINDS: [(&str, &str); 4] = [
    ("otp", "code_mail"),
    ("credential", "credential_mail"),
    ("confirmation", "confirmation_mail"),
    (voter_mail::REMINDER_KIND, "reminder_mail"),
];

async fn export_roll(
    State(state): State<AppState>,
    admin: AdminAuth,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    load_election(&state, &id).await?;
    let eid = id.clone();
    let (csv, count) = blocking(&state.storage, move |s| {
        let status = RollStatus::load(s, &eid)?;
        let mut header = vec!["login", "email", "weight", "language", "voted"];
        header.extend(EXPORT_MAIL_KINDS.iter().map(|(_, column)| *column));
        let mut out = csv_row(header);
        let mut after = String::new();
        let mut count = 0usize;
        loop {
            let chunk = s.list_voters(&eid, &after, EXPORT_CHUNK)?;
            let Some(last) = chunk.last() else { break };
            after = last.login.clone();
            let full = chunk.len() == EXPORT_CHUNK;
            for v in chunk {
                let e = status.entry(v);
                let weight = e.weight.to_string();
                let mut cells = vec![
                    e.login.as_str(),
                    e.email.as_str(),
                    weight.as_str(),
                    e.language.map(Lang::code).unwrap_or(""),
                    if e.voted { "yes" } else { "no" },
                ];
                cells.extend(
                    EXPORT_MAIL_KINDS
                        .iter()
                        .map(|(kind, _)| e.mails.get(*kind).map(|m| m.as_str()).unwrap_or("")),
                );
                out.push_str(&csv_row(cells));
                count += 1;
            }
            if !full {
                break;
            }
        }
        Ok((out, count))
    })
    .await?;
    audit::record(
        &state.storage,
        &admin.username,
        Some(&id),
        "voters.export",
        json!({ "voters": count }),
    )
    .await?;
    let disposition = format!("attachment; filename=\"roll-{id}.csv\"");
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        csv,
    )
        .into_response())
}
