/// Errors from key handling, decryption and password hashing.
///
/// Messages never contain key material or plaintext, so they are safe to log.
#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    /// A key is malformed, missing or stored insecurely.
    #[error("bad key: {0}")]
    BadKey(String),
    /// Authentication failed: wrong key, wrong associated data, or tampered data.
    #[error("decryption failed: wrong key, wrong associated data or tampered data")]
    Decrypt,
    /// Sealed data is truncated or carries an unknown format version.
    #[error("sealed data is truncated or has an unknown format version")]
    BadFormat,
    /// Reading or writing a key file failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// Password hashing parameters or input were rejected.
    #[error("password hashing failed: {0}")]
    Password(String),
}
