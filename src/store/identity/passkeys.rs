//! Passkeys and the ceremonies that register or use them.

use super::{CeremonyRow, PASSKEY, PasskeyRow};
use crate::store::{Db, StoreError, Tx};

pub async fn insert_passkey(tx: &mut Tx<'_>, row: &PasskeyRow) -> Result<(), StoreError> {
    let r = row;
    on_tx!(tx, |conn| {
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
    })
}

pub async fn passkey_tx(tx: &mut Tx<'_>, credential_id: &[u8]) -> Result<Option<PasskeyRow>, StoreError> {
    on_tx!(tx, |conn| {
        let sql = sqlx::AssertSqlSafe(format!("{PASSKEY} where credential_id = $1"));
        Ok(sqlx::query_as(sql).bind(credential_id).fetch_optional(conn).await?)
    })
}

pub async fn passkeys_of(db: &Db, account_id: &str) -> Result<Vec<PasskeyRow>, StoreError> {
    on_db!(db, |pool| {
        let sql = sqlx::AssertSqlSafe(format!("{PASSKEY} where account_id = $1 order by created_at"));
        Ok(sqlx::query_as(sql).bind(account_id).fetch_all(pool).await?)
    })
}

/// Records a use of a passkey, if its stored dynamic state is still
/// `expected` (compare and set: two concurrent uses of a cloned key cannot
/// both pass the counter check). Returns whether it was updated.
pub async fn update_passkey_use(
    tx: &mut Tx<'_>,
    credential_id: &[u8],
    expected: &[u8],
    dynamic_state: &[u8],
    backed_up: bool,
    now: i64,
) -> Result<bool, StoreError> {
    on_tx!(tx, |conn| {
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
    })
}

pub async fn insert_ceremony(tx: &mut Tx<'_>, row: &CeremonyRow) -> Result<(), StoreError> {
    let r = row;
    on_tx!(tx, |conn| {
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
    })
}

/// Removes and returns the ceremony for `challenge`: a second call for the
/// same challenge finds nothing (the replay defence).
pub async fn take_ceremony(tx: &mut Tx<'_>, challenge: &[u8]) -> Result<Option<CeremonyRow>, StoreError> {
    on_tx!(tx, |conn| {
        Ok(sqlx::query_as(
            "delete from ceremony where challenge = $1 returning challenge, kind, account_id, state, payload, expires_at",
        )
        .bind(challenge)
        .fetch_optional(conn)
        .await?)
    })
}

/// Deletes ceremonies that expired before `now`; returns how many.
pub async fn delete_expired_ceremonies(tx: &mut Tx<'_>, now: i64) -> Result<u64, StoreError> {
    on_tx!(tx, |conn| {
        let done = sqlx::query("delete from ceremony where expires_at < $1")
            .bind(now)
            .execute(conn)
            .await?;
        Ok(done.rows_affected())
    })
}

pub async fn passkeys_of_tx(tx: &mut Tx<'_>, account_id: &str) -> Result<Vec<PasskeyRow>, StoreError> {
    on_tx!(tx, |conn| {
        let sql = sqlx::AssertSqlSafe(format!("{PASSKEY} where account_id = $1 order by created_at"));
        Ok(sqlx::query_as(sql).bind(account_id).fetch_all(conn).await?)
    })
}

pub async fn rename_passkey(
    tx: &mut Tx<'_>,
    account_id: &str,
    credential_id: &[u8],
    name: &str,
) -> Result<bool, StoreError> {
    on_tx!(tx, |conn| {
        let done = sqlx::query("update passkey set name = $3 where account_id = $1 and credential_id = $2")
            .bind(account_id)
            .bind(credential_id)
            .bind(name)
            .execute(conn)
            .await?;
        Ok(done.rows_affected() == 1)
    })
}

pub async fn delete_passkey(tx: &mut Tx<'_>, account_id: &str, credential_id: &[u8]) -> Result<bool, StoreError> {
    on_tx!(tx, |conn| {
        let done = sqlx::query("delete from passkey where account_id = $1 and credential_id = $2")
            .bind(account_id)
            .bind(credential_id)
            .execute(conn)
            .await?;
        Ok(done.rows_affected() == 1)
    })
}

pub async fn delete_passkeys_of(tx: &mut Tx<'_>, account_id: &str) -> Result<u64, StoreError> {
    on_tx!(tx, |conn| {
        let done = sqlx::query("delete from passkey where account_id = $1")
            .bind(account_id)
            .execute(conn)
            .await?;
        Ok(done.rows_affected())
    })
}
