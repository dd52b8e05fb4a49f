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

/// Each witness's latest cosignature.
pub async fn latest(db: &Db) -> Result<Vec<CosignatureRow>, StoreError> {
    let sql = "select c.witness, c.tree_size, c.cosignature, c.time_s from audit_cosignature c \
               join (select witness, max(tree_size) as tree_size from audit_cosignature group by witness) m \
               on m.witness = c.witness and m.tree_size = c.tree_size order by c.witness";
    on_db!(db, |pool| Ok(sqlx::query_as(sql).fetch_all(pool).await?))
}
