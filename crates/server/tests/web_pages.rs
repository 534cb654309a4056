//! The server-rendered public pages (board, result, verifier page, 404) over real HTTP,
//! with an election driven through its lifecycle by the protocol functions, and the
//! consistency of the web files every page relies on (translations, referenced files).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use common::{ADMIN, TestServer, assert_security_headers};
use scrutin_election::ballot;
use scrutin_election::ceremony;
use scrutin_election::ceremony::TrusteeSecretFile;
use scrutin_election::credential::{self, Credential, IssuedCredential};
use scrutin_election::crypto::rng::os_rng;
use scrutin_election::definition::QuestionChoice;
use scrutin_election::demo::{role_keys, roles_toml};
use scrutin_election::record::Event;
use scrutin_election::roles::{RoleKey, Signed};
use scrutin_server::AppState;
use scrutin_server::protocol;
use scrutin_server::storage::{Voter, blocking};

const HOSTILE_TOML: &str = r#"
title = "<script>alert(1)</script> & \"Q\" 'x'"
description = "<img src=x onerror=alert(2)>\n\nSecond paragraph."
threshold = 2

[[question]]
text = "Who <u>chairs</u>?"
answers = ["<b>Ada</b>", "Blaise", "Claude"]
min = 1
max = 1
blank = true
"#;

const PLAIN_TOML: &str = r#"
title = "Council 2026"
threshold = 2

[[question]]
text = "Who chairs?"
answers = ["Ada", "Blaise"]
min = 1
max = 1
"#;

/// The seed of every role key of these tests: the keys depend on it, not on the names.
const KEY_SEED: &[u8] = b"web pages role keys";

/// The trustees' and the credential authority's keys, with these trustee names.
fn keys(names: &[&str]) -> (Vec<RoleKey>, RoleKey) {
    role_keys(names, KEY_SEED)
}

/// `base` with its trustees and authority named with their keys.
fn with_roles(base: &str, names: &[&str]) -> String {
    let (trustees, authority) = keys(names);
    format!("{base}{}", roles_toml(&trustees, &authority))
}

fn hostile_toml() -> String {
    with_roles(HOSTILE_TOML, &["Alice <i>", "Bob", "Carol"])
}

fn plain_toml() -> String {
    with_roles(PLAIN_TOML, &["Alice", "Bob", "Carol"])
}

async fn server() -> TestServer {
    TestServer::start_with(|_| {}, protocol::api::routes()).await
}

async fn post_event(app: &AppState, id: &str, trustee: u32, event: &Event) {
    let body: serde_json::Value = serde_json::from_str(&event.body_json().unwrap()).unwrap();
    protocol::post_trustee_event(app, id, trustee, event.kind(), &body)
        .await
        .unwrap();
}

/// Creates an election from `toml`; returns its id.
async fn create(app: &AppState, toml: String) -> String {
    protocol::create_election(app, ADMIN, toml, None, None)
        .await
        .unwrap()
        .id
}

/// Key generation, `voters` voters with credentials, open. Returns the credentials and the
/// trustees' secrets.
async fn set_up_and_open(
    app: &AppState,
    id: &str,
    voters: usize,
) -> (Vec<IssuedCredential>, Vec<TrusteeSecretFile>) {
    let list: Vec<Voter> = (1..=voters)
        .map(|i| Voter {
            login: format!("voter{i}"),
            email: format!("voter{i}@example.org"),
            weight: 1,
            language: None,
        })
        .collect();
    let (eid, l) = (id.to_owned(), list.clone());
    blocking(&app.storage, move |s| s.add_voters(&eid, &l))
        .await
        .unwrap();
    let (keys, authority) = keys(&["", "", ""]);
    let mut secrets = Vec::new();
    for (i, key) in (1..).zip(&keys) {
        let (s, e) = {
            let locked = app.elections.lock(app, id).await.unwrap();
            ceremony::trustee_commit(locked.state().unwrap(), key, &mut os_rng()).unwrap()
        };
        post_event(app, id, i, &e).await;
        secrets.push(s);
    }
    for round in 0..2 {
        for s in &secrets {
            let e = {
                let locked = app.elections.lock(app, id).await.unwrap();
                let st = locked.state().unwrap();
                if round == 0 {
                    ceremony::trustee_deal(st, s, &mut os_rng()).unwrap()
                } else {
                    ceremony::trustee_check(st, s, &mut os_rng()).unwrap()
                }
            };
            post_event(app, id, s.dkg.index, &e).await;
        }
    }
    let named: Vec<(String, u64)> = list.iter().map(|v| (v.login.clone(), 1)).collect();
    let (issued, public) = credential::issue(id, &named, &mut os_rng()).unwrap();
    let context = {
        let locked = app.elections.lock(app, id).await.unwrap();
        locked.state().unwrap().election_hash
    };
    let signed = Signed::sign(public, "credentials", &context, &authority, &mut os_rng()).unwrap();
    protocol::post_credentials(app, id, signed).await.unwrap();
    protocol::open(app, ADMIN, id).await.unwrap();
    (issued, secrets)
}

/// Casts a ballot for `cred`; returns (seq, tracker).
async fn cast(
    app: &AppState,
    id: &str,
    cred: &IssuedCredential,
    choices: Vec<QuestionChoice>,
) -> (u64, String) {
    let ctx = {
        let locked = app.elections.lock(app, id).await.unwrap();
        locked.state().unwrap().context.clone().unwrap()
    };
    let c = Credential::parse(&cred.credential).unwrap();
    let (b, _) = ballot::encrypt(&ctx, &c, &choices, &mut os_rng()).unwrap();
    let r = protocol::cast_ballot(app, id, &cred.voter, b)
        .await
        .unwrap();
    (r.seq, r.tracker.to_hex())
}

/// GET a page: (status, headers, body).
async fn get(
    s: &TestServer,
    path: &str,
    headers: &[(&str, &str)],
) -> (u16, reqwest::header::HeaderMap, String) {
    let mut req = s.client.get(s.url(path));
    for (n, v) in headers {
        req = req.header(*n, *v);
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    let h = r.headers().clone();
    (status, h, r.text().await.unwrap())
}

async fn page(s: &TestServer, path: &str) -> String {
    let (status, h, body) = get(s, path, &[]).await;
    assert_eq!(status, 200, "{path}: {body}");
    assert_eq!(h["content-type"], "text/html; charset=utf-8");
    body
}

fn blank() -> QuestionChoice {
    QuestionChoice::blank()
}

fn pick(i: usize, n: usize) -> QuestionChoice {
    let mut v = vec![0; n];
    v[i] = 1;
    QuestionChoice::Values(v)
}

/// The text of the element `<dd data-field="name">`.
fn field(html: &str, name: &str) -> String {
    let marker = format!("data-field=\"{name}\">");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no field {name}"))
        + marker.len();
    let end = html[start..].find("</dd>").unwrap() + start;
    html[start..end].to_owned()
}

fn assert_no_raw_markup(html: &str) {
    for bad in [
        "<script>alert",
        "<img src=x",
        "<b>Ada</b>",
        "<u>chairs</u>",
        "Alice <i>",
    ] {
        assert!(!html.contains(bad), "unescaped {bad:?} in the page");
    }
}

#[tokio::test]
async fn board_and_result_through_an_election_with_a_hostile_title() {
    let s = server().await;
    let app = &s.state;
    let id = create(app, hostile_toml()).await;

    // Setup: the board says what is missing; the title and description are escaped.
    let board = page(&s, &format!("/elections/{id}/board")).await;
    assert_no_raw_markup(&board);
    assert!(board.contains("<html lang=\"en\">"));
    assert!(
        board.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;Q&quot; &#39;x&#39;")
    );
    assert!(board.contains("&lt;img src=x onerror=alert(2)&gt;"));
    assert!(board.contains("Second paragraph."));
    assert!(board.contains("<title>Public board: &lt;script&gt;"));
    assert_eq!(field(&board, "state"), "Being prepared");
    assert_eq!(field(&board, "events"), "1");
    assert!(field(&board, "fingerprint").starts_with("not yet"));
    assert!(board.contains("Alice &lt;i&gt;"));
    assert_eq!(board.matches(">not yet</td>").count(), 12);
    let result = page(&s, &format!("/elections/{id}/result")).await;
    assert!(result.contains("The result is not published yet."));
    assert!(result.contains("being prepared"));
    assert_no_raw_markup(&result);

    let (creds, secrets) = set_up_and_open(app, &id, 4).await;
    let board = page(&s, &format!("/elections/{id}/board")).await;
    assert_eq!(field(&board, "state"), "Open for voting");
    let fingerprint = field(&board, "fingerprint");
    assert_eq!(fingerprint.len(), 64);
    assert_eq!(field(&board, "election_key").len(), 64);
    assert_eq!(field(&board, "credentials"), "4");
    assert!(board.contains("No ballot on the board yet."));
    assert!(board.contains(&format!("href=\"/elections/{id}\">Vote</a>")));

    // Ballots: voter1 votes Blaise then changes to Claude, voter2 blank, voter3 Claude.
    let b1 = cast(app, &id, &creds[0], vec![pick(1, 3)]).await;
    let b2 = cast(app, &id, &creds[1], vec![blank()]).await;
    let b3 = cast(app, &id, &creds[2], vec![pick(2, 3)]).await;
    let b4 = cast(app, &id, &creds[0], vec![pick(2, 3)]).await;
    let board = page(&s, &format!("/elections/{id}/board")).await;
    assert_eq!(field(&board, "ballots"), "4");
    assert_eq!(field(&board, "ballots_counted"), "3");
    let head: serde_json::Value = s
        .client
        .get(s.url(&format!("/api/elections/{id}/head")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(field(&board, "head"), head["head"].as_str().unwrap());
    assert_eq!(field(&board, "events"), head["events"].to_string());
    // Newest first.
    let positions: Vec<usize> = [&b4, &b3, &b2, &b1]
        .iter()
        .map(|(seq, tracker)| {
            let row = format!("<td class=\"num\">{seq}</td><td class=\"tracker\">{tracker}</td>");
            board.find(&row).unwrap_or_else(|| panic!("no row {row}"))
        })
        .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{positions:?}");
    assert!(board.contains(&format!("/api/elections/{id}/record")));
    assert!(board.contains(&format!("/elections/{id}/verify")));
    assert!(board.contains(&format!("/elections/{id}/result")));
    assert!(board.contains("scrutin verify record.jsonl"));

    // Tracker lookup: found (case-insensitive), not on the board, malformed.
    let found = page(
        &s,
        &format!("/elections/{id}/board?tracker={}", b2.1.to_uppercase()),
    )
    .await;
    assert!(
        found.contains(&format!(
            "Found: this ballot is on the board at event {}.",
            b2.0
        )),
        "{found}"
    );
    assert!(found.contains("data-found=\"true\""));
    assert!(found.contains(&format!("value=\"{}\"", b2.1)));
    assert!(found.contains(&format!("?before={}#ballots", b2.0 + 1)));
    let missing = "ab".repeat(32);
    let not_found = page(&s, &format!("/elections/{id}/board?tracker={missing}")).await;
    assert!(not_found.contains(&format!(
        "Not on the board: no ballot has the tracker {missing}."
    )));
    assert!(not_found.contains("data-found=\"false\""));
    let malformed = page(
        &s,
        &format!("/elections/{id}/board?tracker=%3Cscript%3Ezz%3C%2Fscript%3E"),
    )
    .await;
    assert!(malformed.contains("Malformed tracker"));
    assert!(malformed.contains("aria-invalid=\"true\""));
    assert!(malformed.contains("value=\"&lt;script&gt;zz&lt;/script&gt;\""));
    assert!(!malformed.contains("<script>zz"));

    // The ballots before an event, and a page number out of range (clamped).
    let before = page(&s, &format!("/elections/{id}/board?before={}", b3.0)).await;
    assert!(before.contains(&b2.1) && before.contains(&b1.1));
    assert!(!before.contains(&format!("<td class=\"tracker\">{}", b3.1)));
    assert!(!before.contains(&format!("<td class=\"tracker\">{}", b4.1)));
    let far = page(&s, &format!("/elections/{id}/board?page=99&before=x")).await;
    assert!(far.contains("Page 1 of 1") && far.contains(&b4.1));

    // Closed: still no result.
    protocol::close(app, ADMIN, &id).await.unwrap();
    let result = page(&s, &format!("/elections/{id}/result")).await;
    assert!(result.contains("the trustees are decrypting"));
    assert!(!result.contains("<svg"));
    for sec in &secrets[..2] {
        let events = {
            let locked = app.elections.lock(app, &id).await.unwrap();
            ceremony::trustee_decrypt(locked.state().unwrap(), sec, &mut os_rng()).unwrap()
        };
        for e in &events {
            post_event(app, &id, sec.dkg.index, e).await;
        }
    }
    let board = page(&s, &format!("/elections/{id}/board")).await;
    assert_eq!(board.matches(">done</td>").count(), 9 + 2);
    protocol::tally(app, ADMIN, &id).await.unwrap();

    // The result: chart and table with the same numbers.
    let result = page(&s, &format!("/elections/{id}/result")).await;
    assert_no_raw_markup(&result);
    assert_eq!(field(&result, "state"), "Result published");
    assert_eq!(field(&result, "ballots_counted"), "3");
    assert_eq!(field(&result, "trustees"), "Alice &lt;i&gt;, Bob");
    assert_eq!(field(&result, "fingerprint"), fingerprint);
    assert_eq!(result.matches("<svg").count(), 1);
    assert!(result.contains("role=\"img\""));
    assert!(result.contains("aria-labelledby=\"q1-chart-title q1-chart-desc\""));
    assert!(result.contains(
        "<title id=\"q1-chart-title\">Votes for each answer: Who &lt;u&gt;chairs&lt;/u&gt;?</title>"
    ));
    assert!(result.contains(
        "<desc id=\"q1-chart-desc\">&lt;b&gt;Ada&lt;/b&gt;: 0 (0.0%); Blaise: 0 (0.0%); Claude: 2 (66.7%); Blank votes: 1 (33.3%)</desc>"
    ), "{result}");
    // Bars: 2/3 and 1/3 of 230.
    assert!(result.contains("class=\"chart-bar\" x=\"0\" y=\"138\" width=\"153\""));
    assert!(result.contains("class=\"chart-bar chart-blank\" x=\"0\" y=\"194\" width=\"76\""));
    for (answer, n, share) in [
        ("&lt;b&gt;Ada&lt;/b&gt;", 0, "0.0%"),
        ("Blaise", 0, "0.0%"),
        ("Claude", 2, "66.7%"),
    ] {
        let row = format!(
            "<tr data-kind=\"answer\"><th scope=\"row\">{answer}</th><td class=\"num\" data-value=\"{n}\">{n}</td><td class=\"num\">{share}</td></tr>"
        );
        assert!(result.contains(&row), "no row {row}");
    }
    assert!(result.contains(
        "<tr data-kind=\"blank\"><th scope=\"row\">Blank votes</th><td class=\"num\" data-value=\"1\">1</td><td class=\"num\">33.3%</td></tr>"
    ));
    assert!(result.contains(&format!("href=\"/elections/{id}/verify\"")));
    assert!(result.contains("scrutin verify record.jsonl"));
    assert!(result.contains("Verify this result yourself"));
    // The result as the JSON API gives it.
    let api: serde_json::Value = s
        .client
        .get(s.url(&format!("/api/elections/{id}/result")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        api["result"]["questions"][0]["choices"],
        serde_json::json!([0, 0, 2])
    );
    assert_eq!(api["result"]["questions"][0]["blank"], 1);
    assert!(result.contains(&format!("href=\"/elections/{id}/report\"")));
    assert!(result.contains(&format!("href=\"/api/elections/{id}/result.csv\"")));

    // The result as CSV: the same counts, formula-looking cells neutralised.
    let r = s
        .client
        .get(s.url(&format!("/api/elections/{id}/result.csv")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "text/csv; charset=utf-8");
    let csv = r.text().await.unwrap();
    let question = "Who <u>chairs</u>?";
    assert_eq!(
        csv,
        [
            "\"question\",\"question_text\",\"row\",\"answer\",\"count\",\"outcome\",\"ballots_csv\",\"ballots_blt\"".to_owned(),
            "\"\",\"\",\"ballots_counted\",\"\",\"3\",\"\",\"\",\"\"".to_owned(),
            format!("\"1\",\"{question}\",\"answer\",\"<b>Ada</b>\",\"0\",\"\",\"\",\"\""),
            format!("\"1\",\"{question}\",\"answer\",\"Blaise\",\"0\",\"\",\"\",\"\""),
            format!("\"1\",\"{question}\",\"answer\",\"Claude\",\"2\",\"\",\"\",\"\""),
            format!("\"1\",\"{question}\",\"blank\",\"\",\"1\",\"\",\"\",\"\""),
            String::new(),
        ]
        .join("\r\n")
    );

    // The printable report states the same numbers as the API and the record.
    let (status, h, report) = get(&s, &format!("/elections/{id}/report"), &[]).await;
    assert_eq!(status, 200);
    assert_no_raw_markup(&report);
    assert!(!report.contains("<script"), "the report runs no script");
    assert!(!report.contains("<link"), "the report loads nothing");
    assert!(report.contains("@media print"));
    let csp = h["content-security-policy"].to_str().unwrap();
    assert!(
        csp.starts_with(
            "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self' 'sha256-"
        ),
        "{csp}"
    );
    let record = s
        .client
        .get(s.url(&format!("/api/elections/{id}/record")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let lines = record.lines().count();
    let head: serde_json::Value = s
        .client
        .get(s.url(&format!("/api/elections/{id}/head")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(head["events"], lines as u64);
    assert_eq!(
        field(&report, "head"),
        head["head"].as_str().unwrap(),
        "the head of the record"
    );
    assert_eq!(field(&report, "length"), format!("{lines} lines"));
    assert_eq!(field(&report, "fingerprint"), fingerprint);
    assert_eq!(
        field(&report, "ballots_counted"),
        api["result"]["ballots_counted"].to_string()
    );
    assert_eq!(field(&report, "ballots"), "4");
    assert_eq!(field(&report, "voters"), "4");
    assert_eq!(field(&report, "credentials"), "4");
    for (n, v) in api["result"]["questions"][0]["choices"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
    {
        let answer = ["&lt;b&gt;Ada&lt;/b&gt;", "Blaise", "Claude"][n];
        assert!(
            report.contains(&format!(
                "<th scope=\"row\">{answer}</th><td class=\"num\" data-value=\"{v}\">"
            )),
            "{answer}: {v}"
        );
    }
    assert!(report.contains("<td class=\"num\" data-value=\"1\">1</td>"));
    // The trustees with their key fingerprints, the two who decrypted.
    let (trustee_keys, authority) = keys(&["", "", ""]);
    for (i, k) in trustee_keys.iter().enumerate() {
        assert!(report.contains(&k.fingerprint()), "trustee {i}'s key");
    }
    assert!(report.contains(&authority.fingerprint()));
    assert_eq!(report.matches("data-decrypted=\"yes\"").count(), 2);
    assert_eq!(report.matches("data-decrypted=\"no\"").count(), 1);
    // The steps' times, in UTC.
    for step in ["opened", "closed", "tallied"] {
        let t = field(&report, step);
        assert!(
            t.contains("<time datetime=") && t.ends_with(" UTC</time>"),
            "{step}: {t}"
        );
    }
    assert!(report.contains(&format!(
        "/api/elections/{id}/record &gt; record.jsonl\nscrutin verify record.jsonl"
    )));
    assert!(report.contains(&format!("/elections/{id}/verify")));
    assert!(report.contains("Drawn up on"));
    let french = page(&s, &format!("/elections/{id}/report?lang=fr")).await;
    assert!(french.contains("<html lang=\"fr\">"));
    assert!(french.contains("Fait le"));
    assert_eq!(field(&french, "length"), format!("{lines} lignes"));
}

#[tokio::test]
async fn the_ballots_are_paged_newest_first() {
    let s = server().await;
    let app = &s.state;
    let id = create(app, plain_toml()).await;
    let (creds, _) = set_up_and_open(app, &id, 3).await;
    let mut cast_ballots = Vec::new();
    for i in 0..53 {
        cast_ballots.push(cast(app, &id, &creds[i % 3], vec![pick(i % 2, 2)]).await);
    }
    let first = page(&s, &format!("/elections/{id}/board")).await;
    assert_eq!(field(&first, "ballots"), "53");
    assert_eq!(first.matches("<td class=\"tracker\">").count(), 50);
    assert!(first.contains("Page 1 of 2"));
    assert!(first.contains(&format!(
        "href=\"/elections/{id}/board?page=2#ballots\" rel=\"next\""
    )));
    assert!(first.contains(&cast_ballots[52].1) && !first.contains(&cast_ballots[2].1));
    let second = page(&s, &format!("/elections/{id}/board?page=2")).await;
    assert_eq!(second.matches("<td class=\"tracker\">").count(), 3);
    assert!(second.contains("Page 2 of 2"));
    assert!(second.contains("rel=\"prev\""));
    for b in &cast_ballots[..3] {
        assert!(second.contains(&b.1));
    }
    // The language links keep the page.
    assert!(second.contains("href=\"?lang=fr&amp;page=2\""));
    let before = page(
        &s,
        &format!("/elections/{id}/board?before={}", cast_ballots[52].0),
    )
    .await;
    assert_eq!(before.matches("<td class=\"tracker\">").count(), 50);
    let oldest_shown = cast_ballots[2].0;
    assert!(before.contains(&format!("?before={oldest_shown}#ballots")));
    assert!(before.contains("Newest ballots"));
}

#[tokio::test]
async fn french_or_english_by_query_cookie_and_accept_language() {
    let s = server().await;
    let id = create(&s.state, plain_toml()).await;
    let board = format!("/elections/{id}/board");
    let fr = |body: &str| body.contains("<html lang=\"fr\">") && body.contains("Tableau public");
    let en = |body: &str| body.contains("<html lang=\"en\">") && body.contains("Public board");

    let (_, h, body) = get(&s, &board, &[]).await;
    assert!(en(&body));
    assert!(h.get("set-cookie").is_none());
    assert_eq!(h["vary"], "Accept-Language, Cookie");

    let (_, _, body) = get(
        &s,
        &board,
        &[("accept-language", "de-DE, fr-CH;q=0.8, en;q=0.5")],
    )
    .await;
    assert!(fr(&body), "Accept-Language");
    assert!(body.contains("Rechercher un code de suivi"));
    let (_, _, body) = get(&s, &board, &[("accept-language", "en-GB, fr;q=0.9")]).await;
    assert!(en(&body));

    let (_, _, body) = get(
        &s,
        &board,
        &[("cookie", "theme=x; lang=fr"), ("accept-language", "en")],
    )
    .await;
    assert!(fr(&body), "cookie before Accept-Language");

    let (_, h, body) = get(&s, &format!("{board}?lang=en"), &[("cookie", "lang=fr")]).await;
    assert!(en(&body), "query before cookie");
    assert_eq!(
        h["set-cookie"],
        "lang=en; Path=/; SameSite=Lax; Max-Age=31536000"
    );
    let (_, h, body) = get(&s, &format!("/elections/{id}/result?lang=fr"), &[]).await;
    assert!(
        body.contains("<html lang=\"fr\">")
            && body.contains("Le résultat n’est pas encore publié.")
    );
    assert_eq!(
        h["set-cookie"],
        "lang=fr; Path=/; SameSite=Lax; Max-Age=31536000"
    );
    // The switch: plain links, the current language marked.
    assert!(body.contains("<a href=\"?lang=en\" lang=\"en\" hreflang=\"en\">English</a>"));
    assert!(body.contains(
        "<a href=\"?lang=fr\" lang=\"fr\" hreflang=\"fr\" aria-current=\"true\">Français</a>"
    ));
    // An unknown language falls back to the next source.
    let (_, h, body) = get(
        &s,
        &format!("{board}?lang=xx"),
        &[("accept-language", "fr")],
    )
    .await;
    assert!(fr(&body));
    assert!(h.get("set-cookie").is_none());
}

#[tokio::test]
async fn pages_have_the_security_headers_and_revalidate() {
    let s = server().await;
    let id = create(&s.state, plain_toml()).await;
    for path in [
        format!("/elections/{id}/board"),
        format!("/elections/{id}/result"),
    ] {
        let r = s.client.get(s.url(&path)).send().await.unwrap();
        assert_eq!(r.status(), 200);
        assert_security_headers(&r, false);
        assert_eq!(r.headers()["cache-control"], "private, no-cache");
        let etag = r.headers()["etag"].to_str().unwrap().to_owned();
        let body = r.text().await.unwrap();
        // No inline script, style or event handler: the CSP would block them. The one
        // script is a file of the same origin that localises the times; the page reads
        // the same without it.
        let script = "<script type=\"module\" src=\"/static/js/local-time.js\"></script>";
        assert_eq!(body.matches(script).count(), 1, "{path}");
        let body = body.replace(script, "");
        for bad in ["<script", "style=", " onclick=", " onload="] {
            assert!(!body.contains(bad), "{bad} in {path}");
        }
        let again = s
            .client
            .get(s.url(&path))
            .header("if-none-match", &etag)
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), 304, "{path}");
    }
    // The verifier page of a known election is the static page.
    let r = s
        .client
        .get(s.url(&format!("/elections/{id}/verify")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_security_headers(&r, false);
    let body = r.text().await.unwrap();
    assert!(body.contains("/static/js/verify.js"));
}

#[tokio::test]
async fn an_unknown_election_is_an_html_404_page() {
    let s = server().await;
    for path in [
        "/elections/no-such-election/board",
        "/elections/no-such-election/result",
        "/elections/no-such-election/verify",
        "/elections/bad%20id%3C/board",
    ] {
        let r = s.client.get(s.url(path)).send().await.unwrap();
        assert_eq!(r.status(), 404, "{path}");
        assert_security_headers(&r, false);
        assert_eq!(r.headers()["content-type"], "text/html; charset=utf-8");
        let body = r.text().await.unwrap();
        assert!(body.contains("<h1>No such election</h1>"), "{body}");
        assert!(body.contains("<a href=\"/\">Go to the home page</a>"));
        assert!(!body.contains("bad id<"));
    }
    let (status, _, body) = get(&s, "/elections/nope/result", &[("accept-language", "fr")]).await;
    assert_eq!(status, 404);
    assert!(body.contains("Cette élection n’existe pas"));
    // The API still answers JSON.
    let r = s
        .client
        .get(s.url("/api/elections/nope"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
}

// ---- the web files ----

fn web_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../web")
}

fn files(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == ext))
        .collect();
    out.sort();
    out
}

/// Every value of `attr="…"` in `text`.
fn attr_values<'a>(text: &'a str, attr: &str) -> Vec<&'a str> {
    let marker = format!(" {attr}=\"");
    text.match_indices(&marker)
        .filter_map(|(i, _)| {
            let rest = &text[i + marker.len()..];
            rest.find('"').map(|end| &rest[..end])
        })
        .collect()
}

/// The translations of one language: namespace → key → text.
fn translations(lang: &str) -> BTreeMap<String, BTreeMap<String, String>> {
    files(&web_dir().join("i18n").join(lang), "json")
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            let map: BTreeMap<String, String> = serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("{} does not parse as flat JSON: {e}", p.display()));
            (p.file_stem().unwrap().to_string_lossy().into_owned(), map)
        })
        .collect()
}

#[test]
fn translations_parse_and_english_and_french_have_the_same_keys() {
    let en = translations("en");
    let fr = translations("fr");
    assert!(en.contains_key("common") && en.contains_key("public") && en.contains_key("verify"));
    assert_eq!(
        en.keys().collect::<Vec<_>>(),
        fr.keys().collect::<Vec<_>>(),
        "the same namespaces in en and fr"
    );
    for (ns, keys) in &en {
        let fr_keys: BTreeSet<&String> = fr[ns].keys().collect();
        let en_keys: BTreeSet<&String> = keys.keys().collect();
        let only_en: Vec<_> = en_keys.difference(&fr_keys).collect();
        let only_fr: Vec<_> = fr_keys.difference(&en_keys).collect();
        assert!(
            only_en.is_empty() && only_fr.is_empty(),
            "{ns}.json: only in en {only_en:?}, only in fr {only_fr:?}"
        );
        for (key, text) in keys {
            // common.json also holds the home page's texts (home.*).
            assert!(
                key.starts_with(&format!("{ns}.")) || ns == "common",
                "{ns}.json: key {key} lacks the namespace prefix"
            );
            // The same placeholders in both languages.
            let names = |t: &str| -> BTreeSet<String> {
                t.split('{')
                    .skip(1)
                    .filter_map(|p| p.split_once('}').map(|(n, _)| n.to_owned()))
                    .filter(|n| n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
                    .collect()
            };
            assert_eq!(
                names(text),
                names(&fr[ns][key]),
                "{ns}.json: placeholders of {key}"
            );
        }
    }
}

/// A count is never written before a noun in one fixed form ("1 elections", "1 of them
/// are"): the noun goes through a plural selector `{n|election|elections}`, which
/// `web::i18n::fill` and `i18n.js` resolve per language (English: 1 is singular; French: 0
/// and 1). Every selector names the count it follows and has exactly two forms.
/// The verifier page says the verifier's sentences (spec §12, conclusions) with the same English
/// templates as `scrutin verify`, and has a translation of each.
#[test]
fn the_verifier_page_says_every_sentence_of_the_verifier() {
    let en = translations("en");
    let verify = &en["verify"];
    let mut keys = BTreeSet::new();
    for (key, _, template) in scrutin_election::conclusions::TEMPLATES {
        let name = format!("verify.says_{key}");
        assert_eq!(
            verify.get(&name).map(String::as_str),
            Some(*template),
            "{name} differs from the verifier's English"
        );
        keys.insert(name);
    }
    let on_page: BTreeSet<String> = verify
        .keys()
        .filter(|k| k.starts_with("verify.says_") && *k != "verify.says_heading")
        .cloned()
        .collect();
    assert_eq!(on_page, keys, "sentences the verifier does not say");
}

#[test]
fn counts_take_the_plural_forms_of_their_language() {
    let nouns: &[(&str, &[&str])] = &[
        (
            "en",
            &[
                "elections",
                "trustees",
                "voters",
                "credentials",
                "ballots",
                "events",
                "lines",
                "questions",
                "answers",
                "points",
                "attempts",
                "times",
                "bytes",
                "shares",
                "minutes",
                "monitors",
                "proofs",
                "letters",
                "are",
                "have",
            ],
        ),
        (
            "fr",
            &[
                "élections",
                "autorités",
                "électeurs",
                "lignes",
                "codes",
                "événements",
                "essais",
                "réponses",
                "points",
                "parts",
                "questions",
                "moniteurs",
                "octets",
                "bulletins",
                "minutes",
                "lettres",
                "gardiens",
                "preuves",
                "manquent",
                "ont",
                "sont",
            ],
        ),
    ];
    let mut selectors = 0;
    let mut bad = Vec::new();
    for (lang, plural_words) in nouns {
        for (ns, keys) in translations(lang) {
            for (key, text) in keys {
                let mut rest = text.as_str();
                while let Some(start) = rest.find('{') {
                    let after = &rest[start + 1..];
                    let end = after.find('}').unwrap_or(after.len());
                    let inside = &after[..end];
                    rest = after.get(end + 1..).unwrap_or("");
                    let parts: Vec<&str> = inside.split('|').collect();
                    if parts.len() > 1 {
                        selectors += 1;
                        assert!(
                            parts.len() == 3 && !inside.contains('{'),
                            "{lang}/{ns}.json {key}: a selector is {{count|singular|plural}}: {text}"
                        );
                        assert!(
                            !parts[0].is_empty()
                                && parts[0]
                                    .chars()
                                    .all(|c| c.is_ascii_alphanumeric() || c == '_'),
                            "{lang}/{ns}.json {key}: the selector's count {:?} is not a name",
                            parts[0]
                        );
                        continue;
                    }
                    // A label before a count that ends the text ("Ballots counted as
                    // invalid: {count}"): the count is said before its noun instead.
                    let cut = text.len().saturating_sub(rest.len() + inside.len() + 2);
                    let before = text.get(..cut).unwrap_or("");
                    if before.trim_end().ends_with(':')
                        && rest.trim_matches(['.', ')', ' ']).is_empty()
                    {
                        let clause = before.rsplit(['.', ';', '!', '?', '(']).next();
                        for w in clause.unwrap_or("").split_whitespace() {
                            let w = w.trim_matches([':', ',']).to_lowercase();
                            if plural_words.contains(&w.as_str()) {
                                bad.push(format!(
                                    "{lang}/{ns}.json {key}: \"{w}: {{{inside}}}\" puts a fixed plural before its count: {text}"
                                ));
                            }
                        }
                    }
                    // The three words after a count, in its clause ("decryption shares",
                    // "of them are").
                    let clause = rest.split(['.', ',', ';', ':', '(', ')', '!', '?']).next();
                    for w in clause
                        .unwrap_or("")
                        .split_whitespace()
                        .take(3)
                        .take_while(|w| !w.starts_with('{'))
                    {
                        if plural_words.contains(&w) {
                            bad.push(format!(
                                "{lang}/{ns}.json {key}: \"{{{inside}}} … {w}\" has one form whatever the count: {text}"
                            ));
                        }
                    }
                }
            }
        }
    }
    assert!(
        bad.is_empty(),
        "use {{count|singular|plural}}:\n{}",
        bad.join("\n")
    );
    assert!(selectors > 50, "{selectors}");
}

#[test]
fn every_file_the_pages_and_scripts_reference_exists() {
    let web = web_dir();
    let en = translations("en");
    let all_keys: BTreeSet<&String> = en.values().flat_map(|m| m.keys()).collect();
    let exists = |url: &str| {
        let path = url.split(['?', '#']).next().unwrap_or(url);
        let rel = path.trim_start_matches('/');
        ["static/", "pkg/", "i18n/"]
            .iter()
            .any(|p| rel.starts_with(p))
            && web.join(rel).is_file()
    };
    let pages = files(&web.join("pages"), "html");
    assert!(pages.iter().any(|p| p.ends_with("verify.html")));
    for page in &pages {
        let html = std::fs::read_to_string(page).unwrap();
        let name = page.file_name().unwrap().to_string_lossy();
        for url in attr_values(&html, "src")
            .into_iter()
            .chain(attr_values(&html, "href"))
            .filter(|u| {
                u.starts_with("/static/") || u.starts_with("/pkg/") || u.starts_with("/i18n/")
            })
        {
            assert!(exists(url), "{name} references {url}, which does not exist");
        }
        assert!(
            html.contains("/static/scrutin.css"),
            "{name} has no stylesheet"
        );
        for key in attr_values(&html, "data-i18n") {
            assert!(
                all_keys.contains(&key.to_owned()),
                "{name}: no English text for {key}"
            );
        }
        for pairs in attr_values(&html, "data-i18n-attr") {
            for key in pairs
                .split(';')
                .filter_map(|p| p.split_once(':').map(|(_, k)| k.trim()))
            {
                assert!(
                    all_keys.contains(&key.to_owned()),
                    "{name}: no English text for {key}"
                );
            }
        }
        // The CSP allows no inline script or style.
        assert!(!html.contains(" style=\""), "{name} has an inline style");
        for script in html.split("<script").skip(1) {
            let tag = script.split('>').next().unwrap_or("");
            assert!(tag.contains("src="), "{name} has an inline script");
        }
    }
    // Scripts: their imports and workers.
    for script in files(&web.join("static/js"), "js") {
        let text = std::fs::read_to_string(&script).unwrap();
        let name = script.file_name().unwrap().to_string_lossy();
        for quote in ['\'', '"'] {
            for marker in [
                format!("from {quote}"),
                format!("import {quote}"),
                format!("Worker({quote}"),
            ] {
                for (i, _) in text.match_indices(&marker) {
                    let rest = &text[i + marker.len()..];
                    let Some(end) = rest.find(quote) else {
                        continue;
                    };
                    let target = &rest[..end];
                    let ok = if let Some(rel) = target.strip_prefix("./") {
                        script.parent().unwrap().join(rel).is_file()
                    } else if target.starts_with('/') {
                        exists(target)
                    } else {
                        continue;
                    };
                    assert!(ok, "{name} imports {target}, which does not exist");
                }
            }
        }
    }
    // And what the binary embeds is what the pages ask for.
    for p in [
        "pages/verify.html",
        "static/js/verify.js",
        "static/js/verify-worker.js",
        "i18n/en/public.json",
        "i18n/fr/verify.json",
        "pkg/scrutin_booth.js",
    ] {
        assert!(
            scrutin_server::web::embedded(p).is_some(),
            "{p} is not embedded"
        );
    }
}

#[tokio::test]
async fn the_server_rendered_pages_reference_served_files() {
    let s = server().await;
    let id = create(&s.state, plain_toml()).await;
    for path in [
        format!("/elections/{id}/board"),
        format!("/elections/{id}/result"),
        "/elections/nope/board".to_owned(),
    ] {
        let (_, _, body) = get(&s, &path, &[]).await;
        let urls: Vec<&str> = attr_values(&body, "href")
            .into_iter()
            .chain(attr_values(&body, "src"))
            .filter(|u| u.starts_with('/') && !u.starts_with("/api/"))
            .collect();
        assert!(urls.contains(&"/static/scrutin.css"));
        for url in urls {
            let r = s.client.get(s.url(url)).send().await.unwrap();
            assert!(
                r.status().is_success(),
                "{path} links to {url}: {}",
                r.status()
            );
        }
    }
}

/// The one-time login code and the voting credential never share a name: no English text
/// says "voting code", and no French text about the login code calls it a "code de vote"
/// except to say that it is not one.
#[test]
fn the_login_code_and_the_credential_never_share_a_name() {
    let web = web_dir();
    let mut texts: Vec<(String, String)> = Vec::new();
    for lang in ["en", "fr"] {
        for (ns, keys) in translations(lang) {
            for (key, text) in keys {
                texts.push((format!("{lang}/{ns}.json {key}"), text));
            }
        }
    }
    for dir in ["pages", "static/js"] {
        for ext in ["html", "js"] {
            for p in files(&web.join(dir), ext) {
                texts.push((
                    p.display().to_string(),
                    std::fs::read_to_string(&p).unwrap(),
                ));
            }
        }
    }
    assert!(texts.iter().any(|(k, _)| k.contains("mail.json")));
    for (where_, text) in &texts {
        assert!(
            !text.to_lowercase().contains("voting code"),
            "{where_} says \"voting code\""
        );
        let about_login_code =
            where_.contains(" booth.code_") || where_.contains(" mail.login_code_");
        if where_.starts_with("fr/") && about_login_code {
            let rest = text.replace("n’est pas votre code de vote", "");
            assert!(
                !rest.contains("code de vote"),
                "{where_} calls the login code a code de vote: {text}"
            );
        }
    }
}
