//! Retention of module records (UU PDP Art. 16(2), 43): a record field
//! ends once the retention of every purpose of the catalog that uses it
//! has passed. A duration counts from the field's last write; an event
//! (`event:ticket_closed`) has passed when the module closed a case with
//! the citizen with that event after the field's last write, and the
//! citizen has no open case with the module. A field no purpose uses is
//! kept and reported: ending data for lack of a catalog entry is the
//! operator's call, not the sweep's.
//!
//! The sweep deletes the sealed values (one audit event per record, shown
//! to the citizen); `jaga retention sweep --dry-run` lists what would go.

use std::collections::{BTreeMap, HashMap, HashSet};

use super::{Deps, ModuleError};
use crate::audit::{self, Actor, Event, Outcome, Target};
use crate::policy::{Catalog, Retention};
use crate::store::cases::{self, CaseRow};
use crate::store::identity as identity_store;
use crate::store::modules::{self as stored, FieldStamp};

/// A record field whose retention has passed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Due {
    pub account_id: String,
    pub pseudonym: String,
    pub collection: String,
    pub record: String,
    pub field: String,
    /// The purposes that used it, all of whose retention has passed.
    pub purposes: Vec<String>,
    /// When it was last written, as planned: a field written since is kept.
    pub updated_at: i64,
    /// The module's id when a purpose kept it until an event: the field is
    /// kept if the citizen has opened a case with the module since.
    pub case_module: Option<String>,
}

/// What a sweep would do.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    pub due: Vec<Due>,
    /// Fields kept because no purpose of the catalog uses them.
    pub unlisted: usize,
}

const DAY: i64 = 86_400;

/// Whether `retention` has passed for a field last written at `written`.
fn passed(retention: &Retention, written: i64, now: i64, cases: Option<&CaseFacts>) -> bool {
    match retention {
        Retention::Days(days) => written.saturating_add(i64::from(*days).saturating_mul(DAY)) <= now,
        Retention::UntilEvent(event) => cases.is_some_and(|c| {
            !c.open
                && c.closed
                    .iter()
                    .any(|(e, at)| e == event && *at >= written && *at <= now)
        }),
    }
}

/// A citizen's cases with one module.
#[derive(Debug, Default)]
struct CaseFacts {
    open: bool,
    /// (close event, closed at)
    closed: Vec<(String, i64)>,
}

fn case_facts(rows: Vec<CaseRow>, module_names: &HashMap<String, String>) -> HashMap<(String, String), CaseFacts> {
    let mut out: HashMap<(String, String), CaseFacts> = HashMap::new();
    for row in rows {
        let Some(module) = module_names.get(&row.module_id) else {
            continue;
        };
        let facts = out.entry((module.clone(), row.account_id)).or_default();
        match (row.closed_at, row.close_event) {
            (Some(at), Some(event)) => facts.closed.push((event, at)),
            _ => facts.open = true,
        }
    }
    out
}

/// The fields whose retention has passed at `now`.
pub async fn plan(deps: &Deps, catalog: &Catalog, now: i64) -> Result<Plan, ModuleError> {
    let module_names: HashMap<String, String> = stored::modules(&deps.db)
        .await?
        .into_iter()
        .map(|m| (m.module_id, m.name))
        .collect();
    let cases = case_facts(cases::all(&deps.db).await?, &module_names);
    let mut plan = Plan::default();
    let module_ids: HashMap<String, String> = module_names
        .iter()
        .map(|(id, name)| (name.clone(), id.clone()))
        .collect();
    let mut due: Vec<(FieldStamp, Vec<String>, Option<String>)> = Vec::new();
    for stamp in stored::field_stamps(&deps.db).await? {
        let qualified = format!("{}.{}", stamp.collection, stamp.field);
        let module = stamp.collection.split('.').next().unwrap_or_default().to_owned();
        let facts = cases.get(&(module.clone(), stamp.account_id.clone()));
        // Module data is kept for the module's purposes (an officer's
        // purpose that may read it keeps nothing of its own).
        let users: Vec<_> = catalog
            .purposes()
            .filter(|p| p.reveal(&qualified).is_some() && p.allows_module(&module))
            .collect();
        if users.is_empty() {
            plan.unlisted += 1;
            continue;
        }
        if users.iter().all(|p| passed(&p.retention, stamp.updated_at, now, facts)) {
            let ids = users.iter().map(|p| p.id.clone()).collect();
            let by_event = users.iter().any(|p| matches!(p.retention, Retention::UntilEvent(_)));
            let case_module = by_event.then(|| module_ids.get(&module).cloned()).flatten();
            due.push((stamp, ids, case_module));
        }
    }
    let mut pseudonyms: HashMap<String, String> = HashMap::new();
    for (stamp, _, _) in &due {
        if !pseudonyms.contains_key(&stamp.account_id)
            && let Some(account) = identity_store::account_by_id(&deps.db, &stamp.account_id).await?
        {
            pseudonyms.insert(stamp.account_id.clone(), account.pseudonym);
        }
    }
    plan.due = due
        .into_iter()
        .filter_map(|(stamp, purposes, case_module)| {
            Some(Due {
                updated_at: stamp.updated_at,
                case_module,
                pseudonym: pseudonyms.get(&stamp.account_id)?.clone(),
                account_id: stamp.account_id,
                collection: stamp.collection,
                record: stamp.record_id,
                field: stamp.field,
                purposes,
            })
        })
        .collect();
    Ok(plan)
}

/// Ends every field whose retention has passed at `now`; returns how many.
/// One audit event per record (`record.expire`, reason `retention`), in
/// the transaction that deletes its fields.
pub async fn sweep(deps: &Deps, catalog: &Catalog, now: i64) -> Result<usize, ModuleError> {
    let plan = plan(deps, catalog, now).await?;
    type Fields = Vec<(String, i64, Option<String>)>;
    let mut records: BTreeMap<(String, String, String), (String, Fields)> = BTreeMap::new();
    for d in plan.due {
        records
            .entry((d.account_id, d.collection, d.record))
            .or_insert_with(|| (d.pseudonym, Vec::new()))
            .1
            .push((d.field, d.updated_at, d.case_module));
    }
    let records: Vec<_> = records.into_iter().collect();
    let mut ended = 0;
    for chunk in records.chunks(100) {
        let chunk = chunk.to_vec();
        ended += deps
            .writer
            .write::<usize, ModuleError, _>(move |tx| {
                let chunk = chunk.clone();
                Box::pin(async move {
                    let mut ended = 0;
                    for ((account_id, collection, record), (pseudonym, fields)) in chunk {
                        let mut gone = HashSet::new();
                        for (field, written, case_module) in &fields {
                            // As planned, still: not written since, and no
                            // case opened since where an event decided.
                            if let Some(module_id) = case_module
                                && cases::has_open_case_tx(tx, module_id, &account_id).await?
                            {
                                continue;
                            }
                            if stored::delete_record_field_written_at(
                                tx,
                                &collection,
                                &account_id,
                                &record,
                                field,
                                *written,
                            )
                            .await?
                            {
                                gone.insert(format!("{collection}.{field}"));
                            }
                        }
                        if gone.is_empty() {
                            continue;
                        }
                        ended += gone.len();
                        let mut gone: Vec<String> = gone.into_iter().collect();
                        gone.sort();
                        let event = Event::new(
                            Actor::system(),
                            "record.expire",
                            Target::new("citizen", Some(pseudonym)).with_fields(gone),
                            Outcome::Success,
                        )
                        .reason("retention");
                        audit::record(tx, event).await?;
                    }
                    Ok(ended)
                })
            })
            .await?;
    }
    Ok(ended)
}
