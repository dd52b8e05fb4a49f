//! Break-glass for security officers: open a window on one citizen's data
//! with a written justification, then read it while the window is open.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;

use super::client::Client;
use super::error::{ApiError, ErrorBody};
use super::json::Body;
use super::routes::Routes;
use super::session::SignedIn;
use crate::app::AppState;
use crate::breakglass::review::{self as reviews, Decision, Waiting};
use crate::breakglass::{self, BreakGlassError, Disclosed, Opened};

pub fn routes(state: &AppState) -> Routes {
    let officer = Routes::new()
        .post("/api/break-glass", open)
        .get("/api/break-glass/{grant}", read)
        .get("/api/security/break-glass", queue)
        .post("/api/security/break-glass/{grant}/review", review);
    super::limits::limited(state, officer, crate::ratelimit::ACCOUNT_IP)
        .layered(|r| super::session::origin_checked(state, r))
}

impl From<BreakGlassError> for ApiError {
    fn from(e: BreakGlassError) -> Self {
        match e {
            BreakGlassError::Invalid(why) => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_request",
                format!("Permintaan tidak valid. (Invalid request: {why}.)"),
            ),
            BreakGlassError::Refused => ApiError::new(
                StatusCode::FORBIDDEN,
                "break_glass_refused",
                "Kebijakan tidak mengizinkan akses darurat ini: hanya petugas keamanan, dengan alasan tertulis \
                 yang cukup dan jangka waktu yang diizinkan. (The policies do not allow this emergency access: \
                 only a security officer, with a sufficient written justification and an allowed window.)",
            ),
            BreakGlassError::NoCitizen => ApiError::new(
                StatusCode::NOT_FOUND,
                "no_citizen",
                "Warga tidak ditemukan. (No such citizen.)",
            ),
            BreakGlassError::NoGrant | BreakGlassError::NotYours => ApiError::new(
                StatusCode::NOT_FOUND,
                "no_grant",
                "Akses darurat ini tidak ada atau bukan milik Anda. (No such emergency access of yours.)",
            ),
            BreakGlassError::SelfReview => ApiError::new(
                StatusCode::FORBIDDEN,
                "self_review",
                "Akses darurat ditinjau oleh petugas keamanan lain, bukan yang menggunakannya. \
                 (An emergency access is reviewed by another security officer, not the one who used it.)",
            ),
            BreakGlassError::AlreadyReviewed => ApiError::new(
                StatusCode::CONFLICT,
                "already_reviewed",
                "Akses darurat ini sudah ditinjau. (This emergency access was already reviewed.)",
            ),
            BreakGlassError::Expired => ApiError::new(
                StatusCode::FORBIDDEN,
                "break_glass_expired",
                "Jangka waktu akses darurat ini sudah berakhir. (This emergency access window has closed.)",
            ),
            other => ApiError::internal(other),
        }
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct Open {
    /// The citizen's pseudonym.
    citizen: String,
    /// Why, in writing (the shipped policy asks at least 30 characters).
    justification: String,
    /// How long the window stays open (default 30; the shipped policy
    /// allows at most 60).
    #[serde(default = "default_minutes")]
    minutes: u32,
}

fn default_minutes() -> u32 {
    30
}

/// Open emergency access (break-glass)
///
/// A security officer opens a window on one citizen's data without their
/// consent. Allowed only by the `break_glass` policy; audited, shown to
/// the citizen, and queued for review by another security officer.
#[utoipa::path(post, path = "/api/break-glass", tag = "break-glass", security(("session" = [], "csrf" = [])), request_body = Open,
    responses(
        (status = 201, description = "The window is open", body = Opened),
        (status = 403, description = "The policies do not allow it (role, justification, window)", body = ErrorBody),
        (status = 404, description = "No such citizen", body = ErrorBody),
        (status = 422, description = "Justification or window out of bounds", body = ErrorBody),
    ))]
pub(super) async fn open(
    State(state): State<AppState>,
    client: Client,
    who: SignedIn,
    Body(body): Body<Open>,
) -> Result<(StatusCode, Json<Opened>), ApiError> {
    let opened = breakglass::open(
        &state.break_glass,
        &who,
        &body.citizen,
        &body.justification,
        body.minutes,
        &client.ctx,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(opened)))
}

/// Read under emergency access
///
/// Everything held about the citizen, in plain, while the window the
/// officer opened is open. Every read is audited with the fields opened.
#[utoipa::path(get, path = "/api/break-glass/{grant}", tag = "break-glass", security(("session" = [])),
    params(("grant" = String, Path, description = "The grant from POST /api/break-glass")),
    responses(
        (status = 200, description = "The citizen's data", body = Disclosed),
        (status = 403, description = "The window has closed, or the policies no longer allow it", body = ErrorBody),
        (status = 404, description = "No such grant of this officer", body = ErrorBody),
    ))]
pub(super) async fn read(
    State(state): State<AppState>,
    client: Client,
    who: SignedIn,
    Path(grant): Path<String>,
) -> Result<Json<Disclosed>, ApiError> {
    Ok(Json(
        breakglass::read(&state.break_glass, &who, &grant, &client.ctx).await?,
    ))
}

/// The break-glass review queue
///
/// Security officers only. Every grant not reviewed yet, oldest first,
/// with how long it has waited and its justification (each shown is
/// audited); `own` marks the looking officer's own grants, which another
/// officer must review.
#[utoipa::path(get, path = "/api/security/break-glass", tag = "break-glass", security(("session" = [])),
    responses(
        (status = 200, description = "The grants waiting for review", body = [Waiting]),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not a security officer", body = ErrorBody),
    ))]
pub(super) async fn queue(
    State(state): State<AppState>,
    client: Client,
    who: SignedIn,
) -> Result<Json<Vec<Waiting>>, ApiError> {
    let permit = super::console::officer(&state, &who).await?;
    Ok(Json(reviews::queue(&state.break_glass, &permit, &client.ctx).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct Review {
    /// accepted or escalated
    decision: String,
    /// Why (10 to 2000 characters).
    note: String,
}

/// Review a break-glass grant
///
/// A security officer other than the one who opened it accepts or
/// escalates the grant, with a note (sealed like the justification).
/// Audited; a grant is reviewed once.
#[utoipa::path(post, path = "/api/security/break-glass/{grant}/review", tag = "break-glass", security(("session" = [], "csrf" = [])),
    params(("grant" = String, Path, description = "The grant")),
    request_body = Review,
    responses(
        (status = 204, description = "Reviewed"),
        (status = 403, description = "Not a security officer, or the grant is the officer's own (self_review)", body = ErrorBody),
        (status = 404, description = "No such grant", body = ErrorBody),
        (status = 409, description = "Already reviewed", body = ErrorBody),
        (status = 422, description = "Decision or note out of bounds", body = ErrorBody),
    ))]
pub(super) async fn review(
    State(state): State<AppState>,
    client: Client,
    super::console::Security(permit): super::console::Security,
    Path(grant): Path<String>,
    Body(body): Body<Review>,
) -> Result<StatusCode, ApiError> {
    let decision =
        Decision::parse(&body.decision).ok_or(BreakGlassError::Invalid("decision: accepted or escalated"))?;
    reviews::review(&state.break_glass, &permit, &grant, decision, &body.note, &client.ctx).await?;
    Ok(StatusCode::NO_CONTENT)
}
