//! The mails the server sends to voters: the one-time login code, the confirmation of a
//! ballot put on the board, and the reminder officials send to the voters who have not
//! voted yet ([`crate::roll`]). Each is written by [`crate::mail_text`] in the voter's language
//! (from the voter list, else the election's default, else English) with the election's
//! facts: the title and fingerprint of the verified record, the server's public URL and the
//! scheduled closing time.
//!
//! Invariant: the confirmation never delays nor fails the cast: it is composed and queued
//! in a background task after the receipt is signed, and a failure is only logged (and
//! recorded as a failed mail when it gets that far).

use std::sync::{Arc, Mutex};

use scrutin_election::definition::ElectionDescription;
use scrutin_election::roles::Receipt;
use serde_json::json;

use crate::audit;
use crate::http::error::ApiError;
use crate::mail::OutgoingMail;
use crate::mail_text::{self, ElectionFacts, Lang, MailTexts};
use crate::state::AppState;
use crate::storage::{
    ElectionMeta, Storage, StorageResult, Voter, blocking, election_language_for, mail_language,
};

/// The facts every mail of election `meta` states. The title and fingerprint come from
/// the verified record; an election whose record cannot be read (or has no definition yet)
/// is named by the title of its stored description, else by its id, and has no fingerprint.
pub async fn election_facts(app: &AppState, meta: &ElectionMeta) -> ElectionFacts {
    // Title and fingerprint are fixed once the election is open: a published view that has
    // its fingerprint is used without reading storage again.
    let published = app
        .elections
        .published_view(&meta.id)
        .filter(|v| v.fingerprint.is_some());
    let view = match published {
        Some(v) => Ok(v),
        None => app.elections.view(app, &meta.id).await,
    };
    let from_record = match view {
        Ok(v) => Some((
            v.definition.as_ref().map(|d| d.title.clone()),
            v.fingerprint.map(|f| f.to_hex()),
        )),
        Err(_) => None,
    };
    let (title, fingerprint) = from_record.unwrap_or((None, None));
    let title = title
        .or_else(|| {
            ElectionDescription::from_toml(&meta.description_toml)
                .ok()
                .map(|d| d.title)
        })
        .unwrap_or_else(|| meta.id.clone());
    ElectionFacts {
        id: meta.id.clone(),
        title,
        base_url: app.config.public_url.clone(),
        closes_at: meta.closes_at,
        fingerprint,
    }
}

/// The language of `voter`'s mails ([`mail_language`]), reading storage as
/// [`election_language_for`] does. For a caller already on a blocking thread;
/// [`language_of`] for async code.
pub fn mail_language_of(s: &dyn Storage, election: &str, voter: &Voter) -> StorageResult<Lang> {
    let election_language = election_language_for(s, election, Some(voter))?;
    Ok(mail_language(voter.language, election_language))
}

/// [`mail_language_of`], reading storage only for a voter whose line names no language.
pub async fn language_of(app: &AppState, election: &str, voter: &Voter) -> Result<Lang, ApiError> {
    if let Some(lang) = voter.language {
        return Ok(lang);
    }
    let (eid, voter) = (election.to_owned(), voter.clone());
    Ok(blocking(&app.storage, move |s| mail_language_of(s, &eid, &voter)).await?)
}

/// Sets the language of the election's mails for voters whose line names none (at any
/// stage: it changes no record).
pub async fn set_default_language(
    app: &AppState,
    actor: &str,
    id: &str,
    language: Lang,
) -> Result<(), ApiError> {
    crate::routes::load_election(app, id).await?;
    let eid = id.to_owned();
    blocking(&app.storage, move |s| s.set_mail_language(&eid, language)).await?;
    audit::record(
        &app.storage,
        actor,
        Some(id),
        "election.mail_language",
        json!({"language": language.code()}),
    )
    .await?;
    Ok(())
}

/// The mail texts of `lang`, read as the pages' translations are (from `web_dir` when set).
/// Each is parsed once for the bytes it is read from (a mail is sent for every code and
/// every ballot), and again when those bytes change.
async fn mail_texts(app: &AppState, lang: Lang) -> Arc<MailTexts> {
    type Parsed = (Lang, Vec<u8>, Vec<u8>, Arc<MailTexts>);
    static PARSED: Mutex<Vec<Parsed>> = Mutex::new(Vec::new());
    let texts = crate::web::load(app, &mail_text::texts_path(lang))
        .await
        .unwrap_or_default();
    let fallback = crate::web::load(app, &mail_text::texts_path(Lang::En))
        .await
        .unwrap_or_default();
    let mut parsed = PARSED.lock().unwrap_or_else(|p| p.into_inner());
    if let Some((.., t)) = parsed
        .iter()
        .find(|(l, t, f, _)| *l == lang && *t == texts && *f == fallback)
    {
        return Arc::clone(t);
    }
    let t = Arc::new(MailTexts::from_json(lang, &texts, &fallback));
    // A few languages, each from one pair of files at a time.
    parsed.retain(|(l, ..)| *l != lang);
    parsed.push((lang, texts, fallback, Arc::clone(&t)));
    t
}

/// The mail of a one-time login code for `voter`, in `lang` ([`mail_language_of`]).
pub async fn login_code(
    app: &AppState,
    meta: &ElectionMeta,
    voter: Voter,
    lang: Lang,
    code: &str,
) -> OutgoingMail {
    let facts = election_facts(app, meta).await;
    let texts = mail_texts(app, lang).await;
    let minutes = app.config.otp.ttl_secs.div_ceil(60);
    OutgoingMail {
        election: Some(meta.id.clone()),
        login: voter.login,
        kind: "otp".to_owned(),
        to: voter.email,
        content: mail_text::login_code(&texts, &facts, code, minutes),
    }
}

/// The reminder to `voter`, who has not voted yet ([`mail_text::reminder`]).
pub async fn reminder(
    app: &AppState,
    facts: &ElectionFacts,
    voter: Voter,
) -> Result<OutgoingMail, ApiError> {
    let texts = mail_texts(app, language_of(app, &facts.id, &voter).await?).await;
    Ok(OutgoingMail {
        election: Some(facts.id.clone()),
        login: voter.login,
        kind: REMINDER_KIND.to_owned(),
        to: voter.email,
        content: mail_text::reminder(&texts, facts),
    })
}

/// The kind of a reminder in the mail status.
pub const REMINDER_KIND: &str = "reminder";

/// Mails `login` the confirmation of the ballot `receipt` acknowledges, in the background.
pub fn confirm_ballot(app: &AppState, election: &str, login: &str, receipt: &Receipt) {
    let (app, election, login) = (app.clone(), election.to_owned(), login.to_owned());
    let (tracker, seq) = (receipt.tracker.to_hex(), receipt.seq);
    tokio::spawn(async move {
        if let Err(e) = send_confirmation(&app, &election, &login, &tracker, seq).await {
            tracing::warn!(election = %election, error = %e, "confirmation mail not sent");
        }
    });
}

async fn send_confirmation(
    app: &AppState,
    election: &str,
    login: &str,
    tracker: &str,
    seq: u64,
) -> Result<(), ApiError> {
    let (eid, lg) = (election.to_owned(), login.to_owned());
    let facts = blocking(&app.storage, move |s| s.mail_facts(&eid, &lg)).await?;
    let lang = facts.language();
    let (Some(meta), Some(voter)) = (facts.election, facts.voter) else {
        return Ok(());
    };
    let facts = election_facts(app, &meta).await;
    let texts = mail_texts(app, lang).await;
    app.mailer
        .queue(OutgoingMail {
            election: Some(election.to_owned()),
            login: voter.login,
            kind: "confirmation".to_owned(),
            to: voter.email,
            content: mail_text::confirmation(&texts, &facts, tracker, seq),
        })
        .await?;
    Ok(())
}
