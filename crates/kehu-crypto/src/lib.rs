//! Key material and cryptography for Kehu.
//!
//! Invariant: this is the only crate that holds keys. Other crates get ciphertext,
//! blind indexes, MACs and hashes from here and store them as opaque bytes.
//!
//! Key hierarchy (envelope encryption): a [`MasterKey`] from the environment or a 0600
//! key file wraps one random [`TenantKeys`] bundle per tenant; only the wrapped bundle is
//! stored in the database, so a database dump alone reveals no field contents.

mod aead;
mod error;
mod master;
mod password;
mod tenant;
mod token;

pub use error::CryptoError;
pub use master::MasterKey;
pub use password::{PasswordParams, dummy_hash, hash_password, verify_password};
pub use tenant::{BLIND_INDEX_LEN, TenantKeys};
pub use token::{ct_eq, hash_token, random_token};

#[cfg(test)]
mod tests;
