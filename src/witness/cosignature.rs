//! Cosignatures (C2SP tlog-cosignature, Ed25519 `cosignature/v1`): a
//! witness's timestamped signature over a checkpoint's note body, written
//! as a signed-note signature line
//!
//! ```text
//! — <witness name> base64(key id (4) ‖ timestamp (u64, big-endian) ‖ Ed25519 signature (64))
//! ```
//!
//! The signed message is `cosignature/v1\ntime <timestamp>\n` followed by
//! the whole note body. The key id is the first four bytes of
//! SHA-256(name ‖ 0x0A ‖ 0x04 ‖ public key).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use ring::signature::{ED25519, Ed25519KeyPair, KeyPair as _, UnparsedPublicKey};

use crate::note;

const SIG_PREFIX: &str = "\u{2014} ";

pub fn key_id(name: &str, public_key: &[u8; 32]) -> [u8; 4] {
    note::key_id(note::COSIGNATURE, name, public_key)
}

/// The verifier key of a witness: `name+hex(key id)+base64(0x04 ‖ key)`.
pub fn verifier_key(name: &str, public_key: &[u8; 32]) -> String {
    note::verifier_key(note::COSIGNATURE, name, public_key)
}

/// A witness verifier key's name and Ed25519 key; `None` if malformed, not
/// a cosignature key, or its key id does not match.
pub fn parse_verifier_key(text: &str) -> Option<(String, [u8; 32])> {
    note::parse_verifier_key(note::COSIGNATURE, text)
}

fn message(time: u64, body: &str) -> Vec<u8> {
    format!("cosignature/v1\ntime {time}\n{body}").into_bytes()
}

/// The cosignature line (ending in a newline) of `body`, the note body of
/// a checkpoint (every byte before the blank line, with its final newline).
pub fn sign(key: &Ed25519KeyPair, name: &str, time: u64, body: &str) -> String {
    let mut public = [0u8; 32];
    public.copy_from_slice(key.public_key().as_ref());
    let mut blob = key_id(name, &public).to_vec();
    blob.extend_from_slice(&time.to_be_bytes());
    blob.extend_from_slice(key.sign(&message(time, body)).as_ref());
    format!("{SIG_PREFIX}{name} {}\n", B64.encode(blob))
}

/// The timestamp of the first line of `lines` that is a valid cosignature
/// of `body` by the witness `name` with `public_key`.
pub fn verify(lines: &str, name: &str, public_key: &[u8; 32], body: &str) -> Option<u64> {
    let id = key_id(name, public_key);
    let verifier = UnparsedPublicKey::new(&ED25519, public_key);
    lines.lines().find_map(|line| {
        let (who, sig) = line.strip_prefix(SIG_PREFIX)?.split_once(' ')?;
        let blob = B64.decode(sig).ok()?;
        if who != name || blob.len() != 76 || blob.get(..4)? != id {
            return None;
        }
        let time = u64::from_be_bytes(blob.get(4..12)?.try_into().ok()?);
        verifier
            .verify(&message(time, body), blob.get(12..)?)
            .ok()
            .map(|()| time)
    })
}

/// A note's body: every byte before the blank line, with its final newline.
pub fn body_of(note: &str) -> Option<String> {
    note.split_once("\n\n").map(|(body, _)| format!("{body}\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> Ed25519KeyPair {
        let rng = ring::rand::SystemRandom::new();
        let doc = Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
        Ed25519KeyPair::from_pkcs8(doc.as_ref()).unwrap()
    }

    fn public(key: &Ed25519KeyPair) -> [u8; 32] {
        key.public_key().as_ref().try_into().unwrap()
    }

    const BODY: &str = "jaga.test/audit\n42\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\ntime 2026-12-07T00:00:00Z\n";

    #[test]
    fn a_cosignature_verifies_and_carries_its_time() {
        let k = key();
        let line = sign(&k, "saksi.example/w1", 1_796_000_000, BODY);
        assert!(line.starts_with("\u{2014} saksi.example/w1 ") && line.ends_with('\n'));
        let blob = B64.decode(line.trim_end().rsplit(' ').next().unwrap()).unwrap();
        assert_eq!(blob.len(), 76);
        assert_eq!(&blob[..4], &key_id("saksi.example/w1", &public(&k)));
        assert_eq!(
            verify(&line, "saksi.example/w1", &public(&k), BODY),
            Some(1_796_000_000)
        );
    }

    #[test]
    fn another_body_name_or_key_does_not_verify() {
        let k = key();
        let line = sign(&k, "saksi.example/w1", 7, BODY);
        assert_eq!(
            verify(&line, "saksi.example/w1", &public(&k), &BODY.replace("42", "43")),
            None
        );
        assert_eq!(verify(&line, "saksi.example/w2", &public(&k), BODY), None);
        assert_eq!(verify(&line, "saksi.example/w1", &public(&key()), BODY), None);
        // A changed timestamp breaks the signature.
        let mut blob = B64.decode(line.trim_end().rsplit(' ').next().unwrap()).unwrap();
        blob[11] ^= 1;
        let forged = format!("\u{2014} saksi.example/w1 {}\n", B64.encode(blob));
        assert_eq!(verify(&forged, "saksi.example/w1", &public(&k), BODY), None);
    }

    #[test]
    fn verifier_keys_round_trip_and_are_typed() {
        let k = key();
        let vkey = verifier_key("saksi.example/w1", &public(&k));
        assert_eq!(
            parse_verifier_key(&vkey),
            Some(("saksi.example/w1".to_owned(), public(&k)))
        );
        let log_key = crate::audit::checkpoint::verifier_key("saksi.example/w1", &public(&k));
        assert_eq!(parse_verifier_key(&log_key), None, "a log key is not a cosignature key");
        assert_eq!(parse_verifier_key(&vkey.replacen("saksi", "other", 1)), None);
    }
}
