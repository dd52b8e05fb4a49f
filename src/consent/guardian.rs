//! Children and guardians (UU PDP Art. 25): a citizen under 18 by the
//! NIK's birth date cannot grant consent alone (refusing and withdrawing
//! stay theirs); a counter officer links a guardian to the child after
//! checking the family card (KK); the guardian then decides for the child
//! from their own portal, recorded with method `guardian`. At 18 the link
//! lapses by itself, and a consent a guardian gave is shown to the citizen
//! to confirm or withdraw.

use serde::Serialize;

use super::{ConsentError, ConsentView, Decision, Deps, record, view};
use crate::account::{AccountKind, Nik, Status};
use crate::audit::{self, Context, Event, Outcome, Target};
use crate::sessions::OwnData;
use crate::store::consent as consent_store;
use crate::store::guardians as stored;
use crate::store::identity::{self as identity_store, AccountRow};
use crate::store::vault as vault_store;
use crate::vault::citizen;

/// One of the citizen's profile fields, opened (for the checks here; the
/// callers' events say what was checked).
async fn opened(deps: &Deps, account: &AccountRow, field: &str) -> Result<Option<String>, ConsentError> {
    let rows = vault_store::read_fields(&deps.db, &account.account_id, field).await?;
    let Some(row) = rows.into_iter().find(|r| r.field == field) else {
        return Ok(None);
    };
    let keys = vault_store::read_keys(&deps.db, &[account.account_id.as_str()]).await?;
    let mut opener = citizen::Opener::new(&deps.keys.vault, keys);
    let text = opener
        .open_text(&account.account_id, &row.field, row.record_version, &row.sealed)
        .map_err(|_| ConsentError::Undecryptable)?;
    Ok(Some(text))
}

/// Whether the citizen is under 18 today (Asia/Jakarta), by the birth
/// date their NIK carries. `None` when no NIK is on record.
pub async fn is_minor(deps: &Deps, account: &AccountRow) -> Result<Option<bool>, ConsentError> {
    let Some(text) = opened(deps, account, "profile.nik").await? else {
        return Ok(None);
    };
    let today = time::OffsetDateTime::now_utc()
        .to_offset(time::macros::offset!(+7))
        .date();
    Ok(Nik::parse_on(&text, today).ok().map(|nik| nik.is_minor_on(today)))
}

/// A ward as their guardian sees them.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Ward {
    pub citizen: String,
    /// The purposes the guardian may decide for the ward, with the
    /// decision in force.
    pub consents: Vec<ConsentView>,
}

async fn ward_account(deps: &Deps, guardian: &OwnData, ward: &str) -> Result<AccountRow, ConsentError> {
    let account = identity_store::account_by_pseudonym(&deps.db, ward)
        .await?
        .filter(|a| a.kind == AccountKind::Citizen && a.status != Status::Erased)
        .ok_or(ConsentError::NoWard)?;
    if !stored::is_guardian(&deps.db, &guardian.account().account_id, &account.account_id).await? {
        return Err(ConsentError::NoWard);
    }
    if is_minor(deps, &account).await? != Some(true) {
        // At 18 the link lapses: the citizen decides alone.
        return Err(ConsentError::LinkLapsed);
    }
    Ok(account)
}

/// The guardian's wards (still under 18), with their consents.
pub async fn wards(deps: &Deps, guardian: &OwnData) -> Result<Vec<Ward>, ConsentError> {
    let mut out = Vec::new();
    for child_id in stored::wards(&deps.db, &guardian.account().account_id).await? {
        let Some(account) = identity_store::account_by_id(&deps.db, &child_id).await? else {
            continue;
        };
        if account.status == Status::Erased || is_minor(deps, &account).await? != Some(true) {
            continue;
        }
        let history = consent_store::history(&deps.db, &child_id).await?;
        let policies = deps.policies.current();
        let consents = policies
            .catalog
            .purposes()
            .filter(|p| p.withdrawable)
            .map(|p| view(p, history.iter().rev().find(|r| r.purpose_id == p.id)))
            .collect();
        out.push(Ward {
            citizen: account.pseudonym,
            consents,
        });
    }
    Ok(out)
}

/// The guardian records a decision for their ward.
pub async fn decide_for(
    deps: &Deps,
    guardian: &OwnData,
    ward: &str,
    purpose: &str,
    decision: Decision,
    ctx: &Context,
) -> Result<ConsentView, ConsentError> {
    let account = ward_account(deps, guardian, ward).await?;
    record(deps, &account, guardian.account(), "guardian", purpose, decision, ctx).await
}

/// A counter officer links the guardian to the child, both found by NIK,
/// after checking the family card (KK): both must have the same KK on
/// record, the child must be under 18 and the guardian not. Every attempt
/// is audited; a link names the child and the guardian in two events.
pub async fn link(
    deps: &Deps,
    profiles: &crate::profile::Deps,
    officer: &crate::identity::counter::CounterOfficer,
    child_nik: &Nik,
    guardian_nik: &Nik,
    ctx: &Context,
) -> Result<(), ConsentError> {
    let event = |target: Option<&AccountRow>, outcome: Outcome, reason: &str| {
        Event::new(
            officer.actor(),
            "guardian.link",
            Target::new("citizen", target.map(|a| a.pseudonym.clone())),
            outcome,
        )
        .reason(reason)
        .within(ctx)
    };
    let child = crate::profile::find::account_by_nik(profiles, child_nik).await;
    let guardian = crate::profile::find::account_by_nik(profiles, guardian_nik).await;
    let (Ok(Some(child)), Ok(Some(guardian))) = (child, guardian) else {
        write(deps, vec![event(None, Outcome::Denied, "no_citizen")]).await?;
        return Err(ConsentError::NoCitizen);
    };
    let refused = if child.account_id == guardian.account_id || is_minor(deps, &child).await? != Some(true) {
        Some(ConsentError::NotAChild)
    } else if is_minor(deps, &guardian).await? != Some(false) {
        Some(ConsentError::GuardianNotAdult)
    } else {
        let kk = opened(deps, &child, "profile.kk").await?;
        (kk.is_none() || kk != opened(deps, &guardian, "profile.kk").await?).then_some(ConsentError::KkMismatch)
    };
    if let Some(refused) = refused {
        let reason = match refused {
            ConsentError::NotAChild => "not_a_child",
            ConsentError::GuardianNotAdult => "guardian_not_adult",
            _ => "kk_mismatch",
        };
        write(deps, vec![event(Some(&child), Outcome::Denied, reason)]).await?;
        return Err(refused);
    }
    let events = vec![
        event(Some(&child), Outcome::Success, "kk_checked"),
        event(Some(&guardian), Outcome::Success, "kk_checked"),
    ];
    let (child_id, guardian_id, officer_id) = (
        child.account_id.clone(),
        guardian.account_id.clone(),
        officer.account_id().to_owned(),
    );
    deps.writer
        .write::<(), ConsentError, _>(move |tx| {
            let (child_id, guardian_id, officer_id, events) = (
                child_id.clone(),
                guardian_id.clone(),
                officer_id.clone(),
                events.clone(),
            );
            Box::pin(async move {
                let now = time::OffsetDateTime::now_utc().unix_timestamp();
                stored::link(tx, &child_id, &guardian_id, &officer_id, now).await?;
                for e in events {
                    audit::record(tx, e).await?;
                }
                Ok(())
            })
        })
        .await
}

async fn write(deps: &Deps, events: Vec<Event>) -> Result<(), ConsentError> {
    deps.writer
        .write::<(), ConsentError, _>(move |tx| {
            let events = events.clone();
            Box::pin(async move {
                for e in events {
                    audit::record(tx, e).await?;
                }
                Ok(())
            })
        })
        .await
}

/// Consents a guardian gave for a citizen who is now 18 or older: shown
/// to them to confirm (grant) or withdraw.
pub async fn to_confirm(deps: &Deps, owner: &OwnData) -> Result<Vec<String>, ConsentError> {
    if is_minor(deps, owner.account()).await? != Some(false) {
        return Ok(Vec::new());
    }
    let history = consent_store::history(&deps.db, &owner.account().account_id).await?;
    let mut purposes: Vec<String> = Vec::new();
    for row in &history {
        let newest = history.iter().rev().find(|r| r.purpose_id == row.purpose_id);
        if newest.is_some_and(|n| n.seq == row.seq && n.method == "guardian" && n.decision == "grant")
            && !purposes.contains(&row.purpose_id)
        {
            purposes.push(row.purpose_id.clone());
        }
    }
    Ok(purposes)
}

/// Whether a grant by `owner` alone must be refused: they are a minor,
/// or their age cannot be told (fail closed).
pub async fn grant_needs_guardian(deps: &Deps, owner: &AccountRow, decision: Decision) -> Result<bool, ConsentError> {
    Ok(decision == Decision::Grant && is_minor(deps, owner).await? != Some(false))
}
