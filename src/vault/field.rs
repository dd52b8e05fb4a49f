//! Sealing one field of one record.
//!
//! Layout, version 1:
//!
//! ```text
//! u8      0x01            format version
//! u32     dek version     big-endian (which of the citizen's data keys)
//! [12]    nonce           random, never reused (96 bits from the OS)
//! [..]    ciphertext      AES-256-GCM, followed by its 16-byte tag
//! ```
//!
//! The associated data binds the citizen id, the field name and the record
//! version (plus the format and DEK version bytes), so a ciphertext copied to
//! another citizen, another field or another version does not decrypt.

use aes_gcm::aead::{Aead as _, KeyInit as _, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use zeroize::Zeroizing;

use super::{DataKey, Undecryptable, VaultError, bind};
use crate::ids;

pub const FORMAT: u8 = 1;
const HEADER: usize = 1 + 4 + 12;

/// Where a sealed value belongs.
#[derive(Debug, Clone, Copy)]
pub struct Binding<'a> {
    pub citizen_id: &'a str,
    pub field: &'a str,
    pub record_version: u64,
}

fn aad(binding: &Binding<'_>, dek_version: u32) -> Vec<u8> {
    bind(
        b"jaga-field-v1",
        &[
            &[FORMAT],
            &dek_version.to_be_bytes(),
            binding.citizen_id.as_bytes(),
            binding.field.as_bytes(),
            &binding.record_version.to_be_bytes(),
        ],
    )
}

fn cipher(dek: &DataKey) -> Aes256Gcm {
    Aes256Gcm::new(&Key::<Aes256Gcm>::from(*dek.0))
}

pub fn seal(dek: &DataKey, dek_version: u32, binding: &Binding<'_>, plaintext: &[u8]) -> Result<Vec<u8>, VaultError> {
    let nonce = ids::bytes::<12>()?;
    let sealed = cipher(dek)
        .encrypt(
            &Nonce::from(nonce),
            Payload {
                msg: plaintext,
                aad: &aad(binding, dek_version),
            },
        )
        .map_err(|_| VaultError::Encrypt)?;
    let mut out = Vec::with_capacity(HEADER + sealed.len());
    out.push(FORMAT);
    out.extend_from_slice(&dek_version.to_be_bytes());
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&sealed);
    Ok(out)
}

/// The DEK version a sealed value needs (to pick the key before opening).
pub fn dek_version(sealed: &[u8]) -> Result<u32, Undecryptable> {
    match sealed.split_first() {
        Some((&FORMAT, rest)) => rest
            .first_chunk::<4>()
            .map(|v| u32::from_be_bytes(*v))
            .ok_or(Undecryptable),
        _ => Err(Undecryptable),
    }
}

pub fn open(dek: &DataKey, binding: &Binding<'_>, sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>, Undecryptable> {
    let version = dek_version(sealed)?;
    let nonce: [u8; 12] = sealed
        .get(5..HEADER)
        .and_then(|n| n.try_into().ok())
        .ok_or(Undecryptable)?;
    let body = sealed.get(HEADER..).ok_or(Undecryptable)?;
    cipher(dek)
        .decrypt(
            &Nonce::from(nonce),
            Payload {
                msg: body,
                aad: &aad(binding, version),
            },
        )
        .map(Zeroizing::new)
        .map_err(|_| Undecryptable)
}

#[cfg(test)]
#[path = "field_tests.rs"]
mod tests;
