//! Trustees told when it is their turn. The election's officials may give each trustee a
//! mail address (private store, never in the definition nor on the record); whenever the
//! record comes to a step that waits for a trustee — its commitment, dealing or check of the
//! key generation (spec §6.6), its shuffle of the ranked and graded answers after the close
//! (§11.12), its decryption share (§11.9) — the server records since when that trustee is
//! waited for and mails it once per step, with the link to the trustee page (the token is
//! not in the mail: the server keeps only its hash). The officials' page shows who is late
//! and since when.
//!
//! | route | what |
//! |---|---|
//! | `GET /api/admin/elections/{id}/trustees` | each trustee: name, mail address (if given), the step awaited now and since when |
//! | `PUT /api/admin/elections/{id}/trustees` | `{emails: [{trustee, email}]}` replaces the addresses (audited), then tells the trustees awaited now |
//!
//! Invariants: a trustee is mailed at most once per step, across all the nodes sharing the
//! database: the mail is claimed in storage (`trustee-{index}-{step}`, once ever,
//! [`crate::storage::Storage::claim`]) before it is queued, so of the nodes that find a
//! trustee untold at once, one alone mails it; the mail status of the kind `trustee_<step>`
//! says it was told too (elections told before claims existed); a trustee given an address
//! later is told of the step awaited then; the time a step is first seen waiting is kept
//! ([`crate::storage::Storage::record_trustee_wait`]); a failure to mail never fails the
//! trustee event or lifecycle step that triggered it.

use axum::Router;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use scrutin_election::ceremony::{self, TrusteeStep};
use scrutin_election::verify::RecordState;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::audit;
use crate::http::error::ApiError;
use crate::http::extract::{AdminAuth, JsonBody};
use crate::mail::OutgoingMail;
use crate::mail_text::{self, MailTexts};
use crate::routes::load_election;
use crate::state::AppState;
use crate::storage::{UnixTime, blocking, now};

/// The routes (state not yet attached).
pub fn routes() -> Router<AppState> {
    Router::new().route(
        "/api/admin/elections/{id}/trustees",
        get(list_trustees).put(set_emails),
    )
}

/// The name of a step that waits for a trustee, as stored and shown.
fn step_name(step: TrusteeStep) -> Option<&'static str> {
    match step {
        TrusteeStep::Commit => Some("commit"),
        TrusteeStep::Deal => Some("deal"),
        TrusteeStep::Check => Some("check"),
        TrusteeStep::Shuffle => Some("shuffle"),
        TrusteeStep::Decrypt => Some("decrypt"),
        TrusteeStep::Wait | TrusteeStep::Done => None,
    }
}

/// Each trustee of the record: index, name and the step awaited from it now, if any.
fn awaited(st: &RecordState) -> Vec<(u32, String, Option<&'static str>)> {
    let Some(def) = &st.definition else {
        return Vec::new();
    };
    (1..=def.trustees.len() as u32)
        .zip(&def.trustees)
        .map(|(index, holder)| {
            let step = ceremony::trustee_step(st, index).ok().and_then(step_name);
            (index, holder.name.clone(), step)
        })
        .collect()
}

/// Records the steps the record now waits for and mails each trustee awaited for a step it
/// was not yet told of (when its address is known). Errors are logged, never returned: the
/// caller's event is already durable.
pub async fn notify(app: &AppState, id: &str) {
    if let Err(e) = try_notify(app, id).await {
        tracing::warn!(election = %id, error = %e, "trustees not told of their turn");
    }
}

/// The name under which the mail telling trustee `index` of `step` is claimed, once ever.
pub fn claim_name(index: u32, step: &str) -> String {
    format!("trustee-{index}-{step}")
}

async fn try_notify(app: &AppState, id: &str) -> Result<(), ApiError> {
    let waits = {
        let locked = app.elections.lock(app, id).await?;
        awaited(locked.state()?)
    };
    let eid = id.to_owned();
    let at = now();
    let (emails, fresh) = blocking(&app.storage, move |s| {
        let emails = s.trustee_emails(&eid)?;
        let mut awaited_with_address = Vec::new();
        for (index, name, step) in waits {
            let Some(step) = step else { continue };
            s.record_trustee_wait(&eid, index, step, at)?;
            if emails.iter().any(|(i, _)| *i == index) {
                awaited_with_address.push((index, name, step));
            }
        }
        if awaited_with_address.is_empty() {
            return Ok((emails, Vec::new()));
        }
        // Told already (whatever became of that mail): not again for this step.
        let statuses = s.latest_mail_statuses(&eid)?;
        let fresh = awaited_with_address
            .into_iter()
            .filter(|(index, _, step)| {
                let (login, kind) = (format!("trustee-{index}"), format!("trustee_{step}"));
                !statuses.iter().any(|(l, k, _)| *l == login && *k == kind)
            })
            .collect::<Vec<_>>();
        Ok((emails, fresh))
    })
    .await?;
    if fresh.is_empty() {
        return Ok(());
    }
    let meta = load_election(app, id).await?;
    let facts = crate::voter_mail::election_facts(app, &meta).await;
    let eid = id.to_owned();
    let lang = blocking(&app.storage, move |s| s.mail_language(&eid))
        .await?
        .unwrap_or_default();
    let texts = {
        let t = crate::web::load(app, &mail_text::texts_path(lang)).await;
        let f = crate::web::load(app, &mail_text::texts_path(crate::mail_text::Lang::En)).await;
        MailTexts::from_json(
            lang,
            t.as_deref().unwrap_or_default(),
            f.as_deref().unwrap_or_default(),
        )
    };
    for (index, name, step) in fresh {
        let Some((_, to)) = emails.iter().find(|(i, _)| *i == index) else {
            continue;
        };
        // Another event, on this node or another, may have found this trustee untold at
        // the same time: the one that takes the claim mails it.
        let (eid, claim) = (id.to_owned(), claim_name(index, step));
        if !blocking(&app.storage, move |s| s.claim(&eid, &claim, at, None)).await? {
            continue;
        }
        let mail = OutgoingMail {
            election: Some(id.to_owned()),
            login: format!("trustee-{index}"),
            kind: format!("trustee_{step}"),
            to: to.clone(),
            content: mail_text::trustee_turn(&texts, &facts, &name, step),
        };
        if let Err(e) = app.mailer.queue(mail).await {
            tracing::warn!(election = %id, trustee = index, error = %e, "trustee mail not sent");
        }
    }
    Ok(())
}

/// One trustee as the officials see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrusteeContact {
    /// 1-based index in the definition.
    pub index: u32,
    /// Its name in the definition.
    pub name: String,
    /// Its mail address, if the officials gave one.
    pub email: Option<String>,
    /// The step the record waits for from it now (`commit`, `deal`, `check`, `shuffle`,
    /// `decrypt`), if any.
    pub awaited: Option<String>,
    /// Since when the record waits for that step (when the server first saw it waiting).
    pub since: Option<UnixTime>,
}

/// Every trustee with its address and what is awaited from it.
pub async fn contacts(app: &AppState, id: &str) -> Result<Vec<TrusteeContact>, ApiError> {
    let waits = {
        let locked = app.elections.lock(app, id).await?;
        awaited(locked.state()?)
    };
    let eid = id.to_owned();
    let (emails, since) = blocking(&app.storage, move |s| {
        Ok((s.trustee_emails(&eid)?, s.trustee_waits(&eid)?))
    })
    .await?;
    Ok(waits
        .into_iter()
        .map(|(index, name, step)| TrusteeContact {
            index,
            email: emails
                .iter()
                .find(|(i, _)| *i == index)
                .map(|(_, e)| e.clone()),
            since: step.and_then(|st| {
                since
                    .iter()
                    .find(|(i, s, _)| *i == index && s == st)
                    .map(|(_, _, at)| *at)
            }),
            awaited: step.map(str::to_owned),
            name,
        })
        .collect())
}

async fn list_trustees(
    State(app): State<AppState>,
    _admin: AdminAuth,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    load_election(&app, &id).await?;
    Ok(axum::Json(json!({ "trustees": contacts(&app, &id).await? })).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EmailEntry {
    trustee: u32,
    email: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EmailsBody {
    emails: Vec<EmailEntry>,
}

async fn set_emails(
    State(app): State<AppState>,
    admin: AdminAuth,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<EmailsBody>,
) -> Result<Response, ApiError> {
    load_election(&app, &id).await?;
    let n = {
        let locked = app.elections.lock(&app, &id).await?;
        locked
            .state()?
            .definition
            .as_ref()
            .map_or(0, |d| d.trustees.len() as u32)
    };
    let mut emails: Vec<(u32, String)> = Vec::new();
    for e in body.emails {
        let email = e.email.trim().to_owned();
        if email.is_empty() {
            continue;
        }
        if !(1..=n).contains(&e.trustee) {
            return Err(ApiError::bad_request(format!(
                "the election has no trustee {} (it has {n})",
                e.trustee
            )));
        }
        crate::voters::check_email(&email)
            .map_err(|why| ApiError::bad_request(format!("trustee {}: {why}", e.trustee)))?;
        if emails.iter().any(|(i, _)| *i == e.trustee) {
            return Err(ApiError::bad_request(format!(
                "trustee {} is given twice",
                e.trustee
            )));
        }
        emails.push((e.trustee, email));
    }
    let (eid, list) = (id.clone(), emails.clone());
    blocking(&app.storage, move |s| s.set_trustee_emails(&eid, &list)).await?;
    audit::record(
        &app.storage,
        &admin.username,
        Some(&id),
        "trustees.emails",
        json!({ "trustees": emails.iter().map(|(i, _)| i).collect::<Vec<_>>() }),
    )
    .await?;
    notify(&app, &id).await;
    Ok(axum::Json(json!({ "trustees": contacts(&app, &id).await? })).into_response())
}
