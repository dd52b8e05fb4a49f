//! Break-glass grants: a security officer's window of access to one
//! citizen's data without their consent, with the sealed justification.

use super::{Db, StoreError, Tx};

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct BreakGlassRow {
    pub grant_id: String,
    pub officer_id: String,
    pub citizen_id: String,
    /// Sealed under the citizen's data key.
    pub justification: Vec<u8>,
    pub justification_chars: i64,
    pub opened_at: i64,
    pub expires_at: i64,
    pub reviewed_at: Option<i64>,
    pub reviewed_by: Option<String>,
    /// `accepted` or `escalated`
    pub review: Option<String>,
}

const COLUMNS: &str = "grant_id, officer_id, citizen_id, justification, justification_chars, opened_at, \
     expires_at, reviewed_at, reviewed_by, review";

pub async fn insert(tx: &mut Tx<'_>, row: &BreakGlassRow) -> Result<(), StoreError> {
    on_tx!(tx, |conn| {
        sqlx::query(
            "insert into break_glass (grant_id, officer_id, citizen_id, justification, justification_chars, \
             opened_at, expires_at) values ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&row.grant_id)
        .bind(&row.officer_id)
        .bind(&row.citizen_id)
        .bind(&row.justification)
        .bind(row.justification_chars)
        .bind(row.opened_at)
        .bind(row.expires_at)
        .execute(conn)
        .await
        .map_err(StoreError::from_write)?;
        Ok(())
    })
}

pub async fn get(db: &Db, grant_id: &str) -> Result<Option<BreakGlassRow>, StoreError> {
    on_db!(db, |pool| {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "select {COLUMNS} from break_glass where grant_id = $1"
        )))
        .bind(grant_id)
        .fetch_optional(pool)
        .await?)
    })
}

/// Grants not yet reviewed, oldest first (the review queue).
pub async fn unreviewed(db: &Db, limit: i64) -> Result<Vec<BreakGlassRow>, StoreError> {
    on_db!(db, |pool| {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "select {COLUMNS} from break_glass where reviewed_at is null order by opened_at, grant_id limit $1"
        )))
        .bind(limit)
        .fetch_all(pool)
        .await?)
    })
}

/// Records the review of a grant not reviewed yet; false if it already was
/// (or does not exist).
pub async fn review(
    tx: &mut Tx<'_>,
    grant_id: &str,
    reviewer_id: &str,
    review: &str,
    note: Option<&[u8]>,
    now: i64,
) -> Result<bool, StoreError> {
    on_tx!(tx, |conn| {
        let done = sqlx::query(
            "update break_glass set reviewed_at = $3, reviewed_by = $2, review = $4, review_note = $5 \
             where grant_id = $1 and reviewed_at is null",
        )
        .bind(grant_id)
        .bind(reviewer_id)
        .bind(now)
        .bind(review)
        .bind(note)
        .execute(conn)
        .await
        .map_err(StoreError::from_write)?;
        Ok(done.rows_affected() == 1)
    })
}
