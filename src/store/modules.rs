//! What the module registry and module records may ask of the database.
//! Record values pass through here only sealed.

use super::{Db, StoreError, Tx};

const MODULE: &str = "select module_id, name, key_hash, created_at, revoked_at from module";
const COLLECTION: &str = "select name, module_id, fields, created_at, updated_at from collection";
const RECORD: &str = "select collection, account_id, record_id, field, record_version, sealed, updated_at \
     from record_field where collection = $1 and account_id = $2 and record_id = $3 order by field";

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ModuleRow {
    pub module_id: String,
    pub name: String,
    pub key_hash: Vec<u8>,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct CollectionRow {
    pub name: String,
    pub module_id: String,
    /// JSON, see `modules::collection`.
    pub fields: String,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct RecordFieldRow {
    pub collection: String,
    pub account_id: String,
    pub record_id: String,
    pub field: String,
    pub record_version: i64,
    pub sealed: Vec<u8>,
    pub updated_at: i64,
}

pub async fn insert_module(tx: &mut Tx<'_>, row: &ModuleRow) -> Result<(), StoreError> {
    let r = row;
    on_tx!(tx, |conn| {
        sqlx::query(
            "insert into module (module_id, name, key_hash, created_at, revoked_at) values ($1, $2, $3, $4, $5)",
        )
        .bind(&r.module_id)
        .bind(&r.name)
        .bind(&r.key_hash)
        .bind(r.created_at)
        .bind(r.revoked_at)
        .execute(conn)
        .await
        .map_err(StoreError::from_write)?;
        Ok(())
    })
}

/// A revoked module registered again: a new key, the same module (its
/// collections and records stay its own). Its old client credentials,
/// grants, redirect and logout addresses are forgotten, and the tokens
/// issued before now stay refused.
pub async fn reactivate_module(tx: &mut Tx<'_>, name: &str, key_hash: &[u8]) -> Result<Option<String>, StoreError> {
    on_tx!(tx, |conn| {
        let id: Option<(String,)> = sqlx::query_as(
            "update module set key_hash = $2, revoked_at = null, client_auth = 'private_key_jwt', jwks = null, jwks_uri = null, \
             secret_hash = null, tls_subject = null, tokens_not_before = $3, redirect_uris = '[]', \
             grant_types = '[\"client_credentials\"]', backchannel_logout_uri = null, post_logout_redirect_uris = '[]' \
             where name = $1 and revoked_at is not null returning module_id",
        )
        .bind(name)
        .bind(key_hash)
        .bind(time::OffsetDateTime::now_utc().unix_timestamp())
        .fetch_optional(conn)
        .await
        .map_err(StoreError::from_write)?;
        Ok(id.map(|(id,)| id))
    })
}

pub async fn revoke_module(tx: &mut Tx<'_>, name: &str, now: i64) -> Result<bool, StoreError> {
    on_tx!(tx, |conn| {
        let done = sqlx::query("update module set revoked_at = $2 where name = $1 and revoked_at is null")
            .bind(name)
            .bind(now)
            .execute(conn)
            .await?;
        Ok(done.rows_affected() == 1)
    })
}

/// The module holding this API key hash, revoked or not.
pub async fn module_by_key_hash(db: &Db, key_hash: &[u8]) -> Result<Option<ModuleRow>, StoreError> {
    on_db!(db, |pool| {
        let sql = sqlx::AssertSqlSafe(format!("{MODULE} where key_hash = $1"));
        Ok(sqlx::query_as(sql).bind(key_hash).fetch_optional(pool).await?)
    })
}

pub async fn modules(db: &Db) -> Result<Vec<ModuleRow>, StoreError> {
    on_db!(db, |pool| {
        let sql = sqlx::AssertSqlSafe(format!("{MODULE} order by name"));
        Ok(sqlx::query_as(sql).fetch_all(pool).await?)
    })
}

pub async fn upsert_collection(tx: &mut Tx<'_>, row: &CollectionRow) -> Result<(), StoreError> {
    let r = row;
    on_tx!(tx, |conn| {
        sqlx::query(
            "insert into collection (name, module_id, fields, created_at, updated_at) values ($1, $2, $3, $4, $5) \
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
    })
}

pub async fn collection_tx(tx: &mut Tx<'_>, name: &str) -> Result<Option<CollectionRow>, StoreError> {
    on_tx!(tx, |exec| {
        let sql = sqlx::AssertSqlSafe(format!("{COLLECTION} where name = $1"));
        Ok(sqlx::query_as(sql).bind(name).fetch_optional(exec).await?)
    })
}

pub async fn collection(db: &Db, name: &str) -> Result<Option<CollectionRow>, StoreError> {
    on_db!(db, |exec| {
        let sql = sqlx::AssertSqlSafe(format!("{COLLECTION} where name = $1"));
        Ok(sqlx::query_as(sql).bind(name).fetch_optional(exec).await?)
    })
}

/// Stores sealed record fields (each key at most once), replacing those
/// that exist, in one statement.
pub async fn upsert_record_fields(tx: &mut Tx<'_>, rows: &[RecordFieldRow]) -> Result<(), StoreError> {
    if rows.is_empty() {
        return Ok(());
    }
    on_tx!(tx, |conn| {
        let mut q = sqlx::QueryBuilder::new(
            "insert into record_field (collection, account_id, record_id, field, record_version, sealed, updated_at) ",
        );
        q.push_values(rows, |mut b, r| {
            b.push_bind(&r.collection)
                .push_bind(&r.account_id)
                .push_bind(&r.record_id)
                .push_bind(&r.field)
                .push_bind(r.record_version)
                .push_bind(&r.sealed)
                .push_bind(r.updated_at);
        });
        q.push(
            " on conflict (collection, account_id, record_id, field) do update \
             set record_version = excluded.record_version, sealed = excluded.sealed, updated_at = excluded.updated_at",
        );
        q.build().execute(conn).await?;
        Ok(())
    })
}

/// One record's fields inside a unit (for the next record version).
pub async fn record_tx(
    tx: &mut Tx<'_>,
    collection: &str,
    account_id: &str,
    record_id: &str,
) -> Result<Vec<RecordFieldRow>, StoreError> {
    on_tx!(tx, |exec| {
        Ok(sqlx::query_as(RECORD)
            .bind(collection)
            .bind(account_id)
            .bind(record_id)
            .fetch_all(exec)
            .await?)
    })
}

/// One record's sealed fields (read side).
pub async fn record(
    db: &Db,
    collection: &str,
    account_id: &str,
    record_id: &str,
) -> Result<Vec<RecordFieldRow>, StoreError> {
    on_db!(db, |exec| {
        Ok(sqlx::query_as(RECORD)
            .bind(collection)
            .bind(account_id)
            .bind(record_id)
            .fetch_all(exec)
            .await?)
    })
}

pub async fn delete_record(
    tx: &mut Tx<'_>,
    collection: &str,
    account_id: &str,
    record_id: &str,
) -> Result<u64, StoreError> {
    on_tx!(tx, |conn| {
        let done = sqlx::query("delete from record_field where collection = $1 and account_id = $2 and record_id = $3")
            .bind(collection)
            .bind(account_id)
            .bind(record_id)
            .execute(conn)
            .await?;
        Ok(done.rows_affected())
    })
}

/// Every record field of a citizen, in all collections (erasure).
pub async fn delete_records_of(tx: &mut Tx<'_>, account_id: &str) -> Result<u64, StoreError> {
    on_tx!(tx, |conn| {
        let done = sqlx::query("delete from record_field where account_id = $1")
            .bind(account_id)
            .execute(conn)
            .await?;
        Ok(done.rows_affected())
    })
}

pub async fn delete_record_field(
    tx: &mut Tx<'_>,
    collection: &str,
    account_id: &str,
    record_id: &str,
    field: &str,
) -> Result<bool, StoreError> {
    on_tx!(tx, |conn| {
        let done = sqlx::query(
            "delete from record_field where collection = $1 and account_id = $2 and record_id = $3 and field = $4",
        )
        .bind(collection)
        .bind(account_id)
        .bind(record_id)
        .bind(field)
        .execute(conn)
        .await?;
        Ok(done.rows_affected() == 1)
    })
}

/// Every record field a citizen has, in all collections (read side), in
/// collection, record and field order.
/// The fields of several records of one collection, in one query, ordered
/// by citizen, record and field.
pub async fn records_in(
    db: &Db,
    collection: &str,
    records: &[(&str, &str)],
) -> Result<Vec<RecordFieldRow>, StoreError> {
    if records.is_empty() {
        return Ok(Vec::new());
    }
    on_db!(db, |pool| {
        let mut q = sqlx::QueryBuilder::new(
            "select collection, account_id, record_id, field, record_version, sealed, updated_at \
             from record_field where collection = ",
        );
        q.push_bind(collection);
        q.push(" and (account_id, record_id) in (");
        let mut list = q.separated(", ");
        for (account_id, record_id) in records {
            list.push("(");
            list.push_bind_unseparated(*account_id);
            list.push_unseparated(", ");
            list.push_bind_unseparated(*record_id);
            list.push_unseparated(")");
        }
        q.push(") order by account_id, record_id, field");
        Ok(q.build_query_as().fetch_all(pool).await?)
    })
}

pub async fn records_of(db: &Db, account_id: &str) -> Result<Vec<RecordFieldRow>, StoreError> {
    on_db!(db, |pool| {
        Ok(sqlx::query_as(
            "select collection, account_id, record_id, field, record_version, sealed, updated_at from record_field \
             where account_id = $1 order by collection, record_id, field",
        )
        .bind(account_id)
        .fetch_all(pool)
        .await?)
    })
}

/// When each stored record field was last written (no values).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct FieldStamp {
    pub collection: String,
    pub account_id: String,
    pub record_id: String,
    pub field: String,
    pub updated_at: i64,
}

/// Every record field's stamp (for the retention sweep).
pub async fn field_stamps(db: &Db) -> Result<Vec<FieldStamp>, StoreError> {
    on_db!(db, |pool| {
        Ok(sqlx::query_as(
            "select collection, account_id, record_id, field, updated_at from record_field \
             order by account_id, collection, record_id, field",
        )
        .fetch_all(pool)
        .await?)
    })
}

/// Deletes one record field if it was not written since `updated_at`.
pub async fn delete_record_field_written_at(
    tx: &mut Tx<'_>,
    collection: &str,
    account_id: &str,
    record_id: &str,
    field: &str,
    updated_at: i64,
) -> Result<bool, StoreError> {
    on_tx!(tx, |conn| {
        let done = sqlx::query(
            "delete from record_field where collection = $1 and account_id = $2 and record_id = $3 \
             and field = $4 and updated_at = $5",
        )
        .bind(collection)
        .bind(account_id)
        .bind(record_id)
        .bind(field)
        .bind(updated_at)
        .execute(conn)
        .await?;
        Ok(done.rows_affected() == 1)
    })
}
