//! Group commit: one task owns writing. Callers hand it a unit of work; it
//! runs queued units back to back inside one database transaction, each in
//! its own savepoint, writes the batch's audit rows, commits once, and only
//! then answers each caller.
//!
//! A unit that fails is rolled back to its savepoint (its audit rows are
//! dropped) without touching the others; if the commit fails, every unit of
//! the batch gets the error. A caller that goes away (a dropped request)
//! does not stop its unit: work is either committed whole or not at all.
//!
//! Several instances on one PostgreSQL database: every batch first takes
//! one cluster-wide lock (a transaction-scoped advisory lock), so batches
//! of all instances run one after another and the locks a batch takes
//! (accounts, rows, the audit head last) can never form a cycle with
//! another batch's. A unit that still meets a deadlock or a serialization
//! failure (with a transaction outside Jaga) is rolled back alone and run
//! again in a later batch, a bounded number of times with jittered backoff,
//! before its caller hears anything; so is a whole batch that could not
//! start or failed before its commit was sent.

mod batch;
mod job;

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use self::job::{Typed, Unit};
use super::{Db, StoreError, Tx};

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

pub use batch::Sealer;

/// Largest number of units in one database transaction. PostgreSQL keeps
/// few subtransactions cheap (64 cached per backend), so its batches stay
/// below that.
const MAX_BATCH_SQLITE: usize = 1024;
const MAX_BATCH_POSTGRES: usize = 50;

/// Attempts per unit before its caller hears the failure (then 503)…
const MAX_ATTEMPTS: u32 = 5;
/// …or once it has waited this long since it was handed over, so that a
/// database out of reach is answered 503 well before the request times out.
const GIVE_UP_AFTER: Duration = Duration::from_secs(5);
/// Backoff before attempt n+1: uniformly random in [0, BASE · 2ⁿ], capped.
const BACKOFF_BASE: Duration = Duration::from_millis(10);
const BACKOFF_CAP: Duration = Duration::from_millis(400);

/// Handle to the writer task; cheap to clone.
#[derive(Debug, Clone)]
pub struct Writer {
    queue: mpsc::Sender<Unit>,
    stats: Arc<Stats>,
}

/// What the writer has done since it started (for `/metrics`).
#[derive(Debug, Default)]
pub struct Stats {
    batches: AtomicU64,
    units: AtomicU64,
    again: AtomicU64,
    given_up: AtomicU64,
}

/// A reading of [`Stats`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriterStats {
    /// Database transactions committed or attempted.
    pub batches: u64,
    /// Units run (an attempt each).
    pub units: u64,
    /// Units sent back for another attempt (deadlock, serialization
    /// failure, database out of reach before the commit).
    pub again: u64,
    /// Units whose attempts ran out (their callers heard 503).
    pub given_up: u64,
}

impl Writer {
    /// Starts the writer task for `db`. It ends when every handle is dropped
    /// and no unit waits for another attempt.
    pub fn start(db: Db, sealer: Arc<dyn Sealer>) -> (Writer, tokio::task::JoinHandle<()>) {
        let (queue, rx) = mpsc::channel(4 * MAX_BATCH_SQLITE);
        let stats = Arc::new(Stats::default());
        let task = tokio::spawn(run(db, sealer, rx, stats.clone()));
        (Writer { queue, stats }, task)
    }

    pub fn stats(&self) -> WriterStats {
        let read = |c: &AtomicU64| c.load(Ordering::Relaxed);
        WriterStats {
            batches: read(&self.stats.batches),
            units: read(&self.stats.units),
            again: read(&self.stats.again),
            given_up: read(&self.stats.given_up),
        }
    }

    /// Runs `work` in a transaction and returns its result once committed.
    ///
    /// `work` may run more than once (a clone per attempt) when an attempt
    /// met a deadlock or a serialization failure; only the last attempt's
    /// changes are ever kept.
    pub async fn write<T, E, F>(&self, work: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + std::error::Error + Send + 'static,
        F: for<'t, 'c> FnOnce(&'t mut Tx<'c>) -> BoxFuture<'t, Result<T, E>> + Clone + Send + 'static,
    {
        let (answer, answered) = oneshot::channel::<Result<T, E>>();
        let unit: Unit = Box::new(Typed::new(work, answer));
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

/// Units waiting for another attempt, earliest first.
#[derive(Default)]
struct Delayed(VecDeque<(Instant, Unit)>);

impl Delayed {
    /// Schedules `unit` again, or answers `failure` if it has had its attempts.
    fn again(&mut self, mut unit: Unit, failure: StoreError, stats: &Stats) {
        let attempts = unit.failed_attempt();
        if attempts >= MAX_ATTEMPTS || unit.since().elapsed() >= GIVE_UP_AFTER {
            stats.given_up.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(attempts, error = %failure, "a unit of work kept failing; giving up");
            unit.finish(Err(StoreError::unavailable(failure.to_string())));
            return;
        }
        stats.again.fetch_add(1, Ordering::Relaxed);
        tracing::warn!(attempts, error = %failure, "a unit of work will run again");
        let at = Instant::now() + backoff(attempts);
        let i = self.0.partition_point(|(t, _)| *t <= at);
        self.0.insert(i, (at, unit));
    }

    fn next_at(&self) -> Option<Instant> {
        self.0.front().map(|(t, _)| *t)
    }

    /// Moves the units that are due into `batch` (ahead of new ones),
    /// keeping the batch at most `max` units.
    fn take_due(&mut self, batch: &mut Vec<Unit>, max: usize) {
        let now = Instant::now();
        let room = max.saturating_sub(batch.len());
        let mut due = Vec::new();
        while due.len() < room
            && let Some((at, _)) = self.0.front()
            && *at <= now
            && let Some((_, unit)) = self.0.pop_front()
        {
            due.push(unit);
        }
        if !due.is_empty() {
            due.append(batch);
            *batch = due;
        }
    }
}

fn backoff(attempts: u32) -> Duration {
    let ceiling = BACKOFF_BASE.saturating_mul(1u32 << attempts.min(16)).min(BACKOFF_CAP);
    let mut bytes = [0u8; 4];
    let fraction = match ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes) {
        Ok(()) => f64::from(u32::from_le_bytes(bytes)) / f64::from(u32::MAX),
        Err(_) => 0.5,
    };
    ceiling.mul_f64(fraction)
}

async fn run(db: Db, sealer: Arc<dyn Sealer>, mut rx: mpsc::Receiver<Unit>, stats: Arc<Stats>) {
    let max = match db {
        Db::Sqlite(_) => MAX_BATCH_SQLITE,
        Db::Postgres(_) => MAX_BATCH_POSTGRES,
    };
    let mut batch: Vec<Unit> = Vec::with_capacity(max);
    let mut delayed = Delayed::default();
    let mut open = true;
    loop {
        // Units due for another attempt go first, then new ones.
        delayed.take_due(&mut batch, max);
        if batch.is_empty() {
            if open {
                let wake = delayed.next_at();
                tokio::select! {
                    n = rx.recv_many(&mut batch, max) => open = n > 0,
                    () = sleep_until(wake), if wake.is_some() => {}
                }
            } else if let Some(at) = delayed.next_at() {
                tokio::time::sleep_until(at).await;
            } else {
                return;
            }
            continue;
        }
        while batch.len() < max
            && let Ok(unit) = rx.try_recv()
        {
            batch.push(unit);
        }
        let units = std::mem::take(&mut batch);
        let outcome = match &db {
            Db::Sqlite(s) => batch::run_batch(s.write_pool(), units, &mut rx, max, sealer.as_ref()).await,
            Db::Postgres(p) => batch::run_batch(p.write_pool(), units, &mut rx, max, sealer.as_ref()).await,
        };
        let n = outcome.units;
        stats.batches.fetch_add(1, Ordering::Relaxed);
        stats
            .units
            .fetch_add(u64::try_from(n).unwrap_or(u64::MAX), Ordering::Relaxed);
        if let Some(e) = &outcome.failure {
            tracing::error!(batch.size = n, error = %e, "write batch failed");
        }
        for (unit, cause) in outcome.again {
            delayed.again(unit, cause, &stats);
        }
    }
}

async fn sleep_until(at: Option<Instant>) {
    if let Some(at) = at {
        tokio::time::sleep_until(at).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_stays_capped() {
        for attempts in 0..40 {
            let b = backoff(attempts);
            assert!(b <= BACKOFF_CAP, "{attempts}: {b:?}");
            assert!(b <= BACKOFF_BASE.saturating_mul(1u32 << attempts.min(16)));
        }
    }
}
