//! `jaga officers …`

use anyhow::Context as _;

use super::context::{Offline, operator_name};
use crate::config::Config;
use crate::identity::Role;
use crate::identity::officers::add_officer;

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
        crate::identity::officers::operator(&operator_name()),
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
    let done = crate::identity::officers::set_officer_unit(
        &offline.writer,
        officer,
        unit,
        crate::identity::officers::operator(&operator_name()),
    )
    .await;
    offline.close().await;
    done?;
    super::say(&format!("officer {officer}: unit recorded"))
}

pub async fn list(config: &Config) -> anyhow::Result<()> {
    let offline = Offline::open(config).await?;
    let officers = crate::store::identity::officers(&offline.db).await;
    let mut lines = Vec::new();
    if let Ok(officers) = &officers {
        for o in officers {
            let roles = crate::store::identity::roles(&offline.db, &o.account_id)
                .await?
                .join(",");
            let unit = o.unit.as_deref().unwrap_or("-");
            lines.push(format!("{}\t{}\t{roles}\t{unit}", o.pseudonym, o.status.as_str()));
        }
    }
    offline.close().await;
    officers?;
    super::say("pseudonym\tstatus\troles\tunit")?;
    for line in lines {
        super::say(&line)?;
    }
    Ok(())
}

pub async fn suspend(config: &Config, officer: &str, reason: &str) -> anyhow::Result<()> {
    let offline = Offline::open(config).await?;
    let done = crate::identity::officers::suspend_officer(
        &offline.writer,
        officer,
        reason,
        crate::identity::officers::operator(&operator_name()),
    )
    .await;
    offline.close().await;
    done.map_err(|e| match e {
        crate::identity::enrol::EnrolError::NoAccount => anyhow::anyhow!("no officer {officer}"),
        other => other.into(),
    })?;
    super::say(&format!("officer {officer} suspended; their sessions ended"))
}
