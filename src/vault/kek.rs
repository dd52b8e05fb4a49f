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
///
/// A running service adopts a changed key file (`jaga keys rotate`,
/// `jaga keys retire`) without a restart: [`LocalKeks::adopt`] swaps the
/// versions in, and a wrapped key naming a version not yet known triggers
/// an immediate re-read of the file (at most once a second).
pub struct LocalKeks {
    inner: std::sync::RwLock<Versions>,
    /// The key file, when the keys came from one, and how to read it.
    source: Option<(std::path::PathBuf, Reader)>,
    last_reload: std::sync::Mutex<Option<std::time::Instant>>,
    /// When the key file was last looked at, and its modification time then.
    checked: std::sync::Mutex<(Option<std::time::Instant>, Option<std::time::SystemTime>)>,
}

/// Reads a key file's KEKs again (given by the key file's owner, `keys`:
/// the vault does not know the file's format).
pub type Reader = fn(&std::path::Path) -> Result<LocalKeks, String>;

struct Versions {
    keys: BTreeMap<u32, Zeroizing<[u8; 32]>>,
    active: u32,
}

impl std::fmt::Debug for LocalKeks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalKeks")
            .field("versions", &self.versions())
            .field("active", &self.active_version())
            .finish_non_exhaustive()
    }
}

impl LocalKeks {
    /// `keys` maps versions to 32-byte keys; `active` must be one of them.
    pub fn new(keys: BTreeMap<u32, Zeroizing<[u8; 32]>>, active: u32) -> Result<Self, VaultError> {
        if !keys.contains_key(&active) {
            return Err(VaultError::UnknownKek(active));
        }
        Ok(Self {
            inner: std::sync::RwLock::new(Versions { keys, active }),
            source: None,
            last_reload: std::sync::Mutex::new(None),
            checked: std::sync::Mutex::new((None, None)),
        })
    }

    /// Remembers the key file these keys came from and how to read it,
    /// for reloads.
    pub fn with_source(mut self, path: std::path::PathBuf, read: Reader) -> Self {
        let modified = std::fs::metadata(&path).and_then(|m| m.modified()).ok();
        self.checked = std::sync::Mutex::new((Some(std::time::Instant::now()), modified));
        self.source = Some((path, read));
        self
    }

    /// Adopts the key file if it changed since it was last looked at; looks
    /// at most once a second. Called before choosing the version that wraps
    /// a new data key, so a rotation is followed within about a second.
    pub fn refresh(&self) {
        let Some((path, _)) = &self.source else { return };
        let changed = {
            let mut checked = self.checked.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            if checked
                .0
                .is_some_and(|t| t.elapsed() < std::time::Duration::from_secs(1))
            {
                return;
            }
            let modified = std::fs::metadata(path).and_then(|m| m.modified()).ok();
            let changed = modified != checked.1;
            *checked = (Some(std::time::Instant::now()), modified);
            changed
        };
        if changed {
            self.load_source();
        }
    }

    /// Takes over the versions of `other` (a fresh read of the key file).
    pub fn adopt(&self, other: LocalKeks) {
        let fresh = other
            .inner
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut current = self.inner.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        *current = fresh;
    }

    /// Re-reads the key file (if any) and adopts its KEKs; throttled to
    /// once a second. Returns whether it adopted anything.
    pub fn reload(&self) -> bool {
        if self.source.is_none() {
            return false;
        }
        {
            let mut last = self
                .last_reload
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if last.is_some_and(|t| t.elapsed() < std::time::Duration::from_secs(1)) {
                return false;
            }
            *last = Some(std::time::Instant::now());
        }
        self.load_source()
    }

    /// Re-reads the key file now (another instance announced a change),
    /// whatever the throttles. Returns whether it adopted anything.
    pub fn reload_now(&self) -> bool {
        self.load_source()
    }

    fn load_source(&self) -> bool {
        let Some((path, read)) = &self.source else {
            return false;
        };
        match read(path) {
            Ok(keks) => {
                self.adopt(keks);
                true
            }
            Err(e) => {
                tracing::error!(error = %e, "could not reload the key file; keeping the keys in memory");
                false
            }
        }
    }

    #[cfg(test)]
    pub(super) fn raw_for_tests(&self, version: u32) -> Zeroizing<[u8; 32]> {
        self.read().keys.get(&version).cloned().unwrap_or_default()
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Versions> {
        self.inner.read().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn cipher(&self, version: u32) -> Result<Aes256Gcm, VaultError> {
        let found = self
            .read()
            .keys
            .get(&version)
            .map(|key| Aes256Gcm::new(&Key::<Aes256Gcm>::from(**key)));
        match found {
            Some(cipher) => Ok(cipher),
            None if self.reload() => self.cipher_loaded(version),
            None => Err(VaultError::UnknownKek(version)),
        }
    }

    fn cipher_loaded(&self, version: u32) -> Result<Aes256Gcm, VaultError> {
        self.read()
            .keys
            .get(&version)
            .map(|key| Aes256Gcm::new(&Key::<Aes256Gcm>::from(**key)))
            .ok_or(VaultError::UnknownKek(version))
    }
}

/// Wrapped layout: 12-byte nonce ‖ AES-256-GCM(dek) with its 16-byte tag.
impl KeyProvider for LocalKeks {
    fn active_version(&self) -> u32 {
        self.refresh();
        self.read().active
    }

    fn versions(&self) -> Vec<u32> {
        self.read().keys.keys().copied().collect()
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
