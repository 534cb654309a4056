//! The roles' steps on a record (spec §6, §9, §11): each function reads the state of a
//! verified record and returns the next event, signed with the role's key when the role
//! is a trustee or the credential authority (§11.11); a key the definition does not name
//! is refused before anything is computed. The command-line tool, the server and the
//! browser pages all go through these functions, so they produce the same events.
//!
//! | step | who | function |
//! |---|---|---|
//! | 1 | administrator | [`election_event`] |
//! | 2 | each trustee | [`trustee_commit`], then [`trustee_deal`], then [`trustee_check`] |
//! | 3 | anyone (the administrator) | [`election_key_event`] |
//! | 4 | credential authority | [`crate::credential::issue`], then [`credentials_event`] |
//! | 5 | administrator | [`open_event`], later [`close_event`] |
//! | 6 | at least k trustees in turn, if there are ranked or graded answers | [`trustee_shuffle`] |
//! | 7 | each of at least k trustees | [`trustee_decrypt`] |
//! | 8 | anyone (the administrator) | [`result_event`] |
//!
//! [`trustee_step`] says which step a trustee is at.

use rand_core::CryptoRng;
use scrutin_crypto::dkg::{self, TrusteeSecrets};
use serde::{Deserialize, Serialize};

use crate::credential::CredentialList;
use crate::definition::ElectionDefinition;
use crate::error::{ElectionError, invalid};
use crate::mix;
use crate::parts::{self, Layout};
use crate::record::{Close, Event, Open, RecordWriter};
use crate::roles::{Role, RoleKey, Signed, fingerprint};
use crate::tally;
use crate::verify::{RecordState, Stage};

/// What a trustee keeps for one election (a file of mode 0600, never sent anywhere): its
/// role key, which signs its events, and its key-generation secrets (§6, §8.6).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrusteeSecretFile {
    /// The election's id.
    pub election: String,
    pub role_key: RoleKey,
    pub dkg: TrusteeSecrets,
}

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

/// The trustee number of `key` in this election, or a refusal that says whose keys the
/// definition names: how a trustee notices that its key was replaced by somebody else's.
pub fn trustee_index(def: &ElectionDefinition, key: &RoleKey) -> Result<u32, ElectionError> {
    if key.role != Role::Trustee {
        return invalid(format!(
            "this is a {} key, not a trustee's",
            key.role.name()
        ));
    }
    match def.trustee_with_key(&key.signing_key) {
        Some(i) => Ok(i),
        None => {
            let named: Vec<String> = def
                .trustees
                .iter()
                .enumerate()
                .map(|(i, t)| format!("{}. {} ({})", i + 1, t.name, fingerprint(&t.key)))
                .collect();
            invalid(format!(
                "your key {} is not one of the trustee keys of election {:?}; it names {}. \
                 Do not act in this election: tell its officials that your key is not the one \
                 they received",
                key.fingerprint(),
                def.id,
                named.join(", ")
            ))
        }
    }
}

/// Checks that `file` is this election's and that its key is still the one the
/// definition names for its trustee number.
fn check_trustee_file(state: &RecordState, file: &TrusteeSecretFile) -> Result<(), ElectionError> {
    let def = definition(state)?;
    if file.election != def.id {
        return invalid(format!(
            "this secret file is for election {:?}, not {:?}",
            file.election, def.id
        ));
    }
    let index = trustee_index(def, &file.role_key)?;
    if index != file.dkg.index {
        return invalid(format!(
            "this secret file is trustee {}'s but its key is trustee {index}'s",
            file.dkg.index
        ));
    }
    Ok(())
}

fn sign<T: Serialize + serde::de::DeserializeOwned, R: CryptoRng + ?Sized>(
    state: &RecordState,
    body: T,
    kind: &str,
    key: &RoleKey,
    rng: &mut R,
) -> Result<Signed<T>, ElectionError> {
    Signed::sign(body, kind, &state.election_hash, key, rng)
}

/// The trustee holding `key` draws its secrets and publishes its signed commitment
/// (§6 step 1). Refused if the definition does not name this key.
pub fn trustee_commit<R: CryptoRng + ?Sized>(
    state: &RecordState,
    key: &RoleKey,
    rng: &mut R,
) -> Result<(TrusteeSecretFile, Event), ElectionError> {
    let params = params(state)?;
    let def = definition(state)?;
    let index = trustee_index(def, key)?;
    if state
        .commitments
        .get((index as usize).wrapping_sub(1))
        .is_some_and(Option::is_some)
    {
        return invalid(format!("trustee {index} has already committed"));
    }
    let (secrets, commitment) = dkg::commit(&params, &state.election_hash.0, index, rng)?;
    let event = Event::TrusteeCommitment(sign(state, commitment, "trustee_commitment", key, rng)?);
    let file = TrusteeSecretFile {
        election: def.id.clone(),
        role_key: key.clone(),
        dkg: secrets,
    };
    Ok((file, event))
}

/// The trustee reveals its coefficients and deals encrypted shares to every trustee
/// (§6 step 2).
pub fn trustee_deal<R: CryptoRng + ?Sized>(
    state: &RecordState,
    file: &TrusteeSecretFile,
    rng: &mut R,
) -> Result<Event, ElectionError> {
    let params = params(state)?;
    check_trustee_file(state, file)?;
    let secrets = &file.dkg;
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
    let dealt = dkg::deal(&params, &state.election_hash.0, secrets, &commitments, rng)?;
    Ok(Event::DealerShares(sign(
        state,
        dealt,
        "dealer_shares",
        &file.role_key,
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
    file: &TrusteeSecretFile,
    rng: &mut R,
) -> Result<Event, ElectionError> {
    let params = params(state)?;
    check_trustee_file(state, file)?;
    let secrets = &file.dkg;
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
    let check = dkg::check_shares(
        &params,
        &state.election_hash.0,
        secrets,
        &commitments,
        &dealt,
        rng,
    )?;
    Ok(Event::TrusteeCheck(sign(
        state,
        check,
        "trustee_check",
        &file.role_key,
        rng,
    )?))
}

/// The election key from every dealing (§6 step 4).
pub fn election_key_event(state: &RecordState) -> Result<Event, ElectionError> {
    let params = params(state)?;
    if state.joint_key.is_some() {
        return invalid("the election key is already published");
    }
    if state.checks.iter().any(Option::is_none) {
        return invalid("not every trustee has checked its shares yet");
    }
    let dealt = state
        .all_dealt()
        .ok_or_else(|| ElectionError::Invalid("dealings missing".into()))?;
    let mut complained = state.complained.clone();
    complained.sort_unstable();
    Ok(Event::ElectionKey(dkg::joint_key(
        &params,
        &dealt,
        &complained,
    )?))
}

/// The public credential list (§9.3), signed by the credential authority holding `key`.
/// Refused if the definition names another authority key.
pub fn credentials_event<R: CryptoRng + ?Sized>(
    state: &RecordState,
    list: CredentialList,
    key: &RoleKey,
    rng: &mut R,
) -> Result<Event, ElectionError> {
    let def = definition(state)?;
    check_authority(def, key)?;
    list.validate(def.max_per_answer())?;
    def.check_mix_weight(
        list.credentials
            .iter()
            .fold(0u64, |t, c| t.saturating_add(c.weight)),
    )?;
    if state.credentials.is_some() {
        return invalid("the credentials are already published");
    }
    Ok(Event::Credentials(sign(
        state,
        list,
        "credentials",
        key,
        rng,
    )?))
}

/// Refuses to act as the credential authority with a key the definition does not name.
pub fn check_authority(def: &ElectionDefinition, key: &RoleKey) -> Result<(), ElectionError> {
    if key.role != Role::Authority {
        return invalid(format!(
            "this is a {} key, not a credential authority's",
            key.role.name()
        ));
    }
    if key.signing_key != def.authority.key {
        return invalid(format!(
            "your key {} is not the credential authority key of election {:?}, which names {} \
             ({}). Do not act in this election: tell its officials that your key is not the \
             one they received",
            key.fingerprint(),
            def.id,
            def.authority.name,
            fingerprint(&def.authority.key)
        ));
    }
    Ok(())
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

/// The trustee computes its key share from the record and its decryption share of the
/// tally of the `close` line (§7, §11.9), and of the last shuffle's rows (§11.13), signed:
/// the events to append in this order, the parts of a share too long for one line first
/// (§11.15).
pub fn trustee_decrypt<R: CryptoRng + ?Sized>(
    state: &RecordState,
    file: &TrusteeSecretFile,
    rng: &mut R,
) -> Result<Vec<Event>, ElectionError> {
    trustee_decrypt_laid_out(state, file, Layout::Reference, rng)
}

/// [`trustee_decrypt`] with the parts laid out as `layout` says.
pub fn trustee_decrypt_laid_out<R: CryptoRng + ?Sized>(
    state: &RecordState,
    file: &TrusteeSecretFile,
    layout: Layout,
    rng: &mut R,
) -> Result<Vec<Event>, ElectionError> {
    let params = params(state)?;
    check_trustee_file(state, file)?;
    let secrets = &file.dkg;
    check_own_commitment(state, secrets)?;
    let (close, close_hash, key, fp) = match (
        &state.close,
        &state.close_hash,
        &state.joint_key,
        &state.fingerprint,
    ) {
        (Some(c), Some(h), Some(k), Some(f)) => (c, *h, k, f),
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
    let dealt = state
        .all_dealt()
        .ok_or_else(|| ElectionError::Invalid("key generation incomplete".into()))?;
    if !state.shuffles_done() {
        return invalid(format!(
            "the ranked and graded answers must first be shuffled by at least {} trustees ({} so far)",
            definition(state)?.threshold,
            state.shuffles.len()
        ));
    }
    let share = dkg::key_share(&params, &state.election_hash.0, secrets, &dealt, key)?;
    let vk = &key.verification_keys[secrets.index as usize - 1];
    let mut body = tally::decryption_share(fp, close_hash, &close.tally, &share, vk, rng);
    let questions = mix::mixed_questions(definition(state)?);
    if !questions.is_empty() {
        body.mixed = Some(mix::decryption_factors(
            fp,
            &questions,
            &state.mix_rows,
            &share,
            vk,
            rng,
        ));
    }
    let (parts, body) = parts::split_share(body, &questions, layout);
    let mut events = Vec::with_capacity(parts.len() + 1);
    for part in parts {
        events.push(Event::DecryptionRows(sign(
            state,
            part,
            "decryption_rows",
            &file.role_key,
            rng,
        )?));
    }
    events.push(Event::DecryptionShare(sign(
        state,
        body,
        "decryption_share",
        &file.role_key,
        rng,
    )?));
    Ok(events)
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
    let mut result = tally::combine(
        def,
        &close.tally,
        &shares,
        close.ballots_counted,
        state.counted_weight(),
    )?;
    if !mix::mixed_questions(def).is_empty() {
        let factors: Vec<&mix::MixedFactors> = shares
            .iter()
            .filter(|s| result.trustees.contains(&s.trustee))
            .filter_map(|s| s.mixed.as_ref())
            .collect();
        result.mixed = Some(mix::decrypt_and_count(
            def,
            &state.mix_rows,
            &result.trustees,
            &factors,
        )?);
    }
    Ok(Event::Result(result))
}

/// The trustee holding `file` shuffles the rows of every ranked or graded question, taking
/// as input the last shuffle's outputs, or the counted ballots' rows for the first
/// (§11.12), and signs the events to append, in this order: the parts of a shuffle too long
/// for one line first (§11.15), then the `shuffle`. Refused before `close`, once a
/// decryption share is published, when there is nothing to shuffle, or if this trustee
/// already shuffled or holds no valid key share.
pub fn trustee_shuffle<R: CryptoRng + ?Sized>(
    state: &RecordState,
    file: &TrusteeSecretFile,
    rng: &mut R,
) -> Result<Vec<Event>, ElectionError> {
    trustee_shuffle_laid_out(state, file, Layout::Reference, rng)
}

/// [`trustee_shuffle`] with the parts laid out as `layout` says.
pub fn trustee_shuffle_laid_out<R: CryptoRng + ?Sized>(
    state: &RecordState,
    file: &TrusteeSecretFile,
    layout: Layout,
    rng: &mut R,
) -> Result<Vec<Event>, ElectionError> {
    check_trustee_file(state, file)?;
    let def = definition(state)?;
    let index = file.dkg.index;
    let (key, fp) = match (&state.close, &state.joint_key, &state.fingerprint) {
        (Some(_), Some(k), Some(f)) => (k, f),
        _ => return invalid("the election is not closed"),
    };
    let questions = mix::mixed_questions(def);
    if questions.is_empty() || state.mix_rows.iter().all(Vec::is_empty) {
        return invalid("there are no ranked or graded answers to shuffle");
    }
    if !state.shares.is_empty() || state.result.is_some() {
        return invalid("the decryption has begun: no more shuffles");
    }
    if !key.decryptors.contains(&index) {
        return invalid(format!(
            "trustee {index} holds no valid key share and cannot take part"
        ));
    }
    if state.shuffles.iter().any(|s| s.trustee == index) {
        return invalid(format!("trustee {index} has already shuffled"));
    }
    let body = mix::shuffle_rows(fp, &key.public_key, index, &questions, &state.mix_rows, rng)?;
    let (parts, body) = parts::split_shuffle(body, &questions, layout);
    let mut events = Vec::with_capacity(parts.len() + 1);
    for part in parts {
        events.push(Event::ShuffleRows(sign(
            state,
            part,
            "shuffle_rows",
            &file.role_key,
            rng,
        )?));
    }
    events.push(Event::Shuffle(sign(
        state,
        body,
        "shuffle",
        &file.role_key,
        rng,
    )?));
    Ok(events)
}

/// What a trustee does next (§6, §11.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TrusteeStep {
    /// Publish its commitment ([`trustee_commit`]).
    Commit,
    /// Deal its shares ([`trustee_deal`]).
    Deal,
    /// Check the shares it received ([`trustee_check`]).
    Check,
    /// Shuffle the ranked and graded rows ([`trustee_shuffle`]): its turn has come.
    Shuffle,
    /// Publish its decryption share ([`trustee_decrypt`]).
    Decrypt,
    /// Nothing now: other roles (or the voters) act first.
    Wait,
    /// Nothing more for this trustee in this election.
    Done,
}

/// Trustee `index`'s next step on the record whose state is `state`.
pub fn trustee_step(state: &RecordState, index: u32) -> Result<TrusteeStep, ElectionError> {
    let def = definition(state)?;
    let slot = |v: &[Option<_>]| {
        (index as usize)
            .checked_sub(1)
            .and_then(|i| v.get(i).map(Option::is_some))
    };
    let Some(committed) = slot(
        &state
            .commitments
            .iter()
            .map(|c| c.as_ref().map(|_| ()))
            .collect::<Vec<_>>(),
    ) else {
        return invalid(format!("the election has no trustee {index}"));
    };
    let dealt = slot(
        &state
            .dealt
            .iter()
            .map(|c| c.as_ref().map(|_| ()))
            .collect::<Vec<_>>(),
    );
    let checked = slot(
        &state
            .checks
            .iter()
            .map(|c| c.as_ref().map(|_| ()))
            .collect::<Vec<_>>(),
    );
    if !committed {
        return Ok(TrusteeStep::Commit);
    }
    if state.commitments.iter().any(Option::is_none) {
        return Ok(TrusteeStep::Wait);
    }
    if dealt != Some(true) {
        return Ok(TrusteeStep::Deal);
    }
    if state.dealt.iter().any(Option::is_none) {
        return Ok(TrusteeStep::Wait);
    }
    if checked != Some(true) {
        return Ok(TrusteeStep::Check);
    }
    let Some(key) = &state.joint_key else {
        return Ok(TrusteeStep::Wait);
    };
    if state.result.is_some() || !key.decryptors.contains(&index) {
        return Ok(TrusteeStep::Done);
    }
    if state.close.is_none() {
        return Ok(TrusteeStep::Wait);
    }
    let to_shuffle =
        !mix::mixed_questions(def).is_empty() && state.mix_rows.iter().any(|r| !r.is_empty());
    let shuffled = state.shuffles.iter().any(|s| s.trustee == index);
    if to_shuffle && state.shares.is_empty() && !shuffled {
        return Ok(TrusteeStep::Shuffle);
    }
    if state.shares.iter().any(|s| s.trustee == index) {
        return Ok(TrusteeStep::Done);
    }
    if state.shuffles_done() {
        Ok(TrusteeStep::Decrypt)
    } else {
        Ok(TrusteeStep::Wait)
    }
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
