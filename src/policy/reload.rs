//! Putting a new policy set in force while serving: on SIGHUP, and when
//! `jaga policy reload` announces it. The new set replaces the old only if
//! every file of it checks; either way the outcome is logged and audited
//! (`policy.reload`, success naming the policy ids now in force, or
//! failure with the reason in the log).

use super::Policies;
use crate::audit::{self, Actor, Event, Outcome, Target};
use crate::store::Writer;

/// What asked for the reload, as the audit reason.
#[derive(Debug, Clone, Copy)]
pub enum Trigger {
    Signal,
    Announced,
}

impl Trigger {
    fn code(self) -> &'static str {
        match self {
            Trigger::Signal => "sighup",
            Trigger::Announced => "announced",
        }
    }
}

/// Reloads `policies`; true if the new set is in force.
pub async fn reload(policies: &Policies, writer: &Writer, trigger: Trigger) -> bool {
    let target = Target::new("policies", None);
    let (event, adopted) = match policies.reload() {
        Ok(set) => {
            let ids: Vec<String> = set
                .rules
                .files()
                .iter()
                .flat_map(|(_, ids)| ids.iter().cloned())
                .collect();
            tracing::info!(
                policy.dir = %policies.dir().display(),
                policy.purposes = set.catalog.len(),
                policy.rules = ids.len(),
                "policies reloaded"
            );
            let event = Event::new(Actor::system(), "policy.reload", target, Outcome::Success)
                .reason(trigger.code())
                .policies(ids);
            (event, true)
        }
        Err(e) => {
            tracing::error!(
                policy.dir = %policies.dir().display(),
                error = %e,
                "the new policies do not check; the policies in force stay"
            );
            let event = Event::new(Actor::system(), "policy.reload", target, Outcome::Failure).reason("invalid_policy");
            (event, false)
        }
    };
    if let Err(e) = writer
        .write::<(), audit::AuditError, _>(move |tx| {
            let event = event.clone();
            Box::pin(audit::record(tx, event))
        })
        .await
    {
        tracing::error!(error = %e, "could not record policy.reload");
    }
    adopted
}
