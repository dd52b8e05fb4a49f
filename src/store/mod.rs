//! Storage: one abstraction per area with a SQLite and a PostgreSQL
//! implementation, chosen by the database URL scheme.
//!
//! Area modules (`store::audit`, …) define what the domain may ask of the
//! database; `store::sqlite::*` and `store::postgres::*` hold the SQL. All
//! writes go through the [`Writer`], which groups concurrent callers into one
//! database transaction (group commit) with a savepoint each.

/// Runs `$body` on the unit's connection, whichever the backend: the SQL
/// is written once (`$N` placeholders, which sqlx binds on SQLite and
/// PostgreSQL alike) and the body is compiled once per backend.
macro_rules! on_tx {
    ($tx:expr, |$conn:ident| $body:expr) => {
        match $tx.conn().await? {
            $crate::store::Conn::Sqlite($conn) => $body,
            $crate::store::Conn::Postgres($conn) => $body,
        }
    };
}

/// Runs `$body` on the database's read pool, whichever the backend.
macro_rules! on_db {
    ($db:expr, |$pool:ident| $body:expr) => {
        match $db {
            $crate::store::Db::Sqlite(d) => {
                let $pool = d.read_pool();
                $body
            }
            $crate::store::Db::Postgres(d) => {
                let $pool = d.pool();
                $body
            }
        }
    };
}

pub mod alerts;
pub mod audit;
pub mod audit_export;
pub mod audit_node;
pub mod audit_search;
pub mod audit_witness;
pub mod break_glass;
pub mod cases;
pub mod changes;
pub mod clients;
pub mod consent;
pub mod corrections;
pub mod erasures;
mod failure;
pub mod guardians;
pub mod identity;
pub mod incidents;
pub mod lease;
pub mod modules;
pub mod oauth_flow;
pub mod oauth_tokens;
mod postgres;
mod sqlite;
pub mod transparency;
pub mod vault;
mod writer;

use std::sync::Arc;

use secrecy::{ExposeSecret as _, SecretString};

pub use failure::{is_transient, is_unavailable};
pub use writer::{BoxFuture, Sealer, Writer, WriterStats};

#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(#[source] Arc<sqlx::Error>),
    #[error("database migration failed: {0}")]
    Migrate(String),
    #[error("database URL is not usable: {0}")]
    Url(String),
    #[error("the database writer has stopped")]
    WriterStopped,
    #[error("stored data is inconsistent: {0}")]
    Corrupt(String),
    #[error("a unique value is already taken")]
    Conflict,
    /// The database could not take the work now (connection lost, a
    /// standby not yet promoted, conflicts that outlived their retries).
    #[error("the database is not available: {0}")]
    Unavailable(#[source] failure::Unavailable),
}

impl StoreError {
    /// The database cannot take the work now: the caller hears 503.
    pub fn unavailable(why: impl Into<String>) -> Self {
        Self::Unavailable(failure::Unavailable(why.into()))
    }

    /// Maps a unique-constraint violation to [`StoreError::Conflict`]: the
    /// callers check first inside the same transaction, so a violation
    /// means another instance won a race for the same value.
    pub(crate) fn from_write(e: sqlx::Error) -> Self {
        match e.as_database_error() {
            Some(db) if db.is_unique_violation() => StoreError::Conflict,
            _ => e.into(),
        }
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        StoreError::Database(Arc::new(e))
    }
}

/// A database: the embedded SQLite file or a PostgreSQL server.
#[derive(Debug, Clone)]
pub enum Db {
    Sqlite(sqlite::SqliteDb),
    Postgres(postgres::PgDb),
}

/// A unit of work's view of the writer's batch transaction.
///
/// The unit's first statement opens a savepoint (so a unit that fails rolls
/// back alone); a unit that runs no SQL costs no round trip. Audit rows are
/// held here and written by the writer just before the batch commits, in
/// the same database transaction as the unit's other changes.
#[derive(Debug)]
pub struct Tx<'c> {
    conn: TxConn<'c>,
    savepoint: bool,
    pending_events: Vec<audit::EventRow>,
    /// Audit rows kept even if the unit fails (denials, failed attempts).
    durable_events: Vec<audit::EventRow>,
}

#[derive(Debug)]
enum TxConn<'c> {
    Sqlite(&'c mut sqlx::SqliteConnection),
    Postgres(&'c mut sqlx::PgConnection),
}

/// Steps of a unit's savepoint.
#[derive(Debug, Clone, Copy)]
enum Savepoint {
    Open,
    Release,
    RollBack,
}

/// The connection a store function runs its SQL on.
#[derive(Debug)]
pub enum Conn<'a> {
    Sqlite(&'a mut sqlx::SqliteConnection),
    Postgres(&'a mut sqlx::PgConnection),
}

impl<'c> Tx<'c> {
    fn new(conn: TxConn<'c>) -> Self {
        Self {
            conn,
            savepoint: false,
            pending_events: Vec::new(),
            durable_events: Vec::new(),
        }
    }

    /// The connection, inside this unit's savepoint.
    pub async fn conn(&mut self) -> Result<Conn<'_>, StoreError> {
        if !self.savepoint {
            self.savepoint(Savepoint::Open).await?;
            self.savepoint = true;
        }
        Ok(match &mut self.conn {
            TxConn::Sqlite(c) => Conn::Sqlite(c),
            TxConn::Postgres(c) => Conn::Postgres(c),
        })
    }

    async fn savepoint(&mut self, step: Savepoint) -> Result<(), StoreError> {
        match &mut self.conn {
            TxConn::Sqlite(c) => sqlite::savepoint(c, step).await,
            TxConn::Postgres(c) => postgres::savepoint(c, step).await,
        }
    }

    /// Keeps the unit's changes; returns its audit rows for the batch.
    async fn release(&mut self) -> Result<Vec<audit::EventRow>, StoreError> {
        if self.savepoint {
            self.savepoint(Savepoint::Release).await?;
            self.savepoint = false;
        }
        let mut rows = std::mem::take(&mut self.durable_events);
        rows.append(&mut self.pending_events);
        Ok(rows)
    }

    /// Undoes the unit's changes and drops its audit rows, except the
    /// durable ones, which it returns.
    async fn rollback(&mut self) -> Result<Vec<audit::EventRow>, StoreError> {
        if self.savepoint {
            self.savepoint(Savepoint::RollBack).await?;
            self.savepoint(Savepoint::Release).await?;
            self.savepoint = false;
        }
        self.pending_events.clear();
        Ok(std::mem::take(&mut self.durable_events))
    }
}

impl Db {
    /// Opens the database named by `url`; with `create`, a missing SQLite
    /// file (and its folder) is created. `read_connections` sizes the pool
    /// used for reads.
    pub async fn open(url: &SecretString, read_connections: u32, create: bool) -> Result<Db, StoreError> {
        let url = url.expose_secret();
        if let Some(rest) = url.strip_prefix("sqlite:") {
            let path = rest.strip_prefix("//").unwrap_or(rest);
            let path = path.split_once('?').map_or(path, |(p, _)| p);
            return Ok(Db::Sqlite(
                sqlite::SqliteDb::open(path, read_connections, create).await?,
            ));
        }
        if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            return Ok(Db::Postgres(postgres::PgDb::connect(url, read_connections).await?));
        }
        Err(StoreError::Url("scheme must be sqlite:// or postgres://".into()))
    }

    /// Applies the embedded migrations that have not run yet.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        match self {
            Db::Sqlite(db) => db.migrate().await,
            Db::Postgres(db) => db.migrate().await,
        }
    }

    /// Applies pending migrations (`apply`), or only checks that none is
    /// pending (PostgreSQL with `database.migrations = "check"`: the
    /// service's role needs no DDL). SQLite always applies: the file is
    /// the service's own.
    pub async fn prepare(&self, apply: bool) -> Result<(), StoreError> {
        match self {
            Db::Postgres(db) if !apply => db.check_migrations().await,
            _ => self.migrate().await,
        }
    }

    /// Whether the database answers (and, for SQLite, is still the file we opened).
    pub async fn ping(&self) -> Result<(), StoreError> {
        match self {
            Db::Sqlite(db) => db.ping().await,
            Db::Postgres(db) => db.ping().await,
        }
    }

    /// Makes cleared values unrecoverable from the files: SQLite zeroes
    /// freed content (`secure_delete`), folds the WAL back and vacuums;
    /// PostgreSQL vacuums the account table.
    pub async fn reclaim(&self) -> Result<(), StoreError> {
        match self {
            Db::Sqlite(db) => db.reclaim().await,
            Db::Postgres(db) => db.reclaim().await,
        }
    }

    pub fn backend(&self) -> &'static str {
        match self {
            Db::Sqlite(_) => "sqlite",
            Db::Postgres(_) => "postgres",
        }
    }

    pub async fn close(&self) {
        match self {
            Db::Sqlite(db) => db.close().await,
            Db::Postgres(db) => db.close().await,
        }
    }
}

/// Versions of the embedded migrations, per backend (for the parity test).
pub fn migration_versions() -> (Vec<i64>, Vec<i64>) {
    (sqlite::migration_versions(), postgres::migration_versions())
}

#[cfg(test)]
mod tests {
    #[test]
    fn both_backends_have_the_same_migration_versions() {
        let (sqlite, postgres) = super::migration_versions();
        assert!(!sqlite.is_empty());
        assert_eq!(sqlite, postgres);
    }
}
