//! Reading a profile: decrypt on the read side, commit the audit event,
//! and only then hand out what the reader may see.

use super::{Deps, Profile, ProfileError, ProfileView, Reader};
use crate::account::{AccountKind, Status};
use crate::audit::{self, Context, Event, Outcome, Target};
use crate::store::Db;
use crate::store::identity::AccountRow;
use crate::store::vault as stored;
use crate::vault::profile::Reveal;
use crate::vault::{KeyProvider, Undecryptable, citizen};

/// Decrypts every profile field of `account_id`; returns the profile and
/// the names of the fields opened. Not audited: callers audit.
pub async fn load(db: &Db, keks: &dyn KeyProvider, account_id: &str) -> Result<(Profile, Vec<String>), ProfileError> {
    let rows = stored::read_fields(db, account_id, "profile.").await?;
    let mut profile = Profile::default();
    let mut opened = Vec::with_capacity(rows.len());
    if rows.is_empty() {
        return Ok((profile, opened));
    }
    let mut opener = citizen::Opener::new(keks, stored::read_keys(db, &[account_id]).await?);
    for row in rows {
        let text = opener.open_text(account_id, &row.field, row.record_version, &row.sealed)?;
        profile.set(&row.field, text);
        opened.push(row.field);
    }
    Ok((profile, opened))
}

/// `reader` reads `citizen`'s profile for `purpose`, at the reveal level
/// their role gives. The audit event (fields opened, not values) commits
/// before anything is returned; if it cannot, nothing is.
pub async fn read(
    deps: &Deps,
    reader: &Reader,
    citizen: &AccountRow,
    purpose: &str,
    ctx: &Context,
) -> Result<ProfileView, ProfileError> {
    if citizen.kind != AccountKind::Citizen || citizen.status == Status::Erased {
        return Err(ProfileError::NotFound);
    }
    let level = reader.reveal_for(citizen);
    let (profile, opened) = if level == Reveal::Redacted {
        (Profile::default(), Vec::new())
    } else {
        match load(&deps.db, &deps.keys.vault, &citizen.account_id).await {
            Ok(loaded) => loaded,
            Err(e) => {
                // A value that does not open is evidence of tampering (or a
                // lost key): it goes on the record, then the read fails.
                let failed = Event::new(
                    reader.actor(),
                    "profile.read",
                    Target::new("citizen", Some(citizen.pseudonym.clone())),
                    Outcome::Failure,
                )
                .purpose(purpose)
                .reason("undecryptable")
                .within(ctx);
                let _ = deps
                    .writer
                    .write::<(), ProfileError, _>(move |tx| {
                        Box::pin(async move { Ok(audit::record(tx, failed).await?) })
                    })
                    .await;
                return Err(e);
            }
        }
    };
    let mut event = Event::new(
        reader.actor(),
        "profile.read",
        Target::new("citizen", Some(citizen.pseudonym.clone())).with_fields(opened),
        Outcome::Success,
    )
    .purpose(purpose)
    .within(ctx);
    if level == Reveal::Redacted {
        event = event.reason("redacted");
    }
    deps.writer
        .write::<(), ProfileError, _>(move |tx| Box::pin(async move { Ok(audit::record(tx, event).await?) }))
        .await?;
    Ok(ProfileView::new(citizen, &profile, level))
}

/// The owner's own full name, for their greeting: one field opened, one
/// audited own-data read (committed before the name is returned). `None`
/// when no name is on record.
pub async fn own_name(
    deps: &Deps,
    owner: &crate::sessions::OwnData,
    ctx: &Context,
) -> Result<Option<String>, ProfileError> {
    let account = owner.account();
    let rows = stored::read_fields(&deps.db, &account.account_id, "profile.full_name").await?;
    let Some(row) = rows.into_iter().find(|r| r.field == "profile.full_name") else {
        return Ok(None);
    };
    let mut opener = citizen::Opener::new(
        &deps.keys.vault,
        stored::read_keys(&deps.db, &[account.account_id.as_str()]).await?,
    );
    let name = opener.open_text(&account.account_id, &row.field, row.record_version, &row.sealed)?;
    let event = Event::new(
        crate::audit::Actor::new(crate::audit::ActorKind::Citizen, account.pseudonym.clone()),
        "profile.read",
        Target::new("citizen", Some(account.pseudonym.clone())).with_fields(["profile.full_name"]),
        Outcome::Success,
    )
    .purpose("own_data")
    .reason("greeting")
    .within(ctx);
    deps.writer
        .write::<(), ProfileError, _>(move |tx| Box::pin(async move { Ok(audit::record(tx, event).await?) }))
        .await?;
    Ok(Some(name))
}

impl From<Undecryptable> for ProfileError {
    fn from(e: Undecryptable) -> Self {
        ProfileError::Vault(e.into())
    }
}
