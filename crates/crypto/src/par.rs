//! Data parallelism for the long loops of a shuffle and of a batch verification (spec
//! §5.5, §5.7): on all cores with rayon when the `parallel` feature is on (the
//! command-line tool and the server), one item after another without it (the browser,
//! whose WebAssembly has one thread). The results are the same either way: only the order
//! in which independent items are computed changes.

use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::{Identity, VartimeMultiscalarMul};

/// `f` on every item, the results in the items' order.
#[cfg(feature = "parallel")]
pub(crate) fn map<T: Sync, U: Send>(items: &[T], f: impl Fn(&T) -> U + Sync + Send) -> Vec<U> {
    use rayon::prelude::*;
    items.par_iter().map(f).collect()
}

/// `f` on every item, the results in the items' order.
#[cfg(not(feature = "parallel"))]
pub(crate) fn map<T: Sync, U: Send>(items: &[T], f: impl Fn(&T) -> U + Sync + Send) -> Vec<U> {
    items.iter().map(f).collect()
}

/// `f(0) … f(n − 1)`, in that order.
#[cfg(feature = "parallel")]
pub(crate) fn map_range<U: Send>(n: usize, f: impl Fn(usize) -> U + Sync + Send) -> Vec<U> {
    use rayon::prelude::*;
    (0..n).into_par_iter().map(f).collect()
}

/// `f(0) … f(n − 1)`, in that order.
#[cfg(not(feature = "parallel"))]
pub(crate) fn map_range<U: Send>(n: usize, f: impl Fn(usize) -> U + Sync + Send) -> Vec<U> {
    (0..n).map(f).collect()
}

/// Fewest terms of one part of a split multiscalar multiplication: below this, Pippenger's
/// method loses more to the split than the cores win.
const MIN_PART: usize = 1 << 14;

/// `Σᵢ sᵢPᵢ` in variable time (public values only), split into one part per core when it
/// is long enough.
pub(crate) fn vartime_msm(scalars: &[Scalar], points: &[RistrettoPoint]) -> RistrettoPoint {
    let n = scalars.len().min(points.len());
    let parts = threads().min(n / MIN_PART).max(1);
    if parts == 1 {
        return RistrettoPoint::vartime_multiscalar_mul(&scalars[..n], &points[..n]);
    }
    let size = n.div_ceil(parts);
    map_range(parts, |p| {
        let (start, end) = (p * size, ((p + 1) * size).min(n));
        RistrettoPoint::vartime_multiscalar_mul(&scalars[start..end], &points[start..end])
    })
    .into_iter()
    .fold(RistrettoPoint::identity(), |acc, part| acc + part)
}

#[cfg(feature = "parallel")]
fn threads() -> usize {
    rayon::current_num_threads()
}

#[cfg(not(feature = "parallel"))]
fn threads() -> usize {
    1
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::os_rng;

    #[test]
    fn a_split_multiplication_equals_the_whole_one() {
        let mut rng = os_rng();
        let n = 3 * MIN_PART + 17;
        let scalars: Vec<Scalar> = (0..n).map(|_| Scalar::random(&mut rng)).collect();
        let points: Vec<RistrettoPoint> = (0..n)
            .map(|i| RistrettoPoint::mul_base(&Scalar::from(i as u64 + 1)))
            .collect();
        assert_eq!(
            vartime_msm(&scalars, &points),
            RistrettoPoint::vartime_multiscalar_mul(&scalars, &points)
        );
        assert_eq!(map_range(5, |i| i * i), vec![0, 1, 4, 9, 16]);
        assert_eq!(map(&[1, 2, 3], |x| x + 1), vec![2, 3, 4]);
    }
}
