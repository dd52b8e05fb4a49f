//! A refused module request, on the record: one `denied` audit event per
//! citizen named (so each sees the refusal in their access history), with
//! the purpose named and the reason, committed before the module hears 403.

use super::collection::Owned;
use super::purpose::Purpose;
use super::records::citizens_of;
use super::{Deps, ModuleError};
use crate::audit::{self, Context, Event, Outcome, Target};

/// Records `refused` for `action` and returns it (or the failure to record it).
pub async fn record<'p>(
    deps: &Deps,
    owned: &Owned,
    action: &'static str,
    purpose: &Purpose,
    citizens: impl Iterator<Item = &'p str>,
    refused: ModuleError,
    ctx: &Context,
) -> ModuleError {
    let (reason, policies) = match &refused {
        ModuleError::Refused { reason, policies, .. } => (reason.code(), policies.clone()),
        _ => ("refused", Vec::new()),
    };
    let live = match citizens_of(deps, citizens).await {
        Ok(live) => live,
        Err(e) => return e,
    };
    let event = |target: Target| {
        Event::new(owned.module().actor(), action, target, Outcome::Denied)
            .purpose(purpose.as_str())
            .reason(reason)
            .policies(policies.iter().cloned())
            .within(ctx)
    };
    let collection = owned.collection().name.clone();
    let mut events: Vec<Event> = live
        .values()
        .map(|a| event(Target::new("citizen", Some(a.pseudonym.clone())).with_fields([collection.clone()])))
        .collect();
    if events.is_empty() {
        events.push(event(Target::new("collection", Some(collection))));
    }
    let stored = deps
        .writer
        .write::<(), ModuleError, _>(move |tx| {
            let events = events.clone();
            Box::pin(async move {
                for e in events {
                    audit::record(tx, e).await?;
                }
                Ok(())
            })
        })
        .await;
    match stored {
        Ok(()) => refused,
        Err(e) => e,
    }
}
