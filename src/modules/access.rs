//! The citizen's right of access to what modules keep about them: every
//! record in every collection, in plain, behind one audit event.

use super::Deps;
use crate::sessions::OwnData;
use std::collections::BTreeMap;

use serde::Serialize;

use super::ModuleError;
use super::records::sealed_name;
use crate::audit::{self, Actor, ActorKind, Context, Event, Outcome, Target};
use crate::store::modules as stored;
use crate::store::vault as vault_store;
use crate::vault::citizen;

/// One record a module keeps about the citizen, as the citizen sees it.
#[derive(Clone, Serialize, utoipa::ToSchema)]
pub struct OwnRecord {
    /// `<module>.<collection>`
    pub collection: String,
    pub record: String,
    pub values: BTreeMap<String, String>,
}

impl std::fmt::Debug for OwnRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OwnRecord")
            .field("collection", &self.collection)
            .field("record", &self.record)
            .finish_non_exhaustive()
    }
}

/// Everything every module keeps about `owner`, in plain, for the owner
/// (UU PDP right of access). One audit event names every field opened;
/// it commits before anything is returned.
pub async fn own_records(deps: &Deps, owner: &OwnData, ctx: &Context) -> Result<Vec<OwnRecord>, ModuleError> {
    let owner = owner.account();
    let (out, opened) = all_records(deps, &owner.account_id).await?;
    let event = Event::new(
        Actor::new(ActorKind::Citizen, owner.pseudonym.clone()),
        "record.read",
        Target::new("citizen", Some(owner.pseudonym.clone())).with_fields(opened),
        Outcome::Success,
    )
    .purpose("own_data")
    .within(ctx);
    deps.writer
        .write::<(), ModuleError, _>(move |tx| Box::pin(async move { Ok(audit::record(tx, event).await?) }))
        .await?;
    Ok(out)
}

/// Every record every module keeps about `account_id`, decrypted, and the
/// `<collection>.<field>` names opened. Not audited: callers audit before
/// they hand anything out.
pub(crate) async fn all_records(deps: &Deps, account_id: &str) -> Result<(Vec<OwnRecord>, Vec<String>), ModuleError> {
    let rows = stored::records_of(&deps.db, account_id).await?;
    let mut out: Vec<OwnRecord> = Vec::new();
    let mut opened: Vec<String> = Vec::new();
    if rows.is_empty() {
        return Ok((out, opened));
    }
    let mut opener = citizen::Opener::new(&deps.keys.vault, vault_store::read_keys(&deps.db, &[account_id]).await?);
    for row in rows {
        let text = opener.open_text(
            account_id,
            &sealed_name(&row.collection, &row.record_id, &row.field),
            row.record_version,
            &row.sealed,
        )?;
        let qualified = format!("{}.{}", row.collection, row.field);
        if !opened.contains(&qualified) {
            opened.push(qualified);
        }
        match out.last_mut() {
            Some(last) if last.collection == row.collection && last.record == row.record_id => {
                last.values.insert(row.field, text);
            }
            _ => out.push(OwnRecord {
                collection: row.collection,
                record: row.record_id,
                values: BTreeMap::from([(row.field, text)]),
            }),
        }
    }
    Ok((out, opened))
}
