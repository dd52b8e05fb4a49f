//! Retention of what sign-in leaves behind. Sessions (with the IP address
//! and user agent they hold, personal data under UU PDP), one-time codes
//! and ceremonies are deleted on a schedule once they can no longer be
//! used: an ended session at the first purge after its absolute expiry or
//! idle timeout (sign-out deletes it at once), a code once used or
//! expired, a used recovery code, an expired ceremony. Codes of counter
//! recoveries stay (hashes only) while the recovery awaits review.

use crate::audit::{self, Actor, AuditError, Event, Outcome, Target};
use crate::config::SessionConfig;
use crate::store::identity as stored;
use crate::store::{StoreError, Writer};

/// How many rows of each kind a purge deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Purged {
    pub sessions: u64,
    pub codes: u64,
    pub recovery_codes: u64,
    pub ceremonies: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum PurgeError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Audit(#[from] AuditError),
}

/// Deletes what has expired at `now`, audited as one `retention.purge`
/// event naming the counts (when anything went).
pub async fn purge(writer: &Writer, sessions: &SessionConfig, now: i64) -> Result<Purged, PurgeError> {
    let idle = i64::try_from(sessions.idle_timeout.as_secs()).unwrap_or(i64::MAX);
    writer
        .write::<Purged, PurgeError, _>(move |tx| {
            Box::pin(async move {
                let [sessions, codes, recovery_codes, ceremonies] = stored::purge_expired(tx, now, idle).await?;
                let purged = Purged {
                    sessions,
                    codes,
                    recovery_codes,
                    ceremonies,
                };
                if purged != Purged::default() {
                    let counts = [
                        format!("session.{sessions}"),
                        format!("code.{codes}"),
                        format!("recovery_code.{recovery_codes}"),
                        format!("ceremony.{ceremonies}"),
                    ];
                    let event = Event::new(
                        Actor::system(),
                        "retention.purge",
                        Target::new("retention", None).with_fields(counts),
                        Outcome::Success,
                    );
                    audit::record(tx, event).await?;
                }
                Ok(purged)
            })
        })
        .await
}
