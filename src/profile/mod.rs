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

use crate::audit::{Actor, ActorKind, AuditError};
use crate::identity::counter::CounterOfficer;
use crate::sessions::OwnData;
use crate::store::StoreError;
use crate::store::identity::AccountRow;
use crate::vault::VaultError;
use crate::vault::profile::{FieldError, Reveal};

pub use read::{load, own_name, read};
pub use update::{ContactUpdate, IdentityUpdate, set_identity, set_identity_in, update_contact};
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

/// What profile work needs: the database, the writer (audit events,
/// changes) and the keys (vault KEKs, blind index).
#[derive(Debug, Clone)]
pub struct Deps {
    pub db: crate::store::Db,
    pub writer: crate::store::Writer,
    pub keys: std::sync::Arc<crate::keys::KeyRing>,
}

/// Who is reading a profile; the reveal level follows from it. Built only
/// from a permit (the citizen's own-data permit, a counter officer's
/// permit) or for the command line; the consent and policy work will
/// decide levels by written policy.
#[derive(Debug, Clone)]
pub struct Reader(Who);

#[derive(Debug, Clone)]
enum Who {
    /// The citizen the profile belongs to.
    Owner(OwnData),
    /// A counter officer.
    CounterOfficer(CounterOfficer),
    /// Someone at the server's command line (who holds the key file).
    Operator(String),
    /// Anyone else (another citizen, a module, an officer without the role).
    Other(Actor),
}

impl Reader {
    pub fn owner(permit: &OwnData) -> Self {
        Self(Who::Owner(permit.clone()))
    }

    pub fn counter_officer(permit: &CounterOfficer) -> Self {
        Self(Who::CounterOfficer(permit.clone()))
    }

    pub fn operator(name: impl Into<String>) -> Self {
        Self(Who::Operator(name.into()))
    }

    pub fn other(actor: Actor) -> Self {
        Self(Who::Other(actor))
    }

    pub fn actor(&self) -> Actor {
        match &self.0 {
            Who::Owner(permit) => Actor::new(ActorKind::Citizen, permit.account().pseudonym.clone()),
            Who::CounterOfficer(permit) => permit.actor(),
            Who::Operator(name) => Actor::new(ActorKind::Operator, name.clone()),
            Who::Other(actor) => actor.clone(),
        }
    }

    /// How much of `citizen`'s profile this reader sees: plain for the
    /// citizen themself, masked for a counter officer or the operator,
    /// redacted for anyone else.
    pub fn reveal_for(&self, citizen: &AccountRow) -> Reveal {
        match &self.0 {
            Who::Owner(permit) if permit.account().account_id == citizen.account_id => Reveal::Plain,
            Who::CounterOfficer(_) | Who::Operator(_) => Reveal::Masked,
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
