//! Logging (readable in development, JSON in production, filtered by
//! `RUST_LOG` when set, else by `log.filter`) and metrics.

mod metrics;

pub use metrics::Metrics;

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

use crate::config::{LogConfig, LogFormat};

/// `RUST_LOG` when it is a valid filter, else `log.filter` (validated when
/// the configuration was loaded), else `info`.
fn filter_of(config: &LogConfig) -> EnvFilter {
    std::env::var("RUST_LOG")
        .ok()
        .and_then(|f| crate::config::log_filter(&f))
        .or_else(|| crate::config::log_filter(&config.filter))
        .unwrap_or_else(|| EnvFilter::new("info"))
}

/// Installs the global subscriber for one-shot commands: to stderr, so
/// their own output on stdout stays clean.
pub fn init(config: &LogConfig) {
    let filter = filter_of(config);
    install(config.format, filter, std::io::stderr);
}

/// The serving process's log writer: lines go to a background thread
/// through a bounded queue; when it falls behind (a slow or stuck output),
/// lines are dropped and counted rather than blocking a request or the
/// shutdown. Keep it alive while serving: dropping it flushes what is queued.
#[derive(Debug)]
pub struct LogWriter {
    flush_on_drop: Option<tracing_appender::non_blocking::WorkerGuard>,
    dropped: tracing_appender::non_blocking::ErrorCounter,
}

/// How long the end of the process waits for queued lines to be written.
const FLUSH_AT_EXIT: std::time::Duration = std::time::Duration::from_secs(2);

/// Flushes what is queued, but never holds the process up for longer than
/// [`FLUSH_AT_EXIT`]: with a stuck output, the writer (and the guard's own
/// farewell message) would block forever.
impl Drop for LogWriter {
    fn drop(&mut self) {
        let Some(guard) = self.flush_on_drop.take() else {
            return;
        };
        let (done, flushed) = std::sync::mpsc::channel();
        let flushing = std::thread::Builder::new()
            .name("jaga-log-flush".into())
            .spawn(move || {
                drop(guard);
                let _ = done.send(());
            });
        if flushing.is_ok() {
            let _ = flushed.recv_timeout(FLUSH_AT_EXIT);
        }
    }
}

impl LogWriter {
    /// Lines dropped so far.
    pub fn dropped(&self) -> tracing_appender::non_blocking::ErrorCounter {
        self.dropped.clone()
    }
}

/// Installs the global subscriber for serving, writing to `output` (stdout
/// in production) off the request path.
pub fn init_serving<W>(config: &LogConfig, output: W) -> LogWriter
where
    W: std::io::Write + Send + 'static,
{
    let filter = filter_of(config);
    let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .lossy(true)
        .buffered_lines_limit(config.queue_lines)
        .thread_name("jaga-log")
        .finish(output);
    let dropped = writer.error_counter();
    install(config.format, filter, writer);
    LogWriter {
        flush_on_drop: Some(guard),
        dropped,
    }
}

fn install<W>(format: LogFormat, filter: EnvFilter, writer: W)
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(writer);
    // A second install (tests) keeps the first subscriber.
    let _ = match format {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .try_init(),
        LogFormat::Pretty => builder.with_target(false).try_init(),
    };
}
