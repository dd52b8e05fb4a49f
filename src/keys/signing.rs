//! The OpenID provider's token signing keys (ES256), from the key file's
//! `[[oauth.signing]]` entries:
//!
//! ```toml
//! [[oauth.signing]]
//! key = "<base64 PKCS#8 P-256 key>"
//! not_before = 1796540400     # signs from this time (unix seconds); published at once
//! ```
//!
//! Every key in the file is published in the JWKS; the newest whose
//! `not_before` has passed signs. `jaga keys rotate-signing` adds a key
//! that starts signing a publication lead later (so every client and
//! instance has seen it first), and drops keys no longer needed to verify
//! a live token. A running service re-reads the file when told (`Keys`
//! change) or when its modification time changes.

use std::sync::{Arc, RwLock};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD as B64, URL_SAFE_NO_PAD as B64URL};
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair as _};
use serde::Deserialize;
use zeroize::{Zeroize, ZeroizeOnDrop};

use super::KeyError;

#[derive(Deserialize, Zeroize, ZeroizeOnDrop)]
#[serde(deny_unknown_fields)]
pub(super) struct OauthSection {
    #[serde(default)]
    signing: Vec<SigningEntry>,
}

#[derive(Deserialize, Zeroize, ZeroizeOnDrop)]
#[serde(deny_unknown_fields)]
pub(super) struct SigningEntry {
    key: String,
    not_before: i64,
}

/// One ES256 signing key and when it starts signing.
pub struct SigningKey {
    pair: EcdsaKeyPair,
    kid: String,
    not_before: i64,
    /// The public JWK, as published.
    jwk: serde_json::Value,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .field("not_before", &self.not_before)
            .finish()
    }
}

impl SigningKey {
    fn from_pkcs8(pkcs8: &[u8], not_before: i64) -> Result<SigningKey, KeyError> {
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8, &SystemRandom::new())
            .map_err(|_| KeyError::Invalid("oauth.signing.key is not a P-256 PKCS#8 key".into()))?;
        let point = pair.public_key().as_ref();
        let (x, y) = (
            B64URL.encode(point.get(1..33).unwrap_or_default()),
            B64URL.encode(point.get(33..65).unwrap_or_default()),
        );
        let thumb_input = format!(r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#);
        let kid = B64URL.encode(crate::ids::sha256(thumb_input.as_bytes()));
        let jwk = serde_json::json!({
            "kty": "EC", "crv": "P-256", "x": x, "y": y, "kid": kid, "use": "sig", "alg": "ES256",
        });
        Ok(SigningKey {
            pair,
            kid,
            not_before,
            jwk,
        })
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    pub fn not_before(&self) -> i64 {
        self.not_before
    }

    pub fn jwk(&self) -> &serde_json::Value {
        &self.jwk
    }

    /// Raw r ‖ s ES256 signature (the JWS form).
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, KeyError> {
        self.pair
            .sign(&SystemRandom::new(), message)
            .map(|s| s.as_ref().to_vec())
            .map_err(|_| KeyError::Random)
    }

    /// Verifies a signature this key made.
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        ring::signature::UnparsedPublicKey::new(&ring::signature::ECDSA_P256_SHA256_FIXED, self.pair.public_key())
            .verify(message, signature)
            .is_ok()
    }
}

/// The signing keys in force, re-read when the key file changes.
#[derive(Debug, Default)]
pub struct SigningKeys {
    keys: RwLock<Arc<Vec<SigningKey>>>,
    source: Option<(std::path::PathBuf, RwLock<Option<std::time::SystemTime>>)>,
}

impl SigningKeys {
    pub(super) fn parse(section: Option<&OauthSection>) -> Result<SigningKeys, KeyError> {
        Ok(SigningKeys {
            keys: RwLock::new(Arc::new(parse_entries(section)?)),
            source: None,
        })
    }

    pub(super) fn with_source(mut self, path: std::path::PathBuf) -> Self {
        let modified = std::fs::metadata(&path).and_then(|m| m.modified()).ok();
        self.source = Some((path, RwLock::new(modified)));
        self
    }

    /// Every key in the file (the JWKS publishes them all).
    pub fn all(&self) -> Arc<Vec<SigningKey>> {
        self.keys.read().map(|k| Arc::clone(&k)).unwrap_or_default()
    }

    /// The key that signs at `now`: the newest already in force.
    pub fn active(&self, now: i64) -> Option<(Arc<Vec<SigningKey>>, usize)> {
        let all = self.all();
        let index = all
            .iter()
            .enumerate()
            .filter(|(_, k)| k.not_before <= now)
            .max_by_key(|(_, k)| k.not_before)
            .map(|(i, _)| i)?;
        Some((all, index))
    }

    /// Reads the key file again if it changed since it was last read (or
    /// always, with `force`). A file that no longer parses keeps the keys
    /// in force and is logged.
    pub fn refresh(&self, force: bool) -> bool {
        let Some((path, seen)) = &self.source else { return false };
        let modified = std::fs::metadata(path).and_then(|m| m.modified()).ok();
        if !force && seen.read().is_ok_and(|s| *s == modified) {
            return false;
        }
        match super::KeyRing::load_file(path).map(|ring| ring.oauth.all()) {
            Ok(keys) => {
                if let Ok(mut k) = self.keys.write() {
                    *k = keys;
                }
                if let Ok(mut s) = seen.write() {
                    *s = modified;
                }
                true
            }
            Err(e) => {
                tracing::error!(error = %e, "the key file no longer parses; the token signing keys in force stay");
                false
            }
        }
    }
}

fn parse_entries(section: Option<&OauthSection>) -> Result<Vec<SigningKey>, KeyError> {
    let mut keys: Vec<SigningKey> = Vec::new();
    for entry in section.map(|s| s.signing.as_slice()).unwrap_or_default() {
        let pkcs8 = zeroize::Zeroizing::new(
            B64.decode(entry.key.trim())
                .map_err(|_| KeyError::Invalid("oauth.signing.key is not base64".into()))?,
        );
        let key = SigningKey::from_pkcs8(&pkcs8, entry.not_before)?;
        if keys.iter().any(|k| k.kid == key.kid) {
            return Err(KeyError::Invalid(format!(
                "oauth.signing key {} appears twice",
                key.kid
            )));
        }
        keys.push(key);
    }
    Ok(keys)
}

/// A new P-256 key as the key file's base64 PKCS#8.
pub fn generate() -> Result<zeroize::Zeroizing<String>, KeyError> {
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new())
        .map_err(|_| KeyError::Random)?;
    Ok(zeroize::Zeroizing::new(B64.encode(pkcs8.as_ref())))
}

/// The key file text for one `[[oauth.signing]]` entry.
pub fn entry_text(key_b64: &str, not_before: i64) -> String {
    format!("\n[[oauth.signing]]\nkey = \"{key_b64}\"\nnot_before = {not_before}\n")
}
