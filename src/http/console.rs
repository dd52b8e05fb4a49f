//! The security officers' console API: audit search and an event's
//! detail. Citizens, modules and officers without the security role get
//! 403; every search and every detail read is itself audited.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use super::client::Client;
use super::error::{ApiError, ErrorBody};
use super::routes::Routes;
use super::session::SignedIn;
use crate::app::AppState;
use crate::audit::export::{list, time_text};
use crate::console::permit::SecurityOfficer;
use crate::console::search::{self, Asked, SearchError};
use crate::store::audit::EventRow;

pub const AUDIT: &str = "/api/security/audit";

pub fn routes() -> Routes {
    Routes::new()
        .get(AUDIT, audit_search)
        .get("/api/security/audit/export", super::audit_export::audit_export)
        .get("/api/security/audit/{seq}", audit_event)
}

impl From<SearchError> for ApiError {
    fn from(e: SearchError) -> Self {
        match e {
            SearchError::Bad(why) => ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_query",
                format!("Filter pencarian tidak valid. (Invalid search filter: {why}.)"),
            ),
            other => ApiError::internal(other),
        }
    }
}

/// The security-officer permit as an extractor, placed before a body:
/// 401 or 403 comes before the body is read, whatever it holds.
pub(super) struct Security(pub SecurityOfficer);

impl axum::extract::FromRequestParts<AppState> for Security {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, state: &AppState) -> Result<Self, ApiError> {
        let who = SignedIn::from_request_parts(parts, state).await?;
        Ok(Security(officer(state, &who).await?))
    }
}

/// The security-officer permit, or 403.
pub(super) async fn officer(state: &AppState, who: &SignedIn) -> Result<SecurityOfficer, ApiError> {
    SecurityOfficer::load(&state.db, who)
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                "Hanya petugas keamanan yang dapat melakukan ini. (Only security officers can do this.)",
            )
        })
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(super) struct AuditQuery {
    /// From this instant (RFC 3339), included.
    from: Option<String>,
    /// Until this instant (RFC 3339), excluded.
    to: Option<String>,
    /// system, operator, citizen, officer, module or anonymous.
    actor_kind: Option<String>,
    /// The actor's pseudonym (or a module's name).
    actor: Option<String>,
    /// A citizen's pseudonym: events about the citizen, or by them.
    citizen: Option<String>,
    /// An action, e.g. record.read.
    action: Option<String>,
    /// A purpose of the catalog.
    purpose: Option<String>,
    /// A module's name: what the module did.
    module: Option<String>,
    /// success, denied or failure.
    outcome: Option<String>,
    /// The request id a caller was given (x-request-id).
    request_id: Option<String>,
    /// `next_cursor` of the page before.
    cursor: Option<String>,
    /// Events per page, 1 to 200 (default 50).
    limit: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct Actor {
    kind: String,
    id: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct Target {
    kind: String,
    id: Option<String>,
    fields: Vec<String>,
}

/// One audit event.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct AuditEvent {
    seq: i64,
    /// RFC 3339, UTC, microseconds.
    time: String,
    /// The same instant in microseconds since 1970 (as the event's
    /// canonical bytes hold it, for checking its leaf hash).
    time_us: i64,
    actor: Actor,
    action: String,
    target: Target,
    purpose: Option<String>,
    outcome: String,
    reason: Option<String>,
    request_id: Option<String>,
    source: Option<String>,
    /// The policies that decided, when a policy decided.
    policies: Vec<String>,
    /// The event's detail.
    link: String,
}

impl From<EventRow> for AuditEvent {
    fn from(r: EventRow) -> Self {
        AuditEvent {
            link: format!("{AUDIT}/{}", r.seq),
            seq: r.seq,
            time: time_text(r.time_us),
            time_us: r.time_us,
            actor: Actor {
                kind: r.actor_kind,
                id: r.actor_id,
            },
            action: r.action,
            target: Target {
                kind: r.target_kind,
                id: r.target_id,
                fields: list(&r.target_fields),
            },
            purpose: r.purpose,
            outcome: r.outcome,
            reason: r.reason,
            request_id: r.request_id,
            source: r.source,
            policies: list(&r.policies),
        }
    }
}

/// A page of the search.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct AuditPage {
    /// Newest first (time, then sequence number).
    events: Vec<AuditEvent>,
    /// Pass as `cursor` (with the same filters) for the next page; absent
    /// when this page is the last.
    next_cursor: Option<String>,
}

/// Search the audit log
///
/// Security officers only. Every filter given must hold; newest first;
/// pages follow `next_cursor` without repeating or skipping an event,
/// however many are appended meanwhile. The search itself is audited
/// (which filters, not their values).
#[utoipa::path(get, path = "/api/security/audit", tag = "security", security(("session" = [])),
    params(AuditQuery),
    responses(
        (status = 200, description = "A page of events", body = AuditPage),
        (status = 400, description = "A filter that is not valid (invalid_query)", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not a security officer", body = ErrorBody),
    ))]
pub(super) async fn audit_search(
    State(state): State<AppState>,
    client: Client,
    who: SignedIn,
    Query(q): Query<AuditQuery>,
) -> Result<Json<AuditPage>, ApiError> {
    let permit = officer(&state, &who).await?;
    let asked = Asked {
        from: q.from,
        to: q.to,
        actor_kind: q.actor_kind,
        actor: q.actor,
        citizen: q.citizen,
        action: q.action,
        purpose: q.purpose,
        module: q.module,
        outcome: q.outcome,
        request_id: q.request_id,
        cursor: q.cursor,
        limit: q.limit,
    };
    let page = search::search(&state.db, &state.writer, &permit, &asked, &client.ctx).await?;
    Ok(Json(AuditPage {
        events: page.events.into_iter().map(AuditEvent::from).collect(),
        next_cursor: page.next,
    }))
}

/// One audit event
///
/// Security officers only; the read is audited.
#[utoipa::path(get, path = "/api/security/audit/{seq}", tag = "security", security(("session" = [])),
    params(("seq" = String, Path, description = "The event's sequence number")),
    responses(
        (status = 200, description = "The event", body = AuditEvent),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not a security officer", body = ErrorBody),
        (status = 404, description = "No such event", body = ErrorBody),
    ))]
pub(super) async fn audit_event(
    State(state): State<AppState>,
    client: Client,
    who: SignedIn,
    Path(seq): Path<String>,
) -> Result<Json<AuditEvent>, ApiError> {
    let permit = officer(&state, &who).await?;
    let missing = || {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "no_event",
            "Kejadian tidak ditemukan. (No such event.)",
        )
    };
    let seq: i64 = seq.parse().ok().filter(|s| *s >= 0).ok_or_else(missing)?;
    search::event(&state.db, &state.writer, &permit, seq, &client.ctx)
        .await?
        .map(|row| Json(AuditEvent::from(row)))
        .ok_or_else(missing)
}
