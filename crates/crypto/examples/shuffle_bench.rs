//! Times a verifiable shuffle (spec §5.5): shuffling, proving and verifying `N` rows of
//! `w` ciphertexts, on one thread.
//!
//! ```text
//! cargo run --release -p scrutin-crypto --example shuffle_bench -- [N] [w]
//! ```
//! (`N = 1000`, `w = 10` by default.)
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use scrutin_crypto::Scalar;
use scrutin_crypto::elgamal::{Ciphertext, EncryptionKey, SecretScalar};
use scrutin_crypto::rng::os_rng;
use scrutin_crypto::shuffle::{ShuffleProof, ShuffleStatement, shuffle};
use scrutin_crypto::transcript::Transcript;

fn arg(i: usize, default: usize) -> usize {
    std::env::args()
        .nth(i)
        .map(|a| a.parse().expect("a positive integer"))
        .unwrap_or(default)
}

fn report(what: &str, d: Duration, rows: usize) {
    println!(
        "{what:<16} {:>9.3} s   {:>8.1} µs per row",
        d.as_secs_f64(),
        d.as_secs_f64() * 1e6 / rows as f64
    );
}

fn main() {
    let (n, w) = (arg(1, 1000), arg(2, 10));
    let mut rng = os_rng();
    let secret = SecretScalar::new(Scalar::random(&mut rng));
    let key = EncryptionKey::new(secret.public());
    let items: Vec<(u64, Scalar)> = (0..n * w)
        .map(|i| ((i % 7) as u64, Scalar::random(&mut rng)))
        .collect();
    let (flat, _) = Ciphertext::encrypt_many(&key, &items);
    let inputs: Vec<Vec<Ciphertext>> = flat.chunks(w).map(<[Ciphertext]>::to_vec).collect();
    let mut t = Transcript::new("test-shuffle");
    t.append("context", b"benchmark");
    println!("{n} rows of {w} ciphertexts");

    let start = Instant::now();
    let (outputs, witness) = shuffle(&key, &inputs, &mut rng).unwrap();
    let shuffled = start.elapsed();
    let s = ShuffleStatement {
        key: key.point(),
        inputs: &inputs,
        outputs: &outputs,
    };
    let start = Instant::now();
    let proof = ShuffleProof::prove(t.clone(), &s, &witness, &mut rng).unwrap();
    let proved = start.elapsed();
    let start = Instant::now();
    proof.verify(t, &s).unwrap();
    let verified = start.elapsed();

    report("shuffle", shuffled, n);
    report("prove", proved, n);
    report("shuffle + prove", shuffled + proved, n);
    report("verify", verified, n);
    let json = serde_json::to_string(&proof).unwrap();
    println!("proof            {:>9} bytes of JSON", json.len());
}
