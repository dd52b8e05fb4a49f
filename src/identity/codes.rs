//! One-time codes: recovery codes (ten per account, shown once) and
//! enrolment codes (issued by a counter officer or the command line).
//! Both are stored only as hashes.

use crate::ids::{self, RandomError};
use crate::keys::IndexKey;

/// Number of recovery codes an account holds.
pub const RECOVERY_CODES: usize = 10;

/// A readable code: 12 base32 characters (60 bits) as `abcd-efgh-ijkl`.
pub fn recovery_code() -> Result<String, RandomError> {
    let raw = ids::base32(&ids::bytes::<8>()?);
    let c: Vec<char> = raw.chars().take(12).collect();
    let group = |r: std::ops::Range<usize>| c.get(r).map(|g| g.iter().collect::<String>()).unwrap_or_default();
    Ok(format!("{}-{}-{}", group(0..4), group(4..8), group(8..12)))
}

/// An enrolment code: 16 base32 characters (80 bits), for a link or a QR code.
pub fn enrolment_code() -> Result<String, RandomError> {
    Ok(ids::base32(&ids::bytes::<10>()?))
}

/// What people type: case, spaces and dashes do not matter.
pub fn normalise(code: &str) -> String {
    code.chars()
        .filter(|c| !matches!(c, '-' | ' '))
        .flat_map(char::to_lowercase)
        .collect()
}

/// Recovery codes are bound to their account and keyed with the blind-index
/// key, so a stolen database does not allow guessing them offline.
pub fn recovery_hash(key: &IndexKey, account_id: &str, code: &str) -> Vec<u8> {
    let mut data = account_id.as_bytes().to_vec();
    data.push(0);
    data.extend_from_slice(normalise(code).as_bytes());
    key.blind_index("recovery-code", &data).to_vec()
}

pub fn enrolment_hash(code: &str) -> Vec<u8> {
    ids::sha256(normalise(code).as_bytes()).to_vec()
}

/// Ten fresh recovery codes and their hashes.
pub fn recovery_set(key: &IndexKey, account_id: &str) -> Result<(Vec<String>, Vec<Vec<u8>>), RandomError> {
    let mut codes = Vec::with_capacity(RECOVERY_CODES);
    for _ in 0..RECOVERY_CODES {
        codes.push(recovery_code()?);
    }
    let hashes = codes.iter().map(|c| recovery_hash(key, account_id, c)).collect();
    Ok((codes, hashes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_grouped_random_and_forgiving_to_type() {
        let (ring, _) = crate::keys::KeyRing::generate().unwrap();
        let key = &ring.index;
        let a = recovery_code().unwrap();
        assert_eq!(a.len(), 14);
        assert_eq!(a.matches('-').count(), 2);
        assert_ne!(a, recovery_code().unwrap());
        assert_eq!(
            recovery_hash(key, "acc", &a),
            recovery_hash(key, "acc", &a.to_uppercase().replace('-', " "))
        );
        assert_ne!(recovery_hash(key, "acc", &a), recovery_hash(key, "other", &a));
        assert_eq!(enrolment_code().unwrap().len(), 16);
    }
}
