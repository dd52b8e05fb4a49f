//! Erasures a citizen asked for, and what a legal obligation keeps until when.

use super::{Db, StoreError, Tx};

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ErasureRow {
    pub account_id: String,
    pub erased_at: i64,
    /// JSON list of the fields kept and the purposes that keep them.
    pub kept: String,
    pub kept_until: Option<i64>,
    pub finished_at: Option<i64>,
}

pub async fn insert(tx: &mut Tx<'_>, row: &ErasureRow) -> Result<(), StoreError> {
    on_tx!(tx, |conn| {
        sqlx::query(
            "insert into erasure (account_id, erased_at, kept, kept_until, finished_at) values ($1, $2, $3, $4, $5)",
        )
        .bind(&row.account_id)
        .bind(row.erased_at)
        .bind(&row.kept)
        .bind(row.kept_until)
        .bind(row.finished_at)
        .execute(conn)
        .await
        .map_err(StoreError::from_write)?;
        Ok(())
    })
}

pub async fn get(db: &Db, account_id: &str) -> Result<Option<ErasureRow>, StoreError> {
    on_db!(db, |pool| {
        Ok(sqlx::query_as(
            "select account_id, erased_at, kept, kept_until, finished_at from erasure where account_id = $1",
        )
        .bind(account_id)
        .fetch_optional(pool)
        .await?)
    })
}

/// Erasures that still keep something, after `after` (account id order),
/// up to `limit`: each is checked at every purge (its records may have
/// ended; its fields' dates may have passed).
pub async fn keeping(db: &Db, after: &str, limit: i64) -> Result<Vec<ErasureRow>, StoreError> {
    on_db!(db, |pool| {
        Ok(sqlx::query_as(
            "select account_id, erased_at, kept, kept_until, finished_at from erasure \
             where finished_at is null and account_id > $1 order by account_id limit $2",
        )
        .bind(after)
        .bind(limit)
        .fetch_all(pool)
        .await?)
    })
}

/// Which of `account_ids` are erased but still keep something.
pub async fn keeping_among(db: &Db, account_ids: &[&str]) -> Result<Vec<String>, StoreError> {
    if account_ids.is_empty() {
        return Ok(Vec::new());
    }
    on_db!(db, |pool| {
        let mut q =
            sqlx::QueryBuilder::new("select account_id from erasure where finished_at is null and account_id in (");
        let mut list = q.separated(", ");
        for id in account_ids {
            list.push_bind(*id);
        }
        q.push(")");
        Ok(q.build_query_scalar().fetch_all(pool).await?)
    })
}

/// Marks an erasure finished (nothing kept any more); false if it already was.
pub async fn finish(tx: &mut Tx<'_>, account_id: &str, now: i64) -> Result<bool, StoreError> {
    on_tx!(tx, |conn| {
        let done = sqlx::query("update erasure set finished_at = $2 where account_id = $1 and finished_at is null")
            .bind(account_id)
            .bind(now)
            .execute(conn)
            .await
            .map_err(StoreError::from_write)?;
        Ok(done.rows_affected() == 1)
    })
}

/// A citizen's sealed profile fields, inside the unit of work.
pub async fn fields_of(tx: &mut Tx<'_>, account_id: &str) -> Result<Vec<super::vault::FieldRow>, StoreError> {
    on_tx!(tx, |conn| {
        Ok(sqlx::query_as(
            "select account_id, field, record_version, sealed, updated_at from citizen_field \
             where account_id = $1 order by field",
        )
        .bind(account_id)
        .fetch_all(conn)
        .await?)
    })
}

/// A citizen's module record fields, inside the unit of work.
pub async fn records_of(tx: &mut Tx<'_>, account_id: &str) -> Result<Vec<super::modules::RecordFieldRow>, StoreError> {
    on_tx!(tx, |conn| {
        Ok(sqlx::query_as(
            "select collection, account_id, record_id, field, record_version, sealed, updated_at from record_field \
             where account_id = $1 order by collection, record_id, field",
        )
        .bind(account_id)
        .fetch_all(conn)
        .await?)
    })
}

/// Replaces a citizen's data key (a new key for what is kept; the old one
/// is gone with this update).
pub async fn replace_key(tx: &mut Tx<'_>, row: &super::vault::CitizenKeyRow) -> Result<bool, StoreError> {
    on_tx!(tx, |conn| {
        let done = sqlx::query(
            "update citizen_key set dek_version = $2, kek_version = $3, wrapped = $4, created_at = $5 \
             where account_id = $1",
        )
        .bind(&row.account_id)
        .bind(row.dek_version)
        .bind(row.kek_version)
        .bind(&row.wrapped)
        .bind(row.created_at)
        .execute(conn)
        .await?;
        Ok(done.rows_affected() == 1)
    })
}

/// Stores a record field sealed again under a new key (same version and
/// write time).
pub async fn reseal_record_field(
    tx: &mut Tx<'_>,
    row: &super::modules::RecordFieldRow,
    sealed: &[u8],
) -> Result<(), StoreError> {
    on_tx!(tx, |conn| {
        sqlx::query(
            "update record_field set sealed = $5 \
             where collection = $1 and account_id = $2 and record_id = $3 and field = $4",
        )
        .bind(&row.collection)
        .bind(&row.account_id)
        .bind(&row.record_id)
        .bind(&row.field)
        .bind(sealed)
        .execute(conn)
        .await?;
        Ok(())
    })
}

/// Ends the guardian links of an erased citizen (as child or guardian).
pub async fn end_guardian_links(tx: &mut Tx<'_>, account_id: &str, now: i64) -> Result<u64, StoreError> {
    on_tx!(tx, |conn| {
        let done = sqlx::query(
            "update guardian_link set ended_at = $2 where (child_id = $1 or guardian_id = $1) and ended_at is null",
        )
        .bind(account_id)
        .bind(now)
        .execute(conn)
        .await?;
        Ok(done.rows_affected())
    })
}
