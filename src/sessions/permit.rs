//! Permits of a signed-in person. Only the checks in this file construct
//! them (their fields are private), and the functions that read or change
//! an account's own data take them: code that skipped the check does not
//! compile.

use std::time::Duration;

use super::{Active, Deps, find};
use crate::account::{AccountKind, Status};
use crate::store::StoreError;
use crate::store::identity::{self as stored, AccountRow};

/// A live session and its account (not suspended or erased). Only
/// [`authenticate`] makes one.
#[derive(Debug, Clone)]
pub struct SignedIn {
    account: AccountRow,
    session: Active,
}

/// The signed-in citizen acting on their own data. Only
/// [`SignedIn::own_data`] makes one; it names no other account.
#[derive(Debug, Clone)]
pub struct OwnData {
    account: AccountRow,
}

/// A session signed in within the re-authentication window: sensitive
/// changes (a passkey added or removed, new recovery codes) take one, so a
/// stolen cookie or a session left open on a shared computer cannot take
/// the account over for good. Only [`SignedIn::recent`] makes one.
#[derive(Debug, Clone)]
pub struct Recent {
    account: AccountRow,
    credential_id: Option<Vec<u8>>,
}

/// The live session of `token` and its account, if both are alive. The
/// session's last-seen time is refreshed at most once a quarter of the
/// idle timeout (and at least once a minute).
pub async fn authenticate(deps: &Deps, token: &str, now: i64) -> Result<Option<SignedIn>, StoreError> {
    let Some(session) = find(&deps.db, token, now, &deps.sessions).await? else {
        return Ok(None);
    };
    let account = stored::account_by_id(&deps.db, session.account_id.as_str())
        .await?
        .filter(|a| a.status.may_sign_in());
    let Some(account) = account else {
        return Ok(None);
    };
    if now - session.last_seen_at >= touch_every(deps.sessions.idle_timeout) {
        let id = session.session_id.clone();
        deps.writer
            .write::<(), StoreError, _>(move |tx| Box::pin(async move { stored::touch_session(tx, &id, now).await }))
            .await?;
    }
    Ok(Some(SignedIn { account, session }))
}

/// Seconds between updates of a session's last-seen time.
fn touch_every(idle: Duration) -> i64 {
    let idle = i64::try_from(idle.as_secs()).unwrap_or(i64::MAX);
    (idle / 4).clamp(0, 60)
}

impl SignedIn {
    pub fn account(&self) -> &AccountRow {
        &self.account
    }

    pub fn session(&self) -> &Active {
        &self.session
    }

    /// The citizen acting on their own data; `None` for an officer.
    pub fn own_data(&self) -> Option<OwnData> {
        (self.account.kind == AccountKind::Citizen && self.account.status != Status::Erased).then(|| OwnData {
            account: self.account.clone(),
        })
    }

    /// This session, if it signed in no longer than `window` ago.
    pub fn recent(&self, window: Duration, now: i64) -> Option<Recent> {
        let window = i64::try_from(window.as_secs()).unwrap_or(i64::MAX);
        (now.saturating_sub(self.session.created_at) <= window).then(|| Recent {
            account: self.account.clone(),
            credential_id: self.session.credential_id.clone(),
        })
    }
}

impl OwnData {
    pub fn account(&self) -> &AccountRow {
        &self.account
    }
}

impl Recent {
    pub fn account(&self) -> &AccountRow {
        &self.account
    }

    /// The passkey this session signed in with, if any.
    pub fn credential_id(&self) -> Option<&[u8]> {
        self.credential_id.as_deref()
    }
}
