//! Erasure (UU PDP Art. 8 and 43): crypto-shredding of a citizen.
//!
//! The data key is destroyed, so every value sealed under it, in the
//! database and in every backup, can no longer be opened by anyone, root
//! keys included. The sealed rows and blind indexes are deleted too, the
//! account is marked erased, its passkeys, codes and sessions end. The
//! audit log keeps only the pseudonym.

use crate::account::{AccountKind, Status};
use crate::audit::{self, Actor, AuditError, Context, Event, Outcome, Target};
use crate::store::identity::{self as identity_store, AccountRow};
use crate::store::modules as module_store;
use crate::store::vault as vault_store;
use crate::store::{StoreError, Writer};
use crate::vault::{VaultError, citizen};

#[derive(Debug, thiserror::Error)]
pub enum EraseError {
    #[error("only citizens' accounts are erased this way")]
    NotCitizen,
    #[error("the account is already erased")]
    AlreadyErased,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Vault(#[from] VaultError),
    #[error(transparent)]
    Audit(#[from] AuditError),
}

/// Erases `citizen` on `actor`'s decision (`reason` says why, as an identifier).
pub async fn erase(
    writer: &Writer,
    citizen: &AccountRow,
    actor: Actor,
    reason: &str,
    ctx: &Context,
) -> Result<(), EraseError> {
    if citizen.kind != AccountKind::Citizen {
        return Err(EraseError::NotCitizen);
    }
    let account_id = citizen.account_id.clone();
    let pseudonym = citizen.pseudonym.clone();
    let event = Event::new(
        actor,
        "citizen.erase",
        Target::new("citizen", Some(pseudonym)),
        Outcome::Success,
    )
    .reason(reason)
    .within(ctx);
    writer
        .write::<(), EraseError, _>(move |tx| {
            Box::pin(async move {
                let current = identity_store::lock_account(tx, &account_id).await?;
                if current.as_ref().is_none_or(|a| a.status == Status::Erased) {
                    return Err(EraseError::AlreadyErased);
                }
                let now = time::OffsetDateTime::now_utc().unix_timestamp();
                shred(tx, &account_id).await?;
                end_account(tx, &account_id, now).await?;
                audit::record(tx, event).await?;
                Ok(())
            })
        })
        .await
}

/// Destroys the citizen's data key and deletes everything sealed under it
/// (profile fields, module records, correction requests) and their blind
/// indexes, inside the caller's unit of work.
pub async fn shred(tx: &mut crate::store::Tx<'_>, account_id: &str) -> Result<(), EraseError> {
    citizen::erase(tx, account_id).await?;
    vault_store::delete_fields_of(tx, account_id).await?;
    module_store::delete_records_of(tx, account_id).await?;
    crate::store::corrections::delete_of(tx, account_id).await?;
    Ok(())
}

/// Ends the account: sessions and passkeys gone, marked erased (no NIK
/// index, no name, no recovery codes), inside the caller's unit of work.
pub async fn end_account(tx: &mut crate::store::Tx<'_>, account_id: &str, now: i64) -> Result<(), EraseError> {
    identity_store::delete_sessions_of(tx, account_id).await?;
    identity_store::delete_passkeys_of(tx, account_id).await?;
    identity_store::mark_erased(tx, account_id, now).await?;
    Ok(())
}
