//! `jaga witness …`: a minimal C2SP witness that another office runs for
//! Jaga's audit log. It needs no database and no Jaga key file: a folder
//! with its own key and its state, and the log's public key.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context as _, bail};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use clap::Subcommand;
use ring::signature::{Ed25519KeyPair, KeyPair as _};
use serde::{Deserialize, Serialize};

use super::say;
use crate::audit::checkpoint::parse_verifier_key;
use crate::note::valid_name;
use crate::witness::cosignature::verifier_key;
use crate::witness::state::Witness;

#[derive(Debug, Subcommand)]
pub enum WitnessCommand {
    /// Create a witness in a new folder: its name and its own Ed25519 key
    /// (witness-key.toml, readable by its owner only). Prints its verifier
    /// key, which Jaga's operator puts in `audit.witnesses`.
    Init {
        /// The folder to create.
        #[arg(long, value_name = "DIR")]
        dir: PathBuf,
        /// The witness's name, e.g. saksi.diskominfo.pangkalpinang.go.id/1
        #[arg(long)]
        name: String,
    },
    /// Print the witness's verifier key.
    PublicKey {
        #[arg(long, value_name = "DIR")]
        dir: PathBuf,
    },
    /// Serve POST /add-checkpoint (C2SP tlog-witness) for the logs given.
    Serve {
        #[arg(long, value_name = "DIR")]
        dir: PathBuf,
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:7380")]
        listen: String,
        /// A log's public key (`jaga audit public-key`); repeat for more logs.
        #[arg(long = "log", value_name = "VKEY", required = true)]
        logs: Vec<String>,
    },
}

const KEY_FILE: &str = "witness-key.toml";
const STATE_FILE: &str = "state.json";

#[derive(Serialize, Deserialize)]
struct KeyFile {
    name: String,
    /// PKCS#8, base64.
    key: String,
}

pub async fn run(command: WitnessCommand) -> anyhow::Result<u8> {
    match command {
        WitnessCommand::Init { dir, name } => init(&dir, &name),
        WitnessCommand::PublicKey { dir } => {
            let (name, key) = load(&dir)?;
            say(&public(&name, &key))?;
            Ok(0)
        }
        WitnessCommand::Serve { dir, listen, logs } => serve(&dir, &listen, &logs).await,
    }
}

fn public(name: &str, key: &Ed25519KeyPair) -> String {
    let mut raw = [0u8; 32];
    raw.copy_from_slice(key.public_key().as_ref());
    verifier_key(name, &raw)
}

fn init(dir: &Path, name: &str) -> anyhow::Result<u8> {
    if !valid_name(name) {
        bail!("--name: printable ASCII without spaces or '+', at most 200 characters");
    }
    if dir.exists() {
        bail!("{} already exists: a witness is created in a new folder", dir.display());
    }
    let rng = ring::rand::SystemRandom::new();
    let pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng).map_err(|_| anyhow::anyhow!("could not generate a key"))?;
    let key = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).map_err(|_| anyhow::anyhow!("generated key unusable"))?;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let text = toml::to_string(&KeyFile {
        name: name.to_owned(),
        key: B64.encode(pkcs8.as_ref()),
    })?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let path = dir.join(KEY_FILE);
    let mut file = options
        .open(&path)
        .with_context(|| format!("creating {}", path.display()))?;
    file.write_all(text.as_bytes())?;
    file.sync_all()?;
    say(&public(name, &key))?;
    Ok(0)
}

fn load(dir: &Path) -> anyhow::Result<(String, Ed25519KeyPair)> {
    let path = dir.join(KEY_FILE);
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let file: KeyFile = toml::from_str(&text).with_context(|| format!("{}", path.display()))?;
    let der = B64
        .decode(&file.key)
        .with_context(|| format!("{}: key", path.display()))?;
    let key =
        Ed25519KeyPair::from_pkcs8(&der).map_err(|_| anyhow::anyhow!("{}: not an Ed25519 key", path.display()))?;
    Ok((file.name, key))
}

async fn serve(dir: &Path, listen: &str, logs: &[String]) -> anyhow::Result<u8> {
    let (name, key) = load(dir)?;
    let mut known = BTreeMap::new();
    for vkey in logs {
        let (origin, public) =
            parse_verifier_key(vkey).with_context(|| format!("--log {vkey:?}: not a log verifier key"))?;
        known.insert(origin, public);
    }
    let witness = Witness::open(name, key, known, dir.join(STATE_FILE)).map_err(anyhow::Error::msg)?;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("listening on {listen}"))?;
    let addr = listener.local_addr()?;
    say(&format!("witness {} listening on http://{addr}", witness.name()))?;
    let app = crate::http::witness_server::router(Arc::new(witness));
    axum::serve(listener, app).with_graceful_shutdown(stopped()).await?;
    Ok(0)
}

/// Ctrl-C or SIGTERM.
async fn stopped() {
    #[cfg(unix)]
    {
        if let Ok(mut term) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}
