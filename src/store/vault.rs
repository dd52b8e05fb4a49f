//! What the vault may ask of the database: wrapped data keys, sealed
//! fields and blind indexes. Only ciphertext and digests pass through here.

use super::{Db, StoreError, Tx};

const FIELD: &str = "select account_id, field, record_version, sealed, updated_at from citizen_field";
const KEY: &str = "select account_id, dek_version, kek_version, wrapped, created_at from citizen_key";

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

pub async fn insert_key(tx: &mut Tx<'_>, row: &CitizenKeyRow) -> Result<(), StoreError> {
    let r = row;
    on_tx!(tx, |conn| {
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
    })
}

pub async fn key_of(tx: &mut Tx<'_>, account_id: &str) -> Result<Option<CitizenKeyRow>, StoreError> {
    on_tx!(tx, |conn| {
        Ok(sqlx::query_as(
            "select account_id, dek_version, kek_version, wrapped, created_at from citizen_key where account_id = $1",
        )
        .bind(account_id)
        .fetch_optional(conn)
        .await?)
    })
}

/// Destroys a citizen's data key: everything sealed under it is gone.
pub async fn delete_key(tx: &mut Tx<'_>, account_id: &str) -> Result<bool, StoreError> {
    on_tx!(tx, |conn| {
        let done = sqlx::query("delete from citizen_key where account_id = $1")
            .bind(account_id)
            .execute(conn)
            .await?;
        Ok(done.rows_affected() == 1)
    })
}

pub async fn upsert_field(tx: &mut Tx<'_>, row: &FieldRow) -> Result<(), StoreError> {
    let r = row;
    on_tx!(tx, |conn| {
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
    })
}

pub async fn field(tx: &mut Tx<'_>, account_id: &str, name: &str) -> Result<Option<FieldRow>, StoreError> {
    on_tx!(tx, |conn| {
        Ok(sqlx::query_as(
            "select account_id, field, record_version, sealed, updated_at from citizen_field \
             where account_id = $1 and field = $2",
        )
        .bind(account_id)
        .bind(name)
        .fetch_optional(conn)
        .await?)
    })
}

pub async fn put_index(tx: &mut Tx<'_>, domain: &str, digest: &[u8], account_id: &str) -> Result<(), StoreError> {
    on_tx!(tx, |conn| {
        sqlx::query("insert into blind_index (domain, digest, account_id) values ($1, $2, $3) on conflict do nothing")
            .bind(domain)
            .bind(digest)
            .bind(account_id)
            .execute(conn)
            .await?;
        Ok(())
    })
}

pub async fn delete_indexes_of(tx: &mut Tx<'_>, account_id: &str) -> Result<u64, StoreError> {
    on_tx!(tx, |conn| {
        let done = sqlx::query("delete from blind_index where account_id = $1")
            .bind(account_id)
            .execute(conn)
            .await?;
        Ok(done.rows_affected())
    })
}

/// How many data keys each KEK version still wraps.
pub async fn keys_per_kek(db: &Db) -> Result<Vec<(i64, i64)>, StoreError> {
    on_db!(db, |pool| {
        Ok(
            sqlx::query_as("select kek_version, count(*) from citizen_key group by kek_version order by kek_version")
                .fetch_all(pool)
                .await?,
        )
    })
}

/// Deletes every sealed field of a citizen (erasure).
pub async fn delete_fields_of(tx: &mut Tx<'_>, account_id: &str) -> Result<u64, StoreError> {
    on_tx!(tx, |conn| {
        let done = sqlx::query("delete from citizen_field where account_id = $1")
            .bind(account_id)
            .execute(conn)
            .await?;
        Ok(done.rows_affected())
    })
}

/// Replaces a wrapped data key if it is still the one read (`old`): a
/// concurrent rewrap or erasure wins and this returns false.
pub async fn replace_wrapped(
    tx: &mut Tx<'_>,
    old: &CitizenKeyRow,
    kek_version: i64,
    wrapped: &[u8],
) -> Result<bool, StoreError> {
    on_tx!(tx, |conn| {
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
    })
}

/// Digests of one citizen's blind indexes in `domain` are replaced by `digests`.
pub async fn replace_indexes(
    tx: &mut Tx<'_>,
    account_id: &str,
    domain: &str,
    digests: &[Vec<u8>],
) -> Result<(), StoreError> {
    on_tx!(tx, |conn| {
        sqlx::query("delete from blind_index where account_id = $1 and domain = $2")
            .bind(account_id)
            .bind(domain)
            .execute(conn)
            .await?;
    });
    for digest in digests {
        put_index(tx, domain, digest, account_id).await?;
    }
    Ok(())
}

/// Read side (no write lock): a citizen's wrapped data key.
/// The data keys of `account_ids`, in one query (a batch read unwraps
/// each citizen's key once).
pub async fn read_keys(db: &Db, account_ids: &[&str]) -> Result<Vec<CitizenKeyRow>, StoreError> {
    if account_ids.is_empty() {
        return Ok(Vec::new());
    }
    on_db!(db, |pool| {
        let mut q = sqlx::QueryBuilder::new(format!("{KEY} where account_id in ("));
        let mut list = q.separated(", ");
        for id in account_ids {
            list.push_bind(*id);
        }
        q.push(")");
        Ok(q.build_query_as().fetch_all(pool).await?)
    })
}

pub async fn read_key(db: &Db, account_id: &str) -> Result<Option<CitizenKeyRow>, StoreError> {
    on_db!(db, |pool| {
        Ok(
            sqlx::query_as(sqlx::AssertSqlSafe(format!("{KEY} where account_id = $1")))
                .bind(account_id)
                .fetch_optional(pool)
                .await?,
        )
    })
}

/// Read side: a citizen's sealed fields whose names start with `prefix`.
pub async fn read_fields(db: &Db, account_id: &str, prefix: &str) -> Result<Vec<FieldRow>, StoreError> {
    on_db!(db, |pool| {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{FIELD} where account_id = $1 and field like $2 escape '\\' order by field"
        )))
        .bind(account_id)
        .bind(like_prefix(prefix))
        .fetch_all(pool)
        .await?)
    })
}

/// Up to `limit` data keys not wrapped by `active`, after `after` (account id order).
pub async fn keys_to_rewrap(db: &Db, active: i64, after: &str, limit: i64) -> Result<Vec<CitizenKeyRow>, StoreError> {
    on_db!(db, |pool| {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{KEY} where kek_version <> $1 and account_id > $2 order by account_id limit $3"
        )))
        .bind(active)
        .bind(after)
        .bind(limit)
        .fetch_all(pool)
        .await?)
    })
}

/// Accounts that hold any data key, in id order after `after`.
pub async fn accounts_with_keys(db: &Db, after: &str, limit: i64) -> Result<Vec<String>, StoreError> {
    on_db!(db, |pool| {
        let rows: Vec<(String,)> =
            sqlx::query_as("select account_id from citizen_key where account_id > $1 order by account_id limit $2")
                .bind(after)
                .bind(limit)
                .fetch_all(pool)
                .await?;
        Ok(rows.into_iter().map(|(a,)| a).collect())
    })
}

/// Accounts whose blind indexes in `domain` hold `digest` (read side).
pub async fn read_accounts_by_index(db: &Db, domain: &str, digest: &[u8]) -> Result<Vec<String>, StoreError> {
    on_db!(db, |pool| {
        let rows: Vec<(String,)> =
            sqlx::query_as("select account_id from blind_index where domain = $1 and digest = $2 order by account_id")
                .bind(domain)
                .bind(digest)
                .fetch_all(pool)
                .await?;
        Ok(rows.into_iter().map(|(a,)| a).collect())
    })
}

pub async fn delete_field(tx: &mut Tx<'_>, account_id: &str, name: &str) -> Result<bool, StoreError> {
    on_tx!(tx, |conn| {
        let done = sqlx::query("delete from citizen_field where account_id = $1 and field = $2")
            .bind(account_id)
            .bind(name)
            .execute(conn)
            .await?;
        Ok(done.rows_affected() == 1)
    })
}

/// A LIKE pattern matching values that start with `prefix` (its `%`, `_`
/// and `\` escaped; the statements say `escape '\'`).
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
