//! Printing reports and results.

use anyhow::Result;
use scrutin_election::tally::ElectionResult;
use scrutin_election::verify::RecordState;

/// Prints what a verification checked and found.
pub fn print_report(state: &RecordState) {
    let def = state.definition.as_ref();
    println!("Election: {}", def.map(|d| d.title.as_str()).unwrap_or("?"));
    if let Some(fp) = &state.fingerprint {
        println!("Fingerprint: {fp}");
    }
    println!("Status: {}", state.stage().name());
    println!(
        "Verified: {} events, {} ballots ({} counted), {} proofs and signatures; every check of spec §12 passed",
        state.events,
        state.ballots,
        state.ballots_counted(),
        state.proofs
    );
    println!("Head: {}", state.head);
    if let (Some(def), Some(result)) = (def, &state.result) {
        print_result(def, result);
    }
}

/// Prints a result, question by question.
pub fn print_result(
    def: &scrutin_election::definition::ElectionDefinition,
    result: &ElectionResult,
) {
    println!(
        "Result (decrypted by trustees {:?}; {} ballots counted, total weight {}):",
        result.trustees, result.ballots_counted, result.total_weight
    );
    for (q, r) in def.questions.iter().zip(&result.questions) {
        println!("  {}", q.text);
        for (a, n) in q.answers.iter().zip(&r.choices) {
            println!("    {n:>8}  {a}");
        }
        if let Some(b) = r.blank {
            println!("    {b:>8}  (blank)");
        }
    }
}

/// The report as one JSON object.
pub fn report_json(state: &RecordState) -> Result<String> {
    Ok(serde_json::to_string(&serde_json::json!({
        "status": state.stage().name(),
        "election": state.definition.as_ref().map(|d| d.id.clone()),
        "fingerprint": state.fingerprint,
        "events": state.events,
        "ballots": state.ballots,
        "ballots_counted": state.ballots_counted(),
        "proofs": state.proofs,
        "head": state.head,
        "result": state.result,
    }))?)
}
