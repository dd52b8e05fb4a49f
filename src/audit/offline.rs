//! Verifies an export ([`super::export`]) with nothing but the log's public
//! key: the checkpoint's signature, then the frontier before the stretch,
//! every event's leaf in order, and the subtree roots after it, which must
//! rebuild the checkpoint's root. Events are fed one at a time, so memory
//! stays bounded whatever the export's size.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;

use super::checkpoint::{Checkpoint, parse_verifier_key};
use super::export::{FORMAT, Line, Manifest};
use super::merkle::{self, Frontier, Hash};
use super::verify::Failure;

/// What a verified export holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    pub origin: String,
    pub first_seq: u64,
    pub events: u64,
    /// The size of the checkpoint it was cut at.
    pub checkpoint_size: u64,
}

fn fail(seq: Option<u64>, reason: impl Into<String>) -> Failure {
    Failure {
        seq,
        reason: reason.into(),
    }
}

fn hashes(what: &str, list: &[String]) -> Result<Vec<Hash>, Failure> {
    list.iter()
        .map(|h| {
            B64.decode(h)
                .ok()
                .and_then(|v| Hash::try_from(v).ok())
                .ok_or_else(|| fail(None, format!("manifest: {what} holds a value that is not a hash")))
        })
        .collect()
}

/// An export being verified: [`Self::event`] for each event in order, then
/// [`Self::finish`].
#[derive(Debug)]
pub struct ExportCheck {
    checkpoint: Checkpoint,
    frontier: Frontier,
    right: Vec<Hash>,
    first: u64,
    end: u64,
}

impl ExportCheck {
    /// Checks the manifest's checkpoint against `verifier_key` (the log's
    /// public key in signed-note form, from `jaga keys init` or `jaga audit
    /// public-key`), and that its hashes fit the stretch it names.
    pub fn new(manifest: &Manifest, verifier_key: &str) -> Result<Self, Failure> {
        if manifest.format != FORMAT {
            return Err(fail(None, format!("manifest: not a {FORMAT} export")));
        }
        let (name, key) =
            parse_verifier_key(verifier_key).ok_or_else(|| fail(None, "the public key is not a verifier key"))?;
        let checkpoint = Checkpoint::open(&manifest.checkpoint, &key)
            .map_err(|e| fail(None, format!("the export's checkpoint: {e}")))?;
        if checkpoint.origin != name || manifest.origin != name {
            return Err(fail(None, format!("the export is not from the log {name:?}")));
        }
        let end = manifest
            .first_seq
            .checked_add(manifest.count)
            .filter(|end| *end <= checkpoint.size)
            .ok_or_else(|| fail(None, "manifest: the stretch goes past its checkpoint"))?;
        let frontier = Frontier::from_hashes(manifest.first_seq, &hashes("left", &manifest.left)?)
            .ok_or_else(|| fail(None, "manifest: left does not fit the first sequence number"))?;
        let right = hashes("right", &manifest.right)?;
        if right.len() != merkle::range_heights(end, checkpoint.size).len() {
            return Err(fail(None, "manifest: right does not fit the checkpoint's size"));
        }
        Ok(Self {
            checkpoint,
            frontier,
            right,
            first: manifest.first_seq,
            end,
        })
    }

    /// The next event of the export.
    pub fn event(&mut self, line: &Line) -> Result<(), Failure> {
        let expected = self.frontier.size();
        if expected >= self.end {
            return Err(fail(
                Some(self.end),
                "the export holds more events than its manifest says",
            ));
        }
        if line.seq != expected {
            return Err(fail(
                Some(expected),
                format!("event {expected} is missing or out of order"),
            ));
        }
        let recorded = line.to_recorded().ok_or_else(|| {
            fail(
                Some(expected),
                format!("event {expected} holds a value no writer could write"),
            )
        })?;
        self.frontier.push(merkle::leaf_hash(&recorded.canonical_bytes()));
        Ok(())
    }

    /// Every event was there, and the stretch rebuilds the checkpoint's root.
    pub fn finish(mut self) -> Result<Checked, Failure> {
        let seen = self.frontier.size();
        if seen != self.end {
            return Err(fail(
                Some(seen),
                format!("the export ends at event {seen}, its manifest at {}", self.end),
            ));
        }
        let heights = merkle::range_heights(self.end, self.checkpoint.size);
        for (h, root) in heights.into_iter().zip(self.right.iter()) {
            if !self.frontier.push_subtree(h, *root) {
                return Err(fail(None, "manifest: right does not fit the checkpoint's size"));
            }
        }
        if self.frontier.size() != self.checkpoint.size || self.frontier.root() != self.checkpoint.root {
            return Err(fail(
                Some(self.first),
                format!(
                    "events {}..{} do not match the signed checkpoint of size {} (altered, added or removed)",
                    self.first, self.end, self.checkpoint.size
                ),
            ));
        }
        Ok(Checked {
            origin: self.checkpoint.origin,
            first_seq: self.first,
            events: self.end - self.first,
            checkpoint_size: self.checkpoint.size,
        })
    }
}
