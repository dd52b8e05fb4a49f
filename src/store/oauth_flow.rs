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
    /// Space-separated.
    pub scope: String,
    pub jkt: Option<String>,
    pub auth_time: i64,
    /// JSON array.
    pub amr: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub revoked_at: Option<i64>,
}

const GRANT: &str = "select g.grant_id, g.client_id, g.account_id, g.session_id, g.scope, g.jkt, g.auth_time, \
     g.amr, g.created_at, g.expires_at, g.revoked_at from oauth_grant g";

pub async fn insert_grant(tx: &mut Tx<'_>, g: &GrantRow) -> Result<(), StoreError> {
    on_tx!(tx, |conn| {
        sqlx::query(
            "insert into oauth_grant (grant_id, client_id, account_id, session_id, scope, jkt, auth_time, amr, \
             created_at, expires_at) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
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
        let sql = sqlx::AssertSqlSafe(format!(
            "{GRANT} join account a on a.account_id = g.account_id join module m on m.name = g.client_id \
             where g.grant_id = $1 and g.revoked_at is null and g.expires_at > $2 and a.status = 'active' \
             and m.revoked_at is null"
        ));
        Ok(sqlx::query_as(sql)
            .bind(grant_id)
            .bind(now)
            .fetch_optional(pool)
            .await?)
    })
}

async fn grant_in(tx: &mut Tx<'_>, grant_id: &str) -> Result<Option<GrantRow>, StoreError> {
    on_tx!(tx, |conn| {
        let sql = sqlx::AssertSqlSafe(format!("{GRANT} where g.grant_id = $1"));
        Ok(sqlx::query_as(sql).bind(grant_id).fetch_optional(conn).await?)
    })
}

pub async fn bind_grant(tx: &mut Tx<'_>, grant_id: &str, jkt: &str) -> Result<(), StoreError> {
    on_tx!(tx, |conn| {
        sqlx::query("update oauth_grant set jkt = $2 where grant_id = $1")
            .bind(grant_id)
            .bind(jkt)
            .execute(conn)
            .await?;
        Ok(())
    })
}

/// Revokes a grant; false if it already was.
pub async fn revoke_grant(tx: &mut Tx<'_>, grant_id: &str, reason: &str, now: i64) -> Result<bool, StoreError> {
    on_tx!(tx, |conn| {
        let done = sqlx::query(
            "update oauth_grant set revoked_at = $2, revoked_reason = $3 where grant_id = $1 and revoked_at is null",
        )
        .bind(grant_id)
        .bind(now)
        .bind(reason)
        .execute(conn)
        .await?;
        Ok(done.rows_affected() == 1)
    })
}

/// Which live grants a revocation of `whose` reaches.
#[derive(Debug, Clone, Copy)]
pub enum Whose<'a> {
    Session(&'a str),
    Account(&'a str),
    /// The account's grants whose scope holds the purpose.
    Purpose {
        account: &'a str,
        purpose: &'a str,
    },
}

/// Revokes every live grant `whose` names; returns them (id, client).
pub async fn revoke_grants(
    tx: &mut Tx<'_>,
    whose: Whose<'_>,
    reason: &str,
    now: i64,
) -> Result<Vec<(String, String)>, StoreError> {
    let (filter, a, b) = match whose {
        Whose::Session(s) => ("session_id = $3", s, ""),
        Whose::Account(a) => ("account_id = $3", a, ""),
        Whose::Purpose { account, purpose } => (
            "account_id = $3 and (' ' || scope || ' ') like ('% ' || $4 || ' %')",
            account,
            purpose,
        ),
    };
    let uses_b = matches!(whose, Whose::Purpose { .. });
    on_tx!(tx, |conn| {
        let sql = sqlx::AssertSqlSafe(format!(
            "update oauth_grant set revoked_at = $1, revoked_reason = $2 \
             where revoked_at is null and {filter} returning grant_id, client_id"
        ));
        let mut q = sqlx::query_as(sql).bind(now).bind(reason).bind(a);
        if uses_b {
            q = q.bind(b);
        }
        Ok(q.fetch_all(conn).await?)
    })
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

/// Takes a code: marks it used and returns it as it was (with `used_at`
/// set if it had been used before) and its grant.
pub async fn take_code(tx: &mut Tx<'_>, hash: &[u8], now: i64) -> Result<Option<(CodeRow, GrantRow)>, StoreError> {
    let code: Option<CodeRow> = on_tx!(tx, |conn| {
        sqlx::query_as("select grant_id, request, expires_at, used_at from oauth_code where code_hash = $1")
            .bind(hash)
            .fetch_optional(conn)
            .await?
    });
    let Some(code) = code else { return Ok(None) };
    if code.used_at.is_none() {
        on_tx!(tx, |conn| {
            sqlx::query("update oauth_code set used_at = $2 where code_hash = $1")
                .bind(hash)
                .bind(now)
                .execute(conn)
                .await?;
        });
    }
    Ok(grant_in(tx, &code.grant_id).await?.map(|g| (code, g)))
}

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

/// Takes a refresh token: marks it used; returns whether it had been used
/// before, and its grant.
pub async fn take_refresh(tx: &mut Tx<'_>, hash: &[u8], now: i64) -> Result<Option<(bool, GrantRow)>, StoreError> {
    let row: Option<(String, Option<i64>)> = on_tx!(tx, |conn| {
        sqlx::query_as("select grant_id, used_at from oauth_refresh where token_hash = $1")
            .bind(hash)
            .fetch_optional(conn)
            .await?
    });
    let Some((grant_id, used_at)) = row else {
        return Ok(None);
    };
    if used_at.is_none() {
        on_tx!(tx, |conn| {
            sqlx::query("update oauth_refresh set used_at = $2 where token_hash = $1")
                .bind(hash)
                .bind(now)
                .execute(conn)
                .await?;
        });
    }
    Ok(grant_in(tx, &grant_id).await?.map(|g| (used_at.is_some(), g)))
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
    let grant: Option<GrantRow> = on_db!(db, |pool| {
        let sql = sqlx::AssertSqlSafe(format!("{GRANT} where g.grant_id = $1"));
        sqlx::query_as(sql).bind(&grant_id).fetch_optional(pool).await?
    });
    Ok(grant.map(|g| (g, used_at.is_none())))
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
        for table in ["oauth_code", "oauth_refresh"] {
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
