//! Changes to shared state that live outside the database, announced to
//! every instance sharing a PostgreSQL database (`NOTIFY jaga_changes`).
//!
//! What lives in the database (module keys, accounts, sessions) needs no
//! announcement: every request reads it there, on every instance, and no
//! instance keeps a copy. What an instance holds in memory (the key file's
//! keys, and the policies of later issues) is re-read when announced.
//!
//! On SQLite there is one instance: announcements are not sent, and the
//! file watchers alone apply.

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
}

impl Change {
    fn as_str(self) -> &'static str {
        match self {
            Change::Keys => "keys",
        }
    }

    fn parse(payload: &str) -> Option<Change> {
        match payload {
            "keys" => Some(Change::Keys),
            _ => None,
        }
    }
}

/// Tells every instance listening on `db` (PostgreSQL) about `change`.
pub async fn announce(db: &Db, change: Change) -> Result<(), StoreError> {
    if let Db::Postgres(pg) = db {
        sqlx::query("select pg_notify($1, $2)")
            .bind(CHANNEL)
            .bind(change.as_str())
            .execute(pg.pool())
            .await?;
    }
    Ok(())
}

/// Changes announced by any instance, as they arrive. After the listening
/// connection is lost and made again, [`Change::Keys`] is delivered once,
/// since an announcement may have been missed meanwhile. Ends when the
/// receiver is dropped. Nothing arrives on SQLite.
pub fn listen(db: &Db) -> mpsc::Receiver<Change> {
    let (tx, rx) = mpsc::channel(16);
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
                            if !first && tx.send(Change::Keys).await.is_err() {
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
