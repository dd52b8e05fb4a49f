//! One batch: a database transaction holding many units, each in its
//! savepoint, the batch's audit rows and its signed tip, committed once.

use std::panic::AssertUnwindSafe;

use futures_util::FutureExt as _;
use tokio::sync::mpsc;

use super::BoxFuture;
use super::job::{Attempt, Unit};
use crate::store::audit::{self, EventRow, TipRow};
use crate::store::audit_node::{self, NodeRow};
use crate::store::{Conn, StoreError, Tx, TxConn, is_transient, is_unavailable};

/// Completes audit rows once their sequence numbers are known (the audit
/// log's MAC) and signs the checkpoint that covers each batch; implemented
/// by the audit domain so the store stays ignorant of its encoding.
pub trait Sealer: Send + Sync + std::fmt::Debug + 'static {
    fn seal(&self, row: &mut EventRow) -> Result<(), StoreError>;

    /// The tip after `rows`: `tip` (the signed tip before the batch),
    /// extended by `catch_up` (events between it and the batch, normally
    /// none) and then by `rows`, signed. Refuses a log shorter than one
    /// already signed (rolled back or cut). Also returns the tree's nodes
    /// to store that the new events complete.
    fn extend(
        &self,
        tip: Option<TipRow>,
        catch_up: &[EventRow],
        rows: &[EventRow],
    ) -> Result<(TipRow, Vec<NodeRow>), StoreError>;

    /// Called once the batch committed, before anyone is answered: keeps a
    /// copy of the tip outside the database.
    fn committed(&self, tip: TipRow) -> BoxFuture<'static, ()>;
}

/// The cluster-wide lock every PostgreSQL batch takes first ("jaga.wri" as
/// a number): batches of all instances run one at a time, so no two can
/// wait for each other's row locks.
const WRITER_LOCK: i64 = 0x6a61_6761_2e77_7269;

/// What became of a batch: a failure to log (its callers were answered),
/// and the units to run again in a later batch, with the failure that
/// sent them back.
pub(super) struct Outcome {
    /// Units the batch ran (or tried to).
    pub units: usize,
    pub failure: Option<StoreError>,
    pub again: Vec<(Unit, StoreError)>,
}

/// A database whose connections can be handed to units.
pub(super) trait Backend: sqlx::Database {
    /// SQLite takes the write lock at once, so a second process (a CLI
    /// command) waits instead of racing for sequence numbers.
    const BEGIN: &'static str;
    fn tx_conn(conn: &mut Self::Connection) -> TxConn<'_>;
    fn conn(conn: &mut Self::Connection) -> Conn<'_>;
    /// Takes the batch's cluster-wide lock, if the backend needs one.
    fn lock(conn: &mut Self::Connection) -> BoxFuture<'_, Result<(), sqlx::Error>>;
}

impl Backend for sqlx::Sqlite {
    const BEGIN: &'static str = "begin immediate";
    fn tx_conn(conn: &mut Self::Connection) -> TxConn<'_> {
        TxConn::Sqlite(conn)
    }
    fn conn(conn: &mut Self::Connection) -> Conn<'_> {
        Conn::Sqlite(conn)
    }
    fn lock(_: &mut Self::Connection) -> BoxFuture<'_, Result<(), sqlx::Error>> {
        // BEGIN IMMEDIATE already holds the database's one write lock.
        Box::pin(std::future::ready(Ok(())))
    }
}

impl Backend for sqlx::Postgres {
    const BEGIN: &'static str = "begin";
    fn tx_conn(conn: &mut Self::Connection) -> TxConn<'_> {
        TxConn::Postgres(conn)
    }
    fn conn(conn: &mut Self::Connection) -> Conn<'_> {
        Conn::Postgres(conn)
    }
    fn lock(conn: &mut Self::Connection) -> BoxFuture<'_, Result<(), sqlx::Error>> {
        Box::pin(async move {
            sqlx::query("select pg_advisory_xact_lock($1)")
                .bind(WRITER_LOCK)
                .execute(conn)
                .await?;
            Ok(())
        })
    }
}

/// Whether a failure before the commit was sent leaves the batch's units
/// worth running again (nothing of them was kept).
fn worth_again(e: &StoreError) -> bool {
    is_transient(e) || is_unavailable(e)
}

/// Sends every unit back for another attempt if `e` is worth it, else
/// answers them all with it.
fn all_again(units: Vec<Unit>, e: StoreError) -> Outcome {
    let count = units.len();
    if worth_again(&e) {
        return Outcome {
            units: count,
            again: units.into_iter().map(|u| (u, e.clone())).collect(),
            failure: Some(e),
        };
    }
    for unit in units {
        unit.finish(Err(e.clone()));
    }
    Outcome {
        units: count,
        failure: Some(e),
        again: Vec::new(),
    }
}

/// Runs `units` as one batch. Once the batch holds its lock, units that
/// arrived meanwhile (while another instance's batch held it) join it,
/// up to `max`: waiting for the lock makes the next batch larger, not
/// later.
pub(super) async fn run_batch<DB: Backend>(
    pool: &sqlx::Pool<DB>,
    mut units: Vec<Unit>,
    queue: &mut mpsc::Receiver<Unit>,
    max: usize,
    sealer: &dyn Sealer,
) -> Outcome {
    let mut batch = match pool.begin_with(DB::BEGIN).await {
        Ok(t) => t,
        Err(e) => return all_again(units, e.into()),
    };
    if let Err(e) = DB::lock(&mut batch).await {
        return all_again(units, e.into());
    }
    while units.len() < max
        && let Ok(unit) = queue.try_recv()
    {
        units.push(unit);
    }
    let count = units.len();
    let mut ran = Ran {
        done: Vec::with_capacity(units.len()),
        refused: Vec::new(),
        again: Vec::new(),
        events: Vec::new(),
    };
    let mut pending = units.into_iter();
    while let Some(unit) = pending.next() {
        if let Err((e, failed)) = run_unit::<DB>(&mut batch, unit, &mut ran).await {
            // The batch transaction can no longer be trusted: nothing of it
            // is kept, not even the refused units' durable audit rows. Every
            // unit (the one that failed, those run and those not yet run) is
            // run again or told.
            tracing::error!(error = %e, "rollback to savepoint failed; abandoning the batch");
            let mut rest = ran.abandon();
            rest.extend(failed);
            rest.extend(pending);
            return Outcome {
                units: count,
                ..all_again(rest, e)
            };
        }
    }
    let mut tip = None;
    if !ran.events.is_empty() {
        match append_events(DB::conn(&mut batch), std::mem::take(&mut ran.events), sealer).await {
            Ok(t) => tip = Some(t),
            Err(e) => {
                drop(batch);
                return Outcome {
                    units: count,
                    ..all_again(ran.abandon(), e)
                };
            }
        }
    }
    // Once the commit is sent its outcome may be unknown (a connection that
    // broke meanwhile): the units are then answered, never run again.
    let outcome = batch.commit().await.map_err(StoreError::from);
    let failure = outcome.as_ref().err().cloned();
    let again = std::mem::take(&mut ran.again);
    answer(sealer, outcome, tip, ran);
    Outcome {
        units: count,
        failure,
        again,
    }
}

/// What a batch keeps of its units: those to answer after the commit (the
/// done ones, and the refused ones, so that their durable audit rows,
/// such as denials, are stored before the caller hears), those to run
/// again, and the audit rows.
struct Ran {
    done: Vec<Unit>,
    refused: Vec<Unit>,
    again: Vec<(Unit, StoreError)>,
    events: Vec<EventRow>,
}

impl Ran {
    /// Every unit of a batch that will not commit: all of them can run
    /// again (a refused unit's refusal is only told once its durable audit
    /// rows are stored).
    fn abandon(self) -> Vec<Unit> {
        self.done
            .into_iter()
            .chain(self.refused)
            .chain(self.again.into_iter().map(|(u, _)| u))
            .collect()
    }
}

/// Runs one unit inside its savepoint. A failed or panicking unit is
/// rolled back alone (keeping its durable audit rows, unless it is to run
/// again). An error here means the rollback itself failed and the batch
/// cannot go on; the unit comes back with it (unless it was answered).
async fn run_unit<DB: Backend>(
    batch: &mut DB::Connection,
    mut unit: Unit,
    ran: &mut Ran,
) -> Result<(), (StoreError, Option<Unit>)> {
    let mut tx = Tx::new(DB::tx_conn(batch));
    // A panicking unit fails alone; the writer and the batch go on.
    let attempt = match AssertUnwindSafe(unit.run(&mut tx)).catch_unwind().await {
        Ok(attempt) => attempt,
        Err(_) => {
            tracing::error!("a unit of work panicked; it was rolled back");
            unit.finish(Ok(()));
            return tx.rollback().await.map(|_| ()).map_err(|e| (e, None));
        }
    };
    match attempt {
        Attempt::Done => match tx.release().await {
            Ok(rows) => {
                ran.events.extend(rows);
                ran.done.push(unit);
                Ok(())
            }
            // On PostgreSQL a unit that swallowed a failed statement leaves
            // the transaction aborted: undo the unit, report the error, and
            // go on if the savepoint recovers.
            Err(e) => match tx.rollback().await {
                Ok(kept) if worth_again(&e) => {
                    drop(kept);
                    ran.again.push((unit, e));
                    Ok(())
                }
                Ok(kept) => {
                    ran.events.extend(kept);
                    unit.finish(Err(e));
                    Ok(())
                }
                Err(rollback) => Err((rollback, Some(unit))),
            },
        },
        Attempt::Refused => match tx.rollback().await {
            Ok(kept) => {
                ran.events.extend(kept);
                ran.refused.push(unit);
                Ok(())
            }
            Err(e) => Err((e, Some(unit))),
        },
        Attempt::Transient => match tx.rollback().await {
            // Its durable rows are dropped too: the next attempt writes its own.
            Ok(_) => {
                ran.again.push((
                    unit,
                    StoreError::unavailable("deadlock, serialization failure or database unavailable"),
                ));
                Ok(())
            }
            Err(e) => Err((e, Some(unit))),
        },
    }
}

/// Answers the batch's callers. After a commit that moved the tip they
/// hear once the tip's copy outside the database is written; the next
/// batch runs meanwhile (the copy's fsync overlaps its work instead of
/// adding to it).
fn answer(sealer: &dyn Sealer, outcome: Result<(), StoreError>, tip: Option<TipRow>, ran: Ran) {
    let Ran { done, refused, .. } = ran;
    match (outcome, tip) {
        (Ok(()), Some(tip)) => {
            let copied = sealer.committed(tip);
            tokio::spawn(async move {
                copied.await;
                for unit in done {
                    unit.finish(Ok(()));
                }
                answer_refused(refused);
            });
        }
        (outcome, _) => {
            for unit in done {
                unit.finish(outcome.clone());
            }
            answer_refused(refused);
        }
    }
}

/// Gives refused units their own errors.
fn answer_refused(refused: Vec<Unit>) {
    for unit in refused {
        unit.finish(Ok(()));
    }
}

/// Numbers, seals and inserts the batch's audit rows, and signs the tip
/// that covers them, in the batch's transaction.
async fn append_events(mut conn: Conn<'_>, mut rows: Vec<EventRow>, sealer: &dyn Sealer) -> Result<TipRow, StoreError> {
    let count = i64::try_from(rows.len()).map_err(|_| StoreError::Corrupt("batch too large".into()))?;
    let first = audit::reserve_seqs(&mut conn, count).await?;
    for (seq, row) in (first..).zip(rows.iter_mut()) {
        row.seq = seq;
        sealer.seal(row)?;
    }
    audit::insert_events(&mut conn, &rows).await?;
    // (A log older than the tip starts from its newest checkpoint, copied
    // into the tip by the migration; without one, from the first event.)
    let tip = audit::load_tip(&mut conn).await?;
    let from = tip.as_ref().map_or(0, |t| t.tree_size);
    let catch_up = if from < first {
        audit::events_between(&mut conn, from, first).await?
    } else {
        Vec::new()
    };
    let (tip, nodes) = sealer.extend(tip, &catch_up, &rows)?;
    audit::save_tip(&mut conn, &tip).await?;
    audit_node::insert(&mut conn, &nodes).await?;
    Ok(tip)
}
