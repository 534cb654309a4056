//! Outgoing mail: SMTP through lettre, or a dry-run outbox directory. What a mail says is
//! composed by [`crate::mail_text`]; this module delivers it and records its status.
//!
//! Invariants:
//! - every mail is recorded in the private store as `queued` *before* delivery is tried, then
//!   marked `sent` or `failed` (with the error), so officials can see what reached the relay;
//!   the mails queued or delivered at the same moment are recorded together, in one commit
//!   ([`GroupWrite`]);
//! - at most `mail.max_concurrent_sends` deliveries run at once;
//! - outbox file names are chosen by the server (`<mail id>.eml`), never by a user, and are
//!   written to a temporary name first then renamed, so a reader never sees half a mail;
//! - SMTP with `starttls` requires the upgrade (never falls back to plain text).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use tokio::sync::Semaphore;

use crate::config::{ServerConfig, SmtpSecurity};
use crate::group_write::GroupWrite;
use crate::mail_text::{self, ComposedMail};
use crate::storage::{MailStatus, MailStatusUpdate, NewMail, SharedStorage, StorageError, now};

/// Mail errors.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// Bad configuration (relay, From address).
    #[error("mail configuration: {0}")]
    Config(String),
    /// A recipient address or content that cannot be sent.
    #[error("invalid mail: {0}")]
    Invalid(String),
    /// Delivery failed (recorded as `failed`).
    #[error("delivery failed: {0}")]
    Delivery(String),
    /// Recording the status failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// A mail to send to a voter.
#[derive(Debug, Clone)]
pub struct OutgoingMail {
    /// Election concerned (for status counts).
    pub election: Option<String>,
    /// Voter login (recorded with the status; the address is not).
    pub login: String,
    /// Kind of mail: `"otp"` (a one-time login code) or `"confirmation"` (a ballot cast).
    pub kind: String,
    /// Recipient address.
    pub to: String,
    /// Subject, text and HTML, in the voter's language ([`crate::mail_text`]).
    pub content: ComposedMail,
}

enum Backend {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Outbox(PathBuf),
}

/// Sends mail and records its delivery status.
pub struct Mailer {
    backend: Backend,
    from: Mailbox,
    permits: Arc<Semaphore>,
    /// Mails recorded as queued, in groups.
    queued: Arc<GroupWrite<NewMail, i64>>,
    /// Statuses recorded, in groups.
    statuses: Arc<GroupWrite<MailStatusUpdate, ()>>,
}

/// The most mails recorded in one commit.
const MAX_GROUP: usize = 256;

fn truncate(s: &str, max: usize) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if out.len() + c.len_utf8() > max {
            break;
        }
        out.push(c);
    }
    out
}

impl Mailer {
    /// Builds the mailer the configuration asks for (creating the outbox directory if needed).
    pub fn new(config: &ServerConfig, storage: SharedStorage) -> Result<Self, MailError> {
        let from: Mailbox = config
            .mail
            .from
            .parse()
            .map_err(|e| MailError::Config(format!("mail.from: {e}")))?;
        let backend = match (&config.mail.smtp, config.outbox_dir()) {
            (Some(smtp), _) => {
                let builder = match smtp.security {
                    SmtpSecurity::Starttls => {
                        AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&smtp.host)
                            .map_err(|e| MailError::Config(e.to_string()))?
                    }
                    SmtpSecurity::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&smtp.host)
                        .map_err(|e| MailError::Config(e.to_string()))?,
                    SmtpSecurity::Plain => {
                        AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&smtp.host)
                    }
                };
                let mut builder = builder
                    .port(smtp.port)
                    .timeout(Some(Duration::from_secs(smtp.timeout_secs)));
                if let (Some(user), Some(pass)) = (&smtp.username, &smtp.password) {
                    builder = builder.credentials(Credentials::new(user.clone(), pass.clone()));
                }
                Backend::Smtp(builder.build())
            }
            (None, Some(dir)) => {
                crate::private_files::ensure_private_dir(&dir)
                    .map_err(|e| MailError::Config(format!("outbox: {e}")))?;
                Backend::Outbox(dir)
            }
            (None, None) => return Err(MailError::Config("no mail backend".to_owned())),
        };
        let queued = GroupWrite::new(Arc::clone(&storage), MAX_GROUP, |s, mails: Vec<NewMail>| {
            s.insert_mails(&mails, now())
        });
        let statuses = GroupWrite::new(storage, MAX_GROUP, |s, updates: Vec<MailStatusUpdate>| {
            let n = updates.len();
            s.set_mail_statuses(&updates, now()).map(|()| vec![(); n])
        });
        Ok(Self {
            backend,
            from,
            queued,
            statuses,
            permits: Arc::new(Semaphore::new(config.mail.max_concurrent_sends)),
        })
    }

    /// The outbox directory, in dry-run mode.
    pub fn outbox(&self) -> Option<&std::path::Path> {
        match &self.backend {
            Backend::Outbox(dir) => Some(dir),
            Backend::Smtp(_) => None,
        }
    }

    fn build(&self, mail: &OutgoingMail) -> Result<Message, MailError> {
        let to: Mailbox = mail
            .to
            .parse()
            .map_err(|e| MailError::Invalid(format!("recipient: {e}")))?;
        mail_text::message(self.from.clone(), to, &mail.content)
            .map_err(|e| MailError::Invalid(e.to_string()))
    }

    /// Records the mail as queued and delivers it in the background; returns its id at once.
    /// A mail that cannot even be built is recorded as failed and the error returned.
    pub async fn queue(self: &Arc<Self>, mail: OutgoingMail) -> Result<i64, MailError> {
        let (id, message) = self.record(&mail).await?;
        let message = match message {
            Ok(m) => m,
            Err(e) => return Err(e),
        };
        let this = Arc::clone(self);
        tokio::spawn(async move {
            let _ = this.deliver(id, message).await;
        });
        Ok(id)
    }

    /// Records the mail and delivers it, waiting for the outcome.
    pub async fn send_now(&self, mail: OutgoingMail) -> Result<i64, MailError> {
        let (id, message) = self.record(&mail).await?;
        self.deliver(id, message?).await?;
        Ok(id)
    }

    async fn record(
        &self,
        mail: &OutgoingMail,
    ) -> Result<(i64, Result<Message, MailError>), MailError> {
        let id = self
            .queued
            .write(NewMail {
                election: mail.election.clone(),
                login: mail.login.clone(),
                kind: mail.kind.clone(),
            })
            .await?;
        let message = self.build(mail);
        if let Err(e) = &message {
            self.set_status(id, MailStatus::Failed, Some(e.to_string()))
                .await?;
        }
        Ok((id, message))
    }

    async fn set_status(
        &self,
        id: i64,
        status: MailStatus,
        error: Option<String>,
    ) -> Result<(), MailError> {
        let error = error.map(|e| truncate(&e, 500));
        self.statuses
            .write(MailStatusUpdate { id, status, error })
            .await?;
        Ok(())
    }

    async fn deliver(&self, id: i64, message: Message) -> Result<(), MailError> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|e| MailError::Delivery(e.to_string()))?;
        let outcome = match &self.backend {
            Backend::Smtp(transport) => transport
                .send(message)
                .await
                .map(|_| ())
                .map_err(|e| e.to_string()),
            Backend::Outbox(dir) => write_outbox(dir, id, message.formatted()).await,
        };
        match outcome {
            Ok(()) => {
                self.set_status(id, MailStatus::Sent, None).await?;
                Ok(())
            }
            Err(e) => {
                tracing::warn!(mail_id = id, error = %e, "mail delivery failed");
                self.set_status(id, MailStatus::Failed, Some(e.clone()))
                    .await?;
                Err(MailError::Delivery(e))
            }
        }
    }
}

/// Writes mail `id` to the outbox folder: a private file under a hidden name, then renamed,
/// so that a reader of the folder sees whole mails only. One blocking task for both steps.
async fn write_outbox(dir: &std::path::Path, id: i64, bytes: Vec<u8>) -> Result<(), String> {
    let tmp = dir.join(format!(".{id:012}.eml.tmp"));
    let path = dir.join(format!("{id:012}.eml"));
    tokio::task::spawn_blocking(move || {
        crate::private_files::write_private_blocking(&tmp, &bytes)
            .map_err(|e| format!("outbox write: {e}"))?;
        std::fs::rename(&tmp, &path).map_err(|e| format!("outbox rename: {e}"))
    })
    .await
    .map_err(|e| format!("outbox write: {e}"))?
}

#[cfg(test)]
mod tests {
    use super::truncate;

    #[test]
    fn truncate_respects_char_boundaries() {
        assert_eq!(truncate("ééé", 3), "é");
        assert_eq!(truncate("abc", 10), "abc");
    }
}
