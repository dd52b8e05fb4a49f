//! `jaga citizens …`: operator lookups and erasure.

use super::context::{Offline, operator, operator_name};
use crate::audit::Context;
use crate::config::Config;
use crate::identity::Nik;
use crate::profile::{self, Reader};

/// Purpose recorded for an operator's lookup.
const OPERATOR_LOOKUP: &str = "operator.lookup";

pub async fn find(config: &Config, nik: &str) -> anyhow::Result<bool> {
    let nik = Nik::parse(nik).map_err(|e| anyhow::anyhow!("--nik: {e}"))?;
    let offline = Offline::open(config).await?;
    let reader = Reader::operator(operator_name());
    let deps = profile::Deps {
        db: offline.db.clone(),
        writer: offline.writer.clone(),
        keys: offline.keys.clone(),
    };
    let found = profile::find::by_nik(&deps, &reader, &nik, OPERATOR_LOOKUP, &Context::default()).await;
    // The writer stops once its last handle is gone.
    drop(deps);
    offline.close().await;
    let view = match found {
        Ok(view) => view,
        Err(profile::ProfileError::NotFound) => {
            super::say("no citizen holds this NIK")?;
            return Ok(false);
        }
        Err(e) => return Err(e.into()),
    };
    let show = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
    super::say(&format!("citizen      {}", view.citizen))?;
    super::say(&format!("verified     {}", view.verified))?;
    super::say(&format!("nik          {}", show(&view.nik)))?;
    super::say(&format!("kk           {}", show(&view.kk)))?;
    super::say(&format!("full_name    {}", show(&view.full_name)))?;
    super::say(&format!("birth_date   {}", show(&view.birth_date)))?;
    super::say(&format!("gender       {}", show(&view.gender)))?;
    let region = view
        .address
        .as_ref()
        .map(|a| format!("{}, {}", a.kabupaten_kota, a.province));
    super::say(&format!("address      {}", show(&region)))?;
    super::say(&format!("phone        {}", show(&view.phone)))?;
    super::say(&format!("email        {}", show(&view.email)))?;
    Ok(true)
}

pub async fn erase(config: &Config, citizen: &str, reason: &str) -> anyhow::Result<()> {
    let offline = Offline::open(config).await?;
    let result = async {
        let account = crate::store::identity::account_by_pseudonym(&offline.db, citizen)
            .await?
            .ok_or_else(|| anyhow::anyhow!("no citizen {citizen}"))?;
        profile::erase::erase(&offline.writer, &account, operator(), reason, &Context::default()).await?;
        offline.db.reclaim().await?;
        anyhow::Ok(())
    }
    .await;
    offline.close().await;
    result?;
    super::say(&format!(
        "citizen {citizen} erased: data key destroyed, sealed values and indexes deleted, sessions ended"
    ))?;
    Ok(())
}
