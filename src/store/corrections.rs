//! Correction requests (UU PDP Art. 6, 30): the proposed value and the
//! officer's reason are sealed under the citizen's data key.

use super::{Db, StoreError, Tx};

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct CorrectionRow {
    pub request_id: String,
    pub account_id: String,
    /// A profile field name (`profile.full_name`).
    pub field: String,
    pub proposed: Vec<u8>,
    pub requested_at: i64,
    pub due_at: i64,
    /// `open`, `approved` or `refused`
    pub state: String,
    pub decided_at: Option<i64>,
    pub decided_by: Option<String>,
    pub reason: Option<Vec<u8>>,
}

/// An open request in the counter's queue: no values, the citizen by pseudonym.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct QueuedRow {
    pub request_id: String,
    pub pseudonym: String,
    pub field: String,
    pub requested_at: i64,
    pub due_at: i64,
}

const COLUMNS: &str =
    "request_id, account_id, field, proposed, requested_at, due_at, state, decided_at, decided_by, reason";

/// Stores a new open request; [`StoreError::Conflict`] if the citizen
/// already has one open for the field.
pub async fn insert(tx: &mut Tx<'_>, row: &CorrectionRow) -> Result<(), StoreError> {
    on_tx!(tx, |conn| {
        sqlx::query(
            "insert into correction_request (request_id, account_id, field, proposed, requested_at, due_at, state) \
             values ($1, $2, $3, $4, $5, $6, 'open')",
        )
        .bind(&row.request_id)
        .bind(&row.account_id)
        .bind(&row.field)
        .bind(&row.proposed)
        .bind(row.requested_at)
        .bind(row.due_at)
        .execute(conn)
        .await
        .map_err(StoreError::from_write)?;
        Ok(())
    })
}

/// A citizen's requests, newest first.
pub async fn of_account(db: &Db, account_id: &str, limit: i64) -> Result<Vec<CorrectionRow>, StoreError> {
    on_db!(db, |pool| {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "select {COLUMNS} from correction_request where account_id = $1 \
             order by requested_at desc, request_id desc limit $2"
        )))
        .bind(account_id)
        .bind(limit)
        .fetch_all(pool)
        .await?)
    })
}

/// Open requests, the nearest deadline first.
pub async fn queue(db: &Db, limit: i64) -> Result<Vec<QueuedRow>, StoreError> {
    on_db!(db, |pool| {
        Ok(sqlx::query_as(
            "select r.request_id, a.pseudonym, r.field, r.requested_at, r.due_at \
             from correction_request r join account a on a.account_id = r.account_id \
             where r.state = 'open' order by r.due_at, r.request_id limit $1",
        )
        .bind(limit)
        .fetch_all(pool)
        .await?)
    })
}

pub async fn get(db: &Db, request_id: &str) -> Result<Option<CorrectionRow>, StoreError> {
    on_db!(db, |pool| {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "select {COLUMNS} from correction_request where request_id = $1"
        )))
        .bind(request_id)
        .fetch_optional(pool)
        .await?)
    })
}

pub async fn get_tx(tx: &mut Tx<'_>, request_id: &str) -> Result<Option<CorrectionRow>, StoreError> {
    on_tx!(tx, |conn| {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "select {COLUMNS} from correction_request where request_id = $1"
        )))
        .bind(request_id)
        .fetch_optional(conn)
        .await?)
    })
}

/// Closes an open request with `state`; false if it was no longer open.
pub async fn decide(
    tx: &mut Tx<'_>,
    request_id: &str,
    state: &str,
    officer_id: &str,
    reason: Option<&[u8]>,
    now: i64,
) -> Result<bool, StoreError> {
    on_tx!(tx, |conn| {
        let done = sqlx::query(
            "update correction_request set state = $2, decided_at = $3, decided_by = $4, reason = $5 \
             where request_id = $1 and state = 'open'",
        )
        .bind(request_id)
        .bind(state)
        .bind(now)
        .bind(officer_id)
        .bind(reason)
        .execute(conn)
        .await
        .map_err(StoreError::from_write)?;
        Ok(done.rows_affected() == 1)
    })
}

/// Deletes a citizen's requests (erasure).
pub async fn delete_of(tx: &mut Tx<'_>, account_id: &str) -> Result<u64, StoreError> {
    on_tx!(tx, |conn| {
        let done = sqlx::query("delete from correction_request where account_id = $1")
            .bind(account_id)
            .execute(conn)
            .await
            .map_err(StoreError::from_write)?;
        Ok(done.rows_affected())
    })
}
