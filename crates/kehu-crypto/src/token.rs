use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ctutils::CtEq;
use sha2::{Digest, Sha256};

use crate::aead::fill_random;

/// 32 random bytes (256 bits), base64url without padding: session ids, CSRF tokens,
/// API tokens. Safe in URLs, cookies and headers without escaping.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    fill_random(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// SHA-256 of a token, for storing session ids and API tokens hashed. A plain hash is
/// enough (no salt, no Argon2) because tokens are 256-bit random, not guessable.
pub fn hash_token(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// Constant-time equality of the contents; only the lengths may leak through timing.
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).to_bool()
}
