//! What the audit domain may ask of the database.

use sqlx::QueryBuilder;

use super::{Conn, Db, StoreError, Tx};

pub(super) const EVENT: &str = "select seq, time_us, actor_kind, actor_id, action, target_kind, target_id, target_fields, \
     purpose, outcome, reason, request_id, source, policies, mac from audit_event";
pub(super) const CHECKPOINT: &str = "select tree_size, root_hash, time_s, note, frontier from audit_checkpoint";

/// Rows per insert statement (15 parameters each; SQLite allows 32766,
/// PostgreSQL 65535).
const ROWS_PER_INSERT: usize = 200;

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
    /// Policy ids joined by commas ("" when none).
    pub policies: String,
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

/// Runs `$body` on the writer's connection (already inside its
/// transaction), whichever the backend.
macro_rules! on_conn {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            Conn::Sqlite(c) => {
                let $c = &mut **c;
                $body
            }
            Conn::Postgres(c) => {
                let $c = &mut **c;
                $body
            }
        }
    };
}

/// Reserves `count` consecutive sequence numbers and returns the first.
/// Held until the transaction ends, so numbers are dense and in commit order.
///
/// The one statement that differs by backend: the SQLite writer is the
/// only writer, so the next number is one past the highest stored;
/// PostgreSQL takes the `audit_head` row lock, which serialises appends
/// from every instance until commit.
pub(super) async fn reserve_seqs(conn: &mut Conn<'_>, count: i64) -> Result<i64, StoreError> {
    let (first,): (i64,) = match conn {
        Conn::Sqlite(c) => {
            sqlx::query_as("select coalesce(max(seq) + 1, 0) from audit_event")
                .fetch_one(&mut **c)
                .await?
        }
        Conn::Postgres(c) => {
            sqlx::query_as("update audit_head set next_seq = next_seq + $1 returning next_seq - $1")
                .bind(count)
                .fetch_one(&mut **c)
                .await?
        }
    };
    Ok(first)
}

const LOAD_TIP: &str = "select tree_size, frontier, note from audit_tip where singleton = 1";

/// The tip, inside the writer's transaction (after [`reserve_seqs`], so
/// under the same lock).
pub(super) async fn load_tip(conn: &mut Conn<'_>) -> Result<Option<TipRow>, StoreError> {
    on_conn!(conn, |c| Ok(sqlx::query_as(LOAD_TIP).fetch_optional(c).await?))
}

pub(super) async fn save_tip(conn: &mut Conn<'_>, tip: &TipRow) -> Result<(), StoreError> {
    on_conn!(conn, |c| {
        sqlx::query(
            "insert into audit_tip (singleton, tree_size, frontier, note) values (1, $1, $2, $3) \
             on conflict (singleton) do update set tree_size = excluded.tree_size, frontier = excluded.frontier, \
             note = excluded.note",
        )
        .bind(tip.tree_size)
        .bind(&tip.frontier)
        .bind(&tip.note)
        .execute(c)
        .await?;
        Ok(())
    })
}

/// Events `from..to` inside the writer's transaction (to extend a tip that
/// lags behind, once after an upgrade).
pub(super) async fn events_between(conn: &mut Conn<'_>, from: i64, to: i64) -> Result<Vec<EventRow>, StoreError> {
    let sql = sqlx::AssertSqlSafe(format!("{EVENT} where seq >= $1 and seq < $2 order by seq"));
    on_conn!(conn, |c| Ok(sqlx::query_as(sql)
        .bind(from)
        .bind(to)
        .fetch_all(c)
        .await?))
}

/// The tip, read side.
pub async fn tip(db: &Db) -> Result<Option<TipRow>, StoreError> {
    on_db!(db, |pool| Ok(sqlx::query_as(LOAD_TIP).fetch_optional(pool).await?))
}

/// The newest stored checkpoint of size at most `size`.
pub async fn checkpoint_at_or_before(db: &Db, size: i64) -> Result<Option<CheckpointRow>, StoreError> {
    let sql = sqlx::AssertSqlSafe(format!(
        "{CHECKPOINT} where tree_size <= $1 order by tree_size desc limit 1"
    ));
    on_db!(db, |pool| Ok(sqlx::query_as(sql)
        .bind(size)
        .fetch_optional(pool)
        .await?))
}

pub(super) async fn insert_events(conn: &mut Conn<'_>, rows: &[EventRow]) -> Result<(), StoreError> {
    for chunk in rows.chunks(ROWS_PER_INSERT) {
        on_conn!(&mut *conn, |c| {
            let mut q = QueryBuilder::new(
                "insert into audit_event (seq, time_us, actor_kind, actor_id, action, target_kind, target_id, \
                 target_fields, purpose, outcome, reason, request_id, source, policies, mac) ",
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
                    .push_bind(&r.policies)
                    .push_bind(&r.mac);
            });
            q.build().execute(c).await?;
        });
    }
    Ok(())
}

pub(super) const INSERT_CHECKPOINT: &str = "insert into audit_checkpoint (tree_size, root_hash, time_s, note, frontier) \
     values ($1, $2, $3, $4, $5) on conflict (tree_size) do nothing";

/// Stores a checkpoint; returns false if one of the same size was already
/// stored (it is left as it is; the caller compares them).
pub async fn insert_checkpoint(tx: &mut Tx<'_>, row: &CheckpointRow) -> Result<bool, StoreError> {
    on_tx!(tx, |c| {
        let done = sqlx::query(INSERT_CHECKPOINT)
            .bind(row.tree_size)
            .bind(&row.root_hash)
            .bind(row.time_s)
            .bind(&row.note)
            .bind(&row.frontier)
            .execute(c)
            .await?;
        Ok(done.rows_affected() > 0)
    })
}

/// Events with `seq >= from`, in order, at most `limit`.
pub async fn events_from(db: &Db, from: i64, limit: i64) -> Result<Vec<EventRow>, StoreError> {
    let sql = sqlx::AssertSqlSafe(format!("{EVENT} where seq >= $1 order by seq limit $2"));
    on_db!(db, |pool| Ok(sqlx::query_as(sql)
        .bind(from)
        .bind(limit)
        .fetch_all(pool)
        .await?))
}

/// Number of the highest stored event plus one (0 when empty).
pub async fn end_seq(db: &Db) -> Result<i64, StoreError> {
    let (end,): (i64,) = on_db!(db, |pool| {
        sqlx::query_as("select coalesce(max(seq) + 1, 0) from audit_event")
            .fetch_one(pool)
            .await?
    });
    Ok(end)
}

pub async fn last_checkpoint(db: &Db) -> Result<Option<CheckpointRow>, StoreError> {
    let sql = sqlx::AssertSqlSafe(format!("{CHECKPOINT} order by tree_size desc limit 1"));
    on_db!(db, |pool| Ok(sqlx::query_as(sql).fetch_optional(pool).await?))
}

pub async fn checkpoint_at(db: &Db, size: i64) -> Result<Option<CheckpointRow>, StoreError> {
    let sql = sqlx::AssertSqlSafe(format!("{CHECKPOINT} where tree_size = $1"));
    on_db!(db, |pool| Ok(sqlx::query_as(sql)
        .bind(size)
        .fetch_optional(pool)
        .await?))
}

/// All checkpoints, smallest tree first.
pub async fn checkpoints(db: &Db) -> Result<Vec<CheckpointRow>, StoreError> {
    let sql = sqlx::AssertSqlSafe(format!("{CHECKPOINT} order by tree_size"));
    on_db!(db, |pool| Ok(sqlx::query_as(sql).fetch_all(pool).await?))
}

/// Newest events whose actor or target is `pseudonym`, at most `limit`.
pub async fn events_about(db: &Db, pseudonym: &str, limit: i64) -> Result<Vec<EventRow>, StoreError> {
    let sql = sqlx::AssertSqlSafe(format!(
        "{EVENT} where target_id = $1 or actor_id = $1 order by seq desc limit $2"
    ));
    on_db!(db, |pool| Ok(sqlx::query_as(sql)
        .bind(pseudonym)
        .bind(limit)
        .fetch_all(pool)
        .await?))
}

/// Audit events with a purpose in `[from_us, to_us)`, counted by purpose,
/// actor, action and outcome (the records of processing, UU PDP Art. 31).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PurposeCount {
    pub purpose: String,
    pub actor_kind: String,
    pub actor_id: String,
    pub action: String,
    pub outcome: String,
    pub count: i64,
}

pub async fn counts_by_purpose(db: &Db, from_us: i64, to_us: i64) -> Result<Vec<PurposeCount>, StoreError> {
    on_db!(db, |pool| {
        Ok(sqlx::query_as(
            "select purpose, actor_kind, actor_id, action, outcome, count(*) as count from audit_event \
             where time_us >= $1 and time_us < $2 and purpose is not null \
             group by purpose, actor_kind, actor_id, action, outcome \
             order by purpose, actor_kind, actor_id, action, outcome",
        )
        .bind(from_us)
        .bind(to_us)
        .fetch_all(pool)
        .await?)
    })
}
