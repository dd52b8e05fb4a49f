//! Audit log SQL for PostgreSQL.

use sqlx::{PgConnection, PgPool, Postgres, QueryBuilder};

use crate::store::StoreError;
use crate::store::audit::{CheckpointRow, EventRow, TipRow};

/// Rows per insert statement (14 parameters each; PostgreSQL allows 65535).
const ROWS_PER_INSERT: usize = 200;

pub async fn reserve_seqs(conn: &mut PgConnection, count: i64) -> Result<i64, StoreError> {
    // The row lock on audit_head is held until commit: appends from every
    // instance are serialised, so numbers are dense and commit in order.
    let (first,): (i64,) = sqlx::query_as("update audit_head set next_seq = next_seq + $1 returning next_seq - $1")
        .bind(count)
        .fetch_one(&mut *conn)
        .await?;
    Ok(first)
}

pub async fn insert_events(conn: &mut PgConnection, rows: &[EventRow]) -> Result<(), StoreError> {
    for chunk in rows.chunks(ROWS_PER_INSERT) {
        let mut q: QueryBuilder<Postgres> = QueryBuilder::new(
            "insert into audit_event (seq, time_us, actor_kind, actor_id, action, target_kind, target_id, \
             target_fields, purpose, outcome, reason, request_id, source, mac) ",
        );
        q.push_values(chunk, |mut b, r| {
            b.push_bind(r.seq)
                .push_bind(r.time_us)
                .push_bind(&r.actor_kind)
                .push_bind(&r.actor_id)
                .push_bind(&r.action)
                .push_bind(&r.target_kind)
                .push_bind(&r.target_id)
                .push_bind(&r.target_fields)
                .push_bind(&r.purpose)
                .push_bind(&r.outcome)
                .push_bind(&r.reason)
                .push_bind(&r.request_id)
                .push_bind(&r.source)
                .push_bind(&r.mac);
        });
        q.build().execute(&mut *conn).await?;
    }
    Ok(())
}

pub async fn insert_checkpoint(conn: &mut PgConnection, r: &CheckpointRow) -> Result<(), StoreError> {
    sqlx::query(
        "insert into audit_checkpoint (tree_size, root_hash, time_s, note, frontier) \
         values ($1, $2, $3, $4, $5) on conflict (tree_size) do nothing",
    )
    .bind(r.tree_size)
    .bind(&r.root_hash)
    .bind(r.time_s)
    .bind(&r.note)
    .bind(&r.frontier)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn events_from(pool: &PgPool, from: i64, limit: i64) -> Result<Vec<EventRow>, StoreError> {
    Ok(sqlx::query_as(
        "select seq, time_us, actor_kind, actor_id, action, target_kind, target_id, target_fields, \
         purpose, outcome, reason, request_id, source, mac from audit_event where seq >= $1 order by seq limit $2",
    )
    .bind(from)
    .bind(limit)
    .fetch_all(pool)
    .await?)
}

pub async fn end_seq(pool: &PgPool) -> Result<i64, StoreError> {
    let (end,): (i64,) = sqlx::query_as("select coalesce(max(seq) + 1, 0) from audit_event")
        .fetch_one(pool)
        .await?;
    Ok(end)
}

pub async fn last_checkpoint<'e, E>(exec: E) -> Result<Option<CheckpointRow>, StoreError>
where
    E: sqlx::PgExecutor<'e>,
{
    Ok(sqlx::query_as(
        "select tree_size, root_hash, time_s, note, frontier from audit_checkpoint \
         order by tree_size desc limit 1",
    )
    .fetch_optional(exec)
    .await?)
}

pub async fn checkpoints(pool: &PgPool) -> Result<Vec<CheckpointRow>, StoreError> {
    Ok(
        sqlx::query_as("select tree_size, root_hash, time_s, note, frontier from audit_checkpoint order by tree_size")
            .fetch_all(pool)
            .await?,
    )
}

pub async fn checkpoint_at(pool: &PgPool, size: i64) -> Result<Option<CheckpointRow>, StoreError> {
    Ok(
        sqlx::query_as(
            "select tree_size, root_hash, time_s, note, frontier from audit_checkpoint where tree_size = $1",
        )
        .bind(size)
        .fetch_optional(pool)
        .await?,
    )
}

pub async fn events_about(pool: &PgPool, pseudonym: &str, limit: i64) -> Result<Vec<EventRow>, StoreError> {
    Ok(sqlx::query_as(
        "select seq, time_us, actor_kind, actor_id, action, target_kind, target_id, target_fields, purpose, \
         outcome, reason, request_id, source, mac from audit_event where target_id = $1 or actor_id = $1 \
         order by seq desc limit $2",
    )
    .bind(pseudonym)
    .bind(limit)
    .fetch_all(pool)
    .await?)
}

pub async fn load_tip<'e, E>(exec: E) -> Result<Option<TipRow>, StoreError>
where
    E: sqlx::PgExecutor<'e>,
{
    Ok(
        sqlx::query_as("select tree_size, frontier, note from audit_tip where singleton = 1")
            .fetch_optional(exec)
            .await?,
    )
}

pub async fn save_tip(conn: &mut PgConnection, tip: &TipRow) -> Result<(), StoreError> {
    sqlx::query(
        "insert into audit_tip (singleton, tree_size, frontier, note) values (1, $1, $2, $3) \
         on conflict (singleton) do update set tree_size = excluded.tree_size, frontier = excluded.frontier, \
         note = excluded.note",
    )
    .bind(tip.tree_size)
    .bind(&tip.frontier)
    .bind(&tip.note)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn events_between<'e, E>(exec: E, from: i64, to: i64) -> Result<Vec<EventRow>, StoreError>
where
    E: sqlx::PgExecutor<'e>,
{
    Ok(sqlx::query_as(
        "select seq, time_us, actor_kind, actor_id, action, target_kind, target_id, target_fields, \
         purpose, outcome, reason, request_id, source, mac from audit_event where seq >= $1 and seq < $2 \
         order by seq",
    )
    .bind(from)
    .bind(to)
    .fetch_all(exec)
    .await?)
}

pub async fn checkpoint_at_or_before(pool: &PgPool, size: i64) -> Result<Option<CheckpointRow>, StoreError> {
    Ok(sqlx::query_as(
        "select tree_size, root_hash, time_s, note, frontier from audit_checkpoint where tree_size <= $1 \
         order by tree_size desc limit 1",
    )
    .bind(size)
    .fetch_optional(pool)
    .await?)
}
