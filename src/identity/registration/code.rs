//! An enrolment code from a counter officer or the command line: assisted
//! enrolment, counter recovery (which always ends the old passkeys and
//! sessions and goes to the review queue), or an officer's first passkey.

use super::{Pending, Registered, Verified, actor_of, emit, issue, passkey_row, passkey_taken, start_session};
use crate::account::{AccountKind, Status};
use crate::audit::{self, Event, Outcome, Target};
use crate::identity::codes;
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
    let Pending::Code {
        account_id,
        purpose,
        revoke_old,
        sign_in,
        code_hash,
        by_officer,
    } = pending
    else {
        return Err(EnrolError::UnknownCeremony);
    };
    let account = existing.ok_or(EnrolError::UnknownCeremony)?;
    // A recovery always ends the old passkeys and sessions (codes
    // issued before this rule carried a choice).
    let revoke_old = revoke_old || purpose == "recover";
    let counter_recovery = by_officer && purpose == "recover";
    let session = if sign_in {
        Some(issue(deps, &account_id, &new, user_agent, ctx, now)?)
    } else {
        None
    };
    // Recovery codes only for someone who will see them on their own
    // device (not a security key enrolled on the counter's computer)
    // and can use them (recovery asks for a NIK: not officers).
    let give_codes = sign_in && account.kind == AccountKind::Citizen;
    let (codes, hashes) = codes::recovery_set(&deps.keys.index, &account_id)?;
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
    deps.writer
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
                if current.is_none_or(|a| a.status == Status::Suspended || a.status == Status::Erased) {
                    return Err(EnrolError::CodeInvalid);
                }
                stored::void_enrolment_codes(tx, &account_id, now).await?;
                if let Some(index) = &claimed.nik_index {
                    // The counter-verified enrolment takes the NIK now.
                    if let Some(holder) = stored::account_by_nik_index(tx, index).await? {
                        if holder.verified {
                            return Err(EnrolError::AlreadyVerified);
                        }
                        crate::identity::counter::suspend_squatter(tx, &actor, &holder, now, &ctx).await?;
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
                    let revoked = Event::new(actor.clone(), "passkey.revoke_all", target.clone(), Outcome::Success)
                        .reason(reason)
                        .within(&ctx);
                    audit::record(tx, revoked).await?;
                }
                stored::insert_passkey(tx, &passkey).await.map_err(passkey_taken)?;
                stored::set_status(tx, &account_id, Status::Active, None, now).await?;
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
