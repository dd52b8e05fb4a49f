//! Self-enrolment: a citizen enters NIK and name, then registers a passkey.
//! The account stays unverified until a counter officer checks the KTP.

use super::Deps;
use super::registration::{Pending, SealedPersonal, ceremony_row};
use super::{AccountId, AccountKind, NIK_INDEX, Nik, NikError, Pseudonym, UserHandle};
use crate::audit::{self, Actor, ActorKind, AuditError, Context, Event, Outcome, Target};
use crate::ids::RandomError;
use crate::passkeys::{self, PasskeyError};
use crate::store::StoreError;
use crate::store::identity as stored;

#[derive(Debug, thiserror::Error)]
pub enum EnrolError {
    #[error("{0}")]
    Nik(#[from] NikError),
    #[error("the name must be 1 to 100 characters without control characters")]
    Name,
    #[error("the unit must be 1 to 100 characters without control characters")]
    Unit,
    /// A counter recovery names the officer's unit; none is recorded.
    #[error("no unit is recorded for this officer")]
    UnitMissing,
    /// An officer-issued code used in a browser holding an officer's session.
    #[error("an officer's code must be used on the citizen's own device")]
    OfficerSession,
    /// Never says whose account holds the NIK.
    #[error("this NIK is already enrolled")]
    NikTaken,
    #[error("the enrolment expired or was already used; start again")]
    UnknownCeremony,
    /// One answer for a wrong NIK, a wrong code or a used code.
    #[error("recovery failed")]
    RecoveryFailed,
    #[error("the enrolment code is unknown, used or expired")]
    CodeInvalid,
    #[error("the account for this NIK is already verified")]
    AlreadyVerified,
    #[error("no account for this NIK")]
    NoAccount,
    /// An officer changing their own account from the console.
    #[error("an officer cannot suspend, recover or change the roles of their own account")]
    OwnAccount,
    /// The last active administrator would lose the role.
    #[error("the last active administrator keeps the administrator role")]
    LastAdministrator,
    #[error("{0}")]
    Invalid(&'static str),
    #[error("the verification code does not match")]
    VerificationFailed,
    #[error("too many attempts")]
    Limited(crate::ratelimit::Decision),
    #[error(transparent)]
    Passkey(#[from] PasskeyError),
    #[error(transparent)]
    Audit(#[from] AuditError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Vault(#[from] crate::vault::VaultError),
    #[error(transparent)]
    Random(#[from] RandomError),
}

/// A display name: trimmed, 1–100 characters, no control characters.
pub fn parse_name(input: &str) -> Result<String, EnrolError> {
    let name = input.trim();
    let ok =
        !name.is_empty() && name.chars().count() <= 100 && !name.chars().any(crate::vault::profile::is_unsafe_char);
    if ok { Ok(name.to_owned()) } else { Err(EnrolError::Name) }
}

/// An officer's unit (office): trimmed, 1–100 characters, no unsafe characters.
pub fn parse_unit(input: &str) -> Result<String, EnrolError> {
    let unit = input.trim();
    let ok =
        !unit.is_empty() && unit.chars().count() <= 100 && !unit.chars().any(crate::vault::profile::is_unsafe_char);
    if ok { Ok(unit.to_owned()) } else { Err(EnrolError::Unit) }
}

pub(crate) fn nik_index(key: &crate::keys::IndexKey, nik: &Nik) -> Vec<u8> {
    key.blind_index(NIK_INDEX, nik.digits().as_bytes()).to_vec()
}

/// Starts self-enrolment; returns the passkey creation options.
pub async fn start(deps: &Deps, nik: &str, name: &str, ctx: &Context) -> Result<serde_json::Value, EnrolError> {
    let nik = Nik::parse(nik)?;
    let name = parse_name(name)?;
    let index = nik_index(&deps.keys.index, &nik);
    let account_id = AccountId::generate()?;
    let pseudonym = Pseudonym::generate(AccountKind::Citizen)?;
    let handle = UserHandle::generate()?;
    let started = passkeys::start_registration(&deps.rp, &handle, pseudonym.as_str(), &name, &[])?;
    let pending = Pending::SelfEnrol {
        account_id: account_id.as_str().to_owned(),
        pseudonym: pseudonym.as_str().to_owned(),
        user_handle: hex::encode(handle.0),
        personal: SealedPersonal::seal(&deps.keys.vault, account_id.as_str(), &nik.digits(), &name)?,
    };
    let row = ceremony_row(&started, &pending)?;
    let ctx = ctx.clone();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    deps.writer
        .write(move |tx| {
            Box::pin(async move {
                stored::delete_expired_ceremonies(tx, now).await?;
                if stored::account_by_nik_index(tx, &index).await?.is_some() {
                    let event = Event::new(
                        Actor::new(ActorKind::Anonymous, "-"),
                        "account.enrol.self",
                        Target::new("account", None),
                        Outcome::Denied,
                    )
                    .reason("nik_taken")
                    .within(&ctx);
                    audit::record_attempt(tx, event).await?;
                    return Err(EnrolError::NikTaken);
                }
                stored::insert_ceremony(tx, &row).await?;
                Ok(())
            })
        })
        .await?;
    Ok(started.options)
}
