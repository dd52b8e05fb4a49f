//! What the writer asks of the audit domain at every group commit: the MAC
//! of each event, and a signed checkpoint (the tip) covering the batch,
//! stored in the same transaction and copied outside the database before
//! anyone is answered. An acknowledged event is therefore always covered
//! by a signed checkpoint, in the database and beside the key file.
//!
//! The sealer also keeps a floor: the largest tree it knows was signed
//! (the copy outside the database when it starts, then every tip it
//! commits). A log in the database shorter than that was cut or rolled
//! back: the sealer refuses to extend it, and reports the failure.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use super::AuditKeys;
use super::checkpoint::Checkpoint;
use super::checkpointer::AuditStatus;
use super::merkle::{self, Frontier};
use super::{check_row, from_row};
use crate::store::audit::{EventRow, TipRow};
use crate::store::audit_node::NodeRow;
use crate::store::{BoxFuture, Sealer, StoreError};

#[derive(Debug)]
pub struct AuditSealer {
    keys: Arc<AuditKeys>,
    origin: String,
    /// Where the copy of the tip is kept (none for tools that only read).
    copy: Option<PathBuf>,
    status: AuditStatus,
    state: Mutex<Tips>,
}

#[derive(Debug, Default)]
struct Tips {
    /// The tip this sealer committed last: when the database still holds
    /// exactly it, its signature need not be checked again.
    committed: Option<TipRow>,
    /// No log shorter than this was ever acknowledged.
    floor: u64,
}

impl AuditSealer {
    /// A sealer for the log named `origin`; its floor starts at the copy
    /// kept in `copy`, if there is one signed by our key.
    pub fn new(keys: Arc<AuditKeys>, origin: impl Into<String>, copy: Option<PathBuf>, status: AuditStatus) -> Self {
        let floor = copy
            .as_deref()
            .and_then(|path| super::copy::read(path).ok().flatten())
            .and_then(|note| Checkpoint::open(&note, &keys.public_key()).ok())
            .map_or(0, |cp| cp.size);
        Self {
            keys,
            origin: origin.into(),
            copy,
            status,
            state: Mutex::new(Tips { committed: None, floor }),
        }
    }

    fn with<T>(&self, f: impl FnOnce(&mut Tips) -> T) -> T {
        match self.state.lock() {
            Ok(mut g) => f(&mut g),
            Err(p) => f(&mut p.into_inner()),
        }
    }

    /// Reports an integrity failure (readiness, metrics) and returns it.
    fn corrupt(&self, reason: String) -> StoreError {
        tracing::error!(audit.failure = %reason, "audit log integrity failure; writes refused");
        self.status.fail(reason.clone());
        StoreError::Corrupt(reason)
    }

    /// The tree the tip describes, after checking the tip's signature and
    /// that its frontier gives its root (a forged frontier is never
    /// extended). The tip this sealer committed itself is taken as it is.
    fn frontier_of(&self, tip: &TipRow) -> Result<Frontier, StoreError> {
        if self.with(|s| s.committed.as_ref() == Some(tip)) {
            return Frontier::from_bytes(&tip.frontier).ok_or_else(|| self.corrupt("audit tip frontier".into()));
        }
        let cp = Checkpoint::open(&tip.note, &self.keys.public_key())
            .map_err(|e| self.corrupt(format!("audit tip: {e}")))?;
        Frontier::from_bytes(&tip.frontier)
            .filter(|f| {
                i64::try_from(f.size()).ok() == Some(tip.tree_size) && f.size() == cp.size && f.root() == cp.root
            })
            .ok_or_else(|| self.corrupt(format!("audit tip of size {} does not match its note", tip.tree_size)))
    }
}

impl Sealer for AuditSealer {
    fn seal(&self, row: &mut EventRow) -> Result<(), StoreError> {
        let recorded = from_row(row).ok_or_else(|| StoreError::Corrupt("unreadable audit row".into()))?;
        let leaf = merkle::leaf_hash(&recorded.canonical_bytes());
        row.mac = self.keys.leaf_mac(&leaf).to_vec();
        Ok(())
    }

    fn extend(
        &self,
        tip: Option<TipRow>,
        catch_up: &[EventRow],
        rows: &[EventRow],
    ) -> Result<(TipRow, Vec<NodeRow>), StoreError> {
        let mut nodes = Vec::new();
        let mut frontier = match &tip {
            Some(tip) => self.frontier_of(tip)?,
            None => Frontier::default(),
        };
        for row in catch_up {
            let expected = frontier.size();
            if u64::try_from(row.seq).ok() != Some(expected) {
                return Err(self.corrupt(format!("audit event {expected} is missing")));
            }
            let leaf = check_row(&self.keys, row)
                .ok_or_else(|| self.corrupt(format!("audit event {expected} was altered")))?;
            frontier.push_noting(leaf, &mut nodes);
        }
        // The log before this batch must reach every tree already signed.
        let floor = self.with(|s| s.floor);
        if frontier.size() < floor {
            return Err(self.corrupt(format!(
                "the audit log ends at {} events but {floor} were signed and acknowledged: it was cut or rolled back",
                frontier.size()
            )));
        }
        for row in rows {
            let expected = frontier.size();
            if u64::try_from(row.seq).ok() != Some(expected) {
                return Err(self.corrupt(format!("audit event {expected} is missing")));
            }
            let leaf = check_row(&self.keys, row)
                .ok_or_else(|| self.corrupt(format!("audit event {expected} was altered")))?;
            frontier.push_noting(leaf, &mut nodes);
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
            note: checkpoint.sign(&self.keys),
        };
        Ok((tip, super::proof::node_rows(&nodes)))
    }

    fn committed(&self, tip: TipRow) -> BoxFuture<'static, ()> {
        let size = u64::try_from(tip.tree_size).unwrap_or(0);
        self.with(|s| {
            s.floor = s.floor.max(size);
            s.committed = Some(tip.clone());
        });
        let Some(path) = self.copy.clone() else {
            return Box::pin(std::future::ready(()));
        };
        let status = self.status.clone();
        Box::pin(async move {
            let shown = path.display().to_string();
            let written =
                tokio::task::spawn_blocking(move || super::copy::replace_if_larger(&path, &tip.note, size)).await;
            let failure = match written {
                Ok(Ok(())) => return,
                Ok(Err(e)) => e.to_string(),
                Err(e) => e.to_string(),
            };
            tracing::error!(error = %failure, audit.copy = %shown, "could not write the audit checkpoint copy");
            status.fail(format!(
                "the audit checkpoint copy {shown} cannot be written: {failure}"
            ));
        })
    }
}
