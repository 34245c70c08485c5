//! `kehu-domain`: the pure core of Kehu.
//!
//! Architecture invariant: this crate does no IO and knows nothing of SQL,
//! HTTP, JSON or async. Everything here is a function of its inputs, so it
//! can only fail by its own rules.

pub mod access;
pub mod analytics;
pub mod code;
pub mod custom_field;
pub mod customer;
pub mod error;
pub mod i18n;
pub mod mask;
pub mod normalize;
pub mod search;
pub mod validate;

pub use error::{FieldError, FieldErrors};
