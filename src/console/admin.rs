//! Officer and module administration in the console, for administrators:
//! officers listed (pseudonym, status, roles, unit: no names), added, their
//! roles changed, suspended and recovered; modules listed and disabled.
//! Every change is audited with the administrator as its actor.

use super::permit::Administrator;
use crate::account::{Role, Status};
use crate::identity::counter::IssuedCode;
use crate::identity::enrol::EnrolError;
use crate::identity::officers;
use crate::store::{Db, StoreError, Writer};

/// An officer as administrators see them.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct OfficerView {
    pub officer: String,
    /// pending (no passkey yet), active, suspended
    pub status: String,
    pub roles: Vec<String>,
    pub unit: Option<String>,
    pub created_at: i64,
    /// The administrator looking.
    pub you: bool,
}

/// A module as administrators see it.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct ModuleView {
    pub name: String,
    pub created_at: i64,
    /// When it was disabled; absent while it is live.
    pub disabled_at: Option<i64>,
}

pub async fn officers(db: &Db, admin: &Administrator) -> Result<Vec<OfficerView>, StoreError> {
    let mut out = Vec::new();
    for o in crate::store::identity::officers(db).await? {
        if o.status == Status::Erased {
            continue;
        }
        out.push(OfficerView {
            roles: crate::store::identity::roles(db, &o.account_id).await?,
            you: o.pseudonym == admin.pseudonym(),
            status: o.status.as_str().to_owned(),
            unit: o.unit,
            created_at: o.created_at,
            officer: o.pseudonym,
        });
    }
    Ok(out)
}

pub async fn modules(db: &Db, _admin: &Administrator) -> Result<Vec<ModuleView>, StoreError> {
    Ok(crate::store::modules::modules(db)
        .await?
        .into_iter()
        .map(|m| ModuleView {
            name: m.name,
            created_at: m.created_at,
            disabled_at: m.revoked_at,
        })
        .collect())
}

fn roles(names: &[String]) -> Result<Vec<Role>, EnrolError> {
    let mut roles = Vec::new();
    for n in names {
        let role = Role::parse(n).ok_or(EnrolError::Invalid("roles: counter, security or admin"))?;
        if !roles.contains(&role) {
            roles.push(role);
        }
    }
    Ok(roles)
}

/// What an administrator writes to add an officer.
#[derive(Debug, Clone)]
pub struct NewOfficer<'a> {
    pub name: &'a str,
    pub unit: &'a str,
    pub roles: &'a [String],
}

pub async fn add(
    writer: &Writer,
    keys: &std::sync::Arc<crate::keys::KeyRing>,
    origin: &str,
    admin: &Administrator,
    new: NewOfficer<'_>,
) -> Result<IssuedCode, EnrolError> {
    let (name, unit, role_names) = (new.name, new.unit, new.roles);
    let roles = roles(role_names)?;
    officers::add_officer(writer, keys, origin, name, Some(unit), &roles, admin.actor()).await
}

pub async fn set_roles(
    writer: &Writer,
    admin: &Administrator,
    officer: &str,
    role_names: &[String],
) -> Result<(), EnrolError> {
    let roles = roles(role_names)?;
    officers::set_roles(writer, officer, &roles, admin.actor()).await
}

pub async fn suspend(writer: &Writer, admin: &Administrator, officer: &str, reason: &str) -> Result<(), EnrolError> {
    officers::suspend_officer(writer, officer, reason, admin.actor()).await
}

pub async fn recover(
    writer: &Writer,
    origin: &str,
    admin: &Administrator,
    officer: &str,
) -> Result<IssuedCode, EnrolError> {
    officers::recover_officer(writer, origin, officer, admin.actor()).await
}

pub async fn disable_module(
    writer: &Writer,
    admin: &Administrator,
    name: &str,
) -> Result<bool, crate::modules::ModuleError> {
    crate::modules::revoke(writer, name, admin.actor()).await
}
