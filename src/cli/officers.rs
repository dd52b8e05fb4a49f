//! `jaga officers …`

use std::sync::Arc;

use anyhow::Context as _;

use crate::audit::AuditSealer;
use crate::config::Config;
use crate::identity::Role;
use crate::identity::counter::add_officer;
use crate::keys::KeyRing;
use crate::store::{Db, Writer};

pub async fn add(config: &Config, name: &str, roles: &[String]) -> anyhow::Result<()> {
    let origin = config
        .webauthn
        .as_ref()
        .and_then(|w| w.origins.first())
        .context("webauthn.origins is needed to print the enrolment link")?
        .clone();
    let roles: Vec<Role> = roles.iter().filter_map(|r| Role::parse(r)).collect();
    let keys = Arc::new(KeyRing::load(&config.keys)?);
    let db = Db::open(&config.database.url, 1, true).await?;
    db.migrate().await?;
    let (writer, task) = Writer::start(db.clone(), Arc::new(AuditSealer::new(keys.clone())));
    let operator: String = std::env::var("USER")
        .unwrap_or_else(|_| "operator".into())
        .chars()
        .filter(char::is_ascii_graphic)
        .take(64)
        .collect();
    let operator = if operator.is_empty() {
        "operator".to_owned()
    } else {
        operator
    };
    let issued = add_officer(&writer, &keys, &origin, name, &roles, &operator).await;
    drop(writer);
    let _ = task.await;
    db.close().await;
    let issued = issued?;
    super::say(&format!(
        "officer {} created (pending until the first passkey is registered)",
        issued.account
    ))?;
    super::say(&format!("one-time enrolment link, valid 24 hours: {}", issued.url))?;
    Ok(())
}
