//! Erasure at the citizen's request (UU PDP Art. 8 and 43).
//!
//! Everything is crypto-shredded except what a purpose with the lawful
//! basis `legal_obligation` obliges a service to keep: the module records
//! of such a purpose that the citizen has, and the profile fields the same
//! purpose uses, each until its retention ends. What is kept is sealed
//! again under a new data key and the old key is destroyed, so every other
//! value, in the database and in every backup, can no longer be opened.
//! The account ends (passkeys, sessions, name and NIK index gone). When the
//! last kept value's retention ends, or the service has ended its records,
//! the new key is destroyed too ([`finish_due`]).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::Deps;
use crate::account::{AccountKind, Status};
use crate::audit::{self, Actor, ActorKind, Context, Event, Outcome, Target};
use crate::policy::{Catalog, LawfulBasis, Retention};
use crate::profile::erase::{self, EraseError};
use crate::sessions::OwnData;
use crate::store::erasures::{self as stored, ErasureRow};
use crate::store::identity as identity_store;
use crate::store::modules::RecordFieldRow;
use crate::store::vault::{self as vault_store, CitizenKeyRow, FieldRow};
use crate::store::{StoreError, Tx};
use crate::vault::{DataKey, VaultError, citizen};

const DAY: i64 = 86_400;

/// A field kept under a legal obligation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct KeptField {
    /// `profile.<field>` or `<collection>.<field>`.
    pub field: String,
    /// The catalog purpose whose legal obligation keeps it.
    pub purpose: String,
    /// Kept until then (Unix seconds); `null`: until the service closes the
    /// citizen's case.
    pub until: Option<i64>,
}

/// What an erasure does (before) or did (after).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ErasurePlan {
    /// Fields crypto-shredded (besides the account: passkeys, sessions).
    pub erased: Vec<String>,
    /// Fields kept, why and until when.
    pub kept: Vec<KeptField>,
    /// When the last kept field ends (Unix seconds), if known.
    pub kept_until: Option<i64>,
    /// A digest of this plan: erasing needs it, so that what is done is
    /// what the citizen read (409 `plan_changed` otherwise).
    pub digest: String,
}

impl ErasurePlan {
    /// Sets the digest over the plan and `held`, every value it covers (a
    /// record written since changes it even when the plan reads the same).
    fn seal(mut self, held: &[String]) -> Self {
        let text = serde_json::json!([self.erased, self.kept, self.kept_until, held]).to_string();
        self.digest = crate::ids::sha256(text.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        self
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ErasureError {
    #[error("the account is already erased")]
    AlreadyErased,
    #[error(transparent)]
    Erase(#[from] EraseError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Vault(#[from] VaultError),
    #[error(transparent)]
    Audit(#[from] audit::AuditError),
    #[error("the plan could not be encoded")]
    Encode,
    #[error("what would be erased has changed since it was shown")]
    PlanChanged,
}

/// Which of the held fields a legal obligation keeps.
#[derive(Debug, Default)]
struct Split {
    plan: ErasurePlan,
    profile: BTreeSet<String>,
    /// (collection, record, field)
    records: BTreeSet<(String, String, String)>,
}

fn later(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        _ => None,
    }
}

/// Decides what is kept: pure, from the catalog and what the citizen has.
fn split(catalog: &Catalog, profile: &[FieldRow], records: &[RecordFieldRow]) -> Split {
    let mut kept: BTreeMap<String, KeptField> = BTreeMap::new();
    let mut out = Split::default();
    let mut keep = |field: String, purpose: &str, until: Option<i64>| {
        kept.entry(field.clone())
            .and_modify(|k| k.until = later(k.until, until))
            .or_insert(KeptField {
                field,
                purpose: purpose.to_owned(),
                until,
            });
    };
    for p in catalog
        .purposes()
        .filter(|p| p.lawful_basis == LawfulBasis::LegalObligation && !p.modules.is_empty())
    {
        let mut any = false;
        let mut until_all = Some(i64::MIN);
        for row in records {
            let qualified = format!("{}.{}", row.collection, row.field);
            let module = row.collection.split('.').next().unwrap_or_default();
            if p.reveal(&qualified).is_none() || !p.allows_module(module) {
                continue;
            }
            let until = match &p.retention {
                Retention::Days(days) => Some(row.updated_at.saturating_add(i64::from(*days) * DAY)),
                Retention::UntilEvent(_) => None,
            };
            any = true;
            until_all = later(until_all, until);
            keep(qualified, &p.id, until);
            out.records
                .insert((row.collection.clone(), row.record_id.clone(), row.field.clone()));
        }
        if !any {
            continue;
        }
        for row in profile.iter().filter(|r| p.reveal(&r.field).is_some()) {
            keep(row.field.clone(), &p.id, until_all);
            out.profile.insert(row.field.clone());
        }
    }
    let mut erased: BTreeSet<String> = profile
        .iter()
        .filter(|r| !out.profile.contains(&r.field))
        .map(|r| r.field.clone())
        .collect();
    erased.extend(
        records
            .iter()
            .filter(|r| {
                !out.records
                    .contains(&(r.collection.clone(), r.record_id.clone(), r.field.clone()))
            })
            .map(|r| format!("{}.{}", r.collection, r.field)),
    );
    let kept: Vec<KeptField> = kept.into_values().collect();
    let mut held: Vec<String> = profile.iter().map(|r| r.field.clone()).collect();
    held.extend(
        records
            .iter()
            .map(|r| format!("{}/{}/{}@{}", r.collection, r.record_id, r.field, r.updated_at)),
    );
    held.sort_unstable();
    out.plan = ErasurePlan {
        kept_until: kept.iter().map(|k| k.until).reduce(later).flatten(),
        kept,
        erased: erased.into_iter().collect(),
        digest: String::new(),
    }
    .seal(&held);
    out
}

/// What erasing the owner would do now (nothing is opened or changed).
pub async fn preview(deps: &Deps, owner: &OwnData) -> Result<ErasurePlan, ErasureError> {
    let account_id = &owner.account().account_id;
    let profile = vault_store::read_fields(&deps.profile.db, account_id, "profile.").await?;
    let records = crate::store::modules::records_of(&deps.profile.db, account_id).await?;
    let policies = deps.consent.policies.current();
    Ok(split(&policies.catalog, &profile, &records).plan)
}

/// Erases the owner, keeping only what a legal obligation keeps, if what
/// would be done is still the plan of `digest` (the one shown); returns
/// what was done. The account ends in the same unit of work.
pub async fn erase(deps: &Deps, owner: &OwnData, digest: &str, ctx: &Context) -> Result<ErasurePlan, ErasureError> {
    let digest = digest.to_owned();
    let account = owner.account().clone();
    let policies = deps.consent.policies.current();
    let (deps2, ctx2) = (deps.clone(), ctx.clone());
    deps.profile
        .writer
        .write::<ErasurePlan, ErasureError, _>(move |tx| {
            Box::pin(async move {
                let live = identity_store::lock_account(tx, &account.account_id).await?;
                if live.is_none_or(|a| a.kind != AccountKind::Citizen || a.status == Status::Erased) {
                    return Err(ErasureError::AlreadyErased);
                }
                let now = time::OffsetDateTime::now_utc().unix_timestamp();
                let profile = stored::fields_of(tx, &account.account_id).await?;
                let records = stored::records_of(tx, &account.account_id).await?;
                let split = split(&policies.catalog, &profile, &records);
                if split.plan.digest != digest {
                    return Err(ErasureError::PlanChanged);
                }
                let key = vault_store::key_of(tx, &account.account_id).await?;
                let mut gone = split.plan.erased.clone();
                match key {
                    Some(key) if !split.plan.kept.is_empty() => {
                        let unreadable = keep_under_new_key(tx, &deps2, &key, &split, &profile, &records, now).await?;
                        gone.extend(unreadable);
                    }
                    _ => erase::shred(tx, &account.account_id).await?,
                }
                crate::store::corrections::delete_of(tx, &account.account_id).await?;
                stored::end_guardian_links(tx, &account.account_id, now).await?;
                erase::end_account(tx, &account.account_id, now).await?;
                let nothing_kept = split.plan.kept.is_empty();
                stored::insert(
                    tx,
                    &ErasureRow {
                        account_id: account.account_id.clone(),
                        erased_at: now,
                        kept: serde_json::to_string(&split.plan.kept).map_err(|_| ErasureError::Encode)?,
                        kept_until: split.plan.kept_until,
                        finished_at: nothing_kept.then_some(now),
                    },
                )
                .await?;
                let event = Event::new(
                    Actor::new(ActorKind::Citizen, account.pseudonym.clone()),
                    "citizen.erase",
                    Target::new("citizen", Some(account.pseudonym.clone())).with_fields(gone),
                    Outcome::Success,
                )
                .purpose("own_data")
                .reason(if nothing_kept {
                    "citizen_request"
                } else {
                    "citizen_request_kept_by_law"
                })
                .within(&ctx2);
                audit::record(tx, event).await?;
                Ok(split.plan)
            })
        })
        .await
}

/// Seals what is kept again under a new data key, deletes the rest and
/// the blind indexes, and replaces the key: the old one is gone. A kept
/// value that no longer opens (damaged) cannot be kept: it is deleted and
/// named in what is returned, so one bad row never blocks an erasure.
async fn keep_under_new_key(
    tx: &mut Tx<'_>,
    deps: &Deps,
    key: &CitizenKeyRow,
    split: &Split,
    profile: &[FieldRow],
    records: &[RecordFieldRow],
    now: i64,
) -> Result<Vec<String>, ErasureError> {
    let keks = &deps.profile.keys.vault;
    let mut unreadable = Vec::new();
    let (old, old_version) = citizen::unwrap_row(key, keks)?;
    let fresh = DataKey::generate()?;
    let version = old_version.saturating_add(1);
    let account_id = key.account_id.as_str();
    for row in profile {
        let opened = split
            .profile
            .contains(&row.field)
            .then(|| citizen::open_with(&old, account_id, &row.field, row.record_version, &row.sealed));
        match opened {
            Some(Ok(plain)) => {
                let sealed = citizen::seal_with(&fresh, version, account_id, &row.field, row.record_version, &plain)?;
                vault_store::upsert_field(tx, &FieldRow { sealed, ..row.clone() }).await?;
            }
            Some(Err(_)) => {
                unreadable.push(row.field.clone());
                vault_store::delete_field(tx, account_id, &row.field).await?;
            }
            None => {
                vault_store::delete_field(tx, account_id, &row.field).await?;
            }
        }
    }
    for row in records {
        let id = (row.collection.clone(), row.record_id.clone(), row.field.clone());
        let name = crate::modules::records::sealed_name(&row.collection, &row.record_id, &row.field);
        let opened = split
            .records
            .contains(&id)
            .then(|| citizen::open_with(&old, account_id, &name, row.record_version, &row.sealed));
        if let Some(Ok(plain)) = opened {
            let sealed = citizen::seal_with(&fresh, version, account_id, &name, row.record_version, &plain)?;
            stored::reseal_record_field(tx, row, &sealed).await?;
        } else {
            if matches!(opened, Some(Err(_))) {
                unreadable.push(format!("{}.{}", row.collection, row.field));
            }
            crate::store::modules::delete_record_field(tx, &row.collection, account_id, &row.record_id, &row.field)
                .await?;
        }
    }
    let wrapped = fresh.wrap(account_id, keks)?;
    stored::replace_key(
        tx,
        &CitizenKeyRow {
            account_id: account_id.to_owned(),
            dek_version: i64::from(version),
            kek_version: i64::from(wrapped.kek_version),
            wrapped: wrapped.bytes,
            created_at: now,
        },
    )
    .await?;
    vault_store::delete_indexes_of(tx, account_id).await?;
    if !unreadable.is_empty() {
        tracing::warn!(fields = ?unreadable, "kept values that no longer open were deleted at erasure");
    }
    Ok(unreadable)
}

/// Ends what erasures kept once it is due: everything, when the last
/// retention has passed or the service has ended every record it kept (or
/// closed the case an event-based retention waited for, and the sweep
/// ended the records); a kept profile field alone, when its own date has
/// passed. The data key goes with the last of it. One audit event each.
/// Returns how many erasures or fields ended.
pub async fn finish_due(deps: &crate::profile::Deps, now: i64) -> Result<usize, ErasureError> {
    let mut ended = 0;
    let mut after = String::new();
    loop {
        let page = stored::keeping(&deps.db, &after, 500).await?;
        let Some(last) = page.last() else {
            return Ok(ended);
        };
        after.clone_from(&last.account_id);
        for row in page {
            ended += finish_one(deps, row, now).await?;
        }
    }
}

async fn finish_one(deps: &crate::profile::Deps, row: ErasureRow, now: i64) -> Result<usize, ErasureError> {
    let records = crate::store::modules::records_of(&deps.db, &row.account_id).await?;
    let Some(account) = identity_store::account_by_id(&deps.db, &row.account_id).await? else {
        return Ok(0);
    };
    let whole = row.kept_until.is_some_and(|until| until <= now) || records.is_empty();
    let due_fields: Vec<String> = if whole {
        Vec::new()
    } else {
        let kept: Vec<KeptField> = serde_json::from_str(&row.kept).unwrap_or_default();
        let held = vault_store::read_fields(&deps.db, &row.account_id, "profile.").await?;
        kept.into_iter()
            .filter(|k| k.until.is_some_and(|until| until <= now) && held.iter().any(|h| h.field == k.field))
            .map(|k| k.field)
            .collect()
    };
    if !whole && due_fields.is_empty() {
        return Ok(0);
    }
    let (action, fields) = if whole {
        ("citizen.erase_finish", Vec::new())
    } else {
        ("profile.expire", due_fields.clone())
    };
    let event = Event::new(
        Actor::new(ActorKind::System, "retention"),
        action,
        Target::new("citizen", Some(account.pseudonym)).with_fields(fields),
        Outcome::Success,
    )
    .reason("retention");
    let account_id = row.account_id.clone();
    let done = deps
        .writer
        .write::<bool, ErasureError, _>(move |tx| {
            Box::pin(async move {
                if whole {
                    if !stored::finish(tx, &account_id, now).await? {
                        return Ok(false);
                    }
                    erase::shred(tx, &account_id).await?;
                } else {
                    for field in &due_fields {
                        vault_store::delete_field(tx, &account_id, field).await?;
                    }
                }
                audit::record(tx, event).await?;
                Ok(true)
            })
        })
        .await?;
    Ok(usize::from(done))
}

#[cfg(test)]
#[path = "erasure_tests.rs"]
mod tests;
