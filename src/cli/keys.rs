//! `jaga keys …`: the key file, KEK rotation, re-wrapping, retirement and
//! blind-index key rotation.

use std::sync::Arc;

use anyhow::Context as _;
use indicatif::{ProgressBar, ProgressStyle};

use super::context::{Offline, operator};
use crate::audit::checkpoint::verifier_key;
use crate::config::Config;
use crate::keys::{self, KeyRing, edit};
use crate::rotation;
use crate::vault::KeyProvider as _;

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

/// `jaga keys add-consent-key`: the consent receipt signing key, for a key
/// file made before receipts.
pub fn add_consent_key(config: &Config) -> anyhow::Result<()> {
    let path = key_file(config)?;
    if edit::add_consent_key(path)? {
        super::say(&format!(
            "added the consent receipt signing key to {}; install this key file on every host",
            path.display()
        ))?;
    } else {
        super::say(&format!("{} already holds a consent receipt key", path.display()))?;
    }
    Ok(())
}

/// `jaga keys rotate-signing`: a new token signing key, published now and
/// signing after `lead_secs`; keys superseded more than a day ago go.
pub fn rotate_signing(config: &Config, lead_secs: i64) -> anyhow::Result<()> {
    let path = key_file(config)?;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let done = edit::rotate_signing(path, now, lead_secs)?;
    let starts = time::OffsetDateTime::from_unix_timestamp(done.not_before)?
        .format(&time::format_description::well_known::Rfc3339)?;
    super::say(&format!(
        "added token signing key {} to {}: published now, signs from {starts}; {} superseded key(s) dropped",
        done.kid,
        path.display(),
        done.dropped
    ))?;
    super::say(
        "install this key file on every host before then (running instances re-read it when it changes \
         or when `jaga keys` announces it)",
    )?;
    Ok(())
}

/// Rotation edits the key file; keys given inline cannot be edited here.
fn key_file(config: &Config) -> anyhow::Result<&std::path::Path> {
    if config.keys.inline.is_some() {
        anyhow::bail!(
            "keys come from JAGA_KEYS_INLINE: rotate them where they are kept (a KMS or secret store), \
             or point keys.path at a key file"
        );
    }
    Ok(&config.keys.path)
}

pub(super) fn bar(total: u64, what: &str) -> anyhow::Result<ProgressBar> {
    let bar = ProgressBar::new(total);
    bar.set_style(
        ProgressStyle::with_template(&format!(
            "{what} [{{bar:40}}] {{pos}}/{{len}} ({{per_sec}}, ETA {{eta}})"
        ))
        .context("progress bar template")?
        .progress_chars("=> "),
    );
    Ok(bar)
}

pub async fn rotate(config: &Config) -> anyhow::Result<()> {
    let path = key_file(config)?;
    let version = edit::rotate_kek(path)?;
    super::say(&format!(
        "KEK version {version} is now active in {}; running instances adopt it within a second.",
        path.display()
    ))?;
    announce_keys(config).await;
    super::say("Next: `jaga keys rewrap` re-wraps every data key under it (the service can keep running).")?;
    Ok(())
}

/// Tells every instance on the database to read the key file again. (Each
/// host keeps its own copy of the file: copy it to every host first.)
/// Without the database the instances still notice the file's change
/// within 30 s.
async fn announce_keys(config: &Config) {
    let announced = async {
        let db = crate::store::Db::open(&config.database.url, 1, false).await?;
        let sent = crate::store::changes::announce(&db, crate::store::changes::Change::Keys).await;
        db.close().await;
        sent
    };
    if let Err(e) = announced.await {
        tracing::warn!(error = %e, "could not announce the key change to running instances");
    }
}

pub async fn rewrap(config: &Config) -> anyhow::Result<()> {
    let path = key_file(config)?;
    let offline = Offline::with_keys(config, KeyRing::load_file(path)?).await?;
    let result = async {
        let total = rotation::to_rewrap(&offline.db, &offline.keys.vault).await?;
        let progress = bar(total, "re-wrapping data keys")?;
        let shown = progress.clone();
        let mut tick = move |n: u64| shown.inc(n);
        let done = rotation::rewrap(&offline.db, &offline.writer, &offline.keys, operator(), &mut tick).await?;
        progress.finish();
        anyhow::Ok(done)
    }
    .await;
    offline.close().await;
    let done = result?;
    if done.remaining > 0 {
        anyhow::bail!(
            "{} data keys re-wrapped, but {} are still wrapped by an older version (created meanwhile by a \
             service that had not yet adopted the new one): run `jaga keys rewrap` again",
            done.rewrapped,
            done.remaining
        );
    }
    super::say(&format!(
        "{} data keys re-wrapped under KEK version {}; {} changed meanwhile and were left alone",
        done.rewrapped,
        KeyRing::load_file(path)?.vault.active_version(),
        done.skipped
    ))?;
    Ok(())
}

pub async fn status(config: &Config) -> anyhow::Result<()> {
    let offline = Offline::open(config).await?;
    let counts = crate::store::vault::keys_per_kek(&offline.db).await;
    let ring = offline.keys.clone();
    offline.close().await;
    let counts = counts?;
    let active = ring.vault.active_version();
    super::say("KEK version\tdata keys\tstate")?;
    let mut versions = ring.vault.versions();
    for (v, _) in &counts {
        if let Ok(v) = u32::try_from(*v)
            && !versions.contains(&v)
        {
            versions.push(v);
        }
    }
    versions.sort_unstable();
    for v in versions {
        let n = counts.iter().find(|(k, _)| *k == i64::from(v)).map_or(0, |(_, n)| *n);
        let state = if v == active {
            "active"
        } else if !ring.vault.versions().contains(&v) {
            "MISSING from the key file"
        } else if n == 0 {
            "retirable"
        } else {
            "in use: run `jaga keys rewrap`"
        };
        super::say(&format!("{v}\t{n}\t{state}"))?;
    }
    if ring.index_pending.is_some() {
        super::say("blind-index key rotation unfinished: run `jaga keys rotate-index` to finish it")?;
    }
    Ok(())
}

pub async fn retire(config: &Config, version: u32) -> anyhow::Result<()> {
    let path = key_file(config)?;
    let offline = Offline::open(config).await?;
    let counts = crate::store::vault::keys_per_kek(&offline.db).await;
    offline.close().await;
    let in_use = counts?
        .into_iter()
        .find(|(v, _)| *v == i64::from(version))
        .map_or(0, |(_, n)| n);
    if in_use > 0 {
        anyhow::bail!("KEK version {version} still wraps {in_use} data keys: run `jaga keys rewrap` first");
    }
    edit::retire_kek(path, version)?;
    announce_keys(config).await;
    super::say(&format!(
        "KEK version {version} retired (removed from {})",
        path.display()
    ))?;
    Ok(())
}

pub async fn rotate_index(config: &Config) -> anyhow::Result<()> {
    let path = key_file(config)?;
    let ring = edit::begin_index_rotation(path)?;
    super::say(
        "Rotating the blind-index key. The service must be stopped until this finishes: lookups by NIK, KK, \
         phone and email use the index.",
    )?;
    let offline = Offline::with_keys(config, ring).await?;
    let result = async {
        let next = Arc::new(
            KeyRing::load_file(path)?
                .index_pending
                .context("the key file lost its pending index key")?,
        );
        // Ceremonies in flight carry indexes under the old key: cancel them.
        offline
            .writer
            .write::<u64, crate::store::StoreError, _>(|tx| {
                Box::pin(crate::store::identity::delete_expired_ceremonies(tx, i64::MAX))
            })
            .await?;
        let total = rotation::accounts(&offline.db).await?;
        let progress = bar(total, "re-indexing accounts")?;
        let shown = progress.clone();
        let mut tick = move |n: u64| shown.inc(n);
        let done = rotation::reindex(
            &offline.db,
            &offline.writer,
            &offline.keys,
            &next,
            operator(),
            &mut tick,
        )
        .await?;
        progress.finish();
        anyhow::Ok(done)
    }
    .await;
    offline.close().await;
    let done = result?;
    if done.failed > 0 {
        anyhow::bail!(
            "{} accounts could not be re-indexed (their sealed values did not open); the rotation stays \
             unfinished: check the log, then run this command again",
            done.failed
        );
    }
    edit::finish_index_rotation(path)?;
    super::say(&format!(
        "{} accounts re-indexed; the new blind-index key is in use. Start the service again.",
        done.accounts
    ))?;
    Ok(())
}
