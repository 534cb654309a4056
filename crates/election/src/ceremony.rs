//! The roles' steps on a record (spec §6, §9, §11): each function reads the state of a
//! verified record and returns the next event. The command-line tool, the server and the
//! browser pages all go through these functions, so they produce the same events.
//!
//! | step | who | function |
//! |---|---|---|
//! | 1 | administrator | [`election_event`] |
//! | 2 | each trustee | [`trustee_commit`], then [`trustee_deal`], then [`trustee_check`] |
//! | 3 | anyone (the administrator) | [`election_key_event`] |
//! | 4 | credential authority | [`crate::credential::issue`], then [`credentials_event`] |
//! | 5 | administrator | [`open_event`], later [`close_event`] |
//! | 6 | each of at least k trustees | [`trustee_decrypt`] |
//! | 7 | anyone (the administrator) | [`result_event`] |

use rand_core::CryptoRng;
use scrutin_crypto::dkg::{self, TrusteeSecrets};

use crate::credential::CredentialList;
use crate::definition::ElectionDefinition;
use crate::error::{ElectionError, invalid};
use crate::record::{Close, Event, Open, RecordWriter};
use crate::tally;
use crate::verify::{RecordState, Stage};

/// The `election` event of a validated definition.
pub fn election_event(def: &ElectionDefinition) -> Result<Event, ElectionError> {
    def.validate()?;
    Ok(Event::Election(def.clone()))
}

fn definition(state: &RecordState) -> Result<&ElectionDefinition, ElectionError> {
    state
        .definition
        .as_ref()
        .ok_or_else(|| ElectionError::Invalid("the record has no election".into()))
}

fn params(state: &RecordState) -> Result<dkg::DkgParameters, ElectionError> {
    definition(state)?.dkg_parameters()
}

/// Trustee `index` draws its secrets and publishes its commitment (§6 step 1).
pub fn trustee_commit<R: CryptoRng + ?Sized>(
    state: &RecordState,
    index: u32,
    rng: &mut R,
) -> Result<(TrusteeSecrets, Event), ElectionError> {
    let params = params(state)?;
    match state.commitments.get((index as usize).wrapping_sub(1)) {
        Some(None) => {}
        Some(Some(_)) => return invalid(format!("trustee {index} has already committed")),
        None => return invalid(format!("there is no trustee {index}")),
    }
    let (secrets, commitment) = dkg::commit(&params, &state.election_hash.0, index, rng)?;
    Ok((secrets, Event::TrusteeCommitment(commitment)))
}

/// The trustee deals encrypted shares to every trustee (§6 step 2).
pub fn trustee_deal<R: CryptoRng + ?Sized>(
    state: &RecordState,
    secrets: &TrusteeSecrets,
    rng: &mut R,
) -> Result<Event, ElectionError> {
    let params = params(state)?;
    let commitments = state
        .all_commitments()
        .ok_or_else(|| ElectionError::Invalid("not every trustee has committed yet".into()))?;
    check_own_commitment(state, secrets)?;
    if state
        .dealt
        .get(secrets.index as usize - 1)
        .is_some_and(Option::is_some)
    {
        return invalid(format!("trustee {} has already dealt", secrets.index));
    }
    Ok(Event::DealerShares(dkg::deal(
        &params,
        &state.election_hash.0,
        secrets,
        &commitments,
        rng,
    )?))
}

fn check_own_commitment(
    state: &RecordState,
    secrets: &TrusteeSecrets,
) -> Result<(), ElectionError> {
    let mine = state
        .commitments
        .get((secrets.index as usize).wrapping_sub(1))
        .cloned()
        .flatten();
    match mine {
        Some(c) if c.communication_key == secrets.communication_secret.public() => Ok(()),
        _ => invalid(format!(
            "these secrets do not belong to trustee {} of this election",
            secrets.index
        )),
    }
}

/// The trustee checks the shares it received and complains about bad ones (§6 step 3).
pub fn trustee_check<R: CryptoRng + ?Sized>(
    state: &RecordState,
    secrets: &TrusteeSecrets,
    rng: &mut R,
) -> Result<Event, ElectionError> {
    let params = params(state)?;
    check_own_commitment(state, secrets)?;
    let (commitments, dealt) = match (state.all_commitments(), state.all_dealt()) {
        (Some(c), Some(d)) => (c, d),
        _ => return invalid("not every trustee has dealt yet"),
    };
    if state
        .checks
        .get(secrets.index as usize - 1)
        .is_some_and(Option::is_some)
    {
        return invalid(format!("trustee {} has already checked", secrets.index));
    }
    Ok(Event::TrusteeCheck(dkg::check_shares(
        &params,
        &state.election_hash.0,
        secrets,
        &commitments,
        &dealt,
        rng,
    )?))
}

/// The election key from the qualified dealers (§6 step 4).
pub fn election_key_event(state: &RecordState) -> Result<Event, ElectionError> {
    let params = params(state)?;
    if state.checks.iter().any(Option::is_none) {
        return invalid("not every trustee has checked its shares yet");
    }
    let commitments = state
        .all_commitments()
        .ok_or_else(|| ElectionError::Invalid("commitments missing".into()))?;
    let mut disqualified = state.disqualified.clone();
    disqualified.sort_unstable();
    Ok(Event::ElectionKey(dkg::joint_key(
        &params,
        &commitments,
        &disqualified,
    )?))
}

/// The public credential list (§9.3).
pub fn credentials_event(
    state: &RecordState,
    list: CredentialList,
) -> Result<Event, ElectionError> {
    list.validate(definition(state)?.max_per_answer())?;
    if state.credentials.is_some() {
        return invalid("the credentials are already published");
    }
    Ok(Event::Credentials(list))
}

/// Opens the election: the fingerprint is the hash of the record so far (§11.7).
pub fn open_event(state: &RecordState) -> Result<Event, ElectionError> {
    if state.joint_key.is_none() || state.credentials.is_none() {
        return invalid("the election key and the credentials must be published before opening");
    }
    if state.stage() != Stage::Setup {
        return invalid("the election is already open");
    }
    Ok(Event::Open(Open {
        fingerprint: state.head,
    }))
}

/// Closes the election with the encrypted tally of the last ballot of each credential.
pub fn close_event(state: &RecordState) -> Result<Event, ElectionError> {
    if state.stage() != Stage::Open {
        return invalid(format!(
            "the election is {}, not open",
            state.stage().name()
        ));
    }
    let tally = state
        .current_tally()
        .ok_or_else(|| ElectionError::Invalid("no tally".into()))?;
    Ok(Event::Close(Close {
        ballots_counted: state.ballots_counted(),
        tally,
    }))
}

/// The trustee computes its key share from the record and its decryption share (§7).
pub fn trustee_decrypt<R: CryptoRng + ?Sized>(
    state: &RecordState,
    secrets: &TrusteeSecrets,
    rng: &mut R,
) -> Result<Event, ElectionError> {
    let params = params(state)?;
    check_own_commitment(state, secrets)?;
    let (close, key, fp) = match (&state.close, &state.joint_key, &state.fingerprint) {
        (Some(c), Some(k), Some(f)) => (c, k, f),
        _ => return invalid("the election is not closed"),
    };
    if state.result.is_some() {
        return invalid("the result is already published");
    }
    if state.shares.iter().any(|s| s.trustee == secrets.index) {
        return invalid(format!(
            "trustee {} has already published its decryption share",
            secrets.index
        ));
    }
    let (commitments, dealt) = match (state.all_commitments(), state.all_dealt()) {
        (Some(c), Some(d)) => (c, d),
        _ => return invalid("key generation incomplete"),
    };
    let share = dkg::key_share(
        &params,
        &state.election_hash.0,
        secrets,
        &commitments,
        &dealt,
        key,
    )?;
    let vk = &key.verification_keys[secrets.index as usize - 1];
    Ok(Event::DecryptionShare(tally::decryption_share(
        fp,
        &close.tally,
        &share,
        vk,
        rng,
    )))
}

/// Combines the first `k` published decryption shares into the result (§11.10).
pub fn result_event(state: &RecordState) -> Result<Event, ElectionError> {
    let def = definition(state)?;
    let close = state
        .close
        .as_ref()
        .ok_or_else(|| ElectionError::Invalid("the election is not closed".into()))?;
    if state.result.is_some() {
        return invalid("the result is already published");
    }
    let shares: Vec<&tally::DecryptionShare> = state.shares.iter().collect();
    let result = tally::combine(
        def,
        &close.tally,
        &shares,
        close.ballots_counted,
        state.counted_weight(),
    )?;
    Ok(Event::Result(result))
}

/// The lines that append `events` to the record whose state is `state`.
pub fn lines_after(state: &RecordState, events: &[Event]) -> Result<String, ElectionError> {
    let mut writer = RecordWriter::resume(state.events, state.head);
    let mut out = String::new();
    for e in events {
        out.push_str(&writer.line(e)?);
        out.push('\n');
    }
    Ok(out)
}
