//! Who acted, as a citizen is shown it in their access history: "you",
//! the service module by name, an officer by role and unit (never by
//! pseudonym), and the holder of a counter code for the steps of a
//! recovery that an officer started.

use std::collections::HashMap;

use super::error::ApiError;
use super::pages::Texts;
use crate::app::AppState;
use crate::identity::Role;
use crate::policy::Catalog;
use crate::policy::labels::Lang;
use crate::store::audit::EventRow;
use crate::store::identity as stored;

/// The catalog's language for the page language of `t`.
pub fn lang_of(t: &Texts) -> Lang {
    if t.lang == "en" { Lang::En } else { Lang::Id }
}

/// Labels for the actors of `rows`, in order, in the language of `t`;
/// modules by the name the catalog gives them.
pub async fn actor_labels(
    state: &AppState,
    rows: &[EventRow],
    owner: &str,
    t: &Texts,
    catalog: &Catalog,
) -> Result<Vec<String>, ApiError> {
    let mut officers: HashMap<&str, String> = HashMap::new();
    for row in rows.iter().filter(|r| r.actor_kind == "officer" && r.actor_id != owner) {
        if officers.contains_key(row.actor_id.as_str()) {
            continue;
        }
        let label = officer_label(state, &row.actor_id, t).await?;
        officers.insert(row.actor_id.as_str(), label);
    }
    Ok(rows
        .iter()
        .map(|row| {
            if row.actor_id == owner {
                if row.reason.as_deref() == Some("counter_recovery") {
                    t.actor_code_holder.to_owned()
                } else {
                    t.actor_you.to_owned()
                }
            } else if row.actor_kind == "module" {
                catalog.labels().module(&row.actor_id, lang_of(t))
            } else if let Some(label) = officers.get(row.actor_id.as_str()) {
                label.clone()
            } else {
                match (row.actor_kind.as_str(), lang_of(t)) {
                    ("system", Lang::Id) => "Jaga".to_owned(),
                    ("system", Lang::En) => "Jaga".to_owned(),
                    ("operator", Lang::Id) => "operator sistem".to_owned(),
                    ("operator", Lang::En) => "the system operator".to_owned(),
                    ("anonymous", Lang::Id) => "seseorang yang belum masuk".to_owned(),
                    ("anonymous", Lang::En) => "someone not signed in".to_owned(),
                    (kind, _) => kind.to_owned(),
                }
            }
        })
        .collect())
}

/// "petugas layanan (Kecamatan Rangkui)"
async fn officer_label(state: &AppState, pseudonym: &str, t: &Texts) -> Result<String, ApiError> {
    let Some(officer) = stored::account_by_pseudonym(&state.db, pseudonym)
        .await
        .map_err(ApiError::internal)?
    else {
        return Ok(t.role_officer.to_owned());
    };
    let roles = stored::roles(&state.db, &officer.account_id)
        .await
        .map_err(ApiError::internal)?;
    let role = match roles.iter().filter_map(|r| Role::parse(r)).min() {
        Some(Role::Counter) => t.role_counter,
        Some(Role::Security) => t.role_security,
        Some(Role::Admin) => t.role_admin,
        None => t.role_officer,
    };
    Ok(format!(
        "{role} ({})",
        officer.unit.as_deref().unwrap_or(t.unit_unknown)
    ))
}

/// The citizen's latest counter recovery, as their home page says it.
pub async fn counter_recovery_notice(
    state: &AppState,
    account_id: &str,
    t: &Texts,
) -> Result<Option<String>, ApiError> {
    let Some(row) = stored::last_counter_recovery(&state.db, account_id)
        .await
        .map_err(ApiError::internal)?
    else {
        return Ok(None);
    };
    let when = super::pages::when(row.completed_at.unwrap_or(row.issued_at));
    let unit = row.officer_unit.as_deref().unwrap_or(t.unit_unknown);
    let officer = format!("{} ({unit})", t.role_counter);
    Ok(Some(format!(
        "{} {}",
        t.counter_recovery_notice
            .replace("{when}", &when)
            .replace("{officer}", &officer),
        t.counter_recovery_hint
    )))
}
