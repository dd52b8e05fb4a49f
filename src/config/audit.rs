//! The audit log's settings: its name, where the checkpoint copy is kept,
//! how often checkpoints are signed and the log verified again, and the
//! witnesses its checkpoints are sent to.

use std::path::PathBuf;
use std::time::Duration;

use super::{ConfigError, Getter, invalid};
use crate::note::{self, parse_verifier_key};

#[derive(Debug, Clone)]
pub struct AuditConfig {
    pub origin: String,
    /// Where the latest signed checkpoint is also written; `serve` refuses
    /// to start on a database that does not contain it.
    pub checkpoint_file: PathBuf,
    pub checkpoint_every_events: u64,
    pub checkpoint_every: Duration,
    /// How often the whole log is verified again in the background.
    pub reverify_every: Duration,
    /// How often an instance that does not sign checkpoints tries to take
    /// over (one instance signs at a time; see `store::lease`).
    pub signer_takeover: Duration,
    /// Where checkpoints are sent to be witnessed.
    pub witnesses: WitnessConfig,
}

/// The witnesses of the audit log (none by default).
#[derive(Debug, Clone, Default)]
pub struct WitnessConfig {
    /// C2SP tlog-witness endpoints.
    pub http: Vec<HttpWitness>,
    /// A folder kept as a witness: the latest checkpoint, on storage the
    /// database's administrators cannot write.
    pub folder: Option<PathBuf>,
    /// How often new checkpoints are sent.
    pub every: Duration,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpWitness {
    pub name: String,
    /// Its Ed25519 cosignature key.
    pub key: [u8; 32],
    /// The submission prefix (`…/add-checkpoint` is posted to).
    pub url: String,
}

pub(super) fn audit(get: &Getter<'_>, keys_path: &std::path::Path) -> Result<AuditConfig, ConfigError> {
    let checkpoint_file = get
        .string("audit.checkpoint_file")?
        .map_or_else(|| keys_path.with_file_name("audit-checkpoint.txt"), PathBuf::from);
    let origin = get
        .string("audit.origin")?
        .unwrap_or_else(|| "jaga.localhost/audit".to_owned());
    check_origin(&origin)?;
    Ok(AuditConfig {
        origin,
        checkpoint_file,
        checkpoint_every_events: get.int("audit.checkpoint_every_events", 1000, 1, 10_000_000)?,
        checkpoint_every: Duration::from_secs(get.int("audit.checkpoint_every_secs", 60, 1, 86_400)?),
        reverify_every: Duration::from_secs(get.int("audit.reverify_every_secs", 300, 1, 7 * 86_400)?),
        signer_takeover: Duration::from_secs(get.int("audit.signer_takeover_secs", 5, 1, 3_600)?),
        witnesses: witnesses(get)?,
    })
}

/// `audit.witnesses`: each "<verifier key> <URL>"; `audit.witness_dir`.
fn witnesses(get: &Getter<'_>) -> Result<WitnessConfig, ConfigError> {
    let mut http = Vec::new();
    for item in get.list("audit.witnesses")?.unwrap_or_default() {
        let (vkey, url) = item
            .trim()
            .split_once(' ')
            .ok_or_else(|| invalid("audit.witnesses", "each is \"<witness verifier key> <URL>\""))?;
        let (name, key) = parse_verifier_key(note::COSIGNATURE, vkey).ok_or_else(|| {
            invalid(
                "audit.witnesses",
                format!("{vkey:?} is not a witness verifier key (type 0x04)"),
            )
        })?;
        let url = url.trim().trim_end_matches('/').to_owned();
        let local = url.starts_with("http://127.0.0.1")
            || url.starts_with("http://localhost")
            || url.starts_with("http://[::1]");
        if !(url.starts_with("https://") || local) || url.contains(['?', '#', ' ']) {
            return Err(invalid(
                "audit.witnesses",
                format!("{url:?}: an https URL (http only on this machine)"),
            ));
        }
        if http.iter().any(|w: &HttpWitness| w.name == name) {
            return Err(invalid("audit.witnesses", format!("witness {name:?} is listed twice")));
        }
        http.push(HttpWitness { name, key, url });
    }
    Ok(WitnessConfig {
        http,
        folder: get.string("audit.witness_dir")?.map(PathBuf::from),
        every: Duration::from_secs(get.int("audit.witness_every_secs", 30, 1, 86_400)?),
    })
}

fn check_origin(origin: &str) -> Result<(), ConfigError> {
    if note::valid_name(origin) {
        Ok(())
    } else {
        Err(invalid("audit.origin", "must be printable ASCII without spaces or '+'"))
    }
}
