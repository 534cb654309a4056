//! Ranked and graded questions after `close` (spec §11.12–§11.14): the trustees'
//! shuffles of the ballots' rows, the decryption of every row of the last shuffle, and
//! the count.
//!
//! A ranked or graded question `q` with `A` answers has one **row** of `A` ciphertexts per
//! counted ballot (§10.7). The first shuffle's input is the rows of the last ballot of each
//! credential that voted, in the order of the credential list, each repeated `w(S)` times
//! (its weight); each next shuffle's input is the previous one's output (§11.12). Every
//! shuffle is proved (§5.5) under
//!
//! ```text
//!   start("shuffle") ‖ item("election", fp) ‖ item("trustee", u64_le(j)) ‖ item("question", u64_le(q))
//! ```
//! After the shuffles, each decrypting trustee publishes a factor `Dⱼ = xⱼα` for every
//! ciphertext of the last output, with a Chaum–Pedersen proof under
//! `start("decryption-share") ‖ item("election", fp) ‖ item("trustee", u64_le(j)) ‖
//! item("question", u64_le(q)) ‖ item("row", u64_le(i)) ‖ item("column", u64_le(k))`
//! (§11.13). The result gives each decrypted value `m` with `mG = β − Σ λⱼDⱼ`, or `null`
//! when no `m` in `0 … V` fits (§8.3), and the count of [`crate::count`] of those ballots
//! (§11.14), which a verifier recomputes.

use rand_core::CryptoRng;
use scrutin_crypto::batch::BatchVerifier;
use scrutin_crypto::dkg::KeyShare;
use scrutin_crypto::dlog::DlogTable;
use scrutin_crypto::elgamal::{Ciphertext, EncryptionKey};
use scrutin_crypto::shuffle::{self, ShuffleProof, ShuffleStatement};
use scrutin_crypto::threshold::{self, DecryptionFactor};
use scrutin_crypto::transcript::Transcript;
use scrutin_crypto::{Point, RistrettoPoint, Scalar};
use serde::{Deserialize, Serialize};

use crate::Hash32;
use crate::count::{
    self, Counted, Lot, irv::IrvResult, majority_judgment::MajorityJudgmentResult,
    schulze::SchulzeResult, stv::StvResult,
};
use crate::definition::{ElectionDefinition, Method, Question};
use crate::error::{ElectionError, invalid};

/// Domain tag of the proofs of the trustees' shuffles (§3.1, Table 2).
pub const SHUFFLE_TAG: &str = "shuffle";

/// The rows of one ranked or graded question: `rows[i][k]` is answer `k` of row `i`.
pub type Rows = Vec<Vec<Ciphertext>>;

/// One question's part of a `shuffle` event: the output rows and the proof (§11.12).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuestionShuffle {
    pub outputs: Rows,
    pub proof: ShuffleProof,
}

/// The body of a `shuffle` event (§11.12): trustee `trustee` shuffles the rows of every
/// ranked or graded question, in question order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Shuffle {
    pub trustee: u32,
    pub questions: Vec<QuestionShuffle>,
}

/// The numbers of the ranked and graded questions of a definition, in order (§8.1).
pub fn mixed_questions(def: &ElectionDefinition) -> Vec<usize> {
    def.questions
        .iter()
        .enumerate()
        .filter(|(_, q)| q.is_mixed())
        .map(|(n, _)| n)
        .collect()
}

/// The caller transcript of trustee `trustee`'s shuffle of question `q` (§11.12).
pub fn shuffle_transcript(fp: &Hash32, trustee: u32, q: usize) -> Transcript {
    let mut t = Transcript::new(SHUFFLE_TAG);
    t.append("election", &fp.0)
        .append_u64("trustee", trustee.into())
        .append_u64("question", q as u64);
    t
}

/// Trustee `trustee` shuffles `inputs` (one list of rows per ranked or graded question,
/// numbered `questions`) and proves each shuffle (§5.5, §11.12).
pub fn shuffle_rows<R: CryptoRng + ?Sized>(
    fp: &Hash32,
    key: &Point,
    trustee: u32,
    questions: &[usize],
    inputs: &[Rows],
    rng: &mut R,
) -> Result<Shuffle, ElectionError> {
    let enc = EncryptionKey::new(*key);
    let mut out = Vec::with_capacity(inputs.len());
    for (q, rows) in questions.iter().zip(inputs) {
        let (outputs, witness) = shuffle::shuffle(&enc, rows, rng)?;
        let statement = ShuffleStatement {
            key,
            inputs: rows,
            outputs: &outputs,
        };
        let proof = ShuffleProof::prove(
            shuffle_transcript(fp, trustee, *q),
            &statement,
            &witness,
            rng,
        )?;
        out.push(QuestionShuffle { outputs, proof });
    }
    Ok(Shuffle {
        trustee,
        questions: out,
    })
}

/// Adds every proof of `shuffle` to `batch`, its inputs being `inputs` (§11.12, M1).
pub fn add_shuffle_to_batch(
    fp: &Hash32,
    key: &Point,
    questions: &[usize],
    inputs: &[Rows],
    shuffle: &Shuffle,
    batch: &mut BatchVerifier,
) -> Result<(), ElectionError> {
    if shuffle.questions.len() != questions.len() || inputs.len() != questions.len() {
        return invalid(format!(
            "the shuffle has {} questions, the election {} ranked or graded ones",
            shuffle.questions.len(),
            questions.len()
        ));
    }
    for ((q, rows), part) in questions.iter().zip(inputs).zip(&shuffle.questions) {
        let statement = ShuffleStatement {
            key,
            inputs: rows,
            outputs: &part.outputs,
        };
        part.proof
            .add_to_batch(
                shuffle_transcript(fp, shuffle.trustee, *q),
                &statement,
                batch,
            )
            .map_err(|e| ElectionError::Invalid(format!("question {}: {e}", q + 1)))?;
    }
    Ok(())
}

/// The caller transcript of the decryption factor of answer `column` of row `row` of
/// question `q` (§11.13).
fn factor_transcript(fp: &Hash32, trustee: u32, q: usize, row: usize, column: usize) -> Transcript {
    let mut t = Transcript::new(threshold::TAG);
    t.append("election", &fp.0)
        .append_u64("trustee", trustee.into())
        .append_u64("question", q as u64)
        .append_u64("row", row as u64)
        .append_u64("column", column as u64);
    t
}

/// Factors of one trustee for every ciphertext of the last shuffle's rows (§11.13):
/// per ranked or graded question, per row, per answer.
pub type MixedFactors = Vec<Vec<Vec<DecryptionFactor>>>;

/// Trustee `share.index`'s factors for `rows` (the last shuffle's outputs, §11.13).
pub fn decryption_factors<R: CryptoRng + ?Sized>(
    fp: &Hash32,
    questions: &[usize],
    rows: &[Rows],
    share: &KeyShare,
    verification_key: &Point,
    rng: &mut R,
) -> MixedFactors {
    questions
        .iter()
        .zip(rows)
        .map(|(q, rows)| {
            rows.iter()
                .enumerate()
                .map(|(i, row)| {
                    row.iter()
                        .enumerate()
                        .map(|(k, c)| {
                            DecryptionFactor::compute(
                                factor_transcript(fp, share.index, *q, i, k),
                                share,
                                verification_key,
                                &c.alpha,
                                rng,
                            )
                        })
                        .collect()
                })
                .collect()
        })
        .collect()
}

/// Checks the shape of trustee `trustee`'s factors against `rows` and adds their proofs to
/// `batch` (§11.13, D1).
pub fn add_factors_to_batch(
    fp: &Hash32,
    trustee: u32,
    questions: &[usize],
    rows: &[Rows],
    factors: &MixedFactors,
    verification_key: &Point,
    batch: &mut BatchVerifier,
) -> Result<(), ElectionError> {
    let same_shape = factors.len() == rows.len()
        && factors
            .iter()
            .zip(rows)
            .all(|(f, r)| f.len() == r.len() && f.iter().zip(r).all(|(f, r)| f.len() == r.len()));
    if !same_shape {
        return invalid(
            "the factors of ranked and graded answers do not have the shape of the last shuffle's rows",
        );
    }
    for ((q, rows), factors) in questions.iter().zip(rows).zip(factors) {
        for (i, (row, f)) in rows.iter().zip(factors).enumerate() {
            for (k, (c, f)) in row.iter().zip(f).enumerate() {
                f.proof.add_to_batch(
                    factor_transcript(fp, trustee, *q, i, k),
                    &f.statement(verification_key, &c.alpha),
                    batch,
                );
            }
        }
    }
    Ok(())
}

/// The count of one ranked or graded question, by method (§11.14).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub enum CountResult {
    Schulze(SchulzeResult),
    Stv(StvResult),
    Irv(IrvResult),
    MajorityJudgment(MajorityJudgmentResult),
}

/// One ranked or graded question in the `result` (§11.14): every decrypted row of the last
/// shuffle, in its order (`None`, written `null`, for a value that is no `m ≤ V`), and the
/// count of those ballots.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MixedResult {
    pub ballots: Vec<Vec<Option<u64>>>,
    pub count: CountResult,
}

/// The value a count is given for a decrypted entry that is no `m ≤ V`: out of every
/// range, so the ballot is counted as invalid (§11.14).
const OUT_OF_RANGE: u32 = u32::MAX;

/// The count of decrypted rows for `question` (§11.14): ranks as given (`0` = unranked),
/// grade index `g` as the count's grade `len(grades) − 1 − g` (0 = worst there), candidates
/// listed in ballot order for the ties that only a lot breaks (`Lot::listed`).
pub fn count_rows(
    question: &Question,
    ballots: &[Vec<Option<u64>>],
) -> Result<CountResult, ElectionError> {
    let candidates = question.answers.len();
    let value = |v: &Option<u64>| {
        v.and_then(|v| u32::try_from(v).ok())
            .unwrap_or(OUT_OF_RANGE)
    };
    let ranked = || -> Vec<Counted<Vec<Option<u32>>>> {
        ballots
            .iter()
            .map(|row| {
                Counted::one(
                    row.iter()
                        .map(|v| match value(v) {
                            0 => None,
                            r => Some(r),
                        })
                        .collect(),
                )
            })
            .collect()
    };
    let lot = Lot::listed(candidates);
    Ok(match question.method {
        Some(Method::Schulze) => {
            CountResult::Schulze(count::schulze::count(candidates, &ranked())?)
        }
        Some(Method::Irv) => CountResult::Irv(count::irv::count(candidates, &ranked(), &lot)?),
        Some(Method::Stv) => {
            let seats = question
                .seats
                .and_then(|s| usize::try_from(s).ok())
                .unwrap_or(0);
            CountResult::Stv(count::stv::count(candidates, seats, &ranked(), &lot)?)
        }
        Some(Method::MajorityJudgment) => {
            let scale = question.grades.as_ref().map_or(0, Vec::len) as u32;
            let graded: Vec<Counted<Vec<u32>>> = ballots
                .iter()
                .map(|row| {
                    Counted::one(
                        row.iter()
                            .map(|v| match value(v) {
                                g if g < scale => scale - 1 - g,
                                _ => OUT_OF_RANGE,
                            })
                            .collect(),
                    )
                })
                .collect();
            CountResult::MajorityJudgment(count::majority_judgment::count(
                candidates, scale, &graded,
            )?)
        }
        None => return invalid("a homomorphic question is not counted ballot by ballot"),
    })
}

/// `β − Σ λⱼDⱼ` for every ciphertext of `rows`, from the factors of the trustees
/// `trustees` (§7.2), row by row.
fn combined(
    rows: &Rows,
    trustees: &[u32],
    factors: &[&Vec<Vec<DecryptionFactor>>],
) -> Result<Vec<Vec<RistrettoPoint>>, ElectionError> {
    let lambdas = threshold::lagrange_at_zero(trustees)?;
    rows.iter()
        .enumerate()
        .map(|(i, row)| {
            row.iter()
                .enumerate()
                .map(|(k, c)| {
                    let mut m = *c.beta.point();
                    for (lambda, f) in lambdas.iter().zip(factors) {
                        let d = f.get(i).and_then(|r| r.get(k)).ok_or_else(|| {
                            ElectionError::Invalid("a decryption factor is missing".into())
                        })?;
                        m -= d.factor.point() * lambda;
                    }
                    Ok(m)
                })
                .collect()
        })
        .collect()
}

/// The factors of question number `n` (among the ranked and graded ones) of each share (§11.13).
fn factors_of<'a>(
    shares: &[&'a MixedFactors],
    n: usize,
) -> Result<Vec<&'a Vec<Vec<DecryptionFactor>>>, ElectionError> {
    shares
        .iter()
        .map(|s| {
            s.get(n)
                .ok_or_else(|| ElectionError::Invalid("a decryption share is too short".into()))
        })
        .collect()
}

/// Decrypts the rows of the last shuffle with the verified factors of `trustees` and
/// counts them (§11.14): the `mixed` member of the result.
pub fn decrypt_and_count(
    def: &ElectionDefinition,
    rows: &[Rows],
    trustees: &[u32],
    shares: &[&MixedFactors],
) -> Result<Vec<MixedResult>, ElectionError> {
    let questions = mixed_questions(def);
    let mut out = Vec::with_capacity(questions.len());
    for (n, (q, rows)) in questions.iter().zip(rows).enumerate() {
        let question = &def.questions[*q];
        let table = DlogTable::new(question.value_bound())?;
        let points = combined(rows, trustees, &factors_of(shares, n)?)?;
        let ballots: Vec<Vec<Option<u64>>> = points
            .iter()
            .map(|row| row.iter().map(|p| table.solve(p).ok()).collect())
            .collect();
        let count = count_rows(question, &ballots)?;
        out.push(MixedResult { ballots, count });
    }
    Ok(out)
}

/// Which check of §12 a ranked or graded part of the result fails, with the reason.
pub struct MixedFault {
    /// `D5` (a decrypted value) or `D6` (the count).
    pub check: &'static str,
    pub message: String,
}

/// Checks the `mixed` member of a result (§11.14, D5, D6): one entry per ranked or graded question;
/// every decrypted value `m` satisfies `mG = β − Σ λⱼDⱼ` and every `null` stands where no
/// `m ≤ V` does; the count is the one [`count_rows`] gives for those ballots.
pub fn check_result(
    def: &ElectionDefinition,
    rows: &[Rows],
    trustees: &[u32],
    shares: &[&MixedFactors],
    results: &[MixedResult],
) -> Result<(), MixedFault> {
    let d5 = |message: String| MixedFault {
        check: "D5",
        message,
    };
    let questions = mixed_questions(def);
    if results.len() != questions.len() || rows.len() != questions.len() {
        return Err(d5(format!(
            "the result has {} ranked or graded questions, the election {}",
            results.len(),
            questions.len()
        )));
    }
    for (n, ((q, rows), result)) in questions.iter().zip(rows).zip(results).enumerate() {
        let question = &def.questions[*q];
        let shape_ok = result.ballots.len() == rows.len()
            && result
                .ballots
                .iter()
                .zip(rows)
                .all(|(b, r)| b.len() == r.len());
        if !shape_ok {
            return Err(d5(format!(
                "question {}: the decrypted ballots do not have the shape of the last shuffle's rows",
                q + 1
            )));
        }
        let table = DlogTable::new(question.value_bound()).map_err(|e| d5(e.to_string()))?;
        let factors = factors_of(shares, n).map_err(|e| d5(e.to_string()))?;
        let points = combined(rows, trustees, &factors).map_err(|e| d5(e.to_string()))?;
        for (i, (claimed, points)) in result.ballots.iter().zip(&points).enumerate() {
            for (k, (m, p)) in claimed.iter().zip(points).enumerate() {
                let ok = match m {
                    Some(m) => {
                        *m <= question.value_bound()
                            && RistrettoPoint::mul_base(&Scalar::from(*m)) == *p
                    }
                    None => table.solve(p).is_err(),
                };
                if !ok {
                    return Err(d5(format!(
                        "question {}: the value of answer {} of decrypted ballot {} does not match the decryption",
                        q + 1,
                        k + 1,
                        i
                    )));
                }
            }
        }
        let expected = count_rows(question, &result.ballots).map_err(|e| MixedFault {
            check: "D6",
            message: format!("question {}: {e}", q + 1),
        })?;
        if expected != result.count {
            return Err(MixedFault {
                check: "D6",
                message: format!(
                    "question {}: the count is not the {} count of the decrypted ballots",
                    q + 1,
                    question.method.map_or("", Method::name)
                ),
            });
        }
    }
    Ok(())
}
