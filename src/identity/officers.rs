//! Officers' accounts: added, their unit and roles changed, suspended, and
//! recovered when they lost their passkey, by the operator (`jaga
//! officers …`) or an administrator in the console. Each change is audited
//! with who made it.

use super::codes;
use super::counter::{IssuedCode, OFFICER_LINK_LIFETIME, code_row, new_account};
use super::enrol::{EnrolError, parse_name, parse_unit};
use super::{AccountKind, Role, Status};
use crate::audit::{self, Actor, ActorKind, Event, Outcome, Target};
use crate::store::Tx;
use crate::store::Writer;
use crate::store::identity::{self as stored, AccountRow};

/// The link an officer registers a passkey with: the officers' page, not
/// the citizens' enrolment form. The code travels in the fragment.
pub fn officer_link(origin: &str, code: &str) -> String {
    format!("{origin}/officer/enrol#{code}")
}

/// The operator running a command.
pub fn operator(name: &str) -> Actor {
    Actor::new(ActorKind::Operator, name.to_owned())
}

/// The officer `pseudonym`, inside the unit; not another officer's own
/// account when `by` is an officer (nobody suspends or demotes themself).
async fn officer_to_change(tx: &mut Tx<'_>, pseudonym: &str, by: &Actor) -> Result<AccountRow, EnrolError> {
    let officer = stored::account_by_pseudonym_tx(tx, pseudonym)
        .await?
        .filter(|a| a.kind == AccountKind::Officer && a.status != Status::Erased)
        .ok_or(EnrolError::NoAccount)?;
    if by.kind == ActorKind::Officer && by.id == officer.pseudonym {
        return Err(EnrolError::OwnAccount);
    }
    Ok(officer)
}

/// Suspends an officer: their sessions end and they cannot sign in again
/// (nor use a code) until recovered.
pub async fn suspend_officer(writer: &Writer, pseudonym: &str, reason: &str, actor: Actor) -> Result<(), EnrolError> {
    let pseudonym = pseudonym.to_owned();
    let reason = reason.to_owned();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    writer
        .write::<(), EnrolError, _>(move |tx| {
            Box::pin(async move {
                let officer = officer_to_change(tx, &pseudonym, &actor).await?;
                stored::set_status(tx, &officer.account_id, Status::Suspended, Some(&reason), now).await?;
                let ended = stored::delete_sessions_of(tx, &officer.account_id).await?;
                stored::void_enrolment_codes(tx, &officer.account_id, now).await?;
                let target = Target::new("account", Some(officer.pseudonym));
                let event = Event::new(actor, "account.suspend", target, Outcome::Success).reason(reason);
                audit::record(tx, event).await?;
                tracing::info!(sessions.ended = ended, "officer suspended");
                Ok(())
            })
        })
        .await
}

/// Records the unit of an existing officer.
pub async fn set_officer_unit(writer: &Writer, pseudonym: &str, unit: &str, actor: Actor) -> Result<(), EnrolError> {
    let unit = parse_unit(unit)?;
    let pseudonym = pseudonym.to_owned();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    writer
        .write::<(), EnrolError, _>(move |tx| {
            Box::pin(async move {
                let officer = stored::account_by_pseudonym_tx(tx, &pseudonym)
                    .await?
                    .filter(|a| a.kind == AccountKind::Officer)
                    .ok_or(EnrolError::NoAccount)?;
                stored::set_unit(tx, &officer.account_id, &unit, now).await?;
                let target = Target::new("account", Some(officer.pseudonym)).with_fields(["unit"]);
                audit::record(tx, Event::new(actor, "officer.set_unit", target, Outcome::Success)).await?;
                Ok(())
            })
        })
        .await
}

/// A pending officer with roles and a one-time link for the first passkey.
pub async fn add_officer(
    writer: &Writer,
    keys: &std::sync::Arc<crate::keys::KeyRing>,
    origin: &str,
    name: &str,
    unit: Option<&str>,
    roles: &[Role],
    actor: Actor,
) -> Result<IssuedCode, EnrolError> {
    if roles.is_empty() {
        return Err(EnrolError::Invalid("roles: at least one of counter, security, admin"));
    }
    let name = parse_name(name)?;
    let unit = unit.map(parse_unit).transpose()?;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let account = AccountRow {
        unit,
        ..new_account(AccountKind::Officer, now)?
    };
    let code = codes::enrolment_code()?;
    let row = code_row(
        &code,
        &account.account_id,
        "officer",
        None,
        false,
        OFFICER_LINK_LIFETIME,
    );
    let issued = IssuedCode {
        account: account.pseudonym.clone(),
        url: officer_link(origin, &code),
        code,
        expires_at: row.expires_at,
    };
    let roles: Vec<&'static str> = roles.iter().map(|r| r.as_str()).collect();
    let keys = keys.clone();
    writer
        .write::<(), EnrolError, _>(move |tx| {
            Box::pin(async move {
                stored::insert_account(tx, &account).await?;
                super::personal::store_audited(
                    tx,
                    &keys.vault,
                    &account.account_id,
                    &account.pseudonym,
                    None,
                    &name,
                    now,
                    actor.clone(),
                )
                .await?;
                for role in &roles {
                    stored::insert_role(tx, &account.account_id, role).await?;
                }
                stored::insert_enrolment_code(tx, &row).await?;
                let target = Target::new("account", Some(account.pseudonym.clone()))
                    .with_fields(roles.iter().map(|r| format!("role.{r}")));
                audit::record(tx, Event::new(actor, "officer.add", target, Outcome::Success)).await?;
                Ok(())
            })
        })
        .await?;
    Ok(issued)
}

/// Replaces an officer's roles. The last active administrator keeps the
/// administrator role (someone must be able to undo mistakes).
pub async fn set_roles(writer: &Writer, pseudonym: &str, roles: &[Role], actor: Actor) -> Result<(), EnrolError> {
    if roles.is_empty() {
        return Err(EnrolError::Invalid("roles: at least one of counter, security, admin"));
    }
    let pseudonym = pseudonym.to_owned();
    let roles: Vec<&'static str> = roles.iter().map(|r| r.as_str()).collect();
    writer
        .write::<(), EnrolError, _>(move |tx| {
            Box::pin(async move {
                let officer = officer_to_change(tx, &pseudonym, &actor).await?;
                let before = stored::roles_tx(tx, &officer.account_id).await?;
                let admin = Role::Admin.as_str();
                if before.iter().any(|r| r == admin)
                    && !roles.contains(&admin)
                    && officer.status == Status::Active
                    && stored::active_with_role(tx, admin).await? <= 1
                {
                    return Err(EnrolError::LastAdministrator);
                }
                stored::delete_roles(tx, &officer.account_id).await?;
                for role in &roles {
                    stored::insert_role(tx, &officer.account_id, role).await?;
                }
                let target = Target::new("account", Some(officer.pseudonym))
                    .with_fields(roles.iter().map(|r| format!("role.{r}")));
                audit::record(tx, Event::new(actor, "officer.set_roles", target, Outcome::Success)).await?;
                Ok(())
            })
        })
        .await
}

/// An officer who lost their passkey: every passkey and session of theirs
/// ends now, and a new one-time link (24 hours) registers a new passkey.
/// A suspended officer is made active again by it.
pub async fn recover_officer(
    writer: &Writer,
    origin: &str,
    pseudonym: &str,
    actor: Actor,
) -> Result<IssuedCode, EnrolError> {
    let pseudonym = pseudonym.to_owned();
    let code = codes::enrolment_code()?;
    let url = officer_link(origin, &code);
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let (account, expires_at) = writer
        .write::<(String, i64), EnrolError, _>(move |tx| {
            Box::pin(async move {
                let officer = officer_to_change(tx, &pseudonym, &actor).await?;
                stored::void_enrolment_codes(tx, &officer.account_id, now).await?;
                let ended = stored::delete_sessions_of(tx, &officer.account_id).await?;
                stored::delete_passkeys_of(tx, &officer.account_id).await?;
                if officer.status != Status::Pending {
                    stored::set_status(tx, &officer.account_id, Status::Pending, None, now).await?;
                }
                let row = code_row(
                    &code,
                    &officer.account_id,
                    "officer",
                    None,
                    false,
                    OFFICER_LINK_LIFETIME,
                );
                stored::insert_enrolment_code(tx, &row).await?;
                let target = Target::new("account", Some(officer.pseudonym.clone()));
                audit::record(
                    tx,
                    Event::new(actor.clone(), "passkey.revoke_all", target.clone(), Outcome::Success)
                        .reason("officer_recovery"),
                )
                .await?;
                audit::record(tx, Event::new(actor, "officer.recover", target, Outcome::Success)).await?;
                tracing::info!(sessions.ended = ended, "officer recovered");
                Ok((officer.pseudonym, row.expires_at))
            })
        })
        .await?;
    Ok(IssuedCode {
        account,
        url,
        code: String::new(),
        expires_at,
    })
}
