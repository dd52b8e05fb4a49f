//! `jaga modules …`

use super::context::{Offline, operator_name};
use crate::config::Config;

pub async fn add(config: &Config, name: &str) -> anyhow::Result<()> {
    let offline = Offline::open(config).await?;
    let added = crate::modules::add(&offline.writer, name, &operator_name()).await;
    offline.close().await;
    let (module, key) = added?;
    super::say(&format!("module {} added ({})", module.name(), module.id()))?;
    super::say(&format!(
        "API key (shown once; store it in the module's secret store): {}",
        key.as_str()
    ))?;
    Ok(())
}

pub async fn list(config: &Config) -> anyhow::Result<()> {
    let offline = Offline::open(config).await?;
    let modules = crate::store::modules::modules(&offline.db).await;
    offline.close().await;
    for m in modules? {
        let state = if m.revoked_at.is_some() { "revoked" } else { "active" };
        super::say(&format!("{}\t{}\t{}", m.name, m.module_id, state))?;
    }
    Ok(())
}

pub async fn revoke(config: &Config, name: &str) -> anyhow::Result<()> {
    let offline = Offline::open(config).await?;
    let done = crate::modules::revoke(&offline.writer, name, &operator_name()).await;
    offline.close().await;
    if !done? {
        anyhow::bail!("no active module named {name}");
    }
    super::say(&format!("module {name}: API key revoked"))?;
    Ok(())
}
