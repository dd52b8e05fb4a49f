//! Audit log SQL for SQLite.

use sqlx::{Sqlite, SqlitePool, Transaction};

use crate::store::StoreError;
use crate::store::audit::{CheckpointRow, EventRow};

pub async fn next_seq(tx: &mut Transaction<'_, Sqlite>) -> Result<i64, StoreError> {
    // Safe without a lock: the writer is the only SQLite writer.
    let (next,): (i64,) = sqlx::query_as("select coalesce(max(seq) + 1, 0) from audit_event")
        .fetch_one(&mut **tx)
        .await?;
    Ok(next)
}

pub async fn insert_event(
    tx: &mut Transaction<'_, Sqlite>,
    r: &EventRow,
) -> Result<(), StoreError> {
    sqlx::query(
        "insert into audit_event (seq, time_us, actor_kind, actor_id, action, target_kind, target_id, \
         target_fields, purpose, outcome, reason, request_id, source, mac) \
         values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(r.seq)
    .bind(r.time_us)
    .bind(&r.actor_kind)
    .bind(&r.actor_id)
    .bind(&r.action)
    .bind(&r.target_kind)
    .bind(&r.target_id)
    .bind(&r.target_fields)
    .bind(&r.purpose)
    .bind(&r.outcome)
    .bind(&r.reason)
    .bind(&r.request_id)
    .bind(&r.source)
    .bind(&r.mac)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn insert_checkpoint(
    tx: &mut Transaction<'_, Sqlite>,
    r: &CheckpointRow,
) -> Result<(), StoreError> {
    sqlx::query(
        "insert into audit_checkpoint (tree_size, root_hash, time_s, note, frontier) \
         values (?, ?, ?, ?, ?) on conflict (tree_size) do nothing",
    )
    .bind(r.tree_size)
    .bind(&r.root_hash)
    .bind(r.time_s)
    .bind(&r.note)
    .bind(&r.frontier)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn events_from(
    pool: &SqlitePool,
    from: i64,
    limit: i64,
) -> Result<Vec<EventRow>, StoreError> {
    Ok(sqlx::query_as(
        "select seq, time_us, actor_kind, actor_id, action, target_kind, target_id, target_fields, \
         purpose, outcome, reason, request_id, source, mac from audit_event where seq >= ? order by seq limit ?",
    ).bind(from).bind(limit).fetch_all(pool).await?)
}

pub async fn end_seq(pool: &SqlitePool) -> Result<i64, StoreError> {
    let (end,): (i64,) = sqlx::query_as("select coalesce(max(seq) + 1, 0) from audit_event")
        .fetch_one(pool)
        .await?;
    Ok(end)
}

pub async fn last_checkpoint(pool: &SqlitePool) -> Result<Option<CheckpointRow>, StoreError> {
    Ok(sqlx::query_as(
        "select tree_size, root_hash, time_s, note, frontier from audit_checkpoint \
         order by tree_size desc limit 1",
    )
    .fetch_optional(pool)
    .await?)
}

pub async fn checkpoints(pool: &SqlitePool) -> Result<Vec<CheckpointRow>, StoreError> {
    Ok(sqlx::query_as(
        "select tree_size, root_hash, time_s, note, frontier from audit_checkpoint order by tree_size",
    )
    .fetch_all(pool)
    .await?)
}
