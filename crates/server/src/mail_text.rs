//! What the mails to voters say, in the voter's language: the one-time login code (sent by
//! the server), the voting credential (sent by the credential authority with `scrutin
//! credentials mail`) and the confirmation after a ballot is cast (sent by the server).
//!
//! Pure text composition, shared by the server and the command-line tool: the texts are the
//! `mail` namespace of the pages' translations (`web/i18n/<lang>/mail.json`, embedded in
//! the binary; the server reads them like its pages, from `web_dir` when set), filled with the election's facts ([`ElectionFacts`]). Every mail is headed
//! by the election's title, carries the voting link, the closing time written in UTC (or
//! says that the officials close the vote) and the election fingerprint; the credential
//! mail's link carries the fingerprint too (`#fingerprint=…&credential=…`), so that the
//! booth stops if the election it loads has another one. [`message`] makes the MIME
//! message: `multipart/alternative` with a plain-text and an HTML part (every value
//! escaped), `Content-Language`, `Date` and `Message-ID`.
//!
//! Words: the one-time *login code* (fr: *code de connexion*) only signs a voter in; the
//! voting *credential* (fr: *code de vote*) signs the ballot. No text calls one by the
//! other's name.

use std::collections::HashMap;

use lettre::Message;
use lettre::message::header::{ContentTransferEncoding, HeaderName, HeaderValue};
use lettre::message::{Body, Mailbox, MultiPart, SinglePart};
use serde::{Deserialize, Serialize};

use crate::web::html::Html;
use crate::web::i18n::fill;

/// A language mails are written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    /// English (the default).
    #[default]
    En,
    /// French.
    Fr,
}

impl Lang {
    /// Every language, in the order the forms list them.
    pub const ALL: [Lang; 2] = [Lang::En, Lang::Fr];

    /// The language's code (`en`, `fr`), as in the voter list and `Content-Language`.
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Fr => "fr",
        }
    }

    /// Parses [`Self::code`] (case and surrounding spaces ignored).
    pub fn parse(code: &str) -> Option<Lang> {
        match code.trim().to_ascii_lowercase().as_str() {
            "en" => Some(Lang::En),
            "fr" => Some(Lang::Fr),
            _ => None,
        }
    }
}

/// The texts of the `mail` namespace in one language, with English for a missing key.
pub struct MailTexts {
    lang: Lang,
    texts: HashMap<String, String>,
    fallback: HashMap<String, String>,
}

/// The path of a language's mail texts under `web/`.
pub fn texts_path(lang: Lang) -> String {
    format!("i18n/{}/mail.json", lang.code())
}

fn namespace(json: &[u8]) -> HashMap<String, String> {
    serde_json::from_slice(json).unwrap_or_default()
}

impl MailTexts {
    /// The texts built into the binary.
    pub fn embedded(lang: Lang) -> Self {
        let file = |l: Lang| crate::web::embedded(&texts_path(l)).unwrap_or_default();
        Self::from_json(lang, file(lang), file(Lang::En))
    }

    /// The texts of `lang` from the contents of its `mail.json` (`texts`), with English
    /// (`fallback`) for what it lacks; a file that does not parse counts as empty.
    pub fn from_json(lang: Lang, texts: &[u8], fallback: &[u8]) -> Self {
        Self {
            lang,
            texts: namespace(texts),
            fallback: namespace(fallback),
        }
    }

    /// The language of these texts.
    pub fn lang(&self) -> Lang {
        self.lang
    }

    fn t<'a>(&'a self, key: &'a str) -> &'a str {
        self.texts
            .get(key)
            .or_else(|| self.fallback.get(key))
            .map(String::as_str)
            .unwrap_or(key)
    }

    fn tv(&self, key: &str, vars: &[(&str, &str)]) -> String {
        fill(self.lang.code(), self.t(key), vars)
    }

    /// A moment written out in UTC: "10 December 2026 at 18:00 UTC", "10 décembre 2026 à
    /// 18 h 00 UTC".
    pub fn datetime(&self, unix: i64) -> String {
        let (year, month, day) = civil_from_days(unix.div_euclid(86_400));
        let secs = unix.rem_euclid(86_400);
        let month_name = self.t(&format!("mail.month_{month}")).to_owned();
        self.tv(
            "mail.datetime",
            &[
                ("day", &day.to_string()),
                ("month", &month_name),
                ("year", &year.to_string()),
                ("hour", &format!("{:02}", secs / 3600)),
                ("minute", &format!("{:02}", secs % 3600 / 60)),
            ],
        )
    }

    /// When voting closes, as a sentence.
    pub fn closing(&self, closes_at: Option<i64>) -> String {
        match closes_at {
            Some(t) => self.tv("mail.closes_at", &[("when", &self.datetime(t))]),
            None => self.t("mail.closes_by_official").to_owned(),
        }
    }
}

/// The proleptic Gregorian date `(year, month 1–12, day 1–31)` of a day count since
/// 1970-01-01 (H. Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = (if mp < 10 { mp + 3 } else { mp - 9 }) as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// What every mail says about its election.
#[derive(Debug, Clone)]
pub struct ElectionFacts {
    /// The election id (in links only).
    pub id: String,
    /// The title of the election's definition (the heading and subject of every mail).
    pub title: String,
    /// The server's public URL, without a trailing `/` (`https://vote.example.org`).
    pub base_url: String,
    /// The scheduled closing time (Unix seconds), if any.
    pub closes_at: Option<i64>,
    /// The election fingerprint (the hash of the record line before `open`, as the pages
    /// show it), in hexadecimal; `None` only before the election opens.
    pub fingerprint: Option<String>,
}

impl ElectionFacts {
    /// The voting page: `{base}/elections/{id}`.
    pub fn voting_page(&self) -> String {
        format!(
            "{}/elections/{}",
            self.base_url.trim_end_matches('/'),
            self.id
        )
    }

    /// The voting page with the fingerprint in its fragment (never sent to the server),
    /// which the booth compares with the election it loads.
    pub fn voting_link(&self) -> String {
        match &self.fingerprint {
            Some(fp) => format!("{}#fingerprint={fp}", self.voting_page()),
            None => self.voting_page(),
        }
    }

    /// The voting link that also fills in a credential.
    pub fn credential_link(&self, credential: &str) -> String {
        let sep = if self.fingerprint.is_some() { '&' } else { '#' };
        format!("{}{sep}credential={credential}", self.voting_link())
    }

    /// The public board's lookup of a tracker.
    pub fn tracker_link(&self, tracker: &str) -> String {
        format!("{}/board?tracker={tracker}", self.voting_page())
    }
}

/// A composed mail: subject, plain text and HTML, in one language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComposedMail {
    /// Its language.
    pub lang: Lang,
    /// The subject line (UTF-8; encoded when the message is built).
    pub subject: String,
    /// The plain-text part.
    pub text: String,
    /// The HTML part (a whole document; every value escaped).
    pub html: String,
}

/// One block of a mail, written out both as text and as HTML.
enum Block {
    /// A paragraph.
    Para(String),
    /// A secret or a value to copy, set apart (indented in text, bold in HTML).
    Value(String),
    /// A link (its text is the URL).
    Link(String),
}

fn render(
    texts: &MailTexts,
    facts: &ElectionFacts,
    subject: String,
    blocks: &[Block],
) -> ComposedMail {
    render_for(Reader::Voter, texts, facts, subject, blocks)
}

/// Who a mail is for: a voter's mail ends with the voting link and the closing time; a
/// trustee's has its own link and no use for either.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Reader {
    Voter,
    Trustee,
}

fn render_for(
    reader: Reader,
    texts: &MailTexts,
    facts: &ElectionFacts,
    subject: String,
    blocks: &[Block],
) -> ComposedMail {
    let mut common = Vec::new();
    if reader == Reader::Voter {
        common.push(Block::Para(texts.t("mail.voting_page").to_owned()));
        common.push(Block::Link(facts.voting_link()));
        common.push(Block::Para(texts.closing(facts.closes_at)));
    }
    if let Some(fp) = &facts.fingerprint {
        common.push(Block::Para(texts.t("mail.fingerprint").to_owned()));
        common.push(Block::Value(fp.clone()));
        common.push(Block::Para(texts.t("mail.fingerprint_help").to_owned()));
    }
    let signature = texts.tv("mail.signature", &[("title", &facts.title)]);
    common.push(Block::Para(signature));

    let mut text = format!(
        "{}\n{}\n\n",
        facts.title,
        "=".repeat(facts.title.chars().count().clamp(3, 72))
    );
    let mut html = Html::new();
    html.raw("<!DOCTYPE html>\n<html lang=\"");
    html.text(texts.lang().code());
    html.raw("\">\n<head>\n<meta charset=\"utf-8\">\n<title>");
    html.text(&subject);
    html.raw("</title>\n</head>\n<body>\n<h1>");
    html.text(&facts.title);
    html.raw("</h1>\n");
    for block in blocks.iter().chain(&common) {
        match block {
            Block::Para(p) => {
                text.push_str(p);
                text.push_str("\n\n");
                html.raw("<p>").text(p).raw("</p>\n");
            }
            Block::Value(v) => {
                text.push_str("    ");
                text.push_str(v);
                text.push_str("\n\n");
                html.raw("<p><strong style=\"font-family: monospace; font-size: 1.2em\">")
                    .text(v)
                    .raw("</strong></p>\n");
            }
            Block::Link(url) => {
                text.push_str(url);
                text.push_str("\n\n");
                html.raw("<p><a href=\"")
                    .text(url)
                    .raw("\">")
                    .text(url)
                    .raw("</a></p>\n");
            }
        }
    }
    html.raw("</body>\n</html>\n");
    ComposedMail {
        lang: texts.lang(),
        subject,
        text,
        html: html.finish(),
    }
}

/// The mail of a one-time login code, valid `minutes` minutes.
pub fn login_code(
    texts: &MailTexts,
    facts: &ElectionFacts,
    code: &str,
    minutes: u64,
) -> ComposedMail {
    let title = [("title", facts.title.as_str())];
    render(
        texts,
        facts,
        texts.tv("mail.login_code_subject", &title),
        &[
            Block::Para(texts.tv("mail.login_code_intro", &title)),
            Block::Value(code.to_owned()),
            Block::Para(texts.tv(
                "mail.login_code_validity",
                &[("minutes", &minutes.to_string())],
            )),
            Block::Para(texts.t("mail.login_code_ignore").to_owned()),
        ],
    )
}

/// The mail of a voting credential, with the link that fills it in.
pub fn credential(
    texts: &MailTexts,
    facts: &ElectionFacts,
    login: &str,
    credential: &str,
) -> ComposedMail {
    let title = [("title", facts.title.as_str())];
    render(
        texts,
        facts,
        texts.tv("mail.credential_subject", &title),
        &[
            Block::Para(texts.tv(
                "mail.credential_intro",
                &[("title", &facts.title), ("login", login)],
            )),
            Block::Value(credential.to_owned()),
            Block::Para(texts.t("mail.credential_keep").to_owned()),
            Block::Para(texts.t("mail.credential_link").to_owned()),
            Block::Link(facts.credential_link(credential)),
        ],
    )
}

/// The confirmation of a ballot put on the board: its tracker and position.
pub fn confirmation(
    texts: &MailTexts,
    facts: &ElectionFacts,
    tracker: &str,
    seq: u64,
) -> ComposedMail {
    let title = [("title", facts.title.as_str())];
    render(
        texts,
        facts,
        texts.tv("mail.confirmation_subject", &title),
        &[
            Block::Para(texts.tv("mail.confirmation_intro", &title)),
            Block::Para(texts.t("mail.confirmation_tracker").to_owned()),
            Block::Value(tracker.to_owned()),
            Block::Para(texts.tv("mail.confirmation_position", &[("seq", &seq.to_string())])),
            Block::Para(texts.t("mail.confirmation_lookup").to_owned()),
            Block::Link(facts.tracker_link(tracker)),
            Block::Para(texts.t("mail.confirmation_revote").to_owned()),
        ],
    )
}

/// A reminder to a voter who has not voted yet: the election is open, and until when. It
/// says nothing of anyone's vote (the server sends it to every voter without a ballot).
pub fn reminder(texts: &MailTexts, facts: &ElectionFacts) -> ComposedMail {
    let title = [("title", facts.title.as_str())];
    render(
        texts,
        facts,
        texts.tv("mail.reminder_subject", &title),
        &[
            Block::Para(texts.tv("mail.reminder_intro", &title)),
            Block::Para(texts.t("mail.reminder_credential").to_owned()),
        ],
    )
}

/// The mail telling trustee `name` that the record waits for its `step` (`commit`, `deal`,
/// `check`, `shuffle` or `decrypt`), with the link to the trustee page (the access key is
/// the one the officials gave; it is never in a mail).
pub fn trustee_turn(
    texts: &MailTexts,
    facts: &ElectionFacts,
    name: &str,
    step: &str,
) -> ComposedMail {
    let title = [("title", facts.title.as_str())];
    render_for(
        Reader::Trustee,
        texts,
        facts,
        texts.tv("mail.trustee_subject", &title),
        &[
            Block::Para(texts.tv(
                "mail.trustee_intro",
                &[("name", name), ("title", &facts.title)],
            )),
            Block::Para(texts.t(&format!("mail.trustee_step_{step}")).to_owned()),
            Block::Para(texts.t("mail.trustee_page").to_owned()),
            Block::Link(format!("{}/trustee", facts.voting_page())),
            Block::Para(texts.t("mail.trustee_key").to_owned()),
        ],
    )
}

/// Why a message could not be built.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct MessageError(String);

fn part(
    content_type: lettre::message::header::ContentType,
    body: &str,
) -> Result<SinglePart, MessageError> {
    // Quoted-printable keeps every ASCII line (a code, a link) readable as it is.
    let body = Body::new_with_encoding(body.to_owned(), ContentTransferEncoding::QuotedPrintable)
        .map_err(|_| MessageError("the body cannot be encoded".to_owned()))?;
    Ok(SinglePart::builder().header(content_type).body(body))
}

/// A random `Message-ID` in the sender's domain.
fn message_id(from: &Mailbox) -> Result<String, MessageError> {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).map_err(|_| MessageError("random generator failed".to_owned()))?;
    Ok(format!("<{}@{}>", hex::encode(b), from.email.domain()))
}

/// The MIME message of a composed mail from `from` to `to`: `multipart/alternative` (text,
/// then HTML), with `Content-Language`, `Date` and `Message-ID`.
pub fn message(from: Mailbox, to: Mailbox, mail: &ComposedMail) -> Result<Message, MessageError> {
    use lettre::message::header::ContentType;
    let id = message_id(&from)?;
    let body = MultiPart::alternative()
        .singlepart(part(ContentType::TEXT_PLAIN, &mail.text)?)
        .singlepart(part(ContentType::TEXT_HTML, &mail.html)?);
    Message::builder()
        .from(from)
        .to(to)
        // A title is the official's text: no line break of it reaches the header.
        .subject(
            mail.subject
                .chars()
                .map(|c| if c.is_control() { ' ' } else { c })
                .collect::<String>(),
        )
        .date_now()
        .message_id(Some(id))
        .raw_header(HeaderValue::new(
            HeaderName::new_from_ascii_str("Content-Language"),
            mail.lang.code().to_owned(),
        ))
        .multipart(body)
        .map_err(|e| MessageError(e.to_string()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use crate::web::html::escape;

    fn facts() -> ElectionFacts {
        ElectionFacts {
            id: "e1".to_owned(),
            title: "Élection <2026> & \"co\"".to_owned(),
            base_url: "https://vote.example.org".to_owned(),
            closes_at: Some(1_796_925_600),
            fingerprint: Some("ab".repeat(32)),
        }
    }

    #[test]
    fn dates_are_written_in_utc_in_each_language() {
        // 2026-12-10T18:00:00Z
        assert_eq!(civil_from_days(1_796_925_600 / 86_400), (2026, 12, 10));
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        let en = MailTexts::embedded(Lang::En);
        let fr = MailTexts::embedded(Lang::Fr);
        assert_eq!(
            en.closing(Some(1_796_925_600)),
            "Voting closes on 10 December 2026 at 18:00 UTC."
        );
        assert_eq!(
            fr.closing(Some(1_796_925_600)),
            "Le vote ferme le 10 décembre 2026 à 18 h 00 UTC."
        );
        assert!(en.closing(None).contains("organisers close it"));
    }

    #[test]
    fn titles_are_escaped_in_html_and_kept_in_text() {
        let m = credential(
            &MailTexts::embedded(Lang::Fr),
            &facts(),
            "alice",
            "K7QH-2M9P",
        );
        assert!(
            m.html
                .contains("<h1>Élection &lt;2026&gt; &amp; &quot;co&quot;</h1>")
        );
        assert!(!m.html.contains("<2026>"));
        assert!(m.text.starts_with("Élection <2026> & \"co\"\n"));
        assert!(
            m.subject
                .starts_with("Votre code de vote pour Élection <2026>")
        );
        let link = format!(
            "https://vote.example.org/elections/e1#fingerprint={}&credential=K7QH-2M9P",
            "ab".repeat(32)
        );
        assert!(m.text.contains(&link) && m.html.contains(&escape(&link)));
    }

    #[test]
    fn the_login_code_is_never_called_a_voting_credential() {
        for lang in Lang::ALL {
            let texts = MailTexts::embedded(lang);
            let m = login_code(&texts, &facts(), "12345678", 10);
            let (login_word, credential_word) = match lang {
                Lang::En => ("login code", "voting code"),
                Lang::Fr => ("code de connexion", "code de vote pour"),
            };
            assert!(m.subject.contains(login_word), "{}", m.subject);
            assert!(!m.subject.contains(credential_word), "{}", m.subject);
            assert!(m.text.contains("\n    12345678\n"), "{}", m.text);
        }
    }

    #[test]
    fn messages_are_multipart_with_the_headers() {
        let m = confirmation(
            &MailTexts::embedded(Lang::Fr),
            &facts(),
            &"cd".repeat(32),
            57,
        );
        let msg = message(
            "Scrutin <noreply@vote.example.org>".parse().unwrap(),
            "alice@example.org".parse().unwrap(),
            &m,
        )
        .unwrap();
        let raw = String::from_utf8(msg.formatted()).unwrap();
        for header in [
            "Content-Language: fr",
            "Content-Type: multipart/alternative",
            "Message-ID: <",
            "@vote.example.org>",
            "Date: ",
        ] {
            assert!(raw.contains(header), "{header} missing in {raw}");
        }
        // A line break in a title does not make a header of the rest.
        let mut evil = m.clone();
        evil.subject = "Vote\r\nBcc: mallory@example.org".to_owned();
        let raw_evil = message(
            "noreply@vote.example.org".parse().unwrap(),
            "alice@example.org".parse().unwrap(),
            &evil,
        )
        .unwrap()
        .formatted();
        let raw_evil = String::from_utf8(raw_evil).unwrap();
        assert!(!raw_evil.contains("\r\nBcc:"), "{raw_evil}");
        // The subject is not ASCII: its words are sent as RFC 2047 encoded words.
        let subject = raw.split("\r\nDate:").next().unwrap();
        assert!(
            subject.is_ascii() && subject.contains("=?utf-8?b?"),
            "{raw}"
        );
    }
}
