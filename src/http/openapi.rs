//! The OpenAPI 3.1 document, generated from the handlers' annotations.

use axum::Json;
use axum::Router;
use axum::routing::get;
use utoipa::OpenApi;

use crate::app::AppState;

#[derive(Debug, OpenApi)]
#[openapi(
    info(title = "Jaga", description = "Identity, consent and personal-data protection for digital public services."),
    paths(super::health::healthz, super::health::readyz, super::metrics::metrics, openapi_json),
    components(schemas(super::error::ErrorBody, super::health::Health)),
    tags((name = "operations", description = "Health, readiness, metrics and this document"))
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
