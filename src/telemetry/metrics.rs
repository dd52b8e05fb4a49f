//! Request counts and latency histograms in the Prometheus text format
//! (version 0.0.4), by route, method and status; dropped log lines.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::Duration;

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
    /// Whether the module API takes static API keys (a weaker setting).
    static_keys_allowed: std::sync::atomic::AtomicBool,
    static_key_uses: std::sync::atomic::AtomicU64,
}

impl Metrics {
    /// Reports the log writer's dropped lines from now on.
    pub fn count_log_drops(&self, counter: tracing_appender::non_blocking::ErrorCounter) {
        let _ = self.log_drops.set(counter);
    }

    /// Says in `/metrics` that static module API keys are allowed.
    pub fn allow_static_keys(&self, allowed: bool) {
        self.static_keys_allowed
            .store(allowed, std::sync::atomic::Ordering::Relaxed);
    }

    pub fn static_key_used(&self) {
        self.static_key_uses.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
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
        let allowed = u8::from(self.static_keys_allowed.load(std::sync::atomic::Ordering::Relaxed));
        let uses = self.static_key_uses.load(std::sync::atomic::Ordering::Relaxed);
        let _ = writeln!(
            out,
            "# HELP jaga_module_static_keys_allowed 1 when the module API still takes static API keys (weaker than DPoP-bound tokens).\n\
             # TYPE jaga_module_static_keys_allowed gauge\njaga_module_static_keys_allowed {allowed}\n\
             # HELP jaga_module_static_key_uses_total Module API calls authenticated with a static API key.\n\
             # TYPE jaga_module_static_key_uses_total counter\njaga_module_static_key_uses_total {uses}"
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
