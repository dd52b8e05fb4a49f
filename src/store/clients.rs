//! Modules as OAuth clients: their registration, and the access tokens
//! revoked before they expire.

use super::{Db, StoreError, Tx};

const CLIENT: &str = "select module_id, name, client_auth, jwks, secret_hash, tls_subject, redirect_uris, \
     grant_types, audience, revoked_at, backchannel_logout_uri, post_logout_redirect_uris, jwks_uri from module";

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ClientRow {
    pub module_id: String,
    /// The client_id.
    pub name: String,
    pub client_auth: String,
    /// JSON JWKS.
    pub jwks: Option<String>,
    pub secret_hash: Option<Vec<u8>>,
    pub tls_subject: Option<String>,
    /// JSON array.
    pub redirect_uris: String,
    /// JSON array.
    pub grant_types: String,
    pub audience: String,
    /// Disabled (or its key revoked) at.
    pub revoked_at: Option<i64>,
    pub backchannel_logout_uri: Option<String>,
    /// JSON array.
    pub post_logout_redirect_uris: String,
    /// Where the client publishes its JWKS (instead of `jwks`).
    pub jwks_uri: Option<String>,
}

pub async fn client(db: &Db, client_id: &str) -> Result<Option<ClientRow>, StoreError> {
    on_db!(db, |pool| {
        let sql = sqlx::AssertSqlSafe(format!("{CLIENT} where name = $1"));
        Ok(sqlx::query_as(sql).bind(client_id).fetch_optional(pool).await?)
    })
}

pub async fn client_in(tx: &mut Tx<'_>, client_id: &str) -> Result<Option<ClientRow>, StoreError> {
    on_tx!(tx, |conn| {
        let sql = sqlx::AssertSqlSafe(format!("{CLIENT} where name = $1"));
        Ok(sqlx::query_as(sql).bind(client_id).fetch_optional(conn).await?)
    })
}

/// What registration may change; `None` leaves a column as it is.
#[derive(Debug, Clone, Default)]
pub struct ClientUpdate {
    pub client_auth: Option<String>,
    pub jwks: Option<Option<String>>,
    pub secret_hash: Option<Option<Vec<u8>>>,
    pub tls_subject: Option<Option<String>>,
    pub redirect_uris: Option<String>,
    pub grant_types: Option<String>,
    pub audience: Option<String>,
    pub backchannel_logout_uri: Option<Option<String>>,
    pub post_logout_redirect_uris: Option<String>,
    pub jwks_uri: Option<Option<String>>,
}

/// Applies `update` to the live client `client_id`; false if there is none.
pub async fn update_client(
    tx: &mut Tx<'_>,
    client_id: &str,
    update: &ClientUpdate,
    now: i64,
) -> Result<bool, StoreError> {
    let Some(mut row) = client_in(tx, client_id).await? else {
        return Ok(false);
    };
    if row.revoked_at.is_some() {
        return Ok(false);
    }
    let u = update.clone();
    if let Some(v) = u.client_auth {
        row.client_auth = v;
    }
    if let Some(v) = u.jwks {
        row.jwks = v;
    }
    if let Some(v) = u.secret_hash {
        row.secret_hash = v;
    }
    if let Some(v) = u.tls_subject {
        row.tls_subject = v;
    }
    if let Some(v) = u.redirect_uris {
        row.redirect_uris = v;
    }
    if let Some(v) = u.grant_types {
        row.grant_types = v;
    }
    if let Some(v) = u.audience {
        row.audience = v;
    }
    if let Some(v) = u.backchannel_logout_uri {
        row.backchannel_logout_uri = v;
    }
    if let Some(v) = u.post_logout_redirect_uris {
        row.post_logout_redirect_uris = v;
    }
    if let Some(v) = u.jwks_uri {
        row.jwks_uri = v;
    }
    let r = &row;
    on_tx!(tx, |conn| {
        sqlx::query(
            "update module set client_auth = $2, jwks = $3, secret_hash = $4, tls_subject = $5, \
             redirect_uris = $6, grant_types = $7, audience = $8, updated_at = $9, backchannel_logout_uri = $10, \
             post_logout_redirect_uris = $11, jwks_uri = $12 where name = $1",
        )
        .bind(client_id)
        .bind(&r.client_auth)
        .bind(&r.jwks)
        .bind(&r.secret_hash)
        .bind(&r.tls_subject)
        .bind(&r.redirect_uris)
        .bind(&r.grant_types)
        .bind(&r.audience)
        .bind(now)
        .bind(&r.backchannel_logout_uri)
        .bind(&r.post_logout_redirect_uris)
        .bind(&r.jwks_uri)
        .execute(conn)
        .await
        .map_err(StoreError::from_write)?;
        Ok(true)
    })
}

/// Whether the module behind an access token may still use it: the
/// module's id if it is live, the token `jti` is not revoked, and it was
/// issued (`issued_at`) after the second the module was last registered again. One round
/// trip, on every module API call with a token, on every instance.
pub async fn token_holder(db: &Db, client_id: &str, jti: &str, issued_at: i64) -> Result<Option<String>, StoreError> {
    on_db!(db, |pool| {
        let row: Option<(String,)> = sqlx::query_as(
            "select module_id from module where name = $1 and revoked_at is null \
             and coalesce(tokens_not_before, 0) < $3 \
             and not exists (select 1 from oauth_revoked where jti = $2)",
        )
        .bind(client_id)
        .bind(jti)
        .bind(issued_at)
        .fetch_optional(pool)
        .await?;
        Ok(row.map(|(id,)| id))
    })
}

pub async fn is_revoked(db: &Db, jti: &str) -> Result<bool, StoreError> {
    on_db!(db, |pool| {
        let row: Option<(i64,)> = sqlx::query_as("select expires_at from oauth_revoked where jti = $1")
            .bind(jti)
            .fetch_optional(pool)
            .await?;
        Ok(row.is_some())
    })
}

/// Records that the token `jti` is revoked; false if it already was.
pub async fn revoke_token(tx: &mut Tx<'_>, jti: &str, client_id: &str, expires_at: i64) -> Result<bool, StoreError> {
    on_tx!(tx, |conn| {
        let done = sqlx::query(
            "insert into oauth_revoked (jti, client_id, expires_at) values ($1, $2, $3) on conflict (jti) do nothing",
        )
        .bind(jti)
        .bind(client_id)
        .bind(expires_at)
        .execute(conn)
        .await?;
        Ok(done.rows_affected() == 1)
    })
}

/// Forgets revocations of tokens that have expired anyway.
pub async fn purge_revoked(tx: &mut Tx<'_>, now: i64) -> Result<u64, StoreError> {
    on_tx!(tx, |conn| {
        let done = sqlx::query("delete from oauth_revoked where expires_at < $1")
            .bind(now)
            .execute(conn)
            .await?;
        Ok(done.rows_affected())
    })
}
