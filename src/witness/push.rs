//! Jaga's side of witnessing: the newest stored checkpoint is sent to each
//! witness configured (C2SP tlog-witness `add-checkpoint`, with the
//! consistency proof from the size the witness cosigned last), and each
//! cosignature is checked and kept. A witness that finds the log
//! inconsistent with what it cosigned before is an integrity failure: the
//! log was rewritten or rolled back. A witness that cannot be reached is
//! only reported (and tried again).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use super::cosignature;
use super::request::{AddCheckpoint, size};
use crate::audit::checkpoint::Checkpoint;
use crate::audit::checkpointer::AuditStatus;
use crate::audit::{self, AuditError, AuditKeys, Event, Outcome, Target};
use crate::config::{HttpWitness, WitnessConfig};
use crate::store::audit_witness::{self as stored, CosignatureRow};
use crate::store::{Db, StoreError, Writer};

/// What the console shows of each witness.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Health {
    /// When Jaga last tried to reach it (Unix seconds).
    pub tried_at: Option<i64>,
    /// The last failure to reach it or to get a cosignature, if the last
    /// try failed.
    pub error: Option<String>,
    /// It refused a checkpoint as inconsistent (an integrity failure).
    pub refused: Option<String>,
}

/// The witnesses' health, shared with the console.
#[derive(Debug, Clone, Default)]
pub struct WitnessStatus(Arc<Mutex<BTreeMap<String, Health>>>);

impl WitnessStatus {
    fn with<T>(&self, f: impl FnOnce(&mut BTreeMap<String, Health>) -> T) -> T {
        match self.0.lock() {
            Ok(mut g) => f(&mut g),
            Err(p) => f(&mut p.into_inner()),
        }
    }

    pub fn get(&self, witness: &str) -> Health {
        self.with(|m| m.get(witness).cloned().unwrap_or_default())
    }

    fn set(&self, witness: &str, f: impl FnOnce(&mut Health)) {
        self.with(|m| {
            let h = m.entry(witness.to_owned()).or_default();
            h.tried_at = Some(time::OffsetDateTime::now_utc().unix_timestamp());
            f(h);
        });
    }
}

/// What became of one push.
#[derive(Debug)]
enum Pushed {
    Cosigned(CosignatureRow),
    /// The witness says the log is not what it cosigned before.
    Refused(String),
    /// It could not be asked, or its answer was not usable.
    Failed(String),
}

#[derive(Debug, Clone)]
pub struct Pusher {
    pub db: Db,
    pub writer: Writer,
    pub keys: Arc<AuditKeys>,
    pub config: WitnessConfig,
    pub every: std::time::Duration,
    pub audit_status: AuditStatus,
    pub status: WitnessStatus,
    pub client: reqwest::Client,
}

impl Pusher {
    /// Sends the newest stored checkpoint to every witness that has not
    /// cosigned it yet, and to the folder witness.
    pub async fn push(&self) -> Result<(), AuditError> {
        if let Some(folder) = &self.config.folder
            && let Err(e) = super::folder::advance(folder, &self.db, &self.keys).await
        {
            return self.integrity_failure("folder", e).await;
        }
        let Some(row) = crate::store::audit::last_checkpoint(&self.db).await? else {
            return Ok(());
        };
        let cp = Checkpoint::open(&row.note, &self.keys.public_key())
            .map_err(|e| AuditError::Store(StoreError::Corrupt(format!("audit checkpoint {}: {e}", row.tree_size))))?;
        for w in &self.config.http {
            let last = stored::latest(&self.db, &w.name)
                .await?
                .and_then(|c| u64::try_from(c.tree_size).ok());
            if last.is_some_and(|l| l >= cp.size) {
                continue;
            }
            match self.push_to(w, &cp, &row.note, last.unwrap_or(0)).await {
                Pushed::Cosigned(c) => {
                    let keep = c.clone();
                    self.writer
                        .write::<(), StoreError, _>(move |tx| Box::pin(async move { stored::insert(tx, &keep).await }))
                        .await?;
                    self.status.set(&w.name, |h| h.error = None);
                    tracing::debug!(witness = %w.name, audit.tree_size = cp.size, "checkpoint cosigned");
                }
                Pushed::Failed(why) => {
                    tracing::warn!(witness = %w.name, error = %why, "could not get a cosignature; will retry");
                    self.status.set(&w.name, |h| h.error = Some(why));
                }
                Pushed::Refused(why) => {
                    let reason = format!("witness {} refused checkpoint {}: {why}", w.name, cp.size);
                    self.status.set(&w.name, |h| h.refused = Some(reason.clone()));
                    return self.integrity_failure(&w.name, reason).await;
                }
            }
        }
        Ok(())
    }

    /// Records the refusal in the log, then marks the log as failing:
    /// readiness and the console say so (once failing, the refusal is
    /// already in the log).
    async fn integrity_failure(&self, witness: &str, reason: String) -> Result<(), AuditError> {
        tracing::error!(witness = %witness, audit.failure = %reason, "a witness refused the audit log");
        let e = Event::new(
            audit::Actor::system(),
            "audit.witness.refused",
            Target::new("witness", Some(witness.to_owned())),
            Outcome::Failure,
        );
        let recorded = self
            .writer
            .write::<(), AuditError, _>(move |tx| Box::pin(audit::record(tx, e)))
            .await;
        self.audit_status.fail(reason);
        recorded
    }

    /// One witness: from the size it cosigned last (as far as Jaga knows;
    /// a 409 tells the real one, once).
    async fn push_to(&self, w: &HttpWitness, cp: &Checkpoint, note: &str, mut old: u64) -> Pushed {
        for _ in 0..2 {
            let proof = if old == 0 {
                Vec::new()
            } else {
                match audit::proof::consistency(&self.db, old, cp.size).await {
                    Ok(p) => p,
                    Err(e) => return Pushed::Failed(format!("consistency proof from {old}: {e}")),
                }
            };
            let body = AddCheckpoint {
                old,
                proof,
                note: note.to_owned(),
            }
            .encode();
            let url = format!("{}/add-checkpoint", w.url);
            let answer = match self.client.post(&url).body(body).send().await {
                Ok(a) => a,
                Err(e) => return Pushed::Failed(format!("{url}: {e}")),
            };
            let status = answer.status().as_u16();
            let text = answer.text().await.unwrap_or_default();
            match status {
                200 => return self.cosigned(w, cp, note, &text),
                409 => match size(text.trim_end_matches('\n')) {
                    Some(seen) if seen > cp.size => {
                        return Pushed::Refused(format!(
                            "it cosigned a tree of {seen} events, larger than the log's {}: the log was cut or rolled back",
                            cp.size
                        ));
                    }
                    Some(seen) if seen == old => {
                        return Pushed::Refused(format!(
                            "it cosigned another root for a tree of {seen} events: the log was rewritten"
                        ));
                    }
                    Some(seen) => old = seen,
                    None => return Pushed::Failed(format!("{url}: 409 without a size")),
                },
                422 => {
                    return Pushed::Refused(format!(
                        "the log is not consistent with the tree of {old} events it cosigned: the log was rewritten"
                    ));
                }
                other => return Pushed::Failed(format!("{url}: {other} {}", text.trim())),
            }
        }
        Pushed::Failed("the witness's size kept changing".into())
    }

    fn cosigned(&self, w: &HttpWitness, cp: &Checkpoint, note: &str, answer: &str) -> Pushed {
        let Some(body) = cosignature::body_of(note) else {
            return Pushed::Failed("the checkpoint has no body".into());
        };
        let Some(time) = cosignature::verify(answer, &w.name, &w.key, &body) else {
            return Pushed::Failed("its answer holds no valid cosignature by its key".into());
        };
        let line = answer
            .lines()
            .find(|l| cosignature::verify(l, &w.name, &w.key, &body).is_some())
            .unwrap_or_default();
        Pushed::Cosigned(CosignatureRow {
            witness: w.name.clone(),
            tree_size: i64::try_from(cp.size).unwrap_or(i64::MAX),
            cosignature: line.to_owned(),
            time_s: i64::try_from(time).unwrap_or(i64::MAX),
        })
    }
}
