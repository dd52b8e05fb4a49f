//! Browser sessions, and the retention purge of expired rows.

use super::{SESSION, SessionRow};
use crate::store::{Db, StoreError, Tx};

/// Deletes expired sessions, used or expired codes and expired ceremonies;
/// returns how many of each (sessions, enrolment codes, recovery codes, ceremonies).
pub async fn purge_expired(tx: &mut Tx<'_>, now: i64, idle_secs: i64) -> Result<[u64; 4], StoreError> {
    on_tx!(tx, |conn| {
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
    })
}

pub async fn insert_session(tx: &mut Tx<'_>, row: &SessionRow) -> Result<(), StoreError> {
    let r = row;
    on_tx!(tx, |conn| {
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
    })
}

pub async fn session_by_hash(db: &Db, token_hash: &[u8]) -> Result<Option<SessionRow>, StoreError> {
    on_db!(db, |pool| {
        let sql = sqlx::AssertSqlSafe(format!("{SESSION} where token_hash = $1"));
        Ok(sqlx::query_as(sql).bind(token_hash).fetch_optional(pool).await?)
    })
}

pub async fn sessions_of(db: &Db, account_id: &str) -> Result<Vec<SessionRow>, StoreError> {
    on_db!(db, |pool| {
        let sql = sqlx::AssertSqlSafe(format!("{SESSION} where account_id = $1 order by created_at"));
        Ok(sqlx::query_as(sql).bind(account_id).fetch_all(pool).await?)
    })
}

pub async fn touch_session(tx: &mut Tx<'_>, session_id: &str, now: i64) -> Result<(), StoreError> {
    on_tx!(tx, |conn| {
        sqlx::query("update session set last_seen_at = $2 where session_id = $1")
            .bind(session_id)
            .bind(now)
            .execute(conn)
            .await?;
        Ok(())
    })
}

/// Revokes the OAuth grants (refresh tokens, access tokens) that modules
/// hold from the sessions being ended (and queues their back-channel
/// logouts): a module's sign-in never outlives the browser session it
/// came from.
async fn end_grants(tx: &mut Tx<'_>, whose: crate::store::oauth_flow::Whose<'_>) -> Result<(), StoreError> {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    crate::store::oauth_flow::revoke_grants(tx, whose, "session_ended", now).await?;
    Ok(())
}

/// Deletes one session of `account_id`; returns whether it existed.
pub async fn delete_session(tx: &mut Tx<'_>, account_id: &str, session_id: &str) -> Result<bool, StoreError> {
    end_grants(
        tx,
        crate::store::oauth_flow::Whose::Session {
            account: account_id,
            session: session_id,
        },
    )
    .await?;
    on_tx!(tx, |conn| {
        let done = sqlx::query("delete from session where account_id = $1 and session_id = $2")
            .bind(account_id)
            .bind(session_id)
            .execute(conn)
            .await?;
        Ok(done.rows_affected() > 0)
    })
}

pub async fn delete_sessions_of(tx: &mut Tx<'_>, account_id: &str) -> Result<u64, StoreError> {
    end_grants(tx, crate::store::oauth_flow::Whose::Account(account_id)).await?;
    on_tx!(tx, |conn| {
        let done = sqlx::query("delete from session where account_id = $1")
            .bind(account_id)
            .execute(conn)
            .await?;
        Ok(done.rows_affected())
    })
}

/// Ends the sessions that were started with this passkey.
pub async fn delete_sessions_of_passkey(
    tx: &mut Tx<'_>,
    account_id: &str,
    credential_id: &[u8],
) -> Result<u64, StoreError> {
    end_grants(
        tx,
        crate::store::oauth_flow::Whose::Passkey {
            account: account_id,
            credential: credential_id,
        },
    )
    .await?;
    on_tx!(tx, |conn| {
        let done = sqlx::query("delete from session where account_id = $1 and credential_id = $2")
            .bind(account_id)
            .bind(credential_id)
            .execute(conn)
            .await?;
        Ok(done.rows_affected())
    })
}
