//! The tamper-evident audit log.
//!
//! [`record`] appends an event inside the caller's transaction, so
//! the action and its record commit together or not at all. Events are the
//! leaves of an RFC 9162 Merkle tree ([`merkle`]); the [`checkpointer`]
//! signs the tree's root regularly ([`checkpoint`]); [`verify`] recomputes
//! everything from the database.
//!
//! Each stored event also carries an HMAC of its leaf hash under a key the
//! database never sees, so a changed event is pinned to its exact sequence
//! number even before the next checkpoint exists.

pub mod checkpoint;
pub mod checkpointer;
mod context;
pub mod copy;
pub mod csv;
mod event;
pub mod export;
mod keys;
pub mod merkle;
pub mod offline;
pub mod proof;
mod sealer;
pub mod seat;
pub mod verify;

use crate::store::audit::EventRow;
use crate::store::{self, StoreError, Tx};

pub use context::Context;
pub use event::{Actor, ActorKind, Event, InvalidEvent, Outcome, Recorded, Target};
pub use keys::AuditKeys;
pub use sealer::AuditSealer;

#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error(transparent)]
    Invalid(#[from] InvalidEvent),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Appends `event` within `tx`: it commits together with everything else
/// the unit of work did, or not at all. Its sequence number and MAC are
/// assigned when the batch commits (see [`crate::store::Writer`]).
#[tracing::instrument(skip_all, fields(audit.action = %event.action))]
pub async fn record(tx: &mut Tx<'_>, event: Event) -> Result<(), AuditError> {
    event.check()?;
    let recorded = Recorded {
        seq: 0,
        time_us: now_us(),
        event,
    };
    store::audit::append(tx, to_row(&recorded, [0; 32]));
    Ok(())
}

/// Appends `event` so that it is kept even if the unit of work fails: for
/// denials and failed attempts, which must be audited although the action
/// they describe did not happen.
#[tracing::instrument(skip_all, fields(audit.action = %event.action))]
pub async fn record_attempt(tx: &mut Tx<'_>, event: Event) -> Result<(), AuditError> {
    event.check()?;
    let recorded = Recorded {
        seq: 0,
        time_us: now_us(),
        event,
    };
    store::audit::append_durable(tx, to_row(&recorded, [0; 32]));
    Ok(())
}

pub fn now_us() -> i64 {
    let now = time::OffsetDateTime::now_utc();
    i64::try_from(now.unix_timestamp_nanos() / 1000).unwrap_or(i64::MAX)
}

fn to_row(r: &Recorded, mac: [u8; 32]) -> EventRow {
    let e = &r.event;
    EventRow {
        seq: i64::try_from(r.seq).unwrap_or(i64::MAX),
        time_us: r.time_us,
        actor_kind: e.actor.kind.as_str().to_owned(),
        actor_id: e.actor.id.clone(),
        action: e.action.clone(),
        target_kind: e.target.kind.clone(),
        target_id: e.target.id.clone(),
        target_fields: e.target.fields.join(","),
        purpose: e.purpose.clone(),
        outcome: e.outcome.as_str().to_owned(),
        reason: e.reason.clone(),
        request_id: e.request_id.clone(),
        source: e.source.clone(),
        policies: e.policies.join(","),
        mac: mac.to_vec(),
    }
}

/// Reads a stored row back into an event; `None` if a column holds a value
/// no writer could have produced.
pub fn from_row(row: &EventRow) -> Option<Recorded> {
    let fields = if row.target_fields.is_empty() {
        Vec::new()
    } else {
        row.target_fields.split(',').map(str::to_owned).collect()
    };
    Some(Recorded {
        seq: u64::try_from(row.seq).ok()?,
        time_us: row.time_us,
        event: Event {
            actor: Actor::new(ActorKind::parse(&row.actor_kind)?, row.actor_id.clone()),
            action: row.action.clone(),
            target: Target {
                kind: row.target_kind.clone(),
                id: row.target_id.clone(),
                fields,
            },
            purpose: row.purpose.clone(),
            outcome: Outcome::parse(&row.outcome)?,
            reason: row.reason.clone(),
            request_id: row.request_id.clone(),
            source: row.source.clone(),
            policies: if row.policies.is_empty() {
                Vec::new()
            } else {
                row.policies.split(',').map(str::to_owned).collect()
            },
        },
    })
}

/// The leaf hash of a stored row and whether its MAC is genuine.
pub fn check_row(keys: &AuditKeys, row: &EventRow) -> Option<merkle::Hash> {
    let recorded = from_row(row)?;
    let leaf = merkle::leaf_hash(&recorded.canonical_bytes());
    keys.verify_leaf_mac(&leaf, &row.mac).then_some(leaf)
}

/// An audit event that cannot be recorded fails the vault operation with it.
impl From<AuditError> for crate::vault::VaultError {
    fn from(e: AuditError) -> Self {
        match e {
            AuditError::Store(s) => crate::vault::VaultError::Store(s),
            AuditError::Invalid(_) => crate::vault::VaultError::Encrypt,
        }
    }
}

/// Audits a rate-limit trip of `policy`. Callers thin trips out first
/// (`ratelimit::Limits::should_audit`: once a minute per key), so that a
/// flood of refused requests cannot flood the audit log.
pub async fn record_trip(writer: &crate::store::Writer, policy: &'static str, ctx: &Context) {
    let event = Event::new(
        Actor::new(ActorKind::Anonymous, "-"),
        "ratelimit.trip",
        Target::new("ratelimit", Some(policy.to_owned())),
        Outcome::Denied,
    )
    .within(ctx);
    let result = writer
        .write::<(), AuditError, _>(move |tx| Box::pin(record(tx, event)))
        .await;
    if let Err(e) = result {
        tracing::error!(error = %e, "could not audit a rate-limit trip");
    }
}
