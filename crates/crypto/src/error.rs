use thiserror::Error;

/// Every way a cryptographic check or decoding can fail.
///
/// Verification functions return these instead of `false` so that a caller can never
/// ignore a failed check by accident, and the message names what failed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CryptoError {
    /// Bytes or text that do not encode a group element or a canonical scalar.
    #[error("invalid encoding of {what}: {why}")]
    InvalidEncoding { what: &'static str, why: String },
    /// A zero-knowledge proof or signature whose verification equations do not hold.
    #[error("invalid {what}")]
    InvalidProof { what: &'static str },
    /// A size or value outside the bounds fixed by the specification.
    #[error("{what} out of bounds: {why}")]
    OutOfBounds { what: &'static str, why: String },
    /// A value that contradicts another one (wrong count, wrong index, …).
    #[error("inconsistent {what}: {why}")]
    Inconsistent { what: &'static str, why: String },
    /// The discrete logarithm was not found below the bound.
    #[error("discrete logarithm not found below the bound {bound}")]
    DlogNotFound { bound: u64 },
}

impl CryptoError {
    pub(crate) fn proof(what: &'static str) -> Self {
        CryptoError::InvalidProof { what }
    }
}
