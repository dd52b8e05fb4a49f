//! Refresh tokens (rotated, with the retry FAPI 2.0 asks for) and the
//! queue of back-channel logouts. Refresh tokens are looked up by their
//! SHA-256 hash; the values are never stored.

use super::oauth_flow::{GrantRow, grant_in};
use super::{Db, StoreError, Tx};

pub async fn insert_refresh(tx: &mut Tx<'_>, hash: &[u8], grant_id: &str, now: i64) -> Result<(), StoreError> {
    on_tx!(tx, |conn| {
        sqlx::query("insert into oauth_refresh (token_hash, grant_id, created_at) values ($1, $2, $3)")
            .bind(hash)
            .bind(grant_id)
            .bind(now)
            .execute(conn)
            .await
            .map_err(StoreError::from_write)?;
        Ok(())
    })
}

/// A refresh token as stored, with its grant.
#[derive(Debug, Clone)]
pub struct Refresh {
    pub grant: GrantRow,
    pub used_at: Option<i64>,
    /// The token issued when this one was used, and whether that one is
    /// still unused (the client may not have received it).
    pub next: Option<(Vec<u8>, bool)>,
}

/// The refresh token `hash`, as stored (nothing is changed).
pub async fn refresh_in(tx: &mut Tx<'_>, hash: &[u8]) -> Result<Option<Refresh>, StoreError> {
    let row: Option<(String, Option<i64>, Option<Vec<u8>>)> = on_tx!(tx, |conn| {
        sqlx::query_as("select grant_id, used_at, next_hash from oauth_refresh where token_hash = $1")
            .bind(hash)
            .fetch_optional(conn)
            .await?
    });
    let Some((grant_id, used_at, next_hash)) = row else {
        return Ok(None);
    };
    let next = match next_hash {
        None => None,
        Some(next) => {
            let unused: Option<(Option<i64>,)> = on_tx!(tx, |conn| {
                sqlx::query_as("select used_at from oauth_refresh where token_hash = $1")
                    .bind(&next)
                    .fetch_optional(conn)
                    .await?
            });
            let unused = unused.is_some_and(|(u,)| u.is_none());
            Some((next, unused))
        }
    };
    Ok(grant_in(tx, &grant_id)
        .await?
        .map(|grant| Refresh { grant, used_at, next }))
}

/// Marks `hash` used at `now` (unless it already was) and names the token
/// issued in its place.
pub async fn use_refresh(tx: &mut Tx<'_>, hash: &[u8], next: &[u8], now: i64) -> Result<(), StoreError> {
    on_tx!(tx, |conn| {
        sqlx::query("update oauth_refresh set used_at = coalesce(used_at, $3), next_hash = $2 where token_hash = $1")
            .bind(hash)
            .bind(next)
            .bind(now)
            .execute(conn)
            .await?;
        Ok(())
    })
}

/// Marks a token issued but never received used: presented later, it is
/// a reuse.
pub async fn supersede(tx: &mut Tx<'_>, hash: &[u8], now: i64) -> Result<(), StoreError> {
    on_tx!(tx, |conn| {
        sqlx::query("update oauth_refresh set used_at = $2 where token_hash = $1 and used_at is null")
            .bind(hash)
            .bind(now)
            .execute(conn)
            .await?;
        Ok(())
    })
}

/// The grant of the refresh token `hash`, and whether the token is still
/// unused (for introspection and revocation; nothing is changed).
pub async fn refresh_state(db: &Db, hash: &[u8]) -> Result<Option<(GrantRow, bool)>, StoreError> {
    let used: Option<(String, Option<i64>)> = on_db!(db, |pool| {
        sqlx::query_as("select grant_id, used_at from oauth_refresh where token_hash = $1")
            .bind(hash)
            .fetch_optional(pool)
            .await?
    });
    let Some((grant_id, used_at)) = used else {
        return Ok(None);
    };
    let grant = super::oauth_flow::grant(db, &grant_id).await?;
    Ok(grant.map(|g| (g, used_at.is_none())))
}

/// A back-channel logout waiting to be delivered.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct LogoutRow {
    pub grant_id: String,
    pub client_id: String,
    pub account_id: String,
    pub reason: String,
    pub attempts: i64,
    pub created_at: i64,
    pub uri: String,
}

/// Logouts due at `now` (at most `limit`), oldest first.
pub async fn due_logouts(db: &Db, now: i64, limit: i64) -> Result<Vec<LogoutRow>, StoreError> {
    on_db!(db, |pool| {
        Ok(sqlx::query_as(
            "select l.grant_id, l.client_id, l.account_id, l.reason, l.attempts, l.created_at, \
             m.backchannel_logout_uri as uri from oauth_logout l join module m on m.name = l.client_id \
             where l.delivered_at is null and l.failed_at is null and l.next_at <= $1 \
             and m.backchannel_logout_uri is not null order by l.next_at limit $2",
        )
        .bind(now)
        .bind(limit)
        .fetch_all(pool)
        .await?)
    })
}

/// Takes a due logout for this instance until `until` (so that another
/// instance does not send it at the same time); false if it was taken.
pub async fn claim_logout(tx: &mut Tx<'_>, grant_id: &str, now: i64, until: i64) -> Result<bool, StoreError> {
    on_tx!(tx, |conn| {
        let done = sqlx::query(
            "update oauth_logout set next_at = $3 where grant_id = $1 and next_at <= $2 \
             and delivered_at is null and failed_at is null",
        )
        .bind(grant_id)
        .bind(now)
        .bind(until)
        .execute(conn)
        .await?;
        Ok(done.rows_affected() == 1)
    })
}

/// Records a delivery attempt: delivered, retried at `next_at`, or given
/// up (`next_at` None).
pub async fn logout_attempted(
    tx: &mut Tx<'_>,
    grant_id: &str,
    delivered: bool,
    next_at: Option<i64>,
    error: Option<&str>,
    now: i64,
) -> Result<(), StoreError> {
    on_tx!(tx, |conn| {
        sqlx::query(
            "update oauth_logout set attempts = attempts + 1, \
             delivered_at = case when $2 then $5 else null end, \
             failed_at = case when not $2 and $3 is null then $5 else null end, \
             next_at = coalesce($3, next_at), last_error = $4 where grant_id = $1",
        )
        .bind(grant_id)
        .bind(delivered)
        .bind(next_at)
        .bind(error)
        .bind(now)
        .execute(conn)
        .await?;
        Ok(())
    })
}
