//! What a named purpose lets a module do with its collection's fields.
//! First the purpose catalog: the purpose exists, lists the module, and
//! covers every field touched, each at most at its reveal level. Then the
//! Cedar policies: each field is decided for the module, the purpose and
//! its lawful basis, and a read reveals the lower of the policy's level
//! and the purpose's. Anything else is refused (403) and the refusal is
//! audited with the ids of the policies that decided.

use std::collections::{BTreeMap, BTreeSet};

use super::collection::Collection;
use super::purpose::Purpose;
use super::{Module, ModuleError};
use crate::policy::{Catalog, FieldAction, FieldFacts, Principal, PurposeDef, Snapshot};
use crate::vault::profile::Reveal;

/// Why a purpose does not allow what was asked: an audit reason code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The purpose is not in the catalog.
    UnknownPurpose,
    /// The catalog does not list this module for the purpose.
    NotForModule,
    /// A field touched is not among the purpose's fields.
    FieldOutsidePurpose,
    /// A Cedar policy does not allow it.
    PolicyDenied,
    /// The citizen refused, withdrew or restricted the purpose.
    Restricted,
}

impl Refusal {
    pub fn code(self) -> &'static str {
        match self {
            Refusal::UnknownPurpose => "unknown_purpose",
            Refusal::NotForModule => "purpose_not_for_module",
            Refusal::FieldOutsidePurpose => "field_outside_purpose",
            Refusal::PolicyDenied => "policy_denied",
            Refusal::Restricted => "restricted",
        }
    }

    pub(super) fn explain(self, purpose: &str, module: &str, field: Option<&str>) -> String {
        match self {
            Refusal::UnknownPurpose => format!("purpose {purpose} is not in the purpose catalog"),
            Refusal::NotForModule => format!("purpose {purpose} is not listed for module {module}"),
            Refusal::FieldOutsidePurpose => {
                format!("purpose {purpose} does not cover field {}", field.unwrap_or_default())
            }
            Refusal::PolicyDenied => format!(
                "the policies do not allow module {module} this on field {} for purpose {purpose}",
                field.unwrap_or_default()
            ),
            Refusal::Restricted => {
                format!("a citizen of the batch refused, withdrew or restricted purpose {purpose}: nothing was written")
            }
        }
    }
}

/// The catalog's field name for a collection field.
pub fn qualified(collection: &Collection, field: &str) -> String {
    format!("{}.{field}", collection.name)
}

fn purpose_for<'c>(catalog: &'c Catalog, module: &Module, purpose: &Purpose) -> Result<&'c PurposeDef, ModuleError> {
    let refused = |r: Refusal| ModuleError::refused(r, r.explain(purpose.as_str(), module.name(), None));
    let def = catalog
        .get(purpose.as_str())
        .ok_or_else(|| refused(Refusal::UnknownPurpose))?;
    if !def.allows_module(module.name()) {
        return Err(refused(Refusal::NotForModule));
    }
    Ok(def)
}

/// What a read may open: each field with how much of it to reveal, and
/// the ids of the policies that allowed it.
#[derive(Debug, Clone, Default)]
pub struct ReadPlan {
    pub levels: BTreeMap<String, Reveal>,
    pub policies: BTreeSet<String>,
}

/// The Cedar decision for one field of the module's collection.
fn policy_verdict(
    policies: &Snapshot,
    module: &Module,
    collection: &Collection,
    def: &PurposeDef,
    field: &str,
    action: FieldAction,
) -> crate::policy::Verdict {
    let (classification, specific) = collection.field(field).map_or(("personal", false), |f| {
        (f.classification.as_str(), f.classification.is_specific())
    });
    policies.rules.field(
        Principal::Module { name: module.name() },
        action,
        FieldFacts {
            module: module.name(),
            collection: &collection.name,
            name: field,
            classification,
            specific,
        },
        &def.id,
        def.lawful_basis.as_str(),
    )
}

fn policy_refusal(
    module: &Module,
    collection: &Collection,
    purpose: &Purpose,
    field: &str,
    policies: BTreeSet<String>,
) -> ModuleError {
    ModuleError::Refused {
        reason: Refusal::PolicyDenied,
        message: Refusal::PolicyDenied.explain(purpose.as_str(), module.name(), Some(&qualified(collection, field))),
        policies: policies.into_iter().collect(),
    }
}

/// The fields a read opens and how much of each it reveals. Named fields
/// must all be covered by the purpose and allowed by the policies; without
/// names, the read covers the collection's fields the purpose names and
/// the policies allow (at least one).
pub fn read(
    policies: &Snapshot,
    module: &Module,
    collection: &Collection,
    purpose: &Purpose,
    named: Option<&[String]>,
) -> Result<ReadPlan, ModuleError> {
    let def = purpose_for(&policies.catalog, module, purpose)?;
    let outside = |field: &str| {
        ModuleError::refused(
            Refusal::FieldOutsidePurpose,
            Refusal::FieldOutsidePurpose.explain(purpose.as_str(), module.name(), Some(&qualified(collection, field))),
        )
    };
    let candidates: Vec<(&str, Reveal)> = match named {
        Some(names) => names
            .iter()
            .map(|name| {
                def.reveal(&qualified(collection, name))
                    .map(|level| (name.as_str(), level))
                    .ok_or_else(|| outside(name))
            })
            .collect::<Result<_, _>>()?,
        None => collection
            .fields
            .iter()
            .filter_map(|f| {
                def.reveal(&qualified(collection, &f.name))
                    .map(|level| (f.name.as_str(), level))
            })
            .collect(),
    };
    let mut plan = ReadPlan::default();
    let mut first_denied = None;
    for (field, most) in candidates {
        let verdict = policy_verdict(policies, module, collection, def, field, FieldAction::Read);
        if verdict.allowed {
            plan.levels.insert(field.to_owned(), most.min(verdict.reveal));
            plan.policies.extend(verdict.policies);
        } else if named.is_some() {
            return Err(policy_refusal(module, collection, purpose, field, verdict.policies));
        } else if first_denied.is_none() {
            first_denied = Some((field, verdict.policies));
        }
    }
    if plan.levels.is_empty() {
        return Err(match first_denied {
            Some((field, ids)) => policy_refusal(module, collection, purpose, field, ids),
            None => outside(collection.fields.first().map_or("", |f| f.name.as_str())),
        });
    }
    Ok(plan)
}

/// Benchmarks only: every field named (or all), in plain, no policy.
pub(super) fn unchecked(collection: &Collection, named: Option<&[String]>) -> ReadPlan {
    let levels = match named {
        Some(names) => names.iter().map(|n| (n.clone(), Reveal::Plain)).collect(),
        None => collection
            .fields
            .iter()
            .map(|f| (f.name.clone(), Reveal::Plain))
            .collect(),
    };
    ReadPlan {
        levels,
        policies: BTreeSet::new(),
    }
}

/// A write or delete: the purpose must cover every field written (a
/// delete names none and needs the purpose to cover the collection), and
/// the policies must allow writing each. Returns the ids of the policies
/// that allowed it.
pub fn write<'f>(
    policies: &Snapshot,
    module: &Module,
    collection: &Collection,
    purpose: &Purpose,
    fields: impl IntoIterator<Item = &'f str>,
) -> Result<BTreeSet<String>, ModuleError> {
    let def = purpose_for(&policies.catalog, module, purpose)?;
    let mut any = false;
    let mut allowed_by = BTreeSet::new();
    for field in fields {
        any = true;
        let name = qualified(collection, field);
        if def.reveal(&name).is_none() {
            return Err(ModuleError::refused(
                Refusal::FieldOutsidePurpose,
                Refusal::FieldOutsidePurpose.explain(purpose.as_str(), module.name(), Some(&name)),
            ));
        }
        let verdict = policy_verdict(policies, module, collection, def, field, FieldAction::Write);
        if !verdict.allowed {
            return Err(policy_refusal(module, collection, purpose, field, verdict.policies));
        }
        allowed_by.extend(verdict.policies);
    }
    if !any {
        // A delete: the purpose must cover the collection, and the
        // policies must allow writing every field of it the purpose covers.
        let covered: Vec<&str> = collection
            .fields
            .iter()
            .map(|f| f.name.as_str())
            .filter(|f| def.reveal(&qualified(collection, f)).is_some())
            .collect();
        if covered.is_empty() {
            return Err(ModuleError::refused(
                Refusal::FieldOutsidePurpose,
                Refusal::FieldOutsidePurpose.explain(purpose.as_str(), module.name(), Some(&collection.name)),
            ));
        }
        for field in covered {
            let verdict = policy_verdict(policies, module, collection, def, field, FieldAction::Write);
            if !verdict.allowed {
                return Err(policy_refusal(module, collection, purpose, field, verdict.policies));
            }
            allowed_by.extend(verdict.policies);
        }
    }
    Ok(allowed_by)
}

/// A value shown masked: its length kept, only its first character and
/// last two shown when it has at least six (`A••••12`), none otherwise.
pub fn mask(value: &str) -> String {
    let chars: Vec<char> = value.chars().collect();
    let n = chars.len();
    if n < 6 {
        return "•".repeat(n);
    }
    chars
        .iter()
        .enumerate()
        .map(|(i, c)| if i == 0 || i + 2 >= n { *c } else { '•' })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::mask;

    #[test]
    fn masking_keeps_the_length_and_little_else() {
        assert_eq!(mask("A-12"), "••••");
        assert_eq!(mask("A-0012"), "A•••12");
        assert_eq!(mask("Jalan Merdeka 7"), "J•••••••••••• 7");
        assert_eq!(mask(""), "");
    }
}
