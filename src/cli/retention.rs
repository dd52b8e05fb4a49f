//! `jaga retention sweep [--dry-run]`.

use super::context::Offline;
use super::say;
use crate::config::Config;
use crate::modules::retention;
use crate::policy::Policies;

pub async fn sweep(config: &Config, dry_run: bool) -> anyhow::Result<u8> {
    let policies = Policies::load(&config.policies_dir)?;
    let offline = Offline::open(config).await?;
    let deps = crate::modules::Deps {
        db: offline.db.clone(),
        writer: offline.writer.clone(),
        keys: offline.keys.clone(),
        policies: policies.clone(),
        #[cfg(feature = "bench-internals")]
        bypass_checks: std::sync::Arc::default(),
    };
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let set = policies.current();
    let result = if dry_run {
        retention::plan(&deps, &set.catalog, now).await.map(|plan| {
            let lines: Vec<String> = plan
                .due
                .iter()
                .map(|d| {
                    format!(
                        "{}\t{}\t{}\t{}\t{}",
                        d.pseudonym,
                        d.collection,
                        d.record,
                        d.field,
                        d.purposes.join(",")
                    )
                })
                .collect();
            (lines, plan.due.len(), plan.unlisted)
        })
    } else {
        retention::sweep(&deps, &set.catalog, now)
            .await
            .map(|n| (Vec::new(), n, 0))
    };
    // Erased citizens' data kept under a legal obligation, once due.
    let finished = if dry_run || result.is_err() {
        Ok(0)
    } else {
        let profile = crate::profile::Deps {
            db: offline.db.clone(),
            writer: offline.writer.clone(),
            keys: offline.keys.clone(),
        };
        crate::rights::erasure::finish_due(&profile, now).await
    };
    drop(deps);
    offline.close().await;
    let (lines, count, unlisted) = result?;
    if dry_run {
        say("citizen\tcollection\trecord\tfield\tpurposes (all past retention)")?;
        for line in lines {
            say(&line)?;
        }
        say(&format!("{count} record fields would end (dry run: nothing changed)"))?;
        if unlisted > 0 {
            say(&format!(
                "{unlisted} record fields are used by no purpose of the catalog and are kept: add a purpose or end them deliberately"
            ))?;
        }
    } else {
        say(&format!("{count} record fields ended (audited as record.expire)"))?;
        say(&format!(
            "{} erased citizens' kept data ended (audited as citizen.erase_finish)",
            finished?
        ))?;
    }
    Ok(0)
}
