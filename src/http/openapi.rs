//! The OpenAPI 3.1 document, generated from the handlers' annotations.

use axum::Json;
use axum::Router;
use axum::routing::get;
use utoipa::OpenApi;

use crate::app::AppState;

#[derive(Debug, OpenApi)]
#[openapi(
    info(title = "Jaga", description = "Identity, consent and personal-data protection for digital public services."),
    paths(
        super::health::healthz,
        super::health::readyz,
        super::metrics::metrics,
        openapi_json,
        super::auth::enrol_start,
        super::auth::enrol_finish,
        super::auth::signin_start,
        super::auth::signin_finish,
        super::auth::signout,
        super::auth::me,
        super::auth::list_sessions,
        super::auth::revoke_session,
        super::auth::code_start,
        super::auth::recover_start,
        super::account::list,
        super::account::add_start,
        super::account::add_finish,
        super::account::rename,
        super::account::remove,
        super::account::regenerate,
        super::account::verification_code,
        super::account::activity,
        super::counter::enrol,
        super::counter::recover,
        super::counter::verify
    ),
    components(schemas(super::error::ErrorBody, super::health::Health)),
    tags(
        (name = "operations", description = "Health, readiness, metrics and this document"),
        (name = "enrolment", description = "Self-enrolment and enrolment with a counter code"),
        (name = "sign-in", description = "Username-less passkey sign-in"),
        (name = "sessions", description = "The signed-in person's sessions and account"),
        (name = "passkeys", description = "The owner's passkeys"),
        (name = "recovery", description = "Recovery codes"),
        (name = "counter", description = "The service counter (counter officers)")
    )
)]
pub struct ApiDoc;

pub fn routes() -> Router<AppState> {
    Router::new().route("/openapi.json", get(openapi_json))
}

/// This document.
#[utoipa::path(get, path = "/openapi.json", tag = "operations",
    responses((status = 200, description = "OpenAPI 3.1 document")))]
pub async fn openapi_json() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
