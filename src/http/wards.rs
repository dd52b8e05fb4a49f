//! Guardians: the counter links a guardian to a child after checking the
//! family card (KK); the guardian decides on consent for the child.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;

use super::client::Client;
use super::error::{ApiError, ErrorBody};
use super::json::Body;
use super::profile::owner_only;
use super::routes::Routes;
use super::session::SignedIn;
use crate::app::AppState;
use crate::consent::guardian::{self, Ward};
use crate::consent::{ConsentView, Decision};

pub fn routes(state: &AppState) -> Routes {
    let counter = Routes::new().post("/api/counter/guardians", link);
    let wards = Routes::new()
        .get("/api/wards", list)
        .put("/api/wards/{citizen}/consents/{purpose}", decide);
    super::limits::limited(state, counter, crate::ratelimit::COUNTER_IP)
        .merge(super::limits::limited(state, wards, crate::ratelimit::ACCOUNT_IP))
        .layered(|r| super::session::origin_checked(state, r))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct Link {
    /// The child's NIK.
    child_nik: String,
    /// The guardian's NIK (on the same family card).
    guardian_nik: String,
}

/// Link a guardian to a child
///
/// The counter officer checked the family card (KK) listing both: both
/// must have that KK on record. The child is under 18 by their NIK and the
/// guardian is not. Every attempt is audited.
#[utoipa::path(post, path = "/api/counter/guardians", tag = "counter", security(("session" = [], "csrf" = [])), request_body = Link,
    responses(
        (status = 204, description = "Linked"),
        (status = 400, description = "Invalid NIK", body = ErrorBody),
        (status = 403, description = "Not a counter officer", body = ErrorBody),
        (status = 404, description = "No account for one of the NIKs", body = ErrorBody),
        (status = 409, description = "The child is not under 18, the guardian is, or their KKs on record differ", body = ErrorBody),
        (status = 429, description = "Rate limited (counter-ip)", body = ErrorBody),
    ))]
pub(super) async fn link(
    State(state): State<AppState>,
    client: Client,
    who: SignedIn,
    Body(body): Body<Link>,
) -> Result<StatusCode, ApiError> {
    let officer = super::counter::officer(&state, &who).await?;
    super::counter::policy_allows(
        &state,
        &who,
        crate::policy::OfficerAction::FindCitizen,
        "guardian.link",
        None,
        &client.ctx,
    )
    .await?;
    let parse = |nik: &str| {
        crate::account::Nik::parse(nik).map_err(|e| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_nik",
                format!("{} ({e})", e.message_id()),
            )
        })
    };
    let (child, guardian) = (parse(&body.child_nik)?, parse(&body.guardian_nik)?);
    guardian::link(&state.consent, &state.profile, &officer, &child, &guardian, &client.ctx).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// My wards
///
/// The children the signed-in citizen is guardian of (while under 18),
/// with the purposes they may decide for them.
#[utoipa::path(get, path = "/api/wards", tag = "profile", security(("session" = [])),
    responses(
        (status = 200, description = "The wards", body = [Ward]),
        (status = 403, description = "Only citizens have wards", body = ErrorBody),
    ))]
pub(super) async fn list(State(state): State<AppState>, who: SignedIn) -> Result<Json<Vec<Ward>>, ApiError> {
    let own = owner_only(&who)?;
    Ok(Json(guardian::wards(&state.consent, &own).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct WardDecision {
    decision: Decision,
}

/// Decide for my ward
///
/// The guardian grants, refuses or withdraws consent for their ward,
/// recorded with method `guardian`, with its signed receipt.
#[utoipa::path(put, path = "/api/wards/{citizen}/consents/{purpose}", tag = "profile", security(("session" = [], "csrf" = [])),
    params(
        ("citizen" = String, Path, description = "The ward's pseudonym"),
        ("purpose" = String, Path, description = "A purpose of the catalog"),
    ),
    request_body = WardDecision,
    responses(
        (status = 200, description = "Recorded", body = ConsentView),
        (status = 403, description = "The ward is 18 or older: they decide alone", body = ErrorBody),
        (status = 404, description = "Not a ward of this citizen, or no such purpose", body = ErrorBody),
        (status = 409, description = "The purpose does not depend on consent", body = ErrorBody),
    ))]
pub(super) async fn decide(
    State(state): State<AppState>,
    client: Client,
    who: SignedIn,
    Path((citizen, purpose)): Path<(String, String)>,
    Body(body): Body<WardDecision>,
) -> Result<Json<ConsentView>, ApiError> {
    let own = owner_only(&who)?;
    Ok(Json(
        guardian::decide_for(&state.consent, &own, &citizen, &purpose, body.decision, &client.ctx).await?,
    ))
}
