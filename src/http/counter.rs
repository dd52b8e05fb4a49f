//! The counter officer's API: assisted enrolment (code and QR), assisted
//! recovery, and verifying a self-enrolled account.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use super::client::Client;
use super::error::{ApiError, ErrorBody};
use super::json::Body;
use super::routes::Routes;
use super::session::SignedIn;
use crate::app::AppState;
use crate::identity::counter::{self, CounterOfficer, IssuedCode};

pub fn routes(state: &AppState) -> Routes {
    let counter = Routes::new()
        .post("/api/counter/enrol", enrol)
        .post("/api/counter/recover", recover)
        .post("/api/counter/verify", verify);
    super::limits::limited(state, counter, crate::ratelimit::COUNTER_IP)
        .layered(|r| super::session::origin_checked(state, r))
}

/// The counter-officer permit, or 403.
pub(super) async fn officer(state: &AppState, who: &SignedIn) -> Result<CounterOfficer, ApiError> {
    CounterOfficer::load(&state.db, who)
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                "Hanya petugas loket yang dapat melakukan ini. (Only counter officers can do this.)",
            )
        })
}

/// The Cedar policies' decision on the officer's `action`, after the role
/// permit: a denial is audited (naming the deciding policies) and 403.
pub(super) async fn policy_allows(
    state: &AppState,
    who: &SignedIn,
    action: crate::policy::OfficerAction,
    audit_action: &'static str,
    citizen: Option<&str>,
    ctx: &crate::audit::Context,
) -> Result<(), ApiError> {
    let policies = &state.consent.policies;
    let allowed = crate::policy::officers::allows(
        policies,
        &state.db,
        &state.writer,
        who.account(),
        action,
        audit_action,
        citizen,
        ctx,
    )
    .await
    .map_err(ApiError::internal)?;
    if allowed {
        return Ok(());
    }
    Err(ApiError::new(
        StatusCode::FORBIDDEN,
        "policy_denied",
        "Kebijakan tidak mengizinkan tindakan ini. (The policies do not allow this.)",
    ))
}

#[derive(Debug, Serialize)]
pub(super) struct CodeWithQr {
    #[serde(flatten)]
    code: IssuedCode,
    /// The link as an SVG QR code.
    qr_svg: String,
}

fn with_qr(code: IssuedCode) -> Result<Json<CodeWithQr>, ApiError> {
    let qr = qrcode::QrCode::new(code.url.as_bytes()).map_err(ApiError::internal)?;
    let svg = qr
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(240, 240)
        .build();
    Ok(Json(CodeWithQr { code, qr_svg: svg }))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct Enrol {
    nik: String,
    name: String,
}

/// Enrol a citizen at the counter
///
/// A one-time enrolment code, link and QR code (15 minutes) for a citizen
/// whose KTP the officer checked.
#[utoipa::path(post, path = "/api/counter/enrol", tag = "counter", security(("session" = [], "csrf" = [])), request_body = Enrol,
    responses(
        (status = 200, description = "A one-time enrolment code, link and QR code", body = ref("#/components/schemas/CodeWithQr")),
        (status = 400, description = "Invalid NIK or name", body = ErrorBody),
        (status = 403, description = "Not a counter officer, or the officer's unit is not recorded", body = ErrorBody),
        (status = 409, description = "Already enrolled and verified", body = ErrorBody),
        (status = 429, description = "Rate limited (counter-ip)", body = ErrorBody),
    ))]
pub(super) async fn enrol(
    State(state): State<AppState>,
    client: Client,
    who: SignedIn,
    Body(body): Body<Enrol>,
) -> Result<Json<CodeWithQr>, ApiError> {
    let officer = officer(&state, &who).await?;
    with_qr(counter::enrol(&state.identity, &officer, &body.nik, &body.name, &client.ctx).await?)
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct Recover {
    nik: String,
}

/// Recover an account at the counter
///
/// Officer-assisted recovery: using the code ends every old passkey and
/// session of the account; the citizen is told, and the recovery is
/// flagged for a security officer's review.
#[utoipa::path(post, path = "/api/counter/recover", tag = "counter", security(("session" = [], "csrf" = [])), request_body = Recover,
    responses(
        (status = 200, description = "A one-time recovery code, link and QR code", body = ref("#/components/schemas/CodeWithQr")),
        (status = 400, description = "Invalid NIK", body = ErrorBody),
        (status = 403, description = "Not a counter officer, or the officer's unit is not recorded", body = ErrorBody),
        (status = 404, description = "No account for this NIK", body = ErrorBody),
        (status = 429, description = "Rate limited (counter-ip)", body = ErrorBody),
    ))]
pub(super) async fn recover(
    State(state): State<AppState>,
    client: Client,
    who: SignedIn,
    Body(body): Body<Recover>,
) -> Result<Json<CodeWithQr>, ApiError> {
    let officer = officer(&state, &who).await?;
    with_qr(counter::recover(&state.identity, &officer, &body.nik, &client.ctx).await?)
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct Verify {
    nik: String,
    code: String,
}

/// Verify a self-enrolled citizen
///
/// The officer checked the KTP and enters the code the citizen shows.
#[utoipa::path(post, path = "/api/counter/verify", tag = "counter", security(("session" = [], "csrf" = [])), request_body = Verify,
    responses(
        (status = 200, description = "Verified", body = ref("#/components/schemas/Verified")),
        (status = 400, description = "Invalid NIK, or the code does not match or expired", body = ErrorBody),
        (status = 403, description = "Not a counter officer", body = ErrorBody),
        (status = 429, description = "Rate limited (counter-ip, or verify-account after failures)", body = ErrorBody),
    ))]
pub(super) async fn verify(
    State(state): State<AppState>,
    client: Client,
    who: SignedIn,
    Body(body): Body<Verify>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let officer = officer(&state, &who).await?;
    let account =
        crate::identity::verification::verify(&state.identity, &officer, &body.nik, &body.code, &client.ctx).await?;
    Ok(Json(serde_json::json!({ "account": account, "verified": true })))
}

impl std::fmt::Debug for Enrol {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Enrol(<redacted: nik, name>)")
    }
}

impl std::fmt::Debug for Recover {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Recover(<redacted: nik>)")
    }
}

impl std::fmt::Debug for Verify {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Verify(<redacted: nik, code>)")
    }
}
