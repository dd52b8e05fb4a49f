//! The data subject's rights that span domains (UU PDP Art. 5–13): the
//! portable, signed export of everything Jaga holds about a citizen
//! (Art. 13), with the purposes each field serves; correction requests
//! ([`correction`], Art. 6 and 30); erasure ([`erasure`], Art. 8 and 43).

pub mod correction;
pub mod erasure;

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::{Value, json};

use crate::audit::{self, Actor, ActorKind, Context, Event, Outcome, Target};
use crate::consent::receipt;
use crate::sessions::OwnData;
use crate::store::consent as consent_store;
use crate::vault::profile::Reveal;

/// The JWS `typ` of an export.
pub const EXPORT_TYP: &str = "jaga-export+jwt";
/// The payload's `format`.
pub const FORMAT: &str = "jaga-export/1";

#[derive(Debug, Clone)]
pub struct Deps {
    pub profile: Arc<crate::profile::Deps>,
    pub modules: Arc<crate::modules::Deps>,
    pub consent: Arc<crate::consent::Deps>,
}

#[derive(Debug, thiserror::Error)]
pub enum RightsError {
    #[error(transparent)]
    Profile(#[from] crate::profile::ProfileError),
    #[error(transparent)]
    Module(#[from] crate::modules::ModuleError),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error(transparent)]
    Audit(#[from] audit::AuditError),
    #[error("the export could not be encoded")]
    Encode,
}

/// Everything held about the owner, in plain, with the purposes each field
/// serves and their consent history, signed (a compact JWS, EdDSA, with
/// the consent receipts' published key). One audit event names every
/// field opened; it commits before anything is returned.
pub async fn export(deps: &Deps, owner: &OwnData, ctx: &Context) -> Result<Value, RightsError> {
    let account = owner.account();
    let (profile, mut opened) =
        crate::profile::load(&deps.profile.db, &deps.profile.keys.vault, &account.account_id).await?;
    let (records, record_fields) = crate::modules::access::all_records(&deps.modules, &account.account_id).await?;
    opened.extend(record_fields);
    let history = consent_store::history(&deps.consent.db, &account.account_id).await?;
    let policies = deps.consent.policies.current();
    let mut purposes: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for field in &opened {
        let users: Vec<String> = policies
            .catalog
            .purposes()
            .filter(|p| p.reveal(field).is_some())
            .map(|p| p.id.clone())
            .collect();
        purposes.insert(field.clone(), users);
    }
    let view = crate::profile::ProfileView::new(account, &profile, Reveal::Plain);
    let consents: Vec<Value> = history
        .iter()
        .map(|r| {
            json!({
                "purpose": r.purpose_id, "seq": r.seq, "decision": r.decision,
                "notice_version": r.notice_version, "method": r.method, "decided_at": r.decided_at,
            })
        })
        .collect();
    let payload = json!({
        "format": FORMAT,
        "iss": deps.consent.issuer,
        "sub": account.pseudonym,
        "iat": time::OffsetDateTime::now_utc().unix_timestamp(),
        "profile": serde_json::to_value(&view).map_err(|_| RightsError::Encode)?,
        "records": serde_json::to_value(&records).map_err(|_| RightsError::Encode)?,
        "consents": consents,
        "purposes": purposes,
    });
    let event = Event::new(
        Actor::new(ActorKind::Citizen, account.pseudonym.clone()),
        "data.export",
        Target::new("citizen", Some(account.pseudonym.clone())).with_fields(opened),
        Outcome::Success,
    )
    .purpose("own_data")
    .within(ctx);
    deps.profile
        .writer
        .write::<(), RightsError, _>(move |tx| {
            let event = event.clone();
            Box::pin(async move { Ok(audit::record(tx, event).await?) })
        })
        .await?;
    let jws = receipt::sign_typed(&deps.consent.receipts, EXPORT_TYP, &payload);
    Ok(json!({ "export": jws, "data": payload }))
}
