//! One-time codes SQL for PostgreSQL: recovery codes and enrolment codes.

use sqlx::PgConnection as Connection;

use crate::store::StoreError;
use crate::store::identity::{CounterRecoveryRow, EnrolmentCodeRow};

pub async fn replace_recovery_codes(
    conn: &mut Connection,
    account_id: &str,
    hashes: &[Vec<u8>],
    now: i64,
) -> Result<(), StoreError> {
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
}

pub async fn use_recovery_code(
    conn: &mut Connection,
    account_id: &str,
    hash: &[u8],
    now: i64,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "update recovery_code set used_at = $3 where account_id = $1 and code_hash = $2 and used_at is null",
    )
    .bind(account_id)
    .bind(hash)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn unused_recovery_codes<'e, E>(exec: E, account_id: &str) -> Result<i64, StoreError>
where
    E: sqlx::PgExecutor<'e>,
{
    let (n,): (i64,) = sqlx::query_as("select count(*) from recovery_code where account_id = $1 and used_at is null")
        .bind(account_id)
        .fetch_one(exec)
        .await?;
    Ok(n)
}

pub async fn insert_enrolment_code(conn: &mut Connection, r: &EnrolmentCodeRow) -> Result<(), StoreError> {
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
}

pub async fn claim_enrolment_code(
    conn: &mut Connection,
    hash: &[u8],
    now: i64,
) -> Result<Option<EnrolmentCodeRow>, StoreError> {
    Ok(sqlx::query_as(
        "update enrolment_code set used_at = $2 where code_hash = $1 and used_at is null and expires_at >= $2 \
         returning code_hash, account_id, purpose, issued_by, revoke_old, nik_index, created_at, expires_at, used_at",
    )
    .bind(hash)
    .bind(now)
    .fetch_optional(conn)
    .await?)
}

pub async fn enrolment_code_live(
    conn: &mut Connection,
    hash: &[u8],
    now: i64,
) -> Result<Option<EnrolmentCodeRow>, StoreError> {
    Ok(sqlx::query_as(
        "select code_hash, account_id, purpose, issued_by, revoke_old, nik_index, created_at, expires_at, used_at \
         from enrolment_code where code_hash = $1 and used_at is null and expires_at >= $2",
    )
    .bind(hash)
    .bind(now)
    .fetch_optional(conn)
    .await?)
}

pub async fn recovery_code_unused(conn: &mut Connection, account_id: &str, hash: &[u8]) -> Result<bool, StoreError> {
    let (n,): (i64,) = sqlx::query_as(
        "select count(*) from recovery_code where account_id = $1 and code_hash = $2 and used_at is null",
    )
    .bind(account_id)
    .bind(hash)
    .fetch_one(conn)
    .await?;
    Ok(n == 1)
}

pub async fn void_enrolment_codes(conn: &mut Connection, account_id: &str, now: i64) -> Result<u64, StoreError> {
    let done = sqlx::query(
        "update enrolment_code set used_at = $2 where account_id = $1 and used_at is null and purpose <> 'verify'",
    )
    .bind(account_id)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}

pub async fn void_codes_for_nik_index(conn: &mut Connection, index: &[u8], now: i64) -> Result<u64, StoreError> {
    let done = sqlx::query("update enrolment_code set used_at = $2 where nik_index = $1 and used_at is null")
        .bind(index)
        .bind(now)
        .execute(conn)
        .await?;
    Ok(done.rows_affected())
}

pub async fn live_code_for_nik_index(
    conn: &mut Connection,
    index: &[u8],
    now: i64,
) -> Result<Option<EnrolmentCodeRow>, StoreError> {
    Ok(sqlx::query_as(
        "select code_hash, account_id, purpose, issued_by, revoke_old, nik_index, created_at, expires_at, used_at \
         from enrolment_code where nik_index = $1 and used_at is null and expires_at >= $2 \
         order by created_at desc limit 1",
    )
    .bind(index)
    .bind(now)
    .fetch_optional(conn)
    .await?)
}

pub async fn set_code_nik_indexes(conn: &mut Connection, account_id: &str, index: &[u8]) -> Result<u64, StoreError> {
    let done = sqlx::query("update enrolment_code set nik_index = $2 where account_id = $1 and nik_index is not null")
        .bind(account_id)
        .bind(index)
        .execute(conn)
        .await?;
    Ok(done.rows_affected())
}

pub async fn insert_counter_recovery(conn: &mut Connection, r: &CounterRecoveryRow) -> Result<(), StoreError> {
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
}

pub async fn complete_counter_recovery(conn: &mut Connection, code_hash: &[u8], now: i64) -> Result<bool, StoreError> {
    let done =
        sqlx::query("update counter_recovery set completed_at = $2 where code_hash = $1 and completed_at is null")
            .bind(code_hash)
            .bind(now)
            .execute(conn)
            .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn last_counter_recovery<'e, E>(exec: E, account_id: &str) -> Result<Option<CounterRecoveryRow>, StoreError>
where
    E: sqlx::PgExecutor<'e>,
{
    Ok(sqlx::query_as(
        "select code_hash, account_id, officer_id, officer_unit, issued_at, completed_at, reviewed_at \
         from counter_recovery where account_id = $1 and completed_at is not null \
         order by completed_at desc limit 1",
    )
    .bind(account_id)
    .fetch_optional(exec)
    .await?)
}

pub async fn unreviewed_counter_recoveries<'e, E>(exec: E, limit: i64) -> Result<Vec<CounterRecoveryRow>, StoreError>
where
    E: sqlx::PgExecutor<'e>,
{
    Ok(sqlx::query_as(
        "select code_hash, account_id, officer_id, officer_unit, issued_at, completed_at, reviewed_at \
         from counter_recovery where reviewed_at is null order by issued_at limit $1",
    )
    .bind(limit)
    .fetch_all(exec)
    .await?)
}
