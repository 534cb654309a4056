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
    println!();
    println!("What the verification established:");
    for s in scrutin_election::conclusions::conclusions(state) {
        println!("  - {}", s.text);
    }
    if let (Some(def), Some(result)) = (def, &state.result) {
        println!();
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
    let mut mixed = result.mixed.iter().flatten();
    for (q, r) in def.questions.iter().zip(&result.questions) {
        println!("  {}", q.text);
        if q.is_mixed() {
            if let Some(m) = mixed.next() {
                print_count(q, m);
            }
            continue;
        }
        for (a, n) in q.answers.iter().zip(&r.choices) {
            println!("    {n:>8}  {a}");
        }
        if let Some(b) = r.blank {
            println!("    {b:>8}  (blank)");
        }
    }
}

/// The outcome of a ranked or graded question (spec §11.14), in one or two lines.
fn print_count(q: &scrutin_election::definition::Question, m: &scrutin_election::mix::MixedResult) {
    use scrutin_election::mix::CountResult;
    let name = |c: &u32| {
        q.answers
            .get(*c as usize)
            .cloned()
            .unwrap_or_else(|| format!("#{c}"))
    };
    let names = |cs: &[u32]| cs.iter().map(name).collect::<Vec<_>>().join(" = ");
    let order = |groups: &[Vec<u32>]| {
        groups
            .iter()
            .map(|g| names(g))
            .collect::<Vec<_>>()
            .join(" > ")
    };
    let (method, valid, invalid, outcome) = match &m.count {
        CountResult::Schulze(r) => ("Schulze", r.valid_ballots, r.invalid.len(), order(&r.order)),
        CountResult::MajorityJudgment(r) => (
            "majority judgment",
            r.valid_ballots,
            r.invalid.len(),
            order(&r.order),
        ),
        CountResult::Irv(r) => (
            "instant-runoff",
            r.valid_ballots,
            r.invalid.len(),
            format!("elected: {}", name(&r.elected)),
        ),
        CountResult::Stv(r) => (
            "STV",
            r.valid_ballots,
            r.invalid.len(),
            format!(
                "elected: {}",
                r.elected.iter().map(name).collect::<Vec<_>>().join(", ")
            ),
        ),
    };
    println!("    {method}, {valid} valid ballots, {invalid} invalid: {outcome}");
}

/// A failed verification as one JSON object: the check, the event and the sentence
/// that says what went wrong (spec §12, conclusions).
pub fn failure_json(
    e: &scrutin_election::verify::VerifyError,
    said: &scrutin_election::conclusions::Sentence,
) -> Result<String> {
    Ok(serde_json::to_string(&serde_json::json!({
        "status": "failed",
        "check": e.check,
        "seq": e.seq,
        "message": e.message,
        "failure": said,
    }))?)
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
        "conclusions": scrutin_election::conclusions::conclusions(state),
    }))?)
}
