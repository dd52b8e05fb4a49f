//! Reading a batch of module records for a purpose: the purpose catalog,
//! the Cedar policies and the lawful basis decide (one snapshot of the
//! policies for the whole request); each record read is one audit event,
//! committed before any plaintext is returned.

use std::collections::BTreeMap;

use super::checks::{check_batch, check_record_id};
use super::collection::Owned;
use super::purpose::Purpose;
use super::records::{RecordOut, RecordRef, citizens_for_read, field_names, no_citizen, sealed_name, touches_specific};
use super::{Deps, ModuleError, basis, decide, denied};
use crate::audit::{self, Context, Event, Outcome, Target};
use crate::store::identity::AccountRow;
use crate::store::modules::{self as stored, RecordFieldRow};
use crate::store::vault as vault_store;
use crate::vault::citizen;
use crate::vault::profile::Reveal;

/// Reads a batch for `purpose`; `fields` narrows what is decrypted.
pub async fn read(
    deps: &Deps,
    owned: &Owned,
    refs: Vec<RecordRef>,
    fields: Option<&[String]>,
    purpose: &Purpose,
    ctx: &Context,
) -> Result<Vec<RecordOut>, ModuleError> {
    let (module, collection) = (owned.module(), owned.collection());
    check_batch(refs.len())?;
    if let Some(bad) = fields.and_then(|f| f.iter().find(|f| collection.field(f).is_none())) {
        return Err(ModuleError::Invalid(format!(
            "fields: {} has no field {}",
            collection.name,
            bad.chars().take(48).collect::<String>()
        )));
    }
    for r in &refs {
        check_record_id(&r.record)?;
    }
    // Three queries for the whole batch: the citizens, their records, and
    // their data keys; each citizen's key is unwrapped once.
    let citizens = citizens_for_read(deps, refs.iter().map(|r| r.citizen.as_str())).await?;
    let (plan, blocked) = if deps.checks_bypassed() {
        (decide::unchecked(collection, fields), std::collections::HashMap::new())
    } else {
        // One snapshot of the policies decides the whole request.
        let policies = deps.policies.current();
        let plan = match decide::read(&policies, module, collection, purpose, fields) {
            Ok(plan) => plan,
            Err(refused) => {
                let citizens = refs.iter().map(|r| r.citizen.as_str());
                return Err(denied::record(deps, owned, "record.read", purpose, citizens, refused, ctx).await);
            }
        };
        // The lawful basis, now: a consent in force, no restriction, an
        // open case for a contract or a public task.
        let holders: Vec<&str> = citizens.values().map(|a| a.account_id.as_str()).collect();
        let mut blocked = match policies.catalog.get(purpose.as_str()) {
            Some(def) => basis::blocked(deps, module, def, &holders).await?,
            None => return Err(ModuleError::Purpose),
        };
        // An erased citizen's kept data serves its legal obligation only.
        let obligation = policies
            .catalog
            .get(purpose.as_str())
            .is_some_and(|def| def.lawful_basis == crate::policy::LawfulBasis::LegalObligation);
        for account in citizens.values().filter(|a| a.status == crate::account::Status::Erased) {
            if !obligation {
                blocked.insert(account.account_id.clone(), "erased");
            }
        }
        (plan, blocked)
    };
    let purpose = purpose.as_str().to_owned();
    let wanted: Vec<(&str, &str)> = refs
        .iter()
        .filter_map(|r| {
            citizens
                .get(&r.citizen)
                .filter(|a| !blocked.contains_key(&a.account_id))
                .map(|a| (a.account_id.as_str(), r.record.as_str()))
        })
        .collect();
    let rows = stored::records_in(&deps.db, &collection.name, &wanted).await?;
    let holders: Vec<&str> = citizens.values().map(|a| a.account_id.as_str()).collect();
    let keys = if rows.is_empty() {
        Vec::new()
    } else {
        vault_store::read_keys(&deps.db, &holders).await?
    };
    let mut opener = citizen::Opener::new(&deps.keys.vault, keys);
    let mut out = Vec::with_capacity(refs.len());
    let mut events = Vec::with_capacity(refs.len());
    for r in refs {
        let Some(account) = citizens.get(&r.citizen) else {
            return Err(no_citizen(&r.citizen));
        };
        if let Some(why) = blocked.get(&account.account_id) {
            events.push(
                Event::new(
                    module.actor(),
                    "record.read",
                    Target::new("citizen", Some(account.pseudonym.clone())).with_fields([collection.name.clone()]),
                    Outcome::Denied,
                )
                .purpose(purpose.clone())
                .reason(*why)
                .policies(plan.policies.iter().cloned())
                .within(ctx),
            );
            out.push(RecordOut {
                citizen: r.citizen,
                record: r.record,
                values: None,
                refused: Some(*why),
            });
            continue;
        }
        let stored: Vec<&RecordFieldRow> = rows
            .iter()
            .filter(|row| row.account_id == account.account_id && row.record_id == r.record)
            .collect();
        match open_record(&mut opener, owned, account, r, &stored, &plan.levels, &purpose, ctx) {
            Ok((record, event)) => {
                events.push(event.policies(plan.policies.iter().cloned()));
                out.push(record);
            }
            Err(e) => {
                // Evidence of tampering (or a lost key): on the record, then fail.
                let failed = Event::new(
                    module.actor(),
                    "record.read",
                    Target::new("citizen", Some(account.pseudonym.clone())).with_fields([collection.name.clone()]),
                    Outcome::Failure,
                )
                .purpose(purpose.clone())
                .reason("undecryptable")
                .within(ctx);
                let _ = deps
                    .writer
                    .write::<(), ModuleError, _>(move |tx| {
                        Box::pin(async move { Ok(audit::record(tx, failed).await?) })
                    })
                    .await;
                return Err(e);
            }
        }
    }
    // Plaintext leaves only once every event of the batch has committed.
    deps.writer
        .write::<(), ModuleError, _>(move |tx| {
            Box::pin(async move {
                for event in events {
                    audit::record(tx, event).await?;
                }
                Ok(())
            })
        })
        .await?;
    Ok(out)
}

/// Opens one record of a batch read; returns it with its (uncommitted)
/// audit event.
#[expect(clippy::too_many_arguments, reason = "one record of a batch, all of it context")]
fn open_record(
    opener: &mut citizen::Opener<'_>,
    owned: &Owned,
    account: &AccountRow,
    r: RecordRef,
    stored: &[&RecordFieldRow],
    levels: &BTreeMap<String, Reveal>,
    purpose: &str,
    ctx: &Context,
) -> Result<(RecordOut, Event), ModuleError> {
    let collection = owned.collection();
    // Redacted fields are not decrypted at all.
    let wanted: Vec<(&RecordFieldRow, Reveal)> = stored
        .iter()
        .filter_map(|row| match levels.get(&row.field) {
            Some(Reveal::Redacted) | None => None,
            Some(level) => Some((*row, *level)),
        })
        .collect();
    let mut values = BTreeMap::new();
    for (row, level) in &wanted {
        let text = opener.open_text(
            &account.account_id,
            &sealed_name(&collection.name, &r.record, &row.field),
            row.record_version,
            &row.sealed,
        )?;
        let shown = if *level == Reveal::Masked {
            decide::mask(&text)
        } else {
            text
        };
        values.insert(row.field.clone(), shown);
    }
    let names: Vec<&str> = wanted.iter().map(|(row, _)| row.field.as_str()).collect();
    let mut event = Event::new(
        owned.module().actor(),
        "record.read",
        Target::new("citizen", Some(account.pseudonym.clone())).with_fields(field_names(collection, &names)),
        Outcome::Success,
    )
    .purpose(purpose)
    .within(ctx);
    if stored.is_empty() {
        event = event.reason("not_found");
    } else if touches_specific(collection, &names) {
        event = event.reason("specific_personal_data");
    }
    let record = RecordOut {
        citizen: r.citizen,
        record: r.record,
        values: (!stored.is_empty()).then_some(values),
        refused: None,
    };
    Ok((record, event))
}
