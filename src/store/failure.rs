//! What a database failure means for the caller: worth running the unit
//! again (a deadlock or a serialization failure: nothing was written), or
//! the database is out of reach for now (a failover, a restart, a full
//! pool: answer 503, not 500).
//!
//! Errors travel up wrapped in domain errors, some of them `transparent`
//! (whose `source()` skips the wrapper), so the chain is searched for any
//! of the three forms a database failure takes.

use std::error::Error;

use sqlx::postgres::PgDatabaseError;

use super::StoreError;

/// Why the database could not take the work now, as the source of
/// [`StoreError::Unavailable`]: a type of its own so that the error chain
/// shows it even through `transparent` wrappers, which skip the
/// `StoreError` itself.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct Unavailable(pub String);

/// SQLSTATEs after which the same work, run again, can succeed and nothing
/// of the failed attempt was kept: `deadlock_detected`,
/// `serialization_failure`, `lock_not_available`.
const TRANSIENT: [&str; 3] = ["40P01", "40001", "55P03"];

/// SQLSTATE classes and codes that mean the server cannot take the work
/// right now: connection exceptions (08), `read_only_sql_transaction` (a
/// standby not yet promoted), `too_many_connections`, operator
/// intervention (57: shutting down, starting up, terminated), and
/// `object_not_in_prerequisite_state`, which is how a database closed to
/// new connections (`allow_connections = false`, as during maintenance)
/// refuses one.
fn unavailable_code(code: &str) -> bool {
    code.starts_with("08") || code.starts_with("57") || ["25006", "53300", "55000"].contains(&code)
}

fn pg_code<'a>(e: &'a (dyn Error + 'static)) -> Option<&'a str> {
    if let Some(pg) = e.downcast_ref::<PgDatabaseError>() {
        return Some(pg.code());
    }
    match e.downcast_ref::<sqlx::Error>() {
        Some(sqlx::Error::Database(db)) => db.try_downcast_ref::<PgDatabaseError>().map(PgDatabaseError::code),
        _ => None,
    }
}

fn sqlx_error<'a>(e: &'a (dyn Error + 'static)) -> Option<&'a sqlx::Error> {
    if let Some(s) = e.downcast_ref::<sqlx::Error>() {
        return Some(s);
    }
    if let Some(s) = e.downcast_ref::<std::sync::Arc<sqlx::Error>>() {
        return Some(s);
    }
    match e.downcast_ref::<StoreError>() {
        Some(StoreError::Database(s)) => Some(s),
        _ => None,
    }
}

/// Whether the failure is a connection that broke or could not be made.
fn lost_connection(e: &sqlx::Error) -> bool {
    matches!(
        e,
        sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::WorkerCrashed
            | sqlx::Error::Protocol(_)
    )
}

fn chain<'a>(e: &'a (dyn Error + 'static)) -> impl Iterator<Item = &'a (dyn Error + 'static)> {
    std::iter::successors(Some(e), |e: &&'a (dyn Error + 'static)| (*e).source())
}

/// Whether running the same unit again may succeed (see [`TRANSIENT`]).
pub fn is_transient(e: &(dyn Error + 'static)) -> bool {
    chain(e).any(|e| {
        pg_code(e).is_some_and(|c| TRANSIENT.contains(&c))
            || sqlx_error(e)
                .and_then(|s| pg_code(s))
                .is_some_and(|c| TRANSIENT.contains(&c))
    })
}

/// Whether the database is out of reach or cannot write right now: the
/// caller should hear 503 and try again shortly. Transient conflicts that
/// outlived their retries count too: the request may succeed if repeated.
pub fn is_unavailable(e: &(dyn Error + 'static)) -> bool {
    chain(e).any(|e| {
        if let Some(code) = pg_code(e) {
            return unavailable_code(code) || TRANSIENT.contains(&code);
        }
        if let Some(s) = sqlx_error(e) {
            return lost_connection(s) || pg_code(s).is_some_and(|c| unavailable_code(c) || TRANSIENT.contains(&c));
        }
        e.is::<Unavailable>()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    enum Outer {
        #[error(transparent)]
        Store(#[from] StoreError),
    }

    #[derive(Debug, thiserror::Error)]
    enum Wrapping {
        #[error("module failure")]
        Inner(#[from] Outer),
    }

    #[test]
    fn a_lost_connection_is_unavailable_through_transparent_wrappers() {
        let e = Wrapping::from(Outer::from(StoreError::from(sqlx::Error::PoolTimedOut)));
        assert!(is_unavailable(&e));
        assert!(!is_transient(&e));
    }

    #[test]
    fn other_failures_are_neither() {
        let e = Wrapping::from(Outer::from(StoreError::Corrupt("x".into())));
        assert!(!is_unavailable(&e));
        assert!(!is_transient(&e));
        let e = StoreError::from(sqlx::Error::RowNotFound);
        assert!(!is_unavailable(&e));
        assert!(!is_transient(&e));
    }

    #[test]
    fn unavailable_variant_counts_even_through_transparent_wrappers() {
        assert!(is_unavailable(&StoreError::unavailable("retries exhausted")));
        // A `transparent` wrapper's `source()` skips the `StoreError`
        // itself: the variant must still be found (a giving-up writer
        // was answered 500 during a failover when it was not).
        let e = Wrapping::from(Outer::from(StoreError::unavailable("retries exhausted")));
        assert!(is_unavailable(&e));
        assert!(!is_transient(&e));
    }

    #[test]
    fn sqlstate_classes() {
        assert!(unavailable_code("08006"));
        assert!(unavailable_code("57P01"));
        assert!(unavailable_code("25006"));
        assert!(!unavailable_code("23505"));
    }
}
