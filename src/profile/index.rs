//! Blind indexes over the profile: HMAC-SHA256 (index key) of the
//! normalised value, truncated to 16 bytes, so an exact lookup finds a
//! citizen without decrypting anyone's record.
//!
//! The NIK's index lives in `account.nik_index`, where a partial unique
//! index enforces one live account per NIK; family card number, phone and
//! email live in `blind_index` (not unique: a family shares a KK, and
//! people share phones).

use crate::keys::IndexKey;
use crate::store::vault as stored;
use crate::store::{StoreError, Tx};

pub const KK: &str = "kk";
pub const PHONE: &str = "phone";
pub const EMAIL: &str = "email";

/// The value as indexed: emails compared without case.
fn normalise(domain: &str, value: &str) -> String {
    if domain == EMAIL {
        value.to_lowercase()
    } else {
        value.to_owned()
    }
}

pub fn digest(key: &IndexKey, domain: &str, value: &str) -> Vec<u8> {
    key.blind_index(domain, normalise(domain, value).as_bytes()).to_vec()
}

/// Replaces a citizen's index entries in `domain` with the one for `value`
/// (or none).
pub async fn set(
    tx: &mut Tx<'_>,
    key: &IndexKey,
    account_id: &str,
    domain: &str,
    value: Option<&str>,
) -> Result<(), StoreError> {
    let digests: Vec<Vec<u8>> = value.map(|v| digest(key, domain, v)).into_iter().collect();
    stored::replace_indexes(tx, account_id, domain, &digests).await
}
