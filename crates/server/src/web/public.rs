//! The public pages, rendered by the server as plain HTML (they work without script; their
//! one script, `web/static/js/local-time.js`, only rewrites each UTC `<time datetime>` in
//! the reader's time zone):
//!
//! | route | page |
//! |---|---|
//! | `GET /elections/{id}/board` | description, fingerprint, key, trustees, head of the record, the ballots (newest first, `?page=` or `?before=`, each marked as its credential's last ballot or as replaced by a later one, not counted: spec §11.7), tracker lookup (`?tracker=`, which says the same) |
//! | `GET /elections/{id}/result` | the result per question: a bar chart (inline SVG) and the same numbers in a table; for a ranked or graded question, its count as the verified `result` holds it ([`super::mixed`]) |
//! | `GET /elections/{id}/verify` | the in-browser verifier (`web/pages/verify.html`), once the election is known to exist |
//!
//! The state is read as the JSON API reads it ([`crate::protocol::api`]): the election's
//! verified [`RecordState`](scrutin_election::verify::RecordState) under its lock, the ballot
//! index in storage. Every value is escaped ([`super::html`]); the language follows
//! [`super::i18n::negotiate`]. An unknown election gets an HTML 404 page.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use scrutin_election::Hash32;
use scrutin_election::definition::ElectionDefinition;
use scrutin_election::tally::ElectionResult;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::chart::{Bar, bar_chart};
use super::html::Html;
use super::i18n::{LANGUAGES, Messages, iso_time, language_cookie, negotiate, utc_time};
use crate::http::error::ApiError;
use crate::protocol::TrusteeProgress;
use crate::protocol::voter::{BallotRef, replaced_by, tracker_status};
use crate::state::AppState;
use crate::storage::{ElectionMeta, ElectionState, blocking};

/// Ballots per page of the board.
pub const PAGE_SIZE: usize = 50;

/// The query parameters of the public pages (unknown ones are ignored).
#[derive(Debug, Default, Deserialize)]
pub struct PageQuery {
    pub(super) lang: Option<String>,
    tracker: Option<String>,
    page: Option<String>,
    before: Option<String>,
}

/// The request's language and its messages.
pub(super) struct Lang {
    pub(super) m: Messages,
    /// `?lang=` was given: the response remembers it in the `lang` cookie.
    pub(super) set_cookie: bool,
}

pub(super) async fn language(app: &AppState, query: &PageQuery, headers: &HeaderMap) -> Lang {
    let (code, set_cookie) = negotiate(query.lang.as_deref(), headers);
    Lang {
        m: Messages::load(app, code, &["public"]).await,
        set_cookie,
    }
}

pub(super) fn query_of(q: Result<Query<PageQuery>, QueryRejection>) -> PageQuery {
    q.map(|Query(q)| q).unwrap_or_default()
}

/// What the pages show of one election, from its published view (no wait behind appends).
struct Snapshot {
    meta: ElectionMeta,
    definition: Option<ElectionDefinition>,
    stage: &'static str,
    fingerprint: Option<String>,
    election_key: Option<String>,
    head: String,
    events: u64,
    credentials: Option<u64>,
    weighted: bool,
    ballots: u64,
    counted: u64,
    trustees: Vec<TrusteeProgress>,
    result: Option<ElectionResult>,
}

async fn snapshot(app: &AppState, id: &str) -> Result<Snapshot, ApiError> {
    let meta = crate::protocol::election_meta(app, id).await?;
    let v = app.elections.view(app, id).await?;
    Ok(Snapshot {
        definition: v.definition.as_deref().cloned(),
        stage: v.stage.name(),
        fingerprint: v.fingerprint.map(|f| f.to_hex()),
        election_key: v.election_key.clone(),
        head: v.head.to_hex(),
        events: v.events,
        credentials: v.credentials,
        weighted: v.weighted,
        ballots: v.ballots,
        counted: v.counted,
        trustees: v.trustees.as_ref().clone(),
        result: v.result.as_deref().cloned(),
        meta,
    })
}

// ---- responses ----

/// A page, with its language cookie when `?lang=` chose it.
pub(super) fn html_response(
    status: StatusCode,
    body: String,
    lang: &Lang,
    cache: &'static str,
) -> Response {
    let mut resp = (status, body).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    h.insert(
        header::VARY,
        HeaderValue::from_static("Accept-Language, Cookie"),
    );
    if lang.set_cookie
        && let Ok(v) = HeaderValue::from_str(&language_cookie(lang.m.lang))
    {
        h.insert(header::SET_COOKIE, v);
    }
    resp
}

/// A page that changes with every event: revalidated at each use (`no-cache`) with a
/// strong ETag of its bytes, so that a reload costs one render and no transfer, and a
/// voter never sees a board older than the ballot just cast.
fn fresh_page(body: String, lang: &Lang, headers: &HeaderMap) -> Response {
    let etag = format!(
        "\"{}\"",
        hex::encode(&Sha256::digest(body.as_bytes())[..16])
    );
    let matches = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag));
    let mut resp = if matches {
        html_response(
            StatusCode::NOT_MODIFIED,
            String::new(),
            lang,
            "private, no-cache",
        )
    } else {
        html_response(StatusCode::OK, body, lang, "private, no-cache")
    };
    if let Ok(v) = HeaderValue::from_str(&etag) {
        resp.headers_mut().insert(header::ETAG, v);
    }
    resp
}

/// The page of a failure: 404 says the election does not exist, anything else says what
/// went wrong in general terms (the details are in the server's log).
pub(super) fn error_page(lang: &Lang, err: &ApiError) -> Response {
    let m = &lang.m;
    let (title, heading, text) = if err.status == StatusCode::NOT_FOUND {
        (
            m.t("public.not_found_title").to_owned(),
            m.t("public.not_found_heading").to_owned(),
            m.t("public.not_found_text").to_owned(),
        )
    } else {
        (
            m.t("public.error_title").to_owned(),
            m.t("public.error_heading").to_owned(),
            m.tv("public.error_text", &[("status", err.status.as_str())]),
        )
    };
    let body = layout(m, &title, None, "", |h| {
        h.elem("h1", &[], &heading);
        h.elem("p", &[], &text);
        h.open("p", &[]);
        h.elem("a", &[("href", "/")], m.t("public.home"));
        h.close("p");
    });
    let mut resp = html_response(err.status, body, lang, "no-store");
    if let Some(secs) = err.retry_after
        && let Ok(v) = HeaderValue::from_str(&secs.to_string())
    {
        resp.headers_mut().insert(header::RETRY_AFTER, v);
    }
    resp
}

// ---- layout ----

/// Where a page sits among an election's pages, for the navigation links.
struct Nav<'a> {
    id: &'a str,
    current: &'static str,
    open: bool,
}

/// A whole page: head, header with the language switch, the election's links, `main`
/// written by `body`, footer. `keep` is the query (already URL-safe) the language links
/// keep, e.g. `&page=2`.
fn layout(
    m: &Messages,
    title: &str,
    nav: Option<Nav<'_>>,
    keep: &str,
    body: impl FnOnce(&mut Html),
) -> String {
    let mut h = Html::new();
    h.raw("<!doctype html>\n");
    h.open("html", &[("lang", m.lang)]);
    h.raw("<head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">");
    h.elem("title", &[], title);
    h.raw("<link rel=\"stylesheet\" href=\"/static/scrutin.css\">");
    // Rewrites each <time datetime> (written in UTC) in the reader's time zone.
    h.raw("<script type=\"module\" src=\"/static/js/local-time.js\"></script>");
    h.raw("</head><body class=\"public\">");
    h.elem(
        "a",
        &[("class", "skip-link"), ("href", "#main")],
        m.t("common.skip"),
    );
    h.raw("<header class=\"site\">");
    h.elem(
        "a",
        &[("class", "brand"), ("href", "/")],
        m.t("common.site"),
    );
    h.open(
        "nav",
        &[
            ("class", "lang-switch"),
            ("id", "lang-switch"),
            ("aria-label", m.t("common.language")),
        ],
    );
    language_links(&mut h, m, keep);
    h.close("nav");
    h.raw("</header>");
    if let Some(nav) = nav {
        h.open(
            "nav",
            &[
                ("class", "election-nav"),
                ("aria-label", m.t("public.nav_label")),
            ],
        );
        h.raw("<ul>");
        let base = format!("/elections/{}", nav.id);
        let mut links = Vec::new();
        if nav.open {
            links.push(("vote", base.clone(), m.t("common.nav_vote")));
        }
        links.push(("board", format!("{base}/board"), m.t("common.nav_board")));
        links.push(("result", format!("{base}/result"), m.t("public.nav_result")));
        links.push(("verify", format!("{base}/verify"), m.t("common.nav_verify")));
        for (name, href, text) in links {
            h.raw("<li>");
            if name == nav.current {
                h.elem("a", &[("href", &href), ("aria-current", "page")], text);
            } else {
                h.elem("a", &[("href", &href)], text);
            }
            h.raw("</li>");
        }
        h.raw("</ul>");
        h.close("nav");
    }
    h.open("main", &[("id", "main")]);
    body(&mut h);
    h.close("main");
    h.raw("<footer class=\"site\">");
    h.elem("p", &[], m.t("common.footer"));
    h.raw("</footer></body></html>\n");
    h.finish()
}

/// Opens the box of a table that may scroll sideways on a narrow screen: a named region
/// that takes the keyboard focus, so that it can be scrolled without a mouse.
fn scroll_box(h: &mut Html, label: &str) {
    h.open(
        "div",
        &[
            ("class", "table-scroll"),
            ("tabindex", "0"),
            ("role", "region"),
            ("aria-label", label),
        ],
    );
}

/// `<h1>` with a small line above the election's title.
fn heading(h: &mut Html, kicker: &str, title: &str) {
    h.raw("<h1>");
    h.elem("span", &[("class", "kicker")], kicker);
    h.text(" ");
    h.text(title);
    h.raw("</h1>");
}

fn title_of(s: &Snapshot) -> &str {
    s.definition
        .as_ref()
        .map(|d| d.title.as_str())
        .unwrap_or(s.meta.id.as_str())
}

/// The description, one paragraph per blank-line-separated block, line breaks kept.
fn description(h: &mut Html, text: &str) {
    for para in text.split("\n\n").map(str::trim).filter(|p| !p.is_empty()) {
        h.elem("p", &[("class", "description")], para);
    }
}

fn fact(h: &mut Html, name: &str, value: &str, class: &'static str, field: &'static str) {
    h.elem("dt", &[], name);
    if class.is_empty() {
        h.elem("dd", &[("data-field", field)], value);
    } else {
        h.elem("dd", &[("class", class), ("data-field", field)], value);
    }
}

fn time_fact(h: &mut Html, m: &Messages, name: &str, at: Option<i64>, field: &'static str) {
    h.elem("dt", &[], name);
    h.open("dd", &[("data-field", field)]);
    match at {
        Some(t) => {
            h.elem("time", &[("datetime", &iso_time(t))], &utc_time(t));
        }
        None => {
            h.text(m.t("public.not_scheduled"));
        }
    }
    h.close("dd");
}

fn state_text(m: &Messages, state: ElectionState) -> &str {
    m.t(match state {
        ElectionState::Draft => "public.state_draft",
        ElectionState::Open => "public.state_open",
        ElectionState::Closed => "public.state_closed",
        ElectionState::Tallied => "public.state_tallied",
        ElectionState::Archived => "public.state_archived",
    })
}

fn stage_text<'a>(m: &'a Messages, stage: &str) -> &'a str {
    m.t(match stage {
        "setup" => "public.stage_setup",
        "open" => "public.stage_open",
        "closed" => "public.stage_closed",
        _ => "public.stage_tallied",
    })
}

/// Links to the record, the verifier and the command line.
fn verify_section(h: &mut Html, m: &Messages, app: &AppState, id: &str, heading_key: &str) {
    h.elem("h2", &[("id", "verify")], m.t(heading_key));
    h.elem("p", &[], m.t("public.verify_intro"));
    h.raw("<ul class=\"links\">");
    h.raw("<li>");
    h.elem(
        "a",
        &[
            ("href", &format!("/elections/{id}/verify")),
            ("data-link", "verify"),
        ],
        m.t("public.verify_in_browser"),
    );
    h.raw("</li><li>");
    h.elem(
        "a",
        &[
            ("href", &format!("/api/elections/{id}/record")),
            ("download", &format!("{id}-record.jsonl")),
            ("data-link", "record"),
        ],
        m.t("public.download_record"),
    );
    h.raw("</li></ul>");
    h.elem("p", &[], m.t("public.cli_intro"));
    let command = format!(
        "curl -s {}/api/elections/{id}/record > record.jsonl && scrutin verify record.jsonl",
        app.config.public_url
    );
    h.raw("<pre class=\"command\"><code>");
    h.text(&command);
    h.raw("</code></pre>");
}

// ---- the board ----

/// Where the list of ballots starts.
enum Window {
    /// Page `n` (1-based) of `pages`.
    Page { n: u64, pages: u64 },
    /// The ballots before this sequence number.
    Before(u64),
}

enum Lookup {
    Found {
        tracker: String,
        seq: u64,
        replaced_by: Option<BallotRef>,
    },
    NotFound {
        tracker: String,
    },
    Malformed {
        text: String,
    },
}

/// `GET /elections/{id}/board`.
pub async fn board(
    State(app): State<AppState>,
    Path(id): Path<String>,
    query: Result<Query<PageQuery>, QueryRejection>,
    headers: HeaderMap,
) -> Response {
    let q = query_of(query);
    let lang = language(&app, &q, &headers).await;
    match board_page(&app, &id, &q, &lang.m).await {
        Ok(body) => fresh_page(body, &lang, &headers),
        Err(e) => error_page(&lang, &e),
    }
}

async fn board_page(
    app: &AppState,
    id: &str,
    q: &PageQuery,
    m: &Messages,
) -> Result<String, ApiError> {
    let s = snapshot(app, id).await?;
    let pages = s.ballots.div_ceil(PAGE_SIZE as u64).max(1);
    let before = q
        .before
        .as_deref()
        .and_then(|b| b.trim().parse::<u64>().ok());
    let window = match before {
        Some(b) => Window::Before(b),
        None => {
            let n = q
                .page
                .as_deref()
                .and_then(|p| p.trim().parse::<u64>().ok())
                .unwrap_or(1)
                .clamp(1, pages);
            Window::Page { n, pages }
        }
    };
    let (skip, before) = match window {
        Window::Page { n, .. } => ((n - 1) * PAGE_SIZE as u64, None),
        Window::Before(b) => (0, Some(b)),
    };
    let eid = id.to_owned();
    let rows = blocking(&app.storage, move |st| {
        st.ballots_newest_first(&eid, before, skip, PAGE_SIZE)
    })
    .await?;
    let lookup = match q.tracker.as_deref().map(str::trim) {
        None => None,
        Some(text) => match Hash32::from_hex(text) {
            Err(_) => Some(Lookup::Malformed {
                text: text.chars().take(200).collect(),
            }),
            Ok(t) => {
                let tracker = t.to_hex();
                Some(match tracker_status(app, id, &t).await? {
                    Some(st) => Lookup::Found {
                        tracker,
                        seq: st.seq,
                        replaced_by: st.replaced_by,
                    },
                    None => Lookup::NotFound { tracker },
                })
            }
        },
    };
    // Which of the listed ballots a later ballot of the same credential replaced (§11.7).
    let replaced = replaced_by(app, id, rows.iter().map(|(seq, _)| *seq).collect()).await?;
    let found_seq = match &lookup {
        Some(Lookup::Found { seq, .. }) => Some(*seq),
        _ => None,
    };
    // The language links keep where the reader is.
    let mut keep = String::new();
    match window {
        Window::Page { n, .. } if n > 1 => keep.push_str(&format!("&page={n}")),
        Window::Before(b) => keep.push_str(&format!("&before={b}")),
        Window::Page { .. } => {}
    }
    match &lookup {
        Some(Lookup::Found { tracker, .. } | Lookup::NotFound { tracker }) => {
            keep.push_str(&format!("&tracker={tracker}"));
        }
        Some(Lookup::Malformed { .. }) | None => {}
    }

    let title = title_of(&s).to_owned();
    let page_title = m.tv("public.board_title", &[("title", &title)]);
    let nav = Nav {
        id,
        current: "board",
        open: s.meta.state == ElectionState::Open,
    };
    Ok(layout(m, &page_title, Some(nav), &keep, |h| {
        heading(h, m.t("public.board_kicker"), &title);
        if let Some(d) = &s.definition {
            description(h, &d.description);
        }

        // Lookup first: most visitors come with a tracker.
        h.open(
            "section",
            &[("id", "lookup"), ("aria-labelledby", "lookup-heading")],
        );
        h.elem(
            "h2",
            &[("id", "lookup-heading")],
            m.t("public.lookup_heading"),
        );
        h.elem("p", &[], m.t("public.lookup_intro"));
        let action = format!("/elections/{id}/board#lookup");
        h.open(
            "form",
            &[("method", "get"), ("action", &action), ("class", "lookup")],
        );
        h.elem("label", &[("for", "tracker")], m.t("public.lookup_label"));
        let value = match &lookup {
            Some(Lookup::Found { tracker, .. } | Lookup::NotFound { tracker }) => tracker.clone(),
            Some(Lookup::Malformed { text }) => text.clone(),
            None => String::new(),
        };
        let mut attrs = vec![
            ("id", "tracker"),
            ("name", "tracker"),
            ("type", "text"),
            ("class", "tracker"),
            ("autocomplete", "off"),
            ("autocapitalize", "none"),
            ("spellcheck", "false"),
            ("inputmode", "text"),
            ("maxlength", "200"),
            ("value", value.as_str()),
        ];
        if lookup.is_some() {
            attrs.push(("aria-describedby", "lookup-result"));
        }
        if matches!(lookup, Some(Lookup::Malformed { .. })) {
            attrs.push(("aria-invalid", "true"));
        }
        h.void("input", &attrs);
        h.elem("p", &[("class", "hint")], m.t("public.lookup_hint"));
        h.raw("<div class=\"actions\">");
        h.elem("button", &[("type", "submit")], m.t("public.lookup_button"));
        h.raw("</div>");
        h.close("form");
        match &lookup {
            None => {}
            Some(Lookup::Found {
                seq, replaced_by, ..
            }) => {
                let class = if replaced_by.is_some() {
                    "notice lookup-result"
                } else {
                    "banner-ok lookup-result"
                };
                h.open(
                    "div",
                    &[
                        ("id", "lookup-result"),
                        ("class", class),
                        ("data-found", "true"),
                        ("data-seq", &seq.to_string()),
                        (
                            "data-replaced",
                            if replaced_by.is_some() {
                                "true"
                            } else {
                                "false"
                            },
                        ),
                    ],
                );
                h.elem(
                    "p",
                    &[],
                    &m.tv("public.lookup_found", &[("seq", &seq.to_string())]),
                );
                if let Some(later) = replaced_by {
                    h.elem(
                        "p",
                        &[("class", "replaced-note")],
                        &m.tv("public.lookup_replaced", &[("seq", &later.seq.to_string())]),
                    );
                }
                h.open("p", &[]);
                let show = format!(
                    "/elections/{id}/board?before={}#ballots",
                    seq.saturating_add(1)
                );
                h.elem("a", &[("href", &show)], m.t("public.lookup_show"));
                h.close("p");
                h.close("div");
            }
            Some(Lookup::NotFound { tracker }) => {
                h.open(
                    "div",
                    &[
                        ("id", "lookup-result"),
                        ("class", "error lookup-result"),
                        ("data-found", "false"),
                    ],
                );
                h.elem(
                    "p",
                    &[],
                    &m.tv("public.lookup_not_found", &[("tracker", tracker)]),
                );
                h.elem("p", &[], m.t("public.lookup_not_found_hint"));
                h.close("div");
            }
            Some(Lookup::Malformed { .. }) => {
                h.open(
                    "div",
                    &[
                        ("id", "lookup-result"),
                        ("class", "error lookup-result"),
                        ("data-found", "malformed"),
                    ],
                );
                h.elem("p", &[], m.t("public.lookup_malformed"));
                h.close("div");
            }
        }
        h.close("section");

        h.elem("h2", &[("id", "facts")], m.t("public.facts_heading"));
        h.open("dl", &[("class", "facts")]);
        fact(
            h,
            m.t("public.state"),
            state_text(m, s.meta.state),
            "",
            "state",
        );
        fact(h, m.t("public.stage"), stage_text(m, s.stage), "", "stage");
        time_fact(h, m, m.t("public.opens_at"), s.meta.opens_at, "opens_at");
        time_fact(h, m, m.t("public.closes_at"), s.meta.closes_at, "closes_at");
        match &s.fingerprint {
            Some(f) => fact(
                h,
                m.t("public.fingerprint"),
                f,
                "fingerprint",
                "fingerprint",
            ),
            None => fact(
                h,
                m.t("public.fingerprint"),
                m.t("public.fingerprint_pending"),
                "",
                "fingerprint",
            ),
        }
        match &s.election_key {
            Some(k) => fact(h, m.t("public.election_key"), k, "hash", "election_key"),
            None => fact(
                h,
                m.t("public.election_key"),
                m.t("public.key_pending"),
                "",
                "election_key",
            ),
        }
        let creds = s
            .credentials
            .map(|n| m.number(n))
            .unwrap_or_else(|| m.t("public.credentials_pending").to_owned());
        fact(h, m.t("public.credentials"), &creds, "", "credentials");
        fact(h, m.t("public.events"), &m.number(s.events), "", "events");
        fact(h, m.t("public.head"), &s.head, "hash", "head");
        fact(
            h,
            m.t("public.ballots"),
            &m.number(s.ballots),
            "",
            "ballots",
        );
        fact(
            h,
            m.t("public.ballots_counted"),
            &m.number(s.counted),
            "",
            "ballots_counted",
        );
        h.close("dl");
        if s.fingerprint.is_some() {
            h.elem("p", &[("class", "hint")], m.t("public.fingerprint_hint"));
        }

        h.open(
            "section",
            &[("id", "ballots"), ("aria-labelledby", "ballots-heading")],
        );
        h.elem(
            "h2",
            &[("id", "ballots-heading")],
            m.t("public.ballots_heading"),
        );
        h.elem("p", &[], m.t("public.ballots_intro"));
        if let Window::Before(b) = window {
            h.elem(
                "p",
                &[("class", "muted")],
                &m.tv("public.ballots_before", &[("seq", &b.to_string())]),
            );
        }
        if rows.is_empty() {
            h.elem("p", &[("class", "muted")], m.t("public.no_ballots"));
        } else {
            scroll_box(h, m.t("public.ballots_table"));
            h.raw("<table class=\"ballots\">");
            h.elem(
                "caption",
                &[("class", "visually-hidden")],
                m.t("public.ballots_heading"),
            );
            h.raw("<thead><tr>");
            h.elem(
                "th",
                &[("scope", "col"), ("class", "num")],
                m.t("public.col_seq"),
            );
            h.elem("th", &[("scope", "col")], m.t("public.col_tracker"));
            h.elem("th", &[("scope", "col")], m.t("public.col_status"));
            h.raw("</tr></thead><tbody>");
            for ((seq, tracker), later) in rows.iter().zip(&replaced) {
                let class = match (Some(*seq) == found_seq, later.is_some()) {
                    (true, true) => "found replaced",
                    (true, false) => "found",
                    (false, true) => "replaced",
                    (false, false) => "",
                };
                let mut attrs = Vec::new();
                if !class.is_empty() {
                    attrs.push(("class", class));
                }
                if Some(*seq) == found_seq {
                    attrs.push(("aria-current", "true"));
                }
                h.open("tr", &attrs);
                h.elem("td", &[("class", "num")], &seq.to_string());
                h.elem("td", &[("class", "tracker")], tracker);
                match later {
                    Some(l) => {
                        h.elem(
                            "td",
                            &[("class", "muted"), ("data-replaced-by", &l.seq.to_string())],
                            &m.tv("public.status_replaced", &[("seq", &l.seq.to_string())]),
                        );
                    }
                    None => {
                        h.elem("td", &[], m.t("public.status_last"));
                    }
                }
                h.raw("</tr>");
            }
            h.raw("</tbody></table></div>");
        }
        let base = format!("/elections/{id}/board");
        let alone = rows.is_empty() && matches!(window, Window::Page { n: 1, .. });
        if !alone {
            h.open(
                "nav",
                &[
                    ("class", "pager"),
                    ("aria-label", m.t("public.pager_label")),
                ],
            );
        }
        match window {
            _ if alone => {}
            Window::Page { n, pages } => {
                if n > 1 {
                    let href = if n == 2 {
                        format!("{base}#ballots")
                    } else {
                        format!("{base}?page={}#ballots", n - 1)
                    };
                    h.elem(
                        "a",
                        &[("href", &href), ("rel", "prev")],
                        m.t("public.newer"),
                    );
                }
                h.elem(
                    "span",
                    &[],
                    &m.tv(
                        "public.page_of",
                        &[("page", &n.to_string()), ("pages", &pages.to_string())],
                    ),
                );
                if n < pages {
                    let href = format!("{base}?page={}#ballots", n + 1);
                    h.elem(
                        "a",
                        &[("href", &href), ("rel", "next")],
                        m.t("public.older"),
                    );
                }
            }
            Window::Before(_) => {
                h.elem(
                    "a",
                    &[("href", &format!("{base}#ballots"))],
                    m.t("public.newest"),
                );
                if let Some((last, _)) = rows.last()
                    && rows.len() == PAGE_SIZE
                {
                    let href = format!("{base}?before={last}#ballots");
                    h.elem(
                        "a",
                        &[("href", &href), ("rel", "next")],
                        m.t("public.older"),
                    );
                }
            }
        }
        if !alone {
            h.close("nav");
        }
        h.close("section");

        if let Some(d) = &s.definition {
            h.elem("h2", &[("id", "trustees")], m.t("public.trustees_heading"));
            h.elem(
                "p",
                &[],
                &m.tv(
                    "public.trustees_threshold",
                    &[
                        ("k", &d.threshold.to_string()),
                        ("n", &d.trustees.len().to_string()),
                    ],
                ),
            );
            scroll_box(h, m.t("public.trustees_table"));
            h.raw("<table class=\"trustees\">");
            h.elem(
                "caption",
                &[("class", "visually-hidden")],
                m.t("public.trustees_heading"),
            );
            h.raw("<thead><tr>");
            for key in [
                "public.trustee",
                "public.t_committed",
                "public.t_dealt",
                "public.t_checked",
                "public.t_share",
            ] {
                h.elem("th", &[("scope", "col")], m.t(key));
            }
            h.raw("</tr></thead><tbody>");
            for t in &s.trustees {
                h.raw("<tr>");
                h.open("th", &[("scope", "row")]);
                h.text(&t.name);
                h.text(" ");
                h.elem("code", &[("class", "muted")], &t.key_fingerprint);
                if t.complained {
                    h.text(" ");
                    h.elem("span", &[("class", "bad")], m.t("public.no_share"));
                }
                h.close("th");
                for done in [t.committed, t.dealt, t.checked, t.decryption_share] {
                    if done {
                        h.elem("td", &[("class", "ok")], m.t("public.done"));
                    } else {
                        h.elem("td", &[("class", "muted")], m.t("public.not_yet"));
                    }
                }
                h.raw("</tr>");
            }
            h.raw("</tbody></table></div>");
        }

        verify_section(h, m, app, id, "public.verify_heading");
        h.open("p", &[]);
        h.elem(
            "a",
            &[("href", &format!("/elections/{id}/result"))],
            m.t("public.see_result"),
        );
        h.close("p");
    }))
}

// ---- the result ----

/// `GET /elections/{id}/result`.
pub async fn result(
    State(app): State<AppState>,
    Path(id): Path<String>,
    query: Result<Query<PageQuery>, QueryRejection>,
    headers: HeaderMap,
) -> Response {
    let q = query_of(query);
    let lang = language(&app, &q, &headers).await;
    match result_page(&app, &id, &lang.m).await {
        Ok(body) => fresh_page(body, &lang, &headers),
        Err(e) => error_page(&lang, &e),
    }
}

async fn result_page(app: &AppState, id: &str, m: &Messages) -> Result<String, ApiError> {
    let s = snapshot(app, id).await?;
    let title = title_of(&s).to_owned();
    let page_title = m.tv("public.result_title", &[("title", &title)]);
    let nav = Nav {
        id,
        current: "result",
        open: s.meta.state == ElectionState::Open,
    };
    Ok(layout(m, &page_title, Some(nav), "", |h| {
        heading(h, m.t("public.result_kicker"), &title);
        let (Some(def), Some(result)) = (&s.definition, &s.result) else {
            h.open("div", &[("class", "notice"), ("id", "not-published")]);
            h.elem("p", &[], m.t("public.not_published"));
            let when = match s.stage {
                "setup" => m.t("public.when_setup"),
                "open" => m.t("public.when_open"),
                _ => m.t("public.when_closed"),
            };
            match (s.stage, s.meta.closes_at) {
                ("open", Some(t)) => {
                    // "… after {time}": the time as a <time> element that the page localises.
                    let text = m.t("public.when_open_scheduled");
                    let (before, after) = text.split_once("{time}").unwrap_or((text, ""));
                    h.open("p", &[]);
                    h.text(before);
                    h.elem("time", &[("datetime", &iso_time(t))], &utc_time(t));
                    h.text(after);
                    h.close("p");
                }
                _ => {
                    h.elem("p", &[], when);
                }
            }
            h.close("div");
            h.open("dl", &[("class", "facts")]);
            fact(
                h,
                m.t("public.state"),
                state_text(m, s.meta.state),
                "",
                "state",
            );
            fact(
                h,
                m.t("public.ballots"),
                &m.number(s.ballots),
                "",
                "ballots",
            );
            h.close("dl");
            h.open("p", &[]);
            h.elem(
                "a",
                &[("href", &format!("/elections/{id}/board"))],
                m.t("public.see_board"),
            );
            h.close("p");
            return;
        };
        h.open("dl", &[("class", "facts")]);
        fact(
            h,
            m.t("public.state"),
            state_text(m, s.meta.state),
            "",
            "state",
        );
        fact(
            h,
            m.t("public.ballots_counted"),
            &m.number(result.ballots_counted),
            "",
            "ballots_counted",
        );
        if s.weighted {
            fact(
                h,
                m.t("public.total_weight"),
                &m.number(result.total_weight),
                "",
                "total_weight",
            );
        }
        let trustees: Vec<String> = result
            .trustees
            .iter()
            .map(|i| {
                def.trustees
                    .get((*i as usize).saturating_sub(1))
                    .map(|t| t.name.clone())
                    .unwrap_or_else(|| i.to_string())
            })
            .collect();
        fact(
            h,
            m.t("public.decrypted_by"),
            &trustees.join(", "),
            "",
            "trustees",
        );
        if let Some(f) = &s.fingerprint {
            fact(
                h,
                m.t("public.fingerprint"),
                f,
                "fingerprint",
                "fingerprint",
            );
        }
        h.close("dl");
        if s.weighted {
            h.elem("p", &[("class", "hint")], m.t("public.weighted_hint"));
        }
        h.open("ul", &[("class", "links")]);
        h.raw("<li>");
        h.elem(
            "a",
            &[
                ("href", &format!("/elections/{id}/report")),
                ("data-link", "report"),
            ],
            m.t("public.report_link"),
        );
        h.raw("</li><li>");
        h.elem(
            "a",
            &[
                ("href", &format!("/api/elections/{id}/result.csv")),
                ("download", &format!("{id}-result.csv")),
                ("data-link", "result-csv"),
            ],
            m.t("public.download_result_csv"),
        );
        h.raw("</li>");
        h.close("ul");

        for (i, (question, counts)) in def.questions.iter().zip(&result.questions).enumerate() {
            let n = i + 1;
            let qid = format!("q{n}");
            let heading_id = format!("q{n}-heading");
            h.open(
                "section",
                &[
                    ("class", "question"),
                    ("aria-labelledby", &heading_id),
                    ("data-question", &n.to_string()),
                ],
            );
            h.elem("h2", &[("id", &heading_id)], &question.text);
            if question.is_mixed() {
                let position = def
                    .questions
                    .iter()
                    .take(i)
                    .filter(|q| q.is_mixed())
                    .count();
                match result.mixed.as_ref().and_then(|ms| ms.get(position)) {
                    Some(mixed) => super::mixed::question_section(h, m, id, n, question, mixed),
                    None => {
                        h.elem("p", &[("class", "notice")], m.t("public.not_published"));
                    }
                }
                h.close("section");
                continue;
            }
            // Shares: of the ballots counted (weighted) when each answer takes 0 or 1; of all
            // the points given when an answer may take more.
            let points = question.max_per_answer > 1;
            let answers_whole = if points {
                counts
                    .choices
                    .iter()
                    .fold(0u64, |a, c| a.saturating_add(*c))
            } else {
                result.total_weight
            };
            let mut bars: Vec<Bar> = question
                .answers
                .iter()
                .zip(&counts.choices)
                .map(|(answer, count)| Bar {
                    label: answer.clone(),
                    value: *count,
                    whole: answers_whole,
                    value_text: format!(
                        "{} ({})",
                        m.number(*count),
                        m.percent(*count, answers_whole)
                    ),
                    blank: false,
                })
                .collect();
            if let Some(blank) = counts.blank {
                bars.push(Bar {
                    label: m.t("public.blank").to_owned(),
                    value: blank,
                    whole: result.total_weight,
                    value_text: format!(
                        "{} ({})",
                        m.number(blank),
                        m.percent(blank, result.total_weight)
                    ),
                    blank: true,
                });
            }
            let desc = bars
                .iter()
                .map(|b| {
                    m.tv(
                        "public.chart_item",
                        &[("answer", &b.label), ("value", &b.value_text)],
                    )
                })
                .collect::<Vec<_>>()
                .join("; ");
            let chart_title = m.tv("public.chart_title", &[("question", &question.text)]);
            h.raw("<figure class=\"chart-figure\">");
            bar_chart(h, &format!("{qid}-chart"), &chart_title, &desc, &bars);
            h.raw("</figure>");

            let count_key = if points {
                "public.col_points"
            } else if s.weighted {
                "public.col_weighted"
            } else {
                "public.col_count"
            };
            scroll_box(
                h,
                &m.tv("public.result_table", &[("question", &question.text)]),
            );
            h.raw("<table class=\"result\">");
            h.elem(
                "caption",
                &[],
                &m.tv("public.table_caption", &[("question", &question.text)]),
            );
            h.raw("<thead><tr>");
            h.elem("th", &[("scope", "col")], m.t("public.col_answer"));
            h.elem("th", &[("scope", "col"), ("class", "num")], m.t(count_key));
            h.elem(
                "th",
                &[("scope", "col"), ("class", "num")],
                m.t("public.col_share"),
            );
            h.raw("</tr></thead><tbody>");
            for (answer, count) in question.answers.iter().zip(&counts.choices) {
                h.open("tr", &[("data-kind", "answer")]);
                h.elem("th", &[("scope", "row")], answer);
                h.elem(
                    "td",
                    &[("class", "num"), ("data-value", &count.to_string())],
                    &m.number(*count),
                );
                h.elem("td", &[("class", "num")], &m.percent(*count, answers_whole));
                h.raw("</tr>");
            }
            if let Some(blank) = counts.blank {
                h.open("tr", &[("data-kind", "blank")]);
                h.elem("th", &[("scope", "row")], m.t("public.blank"));
                h.elem(
                    "td",
                    &[("class", "num"), ("data-value", &blank.to_string())],
                    &m.number(blank),
                );
                h.elem(
                    "td",
                    &[("class", "num")],
                    &m.percent(blank, result.total_weight),
                );
                h.raw("</tr>");
            }
            h.raw("</tbody></table></div>");
            let share_key = if points {
                "public.share_points"
            } else if s.weighted {
                "public.share_weight"
            } else {
                "public.share_ballots"
            };
            if question.max > 1 && !points {
                h.elem(
                    "p",
                    &[("class", "hint")],
                    &format!("{} {}", m.t(share_key), m.t("public.share_several")),
                );
            } else {
                h.elem("p", &[("class", "hint")], m.t(share_key));
            }
            h.close("section");
        }

        verify_section(h, m, app, id, "public.verify_result_heading");
    }))
}

// ---- the verifier page ----

/// `GET /elections/{id}/verify`: the static page, once the election is known to exist.
pub async fn verify(
    State(app): State<AppState>,
    Path(id): Path<String>,
    query: Result<Query<PageQuery>, QueryRejection>,
    headers: HeaderMap,
) -> Response {
    match crate::protocol::election_meta(&app, &id).await {
        Ok(_) => super::serve_file(&app, "pages/verify.html", &headers).await,
        Err(e) => {
            let q = query_of(query);
            let lang = language(&app, &q, &headers).await;
            error_page(&lang, &e)
        }
    }
}

/// One link per language to this page in that language (`?lang=…`, then `keep`: the rest
/// of the query to carry over), the current one marked; for a language switch's `<nav>`.
pub(super) fn language_links(h: &mut Html, m: &Messages, keep: &str) {
    for (code, name) in LANGUAGES {
        let href = format!("?lang={code}{keep}");
        let mut attrs = vec![
            ("href", href.as_str()),
            ("lang", *code),
            ("hreflang", *code),
        ];
        if *code == m.lang {
            attrs.push(("aria-current", "true"));
        }
        h.elem("a", &attrs, name);
    }
}
