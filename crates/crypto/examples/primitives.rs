//! Times the group operations that ballots are made of (for docs/PERFORMANCE.md):
//! `cargo run --release -p scrutin-crypto --example primitives`.
#![allow(clippy::unwrap_used)]

use std::hint::black_box;
use std::time::Instant;

use curve25519_dalek::constants::RISTRETTO_BASEPOINT_POINT as G;
use curve25519_dalek::ristretto::{CompressedRistretto, RistrettoBasepointTable, RistrettoPoint};
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::VartimeMultiscalarMul;
use scrutin_crypto::rng::os_rng;

fn time(name: &str, n: u32, mut f: impl FnMut(u32)) {
    let start = Instant::now();
    for i in 0..n {
        f(i);
    }
    println!(
        "{name:<44} {:>8.2} µs",
        start.elapsed().as_secs_f64() * 1e6 / f64::from(n)
    );
}

fn main() {
    let mut rng = os_rng();
    let s: Vec<Scalar> = (0..65536).map(|_| Scalar::random(&mut rng)).collect();
    let p: Vec<RistrettoPoint> = s.iter().map(|x| G * x).collect();
    let c: Vec<CompressedRistretto> = p.iter().map(|x| x.compress()).collect();
    let table = RistrettoBasepointTable::create(&p[0]);
    let n = 2000;
    time("fixed base (static G table)", n, |i| {
        black_box(RistrettoPoint::mul_base(&s[i as usize]));
    });
    time("fixed base (table of H)", n, |i| {
        black_box(&table * &s[i as usize]);
    });
    time("variable base, constant time", n, |i| {
        black_box(p[i as usize] * s[i as usize]);
    });
    time("vartime aP + bG", n, |i| {
        black_box(RistrettoPoint::vartime_double_scalar_mul_basepoint(
            &s[i as usize],
            &p[i as usize],
            &s[(i + 1) as usize],
        ));
    });
    time("compress", n, |i| {
        black_box(p[i as usize].compress());
    });
    time("decompress", n, |i| {
        black_box(c[i as usize].decompress());
    });
    time("create table of H", 200, |i| {
        black_box(RistrettoBasepointTable::create(&p[i as usize]));
    });
    for size in [64usize, 1024, 4096, 16384, 65536] {
        time(
            &format!("vartime MSM, per point, {size} points"),
            (20_000 / size as u32).max(3),
            |_| {
                black_box(RistrettoPoint::vartime_multiscalar_mul(
                    &s[..size],
                    &p[..size],
                ));
            },
        );
        let start = Instant::now();
        let reps = (20_000 / size).max(3);
        for _ in 0..reps {
            black_box(RistrettoPoint::vartime_multiscalar_mul(
                &s[..size],
                &p[..size],
            ));
        }
        println!(
            "  = {:.2} µs per point",
            start.elapsed().as_secs_f64() * 1e6 / (reps * size) as f64
        );
    }
}
