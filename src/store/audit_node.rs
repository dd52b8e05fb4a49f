//! The audit tree's stored nodes (`audit_node`): the root of every
//! complete subtree whose height is a multiple of eight, written with the
//! events that complete it. Proofs are built from them and a few leaves,
//! so an inclusion or consistency proof reads a few hundred rows whatever
//! the size of the log.

use sqlx::QueryBuilder;

use super::{Conn, Db, StoreError, Tx};

/// One stored node: the subtree of `2^height` leaves starting at leaf
/// `idx << height`.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct NodeRow {
    pub height: i64,
    pub idx: i64,
    pub hash: Vec<u8>,
}

/// Rows per insert statement (3 parameters each).
const ROWS_PER_INSERT: usize = 1000;

/// A node is a function of the leaves below it: the same node written
/// twice (a backfill meeting the writer) is the same row.
const ON_CONFLICT: &str = " on conflict (height, idx) do nothing";

/// Inserts nodes on the writer's connection, inside its transaction.
pub(super) async fn insert(conn: &mut Conn<'_>, nodes: &[NodeRow]) -> Result<(), StoreError> {
    for chunk in nodes.chunks(ROWS_PER_INSERT) {
        match &mut *conn {
            Conn::Sqlite(c) => {
                let mut q = QueryBuilder::new("insert into audit_node (height, idx, hash) ");
                q.push_values(chunk, |mut b, n| {
                    b.push_bind(n.height).push_bind(n.idx).push_bind(&n.hash);
                });
                q.push(ON_CONFLICT);
                q.build().execute(&mut **c).await?;
            }
            Conn::Postgres(c) => {
                let mut q = QueryBuilder::new("insert into audit_node (height, idx, hash) ");
                q.push_values(chunk, |mut b, n| {
                    b.push_bind(n.height).push_bind(n.idx).push_bind(&n.hash);
                });
                q.push(ON_CONFLICT);
                q.build().execute(&mut **c).await?;
            }
        }
    }
    Ok(())
}

/// Inserts nodes in a writer unit (the background backfill of a log
/// written before nodes were stored).
pub async fn backfill(tx: &mut Tx<'_>, nodes: &[NodeRow]) -> Result<(), StoreError> {
    let mut conn = tx.conn().await?;
    insert(&mut conn, nodes).await
}

/// Stored nodes of `height` with `from <= idx < to`, in order.
pub async fn between(db: &Db, height: i64, from: i64, to: i64) -> Result<Vec<NodeRow>, StoreError> {
    let sql = "select height, idx, hash from audit_node where height = $1 and idx >= $2 and idx < $3 order by idx";
    on_db!(db, |pool| Ok(sqlx::query_as(sql)
        .bind(height)
        .bind(from)
        .bind(to)
        .fetch_all(pool)
        .await?))
}

/// How many nodes of `height` are stored.
pub async fn count(db: &Db, height: i64) -> Result<i64, StoreError> {
    let sql = "select count(*) from audit_node where height = $1";
    on_db!(db, |pool| Ok(sqlx::query_scalar(sql)
        .bind(height)
        .fetch_one(pool)
        .await?))
}
