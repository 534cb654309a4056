//! The booth's operations in plain Rust, JSON in and JSON out: what `lib.rs` exposes to
//! JavaScript, kept free of wasm-bindgen types so that it is tested natively.
//!
//! Every function that acts on a record first verifies it with the universal verifier
//! ([`RecordState::from_record`]): nothing is computed from a record that does not verify.
//! Secrets (a trustee's secrets, the private credentials) are returned as the text of the
//! file the command-line tool writes, so a page saves them verbatim and `scrutin` reads
//! them back; they never enter the record.

use std::fmt;

use scrutin_election::Hash32;
use scrutin_election::ballot::{self, AuditedBallot};
use scrutin_election::ceremony;
use scrutin_election::credential::{self, Credential};
use scrutin_election::crypto::Point;
use scrutin_election::crypto::rng::os_rng;
use scrutin_election::definition::QuestionChoice;
use scrutin_election::record::{Event, GENESIS, split_lines};
use scrutin_election::roles::{self, Receipt, ReceiptCheck, Role, RoleKey};
use scrutin_election::verify::{RecordState, VerifyError};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Value, json};

/// Largest secret or choices text accepted (1 MiB), checked before parsing.
const MAX_SMALL: usize = 1 << 20;

/// Why an operation failed. `check` and `seq` are set when the verifier rejected the
/// record: the §12 check that failed and the sequence number of the faulty event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    pub message: String,
    pub check: Option<&'static str>,
    pub seq: Option<u64>,
    /// The failed verification in one plain sentence (spec §12, conclusions).
    pub sentence: Option<Box<scrutin_election::conclusions::Sentence>>,
}

impl Failure {
    fn new(message: impl Into<String>) -> Self {
        Failure {
            message: message.into(),
            check: None,
            seq: None,
            sentence: None,
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Failure {}

impl From<VerifyError> for Failure {
    fn from(e: VerifyError) -> Self {
        Failure {
            message: e.to_string(),
            check: Some(e.check),
            seq: e.seq,
            sentence: Some(Box::new(scrutin_election::conclusions::failure(&e))),
        }
    }
}

impl From<scrutin_election::ElectionError> for Failure {
    fn from(e: scrutin_election::ElectionError) -> Self {
        Failure::new(e.to_string())
    }
}

impl From<serde_json::Error> for Failure {
    fn from(e: serde_json::Error) -> Self {
        Failure::new(format!("malformed JSON: {e}"))
    }
}

pub type Outcome<T> = Result<T, Failure>;

fn small<'a>(text: &'a str, what: &str) -> Outcome<&'a str> {
    if text.len() > MAX_SMALL {
        return Err(Failure::new(format!(
            "the {what} is larger than {MAX_SMALL} bytes"
        )));
    }
    Ok(text)
}

/// Verifies a record (or its beginning) and returns its state.
pub fn state_of(record: &str) -> Outcome<RecordState> {
    Ok(RecordState::from_record(record.as_bytes())?)
}

/// An event as JSON for a page: its `type`, its `body` (exactly the bytes of the record
/// line) and the `line` that appends it to the record it was computed from (for an
/// offline record file; a server appends the body itself).
fn event_json(state: &RecordState, event: &Event) -> Outcome<Value> {
    let body = RawValue::from_string(event.body_json()?)?;
    let line = ceremony::lines_after(state, std::slice::from_ref(event))?;
    Ok(json!({
        "event_type": event.kind(),
        "event_body": body,
        "line": line,
    }))
}

fn with_event(state: &RecordState, event: &Event, extra: &[(&str, Value)]) -> Outcome<String> {
    let mut out = event_json(state, event)?;
    if let Value::Object(map) = &mut out {
        for (k, v) in extra {
            map.insert((*k).to_string(), v.clone());
        }
    }
    Ok(serde_json::to_string(&out)?)
}

/// A step that may publish several events (§11.15: the parts of a long shuffle or share,
/// then the event): `{events: [{type, body}, …], lines}`, in the order to post them.
fn with_events(state: &RecordState, events: &[Event]) -> Outcome<String> {
    let mut list = Vec::with_capacity(events.len());
    for e in events {
        list.push(json!({
            "type": e.kind(),
            "body": RawValue::from_string(e.body_json()?)?,
        }));
    }
    let lines = ceremony::lines_after(state, events)?;
    Ok(serde_json::to_string(
        &json!({ "events": list, "lines": lines }),
    )?)
}

fn read_secrets(text: &str) -> Outcome<ceremony::TrusteeSecretFile> {
    serde_json::from_str(small(text, "trustee's secret file")?).map_err(|e| {
        Failure::new(format!(
            "this is not a trustee secret file written by `scrutin trustee commit` or the trustee page: {e}"
        ))
    })
}

/// The normalised display form of a credential as typed (`XXXX-XXXX-…`), or why it is not
/// one (a character that cannot appear, the wrong length, or a checksum that does not
/// match: a typo).
pub fn parse_credential(text: &str) -> Outcome<String> {
    Ok(Credential::parse(text.trim())?.display())
}

/// The report of the universal verifier, as `scrutin verify --json` prints it.
pub fn verify_record(record: &str) -> Outcome<String> {
    let state = state_of(record)?;
    Ok(serde_json::to_string(&report(&state))?)
}

fn report(state: &RecordState) -> Value {
    json!({
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
    })
}

fn read_role_key(text: &str) -> Outcome<RoleKey> {
    RoleKey::from_json(small(text, "key file")?).map_err(|e| {
        Failure::new(format!(
            "this is not a key file written by `scrutin trustee keygen`, `scrutin credentials keygen` or a scrutin page: {e}"
        ))
    })
}

/// Draws a role key (§8.6) for `role` (`"trustee"` or `"authority"`) held by `name`.
/// Returns `{key_file, public_key, fingerprint}`: `key_file` is the text of the key file
/// to keep (never sent), the public key and its fingerprint go to the election's officials.
pub fn generate_role_key(role: &str, name: &str) -> Outcome<String> {
    let role = match role {
        "trustee" => Role::Trustee,
        "authority" => Role::Authority,
        other => {
            return Err(Failure::new(format!(
                "no role {other:?}: trustee or authority"
            )));
        }
    };
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 1000 {
        return Err(Failure::new("give a name of 1 to 1000 characters"));
    }
    let key = RoleKey::generate(role, name, &mut os_rng());
    Ok(serde_json::to_string(&json!({
        "key_file": serde_json::to_string_pretty(&key)?,
        "public_key": key.signing_key,
        "fingerprint": key.fingerprint(),
    }))?)
}

/// What a key file holds, without its secret: `{role, name, public_key, fingerprint}`.
pub fn role_key_info(key_file: &str) -> Outcome<String> {
    let key = read_role_key(key_file)?;
    Ok(serde_json::to_string(&json!({
        "role": key.role,
        "name": key.name,
        "public_key": key.signing_key,
        "fingerprint": key.fingerprint(),
    }))?)
}

/// The trustee holding the key of `key_file` draws its secrets and its signed commitment
/// (§6 step 1); refused when the election does not name that key. Returns `{secrets,
/// index, event_type, event_body, line}`; `secrets` is the text of the secret file.
pub fn trustee_commit(record: &str, key_file: &str) -> Outcome<String> {
    let state = state_of(record)?;
    let key = read_role_key(key_file)?;
    let (secrets, event) = ceremony::trustee_commit(&state, &key, &mut os_rng())?;
    let text = serde_json::to_string_pretty(&secrets)?;
    with_event(
        &state,
        &event,
        &[
            ("secrets", Value::String(text)),
            ("index", json!(secrets.dkg.index)),
        ],
    )
}

/// The fingerprint (§8.6) of a public role key written as 64 hexadecimal characters, or
/// why it is not a public key: what an official compares with the fingerprint the key's
/// holder reads out to them.
pub fn key_fingerprint(public_key: &str) -> Outcome<String> {
    let text = small(public_key, "public key")?.trim().to_ascii_lowercase();
    let key = Point::from_hex(&text)
        .map_err(|e| Failure::new(format!("this is not a public key: {e}")))?;
    Ok(roles::fingerprint(&key))
}

/// The head of the first `length` lines of `record` (§11): the hash of line `length` − 1
/// in hexadecimal, or the genesis hash for 0 lines; what a board's or a monitor's
/// `/head` says for that length. Fails if the record has fewer lines.
pub fn record_head(record: &str, length: u64) -> Outcome<String> {
    if length == 0 {
        return Ok(GENESIS.to_hex());
    }
    let lines = split_lines(record.as_bytes())?;
    let line = usize::try_from(length - 1)
        .ok()
        .and_then(|i| lines.get(i))
        .ok_or_else(|| {
            Failure::new(format!(
                "the record has {} lines, not {length}",
                lines.len()
            ))
        })?;
    Ok(Hash32::of(line).to_hex())
}

/// Which trustee of this election a key or secret file belongs to: `{index, name,
/// fingerprint}`, or a refusal naming the keys the election expects (so that a trustee
/// whose key was replaced in the definition notices before acting).
pub fn trustee_identity(record: &str, file: &str) -> Outcome<String> {
    let state = state_of(record)?;
    let def = state
        .definition
        .as_ref()
        .ok_or_else(|| Failure::new("the record has no election"))?;
    let key = match RoleKey::from_json(small(file, "key file")?) {
        Ok(key) => key,
        Err(_) => read_secrets(file)?.role_key,
    };
    let index = ceremony::trustee_index(def, &key)?;
    Ok(serde_json::to_string(&json!({
        "index": index,
        "name": key.name,
        "fingerprint": key.fingerprint(),
    }))?)
}

/// Checks a board receipt (§14.2) against a record: `{status, seq, replaced_by, listed}`
/// with `status` one of `on_record`, `replaced`, `not_yet`, `missing` (the board signed
/// this receipt but the record holds something else at its position: evidence) or
/// `wrong_weight`.
pub fn check_receipt(record: &str, receipt: &str) -> Outcome<String> {
    let state = state_of(record)?;
    let receipt: Receipt = serde_json::from_str(small(receipt, "receipt")?)
        .map_err(|e| Failure::new(format!("this is not a scrutin receipt: {e}")))?;
    let out = match roles::check_receipt(record.as_bytes(), &state, &receipt)? {
        ReceiptCheck::OnRecord { replaced_by: None } => json!({"status": "on_record"}),
        ReceiptCheck::OnRecord {
            replaced_by: Some(s),
        } => json!({"status": "replaced", "replaced_by": s}),
        ReceiptCheck::NotYet { length } => json!({"status": "not_yet", "length": length}),
        ReceiptCheck::Missing { found } => json!({"status": "missing", "found": found}),
        ReceiptCheck::WrongWeight { listed } => json!({"status": "wrong_weight", "listed": listed}),
    };
    let mut out = out;
    out["seq"] = json!(receipt.seq);
    out["weight"] = json!(receipt.weight);
    Ok(serde_json::to_string(&out)?)
}

/// The trustee deals its encrypted shares (§6 step 2).
pub fn trustee_deal(record: &str, secrets: &str) -> Outcome<String> {
    let state = state_of(record)?;
    let secrets = read_secrets(secrets)?;
    let event = ceremony::trustee_deal(&state, &secrets, &mut os_rng())?;
    with_event(&state, &event, &[])
}

/// The trustee checks the shares it received (§6 step 3); `complaints` lists the dealers
/// it complains about (their shares did not match their commitments).
pub fn trustee_check(record: &str, secrets: &str) -> Outcome<String> {
    let state = state_of(record)?;
    let secrets = read_secrets(secrets)?;
    let event = ceremony::trustee_check(&state, &secrets, &mut os_rng())?;
    let complaints: Vec<u32> = match &event {
        Event::TrusteeCheck(c) => c.body.complaints.iter().map(|c| c.dealer).collect(),
        _ => Vec::new(),
    };
    with_event(&state, &event, &[("complaints", json!(complaints))])
}

/// The trustee's shuffle of the ranked and graded answers of the closed election
/// (§11.12), signed with its key, as [`with_events`] gives it.
pub fn trustee_shuffle(record: &str, secrets: &str) -> Outcome<String> {
    let state = state_of(record)?;
    let secrets = read_secrets(secrets)?;
    let events = ceremony::trustee_shuffle(&state, &secrets, &mut os_rng())?;
    with_events(&state, &events)
}

/// The trustee's decryption share of the closed election's tally (§7) and of the last
/// shuffle's rows (§11.13), as [`with_events`] gives it.
pub fn trustee_decrypt(record: &str, secrets: &str) -> Outcome<String> {
    let state = state_of(record)?;
    let secrets = read_secrets(secrets)?;
    let events = ceremony::trustee_decrypt(&state, &secrets, &mut os_rng())?;
    with_events(&state, &events)
}

/// One voter of the credential authority's list: `"name"` or `{"name": …, "weight": …}`.
#[derive(Deserialize)]
#[serde(untagged)]
enum VoterEntry {
    Name(String),
    Weighted {
        name: String,
        #[serde(default = "one")]
        weight: u64,
    },
}

fn one() -> u64 {
    1
}

/// The credential authority issues one credential per voter (§9). `voters` is a JSON
/// array of names or `{name, weight}` objects. Returns `{private, public_list,
/// event_type, event_body, line}`: `private` is the text of the private credential file
/// (as `scrutin credentials generate --private` writes it), kept by the authority; only
/// the public list (`event_body`) goes to the server.
pub fn generate_credentials(record: &str, voters: &str, authority_key: &str) -> Outcome<String> {
    let state = state_of(record)?;
    let def = state
        .definition
        .as_ref()
        .ok_or_else(|| Failure::new("the record has no election"))?;
    let entries: Vec<VoterEntry> = serde_json::from_str(voters).map_err(|e| {
        Failure::new(format!(
            "the voter list must be a JSON array of names or {{\"name\", \"weight\"}} objects: {e}"
        ))
    })?;
    let mut list = Vec::with_capacity(entries.len());
    for (n, entry) in entries.into_iter().enumerate() {
        let (name, weight) = match entry {
            VoterEntry::Name(name) => (name, 1),
            VoterEntry::Weighted { name, weight } => (name, weight),
        };
        if name.trim().is_empty() {
            return Err(Failure::new(format!("voter {} has an empty name", n + 1)));
        }
        list.push((name, weight));
    }
    let key = read_role_key(authority_key)?;
    ceremony::check_authority(def, &key)?;
    let (issued, public) = credential::issue(&def.id, &list, &mut os_rng())?;
    let event = ceremony::credentials_event(&state, public.clone(), &key, &mut os_rng())?;
    let private = serde_json::to_string_pretty(&issued)?;
    with_event(
        &state,
        &event,
        &[
            ("private", Value::String(private)),
            ("public_list", serde_json::to_value(&public)?),
        ],
    )
}

/// An election as the booth sees it: the verified state of its record (up to `open` at
/// least), with the voting context (definition, fingerprint, election key).
pub struct Booth {
    state: RecordState,
}

impl Booth {
    /// Verifies the record; fails unless the election has been opened.
    pub fn from_record(record: &str) -> Outcome<Booth> {
        let state = state_of(record)?;
        if state.context.is_none() {
            return Err(Failure::new(format!(
                "the election is not open yet (it is in {})",
                state.stage().name()
            )));
        }
        Ok(Booth { state })
    }

    fn context(&self) -> Outcome<&ballot::VotingContext> {
        self.state
            .context
            .as_deref()
            .ok_or_else(|| Failure::new("the election is not open"))
    }

    /// The election definition (§8) as JSON.
    pub fn definition_json(&self) -> Outcome<String> {
        Ok(serde_json::to_string(&self.context()?.definition)?)
    }

    /// The election fingerprint (hexadecimal).
    pub fn fingerprint(&self) -> Outcome<String> {
        Ok(self.context()?.fingerprint.to_hex())
    }

    /// `open`, `closed` or `tallied`.
    pub fn status(&self) -> &'static str {
        self.state.stage().name()
    }

    /// The weight of the credential as typed (how many times the voter's ballot counts,
    /// from the credential list signed by the authority), or why it cannot be used here.
    pub fn credential_weight(&self, credential: &str) -> Outcome<u64> {
        let ctx = self.context()?;
        let credential = Credential::parse(credential.trim())?;
        let key = credential.signing_key(&ctx.definition.id).public();
        self.state.credential_weight(key.as_bytes()).ok_or_else(|| {
            Failure::new(
                "this credential is not on the election's list (is it for another election?)",
            )
        })
    }

    /// The public key of the credential as typed (64 hexadecimal characters): what the
    /// booth asks the server about before the choices (may this login use it? spec §9.4,
    /// §12), never the secret.
    pub fn credential_public_key(&self, credential: &str) -> Outcome<String> {
        let ctx = self.context()?;
        let credential = Credential::parse(credential.trim())?;
        Ok(credential.signing_key(&ctx.definition.id).public().to_hex())
    }

    /// The verifier's report of the record this booth was made from.
    pub fn report(&self) -> Outcome<String> {
        Ok(serde_json::to_string(&report(&self.state))?)
    }

    /// Encrypts, proves and signs a ballot (§10). `choices` is one entry per question: an
    /// array of values per answer, or `"blank"`; the rules are checked before anything is
    /// encrypted. Returns `{ballot, tracker, audit}`: `ballot` is the body of the `ballot`
    /// event to cast, `tracker` its tracker, and `audit` the opened ballot of a Benaloh
    /// audit (§10.6) — shown only if the voter audits, after which this ballot must be
    /// discarded and a new one encrypted.
    pub fn encrypt(&self, credential: &str, choices: &str) -> Outcome<String> {
        let ctx = self.context()?;
        let credential = Credential::parse(credential.trim())?;
        let choices: Vec<QuestionChoice> = serde_json::from_str(small(choices, "choices")?)
            .map_err(|e| {
                Failure::new(format!(
                    "the choices must be a JSON array: per question, an array of values or \"blank\": {e}"
                ))
            })?;
        let (ballot, randomness) = ballot::encrypt(ctx, &credential, &choices, &mut os_rng())?;
        if self
            .state
            .credential_weight(ballot.credential.as_bytes())
            .is_none()
        {
            return Err(Failure::new(
                "this credential is not on the election's list (is it for another election?)",
            ));
        }
        let tracker = ballot.tracker();
        let body = RawValue::from_string(Event::Ballot(Box::new(ballot.clone())).body_json()?)?;
        let audit = AuditedBallot {
            ballot,
            choices,
            randomness,
        };
        Ok(serde_json::to_string(&json!({
            "ballot": body,
            "tracker": tracker,
            "audit": audit,
        }))?)
    }

    /// Checks Benaloh audit data (from this booth, another device or `scrutin ballot
    /// audit`) against this election; returns the choices it encrypts, as JSON.
    pub fn check_audit(&self, audit: &str) -> Outcome<String> {
        let audit: AuditedBallot = serde_json::from_str(small(audit, "audit data")?)
            .map_err(|e| Failure::new(format!("this is not audit data: {e}")))?;
        let choices = ballot::check_audit(self.context()?, &audit)?;
        Ok(serde_json::to_string(&choices)?)
    }

    /// The tracker of the ballot inside audit data (§10.5), checked first as
    /// [`Booth::check_audit`] does: on a second device the voter compares it with the
    /// tracker the first device showed, so that the audit is known to be of that ballot.
    pub fn audit_tracker(&self, audit: &str) -> Outcome<String> {
        let audit: AuditedBallot = serde_json::from_str(small(audit, "audit data")?)
            .map_err(|e| Failure::new(format!("this is not audit data: {e}")))?;
        ballot::check_audit(self.context()?, &audit)?;
        Ok(audit.ballot.tracker().to_hex())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use scrutin_election::crypto::rng::SeededRng;
    use scrutin_election::definition::Question;
    use scrutin_election::demo::{self, DemoOptions};

    fn open_election() -> demo::DemoOutcome {
        let opts = DemoOptions {
            voters: 3,
            revote_percent: 0,
            leave_open: true,
            questions: vec![Question {
                text: "Which?".into(),
                answers: vec!["A".into(), "B".into(), "C".into()],
                min: 0,
                max: 2,
                max_per_answer: 1,
                blank: true,
                kind: None,
                method: None,
                seats: None,
                grades: None,
            }],
            ..DemoOptions::default()
        };
        demo::run(&opts, &mut SeededRng::new(b"booth tests")).unwrap()
    }

    #[test]
    fn encrypts_a_ballot_that_the_verifier_accepts_and_audits_it() {
        let demo = open_election();
        let booth = Booth::from_record(&demo.record).unwrap();
        assert_eq!(booth.status(), "open");
        let out: Value = serde_json::from_str(
            &booth
                .encrypt(&demo.credentials[0].credential, "[[1,0,1]]")
                .unwrap(),
        )
        .unwrap();
        let body = serde_json::to_string(&out["ballot"]).unwrap();
        let event = Event::parse("ballot", &body).unwrap();
        let state = state_of(&demo.record).unwrap();
        let mut record = demo.record.clone();
        record.push_str(&ceremony::lines_after(&state, &[event]).unwrap());
        let report: Value = serde_json::from_str(&verify_record(&record).unwrap()).unwrap();
        assert_eq!(report["ballots"], 4);
        let tracker = out["tracker"].as_str().unwrap();
        let after = state_of(&record).unwrap();
        assert!(
            after
                .trackers
                .contains_key(&scrutin_election::Hash32::from_hex(tracker).unwrap())
        );
        let audit = serde_json::to_string(&out["audit"]).unwrap();
        assert_eq!(booth.check_audit(&audit).unwrap(), "[[1,0,1]]");
        assert_eq!(booth.audit_tracker(&audit).unwrap(), tracker);
    }

    #[test]
    fn refuses_bad_choices_unknown_credentials_and_forged_audits() {
        let demo = open_election();
        let booth = Booth::from_record(&demo.record).unwrap();
        let cred = &demo.credentials[0].credential;
        let e = booth.encrypt(cred, "[[1,1,1]]").unwrap_err();
        assert!(e.message.contains("add up to 3"), "{e}");
        let stranger = Credential::generate(&mut SeededRng::new(b"stranger")).display();
        let e = booth.encrypt(&stranger, "[\"blank\"]").unwrap_err();
        assert!(e.message.contains("not on the election's list"), "{e}");
        let out: Value = serde_json::from_str(&booth.encrypt(cred, "[[1,0,0]]").unwrap()).unwrap();
        let mut audit = out["audit"].clone();
        audit["choices"] = json!([[0, 1, 0]]);
        let e = booth
            .check_audit(&serde_json::to_string(&audit).unwrap())
            .unwrap_err();
        assert!(e.message.contains("does not encrypt"), "{e}");
        let e = booth
            .audit_tracker(&serde_json::to_string(&audit).unwrap())
            .unwrap_err();
        assert!(e.message.contains("does not encrypt"), "{e}");
    }

    #[test]
    fn record_heads_and_key_fingerprints() {
        let out = open_election();
        let record = out.record.clone();
        let report: Value = serde_json::from_str(&verify_record(&record).unwrap()).unwrap();
        let n = record.lines().count() as u64;
        assert_eq!(record_head(&record, n).unwrap(), report["head"]);
        assert_eq!(record_head(&record, 0).unwrap(), GENESIS.to_hex());
        let first = record.lines().next().unwrap();
        assert_eq!(
            record_head(&record, 1).unwrap(),
            Hash32::of(first.as_bytes()).to_hex()
        );
        assert!(record_head(&record, n + 1).is_err());
        let key: Value =
            serde_json::from_str(&generate_role_key("trustee", "Ann").unwrap()).unwrap();
        let public = key["public_key"].as_str().unwrap();
        assert_eq!(key_fingerprint(public).unwrap(), key["fingerprint"]);
        assert_eq!(
            key_fingerprint(&format!(" {} ", public.to_uppercase())).unwrap(),
            key["fingerprint"]
        );
        assert!(key_fingerprint("00").is_err());
        assert!(key_fingerprint(&"g".repeat(64)).is_err());
    }

    #[test]
    fn credential_typos_are_reported() {
        let cred = Credential::generate(&mut SeededRng::new(b"c")).display();
        assert_eq!(parse_credential(&cred.to_lowercase()).unwrap(), cred);
        let mut typo: Vec<char> = cred.chars().collect();
        typo[0] = if typo[0] == 'A' { 'B' } else { 'A' };
        let typo: String = typo.into_iter().collect();
        assert!(
            parse_credential(&typo)
                .unwrap_err()
                .message
                .contains("typo")
        );
        assert!(parse_credential("K7QH-U").is_err());
    }

    #[test]
    fn verifier_failures_name_the_check_and_the_event() {
        let demo = open_election();
        let mut lines: Vec<&str> = demo.record.lines().collect();
        lines.swap(2, 3);
        let e = verify_record(&(lines.join("\n") + "\n")).unwrap_err();
        assert!(e.check.is_some() && e.seq.is_some(), "{e:?}");
        assert!(Booth::from_record(lines[0]).is_err());
    }

    #[test]
    fn a_whole_ceremony_through_the_page_functions_matches_the_cli_format() {
        use scrutin_election::definition::{ElectionDefinition, RoleHolder};
        // Each role draws its key on its own page; the official gets the public halves.
        let keys: Vec<Value> = ["A", "B"]
            .iter()
            .map(|n| serde_json::from_str(&generate_role_key("trustee", n).unwrap()).unwrap())
            .collect();
        let authority: Value =
            serde_json::from_str(&generate_role_key("authority", "CA").unwrap()).unwrap();
        let holder = |v: &Value, name: &str| RoleHolder {
            name: name.into(),
            key: scrutin_election::crypto::Point::from_hex(v["public_key"].as_str().unwrap())
                .unwrap(),
        };
        let def = ElectionDefinition {
            id: "booth-test".into(),
            title: "Booth test".into(),
            description: String::new(),
            trustees: vec![holder(&keys[0], "A"), holder(&keys[1], "B")],
            threshold: 2,
            authority: holder(&authority, "CA"),
            board_key: None,
            monitors: vec![],
            questions: open_election_questions(),
        };
        let key_file = |v: &Value| v["key_file"].as_str().unwrap().to_string();
        let info: Value =
            serde_json::from_str(&role_key_info(&key_file(&keys[1])).unwrap()).unwrap();
        assert_eq!(info["fingerprint"], keys[1]["fingerprint"]);
        assert_eq!(info["role"], "trustee");
        let mut record =
            ceremony::lines_after(&RecordState::empty(), &[Event::Election(def)]).unwrap();
        let step = |record: &mut String, out: &str| -> Value {
            let v: Value = serde_json::from_str(out).unwrap();
            let lines = v["line"].as_str().or(v["lines"].as_str());
            record.push_str(lines.unwrap());
            v
        };
        // A key the definition does not name is refused, saying so.
        let stranger: Value =
            serde_json::from_str(&generate_role_key("trustee", "A").unwrap()).unwrap();
        let e = trustee_commit(&record, &key_file(&stranger)).unwrap_err();
        assert!(e.message.contains("is not one of the trustee keys"), "{e}");
        assert!(trustee_identity(&record, &key_file(&stranger)).is_err());
        let mut secrets = Vec::new();
        for (i, k) in keys.iter().enumerate() {
            let who: Value =
                serde_json::from_str(&trustee_identity(&record, &key_file(k)).unwrap()).unwrap();
            assert_eq!(who["index"], i + 1);
            let out = trustee_commit(&record, &key_file(k)).unwrap();
            let v = step(&mut record, &out);
            assert_eq!(v["event_type"], "trustee_commitment");
            assert_eq!(v["index"], i + 1);
            let s = v["secrets"].as_str().unwrap().to_string();
            serde_json::from_str::<ceremony::TrusteeSecretFile>(&s).unwrap();
            secrets.push(s);
        }
        for s in &secrets {
            let out = trustee_deal(&record, s).unwrap();
            step(&mut record, &out);
        }
        for s in &secrets {
            let out = trustee_check(&record, s).unwrap();
            assert_eq!(step(&mut record, &out)["complaints"], json!([]));
        }
        let state = state_of(&record).unwrap();
        record.push_str(
            &ceremony::lines_after(&state, &[ceremony::election_key_event(&state).unwrap()])
                .unwrap(),
        );
        let voters = r#"["ann", {"name": "bob", "weight": 2}]"#;
        // Only the authority named in the definition can publish the credentials.
        let e = generate_credentials(&record, voters, &key_file(&keys[0])).unwrap_err();
        assert!(e.message.contains("not a credential authority's"), "{e}");
        let out = generate_credentials(&record, voters, &key_file(&authority)).unwrap();
        let v = step(&mut record, &out);
        let private: Vec<credential::IssuedCredential> =
            serde_json::from_str(v["private"].as_str().unwrap()).unwrap();
        assert_eq!(private[1].weight, 2);
        let mut unsigned = v["event_body"].clone();
        unsigned.as_object_mut().unwrap().remove("signature");
        assert_eq!(v["public_list"], unsigned);
        let state = state_of(&record).unwrap();
        record.push_str(
            &ceremony::lines_after(&state, &[ceremony::open_event(&state).unwrap()]).unwrap(),
        );
        let booth = Booth::from_record(&record).unwrap();
        assert_eq!(booth.credential_weight(&private[1].credential).unwrap(), 2);
        let out: Value =
            serde_json::from_str(&booth.encrypt(&private[1].credential, "[[0,1,1]]").unwrap())
                .unwrap();
        let state = state_of(&record).unwrap();
        let event = Event::parse("ballot", &out["ballot"].to_string()).unwrap();
        record.push_str(&ceremony::lines_after(&state, &[event]).unwrap());
        let state = state_of(&record).unwrap();
        record.push_str(
            &ceremony::lines_after(&state, &[ceremony::close_event(&state).unwrap()]).unwrap(),
        );
        for s in &secrets {
            let out = trustee_decrypt(&record, s).unwrap();
            step(&mut record, &out);
        }
        let state = state_of(&record).unwrap();
        record.push_str(
            &ceremony::lines_after(&state, &[ceremony::result_event(&state).unwrap()]).unwrap(),
        );
        let report: Value = serde_json::from_str(&verify_record(&record).unwrap()).unwrap();
        assert_eq!(report["status"], "tallied");
        assert_eq!(
            report["result"]["questions"][0]["choices"],
            json!([0, 2, 2])
        );
        assert!(trustee_decrypt(&record, "{}").is_err());
    }

    fn open_election_questions() -> Vec<scrutin_election::definition::Question> {
        vec![scrutin_election::definition::Question {
            text: "Which?".into(),
            answers: vec!["A".into(), "B".into(), "C".into()],
            min: 0,
            max: 2,
            max_per_answer: 1,
            blank: true,
            kind: None,
            method: None,
            seats: None,
            grades: None,
        }]
    }
}
