//! Request counts and latency histograms in the Prometheus text format
//! (version 0.0.4), by route, method and status.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use crate::app::AppState;

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 12] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];

#[derive(Debug, Default)]
struct Series {
    count: u64,
    sum: f64,
    buckets: [u64; BUCKETS.len()],
}

#[derive(Debug, Default)]
pub struct Metrics {
    series: Mutex<BTreeMap<(String, String, u16), Series>>,
    /// Log lines dropped because the log output fell behind.
    log_drops: std::sync::OnceLock<tracing_appender::non_blocking::ErrorCounter>,
}

impl Metrics {
    /// Reports the log writer's dropped lines from now on.
    pub fn count_log_drops(&self, counter: tracing_appender::non_blocking::ErrorCounter) {
        let _ = self.log_drops.set(counter);
    }

    pub fn observe(&self, route: &str, method: &str, status: u16, elapsed: Duration) {
        let secs = elapsed.as_secs_f64();
        let mut map = match self.series.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        let s = map.entry((route.to_owned(), method.to_owned(), status)).or_default();
        s.count += 1;
        s.sum += secs;
        for (bound, n) in BUCKETS.iter().zip(s.buckets.iter_mut()) {
            if secs <= *bound {
                *n += 1;
            }
        }
    }

    pub fn render(&self) -> String {
        let map = match self.series.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        let mut out = String::new();
        let dropped = self.log_drops.get().map_or(0, |c| c.dropped_lines());
        let _ = writeln!(
            out,
            "# HELP jaga_log_lines_dropped_total Log lines dropped because the log output fell behind.\n\
             # TYPE jaga_log_lines_dropped_total counter\njaga_log_lines_dropped_total {dropped}"
        );
        out.push_str("# HELP jaga_http_requests_total HTTP requests answered.\n");
        out.push_str("# TYPE jaga_http_requests_total counter\n");
        for ((route, method, status), s) in map.iter() {
            let labels = labels(route, method, *status);
            let _ = writeln!(out, "jaga_http_requests_total{{{labels}}} {}", s.count);
        }
        out.push_str("# HELP jaga_http_request_duration_seconds Time to answer HTTP requests.\n");
        out.push_str("# TYPE jaga_http_request_duration_seconds histogram\n");
        for ((route, method, status), s) in map.iter() {
            let labels = labels(route, method, *status);
            for (bound, n) in BUCKETS.iter().zip(s.buckets.iter()) {
                let _ = writeln!(
                    out,
                    "jaga_http_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {n}"
                );
            }
            let _ = writeln!(
                out,
                "jaga_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}",
                s.count
            );
            let _ = writeln!(out, "jaga_http_request_duration_seconds_sum{{{labels}}} {}", s.sum);
            let _ = writeln!(out, "jaga_http_request_duration_seconds_count{{{labels}}} {}", s.count);
        }
        out
    }
}

fn escape(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

fn labels(route: &str, method: &str, status: u16) -> String {
    format!(
        "route=\"{}\",method=\"{}\",status=\"{status}\"",
        escape(route),
        escape(method)
    )
}

/// Prometheus metrics.
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_is_cumulative_and_counts_match() {
        let m = Metrics::default();
        m.observe("/healthz", "GET", 200, Duration::from_millis(3));
        m.observe("/healthz", "GET", 200, Duration::from_millis(300));
        let text = m.render();
        assert!(text.contains("jaga_http_requests_total{route=\"/healthz\",method=\"GET\",status=\"200\"} 2"));
        assert!(text.contains("le=\"0.005\"} 1"));
        assert!(text.contains("le=\"0.5\"} 2"));
        assert!(text.contains("le=\"+Inf\"} 2"));
    }
}
