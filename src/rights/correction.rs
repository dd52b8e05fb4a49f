//! Correction requests (UU PDP Art. 6 and 30): a citizen asks for an
//! identity field to be corrected; a counter officer, after checking the
//! documents, approves it (the profile changes in the same unit of work)
//! or refuses it with a reason, within 3 x 24 hours of the request. Both
//! sides see the deadline. The proposed value and the reason are sealed
//! under the citizen's data key; every step is audited.

use serde::{Deserialize, Serialize};

use crate::audit::{self, Actor, ActorKind, Context, Event, Outcome, Target};
use crate::identity::counter::CounterOfficer;
use crate::ids;
use crate::profile::{Deps, IdentityUpdate, ProfileError, fields};
use crate::sessions::OwnData;
use crate::store::corrections::{self as stored, CorrectionRow};
use crate::store::identity as identity_store;
use crate::store::{StoreError, vault as vault_store};
use crate::vault::profile::FieldError;
use crate::vault::{VaultError, citizen};

/// The time to decide (UU PDP Art. 30(2)): 3 x 24 hours.
pub const DEADLINE_SECONDS: i64 = 3 * 24 * 3600;
/// The purpose the counter's work on a request is audited under.
pub const COUNTER_PURPOSE: &str = "loket.bantuan";
/// A reason is at most this many characters.
pub const REASON_MAX: usize = 500;

/// The identity fields a citizen cannot change themselves (contact fields
/// they change on "Data saya").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CorrectableField {
    Nik,
    Kk,
    FullName,
    BirthPlace,
    BirthDate,
    Gender,
}

impl CorrectableField {
    pub const ALL: [Self; 6] = [
        Self::Nik,
        Self::Kk,
        Self::FullName,
        Self::BirthPlace,
        Self::BirthDate,
        Self::Gender,
    ];

    /// The profile field's stored name (`profile.full_name`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Nik => fields::NIK,
            Self::Kk => fields::KK,
            Self::FullName => fields::FULL_NAME,
            Self::BirthPlace => fields::BIRTH_PLACE,
            Self::BirthDate => fields::BIRTH_DATE,
            Self::Gender => fields::GENDER,
        }
    }

    fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.name() == name)
    }

    fn update(self, value: &str) -> IdentityUpdate {
        let value = Some(value.to_owned());
        let mut u = IdentityUpdate::default();
        match self {
            Self::Nik => u.nik = value,
            Self::Kk => u.kk = value,
            Self::FullName => u.full_name = value,
            Self::BirthPlace => u.birth_place = value,
            Self::BirthDate => u.birth_date = value,
            Self::Gender => u.gender = value,
        }
        u
    }
}

/// A request as its citizen (and the deciding officer) sees it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Correction {
    pub id: String,
    pub field: CorrectableField,
    /// The value asked for.
    pub value: String,
    /// `open`, `approved` or `refused`
    pub state: String,
    /// Unix seconds.
    pub requested_at: i64,
    /// The decision is due by then (Unix seconds): 72 hours after the request.
    pub due_at: i64,
    pub decided_at: Option<i64>,
    /// The officer's reason, when they gave one.
    pub reason: Option<String>,
}

/// An open request in the counter's queue: no values.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Queued {
    pub id: String,
    /// The citizen's pseudonym.
    pub citizen: String,
    pub field: CorrectableField,
    pub requested_at: i64,
    pub due_at: i64,
    /// The deadline has passed.
    pub overdue: bool,
}

/// An officer's decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Approve,
    Refuse,
}

#[derive(Debug, thiserror::Error)]
pub enum CorrectionError {
    #[error(transparent)]
    Invalid(#[from] FieldError),
    #[error("a request for this field is already open")]
    AlreadyOpen,
    #[error("no such request")]
    NotFound,
    #[error("the request was already decided")]
    Decided,
    #[error("a refusal needs a reason")]
    ReasonRequired,
    #[error("the reason is too long")]
    ReasonTooLong,
    #[error("the reason holds a control or invisible formatting character")]
    ReasonUnsafe,
    #[error(transparent)]
    Profile(#[from] ProfileError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Vault(#[from] VaultError),
    #[error(transparent)]
    Audit(#[from] audit::AuditError),
    #[error(transparent)]
    Random(#[from] ids::RandomError),
}

fn value_name(id: &str) -> String {
    format!("correction/{id}/value")
}

fn reason_name(id: &str) -> String {
    format!("correction/{id}/reason")
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// Whether `t` is past `due_at`.
pub fn overdue(due_at: i64, t: i64) -> bool {
    t > due_at
}

/// The citizen asks for `field` to become `value` (validated now as the
/// counter would). One open request per field.
pub async fn request(
    deps: &Deps,
    owner: &OwnData,
    field: CorrectableField,
    value: &str,
    ctx: &Context,
) -> Result<Correction, CorrectionError> {
    field.update(value).check()?;
    let account = owner.account().clone();
    let id = format!("cr_{}", ids::base32(&ids::bytes::<10>()?));
    let requested_at = now();
    let due_at = requested_at + DEADLINE_SECONDS;
    let event = Event::new(
        Actor::new(ActorKind::Citizen, account.pseudonym.clone()),
        "correction.request",
        Target::new("citizen", Some(account.pseudonym.clone())).with_fields([field.name()]),
        Outcome::Success,
    )
    .purpose("own_data")
    .within(ctx);
    let (deps2, id2, text) = (deps.clone(), id.clone(), value.to_owned());
    deps.writer
        .write::<(), CorrectionError, _>(move |tx| {
            Box::pin(async move {
                let live = identity_store::lock_account(tx, &account.account_id).await?;
                if live.is_none_or(|a| a.status == crate::account::Status::Erased) {
                    return Err(CorrectionError::Profile(ProfileError::NotFound));
                }
                let (dek, version) =
                    citizen::data_key(tx, &deps2.keys.vault, &account.account_id, requested_at).await?;
                let sealed = citizen::seal_with(
                    &dek,
                    version,
                    &account.account_id,
                    &value_name(&id2),
                    1,
                    text.as_bytes(),
                )?;
                let row = CorrectionRow {
                    request_id: id2,
                    account_id: account.account_id.clone(),
                    field: field.name().to_owned(),
                    proposed: sealed,
                    requested_at,
                    due_at,
                    state: "open".into(),
                    decided_at: None,
                    decided_by: None,
                    reason: None,
                };
                match stored::insert(tx, &row).await {
                    Err(StoreError::Conflict) => return Err(CorrectionError::AlreadyOpen),
                    other => other?,
                }
                audit::record(tx, event).await?;
                Ok(())
            })
        })
        .await?;
    Ok(Correction {
        id,
        field,
        value: value.to_owned(),
        state: "open".into(),
        requested_at,
        due_at,
        decided_at: None,
        reason: None,
    })
}

/// Opens the sealed parts of `rows` (all of one citizen).
fn opened(
    deps: &Deps,
    keys: Vec<crate::store::vault::CitizenKeyRow>,
    rows: Vec<CorrectionRow>,
) -> Result<Vec<Correction>, CorrectionError> {
    let mut opener = citizen::Opener::new(&deps.keys.vault, keys);
    rows.into_iter()
        .filter_map(|row| CorrectableField::from_name(&row.field).map(|f| (f, row)))
        .map(|(field, row)| {
            let value = opener.open_text(&row.account_id, &value_name(&row.request_id), 1, &row.proposed)?;
            let reason = row
                .reason
                .as_deref()
                .map(|r| opener.open_text(&row.account_id, &reason_name(&row.request_id), 1, r))
                .transpose()?;
            Ok(Correction {
                id: row.request_id,
                field,
                value,
                state: row.state,
                requested_at: row.requested_at,
                due_at: row.due_at,
                decided_at: row.decided_at,
                reason,
            })
        })
        .collect()
}

/// The citizen's own requests, newest first, opened for them; the read
/// is audited (when there is anything to open) before it is returned.
pub async fn own(deps: &Deps, owner: &OwnData, ctx: &Context) -> Result<Vec<Correction>, CorrectionError> {
    let account = owner.account();
    let rows = stored::of_account(&deps.db, &account.account_id, 50).await?;
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let keys = vault_store::read_keys(&deps.db, &[account.account_id.as_str()]).await?;
    let out = opened(deps, keys, rows)?;
    let mut names: Vec<&str> = out.iter().map(|c| c.field.name()).collect();
    names.sort_unstable();
    names.dedup();
    let event = Event::new(
        Actor::new(ActorKind::Citizen, account.pseudonym.clone()),
        "correction.read",
        Target::new("citizen", Some(account.pseudonym.clone())).with_fields(names),
        Outcome::Success,
    )
    .purpose("own_data")
    .within(ctx);
    record(deps, event).await?;
    Ok(out)
}

async fn record(deps: &Deps, event: Event) -> Result<(), CorrectionError> {
    deps.writer
        .write::<(), CorrectionError, _>(move |tx| Box::pin(async move { Ok(audit::record(tx, event).await?) }))
        .await
}

/// The counter's queue: open requests, the nearest deadline first.
pub async fn queue(deps: &Deps) -> Result<Vec<Queued>, CorrectionError> {
    let t = now();
    Ok(stored::queue(&deps.db, 200)
        .await?
        .into_iter()
        .filter_map(|row| {
            CorrectableField::from_name(&row.field).map(|field| Queued {
                id: row.request_id,
                citizen: row.pseudonym,
                field,
                requested_at: row.requested_at,
                due_at: row.due_at,
                overdue: overdue(row.due_at, t),
            })
        })
        .collect())
}

/// One request, opened for the deciding counter officer (audited under
/// the counter's purpose before it is returned). The citizen's pseudonym
/// comes with it.
pub async fn open(
    deps: &Deps,
    officer: &CounterOfficer,
    id: &str,
    ctx: &Context,
) -> Result<(String, Correction), CorrectionError> {
    let row = stored::get(&deps.db, id).await?.ok_or(CorrectionError::NotFound)?;
    let account = identity_store::account_by_id(&deps.db, &row.account_id)
        .await?
        .ok_or(CorrectionError::NotFound)?;
    let keys = vault_store::read_keys(&deps.db, &[row.account_id.as_str()]).await?;
    let field = row.field.clone();
    let correction = opened(deps, keys, vec![row])?
        .into_iter()
        .next()
        .ok_or(CorrectionError::NotFound)?;
    let event = Event::new(
        officer.actor(),
        "correction.open",
        Target::new("citizen", Some(account.pseudonym.clone())).with_fields([field]),
        Outcome::Success,
    )
    .purpose(COUNTER_PURPOSE)
    .within(ctx);
    record(deps, event).await?;
    Ok((account.pseudonym, correction))
}

/// The trimmed reason, checked: required to refuse, at most [`REASON_MAX`].
fn checked_reason(decision: Decision, reason: Option<&str>) -> Result<Option<String>, CorrectionError> {
    let reason = reason.map(str::trim).filter(|r| !r.is_empty());
    match reason {
        None if decision == Decision::Refuse => Err(CorrectionError::ReasonRequired),
        Some(r) if r.chars().count() > REASON_MAX => Err(CorrectionError::ReasonTooLong),
        Some(r) if r.chars().any(|c| c != '\n' && crate::vault::profile::is_unsafe_char(c)) => {
            Err(CorrectionError::ReasonUnsafe)
        }
        other => Ok(other.map(str::to_owned)),
    }
}

/// A counter officer decides: approving applies the value to the profile
/// and closes the request in one unit of work (audited as an identity
/// change and as the decision); refusing closes it with the reason.
pub async fn decide(
    deps: &Deps,
    officer: &CounterOfficer,
    id: &str,
    decision: Decision,
    reason: Option<&str>,
    ctx: &Context,
) -> Result<Correction, CorrectionError> {
    let reason = checked_reason(decision, reason)?;
    let row = stored::get(&deps.db, id).await?.ok_or(CorrectionError::NotFound)?;
    if row.state != "open" {
        return Err(CorrectionError::Decided);
    }
    let field = CorrectableField::from_name(&row.field).ok_or(CorrectionError::NotFound)?;
    let citizen = identity_store::account_by_id(&deps.db, &row.account_id)
        .await?
        .ok_or(CorrectionError::NotFound)?;
    let (state, action) = match decision {
        Decision::Approve => ("approved", "correction.approve"),
        Decision::Refuse => ("refused", "correction.refuse"),
    };
    let event = Event::new(
        officer.actor(),
        action,
        Target::new("citizen", Some(citizen.pseudonym.clone())).with_fields([field.name()]),
        Outcome::Success,
    )
    .purpose(COUNTER_PURPOSE)
    .within(ctx);
    let (deps2, id2, officer2, ctx2) = (deps.clone(), id.to_owned(), officer.clone(), ctx.clone());
    let reason2 = reason.clone();
    let decided_at = now();
    let value = deps
        .writer
        .write::<String, CorrectionError, _>(move |tx| {
            Box::pin(async move {
                let row = stored::get_tx(tx, &id2).await?.ok_or(CorrectionError::NotFound)?;
                if row.state != "open" {
                    return Err(CorrectionError::Decided);
                }
                let key = vault_store::key_of(tx, &row.account_id)
                    .await?
                    .ok_or(VaultError::Undecryptable(crate::vault::Undecryptable))?;
                let (dek, version) = citizen::unwrap_row(&key, &deps2.keys.vault)?;
                let value = citizen::open_with(&dek, &row.account_id, &value_name(&id2), 1, &row.proposed)
                    .map_err(VaultError::from)?;
                let value = String::from_utf8(value.to_vec())
                    .map_err(|_| VaultError::Undecryptable(crate::vault::Undecryptable))?;
                if decision == Decision::Approve {
                    crate::profile::set_identity_in(
                        tx,
                        &deps2,
                        officer2.actor(),
                        &citizen,
                        &field.update(&value),
                        "correction_request",
                        &ctx2,
                    )
                    .await?;
                }
                let sealed = reason2
                    .as_deref()
                    .map(|r| citizen::seal_with(&dek, version, &row.account_id, &reason_name(&id2), 1, r.as_bytes()))
                    .transpose()?;
                if !stored::decide(tx, &id2, state, officer2.account_id(), sealed.as_deref(), decided_at).await? {
                    return Err(CorrectionError::Decided);
                }
                audit::record(tx, event).await?;
                Ok(value)
            })
        })
        .await?;
    Ok(Correction {
        id: row.request_id,
        field,
        value,
        state: state.into(),
        requested_at: row.requested_at,
        due_at: row.due_at,
        decided_at: Some(decided_at),
        reason,
    })
}
