//! What an audit export asks of the database: where a time window starts
//! and ends in the log, the checkpoint to cut at, and events by number.

use super::audit::{CHECKPOINT, CheckpointRow, EVENT, EventRow};
use super::{Db, StoreError};

/// The sequence number of the first event, in (time, sequence) order, at
/// or after `time_us` and below `end` (the index on `(time_us, seq)`).
pub async fn first_at_or_after(db: &Db, time_us: i64, end: i64) -> Result<Option<i64>, StoreError> {
    let sql = "select seq from audit_event where time_us >= $1 and seq < $2 order by time_us, seq limit 1";
    on_db!(db, |pool| Ok(sqlx::query_scalar(sql)
        .bind(time_us)
        .bind(end)
        .fetch_optional(pool)
        .await?))
}

/// The sequence number of the last event, in (time, sequence) order,
/// before `time_us` and below `end`.
pub async fn last_before(db: &Db, time_us: i64, end: i64) -> Result<Option<i64>, StoreError> {
    let sql = "select seq from audit_event where time_us < $1 and seq < $2 order by time_us desc, seq desc limit 1";
    on_db!(db, |pool| Ok(sqlx::query_scalar(sql)
        .bind(time_us)
        .bind(end)
        .fetch_optional(pool)
        .await?))
}

/// The smallest stored checkpoint covering at least `size` events.
pub async fn checkpoint_at_or_after(db: &Db, size: i64) -> Result<Option<CheckpointRow>, StoreError> {
    let sql = sqlx::AssertSqlSafe(format!("{CHECKPOINT} where tree_size >= $1 order by tree_size limit 1"));
    on_db!(db, |pool| Ok(sqlx::query_as(sql)
        .bind(size)
        .fetch_optional(pool)
        .await?))
}

/// Events `from <= seq < to`, in order, at most `limit`.
pub async fn events_between(db: &Db, from: i64, to: i64, limit: i64) -> Result<Vec<EventRow>, StoreError> {
    let sql = sqlx::AssertSqlSafe(format!("{EVENT} where seq >= $1 and seq < $2 order by seq limit $3"));
    on_db!(db, |pool| Ok(sqlx::query_as(sql)
        .bind(from)
        .bind(to)
        .bind(limit)
        .fetch_all(pool)
        .await?))
}
