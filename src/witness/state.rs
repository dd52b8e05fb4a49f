//! A witness (C2SP tlog-witness): for each log it knows, the latest
//! checkpoint it cosigned. A new checkpoint is cosigned only if the log's
//! key signed it and a consistency proof shows that it extends that one;
//! the check and the update of the stored state are one step, and the
//! state is on disk (written to a temporary file, synced, renamed) before
//! the cosignature is given.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use ring::signature::Ed25519KeyPair;
use serde::{Deserialize, Serialize};

use super::cosignature;
use super::request::AddCheckpoint;
use crate::audit::checkpoint::{Checkpoint, NoteError};
use crate::audit::merkle::{self, Hash};

/// Why a checkpoint was not cosigned (the protocol's status codes).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// 400
    #[error("malformed: {0}")]
    Malformed(String),
    /// 403: no signature by the log's key.
    #[error("the checkpoint is not signed by the log's key")]
    Unsigned,
    /// 404
    #[error("unknown log {0:?}")]
    UnknownLog(String),
    /// 409: the old size is not the latest cosigned size (given), or the
    /// same size came with another root.
    #[error("the latest cosigned checkpoint of this log has size {0}")]
    Conflict(u64),
    /// 422: the proof does not show that the checkpoint extends the one
    /// cosigned before: the log was rewritten or forked.
    #[error("the consistency proof from size {old} to {new} does not verify")]
    Inconsistent { old: u64, new: u64 },
    /// 500: the state could not be stored (nothing cosigned).
    #[error("the witness state could not be stored: {0}")]
    Storage(String),
}

/// What the witness stored of a log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seen {
    pub size: u64,
    pub root: Hash,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct StateFile {
    /// origin → (size, base64 root)
    logs: BTreeMap<String, (u64, String)>,
}

#[derive(Debug)]
pub struct Witness {
    name: String,
    key: Ed25519KeyPair,
    /// origin → the log's Ed25519 key
    logs: BTreeMap<String, [u8; 32]>,
    path: PathBuf,
    seen: Mutex<BTreeMap<String, Seen>>,
}

fn now() -> u64 {
    u64::try_from(time::OffsetDateTime::now_utc().unix_timestamp()).unwrap_or(0)
}

impl Witness {
    /// A witness keeping its state in the file `path` (read if it exists).
    pub fn open(
        name: String,
        key: Ed25519KeyPair,
        logs: BTreeMap<String, [u8; 32]>,
        path: PathBuf,
    ) -> Result<Self, String> {
        let seen = match std::fs::read_to_string(&path) {
            Ok(text) => parse_state(&text).map_err(|e| format!("{}: {e}", path.display()))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => BTreeMap::new(),
            Err(e) => return Err(format!("{}: {e}", path.display())),
        };
        Ok(Self {
            name,
            key,
            logs,
            path,
            seen: Mutex::new(seen),
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The latest cosigned checkpoint of `origin`.
    pub fn seen(&self, origin: &str) -> Option<Seen> {
        self.with(|s| s.get(origin).copied())
    }

    fn with<T>(&self, f: impl FnOnce(&mut BTreeMap<String, Seen>) -> T) -> T {
        match self.seen.lock() {
            Ok(mut g) => f(&mut g),
            Err(p) => f(&mut p.into_inner()),
        }
    }

    /// Handles an `add-checkpoint` request body: the cosignature line, or
    /// why not. Blocking (it writes the state file); call it off the
    /// async runtime.
    pub fn add_checkpoint(&self, body: &str) -> Result<String, Refusal> {
        let request = AddCheckpoint::parse(body).map_err(|e| Refusal::Malformed(e.0.to_owned()))?;
        let origin = request.note.split('\n').next().unwrap_or_default().to_owned();
        let log_key = self
            .logs
            .get(&origin)
            .ok_or_else(|| Refusal::UnknownLog(origin.clone()))?;
        let cp = Checkpoint::open(&request.note, log_key).map_err(|e| match e {
            NoteError::Malformed(m) => Refusal::Malformed(m.to_owned()),
            NoteError::BadSignature(_) => Refusal::Unsigned,
        })?;
        if request.old > cp.size {
            return Err(Refusal::Malformed(
                "the old size is larger than the checkpoint's".into(),
            ));
        }
        let body = cosignature::body_of(&request.note).ok_or_else(|| Refusal::Malformed("note body".into()))?;
        let mut seen = match self.seen.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        let before = seen.get(&origin).copied();
        let latest = before.map_or(0, |s| s.size);
        if request.old != latest {
            return Err(Refusal::Conflict(latest));
        }
        match before {
            Some(s) if s.size == cp.size => {
                if s.root != cp.root {
                    return Err(Refusal::Conflict(latest));
                }
            }
            Some(s) => {
                if !merkle::verify_consistency(s.size, cp.size, &s.root, &cp.root, &request.proof) {
                    tracing::warn!(log = %origin, old = s.size, new = cp.size, "refused an inconsistent checkpoint");
                    return Err(Refusal::Inconsistent {
                        old: s.size,
                        new: cp.size,
                    });
                }
            }
            None => {
                if !request.proof.is_empty() {
                    return Err(Refusal::Malformed("a proof from size 0 must be empty".into()));
                }
            }
        }
        let mut next = seen.clone();
        next.insert(
            origin,
            Seen {
                size: cp.size,
                root: cp.root,
            },
        );
        store(&self.path, &next).map_err(|e| Refusal::Storage(e.to_string()))?;
        *seen = next;
        drop(seen);
        Ok(cosignature::sign(&self.key, &self.name, now(), &body))
    }
}

fn parse_state(text: &str) -> Result<BTreeMap<String, Seen>, String> {
    let file: StateFile = serde_json::from_str(text).map_err(|e| e.to_string())?;
    file.logs
        .into_iter()
        .map(|(origin, (size, root))| {
            let root = B64
                .decode(&root)
                .ok()
                .and_then(|v| Hash::try_from(v.as_slice()).ok())
                .ok_or_else(|| format!("the root of {origin:?} is not a base64 hash"))?;
            Ok((origin, Seen { size, root }))
        })
        .collect()
}

/// Writes the state next to `path`, syncs it, and renames it into place.
fn store(path: &Path, seen: &BTreeMap<String, Seen>) -> std::io::Result<()> {
    use std::io::Write as _;
    let file = StateFile {
        logs: seen
            .iter()
            .map(|(o, s)| (o.clone(), (s.size, B64.encode(s.root))))
            .collect(),
    };
    let text = serde_json::to_string_pretty(&file).map_err(std::io::Error::other)?;
    let tmp = path.with_extension("tmp");
    {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path)?;
    if let Some(dir) = path.parent() {
        std::fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}

#[cfg(test)]
#[path = "state_tests.rs"]
mod tests;
