//! The command line.

mod audit;
mod audit_export;
mod citizens;
mod consent;
mod context;
mod keys;
mod modules;
mod officers;
mod policy;
mod report;
mod retention;
mod serve;
mod witness;

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

    /// Development mode: plain HTTP on http://localhost:8080, data and a
    /// development key file under ./data. Every command takes it and then
    /// uses exactly what `jaga serve --dev` uses. Never for real citizens' data.
    #[arg(long, global = true)]
    dev: bool,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the HTTP service (migrates the database first).
    Serve,
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
        command: audit::AuditCommand,
    },
    /// Run a witness of another office's audit log (C2SP tlog-witness).
    Witness {
        #[command(subcommand)]
        command: witness::WitnessCommand,
    },
    /// Manage officers' accounts.
    Officers {
        #[command(subcommand)]
        command: OfficersCommand,
    },
    /// Service modules that keep citizen records in Jaga.
    Modules {
        #[command(subcommand)]
        command: ModulesCommand,
    },
    /// Look citizens up (masked, audited) and erase them.
    Citizens {
        #[command(subcommand)]
        command: CitizensCommand,
    },
    /// Inspect the configuration.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// The written policies (the purpose catalog).
    Policy {
        #[command(subcommand)]
        command: PolicyCommand,
    },
    /// Consent receipts.
    Consent {
        #[command(subcommand)]
        command: ConsentCommand,
    },
    /// Reports for the controller.
    Report {
        #[command(subcommand)]
        command: ReportCommand,
    },
    /// Retention of module records.
    Retention {
        #[command(subcommand)]
        command: RetentionCommand,
    },
}

#[derive(Debug, Subcommand)]
enum RetentionCommand {
    /// End every module record field whose purposes' retention has passed
    /// (the service also does this once a purge period); audited.
    Sweep {
        /// List what would end, change nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Debug, Subcommand)]
enum ConsentCommand {
    /// Verify consent receipts (a JWS, or the JSON downloaded from the
    /// portal); exits 3 if any fails.
    VerifyReceipt {
        /// The receipt file.
        file: std::path::PathBuf,
        /// The published JWK Set (/.well-known/jaga-consent-keys) to verify
        /// with; default: this installation's key file.
        #[arg(long, value_name = "FILE")]
        jwks: Option<std::path::PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
enum ReportCommand {
    /// Records of processing (UU PDP Art. 31): the purpose catalog with its
    /// lawful bases, and access counts per purpose, module or officer,
    /// action and outcome, from the audit log.
    Processing {
        /// First day (YYYY-MM-DD, Asia/Jakarta), included.
        #[arg(long)]
        from: String,
        /// Last day (YYYY-MM-DD, Asia/Jakarta), included.
        #[arg(long)]
        to: String,
        /// json (default) or csv.
        #[arg(long, default_value = "json", value_parser = ["json", "csv"])]
        format: String,
    },
}

#[derive(Debug, Subcommand)]
enum PolicyCommand {
    /// Check every policy file; print a summary, or the file, line and
    /// reason of the first error (exit code 1).
    Check {
        /// The policies folder (default: policies.dir).
        #[arg(long, value_name = "DIR")]
        dir: Option<std::path::PathBuf>,
    },
    /// Check the policies folder and, if it checks, tell the running
    /// instances to put it in force (as SIGHUP does); exit code 1 and
    /// nothing announced otherwise.
    Reload,
}

#[derive(Debug, Subcommand)]
enum KeysCommand {
    /// Create a new key file (mode 0600) at keys.path; never overwrites one.
    Init,
    /// Add a new root key-encryption key (KEK) version and make it active.
    Rotate,
    /// Re-wrap every citizen data key under the active KEK, in batches, while
    /// the service runs. Resumable: run it again after an interruption.
    Rewrap,
    /// How many data keys each KEK version still wraps.
    Status,
    /// Remove a KEK version from the key file; only when it wraps nothing.
    Retire {
        /// The KEK version to remove.
        #[arg(long = "kek-version", value_name = "N")]
        kek: u32,
    },
    /// Replace the blind-index key and rebuild every index with it. Stop the
    /// service first. Resumable: run it again after an interruption.
    RotateIndex,
    /// Add the consent receipt signing key to a key file made before
    /// receipts (nothing changes if it has one).
    AddConsentKey,
    /// Add a new OpenID provider token signing key (ES256). It is published
    /// in the JWKS at once and signs after the lead time, so clients and
    /// instances see it before its first token; keys superseded more than a
    /// day ago are dropped.
    RotateSigning {
        /// Seconds between publication and first use (ignored for the first key).
        #[arg(long = "lead-secs", default_value_t = 3600)]
        lead_secs: i64,
    },
}

#[derive(Debug, Subcommand)]
enum ModulesCommand {
    /// Register a module as an OAuth client (its client_id is its name) and
    /// print its static API key (shown once; accepted only in --dev or with
    /// modules.static_keys = allow).
    Add {
        /// Lower-case name, the prefix of its collections (antrian, perizinan).
        #[arg(long)]
        name: String,
        #[command(flatten)]
        client: modules::ClientArgs,
    },
    /// Change a module's client registration.
    Update {
        #[arg(long)]
        name: String,
        #[command(flatten)]
        client: modules::ClientArgs,
    },
    /// Register the module's public keys (a JWKS file) for private_key_jwt.
    SetJwks {
        #[arg(long)]
        name: String,
        /// File holding {"keys": [...]}: public keys only.
        #[arg(long, value_name = "FILE")]
        jwks: std::path::PathBuf,
    },
    /// A new client secret for a client_secret_basic module (shown once).
    RotateSecret {
        #[arg(long)]
        name: String,
    },
    /// List modules and how they authenticate.
    List,
    /// Disable a module: its API key, client authentication and every
    /// access token it holds stop working at once.
    Disable {
        #[arg(long)]
        name: String,
    },
    /// The same as disable (kept for scripts written before OAuth).
    #[command(hide = true)]
    Revoke {
        #[arg(long)]
        name: String,
    },
}

#[derive(Debug, Subcommand)]
enum CitizensCommand {
    /// Find a citizen by NIK: prints the pseudonym and masked fields.
    /// Audited as an operator read. Exits 1 when no citizen holds the NIK.
    Find {
        #[arg(long)]
        nik: String,
    },
    /// Erase a citizen (UU PDP Art. 8 and 43): destroys their data key,
    /// sealed values and indexes, ends their sessions and passkeys.
    Erase {
        /// The citizen's pseudonym (from `jaga citizens find`).
        #[arg(long)]
        citizen: String,
        /// Why, as an identifier recorded in the audit log, e.g. citizen_request.
        #[arg(long, default_value = "citizen_request", value_parser = reason)]
        reason: String,
    },
}

fn reason(s: &str) -> Result<String, String> {
    let ok = (1..=64).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b));
    if ok {
        Ok(s.to_owned())
    } else {
        Err("use lower-case letters, digits, '.', '_' or '-' (at most 64)".into())
    }
}

#[derive(Debug, Subcommand)]
enum OfficersCommand {
    /// Create an officer and print a one-time link (valid 24 hours) for
    /// registering their first passkey.
    Add {
        /// The officer's name as shown to colleagues.
        #[arg(long)]
        name: String,
        /// The unit (office) the officer works for, e.g. "Kecamatan Rangkui";
        /// citizens see it with the officer's role when an officer acted on
        /// their account.
        #[arg(long)]
        unit: String,
        /// counter (service counter), security (security officer / DPO) or
        /// admin; repeat for several.
        #[arg(long = "role", required = true, value_parser = ["counter", "security", "admin"])]
        roles: Vec<String>,
    },
    /// Record the unit (office) of an existing officer.
    SetUnit {
        /// The officer's pseudonym (ofc_…).
        #[arg(long)]
        officer: String,
        #[arg(long)]
        unit: String,
    },
    /// List officers: pseudonym, status, roles, unit.
    List,
    /// Suspend an officer: their sessions end and they cannot sign in.
    Suspend {
        /// The officer's pseudonym (ofc_…).
        #[arg(long)]
        officer: String,
        /// Why, as an identifier recorded in the audit log.
        #[arg(long, default_value = "operator_decision", value_parser = reason)]
        reason: String,
    },
}

#[derive(Debug, Subcommand)]
enum ConfigCommand {
    /// Validate the configuration and print it, secrets redacted.
    Check,
}

/// Exit code for a failed audit verification (tampering found).
pub const EXIT_TAMPERED: u8 = 3;

/// Runs the parsed command. Errors carry a one-line reason.
pub async fn run(cli: Cli) -> anyhow::Result<u8> {
    let file = cli.config.as_deref();
    let dev = cli.dev;
    match cli.command {
        Command::Serve => serve::run(Config::load(file, dev)?).await.map(|()| 0),
        Command::Migrate => {
            let config = command_config(file, dev)?;
            let db = crate::store::Db::open(&config.database.url, 1, true).await?;
            db.migrate().await?;
            db.close().await;
            say(&format!("migrations applied ({})", db.backend()))?;
            Ok(0)
        }
        Command::Keys { command } => {
            let config = command_config(file, dev)?;
            match command {
                KeysCommand::Init => keys::init(&config),
                KeysCommand::Rotate => keys::rotate(&config).await,
                KeysCommand::Rewrap => keys::rewrap(&config).await,
                KeysCommand::Status => keys::status(&config).await,
                KeysCommand::Retire { kek } => keys::retire(&config, kek).await,
                KeysCommand::RotateIndex => keys::rotate_index(&config).await,
                KeysCommand::AddConsentKey => keys::add_consent_key(&config),
                KeysCommand::RotateSigning { lead_secs } => keys::rotate_signing(&config, lead_secs),
            }
            .map(|()| 0)
        }
        Command::Modules { command } => {
            let config = command_config(file, dev)?;
            match command {
                ModulesCommand::Add { name, client } => modules::add(&config, &name, &client).await,
                ModulesCommand::Update { name, client } => modules::update(&config, &name, &client).await,
                ModulesCommand::SetJwks { name, jwks } => modules::set_jwks(&config, &name, &jwks).await,
                ModulesCommand::RotateSecret { name } => modules::rotate_secret(&config, &name).await,
                ModulesCommand::List => modules::list(&config).await,
                ModulesCommand::Disable { name } | ModulesCommand::Revoke { name } => {
                    modules::revoke(&config, &name).await
                }
            }
            .map(|()| 0)
        }
        Command::Citizens { command } => {
            let config = command_config(file, dev)?;
            match command {
                CitizensCommand::Find { nik } => citizens::find(&config, &nik).await.map(|found| u8::from(!found)),
                CitizensCommand::Erase { citizen, reason } => {
                    citizens::erase(&config, &citizen, &reason).await.map(|()| 0)
                }
            }
        }
        Command::Audit { command } => audit::run(command, || command_config(file, dev)).await,
        Command::Witness { command } => witness::run(command).await,
        Command::Officers {
            command: OfficersCommand::Add { name, unit, roles },
        } => officers::add(&command_config(file, dev)?, &name, &unit, &roles)
            .await
            .map(|()| 0),
        Command::Officers {
            command: OfficersCommand::SetUnit { officer, unit },
        } => officers::set_unit(&command_config(file, dev)?, &officer, &unit)
            .await
            .map(|()| 0),
        Command::Officers {
            command: OfficersCommand::List,
        } => officers::list(&command_config(file, dev)?).await.map(|()| 0),
        Command::Officers {
            command: OfficersCommand::Suspend { officer, reason },
        } => officers::suspend(&command_config(file, dev)?, &officer, &reason)
            .await
            .map(|()| 0),
        Command::Consent {
            command:
                ConsentCommand::VerifyReceipt {
                    file: receipt_file,
                    jwks,
                },
        } => {
            let config = match jwks {
                Some(_) => None,
                None => Some(command_config(file, dev)?),
            };
            match config {
                Some(config) => consent::verify_receipt(Some(&config), &receipt_file, None),
                None => consent::verify_receipt(None, &receipt_file, jwks.as_deref()),
            }
        }
        Command::Retention {
            command: RetentionCommand::Sweep { dry_run },
        } => retention::sweep(&command_config(file, dev)?, dry_run).await,
        Command::Report {
            command: ReportCommand::Processing { from, to, format },
        } => report::processing(&command_config(file, dev)?, &from, &to, format == "csv").await,
        Command::Policy {
            command: PolicyCommand::Check { dir },
        } => {
            let dir = match dir {
                Some(dir) => dir,
                None => Config::load(file, dev)?.policies_dir,
            };
            policy::check(&dir)
        }
        Command::Policy {
            command: PolicyCommand::Reload,
        } => policy::reload(&command_config(file, dev)?).await,
        Command::Config {
            command: ConfigCommand::Check,
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
    crate::telemetry::init(&config.log);
    Ok(config)
}

/// A line of command output on stdout.
pub(super) fn say(text: &str) -> anyhow::Result<()> {
    writeln!(std::io::stdout(), "{text}")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_command_line_definition_is_consistent() {
        use clap::CommandFactory as _;
        super::Cli::command().debug_assert();
    }
}
