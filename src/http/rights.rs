//! Data-subject requests that take a decision or cannot be undone: the
//! citizen's correction requests and the counter's decisions on them
//! (3 x 24 hours), and erasure at the citizen's request.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use super::client::Client;
use super::error::{ApiError, ErrorBody};
use super::json::Body;
use super::profile::owner_only;
use super::routes::Routes;
use super::session::SignedIn;
use crate::app::AppState;
use crate::policy::OfficerAction;
use crate::rights::correction::{self, CorrectableField, Correction, CorrectionError, Decision, Queued};
use crate::rights::erasure::{self, ErasureError, ErasurePlan};

pub fn routes(state: &AppState) -> Routes {
    let own = Routes::new()
        .get("/api/corrections", own_corrections)
        .post("/api/corrections", request_correction)
        .get("/api/erasure", erasure_preview)
        .post("/api/erasure", erase);
    let counter = Routes::new()
        .get("/api/counter/corrections", queue)
        .get("/api/counter/corrections/{request}", open)
        .post("/api/counter/corrections/{request}/decision", decide);
    super::limits::limited(state, own, crate::ratelimit::ACCOUNT_IP)
        .merge(super::limits::limited(state, counter, crate::ratelimit::COUNTER_IP))
        .layered(|r| super::session::origin_checked(state, r))
}

impl From<CorrectionError> for ApiError {
    fn from(e: CorrectionError) -> Self {
        match e {
            CorrectionError::Invalid(f) => ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_field",
                format!("Isian {0} tidak valid. ({0}: {1})", f.field, f.reason),
            ),
            CorrectionError::AlreadyOpen => ApiError::new(
                StatusCode::CONFLICT,
                "correction_open",
                "Permintaan perbaikan untuk isian ini masih diproses. \
                 (A correction request for this field is still open.)",
            ),
            CorrectionError::NotFound => ApiError::new(
                StatusCode::NOT_FOUND,
                "no_request",
                "Permintaan perbaikan tidak ditemukan. (No such correction request.)",
            ),
            CorrectionError::Decided => ApiError::new(
                StatusCode::CONFLICT,
                "already_decided",
                "Permintaan ini sudah diputuskan. (This request was already decided.)",
            ),
            CorrectionError::ReasonRequired => ApiError::new(
                StatusCode::BAD_REQUEST,
                "reason_required",
                "Tuliskan alasan penolakan untuk warga. (Write the reason for the refusal.)",
            ),
            CorrectionError::ReasonTooLong => ApiError::new(
                StatusCode::BAD_REQUEST,
                "reason_too_long",
                format!(
                    "Alasan paling banyak {0} karakter. (The reason is at most {0} characters.)",
                    correction::REASON_MAX
                ),
            ),
            CorrectionError::ReasonUnsafe => ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_reason",
                "Alasan berisi karakter kendali atau karakter tak terlihat. \
                 (The reason holds a control or invisible formatting character.)",
            ),
            CorrectionError::Profile(p) => p.into(),
            other => ApiError::internal(other),
        }
    }
}

impl From<ErasureError> for ApiError {
    fn from(e: ErasureError) -> Self {
        match e {
            ErasureError::AlreadyErased => ApiError::new(
                StatusCode::CONFLICT,
                "already_erased",
                "Data Anda sudah dihapus. (Your data was already erased.)",
            ),
            ErasureError::PlanChanged => ApiError::new(
                StatusCode::CONFLICT,
                "plan_changed",
                "Data yang akan dihapus atau disimpan telah berubah. Baca lagi halaman ini, lalu putuskan. \
                 (What would be erased or kept has changed. Read the page again, then decide.)",
            ),
            other => ApiError::internal(other),
        }
    }
}

/// My correction requests
///
/// The signed-in citizen's correction requests, newest first, with the
/// value asked for, the state, the deadline (72 hours after the request)
/// and the officer's reason. Audited when there is any.
#[utoipa::path(get, path = "/api/corrections", tag = "rights", security(("session" = [])),
    responses(
        (status = 200, description = "The requests", body = [Correction]),
        (status = 403, description = "Only citizens", body = ErrorBody),
        (status = 429, description = "Rate limited (account-ip)", body = ErrorBody),
    ))]
pub(super) async fn own_corrections(
    State(state): State<AppState>,
    client: Client,
    who: SignedIn,
) -> Result<Json<Vec<Correction>>, ApiError> {
    let own = owner_only(&who)?;
    Ok(Json(correction::own(&state.profile, &own, &client.ctx).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct CorrectionAsk {
    field: CorrectableField,
    /// The correct value, as on the KTP or KK (validated as the counter would).
    value: String,
}

/// Ask for a correction
///
/// The citizen asks for an identity field (which they cannot change
/// themselves) to be corrected. A counter officer decides within 3 x 24
/// hours (UU PDP Art. 30), after checking the documents. One open request
/// per field. Audited.
#[utoipa::path(post, path = "/api/corrections", tag = "rights", security(("session" = [], "csrf" = [])),
    request_body = CorrectionAsk,
    responses(
        (status = 201, description = "Requested", body = Correction),
        (status = 400, description = "An invalid value (the field named)", body = ErrorBody),
        (status = 403, description = "Only citizens; or Origin or CSRF refused", body = ErrorBody),
        (status = 409, description = "A request for this field is already open", body = ErrorBody),
        (status = 429, description = "Rate limited (account-ip)", body = ErrorBody),
    ))]
pub(super) async fn request_correction(
    State(state): State<AppState>,
    client: Client,
    who: SignedIn,
    Body(body): Body<CorrectionAsk>,
) -> Result<(StatusCode, Json<Correction>), ApiError> {
    let own = owner_only(&who)?;
    let made = correction::request(&state.profile, &own, body.field, &body.value, &client.ctx).await?;
    Ok((StatusCode::CREATED, Json(made)))
}

/// Open correction requests
///
/// The counter's queue: open requests, the nearest deadline first, with
/// the citizen's pseudonym and the field, no values.
#[utoipa::path(get, path = "/api/counter/corrections", tag = "counter", security(("session" = [])),
    responses(
        (status = 200, description = "The queue", body = [Queued]),
        (status = 403, description = "Not a counter officer", body = ErrorBody),
        (status = 429, description = "Rate limited (counter-ip)", body = ErrorBody),
    ))]
pub(super) async fn queue(State(state): State<AppState>, who: SignedIn) -> Result<Json<Vec<Queued>>, ApiError> {
    super::counter::officer(&state, &who).await?;
    Ok(Json(correction::queue(&state.profile).await?))
}

/// A request and its citizen.
#[derive(Serialize, utoipa::ToSchema)]
pub(super) struct Opened {
    /// The citizen's pseudonym.
    citizen: String,
    request: Correction,
}

/// Open a correction request
///
/// The value asked for, for the counter officer who checks the documents.
/// Decided by the `change_identity` policies; audited.
#[utoipa::path(get, path = "/api/counter/corrections/{request}", tag = "counter", security(("session" = [])),
    params(("request" = String, Path, description = "The request's id")),
    responses(
        (status = 200, description = "The request", body = Opened),
        (status = 403, description = "Not a counter officer, or a policy refused", body = ErrorBody),
        (status = 404, description = "No such request", body = ErrorBody),
        (status = 429, description = "Rate limited (counter-ip)", body = ErrorBody),
    ))]
pub(super) async fn open(
    State(state): State<AppState>,
    client: Client,
    who: SignedIn,
    Path(request): Path<String>,
) -> Result<Json<Opened>, ApiError> {
    let officer = super::counter::officer(&state, &who).await?;
    let citizen = citizen_of(&state, &request).await?;
    super::counter::policy_allows(
        &state,
        &who,
        OfficerAction::ChangeIdentity,
        "correction.open",
        Some(&citizen),
        &client.ctx,
    )
    .await?;
    let (citizen, request) = correction::open(&state.profile, &officer, &request, &client.ctx).await?;
    Ok(Json(Opened { citizen, request }))
}

/// The pseudonym of the request's citizen (404 if there is no such request).
async fn citizen_of(state: &AppState, request: &str) -> Result<String, ApiError> {
    let row = crate::store::corrections::get(&state.db, request)
        .await
        .map_err(ApiError::internal)?
        .ok_or(CorrectionError::NotFound)?;
    Ok(crate::store::identity::account_by_id(&state.db, &row.account_id)
        .await
        .map_err(ApiError::internal)?
        .ok_or(CorrectionError::NotFound)?
        .pseudonym)
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct Decide {
    decision: Decision,
    /// Required to refuse; shown to the citizen. At most 500 characters.
    #[serde(default)]
    reason: Option<String>,
}

/// Decide a correction request
///
/// The counter officer approves (the profile changes in the same step,
/// audited as an identity change) or refuses with a reason the citizen
/// sees. Decided by the `change_identity` policies; audited.
#[utoipa::path(post, path = "/api/counter/corrections/{request}/decision", tag = "counter", security(("session" = [], "csrf" = [])),
    params(("request" = String, Path, description = "The request's id")), request_body = Decide,
    responses(
        (status = 200, description = "Decided", body = Correction),
        (status = 400, description = "A refusal without a reason, a reason too long, or a value no longer valid", body = ErrorBody),
        (status = 403, description = "Not a counter officer, or a policy refused; or Origin or CSRF refused", body = ErrorBody),
        (status = 404, description = "No such request", body = ErrorBody),
        (status = 409, description = "Already decided, or the NIK belongs to another account", body = ErrorBody),
        (status = 429, description = "Rate limited (counter-ip)", body = ErrorBody),
    ))]
pub(super) async fn decide(
    State(state): State<AppState>,
    client: Client,
    who: SignedIn,
    Path(request): Path<String>,
    Body(body): Body<Decide>,
) -> Result<Json<Correction>, ApiError> {
    let officer = super::counter::officer(&state, &who).await?;
    let citizen = citizen_of(&state, &request).await?;
    super::counter::policy_allows(
        &state,
        &who,
        OfficerAction::ChangeIdentity,
        "correction.decide",
        Some(&citizen),
        &client.ctx,
    )
    .await?;
    let decided = correction::decide(
        &state.profile,
        &officer,
        &request,
        body.decision,
        body.reason.as_deref(),
        &client.ctx,
    )
    .await?;
    Ok(Json(decided))
}

/// What erasing my data would do
///
/// The fields that would be crypto-shredded, and those a legal obligation
/// keeps, with the purpose and until when. Nothing is opened.
#[utoipa::path(get, path = "/api/erasure", tag = "rights", security(("session" = [])),
    responses(
        (status = 200, description = "The plan", body = ErasurePlan),
        (status = 403, description = "Only citizens", body = ErrorBody),
        (status = 429, description = "Rate limited (account-ip)", body = ErrorBody),
    ))]
pub(super) async fn erasure_preview(
    State(state): State<AppState>,
    who: SignedIn,
) -> Result<Json<ErasurePlan>, ApiError> {
    let own = owner_only(&who)?;
    Ok(Json(erasure::preview(&state.rights, &own).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct EraseAsk {
    /// Must be `true`: the citizen confirmed, having read what is kept.
    confirm: bool,
    /// The `digest` of the plan the citizen read (`GET /api/erasure`).
    plan: String,
}

/// Erase my data
///
/// Crypto-shreds everything not kept under a legal obligation (UU PDP
/// Art. 8 and 43) and ends the account: passkeys, sessions, name and NIK
/// index go. What is kept is sealed under a new data key until its
/// retention ends. `plan` is the digest of the plan the citizen read: if
/// what would be done has changed since, nothing happens (409
/// `plan_changed`). Needs a recent sign-in. Audited. Cannot be undone.
#[utoipa::path(post, path = "/api/erasure", tag = "rights", security(("session" = [], "csrf" = [])),
    request_body = EraseAsk,
    responses(
        (status = 200, description = "Erased: what went and what is kept", body = ErasurePlan),
        (status = 400, description = "Not confirmed", body = ErrorBody),
        (status = 403, description = "Only citizens; a recent sign-in needed (reauth_required); or Origin or CSRF refused", body = ErrorBody),
        (status = 409, description = "Already erased, or the plan changed since it was read (plan_changed)", body = ErrorBody),
        (status = 429, description = "Rate limited (account-ip)", body = ErrorBody),
    ))]
pub(super) async fn erase(
    State(state): State<AppState>,
    client: Client,
    who: SignedIn,
    Body(body): Body<EraseAsk>,
) -> Result<Json<ErasurePlan>, ApiError> {
    let own = owner_only(&who)?;
    super::session::recent(&state, &who)?;
    if !body.confirm {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "confirmation_required",
            "Centang konfirmasi untuk menghapus data Anda. (Confirm to erase your data.)",
        ));
    }
    Ok(Json(
        erasure::erase(&state.rights, &own, &body.plan, &client.ctx).await?,
    ))
}
