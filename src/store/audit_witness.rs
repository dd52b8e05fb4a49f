//! Witnesses' cosignatures of the audit log's checkpoints.

use super::{Db, StoreError, Tx};

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct CosignatureRow {
    pub witness: String,
    pub tree_size: i64,
    /// The signature line, as the witness returned it.
    pub cosignature: String,
    /// When the witness signed (Unix seconds, its clock).
    pub time_s: i64,
}

pub async fn insert(tx: &mut Tx<'_>, row: &CosignatureRow) -> Result<(), StoreError> {
    on_tx!(tx, |c| {
        sqlx::query(
            "insert into audit_cosignature (witness, tree_size, cosignature, time_s) values ($1, $2, $3, $4) \
             on conflict (witness, tree_size) do nothing",
        )
        .bind(&row.witness)
        .bind(row.tree_size)
        .bind(&row.cosignature)
        .bind(row.time_s)
        .execute(&mut *c)
        .await?;
        Ok(())
    })
}

/// A witness's latest cosignature (the primary key's order: one index
/// step, however many it has given).
pub async fn latest(db: &Db, witness: &str) -> Result<Option<CosignatureRow>, StoreError> {
    let sql = "select witness, tree_size, cosignature, time_s from audit_cosignature where witness = $1 \
               order by tree_size desc limit 1";
    on_db!(db, |pool| Ok(sqlx::query_as(sql)
        .bind(witness)
        .fetch_optional(pool)
        .await?))
}
