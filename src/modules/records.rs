//! A module's records about citizens: write, read (with a purpose) and
//! delete, one record or a batch of up to [`MAX_BATCH`]. Every value is
//! sealed under the citizen's data key, bound to the collection, record,
//! field and record version. Each record touched is one audit event naming
//! the module, the citizen's pseudonym, the fields (not values), the
//! purpose and the outcome; reads return plaintext only after their events
//! committed.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use super::checks::check_write;
use super::checks::{check_batch, check_record_id};
use super::collection::{Collection, Owned};
use super::purpose::Purpose;
pub use super::reading::read;
use super::{Deps, Module, ModuleError, decide, denied};
use crate::account::{AccountKind, Status};
use crate::audit::{self, Context, Event, Outcome, Target};
use crate::store::Tx;
use crate::store::identity::{self as identity_store, AccountRow};
use crate::store::modules::{self as stored, RecordFieldRow};
use crate::vault::citizen;

/// Largest value, in bytes.
pub const MAX_VALUE: usize = 16 * 1024;

/// Which record: the citizen's pseudonym and the module's record id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordRef {
    pub citizen: String,
    /// 1 to 64 letters, digits, `-` or `_`.
    pub record: String,
}

/// Values to set (`null` removes a field).
#[derive(Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordWrite {
    pub citizen: String,
    pub record: String,
    pub values: BTreeMap<String, Option<String>>,
}

impl std::fmt::Debug for RecordWrite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecordWrite")
            .field("citizen", &self.citizen)
            .field("record", &self.record)
            .field("fields", &self.values.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// A record as read. `values` is null when the record does not exist, or
/// when the citizen's decision stops processing for the purpose
/// (`refused`: `no_consent`, `restricted`).
#[derive(Clone, Serialize, utoipa::ToSchema)]
pub struct RecordOut {
    pub citizen: String,
    pub record: String,
    pub values: Option<BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refused: Option<&'static str>,
}

impl std::fmt::Debug for RecordOut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecordOut")
            .field("citizen", &self.citizen)
            .field("record", &self.record)
            .finish_non_exhaustive()
    }
}

/// What the AEAD binds a value to: collection, record and field.
pub fn sealed_name(collection: &str, record: &str, field: &str) -> String {
    format!("{collection}/{record}/{field}")
}

/// The live citizens behind several pseudonyms, in one query, by pseudonym.
pub(super) async fn citizens_of<'p>(
    deps: &Deps,
    pseudonyms: impl Iterator<Item = &'p str>,
) -> Result<std::collections::HashMap<String, AccountRow>, ModuleError> {
    citizens_among(deps, pseudonyms, is_live_citizen).await
}

/// As [`citizens_of`], and erased citizens whose erasure still keeps data
/// under a legal obligation: it stays readable under that obligation only
/// (the read decision refuses every other basis for them), and its module
/// may close their cases and delete their records (never write or open).
pub(super) async fn citizens_for_read<'p>(
    deps: &Deps,
    pseudonyms: impl Iterator<Item = &'p str>,
) -> Result<std::collections::HashMap<String, AccountRow>, ModuleError> {
    let mut found = citizens_among(deps, pseudonyms, |a| a.kind == AccountKind::Citizen).await?;
    let erased: Vec<&str> = found
        .values()
        .filter(|a| a.status == Status::Erased)
        .map(|a| a.account_id.as_str())
        .collect();
    if erased.is_empty() {
        return Ok(found);
    }
    let keeping = crate::store::erasures::keeping_among(&deps.db, &erased).await?;
    found.retain(|_, a| a.status != Status::Erased || keeping.contains(&a.account_id));
    Ok(found)
}

async fn citizens_among<'p>(
    deps: &Deps,
    pseudonyms: impl Iterator<Item = &'p str>,
    keep: impl Fn(&AccountRow) -> bool,
) -> Result<std::collections::HashMap<String, AccountRow>, ModuleError> {
    let mut wanted: Vec<&str> = pseudonyms.collect();
    wanted.sort_unstable();
    wanted.dedup();
    Ok(identity_store::accounts_by_pseudonyms(&deps.db, &wanted)
        .await?
        .into_iter()
        .filter(|a| keep(a))
        .map(|a| (a.pseudonym.clone(), a))
        .collect())
}

fn is_live_citizen(account: &AccountRow) -> bool {
    account.kind == AccountKind::Citizen && account.status != Status::Erased
}

pub(super) fn no_citizen(pseudonym: &str) -> ModuleError {
    ModuleError::NoCitizen(pseudonym.chars().filter(char::is_ascii_graphic).take(64).collect())
}

pub(super) fn field_names(collection: &Collection, names: impl IntoIterator<Item = impl AsRef<str>>) -> Vec<String> {
    names
        .into_iter()
        .map(|n| format!("{}.{}", collection.name, n.as_ref()))
        .collect()
}

pub(super) fn touches_specific(collection: &Collection, names: &[&str]) -> bool {
    names
        .iter()
        .any(|n| collection.field(n).is_some_and(|f| f.classification.is_specific()))
}

/// Writes a batch, all or nothing. Each record's audit event names the
/// policies that allowed the write.
pub async fn write(
    deps: &Deps,
    owned: &Owned,
    writes: Vec<RecordWrite>,
    purpose: &Purpose,
    ctx: &Context,
) -> Result<usize, ModuleError> {
    let (module, collection) = (owned.module(), owned.collection());
    check_batch(writes.len())?;
    for (i, w) in writes.iter().enumerate() {
        check_write(collection, i, w)?;
    }
    let fields = writes.iter().flat_map(|w| w.values.keys().map(String::as_str));
    let allowed_by = match decide::write(&deps.policies.current(), module, collection, purpose, fields) {
        Ok(ids) => ids,
        Err(refused) => {
            let citizens = writes.iter().map(|w| w.citizen.as_str());
            return Err(denied::record(deps, owned, "record.write", purpose, citizens, refused, ctx).await);
        }
    };
    let purpose = purpose.as_str().to_owned();
    let citizens = citizens_of(deps, writes.iter().map(|w| w.citizen.as_str())).await?;
    let mut resolved = Vec::with_capacity(writes.len());
    for w in writes {
        let account = citizens
            .get(&w.citizen)
            .cloned()
            .ok_or_else(|| no_citizen(&w.citizen))?;
        resolved.push((account, w));
    }
    // Nothing new is collected about a citizen who refused, withdrew or
    // restricted the purpose (UU PDP Art. 9, 40): the batch is refused.
    if !deps.checks_bypassed()
        && let Some(def) = deps.policies.current().catalog.get(&purpose)
    {
        let ids: Vec<&str> = resolved.iter().map(|(a, _)| a.account_id.as_str()).collect();
        let stopped = crate::consent::refused_among(&deps.db, def, &ids).await?;
        if !stopped.is_empty() {
            let names: Vec<String> = resolved
                .iter()
                .filter(|(a, _)| stopped.contains(&a.account_id))
                .map(|(a, _)| a.pseudonym.clone())
                .collect();
            let refused = ModuleError::refused(
                decide::Refusal::Restricted,
                decide::Refusal::Restricted.explain(&purpose, module.name(), None),
            );
            let named = Purpose::parse(&purpose)?;
            return Err(denied::record(
                deps,
                owned,
                "record.write",
                &named,
                names.iter().map(String::as_str),
                refused,
                ctx,
            )
            .await);
        }
    }
    // Accounts are locked in one order, so concurrent batches cannot deadlock.
    resolved.sort_by(|a, b| a.0.account_id.cmp(&b.0.account_id));
    let count = resolved.len();
    let (deps2, module, collection, ctx) = (deps.clone(), module.clone(), collection.clone(), ctx.clone());
    deps.writer
        .write::<(), ModuleError, _>(move |tx| {
            Box::pin(async move {
                for (account, w) in resolved {
                    let event = write_one(tx, &deps2, &module, &collection, &account, &w, &purpose, &ctx).await?;
                    audit::record(tx, event.policies(allowed_by.iter().cloned())).await?;
                }
                Ok(())
            })
        })
        .await?;
    Ok(count)
}

#[expect(clippy::too_many_arguments, reason = "one record of a batch, all of it context")]
async fn write_one(
    tx: &mut Tx<'_>,
    deps: &Deps,
    module: &Module,
    collection: &Collection,
    account: &AccountRow,
    w: &RecordWrite,
    purpose: &str,
    ctx: &Context,
) -> Result<Event, ModuleError> {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    // The citizen may have been erased since the batch was checked.
    if identity_store::lock_account(tx, &account.account_id)
        .await?
        .is_none_or(|a| a.status == Status::Erased)
    {
        return Err(ModuleError::NoCitizen(account.pseudonym.clone()));
    }
    let (dek, dek_version) = citizen::data_key(tx, &deps.keys.vault, &account.account_id, now).await?;
    let existing = stored::record_tx(tx, &collection.name, &account.account_id, &w.record).await?;
    let mut sealed_rows = Vec::with_capacity(w.values.len());
    for (name, value) in &w.values {
        match value {
            Some(value) => {
                let record_version = existing
                    .iter()
                    .find(|r| &r.field == name)
                    .map_or(1, |r| r.record_version + 1);
                let sealed = citizen::seal_with(
                    &dek,
                    dek_version,
                    &account.account_id,
                    &sealed_name(&collection.name, &w.record, name),
                    record_version,
                    value.as_bytes(),
                )?;
                sealed_rows.push(RecordFieldRow {
                    collection: collection.name.clone(),
                    account_id: account.account_id.clone(),
                    record_id: w.record.clone(),
                    field: name.clone(),
                    record_version,
                    sealed,
                    updated_at: now,
                });
            }
            None => {
                stored::delete_record_field(tx, &collection.name, &account.account_id, &w.record, name).await?;
            }
        }
    }
    // All of the record's new values in one statement.
    stored::upsert_record_fields(tx, &sealed_rows).await?;
    let names: Vec<&str> = w.values.keys().map(String::as_str).collect();
    let mut event = Event::new(
        module.actor(),
        "record.write",
        Target::new("citizen", Some(account.pseudonym.clone())).with_fields(field_names(collection, &names)),
        Outcome::Success,
    )
    .purpose(purpose)
    .within(ctx);
    if touches_specific(collection, &names) {
        event = event.reason("specific_personal_data");
    }
    Ok(event)
}

/// Deletes a batch of records, all or nothing; returns how many existed.
pub async fn delete(
    deps: &Deps,
    owned: &Owned,
    refs: Vec<RecordRef>,
    purpose: &Purpose,
    ctx: &Context,
) -> Result<u64, ModuleError> {
    let (module, collection) = (owned.module(), owned.collection());
    check_batch(refs.len())?;
    for r in &refs {
        check_record_id(&r.record)?;
    }
    let allowed_by = match decide::write(&deps.policies.current(), module, collection, purpose, []) {
        Ok(ids) => ids,
        Err(refused) => {
            let citizens = refs.iter().map(|r| r.citizen.as_str());
            return Err(denied::record(deps, owned, "record.delete", purpose, citizens, refused, ctx).await);
        }
    };
    let purpose = purpose.as_str().to_owned();
    // Ending data is allowed for what an erasure kept, too.
    let citizens = citizens_for_read(deps, refs.iter().map(|r| r.citizen.as_str())).await?;
    let mut resolved = Vec::with_capacity(refs.len());
    for r in refs {
        let account = citizens
            .get(&r.citizen)
            .cloned()
            .ok_or_else(|| no_citizen(&r.citizen))?;
        resolved.push((account, r.record));
    }
    let (module, collection, ctx) = (module.clone(), collection.clone(), ctx.clone());
    deps.writer
        .write::<u64, ModuleError, _>(move |tx| {
            Box::pin(async move {
                let mut found = 0;
                for (account, record) in resolved {
                    let gone = stored::delete_record(tx, &collection.name, &account.account_id, &record).await?;
                    found += u64::from(gone > 0);
                    let mut event = Event::new(
                        module.actor(),
                        "record.delete",
                        Target::new("citizen", Some(account.pseudonym.clone())).with_fields([collection.name.clone()]),
                        if gone > 0 { Outcome::Success } else { Outcome::Failure },
                    )
                    .purpose(purpose.clone())
                    .policies(allowed_by.iter().cloned())
                    .within(&ctx);
                    if gone == 0 {
                        event = event.reason("not_found");
                    }
                    audit::record(tx, event).await?;
                }
                Ok(found)
            })
        })
        .await
}
