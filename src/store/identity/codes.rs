//! One-time codes: recovery codes, enrolment codes, and counter recoveries.

use super::{CounterRecoveryRow, EnrolmentCodeRow};
use crate::store::{Db, StoreError, Tx};

/// The columns of an [`EnrolmentCodeRow`].
const CODE: &str = "code_hash, account_id, purpose, issued_by, revoke_old, nik_index, created_at, expires_at, used_at";
/// The columns of a [`CounterRecoveryRow`].
const COUNTER_RECOVERY: &str = "code_hash, account_id, officer_id, officer_unit, issued_at, completed_at, reviewed_at";

/// Replaces an account's recovery codes with these hashes.
pub async fn replace_recovery_codes(
    tx: &mut Tx<'_>,
    account_id: &str,
    hashes: &[Vec<u8>],
    now: i64,
) -> Result<(), StoreError> {
    on_tx!(tx, |conn| {
        sqlx::query("delete from recovery_code where account_id = $1")
            .bind(account_id)
            .execute(&mut *conn)
            .await?;
        for hash in hashes {
            sqlx::query("insert into recovery_code (account_id, code_hash, created_at) values ($1, $2, $3)")
                .bind(account_id)
                .bind(hash)
                .bind(now)
                .execute(&mut *conn)
                .await?;
        }
        Ok(())
    })
}

/// Marks a recovery code used; false if it does not exist or was used.
pub async fn use_recovery_code(tx: &mut Tx<'_>, account_id: &str, hash: &[u8], now: i64) -> Result<bool, StoreError> {
    on_tx!(tx, |conn| {
        let done = sqlx::query(
            "update recovery_code set used_at = $3 where account_id = $1 and code_hash = $2 and used_at is null",
        )
        .bind(account_id)
        .bind(hash)
        .bind(now)
        .execute(conn)
        .await?;
        Ok(done.rows_affected() == 1)
    })
}

pub async fn unused_recovery_codes_tx(tx: &mut Tx<'_>, account_id: &str) -> Result<i64, StoreError> {
    on_tx!(tx, |exec| {
        let (n,): (i64,) =
            sqlx::query_as("select count(*) from recovery_code where account_id = $1 and used_at is null")
                .bind(account_id)
                .fetch_one(exec)
                .await?;
        Ok(n)
    })
}

pub async fn unused_recovery_codes(db: &Db, account_id: &str) -> Result<i64, StoreError> {
    on_db!(db, |exec| {
        let (n,): (i64,) =
            sqlx::query_as("select count(*) from recovery_code where account_id = $1 and used_at is null")
                .bind(account_id)
                .fetch_one(exec)
                .await?;
        Ok(n)
    })
}

pub async fn insert_enrolment_code(tx: &mut Tx<'_>, row: &EnrolmentCodeRow) -> Result<(), StoreError> {
    let r = row;
    on_tx!(tx, |conn| {
        sqlx::query(
            "insert into enrolment_code (code_hash, account_id, purpose, issued_by, revoke_old, nik_index, created_at, \
             expires_at, used_at) values ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(&r.code_hash)
        .bind(&r.account_id)
        .bind(&r.purpose)
        .bind(&r.issued_by)
        .bind(r.revoke_old)
        .bind(&r.nik_index)
        .bind(r.created_at)
        .bind(r.expires_at)
        .bind(r.used_at)
        .execute(conn)
        .await?;
        Ok(())
    })
}

/// Marks an unexpired, unused code used and returns it (single use).
pub async fn claim_enrolment_code(
    tx: &mut Tx<'_>,
    hash: &[u8],
    now: i64,
) -> Result<Option<EnrolmentCodeRow>, StoreError> {
    on_tx!(tx, |conn| {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "update enrolment_code set used_at = $2 where code_hash = $1 and used_at is null and expires_at >= $2 \
             returning {CODE}"
        )))
        .bind(hash)
        .bind(now)
        .fetch_optional(conn)
        .await?)
    })
}

/// An unused, unexpired code (not spent: see [`claim_enrolment_code`]).
pub async fn enrolment_code_live(
    tx: &mut Tx<'_>,
    hash: &[u8],
    now: i64,
) -> Result<Option<EnrolmentCodeRow>, StoreError> {
    on_tx!(tx, |conn| {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "select {CODE} from enrolment_code where code_hash = $1 and used_at is null and expires_at >= $2"
        )))
        .bind(hash)
        .bind(now)
        .fetch_optional(conn)
        .await?)
    })
}

/// Whether this recovery code exists and is unused (not spent).
pub async fn recovery_code_unused(tx: &mut Tx<'_>, account_id: &str, hash: &[u8]) -> Result<bool, StoreError> {
    on_tx!(tx, |conn| {
        let (n,): (i64,) = sqlx::query_as(
            "select count(*) from recovery_code where account_id = $1 and code_hash = $2 and used_at is null",
        )
        .bind(account_id)
        .bind(hash)
        .fetch_one(conn)
        .await?;
        Ok(n == 1)
    })
}

/// Ends every live enrolment or recovery code of an account (a newer code
/// replaces them; a used one ends its siblings).
pub async fn void_enrolment_codes(tx: &mut Tx<'_>, account_id: &str, now: i64) -> Result<u64, StoreError> {
    on_tx!(tx, |conn| {
        let done = sqlx::query(
            "update enrolment_code set used_at = $2 where account_id = $1 and used_at is null and purpose <> 'verify'",
        )
        .bind(account_id)
        .bind(now)
        .execute(conn)
        .await?;
        Ok(done.rows_affected())
    })
}

/// The newest unused counter code waiting to give an account this NIK index.
pub async fn live_code_for_nik_index(
    tx: &mut Tx<'_>,
    index: &[u8],
    now: i64,
) -> Result<Option<EnrolmentCodeRow>, StoreError> {
    on_tx!(tx, |conn| {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "select {CODE} from enrolment_code where nik_index = $1 and used_at is null and expires_at >= $2 \
             order by created_at desc limit 1"
        )))
        .bind(index)
        .bind(now)
        .fetch_optional(conn)
        .await?)
    })
}

/// Ends the live counter codes waiting to give an account this NIK index.
pub async fn void_codes_for_nik_index(tx: &mut Tx<'_>, index: &[u8], now: i64) -> Result<u64, StoreError> {
    on_tx!(tx, |conn| {
        let done = sqlx::query("update enrolment_code set used_at = $2 where nik_index = $1 and used_at is null")
            .bind(index)
            .bind(now)
            .execute(conn)
            .await?;
        Ok(done.rows_affected())
    })
}

/// Re-points the NIK index carried by an account's codes (index-key rotation).
pub async fn set_code_nik_indexes(tx: &mut Tx<'_>, account_id: &str, index: &[u8]) -> Result<u64, StoreError> {
    on_tx!(tx, |conn| {
        let done =
            sqlx::query("update enrolment_code set nik_index = $2 where account_id = $1 and nik_index is not null")
                .bind(account_id)
                .bind(index)
                .execute(conn)
                .await?;
        Ok(done.rows_affected())
    })
}

pub async fn insert_counter_recovery(tx: &mut Tx<'_>, row: &CounterRecoveryRow) -> Result<(), StoreError> {
    let r = row;
    on_tx!(tx, |conn| {
        sqlx::query(
            "insert into counter_recovery (code_hash, account_id, officer_id, officer_unit, issued_at, completed_at) \
             values ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&r.code_hash)
        .bind(&r.account_id)
        .bind(&r.officer_id)
        .bind(&r.officer_unit)
        .bind(r.issued_at)
        .bind(r.completed_at)
        .execute(conn)
        .await?;
        Ok(())
    })
}

/// Marks the counter recovery of this code done; false if there was none.
pub async fn complete_counter_recovery(tx: &mut Tx<'_>, code_hash: &[u8], now: i64) -> Result<bool, StoreError> {
    on_tx!(tx, |conn| {
        let done =
            sqlx::query("update counter_recovery set completed_at = $2 where code_hash = $1 and completed_at is null")
                .bind(code_hash)
                .bind(now)
                .execute(conn)
                .await?;
        Ok(done.rows_affected() == 1)
    })
}

/// The account's latest completed counter recovery, if any.
pub async fn last_counter_recovery(db: &Db, account_id: &str) -> Result<Option<CounterRecoveryRow>, StoreError> {
    on_db!(db, |exec| {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "select {COUNTER_RECOVERY} from counter_recovery where account_id = $1 and completed_at is not null \
             order by completed_at desc limit 1"
        )))
        .bind(account_id)
        .fetch_optional(exec)
        .await?)
    })
}

/// Counter recoveries no security officer has reviewed yet, oldest first.
pub async fn unreviewed_counter_recoveries(db: &Db, limit: i64) -> Result<Vec<CounterRecoveryRow>, StoreError> {
    on_db!(db, |exec| {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "select {COUNTER_RECOVERY} from counter_recovery where reviewed_at is null order by issued_at limit $1"
        )))
        .bind(limit)
        .fetch_all(exec)
        .await?)
    })
}
