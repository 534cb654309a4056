//! Checks, with the native verifier, what the booth produced in a browser: used by the
//! browser test (`web/test/run.mjs`).
//!
//! ```sh
//! cargo run --release -p scrutin-booth --example check_ballots -- RECORD OUTPUTS.json
//! ```
//!
//! `OUTPUTS.json` is an array of the booth's `encrypt` outputs (`{ballot, tracker, audit}`)
//! made on the open election of `RECORD`. Every ballot is verified alone
//! ([`ballot::verify`]), every audit is checked ([`ballot::check_audit`]), the trackers
//! are recomputed, then all ballots are appended to the record and the whole record is
//! verified again. Prints the native verifier's report of `RECORD` (a line `REPORT {…}`,
//! for the test to compare with the in-browser verifier's) and its summary of the record
//! with the ballots; exits with an error on any failure.

use scrutin_election::Hash32;
use scrutin_election::ballot::{self, AuditedBallot};
use scrutin_election::ceremony;
use scrutin_election::record::Event;
use scrutin_election::verify::{NoProgress, RecordState, verify_record};
use serde::Deserialize;
use serde_json::Value;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (record, outputs) = match (args.next(), args.next()) {
        (Some(r), Some(o)) => (r, o),
        _ => return Err("usage: check_ballots RECORD OUTPUTS.json".into()),
    };
    let record = std::fs::read_to_string(record)?;
    let outputs: Vec<Value> = serde_json::from_str(&std::fs::read_to_string(outputs)?)?;
    println!("REPORT {}", scrutin_booth::api::verify_record(&record)?);
    let state = RecordState::from_record(record.as_bytes())?;
    let ctx = state.context.as_ref().ok_or("the election is not open")?;
    let mut events = Vec::new();
    for (i, out) in outputs.iter().enumerate() {
        let body = serde_json::to_string(&out["ballot"])?;
        let Event::Ballot(b) = Event::parse("ballot", &body)? else {
            return Err("not a ballot".into());
        };
        ballot::verify(ctx, &b)
            .map_err(|r| format!("ballot {i}: check {} failed: {}", r.check.code(), r.reason))?;
        if state.credential_weight(b.credential.as_bytes()).is_none() {
            return Err(format!("ballot {i}: credential not on the list").into());
        }
        let tracker = Hash32::from_hex(out["tracker"].as_str().ok_or("no tracker")?)?;
        if tracker != b.tracker() {
            return Err(format!("ballot {i}: the tracker shown is not the ballot's").into());
        }
        // From a borrowed `Value`: hexadecimal strings are read as written (spec §2.1).
        let audit = AuditedBallot::deserialize(&out["audit"])?;
        if audit.ballot != *b {
            return Err(format!("ballot {i}: the audit data opens another ballot").into());
        }
        ballot::check_audit(ctx, &audit).map_err(|e| format!("ballot {i}: audit: {e}"))?;
        events.push(Event::Ballot(b));
    }
    let mut whole = record.clone();
    whole.push_str(&ceremony::lines_after(&state, &events)?);
    let verified = verify_record(whole.as_bytes(), &NoProgress)?;
    println!(
        "{} ballots from the browser verify natively; {}",
        events.len(),
        verified.summary()
    );
    Ok(())
}
