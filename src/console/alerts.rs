//! Alerts in the console: the newest first with where their webhook
//! delivery stands, and a dead letter sent again. Both are audited.

use crate::audit::{self, AuditError, Context, Event, Outcome, Target};
use crate::console::permit::SecurityOfficer;
use crate::store::alerts::{self as stored, ListedRow};
use crate::store::{Db, StoreError, Writer};

/// Alerts shown at most.
pub const SHOWN: i64 = 200;

#[derive(Debug, thiserror::Error)]
pub enum AlertError {
    #[error("no dead letter with this id")]
    NotDead,
    #[error(transparent)]
    Audit(#[from] AuditError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

async fn record(writer: &Writer, e: Event) -> Result<(), AuditError> {
    writer
        .write::<(), AuditError, _>(move |tx| Box::pin(audit::record(tx, e)))
        .await
}

/// The newest alerts; the look is audited.
pub async fn list(
    db: &Db,
    writer: &Writer,
    officer: &SecurityOfficer,
    ctx: &Context,
) -> Result<Vec<ListedRow>, AlertError> {
    let e = Event::new(
        officer.actor(),
        "alert.list",
        Target::new("alerts", None),
        Outcome::Success,
    )
    .within(ctx);
    record(writer, e).await?;
    Ok(stored::newest(db, SHOWN).await?)
}

/// Sends a dead letter again, from now.
pub async fn redeliver(
    writer: &Writer,
    officer: &SecurityOfficer,
    alert_id: &str,
    ctx: &Context,
) -> Result<(), AlertError> {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let id = alert_id.to_owned();
    let e = Event::new(
        officer.actor(),
        "alert.redeliver",
        Target::new("alert", Some(alert_id.to_owned())),
        Outcome::Success,
    )
    .within(ctx);
    let done = writer
        .write::<bool, AuditError, _>(move |tx| {
            Box::pin(async move {
                if !stored::redeliver(tx, &id, now).await? {
                    return Ok(false);
                }
                audit::record(tx, e).await?;
                Ok(true)
            })
        })
        .await?;
    if done { Ok(()) } else { Err(AlertError::NotDead) }
}
