//! Self-enrolment: the account, its sealed NIK and name, the first passkey,
//! recovery codes and a session, in one unit.

use super::{Pending, Registered, Verified, actor_of, emit, issue, passkey_row, passkey_taken, start_session};
use crate::account::{AccountKind, NIK_INDEX, Nik, Status};
use crate::audit::{self, Event, Outcome, Target};
use crate::identity::codes;
use crate::identity::enrol::EnrolError;
use crate::store::StoreError;
use crate::store::identity::{self as stored, AccountRow};

pub(super) async fn complete(verified: Verified<'_>, pending: Pending) -> Result<Registered, EnrolError> {
    let Verified {
        deps,
        new,
        user_agent,
        ctx,
        now,
        device,
    } = verified;
    let Pending::SelfEnrol {
        account_id,
        pseudonym,
        personal,
        ..
    } = pending
    else {
        return Err(EnrolError::UnknownCeremony);
    };
    let (nik, name) = personal.open(&deps.keys.vault, &account_id)?;
    let nik = Nik::parse(&nik)?;
    let index = deps.keys.index.blind_index(NIK_INDEX, nik.digits().as_bytes()).to_vec();
    let account = AccountRow {
        account_id: account_id.clone(),
        kind: AccountKind::Citizen,
        user_handle: new.user_handle.to_vec(),
        pseudonym: pseudonym.clone(),
        status: Status::Active,
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
    let session = issue(deps, &account_id, &new, user_agent, ctx, now)?;
    let (codes, hashes) = codes::recovery_set(&deps.keys.index, &account_id)?;
    let passkey = passkey_row(&account_id, &new, &device, now);
    let session_row = session.row.clone();
    let ctx = ctx.clone();
    let account_for_unit = account.clone();
    let keys = deps.keys.clone();
    deps.writer
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
                crate::identity::personal::store_audited(
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
