//! Module registry and module records SQL for SQLite.

use sqlx::{SqliteConnection as Connection, SqlitePool as Pool};

use crate::store::StoreError;
use crate::store::modules::{CollectionRow, ModuleRow, RecordFieldRow};

const MODULE: &str = "select module_id, name, key_hash, created_at, revoked_at from module";
const COLLECTION: &str = "select name, module_id, fields, created_at, updated_at from collection";
const RECORD: &str = "select collection, account_id, record_id, field, record_version, sealed, updated_at \
     from record_field where collection = ?1 and account_id = ?2 and record_id = ?3 order by field";

pub async fn insert_module(conn: &mut Connection, r: &ModuleRow) -> Result<(), StoreError> {
    sqlx::query("insert into module (module_id, name, key_hash, created_at, revoked_at) values (?1, ?2, ?3, ?4, ?5)")
        .bind(&r.module_id)
        .bind(&r.name)
        .bind(&r.key_hash)
        .bind(r.created_at)
        .bind(r.revoked_at)
        .execute(conn)
        .await
        .map_err(StoreError::from_write)?;
    Ok(())
}

pub async fn revoke_module(conn: &mut Connection, name: &str, now: i64) -> Result<bool, StoreError> {
    let done = sqlx::query("update module set revoked_at = ?2 where name = ?1 and revoked_at is null")
        .bind(name)
        .bind(now)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Gives a revoked module a new key hash and makes it live again; returns
/// its id, or `None` if no revoked module has that name.
pub async fn reactivate_module(
    conn: &mut Connection,
    name: &str,
    key_hash: &[u8],
) -> Result<Option<String>, StoreError> {
    let id: Option<(String,)> = sqlx::query_as(
        "update module set key_hash = ?2, revoked_at = null where name = ?1 and revoked_at is not null \
         returning module_id",
    )
    .bind(name)
    .bind(key_hash)
    .fetch_optional(conn)
    .await
    .map_err(StoreError::from_write)?;
    Ok(id.map(|(id,)| id))
}

pub async fn module_by_key_hash(pool: &Pool, key_hash: &[u8]) -> Result<Option<ModuleRow>, StoreError> {
    let sql = sqlx::AssertSqlSafe(format!("{MODULE} where key_hash = ?1"));
    Ok(sqlx::query_as(sql).bind(key_hash).fetch_optional(pool).await?)
}

pub async fn modules(pool: &Pool) -> Result<Vec<ModuleRow>, StoreError> {
    let sql = sqlx::AssertSqlSafe(format!("{MODULE} order by name"));
    Ok(sqlx::query_as(sql).fetch_all(pool).await?)
}

pub async fn upsert_collection(conn: &mut Connection, r: &CollectionRow) -> Result<(), StoreError> {
    sqlx::query(
        "insert into collection (name, module_id, fields, created_at, updated_at) values (?1, ?2, ?3, ?4, ?5) \
         on conflict (name) do update set fields = excluded.fields, updated_at = excluded.updated_at \
         where collection.module_id = excluded.module_id",
    )
    .bind(&r.name)
    .bind(&r.module_id)
    .bind(&r.fields)
    .bind(r.created_at)
    .bind(r.updated_at)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn collection<'e, E>(exec: E, name: &str) -> Result<Option<CollectionRow>, StoreError>
where
    E: sqlx::SqliteExecutor<'e>,
{
    let sql = sqlx::AssertSqlSafe(format!("{COLLECTION} where name = ?1"));
    Ok(sqlx::query_as(sql).bind(name).fetch_optional(exec).await?)
}

pub async fn upsert_record_field(conn: &mut Connection, r: &RecordFieldRow) -> Result<(), StoreError> {
    sqlx::query(
        "insert into record_field (collection, account_id, record_id, field, record_version, sealed, updated_at) \
         values (?1, ?2, ?3, ?4, ?5, ?6, ?7) on conflict (collection, account_id, record_id, field) do update \
         set record_version = excluded.record_version, sealed = excluded.sealed, updated_at = excluded.updated_at",
    )
    .bind(&r.collection)
    .bind(&r.account_id)
    .bind(&r.record_id)
    .bind(&r.field)
    .bind(r.record_version)
    .bind(&r.sealed)
    .bind(r.updated_at)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn record<'e, E>(
    exec: E,
    collection: &str,
    account_id: &str,
    record_id: &str,
) -> Result<Vec<RecordFieldRow>, StoreError>
where
    E: sqlx::SqliteExecutor<'e>,
{
    Ok(sqlx::query_as(RECORD)
        .bind(collection)
        .bind(account_id)
        .bind(record_id)
        .fetch_all(exec)
        .await?)
}

pub async fn delete_record(
    conn: &mut Connection,
    collection: &str,
    account_id: &str,
    record_id: &str,
) -> Result<u64, StoreError> {
    let done = sqlx::query("delete from record_field where collection = ?1 and account_id = ?2 and record_id = ?3")
        .bind(collection)
        .bind(account_id)
        .bind(record_id)
        .execute(conn)
        .await?;
    Ok(done.rows_affected())
}

pub async fn delete_records_of(conn: &mut Connection, account_id: &str) -> Result<u64, StoreError> {
    let done = sqlx::query("delete from record_field where account_id = ?1")
        .bind(account_id)
        .execute(conn)
        .await?;
    Ok(done.rows_affected())
}

pub async fn delete_record_field(
    conn: &mut Connection,
    collection: &str,
    account_id: &str,
    record_id: &str,
    field: &str,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "delete from record_field where collection = ?1 and account_id = ?2 and record_id = ?3 and field = ?4",
    )
    .bind(collection)
    .bind(account_id)
    .bind(record_id)
    .bind(field)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn records_of(pool: &Pool, account_id: &str) -> Result<Vec<RecordFieldRow>, StoreError> {
    Ok(sqlx::query_as(
        "select collection, account_id, record_id, field, record_version, sealed, updated_at from record_field \
         where account_id = ?1 order by collection, record_id, field",
    )
    .bind(account_id)
    .fetch_all(pool)
    .await?)
}
