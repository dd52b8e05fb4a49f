//! Incidents and the citizens each one affects.

use super::{Db, StoreError, Tx};

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct IncidentRow {
    pub incident_id: String,
    pub title: String,
    pub window_from_us: i64,
    pub window_to_us: i64,
    pub officers: String,
    pub modules: String,
    pub opened_by: String,
    pub discovered_at: i64,
    pub authority_notified_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AffectedRow {
    pub incident_id: String,
    pub citizen: String,
    pub categories: String,
    pub accesses: i32,
    pub notified_at: Option<i64>,
}

/// One access to a citizen's data by an actor in a window.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AccessRow {
    pub target_id: String,
    pub target_fields: String,
}

const INCIDENT: &str = "select incident_id, title, window_from_us, window_to_us, officers, modules, opened_by, \
     discovered_at, authority_notified_at from incident";

/// Successful actions of `actor_kind`/`actor_id` on citizens in `[from_us, to_us)`.
pub async fn accesses(
    db: &Db,
    actor_kind: &str,
    actor_id: &str,
    from_us: i64,
    to_us: i64,
) -> Result<Vec<AccessRow>, StoreError> {
    let sql = "select target_id, target_fields from audit_event where actor_kind = $1 and actor_id = $2 \
               and time_us >= $3 and time_us < $4 and target_kind = 'citizen' and target_id is not null \
               and outcome = 'success'";
    on_db!(db, |pool| Ok(sqlx::query_as(sql)
        .bind(actor_kind)
        .bind(actor_id)
        .bind(from_us)
        .bind(to_us)
        .fetch_all(pool)
        .await?))
}

pub async fn insert(tx: &mut Tx<'_>, row: &IncidentRow, affected: &[AffectedRow]) -> Result<(), StoreError> {
    on_tx!(tx, |c| {
        sqlx::query(
            "insert into incident (incident_id, title, window_from_us, window_to_us, officers, modules, opened_by, \
             discovered_at, authority_notified_at) values ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(&row.incident_id)
        .bind(&row.title)
        .bind(row.window_from_us)
        .bind(row.window_to_us)
        .bind(&row.officers)
        .bind(&row.modules)
        .bind(&row.opened_by)
        .bind(row.discovered_at)
        .bind(row.authority_notified_at)
        .execute(&mut *c)
        .await?;
    });
    for a in affected {
        on_tx!(tx, |c| {
            sqlx::query(
                "insert into incident_citizen (incident_id, citizen, categories, accesses, notified_at) \
                 values ($1, $2, $3, $4, $5)",
            )
            .bind(&a.incident_id)
            .bind(&a.citizen)
            .bind(&a.categories)
            .bind(a.accesses)
            .bind(a.notified_at)
            .execute(&mut *c)
            .await?;
        });
    }
    Ok(())
}

/// Newest first.
pub async fn list(db: &Db) -> Result<Vec<IncidentRow>, StoreError> {
    let sql = sqlx::AssertSqlSafe(format!("{INCIDENT} order by discovered_at desc, incident_id"));
    on_db!(db, |pool| Ok(sqlx::query_as(sql).fetch_all(pool).await?))
}

pub async fn get(db: &Db, id: &str) -> Result<Option<IncidentRow>, StoreError> {
    let sql = sqlx::AssertSqlSafe(format!("{INCIDENT} where incident_id = $1"));
    on_db!(db, |pool| Ok(sqlx::query_as(sql).bind(id).fetch_optional(pool).await?))
}

pub async fn affected(db: &Db, id: &str) -> Result<Vec<AffectedRow>, StoreError> {
    let sql = "select incident_id, citizen, categories, accesses, notified_at from incident_citizen \
               where incident_id = $1 order by citizen";
    on_db!(db, |pool| Ok(sqlx::query_as(sql).bind(id).fetch_all(pool).await?))
}

/// Records the notice to each citizen given (not yet notified); returns
/// how many were recorded.
pub async fn citizens_notified(tx: &mut Tx<'_>, id: &str, citizens: &[String], at: i64) -> Result<u64, StoreError> {
    let mut done = 0;
    for c in citizens {
        done += on_tx!(tx, |conn| {
            sqlx::query(
                "update incident_citizen set notified_at = $3 \
                 where incident_id = $1 and citizen = $2 and notified_at is null",
            )
            .bind(id)
            .bind(c)
            .bind(at)
            .execute(&mut *conn)
            .await?
            .rows_affected()
        });
    }
    Ok(done)
}

pub async fn authority_notified(tx: &mut Tx<'_>, id: &str, at: i64) -> Result<bool, StoreError> {
    on_tx!(tx, |c| {
        Ok(sqlx::query(
            "update incident set authority_notified_at = $2 where incident_id = $1 and authority_notified_at is null",
        )
        .bind(id)
        .bind(at)
        .execute(&mut *c)
        .await?
        .rows_affected()
            > 0)
    })
}
