//! Collections: a module's named set of citizen fields, each classified
//! under UU PDP Art. 4 as general personal data or one of the kinds of
//! specific personal data.
//!
//! Stored as JSON `[{"name": "queue_number", "classification": "personal"}, …]`.
//! A definition may gain fields; an existing field keeps its name and
//! classification (records already hold it).

use serde::{Deserialize, Serialize};

use super::{Module, ModuleError, is_ident};
use crate::audit::{self, Context, Event, Outcome, Target};
use crate::store::modules::{self as stored, CollectionRow};
use crate::store::{Db, Writer};

/// UU PDP Art. 4: general personal data (`personal`) or a kind of specific
/// personal data (Art. 4(2) a–f).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Classification {
    Personal,
    Health,
    Biometric,
    Genetic,
    CriminalRecord,
    Children,
    Financial,
}

impl Classification {
    /// The name stored and shown to policies (`personal`, `health`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Classification::Personal => "personal",
            Classification::Health => "health",
            Classification::Biometric => "biometric",
            Classification::Genetic => "genetic",
            Classification::CriminalRecord => "criminal_record",
            Classification::Children => "children",
            Classification::Financial => "financial",
        }
    }

    /// Specific personal data (Art. 4(2)), which carries stricter duties.
    pub fn is_specific(self) -> bool {
        self != Classification::Personal
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FieldDef {
    /// Lower-case identifier, up to 48 characters.
    pub name: String,
    pub classification: Classification,
    /// Values may hold line breaks and tabs (a free-text description).
    /// Other control characters and bidirectional overrides are refused
    /// in every field.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub multiline: bool,
}

/// A collection as defined and returned.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Collection {
    /// `<module>.<collection>`
    pub name: String,
    pub module: String,
    pub fields: Vec<FieldDef>,
}

impl Collection {
    pub fn field(&self, name: &str) -> Option<&FieldDef> {
        self.fields.iter().find(|f| f.name == name)
    }
}

pub const MAX_FIELDS: usize = 64;

fn check_name(module: &str, name: &str) -> Result<(), ModuleError> {
    let ok = name
        .split_once('.')
        .is_some_and(|(m, c)| m == module && is_ident(c, 1, 32));
    if ok {
        Ok(())
    } else {
        Err(ModuleError::Definition(format!(
            "collection name must be {}.<name>, <name> 1 to 32 lower-case letters, digits or underscores",
            module
        )))
    }
}

/// Audit events name fields as `<collection>.<field>`, an identifier of at
/// most this many characters.
const MAX_QUALIFIED: usize = 100;

fn check_fields(name: &str, fields: &[FieldDef]) -> Result<(), ModuleError> {
    if fields.is_empty() || fields.len() > MAX_FIELDS {
        return Err(ModuleError::Definition(format!(
            "a collection has 1 to {MAX_FIELDS} fields"
        )));
    }
    for (i, f) in fields.iter().enumerate() {
        if !is_ident(&f.name, 1, 48) {
            return Err(ModuleError::Definition(format!(
                "fields[{i}].name must be 1 to 48 lower-case letters, digits or underscores, starting with a letter"
            )));
        }
        if name.len() + 1 + f.name.len() > MAX_QUALIFIED {
            return Err(ModuleError::Definition(format!(
                "fields[{i}].name: {name}.{} is longer than {MAX_QUALIFIED} characters",
                f.name
            )));
        }
        if fields.iter().take(i).any(|g| g.name == f.name) {
            return Err(ModuleError::Definition(format!(
                "fields[{i}].name {} appears twice",
                f.name
            )));
        }
    }
    Ok(())
}

/// Checks a definition without touching the database: the collection name
/// belongs to `module`, and the fields are well formed and distinct.
pub fn check_definition(module: &str, name: &str, fields: &[FieldDef]) -> Result<(), ModuleError> {
    check_name(module, name)?;
    check_fields(name, fields)
}

fn from_row(row: CollectionRow, module: &Module) -> Result<Collection, ModuleError> {
    let fields: Vec<FieldDef> = serde_json::from_str(&row.fields)
        .map_err(|_| ModuleError::Store(crate::store::StoreError::Corrupt("collection fields".into())))?;
    Ok(Collection {
        name: row.name,
        module: module.name.clone(),
        fields,
    })
}

/// A collection proven to belong to the calling module. Only [`owned`]
/// makes one (after the ownership check); record reads, writes and deletes
/// take it, so code that skipped the check does not compile.
#[derive(Debug, Clone)]
pub struct Owned {
    module: Module,
    collection: Collection,
}

impl Owned {
    pub fn module(&self) -> &Module {
        &self.module
    }

    pub fn collection(&self) -> &Collection {
        &self.collection
    }
}

/// The collection `name` if it belongs to `module`; a denial is audited.
pub async fn owned(db: &Db, writer: &Writer, module: &Module, name: &str, ctx: &Context) -> Result<Owned, ModuleError> {
    let row = stored::collection(db, name).await?.ok_or(ModuleError::NoCollection)?;
    deny_others(writer, module, &row, ctx).await?;
    Ok(Owned {
        module: module.clone(),
        collection: from_row(row, module)?,
    })
}

/// Audits and refuses `module` touching another module's collection.
async fn deny_others(writer: &Writer, module: &Module, row: &CollectionRow, ctx: &Context) -> Result<(), ModuleError> {
    if row.module_id != module.id {
        let event = Event::new(
            module.actor(),
            "collection.access",
            Target::new("collection", Some(row.name.clone())),
            Outcome::Denied,
        )
        .reason("other_module")
        .within(ctx);
        writer
            .write::<(), ModuleError, _>(move |tx| Box::pin(async move { Ok(audit::record(tx, event).await?) }))
            .await?;
        return Err(ModuleError::OtherModule);
    }
    Ok(())
}

/// Creates or extends `module`'s collection `name`.
pub async fn define(
    db: &Db,
    writer: &Writer,
    module: &Module,
    name: &str,
    fields: Vec<FieldDef>,
    ctx: &Context,
) -> Result<Collection, ModuleError> {
    if let Some(row) = stored::collection(db, name).await? {
        deny_others(writer, module, &row, ctx).await?;
    }
    check_definition(module.name(), name, &fields)?;
    let module = module.clone();
    let name = name.to_owned();
    let ctx = ctx.clone();
    writer
        .write::<Collection, ModuleError, _>(move |tx| {
            Box::pin(async move {
                let now = time::OffsetDateTime::now_utc().unix_timestamp();
                let existing = stored::collection_tx(tx, &name).await?;
                let created_at = match &existing {
                    Some(row) if row.module_id != module.id => return Err(ModuleError::OtherModule),
                    Some(row) => {
                        let old = from_row(row.clone(), &module)?;
                        for f in &old.fields {
                            match fields.iter().find(|g| g.name == f.name) {
                                None => {
                                    return Err(ModuleError::Conflict(format!(
                                        "field {} exists and cannot be removed",
                                        f.name
                                    )));
                                }
                                Some(g) if g.classification != f.classification => {
                                    return Err(ModuleError::Conflict(format!(
                                        "field {} keeps its classification",
                                        f.name
                                    )));
                                }
                                Some(_) => {}
                            }
                        }
                        row.created_at
                    }
                    None => now,
                };
                let json = serde_json::to_string(&fields).map_err(|e| ModuleError::Definition(e.to_string()))?;
                stored::upsert_collection(
                    tx,
                    &CollectionRow {
                        name: name.clone(),
                        module_id: module.id.clone(),
                        fields: json,
                        created_at,
                        updated_at: now,
                    },
                )
                .await?;
                let event = Event::new(
                    module.actor(),
                    "collection.define",
                    Target::new("collection", Some(name.clone())).with_fields(fields.iter().map(|f| f.name.clone())),
                    Outcome::Success,
                )
                .within(&ctx);
                audit::record(tx, event).await?;
                Ok(Collection {
                    name,
                    module: module.name.clone(),
                    fields,
                })
            })
        })
        .await
}
