use scrutin_crypto::CryptoError;
use thiserror::Error;

/// Errors of the election protocol outside the verifier (which has its own, numbered
/// [`crate::verify::VerifyError`]).
#[derive(Debug, Error)]
pub enum ElectionError {
    /// Input that breaks a rule of the specification; the message says which.
    #[error("{0}")]
    Invalid(String),
    /// A cryptographic check failed.
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    /// JSON that does not parse or does not match the expected shape.
    #[error("malformed JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// TOML that does not parse or does not match the expected shape.
    #[error("malformed TOML: {0}")]
    Toml(#[from] toml::de::Error),
}

/// Shorthand for an [`ElectionError::Invalid`].
pub(crate) fn invalid<T>(message: impl Into<String>) -> Result<T, ElectionError> {
    Err(ElectionError::Invalid(message.into()))
}
