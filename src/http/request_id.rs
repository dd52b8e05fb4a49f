//! A request id on every request: generated here (never taken from the
//! client), returned in `x-request-id`, and a field of the span that every
//! log line of the request carries. The same middleware records metrics.

use std::net::SocketAddr;
use std::time::Instant;

use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use ring::rand::{SecureRandom as _, SystemRandom};
use tracing::Instrument as _;

use crate::app::AppState;

pub const HEADER: &str = "x-request-id";

/// The id of the current request.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

pub(super) fn generate() -> String {
    let mut bytes = [0u8; 16];
    if SystemRandom::new().fill(&mut bytes).is_err() {
        // The OS generator failed; a time-based id still correlates logs.
        return format!("t{}", crate::audit::now_us());
    }
    hex::encode(bytes)
}

/// Methods as metric labels: a fixed set, so clients cannot add series.
fn metric_method(method: &axum::http::Method) -> &'static str {
    use axum::http::Method;
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

pub async fn assign(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let started = Instant::now();
    let id = generate();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = request.method().clone();
    let peer = request.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
    let client_ip = peer.map(|p| super::client::client_ip(p, request.headers(), &state.config.server.trusted_proxies));
    let peer = client_ip.map(|ip| ip.to_string()).unwrap_or_default();
    if let Some(ip) = client_ip {
        request.extensions_mut().insert(super::client::ClientIp(ip));
    }
    request.extensions_mut().insert(RequestId(id.clone()));
    let span =
        tracing::info_span!("request", request.id = %id, http.method = %method, http.route = %route, client.ip = %peer);
    let mut response = next.run(request).instrument(span.clone()).await;
    let elapsed = started.elapsed();
    let status = response.status().as_u16();
    span.in_scope(|| {
        tracing::info!(
            http.status = status,
            duration_ms = elapsed.as_secs_f64() * 1000.0,
            "request finished"
        );
    });
    state.metrics.observe(&route, metric_method(&method), status, elapsed);
    if let Ok(v) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(HEADER, v);
    }
    response
}
