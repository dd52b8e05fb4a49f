//! Finishing a passkey registration, whatever started it: self-enrolment,
//! adding a passkey, recovery with a recovery code, or an enrolment code
//! from a counter officer or the command line (one file each).

mod add;
mod code;
mod recover;
mod self_enrol;

use super::Deps;
use super::enrol::EnrolError;
pub(crate) use super::pending::{Pending, SealedPersonal, ceremony_row};
use super::{AccountId, AccountKind, Pseudonym};
use crate::audit::{self, Actor, ActorKind, Context, Event, Outcome, Target};
use crate::passkeys::{self, NewPasskey, PasskeyError};
use crate::sessions::Recent;
use crate::sessions::{self, Issued};
use crate::store::identity::{self as stored, AccountRow, CeremonyRow, PasskeyRow, SessionRow};
use crate::store::{StoreError, Tx};

/// The outcome shown to the person who registered.
#[derive(Debug)]
pub struct Registered {
    pub pseudonym: String,
    pub verified: bool,
    /// New recovery codes, shown once.
    pub recovery_codes: Option<Vec<String>>,
    pub session: Option<Issued>,
}

fn actor_of(account: &AccountRow) -> Actor {
    let kind = if account.kind == AccountKind::Officer {
        ActorKind::Officer
    } else {
        ActorKind::Citizen
    };
    Actor::new(kind, account.pseudonym.clone())
}

async fn emit(
    tx: &mut Tx<'_>,
    actor: &Actor,
    action: &'static str,
    target: Target,
    ctx: &Context,
) -> Result<(), EnrolError> {
    audit::record(
        tx,
        Event::new(actor.clone(), action, target, Outcome::Success).within(ctx),
    )
    .await?;
    Ok(())
}

/// Finishes any registration ceremony. `signed_in` is the account of the
/// session that asked to add a passkey, if any; `officer_present` the
/// officer whose session the browser holds, if any (an officer-issued code
/// is refused there).
pub async fn finish(
    deps: &Deps,
    body: &[u8],
    user_agent: &str,
    ctx: &Context,
    signed_in: Option<&Recent>,
    officer_present: Option<Actor>,
) -> Result<Registered, EnrolError> {
    let (registration, challenge) = passkeys::parse_registration(body)?;
    let ceremony = take_ceremony(deps, challenge.to_vec(), ctx).await?;
    let pending: Pending = serde_json::from_str(&ceremony.payload).map_err(|_| EnrolError::UnknownCeremony)?;
    let existing = match &pending {
        Pending::SelfEnrol { .. } => None,
        Pending::AddPasskey { account_id } | Pending::Recover { account_id, .. } | Pending::Code { account_id, .. } => {
            let account = stored::account_by_id(&deps.db, account_id)
                .await?
                .ok_or(EnrolError::UnknownCeremony)?;
            Some(account)
        }
    };
    // Adding a passkey is finished only from the session that started it,
    // and that route finishes nothing else (no enrolment or recovery code
    // is redeemed through a signed-in session).
    match (&pending, signed_in.map(Recent::account)) {
        (Pending::AddPasskey { account_id }, Some(who)) if &who.account_id == account_id => {}
        (Pending::AddPasskey { .. }, _) | (_, Some(_)) => return Err(EnrolError::UnknownCeremony),
        (_, None) => {}
    }
    if let (Pending::Code { by_officer: true, .. }, Some(account), Some(officer)) =
        (&pending, &existing, officer_present)
    {
        return refuse_officer_session(deps, officer, account.clone(), ctx).await;
    }
    let new = verify(deps, registration, ceremony, &pending, existing.as_ref(), ctx).await?;
    let verified = Verified {
        deps,
        new,
        user_agent,
        ctx,
        now: time::OffsetDateTime::now_utc().unix_timestamp(),
        device: sessions::device_name(user_agent),
    };
    match pending {
        Pending::SelfEnrol { .. } => self_enrol::complete(verified, pending).await,
        Pending::AddPasskey { .. } => add::complete(verified, existing, pending).await,
        Pending::Recover { .. } => recover::complete(verified, existing, pending).await,
        Pending::Code { .. } => code::complete(verified, existing, pending).await,
    }
}

/// Takes the registration ceremony of `challenge` (single use); an unknown
/// one is audited and refused.
async fn take_ceremony(deps: &Deps, challenge: Vec<u8>, ctx: &Context) -> Result<CeremonyRow, EnrolError> {
    let ctx = ctx.clone();
    deps.writer
        .write::<CeremonyRow, EnrolError, _>(move |tx| {
            Box::pin(async move {
                match stored::take_ceremony(tx, &challenge).await? {
                    Some(c) if c.kind == "register" => Ok(c),
                    _ => {
                        let event = Event::new(
                            Actor::new(ActorKind::Anonymous, "-"),
                            "passkey.register",
                            Target::new("ceremony", None),
                            Outcome::Failure,
                        )
                        .reason("unknown_ceremony")
                        .within(&ctx);
                        audit::record_attempt(tx, event).await?;
                        Err(EnrolError::UnknownCeremony)
                    }
                }
            })
        })
        .await
}

/// An officer-issued code redeemed in a browser holding an officer's
/// session: audited with the officer as actor, then refused.
async fn refuse_officer_session(
    deps: &Deps,
    officer: Actor,
    account: AccountRow,
    ctx: &Context,
) -> Result<Registered, EnrolError> {
    let ctx = ctx.clone();
    deps.writer
        .write::<(), EnrolError, _>(move |tx| {
            Box::pin(async move {
                super::counter::refuse_officer_session(tx, officer, &account, &ctx).await?;
                Err(EnrolError::OfficerSession)
            })
        })
        .await?;
    Err(EnrolError::OfficerSession)
}

/// Verifies the browser's response against the ceremony (off the async
/// threads) and checks the user handle the ceremony was started with; a
/// rejected response is audited.
async fn verify(
    deps: &Deps,
    registration: passkeys::Registration,
    ceremony: CeremonyRow,
    pending: &Pending,
    existing: Option<&AccountRow>,
    ctx: &Context,
) -> Result<NewPasskey, EnrolError> {
    let rp = deps.rp.clone();
    let verified =
        tokio::task::spawn_blocking(move || passkeys::finish_registration(&rp, &registration, &ceremony.state))
            .await
            .map_err(|e| PasskeyError::Internal(e.to_string()))?;
    let (target_pseudonym, expected_handle) = match (pending, existing) {
        (
            Pending::SelfEnrol {
                pseudonym, user_handle, ..
            },
            _,
        ) => (pseudonym.clone(), hex::decode(user_handle).unwrap_or_default()),
        (_, Some(a)) => (a.pseudonym.clone(), a.user_handle.clone()),
        (_, None) => (String::new(), Vec::new()),
    };
    let new = match verified {
        Ok(new) => new,
        Err(e) => {
            let reason = if matches!(e, PasskeyError::Expired) {
                "expired"
            } else {
                "rejected"
            };
            let event = Event::new(
                Actor::new(ActorKind::Anonymous, "-"),
                "passkey.register",
                Target::new("account", Some(target_pseudonym)),
                Outcome::Failure,
            )
            .reason(reason)
            .within(ctx);
            let _ = deps
                .writer
                .write::<(), audit::AuditError, _>(move |tx| Box::pin(audit::record(tx, event)))
                .await;
            return Err(e.into());
        }
    };
    if new.user_handle.as_slice() != expected_handle.as_slice() {
        return Err(PasskeyError::Rejected("user handle differs from the ceremony".into()).into());
    }
    Ok(new)
}

/// A new passkey, verified against its ceremony, with what finishing it needs.
struct Verified<'a> {
    deps: &'a Deps,
    new: NewPasskey,
    user_agent: &'a str,
    ctx: &'a Context,
    now: i64,
    /// A readable name of the device, from its user agent.
    device: String,
}

/// A credential id that is already registered (to anyone) is refused.
fn passkey_taken(e: StoreError) -> EnrolError {
    match e {
        StoreError::Conflict => PasskeyError::Rejected("credential id already registered".into()).into(),
        other => other.into(),
    }
}

fn passkey_row(account_id: &str, new: &NewPasskey, name: &str, now: i64) -> PasskeyRow {
    PasskeyRow {
        credential_id: new.credential_id.clone(),
        account_id: account_id.to_owned(),
        name: name.to_owned(),
        static_state: new.static_state.clone(),
        dynamic_state: new.dynamic_state.clone(),
        transports: new.transports,
        backup_eligible: new.backup_eligible,
        backed_up: new.backed_up,
        created_at: now,
        last_used_at: None,
    }
}

fn issue(
    deps: &Deps,
    account_id: &str,
    new: &NewPasskey,
    user_agent: &str,
    ctx: &Context,
    now: i64,
) -> Result<Issued, EnrolError> {
    Ok(sessions::issue(
        &AccountId::from_stored(account_id.to_owned()),
        Some(new.credential_id.clone()),
        user_agent,
        ctx.source.as_deref().unwrap_or(""),
        now,
        &deps.sessions,
    )?)
}

async fn start_session(tx: &mut Tx<'_>, actor: &Actor, row: &SessionRow, ctx: &Context) -> Result<(), EnrolError> {
    stored::insert_session(tx, row).await?;
    emit(
        tx,
        actor,
        "session.start",
        Target::new("session", Some(row.session_id.clone())),
        ctx,
    )
    .await
}

/// The pseudonym type for callers that need it.
pub fn pseudonym(r: &Registered) -> Pseudonym {
    Pseudonym::from_stored(r.pseudonym.clone())
}
