//! Self-enrolment: a citizen enters NIK and name, then registers a passkey.
//! The account stays unverified until a counter officer checks the KTP.

use serde::{Deserialize, Serialize};

use super::{AccountId, AccountKind, NIK_INDEX, Nik, NikError, Pseudonym, Status, UserHandle};
use crate::app::AppState;
use crate::audit::{self, Actor, ActorKind, AuditError, Context, Event, Outcome, Target};
use crate::ids::RandomError;
use crate::passkeys::{self, PasskeyError};
use crate::sessions::{self, Issued};
use crate::store::StoreError;
use crate::store::identity::{self as stored, AccountRow, CeremonyRow, PasskeyRow};

#[derive(Debug, thiserror::Error)]
pub enum EnrolError {
    #[error("{0}")]
    Nik(#[from] NikError),
    #[error("the name must be 1 to 100 characters without control characters")]
    Name,
    /// Never says whose account holds the NIK.
    #[error("this NIK is already enrolled")]
    NikTaken,
    #[error("the enrolment expired or was already used; start again")]
    UnknownCeremony,
    #[error(transparent)]
    Passkey(#[from] PasskeyError),
    #[error(transparent)]
    Audit(#[from] AuditError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Random(#[from] RandomError),
}

/// What the ceremony carries from start to finish.
#[derive(Debug, Serialize, Deserialize)]
struct Pending {
    account_id: String,
    pseudonym: String,
    user_handle: String,
    nik: String,
    name: String,
}

/// A display name: trimmed, 1–100 characters, no control characters.
pub fn parse_name(input: &str) -> Result<String, EnrolError> {
    let name = input.trim();
    let ok = !name.is_empty() && name.chars().count() <= 100 && !name.chars().any(char::is_control);
    if ok { Ok(name.to_owned()) } else { Err(EnrolError::Name) }
}

fn nik_index(state: &AppState, nik: &Nik) -> Vec<u8> {
    state
        .keys
        .index
        .blind_index(NIK_INDEX, nik.digits().as_bytes())
        .to_vec()
}

/// Starts self-enrolment; returns the passkey creation options.
pub async fn start(state: &AppState, nik: &str, name: &str, ctx: &Context) -> Result<serde_json::Value, EnrolError> {
    let nik = Nik::parse(nik)?;
    let name = parse_name(name)?;
    let index = nik_index(state, &nik);
    let account_id = AccountId::generate()?;
    let pseudonym = Pseudonym::generate(AccountKind::Citizen)?;
    let handle = UserHandle::generate()?;
    let started = passkeys::start_registration(&state.rp, &handle, pseudonym.as_str(), &name, &[])?;
    let pending = Pending {
        account_id: account_id.as_str().to_owned(),
        pseudonym: pseudonym.as_str().to_owned(),
        user_handle: hex::encode(handle.0),
        nik: nik.digits(),
        name,
    };
    let row = CeremonyRow {
        challenge: started.challenge.to_vec(),
        kind: "register".into(),
        account_id: None,
        state: started.state,
        payload: serde_json::to_string(&pending).map_err(|e| PasskeyError::Internal(e.to_string()))?,
        expires_at: started.expires_at,
    };
    let ctx = ctx.clone();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    state
        .writer
        .write(move |tx| {
            Box::pin(async move {
                stored::delete_expired_ceremonies(tx, now).await?;
                if stored::account_by_nik_index(tx, &index).await?.is_some() {
                    let event = Event::new(
                        Actor::new(ActorKind::Anonymous, "-"),
                        "account.enrol.self",
                        Target::new("account", None),
                        Outcome::Denied,
                    )
                    .reason("nik_taken")
                    .within(&ctx);
                    audit::record_attempt(tx, event).await?;
                    return Err(EnrolError::NikTaken);
                }
                stored::insert_ceremony(tx, &row).await?;
                Ok(())
            })
        })
        .await?;
    Ok(started.options)
}

/// Finishes self-enrolment: verifies the passkey, creates the account
/// (active, unverified), stores the passkey and signs the citizen in.
pub async fn finish(
    state: &AppState,
    body: &[u8],
    user_agent: &str,
    ctx: &Context,
) -> Result<(Pseudonym, Issued), EnrolError> {
    let (registration, challenge) = passkeys::parse_registration(body)?;
    let ceremony = take_ceremony(state, challenge.to_vec(), ctx).await?;
    let pending: Pending = serde_json::from_str(&ceremony.payload).map_err(|_| EnrolError::UnknownCeremony)?;
    let rp = state.rp.clone();
    let verified =
        tokio::task::spawn_blocking(move || passkeys::finish_registration(&rp, &registration, &ceremony.state))
            .await
            .map_err(|e| PasskeyError::Internal(e.to_string()))?;
    let new = match verified {
        Ok(new) => new,
        Err(e) => {
            record_failure(state, ctx, "passkey.register", &pending.pseudonym, &e).await;
            return Err(e.into());
        }
    };
    if hex::encode(new.user_handle) != pending.user_handle {
        return Err(PasskeyError::Rejected("user handle differs from the ceremony".into()).into());
    }
    let nik = Nik::parse(&pending.nik)?;
    let index = nik_index(state, &nik);
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let account = AccountRow {
        account_id: pending.account_id.clone(),
        kind: AccountKind::Citizen.as_str().into(),
        user_handle: new.user_handle.to_vec(),
        pseudonym: pending.pseudonym.clone(),
        status: Status::Active.as_str().into(),
        verified: false,
        flag: None,
        display_name: pending.name.clone(),
        nik: Some(nik.digits()),
        nik_index: Some(index.clone()),
        created_at: now,
        updated_at: now,
    };
    let passkey = PasskeyRow {
        credential_id: new.credential_id.clone(),
        account_id: pending.account_id.clone(),
        name: "Passkey".into(),
        static_state: new.static_state,
        dynamic_state: new.dynamic_state,
        transports: new.transports,
        backup_eligible: new.backup_eligible,
        backed_up: new.backed_up,
        created_at: now,
        last_used_at: None,
    };
    let issued = sessions::issue(
        &AccountId::from_stored(pending.account_id.clone()),
        Some(new.credential_id),
        user_agent,
        ctx.source.as_deref().unwrap_or(""),
        now,
        &state.config.sessions,
    )?;
    let session_row = issued.row.clone();
    let pseudonym = pending.pseudonym.clone();
    let ctx = ctx.clone();
    state
        .writer
        .write(move |tx| {
            Box::pin(async move {
                let actor = Actor::new(ActorKind::Citizen, pseudonym.clone());
                let target = Target::new("account", Some(pseudonym.clone()));
                if stored::account_by_nik_index(tx, &index).await?.is_some() {
                    let event = Event::new(actor, "account.enrol.self", target, Outcome::Denied)
                        .reason("nik_taken")
                        .within(&ctx);
                    audit::record_attempt(tx, event).await?;
                    return Err(EnrolError::NikTaken);
                }
                stored::insert_account(tx, &account).await.map_err(|e| match e {
                    StoreError::Conflict => EnrolError::NikTaken,
                    other => other.into(),
                })?;
                stored::insert_passkey(tx, &passkey).await?;
                stored::insert_session(tx, &session_row).await?;
                for (action, kind, id) in [
                    ("account.enrol.self", "account", pseudonym.clone()),
                    ("passkey.register", "account", pseudonym.clone()),
                    ("session.start", "session", session_row.session_id.clone()),
                ] {
                    let event =
                        Event::new(actor.clone(), action, Target::new(kind, Some(id)), Outcome::Success).within(&ctx);
                    audit::record(tx, event).await?;
                }
                Ok(())
            })
        })
        .await?;
    Ok((Pseudonym::from_stored(pending.pseudonym), issued))
}

/// Removes the ceremony for `challenge` (atomically: a replay finds nothing).
async fn take_ceremony(state: &AppState, challenge: Vec<u8>, ctx: &Context) -> Result<CeremonyRow, EnrolError> {
    let ctx = ctx.clone();
    state
        .writer
        .write(move |tx| {
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

async fn record_failure(state: &AppState, ctx: &Context, action: &'static str, pseudonym: &str, error: &PasskeyError) {
    let reason = match error {
        PasskeyError::Expired => "expired",
        PasskeyError::Malformed => "malformed",
        PasskeyError::CounterRegression => "counter_regression",
        _ => "rejected",
    };
    let event = Event::new(
        Actor::new(ActorKind::Anonymous, "-"),
        action,
        Target::new("account", Some(pseudonym.to_owned())),
        Outcome::Failure,
    )
    .reason(reason)
    .within(ctx);
    let result = state
        .writer
        .write::<(), AuditError, _>(move |tx| Box::pin(audit::record(tx, event)))
        .await;
    if let Err(e) = result {
        tracing::error!(error = %e, "could not audit a failed ceremony");
    }
}
