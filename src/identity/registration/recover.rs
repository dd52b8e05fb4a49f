//! Recovery with a recovery code: a new passkey and a session.

use super::{Pending, Registered, Verified, actor_of, emit, issue, passkey_row, passkey_taken, start_session};
use crate::audit::{self, Event, Outcome, Target};
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
        user_agent,
        ctx,
        now,
        device,
    } = verified;
    let Pending::Recover { account_id, code_hash } = pending else {
        return Err(EnrolError::UnknownCeremony);
    };
    let account = existing.ok_or(EnrolError::UnknownCeremony)?;
    let session = issue(deps, &account_id, &new, user_agent, ctx, now)?;
    let passkey = passkey_row(&account_id, &new, &device, now);
    let session_row = session.row.clone();
    let ctx = ctx.clone();
    let actor = actor_of(&account);
    let target = Target::new("account", Some(account.pseudonym.clone()));
    deps.writer
        .write::<(), EnrolError, _>(move |tx| {
            Box::pin(async move {
                let hash = hex::decode(&code_hash).unwrap_or_default();
                if !stored::use_recovery_code(tx, &account_id, &hash, now).await? {
                    return Err(EnrolError::RecoveryFailed);
                }
                emit(tx, &actor, "recovery.code.use", target.clone(), &ctx).await?;
                stored::insert_passkey(tx, &passkey).await.map_err(passkey_taken)?;
                let event = Event::new(actor.clone(), "account.recover", target.clone(), Outcome::Success)
                    .reason("recovery_code")
                    .within(&ctx);
                audit::record(tx, event).await?;
                emit(tx, &actor, "passkey.add", target, &ctx).await?;
                start_session(tx, &actor, &session_row, &ctx).await
            })
        })
        .await?;
    Ok(Registered {
        pseudonym: account.pseudonym,
        verified: account.verified,
        recovery_codes: None,
        session: Some(session),
    })
}
