//! What one-shot commands that touch the database need: keys, the
//! migrated database and a writer, and the operator's name for audit events.

use std::sync::Arc;

use crate::audit::{Actor, ActorKind, AuditSealer};
use crate::config::Config;
use crate::keys::KeyRing;
use crate::store::{Db, Writer};

#[derive(Debug)]
pub struct Offline {
    pub keys: Arc<KeyRing>,
    pub db: Db,
    pub writer: Writer,
    task: tokio::task::JoinHandle<()>,
}

impl Offline {
    pub async fn open(config: &Config) -> anyhow::Result<Self> {
        Self::with_keys(config, KeyRing::load(&config.keys)?).await
    }

    pub async fn with_keys(config: &Config, keys: KeyRing) -> anyhow::Result<Self> {
        let keys = Arc::new(keys);
        let db = Db::open(&config.database.url, 2, true).await?;
        db.prepare(config.database.apply_migrations).await?;
        // A command that writes checks the log against the copy kept
        // outside the database first, as `serve` does.
        crate::audit::checkpointer::check_local_copy(&db, &keys.audit, &config.audit).await?;
        let sealer = AuditSealer::new(
            keys.audit.clone(),
            config.audit.origin.clone(),
            Some(config.audit.checkpoint_file.clone()),
            crate::audit::checkpointer::AuditStatus::default(),
        );
        let (writer, task) = Writer::start(db.clone(), Arc::new(sealer));
        Ok(Self { keys, db, writer, task })
    }

    /// Drains the writer and closes the database.
    pub async fn close(self) {
        drop(self.writer);
        let _ = self.task.await;
        self.db.close().await;
    }
}

/// The operator at the command line ($USER), as audit events name them.
pub fn operator_name() -> String {
    let name: String = std::env::var("USER")
        .unwrap_or_default()
        .chars()
        .filter(char::is_ascii_graphic)
        .take(64)
        .collect();
    if name.is_empty() { "operator".to_owned() } else { name }
}

pub fn operator() -> Actor {
    Actor::new(ActorKind::Operator, operator_name())
}
