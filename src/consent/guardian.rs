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

/// Whether the citizen is under 18 today (Asia/Jakarta), by the birth
/// date their NIK carries. `None` when no NIK is on record.
pub async fn is_minor(deps: &Deps, account: &AccountRow) -> Result<Option<bool>, ConsentError> {
    let rows = vault_store::read_fields(&deps.db, &account.account_id, "profile.nik").await?;
    let Some(row) = rows.into_iter().find(|r| r.field == "profile.nik") else {
        return Ok(None);
    };
    let keys = vault_store::read_keys(&deps.db, &[account.account_id.as_str()]).await?;
    let mut opener = citizen::Opener::new(&deps.keys.vault, keys);
    let text = opener
        .open_text(&account.account_id, &row.field, row.record_version, &row.sealed)
        .map_err(|_| ConsentError::Undecryptable)?;
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

/// A counter officer links `guardian` to `child` after checking the family
/// card (KK) that lists both. The child must be under 18.
pub async fn link(
    deps: &Deps,
    officer: &crate::identity::counter::CounterOfficer,
    child: &AccountRow,
    guardian: &AccountRow,
    ctx: &Context,
) -> Result<(), ConsentError> {
    if child.account_id == guardian.account_id || is_minor(deps, child).await? != Some(true) {
        return Err(ConsentError::NotAChild);
    }
    if is_minor(deps, guardian).await? != Some(false) {
        return Err(ConsentError::GuardianNotAdult);
    }
    let (child, guardian, officer_id) = (child.clone(), guardian.clone(), officer.account_id().to_owned());
    let event = Event::new(
        officer.actor(),
        "guardian.link",
        Target::new("citizen", Some(child.pseudonym.clone())),
        Outcome::Success,
    )
    .reason("kk_checked")
    .within(ctx);
    deps.writer
        .write::<(), ConsentError, _>(move |tx| {
            let (child, guardian, officer_id, event) =
                (child.clone(), guardian.clone(), officer_id.clone(), event.clone());
            Box::pin(async move {
                let now = time::OffsetDateTime::now_utc().unix_timestamp();
                stored::link(tx, &child.account_id, &guardian.account_id, &officer_id, now).await?;
                audit::record(tx, event).await?;
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

/// Whether a grant by `owner` alone must be refused: they are a minor.
pub async fn grant_needs_guardian(deps: &Deps, owner: &AccountRow, decision: Decision) -> Result<bool, ConsentError> {
    Ok(decision == Decision::Grant && is_minor(deps, owner).await? == Some(true))
}
