//! A module's open cases with citizens: the lawful basis of a purpose
//! based on a contract or a public task holds for a citizen only while
//! they have an open case with the module (a queue ticket, a permit
//! application). Opening and closing are audited and shown to the citizen.

use super::checks::check_record_id;
use super::records::{citizens_for_read, no_citizen};
use super::{Deps, Module, ModuleError};
use crate::audit::{self, Context, Event, Outcome, Target};
use crate::store::cases as stored;

/// Open, or closed with the module's event (`ticket_closed`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaseState {
    Open,
    Closed { event: String },
}

fn check_event(event: &str) -> Result<(), ModuleError> {
    let ok = (1..=48).contains(&event.len())
        && event.bytes().next().is_some_and(|b| b.is_ascii_lowercase())
        && event
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    ok.then_some(())
        .ok_or_else(|| ModuleError::Invalid("event must be an identifier such as case_closed".into()))
}

/// Opens or closes `case` of the citizen `citizen` (pseudonym); returns
/// whether anything changed (opening an open case, or closing a closed
/// one, changes nothing and records nothing).
pub async fn set(
    deps: &Deps,
    module: &Module,
    citizen: &str,
    case: &str,
    state: CaseState,
    ctx: &Context,
) -> Result<bool, ModuleError> {
    check_record_id(case)?;
    if let CaseState::Closed { event } = &state {
        check_event(event)?;
    }
    // A case of a citizen whose erasure kept data may still be closed
    // (its end may end what was kept), never opened.
    let account = citizens_for_read(deps, std::iter::once(citizen))
        .await?
        .remove(citizen)
        .filter(|a| a.status != crate::account::Status::Erased || matches!(state, CaseState::Closed { .. }))
        .ok_or_else(|| no_citizen(citizen))?;
    let (module, case) = (module.clone(), case.to_owned());
    let ctx = ctx.clone();
    deps.writer
        .write::<bool, ModuleError, _>(move |tx| {
            let (module, case, state, account, ctx) = (
                module.clone(),
                case.clone(),
                state.clone(),
                account.clone(),
                ctx.clone(),
            );
            Box::pin(async move {
                let now = time::OffsetDateTime::now_utc().unix_timestamp();
                let (changed, action, reason) = match &state {
                    CaseState::Open => (
                        stored::open(tx, module.id(), &account.account_id, &case, now).await?,
                        "case.open",
                        None,
                    ),
                    CaseState::Closed { event } => (
                        stored::close(tx, module.id(), &account.account_id, &case, event, now).await?,
                        "case.close",
                        Some(event.clone()),
                    ),
                };
                if changed {
                    let mut event = Event::new(
                        module.actor(),
                        action,
                        Target::new("citizen", Some(account.pseudonym.clone())),
                        Outcome::Success,
                    )
                    .within(&ctx);
                    if let Some(reason) = reason {
                        event = event.reason(reason);
                    }
                    audit::record(tx, event).await?;
                }
                Ok(changed)
            })
        })
        .await
}
