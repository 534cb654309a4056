//! `GET /api/elections/{id}/result.csv`: the verified result (§11.14) as one CSV table for
//! spreadsheets, every cell formula-neutralised ([`crate::csv`]). One row per answer, its
//! count (or, for a ranked or graded question, its outcome), with links to the question's
//! decrypted ballots (`ballots.csv`, and `ballots.blt` for STV and IRV,
//! [`super::mixed`]). Nothing is recounted: every number is the published result's.
//!
//! Columns: `question` (1-based; empty for the rows of the whole election), `question_text`,
//! `row` (`ballots_counted`, `total_weight`, `answer`, `blank`, `valid`, `invalid`),
//! `answer`, `count`, `outcome` (`elected`, `not elected`, `rank N`), `ballots_csv`,
//! `ballots_blt`.

use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use scrutin_election::mix::CountResult;

use crate::csv::csv_row;
use crate::http::error::ApiError;
use crate::state::AppState;

/// The header line of `result.csv`.
pub const COLUMNS: [&str; 8] = [
    "question",
    "question_text",
    "row",
    "answer",
    "count",
    "outcome",
    "ballots_csv",
    "ballots_blt",
];

/// `GET /api/elections/{id}/result.csv`.
pub async fn result_csv(
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    crate::protocol::election_meta(&app, &id).await?;
    let v = app.elections.view(&app, &id).await?;
    let (Some(def), Some(result)) = (&v.definition, &v.result) else {
        return Err(ApiError::not_found("the result is not published yet"));
    };
    let mut out = csv_row(COLUMNS);
    let mut line = |cells: [&str; 8]| out.push_str(&csv_row(cells));
    let counted = result.ballots_counted.to_string();
    line(["", "", "ballots_counted", "", &counted, "", "", ""]);
    if v.weighted {
        let weight = result.total_weight.to_string();
        line(["", "", "total_weight", "", &weight, "", "", ""]);
    }
    let mut mixed = result.mixed.iter().flatten();
    for (i, (question, counts)) in def.questions.iter().zip(&result.questions).enumerate() {
        let n = (i + 1).to_string();
        let text = question.text.as_str();
        if !question.is_mixed() {
            for (answer, count) in question.answers.iter().zip(&counts.choices) {
                line([&n, text, "answer", answer, &count.to_string(), "", "", ""]);
            }
            if let Some(blank) = counts.blank {
                line([&n, text, "blank", "", &blank.to_string(), "", "", ""]);
            }
            continue;
        }
        let Some(m) = mixed.next() else {
            continue;
        };
        let base = format!("{}/api/elections/{id}/result/{n}", app.config.public_url);
        let csv = format!("{base}/ballots.csv");
        let blt = match m.count {
            CountResult::Stv(_) | CountResult::Irv(_) => format!("{base}/ballots.blt"),
            _ => String::new(),
        };
        let o = super::mixed::outcome(m);
        for (a, answer) in question.answers.iter().enumerate() {
            let a = a as u32;
            let said = if o.order.is_empty() {
                if o.elected.contains(&a) {
                    "elected".to_owned()
                } else {
                    "not elected".to_owned()
                }
            } else {
                // Equal answers share a rank, the rank of the first of their group.
                let mut rank = 1usize;
                let mut found = String::new();
                for group in &o.order {
                    if group.contains(&a) {
                        found = format!("rank {rank}");
                        break;
                    }
                    rank += group.len();
                }
                found
            };
            line([&n, text, "answer", answer, "", &said, &csv, &blt]);
        }
        line([&n, text, "valid", "", &o.valid.to_string(), "", &csv, &blt]);
        line([
            &n,
            text,
            "invalid",
            "",
            &o.invalid.to_string(),
            "",
            &csv,
            &blt,
        ]);
    }
    let mut resp = out.into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=60"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{id}-result.csv\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(resp)
}
