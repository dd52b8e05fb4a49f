//! A unit of work as the writer holds it: the caller's work, which can run
//! again after a deadlock or a serialization failure (it is cloned for each
//! attempt), its latest result, and the channel its caller waits on.

use std::time::Instant;

use tokio::sync::oneshot;

use super::BoxFuture;
use crate::store::{StoreError, Tx, is_transient, is_unavailable};

/// How one attempt of a unit ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Attempt {
    /// Its changes stay in the batch.
    Done,
    /// It failed on its own terms: rolled back, its durable audit rows kept,
    /// its caller told after the commit.
    Refused,
    /// It met a deadlock or a serialization failure, or the database could
    /// not take the work (a standby refusing writes): rolled back whole, to
    /// be run again in a later batch.
    Transient,
}

pub(super) trait Job: Send {
    /// Runs the work once inside `tx` and keeps its result.
    fn run<'t, 'c>(&'t mut self, tx: &'t mut Tx<'c>) -> BoxFuture<'t, Attempt>;

    /// Counts one more failed attempt (run or not: a batch that could not
    /// start counts too) and returns how many there have been.
    fn failed_attempt(&mut self) -> u32;

    /// When the caller handed the unit over.
    fn since(&self) -> Instant;

    /// Answers the caller: the unit's own result if it was refused, else the
    /// batch's outcome (`Ok` once committed).
    fn finish(self: Box<Self>, batch: Result<(), StoreError>);
}

pub(super) type Unit = Box<dyn Job>;

pub(super) struct Typed<T, E, F> {
    work: F,
    result: Option<Result<T, E>>,
    answer: oneshot::Sender<Result<T, E>>,
    failed: u32,
    since: Instant,
}

impl<T, E, F> Typed<T, E, F> {
    pub(super) fn new(work: F, answer: oneshot::Sender<Result<T, E>>) -> Self {
        Self {
            work,
            result: None,
            answer,
            failed: 0,
            since: Instant::now(),
        }
    }
}

impl<T, E, F> Job for Typed<T, E, F>
where
    T: Send + 'static,
    E: From<StoreError> + std::error::Error + Send + 'static,
    F: for<'t, 'c> FnOnce(&'t mut Tx<'c>) -> BoxFuture<'t, Result<T, E>> + Clone + Send + 'static,
{
    fn run<'t, 'c>(&'t mut self, tx: &'t mut Tx<'c>) -> BoxFuture<'t, Attempt> {
        Box::pin(async move {
            self.result = None;
            let result = (self.work.clone())(tx).await;
            let attempt = match &result {
                Ok(_) => Attempt::Done,
                Err(e) if is_transient(e) || is_unavailable(e) => Attempt::Transient,
                Err(_) => Attempt::Refused,
            };
            self.result = Some(result);
            attempt
        })
    }

    fn failed_attempt(&mut self) -> u32 {
        self.failed += 1;
        self.failed
    }

    fn since(&self) -> Instant {
        self.since
    }

    fn finish(self: Box<Self>, batch: Result<(), StoreError>) {
        let answer = match (self.result, batch) {
            (Some(Err(own)), _) => Err(own),
            (Some(Ok(value)), Ok(())) => Ok(value),
            (Some(Ok(_)) | None, Err(e)) => Err(E::from(e)),
            // It never finished (it panicked): nothing of it was kept.
            (None, Ok(())) => Err(E::from(StoreError::WriterStopped)),
        };
        let _ = self.answer.send(answer);
    }
}
