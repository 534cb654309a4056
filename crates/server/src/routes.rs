//! The routes that do not depend on the election protocol:
//!
//! | route | who | what |
//! |---|---|---|
//! | `GET /api/health` | anyone | liveness (exempt from rate limit and load shedding) |
//! | `POST /api/admin/login` | official | `{username, password}` → `{token, expires_at}` |
//! | `POST /api/admin/logout` | official | ends the session |
//! | `GET /api/admin/audit-log?after=&limit=` | server admin | entries not tied to an election |
//! | `GET /api/admin/accounts` | server admin | `{accounts: [{username, role}]}` |
//! | `POST /api/admin/accounts` | server admin | `{username, password, role}` → 201; `role` is `server` or `official` |
//! | `POST /api/admin/elections/{id}/voters` | official | `text/csv` `login,email[,weight[,language]]` → import report; all or nothing: one bad line and no voter is added |
//! | `GET /api/admin/elections/{id}/audit-log?after=&limit=` | official | the election's audit entries |
//! | `GET /api/admin/elections/{id}/mail-status` | official | mail counts by status, recent failures |
//! | `POST /api/elections/{id}/login` | voter | `{login}` → 202; a one-time login code is mailed if listed |
//! | `POST /api/elections/{id}/verify-code` | voter | `{login, code}` → `{token, expires_at}` |
//! | `POST /api/elections/{id}/logout` | voter | ends the voter session |
//!
//! Invariants: every admin route requires an admin bearer session and writes an audit entry
//! when it changes something; an official reaches only the elections they created (every
//! `/api/admin/elections/{id}…` route, by [`crate::http::middleware::election_owners`]; the
//! others answer 404), a server administrator all of them; the voter list can change only while the election is a draft
//! (the roll is frozen at opening); the voter login answer is the same whether or not the
//! login is listed, so it cannot be used to enumerate voters.

use std::net::IpAddr;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::audit;
use crate::auth;
use crate::config::ServerConfig;
use crate::http::error::ApiError;
use crate::http::extract::{AdminAuth, JsonBody, VoterAuth};
use crate::http::middleware::ClientIp;
use crate::ratelimit::{client_key, retry_after_secs};
use crate::state::AppState;
use crate::storage::{
    AdminRole, ElectionMeta, ElectionState, OtpOutcome, SessionSubject, StorageError, blocking,
    now, valid_election_id,
};
use crate::voters::{self, LineError};

/// The built-in routes (state not yet attached).
pub fn routes(config: &ServerConfig) -> Router<AppState> {
    Router::new()
        .route("/api/health", get(health))
        .route("/api/admin/login", post(admin_login))
        .route("/api/admin/logout", post(admin_logout))
        .route(
            "/api/admin/elections/{id}/voters",
            post(upload_voters).layer(DefaultBodyLimit::max(config.limits.voter_list_limit_bytes)),
        )
        .route("/api/admin/audit-log", get(global_audit_log))
        .route(
            "/api/admin/accounts",
            get(list_accounts).post(create_account),
        )
        .route("/api/admin/elections/{id}/audit-log", get(audit_log))
        .route("/api/admin/elections/{id}/mail-status", get(mail_status))
        .route("/api/elections/{id}/login", post(voter_login))
        .route("/api/elections/{id}/verify-code", post(verify_code))
        .route("/api/elections/{id}/logout", post(voter_logout))
}

/// Loads an election or answers 404 (also for ids that are not well-formed).
pub async fn load_election(state: &AppState, id: &str) -> Result<ElectionMeta, ApiError> {
    check_election_id(id)?;
    let id = id.to_owned();
    blocking(&state.storage, move |s| s.election(&id))
        .await?
        .ok_or_else(|| ApiError::not_found("no such election"))
}

/// 404 for an id no election can have ([`valid_election_id`]), before any storage read.
pub fn check_election_id(id: &str) -> Result<(), ApiError> {
    if valid_election_id(id) {
        Ok(())
    } else {
        Err(ApiError::not_found("no such election"))
    }
}

async fn health() -> impl IntoResponse {
    axum::Json(json!({"status": "ok", "version": env!("CARGO_PKG_VERSION")}))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AdminLoginRequest {
    username: String,
    password: String,
}

#[derive(Serialize)]
struct TokenResponse {
    token: String,
    expires_at: i64,
}

async fn admin_login(
    State(state): State<AppState>,
    client: Option<Extension<ClientIp>>,
    JsonBody(req): JsonBody<AdminLoginRequest>,
) -> Result<Response, ApiError> {
    if !auth::valid_username(&req.username) {
        return Err(invalid_credentials());
    }
    let ip = client_address(client);
    // Per address whatever the names tried, then per (name, address): each attempt costs
    // an argon2 verification.
    if let Err(wait) = state.guards.admin_logins_per_ip.check(&ip) {
        return Err(ApiError::too_many_requests(retry_after_secs(wait)));
    }
    if let Err(wait) = state.guards.admin_logins.check(&(req.username.clone(), ip)) {
        return Err(ApiError::too_many_requests(retry_after_secs(wait)));
    }
    let ttl = state.config.sessions.admin_ttl_secs;
    let (username, password) = (req.username.clone(), req.password);
    // At most `max_concurrent_password_checks` argon2 runs; beyond, 503 at once rather
    // than a queue that a flood from many addresses would fill.
    let _permit = state
        .guards
        .password_checks
        .clone()
        .try_acquire_owned()
        .map_err(|_| ApiError::overloaded(1))?;
    let issued = tokio::task::spawn_blocking({
        let storage = state.storage.clone();
        move || auth::admin_login(storage.as_ref(), &username, &password, now(), ttl)
    })
    .await
    .map_err(ApiError::internal)??;
    match issued {
        Some(t) => {
            audit::record(
                &state.storage,
                &req.username,
                None,
                "admin.login",
                json!({}),
            )
            .await?;
            Ok(axum::Json(TokenResponse {
                token: t.token,
                expires_at: t.expires_at,
            })
            .into_response())
        }
        None => {
            audit::record(
                &state.storage,
                audit::SYSTEM_ACTOR,
                None,
                "admin.login_failed",
                json!({"username": req.username}),
            )
            .await?;
            Err(invalid_credentials())
        }
    }
}

fn invalid_credentials() -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
        "wrong user name or password",
    )
}

async fn admin_logout(
    State(state): State<AppState>,
    admin: AdminAuth,
) -> Result<StatusCode, ApiError> {
    let token = admin.token.clone();
    blocking(&state.storage, move |s| {
        s.delete_session(&auth::token_hash(&token))
    })
    .await?;
    audit::record(
        &state.storage,
        &admin.username,
        None,
        "admin.logout",
        json!({}),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Report of a voter-list import.
#[derive(Debug, Serialize, Deserialize)]
pub struct ImportReport {
    /// Whether the file was imported: `false` when any line was bad, and then no voter
    /// was added.
    pub imported: bool,
    /// Voters added.
    pub accepted: usize,
    /// Lines refused.
    pub rejected: usize,
    /// Refused lines with reasons (the first 1000).
    pub errors: Vec<LineErrorOut>,
    /// More refused lines than listed.
    pub errors_truncated: bool,
    /// Voters on the list after the import.
    pub total_voters: u64,
    /// Their total weight.
    pub total_weight: u64,
}

/// A refused line in a report.
#[derive(Debug, Serialize, Deserialize)]
pub struct LineErrorOut {
    /// 1-based line number.
    pub line: usize,
    /// Why.
    pub reason: String,
}

impl From<LineError> for LineErrorOut {
    fn from(e: LineError) -> Self {
        Self {
            line: e.line,
            reason: e.reason,
        }
    }
}

async fn upload_voters(
    State(state): State<AppState>,
    admin: AdminAuth,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<axum::Json<ImportReport>, ApiError> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let mime = ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if mime != "text/csv" && mime != "text/plain" {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "expected Content-Type: text/csv",
        ));
    }
    let election = load_election(&state, &id).await?;
    if election.state != ElectionState::Draft {
        return Err(ApiError::conflict(
            "voter_list_frozen",
            "the voter list can only change while the election is a draft",
        ));
    }
    let max_lines = state.config.limits.voter_list_max_lines;
    let eid = id.clone();
    let report = blocking(&state.storage, move |s| {
        // All or nothing: a file with any bad line adds no voter, and every bad line
        // (including logins already on the list) is reported.
        let mut parsed = voters::parse_voter_list(&body, max_lines);
        let list: Vec<_> = parsed.voters.iter().map(|(_, v)| v.clone()).collect();
        let refused = s.import_voters(&eid, &list, parsed.error_count == 0)?;
        for i in &refused {
            if let Some((line, _)) = parsed.voters.get(*i) {
                parsed.refuse(*line, "login already on the voter list");
            }
        }
        parsed.errors.sort_by_key(|e| e.line);
        let (total_voters, total_weight) = s.voter_count(&eid)?;
        let imported = parsed.error_count == 0;
        Ok(ImportReport {
            imported,
            accepted: if imported { list.len() } else { 0 },
            rejected: parsed.error_count,
            errors_truncated: parsed.errors.len() < parsed.error_count,
            errors: parsed.errors.into_iter().map(Into::into).collect(),
            total_voters,
            total_weight,
        })
    })
    .await?;
    audit::record(
        &state.storage,
        &admin.username,
        Some(&id),
        "voters.import",
        json!({
            "imported": report.imported,
            "accepted": report.accepted,
            "rejected": report.rejected,
            "total_voters": report.total_voters,
        }),
    )
    .await?;
    Ok(axum::Json(report))
}

#[derive(Deserialize)]
struct AuditQuery {
    after: Option<i64>,
    limit: Option<usize>,
}

async fn audit_log(
    State(state): State<AppState>,
    _admin: AdminAuth,
    Path(id): Path<String>,
    Query(q): Query<AuditQuery>,
) -> Result<Response, ApiError> {
    load_election(&state, &id).await?;
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    let entries = audit::entries(&state.storage, Some(&id), q.after.unwrap_or(0), limit).await?;
    Ok(axum::Json(json!({ "entries": entries })).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AccountRequest {
    username: String,
    password: String,
    role: AdminRole,
}

/// Creates an administrator account (server administrators only): an election official
/// who will act only on the elections they create, or another server administrator.
async fn create_account(
    State(state): State<AppState>,
    admin: AdminAuth,
    JsonBody(req): JsonBody<AccountRequest>,
) -> Result<Response, ApiError> {
    admin.require_server()?;
    let (username, role) = (req.username.clone(), req.role);
    let _permit = state
        .guards
        .password_checks
        .clone()
        .try_acquire_owned()
        .map_err(|_| ApiError::overloaded(1))?;
    let created = tokio::task::spawn_blocking({
        let storage = state.storage.clone();
        move || auth::create_account(storage.as_ref(), &req.username, &req.password, req.role)
    })
    .await
    .map_err(ApiError::internal)?;
    match created {
        Ok(()) => {}
        Err(auth::AuthError::Invalid(m)) => {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_body",
                m,
            ));
        }
        Err(auth::AuthError::Storage(StorageError::AlreadyExists(_))) => {
            return Err(ApiError::conflict(
                "account_exists",
                "this user name is taken",
            ));
        }
        Err(e) => return Err(ApiError::internal(e)),
    }
    audit::record(
        &state.storage,
        &admin.username,
        None,
        "account.create",
        json!({"username": username, "role": role}),
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(json!({"username": username, "role": role})),
    )
        .into_response())
}

/// The administrator accounts and their roles (server administrators only).
async fn list_accounts(
    State(state): State<AppState>,
    admin: AdminAuth,
) -> Result<Response, ApiError> {
    admin.require_server()?;
    let accounts = blocking(&state.storage, |s| s.admins()).await?;
    let accounts: Vec<_> = accounts
        .into_iter()
        .map(|(username, role)| json!({"username": username, "role": role}))
        .collect();
    Ok(axum::Json(json!({ "accounts": accounts })).into_response())
}

async fn global_audit_log(
    State(state): State<AppState>,
    admin: AdminAuth,
    Query(q): Query<AuditQuery>,
) -> Result<Response, ApiError> {
    admin.require_server()?;
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    let entries = audit::entries(&state.storage, None, q.after.unwrap_or(0), limit).await?;
    Ok(axum::Json(json!({ "entries": entries })).into_response())
}

async fn mail_status(
    State(state): State<AppState>,
    _admin: AdminAuth,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    load_election(&state, &id).await?;
    let eid = id.clone();
    let (counts, failures) = blocking(&state.storage, move |s| {
        Ok((s.mail_status_counts(&eid)?, s.mail_failures(&eid, 50)?))
    })
    .await?;
    Ok(axum::Json(json!({ "counts": counts, "recent_failures": failures })).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VoterLoginRequest {
    login: String,
}

async fn open_election(state: &AppState, id: &str) -> Result<ElectionMeta, ApiError> {
    let election = load_election(state, id).await?;
    if election.state != ElectionState::Open {
        return Err(not_open());
    }
    Ok(election)
}

fn not_open() -> ApiError {
    ApiError::conflict("election_not_open", "this election is not open for voting")
}

fn check_login_field(login: &str) -> Result<(), ApiError> {
    if login.is_empty() || login.len() > voters::MAX_LOGIN_BYTES {
        return Err(ApiError::bad_request("invalid login"));
    }
    Ok(())
}

/// Asks for a one-time login code. The answer is the same, in content and in time, whether
/// the login is on the voter list or not, and whether a code was actually sent: the lookup,
/// the hourly send limit of the login and the mail happen after the answer. Only the
/// requests of this client for this login are limited here, so a stranger cannot use up the
/// voter's sends (see [`auth`]).
async fn voter_login(
    State(state): State<AppState>,
    Path(id): Path<String>,
    client: Option<Extension<ClientIp>>,
    JsonBody(req): JsonBody<VoterLoginRequest>,
) -> Result<Response, ApiError> {
    let login = req.login.trim().to_owned();
    check_login_field(&login)?;
    check_election_id(&id)?;
    // An election this node has published as open answers without a storage read; if it
    // was closed since (by another node), the code's own read below finds it and sends
    // nothing.
    if state.elections.published_open(&id).is_none() {
        open_election(&state, &id).await?;
    }
    let ip = client_address(client);
    if let Err(wait) = state
        .guards
        .otp_requests
        .check(&(id.clone(), login.clone(), ip))
    {
        return Err(ApiError::too_many_requests(retry_after_secs(wait)));
    }
    let permit = state
        .guards
        .code_issuance
        .clone()
        .try_acquire_owned()
        .map_err(|_| ApiError::overloaded(1))?;
    tokio::spawn(async move {
        let _permit = permit;
        send_login_code_despite_outages(&state, &id, &login).await;
    });
    Ok((
        StatusCode::ACCEPTED,
        axum::Json(json!({
            "status": "sent",
            "message": "if this login is on the voter list, a code was sent to its mail address",
        })),
    )
        .into_response())
}

/// The rate-limiting key of the client of a request (see [`client_key`]).
fn client_address(client: Option<Extension<ClientIp>>) -> IpAddr {
    client
        .map(|Extension(ClientIp(ip))| client_key(ip))
        .unwrap_or(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED))
}

/// How long a login code is retried while the database is unavailable (a restart, a
/// failover): the voter was told it was sent, and has no other way to learn it was not.
const CODE_RETRY_FOR: Duration = Duration::from_secs(30);

/// [`send_login_code`], tried again while the database answers that it is unavailable, for
/// up to [`CODE_RETRY_FOR`]. A try that failed after the code was issued issues another one
/// (each stays valid until it expires or is used).
async fn send_login_code_despite_outages(state: &AppState, id: &str, login: &str) {
    let started = tokio::time::Instant::now();
    let mut pause = Duration::from_millis(250);
    loop {
        match send_login_code(state, id, login).await {
            Ok(()) => return,
            Err(e) if e.code == "unavailable" && started.elapsed() + pause < CODE_RETRY_FOR => {
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(4));
            }
            Err(e) => {
                tracing::warn!(election = %id, error = %e, "login code not sent");
                return;
            }
        }
    }
}

/// Issues and mails a login code to `login` if election `id` is open, the login is on its
/// voter list and its hourly send limit allows; says nothing to the requester either way.
/// The reads and the code's write are one blocking task.
async fn send_login_code(state: &AppState, id: &str, login: &str) -> Result<(), ApiError> {
    let policy = state.config.otp.clone();
    let (eid, lg) = (id.to_owned(), login.to_owned());
    let issued = tokio::task::spawn_blocking({
        let storage = state.storage.clone();
        move || -> Result<_, auth::AuthError> {
            let facts = storage.mail_facts(&eid, &lg)?;
            let lang = facts.language();
            let (Some(election), Some(voter)) = (facts.election, facts.voter) else {
                return Ok(None);
            };
            if election.state != ElectionState::Open {
                return Ok(None);
            }
            match auth::new_voter_code(storage.as_ref(), &policy, &eid, &lg, now()) {
                Ok(code) => Ok(Some((election, voter, lang, code))),
                Err(auth::AuthError::TooManySends { .. }) => {
                    tracing::info!(election = %eid, "hourly code limit of a login reached");
                    Ok(None)
                }
                Err(e) => Err(e),
            }
        }
    })
    .await
    .map_err(ApiError::internal)??;
    let Some((election, voter, lang, code)) = issued else {
        return Ok(());
    };
    let mail = crate::voter_mail::login_code(state, &election, voter, lang, &code).await;
    state.mailer.queue(mail).await?;
    Ok(())
}

async fn voter_logout(
    State(state): State<AppState>,
    Path(id): Path<String>,
    voter: VoterAuth,
) -> Result<StatusCode, ApiError> {
    voter.require_election(&id)?;
    let token = voter.token.clone();
    blocking(&state.storage, move |s| {
        s.delete_session(&auth::token_hash(&token))
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VerifyCodeRequest {
    login: String,
    code: String,
}

async fn verify_code(
    State(state): State<AppState>,
    Path(id): Path<String>,
    client: Option<Extension<ClientIp>>,
    JsonBody(req): JsonBody<VerifyCodeRequest>,
) -> Result<Response, ApiError> {
    let login = req.login.trim().to_owned();
    check_login_field(&login)?;
    if req.code.len() > 64 {
        return Err(ApiError::bad_request("invalid code"));
    }
    check_election_id(&id)?;
    let policy = state.config.otp.clone();
    let ttl = state.config.sessions.voter_ttl_secs;
    let (eid, lg, code) = (id.clone(), login.clone(), req.code);
    let ip = client_address(client).to_string();
    // The election's state, the code and the new session, in one blocking task.
    enum Checked {
        NoElection,
        NotOpen,
        Refused(OtpOutcome),
        Session(auth::IssuedToken),
    }
    let checked = tokio::task::spawn_blocking({
        let storage = state.storage.clone();
        move || -> Result<Checked, auth::AuthError> {
            let Some(meta) = storage.election(&eid)? else {
                return Ok(Checked::NoElection);
            };
            if meta.state != ElectionState::Open {
                return Ok(Checked::NotOpen);
            }
            let t = now();
            let outcome =
                auth::check_voter_code(storage.as_ref(), &policy, &eid, &lg, &ip, &code, t)?;
            if outcome != OtpOutcome::Accepted {
                return Ok(Checked::Refused(outcome));
            }
            let subject = SessionSubject::Voter {
                election: eid,
                login: lg,
            };
            let session = auth::issue_session(storage.as_ref(), subject, t, ttl)?;
            Ok(Checked::Session(session))
        }
    })
    .await
    .map_err(ApiError::internal)??;
    match checked {
        Checked::Session(t) => Ok(axum::Json(TokenResponse {
            token: t.token,
            expires_at: t.expires_at,
        })
        .into_response()),
        Checked::NoElection => Err(ApiError::not_found("no such election")),
        Checked::NotOpen => Err(not_open()),
        Checked::Refused(OtpOutcome::Rejected { remaining }) => Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_code",
            format!("wrong or expired code; {remaining} attempts left"),
        )),
        Checked::Refused(OtpOutcome::Locked) => Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "code_locked",
            "too many wrong codes were typed for this login; retry within the hour",
        )),
        Checked::Refused(OtpOutcome::Accepted) => {
            Err(ApiError::internal("accepted code without a session"))
        }
    }
}
