//! `jaga policy check` and `jaga policy reload`.

use std::io::Write as _;
use std::path::Path;

use super::say;
use crate::config::Config;
use crate::policy::{Snapshot, catalog, rules};
use crate::store::changes::{self, Change};

/// `jaga policy check`: 0 with a summary, 1 with the first error.
pub fn check(dir: &Path) -> anyhow::Result<u8> {
    match Snapshot::load(dir) {
        Ok(set) => {
            summary(dir, &set)?;
            Ok(0)
        }
        Err(e) => {
            writeln!(std::io::stderr(), "{e}")?;
            Ok(1)
        }
    }
}

fn summary(dir: &Path, set: &Snapshot) -> anyhow::Result<()> {
    say(&format!(
        "{}: {} purposes, valid",
        dir.join(catalog::FILE).display(),
        set.catalog.len()
    ))?;
    for p in set.catalog.purposes() {
        say(&format!(
            "  {:<24} {:<20} {} fields  {}",
            p.id,
            p.lawful_basis.as_str(),
            p.fields.len(),
            p.name.en
        ))?;
    }
    say(&format!(
        "{}: valid; every policy validated against it",
        dir.join(rules::SCHEMA_FILE).display()
    ))?;
    for (file, ids) in set.rules.files() {
        say(&format!("{file}: {} policies", ids.len()))?;
        for id in ids {
            say(&format!("  {id}"))?;
        }
    }
    Ok(())
}

/// `jaga policy reload`: checks the folder, then announces the change to
/// every running instance (each checks it again and audits the outcome).
pub async fn reload(config: &Config) -> anyhow::Result<u8> {
    let dir = &config.policies_dir;
    let set = match Snapshot::load(dir) {
        Ok(set) => set,
        Err(e) => {
            writeln!(std::io::stderr(), "{e}")?;
            writeln!(std::io::stderr(), "nothing announced: the policies in force stay")?;
            return Ok(1);
        }
    };
    summary(dir, &set)?;
    let db = crate::store::Db::open(&config.database.url, 1, false).await?;
    let sent = changes::announce(&db, Change::Policies).await;
    db.close().await;
    sent?;
    say(
        "Announced: every running instance puts these policies in force within a second and audits it (policy.reload).",
    )?;
    Ok(0)
}
