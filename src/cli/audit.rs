//! `jaga audit …`

use std::path::{Path, PathBuf};

use clap::Subcommand;

use anyhow::Context as _;
use base64::Engine as _;

use super::{EXIT_TAMPERED, say};
use crate::audit::checkpoint::{Checkpoint, verifier_key};
use crate::audit::verify::{VerifyError, verify as verify_log};
use crate::config::Config;
use crate::keys::KeyRing;
use crate::store::{Db, audit as stored};

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Recompute the Merkle tree from the database, check every signed
    /// checkpoint and their consistency. Exits 3 naming the first bad
    /// sequence number if the log was altered. With --export, checks an
    /// export instead, offline, with nothing but the log's public key.
    Verify {
        /// A checkpoint saved outside the database (from `jaga audit
        /// checkpoint`); catches a log truncated together with its checkpoints.
        #[arg(long, value_name = "FILE", conflicts_with = "export")]
        checkpoint: Option<PathBuf>,
        /// An export: the directory `jaga audit export` wrote, or a JSON
        /// Lines file from the console's export.
        #[arg(long, value_name = "PATH", requires = "key")]
        export: Option<PathBuf>,
        /// The log's public key (`jaga audit public-key`), for --export.
        #[arg(long, value_name = "VKEY", requires = "export")]
        key: Option<String>,
    },
    /// Print the latest signed checkpoint (C2SP signed note), to keep a copy
    /// outside the database.
    Checkpoint,
    /// Print the log's public key (signed-note verifier key), which checks
    /// checkpoints and exports anywhere.
    PublicKey,
    /// Export a time window of the log, cut at a signed checkpoint, to a
    /// new directory (manifest.json and events.jsonl or events.csv).
    /// Audited.
    Export {
        /// From this instant (RFC 3339), included.
        #[arg(long)]
        from: String,
        /// Until this instant (RFC 3339), excluded.
        #[arg(long)]
        to: String,
        #[arg(long, default_value = "jsonl", value_parser = ["jsonl", "csv"])]
        format: String,
        /// The directory to create.
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
}

/// Runs `jaga audit …`; checking an export needs no configuration.
pub async fn run(command: AuditCommand, config: impl FnOnce() -> anyhow::Result<Config>) -> anyhow::Result<u8> {
    match command {
        AuditCommand::Verify {
            export: Some(path),
            key: Some(key),
            ..
        } => super::audit_export::verify(&path, &key),
        AuditCommand::Verify { checkpoint, .. } => verify(&config()?, checkpoint.as_deref()).await,
        AuditCommand::Checkpoint => latest(&config()?).await.map(|()| 0),
        AuditCommand::PublicKey => {
            let config = config()?;
            let keys = KeyRing::load(&config.keys)?;
            say(&verifier_key(&config.audit.origin, &keys.audit.public_key())).map(|()| 0)
        }
        AuditCommand::Export { from, to, format, out } => {
            let asked = crate::console::export::Asked {
                from: Some(from),
                to: Some(to),
                format: Some(format),
            };
            super::audit_export::export(&config()?, &asked, &out).await.map(|()| 0)
        }
    }
}

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
