//! Identity SQL for PostgreSQL.

use sqlx::{PgConnection as Connection, PgPool as Pool};

use crate::store::StoreError;
use crate::store::identity::{AccountRow, CeremonyRow, PasskeyRow, SessionRow};

// One-time codes live in their own file; the identity area reaches them here.
pub use super::codes::*;

const ACCOUNT: &str = "select account_id, kind, user_handle, pseudonym, status, verified, flag, display_name, nik, \
     nik_index, unit, created_at, updated_at from account";

pub async fn insert_account(conn: &mut Connection, r: &AccountRow) -> Result<(), StoreError> {
    sqlx::query(
        "insert into account (account_id, kind, user_handle, pseudonym, status, verified, flag, display_name, nik, \
         nik_index, unit, created_at, updated_at) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
    )
    .bind(&r.account_id)
    .bind(&r.kind)
    .bind(&r.user_handle)
    .bind(&r.pseudonym)
    .bind(&r.status)
    .bind(r.verified)
    .bind(&r.flag)
    .bind(&r.display_name)
    .bind(&r.nik)
    .bind(&r.nik_index)
    .bind(&r.unit)
    .bind(r.created_at)
    .bind(r.updated_at)
    .execute(conn)
    .await
    .map_err(StoreError::from_write)?;
    Ok(())
}

pub async fn account_by_nik_index<'e, E>(conn: E, index: &[u8]) -> Result<Option<AccountRow>, StoreError>
where
    E: sqlx::PgExecutor<'e>,
{
    let sql = sqlx::AssertSqlSafe(format!(
        "{ACCOUNT} where nik_index = $1 and status not in ('suspended', 'erased')"
    ));
    Ok(sqlx::query_as(sql).bind(index).fetch_optional(conn).await?)
}

pub async fn account_by_id<'e, E>(exec: E, id: &str) -> Result<Option<AccountRow>, StoreError>
where
    E: sqlx::PgExecutor<'e>,
{
    let sql = sqlx::AssertSqlSafe(format!("{ACCOUNT} where account_id = $1"));
    Ok(sqlx::query_as(sql).bind(id).fetch_optional(exec).await?)
}

pub async fn set_status(
    conn: &mut Connection,
    id: &str,
    status: &str,
    flag: Option<&str>,
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query("update account set status = $2, flag = coalesce($3, flag), updated_at = $4 where account_id = $1")
        .bind(id)
        .bind(status)
        .bind(flag)
        .bind(now)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn officers(pool: &Pool) -> Result<Vec<AccountRow>, StoreError> {
    let sql = sqlx::AssertSqlSafe(format!("{ACCOUNT} where kind = 'officer' order by created_at"));
    Ok(sqlx::query_as(sql).fetch_all(pool).await?)
}

pub async fn set_unit(conn: &mut Connection, id: &str, unit: &str, now: i64) -> Result<(), StoreError> {
    sqlx::query("update account set unit = $2, updated_at = $3 where account_id = $1 and kind = 'officer'")
        .bind(id)
        .bind(unit)
        .bind(now)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn insert_role(conn: &mut Connection, id: &str, role: &str) -> Result<(), StoreError> {
    sqlx::query("insert into officer_role (account_id, role) values ($1, $2) on conflict do nothing")
        .bind(id)
        .bind(role)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn roles(pool: &Pool, id: &str) -> Result<Vec<String>, StoreError> {
    let rows: Vec<(String,)> = sqlx::query_as("select role from officer_role where account_id = $1 order by role")
        .bind(id)
        .fetch_all(pool)
        .await?;
    Ok(rows.into_iter().map(|(r,)| r).collect())
}

pub async fn insert_passkey(conn: &mut Connection, r: &PasskeyRow) -> Result<(), StoreError> {
    sqlx::query(
        "insert into passkey (credential_id, account_id, name, static_state, dynamic_state, transports, \
         backup_eligible, backed_up, created_at, last_used_at) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(&r.credential_id)
    .bind(&r.account_id)
    .bind(&r.name)
    .bind(&r.static_state)
    .bind(&r.dynamic_state)
    .bind(r.transports)
    .bind(r.backup_eligible)
    .bind(r.backed_up)
    .bind(r.created_at)
    .bind(r.last_used_at)
    .execute(conn)
    .await
    .map_err(StoreError::from_write)?;
    Ok(())
}

const PASSKEY: &str = "select credential_id, account_id, name, static_state, dynamic_state, transports, \
     backup_eligible, backed_up, created_at, last_used_at from passkey";

pub async fn passkey(conn: &mut Connection, credential_id: &[u8]) -> Result<Option<PasskeyRow>, StoreError> {
    let sql = sqlx::AssertSqlSafe(format!("{PASSKEY} where credential_id = $1"));
    Ok(sqlx::query_as(sql).bind(credential_id).fetch_optional(conn).await?)
}

pub async fn passkeys_of(pool: &Pool, account_id: &str) -> Result<Vec<PasskeyRow>, StoreError> {
    let sql = sqlx::AssertSqlSafe(format!("{PASSKEY} where account_id = $1 order by created_at"));
    Ok(sqlx::query_as(sql).bind(account_id).fetch_all(pool).await?)
}

pub async fn update_passkey_use(
    conn: &mut Connection,
    credential_id: &[u8],
    expected: &[u8],
    dynamic_state: &[u8],
    backed_up: bool,
    now: i64,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "update passkey set dynamic_state = $3, backed_up = $4, last_used_at = $5 \
         where credential_id = $1 and dynamic_state = $2",
    )
    .bind(credential_id)
    .bind(expected)
    .bind(dynamic_state)
    .bind(backed_up)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn insert_ceremony(conn: &mut Connection, r: &CeremonyRow) -> Result<(), StoreError> {
    sqlx::query(
        "insert into ceremony (challenge, kind, account_id, state, payload, expires_at) \
         values ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&r.challenge)
    .bind(&r.kind)
    .bind(&r.account_id)
    .bind(&r.state)
    .bind(&r.payload)
    .bind(r.expires_at)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn take_ceremony(conn: &mut Connection, challenge: &[u8]) -> Result<Option<CeremonyRow>, StoreError> {
    Ok(sqlx::query_as(
        "delete from ceremony where challenge = $1 returning challenge, kind, account_id, state, payload, expires_at",
    )
    .bind(challenge)
    .fetch_optional(conn)
    .await?)
}

pub async fn delete_expired_ceremonies(conn: &mut Connection, now: i64) -> Result<u64, StoreError> {
    let done = sqlx::query("delete from ceremony where expires_at < $1")
        .bind(now)
        .execute(conn)
        .await?;
    Ok(done.rows_affected())
}

/// Deletes what has outlived its use: sessions past their absolute expiry or
/// idle longer than `idle_secs` (with their IP address and user agent),
/// enrolment and verification codes used or expired, used recovery codes,
/// and expired ceremonies. Returns the counts in that order.
pub async fn purge_expired(conn: &mut Connection, now: i64, idle_secs: i64) -> Result<[u64; 4], StoreError> {
    let sessions = sqlx::query("delete from session where expires_at <= $1 or last_seen_at <= $2")
        .bind(now)
        .bind(now.saturating_sub(idle_secs))
        .execute(&mut *conn)
        .await?
        .rows_affected();
    let codes = sqlx::query(
        "delete from enrolment_code where (used_at is not null or expires_at <= $1) \
         and code_hash not in (select code_hash from counter_recovery where reviewed_at is null)",
    )
    .bind(now)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    let recovery = sqlx::query("delete from recovery_code where used_at is not null")
        .execute(&mut *conn)
        .await?
        .rows_affected();
    let ceremonies = sqlx::query("delete from ceremony where expires_at <= $1")
        .bind(now)
        .execute(&mut *conn)
        .await?
        .rows_affected();
    Ok([sessions, codes, recovery, ceremonies])
}

pub async fn insert_session(conn: &mut Connection, r: &SessionRow) -> Result<(), StoreError> {
    sqlx::query(
        "insert into session (token_hash, session_id, account_id, credential_id, csrf_token, user_agent, ip, \
         created_at, last_seen_at, expires_at) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(&r.token_hash)
    .bind(&r.session_id)
    .bind(&r.account_id)
    .bind(&r.credential_id)
    .bind(&r.csrf_token)
    .bind(&r.user_agent)
    .bind(&r.ip)
    .bind(r.created_at)
    .bind(r.last_seen_at)
    .bind(r.expires_at)
    .execute(conn)
    .await?;
    Ok(())
}

const SESSION: &str = "select token_hash, session_id, account_id, credential_id, csrf_token, user_agent, ip, \
     created_at, last_seen_at, expires_at from session";

pub async fn session_by_hash(pool: &Pool, token_hash: &[u8]) -> Result<Option<SessionRow>, StoreError> {
    let sql = sqlx::AssertSqlSafe(format!("{SESSION} where token_hash = $1"));
    Ok(sqlx::query_as(sql).bind(token_hash).fetch_optional(pool).await?)
}

pub async fn sessions_of(pool: &Pool, account_id: &str) -> Result<Vec<SessionRow>, StoreError> {
    let sql = sqlx::AssertSqlSafe(format!("{SESSION} where account_id = $1 order by created_at"));
    Ok(sqlx::query_as(sql).bind(account_id).fetch_all(pool).await?)
}

pub async fn touch_session(conn: &mut Connection, session_id: &str, now: i64) -> Result<(), StoreError> {
    sqlx::query("update session set last_seen_at = $2 where session_id = $1")
        .bind(session_id)
        .bind(now)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn delete_session(conn: &mut Connection, account_id: &str, session_id: &str) -> Result<bool, StoreError> {
    let done = sqlx::query("delete from session where account_id = $1 and session_id = $2")
        .bind(account_id)
        .bind(session_id)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() > 0)
}

pub async fn delete_sessions_of(conn: &mut Connection, account_id: &str) -> Result<u64, StoreError> {
    let done = sqlx::query("delete from session where account_id = $1")
        .bind(account_id)
        .execute(conn)
        .await?;
    Ok(done.rows_affected())
}

pub async fn set_verified(conn: &mut Connection, id: &str, verified: bool, now: i64) -> Result<(), StoreError> {
    sqlx::query("update account set verified = $2, updated_at = $3 where account_id = $1")
        .bind(id)
        .bind(verified)
        .bind(now)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn passkeys_of_conn(conn: &mut Connection, account_id: &str) -> Result<Vec<PasskeyRow>, StoreError> {
    let sql = sqlx::AssertSqlSafe(format!("{PASSKEY} where account_id = $1 order by created_at"));
    Ok(sqlx::query_as(sql).bind(account_id).fetch_all(conn).await?)
}

pub async fn rename_passkey(
    conn: &mut Connection,
    account_id: &str,
    credential_id: &[u8],
    name: &str,
) -> Result<bool, StoreError> {
    let done = sqlx::query("update passkey set name = $3 where account_id = $1 and credential_id = $2")
        .bind(account_id)
        .bind(credential_id)
        .bind(name)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn delete_passkey(conn: &mut Connection, account_id: &str, credential_id: &[u8]) -> Result<bool, StoreError> {
    let done = sqlx::query("delete from passkey where account_id = $1 and credential_id = $2")
        .bind(account_id)
        .bind(credential_id)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn delete_passkeys_of(conn: &mut Connection, account_id: &str) -> Result<u64, StoreError> {
    let done = sqlx::query("delete from passkey where account_id = $1")
        .bind(account_id)
        .execute(conn)
        .await?;
    Ok(done.rows_affected())
}

pub async fn delete_sessions_of_passkey(
    conn: &mut Connection,
    account_id: &str,
    credential_id: &[u8],
) -> Result<u64, StoreError> {
    let done = sqlx::query("delete from session where account_id = $1 and credential_id = $2")
        .bind(account_id)
        .bind(credential_id)
        .execute(conn)
        .await?;
    Ok(done.rows_affected())
}

pub async fn set_nik_index(conn: &mut Connection, account_id: &str, index: &[u8], now: i64) -> Result<(), StoreError> {
    sqlx::query("update account set nik_index = $2, updated_at = $3 where account_id = $1")
        .bind(account_id)
        .bind(index)
        .bind(now)
        .execute(conn)
        .await
        .map_err(StoreError::from_write)?;
    Ok(())
}

pub async fn lock_account(conn: &mut Connection, account_id: &str) -> Result<(), StoreError> {
    sqlx::query("select 1 from account where account_id = $1 for update")
        .bind(account_id)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn accounts_with_plaintext(pool: &Pool) -> Result<Vec<AccountRow>, StoreError> {
    let sql = sqlx::AssertSqlSafe(format!("{ACCOUNT} where nik is not null or display_name <> ''"));
    Ok(sqlx::query_as(sql).fetch_all(pool).await?)
}

pub async fn clear_plaintext(conn: &mut Connection, account_id: &str, now: i64) -> Result<(), StoreError> {
    sqlx::query("update account set nik = null, display_name = '', updated_at = $2 where account_id = $1")
        .bind(account_id)
        .bind(now)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn account_by_pseudonym<'e, E>(exec: E, pseudonym: &str) -> Result<Option<AccountRow>, StoreError>
where
    E: sqlx::PgExecutor<'e>,
{
    let sql = sqlx::AssertSqlSafe(format!("{ACCOUNT} where pseudonym = $1"));
    Ok(sqlx::query_as(sql).bind(pseudonym).fetch_optional(exec).await?)
}

pub async fn mark_erased(conn: &mut Connection, account_id: &str, now: i64) -> Result<(), StoreError> {
    sqlx::query(
        "update account set status = 'erased', nik = null, nik_index = null, display_name = '', flag = null, \
         updated_at = $2 where account_id = $1",
    )
    .bind(account_id)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    sqlx::query("delete from recovery_code where account_id = $1")
        .bind(account_id)
        .execute(&mut *conn)
        .await?;
    sqlx::query("update enrolment_code set nik_index = null, used_at = coalesce(used_at, $2) where account_id = $1")
        .bind(account_id)
        .bind(now)
        .execute(conn)
        .await?;
    Ok(())
}
