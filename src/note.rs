//! C2SP signed-note keys: key ids and verifier keys, shared by the audit
//! log's own key (type 0x01, Ed25519) and witnesses' cosignature keys
//! (type 0x04, Ed25519 `cosignature/v1`).
//!
//! The key id is the first four bytes of SHA-256(name ‖ 0x0A ‖ type ‖
//! public key); a verifier key is written `name+hex(key id)+base64(type ‖
//! public key)`.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;

/// An Ed25519 signed-note key (a log's checkpoints).
pub const ED25519: u8 = 0x01;
/// An Ed25519 cosignature key (a witness).
pub const COSIGNATURE: u8 = 0x04;

pub fn key_id(kind: u8, name: &str, public_key: &[u8; 32]) -> [u8; 4] {
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    ctx.update(name.as_bytes());
    ctx.update(&[b'\n', kind]);
    ctx.update(public_key);
    let d = ctx.finish();
    let mut id = [0u8; 4];
    id.copy_from_slice(d.as_ref().get(..4).unwrap_or(&[0; 4]));
    id
}

pub fn verifier_key(kind: u8, name: &str, public_key: &[u8; 32]) -> String {
    let mut blob = vec![kind];
    blob.extend_from_slice(public_key);
    format!(
        "{name}+{}+{}",
        hex::encode(key_id(kind, name, public_key)),
        B64.encode(blob)
    )
}

/// A key name: printable ASCII without spaces or '+', at most 200 bytes.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty() && name.len() <= 200 && name.bytes().all(|b| b.is_ascii_graphic() && b != b'+')
}

/// A verifier key's name and Ed25519 key; `None` if it is malformed, of
/// another type, or its key id does not match the name and key.
pub fn parse_verifier_key(kind: u8, text: &str) -> Option<(String, [u8; 32])> {
    let mut parts = text.trim().splitn(3, '+');
    let (name, id, blob) = (parts.next()?, parts.next()?, parts.next()?);
    let blob = B64.decode(blob).ok()?;
    let (alg, key) = blob.split_first()?;
    let key: [u8; 32] = key.try_into().ok()?;
    let ok = *alg == kind && valid_name(name) && hex::encode(key_id(kind, name, &key)) == id;
    ok.then(|| (name.to_owned(), key))
}
