//! The protocol's HTTP routes (documented in `docs/openapi.json`, served at
//! `/api/openapi.json`):
//!
//! | route | who | what |
//! |---|---|---|
//! | `GET /api/admin/elections` | official | every election's metadata and title |
//! | `POST /api/admin/elections` | official | `{description, opens_at?, closes_at?}` → the new draft |
//! | `GET /api/admin/elections/{id}` | official | metadata, stage and counts (voters, ballots, mails; no identity) |
//! | `DELETE /api/admin/elections/{id}` | official | deletes a draft (never opened) with its voters; audited |
//! | `PUT /api/admin/elections/{id}/schedule` | official | `{opens_at?, closes_at?}` (draft only) |
//! | `PUT /api/admin/elections/{id}/mail-language` | official | `{language}`: `en` or `fr`, for voters whose line names none (any stage) |
//! | `POST /api/admin/elections/{id}/roles` | official | one token per trustee and one for the credential authority |
//! | `POST /api/admin/elections/{id}/open`, `/close`, `/tally`, `/archive` | official | lifecycle |
//! | `GET /api/elections/{id}/role` | trustee, authority | who this token is |
//! | `POST /api/elections/{id}/trustee/events` | trustee | `{type, body}` of one of its events, or `{events: [{type, body}, …]}`: a long shuffle or share with its parts (§11.15) |
//! | `GET /api/elections/{id}/authority/voters?after=&limit=` | authority | logins, mail addresses, weights, mail languages (when the line names one) |
//! | `POST /api/elections/{id}/authority/credentials` | authority | the public credential list |
//! | `GET /api/elections/{id}/authority/resends` | authority | officials' requests to mail a credential again: login, mail address, weight, language, when asked, when done |
//! | `POST /api/elections/{id}/authority/resends/{login}/sent` | authority | marks a pending request done once its credential is mailed |
//! | `POST /api/elections/{id}/ballots` | voter | a ballot → receipt (and a confirmation mail) |
//! | `GET /api/elections/{id}/voter` | voter | whether this login voted, and its last ballot ([`super::voter`]) |
//! | `POST /api/elections/{id}/voter/credential` | voter | `{credential}` (a public key) → whether this login may cast with it |
//! | `GET /api/elections/{id}` | anyone | definition, state, schedule, default mail language, fingerprint, counts |
//! | `GET /api/elections/{id}/record?from=` | anyone | the record as JSON Lines, from a sequence number |
//! | `GET /api/elections/{id}/head` | anyone | number of events and hash of the last line |
//! | `GET /api/elections/{id}/trackers/{tracker}` | anyone | where a ballot is, and the later ballot that replaced it |
//! | `GET /api/elections/{id}/result` | anyone | the result, once tallied |
//! | `GET /api/elections/{id}/result/{question}/ballots.blt`, `…/ballots.csv` | anyone | a ranked or graded question's decrypted ballots (BLT for STV and IRV; [`crate::web::mixed`]) |
//! | `GET /api/openapi.json` | anyone | this API as OpenAPI 3 |

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use scrutin_election::Hash32;
use scrutin_election::ballot::Ballot;
use scrutin_election::credential::CredentialList;
use scrutin_election::definition::ElectionDescription;
use scrutin_election::record::MAX_LINE;
use scrutin_election::roles::{Signed, SignedHead};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{AdminElection, Posted, Receipt, RoleTokens};
use crate::auth;
use crate::http::error::ApiError;
use crate::http::extract::{AdminAuth, JsonBody, VoterAuth, bearer_token, json_with_limit};
use crate::mail_text::Lang;
use crate::ratelimit::retry_after_secs;
use crate::state::AppState;
use crate::storage::{AdminRole, ElectionMeta, Role, UnixTime, blocking, valid_election_id};

/// The OpenAPI description of every route.
pub const OPENAPI: &str = include_str!("../../../../docs/openapi.json");

/// The protocol routes and the web pages ([`crate::web`]), to pass to [`crate::http::build_router`] as `extra`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .merge(crate::web::routes())
        .route("/api/openapi.json", get(openapi))
        .route(
            "/api/admin/elections",
            get(list_elections).post(create_election),
        )
        .route(
            "/api/admin/elections/{id}",
            get(admin_election).delete(delete_election),
        )
        .route("/api/admin/elections/{id}/schedule", put(schedule))
        .route(
            "/api/admin/elections/{id}/mail-language",
            put(mail_language),
        )
        .route("/api/admin/elections/{id}/roles", post(role_tokens))
        .route("/api/admin/elections/{id}/open", post(open))
        .route("/api/admin/elections/{id}/close", post(close))
        .route("/api/admin/elections/{id}/tally", post(tally))
        .route("/api/admin/elections/{id}/archive", post(archive))
        .route("/api/elections/{id}/role", get(whoami))
        .route(
            "/api/elections/{id}/trustee/events",
            post(trustee_event).layer(DefaultBodyLimit::max(MAX_LINE)),
        )
        .route(
            "/api/elections/{id}/authority/voters",
            get(authority_voters),
        )
        .route(
            "/api/elections/{id}/authority/credentials",
            post(credentials).layer(DefaultBodyLimit::max(MAX_LINE)),
        )
        .route(
            "/api/elections/{id}/authority/resends",
            get(authority_resends),
        )
        .route(
            "/api/elections/{id}/authority/resends/{login}/sent",
            post(authority_resent),
        )
        .route(
            "/api/elections/{id}/ballots",
            post(cast).layer(DefaultBodyLimit::disable()),
        )
        .route("/api/elections/{id}/voter", get(voter_status))
        .route("/api/elections/{id}/voter/credential", post(credential_use))
        .route("/api/elections/{id}", get(public_election))
        .route("/api/elections/{id}/record", get(record))
        .route("/api/elections/{id}/head", get(head))
        .route("/api/elections/{id}/trackers/{tracker}", get(tracker))
        .route("/api/elections/{id}/result", get(result))
}

fn cache(resp: &mut Response, value: &'static str) {
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static(value));
}

async fn openapi() -> Response {
    let mut resp = (
        [(header::CONTENT_TYPE, "application/json")],
        OPENAPI.to_owned(),
    )
        .into_response();
    cache(&mut resp, "public, max-age=3600");
    resp
}

// ---- administrators ----

/// An election in the officials' list: its metadata and the title of its description.
#[derive(Serialize)]
struct ElectionSummary {
    #[serde(flatten)]
    meta: ElectionMeta,
    title: Option<String>,
}

/// The elections this administrator may act on: all of them for a server administrator,
/// the ones they own for an official.
async fn list_elections(
    State(app): State<AppState>,
    admin: AdminAuth,
) -> Result<axum::Json<serde_json::Value>, ApiError> {
    let list = blocking(&app.storage, move |s| {
        let mut list = s.list_elections()?;
        if admin.role == AdminRole::Official {
            let mut owned = Vec::with_capacity(list.len());
            for meta in list {
                if s.election_owner(&meta.id)?.as_deref() == Some(admin.username.as_str()) {
                    owned.push(meta);
                }
            }
            list = owned;
        }
        Ok(list)
    })
    .await?;
    let list: Vec<ElectionSummary> = list
        .into_iter()
        .map(|meta| ElectionSummary {
            title: ElectionDescription::from_toml(&meta.description_toml)
                .ok()
                .map(|d| d.title),
            meta,
        })
        .collect();
    Ok(axum::Json(json!({ "elections": list })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateRequest {
    /// The TOML election description (spec §8), as for `scrutin election setup`.
    description: String,
    #[serde(default)]
    opens_at: Option<UnixTime>,
    #[serde(default)]
    closes_at: Option<UnixTime>,
}

async fn create_election(
    State(app): State<AppState>,
    admin: AdminAuth,
    JsonBody(req): JsonBody<CreateRequest>,
) -> Result<(StatusCode, axum::Json<ElectionMeta>), ApiError> {
    let meta = super::create_election(
        &app,
        &admin.username,
        req.description,
        req.opens_at,
        req.closes_at,
    )
    .await?;
    Ok((StatusCode::CREATED, axum::Json(meta)))
}

async fn admin_election(
    State(app): State<AppState>,
    _admin: AdminAuth,
    Path(id): Path<String>,
) -> Result<axum::Json<AdminElection>, ApiError> {
    super::admin_election(&app, &id).await.map(axum::Json)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ScheduleRequest {
    #[serde(default)]
    opens_at: Option<UnixTime>,
    #[serde(default)]
    closes_at: Option<UnixTime>,
}

async fn schedule(
    State(app): State<AppState>,
    admin: AdminAuth,
    Path(id): Path<String>,
    JsonBody(req): JsonBody<ScheduleRequest>,
) -> Result<axum::Json<ElectionMeta>, ApiError> {
    super::set_schedule(&app, &admin.username, &id, req.opens_at, req.closes_at)
        .await
        .map(axum::Json)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MailLanguageRequest {
    language: String,
}

async fn mail_language(
    State(app): State<AppState>,
    admin: AdminAuth,
    Path(id): Path<String>,
    JsonBody(req): JsonBody<MailLanguageRequest>,
) -> Result<axum::Json<AdminElection>, ApiError> {
    let language = Lang::parse(&req.language)
        .ok_or_else(|| ApiError::bad_request("language must be en or fr"))?;
    crate::voter_mail::set_default_language(&app, &admin.username, &id, language).await?;
    super::admin_election(&app, &id).await.map(axum::Json)
}

async fn role_tokens(
    State(app): State<AppState>,
    admin: AdminAuth,
    Path(id): Path<String>,
) -> Result<axum::Json<RoleTokens>, ApiError> {
    super::issue_role_tokens(&app, &admin.username, &id)
        .await
        .map(axum::Json)
}

async fn open(
    State(app): State<AppState>,
    admin: AdminAuth,
    Path(id): Path<String>,
) -> Result<axum::Json<Posted>, ApiError> {
    super::open(&app, &admin.username, &id)
        .await
        .map(axum::Json)
}

async fn close(
    State(app): State<AppState>,
    admin: AdminAuth,
    Path(id): Path<String>,
) -> Result<axum::Json<Posted>, ApiError> {
    super::close(&app, &admin.username, &id)
        .await
        .map(axum::Json)
}

async fn tally(
    State(app): State<AppState>,
    admin: AdminAuth,
    Path(id): Path<String>,
) -> Result<axum::Json<Posted>, ApiError> {
    super::tally(&app, &admin.username, &id)
        .await
        .map(axum::Json)
}

async fn delete_election(
    State(app): State<AppState>,
    admin: AdminAuth,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    super::delete_draft(&app, &admin.username, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn archive(
    State(app): State<AppState>,
    admin: AdminAuth,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    super::archive(&app, &admin.username, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---- trustees and the credential authority ----

/// The bearer of a role token (trustee or credential authority) of one election.
#[derive(Debug, Clone)]
pub struct RoleAuth {
    /// Election the token is for.
    pub election: String,
    /// The role.
    pub role: Role,
}

impl RoleAuth {
    fn for_election(self, id: &str) -> Result<Role, ApiError> {
        if self.election == id {
            Ok(self.role)
        } else {
            Err(ApiError::forbidden("this token is for another election"))
        }
    }
}

impl FromRequestParts<AppState> for RoleAuth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Self, ApiError> {
        let token = bearer_token(parts).ok_or_else(ApiError::unauthorized)?;
        if token.len() != 64 {
            return Err(ApiError::unauthorized());
        }
        let hash = auth::token_hash(token);
        let found = blocking(&app.storage, move |s| s.role_token(&hash)).await?;
        let t = found.ok_or_else(ApiError::unauthorized)?;
        Ok(Self {
            election: t.election,
            role: t.role,
        })
    }
}

async fn whoami(
    Path(id): Path<String>,
    who: RoleAuth,
) -> Result<axum::Json<serde_json::Value>, ApiError> {
    let role = who.for_election(&id)?;
    let mut v = serde_json::to_value(role).map_err(ApiError::internal)?;
    if let Some(o) = v.as_object_mut() {
        o.insert("election".to_owned(), json!(id));
    }
    Ok(axum::Json(v))
}

/// One event a trustee posts: its `type` and `body`, the body kept as JSON text until it
/// is parsed into its event.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EventRequest {
    #[serde(rename = "type")]
    kind: String,
    body: Box<serde_json::value::RawValue>,
}

/// What a trustee posts: one event (`{type, body}`), or several appended together as
/// consecutive lines (`{events: [{type, body}, …]}`: the parts of a long shuffle or
/// decryption share, then the event, spec §11.15).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EventsRequest {
    #[serde(rename = "type")]
    kind: Option<String>,
    body: Option<Box<serde_json::value::RawValue>>,
    events: Option<Vec<EventRequest>>,
}

/// Posts a trustee's event(s). The body may be as large as the election's ranked and
/// graded rows need ([`super::trustee_events_limit`]), no larger.
async fn trustee_event(
    State(app): State<AppState>,
    Path(id): Path<String>,
    who: RoleAuth,
    headers: axum::http::HeaderMap,
    body: Body,
) -> Result<axum::Json<Posted>, ApiError> {
    let Role::Trustee { index } = who.for_election(&id)? else {
        return Err(ApiError::forbidden("trustee token required"));
    };
    let limit = super::trustee_events_limit(&app, &id).await?;
    let req: EventsRequest = json_with_limit(&headers, body, limit).await?;
    let events: Vec<(String, Box<serde_json::value::RawValue>)> = match req {
        EventsRequest {
            kind: Some(kind),
            body: Some(body),
            events: None,
        } => vec![(kind, body)],
        EventsRequest {
            kind: None,
            body: None,
            events: Some(events),
        } if !events.is_empty() => events.into_iter().map(|e| (e.kind, e.body)).collect(),
        _ => {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_body",
                "post either {\"type\", \"body\"} or {\"events\": [{\"type\", \"body\"}, …]} with at least one event",
            ));
        }
    };
    super::post_trustee_events(&app, &id, index, &events)
        .await
        .map(axum::Json)
}

#[derive(Deserialize)]
struct VotersQuery {
    after: Option<String>,
    limit: Option<usize>,
}

async fn authority_voters(
    State(app): State<AppState>,
    Path(id): Path<String>,
    who: RoleAuth,
    Query(q): Query<VotersQuery>,
) -> Result<axum::Json<serde_json::Value>, ApiError> {
    if who.for_election(&id)? != Role::CredentialAuthority {
        return Err(ApiError::forbidden("credential authority token required"));
    }
    let limit = q.limit.unwrap_or(1000).clamp(1, 10_000);
    let after = q.after.unwrap_or_default();
    let eid = id.clone();
    let voters = blocking(&app.storage, move |s| s.list_voters(&eid, &after, limit)).await?;
    Ok(axum::Json(json!({ "voters": voters })))
}

/// One request to mail a credential again, as the credential authority sees it: the voter
/// and the request (the server never holds the credential, spec §9.4).
#[derive(Serialize)]
struct AuthorityResend {
    #[serde(flatten)]
    voter: crate::storage::Voter,
    requested_at: UnixTime,
    sent_at: Option<UnixTime>,
}

async fn authority_resends(
    State(app): State<AppState>,
    Path(id): Path<String>,
    who: RoleAuth,
) -> Result<axum::Json<serde_json::Value>, ApiError> {
    if who.for_election(&id)? != Role::CredentialAuthority {
        return Err(ApiError::forbidden("credential authority token required"));
    }
    let eid = id.clone();
    let requests = blocking(&app.storage, move |s| {
        let mut out = Vec::new();
        for r in s.credential_resends(&eid)? {
            // A voter removed since (only possible in a draft) has nothing to re-send.
            if let Some(voter) = s.voter(&eid, &r.login)? {
                out.push(AuthorityResend {
                    voter,
                    requested_at: r.requested_at,
                    sent_at: r.sent_at,
                });
            }
        }
        Ok(out)
    })
    .await?;
    Ok(axum::Json(json!({ "requests": requests })))
}

async fn authority_resent(
    State(app): State<AppState>,
    Path((id, login)): Path<(String, String)>,
    who: RoleAuth,
) -> Result<StatusCode, ApiError> {
    if who.for_election(&id)? != Role::CredentialAuthority {
        return Err(ApiError::forbidden("credential authority token required"));
    }
    let (eid, l) = (id.clone(), login.clone());
    let at = crate::storage::now();
    let done = blocking(&app.storage, move |s| {
        s.mark_credential_resent(&eid, &l, at)
    })
    .await?;
    if !done {
        return Err(ApiError::not_found(
            "no pending request to mail this voter's credential again",
        ));
    }
    crate::audit::record(
        &app.storage,
        "credential-authority",
        Some(&id),
        "credentials.resent",
        json!({ "login": login }),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn credentials(
    State(app): State<AppState>,
    Path(id): Path<String>,
    who: RoleAuth,
    JsonBody(list): JsonBody<serde_json::Value>,
) -> Result<axum::Json<Posted>, ApiError> {
    if who.for_election(&id)? != Role::CredentialAuthority {
        return Err(ApiError::forbidden("credential authority token required"));
    }
    let text = serde_json::to_string(&list).map_err(ApiError::internal)?;
    let list = Signed::<CredentialList>::from_json(&text).map_err(|e| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
            format!("check R5 failed: {e}"),
        )
    })?;
    super::post_credentials(&app, &id, list)
        .await
        .map(axum::Json)
}

// ---- voters ----

/// Casts a ballot. A voter session casts at most `limits.max_ballots_per_session_per_hour`
/// ballots (the same ballot again, a retry, counts too); the body may be as large as the
/// election's questions need ([`super::ballot_size_bound`]), no larger.
async fn cast(
    State(app): State<AppState>,
    Path(id): Path<String>,
    voter: VoterAuth,
    headers: axum::http::HeaderMap,
    body: Body,
) -> Result<axum::Json<Receipt>, ApiError> {
    voter.require_election(&id)?;
    if let Err(wait) = app
        .guards
        .ballots_per_session
        .check(&auth::token_hash(&voter.token))
    {
        return Err(ApiError::too_many_requests(retry_after_secs(wait)));
    }
    let limit = app.elections.ballot_limit(&app, &id).await?;
    let ballot: Ballot = json_with_limit(&headers, body, limit).await?;
    let receipt = super::cast_ballot(&app, &id, &voter.login, ballot).await?;
    crate::voter_mail::confirm_ballot(&app, &id, &voter.login, &receipt);
    Ok(axum::Json(receipt))
}

// ---- the public board ----

async fn public_election(
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let meta = super::election_meta(&app, &id).await?;
    let eid = id.clone();
    let mail_language = blocking(&app.storage, move |s| s.mail_language(&eid))
        .await?
        .unwrap_or_default();
    let v = app.elections.view(&app, &id).await?;
    let body = json!({
        "id": meta.id,
        "state": meta.state,
        "stage": v.stage.name(),
        "opens_at": meta.opens_at,
        "closes_at": meta.closes_at,
        "mail_language": mail_language,
        "definition": v.definition.as_deref(),
        "election_key": v.election_key,
        "fingerprint": v.fingerprint.map(|f| f.to_hex()),
        "head": v.head.to_hex(),
        "events": v.events,
        "credentials": v.credentials,
        "ballots": v.ballots,
        "ballots_counted": v.counted,
        "trustees": v.trustees.as_ref(),
    });
    let mut resp = axum::Json(body).into_response();
    cache(&mut resp, "public, max-age=2");
    Ok(resp)
}

#[derive(Deserialize)]
struct RecordQuery {
    from: Option<u64>,
}

/// Lines per storage read while streaming the record.
const PAGE: usize = 2000;

async fn record(
    State(app): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<RecordQuery>,
) -> Result<Response, ApiError> {
    super::election_meta(&app, &id).await?;
    let storage = app.storage.clone();
    let start = q.from.unwrap_or(0);
    let stream = futures_util::stream::unfold(Some(start), move |next| {
        let storage = storage.clone();
        let id = id.clone();
        async move {
            let from = next?;
            match blocking(&storage, move |s| s.events_from(&id, from, PAGE)).await {
                Ok(lines) if lines.is_empty() => None,
                Ok(lines) => {
                    let n = lines.len();
                    let mut buf = String::with_capacity(lines.iter().map(|l| l.len() + 1).sum());
                    for l in &lines {
                        buf.push_str(l);
                        buf.push('\n');
                    }
                    let next = (n == PAGE).then_some(from + n as u64);
                    Some((Ok::<_, std::io::Error>(Bytes::from(buf)), next))
                }
                Err(e) => Some((Err(std::io::Error::other(e.to_string())), None)),
            }
        }
    });
    let mut resp = Response::new(Body::from_stream(stream));
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/jsonl"),
    );
    cache(&mut resp, "no-cache");
    Ok(resp)
}

/// The head of the board, and the same signed by the board key (§14.1): a head that cannot
/// be on the chain of another signed head is evidence that the board showed two records.
async fn head(State(app): State<AppState>, Path(id): Path<String>) -> Result<Response, ApiError> {
    super::election_meta(&app, &id).await?;
    let eid = id.clone();
    let (h, first) = blocking(&app.storage, move |s| {
        Ok((s.head(&eid)?, s.events_from(&eid, 0, 1)?))
    })
    .await?;
    let hash = h
        .last_line
        .as_deref()
        .map(|l| Hash32::of(l.as_bytes()))
        .unwrap_or(scrutin_election::record::GENESIS);
    let context = first
        .first()
        .map(|l| Hash32::of(l.as_bytes()))
        .ok_or_else(|| ApiError::not_found("the election has no record yet"))?;
    let signed = SignedHead::sign(
        &app.board_key,
        context,
        h.next_seq,
        hash,
        &mut scrutin_election::crypto::rng::os_rng(),
    );
    let mut resp = axum::Json(json!({
        "events": h.next_seq,
        "head": hash.to_hex(),
        "board_key": app.board_key.signing_key.to_hex(),
        "signed": signed,
    }))
    .into_response();
    cache(&mut resp, "no-cache");
    Ok(resp)
}

async fn tracker(
    State(app): State<AppState>,
    Path((id, tracker)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    if !valid_election_id(&id) {
        return Err(ApiError::not_found("no such election"));
    }
    let t = Hash32::from_hex(&tracker)
        .map_err(|_| ApiError::bad_request("a tracker is 64 hexadecimal characters"))?;
    match super::voter::tracker_status(&app, &id, &t).await? {
        Some(status) => {
            let mut resp = axum::Json(json!({
                "tracker": t.to_hex(),
                "seq": status.seq,
                "replaced": status.replaced_by.is_some(),
                "replaced_by": status.replaced_by,
            }))
            .into_response();
            // A later ballot of the same credential may replace this one at any time.
            cache(&mut resp, "no-cache");
            Ok(resp)
        }
        None => Err(ApiError::not_found("no ballot with this tracker")),
    }
}

/// `GET /api/elections/{id}/voter`: the signed-in voter's ballots on the board.
async fn voter_status(
    State(app): State<AppState>,
    Path(id): Path<String>,
    voter: VoterAuth,
) -> Result<Response, ApiError> {
    voter.require_election(&id)?;
    let status = super::voter::voter_status(&app, &id, &voter.login).await?;
    let mut resp = axum::Json(status).into_response();
    cache(&mut resp, "no-store");
    Ok(resp)
}

/// The body of `POST /api/elections/{id}/voter/credential`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CredentialQuestion {
    /// The credential's public key, hex (never its secret).
    credential: String,
}

/// `POST /api/elections/{id}/voter/credential`: whether the signed-in voter may cast with
/// this credential (asked by the booth before the choices).
async fn credential_use(
    State(app): State<AppState>,
    Path(id): Path<String>,
    voter: VoterAuth,
    JsonBody(q): JsonBody<CredentialQuestion>,
) -> Result<Response, ApiError> {
    voter.require_election(&id)?;
    let status = super::voter::credential_use(&app, &id, &voter.login, &q.credential).await?;
    let mut resp = axum::Json(json!({
        "status": status,
        "usable": matches!(status, super::voter::CredentialUse::Unused | super::voter::CredentialUse::ThisLogin),
    }))
    .into_response();
    cache(&mut resp, "no-store");
    Ok(resp)
}

async fn result(State(app): State<AppState>, Path(id): Path<String>) -> Result<Response, ApiError> {
    super::election_meta(&app, &id).await?;
    let v = app.elections.view(&app, &id).await?;
    let (Some(def), Some(result)) = (&v.definition, &v.result) else {
        return Err(ApiError::not_found("the result is not published yet"));
    };
    let body = json!({"questions": def.questions, "result": result.as_ref()});
    let mut resp = axum::Json(body).into_response();
    cache(&mut resp, "public, max-age=60");
    Ok(resp)
}
