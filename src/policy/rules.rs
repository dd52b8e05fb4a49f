//! The Cedar policies (`policies/*.cedar`), validated against the schema
//! `policies/jaga.cedarschema`, and the decisions they make.
//!
//! Every policy carries `@id("…")`, the name audit events give it. A permit
//! that may allow `read_field` carries `@reveal("plain" | "masked" |
//! "redacted")`: the most a read it allows may reveal. When several permits
//! allow a read, the most generous of them applies; any forbid denies.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::Path;
use std::str::FromStr;

use cedar_policy::{
    ActionConstraint, Authorizer, Context, Decision, Effect, Entities, Entity, EntityUid, PolicyId, PolicySet, Request,
    RestrictedExpression, Schema, ValidationMode, Validator,
};
use miette::Diagnostic;

use super::catalog::{CatalogError, line_and_column};
use crate::vault::profile::Reveal;

/// The schema's file name in the policies folder.
pub const SCHEMA_FILE: &str = "jaga.cedarschema";

/// The checked policy set in force.
pub struct Rules {
    set: PolicySet,
    reveal: HashMap<PolicyId, Reveal>,
    authorizer: Authorizer,
    /// `(file, policy ids)` in load order, for `jaga policy check`.
    files: Vec<(String, Vec<String>)>,
    /// Field decisions already made by this set. A field decision depends
    /// only on what its key holds (never on the citizen), so it is exact to
    /// reuse; a reload makes a new set with an empty cache.
    decided: std::sync::Mutex<HashMap<String, Verdict>>,
}

/// Most field decisions kept; past it the cache starts again.
const MAX_DECIDED: usize = 10_000;

impl std::fmt::Debug for Rules {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rules")
            .field("files", &self.files)
            .finish_non_exhaustive()
    }
}

/// What a policy decision says: allowed or not, how much a read may
/// reveal, and the ids of the policies that decided (the permits that
/// allowed it, or the forbids that denied it; none when nothing permits).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub allowed: bool,
    pub reveal: Reveal,
    pub policies: BTreeSet<String>,
}

/// A field as the policies see it.
#[derive(Debug, Clone, Copy)]
pub struct FieldFacts<'a> {
    /// The module whose collection holds it; "" for a profile field.
    pub module: &'a str,
    /// The collection (`antrian.ticket`), or "profile".
    pub collection: &'a str,
    pub name: &'a str,
    pub classification: &'a str,
    pub specific: bool,
}

/// Who asks.
#[derive(Debug, Clone, Copy)]
pub enum Principal<'a> {
    Module { name: &'a str },
    Officer { pseudonym: &'a str, roles: &'a [&'a str] },
    Citizen { pseudonym: &'a str, adult: bool },
}

/// Reading or writing a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldAction {
    Read,
    Write,
}

impl FieldAction {
    fn name(self) -> &'static str {
        match self {
            FieldAction::Read => "read_field",
            FieldAction::Write => "write_field",
        }
    }
}

/// Officer work on a citizen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OfficerAction {
    FindCitizen,
    ChangeIdentity,
    BreakGlass {
        justification_length: usize,
        window_minutes: u32,
    },
}

impl Rules {
    /// Reads the schema and every `*.cedar` file of `dir` (in name order)
    /// and validates them; the first problem found refuses the set.
    pub fn load(dir: &Path) -> Result<Self, CatalogError> {
        let schema_path = dir.join(SCHEMA_FILE);
        let schema_file = schema_path.display().to_string();
        let schema_text = read(&schema_path, "cannot read the policy schema")?;
        let schema = Schema::from_cedarschema_str(&schema_text)
            .map(|(schema, _warnings)| schema)
            .map_err(|e| at_diagnostic(&schema_file, &schema_text, &e))?;
        let mut names: Vec<_> = std::fs::read_dir(dir)
            .map_err(|e| {
                whole(
                    &dir.display().to_string(),
                    format!("cannot read the policies folder: {e}"),
                )
            })?
            .filter_map(Result::ok)
            .map(|entry| entry.path())
            .filter(|p| p.extension().is_some_and(|e| e == "cedar"))
            .collect();
        names.sort();
        let mut sources = Vec::with_capacity(names.len());
        for path in names {
            let file = path.display().to_string();
            let text = read(&path, "cannot read the policy file")?;
            sources.push((file, text));
        }
        Self::parse(&schema, &sources)
    }

    /// Checks policy texts `(file, text)` against `schema`.
    pub fn parse(schema: &Schema, sources: &[(String, String)]) -> Result<Self, CatalogError> {
        let mut set = PolicySet::new();
        let mut reveal = HashMap::new();
        let mut origin: HashMap<PolicyId, usize> = HashMap::new();
        let mut files = Vec::with_capacity(sources.len());
        for (i, (file, text)) in sources.iter().enumerate() {
            let parsed = PolicySet::from_str(text).map_err(|e| at_diagnostic(file, text, &e))?;
            let mut ids = Vec::new();
            // Parsed policies are named policy0, policy1, … in file order.
            let mut policies: Vec<_> = parsed.policies().collect();
            policies.sort_by_key(|p| {
                p.id()
                    .to_string()
                    .trim_start_matches("policy")
                    .parse::<usize>()
                    .unwrap_or(0)
            });
            let mut searched = 0;
            for policy in policies {
                let offset = policy
                    .to_cedar()
                    .and_then(|own| {
                        text.get(searched..)
                            .and_then(|rest| rest.find(&own))
                            .map(|at| searched + at)
                    })
                    .unwrap_or(searched);
                searched = offset;
                let here = |reason: String| at_offset(file, text, offset, reason);
                let Some(id) = policy.annotation("id") else {
                    return Err(here("every policy needs an @id(\"…\") annotation".into()));
                };
                if !is_policy_id(id) {
                    return Err(here(format!(
                        "policy id {id:?} must be 1 to 64 lower-case letters, digits, '.', '-' or '_'"
                    )));
                }
                let level = match (policy.annotation("reveal"), policy.effect()) {
                    (Some(_), Effect::Forbid) => {
                        return Err(here(format!("policy {id}: @reveal belongs on permit policies only")));
                    }
                    (Some(level), Effect::Permit) => Some(parse_reveal(level).ok_or_else(|| {
                        here(format!(
                            "policy {id}: @reveal must be plain, masked or redacted, not {level:?}"
                        ))
                    })?),
                    (None, Effect::Permit) if may_read(&policy.action_constraint()) => {
                        return Err(here(format!(
                            "policy {id} may allow read_field and needs @reveal(\"plain\" | \"masked\" | \"redacted\")"
                        )));
                    }
                    (None, _) => None,
                };
                let pid = PolicyId::new(id);
                if origin.contains_key(&pid) {
                    return Err(here(format!("policy id {id} is used twice")));
                }
                set.add(policy.new_id(pid.clone()))
                    .map_err(|e| here(format!("policy {id}: {e}")))?;
                origin.insert(pid.clone(), i);
                if let Some(level) = level {
                    reveal.insert(pid, level);
                }
                ids.push(id.to_owned());
            }
            files.push((file.clone(), ids));
        }
        let validation = Validator::new(schema.clone()).validate(&set, ValidationMode::Strict);
        if let Some(err) = validation.validation_errors().next() {
            let (file, text) = origin
                .get(err.policy_id())
                .and_then(|i| sources.get(*i))
                .map_or(("policies", ""), |(f, t)| (f.as_str(), t.as_str()));
            return Err(at_diagnostic(file, text, err));
        }
        Ok(Self {
            set,
            reveal,
            authorizer: Authorizer::new(),
            files,
            decided: std::sync::Mutex::default(),
        })
    }

    /// The policy files loaded and the ids of their policies.
    pub fn files(&self) -> &[(String, Vec<String>)] {
        &self.files
    }

    /// May `who` read or write `field` for `purpose` (of lawful `basis`)?
    pub fn field(
        &self,
        who: Principal<'_>,
        action: FieldAction,
        field: FieldFacts<'_>,
        purpose: &str,
        basis: &str,
    ) -> Verdict {
        let key = format!("{who:?}|{action:?}|{field:?}|{purpose}|{basis}");
        let cached = match self.decided.lock() {
            Ok(decided) => decided.get(&key).cloned(),
            Err(_) => None,
        };
        if let Some(verdict) = cached {
            return verdict;
        }
        let verdict = self.decide_field(who, action, field, purpose, basis);
        if let Ok(mut decided) = self.decided.lock() {
            if decided.len() >= MAX_DECIDED {
                decided.clear();
            }
            decided.insert(key, verdict.clone());
        }
        verdict
    }

    fn decide_field(
        &self,
        who: Principal<'_>,
        action: FieldAction,
        field: FieldFacts<'_>,
        purpose: &str,
        basis: &str,
    ) -> Verdict {
        let built = (|| {
            let (principal, principal_entity) = principal(who)?;
            let resource = uid("Field", &format!("{}.{}", field.collection, field.name))?;
            let attrs = HashMap::from([
                (
                    "module".to_owned(),
                    RestrictedExpression::new_string(field.module.to_owned()),
                ),
                (
                    "collection".to_owned(),
                    RestrictedExpression::new_string(field.collection.to_owned()),
                ),
                (
                    "name".to_owned(),
                    RestrictedExpression::new_string(field.name.to_owned()),
                ),
                (
                    "classification".to_owned(),
                    RestrictedExpression::new_string(field.classification.to_owned()),
                ),
                ("specific".to_owned(), RestrictedExpression::new_bool(field.specific)),
            ]);
            let resource_entity = Entity::new(resource.clone(), attrs, HashSet::new()).ok()?;
            let context = Context::from_pairs([
                (
                    "purpose".to_owned(),
                    RestrictedExpression::new_string(purpose.to_owned()),
                ),
                ("basis".to_owned(), RestrictedExpression::new_string(basis.to_owned())),
            ])
            .ok()?;
            let request = Request::new(principal, uid("Action", action.name())?, resource, context, None).ok()?;
            let entities = Entities::from_entities([principal_entity, resource_entity], None).ok()?;
            Some((request, entities))
        })();
        self.decide(built)
    }

    /// May the officer do `action` for the citizen `citizen` (pseudonym)?
    pub fn officer(&self, pseudonym: &str, roles: &[&str], action: OfficerAction, citizen: &str) -> Verdict {
        let built = (|| {
            let (principal, principal_entity) = principal(Principal::Officer { pseudonym, roles })?;
            let resource = uid("Citizen", citizen)?;
            let resource_entity = Entity::new(
                resource.clone(),
                HashMap::from([("adult".to_owned(), RestrictedExpression::new_bool(true))]),
                HashSet::new(),
            )
            .ok()?;
            let (name, context) = match action {
                OfficerAction::FindCitizen => ("find_citizen", Context::empty()),
                OfficerAction::ChangeIdentity => ("change_identity", Context::empty()),
                OfficerAction::BreakGlass {
                    justification_length,
                    window_minutes,
                } => (
                    "break_glass",
                    Context::from_pairs([
                        (
                            "justification_length".to_owned(),
                            RestrictedExpression::new_long(i64::try_from(justification_length).unwrap_or(i64::MAX)),
                        ),
                        (
                            "window_minutes".to_owned(),
                            RestrictedExpression::new_long(i64::from(window_minutes)),
                        ),
                    ])
                    .ok()?,
                ),
            };
            let request = Request::new(principal, uid("Action", name)?, resource, context, None).ok()?;
            let entities = Entities::from_entities([principal_entity, resource_entity], None).ok()?;
            Some((request, entities))
        })();
        self.decide(built)
    }

    fn decide(&self, built: Option<(Request, Entities)>) -> Verdict {
        let denied = Verdict {
            allowed: false,
            reveal: Reveal::Redacted,
            policies: BTreeSet::new(),
        };
        let Some((request, entities)) = built else {
            return denied;
        };
        let response = self.authorizer.is_authorized(&request, &self.set, &entities);
        let policies: BTreeSet<String> = response.diagnostics().reason().map(ToString::to_string).collect();
        match response.decision() {
            Decision::Allow => {
                let reveal = response
                    .diagnostics()
                    .reason()
                    .filter_map(|id| self.reveal.get(id).copied())
                    .max()
                    .unwrap_or(Reveal::Redacted);
                Verdict {
                    allowed: true,
                    reveal,
                    policies,
                }
            }
            Decision::Deny => Verdict { policies, ..denied },
        }
    }
}

fn uid(kind: &str, id: &str) -> Option<EntityUid> {
    let type_name = cedar_policy::EntityTypeName::from_str(&format!("Jaga::{kind}")).ok()?;
    Some(EntityUid::from_type_name_and_id(
        type_name,
        cedar_policy::EntityId::new(id),
    ))
}

fn principal(who: Principal<'_>) -> Option<(EntityUid, Entity)> {
    let (kind, id, attrs) = match who {
        Principal::Module { name } => (
            "Module",
            name,
            HashMap::from([("name".to_owned(), RestrictedExpression::new_string(name.to_owned()))]),
        ),
        Principal::Officer { pseudonym, roles } => (
            "Officer",
            pseudonym,
            HashMap::from([(
                "roles".to_owned(),
                RestrictedExpression::new_set(roles.iter().map(|r| RestrictedExpression::new_string((*r).to_owned()))),
            )]),
        ),
        Principal::Citizen { pseudonym, adult } => (
            "Citizen",
            pseudonym,
            HashMap::from([("adult".to_owned(), RestrictedExpression::new_bool(adult))]),
        ),
    };
    let principal = uid(kind, id)?;
    let entity = Entity::new(principal.clone(), attrs, HashSet::new()).ok()?;
    Some((principal, entity))
}

/// Whether a permit with this action scope may allow `read_field`.
fn may_read(scope: &ActionConstraint) -> bool {
    let read = |u: &EntityUid| u.id().unescaped() == "read_field";
    match scope {
        ActionConstraint::Any => true,
        ActionConstraint::Eq(a) => read(a),
        ActionConstraint::In(list) => list.iter().any(read),
    }
}

fn parse_reveal(level: &str) -> Option<Reveal> {
    match level {
        "plain" => Some(Reveal::Plain),
        "masked" => Some(Reveal::Masked),
        "redacted" => Some(Reveal::Redacted),
        _ => None,
    }
}

fn is_policy_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
}

fn read(path: &Path, what: &str) -> Result<String, CatalogError> {
    std::fs::read_to_string(path).map_err(|e| whole(&path.display().to_string(), format!("{what}: {e}")))
}

fn whole(file: &str, reason: String) -> CatalogError {
    CatalogError {
        file: file.to_owned(),
        line: 0,
        column: 0,
        reason,
    }
}

fn at_offset(file: &str, text: &str, offset: usize, reason: String) -> CatalogError {
    let (line, column) = line_and_column(text, offset);
    CatalogError {
        file: file.to_owned(),
        line,
        column,
        reason,
    }
}

/// A Cedar error, placed at its first labelled span when it has one.
fn at_diagnostic(file: &str, text: &str, e: &(impl Diagnostic + std::fmt::Display + ?Sized)) -> CatalogError {
    let mut reason = e.to_string();
    if let Some(help) = e.help() {
        reason = format!("{reason} ({help})");
    }
    match e.labels().and_then(|mut l| l.next()) {
        Some(label) => at_offset(file, text, label.offset(), reason),
        None => whole(file, reason),
    }
}

#[cfg(test)]
#[path = "rules_tests.rs"]
mod tests;
