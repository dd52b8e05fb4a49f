//! An enrolment code from a counter officer or the command line: assisted
//! enrolment, counter recovery (which always ends the old passkeys and
//! sessions and goes to the review queue), or an officer's first passkey.

use super::{Pending, Registered, Verified, actor_of, emit, issue, passkey_row, passkey_taken, start_session};
use crate::account::{AccountKind, Status};
use crate::audit::{self, Actor, Context, Event, Outcome, Target};
use crate::identity::codes;
use crate::identity::enrol::EnrolError;
use crate::store::Tx;
use crate::store::identity::{self as stored, AccountRow, EnrolmentCodeRow, PasskeyRow, SessionRow};

/// Everything the redemption's unit of work needs, owned (it runs on the writer).
#[derive(Clone)]
struct Redemption {
    account_id: String,
    purpose: String,
    code_hash: Vec<u8>,
    /// Ends every old passkey and session.
    revoke_old: bool,
    /// Known from the ceremony to be an officer's recovery code.
    counter_recovery: bool,
    passkey: PasskeyRow,
    session: Option<SessionRow>,
    /// Recovery codes to store (hashes), if the person is given new ones.
    recovery_hashes: Option<Vec<Vec<u8>>>,
    actor: Actor,
    target: Target,
    ctx: Context,
    now: i64,
}

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
    let session = if sign_in {
        Some(issue(deps, &account_id, &new, user_agent, ctx, now)?)
    } else {
        None
    };
    // Recovery codes only for someone who will see them on their own
    // device (not a security key enrolled on the counter's computer) and
    // can use them (recovery asks for a NIK: not officers).
    let give_codes = sign_in && account.kind == AccountKind::Citizen;
    let (codes, hashes) = codes::recovery_set(&deps.keys.index, &account_id)?;
    let name = if sign_in {
        device
    } else {
        "Kunci keamanan / Security key".to_owned()
    };
    let redemption = Redemption {
        passkey: passkey_row(&account_id, &new, &name, now),
        session: session.as_ref().map(|s| s.row.clone()),
        recovery_hashes: give_codes.then_some(hashes),
        // A recovery always ends the old passkeys and sessions (codes
        // issued before this rule carried a choice).
        revoke_old: revoke_old || purpose == "recover",
        counter_recovery: by_officer && purpose == "recover",
        code_hash: hex::decode(&code_hash).unwrap_or_default(),
        actor: actor_of(&account),
        target: Target::new("account", Some(account.pseudonym.clone())),
        ctx: ctx.clone(),
        account_id,
        purpose,
        now,
    };
    deps.writer
        .write::<(), EnrolError, _>(move |tx| Box::pin(async move { redeem(tx, redemption).await }))
        .await?;
    Ok(Registered {
        pseudonym: account.pseudonym,
        verified: account.verified,
        recovery_codes: give_codes.then_some(codes),
        session,
    })
}

/// The unit of work: claim the code, take the NIK it carries, record a
/// counter recovery, end the old passkeys if asked, register the new one.
async fn redeem(tx: &mut Tx<'_>, r: Redemption) -> Result<(), EnrolError> {
    let claimed = claim(tx, &r).await?;
    // Whether an officer issued it is what the code row says (a ceremony
    // started before an upgrade may not know).
    let counter_recovery = r.counter_recovery || (claimed.purpose == "recover" && claimed.issued_by.is_some());
    if let Some(index) = &claimed.nik_index {
        take_nik(tx, &r, index).await?;
    }
    let reason = match r.purpose.as_str() {
        "recover" if counter_recovery => "counter_recovery",
        "recover" => "recover",
        _ => "enrol",
    };
    record(tx, &r, "enrolment_code.use", reason).await?;
    if counter_recovery && !stored::complete_counter_recovery(tx, &r.code_hash, r.now).await? {
        record_late_counter_recovery(tx, &r, &claimed).await?;
    }
    if r.revoke_old {
        stored::delete_sessions_of(tx, &r.account_id).await?;
        stored::delete_passkeys_of(tx, &r.account_id).await?;
        record(tx, &r, "passkey.revoke_all", reason).await?;
    }
    register(tx, &r, counter_recovery).await
}

/// Claims the code (single use) for a live account and voids its other codes.
async fn claim(tx: &mut Tx<'_>, r: &Redemption) -> Result<EnrolmentCodeRow, EnrolError> {
    let Some(claimed) = stored::claim_enrolment_code(tx, &r.code_hash, r.now).await? else {
        return Err(EnrolError::CodeInvalid);
    };
    let current = stored::account_by_id_tx(tx, &r.account_id).await?;
    if current.is_none_or(|a| a.status == Status::Suspended || a.status == Status::Erased) {
        return Err(EnrolError::CodeInvalid);
    }
    stored::void_enrolment_codes(tx, &r.account_id, r.now).await?;
    Ok(claimed)
}

/// The counter-verified enrolment takes the NIK now; an unverified
/// self-enrolled holder of the same NIK is suspended and flagged.
async fn take_nik(tx: &mut Tx<'_>, r: &Redemption, index: &[u8]) -> Result<(), EnrolError> {
    if let Some(holder) = stored::account_by_nik_index(tx, index).await? {
        if holder.verified {
            return Err(EnrolError::AlreadyVerified);
        }
        crate::identity::counter::suspend_squatter(tx, &r.actor, &holder, r.now, &r.ctx).await?;
    }
    stored::set_nik_index(tx, &r.account_id, index, r.now).await?;
    Ok(())
}

/// A counter recovery issued before they were recorded: recorded now, for
/// the citizen's notice and the review queue.
async fn record_late_counter_recovery(
    tx: &mut Tx<'_>,
    r: &Redemption,
    claimed: &EnrolmentCodeRow,
) -> Result<(), EnrolError> {
    let officer = claimed.issued_by.clone().unwrap_or_default();
    let unit = stored::account_by_id_tx(tx, &officer).await?.and_then(|o| o.unit);
    let row = stored::CounterRecoveryRow {
        code_hash: r.code_hash.clone(),
        account_id: r.account_id.clone(),
        officer_id: officer,
        officer_unit: unit,
        issued_at: claimed.created_at,
        completed_at: Some(r.now),
        reviewed_at: None,
    };
    stored::insert_counter_recovery(tx, &row).await?;
    record(tx, r, "review.flag", "counter_recovery").await
}

/// The new passkey, the account made active, new recovery codes and the
/// session, each audited.
async fn register(tx: &mut Tx<'_>, r: &Redemption, counter_recovery: bool) -> Result<(), EnrolError> {
    stored::insert_passkey(tx, &r.passkey).await.map_err(passkey_taken)?;
    stored::set_status(tx, &r.account_id, Status::Active, None, r.now).await?;
    if let Some(hashes) = &r.recovery_hashes {
        stored::replace_recovery_codes(tx, &r.account_id, hashes, r.now).await?;
    }
    let action = match r.purpose.as_str() {
        "recover" => "account.recover",
        "officer" => "account.enrol.officer",
        _ => "account.enrol.assisted",
    };
    let reason = if counter_recovery {
        "counter_recovery"
    } else {
        "enrolment_code"
    };
    record(tx, r, action, reason).await?;
    emit(tx, &r.actor, "passkey.register", r.target.clone(), &r.ctx).await?;
    if r.recovery_hashes.is_some() {
        emit(tx, &r.actor, "recovery.codes.issue", r.target.clone(), &r.ctx).await?;
    }
    if let Some(row) = &r.session {
        start_session(tx, &r.actor, row, &r.ctx).await?;
    }
    Ok(())
}

/// A successful step of the redemption, with its reason.
async fn record(tx: &mut Tx<'_>, r: &Redemption, action: &'static str, reason: &'static str) -> Result<(), EnrolError> {
    let event = Event::new(r.actor.clone(), action, r.target.clone(), Outcome::Success)
        .reason(reason)
        .within(&r.ctx);
    audit::record(tx, event).await?;
    Ok(())
}
