//! Changes to shared state that live outside the database, announced to
//! every instance sharing a PostgreSQL database (`NOTIFY jaga_changes`).
//!
//! What lives in the database (module keys, accounts, sessions) needs no
//! announcement: every request reads it there, on every instance, and no
//! instance keeps a copy. What an instance holds in memory (the key file's
//! keys, and the policies of later issues) is re-read when announced.
//!
//! On SQLite there is one instance, and the command line announces to it
//! through the `change_note` table, which the instance polls once a second.

use std::time::Duration;

use sqlx::postgres::PgListener;
use tokio::sync::mpsc;

use super::{Db, StoreError};

const CHANNEL: &str = "jaga_changes";

/// A change every instance must adopt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// The key file changed (`jaga keys rotate`, `retire`): read it again.
    Keys,
    /// The policies folder changed (`jaga policy reload`): read it again.
    Policies,
}

impl Change {
    fn as_str(self) -> &'static str {
        match self {
            Change::Keys => "keys",
            Change::Policies => "policies",
        }
    }

    fn parse(payload: &str) -> Option<Change> {
        match payload {
            "keys" => Some(Change::Keys),
            "policies" => Some(Change::Policies),
            _ => None,
        }
    }
}

/// Tells every instance listening on `db` about `change`.
pub async fn announce(db: &Db, change: Change) -> Result<(), StoreError> {
    match db {
        Db::Postgres(pg) => {
            sqlx::query("select pg_notify($1, $2)")
                .bind(CHANNEL)
                .bind(change.as_str())
                .execute(pg.pool())
                .await?;
        }
        Db::Sqlite(sq) => {
            sqlx::query("insert into change_note (change, noted_at) values ($1, $2)")
                .bind(change.as_str())
                .bind(time::OffsetDateTime::now_utc().unix_timestamp())
                .execute(sq.write_pool())
                .await?;
        }
    }
    Ok(())
}

/// Changes announced by any instance, as they arrive. After the listening
/// connection is lost and made again, [`Change::Keys`] and
/// [`Change::Policies`] are delivered once, since an announcement may have
/// been missed meanwhile. Ends when the receiver is dropped.
pub fn listen(db: &Db) -> mpsc::Receiver<Change> {
    let (tx, rx) = mpsc::channel(16);
    if let Db::Sqlite(sq) = db {
        tokio::spawn(poll_notes(sq.read_pool().clone(), tx));
        return rx;
    }
    if let Db::Postgres(pg) = db {
        let pool = pg.listen_pool().clone();
        tokio::spawn(async move {
            let mut first = true;
            loop {
                match PgListener::connect_with(&pool).await {
                    Ok(mut listener) => {
                        if let Err(e) = listener.listen(CHANNEL).await {
                            tracing::warn!(error = %e, "could not listen for shared-state changes; will retry");
                        } else {
                            if !first
                                && (tx.send(Change::Keys).await.is_err() || tx.send(Change::Policies).await.is_err())
                            {
                                return;
                            }
                            first = false;
                            if !relay(&mut listener, &tx).await {
                                return;
                            }
                        }
                    }
                    // The database was closed: the instance is stopping.
                    Err(sqlx::Error::PoolClosed) => return,
                    Err(e) => tracing::warn!(error = %e, "could not listen for shared-state changes; will retry"),
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        });
    }
    rx
}

/// SQLite: the notes written after the instance started, once a second.
async fn poll_notes(pool: sqlx::SqlitePool, tx: mpsc::Sender<Change>) {
    let newest = |pool: sqlx::SqlitePool| async move {
        sqlx::query_scalar::<_, Option<i64>>("select max(seq) from change_note")
            .fetch_one(&pool)
            .await
            .map(Option::unwrap_or_default)
    };
    let mut seen = loop {
        match newest(pool.clone()).await {
            Ok(seq) => break seq,
            Err(sqlx::Error::PoolClosed) => return,
            Err(e) => tracing::warn!(error = %e, "could not read announced changes; will retry"),
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    };
    loop {
        tokio::time::sleep(Duration::from_secs(1)).await;
        if tx.is_closed() {
            return;
        }
        let notes =
            sqlx::query_as::<_, (i64, String)>("select seq, change from change_note where seq > $1 order by seq")
                .bind(seen)
                .fetch_all(&pool)
                .await;
        match notes {
            Ok(notes) => {
                for (seq, change) in notes {
                    seen = seq;
                    if let Some(change) = Change::parse(&change)
                        && tx.send(change).await.is_err()
                    {
                        return;
                    }
                }
            }
            Err(sqlx::Error::PoolClosed) => return,
            Err(e) => tracing::warn!(error = %e, "could not read announced changes; will retry"),
        }
    }
}

/// Passes notifications on until the connection fails (true: listen
/// again) or nobody receives any more (false).
async fn relay(listener: &mut PgListener, tx: &mpsc::Sender<Change>) -> bool {
    loop {
        match listener.try_recv().await {
            Ok(Some(n)) => {
                if let Some(change) = Change::parse(n.payload())
                    && tx.send(change).await.is_err()
                {
                    return false;
                }
            }
            Ok(None) => {
                tracing::warn!("the shared-state listener lost its connection; listening again");
                return true;
            }
            Err(sqlx::Error::PoolClosed) => return false,
            Err(e) => {
                tracing::warn!(error = %e, "the shared-state listener failed; listening again");
                return true;
            }
        }
        if tx.is_closed() {
            return false;
        }
    }
}
