//! What the vault may ask of the database: wrapped data keys, sealed
//! fields and blind indexes. Only ciphertext and digests pass through here.

use super::{Conn, Db, StoreError, Tx, postgres, sqlite};

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct CitizenKeyRow {
    pub account_id: String,
    pub dek_version: i64,
    pub kek_version: i64,
    pub wrapped: Vec<u8>,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct FieldRow {
    pub account_id: String,
    pub field: String,
    pub record_version: i64,
    pub sealed: Vec<u8>,
    pub updated_at: i64,
}

macro_rules! on_conn {
    ($tx:expr, $f:ident $(, $arg:expr)*) => {
        match $tx.conn().await? {
            Conn::Sqlite(c) => sqlite::vault::$f(c $(, $arg)*).await,
            Conn::Postgres(c) => postgres::vault::$f(c $(, $arg)*).await,
        }
    };
}

pub async fn insert_key(tx: &mut Tx<'_>, row: &CitizenKeyRow) -> Result<(), StoreError> {
    on_conn!(tx, insert_key, row)
}

pub async fn key_of(tx: &mut Tx<'_>, account_id: &str) -> Result<Option<CitizenKeyRow>, StoreError> {
    on_conn!(tx, key_of, account_id)
}

/// Destroys a citizen's data key: everything sealed under it is gone.
pub async fn delete_key(tx: &mut Tx<'_>, account_id: &str) -> Result<bool, StoreError> {
    on_conn!(tx, delete_key, account_id)
}

pub async fn upsert_field(tx: &mut Tx<'_>, row: &FieldRow) -> Result<(), StoreError> {
    on_conn!(tx, upsert_field, row)
}

pub async fn field(tx: &mut Tx<'_>, account_id: &str, name: &str) -> Result<Option<FieldRow>, StoreError> {
    on_conn!(tx, field, account_id, name)
}

pub async fn put_index(tx: &mut Tx<'_>, domain: &str, digest: &[u8], account_id: &str) -> Result<(), StoreError> {
    on_conn!(tx, put_index, domain, digest, account_id)
}

pub async fn accounts_by_index(tx: &mut Tx<'_>, domain: &str, digest: &[u8]) -> Result<Vec<String>, StoreError> {
    on_conn!(tx, accounts_by_index, domain, digest)
}

pub async fn delete_indexes_of(tx: &mut Tx<'_>, account_id: &str) -> Result<u64, StoreError> {
    on_conn!(tx, delete_indexes_of, account_id)
}

/// How many data keys each KEK version still wraps.
pub async fn keys_per_kek(db: &Db) -> Result<Vec<(i64, i64)>, StoreError> {
    match db {
        Db::Sqlite(d) => sqlite::vault::keys_per_kek(d.read_pool()).await,
        Db::Postgres(d) => postgres::vault::keys_per_kek(d.pool()).await,
    }
}
