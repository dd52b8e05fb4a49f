//! Random identifiers and secrets from the operating system's generator.

use ring::rand::{SecureRandom as _, SystemRandom};

#[derive(Debug, thiserror::Error)]
#[error("the system random number generator failed")]
pub struct RandomError;

pub fn bytes<const N: usize>() -> Result<[u8; N], RandomError> {
    let mut out = [0u8; N];
    SystemRandom::new().fill(&mut out).map_err(|_| RandomError)?;
    Ok(out)
}

/// Lower-case base32 (RFC 4648 alphabet, no padding): readable ids.
pub fn base32(data: &[u8]) -> String {
    fn symbol(v: u32) -> char {
        const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
        char::from(ALPHABET.get((v & 31) as usize).copied().unwrap_or(b'a'))
    }
    let mut out = String::with_capacity(data.len() * 8 / 5 + 1);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for &b in data {
        buffer = (buffer << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(symbol(buffer >> bits));
        }
    }
    if bits > 0 {
        out.push(symbol(buffer << (5 - bits)));
    }
    out
}

/// SHA-256, for storing tokens that only their holder knows.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    let d = ring::digest::digest(&ring::digest::SHA256, data);
    let mut out = [0u8; 32];
    out.copy_from_slice(d.as_ref());
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn base32_matches_rfc4648() {
        assert_eq!(super::base32(b"foobar"), "mzxw6ytboi");
        assert_eq!(super::base32(b"f"), "my");
    }
}
