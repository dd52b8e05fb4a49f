//! Exact lookups through blind indexes: finding a citizen never decrypts
//! anyone else's record.

use super::{Deps, ProfileError, ProfileView, Reader, read};
use crate::account::AccountKind;
use crate::account::Nik;
use crate::audit::{self, Context, Event, Outcome, Target};
use crate::store::identity::{self as stored, AccountRow};

/// The live citizen account holding `nik`, if any (no decryption).
pub async fn account_by_nik(deps: &Deps, nik: &Nik) -> Result<Option<AccountRow>, ProfileError> {
    let index = deps
        .keys
        .index
        .blind_index(crate::account::NIK_INDEX, nik.digits().as_bytes());
    Ok(stored::account_by_nik_index_db(&deps.db, &index)
        .await?
        .filter(|a| a.kind == AccountKind::Citizen))
}

/// Finds a citizen by NIK and shows their profile at the reader's level.
/// A miss is audited too (an officer trying NIKs shows in the log).
pub async fn by_nik(
    deps: &Deps,
    reader: &Reader,
    nik: &Nik,
    purpose: &str,
    ctx: &Context,
) -> Result<ProfileView, ProfileError> {
    let Some(account) = account_by_nik(deps, nik).await? else {
        let event = Event::new(
            reader.actor(),
            "profile.find",
            Target::new("citizen", None),
            Outcome::Failure,
        )
        .purpose(purpose)
        .reason("not_found")
        .within(ctx);
        deps.writer
            .write::<(), ProfileError, _>(move |tx| Box::pin(async move { Ok(audit::record(tx, event).await?) }))
            .await?;
        return Err(ProfileError::NotFound);
    };
    read(deps, reader, &account, purpose, ctx).await
}
