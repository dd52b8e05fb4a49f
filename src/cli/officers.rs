//! `jaga officers …`

use anyhow::Context as _;

use super::context::{Offline, operator_name};
use crate::config::Config;
use crate::identity::Role;
use crate::identity::counter::add_officer;

pub async fn add(config: &Config, name: &str, unit: &str, roles: &[String]) -> anyhow::Result<()> {
    let origin = config
        .webauthn
        .as_ref()
        .and_then(|w| w.origins.first())
        .context("webauthn.origins is needed to print the enrolment link")?
        .clone();
    let roles: Vec<Role> = roles.iter().filter_map(|r| Role::parse(r)).collect();
    let offline = Offline::open(config).await?;
    let issued = add_officer(
        &offline.writer,
        &offline.keys,
        &origin,
        name,
        Some(unit),
        &roles,
        &operator_name(),
    )
    .await;
    offline.close().await;
    let issued = issued?;
    super::say(&format!(
        "officer {} created (pending until the first passkey is registered)",
        issued.account
    ))?;
    super::say(&format!("one-time enrolment link, valid 24 hours: {}", issued.url))?;
    Ok(())
}

pub async fn set_unit(config: &Config, officer: &str, unit: &str) -> anyhow::Result<()> {
    let offline = Offline::open(config).await?;
    let done = crate::identity::counter::set_officer_unit(&offline.writer, officer, unit, &operator_name()).await;
    offline.close().await;
    done?;
    super::say(&format!("officer {officer}: unit recorded"))
}
