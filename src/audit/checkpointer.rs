//! Signs checkpoints every N events or T seconds, and at shutdown.
//!
//! It extends an in-memory frontier with committed events in sequence
//! order, checking each event's MAC and that no number is missing, so it
//! never signs a tree that someone altered since the last checkpoint.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::watch;

use super::checkpoint::Checkpoint;
use super::merkle::Frontier;
use super::{AuditError, check_row};
use crate::config::AuditConfig;
use crate::keys::KeyRing;
use crate::store::audit::{self as stored, CheckpointRow};
use crate::store::{Db, StoreError, Writer};

const READ_BATCH: i64 = 5_000;
const POLL: Duration = Duration::from_millis(200);

/// Whether the audit log is intact as far as the checkpointer has seen.
#[derive(Debug, Clone, Default)]
pub struct AuditStatus(Arc<Mutex<Option<String>>>);

impl AuditStatus {
    pub fn failure(&self) -> Option<String> {
        self.0
            .lock()
            .map(|g| g.clone())
            .unwrap_or_else(|p| p.into_inner().clone())
    }

    fn fail(&self, reason: String) {
        match self.0.lock() {
            Ok(mut g) => *g = Some(reason),
            Err(p) => *p.into_inner() = Some(reason),
        }
    }
}

#[derive(Debug)]
pub struct Checkpointer {
    db: Db,
    writer: Writer,
    keys: Arc<KeyRing>,
    config: AuditConfig,
    frontier: Frontier,
    signed_size: u64,
    signed_at: Instant,
    status: AuditStatus,
}

fn corrupt(reason: String) -> AuditError {
    AuditError::Store(StoreError::Corrupt(reason))
}

impl Checkpointer {
    /// Resumes from the last stored checkpoint after checking its signature,
    /// that its frontier gives its root, and that the log still reaches it.
    pub async fn resume(db: Db, writer: Writer, keys: Arc<KeyRing>, config: AuditConfig) -> Result<Self, AuditError> {
        let mut frontier = Frontier::default();
        check_local_copy(&db, &keys, &config).await?;
        if let Some(row) = stored::last_checkpoint(&db).await? {
            let cp = Checkpoint::open(&row.note, &keys.audit.public_key())
                .map_err(|e| corrupt(format!("last audit checkpoint: {e}")))?;
            if i64::try_from(cp.size).ok() != Some(row.tree_size) {
                return Err(corrupt(format!(
                    "audit checkpoint row {} holds a note for size {}",
                    row.tree_size, cp.size
                )));
            }
            if cp.origin != config.origin {
                return Err(corrupt(format!(
                    "audit checkpoints are signed for origin {:?} but audit.origin is {:?}",
                    cp.origin, config.origin
                )));
            }
            frontier = Frontier::from_bytes(&row.frontier)
                .filter(|f| f.size() == cp.size && f.root() == cp.root)
                .ok_or_else(|| corrupt(format!("audit checkpoint {} does not match its frontier", cp.size)))?;
            let end = u64::try_from(stored::end_seq(&db).await?).unwrap_or(0);
            if end < cp.size {
                return Err(corrupt(format!(
                    "audit log ends at {end} but checkpoint covers {} events (truncated); run `jaga audit verify`",
                    cp.size
                )));
            }
        }
        Ok(Self {
            db,
            writer,
            keys,
            config,
            signed_size: frontier.size(),
            frontier,
            signed_at: Instant::now(),
            status: AuditStatus::default(),
        })
    }

    pub fn status(&self) -> AuditStatus {
        self.status.clone()
    }

    /// Runs until `shutdown` turns true, then writes a last checkpoint.
    pub async fn run(mut self, mut shutdown: watch::Receiver<bool>) {
        let mut tick = tokio::time::interval(POLL);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let stopping = tokio::select! {
                _ = tick.tick() => *shutdown.borrow(),
                changed = shutdown.changed() => changed.is_err() || *shutdown.borrow(),
            };
            if self.status.failure().is_some() {
                if stopping {
                    return;
                }
                continue;
            }
            match self.step(stopping).await {
                Ok(()) => {}
                Err(AuditError::Store(StoreError::Corrupt(reason))) => {
                    tracing::error!(audit.failure = %reason, "audit log integrity failure; checkpoints stopped");
                    self.status.fail(reason);
                }
                Err(e) => tracing::warn!(error = %e, "audit checkpoint step failed; will retry"),
            }
            if stopping {
                return;
            }
        }
    }

    /// Reads new events, signing a checkpoint at every N events, then one
    /// for the rest if T has passed (or `force`).
    pub async fn step(&mut self, force: bool) -> Result<(), AuditError> {
        self.catch_up().await?;
        let pending = self.frontier.size() - self.signed_size;
        if pending > 0 && (force || self.signed_at.elapsed() >= self.config.checkpoint_every) {
            self.sign().await?;
        }
        Ok(())
    }

    async fn catch_up(&mut self) -> Result<(), AuditError> {
        loop {
            let from = i64::try_from(self.frontier.size()).unwrap_or(i64::MAX);
            let rows = stored::events_from(&self.db, from, READ_BATCH).await?;
            let n = rows.len();
            for row in rows {
                let expected = self.frontier.size();
                if u64::try_from(row.seq).ok() != Some(expected) {
                    return Err(corrupt(format!("audit event {expected} is missing")));
                }
                let leaf = check_row(&self.keys, &row)
                    .ok_or_else(|| corrupt(format!("audit event {expected} was altered")))?;
                self.frontier.push(leaf);
                if self.frontier.size() - self.signed_size >= self.config.checkpoint_every_events {
                    self.sign().await?;
                }
            }
            if n < usize::try_from(READ_BATCH).unwrap_or(usize::MAX) {
                return Ok(());
            }
        }
    }

    async fn sign(&mut self) -> Result<(), AuditError> {
        let checkpoint = Checkpoint {
            origin: self.config.origin.clone(),
            size: self.frontier.size(),
            root: self.frontier.root(),
            time: time::OffsetDateTime::now_utc().unix_timestamp(),
        };
        let row = CheckpointRow {
            tree_size: i64::try_from(checkpoint.size).unwrap_or(i64::MAX),
            root_hash: checkpoint.root.to_vec(),
            time_s: checkpoint.time,
            note: checkpoint.sign(&self.keys.audit),
            frontier: self.frontier.to_bytes(),
        };
        let note = row.note.clone();
        self.writer
            .write(move |tx| Box::pin(async move { stored::insert_checkpoint(tx, &row).await }))
            .await?;
        if let Err(e) = write_local_copy(&self.config.checkpoint_file, &note) {
            tracing::error!(error = %e, path = %self.config.checkpoint_file.display(), "could not write the checkpoint copy");
        }
        tracing::debug!(audit.tree_size = checkpoint.size, "audit checkpoint signed");
        self.signed_size = checkpoint.size;
        self.signed_at = Instant::now();
        Ok(())
    }
}

/// The signed checkpoint kept outside the database must be in the database,
/// unchanged: otherwise the log was rolled back or forked underneath us.
async fn check_local_copy(db: &Db, keys: &KeyRing, config: &AuditConfig) -> Result<(), AuditError> {
    let path = &config.checkpoint_file;
    let note = match std::fs::read_to_string(path) {
        Ok(n) => n,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(corrupt(format!("cannot read {}: {e}", path.display()))),
    };
    let local =
        Checkpoint::open(&note, &keys.audit.public_key()).map_err(|e| corrupt(format!("{}: {e}", path.display())))?;
    let size = i64::try_from(local.size).unwrap_or(i64::MAX);
    let stored = stored::checkpoint_at(db, size).await?;
    let same = stored
        .as_ref()
        .and_then(|row| Checkpoint::open(&row.note, &keys.audit.public_key()).ok())
        .is_some_and(|cp| cp.root == local.root);
    if same {
        Ok(())
    } else {
        Err(corrupt(format!(
            "the database does not hold the audit checkpoint of size {} kept in {}: the log was rolled back or \
             replaced; run `jaga audit verify --checkpoint {}`",
            local.size,
            path.display(),
            path.display()
        )))
    }
}

/// Replaces the local copy atomically (write, sync, rename).
fn write_local_copy(path: &std::path::Path, note: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension("tmp");
    let mut file = std::fs::File::create(&tmp)?;
    file.write_all(note.as_bytes())?;
    file.sync_all()?;
    std::fs::rename(&tmp, path)
}
