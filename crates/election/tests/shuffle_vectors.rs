//! The shuffle test vector of spec §13 (`docs/test-vectors/shuffle.json`, §5.5) verifies
//! with the reference verifier, its published values are those the verifier computes, and
//! a tampered copy fails.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde::Deserialize;
use serde_json::Value;

use scrutin_election::crypto::elgamal::{Ciphertext, EncryptionKey, SecretScalar};
use scrutin_election::crypto::group::scalar_from_hex;
use scrutin_election::crypto::shuffle::{
    ShuffleProof, ShuffleStatement, ShuffleWitness, generator_f, generator_j,
};
use scrutin_election::crypto::transcript::Transcript;
use scrutin_election::crypto::{Point, Scalar};

fn read() -> String {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/test-vectors/shuffle.json"
    );
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn hex_of(v: &Value) -> &str {
    v.as_str().expect("a hexadecimal string")
}

fn rows(v: &Value) -> Vec<Vec<Ciphertext>> {
    Vec::<Vec<Ciphertext>>::deserialize(v).unwrap()
}

fn scalars(v: &Value) -> Vec<Scalar> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| scalar_from_hex(hex_of(s)).unwrap())
        .collect()
}

/// The caller transcript of the vector, built from the spec: `start("test-shuffle") ‖
/// item("election", fp)`.
fn caller(v: &Value) -> Transcript {
    let fp = hex::decode(hex_of(&v["fingerprint"])).unwrap();
    let mut t = Transcript::new("test-shuffle");
    t.append("election", &fp);
    t
}

struct Vector {
    t: Transcript,
    key: Point,
    inputs: Vec<Vec<Ciphertext>>,
    outputs: Vec<Vec<Ciphertext>>,
    proof: ShuffleProof,
}

impl Vector {
    fn parse(text: &str) -> (Value, Vector) {
        let v: Value = serde_json::from_str(text).unwrap();
        let vector = Vector {
            t: caller(&v),
            key: Point::from_hex(hex_of(&v["key"])).unwrap(),
            inputs: rows(&v["inputs"]),
            outputs: rows(&v["outputs"]),
            proof: ShuffleProof::deserialize(&v["proof"]).unwrap(),
        };
        (v, vector)
    }

    fn statement(&self) -> ShuffleStatement<'_> {
        ShuffleStatement {
            key: &self.key,
            inputs: &self.inputs,
            outputs: &self.outputs,
        }
    }

    fn verify(&self) -> bool {
        self.proof.verify(self.t.clone(), &self.statement()).is_ok()
    }
}

#[test]
fn the_shuffle_vector_verifies_and_its_values_are_the_verifiers() {
    let (v, vector) = Vector::parse(&read());
    assert_eq!(
        hex::encode(vector.t.bytes()),
        hex_of(&v["caller_transcript_hex"])
    );
    assert_eq!(
        (v["rows"].as_u64(), v["width"].as_u64()),
        (Some(3), Some(2))
    );
    assert!(vector.verify());

    let (u, c) = vector
        .proof
        .challenge_values(vector.t.clone(), &vector.statement())
        .unwrap();
    assert_eq!(u, scalars(&v["u"]));
    assert_eq!(c, scalar_from_hex(hex_of(&v["challenge"])).unwrap());
    let j = Point::from_point(generator_j(&vector.t));
    assert_eq!(j.to_hex(), hex_of(&v["generators"]["J"]));
    for (i, f) in v["generators"]["F"].as_array().unwrap().iter().enumerate() {
        assert_eq!(
            Point::from_point(generator_f(&vector.t, i)).to_hex(),
            hex_of(f)
        );
    }

    // The outputs are the inputs permuted and re-encrypted with the published witness,
    // and the inputs encrypt the published messages with the published randomness.
    let key = EncryptionKey::new(vector.key);
    let permutation: Vec<usize> = v["permutation"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j.as_u64().unwrap() as usize)
        .collect();
    let randomness: Vec<Vec<SecretScalar>> = v["reencryption_randomness"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| scalars(row).into_iter().map(SecretScalar::new).collect())
        .collect();
    let witness = ShuffleWitness::new(permutation, randomness).unwrap();
    assert_eq!(witness.apply(&key, &vector.inputs).unwrap(), vector.outputs);
    let messages = v["input_messages"].as_array().unwrap();
    let input_randomness = scalars(&v["input_randomness"]);
    for (i, row) in vector.inputs.iter().enumerate() {
        for (k, e) in row.iter().enumerate() {
            let m = messages[i][k].as_u64().unwrap();
            assert!(e.opens_to(&vector.key, m, &input_randomness[2 * i + k]));
        }
    }
    // A proof made again from the published witness verifies too (another proof, the
    // prover's nonces being fresh).
    let again = ShuffleProof::prove(
        vector.t.clone(),
        &vector.statement(),
        &witness,
        &mut scrutin_election::crypto::rng::os_rng(),
    )
    .unwrap();
    assert!(again.verify(vector.t.clone(), &vector.statement()).is_ok());
    assert_ne!(again, vector.proof);
}

#[test]
fn a_tampered_shuffle_vector_fails() {
    let text = read();
    let (v, vector) = Vector::parse(&text);
    assert!(vector.verify());

    // A response changed in the file.
    let s1 = hex_of(&v["proof"]["s1"]);
    let bumped = scalar_from_hex(s1).unwrap() + Scalar::ONE;
    let edited = text.replace(s1, &hex::encode(bumped.as_bytes()));
    assert_ne!(edited, text);
    assert!(!Vector::parse(&edited).1.verify());

    // A commitment of the chain replaced by another point of the file.
    let chain0 = hex_of(&v["proof"]["chain"][0]);
    let edited = text.replace(chain0, hex_of(&v["proof"]["t1"]));
    assert!(!Vector::parse(&edited).1.verify());

    // Two output rows swapped, an input changed, another election.
    let mut swapped = Vector::parse(&text).1;
    swapped.outputs.swap(0, 2);
    assert!(!swapped.verify());
    let mut changed = Vector::parse(&text).1;
    changed.inputs[1][0] = changed.outputs[1][0];
    assert!(!changed.verify());
    let mut other = Vector::parse(&text).1;
    other.t = Transcript::new("test-shuffle");
    other.t.append("election", &[0u8; 32]);
    assert!(!other.verify());

    // Widths cut: the first column alone with the full proof.
    let mut narrow = Vector::parse(&text).1;
    for row in narrow.inputs.iter_mut().chain(narrow.outputs.iter_mut()) {
        row.truncate(1);
    }
    assert!(!narrow.verify());
}
