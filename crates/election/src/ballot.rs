//! Ballots (spec §10): encryption in the booth, proofs, the credential's signature, the
//! tracker shown to the voter, Benaloh audits, and the checks the board and the verifier
//! make.
//!
//! For each question, each answer's value `vᵢ` is encrypted as `Cᵢ`, and if blank votes
//! are allowed a blank indicator `b ∈ {0, 1}` as `C_b`. One bit-vector proof shows that
//! every ciphertext of the question meant to hold 0 or 1 does — the answers when
//! `max_per_answer = 1`, and the blank indicator (§10.2); answers that may go up to
//! `max_per_answer > 1` carry one membership proof each instead. Unless implied by these,
//! a last proof shows that `Σ Cᵢ + M·C_b` encrypts a value of `min … max` or exactly `M`,
//! where `M` is larger than any possible sum: so a blank ballot has all values 0 (§10.3).
//!
//! Every proof's transcript holds the election fingerprint and the voter's public
//! credential, so a ballot cannot be replayed in another election nor its proofs reused
//! under another credential (Cortier, Smyth, *Attacking and fixing Helios*, CSF 2011).
//! The credential then signs a digest of the whole ballot (§10.4).
//!
//! A ranked or graded question (§8.1) is not summed: its answers are shuffled and then
//! decrypted ballot by ballot, so nothing about their values is proved at casting. Each
//! of its ciphertexts carries instead a proof of knowledge of its randomness (§5.8,
//! §10.7) bound to the election, the credential, the question and the answer: a copied
//! or re-encrypted ciphertext comes without one. Which malformed values this leaves to
//! the count is listed in §10.7.

use rand_core::CryptoRng;
use scrutin_crypto::batch::{BaseId, BatchVerifier};
use scrutin_crypto::bits::{BitBases, BitGenerators, BitsProof, BitsStatement};
use scrutin_crypto::disjunctive::{MembershipProof, MembershipStatement, ProofRequest};
use scrutin_crypto::elgamal::{Ciphertext, EncryptionKey, SecretScalar};
use scrutin_crypto::group::{hex_scalar, hex_scalar_vec, small_multiple};
use scrutin_crypto::knowledge::RandomnessProof;
use scrutin_crypto::schnorr::SchnorrProof;
use scrutin_crypto::transcript::Transcript;
use scrutin_crypto::{Point, RistrettoPoint, Scalar};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256, Sha512};

use crate::Hash32;
use crate::credential::Credential;
use crate::definition::{ElectionDefinition, QuestionChoice, validate_choices};
use crate::error::{ElectionError, invalid};

/// Domain tags of ballots (spec §3, table 2).
pub mod tags {
    pub const CHOICE: &str = "ballot-choice";
    pub const BITS: &str = "ballot-bits";
    pub const SUM: &str = "ballot-sum";
    pub const RANDOMNESS: &str = "ballot-randomness";
    pub const CONTENT: &str = "ballot-content";
    pub const SIGNATURE: &str = "ballot-signature";
    pub const TRACKER: &str = "ballot-tracker";
}

/// The encrypted answer to one question (§10).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EncryptedAnswer {
    pub choices: Vec<Ciphertext>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::present"
    )]
    pub blank: Option<Ciphertext>,
    /// The bit-vector proof of the ciphertexts named by `Question::bit_items` (§10.2).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::present"
    )]
    pub bits_proof: Option<BitsProof>,
    /// One range proof per answer, when `max_per_answer > 1` (§10.2).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::present"
    )]
    pub choice_proofs: Option<Vec<MembershipProof>>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::present"
    )]
    pub sum_proof: Option<MembershipProof>,
    /// One proof of knowledge of the randomness per answer of a ranked or graded
    /// question (§10.7).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::present"
    )]
    pub randomness_proofs: Option<Vec<RandomnessProof>>,
}

/// A signed ballot: the body of a `ballot` event (§11.7).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ballot {
    pub election: Hash32,
    pub credential: Point,
    pub answers: Vec<EncryptedAnswer>,
    pub signature: SchnorrProof,
}

/// What a booth needs to encrypt and a verifier to check ballots of one election.
pub struct VotingContext {
    pub definition: ElectionDefinition,
    pub fingerprint: Hash32,
    pub key: EncryptionKey,
    /// The generators of the bits proofs, for the largest question.
    bits: BitGenerators,
    choice_values: Vec<Vec<u64>>,
    sum_values: Vec<Option<Vec<u64>>>,
}

/// The shared bases of a batch of ballots: the election key and the bits generators.
pub struct BallotBases {
    key: BaseId,
    bits: BitBases,
}

impl VotingContext {
    /// Prepares the context from a validated definition, the fingerprint and the key.
    pub fn new(
        definition: ElectionDefinition,
        fingerprint: Hash32,
        key: Point,
    ) -> Result<Self, ElectionError> {
        let choice_values = definition
            .questions
            .iter()
            .map(|q| q.choice_values())
            .collect();
        let sum_values = definition
            .questions
            .iter()
            .map(|q| q.sum_values())
            .collect();
        let largest = definition
            .questions
            .iter()
            .map(|q| q.bit_count())
            .max()
            .unwrap_or(0);
        let bits = BitGenerators::new(largest)
            .map_err(|e| ElectionError::Invalid(format!("election definition: {e}")))?;
        Ok(VotingContext {
            definition,
            fingerprint,
            key: EncryptionKey::new(key),
            bits,
            choice_values,
            sum_values,
        })
    }

    /// Registers the election key and the bits generators in a batch, for
    /// [`add_to_batch`].
    pub fn register_bases(&self, batch: &mut BatchVerifier) -> BallotBases {
        BallotBases {
            key: batch.register_base(self.key.point().point()),
            bits: self.bits.register(batch),
        }
    }
}

/// The randomness of one question's ciphertexts, revealed only in an audit.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnswerRandomness {
    #[serde(with = "hex_scalar_vec")]
    pub choices: Vec<Scalar>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_scalar")]
    pub blank: Option<Scalar>,
}

mod opt_scalar {
    use super::*;
    pub fn serialize<S: serde::Serializer>(x: &Option<Scalar>, s: S) -> Result<S::Ok, S::Error> {
        match x {
            Some(x) => hex_scalar::serialize(x, s),
            None => s.serialize_none(),
        }
    }
    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Scalar>, D::Error> {
        hex_scalar::deserialize(d).map(Some)
    }
}

/// A ballot opened for a Benaloh audit (§10.6): never to be cast once shown.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditedBallot {
    pub ballot: Ballot,
    pub choices: Vec<QuestionChoice>,
    pub randomness: Vec<AnswerRandomness>,
}

fn choice_transcript(fp: &Hash32, credential: &Point, q: usize, a: usize) -> Transcript {
    let mut t = Transcript::new(tags::CHOICE);
    t.append("election", &fp.0)
        .append_point("credential", credential)
        .append_u64("question", q as u64)
        .append_u64("answer", a as u64);
    t
}

/// The caller transcript of the proof of knowledge of answer `a`'s randomness (§10.7).
fn randomness_transcript(fp: &Hash32, credential: &Point, q: usize, a: usize) -> Transcript {
    let mut t = Transcript::new(tags::RANDOMNESS);
    t.append("election", &fp.0)
        .append_point("credential", credential)
        .append_u64("question", q as u64)
        .append_u64("answer", a as u64);
    t
}

fn question_transcript(tag: &str, fp: &Hash32, credential: &Point, q: usize) -> Transcript {
    let mut t = Transcript::new(tag);
    t.append("election", &fp.0)
        .append_point("credential", credential)
        .append_u64("question", q as u64);
    t
}

fn append_bits_proof(t: &mut Transcript, p: &BitsProof) {
    t.append_point("bits", &p.bits)
        .append_point("masks", &p.masks)
        .append_point("t1", &p.t1)
        .append_point("t0", &p.t0)
        .append_point("link_alpha", &p.link_alpha)
        .append_point("link_beta", &p.link_beta);
    for f in &p.f {
        t.append_scalar("f", f);
    }
    t.append_scalar("z_masks", &p.z_masks)
        .append_scalar("z_link", &p.z_link)
        .append_scalar("z_t", &p.z_t);
}

fn append_proof(t: &mut Transcript, proof: &MembershipProof) {
    for b in &proof.branches {
        t.append_point("a", &b.a)
            .append_point("b", &b.b)
            .append_scalar("c", &b.c)
            .append_scalar("r", &b.r);
    }
}

fn append_ciphertext(t: &mut Transcript, c: &Ciphertext) {
    t.append_point("alpha", &c.alpha)
        .append_point("beta", &c.beta);
}

/// `Σ Cᵢ + M·C_b`: the ciphertext of the sum proof.
fn sum_ciphertext(answer: &EncryptedAnswer, marker: u64) -> Ciphertext {
    let mut alpha = RistrettoPoint::default();
    let mut beta = RistrettoPoint::default();
    for c in &answer.choices {
        alpha += c.alpha.point();
        beta += c.beta.point();
    }
    if let Some(b) = &answer.blank {
        alpha += small_multiple(b.alpha.point(), marker);
        beta += small_multiple(b.beta.point(), marker);
    }
    Ciphertext {
        alpha: Point::from_point(alpha),
        beta: Point::from_point(beta),
    }
}

impl Ballot {
    /// The content digest: SHA-512 of the `ballot-content` transcript of everything but
    /// the signature (§10.4).
    pub fn content_digest(&self) -> [u8; 64] {
        let mut t = Transcript::new(tags::CONTENT);
        t.append("election", &self.election.0)
            .append_point("credential", &self.credential);
        for (q, answer) in self.answers.iter().enumerate() {
            t.append_u64("question", q as u64);
            for c in answer.choices.iter().chain(&answer.blank) {
                append_ciphertext(&mut t, c);
            }
            if let Some(p) = &answer.bits_proof {
                append_bits_proof(&mut t, p);
            }
            for p in answer.choice_proofs.iter().flatten() {
                append_proof(&mut t, p);
            }
            if let Some(p) = &answer.sum_proof {
                append_proof(&mut t, p);
            }
            for p in answer.randomness_proofs.iter().flatten() {
                t.append_point("commitment", &p.commitment)
                    .append_scalar("response", &p.response);
            }
        }
        Sha512::digest(t.bytes()).into()
    }

    fn signature_transcript(fp: &Hash32, digest: &[u8; 64]) -> Transcript {
        let mut t = Transcript::new(tags::SIGNATURE);
        t.append("election", &fp.0).append("content", digest);
        t
    }

    /// The tracker shown to the voter and found on the board (§10.5):
    /// SHA-256 of the `ballot-tracker` transcript of the digest and the signature.
    pub fn tracker(&self) -> Hash32 {
        self.tracker_from_digest(&self.content_digest())
    }

    /// The tracker, given the ballot's [`Ballot::content_digest`].
    pub fn tracker_from_digest(&self, digest: &[u8; 64]) -> Hash32 {
        let mut t = Transcript::new(tags::TRACKER);
        t.append("content", digest)
            .append_point("signature_commitment", &self.signature.commitment)
            .append_scalar("signature_response", &self.signature.response);
        Hash32(Sha256::digest(t.bytes()).into())
    }

    /// Every ciphertext of the ballot, for the check that no ciphertext is reused (§12 B7).
    pub fn ciphertexts(&self) -> impl Iterator<Item = &Ciphertext> {
        self.answers
            .iter()
            .flat_map(|a| a.choices.iter().chain(a.blank.iter()))
    }

    /// The ciphertexts that enter the encrypted tally, in its flat order (§11.8): those
    /// of the homomorphic questions; `questions` are the definition's, whose shape the
    /// ballot was checked against.
    pub fn tallied_ciphertexts<'a>(
        &'a self,
        questions: &'a [crate::definition::Question],
    ) -> impl Iterator<Item = &'a Ciphertext> {
        self.answers
            .iter()
            .zip(questions)
            .filter(|(_, q)| !q.is_mixed())
            .flat_map(|(a, _)| a.choices.iter().chain(a.blank.iter()))
    }
}

/// Encrypts `choices`, proves them and signs with `credential` (§10.1–§10.4).
/// Returns the ballot and its opening (kept by the booth for a possible audit).
///
/// All ciphertexts of the ballot are encoded in one batch, then all its proofs in another
/// (see [`MembershipProof::prove_many`]): the same result as one at a time, much faster.
pub fn encrypt<R: CryptoRng + ?Sized>(
    ctx: &VotingContext,
    credential: &Credential,
    choices: &[QuestionChoice],
    rng: &mut R,
) -> Result<(Ballot, Vec<AnswerRandomness>), ElectionError> {
    validate_choices(&ctx.definition, choices)?;
    let signing_key = credential.signing_key(&ctx.definition.id);
    let public = signing_key.public();
    let fp = &ctx.fingerprint;
    let questions = &ctx.definition.questions;

    // 1. The plaintexts and randomness of every ciphertext, question by question:
    //    the answers' values, then the blank indicator if blank votes are allowed.
    struct Plan {
        values: Vec<u64>,
        is_blank: bool,
        randomness: Vec<SecretScalar>,
        blank_r: Option<SecretScalar>,
    }
    let mut plans = Vec::with_capacity(questions.len());
    let mut items = Vec::new();
    for (question, choice) in questions.iter().zip(choices) {
        let (values, is_blank) = choice.plaintexts(question.answers.len());
        let randomness: Vec<SecretScalar> = values
            .iter()
            .map(|_| SecretScalar::new(Scalar::random(rng)))
            .collect();
        items.extend(
            values
                .iter()
                .zip(&randomness)
                .map(|(v, r)| (*v, *r.expose())),
        );
        let blank_r = question
            .blank
            .then(|| SecretScalar::new(Scalar::random(rng)));
        if let Some(r) = &blank_r {
            items.push((u64::from(is_blank), *r.expose()));
        }
        plans.push(Plan {
            values,
            is_blank,
            randomness,
            blank_r,
        });
    }
    let (cts, halves) = Ciphertext::encrypt_many(&ctx.key, &items);

    // 2. The answers, and the ciphertexts of the sum proofs (encoded in one batch).
    let mut answers = Vec::with_capacity(questions.len());
    let mut sum_halves = Vec::new();
    let mut offset = 0;
    for (q, (question, plan)) in questions.iter().zip(&plans).enumerate() {
        let n = plan.values.len() + usize::from(question.blank);
        let (mine, mine_halves) = (&cts[offset..offset + n], &halves[offset..offset + n]);
        offset += n;
        let (choice_cts, blank_ct) = mine.split_at(plan.values.len());
        if ctx.sum_values[q].is_some() {
            let marker = Scalar::from(question.blank_marker());
            let (mut a, mut b) = (RistrettoPoint::default(), RistrettoPoint::default());
            for (i, (ha, hb)) in mine_halves.iter().enumerate() {
                let m = if i < plan.values.len() {
                    Scalar::ONE
                } else {
                    marker
                };
                a += ha * m;
                b += hb * m;
            }
            sum_halves.push(a);
            sum_halves.push(b);
        }
        answers.push(EncryptedAnswer {
            choices: choice_cts.to_vec(),
            blank: blank_ct.first().copied(),
            bits_proof: None,
            choice_proofs: None,
            sum_proof: None,
            randomness_proofs: None,
        });
    }
    let sum_points = scrutin_crypto::Point::batch_from_halves(&sum_halves);
    let sum_cts: Vec<Ciphertext> = sum_points
        .chunks(2)
        .map(|p| Ciphertext {
            alpha: p[0],
            beta: p[1],
        })
        .collect();

    // 3. The bits proof of every question that has 0/1 ciphertexts (§10.2).
    for (q, ((question, plan), answer)) in
        questions.iter().zip(&plans).zip(&mut answers).enumerate()
    {
        let cts = question.bit_items(&answer.choices, answer.blank);
        if cts.is_empty() {
            continue;
        }
        let values = question.bit_items(
            &plan.values,
            plan.blank_r.as_ref().map(|_| u64::from(plan.is_blank)),
        );
        let secrets = question.bit_items(&plan.randomness, plan.blank_r.clone());
        let mut randomness: Vec<Scalar> = secrets.iter().map(|r| *r.expose()).collect();
        let statement = BitsStatement {
            key: ctx.key.point(),
            ciphertexts: &cts,
        };
        let proof = BitsProof::prove(
            question_transcript(tags::BITS, fp, &public, q),
            &ctx.bits,
            &ctx.key,
            &statement,
            &values,
            &randomness,
            rng,
        )
        .map_err(|e| ElectionError::Invalid(format!("question {}: {e}", q + 1)))?;
        randomness.iter_mut().for_each(zeroize::Zeroize::zeroize);
        answer.bits_proof = Some(proof);
    }

    // 4. The range proofs of answers up to max_per_answer > 1, and the sum proofs, their
    //    commitments encoded in one batch.
    let mut requests = Vec::new();
    let mut sum_index = 0;
    for (q, ((question, plan), answer)) in questions.iter().zip(&plans).zip(&answers).enumerate() {
        if question.has_range_proofs() {
            for (a, ((ct, v), r)) in answer
                .choices
                .iter()
                .zip(&plan.values)
                .zip(&plan.randomness)
                .enumerate()
            {
                requests.push(ProofRequest {
                    transcript: choice_transcript(fp, &public, q, a),
                    statement: MembershipStatement {
                        key: ctx.key.point(),
                        ciphertext: ct,
                        values: &ctx.choice_values[q],
                    },
                    index: *v as usize,
                    randomness: *r.expose(),
                });
            }
        }
        if let Some(sum_values) = &ctx.sum_values[q] {
            let marker = question.blank_marker();
            let target = if plan.is_blank {
                marker
            } else {
                plan.values.iter().sum()
            };
            let index = sum_values
                .iter()
                .position(|v| *v == target)
                .ok_or_else(|| {
                    ElectionError::Invalid(format!(
                        "question {}: the sum {target} is not allowed",
                        q + 1
                    ))
                })?;
            let mut r_sum = plan
                .randomness
                .iter()
                .fold(Scalar::ZERO, |acc, r| acc + r.expose());
            if let Some(rb) = &plan.blank_r {
                r_sum += Scalar::from(marker) * rb.expose();
            }
            let ct = sum_cts
                .get(sum_index)
                .ok_or_else(|| ElectionError::Invalid("sum ciphertext missing".into()))?;
            sum_index += 1;
            requests.push(ProofRequest {
                transcript: question_transcript(tags::SUM, fp, &public, q),
                statement: MembershipStatement {
                    key: ctx.key.point(),
                    ciphertext: ct,
                    values: sum_values,
                },
                index,
                randomness: r_sum,
            });
        }
    }
    // The proofs come back in the order requested: per question, the answers', then the
    // sum's.
    let mut proofs = MembershipProof::prove_many(&ctx.key, requests, rng)?.into_iter();
    for (q, (question, answer)) in questions.iter().zip(answers.iter_mut()).enumerate() {
        if question.has_range_proofs() {
            answer.choice_proofs = Some(proofs.by_ref().take(question.answers.len()).collect());
        }
        if ctx.sum_values[q].is_some() {
            answer.sum_proof = proofs.next();
        }
    }

    // 5. The proofs of knowledge of the randomness of ranked and graded answers (§10.7).
    for (q, ((question, plan), answer)) in
        questions.iter().zip(&plans).zip(&mut answers).enumerate()
    {
        if question.is_mixed() {
            answer.randomness_proofs = Some(
                answer
                    .choices
                    .iter()
                    .zip(&plan.randomness)
                    .enumerate()
                    .map(|(a, (ct, r))| {
                        RandomnessProof::prove(
                            randomness_transcript(fp, &public, q, a),
                            ctx.key.point(),
                            ct,
                            r.expose(),
                            rng,
                        )
                    })
                    .collect(),
            );
        }
    }
    let openings = plans
        .iter()
        .map(|p| AnswerRandomness {
            choices: p.randomness.iter().map(|r| *r.expose()).collect(),
            blank: p.blank_r.as_ref().map(|r| *r.expose()),
        })
        .collect();

    let mut ballot = Ballot {
        election: *fp,
        credential: public,
        answers,
        signature: SchnorrProof {
            commitment: Point::identity(),
            response: Scalar::ZERO,
        },
    };
    let digest = ballot.content_digest();
    ballot.signature = SchnorrProof::prove(
        Ballot::signature_transcript(fp, &digest),
        &public,
        signing_key.expose(),
        rng,
    );
    Ok((ballot, openings))
}

/// Which check of §12 a ballot failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BallotCheck {
    /// B1: the ballot names another election.
    Election,
    /// B3: the ballot's shape does not match the questions.
    Shape,
    /// B4: the credential's signature.
    Signature,
    /// B5: the bits proof or a per-answer range proof.
    ChoiceProof,
    /// B6: a sum proof.
    RuleProof,
    /// B8: a proof of knowledge of the randomness of a ranked or graded answer.
    Knowledge,
}

impl BallotCheck {
    /// The check's number in §12.
    pub fn code(self) -> &'static str {
        match self {
            BallotCheck::Election => "B1",
            BallotCheck::Shape => "B3",
            BallotCheck::Signature => "B4",
            BallotCheck::ChoiceProof => "B5",
            BallotCheck::RuleProof => "B6",
            BallotCheck::Knowledge => "B8",
        }
    }
}

/// A ballot that failed a check, with the reason.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BallotRejection {
    pub check: BallotCheck,
    pub reason: String,
}

fn reject<T>(check: BallotCheck, reason: impl Into<String>) -> Result<T, BallotRejection> {
    Err(BallotRejection {
        check,
        reason: reason.into(),
    })
}

/// Checks B1 and B3: the election and the shape of every question.
pub fn check_shape(ctx: &VotingContext, ballot: &Ballot) -> Result<(), BallotRejection> {
    if ballot.election != ctx.fingerprint {
        return reject(BallotCheck::Election, "the ballot is for another election");
    }
    if ballot.credential.is_identity() {
        return reject(BallotCheck::Shape, "the credential is the neutral element");
    }
    if ballot.answers.len() != ctx.definition.questions.len() {
        return reject(BallotCheck::Shape, "wrong number of answers");
    }
    for (q, (answer, question)) in ballot
        .answers
        .iter()
        .zip(&ctx.definition.questions)
        .enumerate()
    {
        let n = question.answers.len();
        if answer.choices.len() != n {
            return reject(
                BallotCheck::Shape,
                format!("question {}: wrong number of choices", q + 1),
            );
        }
        if answer.blank.is_some() != question.blank {
            return reject(
                BallotCheck::Shape,
                format!(
                    "question {}: blank indicator present iff blank is allowed",
                    q + 1
                ),
            );
        }
        if answer.bits_proof.is_some() != (question.bit_count() > 0) {
            return reject(
                BallotCheck::Shape,
                format!("question {}: bits proof present iff required", q + 1),
            );
        }
        let per_answer = answer.choice_proofs.as_ref().map(Vec::len);
        if per_answer != question.has_range_proofs().then_some(n) {
            return reject(
                BallotCheck::Shape,
                format!(
                    "question {}: one range proof per answer iff max_per_answer > 1",
                    q + 1
                ),
            );
        }
        if answer.sum_proof.is_some() != ctx.sum_values[q].is_some() {
            return reject(
                BallotCheck::Shape,
                format!("question {}: sum proof present iff required", q + 1),
            );
        }
        let knowledge = answer.randomness_proofs.as_ref().map(Vec::len);
        if knowledge != question.is_mixed().then_some(n) {
            return reject(
                BallotCheck::Shape,
                format!(
                    "question {}: one proof of knowledge per answer iff the question is ranked or graded",
                    q + 1
                ),
            );
        }
    }
    Ok(())
}

/// Adds every equation of a ballot whose shape was checked to `batch`: the signature and
/// all proofs. `key` is the election key registered in the batch.
pub fn add_to_batch(
    ctx: &VotingContext,
    ballot: &Ballot,
    batch: &mut BatchVerifier,
    bases: &BallotBases,
    parts: BallotParts,
) -> Result<(), BallotRejection> {
    add_to_batch_with_digest(ctx, ballot, &ballot.content_digest(), batch, bases, parts)
}

/// [`add_to_batch`] with the ballot's content digest already computed.
pub fn add_to_batch_with_digest(
    ctx: &VotingContext,
    ballot: &Ballot,
    digest: &[u8; 64],
    batch: &mut BatchVerifier,
    bases: &BallotBases,
    parts: BallotParts,
) -> Result<(), BallotRejection> {
    let key = bases.key;
    let fp = &ctx.fingerprint;
    let cred = &ballot.credential;
    if parts.signature {
        let t = Ballot::signature_transcript(fp, digest);
        ballot.signature.add_to_batch(t, cred, batch);
    }
    for (q, (answer, question)) in ballot
        .answers
        .iter()
        .zip(&ctx.definition.questions)
        .enumerate()
    {
        if parts.choices {
            if let Some(proof) = &answer.bits_proof {
                let cts = question.bit_items(&answer.choices, answer.blank);
                let s = BitsStatement {
                    key: ctx.key.point(),
                    ciphertexts: &cts,
                };
                proof
                    .add_to_batch(
                        question_transcript(tags::BITS, fp, cred, q),
                        &s,
                        batch,
                        key,
                        &bases.bits,
                    )
                    .or_else(|e| {
                        reject(
                            BallotCheck::ChoiceProof,
                            format!("question {} bits proof: {e}", q + 1),
                        )
                    })?;
            }
            let proofs = answer.choice_proofs.iter().flatten();
            for (a, (ct, proof)) in answer.choices.iter().zip(proofs).enumerate() {
                let s = MembershipStatement {
                    key: ctx.key.point(),
                    ciphertext: ct,
                    values: &ctx.choice_values[q],
                };
                proof
                    .add_to_batch(choice_transcript(fp, cred, q, a), &s, batch, key)
                    .or_else(|e| {
                        reject(
                            BallotCheck::ChoiceProof,
                            format!("question {} answer {}: {e}", q + 1, a + 1),
                        )
                    })?;
            }
        }
        if parts.rules
            && let (Some(values), Some(proof)) = (&ctx.sum_values[q], &answer.sum_proof)
        {
            let ct = sum_ciphertext(answer, question.blank_marker());
            let s = MembershipStatement {
                key: ctx.key.point(),
                ciphertext: &ct,
                values,
            };
            proof
                .add_to_batch(question_transcript(tags::SUM, fp, cred, q), &s, batch, key)
                .or_else(|e| {
                    reject(
                        BallotCheck::RuleProof,
                        format!("question {} sum: {e}", q + 1),
                    )
                })?;
        }
        if parts.knowledge {
            let proofs = answer.randomness_proofs.iter().flatten();
            for (a, (ct, proof)) in answer.choices.iter().zip(proofs).enumerate() {
                proof.add_to_batch(
                    randomness_transcript(fp, cred, q, a),
                    ctx.key.point(),
                    ct,
                    batch,
                );
            }
        }
    }
    Ok(())
}

/// Which parts of a ballot [`add_to_batch`] checks.
#[derive(Clone, Copy, Debug)]
pub struct BallotParts {
    pub signature: bool,
    pub choices: bool,
    pub rules: bool,
    /// The proofs of knowledge of ranked and graded answers (B8).
    pub knowledge: bool,
}

impl BallotParts {
    /// Everything.
    pub const ALL: BallotParts = BallotParts {
        signature: true,
        choices: true,
        rules: true,
        knowledge: true,
    };
}

/// Verifies one ballot completely (shape, signature, every proof), naming the failed check.
/// Membership of the credential in the list is the caller's check (B2).
pub fn verify(ctx: &VotingContext, ballot: &Ballot) -> Result<(), BallotRejection> {
    check_shape(ctx, ballot)?;
    const NONE: BallotParts = BallotParts {
        signature: false,
        choices: false,
        rules: false,
        knowledge: false,
    };
    let parts = [
        (
            BallotCheck::Signature,
            BallotParts {
                signature: true,
                ..NONE
            },
        ),
        (
            BallotCheck::ChoiceProof,
            BallotParts {
                choices: true,
                ..NONE
            },
        ),
        (
            BallotCheck::RuleProof,
            BallotParts {
                rules: true,
                ..NONE
            },
        ),
        (
            BallotCheck::Knowledge,
            BallotParts {
                knowledge: true,
                ..NONE
            },
        ),
    ];
    for (check, part) in parts {
        let mut batch = BatchVerifier::new(&mut scrutin_crypto::rng::os_rng());
        let bases = ctx.register_bases(&mut batch);
        add_to_batch(ctx, ballot, &mut batch, &bases, part)?;
        if !batch.verify() {
            return reject(
                check,
                format!(
                    "{} does not verify",
                    match check {
                        BallotCheck::Signature => "the credential's signature",
                        BallotCheck::ChoiceProof => "the bits proof or a range proof of an answer",
                        BallotCheck::Knowledge =>
                            "a proof of knowledge of a ranked or graded answer's randomness",
                        _ => "a sum proof",
                    }
                ),
            );
        }
    }
    Ok(())
}

/// Checks a Benaloh audit (§10.6): the ballot is valid for this election and every
/// ciphertext opens to the claimed choices with the revealed randomness. On success
/// returns the choices, for the voter to compare with what they selected.
pub fn check_audit(
    ctx: &VotingContext,
    audit: &AuditedBallot,
) -> Result<Vec<QuestionChoice>, ElectionError> {
    verify(ctx, &audit.ballot)
        .map_err(|r| ElectionError::Invalid(format!("{}: {}", r.check.code(), r.reason)))?;
    validate_choices(&ctx.definition, &audit.choices)?;
    if audit.randomness.len() != audit.ballot.answers.len() {
        return invalid("the audit data has the wrong number of questions");
    }
    for (q, ((answer, choice), r)) in audit
        .ballot
        .answers
        .iter()
        .zip(&audit.choices)
        .zip(&audit.randomness)
        .enumerate()
    {
        let (values, is_blank) = choice.plaintexts(answer.choices.len());
        if r.choices.len() != answer.choices.len() {
            return invalid(format!("question {}: wrong number of random values", q + 1));
        }
        for (a, ((ct, v), rr)) in answer
            .choices
            .iter()
            .zip(&values)
            .zip(&r.choices)
            .enumerate()
        {
            if !ct.opens_to(ctx.key.point(), *v, rr) {
                return invalid(format!(
                    "question {} answer {}: the ciphertext does not encrypt {v}",
                    q + 1,
                    a + 1
                ));
            }
        }
        match (&answer.blank, r.blank) {
            (Some(ct), Some(rb)) => {
                if !ct.opens_to(ctx.key.point(), u64::from(is_blank), &rb) {
                    return invalid(format!(
                        "question {}: the blank indicator does not match",
                        q + 1
                    ));
                }
            }
            (None, None) => {}
            _ => {
                return invalid(format!(
                    "question {}: blank randomness missing or extra",
                    q + 1
                ));
            }
        }
    }
    Ok(audit.choices.clone())
}
