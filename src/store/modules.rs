//! What the module registry and module records may ask of the database.
//! Record values pass through here only sealed.

use super::{Conn, Db, StoreError, Tx, postgres, sqlite};

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

macro_rules! on_conn {
    ($tx:expr, $f:ident $(, $arg:expr)*) => {
        match $tx.conn().await? {
            Conn::Sqlite(c) => sqlite::modules::$f(c $(, $arg)*).await,
            Conn::Postgres(c) => postgres::modules::$f(c $(, $arg)*).await,
        }
    };
}

macro_rules! on_db {
    ($db:expr, $f:ident $(, $arg:expr)*) => {
        match $db {
            Db::Sqlite(d) => sqlite::modules::$f(d.read_pool() $(, $arg)*).await,
            Db::Postgres(d) => postgres::modules::$f(d.pool() $(, $arg)*).await,
        }
    };
}

pub async fn insert_module(tx: &mut Tx<'_>, row: &ModuleRow) -> Result<(), StoreError> {
    on_conn!(tx, insert_module, row)
}

/// A revoked module registered again: a new key, the same module (its
/// collections and records stay its own).
pub async fn reactivate_module(tx: &mut Tx<'_>, name: &str, key_hash: &[u8]) -> Result<Option<String>, StoreError> {
    on_conn!(tx, reactivate_module, name, key_hash)
}

pub async fn revoke_module(tx: &mut Tx<'_>, name: &str, now: i64) -> Result<bool, StoreError> {
    on_conn!(tx, revoke_module, name, now)
}

/// The module holding this API key hash, revoked or not.
pub async fn module_by_key_hash(db: &Db, key_hash: &[u8]) -> Result<Option<ModuleRow>, StoreError> {
    on_db!(db, module_by_key_hash, key_hash)
}

pub async fn modules(db: &Db) -> Result<Vec<ModuleRow>, StoreError> {
    on_db!(db, modules)
}

pub async fn upsert_collection(tx: &mut Tx<'_>, row: &CollectionRow) -> Result<(), StoreError> {
    on_conn!(tx, upsert_collection, row)
}

pub async fn collection_tx(tx: &mut Tx<'_>, name: &str) -> Result<Option<CollectionRow>, StoreError> {
    on_conn!(tx, collection, name)
}

pub async fn collection(db: &Db, name: &str) -> Result<Option<CollectionRow>, StoreError> {
    on_db!(db, collection, name)
}

pub async fn upsert_record_field(tx: &mut Tx<'_>, row: &RecordFieldRow) -> Result<(), StoreError> {
    on_conn!(tx, upsert_record_field, row)
}

/// One record's fields inside a unit (for the next record version).
pub async fn record_tx(
    tx: &mut Tx<'_>,
    collection: &str,
    account_id: &str,
    record_id: &str,
) -> Result<Vec<RecordFieldRow>, StoreError> {
    on_conn!(tx, record, collection, account_id, record_id)
}

/// One record's sealed fields (read side).
pub async fn record(
    db: &Db,
    collection: &str,
    account_id: &str,
    record_id: &str,
) -> Result<Vec<RecordFieldRow>, StoreError> {
    on_db!(db, record, collection, account_id, record_id)
}

pub async fn delete_record(
    tx: &mut Tx<'_>,
    collection: &str,
    account_id: &str,
    record_id: &str,
) -> Result<u64, StoreError> {
    on_conn!(tx, delete_record, collection, account_id, record_id)
}

/// Every record field of a citizen, in all collections (erasure).
pub async fn delete_records_of(tx: &mut Tx<'_>, account_id: &str) -> Result<u64, StoreError> {
    on_conn!(tx, delete_records_of, account_id)
}

pub async fn delete_record_field(
    tx: &mut Tx<'_>,
    collection: &str,
    account_id: &str,
    record_id: &str,
    field: &str,
) -> Result<bool, StoreError> {
    on_conn!(tx, delete_record_field, collection, account_id, record_id, field)
}

/// Every record field a citizen has, in all collections (read side), in
/// collection, record and field order.
pub async fn records_of(db: &Db, account_id: &str) -> Result<Vec<RecordFieldRow>, StoreError> {
    on_db!(db, records_of, account_id)
}
