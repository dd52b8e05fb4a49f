//! Root key-encryption keys and the provider contract.

use std::collections::BTreeMap;

use aes_gcm::aead::{Aead as _, KeyInit as _, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use zeroize::Zeroizing;

use super::{Undecryptable, VaultError};
use crate::ids;

/// Where KEKs live. The contract, for any implementation (the local key
/// file below; an external KMS or HSM later):
///
/// - `wrap` encrypts a 32-byte data key under KEK `version` with
///   authenticated associated data `aad`, and returns opaque bytes; it never
///   reveals the KEK to the caller.
/// - `unwrap` reverses it and fails with [`Undecryptable`] (and nothing more
///   specific) for wrong bytes, a wrong `aad` or a wrong version.
/// - `active_version` is the version new data keys are wrapped under;
///   `versions` lists every version it can still unwrap with.
/// - Implementations must not log key material or `aad`-bound plaintext,
///   and must be safe to call from many tasks at once.
pub trait KeyProvider: Send + Sync + std::fmt::Debug {
    fn active_version(&self) -> u32;
    fn versions(&self) -> Vec<u32>;
    fn wrap(&self, version: u32, dek: &[u8; 32], aad: &[u8]) -> Result<Vec<u8>, VaultError>;
    fn unwrap(&self, version: u32, wrapped: &[u8], aad: &[u8]) -> Result<Zeroizing<[u8; 32]>, VaultError>;
}

/// KEKs held in memory from the key file (or `JAGA_KEYS_INLINE`).
pub struct LocalKeks {
    keys: BTreeMap<u32, Zeroizing<[u8; 32]>>,
    active: u32,
}

impl std::fmt::Debug for LocalKeks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalKeks")
            .field("versions", &self.keys.keys().collect::<Vec<_>>())
            .field("active", &self.active)
            .finish()
    }
}

impl LocalKeks {
    /// `keys` maps versions to 32-byte keys; `active` must be one of them.
    pub fn new(keys: BTreeMap<u32, Zeroizing<[u8; 32]>>, active: u32) -> Result<Self, VaultError> {
        if !keys.contains_key(&active) {
            return Err(VaultError::UnknownKek(active));
        }
        Ok(Self { keys, active })
    }

    #[cfg(test)]
    pub(super) fn raw_for_tests(&self, version: u32) -> Zeroizing<[u8; 32]> {
        self.keys.get(&version).cloned().unwrap_or_default()
    }

    fn cipher(&self, version: u32) -> Result<Aes256Gcm, VaultError> {
        let key = self.keys.get(&version).ok_or(VaultError::UnknownKek(version))?;
        Ok(Aes256Gcm::new(&Key::<Aes256Gcm>::from(**key)))
    }
}

/// Wrapped layout: 12-byte nonce ‖ AES-256-GCM(dek) with its 16-byte tag.
impl KeyProvider for LocalKeks {
    fn active_version(&self) -> u32 {
        self.active
    }

    fn versions(&self) -> Vec<u32> {
        self.keys.keys().copied().collect()
    }

    fn wrap(&self, version: u32, dek: &[u8; 32], aad: &[u8]) -> Result<Vec<u8>, VaultError> {
        let cipher = self.cipher(version)?;
        let nonce = ids::bytes::<12>()?;
        let sealed = cipher
            .encrypt(&Nonce::from(nonce), Payload { msg: dek, aad })
            .map_err(|_| VaultError::Encrypt)?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    fn unwrap(&self, version: u32, wrapped: &[u8], aad: &[u8]) -> Result<Zeroizing<[u8; 32]>, VaultError> {
        let cipher = self.cipher(version).map_err(|_| Undecryptable)?;
        let (nonce, sealed) = wrapped.split_first_chunk::<12>().ok_or(Undecryptable)?;
        let plain = Zeroizing::new(
            cipher
                .decrypt(&Nonce::from(*nonce), Payload { msg: sealed, aad })
                .map_err(|_| Undecryptable)?,
        );
        let mut dek = Zeroizing::new([0u8; 32]);
        if plain.len() != 32 {
            return Err(Undecryptable.into());
        }
        dek.copy_from_slice(&plain);
        Ok(dek)
    }
}
