//! Signs checkpoints every N events or T seconds, and at shutdown.
//!
//! It extends an in-memory frontier with committed events in sequence
//! order, checking each event's MAC and that no number is missing, so it
//! never signs a tree that someone altered since the last checkpoint.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::watch;

use super::AuditKeys;
use super::checkpoint::Checkpoint;
use super::merkle::Frontier;
use super::seat::Seat;
use super::{AuditError, check_row};
use crate::config::AuditConfig;
use crate::store::audit::{self as stored, CheckpointRow};
use crate::store::{Db, StoreError, Writer};

const READ_BATCH: i64 = 5_000;
const POLL: Duration = Duration::from_millis(200);

/// Whether the audit log is intact as far as the checkpointer has seen,
/// and how far the background re-verification has got.
#[derive(Debug, Clone, Default)]
pub struct AuditStatus(Arc<Mutex<StatusInner>>);

#[derive(Debug, Clone, Default)]
struct StatusInner {
    failure: Option<String>,
    /// Events checked by the last complete re-verification.
    verified_events: u64,
    /// When the last complete re-verification ended (Unix seconds).
    verified_at: Option<i64>,
}

impl AuditStatus {
    fn with<T>(&self, f: impl FnOnce(&mut StatusInner) -> T) -> T {
        match self.0.lock() {
            Ok(mut g) => f(&mut g),
            Err(p) => f(&mut p.into_inner()),
        }
    }

    pub fn failure(&self) -> Option<String> {
        self.with(|s| s.failure.clone())
    }

    /// (events checked, Unix time) of the last complete re-verification.
    pub fn verified(&self) -> (u64, Option<i64>) {
        self.with(|s| (s.verified_events, s.verified_at))
    }

    /// Marks the log as failing its integrity checks (readiness, metrics,
    /// the console), for the reason given.
    pub fn fail(&self, reason: String) {
        self.with(|s| s.failure = Some(reason));
    }

    fn verified_through(&self, events: u64) {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        self.with(|s| {
            s.verified_events = events;
            s.verified_at = Some(now);
        });
    }
}

#[derive(Debug)]
pub struct Checkpointer {
    db: Db,
    writer: Writer,
    keys: Arc<AuditKeys>,
    config: AuditConfig,
    frontier: Frontier,
    signed_size: u64,
    signed_at: Instant,
    status: AuditStatus,
    sweep: Sweep,
    seat: Seat,
    /// Whether this instance held the signer seat at the last step.
    was_signing: bool,
}

fn corrupt(reason: String) -> AuditError {
    AuditError::Store(StoreError::Corrupt(reason))
}

impl Checkpointer {
    /// Resumes from the last stored checkpoint after checking its signature,
    /// that its frontier gives its root, and that the log still reaches it
    /// and the copy kept outside the database. Failures found later are
    /// reported through `status`.
    pub async fn resume(
        db: Db,
        writer: Writer,
        keys: Arc<AuditKeys>,
        config: AuditConfig,
        status: AuditStatus,
    ) -> Result<Self, AuditError> {
        check_local_copy(&db, &keys, &config).await?;
        let frontier = latest_frontier(&db, &keys, &config).await?;
        let seat = Seat::new(db.clone(), writer.clone(), config.signer_takeover);
        Ok(Self {
            db,
            writer,
            keys,
            seat,
            config,
            signed_size: frontier.size(),
            frontier,
            signed_at: Instant::now(),
            status,
            sweep: Sweep::due_now(),
            was_signing: false,
        })
    }

    pub fn status(&self) -> AuditStatus {
        self.status.clone()
    }

    /// Whether this instance signs checkpoints, now and as it changes.
    pub fn leading(&self) -> watch::Receiver<bool> {
        self.seat.leading()
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
                    self.seat.release().await;
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
                self.seat.release().await;
                return;
            }
        }
    }

    /// Reads new events, signing a checkpoint at every N events, then one
    /// for the rest if T has passed (or `force`); then one more batch of the
    /// background re-verification of the whole log.
    ///
    /// Only the instance holding the signer seat signs; every instance
    /// reads and checks.
    pub async fn step(&mut self, force: bool) -> Result<(), AuditError> {
        let signing = self.seat.hold().await;
        if signing {
            if !self.was_signing {
                self.adopt_latest().await?;
            }
            self.catch_up().await?;
            let pending = self.frontier.size() - self.signed_size;
            if pending > 0 && (force || self.signed_at.elapsed() >= self.config.checkpoint_every) {
                self.sign().await?;
            }
        }
        self.was_signing = signing;
        // The signer also stores the tree nodes a log written before they
        // were kept lacks (one pass, as the sweep reads the log anyway).
        let backfill = signing.then_some(&self.writer);
        if !force
            && let Some(done) = self
                .sweep
                .step(&self.db, &self.keys, backfill, self.config.reverify_every)
                .await?
        {
            self.status.verified_through(done);
        }
        Ok(())
    }

    /// Taking the seat: starts from the newest stored checkpoint (another
    /// instance may have signed far beyond what this one saw), so the log
    /// is read only by the signer and only once.
    async fn adopt_latest(&mut self) -> Result<(), AuditError> {
        let latest = latest_frontier(&self.db, &self.keys, &self.config).await?;
        if latest.size() > self.frontier.size() {
            self.frontier = latest;
        }
        if let Some(row) = stored::last_checkpoint(&self.db).await? {
            self.signed_size = self.signed_size.max(u64::try_from(row.tree_size).unwrap_or(0));
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
        let size = i64::try_from(self.frontier.size()).unwrap_or(i64::MAX);
        let root = self.frontier.root();
        // Another signer (before this one took the seat) may have signed
        // this size already; never sign a second root for it.
        if self.seat.known(size, &root).await? {
            self.signed_size = self.frontier.size();
            self.signed_at = Instant::now();
            return Ok(());
        }
        let checkpoint = Checkpoint {
            origin: self.config.origin.clone(),
            size: self.frontier.size(),
            root,
            time: time::OffsetDateTime::now_utc().unix_timestamp(),
        };
        let row = CheckpointRow {
            tree_size: i64::try_from(checkpoint.size).unwrap_or(i64::MAX),
            root_hash: checkpoint.root.to_vec(),
            time_s: checkpoint.time,
            note: checkpoint.sign(&self.keys),
            frontier: self.frontier.to_bytes(),
        };
        self.seat.store(row).await?;
        tracing::debug!(audit.tree_size = checkpoint.size, "audit checkpoint signed");
        self.signed_size = checkpoint.size;
        self.signed_at = Instant::now();
        Ok(())
    }
}

/// The tree at the newest stored checkpoint, after checking its signature,
/// its origin, that its frontier gives its root, and that the log still
/// reaches it; the empty tree without one.
async fn latest_frontier(db: &Db, keys: &AuditKeys, config: &AuditConfig) -> Result<Frontier, AuditError> {
    let Some(row) = stored::last_checkpoint(db).await? else {
        return Ok(Frontier::default());
    };
    let cp =
        Checkpoint::open(&row.note, &keys.public_key()).map_err(|e| corrupt(format!("last audit checkpoint: {e}")))?;
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
    let frontier = Frontier::from_bytes(&row.frontier)
        .filter(|f| f.size() == cp.size && f.root() == cp.root)
        .ok_or_else(|| corrupt(format!("audit checkpoint {} does not match its frontier", cp.size)))?;
    let end = u64::try_from(stored::end_seq(db).await?).unwrap_or(0);
    if end < cp.size {
        return Err(corrupt(format!(
            "audit log ends at {end} but checkpoint covers {} events (truncated); run `jaga audit verify`",
            cp.size
        )));
    }
    Ok(frontier)
}

/// The signed checkpoint kept outside the database must describe a prefix
/// of the log in the database: otherwise the log was rolled back, cut or
/// replaced underneath us. (Commands that write check it too.)
pub async fn check_local_copy(db: &Db, keys: &AuditKeys, config: &AuditConfig) -> Result<(), AuditError> {
    let path = &config.checkpoint_file;
    let note = super::copy::read(path).map_err(|e| corrupt(format!("cannot read {}: {e}", path.display())))?;
    let Some(note) = note else {
        return Ok(());
    };
    let local = Checkpoint::open(&note, &keys.public_key()).map_err(|e| corrupt(format!("{}: {e}", path.display())))?;
    match root_at(db, keys, local.size).await? {
        Some(root) if root == local.root => Ok(()),
        Some(_) => Err(corrupt(format!(
            "the database does not hold the audit log of size {} signed in {}: it was rewritten or replaced; \
             run `jaga audit verify`",
            local.size,
            path.display(),
        ))),
        None => Err(corrupt(format!(
            "the audit log is truncated or rolled back: it ends before {} events, which the checkpoint copy {} \
             covers; run `jaga audit verify`",
            local.size,
            path.display(),
        ))),
    }
}

/// The root of the stored log at `size`, from the newest checkpoint at or
/// below it and the events after; `None` if the log is shorter.
pub async fn root_at(db: &Db, keys: &AuditKeys, size: u64) -> Result<Option<super::merkle::Hash>, AuditError> {
    let wanted = i64::try_from(size).unwrap_or(i64::MAX);
    let mut frontier = match stored::checkpoint_at_or_before(db, wanted).await? {
        Some(row) => {
            let cp = Checkpoint::open(&row.note, &keys.public_key())
                .map_err(|e| corrupt(format!("audit checkpoint {}: {e}", row.tree_size)))?;
            Frontier::from_bytes(&row.frontier)
                .filter(|f| {
                    i64::try_from(f.size()).ok() == Some(row.tree_size) && f.size() == cp.size && f.root() == cp.root
                })
                .ok_or_else(|| {
                    corrupt(format!(
                        "audit checkpoint {} does not match its frontier",
                        row.tree_size
                    ))
                })?
        }
        None => Frontier::default(),
    };
    while frontier.size() < size {
        let from = i64::try_from(frontier.size()).unwrap_or(i64::MAX);
        let rows = stored::events_from(db, from, READ_BATCH.min(wanted - from)).await?;
        if rows.is_empty() {
            return Ok(None);
        }
        for row in rows {
            let expected = frontier.size();
            if u64::try_from(row.seq).ok() != Some(expected) {
                return Ok(None);
            }
            let leaf = check_row(keys, &row).ok_or_else(|| corrupt(format!("audit event {expected} was altered")))?;
            frontier.push(leaf);
        }
    }
    Ok(Some(frontier.root()))
}

/// Background re-verification of the whole log, a batch per step: every
/// MAC, no gap, and the root at every stored checkpoint and at the tip, so
/// that altering events that were checkpointed long ago shows in `/readyz`
/// and `/metrics` while the service runs.
#[derive(Debug)]
struct Sweep {
    frontier: Frontier,
    /// (size, root) still to compare, smallest first.
    pending: std::collections::VecDeque<(u64, super::merkle::Hash)>,
    running: bool,
    /// Whether this pass stores the tree nodes it completes (some were
    /// missing when it started).
    backfill: bool,
    next_at: Instant,
}

impl Sweep {
    fn due_now() -> Self {
        Self {
            frontier: Frontier::default(),
            pending: std::collections::VecDeque::new(),
            running: false,
            backfill: false,
            next_at: Instant::now(),
        }
    }

    /// One batch; returns the number of events checked when a pass ends.
    async fn step(
        &mut self,
        db: &Db,
        keys: &AuditKeys,
        writer: Option<&Writer>,
        every: Duration,
    ) -> Result<Option<u64>, AuditError> {
        if !self.running {
            if Instant::now() < self.next_at {
                return Ok(None);
            }
            self.start(db, keys).await?;
        }
        let from = i64::try_from(self.frontier.size()).unwrap_or(i64::MAX);
        let rows = stored::events_from(db, from, READ_BATCH).await?;
        let n = rows.len();
        let mut nodes = Vec::new();
        for row in rows {
            let expected = self.frontier.size();
            if u64::try_from(row.seq).ok() != Some(expected) {
                return Err(corrupt(format!("audit event {expected} is missing")));
            }
            let leaf = check_row(keys, &row).ok_or_else(|| corrupt(format!("audit event {expected} was altered")))?;
            self.frontier.push_noting(leaf, &mut nodes);
            while let Some((size, root)) = self.pending.front().copied() {
                if size > self.frontier.size() {
                    break;
                }
                if size == self.frontier.size() && root != self.frontier.root() {
                    return Err(corrupt(format!(
                        "the audit log differs from its signed checkpoint of size {size}"
                    )));
                }
                self.pending.pop_front();
            }
        }
        if self.backfill
            && !nodes.is_empty()
            && let Some(writer) = writer
        {
            let rows = super::proof::node_rows(&nodes);
            writer
                .write(move |tx| Box::pin(async move { crate::store::audit_node::backfill(tx, &rows).await }))
                .await?;
        }
        if n < usize::try_from(READ_BATCH).unwrap_or(usize::MAX) {
            if let Some((size, _)) = self.pending.front() {
                return Err(corrupt(format!(
                    "the audit log ends at {} events but a signed checkpoint covers {size}",
                    self.frontier.size()
                )));
            }
            self.running = false;
            self.next_at = Instant::now() + every;
            return Ok(Some(self.frontier.size()));
        }
        Ok(None)
    }

    async fn start(&mut self, db: &Db, keys: &AuditKeys) -> Result<(), AuditError> {
        let public = keys.public_key();
        let mut pending = Vec::new();
        for row in stored::checkpoints(db).await? {
            let cp = Checkpoint::open(&row.note, &public)
                .map_err(|e| corrupt(format!("audit checkpoint {}: {e}", row.tree_size)))?;
            pending.push((cp.size, cp.root));
        }
        if let Some(tip) = stored::tip(db).await? {
            let cp = Checkpoint::open(&tip.note, &public).map_err(|e| corrupt(format!("audit tip: {e}")))?;
            pending.push((cp.size, cp.root));
        }
        pending.sort_by_key(|(size, _)| *size);
        // Nodes are stored by the writer from the start of a log; a log
        // written before that lacks the lowest ones.
        let size = pending.last().map_or(0, |(size, _)| *size);
        let level = i64::from(super::merkle::STORED_EVERY);
        let have = u64::try_from(crate::store::audit_node::count(db, level).await?).unwrap_or(0);
        self.backfill = have < size >> super::merkle::STORED_EVERY;
        self.pending = pending.into();
        self.frontier = Frontier::default();
        self.running = true;
        Ok(())
    }
}
