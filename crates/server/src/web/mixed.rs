//! The ranked and graded questions of the result page (§11.14): the count that the verified
//! `result` holds ([`MixedResult`]), shown as tables and simple charts, and the decrypted
//! ballots for download (`ballots.blt` for STV and IRV, `ballots.csv` for every kind).
//! Nothing is recounted here: every number comes from the verified record.

use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use scrutin_election::count::irv::{IrvOutcome, IrvResult};
use scrutin_election::count::majority_judgment::MajorityJudgmentResult;
use scrutin_election::count::schulze::SchulzeResult;
use scrutin_election::count::stv::{StageAction, Status, StvResult};
use scrutin_election::count::{
    BallotFault, Counted, InvalidBallot, RankedBallot, Tie, TieBreak, blt,
};
use scrutin_election::definition::Question;
use scrutin_election::mix::{CountResult, MixedResult};

use super::chart::{Bar, Segment, bar_chart, stacked_chart};
use super::html::Html;
use super::i18n::Messages;
use crate::csv::csv_row;
use crate::http::error::ApiError;
use crate::state::AppState;

fn name(question: &Question, c: u32) -> String {
    question
        .answers
        .get(c as usize)
        .cloned()
        .unwrap_or_else(|| c.to_string())
}

fn names(question: &Question, cs: &[u32]) -> String {
    cs.iter()
        .map(|c| name(question, *c))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The name of the count's grade `g` (0 = worst; the question lists the best first).
fn grade_name(question: &Question, g: u32) -> String {
    let grades = question.grades.as_deref().unwrap_or(&[]);
    (grades.len() as u64)
        .checked_sub(1)
        .and_then(|top| top.checked_sub(u64::from(g)))
        .and_then(|i| grades.get(i as usize))
        .cloned()
        .unwrap_or_else(|| g.to_string())
}

fn tie_text(m: &Messages, question: &Question, tie: &Tie) -> String {
    let steps: Vec<String> = tie
        .broken_by
        .iter()
        .map(|b| match b {
            TieBreak::EarlierRound { round } => m.tv(
                "public.tie_earlier",
                &[("round", &(u64::from(*round) + 1).to_string())],
            ),
            TieBreak::Lot => m.t("public.tie_lot").to_owned(),
        })
        .collect();
    m.tv(
        "public.tie_text",
        &[
            ("tied", &names(question, &tie.tied)),
            ("steps", &steps.join("; ")),
        ],
    )
}

fn fault_text(m: &Messages, question: &Question, f: &BallotFault) -> String {
    match f {
        BallotFault::WrongLength { .. } => m.t("public.fault_length").to_owned(),
        BallotFault::Blank => m.t("public.fault_blank").to_owned(),
        BallotFault::RankOutOfRange { candidate, .. } => m.tv(
            "public.fault_rank",
            &[("answer", &name(question, *candidate))],
        ),
        BallotFault::Gap { missing } => m.tv("public.fault_gap", &[("rank", &missing.to_string())]),
        BallotFault::Tie { rank } => m.tv("public.fault_tie", &[("rank", &rank.to_string())]),
        BallotFault::GradeOutOfScale { candidate, .. } => m.tv(
            "public.fault_grade",
            &[("answer", &name(question, *candidate))],
        ),
    }
}

fn invalid_section(h: &mut Html, m: &Messages, question: &Question, invalid: &[InvalidBallot]) {
    let total = invalid.iter().fold(0u64, |a, b| a.saturating_add(b.count));
    h.elem(
        "p",
        &[
            ("class", "invalid-count"),
            ("data-invalid", &total.to_string()),
        ],
        &m.tv("public.invalid_ballots", &[("count", &m.number(total))]),
    );
    if invalid.is_empty() {
        return;
    }
    h.open("ul", &[("class", "invalid-list")]);
    for b in invalid {
        h.elem(
            "li",
            &[],
            &m.tv(
                "public.invalid_item",
                &[
                    ("position", &(b.position.saturating_add(1)).to_string()),
                    ("fault", &fault_text(m, question, &b.fault)),
                ],
            ),
        );
    }
    h.close("ul");
}

/// Opens the table of a count's rounds: caption, a column per candidate and `last`, the
/// column of the votes that no longer count (non-transferable for STV, exhausted for IRV).
fn open_rounds_table(h: &mut Html, m: &Messages, question: &Question, last: &str) {
    h.raw("<div class=\"table-scroll\">");
    h.raw("<table class=\"result rounds\">");
    h.elem(
        "caption",
        &[],
        &m.tv("public.rounds_caption", &[("question", &question.text)]),
    );
    h.raw("<thead><tr>");
    th_col(h, m.t("public.col_round"));
    th_col(h, m.t("public.col_action"));
    for a in &question.answers {
        th_col(h, a);
    }
    th_col(h, m.t(last));
    h.raw("</tr></thead><tbody>");
}

fn th_col(h: &mut Html, text: &str) {
    h.elem("th", &[("scope", "col")], text);
}

fn num(h: &mut Html, text: &str) {
    h.elem("td", &[("class", "num")], text);
}

fn order_list(h: &mut Html, m: &Messages, question: &Question, order: &[Vec<u32>], id: &str) {
    h.elem("h3", &[], m.t("public.order_heading"));
    h.open("ol", &[("class", "order"), ("id", id)]);
    for group in order {
        h.elem("li", &[], &names(question, group));
    }
    h.close("ol");
}

/// The outcome of a ranked or graded question in brief, as the result's CSV and the
/// printable report give it (§11.14).
pub struct Outcome {
    /// Ballots the count read as valid.
    pub valid: u64,
    /// Ballots counted as invalid.
    pub invalid: u64,
    /// The elected answers (STV, IRV) or the winners (Schulze, majority judgment).
    pub elected: Vec<u32>,
    /// The order of the answers, best first, equal answers in one group (Schulze,
    /// majority judgment); empty for STV and IRV.
    pub order: Vec<Vec<u32>>,
}

/// The outcome of `mixed` in brief.
pub fn outcome(mixed: &MixedResult) -> Outcome {
    let total = |inv: &[InvalidBallot]| inv.iter().fold(0u64, |a, b| a.saturating_add(b.count));
    match &mixed.count {
        CountResult::Stv(r) => Outcome {
            valid: r.valid_ballots,
            invalid: total(&r.invalid),
            elected: r.elected.clone(),
            order: Vec::new(),
        },
        CountResult::Irv(r) => Outcome {
            valid: r.valid_ballots,
            invalid: total(&r.invalid),
            elected: vec![r.elected],
            order: Vec::new(),
        },
        CountResult::Schulze(r) => Outcome {
            valid: r.valid_ballots,
            invalid: total(&r.invalid),
            elected: r.winners().to_vec(),
            order: r.order.clone(),
        },
        CountResult::MajorityJudgment(r) => Outcome {
            valid: r.valid_ballots,
            invalid: total(&r.invalid),
            elected: r.order.first().cloned().unwrap_or_default(),
            order: r.order.clone(),
        },
    }
}

/// The names of answers `cs`, joined by commas.
pub fn answer_names(question: &Question, cs: &[u32]) -> String {
    names(question, cs)
}

/// Everything the page shows of one ranked or graded question, after its heading.
pub fn question_section(
    h: &mut Html,
    m: &Messages,
    election: &str,
    n: usize,
    question: &Question,
    mixed: &MixedResult,
) {
    let qid = format!("q{n}");
    h.elem(
        "p",
        &[("class", "ballot-count")],
        &m.tv(
            "public.rows_decrypted",
            &[("count", &m.number(mixed.ballots.len() as u64))],
        ),
    );
    match &mixed.count {
        CountResult::Stv(r) => {
            stv_section(h, m, &qid, question, r);
            invalid_section(h, m, question, &r.invalid);
        }
        CountResult::Irv(r) => {
            irv_section(h, m, &qid, question, r);
            invalid_section(h, m, question, &r.invalid);
        }
        CountResult::Schulze(r) => {
            schulze_section(h, m, &qid, question, r);
            invalid_section(h, m, question, &r.invalid);
        }
        CountResult::MajorityJudgment(r) => {
            mj_section(h, m, &qid, question, r);
            invalid_section(h, m, question, &r.invalid);
        }
    }
    let base = format!("/api/elections/{election}/result/{n}");
    h.open("p", &[("class", "downloads")]);
    if matches!(mixed.count, CountResult::Stv(_) | CountResult::Irv(_)) {
        h.elem(
            "a",
            &[("href", &format!("{base}/ballots.blt")), ("download", "")],
            m.t("public.download_blt"),
        );
        h.text(" · ");
    }
    h.elem(
        "a",
        &[("href", &format!("{base}/ballots.csv")), ("download", "")],
        m.t("public.download_csv"),
    );
    h.close("p");
}

/// A chart of one round: each candidate's votes (in units of 1/100 000 for STV) as a share
/// of the round's total.
fn round_chart(
    h: &mut Html,
    m: &Messages,
    id: &str,
    title: &str,
    question: &Question,
    values: &[(u64, String)],
) {
    let whole = values.iter().fold(0u64, |a, (v, _)| a.saturating_add(*v));
    let bars: Vec<Bar> = values
        .iter()
        .enumerate()
        .map(|(c, (v, text))| Bar {
            label: name(question, c as u32),
            value: *v,
            whole,
            value_text: text.clone(),
            blank: false,
        })
        .collect();
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
    h.raw("<figure class=\"chart-figure\">");
    bar_chart(h, id, title, &desc, &bars);
    h.raw("</figure>");
}

fn stv_section(h: &mut Html, m: &Messages, qid: &str, question: &Question, r: &StvResult) {
    h.open("dl", &[("class", "facts")]);
    h.elem("dt", &[], m.t("public.seats"));
    h.elem("dd", &[], &m.number(u64::from(r.seats)));
    h.elem("dt", &[], m.t("public.valid_ballots"));
    h.elem("dd", &[], &m.number(r.valid_ballots));
    h.elem("dt", &[], m.t("public.quota"));
    h.elem(
        "dd",
        &[("id", &format!("{qid}-quota"))],
        &r.quota.to_string(),
    );
    h.elem("dt", &[], m.t("public.elected"));
    h.elem(
        "dd",
        &[("id", &format!("{qid}-elected"))],
        &names(question, &r.elected),
    );
    h.close("dl");
    let chart = |h: &mut Html, id: &str, key: &str, stage: &scrutin_election::count::stv::Stage| {
        let values: Vec<(u64, String)> = stage.votes.iter().map(|v| (v.0, v.to_string())).collect();
        let title = m.tv(key, &[("question", &question.text)]);
        round_chart(h, m, id, &title, question, &values);
    };
    if let Some(first) = r.stages.first() {
        chart(
            h,
            &format!("{qid}-first"),
            "public.chart_first_round",
            first,
        );
    }
    if r.stages.len() > 1
        && let Some(last) = r.stages.last()
    {
        chart(h, &format!("{qid}-final"), "public.chart_final_round", last);
    }
    open_rounds_table(h, m, question, "public.col_non_transferable");
    for (i, stage) in r.stages.iter().enumerate() {
        h.open("tr", &[("data-round", &(i + 1).to_string())]);
        h.elem("th", &[("scope", "row")], &m.number(i as u64 + 1));
        let mut action = match &stage.action {
            StageAction::FirstPreferences => m.t("public.stage_first").to_owned(),
            StageAction::Surplus {
                candidate,
                surplus,
                transfer_values,
                tie,
            } => {
                let mut t = m.tv(
                    "public.stage_surplus",
                    &[
                        ("answer", &name(question, *candidate)),
                        ("surplus", &surplus.to_string()),
                    ],
                );
                for tv in transfer_values {
                    t.push(' ');
                    t.push_str(&m.tv(
                        "public.transfer_value",
                        &[
                            ("value", &tv.value.to_string()),
                            ("papers", &m.number(tv.papers)),
                            ("received", &tv.received_at.to_string()),
                        ],
                    ));
                }
                if let Some(tie) = tie {
                    t.push(' ');
                    t.push_str(&tie_text(m, question, tie));
                }
                t
            }
            StageAction::Exclusion { candidate, tie } => {
                let mut t = m.tv(
                    "public.stage_excluded",
                    &[("answer", &name(question, *candidate))],
                );
                if let Some(tie) = tie {
                    t.push(' ');
                    t.push_str(&tie_text(m, question, tie));
                }
                t
            }
        };
        if !stage.elected.is_empty() {
            action.push(' ');
            action.push_str(&m.tv(
                "public.stage_elected",
                &[("names", &names(question, &stage.elected))],
            ));
        }
        h.elem("td", &[], &action);
        for (v, st) in stage.votes.iter().zip(&stage.status) {
            let mark = match st {
                Status::Continuing => String::new(),
                Status::Elected => format!(" ({})", m.t("public.status_elected")),
                Status::Excluded => format!(" ({})", m.t("public.status_excluded")),
            };
            num(h, &format!("{v}{mark}"));
        }
        num(h, &stage.non_transferable.to_string());
        h.raw("</tr>");
    }
    h.raw("</tbody></table></div>");
}

fn irv_section(h: &mut Html, m: &Messages, qid: &str, question: &Question, r: &IrvResult) {
    h.open("dl", &[("class", "facts")]);
    h.elem("dt", &[], m.t("public.valid_ballots"));
    h.elem("dd", &[], &m.number(r.valid_ballots));
    h.elem("dt", &[], m.t("public.elected"));
    h.elem(
        "dd",
        &[("id", &format!("{qid}-elected"))],
        &name(question, r.elected),
    );
    h.close("dl");
    let chart = |h: &mut Html, id: &str, key: &str, votes: &[Option<u64>]| {
        let values: Vec<(u64, String)> = votes
            .iter()
            .map(|v| match v {
                Some(v) => (*v, m.number(*v)),
                None => (0, "—".to_owned()),
            })
            .collect();
        let title = m.tv(key, &[("question", &question.text)]);
        round_chart(h, m, id, &title, question, &values);
    };
    if let Some(first) = r.rounds.first() {
        chart(
            h,
            &format!("{qid}-first"),
            "public.chart_first_round",
            &first.votes,
        );
    }
    if r.rounds.len() > 1
        && let Some(last) = r.rounds.last()
    {
        chart(
            h,
            &format!("{qid}-final"),
            "public.chart_final_round",
            &last.votes,
        );
    }
    open_rounds_table(h, m, question, "public.col_exhausted");
    for (i, round) in r.rounds.iter().enumerate() {
        h.open("tr", &[("data-round", &(i + 1).to_string())]);
        h.elem("th", &[("scope", "row")], &m.number(i as u64 + 1));
        let action = match &round.outcome {
            IrvOutcome::ElectedByMajority { candidate }
            | IrvOutcome::ElectedAsLastContinuing { candidate } => m.tv(
                "public.stage_elected",
                &[("names", &name(question, *candidate))],
            ),
            IrvOutcome::Eliminated { candidate, tie } => {
                let mut t = m.tv(
                    "public.stage_excluded",
                    &[("answer", &name(question, *candidate))],
                );
                if let Some(tie) = tie {
                    t.push(' ');
                    t.push_str(&tie_text(m, question, tie));
                }
                t
            }
        };
        h.elem("td", &[], &action);
        for v in &round.votes {
            match v {
                Some(v) => num(h, &m.number(*v)),
                None => num(h, "—"),
            }
        }
        num(h, &m.number(round.exhausted));
        h.raw("</tr>");
    }
    h.raw("</tbody></table></div>");
}

fn matrix(
    h: &mut Html,
    m: &Messages,
    question: &Question,
    caption: &str,
    id: &str,
    cells: &[Vec<u64>],
) {
    h.raw("<div class=\"table-scroll\">");
    h.open("table", &[("class", "result matrix"), ("id", id)]);
    h.elem("caption", &[], caption);
    h.raw("<thead><tr>");
    h.elem("td", &[], "");
    for a in &question.answers {
        th_col(h, a);
    }
    h.raw("</tr></thead><tbody>");
    for (i, row) in cells.iter().enumerate() {
        h.raw("<tr>");
        h.elem("th", &[("scope", "row")], &name(question, i as u32));
        for (j, v) in row.iter().enumerate() {
            if i == j {
                num(h, "—");
            } else {
                num(h, &m.number(*v));
            }
        }
        h.raw("</tr>");
    }
    h.raw("</tbody></table></div>");
}

fn schulze_section(h: &mut Html, m: &Messages, qid: &str, question: &Question, r: &SchulzeResult) {
    h.open("dl", &[("class", "facts")]);
    h.elem("dt", &[], m.t("public.valid_ballots"));
    h.elem("dd", &[], &m.number(r.valid_ballots));
    h.elem("dt", &[], m.t("public.winners"));
    h.elem(
        "dd",
        &[("id", &format!("{qid}-elected"))],
        &names(question, r.winners()),
    );
    h.close("dl");
    order_list(h, m, question, &r.order, &format!("{qid}-order"));
    matrix(
        h,
        m,
        question,
        m.t("public.pairwise_caption"),
        &format!("{qid}-pairwise"),
        &r.pairwise,
    );
    matrix(
        h,
        m,
        question,
        m.t("public.paths_caption"),
        &format!("{qid}-paths"),
        &r.strongest_paths,
    );
    h.elem("p", &[("class", "hint")], m.t("public.schulze_hint"));
}

fn mj_section(
    h: &mut Html,
    m: &Messages,
    qid: &str,
    question: &Question,
    r: &MajorityJudgmentResult,
) {
    h.open("dl", &[("class", "facts")]);
    h.elem("dt", &[], m.t("public.valid_ballots"));
    h.elem("dd", &[], &m.number(r.valid_ballots));
    h.elem("dt", &[], m.t("public.winners"));
    let first = r.order.first().map(Vec::as_slice).unwrap_or(&[]);
    h.elem(
        "dd",
        &[("id", &format!("{qid}-elected"))],
        &names(question, first),
    );
    h.close("dl");
    // Grades from best to worst, as the question lists them.
    let best_first: Vec<u32> = (0..r.grades).rev().collect();
    let rows: Vec<(String, Vec<Segment>)> = r
        .distribution
        .iter()
        .enumerate()
        .map(|(c, dist)| {
            let segments = best_first
                .iter()
                .map(|g| Segment {
                    label: grade_name(question, *g),
                    value: dist.get(*g as usize).copied().unwrap_or(0),
                })
                .collect();
            (name(question, c as u32), segments)
        })
        .collect();
    let desc = rows
        .iter()
        .map(|(answer, segs)| {
            let parts: Vec<String> = segs
                .iter()
                .map(|s| format!("{} {}", s.label, m.number(s.value)))
                .collect();
            m.tv(
                "public.chart_item",
                &[("answer", answer), ("value", &parts.join(", "))],
            )
        })
        .collect::<Vec<_>>()
        .join("; ");
    h.raw("<figure class=\"chart-figure\">");
    stacked_chart(
        h,
        &format!("{qid}-grades"),
        &m.tv("public.grades_chart_title", &[("question", &question.text)]),
        &desc,
        &rows,
        r.valid_ballots,
    );
    h.raw("</figure>");
    h.raw("<div class=\"table-scroll\">");
    h.open(
        "table",
        &[
            ("class", "result grades"),
            ("id", &format!("{qid}-distribution")),
        ],
    );
    h.elem(
        "caption",
        &[],
        &m.tv("public.grades_caption", &[("question", &question.text)]),
    );
    h.raw("<thead><tr>");
    th_col(h, m.t("public.col_answer"));
    for g in &best_first {
        th_col(h, &grade_name(question, *g));
    }
    th_col(h, m.t("public.col_majority_grade"));
    h.raw("</tr></thead><tbody>");
    for (c, dist) in r.distribution.iter().enumerate() {
        h.raw("<tr>");
        h.elem("th", &[("scope", "row")], &name(question, c as u32));
        for g in &best_first {
            num(h, &m.number(dist.get(*g as usize).copied().unwrap_or(0)));
        }
        let mg = r
            .majority_grades
            .get(c)
            .copied()
            .flatten()
            .map(|g| grade_name(question, g))
            .unwrap_or_else(|| "—".to_owned());
        h.elem("td", &[], &mg);
        h.raw("</tr>");
    }
    h.raw("</tbody></table></div>");
    order_list(h, m, question, &r.order, &format!("{qid}-order"));
    if !r.separations.is_empty() {
        h.elem("h3", &[], m.t("public.separations_heading"));
        h.open("ul", &[("class", "separations")]);
        for s in &r.separations {
            h.elem(
                "li",
                &[],
                &m.tv(
                    "public.separation",
                    &[
                        ("higher", &name(question, s.higher)),
                        ("lower", &name(question, s.lower)),
                        ("removed", &m.number(s.removed)),
                        ("higher_grade", &grade_name(question, s.higher_grade)),
                        ("lower_grade", &grade_name(question, s.lower_grade)),
                    ],
                ),
            );
        }
        h.close("ul");
    }
}

// ---- downloads ----

/// The question numbered `n` (from 1 among all questions) and its ranked or graded count.
async fn mixed_of(app: &AppState, id: &str, n: &str) -> Result<(Question, MixedResult), ApiError> {
    let missing = || ApiError::not_found("no such ranked or graded question in the result");
    let n: usize = n.parse().map_err(|_| missing())?;
    crate::protocol::election_meta(app, id).await?;
    let locked = app.elections.lock(app, id).await?;
    let st = locked.state()?;
    let (Some(def), Some(result)) = (&st.definition, &st.result) else {
        return Err(ApiError::not_found("the result is not published yet"));
    };
    let index = n.checked_sub(1).ok_or_else(missing)?;
    let question = def.questions.get(index).ok_or_else(missing)?;
    if !question.is_mixed() {
        return Err(missing());
    }
    let position = def
        .questions
        .iter()
        .take(index)
        .filter(|q| q.is_mixed())
        .count();
    let mixed = result
        .mixed
        .as_ref()
        .and_then(|ms| ms.get(position))
        .ok_or_else(missing)?;
    Ok((question.clone(), mixed.clone()))
}

fn download(body: String, content_type: &'static str, file: &str) -> Response {
    let mut resp = body.into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=60"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{file}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    resp
}

/// The valid ballots of a ranked question as the count read them (§11.14: `m` is the rank,
/// `0` unranked), in row order; the invalid ones are left out (they are listed on the page).
pub fn valid_ranked(mixed: &MixedResult) -> Vec<Counted<RankedBallot>> {
    let invalid: Vec<u64> = match &mixed.count {
        CountResult::Stv(r) => r.invalid.iter().map(|b| b.position).collect(),
        CountResult::Irv(r) => r.invalid.iter().map(|b| b.position).collect(),
        CountResult::Schulze(r) => r.invalid.iter().map(|b| b.position).collect(),
        CountResult::MajorityJudgment(r) => r.invalid.iter().map(|b| b.position).collect(),
    };
    mixed
        .ballots
        .iter()
        .enumerate()
        .filter(|(i, _)| !invalid.contains(&(*i as u64)))
        .map(|(_, row)| {
            Counted::one(
                row.iter()
                    .map(|v| v.and_then(|v| u32::try_from(v).ok()).filter(|r| *r != 0))
                    .collect(),
            )
        })
        .collect()
}

/// `GET /api/elections/{id}/result/{question}/ballots.blt`: the valid ballots of an STV or
/// IRV question as BLT.
pub async fn ballots_blt(
    State(app): State<AppState>,
    Path((id, n)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let (question, mixed) = mixed_of(&app, &id, &n).await?;
    let seats = match &mixed.count {
        CountResult::Stv(r) => r.seats as usize,
        CountResult::Irv(_) => 1,
        _ => {
            return Err(ApiError::not_found(
                "BLT is offered for STV and IRV questions only",
            ));
        }
    };
    let text = blt::write(
        question.answers.len(),
        seats,
        &valid_ranked(&mixed),
        &question.answers,
        &question.text,
    )
    .map_err(|e| ApiError::internal(e.to_string()))?;
    Ok(download(
        text,
        "text/plain; charset=utf-8",
        &format!("question-{n}.blt"),
    ))
}

/// `GET /api/elections/{id}/result/{question}/ballots.csv`: every decrypted row, one line
/// each, one column per answer: the rank (`0` unranked) or the grade's name; empty where
/// the value decrypted to no allowed value (`null` in the record).
pub async fn ballots_csv(
    State(app): State<AppState>,
    Path((id, n)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let (question, mixed) = mixed_of(&app, &id, &n).await?;
    let grades = question.grades.as_deref();
    let mut out = csv_row(question.answers.iter().map(String::as_str));
    for row in &mixed.ballots {
        let cells: Vec<String> = row
            .iter()
            .map(|v| match (v, grades) {
                (None, _) => String::new(),
                (Some(v), Some(g)) => g.get(*v as usize).cloned().unwrap_or_default(),
                (Some(v), None) => v.to_string(),
            })
            .collect();
        out.push_str(&csv_row(cells.iter().map(String::as_str)));
    }
    Ok(download(
        out,
        "text/csv; charset=utf-8",
        &format!("question-{n}.csv"),
    ))
}
