use std::fmt;

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use zeroize::{Zeroize, Zeroizing};

use crate::CryptoError;
use crate::aead::{self, KEY_LEN, fill_random};

/// Length of a blind index in bytes: 128 bits keeps accidental collisions negligible
/// while halving index size compared with the full HMAC output.
pub const BLIND_INDEX_LEN: usize = 16;
const BUNDLE_LEN: usize = 3 * KEY_LEN;

type HmacSha256 = Hmac<Sha256>;

/// One tenant's keys. Separate keys per purpose, so that e.g. a blind index can never
/// be confused with or help to forge an audit MAC.
#[derive(Clone)]
struct Material {
    data: [u8; KEY_LEN],
    blind_index: [u8; KEY_LEN],
    audit: [u8; KEY_LEN],
}

impl Drop for Material {
    fn drop(&mut self) {
        self.data.zeroize();
        self.blind_index.zeroize();
        self.audit.zeroize();
    }
}

/// A tenant's data, blind-index and audit keys, obtained from
/// [`MasterKey::new_tenant_keys`](crate::MasterKey::new_tenant_keys) or
/// [`MasterKey::unwrap_tenant_keys`](crate::MasterKey::unwrap_tenant_keys).
// Boxed so moving the handle (e.g. into a cache) does not leave key copies behind.
#[derive(Clone)]
pub struct TenantKeys(Box<Material>);

impl fmt::Debug for TenantKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TenantKeys(..)")
    }
}

impl TenantKeys {
    pub(crate) fn generate() -> TenantKeys {
        let mut m = Box::new(Material {
            data: [0; KEY_LEN],
            blind_index: [0; KEY_LEN],
            audit: [0; KEY_LEN],
        });
        fill_random(&mut m.data);
        fill_random(&mut m.blind_index);
        fill_random(&mut m.audit);
        TenantKeys(m)
    }

    pub(crate) fn to_bytes(&self) -> Zeroizing<[u8; BUNDLE_LEN]> {
        let mut out = Zeroizing::new([0u8; BUNDLE_LEN]);
        out[..KEY_LEN].copy_from_slice(&self.0.data);
        out[KEY_LEN..2 * KEY_LEN].copy_from_slice(&self.0.blind_index);
        out[2 * KEY_LEN..].copy_from_slice(&self.0.audit);
        out
    }

    pub(crate) fn from_bytes(bytes: &[u8]) -> Option<TenantKeys> {
        if bytes.len() != BUNDLE_LEN {
            return None;
        }
        let mut m = Box::new(Material {
            data: [0; KEY_LEN],
            blind_index: [0; KEY_LEN],
            audit: [0; KEY_LEN],
        });
        m.data.copy_from_slice(&bytes[..KEY_LEN]);
        m.blind_index.copy_from_slice(&bytes[KEY_LEN..2 * KEY_LEN]);
        m.audit.copy_from_slice(&bytes[2 * KEY_LEN..]);
        Some(TenantKeys(m))
    }

    /// XChaCha20-Poly1305 with a random 24-byte nonce; output is
    /// `1 version byte || nonce || ciphertext+tag`. The AAD binds the ciphertext to its
    /// row and field (e.g. `"customer.phone/<tenant>/<id>"`), so a ciphertext copied into
    /// another row fails to open.
    pub fn seal(&self, aad: &[u8], plaintext: &[u8]) -> Vec<u8> {
        aead::seal(&self.0.data, aad, plaintext)
    }

    /// Opens what [`TenantKeys::seal`] produced with the same keys and AAD.
    pub fn open(&self, aad: &[u8], sealed: &[u8]) -> Result<Vec<u8>, CryptoError> {
        aead::open(&self.0.data, aad, sealed)
    }

    /// Blind index: `HMAC-SHA256(blind-index key, kind || 0x00 || normalized)` truncated
    /// to [`BLIND_INDEX_LEN`] bytes. Deterministic per tenant, so equal values can be
    /// found by exact match; `kind` keeps e.g. phone and email indexes unlinkable.
    /// Callers normalize first (E.164 phone, lower-cased email).
    pub fn blind_index(&self, kind: &str, normalized: &str) -> Vec<u8> {
        // The 0x00 separator is only unambiguous if `kind` cannot contain it.
        debug_assert!(
            !kind.contains('\0'),
            "blind index kind must not contain NUL"
        );
        let mut mac = hmac_sha256(&self.0.blind_index);
        mac.update(kind.as_bytes());
        mac.update(&[0]);
        mac.update(normalized.as_bytes());
        mac.finalize().into_bytes()[..BLIND_INDEX_LEN].to_vec()
    }

    /// HMAC-SHA256 with the audit key, for the hash-chained audit log.
    pub fn audit_mac(&self, data: &[u8]) -> [u8; 32] {
        let mut mac = hmac_sha256(&self.0.audit);
        mac.update(data);
        mac.finalize().into_bytes().into()
    }
}

fn hmac_sha256(key: &[u8; KEY_LEN]) -> HmacSha256 {
    HmacSha256::new_from_slice(key).expect("HMAC accepts keys of any length")
}
