//! `jaga keys …`

use crate::audit::checkpoint::verifier_key;
use crate::config::Config;
use crate::keys::{self, KeyRing};

pub fn init(config: &Config) -> anyhow::Result<()> {
    let (ring, text) = KeyRing::generate()?;
    keys::write_new(&config.keys.path, &text)?;
    super::say(&format!("created key file {} (mode 0600)", config.keys.path.display()))?;
    super::say(&format!(
        "audit checkpoint verifier key: {}",
        verifier_key(&config.audit.origin, &ring.audit.public_key())
    ))?;
    Ok(())
}
