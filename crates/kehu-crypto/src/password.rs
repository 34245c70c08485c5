use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, PasswordHash, Version};

use crate::{CryptoError, random_token};

/// Argon2id cost parameters. Verification reads them from the stored PHC string, so
/// raising them later only affects new hashes.
#[derive(Clone, Copy, Debug)]
pub struct PasswordParams {
    /// Memory in KiB.
    pub m_cost_kib: u32,
    /// Iterations.
    pub t_cost: u32,
    /// Lanes.
    pub p_cost: u32,
}

impl PasswordParams {
    /// OWASP Password Storage Cheat Sheet minimum for Argon2id: 19 MiB, t = 2, p = 1.
    pub const PRODUCTION: Self = Self {
        m_cost_kib: 19_456,
        t_cost: 2,
        p_cost: 1,
    };
    /// Cheap parameters so tests that create many users stay fast. Never for real use.
    pub const FAST_FOR_TESTS: Self = Self {
        m_cost_kib: 512,
        t_cost: 1,
        p_cost: 1,
    };

    fn argon2(self) -> Result<Argon2<'static>, CryptoError> {
        let params = Params::new(self.m_cost_kib, self.t_cost, self.p_cost, None)
            .map_err(|e| CryptoError::Password(e.to_string()))?;
        Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
    }
}

/// Argon2id PHC string (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`) with a random 16-byte salt.
pub fn hash_password(password: &str, params: PasswordParams) -> Result<String, CryptoError> {
    let hash = params
        .argon2()?
        .hash_password(password.as_bytes())
        .map_err(|e| CryptoError::Password(e.to_string()))?;
    Ok(hash.to_string())
}

/// Verifies against a PHC string, with the parameters read from the string. Returns
/// false on mismatch or a malformed hash; the output comparison is constant-time.
pub fn verify_password(password: &str, phc: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else {
        return false;
    };
    Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok()
}

/// A PHC string for a random password. Verifying a login for an unknown user against it
/// costs the same time as for a known one, so response times do not reveal which
/// accounts exist. Compute it once at startup with the production parameters.
///
/// # Panics
/// If `params` are outside Argon2's limits (e.g. `m_cost_kib < 8 * p_cost`).
pub fn dummy_hash(params: PasswordParams) -> String {
    hash_password(&random_token(), params).expect("invalid Argon2 parameters")
}
