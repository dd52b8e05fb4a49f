//! A signed-in person adds a passkey.

use super::{Pending, Registered, Verified, actor_of, emit, passkey_row, passkey_taken};
use crate::audit::Target;
use crate::identity::enrol::EnrolError;
use crate::store::identity::{self as stored, AccountRow};

pub(super) async fn complete(
    verified: Verified<'_>,
    existing: Option<AccountRow>,
    pending: Pending,
) -> Result<Registered, EnrolError> {
    let Verified {
        deps,
        new,
        user_agent: _,
        ctx,
        now,
        device,
    } = verified;
    let Pending::AddPasskey { account_id } = pending else {
        return Err(EnrolError::UnknownCeremony);
    };
    let account = existing.ok_or(EnrolError::UnknownCeremony)?;
    let passkey = passkey_row(&account_id, &new, &device, now);
    let ctx = ctx.clone();
    let actor = actor_of(&account);
    let target = Target::new("account", Some(account.pseudonym.clone()));
    deps.writer
        .write::<(), EnrolError, _>(move |tx| {
            Box::pin(async move {
                stored::insert_passkey(tx, &passkey).await.map_err(passkey_taken)?;
                emit(tx, &actor, "passkey.add", target, &ctx).await
            })
        })
        .await?;
    Ok(Registered {
        pseudonym: account.pseudonym,
        verified: account.verified,
        recovery_codes: None,
        session: None,
    })
}
