//! The tally (spec §11.8–§11.10): the encrypted tally is the weighted sum of the last
//! ballot of each credential; trustees publish decryption factors with proofs; the result
//! is their Lagrange combination, whose discrete logarithms are the counts.

use rand_core::CryptoRng;
use scrutin_crypto::batch::BatchVerifier;
use scrutin_crypto::dkg::KeyShare;
use scrutin_crypto::dlog::DlogTable;
use scrutin_crypto::elgamal::{Ciphertext, CiphertextSum};
use scrutin_crypto::threshold::{self, DecryptionFactor};
use scrutin_crypto::transcript::Transcript;
use scrutin_crypto::{Point, RistrettoPoint, Scalar};
use serde::{Deserialize, Serialize};

use crate::Hash32;
use crate::ballot::Ballot;
use crate::definition::ElectionDefinition;
use crate::error::{ElectionError, invalid};
use crate::mix::{MixedFactors, MixedResult};

/// One value per answer, and one for blank votes if the question allows them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PerQuestion<T> {
    pub choices: Vec<T>,
    #[serde(
        default = "none",
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::present"
    )]
    pub blank: Option<T>,
}

fn none<T>() -> Option<T> {
    None
}

impl<T> PerQuestion<T> {
    /// The values in the order of §11.8: each question's answers, then its blank value.
    pub fn flat(list: &[PerQuestion<T>]) -> impl Iterator<Item = &T> {
        list.iter()
            .flat_map(|q| q.choices.iter().chain(q.blank.iter()))
    }

    /// True when `list` has the shape of the definition's questions.
    pub fn has_shape(list: &[PerQuestion<T>], def: &ElectionDefinition) -> bool {
        list.len() == def.questions.len()
            && list.iter().zip(&def.questions).all(|(p, q)| {
                p.choices.len() == q.tallied_answers() && p.blank.is_some() == q.blank
            })
    }
}

/// The encrypted tally: one ciphertext per answer (and blank) of each question; none for
/// a ranked or graded question (§11.8).
pub type EncryptedTally = Vec<PerQuestion<Ciphertext>>;

/// A running weighted sum of ballots, kept as a flat list in the order of §11.8.
#[derive(Clone, Debug)]
pub struct TallyAccumulator {
    shape: Vec<(usize, bool)>,
    /// Which questions are ranked or graded (not summed).
    mixed: Vec<bool>,
    sums: Vec<CiphertextSum>,
}

impl TallyAccumulator {
    /// An empty tally for the definition's questions.
    pub fn new(def: &ElectionDefinition) -> Self {
        let shape: Vec<(usize, bool)> = def
            .questions
            .iter()
            .map(|q| (q.tallied_answers(), q.blank))
            .collect();
        let n = shape.iter().map(|(a, b)| a + usize::from(*b)).sum();
        TallyAccumulator {
            shape,
            mixed: def.questions.iter().map(|q| q.is_mixed()).collect(),
            sums: vec![CiphertextSum::default(); n],
        }
    }

    /// Adds `weight ×` each ciphertext, given in the flat order of the tally (§11.8) by a
    /// ballot whose shape was checked ([`Ballot::tallied_ciphertexts`]).
    pub fn add<'a>(&mut self, ciphertexts: impl Iterator<Item = &'a Ciphertext>, weight: u64) {
        for (s, c) in self.sums.iter_mut().zip(ciphertexts) {
            s.add_weighted(c, weight);
        }
    }

    /// Subtracts `weight ×` each ciphertext (a re-vote replaces an earlier ballot).
    pub fn remove<'a>(&mut self, ciphertexts: impl Iterator<Item = &'a Ciphertext>, weight: u64) {
        for (s, c) in self.sums.iter_mut().zip(ciphertexts) {
            let mut negated = CiphertextSum::default();
            negated.add_weighted(c, weight);
            s.alpha -= negated.alpha;
            s.beta -= negated.beta;
        }
    }

    /// Adds the homomorphic answers of a ballot with its weight (§11.8).
    pub fn add_ballot(&mut self, ballot: &Ballot, weight: u64) {
        let tallied = ballot
            .answers
            .iter()
            .zip(&self.mixed)
            .filter(|(_, mixed)| !**mixed)
            .flat_map(|(a, _)| a.choices.iter().chain(a.blank.iter()))
            .collect::<Vec<_>>();
        self.add(tallied.into_iter(), weight);
    }

    /// Adds another accumulator of the same election.
    pub fn merge(&mut self, other: &TallyAccumulator) {
        for (a, b) in self.sums.iter_mut().zip(&other.sums) {
            a.add_sum(b);
        }
    }

    /// The encoded encrypted tally.
    pub fn finish(&self) -> EncryptedTally {
        let mut it = self.sums.iter();
        self.shape
            .iter()
            .map(|(answers, blank)| PerQuestion {
                choices: it
                    .by_ref()
                    .take(*answers)
                    .map(CiphertextSum::finish)
                    .collect(),
                blank: if *blank {
                    it.next().map(CiphertextSum::finish)
                } else {
                    None
                },
            })
            .collect()
    }
}

/// The body of a `decryption_share` event: trustee `j`'s factor for every tally
/// ciphertext, and the hash of the `close` line it decrypts (§11.9).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecryptionShare {
    pub trustee: u32,
    /// SHA-256 of the `close` line whose tally the factors decrypt: the share commits to
    /// the record its trustee saw (D1).
    pub close_hash: Hash32,
    pub factors: Vec<PerQuestion<DecryptionFactor>>,
    /// The factors of the last shuffle's rows of every ranked or graded question
    /// (§11.13); present iff the election has such a question.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::present"
    )]
    pub mixed: Option<MixedFactors>,
}

/// The body of the `result` event.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ElectionResult {
    /// The trustees whose shares were combined.
    pub trustees: Vec<u32>,
    /// How many credentials have a counted ballot.
    pub ballots_counted: u64,
    /// Their total weight.
    pub total_weight: u64,
    /// The weighted count of every answer (and blank votes).
    pub questions: Vec<PerQuestion<u64>>,
    /// The decrypted ballots and the count of every ranked or graded question (§11.14);
    /// present iff the election has such a question.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::present"
    )]
    pub mixed: Option<Vec<MixedResult>>,
}

fn share_transcript(fp: &Hash32, trustee: u32, position: usize) -> Transcript {
    let mut t = Transcript::new(threshold::TAG);
    t.append("election", &fp.0)
        .append_u64("trustee", trustee.into())
        .append_u64("position", position as u64);
    t
}

/// Trustee `share.index` computes its decryption share of the tally (§11.9).
pub fn decryption_share<R: CryptoRng + ?Sized>(
    fp: &Hash32,
    close_hash: Hash32,
    tally: &EncryptedTally,
    share: &KeyShare,
    verification_key: &Point,
    rng: &mut R,
) -> DecryptionShare {
    let mut position = 0usize;
    let mut factor = |c: &Ciphertext| {
        let f = DecryptionFactor::compute(
            share_transcript(fp, share.index, position),
            share,
            verification_key,
            &c.alpha,
            rng,
        );
        position += 1;
        f
    };
    let factors = tally
        .iter()
        .map(|q| PerQuestion {
            choices: q.choices.iter().map(&mut factor).collect(),
            blank: q.blank.as_ref().map(&mut factor),
        })
        .collect();
    DecryptionShare {
        trustee: share.index,
        close_hash,
        factors,
        mixed: None,
    }
}

/// Adds the proofs of a decryption share to a batch after checking its shape (D1).
pub fn add_share_to_batch(
    fp: &Hash32,
    def: &ElectionDefinition,
    tally: &EncryptedTally,
    share: &DecryptionShare,
    verification_key: &Point,
    batch: &mut BatchVerifier,
) -> Result<(), ElectionError> {
    if !PerQuestion::has_shape(&share.factors, def) {
        return invalid("the decryption share does not have the shape of the tally");
    }
    let pairs = PerQuestion::flat(tally).zip(PerQuestion::flat(&share.factors));
    for (position, (c, f)) in pairs.enumerate() {
        let t = share_transcript(fp, share.trustee, position);
        f.proof
            .add_to_batch(t, &f.statement(verification_key, &c.alpha), batch);
    }
    Ok(())
}

/// `β − Σ λⱼ Dⱼ` for every tally ciphertext, from the shares of the given trustees.
fn combined_points(
    tally: &EncryptedTally,
    shares: &[&DecryptionShare],
) -> Result<Vec<RistrettoPoint>, ElectionError> {
    let indices: Vec<u32> = shares.iter().map(|s| s.trustee).collect();
    let lambdas = threshold::lagrange_at_zero(&indices)?;
    let mut flats: Vec<_> = shares
        .iter()
        .map(|s| PerQuestion::flat(&s.factors))
        .collect();
    let mut out = Vec::new();
    for c in PerQuestion::flat(tally) {
        let mut m = *c.beta.point();
        for (lambda, it) in lambdas.iter().zip(flats.iter_mut()) {
            let f = it
                .next()
                .ok_or_else(|| ElectionError::Invalid("a decryption share is too short".into()))?;
            m -= f.factor.point() * lambda;
        }
        out.push(m);
    }
    Ok(out)
}

fn reshape(def: &ElectionDefinition, flat: Vec<u64>) -> Vec<PerQuestion<u64>> {
    let mut it = flat.into_iter();
    def.questions
        .iter()
        .map(|q| PerQuestion {
            choices: it.by_ref().take(q.tallied_answers()).collect(),
            blank: if q.blank { it.next() } else { None },
        })
        .collect()
}

/// Combines verified shares of at least `k` trustees into the result (§11.10), solving
/// each count by baby-step giant-step below `total_weight × max_per_answer`.
pub fn combine(
    def: &ElectionDefinition,
    tally: &EncryptedTally,
    shares: &[&DecryptionShare],
    ballots_counted: u64,
    total_weight: u64,
) -> Result<ElectionResult, ElectionError> {
    if shares.len() < def.threshold as usize {
        return invalid(format!(
            "{} decryption shares, {} needed",
            shares.len(),
            def.threshold
        ));
    }
    let shares = &shares[..def.threshold as usize];
    let points = combined_points(tally, shares)?;
    let table = DlogTable::new(total_weight.saturating_mul(def.max_per_answer()))?;
    let counts = points
        .iter()
        .map(|p| table.solve(p))
        .collect::<Result<Vec<u64>, _>>()?;
    Ok(ElectionResult {
        trustees: shares.iter().map(|s| s.trustee).collect(),
        ballots_counted,
        total_weight,
        questions: reshape(def, counts),
        mixed: None,
    })
}

/// Checks the claimed counts against the shares (D3): `count·G = β − Σ λⱼ Dⱼ` for each.
pub fn check_counts(
    def: &ElectionDefinition,
    tally: &EncryptedTally,
    shares: &[&DecryptionShare],
    result: &ElectionResult,
) -> Result<(), ElectionError> {
    if !PerQuestion::has_shape(&result.questions, def) {
        return invalid("the result does not have the shape of the questions");
    }
    let points = combined_points(tally, shares)?;
    for (n, (p, count)) in points
        .iter()
        .zip(PerQuestion::flat(&result.questions))
        .enumerate()
    {
        if RistrettoPoint::mul_base(&Scalar::from(*count)) != *p {
            return invalid(format!(
                "count number {} of the result does not match the decryption",
                n + 1
            ));
        }
    }
    Ok(())
}
