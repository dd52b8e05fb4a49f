//! Changing a profile: the citizen edits contact fields; identity fields
//! change only through a counter officer who checked the documents.
//! Values are validated first (errors name the field), then sealed, indexed
//! and audited (field names only) in one unit of work.

use serde::{Deserialize, Deserializer};

use super::{Profile, ProfileError, fields, index, load};
use crate::app::AppState;
use crate::audit::{self, Actor, Context, Event, Outcome, Target};
use crate::identity::Nik;
use crate::identity::counter::CounterOfficer;
use crate::store::Tx;
use crate::store::identity::{self as identity_store, AccountRow};
use crate::vault::citizen;
use crate::vault::profile::{Address, AddressInput, BirthDate, Email, FieldError, FullName, Gender, KkNumber, Phone};

/// Absent: unchanged; `null`: removed; a value: set.
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// Contact fields a citizen changes themselves.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
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
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
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

/// One validated change: field name, new plaintext (None removes it), and
/// the blind-index domain it feeds, if any.
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

/// The current plaintext of a field, from a loaded profile.
fn current(profile: &Profile, field: &str) -> Option<String> {
    match field {
        fields::NIK => profile.nik.clone(),
        fields::KK => profile.kk.clone(),
        fields::FULL_NAME => profile.full_name.clone(),
        fields::BIRTH_PLACE => profile.birth_place.clone(),
        fields::BIRTH_DATE => profile.birth_date.clone(),
        fields::GENDER => profile.gender.clone(),
        fields::ADDRESS => profile.address.as_ref().and_then(|a| serde_json::to_string(a).ok()),
        fields::PHONE => profile.phone.clone(),
        fields::EMAIL => profile.email.clone(),
        _ => None,
    }
}

/// Seals, indexes and removes as `changes` say; returns the names of the
/// fields whose value actually changed.
async fn apply(
    tx: &mut Tx<'_>,
    state: &AppState,
    account_id: &str,
    before: &Profile,
    changes: Vec<Change>,
    now: i64,
) -> Result<Vec<&'static str>, ProfileError> {
    let mut changed = Vec::new();
    for change in changes {
        if current(before, change.field) == change.value {
            continue;
        }
        match &change.value {
            Some(value) => {
                citizen::write(tx, &state.keys.vault, account_id, change.field, value.as_bytes(), now).await?
            }
            None => citizen::remove(tx, account_id, change.field).await?,
        }
        if let Some(domain) = change.index {
            index::set(tx, &state.keys.index, account_id, domain, change.value.as_deref()).await?;
        }
        changed.push(change.field);
    }
    Ok(changed)
}

/// The citizen changes their own phone, email or address.
pub async fn update_contact(
    state: &AppState,
    owner: &AccountRow,
    update: &ContactUpdate,
    ctx: &Context,
) -> Result<Vec<&'static str>, ProfileError> {
    let changes = update.validate()?;
    if changes.is_empty() {
        return Err(ProfileError::Empty);
    }
    let actor = Actor::new(crate::audit::ActorKind::Citizen, owner.pseudonym.clone());
    write(state, owner.clone(), changes, None, actor, "profile.update", None, ctx).await
}

/// A counter officer sets identity fields after checking the documents.
/// A new NIK must not belong to another live account.
pub async fn set_identity(
    state: &AppState,
    officer: &CounterOfficer,
    citizen: &AccountRow,
    update: &IdentityUpdate,
    ctx: &Context,
) -> Result<Vec<&'static str>, ProfileError> {
    if citizen.kind != "citizen" || citizen.status == "erased" {
        return Err(ProfileError::NotFound);
    }
    let (changes, nik) = update.validate()?;
    if changes.is_empty() {
        return Err(ProfileError::Empty);
    }
    let nik_index = nik.map(|n| crate::identity::enrol::nik_index(state, &n));
    write(
        state,
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
    state: &AppState,
    citizen: AccountRow,
    changes: Vec<Change>,
    nik_index: Option<Vec<u8>>,
    actor: Actor,
    action: &'static str,
    reason: Option<&'static str>,
    ctx: &Context,
) -> Result<Vec<&'static str>, ProfileError> {
    let (before, _) = load(&state.db, &state.keys.vault, &citizen.account_id).await?;
    let state2 = state.clone();
    let ctx = ctx.clone();
    state
        .writer
        .write::<Vec<&'static str>, ProfileError, _>(move |tx| {
            Box::pin(async move {
                let now = time::OffsetDateTime::now_utc().unix_timestamp();
                identity_store::lock_account(tx, &citizen.account_id).await?;
                if let Some(index) = &nik_index {
                    if let Some(holder) = identity_store::account_by_nik_index(tx, index).await?
                        && holder.account_id != citizen.account_id
                    {
                        return Err(ProfileError::NikTaken);
                    }
                    identity_store::set_nik_index(tx, &citizen.account_id, index, now).await?;
                }
                let changed = apply(tx, &state2, &citizen.account_id, &before, changes, now).await?;
                let mut event = Event::new(
                    actor,
                    action,
                    Target::new("citizen", Some(citizen.pseudonym.clone())).with_fields(changed.iter().copied()),
                    Outcome::Success,
                )
                .within(&ctx);
                if let Some(reason) = reason {
                    event = event.reason(reason);
                }
                audit::record(tx, event).await?;
                Ok(changed)
            })
        })
        .await
}
