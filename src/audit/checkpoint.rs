//! Checkpoints in the C2SP `tlog-checkpoint` format, signed as C2SP signed
//! notes with Ed25519.
//!
//! ```text
//! jaga.localhost/audit                      origin
//! 1234                                      tree size
//! 3q2+7w...=                                root hash, standard base64
//! time 2026-11-28T05:00:00Z                 extension line: when it was signed
//!
//! — jaga.localhost/audit AbCd...==          key id (4 bytes) ‖ signature, base64
//! ```
//!
//! The signature covers every byte before the blank line. The key id is the
//! first four bytes of SHA-256(key name ‖ 0x0A ‖ 0x01 ‖ public key), as the
//! signed-note specification defines for Ed25519.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use ring::signature::{ED25519, UnparsedPublicKey};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::AuditKeys;
use super::merkle::Hash;
use crate::note;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    pub origin: String,
    pub size: u64,
    pub root: Hash,
    /// Unix seconds, UTC.
    pub time: i64,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum NoteError {
    #[error("checkpoint note is malformed: {0}")]
    Malformed(&'static str),
    #[error("checkpoint note has no valid signature by {0}")]
    BadSignature(String),
}

const SIG_PREFIX: &str = "\u{2014} ";

/// The 4-byte signed-note key id of the log's Ed25519 key.
pub fn key_id(name: &str, public_key: &[u8; 32]) -> [u8; 4] {
    note::key_id(note::ED25519, name, public_key)
}

/// The verifier key in the signed-note text form `name+hexid+base64(0x01‖key)`,
/// for anyone who checks checkpoints outside Jaga.
pub fn verifier_key(name: &str, public_key: &[u8; 32]) -> String {
    note::verifier_key(note::ED25519, name, public_key)
}

/// Parses a verifier key written as [`verifier_key`] writes it: its name
/// and Ed25519 public key. `None` if it is malformed, not Ed25519, or its
/// key id does not match the name and key.
pub fn parse_verifier_key(text: &str) -> Option<(String, [u8; 32])> {
    note::parse_verifier_key(note::ED25519, text)
}

impl Checkpoint {
    fn body(&self) -> String {
        let when = OffsetDateTime::from_unix_timestamp(self.time)
            .ok()
            .and_then(|t| t.format(&Rfc3339).ok())
            .unwrap_or_else(|| self.time.to_string());
        format!(
            "{}\n{}\n{}\ntime {when}\n",
            self.origin,
            self.size,
            B64.encode(self.root)
        )
    }

    /// The signed note text.
    pub fn sign(&self, keys: &AuditKeys) -> String {
        let body = self.body();
        let mut blob = key_id(&self.origin, &keys.public_key()).to_vec();
        blob.extend_from_slice(&keys.sign(body.as_bytes()));
        format!("{body}\n{SIG_PREFIX}{} {}\n", self.origin, B64.encode(blob))
    }

    /// Parses a note and checks that `public_key` signed it under the name
    /// equal to its origin.
    pub fn open(note: &str, public_key: &[u8; 32]) -> Result<Checkpoint, NoteError> {
        let (body, sigs) = note
            .split_once("\n\n")
            .ok_or(NoteError::Malformed("no blank line before signatures"))?;
        let body = format!("{body}\n");
        let mut lines = body.lines();
        let origin = lines
            .next()
            .filter(|l| !l.is_empty())
            .ok_or(NoteError::Malformed("origin"))?;
        let size = lines
            .next()
            .filter(|l| l.bytes().all(|b| b.is_ascii_digit()) && !(l.starts_with('0') && l.len() > 1))
            .and_then(|l| l.parse::<u64>().ok())
            .ok_or(NoteError::Malformed("tree size"))?;
        let root: Hash = lines
            .next()
            .and_then(|l| B64.decode(l).ok())
            .and_then(|v| v.try_into().ok())
            .ok_or(NoteError::Malformed("root hash"))?;
        let time = lines
            .find_map(|l| l.strip_prefix("time "))
            .and_then(|t| OffsetDateTime::parse(t, &Rfc3339).ok())
            .map(OffsetDateTime::unix_timestamp)
            .ok_or(NoteError::Malformed("time"))?;
        let id = key_id(origin, public_key);
        let verifier = UnparsedPublicKey::new(&ED25519, public_key);
        let signed = sigs.lines().any(|line| {
            let Some((name, sig)) = line.strip_prefix(SIG_PREFIX).and_then(|l| l.split_once(' ')) else {
                return false;
            };
            let Ok(blob) = B64.decode(sig) else {
                return false;
            };
            name == origin
                && blob.len() == 68
                && blob.get(..4) == Some(&id[..])
                && blob
                    .get(4..)
                    .is_some_and(|s| verifier.verify(body.as_bytes(), s).is_ok())
        });
        if !signed {
            return Err(NoteError::BadSignature(origin.to_owned()));
        }
        Ok(Checkpoint {
            origin: origin.to_owned(),
            size,
            root,
            time,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::KeyRing;

    fn checkpoint() -> Checkpoint {
        Checkpoint {
            origin: "jaga.test/audit".into(),
            size: 42,
            root: [9u8; 32],
            time: 1_790_000_000,
        }
    }

    #[test]
    fn signed_note_round_trips_and_has_c2sp_shape() {
        let (ring, _) = KeyRing::generate().unwrap();
        let note = checkpoint().sign(&ring.audit);
        let lines: Vec<&str> = note.lines().collect();
        assert_eq!(lines[0], "jaga.test/audit");
        assert_eq!(lines[1], "42");
        assert_eq!(lines[2], B64.encode([9u8; 32]));
        assert_eq!(lines[4], "");
        assert!(lines[5].starts_with("\u{2014} jaga.test/audit "));
        assert!(note.ends_with('\n'));
        let opened = Checkpoint::open(&note, &ring.audit.public_key()).unwrap();
        assert_eq!(opened, checkpoint());
    }

    #[test]
    fn altered_note_or_other_key_fails() {
        let (ring, _) = KeyRing::generate().unwrap();
        let (other, _) = KeyRing::generate().unwrap();
        let note = checkpoint().sign(&ring.audit);
        let altered = note.replacen("\n42\n", "\n41\n", 1);
        assert!(matches!(
            Checkpoint::open(&altered, &ring.audit.public_key()),
            Err(NoteError::BadSignature(_))
        ));
        assert!(Checkpoint::open(&note, &other.audit.public_key()).is_err());
    }

    #[test]
    fn verifier_key_has_note_format() {
        let (ring, _) = KeyRing::generate().unwrap();
        let vkey = verifier_key("jaga.test/audit", &ring.audit.public_key());
        let parts: Vec<&str> = vkey.splitn(3, '+').collect();
        assert_eq!(parts.len(), 3);
        assert_eq!(parts[1].len(), 8);
        let (name, key) = parse_verifier_key(&format!("  {vkey}\n")).unwrap();
        assert_eq!((name.as_str(), key), ("jaga.test/audit", ring.audit.public_key()));
        // Another name, a changed id, a changed key or another algorithm.
        let other = vkey.replacen("jaga.test/audit", "jaga.test/audit2", 1);
        let id = vkey.replacen(parts[1], "00000000", 1);
        let mut blob = B64.decode(parts[2]).unwrap();
        blob[5] ^= 1;
        let key = format!("{}+{}+{}", parts[0], parts[1], B64.encode(&blob));
        blob[5] ^= 1;
        blob[0] = 2;
        let alg = format!("{}+{}+{}", parts[0], parts[1], B64.encode(&blob));
        for bad in [other, id, key, alg, "jaga".to_owned(), String::new()] {
            assert_eq!(parse_verifier_key(&bad), None, "{bad}");
        }
    }
}
