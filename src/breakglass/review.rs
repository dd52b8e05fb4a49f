//! The break-glass review queue (officer console): every grant waits,
//! oldest first and showing how long it has waited, until a security
//! officer other than the one who used it accepts or escalates it with a
//! note. Showing a justification and recording a review are audited.

use serde::Serialize;

use super::{BreakGlassError, Deps, record};
use crate::account::Status;
use crate::audit::{self, Context, Event, Outcome, Target};
use crate::console::permit::SecurityOfficer;
use crate::store::break_glass as stored;
use crate::store::identity as identity_store;
use crate::vault::citizen;

/// Grants shown at most, oldest first.
pub const QUEUE_LIMIT: i64 = 200;
/// A note: at least this many characters…
pub const MIN_NOTE: usize = 10;
/// …and at most this many.
pub const MAX_NOTE: usize = 2000;

/// A grant waiting for review.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Waiting {
    pub grant: String,
    /// The officer who opened it (pseudonym).
    pub officer: String,
    /// The citizen (pseudonym).
    pub citizen: String,
    pub opened_at: i64,
    pub expires_at: i64,
    /// Seconds since it was opened.
    pub waiting_secs: i64,
    /// The written justification; absent once the citizen was erased (it
    /// was shredded with their data key).
    pub justification: Option<String>,
    /// Opened by the officer looking: someone else must review it.
    pub own: bool,
}

/// The outcome of a review.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Accepted,
    Escalated,
}

impl Decision {
    pub fn parse(s: &str) -> Option<Decision> {
        match s {
            "accepted" => Some(Decision::Accepted),
            "escalated" => Some(Decision::Escalated),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Accepted => "accepted",
            Decision::Escalated => "escalated",
        }
    }
}

fn note_name(grant: &str) -> String {
    format!("break_glass/{grant}/review_note")
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// The grants waiting for review, oldest first, with their justifications
/// opened. Each justification shown is an audit event.
pub async fn queue(deps: &Deps, reviewer: &SecurityOfficer, ctx: &Context) -> Result<Vec<Waiting>, BreakGlassError> {
    let now = now();
    let mut out = Vec::new();
    for row in stored::unreviewed(&deps.db, QUEUE_LIMIT).await? {
        let officer = identity_store::account_by_id(&deps.db, &row.officer_id).await?;
        let citizen = identity_store::account_by_id(&deps.db, &row.citizen_id).await?;
        let erased = citizen.as_ref().is_none_or(|c| c.status == Status::Erased);
        let justification = if erased {
            None
        } else {
            Some(super::justification(deps, &row).await?)
        };
        out.push(Waiting {
            own: row.officer_id == reviewer.account_id(),
            officer: officer.map(|o| o.pseudonym).unwrap_or_default(),
            citizen: citizen.map(|c| c.pseudonym).unwrap_or_default(),
            opened_at: row.opened_at,
            expires_at: row.expires_at,
            waiting_secs: now.saturating_sub(row.opened_at).max(0),
            justification,
            grant: row.grant_id,
        });
    }
    let events: Vec<Event> = out
        .iter()
        .filter(|w| w.justification.is_some())
        .map(|w| {
            Event::new(
                reviewer.actor(),
                "breakglass.queue",
                Target::new("break_glass", Some(w.grant.clone())).with_fields(["justification"]),
                Outcome::Success,
            )
            .within(ctx)
        })
        .collect();
    if !events.is_empty() {
        deps.writer
            .write::<(), BreakGlassError, _>(move |tx| {
                let events = events.clone();
                Box::pin(async move {
                    for e in events {
                        audit::record(tx, e).await?;
                    }
                    Ok(())
                })
            })
            .await?;
    }
    Ok(out)
}

/// Accepts or escalates `grant` with a note. Not the grant's own officer
/// (refused and audited); not twice.
pub async fn review(
    deps: &Deps,
    reviewer: &SecurityOfficer,
    grant: &str,
    decision: Decision,
    note: &str,
    ctx: &Context,
) -> Result<(), BreakGlassError> {
    let note = note.trim();
    let chars = note.chars().count();
    if !(MIN_NOTE..=MAX_NOTE).contains(&chars) {
        return Err(BreakGlassError::Invalid("note: 10 to 2000 characters"));
    }
    if note.chars().any(|c| c.is_control() && c != '\n') {
        return Err(BreakGlassError::Invalid("note: no control characters"));
    }
    let Some(row) = stored::get(&deps.db, grant).await? else {
        return Err(BreakGlassError::NoGrant);
    };
    let target = Target::new("break_glass", Some(row.grant_id.clone()));
    if row.officer_id == reviewer.account_id() {
        let refused = Event::new(reviewer.actor(), "breakglass.review", target, Outcome::Denied)
            .reason("self_review")
            .within(ctx);
        record(&deps.writer, refused).await?;
        return Err(BreakGlassError::SelfReview);
    }
    if row.reviewed_at.is_some() {
        return Err(BreakGlassError::AlreadyReviewed);
    }
    let (keys, text, reviewer_id) = (deps.keys.clone(), note.to_owned(), reviewer.account_id().to_owned());
    let event = Event::new(reviewer.actor(), "breakglass.review", target, Outcome::Success)
        .reason(decision.as_str())
        .within(ctx);
    let now = now();
    deps.writer
        .write::<(), BreakGlassError, _>(move |tx| {
            let (keys, text, reviewer_id, row, event) = (
                keys.clone(),
                text.clone(),
                reviewer_id.clone(),
                row.clone(),
                event.clone(),
            );
            Box::pin(async move {
                // The note is about the citizen: sealed under their key,
                // unless they were erased (no key may come back).
                let live = identity_store::lock_account(tx, &row.citizen_id).await?;
                let note = match live {
                    Some(a) if a.status != Status::Erased => {
                        let (dek, version) = citizen::data_key(tx, &keys.vault, &row.citizen_id, now).await?;
                        Some(citizen::seal_with(
                            &dek,
                            version,
                            &row.citizen_id,
                            &note_name(&row.grant_id),
                            1,
                            text.as_bytes(),
                        )?)
                    }
                    _ => None,
                };
                if !stored::review(tx, &row.grant_id, &reviewer_id, decision.as_str(), note.as_deref(), now).await? {
                    return Err(BreakGlassError::AlreadyReviewed);
                }
                audit::record(tx, event).await?;
                Ok(())
            })
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decisions_round_trip() {
        for d in [Decision::Accepted, Decision::Escalated] {
            assert_eq!(Decision::parse(d.as_str()), Some(d));
        }
        assert_eq!(Decision::parse("approved"), None);
        assert_eq!(super::super::sealed_name("bg_x"), "break_glass/bg_x/justification");
        assert_eq!(note_name("bg_x"), "break_glass/bg_x/review_note");
    }
}
