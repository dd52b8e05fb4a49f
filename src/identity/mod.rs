//! Accounts of citizens and officers.
//!
//! An account has an internal id, a random 64-byte WebAuthn user handle, a
//! pseudonymous public id (the only id that appears in audit events and
//! logs), a status and timestamps. Personal data is kept to what sign-in
//! needs (NIK and display name, columns of `account` written only by
//! enrolment); the vault will move both into field-level encryption.

pub mod codes;
pub mod counter;
pub mod credentials;
pub mod enrol;
pub mod officers;
mod pending;
pub mod personal;
pub mod recovery;
pub mod registration;
pub mod verification;

/// What enrolment, recovery, verification and passkey management need.
#[derive(Debug, Clone)]
pub struct Deps {
    pub db: crate::store::Db,
    pub writer: crate::store::Writer,
    pub keys: std::sync::Arc<crate::keys::KeyRing>,
    pub rp: std::sync::Arc<crate::passkeys::RelyingParty>,
    pub limits: std::sync::Arc<crate::ratelimit::Limits>,
    pub sessions: std::sync::Arc<crate::config::SessionConfig>,
}

pub use crate::account::{AccountId, AccountKind, NIK_INDEX, Nik, NikError, Pseudonym, Role, Status, UserHandle};
