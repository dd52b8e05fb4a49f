//! Officer and module administration, for administrators: officers
//! listed, added, their roles changed, suspended and recovered; modules
//! listed and disabled. Every change is audited.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use super::error::{ApiError, ErrorBody};
use super::json::Body;
use super::routes::Routes;
use super::session::SignedIn;
use crate::app::AppState;
use crate::console::admin::{self, ModuleView, NewOfficer, OfficerView};
use crate::console::permit::Administrator;
use crate::identity::counter::IssuedCode;
use crate::identity::enrol::EnrolError;

pub fn routes(state: &AppState) -> Routes {
    Routes::new()
        .get("/api/admin/officers", officers)
        .post("/api/admin/officers", add)
        .put("/api/admin/officers/{officer}/roles", set_roles)
        .post("/api/admin/officers/{officer}/suspend", suspend)
        .post("/api/admin/officers/{officer}/recover", recover)
        .get("/api/admin/modules", modules)
        .post("/api/admin/modules/{module}/disable", disable_module)
        .layered(|r| super::session::origin_checked(state, r))
}

/// The administrator permit as an extractor, placed before a body: 401
/// or 403 comes before the body is read.
pub(super) struct Admin(pub Administrator);

impl axum::extract::FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, state: &AppState) -> Result<Self, ApiError> {
        let who = SignedIn::from_request_parts(parts, state).await?;
        Ok(Admin(administrator(state, &who).await?))
    }
}

/// The administrator permit, or 403.
pub(super) async fn administrator(state: &AppState, who: &SignedIn) -> Result<Administrator, ApiError> {
    Administrator::load(&state.db, who)
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                "Hanya administrator yang dapat melakukan ini. (Only administrators can do this.)",
            )
        })
}

fn problem(e: EnrolError) -> ApiError {
    match e {
        EnrolError::NoAccount => ApiError::new(
            StatusCode::NOT_FOUND,
            "no_officer",
            "Petugas tidak ditemukan. (No such officer.)",
        ),
        EnrolError::OwnAccount => ApiError::new(
            StatusCode::FORBIDDEN,
            "own_account",
            "Akun Anda sendiri diubah oleh administrator lain. \
             (Your own account is changed by another administrator.)",
        ),
        EnrolError::LastAdministrator => ApiError::new(
            StatusCode::CONFLICT,
            "last_administrator",
            "Administrator aktif terakhir tetap memegang peran administrator. \
             (The last active administrator keeps the administrator role.)",
        ),
        EnrolError::Invalid(why) => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_officer",
            format!("Data petugas tidak valid. (Invalid officer data: {why}.)"),
        ),
        other => other.into(),
    }
}

fn origin(state: &AppState) -> Result<String, ApiError> {
    state
        .config
        .webauthn
        .as_ref()
        .and_then(|w| w.origins.first().cloned())
        .ok_or_else(|| ApiError::internal(std::io::Error::other("webauthn.origins is empty")))
}

/// A one-time enrolment link for an officer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct Link {
    officer: String,
    /// Give it to the officer in person; valid once, until `expires_at`.
    link: String,
    expires_at: i64,
}

impl From<IssuedCode> for Link {
    fn from(i: IssuedCode) -> Self {
        Link {
            officer: i.account,
            link: i.url,
            expires_at: i.expires_at,
        }
    }
}

/// The officers
///
/// Administrators only: pseudonym, status, roles and unit (no names).
#[utoipa::path(get, path = "/api/admin/officers", tag = "admin", security(("session" = [])),
    responses(
        (status = 200, description = "The officers", body = [OfficerView]),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not an administrator", body = ErrorBody),
    ))]
pub(super) async fn officers(State(state): State<AppState>, who: SignedIn) -> Result<Json<Vec<OfficerView>>, ApiError> {
    let permit = administrator(&state, &who).await?;
    Ok(Json(
        admin::officers(&state.db, &permit).await.map_err(ApiError::internal)?,
    ))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct AddOfficer {
    /// 1 to 100 characters.
    name: String,
    /// The office, 1 to 100 characters.
    unit: String,
    /// counter, security and/or admin.
    roles: Vec<String>,
}

/// Add an officer
///
/// A pending officer and a one-time link (24 hours) to the officers'
/// enrolment page. Audited.
#[utoipa::path(post, path = "/api/admin/officers", tag = "admin", security(("session" = [], "csrf" = [])),
    request_body = AddOfficer,
    responses(
        (status = 201, description = "Added; give the link to the officer", body = Link),
        (status = 400, description = "A name or unit out of bounds", body = ErrorBody),
        (status = 403, description = "Not an administrator", body = ErrorBody),
        (status = 422, description = "No role, or an unknown one (invalid_officer)", body = ErrorBody),
    ))]
pub(super) async fn add(
    State(state): State<AppState>,
    Admin(permit): Admin,
    Body(body): Body<AddOfficer>,
) -> Result<(StatusCode, Json<Link>), ApiError> {
    let new = NewOfficer {
        name: &body.name,
        unit: &body.unit,
        roles: &body.roles,
    };
    let issued = admin::add(&state.writer, &state.keys, &origin(&state)?, &permit, new)
        .await
        .map_err(problem)?;
    Ok((StatusCode::CREATED, Json(issued.into())))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct Roles {
    /// counter, security and/or admin; at least one.
    roles: Vec<String>,
}

/// Change an officer's roles
///
/// Replaces them. Not one's own; the last active administrator keeps the
/// role. Audited.
#[utoipa::path(put, path = "/api/admin/officers/{officer}/roles", tag = "admin", security(("session" = [], "csrf" = [])),
    params(("officer" = String, Path, description = "The officer's pseudonym")),
    request_body = Roles,
    responses(
        (status = 204, description = "Changed"),
        (status = 403, description = "Not an administrator, or one's own account (own_account)", body = ErrorBody),
        (status = 404, description = "No such officer", body = ErrorBody),
        (status = 409, description = "The last active administrator (last_administrator)", body = ErrorBody),
        (status = 422, description = "No role, or an unknown one", body = ErrorBody),
    ))]
pub(super) async fn set_roles(
    State(state): State<AppState>,
    Admin(permit): Admin,
    Path(officer): Path<String>,
    Body(body): Body<Roles>,
) -> Result<StatusCode, ApiError> {
    admin::set_roles(&state.writer, &permit, &officer, &body.roles)
        .await
        .map_err(problem)?;
    Ok(StatusCode::NO_CONTENT)
}

/// Suspend an officer
///
/// Their sessions end and they cannot sign in until recovered. Not one's
/// own account. Audited.
#[utoipa::path(post, path = "/api/admin/officers/{officer}/suspend", tag = "admin", security(("session" = [], "csrf" = [])),
    params(("officer" = String, Path, description = "The officer's pseudonym")),
    responses(
        (status = 204, description = "Suspended"),
        (status = 403, description = "Not an administrator, or one's own account (own_account)", body = ErrorBody),
        (status = 404, description = "No such officer", body = ErrorBody),
    ))]
pub(super) async fn suspend(
    State(state): State<AppState>,
    who: SignedIn,
    Path(officer): Path<String>,
) -> Result<StatusCode, ApiError> {
    let permit = administrator(&state, &who).await?;
    admin::suspend(&state.writer, &permit, &officer, "administrator_decision")
        .await
        .map_err(problem)?;
    Ok(StatusCode::NO_CONTENT)
}

/// Recover an officer
///
/// For an officer who lost their passkey: every passkey and session of
/// theirs ends now, and a new one-time link (24 hours) registers a new
/// passkey. Audited.
#[utoipa::path(post, path = "/api/admin/officers/{officer}/recover", tag = "admin", security(("session" = [], "csrf" = [])),
    params(("officer" = String, Path, description = "The officer's pseudonym")),
    responses(
        (status = 200, description = "Old passkeys ended; give the link to the officer", body = Link),
        (status = 403, description = "Not an administrator, or one's own account (own_account)", body = ErrorBody),
        (status = 404, description = "No such officer", body = ErrorBody),
    ))]
pub(super) async fn recover(
    State(state): State<AppState>,
    who: SignedIn,
    Path(officer): Path<String>,
) -> Result<Json<Link>, ApiError> {
    let permit = administrator(&state, &who).await?;
    let issued = admin::recover(&state.writer, &origin(&state)?, &permit, &officer)
        .await
        .map_err(problem)?;
    Ok(Json(issued.into()))
}

/// The modules
#[utoipa::path(get, path = "/api/admin/modules", tag = "admin", security(("session" = [])),
    responses(
        (status = 200, description = "The modules", body = [ModuleView]),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not an administrator", body = ErrorBody),
    ))]
pub(super) async fn modules(State(state): State<AppState>, who: SignedIn) -> Result<Json<Vec<ModuleView>>, ApiError> {
    let permit = administrator(&state, &who).await?;
    Ok(Json(
        admin::modules(&state.db, &permit).await.map_err(ApiError::internal)?,
    ))
}

/// Disable a module
///
/// Its API key, client authentication and access tokens are refused from
/// now. Audited.
#[utoipa::path(post, path = "/api/admin/modules/{module}/disable", tag = "admin", security(("session" = [], "csrf" = [])),
    params(("module" = String, Path, description = "The module's name")),
    responses(
        (status = 204, description = "Disabled"),
        (status = 403, description = "Not an administrator", body = ErrorBody),
        (status = 404, description = "No live module of that name (no_module)", body = ErrorBody),
    ))]
pub(super) async fn disable_module(
    State(state): State<AppState>,
    who: SignedIn,
    Path(module): Path<String>,
) -> Result<StatusCode, ApiError> {
    let permit = administrator(&state, &who).await?;
    let done = admin::disable_module(&state.writer, &permit, &module)
        .await
        .map_err(ApiError::internal)?;
    if done {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "no_module",
            "Tidak ada layanan aktif dengan nama ini. (No live module of that name.)",
        ))
    }
}
