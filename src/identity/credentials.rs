//! The owner's passkeys: list, rename, add another, remove.

use super::Deps;
use crate::account::AccountKind;
use crate::sessions::Recent;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;

use super::enrol::EnrolError;
use super::recovery::register_for;
use super::registration::Pending;
use crate::audit::{self, Actor, ActorKind, Context, Event, Outcome, Target};
use crate::store::identity::{self as stored, AccountRow};

/// A passkey as its owner sees it.
#[derive(Debug, serde::Serialize)]
pub struct PasskeyView {
    pub id: String,
    pub name: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    /// Synced across devices (a passkey provider's backup) or bound to one device.
    pub synced: bool,
    pub current: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum CredentialError {
    #[error("no such passkey")]
    NotFound,
    #[error("the name must be 1 to 60 characters")]
    Name,
    #[error("the last passkey cannot be removed while no recovery code remains")]
    LastPasskey,
    #[error(transparent)]
    Enrol(#[from] EnrolError),
    #[error(transparent)]
    Audit(#[from] audit::AuditError),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

fn actor(account: &AccountRow) -> Actor {
    let kind = if account.kind == AccountKind::Officer {
        ActorKind::Officer
    } else {
        ActorKind::Citizen
    };
    Actor::new(kind, account.pseudonym.clone())
}

pub async fn list(
    deps: &Deps,
    account: &AccountRow,
    current: Option<&[u8]>,
) -> Result<Vec<PasskeyView>, CredentialError> {
    Ok(stored::passkeys_of(&deps.db, &account.account_id)
        .await?
        .into_iter()
        .map(|p| PasskeyView {
            current: current == Some(p.credential_id.as_slice()),
            id: B64URL.encode(&p.credential_id),
            name: p.name,
            created_at: p.created_at,
            last_used_at: p.last_used_at,
            synced: p.backed_up,
        })
        .collect())
}

fn decode_id(id: &str) -> Result<Vec<u8>, CredentialError> {
    B64URL.decode(id).map_err(|_| CredentialError::NotFound)
}

pub async fn rename(
    deps: &Deps,
    account: &AccountRow,
    id: &str,
    name: &str,
    ctx: &Context,
) -> Result<(), CredentialError> {
    let name = name.trim().to_owned();
    if name.is_empty() || name.chars().count() > 60 || name.chars().any(crate::vault::profile::is_unsafe_char) {
        return Err(CredentialError::Name);
    }
    let credential_id = decode_id(id)?;
    let account_id = account.account_id.clone();
    let (actor, target) = (actor(account), Target::new("account", Some(account.pseudonym.clone())));
    let ctx = ctx.clone();
    deps.writer
        .write(move |tx| {
            Box::pin(async move {
                if !stored::rename_passkey(tx, &account_id, &credential_id, &name).await? {
                    return Err(CredentialError::NotFound);
                }
                audit::record(
                    tx,
                    Event::new(actor, "passkey.rename", target, Outcome::Success).within(&ctx),
                )
                .await?;
                Ok(())
            })
        })
        .await
}

/// Removes a passkey and ends the sessions it started. The last passkey
/// stays while no unused recovery code remains.
pub async fn remove(deps: &Deps, recent: &Recent, id: &str, ctx: &Context) -> Result<(), CredentialError> {
    let account = recent.account();
    let credential_id = decode_id(id)?;
    let account_id = account.account_id.clone();
    // Recovery codes are a recovery method only for accounts with a NIK
    // (recovery asks for it); officers recover at the command line.
    let can_recover = account.kind == AccountKind::Citizen;
    let (actor, target) = (actor(account), Target::new("account", Some(account.pseudonym.clone())));
    let ctx = ctx.clone();
    deps.writer
        .write(move |tx| {
            Box::pin(async move {
                stored::lock_account(tx, &account_id).await?;
                let all = stored::passkeys_of_tx(tx, &account_id).await?;
                if !all.iter().any(|p| p.credential_id == credential_id) {
                    return Err(CredentialError::NotFound);
                }
                if all.len() == 1 && !(can_recover && stored::unused_recovery_codes_tx(tx, &account_id).await? > 0) {
                    let event = Event::new(actor, "passkey.remove", target, Outcome::Denied)
                        .reason("last_passkey_without_recovery")
                        .within(&ctx);
                    audit::record_attempt(tx, event).await?;
                    return Err(CredentialError::LastPasskey);
                }
                stored::delete_passkey(tx, &account_id, &credential_id).await?;
                stored::delete_sessions_of_passkey(tx, &account_id, &credential_id).await?;
                audit::record(
                    tx,
                    Event::new(actor, "passkey.remove", target, Outcome::Success).within(&ctx),
                )
                .await?;
                Ok(())
            })
        })
        .await
}

/// Starts registering another passkey for the signed-in owner.
pub async fn start_add(deps: &Deps, recent: &Recent) -> Result<serde_json::Value, CredentialError> {
    let account = recent.account();
    let rp = deps.rp.clone();
    let keys = deps.keys.clone();
    let account = account.clone();
    Ok(deps
        .writer
        .write(move |tx| {
            Box::pin(async move {
                let pending = Pending::AddPasskey {
                    account_id: account.account_id.clone(),
                };
                register_for(&rp, &keys, tx, &account, pending).await
            })
        })
        .await?)
}
