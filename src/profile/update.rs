//! Changing a profile: the citizen edits contact fields; identity fields
//! change only through a counter officer who checked the documents.
//! Values are validated first (errors name the field), then sealed, indexed
//! and audited (field names only) in one unit of work.

use super::Deps;
use crate::account::{AccountKind, Status};
use serde::{Deserialize, Deserializer};

use super::{ProfileError, fields, index};
use crate::account::Nik;
use crate::audit::{self, Actor, Context, Event, Outcome, Target};
use crate::identity::counter::CounterOfficer;
use crate::sessions::OwnData;
use crate::store::identity::{self as identity_store, AccountRow};
use crate::store::{StoreError, Tx};
use crate::vault::citizen;
use crate::vault::profile::{Address, AddressInput, BirthDate, Email, FieldError, FullName, Gender, KkNumber, Phone};

/// Absent: unchanged; `null`: removed; a value: set.
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// Contact fields a citizen changes themselves.
#[derive(Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactUpdate {
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub phone: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub email: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<AddressInput>)]
    pub address: Option<Option<AddressInput>>,
}

/// Identity fields a counter officer sets after checking the KTP and KK.
#[derive(Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IdentityUpdate {
    pub nik: Option<String>,
    pub kk: Option<String>,
    pub full_name: Option<String>,
    pub birth_place: Option<String>,
    /// `YYYY-MM-DD`
    pub birth_date: Option<String>,
    /// `laki-laki` or `perempuan`
    pub gender: Option<String>,
}

impl std::fmt::Debug for ContactUpdate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ContactUpdate(<redacted>)")
    }
}

impl std::fmt::Debug for IdentityUpdate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IdentityUpdate(<redacted>)")
    }
}

/// One validated change: field name, new plaintext (None removes it), and
/// the blind-index domain it feeds, if any.
#[derive(Clone)]
struct Change {
    field: &'static str,
    value: Option<String>,
    index: Option<&'static str>,
}

fn birth_place(input: &str) -> Result<String, FieldError> {
    FullName::parse(input)
        .map(|n| n.as_str().to_owned())
        .map_err(|e| FieldError {
            field: "birth_place",
            reason: e.reason,
        })
}

impl ContactUpdate {
    fn validate(&self) -> Result<Vec<Change>, FieldError> {
        let mut out = Vec::new();
        if let Some(phone) = &self.phone {
            let value = phone.as_deref().map(Phone::parse).transpose()?;
            out.push(Change {
                field: fields::PHONE,
                value: value.map(|p| p.as_str().to_owned()),
                index: Some(index::PHONE),
            });
        }
        if let Some(email) = &self.email {
            let value = email.as_deref().map(Email::parse).transpose()?;
            out.push(Change {
                field: fields::EMAIL,
                value: value.map(|e| e.as_str().to_owned()),
                index: Some(index::EMAIL),
            });
        }
        if let Some(address) = &self.address {
            let value = address.as_ref().map(Address::parse).transpose()?;
            let json = value
                .map(|a| serde_json::to_string(&a))
                .transpose()
                .map_err(|_| FieldError {
                    field: "address",
                    reason: "could not be stored".into(),
                })?;
            out.push(Change {
                field: fields::ADDRESS,
                value: json,
                index: None,
            });
        }
        Ok(out)
    }
}

impl IdentityUpdate {
    fn validate(&self) -> Result<(Vec<Change>, Option<Nik>), FieldError> {
        let mut out = Vec::new();
        let nik = self
            .nik
            .as_deref()
            .map(|n| {
                Nik::parse(n).map_err(|e| FieldError {
                    field: "nik",
                    reason: e.to_string(),
                })
            })
            .transpose()?;
        if let Some(nik) = &nik {
            out.push(Change {
                field: fields::NIK,
                value: Some(nik.digits()),
                index: None,
            });
        }
        let mut set = |field, value: Option<String>, index| {
            if let Some(value) = value {
                out.push(Change {
                    field,
                    value: Some(value),
                    index,
                });
            }
        };
        set(
            fields::KK,
            self.kk
                .as_deref()
                .map(KkNumber::parse)
                .transpose()?
                .map(|k| k.as_str().to_owned()),
            Some(index::KK),
        );
        set(
            fields::FULL_NAME,
            self.full_name
                .as_deref()
                .map(FullName::parse)
                .transpose()?
                .map(|n| n.as_str().to_owned()),
            None,
        );
        set(
            fields::BIRTH_PLACE,
            self.birth_place.as_deref().map(birth_place).transpose()?,
            None,
        );
        set(
            fields::BIRTH_DATE,
            self.birth_date
                .as_deref()
                .map(BirthDate::parse)
                .transpose()?
                .map(|d| d.date().to_string()),
            None,
        );
        set(
            fields::GENDER,
            self.gender
                .as_deref()
                .map(Gender::parse)
                .transpose()?
                .map(|g| g.as_str().to_owned()),
            None,
        );
        Ok((out, nik))
    }
}

/// Seals, indexes and removes as `changes` say; returns the names of the
/// fields whose value actually changed.
async fn apply(
    tx: &mut Tx<'_>,
    deps: &Deps,
    account_id: &str,
    changes: Vec<Change>,
    now: i64,
) -> Result<Vec<&'static str>, ProfileError> {
    let mut changed = Vec::new();
    for change in changes {
        // The current value, read inside the unit (under the account lock):
        // compared here, never returned.
        let current = citizen::read(tx, &deps.keys.vault, account_id, change.field)
            .await?
            .map(|v| String::from_utf8_lossy(&v).into_owned());
        if current == change.value {
            continue;
        }
        match &change.value {
            Some(value) => {
                citizen::write(tx, &deps.keys.vault, account_id, change.field, value.as_bytes(), now).await?
            }
            None => citizen::remove(tx, account_id, change.field).await?,
        }
        if let Some(domain) = change.index {
            index::set(tx, &deps.keys.index, account_id, domain, change.value.as_deref()).await?;
        }
        changed.push(change.field);
    }
    Ok(changed)
}

/// The citizen changes their own phone, email or address.
pub async fn update_contact(
    deps: &Deps,
    owner: &OwnData,
    update: &ContactUpdate,
    ctx: &Context,
) -> Result<Vec<&'static str>, ProfileError> {
    let owner = owner.account();
    let changes = update.validate()?;
    if changes.is_empty() {
        return Err(ProfileError::Empty);
    }
    let actor = Actor::new(crate::audit::ActorKind::Citizen, owner.pseudonym.clone());
    write(deps, owner.clone(), changes, None, actor, "profile.update", None, ctx).await
}

/// A counter officer sets identity fields after checking the documents.
/// A new NIK must not belong to another live account.
pub async fn set_identity(
    deps: &Deps,
    officer: &CounterOfficer,
    citizen: &AccountRow,
    update: &IdentityUpdate,
    ctx: &Context,
) -> Result<Vec<&'static str>, ProfileError> {
    if citizen.kind != AccountKind::Citizen || citizen.status == Status::Erased {
        return Err(ProfileError::NotFound);
    }
    let (changes, nik) = update.validate()?;
    if changes.is_empty() {
        return Err(ProfileError::Empty);
    }
    let nik_index = nik.map(|n| crate::identity::enrol::nik_index(&deps.keys.index, &n));
    write(
        deps,
        citizen.clone(),
        changes,
        nik_index,
        officer.actor(),
        "profile.identity_change",
        Some("documents_checked"),
        ctx,
    )
    .await
}

#[expect(
    clippy::too_many_arguments,
    reason = "one private step shared by the two public entry points"
)]
async fn write(
    deps: &Deps,
    citizen: AccountRow,
    changes: Vec<Change>,
    nik_index: Option<Vec<u8>>,
    actor: Actor,
    action: &'static str,
    reason: Option<&'static str>,
    ctx: &Context,
) -> Result<Vec<&'static str>, ProfileError> {
    let deps2 = deps.clone();
    let ctx = ctx.clone();
    deps.writer
        .write::<Vec<&'static str>, ProfileError, _>(move |tx| {
            Box::pin(async move {
                let step = Step {
                    citizen: &citizen,
                    nik_index: nik_index.as_deref(),
                    actor,
                    action,
                    reason,
                };
                write_in(tx, &deps2, step, changes, &ctx).await
            })
        })
        .await
}

/// Who changes whose profile, and how it is audited.
struct Step<'a> {
    citizen: &'a AccountRow,
    nik_index: Option<&'a [u8]>,
    actor: Actor,
    action: &'static str,
    reason: Option<&'static str>,
}

/// The changes inside a unit of work: the account locked and checked
/// live, a new NIK checked free, the values sealed and the event recorded.
async fn write_in(
    tx: &mut Tx<'_>,
    deps: &Deps,
    step: Step<'_>,
    changes: Vec<Change>,
    ctx: &Context,
) -> Result<Vec<&'static str>, ProfileError> {
    let Step {
        citizen,
        nik_index,
        actor,
        action,
        reason,
    } = step;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    // Erased (or no longer a citizen) since the request began: a write
    // must not bring a data key back.
    let live = identity_store::lock_account(tx, &citizen.account_id).await?;
    if live.is_none_or(|a| a.kind != AccountKind::Citizen || a.status == Status::Erased) {
        return Err(ProfileError::NotFound);
    }
    if let Some(index) = nik_index {
        let taken = identity_store::account_by_nik_index(tx, index)
            .await?
            .is_some_and(|holder| holder.account_id != citizen.account_id);
        let set = if taken {
            Err(StoreError::Conflict)
        } else {
            identity_store::set_nik_index(tx, &citizen.account_id, index, now).await
        };
        if let Err(e) = set {
            if !matches!(e, StoreError::Conflict) {
                return Err(e.into());
            }
            let denied = Event::new(
                actor,
                action,
                Target::new("citizen", Some(citizen.pseudonym.clone())).with_fields([fields::NIK]),
                Outcome::Denied,
            )
            .reason("nik_taken")
            .within(ctx);
            audit::record_attempt(tx, denied).await?;
            return Err(ProfileError::NikTaken);
        }
    }
    let changed = apply(tx, deps, &citizen.account_id, changes, now).await?;
    let mut event = Event::new(
        actor,
        action,
        Target::new("citizen", Some(citizen.pseudonym.clone())).with_fields(changed.iter().copied()),
        Outcome::Success,
    )
    .within(ctx);
    if let Some(reason) = reason {
        event = event.reason(reason);
    }
    audit::record(tx, event).await?;
    Ok(changed)
}

/// An identity change inside the caller's unit of work (an approved
/// correction request), by `actor` for `reason`: validated, then as
/// [`set_identity`] does it.
pub async fn set_identity_in(
    tx: &mut Tx<'_>,
    deps: &Deps,
    actor: Actor,
    citizen: &AccountRow,
    update: &IdentityUpdate,
    reason: &'static str,
    ctx: &Context,
) -> Result<Vec<&'static str>, ProfileError> {
    let (changes, nik) = update.validate()?;
    let nik_index = nik.map(|n| crate::identity::enrol::nik_index(&deps.keys.index, &n));
    let step = Step {
        citizen,
        nik_index: nik_index.as_deref(),
        actor,
        action: "profile.identity_change",
        reason: Some(reason),
    };
    write_in(tx, deps, step, changes, ctx).await
}

impl IdentityUpdate {
    /// Whether the values are valid (the error names the field).
    pub fn check(&self) -> Result<(), FieldError> {
        self.validate().map(|_| ())
    }
}
