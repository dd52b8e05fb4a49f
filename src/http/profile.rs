//! The citizen's own profile ("Data saya") and the counter officer's
//! lookup by NIK and identity changes.

use axum::Json;

use crate::policy::OfficerAction;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;

use super::client::Client;
use super::error::{ApiError, ErrorBody};
use super::json::Body;
use super::routes::Routes;
use super::session::SignedIn;
use crate::app::AppState;
use crate::identity::Nik;
use crate::profile::{self, ContactUpdate, IdentityUpdate, ProfileError, ProfileView, Reader};
use crate::sessions::OwnData;

/// Purpose recorded when a citizen views their own data.
pub const OWN_DATA: &str = "own_data";
/// Purpose recorded when a counter officer looks a citizen up.
pub const COUNTER_LOOKUP: &str = "counter.lookup";

pub fn routes(state: &AppState) -> Routes {
    let own_data = Routes::new()
        .get("/api/profile", own)
        .patch("/api/profile", update_contact)
        .get("/api/profile/records", own_records)
        .get("/api/profile/export", export);
    let counter = Routes::new()
        .post("/api/counter/citizens/find", find)
        .put("/api/counter/citizens/{citizen}/identity", set_identity);
    super::limits::limited(state, own_data, crate::ratelimit::ACCOUNT_IP)
        .merge(super::limits::limited(state, counter, crate::ratelimit::COUNTER_IP))
        .layered(|r| super::session::origin_checked(state, r))
}

impl From<ProfileError> for ApiError {
    fn from(e: ProfileError) -> Self {
        match e {
            ProfileError::NotFound => ApiError::new(
                StatusCode::NOT_FOUND,
                "no_citizen",
                "Warga tidak ditemukan. (No such citizen.)",
            ),
            ProfileError::Field(f) => ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_field",
                format!("Isian {0} tidak valid. ({0}: {1})", f.field, f.reason),
            ),
            ProfileError::NikTaken => ApiError::new(
                StatusCode::CONFLICT,
                "nik_taken",
                "NIK ini sudah terdaftar pada akun lain. (This NIK is registered to another account.)",
            ),
            ProfileError::Empty => ApiError::new(
                StatusCode::BAD_REQUEST,
                "nothing_to_change",
                "Tidak ada isian yang diubah. (Nothing to change.)",
            ),
            other => ApiError::internal(other),
        }
    }
}

/// The citizen's own-data permit, or 403 for an officer.
pub(super) fn owner_only(who: &SignedIn) -> Result<OwnData, ApiError> {
    who.own_data().ok_or_else(|| {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "Hanya warga yang memiliki data profil. (Only citizens have a profile.)",
        )
    })
}

/// My profile
///
/// The signed-in citizen's whole profile, in plain. Audited.
#[utoipa::path(get, path = "/api/profile", tag = "profile", security(("session" = [])),
    responses(
        (status = 200, description = "The profile", body = ProfileView),
        (status = 403, description = "Only citizens have a profile", body = ErrorBody),
        (status = 429, description = "Rate limited (account-ip)", body = ErrorBody),
    ))]
pub(super) async fn own(
    State(state): State<AppState>,
    client: Client,
    who: SignedIn,
) -> Result<Json<ProfileView>, ApiError> {
    let own = owner_only(&who)?;
    Ok(Json(
        profile::read(
            &state.profile,
            &Reader::owner(&own),
            own.account(),
            OWN_DATA,
            &client.ctx,
        )
        .await?,
    ))
}

/// What the service modules keep about me
///
/// Every record the service modules keep about the signed-in citizen, in
/// plain (right of access). Audited.
#[utoipa::path(get, path = "/api/profile/records", tag = "profile", security(("session" = [])),
    responses(
        (status = 200, description = "The records", body = [crate::modules::access::OwnRecord]),
        (status = 403, description = "Only citizens have a profile", body = ErrorBody),
        (status = 429, description = "Rate limited (account-ip)", body = ErrorBody),
    ))]
pub(super) async fn own_records(
    State(state): State<AppState>,
    client: Client,
    who: SignedIn,
) -> Result<Json<Vec<crate::modules::access::OwnRecord>>, ApiError> {
    let own = owner_only(&who)?;
    Ok(Json(
        crate::modules::access::own_records(&state.modules, &own, &client.ctx).await?,
    ))
}

/// Download everything (portability)
///
/// Everything Jaga holds about the signed-in citizen, in plain, with the
/// purposes each field serves and the consent history (UU PDP Art. 13),
/// as `data` and as a compact JWS (`export`, EdDSA, `typ`
/// `jaga-export+jwt`) that verifies with the keys at
/// `/.well-known/jaga-consent-keys` (`jaga consent verify-receipt FILE`).
/// Audited.
#[utoipa::path(get, path = "/api/profile/export", tag = "profile", security(("session" = [])),
    responses(
        (status = 200, description = "The signed export", content_type = "application/json", body = Object),
        (status = 403, description = "Only citizens have a profile", body = ErrorBody),
        (status = 429, description = "Rate limited (account-ip)", body = ErrorBody),
    ))]
pub(super) async fn export(
    State(state): State<AppState>,
    client: Client,
    who: SignedIn,
) -> Result<Json<serde_json::Value>, ApiError> {
    let own = owner_only(&who)?;
    let exported = crate::rights::export(&state.rights, &own, &client.ctx)
        .await
        .map_err(ApiError::internal)?;
    Ok(Json(exported))
}

/// Change my contact details
///
/// The citizen changes their phone, email or address (absent: unchanged;
/// null: removed). Identity fields change only at the counter.
#[utoipa::path(patch, path = "/api/profile", tag = "profile", security(("session" = [], "csrf" = [])),
    request_body = ContactUpdate,
    responses(
        (status = 204, description = "Changed"),
        (status = 400, description = "An invalid field (named in the message), or nothing to change", body = ErrorBody),
        (status = 403, description = "Only citizens have a profile; or Origin or CSRF refused", body = ErrorBody),
        (status = 429, description = "Rate limited (account-ip)", body = ErrorBody),
    ))]
pub(super) async fn update_contact(
    State(state): State<AppState>,
    client: Client,
    who: SignedIn,
    Body(body): Body<ContactUpdate>,
) -> Result<StatusCode, ApiError> {
    let own = owner_only(&who)?;
    profile::update_contact(&state.profile, &own, &body, &client.ctx).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct Find {
    nik: String,
}

/// Find a citizen by NIK
///
/// A counter officer finds a citizen by NIK (blind index, no other record
/// decrypted) and sees the masked profile. Audited, hits and misses.
#[utoipa::path(post, path = "/api/counter/citizens/find", tag = "counter", security(("session" = [], "csrf" = [])),
    request_body = Find,
    responses(
        (status = 200, description = "The masked profile", body = ProfileView),
        (status = 400, description = "Invalid NIK", body = ErrorBody),
        (status = 403, description = "Not a counter officer; or Origin or CSRF refused", body = ErrorBody),
        (status = 404, description = "No citizen with this NIK", body = ErrorBody),
        (status = 429, description = "Rate limited (counter-ip)", body = ErrorBody),
    ))]
pub(super) async fn find(
    State(state): State<AppState>,
    client: Client,
    who: SignedIn,
    Body(body): Body<Find>,
) -> Result<Json<ProfileView>, ApiError> {
    let officer = super::counter::officer(&state, &who).await?;
    super::counter::policy_allows(
        &state,
        &who,
        OfficerAction::FindCitizen,
        "profile.find",
        None,
        &client.ctx,
    )
    .await?;
    let nik = Nik::parse(&body.nik).map_err(crate::identity::enrol::EnrolError::from)?;
    let reader = Reader::counter_officer(&officer);
    Ok(Json(
        profile::find::by_nik(&state.profile, &reader, &nik, COUNTER_LOOKUP, &client.ctx).await?,
    ))
}

/// Set a citizen's identity fields
///
/// A counter officer sets identity fields after checking the KTP and KK.
/// Audited with the names of the fields that changed, never their values.
#[utoipa::path(put, path = "/api/counter/citizens/{citizen}/identity", tag = "counter", security(("session" = [], "csrf" = [])),
    params(("citizen" = String, Path, description = "The citizen's pseudonym")), request_body = IdentityUpdate,
    responses(
        (status = 200, description = "The names of the fields that changed", body = ref("#/components/schemas/Changed")),
        (status = 400, description = "An invalid field (named in the message), or nothing to change", body = ErrorBody),
        (status = 403, description = "Not a counter officer; or Origin or CSRF refused", body = ErrorBody),
        (status = 404, description = "No such citizen", body = ErrorBody),
        (status = 409, description = "The NIK belongs to another account", body = ErrorBody),
        (status = 429, description = "Rate limited (counter-ip)", body = ErrorBody),
    ))]
pub(super) async fn set_identity(
    State(state): State<AppState>,
    client: Client,
    who: SignedIn,
    Path(citizen): Path<String>,
    Body(body): Body<IdentityUpdate>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let officer = super::counter::officer(&state, &who).await?;
    let account = crate::store::identity::account_by_pseudonym(&state.db, &citizen)
        .await
        .map_err(ApiError::internal)?
        .ok_or(ProfileError::NotFound)?;
    super::counter::policy_allows(
        &state,
        &who,
        OfficerAction::ChangeIdentity,
        "profile.identity_change",
        Some(&account.pseudonym),
        &client.ctx,
    )
    .await?;
    let changed = profile::set_identity(&state.profile, &officer, &account, &body, &client.ctx).await?;
    Ok(Json(serde_json::json!({ "changed": changed })))
}
