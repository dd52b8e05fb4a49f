//! The signer's seat: one instance at a time signs audit checkpoints.
//!
//! Every instance reads and checks the log (its checkpointer keeps a
//! frontier and re-verifies in the background); only the one holding the
//! signer lease (`store::lease`) signs. The others try to take the lease
//! every `audit.signer_takeover_secs`, so a signer that dies is replaced
//! within about that time. A checkpoint is stored on the lease's own
//! connection: a signer that lost its lease cannot store one.
//!
//! Before signing a size, the seat looks for a checkpoint of that size
//! already stored: the same root is nothing to do; a different root is an
//! integrity failure, and nothing is signed.

use std::time::{Duration, Instant};

use tokio::sync::watch;

use super::AuditError;
use crate::store::audit::{self as stored, CheckpointRow};
use crate::store::lease::{Lease, LeaseName};
use crate::store::{Db, StoreError, Writer};

/// What storing a checkpoint found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    /// Stored now.
    New,
    /// The same checkpoint (same size and root) was already stored.
    Known,
}

#[derive(Debug)]
pub struct Seat {
    db: Db,
    writer: Writer,
    lease: Option<Lease>,
    takeover: Duration,
    next_try: Instant,
    /// Whether this instance signs now (the retention purge follows it).
    leading: watch::Sender<bool>,
}

impl Seat {
    pub fn new(db: Db, writer: Writer, takeover: Duration) -> Self {
        Self {
            db,
            writer,
            lease: None,
            takeover,
            next_try: Instant::now(),
            leading: watch::channel(false).0,
        }
    }

    /// Whether this instance signs, now and as it changes.
    pub fn leading(&self) -> watch::Receiver<bool> {
        self.leading.subscribe()
    }

    /// Holds the lease if it can: tries to take it when due, and notices a
    /// lease whose connection is gone. Returns whether it is held.
    pub async fn hold(&mut self) -> bool {
        if let Some(lease) = &mut self.lease {
            if lease.alive().await {
                return true;
            }
            tracing::warn!("lost the audit signer lease (its database connection ended)");
            self.lose();
        }
        if Instant::now() < self.next_try {
            return false;
        }
        self.next_try = Instant::now() + self.takeover;
        match Lease::try_take(&self.db, LeaseName::Signer).await {
            Ok(Some(lease)) => {
                if matches!(lease, Lease::Postgres { .. }) {
                    tracing::info!("this instance now signs audit checkpoints");
                }
                self.lease = Some(lease);
                self.leading.send_replace(true);
                true
            }
            Ok(None) => false,
            Err(e) => {
                tracing::warn!(error = %e, "could not ask for the audit signer lease; will retry");
                false
            }
        }
    }

    fn lose(&mut self) {
        self.lease = None;
        self.leading.send_replace(false);
        self.next_try = Instant::now() + self.takeover;
    }

    /// Whether a checkpoint of this size is already stored with this root;
    /// an integrity failure if it is stored with another root. Asked
    /// before signing, so a second root for one size is never signed.
    pub async fn known(&self, size: i64, root: &[u8]) -> Result<bool, AuditError> {
        match stored::checkpoint_at(&self.db, size).await? {
            None => Ok(false),
            Some(existing) if existing.root_hash == root => Ok(true),
            Some(_) => Err(AuditError::Store(StoreError::Corrupt(format!(
                "a checkpoint of size {size} with another root is already stored: the log was forked"
            )))),
        }
    }

    /// Stores `row` under the lease. Call only while [`Seat::hold`] is true.
    pub async fn store(&mut self, row: CheckpointRow) -> Result<Stored, AuditError> {
        let inserted = match &mut self.lease {
            None => {
                return Err(AuditError::Store(StoreError::Corrupt(
                    "a checkpoint may be stored only under the signer lease".into(),
                )));
            }
            Some(Lease::Alone) => {
                let row = row.clone();
                self.writer
                    .write(move |tx| Box::pin(async move { stored::insert_checkpoint(tx, &row).await }))
                    .await?
            }
            Some(lease) => match lease.insert_checkpoint(&row).await {
                Ok(inserted) => inserted,
                Err(e) => {
                    tracing::warn!(error = %e, "could not store a checkpoint under the signer lease; giving it up");
                    self.lose();
                    return Err(e.into());
                }
            },
        };
        if inserted {
            return Ok(Stored::New);
        }
        if self.known(row.tree_size, &row.root_hash).await? {
            Ok(Stored::Known)
        } else {
            Err(AuditError::Store(StoreError::Corrupt(format!(
                "audit checkpoint {} vanished while being stored",
                row.tree_size
            ))))
        }
    }

    /// Gives the lease back (a clean stop), so another instance can take
    /// over at its next try instead of after the connection times out.
    pub async fn release(&mut self) {
        if let Some(lease) = self.lease.take() {
            lease.release().await;
            self.leading.send_replace(false);
        }
    }
}
