//! Key material: the versioned key file written by `jaga keys init`.
//!
//! Format (TOML, version 1):
//!
//! ```toml
//! format = "jaga-keys"
//! version = 1
//! created = "2026-11-28T05:00:00Z"
//!
//! [audit]
//! signing_key = "<base64 PKCS#8 v2 Ed25519 key>"   # signs audit checkpoints
//! mac_key = "<base64 32 random bytes>"             # HMAC-SHA256 over each audit leaf
//!
//! [index]
//! hmac_key = "<base64 32 random bytes>"            # blind indexes (NIK uniqueness, lookups)
//!
//! [consent]
//! signing_key = "<base64 PKCS#8 v2 Ed25519 key>"   # signs consent receipts
//!
//! [vault]
//! active_kek = 1                                   # version that wraps new data keys
//! [[vault.kek]]
//! version = 1
//! key = "<base64 32 random bytes>"                 # root key-encryption key (AES-256-GCM)
//! ```
//!
//! Later versions add sections; a reader refuses versions it does not know
//! and keys it does not understand. Key bytes are zeroized after parsing and
//! the types here never print them.

pub mod edit;
mod file;
pub mod signing;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use ring::rand::{SecureRandom, SystemRandom};
use ring::signature::Ed25519KeyPair;
use secrecy::ExposeSecret;
use serde::Deserialize;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::audit::AuditKeys;
use crate::config::KeysConfig;

pub use file::{replace, write_new};

pub const FORMAT: &str = "jaga-keys";
pub const VERSION: u32 = 1;

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("no key file at {0}: run `jaga keys init` or set JAGA_KEYS_INLINE")]
    Missing(String),
    #[error("key file {0} already exists; refusing to overwrite it")]
    Exists(String),
    #[error("key file {path} is readable by other users (mode {mode:o}); run chmod 600 {path}")]
    Permissions { path: String, mode: u32 },
    #[error("key file {path}: {reason}")]
    Io { path: String, reason: String },
    #[error("key material is invalid: {0}")]
    Invalid(String),
    #[error("random number generator failed")]
    Random,
}

/// All keys Jaga holds in memory.
#[derive(Debug)]
pub struct KeyRing {
    /// The audit log's keys (no KEK among them): shared with the audit
    /// writer and checkpointer.
    pub audit: std::sync::Arc<AuditKeys>,
    pub index: IndexKey,
    /// The next blind-index key, while a rotation is unfinished.
    pub index_pending: Option<IndexKey>,
    /// Root key-encryption keys of the vault.
    pub vault: crate::vault::LocalKeks,
    /// Signs consent receipts; absent from key files made before receipts
    /// (`jaga keys add-consent-key` adds it).
    pub consent: Option<std::sync::Arc<ReceiptKey>>,
    /// Signs the OpenID provider's tokens; empty in key files made before
    /// it (`jaga keys rotate-signing` adds one).
    pub oauth: std::sync::Arc<signing::SigningKeys>,
}

/// The Ed25519 key that signs consent receipts. Never used for anything else.
pub struct ReceiptKey(Ed25519KeyPair);

impl std::fmt::Debug for ReceiptKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("ReceiptKey").field(&self.kid()).finish()
    }
}

impl ReceiptKey {
    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        self.0.sign(message).as_ref().to_vec()
    }

    /// The 32-byte Ed25519 public key.
    pub fn public_key(&self) -> &[u8] {
        ring::signature::KeyPair::public_key(&self.0).as_ref()
    }

    /// Its key id: base64url of the first 12 bytes of SHA-256(public key).
    pub fn kid(&self) -> String {
        use base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let digest = crate::ids::sha256(self.public_key());
        URL_SAFE_NO_PAD.encode(digest.get(..12).unwrap_or_default())
    }
}

/// The blind-index key: exact-match lookups over personal data without
/// storing it in the clear. Never used for anything else.
#[derive(Debug)]
pub struct IndexKey(ring::hmac::Key);

impl IndexKey {
    /// HMAC-SHA256 of `domain ‖ 0x00 ‖ value`, truncated to 16 bytes. The
    /// domain keeps indexes of different fields apart.
    pub fn blind_index(&self, domain: &str, value: &[u8]) -> [u8; 16] {
        let mut ctx = ring::hmac::Context::with_key(&self.0);
        ctx.update(domain.as_bytes());
        ctx.update(&[0]);
        ctx.update(value);
        let tag = ctx.sign();
        let mut out = [0u8; 16];
        out.copy_from_slice(tag.as_ref().get(..16).unwrap_or(&[0; 16]));
        out
    }
}

#[derive(Deserialize, Zeroize, ZeroizeOnDrop)]
#[serde(deny_unknown_fields)]
struct KeyFileV1 {
    format: String,
    version: u32,
    /// Informational; accepted and ignored.
    created: String,
    audit: AuditSection,
    index: IndexSection,
    consent: Option<ConsentSection>,
    oauth: Option<signing::OauthSection>,
    vault: VaultSection,
}

#[derive(Deserialize, Zeroize, ZeroizeOnDrop)]
#[serde(deny_unknown_fields)]
struct ConsentSection {
    signing_key: String,
}

#[derive(Deserialize, Zeroize, ZeroizeOnDrop)]
#[serde(deny_unknown_fields)]
struct VaultSection {
    active_kek: u32,
    kek: Vec<KekEntry>,
}

#[derive(Deserialize, Zeroize, ZeroizeOnDrop)]
#[serde(deny_unknown_fields)]
struct KekEntry {
    version: u32,
    key: String,
}

#[derive(Deserialize, Zeroize, ZeroizeOnDrop)]
#[serde(deny_unknown_fields)]
struct IndexSection {
    hmac_key: String,
    /// Present only while `jaga keys rotate-index` is re-indexing.
    pending_hmac_key: Option<String>,
}

#[derive(Deserialize, Zeroize, ZeroizeOnDrop)]
#[serde(deny_unknown_fields)]
struct AuditSection {
    signing_key: String,
    mac_key: String,
}

impl KeyRing {
    /// Creates fresh keys and the key file text that holds them.
    pub fn generate() -> Result<(KeyRing, Zeroizing<String>), KeyError> {
        let rng = SystemRandom::new();
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng).map_err(|_| KeyError::Random)?;
        let receipts = Ed25519KeyPair::generate_pkcs8(&rng).map_err(|_| KeyError::Random)?;
        let mut mac = Zeroizing::new([0u8; 32]);
        rng.fill(mac.as_mut()).map_err(|_| KeyError::Random)?;
        let mut index = Zeroizing::new([0u8; 32]);
        rng.fill(index.as_mut()).map_err(|_| KeyError::Random)?;
        let mut kek = Zeroizing::new([0u8; 32]);
        rng.fill(kek.as_mut()).map_err(|_| KeyError::Random)?;
        let oauth_key = signing::generate()?;
        let created = time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .map_err(|e| KeyError::Invalid(e.to_string()))?;
        let text = Zeroizing::new(format!(
            "# Jaga key file. Secret: keep it mode 0600 and back it up apart from the database.\n\
             format = \"{FORMAT}\"\nversion = {VERSION}\ncreated = \"{created}\"\n\n\
             [audit]\nsigning_key = \"{}\"\nmac_key = \"{}\"\n\n[index]\nhmac_key = \"{}\"\n\n\
             [consent]\nsigning_key = \"{}\"\n\n\
             [vault]\nactive_kek = 1\n\n[[vault.kek]]\nversion = 1\nkey = \"{}\"\n{}",
            Zeroizing::new(B64.encode(pkcs8.as_ref())).as_str(),
            Zeroizing::new(B64.encode(mac.as_ref())).as_str(),
            Zeroizing::new(B64.encode(index.as_ref())).as_str(),
            Zeroizing::new(B64.encode(receipts.as_ref())).as_str(),
            Zeroizing::new(B64.encode(kek.as_ref())).as_str(),
            Zeroizing::new(signing::entry_text(
                &oauth_key,
                time::OffsetDateTime::now_utc().unix_timestamp()
            ))
            .as_str(),
        ));
        let ring = Self::parse(&text)?;
        Ok((ring, text))
    }

    /// Parses key file text.
    pub fn parse(text: &str) -> Result<KeyRing, KeyError> {
        let file: KeyFileV1 = toml::from_str(text).map_err(|e| KeyError::Invalid(e.message().to_owned()))?;
        if file.format != FORMAT {
            return Err(KeyError::Invalid(format!("format is not {FORMAT:?}")));
        }
        if file.version != VERSION {
            return Err(KeyError::Invalid(format!(
                "version {} is not supported (this build reads version {VERSION})",
                file.version
            )));
        }
        let pkcs8 = decode(&file.audit.signing_key, "audit.signing_key")?;
        let signer = Ed25519KeyPair::from_pkcs8(&pkcs8)
            .map_err(|_| KeyError::Invalid("audit.signing_key is not an Ed25519 PKCS#8 key".into()))?;
        let mac = decode(&file.audit.mac_key, "audit.mac_key")?;
        if mac.len() != 32 {
            return Err(KeyError::Invalid("audit.mac_key must be 32 bytes".into()));
        }
        let index = decode(&file.index.hmac_key, "index.hmac_key")?;
        if index.len() != 32 {
            return Err(KeyError::Invalid("index.hmac_key must be 32 bytes".into()));
        }
        if *index == *mac {
            return Err(KeyError::Invalid(
                "index.hmac_key must differ from audit.mac_key".into(),
            ));
        }
        Ok(KeyRing {
            audit: std::sync::Arc::new(AuditKeys::new(
                signer,
                ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &mac),
            )),
            index: IndexKey(ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &index)),
            index_pending: file
                .index
                .pending_hmac_key
                .as_deref()
                .map(|k| hmac_key(k, "index.pending_hmac_key"))
                .transpose()?,
            vault: vault_keks(&file.vault)?,
            consent: file
                .consent
                .as_ref()
                .map(|c| {
                    let pkcs8 = decode(&c.signing_key, "consent.signing_key")?;
                    Ed25519KeyPair::from_pkcs8(&pkcs8)
                        .map(|k| std::sync::Arc::new(ReceiptKey(k)))
                        .map_err(|_| KeyError::Invalid("consent.signing_key is not an Ed25519 PKCS#8 key".into()))
                })
                .transpose()?,
            oauth: std::sync::Arc::new(signing::SigningKeys::parse(file.oauth.as_ref())?),
        })
    }

    /// Loads keys from `keys.inline` if set, else from the key file.
    pub fn load(config: &KeysConfig) -> Result<KeyRing, KeyError> {
        if let Some(inline) = &config.inline {
            return Self::parse(inline.expose_secret());
        }
        Self::load_file(&config.path)
    }

    /// Loads the key file at `path`; its vault keys remember it for reloads.
    pub fn load_file(path: &std::path::Path) -> Result<KeyRing, KeyError> {
        let text = file::read(path)?;
        let mut ring = Self::parse(&text)?;
        ring.vault = ring.vault.with_source(path.to_path_buf(), reread_vault_keks);
        let oauth = std::sync::Arc::try_unwrap(ring.oauth).unwrap_or_default();
        ring.oauth = std::sync::Arc::new(oauth.with_source(path.to_path_buf()));
        Ok(ring)
    }
}

/// The vault's KEKs read again from the key file (a running service
/// adopting `jaga keys rotate` or `retire`).
fn reread_vault_keks(path: &std::path::Path) -> Result<crate::vault::LocalKeks, String> {
    let ring = KeyRing::load_file(path).map_err(|e| e.to_string())?;
    if ring.index_pending.is_some() {
        tracing::error!(
            "the key file holds an unfinished blind-index key rotation: stop this service until \
             `jaga keys rotate-index` has finished"
        );
    }
    Ok(ring.vault)
}

fn vault_keks(section: &VaultSection) -> Result<crate::vault::LocalKeks, KeyError> {
    let mut keys = std::collections::BTreeMap::new();
    for entry in &section.kek {
        let raw = decode(&entry.key, "vault.kek.key")?;
        let key: [u8; 32] = raw
            .as_slice()
            .try_into()
            .map_err(|_| KeyError::Invalid(format!("vault.kek version {} must be 32 bytes", entry.version)))?;
        if keys.insert(entry.version, Zeroizing::new(key)).is_some() {
            return Err(KeyError::Invalid(format!(
                "vault.kek version {} appears twice",
                entry.version
            )));
        }
    }
    crate::vault::LocalKeks::new(keys, section.active_kek)
        .map_err(|_| KeyError::Invalid(format!("vault.active_kek {} has no key", section.active_kek)))
}

fn hmac_key(value: &str, name: &str) -> Result<IndexKey, KeyError> {
    let raw = decode(value, name)?;
    if raw.len() != 32 {
        return Err(KeyError::Invalid(format!("{name} must be 32 bytes")));
    }
    Ok(IndexKey(ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &raw)))
}

fn decode(value: &str, name: &str) -> Result<Zeroizing<Vec<u8>>, KeyError> {
    B64.decode(value.trim())
        .map(Zeroizing::new)
        .map_err(|_| KeyError::Invalid(format!("{name} is not base64")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_file_round_trips() {
        let (ring, text) = KeyRing::generate().unwrap();
        let again = KeyRing::parse(&text).unwrap();
        assert_eq!(ring.audit.public_key(), again.audit.public_key());
        let leaf = [7u8; 32];
        assert!(again.audit.verify_leaf_mac(&leaf, &ring.audit.leaf_mac(&leaf)));
    }

    #[test]
    fn generated_file_holds_an_active_vault_kek() {
        use crate::vault::KeyProvider as _;
        let (ring, text) = KeyRing::generate().unwrap();
        assert!(text.contains("[[vault.kek]]"));
        assert_eq!(ring.vault.active_version(), 1);
        let dek = crate::vault::DataKey::generate().unwrap();
        let wrapped = dek.wrap("ctz_a", &ring.vault).unwrap();
        let again = KeyRing::parse(&text).unwrap();
        assert!(crate::vault::DataKey::unwrap(&wrapped, "ctz_a", &again.vault).is_ok());
        let broken = text.replace("active_kek = 1", "active_kek = 2");
        assert!(KeyRing::parse(&broken).is_err());
    }

    #[test]
    fn unknown_version_is_refused() {
        let (_, text) = KeyRing::generate().unwrap();
        let text = text.replace("version = 1", "version = 9");
        let err = KeyRing::parse(&text).unwrap_err();
        assert!(err.to_string().contains("version 9 is not supported"));
    }

    #[test]
    fn debug_output_holds_no_secret() {
        let (ring, text) = KeyRing::generate().unwrap();
        let shown = format!("{ring:?}");
        let parsed: toml::Table = toml::from_str(&text).unwrap();
        let mac = parsed["audit"]["mac_key"].as_str().unwrap();
        assert!(!shown.contains(mac));
    }
}
