//! The PostgreSQL backend, for production and for several instances.

use std::time::Duration;

use sqlx::postgres::{PgPool, PgPoolOptions};

use super::StoreError;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

pub fn migration_versions() -> Vec<i64> {
    MIGRATOR.iter().map(|m| m.version).collect()
}

#[derive(Debug, Clone)]
pub struct PgDb {
    pool: PgPool,
    /// The writer's own connection, so readers cannot starve it.
    write: PgPool,
    /// The shared-state listener's own connection (made when first used),
    /// so that it never takes one from the readers.
    listen: PgPool,
}

impl PgDb {
    pub async fn connect(url: &str, read_connections: u32) -> Result<Self, StoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(read_connections)
            .acquire_timeout(Duration::from_secs(5))
            .connect(url)
            .await?;
        // A database out of reach fails a batch within 5 s; the writer
        // then answers 503 rather than letting requests time out.
        let write = PgPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(5))
            .connect(url)
            .await?;
        let listen = PgPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(5))
            .connect_lazy(url)?;
        Ok(Self { pool, write, listen })
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    pub fn write_pool(&self) -> &PgPool {
        &self.write
    }

    pub fn listen_pool(&self) -> &PgPool {
        &self.listen
    }

    pub async fn migrate(&self) -> Result<(), StoreError> {
        MIGRATOR
            .run(&self.write)
            .await
            .map_err(|e| StoreError::Migrate(e.to_string()))
    }

    /// Refuses a database on which an embedded migration is missing, failed
    /// or differs, without changing anything (the service role may hold no
    /// DDL privilege; the owner runs `jaga migrate`). Migrations newer than
    /// this binary are accepted on purpose: during a rolling upgrade the
    /// owner migrates first (migrations only add), and the instances still
    /// on the previous release keep running until they are replaced.
    pub async fn check_migrations(&self) -> Result<(), StoreError> {
        let applied: Vec<(i64, Vec<u8>)> =
            sqlx::query_as("select version, checksum from _sqlx_migrations where success order by version")
                .fetch_all(&self.pool)
                .await
                .map_err(|e| {
                    StoreError::Migrate(format!(
                        "cannot read the applied migrations ({e}): run `jaga migrate` as the database owner"
                    ))
                })?;
        for m in MIGRATOR.iter() {
            match applied.iter().find(|(v, _)| *v == m.version) {
                Some((_, checksum)) if checksum.as_slice() == &*m.checksum => {}
                Some(_) => {
                    return Err(StoreError::Migrate(format!(
                        "migration {} was applied from a different file",
                        m.version
                    )));
                }
                None => {
                    return Err(StoreError::Migrate(format!(
                        "migration {} ({}) is not applied: run `jaga migrate` as the database owner",
                        m.version, m.description
                    )));
                }
            }
        }
        Ok(())
    }

    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("select 1").execute(&self.pool).await?;
        Ok(())
    }

    pub async fn reclaim(&self) -> Result<(), StoreError> {
        sqlx::raw_sql("vacuum account").execute(&self.write).await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.pool.close().await;
        self.write.close().await;
        self.listen.close().await;
    }
}

/// A unit's savepoint inside the writer's batch transaction.
pub(super) async fn savepoint(conn: &mut sqlx::PgConnection, step: super::Savepoint) -> Result<(), StoreError> {
    let sql = match step {
        super::Savepoint::Open => "savepoint unit",
        super::Savepoint::Release => "release savepoint unit",
        super::Savepoint::RollBack => "rollback to savepoint unit",
    };
    sqlx::raw_sql(sql).execute(conn).await?;
    Ok(())
}
