//! The command line.

mod audit;
mod keys;
mod officers;
mod serve;

use std::io::Write as _;
use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::config::Config;

/// Jaga guards citizens' identities and personal data for digital public services.
#[derive(Debug, Parser)]
#[command(name = "jaga", version, propagate_version = true)]
pub struct Cli {
    /// Configuration file (TOML). JAGA_* environment variables override it.
    #[arg(long, global = true, env = "JAGA_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the HTTP service (migrates the database first).
    Serve {
        /// Development mode: plain HTTP on http://localhost:8080, data and a
        /// development key file under ./data. Never for real citizens' data.
        #[arg(long)]
        dev: bool,
    },
    /// Apply database migrations that have not run yet.
    Migrate,
    /// Manage key material.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Check and export the tamper-evident audit log.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Manage officers' accounts.
    Officers {
        #[command(subcommand)]
        command: OfficersCommand,
    },
    /// Inspect the configuration.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
}

#[derive(Debug, Subcommand)]
enum KeysCommand {
    /// Create a new key file (mode 0600) at keys.path; never overwrites one.
    Init,
}

#[derive(Debug, Subcommand)]
enum OfficersCommand {
    /// Create an officer and print a one-time link (valid 24 hours) for
    /// registering their first passkey.
    Add {
        /// The officer's name as shown to colleagues.
        #[arg(long)]
        name: String,
        /// counter (service counter), security (security officer / DPO) or
        /// admin; repeat for several.
        #[arg(long = "role", required = true, value_parser = ["counter", "security", "admin"])]
        roles: Vec<String>,
    },
}

#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// Recompute the Merkle tree from the database, check every signed
    /// checkpoint and their consistency. Exits 3 naming the first bad
    /// sequence number if the log was altered.
    Verify {
        /// A checkpoint saved outside the database (from `jaga audit
        /// checkpoint`); catches a log truncated together with its checkpoints.
        #[arg(long, value_name = "FILE")]
        checkpoint: Option<PathBuf>,
    },
    /// Print the latest signed checkpoint (C2SP signed note), to keep a copy
    /// outside the database.
    Checkpoint,
}

#[derive(Debug, Subcommand)]
enum ConfigCommand {
    /// Validate the configuration and print it, secrets redacted.
    Check {
        /// Show the development-mode configuration.
        #[arg(long)]
        dev: bool,
    },
}

/// Exit code for a failed audit verification (tampering found).
pub const EXIT_TAMPERED: u8 = 3;

/// Runs the parsed command. Errors carry a one-line reason.
pub async fn run(cli: Cli) -> anyhow::Result<u8> {
    let file = cli.config.as_deref();
    match cli.command {
        Command::Serve { dev } => serve::run(Config::load(file, dev)?).await.map(|()| 0),
        Command::Migrate => {
            let config = command_config(file, false)?;
            let db = crate::store::Db::open(&config.database.url, 1, true).await?;
            db.migrate().await?;
            db.close().await;
            say(&format!("migrations applied ({})", db.backend()))?;
            Ok(0)
        }
        Command::Keys {
            command: KeysCommand::Init,
        } => keys::init(&command_config(file, false)?).map(|()| 0),
        Command::Audit { command } => {
            let config = command_config(file, false)?;
            match command {
                AuditCommand::Verify { checkpoint } => audit::verify(&config, checkpoint.as_deref()).await,
                AuditCommand::Checkpoint => audit::latest(&config).await.map(|()| 0),
            }
        }
        Command::Officers {
            command: OfficersCommand::Add { name, roles },
        } => officers::add(&command_config(file, false)?, &name, &roles)
            .await
            .map(|()| 0),
        Command::Config {
            command: ConfigCommand::Check { dev },
        } => {
            let config = Config::load(file, dev)?;
            say(config.describe().trim_end())?;
            Ok(0)
        }
    }
}

/// Loads configuration for a one-shot command and logs to stderr.
fn command_config(file: Option<&std::path::Path>, dev: bool) -> anyhow::Result<Config> {
    let config = Config::load(file, dev)?;
    crate::telemetry::init(&config.log, false);
    Ok(config)
}

/// A line of command output on stdout.
fn say(text: &str) -> anyhow::Result<()> {
    writeln!(std::io::stdout(), "{text}")?;
    Ok(())
}
