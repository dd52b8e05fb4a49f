//! The citizen's consents: the purposes they may decide on, and their
//! grant, refusal or withdrawal of each.

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
use crate::consent::{self, ConsentError, ConsentView, Decision, ReceiptOut};

pub fn routes(state: &AppState) -> Routes {
    let own = Routes::new()
        .get("/api/consents", list)
        .put("/api/consents/{purpose}", decide)
        .get("/api/consents/{purpose}/receipts", receipts);
    super::limits::limited(state, own, crate::ratelimit::ACCOUNT_IP)
        .layered(|r| super::session::origin_checked(state, r))
        .merge(Routes::new().get("/.well-known/jaga-consent-keys", keys))
}

impl From<ConsentError> for ApiError {
    fn from(e: ConsentError) -> Self {
        match e {
            ConsentError::NoPurpose => ApiError::new(
                StatusCode::NOT_FOUND,
                "no_purpose",
                "Tujuan ini tidak ada dalam katalog. (No such purpose in the catalog.)",
            ),
            ConsentError::NotWithdrawable => ApiError::new(
                StatusCode::CONFLICT,
                "not_withdrawable",
                "Pemrosesan untuk tujuan ini tidak bergantung pada persetujuan Anda dan tidak dapat ditolak atau \
                 ditarik; halaman pemberitahuan privasi menjelaskan dasar hukumnya. (Processing for this purpose \
                 does not depend on your consent and cannot be refused or withdrawn; the privacy notice explains \
                 its lawful basis.)",
            ),
            ConsentError::NoDecision => ApiError::new(
                StatusCode::NOT_FOUND,
                "no_decision",
                "Anda belum memutuskan apa pun untuk tujuan ini. (You have made no decision on this purpose yet.)",
            ),
            ConsentError::GuardianRequired => ApiError::new(
                StatusCode::FORBIDDEN,
                "guardian_required",
                "Anda belum berusia 18 tahun: persetujuan diberikan oleh wali Anda, yang ditautkan di loket \
                 layanan setelah pemeriksaan Kartu Keluarga. Anda tetap boleh menolak atau menarik persetujuan. \
                 (You are under 18: your guardian gives consent, once linked at the service counter after the \
                 family card is checked. You may still refuse or withdraw.)",
            ),
            ConsentError::NoWard => ApiError::new(
                StatusCode::NOT_FOUND,
                "no_ward",
                "Warga ini bukan anak dalam perwalian Anda. (This citizen is not your ward.)",
            ),
            ConsentError::LinkLapsed => ApiError::new(
                StatusCode::FORBIDDEN,
                "link_lapsed",
                "Warga ini sudah berusia 18 tahun dan memutuskan sendiri. (This citizen is 18 or older and decides alone.)",
            ),
            ConsentError::NotAChild => ApiError::new(
                StatusCode::CONFLICT,
                "not_a_child",
                "Menurut NIK-nya, warga ini tidak berusia di bawah 18 tahun. (By their NIK, this citizen is not under 18.)",
            ),
            ConsentError::KkMismatch => ApiError::new(
                StatusCode::CONFLICT,
                "kk_mismatch",
                "Nomor Kartu Keluarga anak dan wali harus tercatat di Jaga dan sama; catat nomor KK keduanya di \
                 loket terlebih dahulu. (The child's and the guardian's family card numbers must both be on \
                 record and the same; record both KK numbers at the counter first.)",
            ),
            ConsentError::NoCitizen => ApiError::new(
                StatusCode::NOT_FOUND,
                "no_citizen",
                "NIK ini belum terdaftar. (No account holds this NIK.)",
            ),
            ConsentError::GuardianNotAdult => ApiError::new(
                StatusCode::CONFLICT,
                "guardian_not_adult",
                "Menurut NIK-nya, wali belum berusia 18 tahun. (By their NIK, the guardian is under 18.)",
            ),
            other => ApiError::internal(other),
        }
    }
}

/// My consents
///
/// Every purpose the signed-in citizen may grant, refuse or withdraw, with
/// the decision in force and whether processing goes on.
#[utoipa::path(get, path = "/api/consents", tag = "profile", security(("session" = [])),
    responses(
        (status = 200, description = "The purposes and decisions", body = [ConsentView]),
        (status = 403, description = "Only citizens decide on consent", body = ErrorBody),
        (status = 429, description = "Rate limited (account-ip)", body = ErrorBody),
    ))]
pub(super) async fn list(State(state): State<AppState>, who: SignedIn) -> Result<Json<Vec<ConsentView>>, ApiError> {
    let own = owner_only(&who)?;
    Ok(Json(consent::list(&state.consent, &own).await?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct DecisionBody {
    decision: Decision,
}

/// Decide on a purpose
///
/// Grants, refuses or withdraws one purpose. A withdrawal stops processing
/// from the next request. Audited; the history is kept.
#[utoipa::path(put, path = "/api/consents/{purpose}", tag = "profile", security(("session" = [], "csrf" = [])),
    params(("purpose" = String, Path, description = "A purpose of the catalog, such as survei.kepuasan")),
    request_body = DecisionBody,
    responses(
        (status = 200, description = "The decision in force", body = ConsentView),
        (status = 403, description = "Only citizens decide on consent; or Origin or CSRF refused", body = ErrorBody),
        (status = 404, description = "No such purpose in the catalog", body = ErrorBody),
        (status = 409, description = "The purpose does not depend on consent", body = ErrorBody),
        (status = 429, description = "Rate limited (account-ip)", body = ErrorBody),
    ))]
pub(super) async fn decide(
    State(state): State<AppState>,
    client: Client,
    who: SignedIn,
    Path(purpose): Path<String>,
    Body(body): Body<DecisionBody>,
) -> Result<Json<ConsentView>, ApiError> {
    let own = owner_only(&who)?;
    Ok(Json(
        consent::decide(&state.consent, &own, &purpose, body.decision, &client.ctx).await?,
    ))
}

/// My consent receipts
///
/// A signed receipt (JWS, EdDSA) of every decision on one purpose, oldest
/// first, with its payload (ISO/IEC TS 27560 and Kantara Consent Receipt
/// fields). Verify with `/.well-known/jaga-consent-keys` or
/// `jaga consent verify-receipt FILE`.
#[utoipa::path(get, path = "/api/consents/{purpose}/receipts", tag = "profile", security(("session" = [])),
    params(("purpose" = String, Path, description = "A purpose of the catalog")),
    responses(
        (status = 200, description = "The receipts", body = [ReceiptOut]),
        (status = 403, description = "Only citizens decide on consent", body = ErrorBody),
        (status = 404, description = "No such purpose, or no decision on it yet", body = ErrorBody),
        (status = 429, description = "Rate limited (account-ip)", body = ErrorBody),
    ))]
pub(super) async fn receipts(
    State(state): State<AppState>,
    who: SignedIn,
    Path(purpose): Path<String>,
) -> Result<Json<Vec<ReceiptOut>>, ApiError> {
    let own = owner_only(&who)?;
    Ok(Json(consent::receipts(&state.consent, &own, &purpose).await?))
}

/// Consent receipt keys
///
/// The public keys that verify consent receipts, as a JWK Set.
#[utoipa::path(get, path = "/.well-known/jaga-consent-keys", tag = "operations",
    responses((status = 200, description = "JWK Set (Ed25519)", content_type = "application/json", body = Object)))]
pub(super) async fn keys(State(state): State<AppState>) -> Json<serde_json::Value> {
    Json(consent::receipt::jwks(&state.consent.receipts))
}
