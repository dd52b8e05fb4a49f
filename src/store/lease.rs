//! A lease one instance holds at a time among all instances sharing a
//! PostgreSQL database: a session-level advisory lock on a connection of
//! its own. The lock lives exactly as long as that connection: an instance
//! that dies (even `kill -9`) closes it and the server frees the lock for
//! the next instance that asks. What the holder writes under the lease it
//! writes on that same connection, so a holder whose connection is gone
//! can no longer write anything (fencing): its statements fail.
//!
//! SQLite has one instance per file, which holds every lease.

use std::time::Duration;

use sqlx::Connection as _;
use sqlx::postgres::PgConnection;

/// How long the lease's connection may take to answer before the lease
/// counts as lost (a half-open connection must not stall the signer).
const ANSWER_WITHIN: Duration = Duration::from_secs(5);

use super::audit::CheckpointRow;
use super::{Db, StoreError};

/// Leases by name, as advisory-lock numbers ("jaga.sig" as a number).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeaseName {
    /// Signs audit checkpoints and runs the retention purge.
    Signer,
}

impl LeaseName {
    fn key(self) -> i64 {
        match self {
            LeaseName::Signer => 0x6a61_6761_2e73_6967,
        }
    }
}

/// A held lease.
#[derive(Debug)]
pub enum Lease {
    /// The database is a SQLite file: this process is its only server.
    Alone,
    Postgres {
        conn: PgConnection,
        name: LeaseName,
    },
}

impl Lease {
    /// Takes the lease if no other instance holds it.
    pub async fn try_take(db: &Db, name: LeaseName) -> Result<Option<Lease>, StoreError> {
        let Db::Postgres(pg) = db else {
            return Ok(Some(Lease::Alone));
        };
        let mut conn = pg.pool().acquire().await?.detach();
        let (taken,): (bool,) = sqlx::query_as("select pg_try_advisory_lock($1)")
            .bind(name.key())
            .fetch_one(&mut conn)
            .await?;
        if taken {
            Ok(Some(Lease::Postgres { conn, name }))
        } else {
            let _ = conn.close().await;
            Ok(None)
        }
    }

    /// Whether the lease is still held (its connection answers).
    pub async fn alive(&mut self) -> bool {
        match self {
            Lease::Alone => true,
            Lease::Postgres { conn, .. } => {
                matches!(tokio::time::timeout(ANSWER_WITHIN, conn.ping()).await, Ok(Ok(())))
            }
        }
    }

    /// Stores a checkpoint under the lease; returns false if one of that
    /// size was already stored (the caller compares them). On PostgreSQL
    /// the insert runs on the lease's own connection: it fails if the lease
    /// was lost. (SQLite inserts through the writer; see the checkpointer.)
    pub async fn insert_checkpoint(&mut self, row: &CheckpointRow) -> Result<bool, StoreError> {
        let Lease::Postgres { conn, .. } = self else {
            return Err(StoreError::Corrupt(
                "a SQLite lease stores checkpoints through the writer".into(),
            ));
        };
        let insert = sqlx::query(super::audit::INSERT_CHECKPOINT)
            .bind(row.tree_size)
            .bind(&row.root_hash)
            .bind(row.time_s)
            .bind(&row.note)
            .bind(&row.frontier)
            .execute(conn);
        let inserted = tokio::time::timeout(ANSWER_WITHIN, insert)
            .await
            .map_err(|_| StoreError::unavailable("the signer lease's connection does not answer"))??
            .rows_affected();
        Ok(inserted > 0)
    }

    /// Gives the lease back at once (a clean stop), instead of when the
    /// connection drops.
    pub async fn release(self) {
        if let Lease::Postgres { mut conn, name } = self {
            let _ = sqlx::query("select pg_advisory_unlock($1)")
                .bind(name.key())
                .execute(&mut conn)
                .await;
            let _ = conn.close().await;
        }
    }
}
