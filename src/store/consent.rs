//! Consent decisions, append-only: the newest decision per citizen and
//! purpose is the state in force.

use super::{Db, StoreError, Tx};

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ConsentRow {
    pub account_id: String,
    pub purpose_id: String,
    /// 1, 2, 3… per citizen and purpose (set by [`insert`]).
    pub seq: i64,
    /// `grant`, `refuse` or `withdraw`
    pub decision: String,
    pub notice_version: String,
    /// `portal`, `counter` or `guardian`
    pub method: String,
    pub recorded_by: String,
    pub decided_at: i64,
}

const COLUMNS: &str = "account_id, purpose_id, seq, decision, notice_version, method, recorded_by, decided_at";

/// Appends a decision after the citizen's newest on that purpose; returns
/// its seq.
pub async fn insert(tx: &mut Tx<'_>, row: &ConsentRow) -> Result<i64, StoreError> {
    on_tx!(tx, |conn| {
        sqlx::query_scalar(
            "insert into consent_event (account_id, purpose_id, seq, decision, notice_version, method, recorded_by, decided_at) \
             select $1, $2, coalesce(max(seq), 0) + 1, $3, $4, $5, $6, $7 from consent_event \
             where account_id = $1 and purpose_id = $2 returning seq",
        )
        .bind(&row.account_id)
        .bind(&row.purpose_id)
        .bind(&row.decision)
        .bind(&row.notice_version)
        .bind(&row.method)
        .bind(&row.recorded_by)
        .bind(row.decided_at)
        .fetch_one(conn)
        .await
        .map_err(StoreError::from_write)
    })
}

/// The decision in force for `purpose` of each of `accounts` that made one.
pub async fn current(db: &Db, purpose: &str, accounts: &[&str]) -> Result<Vec<ConsentRow>, StoreError> {
    if accounts.is_empty() {
        return Ok(Vec::new());
    }
    on_db!(db, |pool| {
        let mut q = sqlx::QueryBuilder::new(format!("select {COLUMNS} from consent_event e where purpose_id = "));
        q.push_bind(purpose);
        q.push(" and account_id in (");
        let mut list = q.separated(", ");
        for a in accounts {
            list.push_bind(*a);
        }
        q.push(
            ") and seq = (select max(seq) from consent_event l \
             where l.account_id = e.account_id and l.purpose_id = e.purpose_id)",
        );
        Ok(q.build_query_as().fetch_all(pool).await?)
    })
}

/// Every decision of one citizen, oldest first.
pub async fn history(db: &Db, account_id: &str) -> Result<Vec<ConsentRow>, StoreError> {
    on_db!(db, |pool| {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "select {COLUMNS} from consent_event where account_id = $1 order by purpose_id, seq"
        )))
        .bind(account_id)
        .fetch_all(pool)
        .await?)
    })
}
