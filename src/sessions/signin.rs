//! Username-less sign-in with a passkey, and sign-out.
//!
//! Every failure looks the same to the caller ([`SignInError::Failed`]),
//! whatever the cause, so nobody learns whether an account or passkey
//! exists; the audit log records the real reason.

use super::Deps;
use super::Issued;
use crate::account::AccountId;
use crate::account::AccountKind;
use crate::audit::{self, Actor, ActorKind, AuditError, Context, Event, Outcome, Target};
use crate::ids::RandomError;
use crate::passkeys::{self, PasskeyError};
use crate::store::identity::{self as stored, AccountRow, CeremonyRow, PasskeyRow, SessionRow};
use crate::store::{StoreError, Tx};

#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    /// The one answer for every refused sign-in.
    #[error("sign-in failed")]
    Failed,
    #[error("too many attempts")]
    Limited(crate::ratelimit::Decision),
    #[error(transparent)]
    Passkey(PasskeyError),
    #[error(transparent)]
    Audit(#[from] AuditError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Random(#[from] RandomError),
}

/// Starts a sign-in ceremony; returns the request options.
pub async fn start(deps: &Deps, conditional: bool) -> Result<serde_json::Value, SignInError> {
    let started = passkeys::start_sign_in(&deps.rp, conditional).map_err(SignInError::Passkey)?;
    let row = CeremonyRow {
        challenge: started.challenge.to_vec(),
        kind: "authenticate".into(),
        account_id: None,
        state: started.state,
        payload: "{}".into(),
        expires_at: started.expires_at,
    };
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    deps.writer
        .write::<(), SignInError, _>(move |tx| {
            Box::pin(async move {
                stored::delete_expired_ceremonies(tx, now).await?;
                stored::insert_ceremony(tx, &row).await?;
                Ok(())
            })
        })
        .await?;
    Ok(started.options)
}

/// What the first step found for an assertion.
struct Found {
    ceremony: Option<CeremonyRow>,
    passkey: Option<PasskeyRow>,
    account: Option<AccountRow>,
}

/// The bucket of failed attempts for a presented credential id: the same
/// for registered and unknown ids, so neither the answers nor their order
/// tell them apart.
fn failure_key(credential_id: &[u8]) -> crate::ratelimit::Key {
    let mut data = b"signin-credential\0".to_vec();
    data.extend_from_slice(credential_id);
    crate::ratelimit::Key::Account(crate::ids::sha256(&data).to_vec())
}

/// Finishes a sign-in: one answer for every failure, a new session token
/// on success. Only failures count against the presented credential's
/// bucket; a correct assertion is never refused by it.
pub async fn finish(deps: &Deps, body: &[u8], user_agent: &str, ctx: &Context) -> Result<Issued, SignInError> {
    let Ok(assertion) = passkeys::parse_assertion(body) else {
        fail(deps, ctx, None, "malformed").await;
        return Err(SignInError::Failed);
    };
    let key = failure_key(assertion.credential_id());
    match verify(deps, assertion, user_agent, ctx).await {
        Ok(issued) => Ok(issued),
        Err(SignInError::Failed) => {
            let decision = deps.limits.fail(crate::ratelimit::SIGN_IN_ACCOUNT, &key).await;
            if decision.allowed() {
                Err(SignInError::Failed)
            } else {
                if deps.limits.should_audit(decision.policy, &key) {
                    crate::audit::record_trip(&deps.writer, decision.policy.name, ctx).await;
                }
                Err(SignInError::Limited(decision))
            }
        }
        Err(other) => Err(other),
    }
}

async fn verify(
    deps: &Deps,
    assertion: passkeys::Assertion,
    user_agent: &str,
    ctx: &Context,
) -> Result<Issued, SignInError> {
    let found = take(deps, &assertion).await?;
    let (passkey, account, outcome) = check(deps, found, assertion, ctx).await?;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let issued = super::issue(
        &AccountId::from_stored(account.account_id.clone()),
        Some(passkey.credential_id.clone()),
        user_agent,
        ctx.source.as_deref().unwrap_or(""),
        now,
        &deps.sessions,
    )?;
    let used = Used {
        session: issued.row.clone(),
        passkey,
        outcome,
        actor: Actor::new(
            if account.kind == AccountKind::Officer {
                ActorKind::Officer
            } else {
                ActorKind::Citizen
            },
            account.pseudonym,
        ),
        ctx: ctx.clone(),
        now,
    };
    deps.writer
        .write::<(), SignInError, _>(move |tx| Box::pin(async move { record_use(tx, used).await }))
        .await?;
    Ok(issued)
}

/// Takes the ceremony (single use) and loads the credential and its
/// account, in one unit.
async fn take(deps: &Deps, assertion: &passkeys::Assertion) -> Result<Found, SignInError> {
    let credential_id = assertion.credential_id().to_vec();
    let challenge = assertion.challenge.to_vec();
    deps.writer
        .write::<Found, SignInError, _>(move |tx| {
            Box::pin(async move {
                let ceremony = stored::take_ceremony(tx, &challenge).await?;
                let passkey = stored::passkey_tx(tx, &credential_id).await?;
                let account = match &passkey {
                    Some(p) => stored::account_by_id_tx(tx, &p.account_id).await?,
                    None => None,
                };
                Ok(Found {
                    ceremony,
                    passkey,
                    account,
                })
            })
        })
        .await
}

/// Verifies the assertion against the stored passkey. Every refusal is
/// audited with its real reason and answered [`SignInError::Failed`].
async fn check(
    deps: &Deps,
    found: Found,
    assertion: passkeys::Assertion,
    ctx: &Context,
) -> Result<(PasskeyRow, AccountRow, passkeys::SignIn), SignInError> {
    let Some(ceremony) = found.ceremony.filter(|c| c.kind == "authenticate") else {
        fail(deps, ctx, None, "unknown_ceremony").await;
        return Err(SignInError::Failed);
    };
    let (Some(passkey), Some(account)) = (found.passkey, found.account) else {
        // The same signature work as for a registered credential, so the
        // time to answer does not tell the two apart.
        let _ = tokio::task::spawn_blocking(move || passkeys::decoy_verification(&assertion)).await;
        fail(deps, ctx, None, "unknown_credential").await;
        return Err(SignInError::Failed);
    };
    let pseudonym = account.pseudonym.clone();
    let Ok(handle) = <[u8; 64]>::try_from(account.user_handle.as_slice()) else {
        fail(deps, ctx, Some(&pseudonym), "corrupt_user_handle").await;
        return Err(SignInError::Failed);
    };
    // Every assertion for a registered credential costs one signature
    // verification, whatever else is wrong, as an unknown one does: timing
    // tells nothing about the account. (webauthn_rp refuses a wrong user
    // handle before any signature work, so that case gets the decoy.)
    if assertion.user_handle() != handle.as_slice() {
        let _ = tokio::task::spawn_blocking(move || passkeys::decoy_verification(&assertion)).await;
        fail(deps, ctx, Some(&pseudonym), "user_handle_mismatch").await;
        return Err(SignInError::Failed);
    }
    let rp = deps.rp.clone();
    let (stored_static, stored_dynamic) = (passkey.static_state.clone(), passkey.dynamic_state.clone());
    let verified = tokio::task::spawn_blocking(move || {
        passkeys::finish_sign_in(
            &rp,
            &assertion,
            &ceremony.state,
            &handle,
            &stored_static,
            &stored_dynamic,
        )
    })
    .await
    .map_err(|e| SignInError::Passkey(PasskeyError::Internal(e.to_string())))?;
    if !account.status.may_sign_in() {
        fail(deps, ctx, Some(&pseudonym), "account_not_active").await;
        return Err(SignInError::Failed);
    }
    match verified {
        Ok(outcome) => Ok((passkey, account, outcome)),
        Err(PasskeyError::CounterRegression) => {
            let event = Event::new(
                Actor::new(ActorKind::Anonymous, "-"),
                "passkey.counter_regression",
                Target::new("account", Some(pseudonym)),
                Outcome::Denied,
            )
            .reason("signature_counter_went_backwards")
            .within(ctx);
            record(deps, event).await;
            Err(SignInError::Failed)
        }
        Err(e) => {
            let reason = match e {
                PasskeyError::Expired => "expired",
                _ => "rejected",
            };
            fail(deps, ctx, Some(&pseudonym), reason).await;
            Err(SignInError::Failed)
        }
    }
}

/// A verified use of a passkey, to record with its new session.
#[derive(Clone)]
struct Used {
    passkey: PasskeyRow,
    outcome: passkeys::SignIn,
    session: SessionRow,
    actor: Actor,
    ctx: Context,
    now: i64,
}

/// Records the passkey use (compare and set on its signature counter
/// state) and starts the session, audited; a passkey removed, an account
/// suspended or a concurrent use since it was read fails the sign-in.
async fn record_use(tx: &mut Tx<'_>, used: Used) -> Result<(), SignInError> {
    let Used {
        passkey,
        outcome,
        session,
        actor,
        ctx,
        now,
    } = used;
    let target = Target::new("account", Some(actor.id.clone()));
    let dynamic = outcome.dynamic_state.unwrap_or_else(|| passkey.dynamic_state.clone());
    let still_usable = stored::account_by_id_tx(tx, &passkey.account_id)
        .await?
        .is_some_and(|a| a.status.may_sign_in());
    let updated = still_usable
        && stored::update_passkey_use(
            tx,
            &passkey.credential_id,
            &passkey.dynamic_state,
            &dynamic,
            outcome.backed_up,
            now,
        )
        .await?;
    if !updated {
        let event = Event::new(
            Actor::new(ActorKind::Anonymous, "-"),
            "session.signin",
            target,
            Outcome::Failure,
        )
        .reason("changed_concurrently")
        .within(&ctx);
        audit::record_attempt(tx, event).await?;
        return Err(SignInError::Failed);
    }
    stored::insert_session(tx, &session).await?;
    if outcome.backup_changed {
        let reason = if outcome.backed_up {
            "now_backed_up"
        } else {
            "no_longer_backed_up"
        };
        let event = Event::new(actor.clone(), "passkey.backup_state_changed", target, Outcome::Success)
            .reason(reason)
            .within(&ctx);
        audit::record(tx, event).await?;
    }
    let event = Event::new(
        actor,
        "session.start",
        Target::new("session", Some(session.session_id.clone())),
        Outcome::Success,
    )
    .within(&ctx);
    audit::record(tx, event).await?;
    Ok(())
}

/// Audits a refused sign-in with its real reason.
async fn fail(deps: &Deps, ctx: &Context, pseudonym: Option<&str>, reason: &'static str) {
    let event = Event::new(
        Actor::new(ActorKind::Anonymous, "-"),
        "session.signin",
        Target::new("account", pseudonym.map(str::to_owned)),
        Outcome::Failure,
    )
    .reason(reason)
    .within(ctx);
    record(deps, event).await;
}

async fn record(deps: &Deps, event: Event) {
    let result = deps
        .writer
        .write::<(), AuditError, _>(move |tx| Box::pin(audit::record(tx, event)))
        .await;
    if let Err(e) = result {
        tracing::error!(error = %e, "could not audit a refused sign-in");
    }
}

/// Ends one session of `account` (sign-out or revocation from the list).
pub async fn end_session(
    deps: &Deps,
    account: &AccountRow,
    session_id: &str,
    action: &'static str,
    ctx: &Context,
) -> Result<bool, SignInError> {
    let account_id = account.account_id.clone();
    let session_id = session_id.to_owned();
    let actor = Actor::new(
        if account.kind == AccountKind::Officer {
            ActorKind::Officer
        } else {
            ActorKind::Citizen
        },
        account.pseudonym.clone(),
    );
    let ctx = ctx.clone();
    deps.writer
        .write::<bool, SignInError, _>(move |tx| {
            Box::pin(async move {
                let ended = stored::delete_session(tx, &account_id, &session_id).await?;
                if ended {
                    let event = Event::new(
                        actor,
                        action,
                        Target::new("session", Some(session_id)),
                        Outcome::Success,
                    )
                    .within(&ctx);
                    audit::record(tx, event).await?;
                }
                Ok(ended)
            })
        })
        .await
}
