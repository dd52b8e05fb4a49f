//! The authorization code flow's state: pushed requests, grants, codes and
//! refresh tokens. Codes, refresh tokens and request URIs are looked up by
//! their SHA-256 hash; the values themselves are never stored.

use super::{Db, StoreError, Tx};

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ParRow {
    pub client_id: String,
    /// JSON of the checked request.
    pub request: String,
    pub created_at: i64,
    pub expires_at: i64,
}

pub async fn insert_par(tx: &mut Tx<'_>, hash: &[u8], row: &ParRow) -> Result<(), StoreError> {
    on_tx!(tx, |conn| {
        sqlx::query(
            "insert into oauth_par (request_hash, client_id, request, created_at, expires_at) \
             values ($1, $2, $3, $4, $5)",
        )
        .bind(hash)
        .bind(&row.client_id)
        .bind(&row.request)
        .bind(row.created_at)
        .bind(row.expires_at)
        .execute(conn)
        .await
        .map_err(StoreError::from_write)?;
        Ok(())
    })
}

pub async fn par(db: &Db, hash: &[u8]) -> Result<Option<ParRow>, StoreError> {
    on_db!(db, |pool| {
        Ok(
            sqlx::query_as("select client_id, request, created_at, expires_at from oauth_par where request_hash = $1")
                .bind(hash)
                .fetch_optional(pool)
                .await?,
        )
    })
}

/// Gives a pushed request until `until` to be decided (once the person
/// has arrived: signing in and reading the consent screen take longer
/// than the minute a request may wait for the browser).
pub async fn extend_par(tx: &mut Tx<'_>, hash: &[u8], until: i64) -> Result<(), StoreError> {
    on_tx!(tx, |conn| {
        sqlx::query("update oauth_par set expires_at = $2 where request_hash = $1 and expires_at < $2")
            .bind(hash)
            .bind(until)
            .execute(conn)
            .await?;
        Ok(())
    })
}

/// Deletes a pushed request; false if it was already gone (used).
pub async fn delete_par(tx: &mut Tx<'_>, hash: &[u8]) -> Result<bool, StoreError> {
    on_tx!(tx, |conn| {
        let done = sqlx::query("delete from oauth_par where request_hash = $1")
            .bind(hash)
            .execute(conn)
            .await?;
        Ok(done.rows_affected() == 1)
    })
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct GrantRow {
    pub grant_id: String,
    pub client_id: String,
    pub account_id: String,
    pub session_id: String,
    /// The passkey the session was signed in with.
    pub credential_id: Option<Vec<u8>>,
    /// Space-separated.
    pub scope: String,
    /// The DPoP key thumbprint its tokens are bound to.
    pub jkt: Option<String>,
    /// Or the TLS client certificate thumbprint (RFC 8705).
    pub x5t: Option<String>,
    pub auth_time: i64,
    /// JSON array.
    pub amr: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub revoked_at: Option<i64>,
}

const GRANT: &str = "select g.grant_id, g.client_id, g.account_id, g.session_id, g.credential_id, g.scope, g.jkt, \
     g.x5t, g.auth_time, g.amr, g.created_at, g.expires_at, g.revoked_at from oauth_grant g";

pub async fn insert_grant(tx: &mut Tx<'_>, g: &GrantRow) -> Result<(), StoreError> {
    on_tx!(tx, |conn| {
        sqlx::query(
            "insert into oauth_grant (grant_id, client_id, account_id, session_id, scope, jkt, auth_time, amr, \
             created_at, expires_at, credential_id) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(&g.grant_id)
        .bind(&g.client_id)
        .bind(&g.account_id)
        .bind(&g.session_id)
        .bind(&g.scope)
        .bind(&g.jkt)
        .bind(g.auth_time)
        .bind(&g.amr)
        .bind(g.created_at)
        .bind(g.expires_at)
        .bind(&g.credential_id)
        .execute(conn)
        .await
        .map_err(StoreError::from_write)?;
        Ok(())
    })
}

/// A grant that is still good at `now`: not revoked, not expired, its
/// account active and its module not disabled. One round trip.
pub async fn live_grant(db: &Db, grant_id: &str, now: i64) -> Result<Option<GrantRow>, StoreError> {
    on_db!(db, |pool| {
        let sql = sqlx::AssertSqlSafe(format!("{GRANT} {LIVE}"));
        Ok(sqlx::query_as(sql)
            .bind(grant_id)
            .bind(now)
            .fetch_optional(pool)
            .await?)
    })
}

const LIVE: &str = "join account a on a.account_id = g.account_id join module m on m.name = g.client_id \
     where g.grant_id = $1 and g.revoked_at is null and g.expires_at > $2 and a.status = 'active' \
     and m.revoked_at is null and g.created_at > coalesce(m.tokens_not_before, 0)";

/// A grant, whatever its state.
pub async fn grant(db: &Db, grant_id: &str) -> Result<Option<GrantRow>, StoreError> {
    on_db!(db, |pool| {
        let sql = sqlx::AssertSqlSafe(format!("{GRANT} where g.grant_id = $1"));
        Ok(sqlx::query_as(sql).bind(grant_id).fetch_optional(pool).await?)
    })
}

/// [`live_grant`], in a transaction (to decide and write at once).
pub async fn live_grant_in(tx: &mut Tx<'_>, grant_id: &str, now: i64) -> Result<Option<GrantRow>, StoreError> {
    on_tx!(tx, |conn| {
        let sql = sqlx::AssertSqlSafe(format!("{GRANT} {LIVE}"));
        Ok(sqlx::query_as(sql)
            .bind(grant_id)
            .bind(now)
            .fetch_optional(conn)
            .await?)
    })
}

pub(super) async fn grant_in(tx: &mut Tx<'_>, grant_id: &str) -> Result<Option<GrantRow>, StoreError> {
    on_tx!(tx, |conn| {
        let sql = sqlx::AssertSqlSafe(format!("{GRANT} where g.grant_id = $1"));
        Ok(sqlx::query_as(sql).bind(grant_id).fetch_optional(conn).await?)
    })
}

/// Binds a grant's tokens to a DPoP key (`jkt`) or a TLS client
/// certificate (`x5t`).
pub async fn bind_grant(
    tx: &mut Tx<'_>,
    grant_id: &str,
    jkt: Option<&str>,
    x5t: Option<&str>,
) -> Result<(), StoreError> {
    on_tx!(tx, |conn| {
        sqlx::query("update oauth_grant set jkt = $2, x5t = $3 where grant_id = $1")
            .bind(grant_id)
            .bind(jkt)
            .bind(x5t)
            .execute(conn)
            .await?;
        Ok(())
    })
}

/// Revokes a grant; false if it already was.
pub async fn revoke_grant(tx: &mut Tx<'_>, grant_id: &str, reason: &str, now: i64) -> Result<bool, StoreError> {
    Ok(!revoke_grants(tx, Whose::Grant(grant_id), reason, now).await?.is_empty())
}

/// Which live grants a revocation reaches.
#[derive(Debug, Clone, Copy)]
pub enum Whose<'a> {
    Grant(&'a str),
    /// The grants made in one browser session.
    Session {
        account: &'a str,
        session: &'a str,
    },
    /// The grants made in the sessions started with one passkey.
    Passkey {
        account: &'a str,
        credential: &'a [u8],
    },
    Account(&'a str),
    /// The account's grants whose scope holds the purpose.
    Purpose {
        account: &'a str,
        purpose: &'a str,
    },
}

/// A grant just revoked.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Ended {
    pub grant_id: String,
    pub client_id: String,
    pub account_id: String,
}

/// Revokes every live grant `whose` names, and queues a back-channel
/// logout for each whose module registered a logout URI, in the same
/// transaction. Returns the grants revoked.
pub async fn revoke_grants(
    tx: &mut Tx<'_>,
    whose: Whose<'_>,
    reason: &str,
    now: i64,
) -> Result<Vec<Ended>, StoreError> {
    let (filter, first, text, bytes): (&str, &str, Option<&str>, Option<&[u8]>) = match whose {
        Whose::Grant(g) => ("grant_id = $3", g, None, None),
        Whose::Session { account, session } => ("account_id = $3 and session_id = $4", account, Some(session), None),
        Whose::Passkey { account, credential } => (
            "account_id = $3 and credential_id = $4",
            account,
            None,
            Some(credential),
        ),
        Whose::Account(a) => ("account_id = $3", a, None, None),
        Whose::Purpose { account, purpose } => {
            // The scope is a space-separated list: matched exactly here,
            // not with LIKE (a purpose id may hold `_`).
            let ids: Vec<(String, String)> = on_tx!(tx, |conn| {
                sqlx::query_as("select grant_id, scope from oauth_grant where account_id = $1 and revoked_at is null")
                    .bind(account)
                    .fetch_all(&mut *conn)
                    .await?
            });
            let mut ended = Vec::new();
            for (grant_id, scope) in ids {
                if scope.split(' ').any(|s| s == purpose) {
                    ended.extend(Box::pin(revoke_grants(tx, Whose::Grant(&grant_id), reason, now)).await?);
                }
            }
            return Ok(ended);
        }
    };
    let ended: Vec<Ended> = on_tx!(tx, |conn| {
        let sql = sqlx::AssertSqlSafe(format!(
            "update oauth_grant set revoked_at = $1, revoked_reason = $2 \
             where revoked_at is null and {filter} returning grant_id, client_id, account_id"
        ));
        let mut q = sqlx::query_as(sql).bind(now).bind(reason).bind(first);
        if let Some(t) = text {
            q = q.bind(t);
        }
        if let Some(b) = bytes {
            q = q.bind(b);
        }
        q.fetch_all(&mut *conn).await?
    });
    for e in &ended {
        on_tx!(tx, |conn| {
            sqlx::query(
                "insert into oauth_logout (grant_id, client_id, account_id, reason, created_at, next_at) \
                 select $1, $2, $3, $4, $5, $5 where exists \
                 (select 1 from module where name = $2 and backchannel_logout_uri is not null) \
                 on conflict (grant_id) do nothing",
            )
            .bind(&e.grant_id)
            .bind(&e.client_id)
            .bind(&e.account_id)
            .bind(reason)
            .bind(now)
            .execute(&mut *conn)
            .await?;
        });
    }
    Ok(ended)
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct CodeRow {
    pub grant_id: String,
    /// JSON: redirect_uri, nonce, code_challenge, dpop_jkt.
    pub request: String,
    pub expires_at: i64,
    pub used_at: Option<i64>,
}

pub async fn insert_code(tx: &mut Tx<'_>, hash: &[u8], code: &CodeRow) -> Result<(), StoreError> {
    on_tx!(tx, |conn| {
        sqlx::query("insert into oauth_code (code_hash, grant_id, request, expires_at) values ($1, $2, $3, $4)")
            .bind(hash)
            .bind(&code.grant_id)
            .bind(&code.request)
            .bind(code.expires_at)
            .execute(conn)
            .await
            .map_err(StoreError::from_write)?;
        Ok(())
    })
}

/// Takes a code of `client_id`: marks it used and returns it as it was
/// (with `used_at` set if it had been used before) and its grant. Another
/// client's code is returned untouched (it cannot burn it).
pub async fn take_code(
    tx: &mut Tx<'_>,
    hash: &[u8],
    client_id: &str,
    now: i64,
) -> Result<Option<(CodeRow, GrantRow)>, StoreError> {
    let code: Option<CodeRow> = on_tx!(tx, |conn| {
        sqlx::query_as("select grant_id, request, expires_at, used_at from oauth_code where code_hash = $1")
            .bind(hash)
            .fetch_optional(conn)
            .await?
    });
    let Some(code) = code else { return Ok(None) };
    let Some(grant) = grant_in(tx, &code.grant_id).await? else {
        return Ok(None);
    };
    if grant.client_id != client_id {
        return Ok(Some((code, grant)));
    }
    if code.used_at.is_none() {
        on_tx!(tx, |conn| {
            sqlx::query("update oauth_code set used_at = $2 where code_hash = $1")
                .bind(hash)
                .bind(now)
                .execute(conn)
                .await?;
        });
    }
    Ok(Some((code, grant)))
}

/// Forgets pushed requests, codes, refresh tokens and grants that expired
/// before `now` (a grant is kept a day past its end, so that a late reuse
/// of one of its tokens is still recognised as such).
pub async fn purge(tx: &mut Tx<'_>, now: i64) -> Result<u64, StoreError> {
    let grace = now.saturating_sub(86_400);
    on_tx!(tx, |conn| {
        let mut n = 0;
        n += sqlx::query("delete from oauth_par where expires_at < $1")
            .bind(now)
            .execute(&mut *conn)
            .await?
            .rows_affected();
        for table in ["oauth_code", "oauth_refresh", "oauth_logout"] {
            let sql = sqlx::AssertSqlSafe(format!(
                "delete from {table} where grant_id in (select grant_id from oauth_grant where expires_at < $1)"
            ));
            n += sqlx::query(sql).bind(grace).execute(&mut *conn).await?.rows_affected();
        }
        n += sqlx::query("delete from oauth_grant where expires_at < $1")
            .bind(grace)
            .execute(&mut *conn)
            .await?
            .rows_affected();
        Ok(n)
    })
}
