//! The one interface to an account's personal data (NIK and name): sealed
//! in the vault under the account's data key, never in `account` columns.

use crate::audit::{self, Actor, Event, Outcome, Target};
use crate::keys::KeyRing;
use crate::store::identity as stored;
use crate::store::{Db, Tx, Writer};
use crate::vault::{KeyProvider, VaultError, citizen};

use super::Nik;

pub const NIK_FIELD: &str = "profile.nik";
pub const NAME_FIELD: &str = "profile.full_name";

/// Seals the NIK (citizens) and name of an account.
pub async fn store(
    tx: &mut Tx<'_>,
    keks: &dyn KeyProvider,
    account_id: &str,
    nik: Option<&Nik>,
    name: &str,
    now: i64,
) -> Result<(), VaultError> {
    if let Some(nik) = nik {
        citizen::write(tx, keks, account_id, NIK_FIELD, nik.digits().as_bytes(), now).await?;
    }
    citizen::write(tx, keks, account_id, NAME_FIELD, name.as_bytes(), now).await
}

/// [`store`], with the `profile.write` audit event (field names only) in
/// the same unit of work.
#[expect(clippy::too_many_arguments, reason = "the write and its audit context together")]
pub async fn store_audited(
    tx: &mut Tx<'_>,
    keks: &dyn KeyProvider,
    account_id: &str,
    pseudonym: &str,
    nik: Option<&Nik>,
    name: &str,
    now: i64,
    actor: Actor,
) -> Result<(), VaultError> {
    store(tx, keks, account_id, nik, name, now).await?;
    let fields: &[&str] = if nik.is_some() {
        &[NIK_FIELD, NAME_FIELD]
    } else {
        &[NAME_FIELD]
    };
    let target = Target::new("account", Some(pseudonym.to_owned())).with_fields(fields.iter().copied());
    let event = Event::new(actor, "profile.write", target, Outcome::Success).reason("enrolment");
    audit::record(tx, event).await.map_err(VaultError::from)
}

/// The name shown by the passkey dialog, its decryption audited (the
/// account's own registration: system actor, purpose
/// `passkey.registration`); `None` if unavailable.
pub async fn display_name_audited(
    tx: &mut Tx<'_>,
    keks: &dyn KeyProvider,
    account_id: &str,
    pseudonym: &str,
) -> Option<String> {
    let name = display_name(tx, keks, account_id).await?;
    let target = Target::new("account", Some(pseudonym.to_owned())).with_fields([NAME_FIELD]);
    let event = Event::new(Actor::system(), "profile.read", target, Outcome::Success).purpose("passkey.registration");
    audit::record(tx, event).await.ok()?;
    Some(name)
}

/// The name shown by the passkey dialog; `None` if unavailable.
pub async fn display_name(tx: &mut Tx<'_>, keks: &dyn KeyProvider, account_id: &str) -> Option<String> {
    match citizen::read(tx, keks, account_id, NAME_FIELD).await {
        Ok(Some(bytes)) => String::from_utf8(bytes.to_vec()).ok(),
        _ => None,
    }
}

/// Moves personal data left in plaintext columns (by versions before the
/// vault) into the vault, then clears the columns. Returns how many
/// accounts were moved. Audited as a system action per account.
pub async fn migrate_plaintext(db: &Db, writer: &Writer, keys: &std::sync::Arc<KeyRing>) -> Result<usize, VaultError> {
    let accounts = stored::accounts_with_plaintext(db).await?;
    let count = accounts.len();
    for account in accounts {
        let keys = keys.clone();
        writer
            .write::<(), VaultError, _>(move |tx| {
                Box::pin(async move {
                    let now = time::OffsetDateTime::now_utc().unix_timestamp();
                    let nik = account.nik.as_deref().and_then(|n| Nik::parse(n).ok());
                    store(
                        tx,
                        &keys.vault,
                        &account.account_id,
                        nik.as_ref(),
                        &account.display_name,
                        now,
                    )
                    .await?;
                    stored::clear_plaintext(tx, &account.account_id, now).await?;
                    let target =
                        Target::new("account", Some(account.pseudonym.clone())).with_fields([NIK_FIELD, NAME_FIELD]);
                    let event = Event::new(Actor::system(), "vault.migrate", target, Outcome::Success);
                    audit::record(tx, event).await.map_err(VaultError::from)
                })
            })
            .await?;
    }
    if count > 0 {
        db.reclaim().await?;
    }
    Ok(count)
}
