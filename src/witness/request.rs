//! The body of a C2SP tlog-witness `add-checkpoint` request: an old size
//! line, the consistency proof (one base64 hash a line), an empty line,
//! then the checkpoint note.
//!
//! ```text
//! old 20852014
//! PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=
//!
//! <checkpoint note>
//! ```

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;

use crate::audit::merkle::Hash;

/// At most this many proof lines (a consistency proof of a 2^63 tree).
const MAX_PROOF: usize = 63;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddCheckpoint {
    pub old: u64,
    pub proof: Vec<Hash>,
    pub note: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("malformed add-checkpoint request: {0}")]
pub struct Malformed(pub &'static str);

/// A size written in decimal without leading zeroes.
pub fn size(text: &str) -> Option<u64> {
    let ok = !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) && !(text.starts_with('0') && text.len() > 1);
    ok.then(|| text.parse().ok()).flatten()
}

impl AddCheckpoint {
    pub fn encode(&self) -> String {
        let mut out = format!("old {}\n", self.old);
        for h in &self.proof {
            out.push_str(&B64.encode(h));
            out.push('\n');
        }
        out.push('\n');
        out.push_str(&self.note);
        out
    }

    pub fn parse(text: &str) -> Result<Self, Malformed> {
        let (head, note) = text
            .split_once("\n\n")
            .ok_or(Malformed("no empty line before the checkpoint"))?;
        let mut lines = head.split('\n');
        let old = lines
            .next()
            .and_then(|l| l.strip_prefix("old "))
            .and_then(size)
            .ok_or(Malformed("the old size line"))?;
        let proof = lines
            .map(|l| B64.decode(l).ok().and_then(|v| Hash::try_from(v.as_slice()).ok()))
            .collect::<Option<Vec<Hash>>>()
            .ok_or(Malformed("a consistency proof line"))?;
        if proof.len() > MAX_PROOF {
            return Err(Malformed("more than 63 proof lines"));
        }
        if !note.ends_with('\n') {
            return Err(Malformed("the checkpoint must end with a newline"));
        }
        Ok(Self {
            old,
            proof,
            note: note.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOTE: &str =
        "jaga.test/audit\n3\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n\u{2014} jaga.test/audit AAAA\n";

    #[test]
    fn requests_round_trip() {
        let r = AddCheckpoint {
            old: 2,
            proof: vec![[1; 32], [2; 32]],
            note: NOTE.to_owned(),
        };
        assert_eq!(AddCheckpoint::parse(&r.encode()), Ok(r.clone()));
        let first = AddCheckpoint {
            old: 0,
            proof: vec![],
            note: NOTE.to_owned(),
        };
        assert!(first.encode().starts_with("old 0\n\njaga.test/audit\n"));
        assert_eq!(AddCheckpoint::parse(&first.encode()), Ok(first));
    }

    #[test]
    fn malformed_requests_are_refused() {
        for bad in [
            "",
            "old 1\n",
            &format!("old 01\n\n{NOTE}"),
            &format!("old -1\n\n{NOTE}"),
            &format!("new 1\n\n{NOTE}"),
            &format!("old 1\nnot base64!\n\n{NOTE}"),
            &format!("old 1\nAAAA\n\n{NOTE}"),
            "old 1\n\njaga.test/audit\n3",
        ] {
            assert!(AddCheckpoint::parse(bad).is_err(), "{bad:?}");
        }
        let many = format!("old 1\n{}\n{NOTE}", format!("{}\n", B64.encode([0u8; 32])).repeat(64));
        assert_eq!(AddCheckpoint::parse(&many), Err(Malformed("more than 63 proof lines")));
    }
}
