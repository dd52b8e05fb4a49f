//! The signed-in owner's account: passkeys, recovery codes, activity, and
//! the verification code shown at the counter.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use super::client::Client;
use super::error::{ApiError, ErrorBody};
use super::json::Body;
use super::routes::Routes;
use super::session::SignedIn;
use crate::app::AppState;
use crate::identity::counter::IssuedCode;
use crate::identity::credentials::{self, CredentialError, PasskeyView};
use crate::identity::{recovery, registration};

pub fn routes(state: &AppState) -> Routes {
    let add = Routes::new()
        .post("/api/passkeys/start", add_start)
        .post("/api/passkeys/finish", add_finish);
    let own = Routes::new()
        .patch("/api/passkeys/{id}", rename)
        .delete("/api/passkeys/{id}", remove)
        .post("/api/recovery-codes", regenerate)
        .post("/api/verification-code", verification_code);
    Routes::new()
        .get("/api/passkeys", list)
        .merge(super::limits::limited(state, add, crate::ratelimit::ENROL_IP))
        .merge(super::limits::limited(state, own, crate::ratelimit::ACCOUNT_IP))
        .get("/api/activity", activity)
        .layered(|r| super::session::origin_checked(state, r))
}

impl From<CredentialError> for ApiError {
    fn from(e: CredentialError) -> Self {
        match e {
            CredentialError::NotFound => ApiError::not_found(),
            CredentialError::Name => ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_name",
                "Nama passkey harus 1 sampai 60 karakter. (A passkey name must be 1 to 60 characters.)",
            ),
            CredentialError::LastPasskey => ApiError::new(
                StatusCode::CONFLICT,
                "last_passkey",
                "Passkey terakhir tidak dapat dihapus karena tidak ada kode pemulihan yang tersisa. \\
                 Buat kode pemulihan baru atau tambahkan passkey lain dahulu. \\
                 (The last passkey cannot be removed while no recovery code remains. \\
                 Create new recovery codes or add another passkey first.)",
            ),
            CredentialError::Enrol(e) => e.into(),
            other => ApiError::internal(other),
        }
    }
}

/// List my passkeys
#[utoipa::path(get, path = "/api/passkeys", tag = "passkeys", security(("session" = [])),
    responses((status = 200, description = "The owner's passkeys", body = ref("#/components/schemas/PasskeyList"))))]
pub(super) async fn list(State(state): State<AppState>, who: SignedIn) -> Result<Json<Vec<PasskeyView>>, ApiError> {
    Ok(Json(
        credentials::list(&state.identity, who.account(), who.session().credential_id.as_deref()).await?,
    ))
}

/// Start adding a passkey
///
/// Needs a recent sign-in (sessions.reauth_window_secs).
#[utoipa::path(post, path = "/api/passkeys/start", tag = "passkeys", security(("session" = [], "csrf" = [])),
    responses(
        (status = 200, description = "Passkey creation options, existing passkeys excluded", body = ref("#/components/schemas/PasskeyOptions")),
        (status = 403, description = "`reauth_required`: sign in again first; or Origin or CSRF refused", body = ErrorBody),
        (status = 429, description = "Rate limited (enrol-ip)", body = ErrorBody),
    ))]
pub(super) async fn add_start(
    State(state): State<AppState>,
    who: SignedIn,
) -> Result<Json<serde_json::Value>, ApiError> {
    let recent = super::session::recent(&state, &who)?;
    Ok(Json(credentials::start_add(&state.identity, &recent).await?))
}

/// Finish adding a passkey
#[utoipa::path(post, path = "/api/passkeys/finish", tag = "passkeys", security(("session" = [], "csrf" = [])),
    request_body(content = ref("#/components/schemas/RegistrationResponse"), content_type = "application/json"),
    responses(
        (status = 201, description = "Added", body = super::auth::Enrolled),
        (status = 400, description = "Malformed or refused passkey response, or expired ceremony", body = ErrorBody),
        (status = 403, description = "`reauth_required`: sign in again first; or Origin or CSRF refused", body = ErrorBody),
        (status = 429, description = "Rate limited (enrol-ip)", body = ErrorBody),
    ))]
pub(super) async fn add_finish(
    State(state): State<AppState>,
    client: Client,
    who: SignedIn,
    body: Bytes,
) -> Result<axum::response::Response, ApiError> {
    let recent = super::session::recent(&state, &who)?;
    let registered = registration::finish(
        &state.identity,
        &body,
        &client.user_agent,
        &client.ctx,
        Some(&recent),
        None,
    )
    .await?;
    super::auth::registered_response(&state, registered)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct Rename {
    name: String,
}

/// Rename a passkey
#[utoipa::path(patch, path = "/api/passkeys/{id}", tag = "passkeys", security(("session" = [], "csrf" = [])),
    params(("id" = String, Path, description = "Credential id, base64url")), request_body = Rename,
    responses(
        (status = 204, description = "Renamed"),
        (status = 400, description = "Invalid name", body = ErrorBody),
        (status = 404, description = "No such passkey of this account", body = ErrorBody),
        (status = 429, description = "Rate limited (account-ip)", body = ErrorBody),
    ))]
pub(super) async fn rename(
    State(state): State<AppState>,
    client: Client,
    who: SignedIn,
    Path(id): Path<String>,
    Body(body): Body<Rename>,
) -> Result<StatusCode, ApiError> {
    credentials::rename(&state.identity, who.account(), &id, &body.name, &client.ctx).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Remove a passkey
///
/// Needs a recent sign-in; the passkey's sessions end.
#[utoipa::path(delete, path = "/api/passkeys/{id}", tag = "passkeys", security(("session" = [], "csrf" = [])),
    params(("id" = String, Path, description = "Credential id, base64url")),
    responses(
        (status = 204, description = "Removed; its sessions ended"),
        (status = 403, description = "`reauth_required`: sign in again first; or Origin or CSRF refused", body = ErrorBody),
        (status = 404, description = "No such passkey of this account", body = ErrorBody),
        (status = 409, description = "Last passkey and no recovery code left", body = ErrorBody),
        (status = 429, description = "Rate limited (account-ip)", body = ErrorBody),
    ))]
pub(super) async fn remove(
    State(state): State<AppState>,
    client: Client,
    who: SignedIn,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let recent = super::session::recent(&state, &who)?;
    credentials::remove(&state.identity, &recent, &id, &client.ctx).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct Codes {
    recovery_codes: Vec<String>,
}

/// New recovery codes
///
/// Replaces every recovery code; needs a recent sign-in.
#[utoipa::path(post, path = "/api/recovery-codes", tag = "recovery", security(("session" = [], "csrf" = [])),
    responses(
        (status = 200, description = "Ten new recovery codes, shown once", body = Codes),
        (status = 403, description = "`reauth_required`: sign in again first; or Origin or CSRF refused", body = ErrorBody),
        (status = 429, description = "Rate limited (account-ip)", body = ErrorBody),
    ))]
pub(super) async fn regenerate(
    State(state): State<AppState>,
    client: Client,
    who: SignedIn,
) -> Result<Json<Codes>, ApiError> {
    let recent = super::session::recent(&state, &who)?;
    let codes = recovery::regenerate(&state.identity, &recent, &client.ctx).await?;
    Ok(Json(Codes { recovery_codes: codes }))
}

/// A verification code for the counter
///
/// An 8-digit code the citizen shows a counter officer, who checks the
/// KTP and verifies the account; valid 10 minutes.
#[utoipa::path(post, path = "/api/verification-code", tag = "counter", security(("session" = [], "csrf" = [])),
    responses(
        (status = 200, description = "The code", body = ref("#/components/schemas/IssuedCode")),
        (status = 429, description = "Rate limited (account-ip)", body = ErrorBody),
    ))]
pub(super) async fn verification_code(
    State(state): State<AppState>,
    client: Client,
    who: SignedIn,
) -> Result<Json<IssuedCode>, ApiError> {
    Ok(Json(
        crate::identity::verification::verification_code(&state.identity, who.account(), &client.ctx).await?,
    ))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct ActivityItem {
    time_us: i64,
    action: String,
    /// `you`, `module <name>` (which service), or the kind of actor (`officer`, `system`, …).
    actor: String,
    /// Which fields were read or written (names only).
    fields: Vec<String>,
    /// Why, as the reader stated it.
    purpose: Option<String>,
    outcome: String,
    reason: Option<String>,
    /// The event in plain language, Bahasa Indonesia.
    summary_id: String,
    /// The event in plain language, English.
    summary_en: String,
}

pub(super) fn field_list(row: &crate::store::audit::EventRow) -> Vec<String> {
    row.target_fields
        .split(',')
        .filter(|f| !f.is_empty())
        .map(str::to_owned)
        .collect()
}

/// My activity
///
/// What happened to and with this account, newest first (at most 200).
#[utoipa::path(get, path = "/api/activity", tag = "sessions", security(("session" = [])),
    responses((status = 200, description = "Audit events about this account, newest first", body = [ActivityItem])))]
pub(super) async fn activity(
    State(state): State<AppState>,
    who: SignedIn,
) -> Result<Json<Vec<ActivityItem>>, ApiError> {
    let rows = crate::store::audit::events_about(&state.db, &who.account().pseudonym, 200)
        .await
        .map_err(ApiError::internal)?;
    let policies = state.consent.policies.current();
    let owner = &who.account().pseudonym;
    let (id, en) = (super::pages::Lang::Id.texts(), super::pages::Lang::En.texts());
    let actors_id = super::activity::actor_labels(&state, &rows, owner, id, &policies.catalog).await?;
    let actors_en = super::activity::actor_labels(&state, &rows, owner, en, &policies.catalog).await?;
    let sentence = super::pages::history::sentence;
    Ok(Json(
        rows.into_iter()
            .zip(actors_id.into_iter().zip(actors_en))
            .map(|(r, (actor_id, actor))| ActivityItem {
                summary_id: sentence(&r, &actor_id, &policies.catalog, crate::policy::labels::Lang::Id),
                summary_en: sentence(&r, &actor, &policies.catalog, crate::policy::labels::Lang::En),
                time_us: r.time_us,
                actor,
                fields: field_list(&r),
                purpose: r.purpose.clone(),
                action: r.action,
                outcome: r.outcome,
                reason: r.reason,
            })
            .collect(),
    ))
}
