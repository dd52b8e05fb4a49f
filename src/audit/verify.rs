//! Recomputes the audit tree from the database and checks it against every
//! signed checkpoint (and optionally one kept outside the database), in
//! memory bounded by the tree's height, whatever the log's size.

use std::fmt;

use super::AuditKeys;
use super::check_row;
use super::checkpoint::Checkpoint;
use super::merkle::{Frontier, Hash};
use crate::store::audit as stored;
use crate::store::{Db, StoreError};

const READ_BATCH: i64 = 10_000;

/// What a successful verification saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub events: u64,
    pub checkpoints: usize,
    pub root: Hash,
}

/// The first problem found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// First sequence number that cannot be trusted, when one can be named.
    pub seq: Option<u64>,
    pub reason: String,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.seq {
            Some(seq) => write!(f, "first bad sequence number {seq}: {}", self.reason),
            None => write!(f, "{}", self.reason),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error("audit log verification failed: {0}")]
    Failed(Failure),
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn fail(seq: Option<u64>, reason: impl Into<String>) -> VerifyError {
    VerifyError::Failed(Failure {
        seq,
        reason: reason.into(),
    })
}

/// Verifies the whole log. `external` is a checkpoint note kept outside the
/// database, which catches a log truncated together with its checkpoints.
///
/// The log is read once, in batches, into the tree's frontier (O(log n)
/// hashes), so memory stays bounded whatever the log's size. Every signed
/// checkpoint's root is compared with the recomputed root as the log
/// reaches its size; checkpoints that each match a prefix of one log are
/// consistent with each other, so no consistency proof is needed.
pub async fn verify(db: &Db, keys: &AuditKeys, origin: &str, external: Option<&str>) -> Result<Report, VerifyError> {
    let public = keys.public_key();
    let checkpoints = stored_checkpoints(db, &public, origin).await?;
    let external = external
        .map(|note| Checkpoint::open(note, &public).map_err(|e| fail(None, format!("external checkpoint: {e}"))))
        .transpose()?;
    let rebuilt = rebuild(db, keys, &checkpoints, external.as_ref().map(|e| e.size)).await?;
    let size = rebuilt.frontier.size();
    check_sizes(size, &checkpoints)?;
    if let Some(ext) = &external {
        check_external(size, rebuilt.external_root, &checkpoints, ext)?;
    }
    Ok(Report {
        events: size,
        checkpoints: checkpoints.len(),
        root: rebuilt.frontier.root(),
    })
}

/// The stored checkpoints and the tip (signed at the last group commit),
/// each signed by this log's key for `origin`, smallest first.
async fn stored_checkpoints(db: &Db, public: &[u8; 32], origin: &str) -> Result<Vec<Checkpoint>, VerifyError> {
    let mut checkpoints = Vec::new();
    for row in stored::checkpoints(db).await? {
        let cp = Checkpoint::open(&row.note, public)
            .map_err(|e| fail(None, format!("checkpoint at tree size {}: {e}", row.tree_size)))?;
        if cp.origin != origin {
            return Err(fail(
                None,
                format!(
                    "checkpoint at tree size {} is for origin {:?}, not {origin:?}",
                    row.tree_size, cp.origin
                ),
            ));
        }
        if i64::try_from(cp.size).ok() != Some(row.tree_size) {
            return Err(fail(
                None,
                format!("checkpoint row {} holds a note for size {}", row.tree_size, cp.size),
            ));
        }
        checkpoints.push(cp);
    }
    if let Some(tip) = stored::tip(db).await? {
        let cp = Checkpoint::open(&tip.note, public).map_err(|e| fail(None, format!("audit tip: {e}")))?;
        if cp.origin != origin || i64::try_from(cp.size).ok() != Some(tip.tree_size) {
            return Err(fail(
                None,
                format!("the audit tip of size {} is not ours", tip.tree_size),
            ));
        }
        if !checkpoints.iter().any(|c| c.size == cp.size) {
            checkpoints.push(cp);
            checkpoints.sort_by_key(|c| c.size);
        }
    }
    Ok(checkpoints)
}

/// Every checkpoint within the log (their roots were compared as the log
/// was read).
fn check_sizes(size: u64, checkpoints: &[Checkpoint]) -> Result<(), VerifyError> {
    match checkpoints.iter().find(|cp| cp.size > size) {
        Some(cp) => Err(fail(
            Some(size),
            format!("log ends at {size} events but a checkpoint covers {}", cp.size),
        )),
        None => Ok(()),
    }
}

/// The log matches the checkpoint kept outside the database.
fn check_external(
    size: u64,
    root: Option<Hash>,
    checkpoints: &[Checkpoint],
    ext: &Checkpoint,
) -> Result<(), VerifyError> {
    let trusted = checkpoints
        .iter()
        .filter(|c| c.size <= ext.size)
        .map(|c| c.size)
        .max()
        .unwrap_or(0);
    if ext.size > size {
        return Err(fail(
            Some(size),
            format!(
                "log ends at {size} events but the external checkpoint covers {}",
                ext.size
            ),
        ));
    }
    if root != Some(ext.root) {
        return Err(fail(
            Some(trusted),
            format!("log does not match the external checkpoint of size {}", ext.size),
        ));
    }
    Ok(())
}

/// What reading the log left: its frontier, and its root at the external
/// checkpoint's size when it reached it.
struct Rebuilt {
    frontier: Frontier,
    external_root: Option<Hash>,
}

/// Reads every event in order, checking numbering and MACs, and compares
/// the root at each checkpoint as soon as the log reaches its size.
async fn rebuild(
    db: &Db,
    keys: &AuditKeys,
    checkpoints: &[Checkpoint],
    external_size: Option<u64>,
) -> Result<Rebuilt, VerifyError> {
    let mut frontier = Frontier::default();
    let mut next_checkpoint = checkpoints.iter().peekable();
    let mut trusted = 0u64;
    let mut external_root = None;
    // Checks what is due at the frontier's size (also at size 0).
    let mut reached = |frontier: &Frontier, trusted: &mut u64| -> Result<(), VerifyError> {
        if external_size == Some(frontier.size()) {
            external_root = Some(frontier.root());
        }
        while let Some(cp) = next_checkpoint.peek() {
            if cp.size != frontier.size() {
                break;
            }
            if frontier.root() != cp.root {
                return Err(fail(
                    Some(*trusted),
                    format!("root at tree size {} differs from its signed checkpoint", cp.size),
                ));
            }
            *trusted = cp.size;
            next_checkpoint.next();
        }
        Ok(())
    };
    reached(&frontier, &mut trusted)?;
    loop {
        let from = i64::try_from(frontier.size()).unwrap_or(i64::MAX);
        let rows = stored::events_from(db, from, READ_BATCH).await?;
        let n = rows.len();
        for row in rows {
            let expected = frontier.size();
            match u64::try_from(row.seq) {
                Ok(seq) if seq == expected => {}
                _ => return Err(fail(Some(expected), format!("event {expected} is missing"))),
            }
            let leaf = check_row(keys, &row).ok_or_else(|| {
                fail(
                    Some(expected),
                    format!("event {expected} does not match its MAC (altered or moved)"),
                )
            })?;
            frontier.push(leaf);
            reached(&frontier, &mut trusted)?;
        }
        if n < usize::try_from(READ_BATCH).unwrap_or(usize::MAX) {
            return Ok(Rebuilt {
                frontier,
                external_root,
            });
        }
    }
}
