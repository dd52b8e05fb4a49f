//! Per-citizen data keys, stored only wrapped by a KEK.

use zeroize::Zeroizing;

use super::{KeyProvider, VaultError, bind};
use crate::ids;

/// A citizen's data key, in memory only while in use.
pub struct DataKey(pub(super) Zeroizing<[u8; 32]>);

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DataKey(<secret>)")
    }
}

/// A data key as stored: which KEK version wrapped it, and the bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrappedKey {
    pub kek_version: u32,
    pub bytes: Vec<u8>,
}

/// The wrap is bound to the citizen and the KEK version, so a wrapped key
/// copied to another citizen (or relabelled) does not unwrap.
fn aad(citizen_id: &str, kek_version: u32) -> Vec<u8> {
    bind(b"jaga-dek-v1", &[citizen_id.as_bytes(), &kek_version.to_be_bytes()])
}

impl DataKey {
    pub fn generate() -> Result<Self, VaultError> {
        Ok(Self(Zeroizing::new(ids::bytes::<32>()?)))
    }

    /// Wraps under the provider's active KEK.
    pub fn wrap(&self, citizen_id: &str, keks: &dyn KeyProvider) -> Result<WrappedKey, VaultError> {
        let version = keks.active_version();
        Ok(WrappedKey {
            kek_version: version,
            bytes: keks.wrap(version, &self.0, &aad(citizen_id, version))?,
        })
    }

    pub fn unwrap(wrapped: &WrappedKey, citizen_id: &str, keks: &dyn KeyProvider) -> Result<Self, VaultError> {
        let key = keks.unwrap(
            wrapped.kek_version,
            &wrapped.bytes,
            &aad(citizen_id, wrapped.kek_version),
        )?;
        Ok(Self(key))
    }

    /// Re-wraps under the active KEK (rotation), without exposing the key.
    pub fn rewrap(wrapped: &WrappedKey, citizen_id: &str, keks: &dyn KeyProvider) -> Result<WrappedKey, VaultError> {
        Self::unwrap(wrapped, citizen_id, keks)?.wrap(citizen_id, keks)
    }
}
