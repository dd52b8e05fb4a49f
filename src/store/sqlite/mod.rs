//! The embedded SQLite backend: WAL, foreign keys, a busy timeout, one
//! writer connection (the group-commit writer owns it) and a read pool.

use std::os::unix::fs::{DirBuilderExt as _, MetadataExt as _, OpenOptionsExt as _};
use std::path::{Path, PathBuf};
use std::str::FromStr as _;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};

use super::StoreError;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");

pub fn migration_versions() -> Vec<i64> {
    MIGRATOR.iter().map(|m| m.version).collect()
}

#[derive(Debug, Clone)]
pub struct SqliteDb {
    read: SqlitePool,
    write: SqlitePool,
    path: PathBuf,
    /// (device, inode) of the file when opened: readiness fails if the file
    /// is deleted or replaced underneath the running service.
    identity: (u64, u64),
}

fn identity(path: &Path) -> Option<(u64, u64)> {
    std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
}

impl SqliteDb {
    pub async fn open(path: &str, read_connections: u32, create: bool) -> Result<Self, StoreError> {
        if path.is_empty() || path.starts_with(':') || path.contains("mode=memory") {
            return Err(StoreError::Url(
                "SQLite needs a file path (in-memory databases lose data)".into(),
            ));
        }
        let path = PathBuf::from(path);
        if !create && !path.exists() {
            return Err(StoreError::Url(format!("no database at {}", path.display())));
        }
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .map_err(|e| StoreError::Url(format!("cannot create {}: {e}", dir.display())))?;
        }
        if create && !path.exists() {
            // Owner-only from the first byte; SQLite gives its -wal and -shm
            // files the same mode.
            std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&path)
                .map_err(|e| StoreError::Url(format!("cannot create {}: {e}", path.display())))?;
        }
        let options = SqliteConnectOptions::from_str("sqlite:")?
            .filename(&path)
            .create_if_missing(create)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            // Deleted and overwritten content is zeroed, not left in free pages.
            .pragma("secure_delete", "on")
            .busy_timeout(Duration::from_secs(5));
        let write = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .connect_with(options.clone())
            .await?;
        let read = SqlitePoolOptions::new()
            .max_connections(read_connections)
            .connect_with(options.read_only(true))
            .await?;
        let identity = identity(&path).ok_or_else(|| StoreError::Url(format!("{} was not created", path.display())))?;
        Ok(Self {
            read,
            write,
            path,
            identity,
        })
    }

    pub fn read_pool(&self) -> &SqlitePool {
        &self.read
    }

    pub fn write_pool(&self) -> &SqlitePool {
        &self.write
    }

    pub async fn migrate(&self) -> Result<(), StoreError> {
        MIGRATOR
            .run(&self.write)
            .await
            .map_err(|e| StoreError::Migrate(e.to_string()))
    }

    pub async fn ping(&self) -> Result<(), StoreError> {
        if identity(&self.path) != Some(self.identity) {
            return Err(StoreError::Corrupt("the database file was removed or replaced".into()));
        }
        sqlx::query("select 1").execute(&self.read).await?;
        Ok(())
    }

    pub async fn reclaim(&self) -> Result<(), StoreError> {
        sqlx::raw_sql("pragma wal_checkpoint(truncate); vacuum; pragma wal_checkpoint(truncate);")
            .execute(&self.write)
            .await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.read.close().await;
        self.write.close().await;
    }
}

/// A unit's savepoint inside the writer's batch transaction.
pub(super) async fn savepoint(conn: &mut sqlx::SqliteConnection, step: super::Savepoint) -> Result<(), StoreError> {
    let sql = match step {
        super::Savepoint::Open => "savepoint unit",
        super::Savepoint::Release => "release savepoint unit",
        super::Savepoint::RollBack => "rollback to savepoint unit",
    };
    sqlx::raw_sql(sql).execute(conn).await?;
    Ok(())
}
