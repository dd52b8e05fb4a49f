//! What the audit domain may ask of the database.

use super::{Conn, Db, StoreError, Tx, postgres, sqlite};

/// One stored audit event, as columns.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct EventRow {
    pub seq: i64,
    pub time_us: i64,
    pub actor_kind: String,
    pub actor_id: String,
    pub action: String,
    pub target_kind: String,
    pub target_id: Option<String>,
    /// Field names joined by commas.
    pub target_fields: String,
    pub purpose: Option<String>,
    pub outcome: String,
    pub reason: Option<String>,
    pub request_id: Option<String>,
    pub source: Option<String>,
    pub mac: Vec<u8>,
}

/// One stored checkpoint.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct CheckpointRow {
    pub tree_size: i64,
    pub root_hash: Vec<u8>,
    pub time_s: i64,
    pub note: String,
    pub frontier: Vec<u8>,
}

/// The latest signed checkpoint and the tree's right edge at its size.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct TipRow {
    pub tree_size: i64,
    pub frontier: Vec<u8>,
    pub note: String,
}

/// Adds an event to the unit's transaction. Its sequence number and MAC are
/// set when the batch commits; if the unit fails, the row is dropped.
pub fn append(tx: &mut Tx<'_>, row: EventRow) {
    tx.pending_events.push(row);
}

/// Adds an event that is kept even if the unit fails: a denial or a failed
/// attempt must be audited although the action itself did not happen.
pub fn append_durable(tx: &mut Tx<'_>, row: EventRow) {
    tx.durable_events.push(row);
}

/// Reserves `count` consecutive sequence numbers and returns the first.
/// Held until the transaction ends, so numbers are dense and in commit order.
pub(super) async fn reserve_seqs(conn: &mut Conn<'_>, count: i64) -> Result<i64, StoreError> {
    match conn {
        Conn::Sqlite(c) => sqlite::audit::reserve_seqs(c, count).await,
        Conn::Postgres(c) => postgres::audit::reserve_seqs(c, count).await,
    }
}

/// The tip, inside the writer's transaction (after [`reserve_seqs`], so
/// under the same lock).
pub(super) async fn load_tip(conn: &mut Conn<'_>) -> Result<Option<TipRow>, StoreError> {
    match conn {
        Conn::Sqlite(c) => sqlite::audit::load_tip(&mut **c).await,
        Conn::Postgres(c) => postgres::audit::load_tip(&mut **c).await,
    }
}

pub(super) async fn save_tip(conn: &mut Conn<'_>, tip: &TipRow) -> Result<(), StoreError> {
    match conn {
        Conn::Sqlite(c) => sqlite::audit::save_tip(c, tip).await,
        Conn::Postgres(c) => postgres::audit::save_tip(c, tip).await,
    }
}

/// Events `from..to` inside the writer's transaction (to extend a tip that
/// lags behind, once after an upgrade).
pub(super) async fn events_between(conn: &mut Conn<'_>, from: i64, to: i64) -> Result<Vec<EventRow>, StoreError> {
    match conn {
        Conn::Sqlite(c) => sqlite::audit::events_between(&mut **c, from, to).await,
        Conn::Postgres(c) => postgres::audit::events_between(&mut **c, from, to).await,
    }
}

/// The tip, read side.
pub async fn tip(db: &Db) -> Result<Option<TipRow>, StoreError> {
    match db {
        Db::Sqlite(d) => sqlite::audit::load_tip(d.read_pool()).await,
        Db::Postgres(d) => postgres::audit::load_tip(d.pool()).await,
    }
}

/// The newest stored checkpoint of size at most `size`.
pub async fn checkpoint_at_or_before(db: &Db, size: i64) -> Result<Option<CheckpointRow>, StoreError> {
    match db {
        Db::Sqlite(d) => sqlite::audit::checkpoint_at_or_before(d.read_pool(), size).await,
        Db::Postgres(d) => postgres::audit::checkpoint_at_or_before(d.pool(), size).await,
    }
}

pub(super) async fn insert_events(conn: &mut Conn<'_>, rows: &[EventRow]) -> Result<(), StoreError> {
    match conn {
        Conn::Sqlite(c) => sqlite::audit::insert_events(c, rows).await,
        Conn::Postgres(c) => postgres::audit::insert_events(c, rows).await,
    }
}

/// Stores a checkpoint; a checkpoint of the same size already stored (by
/// another instance) is left as it is.
pub async fn insert_checkpoint(tx: &mut Tx<'_>, row: &CheckpointRow) -> Result<(), StoreError> {
    match tx.conn().await? {
        Conn::Sqlite(c) => sqlite::audit::insert_checkpoint(c, row).await,
        Conn::Postgres(c) => postgres::audit::insert_checkpoint(c, row).await,
    }
}

/// Events with `seq >= from`, in order, at most `limit`.
pub async fn events_from(db: &Db, from: i64, limit: i64) -> Result<Vec<EventRow>, StoreError> {
    match db {
        Db::Sqlite(d) => sqlite::audit::events_from(d.read_pool(), from, limit).await,
        Db::Postgres(d) => postgres::audit::events_from(d.pool(), from, limit).await,
    }
}

/// Number of the highest stored event plus one (0 when empty).
pub async fn end_seq(db: &Db) -> Result<i64, StoreError> {
    match db {
        Db::Sqlite(d) => sqlite::audit::end_seq(d.read_pool()).await,
        Db::Postgres(d) => postgres::audit::end_seq(d.pool()).await,
    }
}

pub async fn last_checkpoint(db: &Db) -> Result<Option<CheckpointRow>, StoreError> {
    match db {
        Db::Sqlite(d) => sqlite::audit::last_checkpoint(d.read_pool()).await,
        Db::Postgres(d) => postgres::audit::last_checkpoint(d.pool()).await,
    }
}

pub async fn checkpoint_at(db: &Db, size: i64) -> Result<Option<CheckpointRow>, StoreError> {
    match db {
        Db::Sqlite(d) => sqlite::audit::checkpoint_at(d.read_pool(), size).await,
        Db::Postgres(d) => postgres::audit::checkpoint_at(d.pool(), size).await,
    }
}

/// All checkpoints, smallest tree first.
pub async fn checkpoints(db: &Db) -> Result<Vec<CheckpointRow>, StoreError> {
    match db {
        Db::Sqlite(d) => sqlite::audit::checkpoints(d.read_pool()).await,
        Db::Postgres(d) => postgres::audit::checkpoints(d.pool()).await,
    }
}

/// Newest events whose actor or target is `pseudonym`, at most `limit`.
pub async fn events_about(db: &Db, pseudonym: &str, limit: i64) -> Result<Vec<EventRow>, StoreError> {
    match db {
        Db::Sqlite(d) => sqlite::audit::events_about(d.read_pool(), pseudonym, limit).await,
        Db::Postgres(d) => postgres::audit::events_about(d.pool(), pseudonym, limit).await,
    }
}
