//! Accounts: created, found (by id, pseudonym, NIK index), their status,
//! unit and roles, and the row lock that orders changes to one account.

use super::{ACCOUNT, AccountRow, Status};
use crate::store::{Conn, Db, StoreError, Tx};

pub async fn insert_account(tx: &mut Tx<'_>, row: &AccountRow) -> Result<(), StoreError> {
    let r = row;
    on_tx!(tx, |conn| {
        sqlx::query(
            "insert into account (account_id, kind, user_handle, pseudonym, status, verified, flag, display_name, nik, \
             nik_index, unit, created_at, updated_at) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        )
        .bind(&r.account_id)
        .bind(r.kind)
        .bind(&r.user_handle)
        .bind(&r.pseudonym)
        .bind(r.status)
        .bind(r.verified)
        .bind(&r.flag)
        .bind(&r.display_name)
        .bind(&r.nik)
        .bind(&r.nik_index)
        .bind(&r.unit)
        .bind(r.created_at)
        .bind(r.updated_at)
        .execute(conn)
        .await
        .map_err(StoreError::from_write)?;
        Ok(())
    })
}

/// The account holding this NIK index, if any that is not suspended.
pub async fn account_by_nik_index(tx: &mut Tx<'_>, index: &[u8]) -> Result<Option<AccountRow>, StoreError> {
    on_tx!(tx, |conn| {
        let sql = sqlx::AssertSqlSafe(format!(
            "{ACCOUNT} where nik_index = $1 and status not in ('suspended', 'erased')"
        ));
        Ok(sqlx::query_as(sql).bind(index).fetch_optional(conn).await?)
    })
}

pub async fn account_by_id_tx(tx: &mut Tx<'_>, id: &str) -> Result<Option<AccountRow>, StoreError> {
    on_tx!(tx, |exec| {
        let sql = sqlx::AssertSqlSafe(format!("{ACCOUNT} where account_id = $1"));
        Ok(sqlx::query_as(sql).bind(id).fetch_optional(exec).await?)
    })
}

pub async fn account_by_id(db: &Db, id: &str) -> Result<Option<AccountRow>, StoreError> {
    on_db!(db, |exec| {
        let sql = sqlx::AssertSqlSafe(format!("{ACCOUNT} where account_id = $1"));
        Ok(sqlx::query_as(sql).bind(id).fetch_optional(exec).await?)
    })
}

pub async fn set_status(
    tx: &mut Tx<'_>,
    id: &str,
    status: Status,
    flag: Option<&str>,
    now: i64,
) -> Result<(), StoreError> {
    on_tx!(tx, |conn| {
        sqlx::query("update account set status = $2, flag = coalesce($3, flag), updated_at = $4 where account_id = $1")
            .bind(id)
            .bind(status)
            .bind(flag)
            .bind(now)
            .execute(conn)
            .await?;
        Ok(())
    })
}

/// Every officer account, oldest first.
pub async fn officers(db: &Db) -> Result<Vec<AccountRow>, StoreError> {
    on_db!(db, |pool| {
        let sql = sqlx::AssertSqlSafe(format!("{ACCOUNT} where kind = 'officer' order by created_at"));
        Ok(sqlx::query_as(sql).fetch_all(pool).await?)
    })
}

/// Records the unit (office) an officer works for.
pub async fn set_unit(tx: &mut Tx<'_>, id: &str, unit: &str, now: i64) -> Result<(), StoreError> {
    on_tx!(tx, |conn| {
        sqlx::query("update account set unit = $2, updated_at = $3 where account_id = $1 and kind = 'officer'")
            .bind(id)
            .bind(unit)
            .bind(now)
            .execute(conn)
            .await?;
        Ok(())
    })
}

pub async fn insert_role(tx: &mut Tx<'_>, id: &str, role: &str) -> Result<(), StoreError> {
    on_tx!(tx, |conn| {
        sqlx::query("insert into officer_role (account_id, role) values ($1, $2) on conflict do nothing")
            .bind(id)
            .bind(role)
            .execute(conn)
            .await?;
        Ok(())
    })
}

pub async fn delete_roles(tx: &mut Tx<'_>, id: &str) -> Result<(), StoreError> {
    on_tx!(tx, |conn| {
        sqlx::query("delete from officer_role where account_id = $1")
            .bind(id)
            .execute(conn)
            .await?;
        Ok(())
    })
}

/// Active officers holding `role`.
pub async fn active_with_role(tx: &mut Tx<'_>, role: &str) -> Result<i64, StoreError> {
    on_tx!(tx, |conn| {
        Ok(sqlx::query_scalar(
            "select count(*) from officer_role r join account a on a.account_id = r.account_id \
             where r.role = $1 and a.status = 'active'",
        )
        .bind(role)
        .fetch_one(conn)
        .await?)
    })
}

/// An account's roles, inside a unit.
pub async fn roles_tx(tx: &mut Tx<'_>, id: &str) -> Result<Vec<String>, StoreError> {
    on_tx!(tx, |conn| {
        let rows: Vec<(String,)> = sqlx::query_as("select role from officer_role where account_id = $1 order by role")
            .bind(id)
            .fetch_all(conn)
            .await?;
        Ok(rows.into_iter().map(|(r,)| r).collect())
    })
}

pub async fn roles(db: &Db, id: &str) -> Result<Vec<String>, StoreError> {
    on_db!(db, |pool| {
        let rows: Vec<(String,)> = sqlx::query_as("select role from officer_role where account_id = $1 order by role")
            .bind(id)
            .fetch_all(pool)
            .await?;
        Ok(rows.into_iter().map(|(r,)| r).collect())
    })
}

pub async fn set_verified(tx: &mut Tx<'_>, id: &str, verified: bool, now: i64) -> Result<(), StoreError> {
    on_tx!(tx, |conn| {
        sqlx::query("update account set verified = $2, updated_at = $3 where account_id = $1")
            .bind(id)
            .bind(verified)
            .bind(now)
            .execute(conn)
            .await?;
        Ok(())
    })
}

/// Gives an account the NIK index it was enrolled for at the counter.
pub async fn set_nik_index(tx: &mut Tx<'_>, account_id: &str, index: &[u8], now: i64) -> Result<(), StoreError> {
    on_tx!(tx, |conn| {
        sqlx::query("update account set nik_index = $2, updated_at = $3 where account_id = $1")
            .bind(account_id)
            .bind(index)
            .bind(now)
            .execute(conn)
            .await
            .map_err(StoreError::from_write)?;
        Ok(())
    })
}

/// Locks one account for the rest of the unit and reads it, in one
/// statement (PostgreSQL: a row lock, which outside transactions respect
/// too; the SQLite writer already holds the database's write lock).
pub async fn lock_account(tx: &mut Tx<'_>, account_id: &str) -> Result<Option<AccountRow>, StoreError> {
    // The one statement that differs: `for update` on PostgreSQL.
    let row = match tx.conn().await? {
        Conn::Sqlite(conn) => {
            let sql = sqlx::AssertSqlSafe(format!("{ACCOUNT} where account_id = $1"));
            sqlx::query_as(sql).bind(account_id).fetch_optional(conn).await?
        }
        Conn::Postgres(conn) => {
            let sql = sqlx::AssertSqlSafe(format!("{ACCOUNT} where account_id = $1 for update"));
            sqlx::query_as(sql).bind(account_id).fetch_optional(conn).await?
        }
    };
    Ok(row)
}

/// Accounts whose NIK or name still sit in plaintext columns.
pub async fn accounts_with_plaintext(db: &Db) -> Result<Vec<AccountRow>, StoreError> {
    on_db!(db, |pool| {
        let sql = sqlx::AssertSqlSafe(format!("{ACCOUNT} where nik is not null or display_name <> ''"));
        Ok(sqlx::query_as(sql).fetch_all(pool).await?)
    })
}

pub async fn clear_plaintext(tx: &mut Tx<'_>, account_id: &str, now: i64) -> Result<(), StoreError> {
    on_tx!(tx, |conn| {
        sqlx::query("update account set nik = null, display_name = '', updated_at = $2 where account_id = $1")
            .bind(account_id)
            .bind(now)
            .execute(conn)
            .await?;
        Ok(())
    })
}

pub async fn account_by_pseudonym_tx(tx: &mut Tx<'_>, pseudonym: &str) -> Result<Option<AccountRow>, StoreError> {
    on_tx!(tx, |exec| {
        let sql = sqlx::AssertSqlSafe(format!("{ACCOUNT} where pseudonym = $1"));
        Ok(sqlx::query_as(sql).bind(pseudonym).fetch_optional(exec).await?)
    })
}

/// The accounts of several pseudonyms, in one query (unknown ones are
/// simply absent).
pub async fn accounts_by_pseudonyms(db: &Db, pseudonyms: &[&str]) -> Result<Vec<AccountRow>, StoreError> {
    if pseudonyms.is_empty() {
        return Ok(Vec::new());
    }
    on_db!(db, |pool| {
        let mut q = sqlx::QueryBuilder::new(format!("{ACCOUNT} where pseudonym in ("));
        let mut list = q.separated(", ");
        for p in pseudonyms {
            list.push_bind(*p);
        }
        q.push(")");
        Ok(q.build_query_as().fetch_all(pool).await?)
    })
}

pub async fn account_by_pseudonym(db: &Db, pseudonym: &str) -> Result<Option<AccountRow>, StoreError> {
    on_db!(db, |exec| {
        let sql = sqlx::AssertSqlSafe(format!("{ACCOUNT} where pseudonym = $1"));
        Ok(sqlx::query_as(sql).bind(pseudonym).fetch_optional(exec).await?)
    })
}

/// Marks an account erased: no NIK index, no name, no recovery codes, no usable codes.
pub async fn mark_erased(tx: &mut Tx<'_>, account_id: &str, now: i64) -> Result<(), StoreError> {
    on_tx!(tx, |conn| {
        sqlx::query(
            "update account set status = 'erased', nik = null, nik_index = null, display_name = '', flag = null, \
             updated_at = $2 where account_id = $1",
        )
        .bind(account_id)
        .bind(now)
        .execute(&mut *conn)
        .await?;
        sqlx::query("delete from recovery_code where account_id = $1")
            .bind(account_id)
            .execute(&mut *conn)
            .await?;
        sqlx::query(
            "update enrolment_code set nik_index = null, used_at = coalesce(used_at, $2) where account_id = $1",
        )
        .bind(account_id)
        .bind(now)
        .execute(conn)
        .await?;
        Ok(())
    })
}

/// Read side: the account holding this NIK index, if any that is not suspended or erased.
pub async fn account_by_nik_index_db(db: &Db, index: &[u8]) -> Result<Option<AccountRow>, StoreError> {
    on_db!(db, |conn| {
        let sql = sqlx::AssertSqlSafe(format!(
            "{ACCOUNT} where nik_index = $1 and status not in ('suspended', 'erased')"
        ));
        Ok(sqlx::query_as(sql).bind(index).fetch_optional(conn).await?)
    })
}
