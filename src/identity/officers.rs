//! Officers' accounts from the command line: `jaga officers add`, `set-unit`
//! and `suspend`. Each change is audited as an operator action.

use super::codes;
use super::counter::{IssuedCode, OFFICER_LINK_LIFETIME, code_row, link, new_account};
use super::enrol::{EnrolError, parse_name, parse_unit};
use super::{AccountKind, Role, Status};
use crate::audit::{self, Actor, ActorKind, Event, Outcome, Target};
use crate::store::Writer;
use crate::store::identity::{self as stored, AccountRow};

/// `jaga officers suspend`: the officer's sessions end and they cannot sign
/// in again (nor use a code) until an administrator acts.
pub async fn suspend_officer(writer: &Writer, pseudonym: &str, reason: &str, operator: &str) -> Result<(), EnrolError> {
    let pseudonym = pseudonym.to_owned();
    let reason = reason.to_owned();
    let actor = Actor::new(ActorKind::Operator, operator.to_owned());
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    writer
        .write::<(), EnrolError, _>(move |tx| {
            Box::pin(async move {
                let officer = stored::account_by_pseudonym_tx(tx, &pseudonym)
                    .await?
                    .filter(|a| a.kind == AccountKind::Officer)
                    .ok_or(EnrolError::NoAccount)?;
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

/// `jaga officers set-unit`: records the unit of an existing officer.
pub async fn set_officer_unit(writer: &Writer, pseudonym: &str, unit: &str, operator: &str) -> Result<(), EnrolError> {
    let unit = parse_unit(unit)?;
    let pseudonym = pseudonym.to_owned();
    let actor = Actor::new(ActorKind::Operator, operator.to_owned());
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

/// `jaga officers add`: a pending officer with roles and a one-time link for
/// the first passkey. Audited as an operator action.
pub async fn add_officer(
    writer: &Writer,
    keys: &std::sync::Arc<crate::keys::KeyRing>,
    origin: &str,
    name: &str,
    unit: Option<&str>,
    roles: &[Role],
    operator: &str,
) -> Result<IssuedCode, EnrolError> {
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
        url: link(origin, &code),
        code,
        expires_at: row.expires_at,
    };
    let roles: Vec<&'static str> = roles.iter().map(|r| r.as_str()).collect();
    let keys = keys.clone();
    let actor = Actor::new(ActorKind::Operator, operator.to_owned());
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
