//! A unit of work as the writer holds it: the caller's work, which can run
//! again after a deadlock or a serialization failure (it is cloned for each
//! attempt), its latest result, and the channel its caller waits on.

use tokio::sync::oneshot;

use super::BoxFuture;
use crate::store::{StoreError, Tx, is_transient};

/// How one attempt of a unit ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Attempt {
    /// Its changes stay in the batch.
    Done,
    /// It failed on its own terms: rolled back, its durable audit rows kept,
    /// its caller told after the commit.
    Refused,
    /// It met a deadlock or a serialization failure: rolled back whole, to
    /// be run again in a later batch.
    Transient,
}

pub(super) trait Job: Send {
    /// Runs the work once inside `tx` and keeps its result.
    fn run<'t, 'c>(&'t mut self, tx: &'t mut Tx<'c>) -> BoxFuture<'t, Attempt>;

    /// How many attempts have run.
    fn attempts(&self) -> u32;

    /// Answers the caller: the unit's own result if it was refused, else the
    /// batch's outcome (`Ok` once committed).
    fn finish(self: Box<Self>, batch: Result<(), StoreError>);
}

pub(super) type Unit = Box<dyn Job>;

pub(super) struct Typed<T, E, F> {
    work: F,
    result: Option<Result<T, E>>,
    answer: oneshot::Sender<Result<T, E>>,
    attempts: u32,
}

impl<T, E, F> Typed<T, E, F> {
    pub(super) fn new(work: F, answer: oneshot::Sender<Result<T, E>>) -> Self {
        Self {
            work,
            result: None,
            answer,
            attempts: 0,
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
            self.attempts += 1;
            self.result = None;
            let result = (self.work.clone())(tx).await;
            let attempt = match &result {
                Ok(_) => Attempt::Done,
                Err(e) if is_transient(e) => Attempt::Transient,
                Err(_) => Attempt::Refused,
            };
            self.result = Some(result);
            attempt
        })
    }

    fn attempts(&self) -> u32 {
        self.attempts
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
