//! Vault SQL for PostgreSQL.

use sqlx::{PgConnection as Connection, PgPool as Pool};

use crate::store::StoreError;
use crate::store::vault::{CitizenKeyRow, FieldRow};

pub async fn insert_key(conn: &mut Connection, r: &CitizenKeyRow) -> Result<(), StoreError> {
    sqlx::query(
        "insert into citizen_key (account_id, dek_version, kek_version, wrapped, created_at) values ($1, $2, $3, $4, $5)",
    )
    .bind(&r.account_id)
    .bind(r.dek_version)
    .bind(r.kek_version)
    .bind(&r.wrapped)
    .bind(r.created_at)
    .execute(conn)
    .await
    .map_err(StoreError::from_write)?;
    Ok(())
}

pub async fn key_of(conn: &mut Connection, account_id: &str) -> Result<Option<CitizenKeyRow>, StoreError> {
    Ok(sqlx::query_as(
        "select account_id, dek_version, kek_version, wrapped, created_at from citizen_key where account_id = $1",
    )
    .bind(account_id)
    .fetch_optional(conn)
    .await?)
}

pub async fn delete_key(conn: &mut Connection, account_id: &str) -> Result<bool, StoreError> {
    let done = sqlx::query("delete from citizen_key where account_id = $1")
        .bind(account_id)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn upsert_field(conn: &mut Connection, r: &FieldRow) -> Result<(), StoreError> {
    sqlx::query(
        "insert into citizen_field (account_id, field, record_version, sealed, updated_at) values ($1, $2, $3, $4, $5) \
         on conflict (account_id, field) do update set record_version = excluded.record_version, \
         sealed = excluded.sealed, updated_at = excluded.updated_at",
    )
    .bind(&r.account_id)
    .bind(&r.field)
    .bind(r.record_version)
    .bind(&r.sealed)
    .bind(r.updated_at)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn field(conn: &mut Connection, account_id: &str, name: &str) -> Result<Option<FieldRow>, StoreError> {
    Ok(sqlx::query_as(
        "select account_id, field, record_version, sealed, updated_at from citizen_field \
         where account_id = $1 and field = $2",
    )
    .bind(account_id)
    .bind(name)
    .fetch_optional(conn)
    .await?)
}

pub async fn put_index(conn: &mut Connection, domain: &str, digest: &[u8], account_id: &str) -> Result<(), StoreError> {
    sqlx::query("insert into blind_index (domain, digest, account_id) values ($1, $2, $3) on conflict do nothing")
        .bind(domain)
        .bind(digest)
        .bind(account_id)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn delete_indexes_of(conn: &mut Connection, account_id: &str) -> Result<u64, StoreError> {
    let done = sqlx::query("delete from blind_index where account_id = $1")
        .bind(account_id)
        .execute(conn)
        .await?;
    Ok(done.rows_affected())
}

pub async fn keys_per_kek(pool: &Pool) -> Result<Vec<(i64, i64)>, StoreError> {
    Ok(
        sqlx::query_as("select kek_version, count(*) from citizen_key group by kek_version order by kek_version")
            .fetch_all(pool)
            .await?,
    )
}

const FIELD: &str = "select account_id, field, record_version, sealed, updated_at from citizen_field";
const KEY: &str = "select account_id, dek_version, kek_version, wrapped, created_at from citizen_key";

/// `prefix%` for LIKE, with the LIKE metacharacters in `prefix` escaped.
fn like_prefix(prefix: &str) -> String {
    let mut out = String::with_capacity(prefix.len() + 1);
    for c in prefix.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

pub async fn read_fields(pool: &Pool, account_id: &str, prefix: &str) -> Result<Vec<FieldRow>, StoreError> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{FIELD} where account_id = $1 and field like $2 escape '\\' order by field"
    )))
    .bind(account_id)
    .bind(like_prefix(prefix))
    .fetch_all(pool)
    .await?)
}

pub async fn delete_fields_of(conn: &mut Connection, account_id: &str) -> Result<u64, StoreError> {
    let done = sqlx::query("delete from citizen_field where account_id = $1")
        .bind(account_id)
        .execute(conn)
        .await?;
    Ok(done.rows_affected())
}

pub async fn replace_wrapped(
    conn: &mut Connection,
    old: &CitizenKeyRow,
    kek_version: i64,
    wrapped: &[u8],
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "update citizen_key set kek_version = $1, wrapped = $2 \
         where account_id = $3 and kek_version = $4 and wrapped = $5",
    )
    .bind(kek_version)
    .bind(wrapped)
    .bind(&old.account_id)
    .bind(old.kek_version)
    .bind(&old.wrapped)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn delete_indexes_in(conn: &mut Connection, account_id: &str, domain: &str) -> Result<u64, StoreError> {
    let done = sqlx::query("delete from blind_index where account_id = $1 and domain = $2")
        .bind(account_id)
        .bind(domain)
        .execute(conn)
        .await?;
    Ok(done.rows_affected())
}

pub async fn read_key(pool: &Pool, account_id: &str) -> Result<Option<CitizenKeyRow>, StoreError> {
    Ok(
        sqlx::query_as(sqlx::AssertSqlSafe(format!("{KEY} where account_id = $1")))
            .bind(account_id)
            .fetch_optional(pool)
            .await?,
    )
}

pub async fn keys_to_rewrap(
    pool: &Pool,
    active: i64,
    after: &str,
    limit: i64,
) -> Result<Vec<CitizenKeyRow>, StoreError> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{KEY} where kek_version <> $1 and account_id > $2 order by account_id limit $3"
    )))
    .bind(active)
    .bind(after)
    .bind(limit)
    .fetch_all(pool)
    .await?)
}

pub async fn accounts_with_keys(pool: &Pool, after: &str, limit: i64) -> Result<Vec<String>, StoreError> {
    let rows: Vec<(String,)> =
        sqlx::query_as("select account_id from citizen_key where account_id > $1 order by account_id limit $2")
            .bind(after)
            .bind(limit)
            .fetch_all(pool)
            .await?;
    Ok(rows.into_iter().map(|(a,)| a).collect())
}

pub async fn read_accounts_by_index(pool: &Pool, domain: &str, digest: &[u8]) -> Result<Vec<String>, StoreError> {
    let rows: Vec<(String,)> =
        sqlx::query_as("select account_id from blind_index where domain = $1 and digest = $2 order by account_id")
            .bind(domain)
            .bind(digest)
            .fetch_all(pool)
            .await?;
    Ok(rows.into_iter().map(|(a,)| a).collect())
}

pub async fn delete_field(conn: &mut Connection, account_id: &str, name: &str) -> Result<bool, StoreError> {
    let done = sqlx::query("delete from citizen_field where account_id = $1 and field = $2")
        .bind(account_id)
        .bind(name)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}
