//! Every mail a voter gets, parsed as a mail client would (`mail-parser`): the one-time
//! login code and the ballot confirmation sent by the server to its dry-run outbox, and the
//! credential mailed by `scrutin credentials mail` (to an outbox folder, and through an
//! SMTP relay). Each must be `multipart/alternative` with a text and an HTML part, carry
//! `Date`, `Message-ID`, `Content-Language` and an encoded UTF-8 subject, be in the voter's
//! language (from the voter list, else the election's default), be headed by the election's
//! title and give the voting link, the closing time in UTC and the election fingerprint.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::*;
use mail_parser::{Message, MessageParser};
use scrutin_election::credential::Credential;
use scrutin_election::crypto::rng::SeededRng;
use scrutin_election::definition::QuestionChoice;
use scrutin_election::verify::RecordState;
use serde_json::{Value, json};

/// 10 December 2026, 18:00 UTC.
const CLOSES_AT: i64 = 1_796_925_600;
const TITLE: &str = "Association board 2026";

/// The language each voter of [`prepare`]'s list should be written to: its own, else the
/// election's default (set to French below).
fn expected_language(login: &str) -> &'static str {
    let i: usize = login.trim_start_matches("voter").parse().unwrap();
    ["fr", "fr", "en"][i % 3]
}

fn eml_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| d.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    files.retain(|p| p.extension().is_some_and(|e| e == "eml"));
    files.sort();
    files
}

/// What a mail must say whatever its kind.
#[derive(Clone, Copy)]
struct Expect<'a> {
    base: &'a str,
    id: &'a str,
    fingerprint: &'a str,
    /// Whether the server schedules the closing ([`CLOSES_AT`]).
    scheduled: bool,
}

/// One parsed mail: recipient, language, subject, text and HTML; with the checks every
/// mail must pass already made.
struct Mail {
    to: String,
    lang: String,
    subject: String,
    text: String,
    html: String,
}

fn parse_and_check(raw: &[u8], e: &Expect) -> Mail {
    let m: Message = MessageParser::default()
        .parse(raw)
        .unwrap_or_else(|| panic!("not a mail: {}", String::from_utf8_lossy(raw)));
    let raw_text = String::from_utf8_lossy(raw);
    let header = |name: &str| m.header_raw(name).map(|v| v.trim().to_owned());
    // Headers.
    assert!(m.date().is_some(), "no Date in {raw_text}");
    assert!(
        m.message_id().is_some_and(|id| id.contains('@')),
        "no Message-ID in {raw_text}"
    );
    assert!(m.from().and_then(|f| f.first()).is_some(), "no From");
    let to = m
        .to()
        .and_then(|t| t.first())
        .and_then(|a| a.address())
        .unwrap()
        .to_owned();
    let lang = header("Content-Language").unwrap_or_else(|| panic!("no Content-Language"));
    let content_type = header("Content-Type").unwrap();
    assert!(
        content_type.starts_with("multipart/alternative"),
        "{content_type}"
    );
    let raw_subject = header("Subject").unwrap();
    assert!(raw_subject.is_ascii(), "subject not encoded: {raw_subject}");
    let subject = m.subject().unwrap().to_owned();
    // Both parts, each decoded.
    assert_eq!((m.text_body_count(), m.html_body_count()), (1, 1));
    let text = m.body_text(0).unwrap().replace("\r\n", "\n");
    let html = m.body_html(0).unwrap().replace("\r\n", "\n");
    assert!(html.contains(&format!("<html lang=\"{lang}\">")), "{html}");
    // Headed by the title, never by the id alone.
    assert!(subject.contains(TITLE), "{subject}");
    assert!(text.starts_with(&format!("{TITLE}\n")), "{text}");
    assert!(html.contains(&format!("<h1>{TITLE}</h1>")), "{html}");
    // The voting link with the fingerprint, the closing time in UTC, the fingerprint.
    let link = format!(
        "{}/elections/{}#fingerprint={}",
        e.base, e.id, e.fingerprint
    );
    assert!(text.contains(&link), "{text}");
    assert!(html.contains(&format!("href=\"{link}")), "{html}");
    let closes = match (lang.as_str(), e.scheduled) {
        ("en", true) => "Voting closes on 10 December 2026 at 18:00 UTC.",
        ("fr", true) => "Le vote ferme le 10 décembre 2026 à 18 h 00 UTC.",
        ("en", false) => "voting closes when the organisers close it.",
        ("fr", false) => "le vote ferme quand les organisateurs le clôturent.",
        (other, _) => panic!("language {other}"),
    };
    for part in [&text, &html] {
        assert!(part.contains(closes), "{part}");
        assert!(part.contains(e.fingerprint), "{part}");
    }
    // The login code is never called a voting code, in either language.
    for part in [&subject, &text, &html] {
        let lower = part.to_lowercase();
        assert!(!lower.contains("voting code"), "{part}");
    }
    Mail {
        to,
        lang,
        subject,
        text,
        html,
    }
}

fn login(email: &str) -> String {
    email.split('@').next().unwrap().to_owned()
}

#[test]
fn every_mail_is_in_the_voters_language_with_title_link_closing_time_and_fingerprint() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), true);
    let api = Api::new(&server.base);
    let s = prepare(&api, dir.path(), 3);
    let id = s.id.clone();
    // The election's default language (voter003's line names none) and closing time.
    let v = api.ok(
        "PUT",
        &format!("/api/admin/elections/{id}/mail-language"),
        Some(&s.admin),
        Some(&json!({"language": "fr"})),
    );
    assert_eq!(v["mail_language"], "fr");
    let (status, _) = api.call(
        "PUT",
        &format!("/api/admin/elections/{id}/mail-language"),
        Some(&s.admin),
        Some(&json!({"language": "de"})),
    );
    assert_eq!(status, 400);
    api.ok(
        "PUT",
        &format!("/api/admin/elections/{id}/schedule"),
        Some(&s.admin),
        Some(&json!({"closes_at": CLOSES_AT})),
    );
    api.ok(
        "POST",
        &format!("/api/admin/elections/{id}/open"),
        Some(&s.admin),
        None,
    );
    let public = api.ok("GET", &format!("/api/elections/{id}"), None, None);
    let fingerprint = public["fingerprint"].as_str().unwrap().to_owned();
    // The server's links start with its public URL; the CLI's with the --server URL.
    let public_url = server.state.config.public_url.clone();
    let expect = Expect {
        base: &public_url,
        id: &id,
        fingerprint: &fingerprint,
        scheduled: true,
    };

    // The server: a login code for each voter, then a confirmation of each ballot.
    let outbox = dir.path().join("outbox");
    let tokens = log_in(&api, &id, &outbox, &s.voters);
    let codes: HashMap<String, String> = code_mails(&outbox).into_iter().collect();
    let state = RecordState::from_record(&api.record(&id)).unwrap();
    let mut receipts = HashMap::new();
    for (login, email, _, credential) in &s.voters {
        let choices = vec![
            QuestionChoice::Values(vec![1, 0, 0]),
            QuestionChoice::Values(vec![0, 1, 0, 0]),
        ];
        let (status, r) = cast(
            &api,
            &id,
            &tokens[login],
            &encrypt(&state, credential, &choices, login),
        );
        assert_eq!(status, 200, "{r}");
        receipts.insert(email.clone(), r);
    }
    let files = wait_for(30, "the confirmation mails", || {
        let files = eml_files(&outbox);
        (files.len() >= 2 * s.voters.len()).then_some(files)
    });
    assert_eq!(files.len(), 2 * s.voters.len());
    let (mut otp, mut confirmations) = (0, 0);
    for f in &files {
        let mail = parse_and_check(&std::fs::read(f).unwrap(), &expect);
        assert_eq!(
            mail.lang,
            expected_language(&login(&mail.to)),
            "{}",
            mail.to
        );
        if let Some(code) = codes.get(&mail.to)
            && mail.text.contains(&format!("\n    {code}\n"))
        {
            otp += 1;
            let (word, other) = match mail.lang.as_str() {
                "en" => ("login code", "credential"),
                _ => ("code de connexion", "code de vote pour"),
            };
            assert!(mail.subject.contains(word), "{}", mail.subject);
            assert!(!mail.subject.contains(other), "{}", mail.subject);
            assert!(mail.html.contains(code.as_str()));
            continue;
        }
        confirmations += 1;
        let r = &receipts[&mail.to];
        let tracker = r["tracker"].as_str().unwrap();
        let seq = r["seq"].as_u64().unwrap();
        let position = match mail.lang.as_str() {
            "en" => format!("Position on the board: {seq}"),
            _ => format!("Position sur le tableau : {seq}"),
        };
        let lookup = format!("{public_url}/elections/{id}/board?tracker={tracker}");
        for part in [&mail.text, &mail.html] {
            assert!(part.contains(tracker), "{part}");
            assert!(part.contains(&position), "{part}");
            assert!(part.contains(&lookup), "{part}");
        }
    }
    assert_eq!((otp, confirmations), (3, 3));
    wait_for(10, "six mails marked sent", || {
        let status = api.ok(
            "GET",
            &format!("/api/admin/elections/{id}/mail-status"),
            Some(&s.admin),
            None,
        );
        (status["counts"]["sent"] == 6).then_some(())
    });

    // The CLI: each voter's credential, with a link that fills it in and names the
    // fingerprint (the language of each voter came with the server's voter list).
    let mails = dir.path().join("credential-mails");
    scrutin(&[
        "credentials",
        "mail",
        "--server",
        &api.base,
        "--election",
        &id,
        "--private",
        dir.path().join("credentials.json").to_str().unwrap(),
        "--outbox",
        mails.to_str().unwrap(),
    ]);
    let files = eml_files(&mails);
    assert_eq!(files.len(), s.voters.len());
    for f in &files {
        let mail = parse_and_check(
            &std::fs::read(f).unwrap(),
            &Expect {
                base: &api.base,
                ..expect
            },
        );
        let (login, _, _, credential) = s
            .voters
            .iter()
            .find(|v| v.1 == mail.to)
            .unwrap_or_else(|| panic!("a mail to a stranger: {}", mail.to));
        assert_eq!(mail.lang, expected_language(login));
        let link = format!(
            "{}/elections/{id}#fingerprint={fingerprint}&amp;credential={credential}",
            api.base
        );
        assert!(mail.html.contains(&link), "{}", mail.html);
        assert!(
            mail.text.contains(&link.replace("&amp;", "&")),
            "{}",
            mail.text
        );
        assert!(mail.text.contains(&format!("\n    {credential}\n")));
        let word = if mail.lang == "en" {
            "voting credential"
        } else {
            "code de vote"
        };
        assert!(mail.subject.contains(word), "{}", mail.subject);
        assert!(mail.text.contains(login.as_str()));
    }
    // The same with another voting address given by hand.
    let elsewhere = dir.path().join("elsewhere");
    scrutin(&[
        "credentials",
        "mail",
        "--server",
        &api.base,
        "--election",
        &id,
        "--voting-url",
        "https://vote.example.org/",
        "--private",
        dir.path().join("credentials.json").to_str().unwrap(),
        "--outbox",
        elsewhere.to_str().unwrap(),
    ]);
    let first = std::fs::read(&eml_files(&elsewhere)[0]).unwrap();
    let mail = parse_and_check(
        &first,
        &Expect {
            base: "https://vote.example.org",
            ..expect
        },
    );
    assert!(mail.text.contains("https://vote.example.org/elections/"));

    // From a record file: the voting address must be given, and no schedule is known.
    let record = dir.path().join("record.jsonl");
    std::fs::write(&record, api.record(&id)).unwrap();
    let private = dir.path().join("credentials.json");
    let offline = dir.path().join("offline");
    let args = |extra: &[&str]| {
        let mut a = vec![
            "credentials",
            "mail",
            "--record",
            record.to_str().unwrap(),
            "--private",
            private.to_str().unwrap(),
            "--outbox",
            offline.to_str().unwrap(),
        ];
        a.extend_from_slice(extra);
        a.iter().map(|s| (*s).to_owned()).collect::<Vec<String>>()
    };
    let without: Vec<String> = args(&[]);
    let without: Vec<&str> = without.iter().map(String::as_str).collect();
    assert!(scrutin_fails(&without).contains("--voting-url"));
    let with = args(&[
        "--voting-url",
        "https://vote.example.org",
        "--language",
        "en",
    ]);
    scrutin(&with.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(eml_files(&offline).len(), s.voters.len());
    for f in eml_files(&offline) {
        let mail = parse_and_check(
            &std::fs::read(f).unwrap(),
            &Expect {
                base: "https://vote.example.org",
                scheduled: false,
                ..expect
            },
        );
        // voter003's line names no language: --language decides.
        let login = login(&mail.to);
        let lang = if login == "voter003" {
            "en"
        } else {
            expected_language(&login)
        };
        assert_eq!(mail.lang, lang, "{login}");
    }
    server.stop();
}

#[test]
fn reminders_and_credentials_sent_again_are_parsed_like_every_mail() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), true);
    let api = Api::new(&server.base);
    let s = prepare(&api, dir.path(), 3);
    let id = s.id.clone();
    let admin = Some(s.admin.as_str());
    let at = |path: &str| format!("/api/admin/elections/{id}{path}");
    api.ok(
        "PUT",
        &at("/mail-language"),
        admin,
        Some(&json!({"language": "fr"})),
    );
    api.ok(
        "PUT",
        &at("/schedule"),
        admin,
        Some(&json!({"closes_at": CLOSES_AT})),
    );
    // Neither a reminder nor a re-send before voting opens.
    let (status, v) = api.call("POST", &at("/reminders"), admin, None);
    assert_eq!(
        (status, v["error"].as_str()),
        (409, Some("not_open")),
        "{v}"
    );
    let (status, _) = api.call("POST", &at("/roll/voter002/resend"), admin, None);
    assert_eq!(status, 409);
    api.ok("POST", &at("/open"), admin, None);
    let public = api.ok("GET", &format!("/api/elections/{id}"), None, None);
    let fingerprint = public["fingerprint"].as_str().unwrap().to_owned();
    let public_url = server.state.config.public_url.clone();
    let expect = Expect {
        base: &public_url,
        id: &id,
        fingerprint: &fingerprint,
        scheduled: true,
    };

    // voter001 votes; the two others do not.
    let outbox = dir.path().join("outbox");
    let tokens = log_in(&api, &id, &outbox, &s.voters[..1]);
    let state = RecordState::from_record(&api.record(&id)).unwrap();
    let choices = vec![
        QuestionChoice::Values(vec![1, 0, 0]),
        QuestionChoice::Values(vec![0, 1, 0, 0]),
    ];
    let (status, r) = cast(
        &api,
        &id,
        &tokens["voter001"],
        &encrypt(&state, &s.voters[0].3, &choices, "voter001"),
    );
    assert_eq!(status, 200, "{r}");
    let before = wait_for(30, "the login code and the confirmation", || {
        let files = eml_files(&outbox);
        (files.len() >= 2).then_some(files)
    });

    // The reminder goes to those two only, once.
    let v = api.ok("GET", &at("/reminders"), admin, None);
    assert_eq!(v["not_voted"], 2, "{v}");
    assert!(v["last_sent_at"].is_null() && v["next_allowed_at"].is_null());
    let v = api.ok("POST", &at("/reminders"), admin, None);
    assert_eq!(
        (v["queued"].as_u64(), v["not_voted"].as_u64()),
        (Some(2), Some(2))
    );
    let (status, v) = api.call("POST", &at("/reminders"), admin, None);
    assert_eq!(status, 409, "{v}");
    assert_eq!(v["error"], "reminder_too_soon");
    assert!(
        v["message"].as_str().unwrap().contains("one per hour"),
        "{v}"
    );
    let v = api.ok("GET", &at("/reminders"), admin, None);
    assert!(v["next_allowed_at"].as_i64().unwrap() > v["last_sent_at"].as_i64().unwrap());
    let files = wait_for(30, "two reminders", || {
        let files = eml_files(&outbox);
        (files.len() >= before.len() + 2).then_some(files)
    });
    let reminders: Vec<Mail> = files
        .iter()
        .filter(|f| !before.contains(f))
        .map(|f| parse_and_check(&std::fs::read(f).unwrap(), &expect))
        .collect();
    let mut to: Vec<String> = reminders.iter().map(|m| login(&m.to)).collect();
    to.sort();
    assert_eq!(to, ["voter002", "voter003"]);
    for mail in &reminders {
        assert_eq!(mail.lang, expected_language(&login(&mail.to)));
        let (subject, intro) = match mail.lang.as_str() {
            "en" => ("Reminder: vote in", "you have not voted yet"),
            _ => ("Rappel : votez pour", "vous n’avez pas encore voté"),
        };
        assert!(mail.subject.starts_with(subject), "{}", mail.subject);
        assert!(mail.text.contains(intro), "{}", mail.text);
        assert!(mail.html.contains(intro), "{}", mail.html);
        // Nothing about anyone's ballot.
        assert!(!mail.text.contains("voter001") && !mail.text.contains("tracker"));
    }
    let roll = wait_for(10, "the reminders marked sent", || {
        let roll = api.ok("GET", &at("/roll"), admin, None);
        (roll["voters"][1]["mails"]["reminder"] == "sent"
            && roll["voters"][2]["mails"]["reminder"] == "sent")
            .then_some(roll)
    });
    assert!(
        roll["voters"][0]["mails"].get("reminder").is_none(),
        "{roll}"
    );

    // An official asks for voter002's credential again; the credential authority mails it.
    let v = api.ok("POST", &at("/roll/voter002/resend"), admin, None);
    assert!(v["requested_at"].is_i64() && v["sent_at"].is_null(), "{v}");
    let (status, _) = api.call("POST", &at("/roll/nobody/resend"), admin, None);
    assert_eq!(status, 404);
    let roll = api.ok("GET", &at("/roll"), admin, None);
    assert!(roll["voters"][1]["resend"]["sent_at"].is_null(), "{roll}");
    assert!(roll["voters"][0].get("resend").is_none(), "{roll}");
    let resends = format!("/api/elections/{id}/authority/resends");
    let (status, _) = api.call("GET", &resends, Some(&s.trustee_tokens[0]), None);
    assert_eq!(status, 403);
    let v = api.ok("GET", &resends, Some(&s.authority), None);
    assert_eq!(v["requests"].as_array().unwrap().len(), 1, "{v}");
    assert_eq!(v["requests"][0]["login"], "voter002");
    assert_eq!(v["requests"][0]["email"], "voter002@example.org");
    assert!(v["requests"][0]["sent_at"].is_null());
    let private = dir.path().join("credentials.json");
    let resent = dir.path().join("resent");
    let mail_again = || {
        scrutin(&[
            "credentials",
            "mail",
            "--server",
            &api.base,
            "--election",
            &id,
            "--private",
            private.to_str().unwrap(),
            "--outbox",
            resent.to_str().unwrap(),
            "--resend",
            "--token",
            &s.authority,
        ])
    };
    mail_again();
    let files = eml_files(&resent);
    assert_eq!(files.len(), 1);
    let mail = parse_and_check(
        &std::fs::read(&files[0]).unwrap(),
        &Expect {
            base: &api.base,
            ..expect
        },
    );
    assert_eq!(mail.to, "voter002@example.org");
    assert_eq!(mail.lang, expected_language("voter002"));
    assert!(mail.text.contains(&format!("\n    {}\n", s.voters[1].3)));
    let v = api.ok("GET", &resends, Some(&s.authority), None);
    assert!(v["requests"][0]["sent_at"].is_i64(), "{v}");
    let roll = api.ok("GET", &at("/roll"), admin, None);
    assert!(roll["voters"][1]["resend"]["sent_at"].is_i64(), "{roll}");
    // Nothing pending: nothing mailed again.
    assert!(mail_again().contains("No credential waits"));
    assert_eq!(eml_files(&resent).len(), 1);
    // --resend needs the credential authority's token.
    let err = scrutin_fails(&[
        "credentials",
        "mail",
        "--server",
        &api.base,
        "--election",
        &id,
        "--private",
        private.to_str().unwrap(),
        "--outbox",
        resent.to_str().unwrap(),
        "--resend",
    ]);
    assert!(err.contains("--token"), "{err}");
    // Audited.
    let log = api.ok("GET", &at("/audit-log"), admin, None);
    let actions: Vec<&str> = log["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for action in [
        "voters.remind",
        "voters.resend_request",
        "credentials.resent",
    ] {
        assert!(actions.contains(&action), "{action} not in {actions:?}");
    }
    server.stop();
}

#[test]
fn credentials_go_through_smtp_only_if_they_are_on_the_published_list() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), true);
    let api = Api::new(&server.base);
    let s = setup(&api, dir.path(), 3);
    let public = api.ok("GET", &format!("/api/elections/{}", s.id), None, None);
    let fingerprint = public["fingerprint"].as_str().unwrap().to_owned();
    let (port, sink) = smtp_sink();
    let port = port.to_string();
    let mail = |file: &Path| {
        Command::new(env!("CARGO_BIN_EXE_scrutin"))
            .args(["credentials", "mail", "--server", &api.base, "--election"])
            .args([&s.id, "--private", file.to_str().unwrap(), "--send-mail"])
            .args([
                "127.0.0.1",
                "--smtp-port",
                &port,
                "--smtp-security",
                "plain",
            ])
            .args(["--mail-from", "authority@example.org"])
            .output()
            .unwrap()
    };
    let all = dir.path().join("credentials.json");
    let out = mail(&all);
    assert!(out.status.success(), "{out:?}");
    let expect = Expect {
        base: &api.base,
        id: &s.id,
        fingerprint: &fingerprint,
        scheduled: false,
    };
    let wait = |n: usize| {
        wait_for(10, "the relay to get the mails", || {
            let mails = sink.lock().unwrap().clone();
            (mails.len() >= n).then_some(mails)
        })
    };
    let mails = wait(3);
    for (login, email, _, credential) in &s.voters {
        let found = mails
            .iter()
            .map(|m| parse_and_check(m.as_bytes(), &expect))
            .find(|m| &m.to == email)
            .unwrap_or_else(|| panic!("no mail for {login}"));
        assert!(found.text.contains(credential.as_str()));
    }
    // Again from part of the file, as the authority's web page also saves it; a
    // credential that is not on the published list is refused before anything is sent.
    let kept: Vec<Value> = serde_json::from_str(&std::fs::read_to_string(&all).unwrap()).unwrap();
    let part = dir.path().join("part.json");
    std::fs::write(&part, serde_json::to_string(&kept[1..2]).unwrap()).unwrap();
    let out = mail(&part);
    assert!(out.status.success(), "{out:?}");
    let mails = wait(4);
    assert!(mails[3].contains(kept[1]["credential"].as_str().unwrap()));
    let mut forged = kept[1..2].to_vec();
    forged[0]["credential"] = Credential::generate(&mut SeededRng::new(b"stranger"))
        .display()
        .into();
    std::fs::write(&part, serde_json::to_string(&forged).unwrap()).unwrap();
    let out = mail(&part);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("not on this election's published list"),
        "{out:?}"
    );
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(sink.lock().unwrap().len(), 4);
    server.stop();
}

/// `scrutin demo --serve` writes its private credentials in the credential authority's one
/// format (§9.4), so `scrutin credentials mail` mails them as it would the authority's own
/// file; the voters' weights follow `--weights`.
#[test]
fn credentials_mail_accepts_the_file_of_demo_serve() {
    use std::io::{BufRead, BufReader};
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let listen = format!("127.0.0.1:{}", free_port());
    /// Stops the server however the test ends.
    struct Stop(std::process::Child);
    impl Drop for Stop {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let mut child = Command::new(env!("CARGO_BIN_EXE_scrutin"))
        .args(["demo", "--serve", "--voters", "3", "--weights", "2"])
        .args(["--listen", &listen, "--data", data.to_str().unwrap()])
        .env("SCRUTIN_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let _stop = Stop(child);
    let mut printed = String::new();
    for line in stdout.lines() {
        let line = line.unwrap();
        printed.push_str(&line);
        printed.push('\n');
        if line.starts_with("Press Ctrl-C") {
            break;
        }
    }
    let id = printed
        .split("Election ")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .unwrap_or_else(|| panic!("no election in {printed}"))
        .to_owned();
    assert!(printed.contains("(weight 2)"), "{printed}");
    // The description shown on the pages is plain text, without markup.
    let record = reqwest::blocking::get(format!("http://{listen}/api/elections/{id}/record"))
        .unwrap()
        .text()
        .unwrap();
    let first: Value = serde_json::from_str(record.lines().next().unwrap()).unwrap();
    let description = first.to_string();
    assert!(
        description.contains("A demonstration election") && !description.contains('`'),
        "{description}"
    );
    let kept: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(data.join("credentials.json")).unwrap())
            .unwrap();
    let weights: Vec<u64> = kept.iter().map(|c| c["weight"].as_u64().unwrap()).collect();
    assert_eq!(weights, [1, 2, 1]);
    let outbox = dir.path().join("mails");
    let out = Command::new(env!("CARGO_BIN_EXE_scrutin"))
        .args([
            "credentials",
            "mail",
            "--server",
            &format!("http://{listen}"),
        ])
        .args(["--election", &id, "--private"])
        .arg(data.join("credentials.json"))
        .arg("--outbox")
        .arg(&outbox)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let mails: Vec<String> = eml_files(&outbox)
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect();
    assert_eq!(mails.len(), 3);
    for c in &kept {
        let email = c["email"].as_str().unwrap();
        let credential = c["credential"].as_str().unwrap();
        assert!(
            mails
                .iter()
                .any(|m| m.contains(email) && m.contains(credential)),
            "no mail to {email} with its credential"
        );
    }
}
