//! What the writer asks of the audit domain at every group commit: the MAC
//! of each event, and a signed checkpoint (the tip) covering the batch,
//! stored in the same transaction and copied outside the database before
//! anyone is answered. An acknowledged event is therefore always covered
//! by a signed checkpoint, in the database and beside the key file.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use super::checkpoint::Checkpoint;
use super::merkle::{self, Frontier};
use super::{check_row, from_row};
use crate::keys::KeyRing;
use crate::store::audit::{EventRow, TipRow};
use crate::store::{BoxFuture, Sealer, StoreError};

#[derive(Debug)]
pub struct AuditSealer {
    keys: Arc<KeyRing>,
    origin: String,
    /// Where the copy of the tip is kept (none for tools that only read).
    copy: Option<PathBuf>,
    /// The tip this sealer signed last: when the database still holds
    /// exactly it, its signature need not be checked again.
    last: Mutex<Option<TipRow>>,
}

impl AuditSealer {
    pub fn new(keys: Arc<KeyRing>, origin: impl Into<String>, copy: Option<PathBuf>) -> Self {
        Self {
            keys,
            origin: origin.into(),
            copy,
            last: Mutex::new(None),
        }
    }

    fn remembered(&self) -> Option<TipRow> {
        match self.last.lock() {
            Ok(g) => g.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }

    fn remember(&self, tip: &TipRow) {
        match self.last.lock() {
            Ok(mut g) => *g = Some(tip.clone()),
            Err(p) => *p.into_inner() = Some(tip.clone()),
        }
    }

    /// The tree the tip describes, after checking the tip's signature and
    /// that its frontier gives its root (a forged frontier is never
    /// extended). The tip this sealer signed itself is taken as it is.
    fn frontier_of(&self, tip: &TipRow) -> Result<Frontier, StoreError> {
        if self.remembered().as_ref() == Some(tip) {
            return Frontier::from_bytes(&tip.frontier).ok_or_else(|| StoreError::Corrupt("audit tip frontier".into()));
        }
        let cp = Checkpoint::open(&tip.note, &self.keys.audit.public_key())
            .map_err(|e| StoreError::Corrupt(format!("audit tip: {e}")))?;
        Frontier::from_bytes(&tip.frontier)
            .filter(|f| {
                i64::try_from(f.size()).ok() == Some(tip.tree_size) && f.size() == cp.size && f.root() == cp.root
            })
            .ok_or_else(|| StoreError::Corrupt(format!("audit tip of size {} does not match its note", tip.tree_size)))
    }
}

impl Sealer for AuditSealer {
    fn seal(&self, row: &mut EventRow) -> Result<(), StoreError> {
        let recorded = from_row(row).ok_or_else(|| StoreError::Corrupt("unreadable audit row".into()))?;
        let leaf = merkle::leaf_hash(&recorded.canonical_bytes());
        row.mac = self.keys.audit.leaf_mac(&leaf).to_vec();
        Ok(())
    }

    fn extend(&self, tip: Option<TipRow>, catch_up: &[EventRow], rows: &[EventRow]) -> Result<TipRow, StoreError> {
        let mut frontier = match &tip {
            Some(tip) => self.frontier_of(tip)?,
            None => Frontier::default(),
        };
        for row in catch_up.iter().chain(rows) {
            let expected = frontier.size();
            if u64::try_from(row.seq).ok() != Some(expected) {
                return Err(StoreError::Corrupt(format!("audit event {expected} is missing")));
            }
            let leaf = check_row(&self.keys, row)
                .ok_or_else(|| StoreError::Corrupt(format!("audit event {expected} was altered")))?;
            frontier.push(leaf);
        }
        let checkpoint = Checkpoint {
            origin: self.origin.clone(),
            size: frontier.size(),
            root: frontier.root(),
            time: time::OffsetDateTime::now_utc().unix_timestamp(),
        };
        let tip = TipRow {
            tree_size: i64::try_from(checkpoint.size).map_err(|_| StoreError::Corrupt("audit log too large".into()))?,
            frontier: frontier.to_bytes(),
            note: checkpoint.sign(&self.keys.audit),
        };
        // Remembered before the commit: if the batch rolls back, the
        // database holds another tip, which is then checked in full.
        self.remember(&tip);
        Ok(tip)
    }

    fn committed(&self, tip: TipRow) -> BoxFuture<'static, ()> {
        let Some(path) = self.copy.clone() else {
            return Box::pin(std::future::ready(()));
        };
        Box::pin(async move {
            let shown = path.display().to_string();
            let written = tokio::task::spawn_blocking(move || super::copy::write(&path, &tip.note)).await;
            match written {
                Ok(Ok(())) => {}
                Ok(Err(e)) => {
                    tracing::error!(error = %e, audit.copy = %shown, "could not write the audit checkpoint copy")
                }
                Err(e) => tracing::error!(error = %e, audit.copy = %shown, "the audit checkpoint copy task failed"),
            }
        })
    }
}
