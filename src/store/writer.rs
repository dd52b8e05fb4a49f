//! Group commit: one task owns writing. Callers hand it a unit of work; it
//! runs queued units back to back inside one database transaction, each in
//! its own savepoint, commits once, and only then answers each caller.
//!
//! A unit that fails is rolled back to its savepoint without touching the
//! others; if the commit fails, every unit of the batch gets the error. A
//! caller that goes away (a dropped request) does not stop its unit: work
//! is either committed whole or not at all.

use std::future::Future;
use std::pin::Pin;

use tokio::sync::{mpsc, oneshot};

use super::{Db, StoreError, Tx};

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

type Finish = Box<dyn FnOnce(Result<(), StoreError>) + Send>;
type Unit = Box<dyn for<'t, 'c> FnOnce(&'t mut Tx<'c>) -> BoxFuture<'t, (bool, Finish)> + Send>;

/// Largest number of units in one database transaction.
const MAX_BATCH: usize = 512;

/// Handle to the writer task; cheap to clone.
#[derive(Debug, Clone)]
pub struct Writer {
    queue: mpsc::Sender<Unit>,
}

impl Writer {
    /// Starts the writer task for `db`. It ends when every handle is dropped.
    pub fn start(db: Db) -> (Writer, tokio::task::JoinHandle<()>) {
        let (queue, rx) = mpsc::channel(4 * MAX_BATCH);
        let task = tokio::spawn(run(db, rx));
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

async fn run(db: Db, mut rx: mpsc::Receiver<Unit>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let units = std::mem::take(&mut batch);
        let n = units.len();
        let result = match &db {
            Db::Sqlite(s) => run_batch(s.write_pool(), units).await,
            Db::Postgres(p) => run_batch(p.pool(), units).await,
        };
        if let Err(e) = result {
            tracing::error!(batch.size = n, error = %e, "write batch failed");
        }
    }
}

/// A database whose transactions can be handed to units as a [`Tx`].
trait Backend: sqlx::Database {
    fn wrap(tx: sqlx::Transaction<'_, Self>) -> Tx<'_>;
}

impl Backend for sqlx::Sqlite {
    fn wrap(tx: sqlx::Transaction<'_, Self>) -> Tx<'_> {
        Tx::Sqlite(tx)
    }
}

impl Backend for sqlx::Postgres {
    fn wrap(tx: sqlx::Transaction<'_, Self>) -> Tx<'_> {
        Tx::Postgres(tx)
    }
}

async fn run_batch<DB: Backend>(pool: &sqlx::Pool<DB>, units: Vec<Unit>) -> Result<(), StoreError> {
    let mut batch = match pool.begin().await {
        Ok(t) => t,
        Err(e) => {
            let e = StoreError::from(e);
            fail_all(units, &e);
            return Err(e);
        }
    };
    let mut committed: Vec<Finish> = Vec::with_capacity(units.len());
    for unit in units {
        let savepoint = match sqlx::Connection::begin(&mut *batch).await {
            Ok(sp) => sp,
            Err(e) => {
                fail_one(unit, &StoreError::from(e));
                continue;
            }
        };
        let mut tx = DB::wrap(savepoint);
        let (ok, finish) = unit(&mut tx).await;
        if !ok {
            if let Err(e) = tx.rollback().await {
                tracing::error!(error = %e, "rollback to savepoint failed");
            }
            finish(Ok(()));
            continue;
        }
        match tx.commit().await {
            Ok(()) => committed.push(finish),
            Err(e) => finish(Err(e)),
        }
    }
    let outcome = batch.commit().await.map_err(StoreError::from);
    for finish in committed {
        finish(outcome.clone());
    }
    outcome
}

/// Answers a unit that could not be given a transaction.
fn fail_one(unit: Unit, error: &StoreError) {
    // The unit never runs; dropping it drops its answer channel, and the
    // caller sees WriterStopped. Log the real cause here, once.
    tracing::error!(error = %error, "could not open a savepoint");
    drop(unit);
}

fn fail_all(units: Vec<Unit>, error: &StoreError) {
    tracing::error!(error = %error, batch.size = units.len(), "could not begin a write batch");
    drop(units);
}
