//! A citizen's profile: the typed fields of [`crate::vault::profile`], each
//! sealed in the vault under the citizen's data key, with blind indexes for
//! exact lookups ([`index`]) and a reveal level per reader ([`Reader`]).
//!
//! Every read that decrypts and every write is audited (actor, citizen
//! pseudonym, field names, purpose, outcome), and a read returns plaintext
//! only after its audit event has committed.

pub mod erase;
pub mod find;
pub mod index;
mod read;
mod update;
mod view;

use axum::http::StatusCode;

use crate::audit::{Actor, ActorKind, AuditError};
use crate::store::StoreError;
use crate::store::identity::AccountRow;
use crate::vault::VaultError;
use crate::vault::profile::{FieldError, Reveal};

pub use read::{load, read};
pub use update::{ContactUpdate, IdentityUpdate, set_identity, update_contact};
pub use view::{AddressView, ProfileView};

/// Names of the sealed profile fields (also the names audit events carry).
pub mod fields {
    pub const NIK: &str = "profile.nik";
    pub const KK: &str = "profile.kk";
    pub const FULL_NAME: &str = "profile.full_name";
    pub const BIRTH_PLACE: &str = "profile.birth_place";
    pub const BIRTH_DATE: &str = "profile.birth_date";
    pub const GENDER: &str = "profile.gender";
    pub const ADDRESS: &str = "profile.address";
    pub const PHONE: &str = "profile.phone";
    pub const EMAIL: &str = "profile.email";

    pub const ALL: [&str; 9] = [
        NIK,
        KK,
        FULL_NAME,
        BIRTH_PLACE,
        BIRTH_DATE,
        GENDER,
        ADDRESS,
        PHONE,
        EMAIL,
    ];
}

/// What profile reads need: the database, the writer (for audit events) and the keys.
#[derive(Debug, Clone, Copy)]
pub struct Deps<'a> {
    pub db: &'a crate::store::Db,
    pub writer: &'a crate::store::Writer,
    pub keys: &'a crate::keys::KeyRing,
}

impl<'a> From<&'a crate::app::AppState> for Deps<'a> {
    fn from(state: &'a crate::app::AppState) -> Self {
        Self {
            db: &state.db,
            writer: &state.writer,
            keys: &state.keys,
        }
    }
}

/// Who is reading a profile. The reveal level follows from it (for now by
/// role; the consent and policy work will decide it by written policy).
#[derive(Debug, Clone)]
pub enum Reader {
    /// The citizen the profile belongs to.
    Owner { pseudonym: String },
    /// A counter officer (holder of a [`crate::identity::counter::CounterOfficer`] permit).
    CounterOfficer { pseudonym: String },
    /// Someone at the server's command line.
    Operator { name: String },
    /// Anyone else (another citizen, a module, an officer without the role).
    Other(Actor),
}

impl Reader {
    pub fn actor(&self) -> Actor {
        match self {
            Reader::Owner { pseudonym } => Actor::new(ActorKind::Citizen, pseudonym.clone()),
            Reader::CounterOfficer { pseudonym } => Actor::new(ActorKind::Officer, pseudonym.clone()),
            Reader::Operator { name } => Actor::new(ActorKind::Operator, name.clone()),
            Reader::Other(actor) => actor.clone(),
        }
    }

    /// How much of `citizen`'s profile this reader sees.
    pub fn reveal_for(&self, citizen: &AccountRow) -> Reveal {
        match self {
            Reader::Owner { pseudonym } if *pseudonym == citizen.pseudonym => Reveal::Plain,
            Reader::CounterOfficer { .. } | Reader::Operator { .. } => Reveal::Masked,
            _ => Reveal::Redacted,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    #[error("no such citizen")]
    NotFound,
    #[error(transparent)]
    Field(#[from] FieldError),
    #[error("the NIK is already registered to another account")]
    NikTaken,
    #[error("nothing to change")]
    Empty,
    #[error(transparent)]
    Vault(#[from] VaultError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Audit(#[from] AuditError),
}

impl ProfileError {
    pub fn status(&self) -> StatusCode {
        match self {
            ProfileError::NotFound => StatusCode::NOT_FOUND,
            ProfileError::Field(_) | ProfileError::Empty => StatusCode::BAD_REQUEST,
            ProfileError::NikTaken => StatusCode::CONFLICT,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// The decrypted profile, in memory only while it is being shown.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Profile {
    pub nik: Option<String>,
    pub kk: Option<String>,
    pub full_name: Option<String>,
    pub birth_place: Option<String>,
    /// `YYYY-MM-DD`
    pub birth_date: Option<String>,
    /// `laki-laki` or `perempuan`
    pub gender: Option<String>,
    pub address: Option<crate::vault::profile::Address>,
    /// `+62…`
    pub phone: Option<String>,
    pub email: Option<String>,
}

impl std::fmt::Debug for Profile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Profile(<redacted>)")
    }
}

impl Profile {
    /// Sets the field stored under `name` from its plaintext.
    fn set(&mut self, name: &str, value: String) {
        match name {
            fields::NIK => self.nik = Some(value),
            fields::KK => self.kk = Some(value),
            fields::FULL_NAME => self.full_name = Some(value),
            fields::BIRTH_PLACE => self.birth_place = Some(value),
            fields::BIRTH_DATE => self.birth_date = Some(value),
            fields::GENDER => self.gender = Some(value),
            fields::ADDRESS => self.address = serde_json::from_str(&value).ok(),
            fields::PHONE => self.phone = Some(value),
            fields::EMAIL => self.email = Some(value),
            _ => {}
        }
    }
}
