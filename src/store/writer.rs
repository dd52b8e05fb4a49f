//! Group commit: one task owns writing. Callers hand it a unit of work; it
//! runs queued units back to back inside one database transaction, each in
//! its own savepoint, writes the batch's audit rows, commits once, and only
//! then answers each caller.
//!
//! A unit that fails is rolled back to its savepoint (its audit rows are
//! dropped) without touching the others; if the commit fails, every unit of
//! the batch gets the error. A caller that goes away (a dropped request)
//! does not stop its unit: work is either committed whole or not at all.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;

use futures_util::FutureExt as _;

use tokio::sync::{mpsc, oneshot};

use super::audit::{self, EventRow, TipRow};
use super::{Conn, Db, StoreError, Tx, TxConn};

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

type Finish = Box<dyn FnOnce(Result<(), StoreError>) + Send>;
type Unit = Box<dyn for<'t, 'c> FnOnce(&'t mut Tx<'c>) -> BoxFuture<'t, (bool, Finish)> + Send>;

/// Largest number of units in one database transaction. PostgreSQL keeps
/// few subtransactions cheap (64 cached per backend), so its batches stay
/// below that.
const MAX_BATCH_SQLITE: usize = 1024;
const MAX_BATCH_POSTGRES: usize = 50;

/// Completes audit rows once their sequence numbers are known (the audit
/// log's MAC) and signs the checkpoint that covers each batch; implemented
/// by the audit domain so the store stays ignorant of its encoding.
pub trait Sealer: Send + Sync + std::fmt::Debug + 'static {
    fn seal(&self, row: &mut EventRow) -> Result<(), StoreError>;

    /// The tip after `rows`: `tip` (the signed tip before the batch),
    /// extended by `catch_up` (events between it and the batch, normally
    /// none) and then by `rows`, signed. Refuses a log shorter than one
    /// already signed (rolled back or cut).
    fn extend(&self, tip: Option<TipRow>, catch_up: &[EventRow], rows: &[EventRow]) -> Result<TipRow, StoreError>;

    /// Called once the batch committed, before anyone is answered: keeps a
    /// copy of the tip outside the database.
    fn committed(&self, tip: TipRow) -> BoxFuture<'static, ()>;
}

/// Handle to the writer task; cheap to clone.
#[derive(Debug, Clone)]
pub struct Writer {
    queue: mpsc::Sender<Unit>,
}

impl Writer {
    /// Starts the writer task for `db`. It ends when every handle is dropped.
    pub fn start(db: Db, sealer: Arc<dyn Sealer>) -> (Writer, tokio::task::JoinHandle<()>) {
        let (queue, rx) = mpsc::channel(4 * MAX_BATCH_SQLITE);
        let task = tokio::spawn(run(db, sealer, rx));
        (Writer { queue }, task)
    }

    /// Runs `work` in a transaction and returns its result once committed.
    pub async fn write<T, E, F>(&self, work: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: for<'t, 'c> FnOnce(&'t mut Tx<'c>) -> BoxFuture<'t, Result<T, E>> + Send + 'static,
    {
        let (answer, answered) = oneshot::channel::<Result<T, E>>();
        let unit: Unit = Box::new(move |tx| {
            Box::pin(async move {
                match work(tx).await {
                    Ok(value) => {
                        let finish: Finish = Box::new(move |committed| {
                            let _ = answer.send(committed.map(|()| value).map_err(E::from));
                        });
                        (true, finish)
                    }
                    Err(e) => {
                        let finish: Finish = Box::new(move |_| {
                            let _ = answer.send(Err(e));
                        });
                        (false, finish)
                    }
                }
            })
        });
        self.queue
            .send(unit)
            .await
            .map_err(|_| E::from(StoreError::WriterStopped))?;
        answered
            .await
            .unwrap_or_else(|_| Err(E::from(StoreError::WriterStopped)))
    }

    pub fn is_running(&self) -> bool {
        !self.queue.is_closed()
    }
}

async fn run(db: Db, sealer: Arc<dyn Sealer>, mut rx: mpsc::Receiver<Unit>) {
    let max = match db {
        Db::Sqlite(_) => MAX_BATCH_SQLITE,
        Db::Postgres(_) => MAX_BATCH_POSTGRES,
    };
    let mut batch = Vec::with_capacity(max);
    while rx.recv_many(&mut batch, max).await > 0 {
        let units = std::mem::take(&mut batch);
        let n = units.len();
        let result = match &db {
            Db::Sqlite(s) => run_batch(s.write_pool(), units, sealer.as_ref()).await,
            Db::Postgres(p) => run_batch(p.write_pool(), units, sealer.as_ref()).await,
        };
        if let Err(e) = result {
            tracing::error!(batch.size = n, error = %e, "write batch failed");
        }
    }
}

/// A database whose connections can be handed to units.
trait Backend: sqlx::Database {
    /// SQLite takes the write lock at once, so a second process (a CLI
    /// command) waits instead of racing for sequence numbers.
    const BEGIN: &'static str;
    fn tx_conn(conn: &mut Self::Connection) -> TxConn<'_>;
    fn conn(conn: &mut Self::Connection) -> Conn<'_>;
}

impl Backend for sqlx::Sqlite {
    const BEGIN: &'static str = "begin immediate";
    fn tx_conn(conn: &mut Self::Connection) -> TxConn<'_> {
        TxConn::Sqlite(conn)
    }
    fn conn(conn: &mut Self::Connection) -> Conn<'_> {
        Conn::Sqlite(conn)
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
}

async fn run_batch<DB: Backend>(
    pool: &sqlx::Pool<DB>,
    units: Vec<Unit>,
    sealer: &dyn Sealer,
) -> Result<(), StoreError> {
    let mut batch = match pool.begin_with(DB::BEGIN).await {
        Ok(t) => t,
        Err(e) => {
            // Dropping the units drops their answer channels: callers see
            // WriterStopped; the cause is logged here, once.
            tracing::error!(error = %e, batch.size = units.len(), "could not begin a write batch");
            return Err(e.into());
        }
    };
    let mut ran = Ran {
        committed: Vec::with_capacity(units.len()),
        refused: Vec::new(),
        events: Vec::new(),
    };
    for unit in units {
        if let Err(e) = run_unit::<DB>(&mut batch, unit, &mut ran).await {
            // The batch transaction can no longer be trusted.
            tracing::error!(error = %e, "rollback to savepoint failed; abandoning the batch");
            fail(ran.committed, &e);
            answer_refused(ran.refused);
            return Err(e);
        }
    }
    let mut tip = None;
    if !ran.events.is_empty() {
        match append_events(DB::conn(&mut batch), std::mem::take(&mut ran.events), sealer).await {
            Ok(t) => tip = Some(t),
            Err(e) => {
                fail(ran.committed, &e);
                answer_refused(ran.refused);
                return Err(e);
            }
        }
    }
    let outcome = batch.commit().await.map_err(StoreError::from);
    answer(sealer, &outcome, tip, ran);
    outcome
}

/// What a batch keeps of its units: those to answer after the commit (the
/// committed ones, and the refused ones, so that their durable audit rows,
/// such as denials, are stored before the caller hears) and the audit rows.
struct Ran {
    committed: Vec<Finish>,
    refused: Vec<Finish>,
    events: Vec<EventRow>,
}

/// Runs one unit inside its savepoint. A failed or panicking unit is
/// rolled back alone (keeping its durable audit rows); an error here means
/// the rollback itself failed and the batch cannot go on.
async fn run_unit<DB: Backend>(batch: &mut DB::Connection, unit: Unit, ran: &mut Ran) -> Result<(), StoreError> {
    let mut tx = Tx::new(DB::tx_conn(batch));
    // A panicking unit fails alone; the writer and the batch go on.
    let outcome = AssertUnwindSafe(unit(&mut tx)).catch_unwind().await;
    let (ok, finish) = match outcome {
        Ok((ok, finish)) => (ok, Some(finish)),
        Err(_) => {
            tracing::error!("a unit of work panicked; it was rolled back");
            (false, None)
        }
    };
    let kept = if ok {
        match tx.release().await {
            Ok(rows) => {
                ran.events.extend(rows);
                ran.committed.extend(finish);
                return Ok(());
            }
            // On PostgreSQL a unit that swallowed a failed statement leaves
            // the transaction aborted: undo the unit, report the error, and
            // go on if the savepoint recovers.
            Err(e) => {
                if let Some(finish) = finish {
                    finish(Err(e));
                }
                tx.rollback().await
            }
        }
    } else {
        ran.refused.extend(finish);
        tx.rollback().await
    };
    ran.events.extend(kept?);
    Ok(())
}

/// Answers the batch's callers. After a commit that moved the tip they
/// hear once the tip's copy outside the database is written; the next
/// batch runs meanwhile (the copy's fsync overlaps its work instead of
/// adding to it).
fn answer(sealer: &dyn Sealer, outcome: &Result<(), StoreError>, tip: Option<TipRow>, ran: Ran) {
    let Ran { committed, refused, .. } = ran;
    match (outcome, tip) {
        (Ok(()), Some(tip)) => {
            let copied = sealer.committed(tip);
            tokio::spawn(async move {
                copied.await;
                for finish in committed {
                    finish(Ok(()));
                }
                answer_refused(refused);
            });
        }
        _ => {
            for finish in committed {
                finish(outcome.clone());
            }
            answer_refused(refused);
        }
    }
}

/// Gives failed units their own errors.
fn answer_refused(refused: Vec<Finish>) {
    for finish in refused {
        finish(Ok(()));
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
    let tip = sealer.extend(tip, &catch_up, &rows)?;
    audit::save_tip(&mut conn, &tip).await?;
    Ok(tip)
}

fn fail(finishes: Vec<Finish>, error: &StoreError) {
    for finish in finishes {
        finish(Err(error.clone()));
    }
}
