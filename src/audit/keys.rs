//! The audit log's own keys.

use ring::signature::{Ed25519KeyPair, KeyPair as _};

/// Keys of the audit log: the checkpoint signing key and the leaf MAC key.
/// The audit log holds only these, never a key-encryption key.
#[derive(Debug)]
pub struct AuditKeys {
    signer: Ed25519KeyPair,
    mac: ring::hmac::Key,
}

impl AuditKeys {
    pub fn new(signer: Ed25519KeyPair, mac: ring::hmac::Key) -> Self {
        Self { signer, mac }
    }

    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        let mut out = [0u8; 64];
        out.copy_from_slice(self.signer.sign(message).as_ref());
        out
    }

    pub fn public_key(&self) -> [u8; 32] {
        let mut out = [0u8; 32];
        out.copy_from_slice(self.signer.public_key().as_ref());
        out
    }

    /// HMAC-SHA256 binding an audit leaf to the holder of the key file.
    pub fn leaf_mac(&self, leaf_hash: &[u8; 32]) -> [u8; 32] {
        let tag = ring::hmac::sign(&self.mac, leaf_hash);
        let mut out = [0u8; 32];
        out.copy_from_slice(tag.as_ref());
        out
    }

    pub fn verify_leaf_mac(&self, leaf_hash: &[u8; 32], mac: &[u8]) -> bool {
        ring::hmac::verify(&self.mac, leaf_hash, mac).is_ok()
    }
}
