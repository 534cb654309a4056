//! # scrutin-booth
//!
//! The browser side of scrutin: the protocol crates ([`scrutin_election`] and its crypto)
//! compiled to WebAssembly and exposed to JavaScript with wasm-bindgen. Nothing is
//! re-implemented here: the booth encrypts with [`scrutin_election::ballot::encrypt`], the
//! trustee and credential authority pages call [`scrutin_election::ceremony`], and the
//! in-browser verifier is [`scrutin_election::verify`] — the same code as `scrutin`.
//!
//! Values cross the boundary as JSON text. Failures are thrown as JavaScript `Error`s
//! whose `message` says what is wrong; when the verifier rejected a record, the error also
//! has `check` (the §12 check, e.g. `"B4"`) and `seq` (the faulty event) properties.
//!
//! | JavaScript | what it does |
//! |---|---|
//! | `new BoothElection(record)` / `BoothElection.from_record(record)` | verifies the record (up to `open` at least) and keeps the voting context |
//! | `.definition_json()`, `.fingerprint()`, `.status()`, `.report()` | what the booth shows |
//! | `.encrypt(credential, choices)` | `{ballot, tracker, audit}` (see [`api::Booth::encrypt`]) |
//! | `.check_audit(audit)` | the choices a Benaloh audit encrypts |
//! | `.audit_tracker(audit)` | the tracker of the audited ballot (after the same check) |
//! | `parse_credential(text)` | the normalised credential, or why it is mistyped |
//! | `verify_record(record)` | the verifier's report, as `scrutin verify --json` |
//! | `trustee_commit`, `trustee_deal`, `trustee_check`, `trustee_shuffle`, `trustee_decrypt` | a trustee's steps |
//! | `generate_credentials(record, voters, authority_key)` | the credential authority's step, signed with its key |
//! | `generate_role_key(role, name)`, `role_key_info(key_file)` | a trustee's or authority's role key, and what a key file holds |
//! | `key_fingerprint(public_key)` | the fingerprint of a public role key |
//! | `trustee_identity(record, file)` | which trustee a key or secret file is, or a refusal naming the election's keys |
//! | `check_receipt(record, receipt)` | a signed receipt against a record |
//! | `.credential_weight(credential)` | how many times a ballot with this credential counts |
//! | `record_head(record, length)` | the head of the first `length` lines (to compare with a monitor) |
//!
//! The functions are in [`api`] in plain Rust, tested natively; this file only adapts
//! them to wasm-bindgen. Randomness comes from `crypto.getRandomValues` (getrandom's
//! `wasm_js` backend, enabled in scrutin-crypto for wasm32).
//!
//! Build the bundle with `scripts/build-booth.sh` (see its header).
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

pub mod api;

use wasm_bindgen::prelude::*;

/// A JavaScript `Error` carrying the failure's message, and `check`/`seq` if the verifier
/// rejected a record.
fn to_js(f: api::Failure) -> JsValue {
    let error = js_sys::Error::new(&f.message);
    if let Some(check) = f.check {
        // Setting a property on a fresh Error object cannot fail; if it ever did, the
        // message still names the check.
        let _ = js_sys::Reflect::set(&error, &"check".into(), &check.into());
    }
    if let Some(seq) = f.seq {
        let _ = js_sys::Reflect::set(&error, &"seq".into(), &JsValue::from_f64(seq as f64));
    }
    if let Some(sentence) = f.sentence.and_then(|s| serde_json::to_string(&s).ok()) {
        // The failure in a sentence, as JSON text: {key, checks, params, text}.
        let _ = js_sys::Reflect::set(&error, &"sentence".into(), &sentence.into());
    }
    error.into()
}

/// An election as the voting booth holds it.
#[wasm_bindgen]
pub struct BoothElection {
    inner: api::Booth,
}

#[wasm_bindgen]
impl BoothElection {
    /// Verifies `record` (the record up to now, at least up to `open`) and keeps the
    /// voting context. Throws if the record does not verify or the election is not open.
    #[wasm_bindgen(constructor)]
    pub fn new(record: &str) -> Result<BoothElection, JsValue> {
        api::Booth::from_record(record)
            .map(|inner| BoothElection { inner })
            .map_err(to_js)
    }

    /// The same as `new BoothElection(record)`.
    pub fn from_record(record: &str) -> Result<BoothElection, JsValue> {
        BoothElection::new(record)
    }

    /// The election definition (spec §8) as JSON text.
    pub fn definition_json(&self) -> Result<String, JsValue> {
        self.inner.definition_json().map_err(to_js)
    }

    /// The election fingerprint (64 hexadecimal characters).
    pub fn fingerprint(&self) -> Result<String, JsValue> {
        self.inner.fingerprint().map_err(to_js)
    }

    /// `open`, `closed` or `tallied`.
    pub fn status(&self) -> String {
        self.inner.status().to_string()
    }

    /// The verifier's report of the record (JSON text).
    pub fn report(&self) -> Result<String, JsValue> {
        self.inner.report().map_err(to_js)
    }

    /// Encrypts, proves and signs a ballot: JSON `{ballot, tracker, audit}`.
    pub fn encrypt(&self, credential: &str, choices_json: &str) -> Result<String, JsValue> {
        self.inner.encrypt(credential, choices_json).map_err(to_js)
    }

    /// Checks Benaloh audit data; returns the choices it encrypts (JSON text).
    pub fn check_audit(&self, audit_json: &str) -> Result<String, JsValue> {
        self.inner.check_audit(audit_json).map_err(to_js)
    }

    /// How many times a ballot signed with this credential counts (its weight on the list).
    pub fn credential_weight(&self, credential: &str) -> Result<u64, JsValue> {
        self.inner.credential_weight(credential).map_err(to_js)
    }

    /// The credential's public key (hex): the only part of it the booth sends to the
    /// server before casting, to ask whether this login may use it.
    pub fn credential_public_key(&self, credential: &str) -> Result<String, JsValue> {
        self.inner.credential_public_key(credential).map_err(to_js)
    }

    /// The tracker of the audited ballot (64 hexadecimal characters), once the audit data
    /// is checked: what a second device shows the voter to compare with the first.
    pub fn audit_tracker(&self, audit_json: &str) -> Result<String, JsValue> {
        self.inner.audit_tracker(audit_json).map_err(to_js)
    }
}

/// The normalised display form of a typed credential, or an error saying what is wrong.
#[wasm_bindgen]
pub fn parse_credential(text: &str) -> Result<String, JsValue> {
    api::parse_credential(text).map_err(to_js)
}

/// Runs the universal verifier on a whole record; returns its report (JSON text).
#[wasm_bindgen]
pub fn verify_record(record_text: &str) -> Result<String, JsValue> {
    api::verify_record(record_text).map_err(to_js)
}

/// Draws a role key: `{key_file, public_key, fingerprint}` (`role` is `trustee` or `authority`).
#[wasm_bindgen]
pub fn generate_role_key(role: &str, name: &str) -> Result<String, JsValue> {
    api::generate_role_key(role, name).map_err(to_js)
}

/// What a key file holds, without its secret: `{role, name, public_key, fingerprint}`.
#[wasm_bindgen]
pub fn role_key_info(key_file: &str) -> Result<String, JsValue> {
    api::role_key_info(key_file).map_err(to_js)
}

/// The fingerprint `XXXX-XXXX-XXXX-XXXX` of a public role key (64 hexadecimal characters).
#[wasm_bindgen]
pub fn key_fingerprint(public_key: &str) -> Result<String, JsValue> {
    api::key_fingerprint(public_key).map_err(to_js)
}

/// The head (hex hash of the last line) of the first `length` lines of `record`.
#[wasm_bindgen]
pub fn record_head(record: &str, length: u32) -> Result<String, JsValue> {
    api::record_head(record, u64::from(length)).map_err(to_js)
}

/// Which trustee of the election a key or secret file is: `{index, name, fingerprint}`,
/// or an error naming the keys the election expects.
#[wasm_bindgen]
pub fn trustee_identity(record: &str, file: &str) -> Result<String, JsValue> {
    api::trustee_identity(record, file).map_err(to_js)
}

/// Checks a board receipt against a record: `{status, seq, weight, …}`.
#[wasm_bindgen]
pub fn check_receipt(record: &str, receipt: &str) -> Result<String, JsValue> {
    api::check_receipt(record, receipt).map_err(to_js)
}

/// The holder of `key_file` draws its secrets and signed commitment:
/// `{secrets, index, event_type, event_body, line}`.
#[wasm_bindgen]
pub fn trustee_commit(record: &str, key_file: &str) -> Result<String, JsValue> {
    api::trustee_commit(record, key_file).map_err(to_js)
}

/// The trustee deals its shares: `{event_type, event_body, line}`.
#[wasm_bindgen]
pub fn trustee_deal(record: &str, secrets: &str) -> Result<String, JsValue> {
    api::trustee_deal(record, secrets).map_err(to_js)
}

/// The trustee checks its shares: `{complaints, event_type, event_body, line}`.
#[wasm_bindgen]
pub fn trustee_check(record: &str, secrets: &str) -> Result<String, JsValue> {
    api::trustee_check(record, secrets).map_err(to_js)
}

/// The trustee's shuffle of the ranked and graded answers (spec §11.12): `{events: [{type,
/// body}, …], lines}`, the parts of a long shuffle first (§11.15).
#[wasm_bindgen]
pub fn trustee_shuffle(record: &str, secrets: &str) -> Result<String, JsValue> {
    api::trustee_shuffle(record, secrets).map_err(to_js)
}

/// The trustee's decryption share: `{events: [{type, body}, …], lines}`, the parts of a
/// long share first (§11.15).
#[wasm_bindgen]
pub fn trustee_decrypt(record: &str, secrets: &str) -> Result<String, JsValue> {
    api::trustee_decrypt(record, secrets).map_err(to_js)
}

/// The credential authority's credentials: `{private, public_list, event_type, event_body, line}`.
#[wasm_bindgen]
pub fn generate_credentials(
    record: &str,
    voters_json: &str,
    authority_key: &str,
) -> Result<String, JsValue> {
    api::generate_credentials(record, voters_json, authority_key).map_err(to_js)
}
