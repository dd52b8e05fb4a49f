//! Who an account is: its identifiers (internal id, pseudonym, WebAuthn
//! user handle), kind, status, officer roles and the citizen's NIK.
//!
//! The lowest domain layer: sessions, passkeys, the vault and the profile
//! name accounts through these types without depending on `identity`.

pub mod nik;

use std::fmt;

use crate::ids::{self, RandomError};
pub use crate::store::identity::{AccountKind, Status};
pub use nik::{Nik, NikError};

/// Internal account id (never shown outside Jaga).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AccountId(String);

impl AccountId {
    pub fn generate() -> Result<Self, RandomError> {
        Ok(Self(hex::encode(ids::bytes::<16>()?)))
    }

    pub fn from_stored(s: String) -> Self {
        Self(s)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Pseudonymous public id, e.g. `ctz_k3x…`: safe for logs and audit events.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Pseudonym(String);

impl Pseudonym {
    pub fn generate(kind: AccountKind) -> Result<Self, RandomError> {
        let prefix = match kind {
            AccountKind::Citizen => "ctz",
            AccountKind::Officer => "ofc",
        };
        Ok(Self(format!("{prefix}_{}", ids::base32(&ids::bytes::<10>()?))))
    }

    pub fn from_stored(s: String) -> Self {
        Self(s)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Pseudonym {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The WebAuthn user handle: 64 random bytes, never derived from personal data.
#[derive(Clone, PartialEq, Eq)]
pub struct UserHandle(pub [u8; 64]);

impl UserHandle {
    pub fn generate() -> Result<Self, RandomError> {
        Ok(Self(ids::bytes::<64>()?))
    }
}

impl fmt::Debug for UserHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("UserHandle(..)")
    }
}

/// Officer roles; an officer may hold several.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    Counter,
    Security,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Counter => "counter",
            Self::Security => "security",
            Self::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Counter, Self::Security, Self::Admin]
            .into_iter()
            .find(|k| k.as_str() == s)
    }
}

/// Blind-index domain for NIKs.
pub const NIK_INDEX: &str = "nik";
