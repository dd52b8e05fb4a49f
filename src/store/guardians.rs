//! Guardians of children (UU PDP Art. 25), linked at the counter.

use super::{Db, StoreError, Tx};

/// Links (or links again) `guardian_id` to `child_id`.
pub async fn link(
    tx: &mut Tx<'_>,
    child_id: &str,
    guardian_id: &str,
    officer_id: &str,
    now: i64,
) -> Result<(), StoreError> {
    on_tx!(tx, |conn| {
        sqlx::query(
            "insert into guardian_link (child_id, guardian_id, linked_by, linked_at) values ($1, $2, $3, $4) \
             on conflict (child_id, guardian_id) do update \
             set linked_by = excluded.linked_by, linked_at = excluded.linked_at, ended_at = null",
        )
        .bind(child_id)
        .bind(guardian_id)
        .bind(officer_id)
        .bind(now)
        .execute(conn)
        .await
        .map_err(StoreError::from_write)?;
        Ok(())
    })
}

/// Whether `guardian_id` holds a link to `child_id` that has not ended.
pub async fn is_guardian(db: &Db, guardian_id: &str, child_id: &str) -> Result<bool, StoreError> {
    on_db!(db, |pool| {
        let n: i64 = sqlx::query_scalar(
            "select count(*) from guardian_link where guardian_id = $1 and child_id = $2 and ended_at is null",
        )
        .bind(guardian_id)
        .bind(child_id)
        .fetch_one(pool)
        .await?;
        Ok(n > 0)
    })
}

/// The children `guardian_id` is linked to (links not ended).
pub async fn wards(db: &Db, guardian_id: &str) -> Result<Vec<String>, StoreError> {
    on_db!(db, |pool| {
        Ok(sqlx::query_scalar(
            "select child_id from guardian_link where guardian_id = $1 and ended_at is null order by linked_at, child_id",
        )
        .bind(guardian_id)
        .fetch_all(pool)
        .await?)
    })
}
