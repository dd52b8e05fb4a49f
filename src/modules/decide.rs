//! What a named purpose lets a module do with its collection's fields,
//! decided from the purpose catalog: the purpose exists, lists the module,
//! and covers every field touched, each at most at its reveal level.
//! Anything else is refused (403) and the refusal is audited.

use std::collections::BTreeMap;

use super::collection::Collection;
use super::purpose::Purpose;
use super::{Module, ModuleError};
use crate::policy::{Catalog, PurposeDef};
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
}

impl Refusal {
    pub fn code(self) -> &'static str {
        match self {
            Refusal::UnknownPurpose => "unknown_purpose",
            Refusal::NotForModule => "purpose_not_for_module",
            Refusal::FieldOutsidePurpose => "field_outside_purpose",
        }
    }

    fn explain(self, purpose: &str, module: &str, field: Option<&str>) -> String {
        match self {
            Refusal::UnknownPurpose => format!("purpose {purpose} is not in the purpose catalog"),
            Refusal::NotForModule => format!("purpose {purpose} is not listed for module {module}"),
            Refusal::FieldOutsidePurpose => {
                format!("purpose {purpose} does not cover field {}", field.unwrap_or_default())
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

/// The fields a read opens and how much of each it reveals. Named fields
/// must all be covered by the purpose; without names, the read covers the
/// collection's fields the purpose names (at least one).
pub fn read(
    catalog: &Catalog,
    module: &Module,
    collection: &Collection,
    purpose: &Purpose,
    named: Option<&[String]>,
) -> Result<BTreeMap<String, Reveal>, ModuleError> {
    let def = purpose_for(catalog, module, purpose)?;
    let outside = |field: &str| {
        ModuleError::refused(
            Refusal::FieldOutsidePurpose,
            Refusal::FieldOutsidePurpose.explain(purpose.as_str(), module.name(), Some(&qualified(collection, field))),
        )
    };
    let mut levels = BTreeMap::new();
    match named {
        Some(names) => {
            for name in names {
                let level = def.reveal(&qualified(collection, name)).ok_or_else(|| outside(name))?;
                levels.insert(name.clone(), level);
            }
        }
        None => {
            for f in &collection.fields {
                if let Some(level) = def.reveal(&qualified(collection, &f.name)) {
                    levels.insert(f.name.clone(), level);
                }
            }
            if levels.is_empty() {
                let first = collection.fields.first().map_or("", |f| f.name.as_str());
                return Err(outside(first));
            }
        }
    }
    Ok(levels)
}

/// A write or delete: the purpose must cover every field written (a
/// delete names none and needs the purpose to cover the collection).
pub fn write<'f>(
    catalog: &Catalog,
    module: &Module,
    collection: &Collection,
    purpose: &Purpose,
    fields: impl IntoIterator<Item = &'f str>,
) -> Result<(), ModuleError> {
    let def = purpose_for(catalog, module, purpose)?;
    let mut any = false;
    for field in fields {
        any = true;
        let name = qualified(collection, field);
        if def.reveal(&name).is_none() {
            return Err(ModuleError::refused(
                Refusal::FieldOutsidePurpose,
                Refusal::FieldOutsidePurpose.explain(purpose.as_str(), module.name(), Some(&name)),
            ));
        }
    }
    let prefix = format!("{}.", collection.name);
    if !any && !def.fields.keys().any(|f| f.starts_with(&prefix)) {
        return Err(ModuleError::refused(
            Refusal::FieldOutsidePurpose,
            Refusal::FieldOutsidePurpose.explain(purpose.as_str(), module.name(), Some(&collection.name)),
        ));
    }
    Ok(())
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
