//! `GET /elections/{id}/report`: the election's official report, one self-contained page
//! to print and sign (§11.14 for the result it states, §12 for how to check it).
//!
//! What it says: the title, the questions and answers; when the election was opened,
//! closed and tallied (the times of those steps in the audit log, in UTC); the trustees
//! with their key fingerprints and which of them decrypted; the credential authority; the
//! voters on the list, the credentials, the ballots on the record and counted; the count
//! of each question (for a ranked or graded one, its outcome in brief,
//! [`super::mixed::outcome`]); the election fingerprint, the head and the length of the
//! record; how to verify it; a signature block for the official. Every number is the
//! published view's ([`crate::protocol::view`]), the same the API and the result page give.
//!
//! The page is in the request's language, has no script and loads nothing: its style is
//! inline, with `@media print` rules. Its Content-Security-Policy is the one of every page
//! ([`crate::http::middleware::CSP`]) with that one style's hash added to `style-src`.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use scrutin_election::roles::fingerprint;
use sha2::{Digest, Sha256};

use super::html::Html;
use super::i18n::{Messages, iso_time, utc_time};
use super::public::{Lang, PageQuery, error_page, html_response, language_links, query_of};
use crate::http::error::ApiError;
use crate::http::middleware::CSP;
use crate::state::AppState;
use crate::storage::{ElectionState, blocking};

/// The report's style: readable on screen, one clean document on paper.
const STYLE: &str = "\
body{font:11pt/1.45 Georgia,'Times New Roman',serif;color:#111;background:#fff;margin:0}\
main{max-width:48rem;margin:0 auto;padding:1.5rem}\
h1{font-size:1.6rem;margin:0 0 .3rem}h2{font-size:1.15rem;margin:1.6rem 0 .5rem;border-bottom:1px solid #444;padding-bottom:.15rem}\
h3{font-size:1rem;margin:1rem 0 .3rem}\
.kicker{display:block;font-size:.95rem;font-weight:normal;color:#333}\
dl{display:grid;grid-template-columns:minmax(10rem,auto) minmax(0,1fr);gap:.2rem 1rem;margin:.4rem 0}\
dt{font-weight:bold}dd{margin:0;min-width:0;overflow-wrap:anywhere}\
@media (max-width:30rem){main{padding:1rem}dl{grid-template-columns:minmax(0,1fr)}dd{margin-bottom:.3rem}}\
table{border-collapse:collapse;width:100%;margin:.4rem 0}\
th,td{border:1px solid #777;padding:.2rem .45rem;text-align:left;vertical-align:top}\
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}\
.hash,code,pre{font-family:'DejaVu Sans Mono',Consolas,monospace;font-size:.85em;overflow-wrap:anywhere}\
pre{white-space:pre-wrap;border:1px solid #999;padding:.4rem;background:#f4f4f4}\
.lang a{margin-right:.6rem;color:#0645ad}.lang{font-size:.9rem;margin-bottom:1rem}\
a{color:#0645ad}\
.signature{margin-top:2rem;page-break-inside:avoid;break-inside:avoid}\
.signature p{margin:1.4rem 0 0}.line{display:inline-block;min-width:16rem;border-bottom:1px solid #111}\
.box{height:5rem;border:1px solid #111;margin-top:.4rem}\
@media print{.lang{display:none}main{max-width:none;padding:0}a{color:#111;text-decoration:none}\
h2{break-after:avoid;page-break-after:avoid}table,dl{break-inside:avoid;page-break-inside:avoid}\
pre{background:none}@page{margin:18mm 16mm}}";

/// The Content-Security-Policy of the report: every page's, with the report's style.
fn policy() -> String {
    let hash = base64(&Sha256::digest(STYLE.as_bytes()));
    CSP.replace(
        "style-src 'self'",
        &format!("style-src 'self' 'sha256-{hash}'"),
    )
}

/// Standard base64 with padding (RFC 4648 §4), for the style's hash.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                let index = ((n >> (18 - 6 * i)) & 63) as usize;
                out.push(char::from(ALPHABET[index]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// `GET /elections/{id}/report`.
pub async fn report(
    State(app): State<AppState>,
    Path(id): Path<String>,
    query: Result<Query<PageQuery>, QueryRejection>,
    headers: HeaderMap,
) -> Response {
    let q = query_of(query);
    let (code, set_cookie) = super::i18n::negotiate(q.lang.as_deref(), &headers);
    let lang = Lang {
        m: Messages::load(&app, code, &["public", "report"]).await,
        set_cookie,
    };
    match report_page(&app, &id, &lang.m).await {
        Ok(body) => {
            let mut resp = html_response(StatusCode::OK, body, &lang, "no-cache");
            if let Ok(v) = HeaderValue::from_str(&policy()) {
                resp.headers_mut()
                    .insert(header::CONTENT_SECURITY_POLICY, v);
            }
            resp
        }
        Err(e) => error_page(&lang, &e),
    }
}

/// When the election was opened, closed and tallied: the times of those steps in the audit
/// log.
async fn step_times(app: &AppState, id: &str) -> Result<[Option<i64>; 3], ApiError> {
    let eid = id.to_owned();
    let times = blocking(&app.storage, move |s| {
        let mut times = [None; 3];
        let mut after = 0;
        // The log of one election is read page by page; a bound keeps a runaway log from
        // holding the page (1,000 pages of 500 entries).
        for _ in 0..1000 {
            let page = s.audit_log(Some(&eid), after, 500)?;
            let Some(last) = page.last() else { break };
            after = last.id;
            for e in &page {
                let slot = match e.action.as_str() {
                    "election.open" => 0,
                    "election.close" => 1,
                    "election.tally" => 2,
                    _ => continue,
                };
                times[slot] = Some(e.at);
            }
        }
        Ok(times)
    })
    .await?;
    Ok(times)
}

fn fact(h: &mut Html, name: &str, value: &str, field: &'static str) {
    h.elem("dt", &[], name);
    h.elem("dd", &[("data-field", field)], value);
}

fn hash_fact(h: &mut Html, name: &str, value: &str, field: &'static str) {
    h.elem("dt", &[], name);
    h.elem("dd", &[("class", "hash"), ("data-field", field)], value);
}

fn time_fact(h: &mut Html, m: &Messages, name: &str, at: Option<i64>, field: &'static str) {
    h.elem("dt", &[], name);
    h.open("dd", &[("data-field", field)]);
    match at {
        Some(t) => {
            h.elem("time", &[("datetime", &iso_time(t))], &utc_time(t));
        }
        None => {
            h.text(m.t("report.not_yet"));
        }
    }
    h.close("dd");
}

async fn report_page(app: &AppState, id: &str, m: &Messages) -> Result<String, ApiError> {
    let meta = crate::protocol::election_meta(app, id).await?;
    let v = app.elections.view(app, id).await?;
    let times = step_times(app, id).await?;
    let eid = id.to_owned();
    let (voters, _) = blocking(&app.storage, move |s| s.voter_count(&eid)).await?;
    let def = v.definition.as_deref();
    let title = def.map(|d| d.title.as_str()).unwrap_or(id);
    let base = app.config.public_url.trim_end_matches('/');

    let mut h = Html::new();
    h.raw("<!doctype html>\n");
    h.open("html", &[("lang", m.lang)]);
    h.raw("<head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">");
    h.elem(
        "title",
        &[],
        &m.tv("report.page_title", &[("title", title)]),
    );
    h.raw("<style>");
    h.raw(STYLE);
    h.raw("</style></head><body>");
    h.open("main", &[("id", "main")]);
    h.open(
        "nav",
        &[("class", "lang"), ("aria-label", m.t("common.language"))],
    );
    language_links(&mut h, m, "");
    h.close("nav");
    h.raw("<h1>");
    h.elem("span", &[("class", "kicker")], m.t("report.kicker"));
    h.text(title);
    h.raw("</h1>");
    h.elem("p", &[], &m.tv("report.intro", &[("id", id)]));

    // The election.
    h.elem("h2", &[], m.t("report.election_heading"));
    h.open("dl", &[]);
    fact(&mut h, m.t("report.identifier"), id, "id");
    fact(
        &mut h,
        m.t("report.state"),
        m.t(match meta.state {
            ElectionState::Draft => "public.state_draft",
            ElectionState::Open => "public.state_open",
            ElectionState::Closed => "public.state_closed",
            ElectionState::Tallied => "public.state_tallied",
            ElectionState::Archived => "public.state_archived",
        }),
        "state",
    );
    time_fact(&mut h, m, m.t("report.opened"), times[0], "opened");
    time_fact(&mut h, m, m.t("report.closed"), times[1], "closed");
    time_fact(&mut h, m, m.t("report.tallied"), times[2], "tallied");
    h.close("dl");
    h.elem("p", &[], m.t("report.times_hint"));

    if let Some(def) = def {
        h.elem("h3", &[], m.t("report.questions_heading"));
        h.open("ol", &[]);
        for q in &def.questions {
            h.open("li", &[]);
            h.text(&q.text);
            h.open("ul", &[]);
            for a in &q.answers {
                h.elem("li", &[], a);
            }
            h.close("ul");
            h.close("li");
        }
        h.close("ol");

        // Who held which role.
        h.elem("h2", &[], m.t("report.roles_heading"));
        let decrypting: &[u32] = v.result.as_ref().map_or(&[], |r| r.trustees.as_slice());
        h.elem(
            "p",
            &[],
            &m.tv(
                "report.threshold",
                &[
                    ("threshold", &def.threshold.to_string()),
                    ("trustees", &def.trustees.len().to_string()),
                ],
            ),
        );
        h.raw("<table id=\"trustees\"><caption>");
        h.text(m.t("report.trustees_caption"));
        h.raw("</caption><thead><tr>");
        for key in [
            "report.col_trustee",
            "report.col_name",
            "report.col_key",
            "report.col_decrypted",
        ] {
            h.elem("th", &[("scope", "col")], m.t(key));
        }
        h.raw("</tr></thead><tbody>");
        for (i, t) in def.trustees.iter().enumerate() {
            let index = i as u32 + 1;
            h.open("tr", &[("data-trustee", &index.to_string())]);
            h.elem("td", &[], &index.to_string());
            h.elem("th", &[("scope", "row")], &t.name);
            h.elem("td", &[("class", "hash")], &fingerprint(&t.key));
            let took_part = decrypting.contains(&index);
            h.elem(
                "td",
                &[("data-decrypted", if took_part { "yes" } else { "no" })],
                m.t(if took_part {
                    "report.yes"
                } else if v.result.is_some() {
                    "report.no"
                } else {
                    "report.not_yet"
                }),
            );
            h.raw("</tr>");
        }
        h.raw("</tbody></table>");
        h.open("dl", &[]);
        fact(
            &mut h,
            m.t("report.authority"),
            &def.authority.name,
            "authority",
        );
        hash_fact(
            &mut h,
            m.t("report.authority_key"),
            &fingerprint(&def.authority.key),
            "authority_key",
        );
        h.close("dl");
    }

    // Voters and ballots.
    h.elem("h2", &[], m.t("report.voters_heading"));
    h.open("dl", &[]);
    fact(&mut h, m.t("report.voters"), &m.number(voters), "voters");
    fact(
        &mut h,
        m.t("report.credentials"),
        &v.credentials
            .map_or_else(|| m.t("report.not_yet").to_owned(), |c| m.number(c)),
        "credentials",
    );
    fact(
        &mut h,
        m.t("report.ballots"),
        &m.number(v.ballots),
        "ballots",
    );
    match &v.result {
        Some(r) => {
            fact(
                &mut h,
                m.t("report.ballots_counted"),
                &m.number(r.ballots_counted),
                "ballots_counted",
            );
            if v.weighted {
                fact(
                    &mut h,
                    m.t("public.total_weight"),
                    &m.number(r.total_weight),
                    "total_weight",
                );
            }
        }
        None => fact(
            &mut h,
            m.t("report.ballots_counted"),
            m.t("report.not_yet"),
            "ballots_counted",
        ),
    }
    h.close("dl");
    h.elem("p", &[], m.t("report.voters_hint"));

    // The result.
    h.elem("h2", &[], m.t("report.result_heading"));
    match (def, &v.result) {
        (Some(def), Some(result)) => {
            let mut mixed = result.mixed.iter().flatten();
            for (i, (q, counts)) in def.questions.iter().zip(&result.questions).enumerate() {
                let n = i + 1;
                h.open("section", &[("data-question", &n.to_string())]);
                h.elem(
                    "h3",
                    &[],
                    &m.tv(
                        "report.question_n",
                        &[("n", &n.to_string()), ("question", &q.text)],
                    ),
                );
                if q.is_mixed() {
                    if let Some(mx) = mixed.next() {
                        mixed_summary(&mut h, m, q, mx);
                    }
                    h.close("section");
                    continue;
                }
                h.raw("<table><thead><tr>");
                h.elem("th", &[("scope", "col")], m.t("public.col_answer"));
                h.elem(
                    "th",
                    &[("scope", "col"), ("class", "num")],
                    m.t(if q.max_per_answer > 1 {
                        "public.col_points"
                    } else if v.weighted {
                        "public.col_weighted"
                    } else {
                        "public.col_count"
                    }),
                );
                h.raw("</tr></thead><tbody>");
                for (answer, count) in q.answers.iter().zip(&counts.choices) {
                    h.raw("<tr>");
                    h.elem("th", &[("scope", "row")], answer);
                    h.elem(
                        "td",
                        &[("class", "num"), ("data-value", &count.to_string())],
                        &m.number(*count),
                    );
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
                    h.raw("</tr>");
                }
                h.raw("</tbody></table>");
                h.close("section");
            }
        }
        _ => {
            h.elem("p", &[("id", "no-result")], m.t("public.not_published"));
        }
    }

    // The record.
    h.elem("h2", &[], m.t("report.record_heading"));
    h.open("dl", &[]);
    match &v.fingerprint {
        Some(f) => hash_fact(
            &mut h,
            m.t("public.fingerprint"),
            &f.to_hex(),
            "fingerprint",
        ),
        None => fact(
            &mut h,
            m.t("public.fingerprint"),
            m.t("report.not_yet"),
            "fingerprint",
        ),
    }
    hash_fact(&mut h, m.t("report.head"), &v.head.to_hex(), "head");
    fact(
        &mut h,
        m.t("report.length"),
        &m.tv("report.lines", &[("events", &m.number(v.events))]),
        "length",
    );
    h.close("dl");
    h.elem("p", &[], m.t("report.record_hint"));

    // How to verify.
    h.elem("h2", &[], m.t("report.verify_heading"));
    h.elem("p", &[], m.t("report.verify_cli"));
    let record_url = format!("{base}/api/elections/{id}/record");
    h.raw("<pre><code>");
    h.text(&format!(
        "curl -s {record_url} > record.jsonl\nscrutin verify record.jsonl"
    ));
    h.raw("</code></pre>");
    h.elem("p", &[], m.t("report.verify_page"));
    let page = format!("{base}/elections/{id}/verify");
    h.open("p", &[]);
    h.elem("a", &[("href", &page), ("class", "hash")], &page);
    h.close("p");
    h.elem("p", &[], m.t("report.verify_compare"));

    // The official's signature.
    h.open(
        "section",
        &[
            ("class", "signature"),
            ("aria-labelledby", "signature-heading"),
        ],
    );
    h.elem(
        "h2",
        &[("id", "signature-heading")],
        m.t("report.signature_heading"),
    );
    for key in ["report.drawn_up_on", "report.official", "report.signature"] {
        h.open("p", &[]);
        h.text(m.t(key));
        h.text(" ");
        h.raw("<span class=\"line\"></span>");
        h.close("p");
    }
    h.raw("<div class=\"box\"></div>");
    h.close("section");

    h.close("main");
    h.raw("</body></html>\n");
    Ok(h.finish())
}

/// A ranked or graded question's outcome in brief: valid and invalid ballots, who is
/// elected or wins, the order of the answers.
fn mixed_summary(
    h: &mut Html,
    m: &Messages,
    q: &scrutin_election::definition::Question,
    mx: &scrutin_election::mix::MixedResult,
) {
    let o = super::mixed::outcome(mx);
    h.open("dl", &[]);
    fact(h, m.t("public.valid_ballots"), &m.number(o.valid), "valid");
    fact(
        h,
        m.t("report.invalid_ballots"),
        &m.number(o.invalid),
        "invalid",
    );
    let elected_key = if o.order.is_empty() {
        "public.elected"
    } else {
        "public.winners"
    };
    fact(
        h,
        m.t(elected_key),
        &super::mixed::answer_names(q, &o.elected),
        "elected",
    );
    h.close("dl");
    if !o.order.is_empty() {
        h.elem("p", &[], m.t("public.order_heading"));
        h.open("ol", &[]);
        for group in &o.order {
            h.elem("li", &[], &super::mixed::answer_names(q, group));
        }
        h.close("ol");
    }
    h.elem("p", &[], m.t("report.mixed_hint"));
}
