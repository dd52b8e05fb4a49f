//! `/metrics`: the Prometheus text of [`crate::telemetry::Metrics`] and the
//! audit log's state.

use std::fmt::Write as _;

use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use crate::app::AppState;

/// Metrics
///
/// Prometheus metrics (on the main listener only with
/// `server.metrics_token`, or in development mode without an admin listener).
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, description = "Prometheus text format", content_type = "text/plain")))]
pub async fn metrics(State(state): State<AppState>) -> Response {
    let mut text = state.metrics.render();
    let (verified, at) = state.audit_status.verified();
    let intact = u8::from(state.audit_status.failure().is_none());
    let _ = write!(
        text,
        "# HELP jaga_audit_intact 1 while every check of the audit log has passed, 0 once one failed.\n\
         # TYPE jaga_audit_intact gauge\njaga_audit_intact {intact}\n\
         # HELP jaga_audit_verified_events Events checked by the last complete background re-verification.\n\
         # TYPE jaga_audit_verified_events gauge\njaga_audit_verified_events {verified}\n\
         # HELP jaga_audit_verified_timestamp_seconds When the last complete re-verification ended.\n\
         # TYPE jaga_audit_verified_timestamp_seconds gauge\njaga_audit_verified_timestamp_seconds {}\n",
        at.unwrap_or(0)
    );
    let _ = write!(
        text,
        "# HELP jaga_ratelimit_store_degraded 1 while the shared rate-limit store (Redis) does not answer and this instance's own buckets decide.\n\
         # TYPE jaga_ratelimit_store_degraded gauge\njaga_ratelimit_store_degraded {}\n\
         # HELP jaga_ratelimit_store_fallbacks_total Rate-limit decisions taken by this instance's own buckets because the shared store failed.\n\
         # TYPE jaga_ratelimit_store_fallbacks_total counter\njaga_ratelimit_store_fallbacks_total {}\n",
        u8::from(state.limits.degraded()),
        state.limits.fallbacks()
    );
    let w = state.writer.stats();
    let _ = write!(
        text,
        "# HELP jaga_writer_batches_total Database transactions run by this instance's writer (group commits).\n\
         # TYPE jaga_writer_batches_total counter\njaga_writer_batches_total {}\n\
         # HELP jaga_writer_units_total Units of work run by the writer (each attempt counts).\n\
         # TYPE jaga_writer_units_total counter\njaga_writer_units_total {}\n\
         # HELP jaga_writer_retries_total Units run again after a deadlock, a serialization failure or an unreachable database.\n\
         # TYPE jaga_writer_retries_total counter\njaga_writer_retries_total {}\n\
         # HELP jaga_writer_given_up_total Units whose attempts ran out (answered 503).\n\
         # TYPE jaga_writer_given_up_total counter\njaga_writer_given_up_total {}\n",
        w.batches, w.units, w.again, w.given_up
    );
    let mut response = text.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    response
}

/// Prometheus metrics on the main listener, for the bearer of
/// `server.metrics_token` only (compared in constant time).
pub async fn with_token(State(state): State<AppState>, headers: axum::http::HeaderMap) -> Response {
    use secrecy::ExposeSecret as _;
    use subtle::ConstantTimeEq as _;
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map_or("", |(_, token)| token.trim());
    // Digests of equal length: the comparison tells nothing, not even the length.
    let expected = state
        .config
        .server
        .metrics_token
        .as_ref()
        .map(|t| crate::ids::sha256(t.expose_secret().as_bytes()));
    let matches = expected.is_some_and(|e| bool::from(crate::ids::sha256(presented.as_bytes()).ct_eq(&e)));
    if !matches {
        return super::error::ApiError::new(
            axum::http::StatusCode::UNAUTHORIZED,
            "unauthorized",
            "A valid metrics token is required (Authorization: Bearer …).",
        )
        .with_header(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"))
        .into_response();
    }
    metrics(State(state)).await
}
