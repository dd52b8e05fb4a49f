//! Key rotation across the vault and the profile's blind indexes.
//!
//! Rotation work over every stored data key or index, in batches, while
//! the service keeps running: re-wrapping data keys under the active KEK,
//! and rebuilding blind indexes under a new index key.
//!
//! Both are resumable: re-wrapping picks up whatever is still wrapped by
//! another version, and rebuilding an index from the sealed values gives
//! the same result however often it runs.

use crate::audit::{self, Actor, Event, Outcome, Target};
use crate::keys::IndexKey;
use crate::profile::{fields, index};
use crate::store::identity as identity_store;
use crate::store::vault::{self as stored, CitizenKeyRow};
use crate::store::{Db, Writer};
use crate::vault::{DataKey, KeyProvider, VaultError, WrappedKey};

/// Data keys per batch (one unit of work each).
pub const BATCH: i64 = 500;

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Rewrapped {
    pub rewrapped: u64,
    /// Changed by someone else meanwhile (erased, or re-wrapped by another run).
    pub skipped: u64,
    /// Still wrapped by another version when the last pass ended (keys
    /// created meanwhile by a service that has not yet adopted the new
    /// version): run again.
    pub remaining: u64,
}

/// How many data keys are wrapped by a version other than the active one.
pub async fn to_rewrap(db: &Db, keks: &dyn KeyProvider) -> Result<u64, VaultError> {
    let active = i64::from(keks.active_version());
    Ok(stored::keys_per_kek(db)
        .await?
        .into_iter()
        .filter(|(v, _)| *v != active)
        .map(|(_, n)| u64::try_from(n).unwrap_or(0))
        .sum())
}

/// Re-wraps every data key under the active KEK; `progress` is told how many
/// keys each batch handled.
pub async fn rewrap(
    db: &Db,
    writer: &Writer,
    keks: &std::sync::Arc<crate::keys::KeyRing>,
    actor: Actor,
    progress: &mut (dyn FnMut(u64) + Send),
) -> Result<Rewrapped, VaultError> {
    let active = keks.vault.active_version();
    let mut total = Rewrapped::default();
    // Keys created under an older version while a pass ran are caught by the next.
    for _pass in 0..3 {
        let mut after = String::new();
        loop {
            let rows = stored::keys_to_rewrap(db, i64::from(active), &after, BATCH).await?;
            let Some(last) = rows.last() else { break };
            after.clone_from(&last.account_id);
            let mut fresh: Vec<(CitizenKeyRow, WrappedKey)> = Vec::with_capacity(rows.len());
            for row in rows {
                let wrapped = WrappedKey {
                    kek_version: u32::try_from(row.kek_version).map_err(|_| crate::vault::Undecryptable)?,
                    bytes: row.wrapped.clone(),
                };
                fresh.push((row.clone(), DataKey::rewrap(&wrapped, &row.account_id, &keks.vault)?));
            }
            let handled = u64::try_from(fresh.len()).unwrap_or(0);
            let actor = actor.clone();
            let done = writer
                .write::<Rewrapped, VaultError, _>(move |tx| {
                    Box::pin(async move {
                        let mut done = Rewrapped::default();
                        for (old, new) in &fresh {
                            if stored::replace_wrapped(tx, old, i64::from(new.kek_version), &new.bytes).await? {
                                done.rewrapped += 1;
                            } else {
                                done.skipped += 1;
                            }
                        }
                        let event = Event::new(
                            actor,
                            "vault.rewrap",
                            Target::new("kek", Some(format!("v{active}"))),
                            Outcome::Success,
                        );
                        audit::record(tx, event).await?;
                        Ok(done)
                    })
                })
                .await?;
            total.rewrapped += done.rewrapped;
            total.skipped += done.skipped;
            progress(handled);
        }
        total.remaining = to_rewrap(db, &keks.vault).await?;
        if total.remaining == 0 {
            break;
        }
    }
    Ok(total)
}

/// How many accounts hold sealed data (and so perhaps indexes).
pub async fn accounts(db: &Db) -> Result<u64, VaultError> {
    let mut count = 0u64;
    let mut after = String::new();
    loop {
        let ids = stored::accounts_with_keys(db, &after, 10_000).await?;
        let Some(last) = ids.last() else { break };
        after.clone_from(last);
        count += u64::try_from(ids.len()).unwrap_or(0);
    }
    Ok(count)
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Reindexed {
    pub accounts: u64,
    /// Accounts whose sealed values could not be opened (their indexes are
    /// left as they were).
    pub failed: u64,
}

/// Rebuilds every blind index (NIK in accounts and pending codes; KK, phone,
/// email) under `next`, from the sealed values.
pub async fn reindex(
    db: &Db,
    writer: &Writer,
    keks: &std::sync::Arc<crate::keys::KeyRing>,
    next: &std::sync::Arc<IndexKey>,
    actor: Actor,
    progress: &mut (dyn FnMut(u64) + Send),
) -> Result<Reindexed, VaultError> {
    let mut total = Reindexed::default();
    let mut after = String::new();
    loop {
        let ids = stored::accounts_with_keys(db, &after, BATCH).await?;
        let Some(last) = ids.last() else { break };
        after.clone_from(last);
        let mut batch = Vec::with_capacity(ids.len());
        for id in ids {
            match crate::profile::load(db, &keks.vault, &id).await {
                Ok((profile, _)) => batch.push((id, profile)),
                Err(e) => {
                    let pseudonym = identity_store::account_by_id(db, &id).await?.map(|a| a.pseudonym);
                    tracing::warn!(error = %e, account = ?pseudonym, "could not open an account's sealed values to re-index them");
                    total.failed += 1;
                }
            }
        }
        let handled = u64::try_from(batch.len()).unwrap_or(0);
        let (next, actor) = (next.clone(), actor.clone());
        let unindexable = writer
            .write::<u64, VaultError, _>(move |tx| {
                Box::pin(async move {
                    let mut unindexable = 0;
                    for (id, profile) in &batch {
                        let nik = profile
                            .nik
                            .as_deref()
                            .map(|n| next.blind_index(crate::account::NIK_INDEX, n.as_bytes()).to_vec());
                        let account = identity_store::account_by_id_tx(tx, id).await?;
                        match (&nik, account) {
                            (Some(digest), Some(account)) => {
                                if account.nik_index.is_some() {
                                    identity_store::set_nik_index(tx, id, digest, account.updated_at).await?;
                                }
                                identity_store::set_code_nik_indexes(tx, id, digest).await?;
                            }
                            // An index with no sealed NIK to rebuild it from.
                            (None, Some(account)) if account.nik_index.is_some() => {
                                tracing::warn!(account = %account.pseudonym, "NIK index without a sealed NIK");
                                unindexable += 1;
                            }
                            _ => {}
                        }
                        for (domain, value) in [
                            (index::KK, &profile.kk),
                            (index::PHONE, &profile.phone),
                            (index::EMAIL, &profile.email),
                        ] {
                            index::set(tx, &next, id, domain, value.as_deref()).await?;
                        }
                    }
                    let event = Event::new(
                        actor,
                        "index.rebuild",
                        Target::new("blind_index", None).with_fields([
                            fields::NIK,
                            fields::KK,
                            fields::PHONE,
                            fields::EMAIL,
                        ]),
                        Outcome::Success,
                    );
                    audit::record(tx, event).await?;
                    Ok(unindexable)
                })
            })
            .await?;
        total.failed += unindexable;
        total.accounts += handled - unindexable.min(handled);
        progress(handled);
    }
    Ok(total)
}
