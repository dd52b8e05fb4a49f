//! Field-level encryption of citizen personal data.
//!
//! Key hierarchy: root key-encryption keys (KEKs, versioned) come from a
//! [`KeyProvider`]; each citizen has a 256-bit data key (DEK) stored only
//! wrapped by a KEK ([`WrappedKey`]); every field is sealed with AES-256-GCM
//! under the citizen's DEK ([`field`]). Destroying a citizen's wrapped DEK
//! makes all their ciphertext unreadable, backups included.
//!
//! This module is the cryptographic core; storage, the profile, rotation
//! commands and erasure build on it.

pub mod citizen;
pub mod dek;
pub mod field;
pub mod kek;
pub mod profile;

pub use dek::{DataKey, WrappedKey};
pub use kek::{KeyProvider, LocalKeks};

/// Every failure to decrypt or unwrap is this one error: it never says
/// whether the key, the nonce, the tag or the binding was wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the data could not be decrypted")]
pub struct Undecryptable;

#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    #[error(transparent)]
    Undecryptable(#[from] Undecryptable),
    #[error("no key-encryption key of version {0}")]
    UnknownKek(u32),
    #[error("the system random number generator failed")]
    Random,
    #[error("encryption failed")]
    Encrypt,
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

impl From<crate::ids::RandomError> for VaultError {
    fn from(_: crate::ids::RandomError) -> Self {
        VaultError::Random
    }
}

/// Associated data: a domain tag, then each part length-prefixed, so no two
/// different bindings can produce the same bytes.
fn bind(domain: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    let mut out = domain.to_vec();
    for part in parts {
        out.extend_from_slice(&u32::try_from(part.len()).unwrap_or(u32::MAX).to_be_bytes());
        out.extend_from_slice(part);
    }
    out
}
