//! Incidents (UU PDP Art. 46) for security officers: opened for a time
//! window and the officers and modules involved, with the citizens
//! affected and their data categories; notices recorded; the list exported
//! as CSV. Every step audited.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::client::Client;
use super::console::{Security, officer};
use super::error::{ApiError, ErrorBody};
use super::json::Body;
use super::routes::Routes;
use super::session::SignedIn;
use crate::app::AppState;
use crate::console::incidents::{self, IncidentError, NOTICE_SECS, Notices, Opening};
use crate::console::search::SearchError;
use crate::store::incidents::{AffectedRow, IncidentRow};

pub fn routes(state: &AppState) -> Routes {
    Routes::new()
        .get("/api/security/incidents", list)
        .post("/api/security/incidents", open)
        .get("/api/security/incidents/{incident}", detail)
        .post("/api/security/incidents/{incident}/notices", notices)
        .get("/api/security/incidents/{incident}/export", export)
        .layered(|r| super::session::origin_checked(state, r))
}

impl From<IncidentError> for ApiError {
    fn from(e: IncidentError) -> Self {
        match e {
            IncidentError::Bad(b) => SearchError::Bad(b).into(),
            IncidentError::NotFound => ApiError::new(
                StatusCode::NOT_FOUND,
                "no_incident",
                "Insiden tidak ditemukan. (No such incident.)",
            ),
            other => ApiError::internal(other),
        }
    }
}

/// An incident.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct Incident {
    id: String,
    title: String,
    /// The window, RFC 3339.
    from: String,
    to: String,
    officers: Vec<String>,
    modules: Vec<String>,
    opened_by: String,
    /// When it was discovered (opened), Unix seconds.
    discovered_at: i64,
    /// Notices are due by then (3 × 24 hours after discovery).
    notice_due_at: i64,
    authority_notified_at: Option<i64>,
}

impl From<IncidentRow> for Incident {
    fn from(r: IncidentRow) -> Self {
        let list = |s: &str| s.split_whitespace().map(str::to_owned).collect();
        Incident {
            from: crate::audit::export::time_text(r.window_from_us),
            to: crate::audit::export::time_text(r.window_to_us),
            officers: list(&r.officers),
            modules: list(&r.modules),
            notice_due_at: r.discovered_at + NOTICE_SECS,
            id: r.incident_id,
            title: r.title,
            opened_by: r.opened_by,
            discovered_at: r.discovered_at,
            authority_notified_at: r.authority_notified_at,
        }
    }
}

/// A citizen affected by an incident.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct Affected {
    citizen: String,
    /// The data categories (field names) touched.
    categories: Vec<String>,
    accesses: i32,
    notified_at: Option<i64>,
}

impl From<AffectedRow> for Affected {
    fn from(a: AffectedRow) -> Self {
        Affected {
            categories: a.categories.split_whitespace().map(str::to_owned).collect(),
            citizen: a.citizen,
            accesses: a.accesses,
            notified_at: a.notified_at,
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct IncidentDetail {
    incident: Incident,
    affected: Vec<Affected>,
}

/// The incidents
#[utoipa::path(get, path = "/api/security/incidents", tag = "security", security(("session" = [])),
    responses(
        (status = 200, description = "Newest first", body = [Incident]),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not a security officer", body = ErrorBody),
    ))]
pub(super) async fn list(State(state): State<AppState>, who: SignedIn) -> Result<Json<Vec<Incident>>, ApiError> {
    let permit = officer(&state, &who).await?;
    let rows = incidents::list(&state.db, &permit).await?;
    Ok(Json(rows.into_iter().map(Incident::from).collect()))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct Open {
    /// 1 to 200 characters.
    title: String,
    /// The window, RFC 3339.
    from: String,
    to: String,
    /// Officers' pseudonyms involved.
    #[serde(default)]
    officers: Vec<String>,
    /// Modules' names involved.
    #[serde(default)]
    modules: Vec<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct Opened {
    id: String,
    /// Citizens affected.
    affected: usize,
}

/// Open an incident
///
/// The citizens whose data the officers and modules named touched in the
/// window, and which data, are read from the audit log now. Audited.
#[utoipa::path(post, path = "/api/security/incidents", tag = "security", security(("session" = [], "csrf" = [])),
    request_body = Open,
    responses(
        (status = 201, description = "Opened", body = Opened),
        (status = 400, description = "A window, title or name that is not valid (invalid_query)", body = ErrorBody),
        (status = 403, description = "Not a security officer", body = ErrorBody),
    ))]
pub(super) async fn open(
    State(state): State<AppState>,
    client: Client,
    Security(permit): Security,
    Body(body): Body<Open>,
) -> Result<(StatusCode, Json<Opened>), ApiError> {
    let opening = Opening {
        title: body.title,
        from: body.from,
        to: body.to,
        officers: body.officers,
        modules: body.modules,
    };
    let id = incidents::open(&state.db, &state.writer, &permit, &opening, &client.ctx).await?;
    let affected = crate::store::incidents::affected(&state.db, &id)
        .await
        .map_err(ApiError::internal)?
        .len();
    Ok((StatusCode::CREATED, Json(Opened { id, affected })))
}

/// An incident and the citizens it affects
///
/// Audited.
#[utoipa::path(get, path = "/api/security/incidents/{incident}", tag = "security", security(("session" = [])),
    params(("incident" = String, Path, description = "The incident")),
    responses(
        (status = 200, description = "The incident", body = IncidentDetail),
        (status = 403, description = "Not a security officer", body = ErrorBody),
        (status = 404, description = "No such incident", body = ErrorBody),
    ))]
pub(super) async fn detail(
    State(state): State<AppState>,
    client: Client,
    who: SignedIn,
    Path(id): Path<String>,
) -> Result<Json<IncidentDetail>, ApiError> {
    let permit = officer(&state, &who).await?;
    let (incident, affected) = incidents::detail(&state.db, &state.writer, &permit, &id, &client.ctx).await?;
    Ok(Json(IncidentDetail {
        incident: incident.into(),
        affected: affected.into_iter().map(Affected::from).collect(),
    }))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct SentNotices {
    /// Citizens notified now.
    #[serde(default)]
    citizens: Vec<String>,
    /// Every affected citizen not notified yet was notified now.
    #[serde(default)]
    all: bool,
    /// The authority was notified now.
    #[serde(default)]
    authority: bool,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct Recorded {
    /// Citizens whose notice was recorded now (not those recorded before).
    citizens: u64,
    authority: bool,
}

/// Record notices sent
///
/// Written notices to citizens and to the authority (UU PDP Art. 46),
/// sent now. A notice already recorded keeps its time. Audited.
#[utoipa::path(post, path = "/api/security/incidents/{incident}/notices", tag = "security", security(("session" = [], "csrf" = [])),
    params(("incident" = String, Path, description = "The incident")),
    request_body = SentNotices,
    responses(
        (status = 200, description = "Recorded", body = Recorded),
        (status = 403, description = "Not a security officer", body = ErrorBody),
        (status = 404, description = "No such incident", body = ErrorBody),
    ))]
pub(super) async fn notices(
    State(state): State<AppState>,
    client: Client,
    Security(permit): Security,
    Path(id): Path<String>,
    Body(body): Body<SentNotices>,
) -> Result<Json<Recorded>, ApiError> {
    let n = Notices {
        citizens: body.citizens,
        all: body.all,
        authority: body.authority,
    };
    let (citizens, authority) = incidents::notify(&state.db, &state.writer, &permit, &id, &n, &client.ctx).await?;
    Ok(Json(Recorded { citizens, authority }))
}

/// The affected citizens as CSV
///
/// For the notices: citizen, data categories, accesses, notified at.
/// Audited.
#[utoipa::path(get, path = "/api/security/incidents/{incident}/export", tag = "security", security(("session" = [])),
    params(("incident" = String, Path, description = "The incident")),
    responses(
        (status = 200, description = "CSV", body = String, content_type = "text/csv"),
        (status = 403, description = "Not a security officer", body = ErrorBody),
        (status = 404, description = "No such incident", body = ErrorBody),
    ))]
pub(super) async fn export(
    State(state): State<AppState>,
    client: Client,
    who: SignedIn,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let permit = officer(&state, &who).await?;
    let csv = incidents::export(&state.db, &state.writer, &permit, &id, &client.ctx).await?;
    let disposition = HeaderValue::from_str(&format!("attachment; filename=\"jaga-{id}.csv\""))
        .unwrap_or(HeaderValue::from_static("attachment"));
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8"),
            ),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        csv,
    )
        .into_response())
}
