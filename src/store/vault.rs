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

macro_rules! on_db {
    ($db:expr, $f:ident $(, $arg:expr)*) => {
        match $db {
            Db::Sqlite(d) => sqlite::vault::$f(d.read_pool() $(, $arg)*).await,
            Db::Postgres(d) => postgres::vault::$f(d.pool() $(, $arg)*).await,
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

pub async fn delete_indexes_of(tx: &mut Tx<'_>, account_id: &str) -> Result<u64, StoreError> {
    on_conn!(tx, delete_indexes_of, account_id)
}

/// How many data keys each KEK version still wraps.
pub async fn keys_per_kek(db: &Db) -> Result<Vec<(i64, i64)>, StoreError> {
    on_db!(db, keys_per_kek)
}

/// Deletes every sealed field of a citizen (erasure).
pub async fn delete_fields_of(tx: &mut Tx<'_>, account_id: &str) -> Result<u64, StoreError> {
    on_conn!(tx, delete_fields_of, account_id)
}

/// Replaces a wrapped data key if it is still the one read (`old`): a
/// concurrent rewrap or erasure wins and this returns false.
pub async fn replace_wrapped(
    tx: &mut Tx<'_>,
    old: &CitizenKeyRow,
    kek_version: i64,
    wrapped: &[u8],
) -> Result<bool, StoreError> {
    on_conn!(tx, replace_wrapped, old, kek_version, wrapped)
}

/// Digests of one citizen's blind indexes in `domain` are replaced by `digests`.
pub async fn replace_indexes(
    tx: &mut Tx<'_>,
    account_id: &str,
    domain: &str,
    digests: &[Vec<u8>],
) -> Result<(), StoreError> {
    on_conn!(tx, delete_indexes_in, account_id, domain)?;
    for digest in digests {
        on_conn!(tx, put_index, domain, digest, account_id)?;
    }
    Ok(())
}

/// Read side (no write lock): a citizen's wrapped data key.
pub async fn read_key(db: &Db, account_id: &str) -> Result<Option<CitizenKeyRow>, StoreError> {
    on_db!(db, read_key, account_id)
}

/// Read side: a citizen's sealed fields whose names start with `prefix`.
pub async fn read_fields(db: &Db, account_id: &str, prefix: &str) -> Result<Vec<FieldRow>, StoreError> {
    on_db!(db, read_fields, account_id, prefix)
}

/// Up to `limit` data keys not wrapped by `active`, after `after` (account id order).
pub async fn keys_to_rewrap(db: &Db, active: i64, after: &str, limit: i64) -> Result<Vec<CitizenKeyRow>, StoreError> {
    on_db!(db, keys_to_rewrap, active, after, limit)
}

/// Accounts that hold any data key, in id order after `after`.
pub async fn accounts_with_keys(db: &Db, after: &str, limit: i64) -> Result<Vec<String>, StoreError> {
    on_db!(db, accounts_with_keys, after, limit)
}

/// Accounts whose blind indexes in `domain` hold `digest` (read side).
pub async fn read_accounts_by_index(db: &Db, domain: &str, digest: &[u8]) -> Result<Vec<String>, StoreError> {
    on_db!(db, read_accounts_by_index, domain, digest)
}

pub async fn delete_field(tx: &mut Tx<'_>, account_id: &str, name: &str) -> Result<bool, StoreError> {
    on_conn!(tx, delete_field, account_id, name)
}
