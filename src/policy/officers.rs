//! Officer actions the Cedar policies decide (`find_citizen`,
//! `change_identity`, …), on top of the role permits in code: a denial is
//! audited with the ids of the policies that decided.

use super::{OfficerAction, Policies};
use crate::audit::{self, Actor, ActorKind, AuditError, Context, Event, Outcome, Target};
use crate::store::identity::{self as identity_store, AccountRow};
use crate::store::{Db, Writer};

/// Whether the policies let `officer` do `action` on `citizen` (a
/// pseudonym; `None` before a lookup has found one). A denial is recorded
/// as `audit_action`, outcome denied, reason `policy_denied`.
#[expect(clippy::too_many_arguments, reason = "one decision, all of it context")]
pub async fn allows(
    policies: &Policies,
    db: &Db,
    writer: &Writer,
    officer: &AccountRow,
    action: OfficerAction,
    audit_action: &'static str,
    citizen: Option<&str>,
    ctx: &Context,
) -> Result<bool, AuditError> {
    let roles = identity_store::roles(db, &officer.account_id).await?;
    let roles: Vec<&str> = roles.iter().map(String::as_str).collect();
    let verdict = policies
        .current()
        .rules
        .officer(&officer.pseudonym, &roles, action, citizen.unwrap_or("unknown"));
    if verdict.allowed {
        return Ok(true);
    }
    let event = Event::new(
        Actor::new(ActorKind::Officer, officer.pseudonym.clone()),
        audit_action,
        Target::new("citizen", citizen.map(str::to_owned)),
        Outcome::Denied,
    )
    .reason("policy_denied")
    .policies(verdict.policies)
    .within(ctx);
    writer
        .write::<(), AuditError, _>(move |tx| {
            let event = event.clone();
            Box::pin(audit::record(tx, event))
        })
        .await?;
    Ok(false)
}
