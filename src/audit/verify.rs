//! Recomputes the audit tree from the database and checks it against every
//! signed checkpoint (and optionally one kept outside the database).

use std::fmt;

use super::AuditKeys;
use super::check_row;
use super::checkpoint::Checkpoint;
use super::merkle::{Hash, Tree, verify_consistency};
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
pub async fn verify(db: &Db, keys: &AuditKeys, origin: &str, external: Option<&str>) -> Result<Report, VerifyError> {
    let public = keys.public_key();
    let checkpoints = stored_checkpoints(db, &public, origin).await?;
    let external = external
        .map(|note| Checkpoint::open(note, &public).map_err(|e| fail(None, format!("external checkpoint: {e}"))))
        .transpose()?;
    let tree = rebuild(db, keys, &checkpoints).await?;
    let size = tree.size();
    check_consistency(&tree, &checkpoints)?;
    if let Some(ext) = &external {
        check_external(&tree, &checkpoints, ext)?;
    }
    Ok(Report {
        events: size,
        checkpoints: checkpoints.len(),
        root: tree.root(size).unwrap_or_default(),
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

/// Every checkpoint within the log, and each consistent with the one before.
fn check_consistency(tree: &Tree, checkpoints: &[Checkpoint]) -> Result<(), VerifyError> {
    let size = tree.size();
    let mut previous: Option<&Checkpoint> = None;
    for cp in checkpoints {
        if cp.size > size {
            return Err(fail(
                Some(size),
                format!("log ends at {size} events but a checkpoint covers {}", cp.size),
            ));
        }
        if let Some(prev) = previous {
            let proof = tree
                .consistency_proof(prev.size, cp.size)
                .map_err(|_| fail(Some(prev.size), "no consistency proof"))?;
            if !verify_consistency(prev.size, cp.size, &prev.root, &cp.root, &proof) {
                return Err(fail(
                    Some(prev.size),
                    format!("checkpoints {} and {} are not consistent", prev.size, cp.size),
                ));
            }
        }
        previous = Some(cp);
    }
    Ok(())
}

/// The log matches the checkpoint kept outside the database.
fn check_external(tree: &Tree, checkpoints: &[Checkpoint], ext: &Checkpoint) -> Result<(), VerifyError> {
    let size = tree.size();
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
    let root = tree
        .root(ext.size)
        .map_err(|_| fail(Some(size), "external checkpoint out of range"))?;
    if root != ext.root {
        return Err(fail(
            Some(trusted),
            format!("log does not match the external checkpoint of size {}", ext.size),
        ));
    }
    Ok(())
}

/// Reads every event in order, checking numbering and MACs, and compares
/// the root at each checkpoint as soon as the tree reaches its size.
async fn rebuild(db: &Db, keys: &AuditKeys, checkpoints: &[Checkpoint]) -> Result<Tree, VerifyError> {
    let mut tree = Tree::default();
    let mut next_checkpoint = checkpoints.iter().peekable();
    let mut trusted = 0u64;
    loop {
        let from = i64::try_from(tree.size()).unwrap_or(i64::MAX);
        let rows = stored::events_from(db, from, READ_BATCH).await?;
        let n = rows.len();
        for row in rows {
            let expected = tree.size();
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
            tree.push(leaf);
            while let Some(cp) = next_checkpoint.peek() {
                if cp.size != tree.size() {
                    break;
                }
                if tree.root(cp.size).ok() != Some(cp.root) {
                    return Err(fail(
                        Some(trusted),
                        format!("root at tree size {} differs from its signed checkpoint", cp.size),
                    ));
                }
                trusted = cp.size;
                next_checkpoint.next();
            }
        }
        if n < usize::try_from(READ_BATCH).unwrap_or(usize::MAX) {
            return Ok(tree);
        }
    }
}
