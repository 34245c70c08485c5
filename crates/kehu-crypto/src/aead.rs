//! The one sealed format used for field values and for wrapped tenant keys:
//! `version (1) || nonce (24) || ciphertext || tag (16)`, XChaCha20-Poly1305.

use chacha20poly1305::{AeadInOut, KeyInit, XChaCha20Poly1305};

use crate::CryptoError;

pub(crate) const KEY_LEN: usize = 32;
/// Bumped if the algorithm or layout ever changes, so old rows stay readable.
const VERSION: u8 = 1;
const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;
const HEADER_LEN: usize = 1 + NONCE_LEN;
pub(crate) const OVERHEAD: usize = HEADER_LEN + TAG_LEN;

/// Fills `buf` from the operating system's CSPRNG.
///
/// # Panics
/// If the OS cannot supply randomness; continuing would mean predictable keys or nonces.
pub(crate) fn fill_random(buf: &mut [u8]) {
    getrandom::fill(buf).expect("the operating system's random number generator failed");
}

pub(crate) fn seal(key: &[u8; KEY_LEN], aad: &[u8], plaintext: &[u8]) -> Vec<u8> {
    let cipher = XChaCha20Poly1305::new(key.into());
    // 192-bit random nonces cannot realistically collide, so no counter state is needed.
    let mut nonce = [0u8; NONCE_LEN];
    fill_random(&mut nonce);

    let mut out = Vec::with_capacity(OVERHEAD + plaintext.len());
    out.push(VERSION);
    out.extend_from_slice(&nonce);
    out.extend_from_slice(plaintext);
    // Encrypting in place avoids a second buffer holding plaintext.
    let tag = cipher
        .encrypt_inout_detached((&nonce).into(), aad, out[HEADER_LEN..].as_mut().into())
        .expect("XChaCha20-Poly1305 only fails for messages over 256 GiB");
    out.extend_from_slice(&tag);
    out
}

pub(crate) fn open(key: &[u8; KEY_LEN], aad: &[u8], sealed: &[u8]) -> Result<Vec<u8>, CryptoError> {
    if sealed.len() < OVERHEAD || sealed[0] != VERSION {
        return Err(CryptoError::BadFormat);
    }
    let nonce: [u8; NONCE_LEN] = sealed[1..HEADER_LEN].try_into().expect("length checked");
    let (body, tag) = sealed[HEADER_LEN..].split_at(sealed.len() - OVERHEAD);
    let tag: [u8; TAG_LEN] = tag.try_into().expect("length checked");

    let cipher = XChaCha20Poly1305::new(key.into());
    let mut buf = body.to_vec();
    cipher
        .decrypt_inout_detached(
            (&nonce).into(),
            aad,
            buf.as_mut_slice().into(),
            (&tag).into(),
        )
        .map_err(|_| CryptoError::Decrypt)?;
    Ok(buf)
}
