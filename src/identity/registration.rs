//! Finishing a passkey registration, whatever started it: self-enrolment,
//! adding a passkey, recovery with a recovery code, or an enrolment code
//! from a counter officer or the command line.

use super::codes;
use super::enrol::EnrolError;
pub(crate) use super::pending::{Pending, SealedPersonal, ceremony_row};
use super::{AccountId, NIK_INDEX, Nik, Pseudonym, Status};
use crate::app::AppState;
use crate::audit::{self, Actor, ActorKind, Context, Event, Outcome, Target};
use crate::passkeys::{self, NewPasskey, PasskeyError};
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
    let kind = if account.kind == "officer" {
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
    state: &AppState,
    body: &[u8],
    user_agent: &str,
    ctx: &Context,
    signed_in: Option<&AccountRow>,
    officer_present: Option<Actor>,
) -> Result<Registered, EnrolError> {
    let (registration, challenge) = passkeys::parse_registration(body)?;
    let challenge = challenge.to_vec();
    let audit_ctx = ctx.clone();
    let ceremony = state
        .writer
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
                        .within(&audit_ctx);
                        audit::record_attempt(tx, event).await?;
                        Err(EnrolError::UnknownCeremony)
                    }
                }
            })
        })
        .await?;
    let pending: Pending = serde_json::from_str(&ceremony.payload).map_err(|_| EnrolError::UnknownCeremony)?;
    let existing = match &pending {
        Pending::SelfEnrol { .. } => None,
        Pending::AddPasskey { account_id } | Pending::Recover { account_id, .. } | Pending::Code { account_id, .. } => {
            let account = stored::account_by_id(&state.db, account_id)
                .await?
                .ok_or(EnrolError::UnknownCeremony)?;
            Some(account)
        }
    };
    // Adding a passkey is finished only from the session that started it,
    // and that route finishes nothing else (no enrolment or recovery code
    // is redeemed through a signed-in session).
    match (&pending, signed_in) {
        (Pending::AddPasskey { account_id }, Some(who)) if &who.account_id == account_id => {}
        (Pending::AddPasskey { .. }, _) | (_, Some(_)) => return Err(EnrolError::UnknownCeremony),
        (_, None) => {}
    }
    if let (Pending::Code { by_officer: true, .. }, Some(account), Some(officer)) =
        (&pending, &existing, officer_present)
    {
        let account = account.clone();
        let ctx = ctx.clone();
        state
            .writer
            .write::<(), EnrolError, _>(move |tx| {
                Box::pin(async move {
                    super::counter::refuse_officer_session(tx, officer, &account, &ctx).await?;
                    Err(EnrolError::OfficerSession)
                })
            })
            .await?;
        return Err(EnrolError::OfficerSession);
    }
    let rp = state.rp.clone();
    let verified =
        tokio::task::spawn_blocking(move || passkeys::finish_registration(&rp, &registration, &ceremony.state))
            .await
            .map_err(|e| PasskeyError::Internal(e.to_string()))?;
    let target_pseudonym = match (&pending, &existing) {
        (Pending::SelfEnrol { pseudonym, .. }, _) => pseudonym.clone(),
        (_, Some(a)) => a.pseudonym.clone(),
        (_, None) => String::new(),
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
            let _ = state
                .writer
                .write::<(), audit::AuditError, _>(move |tx| Box::pin(audit::record(tx, event)))
                .await;
            return Err(e.into());
        }
    };
    let expected_handle = match (&pending, &existing) {
        (Pending::SelfEnrol { user_handle, .. }, _) => hex::decode(user_handle).unwrap_or_default(),
        (_, Some(a)) => a.user_handle.clone(),
        (_, None) => Vec::new(),
    };
    if new.user_handle.as_slice() != expected_handle.as_slice() {
        return Err(PasskeyError::Rejected("user handle differs from the ceremony".into()).into());
    }
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let device = sessions::device_name(user_agent);
    match pending {
        Pending::SelfEnrol {
            account_id,
            pseudonym,
            personal,
            ..
        } => {
            let (nik, name) = personal.open(&state.keys.vault, &account_id)?;
            let nik = Nik::parse(&nik)?;
            let index = state
                .keys
                .index
                .blind_index(NIK_INDEX, nik.digits().as_bytes())
                .to_vec();
            let account = AccountRow {
                account_id: account_id.clone(),
                kind: "citizen".into(),
                user_handle: new.user_handle.to_vec(),
                pseudonym: pseudonym.clone(),
                status: Status::Active.as_str().into(),
                verified: false,
                flag: None,
                // NIK and name go to the vault, sealed (see `personal`).
                display_name: String::new(),
                nik: None,
                nik_index: Some(index.clone()),
                unit: None,
                created_at: now,
                updated_at: now,
            };
            let session = issue(state, &account_id, &new, user_agent, ctx, now)?;
            let (codes, hashes) = codes::recovery_set(&state.keys.index, &account_id)?;
            let passkey = passkey_row(&account_id, &new, &device, now);
            let session_row = session.row.clone();
            let ctx = ctx.clone();
            let account_for_unit = account.clone();
            let keys = state.keys.clone();
            state
                .writer
                .write::<(), EnrolError, _>(move |tx| {
                    Box::pin(async move {
                        let actor = actor_of(&account_for_unit);
                        let target = Target::new("account", Some(pseudonym.clone()));
                        if stored::account_by_nik_index(tx, &index).await?.is_some() {
                            let event = Event::new(actor, "account.enrol.self", target, Outcome::Denied)
                                .reason("nik_taken")
                                .within(&ctx);
                            audit::record_attempt(tx, event).await?;
                            return Err(EnrolError::NikTaken);
                        }
                        stored::insert_account(tx, &account_for_unit)
                            .await
                            .map_err(|e| match e {
                                StoreError::Conflict => EnrolError::NikTaken,
                                other => other.into(),
                            })?;
                        super::personal::store_audited(
                            tx,
                            &keys.vault,
                            &account_id,
                            &account_for_unit.pseudonym,
                            Some(&nik),
                            &name,
                            now,
                            actor.clone(),
                        )
                        .await?;
                        stored::insert_passkey(tx, &passkey).await.map_err(passkey_taken)?;
                        stored::replace_recovery_codes(tx, &account_id, &hashes, now).await?;
                        start_session(tx, &actor, &session_row, &ctx).await?;
                        emit(tx, &actor, "account.enrol.self", target.clone(), &ctx).await?;
                        emit(tx, &actor, "passkey.register", target.clone(), &ctx).await?;
                        emit(tx, &actor, "recovery.codes.issue", target, &ctx).await?;
                        Ok(())
                    })
                })
                .await?;
            Ok(Registered {
                pseudonym: account.pseudonym,
                verified: false,
                recovery_codes: Some(codes),
                session: Some(session),
            })
        }
        Pending::AddPasskey { account_id } => {
            let account = existing.ok_or(EnrolError::UnknownCeremony)?;
            let passkey = passkey_row(&account_id, &new, &device, now);
            let ctx = ctx.clone();
            let actor = actor_of(&account);
            let target = Target::new("account", Some(account.pseudonym.clone()));
            state
                .writer
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
        Pending::Recover { account_id, code_hash } => {
            let account = existing.ok_or(EnrolError::UnknownCeremony)?;
            let session = issue(state, &account_id, &new, user_agent, ctx, now)?;
            let passkey = passkey_row(&account_id, &new, &device, now);
            let session_row = session.row.clone();
            let ctx = ctx.clone();
            let actor = actor_of(&account);
            let target = Target::new("account", Some(account.pseudonym.clone()));
            state
                .writer
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
        Pending::Code {
            account_id,
            purpose,
            revoke_old,
            sign_in,
            code_hash,
            by_officer,
        } => {
            let account = existing.ok_or(EnrolError::UnknownCeremony)?;
            // A recovery always ends the old passkeys and sessions (codes
            // issued before this rule carried a choice).
            let revoke_old = revoke_old || purpose == "recover";
            let counter_recovery = by_officer && purpose == "recover";
            let session = if sign_in {
                Some(issue(state, &account_id, &new, user_agent, ctx, now)?)
            } else {
                None
            };
            // Recovery codes only for someone who will see them on their own
            // device (not a security key enrolled on the counter's computer)
            // and can use them (recovery asks for a NIK: not officers).
            let give_codes = sign_in && account.kind == "citizen";
            let (codes, hashes) = codes::recovery_set(&state.keys.index, &account_id)?;
            let name = if sign_in {
                device.clone()
            } else {
                "Kunci keamanan / Security key".to_owned()
            };
            let passkey = passkey_row(&account_id, &new, &name, now);
            let session_row = session.as_ref().map(|s| s.row.clone());
            let ctx = ctx.clone();
            let actor = actor_of(&account);
            let target = Target::new("account", Some(account.pseudonym.clone()));
            state
                .writer
                .write::<(), EnrolError, _>(move |tx| {
                    Box::pin(async move {
                        let hash = hex::decode(&code_hash).unwrap_or_default();
                        let Some(claimed) = stored::claim_enrolment_code(tx, &hash, now).await? else {
                            return Err(EnrolError::CodeInvalid);
                        };
                        // Whether an officer issued it is what the code row says
                        // (a ceremony started before an upgrade may not know).
                        let counter_recovery =
                            counter_recovery || (claimed.purpose == "recover" && claimed.issued_by.is_some());
                        let current = stored::account_by_id_tx(tx, &account_id).await?;
                        if current.is_none_or(|a| a.status == "suspended" || a.status == "erased") {
                            return Err(EnrolError::CodeInvalid);
                        }
                        stored::void_enrolment_codes(tx, &account_id, now).await?;
                        if let Some(index) = &claimed.nik_index {
                            // The counter-verified enrolment takes the NIK now.
                            if let Some(holder) = stored::account_by_nik_index(tx, index).await? {
                                if holder.verified {
                                    return Err(EnrolError::AlreadyVerified);
                                }
                                super::counter::suspend_squatter(tx, &actor, &holder, now, &ctx).await?;
                            }
                            stored::set_nik_index(tx, &account_id, index, now).await?;
                        }
                        let reason = match purpose.as_str() {
                            "recover" if counter_recovery => "counter_recovery",
                            "recover" => "recover",
                            _ => "enrol",
                        };
                        let used = Event::new(actor.clone(), "enrolment_code.use", target.clone(), Outcome::Success)
                            .reason(reason)
                            .within(&ctx);
                        audit::record(tx, used).await?;
                        if counter_recovery && !stored::complete_counter_recovery(tx, &hash, now).await? {
                            // Issued before counter recoveries were recorded: record it
                            // now, for the citizen's notice and the review queue.
                            let officer = claimed.issued_by.clone().unwrap_or_default();
                            let unit = stored::account_by_id_tx(tx, &officer).await?.and_then(|o| o.unit);
                            stored::insert_counter_recovery(
                                tx,
                                &stored::CounterRecoveryRow {
                                    code_hash: hash.clone(),
                                    account_id: account_id.clone(),
                                    officer_id: officer,
                                    officer_unit: unit,
                                    issued_at: claimed.created_at,
                                    completed_at: Some(now),
                                    reviewed_at: None,
                                },
                            )
                            .await?;
                            let flagged = Event::new(actor.clone(), "review.flag", target.clone(), Outcome::Success)
                                .reason("counter_recovery")
                                .within(&ctx);
                            audit::record(tx, flagged).await?;
                        }
                        if revoke_old {
                            stored::delete_sessions_of(tx, &account_id).await?;
                            stored::delete_passkeys_of(tx, &account_id).await?;
                            let revoked =
                                Event::new(actor.clone(), "passkey.revoke_all", target.clone(), Outcome::Success)
                                    .reason(reason)
                                    .within(&ctx);
                            audit::record(tx, revoked).await?;
                        }
                        stored::insert_passkey(tx, &passkey).await.map_err(passkey_taken)?;
                        stored::set_status(tx, &account_id, Status::Active.as_str(), None, now).await?;
                        if give_codes {
                            stored::replace_recovery_codes(tx, &account_id, &hashes, now).await?;
                        }
                        let action = match purpose.as_str() {
                            "recover" => "account.recover",
                            "officer" => "account.enrol.officer",
                            _ => "account.enrol.assisted",
                        };
                        let event = Event::new(actor.clone(), action, target.clone(), Outcome::Success)
                            .reason(if counter_recovery {
                                "counter_recovery"
                            } else {
                                "enrolment_code"
                            })
                            .within(&ctx);
                        audit::record(tx, event).await?;
                        emit(tx, &actor, "passkey.register", target.clone(), &ctx).await?;
                        if give_codes {
                            emit(tx, &actor, "recovery.codes.issue", target, &ctx).await?;
                        }
                        if let Some(row) = &session_row {
                            start_session(tx, &actor, row, &ctx).await?;
                        }
                        Ok(())
                    })
                })
                .await?;
            Ok(Registered {
                pseudonym: account.pseudonym,
                verified: account.verified,
                recovery_codes: give_codes.then_some(codes),
                session,
            })
        }
    }
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
    state: &AppState,
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
        &state.config.sessions,
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
