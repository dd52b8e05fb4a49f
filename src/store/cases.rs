//! Open cases a module keeps with citizens.

use super::{Db, StoreError, Tx};

/// Opens (or re-opens) a case; returns whether it was not open before.
pub async fn open(
    tx: &mut Tx<'_>,
    module_id: &str,
    account_id: &str,
    case_id: &str,
    now: i64,
) -> Result<bool, StoreError> {
    on_tx!(tx, |conn| {
        let changed = sqlx::query(
            "insert into module_case (module_id, account_id, case_id, opened_at) values ($1, $2, $3, $4) \
             on conflict (module_id, account_id, case_id) do update \
             set opened_at = excluded.opened_at, closed_at = null, close_event = null \
             where module_case.closed_at is not null",
        )
        .bind(module_id)
        .bind(account_id)
        .bind(case_id)
        .bind(now)
        .execute(conn)
        .await
        .map_err(StoreError::from_write)?
        .rows_affected();
        Ok(changed > 0)
    })
}

/// Closes an open case with the module's event; returns whether it was open.
pub async fn close(
    tx: &mut Tx<'_>,
    module_id: &str,
    account_id: &str,
    case_id: &str,
    event: &str,
    now: i64,
) -> Result<bool, StoreError> {
    on_tx!(tx, |conn| {
        let changed = sqlx::query(
            "update module_case set closed_at = $4, close_event = $5 \
             where module_id = $1 and account_id = $2 and case_id = $3 and closed_at is null",
        )
        .bind(module_id)
        .bind(account_id)
        .bind(case_id)
        .bind(now)
        .bind(event)
        .execute(conn)
        .await
        .map_err(StoreError::from_write)?
        .rows_affected();
        Ok(changed > 0)
    })
}

/// Which of `accounts` have at least one open case with the module.
pub async fn with_open_case(db: &Db, module_id: &str, accounts: &[&str]) -> Result<Vec<String>, StoreError> {
    if accounts.is_empty() {
        return Ok(Vec::new());
    }
    on_db!(db, |pool| {
        let mut q = sqlx::QueryBuilder::new("select distinct account_id from module_case where module_id = ");
        q.push_bind(module_id);
        q.push(" and closed_at is null and account_id in (");
        let mut list = q.separated(", ");
        for a in accounts {
            list.push_bind(*a);
        }
        q.push(")");
        Ok(q.build_query_scalar().fetch_all(pool).await?)
    })
}

/// A case as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct CaseRow {
    pub module_id: String,
    pub account_id: String,
    pub case_id: String,
    pub opened_at: i64,
    pub closed_at: Option<i64>,
    pub close_event: Option<String>,
}

/// Every case (for the retention sweep).
pub async fn all(db: &Db) -> Result<Vec<CaseRow>, StoreError> {
    on_db!(db, |pool| {
        Ok(sqlx::query_as(
            "select module_id, account_id, case_id, opened_at, closed_at, close_event from module_case \
             order by module_id, account_id, case_id",
        )
        .fetch_all(pool)
        .await?)
    })
}

/// Whether the citizen has an open case with the module, in the unit's
/// transaction.
pub async fn has_open_case_tx(tx: &mut Tx<'_>, module_id: &str, account_id: &str) -> Result<bool, StoreError> {
    on_tx!(tx, |conn| {
        let n: i64 = sqlx::query_scalar(
            "select count(*) from module_case where module_id = $1 and account_id = $2 and closed_at is null",
        )
        .bind(module_id)
        .bind(account_id)
        .fetch_one(conn)
        .await?;
        Ok(n > 0)
    })
}
