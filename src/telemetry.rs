//! Logging: readable in development, JSON in production, filtered by
//! `RUST_LOG` when set, else by `log.filter`.

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

use crate::config::{LogConfig, LogFormat};

/// Installs the global subscriber. Serving logs to stdout; commands log to
/// stderr so their own output stays clean.
pub fn init(config: &LogConfig, to_stdout: bool) {
    let filter = std::env::var("RUST_LOG")
        .ok()
        .and_then(|f| EnvFilter::try_new(f).ok())
        .unwrap_or_else(|| EnvFilter::new(&config.filter));
    if to_stdout {
        install(config.format, filter, std::io::stdout);
    } else {
        install(config.format, filter, std::io::stderr);
    }
}

/// Installs the global subscriber as [`init`] does, writing to `writer`
/// (benchmarks log as production does, to a file).
pub fn init_with_writer<W>(config: &LogConfig, writer: W)
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    install(config.format, EnvFilter::new(&config.filter), writer);
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
