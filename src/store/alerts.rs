//! Alerts, their webhook deliveries, and how far the rules have read the
//! audit log.

use super::{Db, StoreError, Tx};

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AlertRow {
    pub alert_id: String,
    pub dedupe: String,
    pub rule: String,
    pub severity: String,
    pub subject: String,
    pub facts: String,
    pub seq: Option<i64>,
    pub raised_at: i64,
}

/// An alert with where its delivery stands.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ListedRow {
    pub alert_id: String,
    pub rule: String,
    pub severity: String,
    pub subject: String,
    pub facts: String,
    pub seq: Option<i64>,
    pub raised_at: i64,
    pub attempts: Option<i32>,
    pub next_at: Option<i64>,
    pub last_error: Option<String>,
    pub delivered_at: Option<i64>,
    pub dead_at: Option<i64>,
}

/// Stores an alert unless its occurrence was raised before; queues its
/// delivery when `deliver`. Returns whether it is new.
pub async fn raise(tx: &mut Tx<'_>, row: &AlertRow, deliver: bool) -> Result<bool, StoreError> {
    let new = on_tx!(tx, |c| {
        sqlx::query(
            "insert into alert (alert_id, dedupe, rule, severity, subject, facts, seq, raised_at) \
             values ($1, $2, $3, $4, $5, $6, $7, $8) on conflict (dedupe) do nothing",
        )
        .bind(&row.alert_id)
        .bind(&row.dedupe)
        .bind(&row.rule)
        .bind(&row.severity)
        .bind(&row.subject)
        .bind(&row.facts)
        .bind(row.seq)
        .bind(row.raised_at)
        .execute(&mut *c)
        .await?
        .rows_affected()
            > 0
    });
    if new && deliver {
        on_tx!(tx, |c| {
            sqlx::query("insert into alert_delivery (alert_id, attempts, next_at) values ($1, 0, $2)")
                .bind(&row.alert_id)
                .bind(row.raised_at)
                .execute(&mut *c)
                .await?;
        });
    }
    Ok(new)
}

/// The next audit sequence number the rules read; `None` before the first scan.
pub async fn cursor(db: &Db) -> Result<Option<i64>, StoreError> {
    on_db!(db, |pool| Ok(sqlx::query_scalar(
        "select next_seq from alert_cursor where singleton = 1"
    )
    .fetch_optional(pool)
    .await?))
}

pub async fn set_cursor(tx: &mut Tx<'_>, next_seq: i64) -> Result<(), StoreError> {
    on_tx!(tx, |c| {
        sqlx::query(
            "insert into alert_cursor (singleton, next_seq) values (1, $1) \
             on conflict (singleton) do update set next_seq = excluded.next_seq",
        )
        .bind(next_seq)
        .execute(&mut *c)
        .await?;
        Ok(())
    })
}

/// Different citizens an officer read (successful `*.read` events) in
/// `[from_us, to_us]`.
pub async fn citizens_read(db: &Db, officer: &str, from_us: i64, to_us: i64) -> Result<i64, StoreError> {
    let sql = "select count(distinct target_id) from audit_event where actor_kind = 'officer' and actor_id = $1 \
               and time_us >= $2 and time_us <= $3 and action like '%.read' and outcome = 'success' \
               and target_kind = 'citizen'";
    on_db!(db, |pool| Ok(sqlx::query_scalar(sql)
        .bind(officer)
        .bind(from_us)
        .bind(to_us)
        .fetch_one(pool)
        .await?))
}

/// A module's successful reads in `[from_us, to_us]`.
pub async fn module_reads(db: &Db, module: &str, from_us: i64, to_us: i64) -> Result<i64, StoreError> {
    let sql = "select count(*) from audit_event where actor_kind = 'module' and actor_id = $1 \
               and time_us >= $2 and time_us <= $3 and action like '%.read' and outcome = 'success'";
    on_db!(db, |pool| Ok(sqlx::query_scalar(sql)
        .bind(module)
        .bind(from_us)
        .bind(to_us)
        .fetch_one(pool)
        .await?))
}

/// Refused events in `[from_us, to_us]`, rate-limit trips aside (they
/// have their own rule).
pub async fn denials(db: &Db, from_us: i64, to_us: i64) -> Result<i64, StoreError> {
    let sql = "select count(*) from audit_event where outcome = 'denied' and action <> 'ratelimit.trip' \
               and time_us >= $1 and time_us <= $2";
    on_db!(db, |pool| Ok(sqlx::query_scalar(sql)
        .bind(from_us)
        .bind(to_us)
        .fetch_one(pool)
        .await?))
}

/// Events with this action in `[from_us, to_us]`.
pub async fn actions(db: &Db, action: &str, from_us: i64, to_us: i64) -> Result<i64, StoreError> {
    let sql = "select count(*) from audit_event where action = $1 and time_us >= $2 and time_us <= $3";
    on_db!(db, |pool| Ok(sqlx::query_scalar(sql)
        .bind(action)
        .bind(from_us)
        .bind(to_us)
        .fetch_one(pool)
        .await?))
}

const LISTED: &str = "select a.alert_id, a.rule, a.severity, a.subject, a.facts, a.seq, a.raised_at, \
     d.attempts, d.next_at, d.last_error, d.delivered_at, d.dead_at \
     from alert a left join alert_delivery d on d.alert_id = a.alert_id";

/// The newest alerts first.
pub async fn newest(db: &Db, limit: i64) -> Result<Vec<ListedRow>, StoreError> {
    let sql = sqlx::AssertSqlSafe(format!("{LISTED} order by a.raised_at desc, a.alert_id limit $1"));
    on_db!(db, |pool| Ok(sqlx::query_as(sql).bind(limit).fetch_all(pool).await?))
}

/// A delivery due, with its alert.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct DueRow {
    #[sqlx(flatten)]
    pub alert: AlertRow,
    /// Attempts made so far.
    pub attempts: i32,
}

/// Deliveries due at `now`, oldest first, with their alerts.
pub async fn due(db: &Db, now: i64, limit: i64) -> Result<Vec<DueRow>, StoreError> {
    let sql = "select a.alert_id, a.dedupe, a.rule, a.severity, a.subject, a.facts, a.seq, a.raised_at, d.attempts \
               from alert_delivery d join alert a on a.alert_id = d.alert_id \
               where d.delivered_at is null and d.dead_at is null and d.next_at <= $1 \
               order by d.next_at, d.alert_id limit $2";
    on_db!(db, |pool| Ok(sqlx::query_as(sql)
        .bind(now)
        .bind(limit)
        .fetch_all(pool)
        .await?))
}

pub async fn delivered(tx: &mut Tx<'_>, alert_id: &str, now: i64) -> Result<(), StoreError> {
    on_tx!(tx, |c| {
        sqlx::query(
            "update alert_delivery set attempts = attempts + 1, delivered_at = $2, last_error = null \
             where alert_id = $1",
        )
        .bind(alert_id)
        .bind(now)
        .execute(&mut *c)
        .await?;
        Ok(())
    })
}

/// A failed attempt: tried again at `next_at`, or a dead letter at `dead_at`.
pub async fn failed(
    tx: &mut Tx<'_>,
    alert_id: &str,
    error: &str,
    next_at: i64,
    dead_at: Option<i64>,
) -> Result<(), StoreError> {
    on_tx!(tx, |c| {
        sqlx::query(
            "update alert_delivery set attempts = attempts + 1, last_error = $2, next_at = $3, dead_at = $4 \
             where alert_id = $1",
        )
        .bind(alert_id)
        .bind(error)
        .bind(next_at)
        .bind(dead_at)
        .execute(&mut *c)
        .await?;
        Ok(())
    })
}

/// A dead letter sent again from now (its attempts start over). Returns
/// false if the alert is not a dead letter.
pub async fn redeliver(tx: &mut Tx<'_>, alert_id: &str, now: i64) -> Result<bool, StoreError> {
    on_tx!(tx, |c| {
        let done = sqlx::query(
            "update alert_delivery set attempts = 0, next_at = $2, dead_at = null \
             where alert_id = $1 and dead_at is not null",
        )
        .bind(alert_id)
        .bind(now)
        .execute(&mut *c)
        .await?;
        Ok(done.rows_affected() > 0)
    })
}
