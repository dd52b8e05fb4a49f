//! `jaga audit …`

use std::path::Path;

use anyhow::Context as _;
use base64::Engine as _;

use super::{EXIT_TAMPERED, say};
use crate::audit::checkpoint::Checkpoint;
use crate::audit::verify::{VerifyError, verify as verify_log};
use crate::config::Config;
use crate::keys::KeyRing;
use crate::store::{Db, audit as stored};

/// Verifies the log against its checkpoints and a checkpoint kept outside
/// the database: `--checkpoint FILE`, else the copy the service keeps
/// (`audit.checkpoint_file`). Without any, it says what it cannot see.
pub async fn verify(config: &Config, checkpoint: Option<&Path>) -> anyhow::Result<u8> {
    let keys = KeyRing::load(&config.keys)?;
    let external = match checkpoint {
        Some(p) => Some(std::fs::read_to_string(p).with_context(|| format!("cannot read {}", p.display()))?),
        None => {
            let copy = crate::audit::copy::read(&config.audit.checkpoint_file)
                .with_context(|| format!("cannot read {}", config.audit.checkpoint_file.display()))?;
            if copy.is_none() {
                eprintln!(
                    "jaga: warning: no checkpoint copy at {} (and no --checkpoint FILE): a log cut or rolled back \
                     together with its checkpoints would not show",
                    config.audit.checkpoint_file.display()
                );
            }
            copy
        }
    };
    let db = Db::open(&config.database.url, 2, false).await?;
    let result = verify_log(&db, &keys.audit, &config.audit.origin, external.as_deref()).await;
    db.close().await;
    match result {
        Ok(report) => {
            say(&format!(
                "audit log intact: {} events, {} signed checkpoints{}, root {}",
                report.events,
                report.checkpoints,
                if external.is_some() {
                    " and the checkpoint copy outside the database"
                } else {
                    ""
                },
                base64::engine::general_purpose::STANDARD.encode(report.root)
            ))?;
            Ok(0)
        }
        Err(VerifyError::Failed(failure)) => {
            eprintln!("jaga: audit log verification failed: {failure}");
            Ok(EXIT_TAMPERED)
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn latest(config: &Config) -> anyhow::Result<()> {
    let keys = KeyRing::load(&config.keys)?;
    let db = Db::open(&config.database.url, 1, false).await?;
    let last = stored::last_checkpoint(&db).await;
    db.close().await;
    let row = last?.context("the audit log has no checkpoint yet")?;
    Checkpoint::open(&row.note, &keys.audit.public_key()).context("the latest checkpoint in the database")?;
    say(row.note.trim_end())
}
