//! The roles that talk to a scrutin server and to voters: the credential authority
//! generating credentials for the server's voter list, then, once the election is open,
//! mailing them itself from the private file (also from the one its web page saves), each
//! mail composed by `scrutin_server::mail_text` as the server's own mails are; and a voter
//! casting a ballot over HTTP.

use std::io::BufRead;
use std::path::Path;

use anyhow::{Context, Result, bail};
use clap::Args;
use lettre::message::Mailbox;
use scrutin_election::ballot::Ballot;
use scrutin_election::ceremony;
use scrutin_election::credential::{self, Credential};
use scrutin_election::crypto::rng::os_rng;
use scrutin_election::roles::{Receipt, RoleKey};
use scrutin_election::verify::RecordState;
use scrutin_server::mail_text::{self, ComposedMail, ElectionFacts, Lang, MailTexts};
use serde::{Deserialize, Serialize};

use crate::record_file::{read_small, write_secret};
use crate::remote::Remote;

/// Mailing credentials through the credential authority's own SMTP relay.
#[derive(Args)]
pub struct SmtpArgs {
    /// Mail each voter its credential through the SMTP relay at this host
    /// (the password, if any, is read from the SCRUTIN_SMTP_PASSWORD environment variable).
    #[arg(long = "send-mail", value_name = "SMTP_HOST", requires = "mail_from")]
    pub send_mail: Option<String>,
    /// SMTP port.
    #[arg(long, default_value_t = 587)]
    pub smtp_port: u16,
    /// SMTP security: starttls, tls (implicit, port 465) or plain (a local relay only).
    #[arg(long, default_value = "starttls")]
    pub smtp_security: String,
    /// SMTP user name.
    #[arg(long)]
    pub smtp_user: Option<String>,
    /// The From: address of the credential mails (with --outbox, by default
    /// credential-authority@localhost).
    #[arg(long)]
    pub mail_from: Option<String>,
}

/// What the credential mails say besides the credential.
#[derive(Args)]
pub struct MailContentArgs {
    /// The voting server's public address, for the voting link of each mail
    /// (default: the --server URL; needed with --record).
    #[arg(long, value_name = "URL")]
    pub voting_url: Option<String>,
    /// The language of the mails of voters for whom the private file names none (their
    /// line of the voter list named none): en or fr (default: the election's mail language
    /// on the server, else en).
    #[arg(long, value_parser = parse_lang)]
    pub language: Option<Lang>,
}

fn parse_lang(s: &str) -> std::result::Result<Lang, String> {
    Lang::parse(s).ok_or_else(|| format!("{s:?} is not en or fr"))
}

/// A voter of the server's list, as the credential authority sees it.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Voter {
    login: String,
    email: String,
    weight: u64,
    /// The language of the voter's mails, if its line of the voter list names one.
    #[serde(default)]
    language: Option<Lang>,
}

/// What the credential authority keeps (never sent to the server): the private file of
/// `credentials generate` (with or without --server), of the credential authority's page
/// and of `scrutin demo --serve`, a JSON array of these (spec §9.4), which `credentials
/// mail` reads.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrivateCredential {
    pub login: String,
    /// Absent when the voter list gave no address (`credentials generate --record`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub email: String,
    pub weight: u64,
    pub credential: String,
    /// The language of the voter's mails (absent in files of earlier versions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<Lang>,
}

/// Reads a private credential file (a JSON array of login, email, weight and credential).
pub fn read_private(private: &Path) -> Result<Vec<PrivateCredential>> {
    let kept: Vec<PrivateCredential> = serde_json::from_str(&read_small(private, 1 << 30)?)
        .with_context(|| {
            format!(
                "{} is not a private credential file (a JSON array of login, email, weight and \
                 credential, as `scrutin credentials generate` and the credential \
                 authority's page write it)",
                private.display()
            )
        })?;
    if kept.is_empty() {
        bail!("{} holds no credential", private.display());
    }
    Ok(kept)
}

#[derive(Deserialize)]
struct VoterPage {
    voters: Vec<Voter>,
}

fn fetch_voters(remote: &Remote) -> Result<Vec<Voter>> {
    let mut voters: Vec<Voter> = Vec::new();
    loop {
        let after = voters.last().map(|v| v.login.clone()).unwrap_or_default();
        let path = format!("/authority/voters?limit=10000&after={}", url_escape(&after));
        let page: VoterPage = remote.get(&path)?;
        if page.voters.is_empty() {
            break;
        }
        voters.extend(page.voters);
    }
    Ok(voters)
}

fn url_escape(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `scrutin credentials generate --server …`: one credential per voter of the server's list,
/// generated here; only the public list goes to the server. The credentials are mailed
/// once the election is open (`scrutin credentials mail`), when the mails can carry the
/// election fingerprint.
pub fn generate_remote(
    remote: &Remote,
    authority: &RoleKey,
    private: &Path,
    monitors: &[String],
) -> Result<()> {
    let issued = publish_credentials(remote, authority, private, monitors)?;
    println!(
        "{issued} credentials published on the server; private credentials in {}.",
        private.display()
    );
    println!(
        "Once the election is open, mail them with `scrutin credentials mail --server {} \
         --election {} --private {} --send-mail SMTP_HOST --mail-from ADDRESS` (or --outbox DIR).",
        remote.base(),
        remote.election(),
        private.display()
    );
    Ok(())
}

/// What [`generate_remote`] does, without a word: the credentials of the server's voter
/// list written to `private`, the signed public list posted. Returns how many.
pub fn publish_credentials(
    remote: &Remote,
    authority: &RoleKey,
    private: &Path,
    monitors: &[String],
) -> Result<usize> {
    let record = remote.record()?;
    let state = RecordState::from_record(&record).map_err(|e| anyhow::anyhow!("{e}"))?;
    // The list is bound to this record (its signature covers the election context): make
    // sure the monitors see the same record, so that it is not a fork shown to the
    // authority alone.
    if state.events > 0 {
        crate::monitor::confirm_with_monitors(
            remote.election(),
            &record,
            state.events - 1,
            monitors,
        )?;
    }
    let def = state
        .definition
        .as_ref()
        .context("the record has no election")?;
    ceremony::check_authority(def, authority)?;
    let voters = fetch_voters(remote)?;
    if voters.is_empty() {
        bail!("the server's voter list is empty");
    }
    let named: Vec<(String, u64)> = voters.iter().map(|v| (v.login.clone(), v.weight)).collect();
    let (issued, list) = credential::issue(&def.id, &named, &mut os_rng())?;
    // Signed and checked here as the server will: a list it would refuse is not worth
    // posting.
    let event = ceremony::credentials_event(&state, list, authority, &mut os_rng())?;
    let body: serde_json::Value = serde_json::from_str(&event.body_json()?)?;
    let kept: Vec<PrivateCredential> = voters
        .into_iter()
        .zip(&issued)
        .map(|(v, c)| PrivateCredential {
            login: v.login,
            email: v.email,
            weight: v.weight,
            credential: c.credential.clone(),
            language: v.language,
        })
        .collect();
    write_secret(private, &serde_json::to_string_pretty(&kept)?)?;
    remote
        .post_only("/authority/credentials", &body)
        .with_context(|| {
            format!(
                "publishing the credential list failed; delete {} before trying again",
                private.display()
            )
        })?;
    Ok(issued.len())
}

/// The scheduled closing time of the election on its server, if any, and the language of
/// the mails of voters whose line names none.
fn server_settings(remote: &Remote) -> Result<(Option<i64>, Option<Lang>)> {
    let info: serde_json::Value = remote.get("")?;
    let language = info["mail_language"].as_str().and_then(Lang::parse);
    Ok((info["closes_at"].as_i64(), language))
}

/// `scrutin credentials mail`: mails each voter of a private credential file (written by
/// `credentials generate --server` or by the credential authority's page) its credential,
/// after checking that every credential in it is on the election's published list with its
/// weight — so that a stale or foreign file is never mailed. The election must be open: each
/// mail carries its fingerprint (in the text and in the voting link, which the booth checks).
/// With `resend`, only the voters of the server's pending re-send requests are mailed, and
/// each request is marked done once its mail is written or handed to the relay.
pub fn mail_private(
    state: &RecordState,
    remote: Option<&Remote>,
    private: &Path,
    content: &MailContentArgs,
    outbox: Option<&Path>,
    smtp: &SmtpArgs,
    resend: bool,
) -> Result<()> {
    let def = state
        .definition
        .as_ref()
        .context("the record has no election")?;
    if state.credentials.is_none() {
        bail!("this election's credentials are not published yet: publish the public list first");
    }
    let Some(fingerprint) = state.fingerprint else {
        bail!(
            "this election is not open yet: its fingerprint, which every credential mail \
             carries, is fixed at the opening; mail the credentials once it is open"
        );
    };
    let base_url = match (&content.voting_url, remote) {
        (Some(url), _) => url.trim_end_matches('/').to_owned(),
        (None, Some(r)) => r.base().to_owned(),
        (None, None) => bail!("give --voting-url: the address of the voting server for the link"),
    };
    if !(base_url.starts_with("https://") || base_url.starts_with("http://")) {
        bail!("--voting-url must be an http:// or https:// URL");
    }
    let (closes_at, server_language) = match remote {
        Some(r) => server_settings(r)?,
        None => (None, None),
    };
    let default_language = content.language.or(server_language).unwrap_or_default();
    let facts = ElectionFacts {
        id: def.id.clone(),
        title: def.title.clone(),
        base_url,
        closes_at,
        fingerprint: Some(fingerprint.to_hex()),
    };
    let mut kept = read_private(private)?;
    let pending = match (resend, remote) {
        (false, _) => None,
        (true, None) => bail!("--resend needs --server: the requests are on the server"),
        (true, Some(r)) => Some(pending_resends(r)?),
    };
    if let Some(pending) = &pending {
        if pending.is_empty() {
            println!("No credential waits to be sent again.");
            return Ok(());
        }
        let missing: Vec<&str> = pending
            .iter()
            .filter(|l| !kept.iter().any(|c| &c.login == *l))
            .map(String::as_str)
            .collect();
        if !missing.is_empty() {
            bail!(
                "{} is not the private file of this election's voters: it has no credential for {}",
                private.display(),
                missing.join(", ")
            );
        }
        kept.retain(|c| pending.contains(&c.login));
    }
    for c in &kept {
        if c.email.is_empty() {
            bail!(
                "{}: no mail address in {} (its voter list gave none)",
                c.login,
                private.display()
            );
        }
        let credential = Credential::parse(c.credential.trim())
            .with_context(|| format!("{}: not a credential", c.login))?;
        let key = credential.signing_key(&def.id).public();
        match state.credential_weight(key.as_bytes()) {
            Some(w) if w == c.weight => {}
            Some(w) => bail!(
                "{}: the file says weight {}, the published list {w}",
                c.login,
                c.weight
            ),
            None => bail!(
                "the credential of {} is not on this election's published list: \
                 this file is not the one whose public list was published",
                c.login
            ),
        }
    }
    let mails: Vec<(&PrivateCredential, ComposedMail)> = kept
        .iter()
        .map(|c| {
            let texts = MailTexts::embedded(c.language.unwrap_or(default_language));
            let mail = mail_text::credential(&texts, &facts, &c.login, c.credential.trim());
            (c, mail)
        })
        .collect();
    let Some(remote) = remote.filter(|_| pending.is_some()) else {
        return deliver(&mails, outbox, smtp, "credential");
    };
    // Named by the time, so that a later re-send does not overwrite this one's files.
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    deliver(&mails, outbox, smtp, &format!("resend-{stamp}"))?;
    for (c, _) in &mails {
        remote
            .post_only(
                &format!("/authority/resends/{}/sent", url_escape(&c.login)),
                &serde_json::json!({}),
            )
            .with_context(|| {
                format!(
                    "{}: mailed, but the request could not be marked done",
                    c.login
                )
            })?;
    }
    println!("{} re-send requests marked done.", mails.len());
    Ok(())
}

#[derive(Deserialize)]
struct ResendPage {
    requests: Vec<ResendRequest>,
}

#[derive(Deserialize)]
struct ResendRequest {
    login: String,
    sent_at: Option<i64>,
}

/// The logins whose credential an official asked to send again and that are not sent yet.
fn pending_resends(remote: &Remote) -> Result<Vec<String>> {
    let page: ResendPage = remote.get("/authority/resends")?;
    Ok(page
        .requests
        .into_iter()
        .filter(|r| r.sent_at.is_none())
        .map(|r| r.login)
        .collect())
}

/// Writes the credential mails to `outbox` (files `{prefix}-NNNNNNN.eml`), or sends them
/// through the SMTP relay.
fn deliver(
    mails: &[(&PrivateCredential, ComposedMail)],
    outbox: Option<&Path>,
    smtp: &SmtpArgs,
    prefix: &str,
) -> Result<()> {
    if let Some(dir) = outbox {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let from: Mailbox = smtp
            .mail_from
            .as_deref()
            .unwrap_or("credential-authority@localhost")
            .parse()
            .context("--mail-from is not a mail address")?;
        for (n, (c, mail)) in mails.iter().enumerate() {
            let to: Mailbox = c
                .email
                .parse()
                .with_context(|| format!("{}: bad address {:?}", c.login, c.email))?;
            let message = mail_text::message(from.clone(), to, mail)?;
            let text =
                String::from_utf8(message.formatted()).context("a mail is not valid UTF-8")?;
            write_secret(&dir.join(format!("{prefix}-{:07}.eml", n + 1)), &text)?;
        }
        println!(
            "{} credential mails written to {}.",
            mails.len(),
            dir.display()
        );
    } else if let Some(host) = &smtp.send_mail {
        send_smtp(host, smtp, mails)?;
    } else {
        bail!("give --send-mail SMTP_HOST (with --mail-from), or --outbox DIR");
    }
    Ok(())
}

fn send_smtp(
    host: &str,
    smtp: &SmtpArgs,
    mails: &[(&PrivateCredential, ComposedMail)],
) -> Result<()> {
    use lettre::transport::smtp::authentication::Credentials;
    use lettre::{SmtpTransport, Transport};

    let from: Mailbox = smtp
        .mail_from
        .as_deref()
        .context("give --mail-from")?
        .parse()
        .context("--mail-from is not a mail address")?;
    let builder = match smtp.smtp_security.as_str() {
        "starttls" => SmtpTransport::starttls_relay(host)?,
        "tls" => SmtpTransport::relay(host)?,
        "plain" => SmtpTransport::builder_dangerous(host),
        other => bail!("--smtp-security is starttls, tls or plain, not {other:?}"),
    };
    let mut builder = builder.port(smtp.smtp_port);
    if let Some(user) = &smtp.smtp_user {
        let password = std::env::var("SCRUTIN_SMTP_PASSWORD").unwrap_or_default();
        builder = builder.credentials(Credentials::new(user.clone(), password));
    }
    let transport = builder.build();
    let mut failed = 0usize;
    for (c, mail) in mails {
        let to: Mailbox = match c.email.parse() {
            Ok(to) => to,
            Err(e) => {
                eprintln!("{}: bad address {:?}: {e}", c.login, c.email);
                failed += 1;
                continue;
            }
        };
        let message = mail_text::message(from.clone(), to, mail)?;
        if let Err(e) = transport.send(&message) {
            eprintln!("{}: delivery failed: {e}", c.login);
            failed += 1;
        }
    }
    println!(
        "{} credential mails sent through {host}, {failed} failed.",
        mails.len() - failed
    );
    if failed > 0 {
        bail!("{failed} credential mails were not sent; see the private file to resend them");
    }
    Ok(())
}

#[derive(Deserialize)]
struct Token {
    token: String,
}

/// `scrutin ballot cast --server …`: log in with a one-time login code, then cast the ballot.
pub fn cast_remote(
    remote: &mut Remote,
    state: &RecordState,
    login: &str,
    code: Option<&str>,
    ballot: Ballot,
    receipt_file: Option<&Path>,
) -> Result<()> {
    let code = match code {
        Some(c) => c.trim().to_owned(),
        None => {
            remote.post_only("/login", &serde_json::json!({ "login": login }))?;
            eprintln!(
                "A one-time login code was sent to the mail address of {login}; type it here:"
            );
            let mut line = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut line)
                .context("cannot read the login code")?;
            line.trim().to_owned()
        }
    };
    let token: Token = remote.post(
        "/verify-code",
        &serde_json::json!({ "login": login, "code": code }),
    )?;
    remote.set_token(token.token);
    let tracker = ballot.tracker();
    let credential = *ballot.credential.as_bytes();
    let receipt: Receipt = remote.post("/ballots", &ballot)?;
    let board_key = state
        .definition
        .as_ref()
        .and_then(|d| d.board_key)
        .context("this election names no board key: its receipts cannot be checked")?;
    receipt.verify(&board_key).map_err(|_| {
        anyhow::anyhow!(
            "the server's receipt is not signed by the election's board key: {receipt:?}"
        )
    })?;
    if receipt.tracker != tracker || Some(receipt.election) != state.fingerprint {
        bail!("the server's receipt does not match the ballot sent: {receipt:?}");
    }
    if Some(receipt.weight) != state.credential_weight(&credential) {
        bail!(
            "the server's receipt states weight {}, but the credential list gives this credential weight {:?}",
            receipt.weight,
            state.credential_weight(&credential)
        );
    }
    println!(
        "Ballot cast: event {} of the record. Tracker: {tracker}",
        receipt.seq
    );
    println!("Board head after it: {}", receipt.head);
    println!("Weight of your ballot: {}", receipt.weight);
    if let Some(path) = receipt_file {
        std::fs::write(path, serde_json::to_string_pretty(&receipt)?)
            .with_context(|| format!("cannot write {}", path.display()))?;
        println!(
            "Receipt signed by the board written to {}; check it later with `scrutin receipt check`.",
            path.display()
        );
    }
    println!("You may vote again: only your last ballot counts.");
    Ok(())
}
