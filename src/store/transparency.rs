//! Counts for the public transparency report: what happened in a period,
//! never who it happened to.

use super::{Db, StoreError};

/// Reads of personal data for one purpose by one kind of actor (and, for
/// modules, which module).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AccessCount {
    pub purpose: String,
    pub actor_kind: String,
    /// The module's name; empty for officers (they are not named).
    pub module: String,
    pub count: i64,
}

/// A successful read of citizen fields for a purpose, by a module or an
/// officer, in `[from_us, to_us)`.
pub async fn accesses(db: &Db, from_us: i64, to_us: i64) -> Result<Vec<AccessCount>, StoreError> {
    let sql = "select purpose, actor_kind, case when actor_kind = 'module' then actor_id else '' end as module, \
               count(*) as count from audit_event \
               where time_us >= $1 and time_us < $2 and purpose is not null and outcome = 'success' \
               and actor_kind in ('module', 'officer') and action like '%.read' and target_fields <> '' \
               group by purpose, actor_kind, case when actor_kind = 'module' then actor_id else '' end \
               order by purpose, actor_kind, module";
    on_db!(db, |pool| Ok(sqlx::query_as(sql)
        .bind(from_us)
        .bind(to_us)
        .fetch_all(pool)
        .await?))
}

/// Consent decisions of one kind for one purpose.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ConsentCount {
    pub purpose_id: String,
    pub decision: String,
    pub count: i64,
}

/// Consent decisions taken in `[from_s, to_s)` (Unix seconds).
pub async fn consents(db: &Db, from_s: i64, to_s: i64) -> Result<Vec<ConsentCount>, StoreError> {
    let sql = "select purpose_id, decision, count(*) as count from consent_event \
               where decided_at >= $1 and decided_at < $2 group by purpose_id, decision \
               order by purpose_id, decision";
    on_db!(db, |pool| Ok(sqlx::query_as(sql)
        .bind(from_s)
        .bind(to_s)
        .fetch_all(pool)
        .await?))
}

/// Break-glass grants opened in the period, by their review so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct BreakGlassCount {
    pub opened: i64,
    pub accepted: i64,
    pub escalated: i64,
}

pub async fn break_glass(db: &Db, from_s: i64, to_s: i64) -> Result<BreakGlassCount, StoreError> {
    let sql = "select count(*) as opened, \
               coalesce(sum(case when review = 'accepted' then 1 else 0 end), 0) as accepted, \
               coalesce(sum(case when review = 'escalated' then 1 else 0 end), 0) as escalated \
               from break_glass where opened_at >= $1 and opened_at < $2";
    on_db!(db, |pool| Ok(sqlx::query_as(sql)
        .bind(from_s)
        .bind(to_s)
        .fetch_one(pool)
        .await?))
}

/// Correction requests received in the period: for each, how many seconds
/// it took to decide (`None` while it is open).
pub async fn correction_times(db: &Db, from_s: i64, to_s: i64) -> Result<Vec<Option<i64>>, StoreError> {
    let sql = "select decided_at - requested_at from correction_request \
               where requested_at >= $1 and requested_at < $2 order by requested_at";
    on_db!(db, |pool| Ok(sqlx::query_scalar(sql)
        .bind(from_s)
        .bind(to_s)
        .fetch_all(pool)
        .await?))
}

/// Erasures carried out in the period (they take effect at once).
pub async fn erasures(db: &Db, from_s: i64, to_s: i64) -> Result<i64, StoreError> {
    let sql = "select count(*) from erasure where erased_at >= $1 and erased_at < $2";
    on_db!(db, |pool| Ok(sqlx::query_scalar(sql)
        .bind(from_s)
        .bind(to_s)
        .fetch_one(pool)
        .await?))
}
