//! Recovery with a one-time recovery code, and regenerating the codes.

use super::Deps;
use super::codes;
use super::enrol::{EnrolError, nik_index};
use super::registration::{Pending, ceremony_row};
use super::{Nik, UserHandle};
use crate::account::Status;
use crate::audit::{self, Actor, ActorKind, Context, Event, Outcome, Target};
use crate::passkeys;
use crate::sessions::Recent;
use crate::store::identity::{self as stored, AccountRow};

/// Checks NIK and recovery code and starts registering a new passkey (the
/// code is spent when the passkey is stored). Every refusal is the same
/// [`EnrolError::RecoveryFailed`]. Only failures count against the NIK's
/// bucket, and a correct code is never refused by it: knowing a NIK is not
/// enough to keep its holder from recovering.
pub async fn start(deps: &Deps, nik: &str, code: &str, ctx: &Context) -> Result<serde_json::Value, EnrolError> {
    let Ok(nik) = Nik::parse(nik) else {
        return Err(EnrolError::RecoveryFailed);
    };
    let index = nik_index(&deps.keys.index, &nik);
    let key = crate::ratelimit::Key::Account(index.clone());
    match begin(deps, index, code, ctx).await {
        Err(EnrolError::RecoveryFailed) => {
            let decision = deps.limits.fail(crate::ratelimit::RECOVERY_ACCOUNT, &key).await;
            if decision.allowed() {
                Err(EnrolError::RecoveryFailed)
            } else {
                if deps.limits.should_audit(decision.policy, &key) {
                    crate::audit::record_trip(&deps.writer, decision.policy.name, ctx).await;
                }
                Err(EnrolError::Limited(decision))
            }
        }
        other => other,
    }
}

async fn begin(deps: &Deps, index: Vec<u8>, code: &str, ctx: &Context) -> Result<serde_json::Value, EnrolError> {
    let code = codes::normalise(code);
    let rp = deps.rp.clone();
    let keys = deps.keys.clone();
    let ctx = ctx.clone();
    deps.writer
        .write(move |tx| {
            Box::pin(async move {
                let account = stored::account_by_nik_index(tx, &index).await?;
                let usable = account.filter(|a| a.status == Status::Active);
                // Checked here, spent only when the new passkey is stored, so a
                // cancelled passkey dialog does not burn the code. The lookup
                // runs for unknown NIKs too, so both take the same path.
                let owner = usable.as_ref().map_or("-", |a| a.account_id.as_str());
                let valid = stored::recovery_code_unused(tx, owner, &codes::recovery_hash(&keys.index, owner, &code))
                    .await?
                    && usable.is_some();
                let Some(account) = usable.filter(|_| valid) else {
                    let event = Event::new(
                        Actor::new(ActorKind::Anonymous, "-"),
                        "recovery.code.use",
                        Target::new("account", None),
                        Outcome::Failure,
                    )
                    .reason("no_match")
                    .within(&ctx);
                    audit::record_attempt(tx, event).await?;
                    return Err(EnrolError::RecoveryFailed);
                };
                let options = register_for(
                    &rp,
                    &keys,
                    tx,
                    &account,
                    Pending::Recover {
                        account_id: account.account_id.clone(),
                        code_hash: hex::encode(codes::recovery_hash(&keys.index, &account.account_id, &code)),
                    },
                )
                .await?;
                Ok(options)
            })
        })
        .await
}

/// Starts a registration ceremony for an existing account, inside `tx`.
pub(crate) async fn register_for(
    rp: &passkeys::RelyingParty,
    keys: &crate::keys::KeyRing,
    tx: &mut crate::store::Tx<'_>,
    account: &AccountRow,
    pending: Pending,
) -> Result<serde_json::Value, EnrolError> {
    let handle = <[u8; 64]>::try_from(account.user_handle.as_slice())
        .map(UserHandle)
        .map_err(|_| passkeys::PasskeyError::Internal("stored user handle is not 64 bytes".into()))?;
    let existing: Vec<(Vec<u8>, i64)> = stored::passkeys_of_tx(tx, &account.account_id)
        .await?
        .into_iter()
        .map(|p| (p.credential_id, p.transports))
        .collect();
    let name = super::personal::display_name_audited(tx, &keys.vault, &account.account_id, &account.pseudonym)
        .await
        .unwrap_or_else(|| account.pseudonym.clone());
    let started = passkeys::start_registration(rp, &handle, &account.pseudonym, &name, &existing)?;
    stored::insert_ceremony(tx, &ceremony_row(&started, &pending)?).await?;
    Ok(started.options)
}

/// Replaces the account's recovery codes; returns the new ones (shown once).
pub async fn regenerate(deps: &Deps, recent: &Recent, ctx: &Context) -> Result<Vec<String>, EnrolError> {
    let account = recent.account();
    let (shown, hashes) = codes::recovery_set(&deps.keys.index, &account.account_id)?;
    let account_id = account.account_id.clone();
    let actor = Actor::new(ActorKind::Citizen, account.pseudonym.clone());
    let target = Target::new("account", Some(account.pseudonym.clone()));
    let ctx = ctx.clone();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    deps.writer
        .write::<(), EnrolError, _>(move |tx| {
            Box::pin(async move {
                stored::replace_recovery_codes(tx, &account_id, &hashes, now).await?;
                audit::record(
                    tx,
                    Event::new(actor, "recovery.codes.regenerate", target, Outcome::Success).within(&ctx),
                )
                .await?;
                Ok(())
            })
        })
        .await?;
    Ok(shown)
}
