//! Rate limits at the HTTP edge: 429 with `Retry-After`, `RateLimit-Policy`
//! and `RateLimit`, and an audit event for each trip (throttled per key).

use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::client::ClientIp;
use super::error::ApiError;
use crate::app::AppState;
use crate::audit::Context;
use crate::ratelimit::{Decision, Key, Policy};

const POLICY: HeaderName = HeaderName::from_static("ratelimit-policy");
const STATE: HeaderName = HeaderName::from_static("ratelimit");

fn set_headers(headers: &mut axum::http::HeaderMap, decision: &Decision) {
    if let Ok(v) = HeaderValue::from_str(&decision.policy_header()) {
        headers.insert(POLICY, v);
    }
    if let Ok(v) = HeaderValue::from_str(&decision.state_header()) {
        headers.insert(STATE, v);
    }
    if !decision.allowed() {
        headers.insert(header::RETRY_AFTER, HeaderValue::from(decision.retry_after));
    }
}

/// The 429 answer for a refused request.
pub fn too_many(decision: &Decision) -> ApiError {
    let mut headers = axum::http::HeaderMap::new();
    set_headers(&mut headers, decision);
    let mut error = ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "too_many_requests",
        format!(
            "Terlalu banyak percobaan. Coba lagi dalam {} detik. (Too many attempts. Try again in {} seconds.)",
            decision.retry_after, decision.retry_after
        ),
    );
    for (name, value) in &headers {
        error = error.with_header(name.clone(), value.clone());
    }
    error
}

/// Middleware: limits by client address under `policy`.
pub async fn by_ip(State((state, policy)): State<(AppState, Policy)>, request: Request, next: Next) -> Response {
    let Some(ClientIp(ip)) = request.extensions().get::<ClientIp>().copied() else {
        return next.run(request).await;
    };
    let key = Key::for_ip(ip);
    let decision = state.limits.check(policy, &key).await;
    if !decision.allowed() {
        let ctx = Context {
            request_id: request
                .extensions()
                .get::<super::request_id::RequestId>()
                .map(|r| r.0.clone()),
            source: Some(ip.to_string()),
        };
        if state.limits.should_audit(policy, &key) {
            crate::audit::record_trip(&state.writer, policy.name, &ctx).await;
        }
        return too_many(&decision).into_response();
    }
    let mut response = next.run(request).await;
    // A refusal by an inner (per-account) policy keeps its own headers.
    if !response.headers().contains_key(POLICY) {
        set_headers(response.headers_mut(), &decision);
    }
    response
}

/// `routes` with every route limited by client address under `policy`.
pub fn limited(state: &AppState, routes: super::routes::Routes, policy: Policy) -> super::routes::Routes {
    routes.layered(|r| r.route_layer(axum::middleware::from_fn_with_state((state.clone(), policy), by_ip)))
}
