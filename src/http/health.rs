//! Liveness and readiness.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;

use super::error::ApiError;
use crate::app::AppState;

pub fn routes() -> super::routes::Routes {
    super::routes::Routes::new()
        .get("/healthz", healthz)
        .get("/readyz", readyz)
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Health {
    pub status: &'static str,
}

/// Liveness
///
/// The process is up.
#[utoipa::path(get, path = "/healthz", tag = "operations",
    responses((status = 200, description = "Process is up", body = Health)))]
pub async fn healthz() -> Json<Health> {
    Json(Health { status: "ok" })
}

/// Readiness
///
/// Ready to serve: database reachable, keys loaded, audit log intact.
#[utoipa::path(get, path = "/readyz", tag = "operations",
    responses(
        (status = 200, description = "Ready", body = Health),
        (status = 503, description = "Not ready (the log names the failing checks)", body = super::error::ErrorBody),
    ))]
pub async fn readyz(State(state): State<AppState>) -> Result<Json<Health>, ApiError> {
    let mut failing = Vec::new();
    match tokio::time::timeout(Duration::from_secs(2), state.db.ping()).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "readiness: database check failed");
            failing.push("database");
        }
        Err(_) => failing.push("database"),
    }
    if !state.writer.is_running() {
        failing.push("database writer");
    }
    if state.audit_status.failure().is_some() {
        failing.push("audit log");
    }
    if state.limits.degraded() {
        // Not a reason to refuse traffic: the local buckets still limit.
        tracing::warn!(
            readiness.degraded = "rate-limit store",
            "ready, but the shared rate-limit store does not answer: this instance limits with its own buckets"
        );
    }
    if failing.is_empty() {
        Ok(Json(Health { status: "ready" }))
    } else {
        // Which check failed is for operators (the log), not the public.
        tracing::warn!(readiness.failing = %failing.join(", "), "not ready");
        Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "not_ready",
            "The service is not ready.",
        ))
    }
}
