//! The purpose catalog (`policies/purposes.toml`): every purpose for which
//! Jaga lets personal data be processed, with its lawful basis (UU PDP
//! Art. 20(2)), the modules that may use it, the fields it may use and how
//! much of each it may reveal, its retention, whether the citizen may refuse
//! or withdraw, and the version of the notice shown.
//!
//! The file is reviewed like code. A bad file is refused whole, naming the
//! file, the line and the reason; nothing of it is used.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use super::labels::{Labels, RawModule};
use toml::Spanned;

use crate::vault::profile::Reveal;

/// The catalog's file name inside the policies folder.
pub const FILE: &str = "purposes.toml";

/// Profile fields a purpose may name as `profile.<field>`.
pub const PROFILE_FIELDS: [&str; 9] = [
    "nik",
    "kk",
    "full_name",
    "birth_place",
    "birth_date",
    "gender",
    "address",
    "phone",
    "email",
];

/// Officer roles a purpose may name: administrators read no personal data.
pub const OFFICER_ROLES: [&str; 2] = ["counter", "security"];

/// The longest retention a purpose may state: 100 years.
const MAX_RETENTION_DAYS: u32 = 36_525;

/// UU PDP Art. 20(2): the lawful bases for processing personal data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LawfulBasis {
    /// (a) explicit, lawful consent of the data subject.
    Consent,
    /// (b) a contract with the data subject, or steps at their request.
    Contract,
    /// (c) a legal obligation of the controller.
    LegalObligation,
    /// (d) the vital interest of the data subject.
    VitalInterest,
    /// (e) a task in the public interest or public service by law.
    PublicTask,
    /// (f) another legitimate interest, weighed against the subject's rights.
    LegitimateInterest,
}

impl LawfulBasis {
    pub fn as_str(self) -> &'static str {
        match self {
            LawfulBasis::Consent => "consent",
            LawfulBasis::Contract => "contract",
            LawfulBasis::LegalObligation => "legal_obligation",
            LawfulBasis::VitalInterest => "vital_interest",
            LawfulBasis::PublicTask => "public_task",
            LawfulBasis::LegitimateInterest => "legitimate_interest",
        }
    }
}

/// How long data kept for a purpose stays: a number of days after it was
/// written, or until an event the module records (`event:case_closed`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Retention {
    Days(u32),
    UntilEvent(String),
}

/// Text in Bahasa Indonesia (`id`) and English (`en`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bilingual {
    pub id: String,
    pub en: String,
}

/// One purpose of the catalog, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PurposeDef {
    pub id: String,
    pub name: Bilingual,
    pub description: Bilingual,
    /// The unit of the controller that answers for the processing.
    pub controller: String,
    pub modules: Vec<String>,
    /// Officer roles that may use it at Jaga's own pages (`counter`,
    /// `security`); administrators read no personal data.
    pub officer_roles: Vec<String>,
    pub lawful_basis: LawfulBasis,
    /// `profile.<field>` or `<module>.<collection>.<field>`, each with the
    /// most the purpose may reveal of it.
    pub fields: BTreeMap<String, Reveal>,
    pub retention: Retention,
    /// Whether the citizen may refuse or withdraw (always for consent).
    pub withdrawable: bool,
    pub notice_version: String,
}

impl PurposeDef {
    /// The most this purpose may reveal of `field`; `None` if it may not use it.
    pub fn reveal(&self, field: &str) -> Option<Reveal> {
        self.fields.get(field).copied()
    }

    pub fn allows_module(&self, module: &str) -> bool {
        self.modules.iter().any(|m| m == module)
    }
}

/// The checked catalog.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Catalog {
    purposes: BTreeMap<String, PurposeDef>,
    labels: Labels,
}

/// A refused catalog: file, line, column (both 0 when the whole file is
/// at fault) and reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct CatalogError {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub reason: String,
}

impl std::fmt::Display for CatalogError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.file, self.reason)
        } else {
            write!(f, "{}:{}:{}: {}", self.file, self.line, self.column, self.reason)
        }
    }
}

impl Catalog {
    /// Reads and checks `<dir>/purposes.toml`.
    pub fn load(dir: &Path) -> Result<Self, CatalogError> {
        let path = dir.join(FILE);
        let file = path.display().to_string();
        let text = std::fs::read_to_string(&path).map_err(|e| CatalogError {
            file: file.clone(),
            line: 0,
            column: 0,
            reason: format!("cannot read the purpose catalog: {e}"),
        })?;
        Self::parse(&file, &text)
    }

    /// Checks a catalog's text; `file` names it in errors.
    pub fn parse(file: &str, text: &str) -> Result<Self, CatalogError> {
        let at = |span: std::ops::Range<usize>, reason: String| {
            let (line, column) = line_and_column(text, span.start);
            CatalogError {
                file: file.to_owned(),
                line,
                column,
                reason,
            }
        };
        let raw: RawCatalog = toml::from_str(text).map_err(|e| {
            let reason = e.message().trim().to_owned();
            at(e.span().unwrap_or(0..0), reason)
        })?;
        let labels = labels(&raw).map_err(|(span, reason)| at(span, reason))?;
        let mut purposes = BTreeMap::new();
        for (id, purpose) in raw.purposes {
            let span = id.span();
            let def = purpose
                .check(id.into_inner())
                .map_err(|(span, reason)| at(span, reason))?;
            unlabelled(&def, &labels).map_err(|reason| at(span.clone(), reason))?;
            if purposes.insert(def.id.clone(), def).is_some() {
                return Err(at(span, "this purpose is defined twice".into()));
            }
        }
        if purposes.is_empty() {
            return Err(CatalogError {
                file: file.to_owned(),
                line: 0,
                column: 0,
                reason: "the catalog defines no purpose ([purposes.\"<id>\"])".into(),
            });
        }
        Ok(Self { purposes, labels })
    }

    /// Module names and field labels, as citizens read them.
    pub fn labels(&self) -> &Labels {
        &self.labels
    }

    pub fn get(&self, id: &str) -> Option<&PurposeDef> {
        self.purposes.get(id)
    }

    pub fn purposes(&self) -> impl Iterator<Item = &PurposeDef> {
        self.purposes.values()
    }

    pub fn len(&self) -> usize {
        self.purposes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.purposes.is_empty()
    }
}

/// 1-based line and column of byte `offset`.
pub(super) fn line_and_column(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCatalog {
    #[serde(default)]
    purposes: BTreeMap<Spanned<String>, RawPurpose>,
    #[serde(default)]
    modules: BTreeMap<Spanned<String>, RawModule>,
    #[serde(default)]
    labels: BTreeMap<Spanned<String>, Spanned<Bilingual>>,
}

/// The `[modules]` names and `[labels]`, checked.
fn labels(raw: &RawCatalog) -> Result<Labels, Refusal> {
    let mut modules = BTreeMap::new();
    for (name, module) in &raw.modules {
        if !is_ident(name.get_ref(), 48) {
            return refuse(
                name.span(),
                format!("module name {:?} is not an identifier", name.get_ref()),
            );
        }
        modules.insert(name.get_ref().clone(), bilingual(&module.name, "a module's name")?);
    }
    let mut fields = BTreeMap::new();
    for (field, label) in &raw.labels {
        let parts: Vec<&str> = field.get_ref().split('.').collect();
        if parts.len() != 3 || !parts.iter().all(|p| is_ident(p, 48)) {
            return refuse(
                field.span(),
                format!("label key {:?} must be <module>.<collection>.<field>", field.get_ref()),
            );
        }
        fields.insert(field.get_ref().clone(), bilingual(label, "a field's label")?);
    }
    Ok(Labels::new(modules, fields))
}

/// A purpose's module without a name, or module field without a label.
fn unlabelled(def: &PurposeDef, labels: &Labels) -> Result<(), String> {
    if let Some(m) = def.modules.iter().find(|m| !labels.has_module(m)) {
        return Err(format!(
            "purpose {} lists module {m}, which has no name: add [modules.{m}] name = {{ id = \"…\", en = \"…\" }}",
            def.id
        ));
    }
    if let Some(f) = def.fields.keys().find(|f| !labels.has_field(f)) {
        return Err(format!(
            "purpose {} uses field {f}, which has no label: add it under [labels]",
            def.id
        ));
    }
    Ok(())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPurpose {
    name: Spanned<Bilingual>,
    description: Spanned<Bilingual>,
    controller: Spanned<String>,
    modules: Option<Spanned<Vec<Spanned<String>>>>,
    officer_roles: Option<Spanned<Vec<Spanned<String>>>>,
    lawful_basis: LawfulBasis,
    fields: Spanned<BTreeMap<Spanned<String>, Spanned<String>>>,
    retention: Spanned<String>,
    withdrawable: Spanned<bool>,
    notice_version: Spanned<String>,
}

type Refusal = (std::ops::Range<usize>, String);

fn refuse<T>(span: std::ops::Range<usize>, reason: impl Into<String>) -> Result<T, Refusal> {
    Err((span, reason.into()))
}

/// `[a-z][a-z0-9_]{0,max-1}`
fn is_ident(s: &str, max: usize) -> bool {
    (1..=max).contains(&s.len())
        && s.bytes().next().is_some_and(|b| b.is_ascii_lowercase())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

fn is_purpose_id(id: &str) -> bool {
    id.len() <= 100 && id.split('.').count() >= 2 && id.split('.').all(|part| is_ident(part, 48))
}

fn non_empty(text: &Spanned<String>, what: &str) -> Result<String, Refusal> {
    let value = text.get_ref().trim();
    if value.is_empty() || value.chars().any(char::is_control) {
        return refuse(text.span(), format!("{what} must be non-empty text on one line"));
    }
    Ok(value.to_owned())
}

fn bilingual(text: &Spanned<Bilingual>, what: &str) -> Result<Bilingual, Refusal> {
    let b = text.get_ref();
    if [&b.id, &b.en].iter().any(|t| t.trim().is_empty()) {
        return refuse(
            text.span(),
            format!("{what} needs both `id` (Bahasa Indonesia) and `en` (English)"),
        );
    }
    Ok(b.clone())
}

fn reveal(level: &Spanned<String>) -> Result<Reveal, Refusal> {
    match level.get_ref().as_str() {
        "plain" => Ok(Reveal::Plain),
        "masked" => Ok(Reveal::Masked),
        "redacted" => Ok(Reveal::Redacted),
        other => refuse(
            level.span(),
            format!("reveal level {other:?} is not one of plain, masked, redacted"),
        ),
    }
}

fn retention(text: &Spanned<String>) -> Result<Retention, Refusal> {
    let value = text.get_ref().as_str();
    if let Some(event) = value.strip_prefix("event:") {
        return if is_ident(event, 48) {
            Ok(Retention::UntilEvent(event.to_owned()))
        } else {
            refuse(
                text.span(),
                format!("retention event {event:?} must be an identifier such as case_closed"),
            )
        };
    }
    let days = value.strip_suffix('d').and_then(|n| n.parse::<u32>().ok()).or_else(|| {
        value
            .strip_suffix('y')
            .and_then(|n| n.parse::<u32>().ok())
            .and_then(|y| y.checked_mul(365))
    });
    match days {
        Some(d) if (1..=MAX_RETENTION_DAYS).contains(&d) => Ok(Retention::Days(d)),
        _ => refuse(
            text.span(),
            format!(
                "retention {value:?} must be days (\"30d\"), years (\"5y\", at most 100) or an event (\"event:case_closed\")"
            ),
        ),
    }
}

/// Checks a field name against the purpose's modules.
fn field_name(name: &Spanned<String>, modules: &[String]) -> Result<String, Refusal> {
    let value = name.get_ref();
    let parts: Vec<&str> = value.split('.').collect();
    match parts.as_slice() {
        ["profile", field] if PROFILE_FIELDS.contains(field) => Ok(value.clone()),
        ["profile", field] => refuse(
            name.span(),
            format!("profile has no field {field:?} (one of {})", PROFILE_FIELDS.join(", ")),
        ),
        [module, collection, field] if is_ident(collection, 32) && is_ident(field, 48) => {
            if modules.iter().any(|m| m == module) {
                Ok(value.clone())
            } else {
                refuse(
                    name.span(),
                    format!(
                        "field {value:?} belongs to module {module:?}, which this purpose does not list in `modules`"
                    ),
                )
            }
        }
        _ => refuse(
            name.span(),
            format!("field {value:?} must be profile.<field> or <module>.<collection>.<field>"),
        ),
    }
}

impl RawPurpose {
    fn check(self, id: String) -> Result<PurposeDef, Refusal> {
        if !is_purpose_id(&id) {
            return refuse(
                self.name.span(),
                format!("purpose id {id:?} must be dotted lower-case identifiers such as antrian.call"),
            );
        }
        let mut modules = Vec::new();
        let listed =
            |l: &Option<Spanned<Vec<Spanned<String>>>>| l.as_ref().map(|l| l.get_ref().clone()).unwrap_or_default();
        for m in &listed(&self.modules) {
            if !is_ident(m.get_ref(), 32) || m.get_ref().len() < 2 {
                return refuse(m.span(), format!("module {:?} is not a module name", m.get_ref()));
            }
            if modules.contains(m.get_ref()) {
                return refuse(m.span(), format!("module {:?} is listed twice", m.get_ref()));
            }
            modules.push(m.get_ref().clone());
        }
        let mut officer_roles = Vec::new();
        for r in &listed(&self.officer_roles) {
            if !OFFICER_ROLES.contains(&r.get_ref().as_str()) {
                return refuse(
                    r.span(),
                    format!(
                        "officer role {:?} is not one of {}",
                        r.get_ref(),
                        OFFICER_ROLES.join(", ")
                    ),
                );
            }
            officer_roles.push(r.get_ref().clone());
        }
        if modules.is_empty() && officer_roles.is_empty() {
            let span = self.modules.as_ref().map_or_else(|| self.name.span(), Spanned::span);
            return refuse(
                span,
                "a purpose lists at least one module (modules) or officer role (officer_roles)",
            );
        }
        let mut fields = BTreeMap::new();
        for (name, level) in self.fields.get_ref() {
            fields.insert(field_name(name, &modules)?, reveal(level)?);
        }
        if fields.is_empty() {
            return refuse(self.fields.span(), "a purpose names at least one field");
        }
        let withdrawable = *self.withdrawable.get_ref();
        if self.lawful_basis == LawfulBasis::Consent && !withdrawable {
            return refuse(
                self.withdrawable.span(),
                "a purpose based on consent must let the citizen withdraw (UU PDP Art. 9): withdrawable = true",
            );
        }
        Ok(PurposeDef {
            name: bilingual(&self.name, "name")?,
            description: bilingual(&self.description, "description")?,
            controller: non_empty(&self.controller, "controller")?,
            notice_version: non_empty(&self.notice_version, "notice_version")?,
            retention: retention(&self.retention)?,
            id,
            modules,
            officer_roles,
            lawful_basis: self.lawful_basis,
            fields,
            withdrawable,
        })
    }
}

#[cfg(test)]
#[path = "catalog_tests.rs"]
mod tests;
