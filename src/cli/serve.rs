//! `jaga serve`

use std::time::Duration;

use axum_server::Handle;

use crate::app::App;
use crate::config::Config;
use crate::http::{self, server};
use crate::keys::{self, KeyError, KeyRing};

pub async fn run(config: Config) -> anyhow::Result<()> {
    let log = crate::telemetry::init_serving(&config.log, std::io::stdout());
    let listeners = server::bind(&config).await?;
    if config.dev {
        announce_dev_mode(&listeners.main_addrs());
    }
    let keys = if config.dev {
        dev_keys(&config)?
    } else {
        KeyRing::load(&config.keys)?
    };
    if keys.consent.is_none() {
        anyhow::bail!(
            "the key file has no consent receipt key ([consent] signing_key): run `jaga keys add-consent-key` once, \
             then install the key file on every host"
        );
    }
    let tls = config.tls.as_ref().map(server::tls_config).transpose()?;
    let grace = config.server.shutdown_grace;
    let app = App::start(config, keys).await?;
    app.state.metrics.count_log_drops(log.dropped());
    let main = http::router(app.state.clone());
    let admin = http::admin_router(app.state.clone());
    let handle = Handle::new();
    tokio::spawn(shutdown_on_signal(handle.clone(), grace));
    tracing::info!(database = app.state.db.backend(), "jaga started");
    let served = server::serve(listeners, tls, main, admin, handle).await;
    app.stop().await;
    tracing::info!("jaga stopped");
    drop(log);
    Ok(served?)
}

/// Says loudly that this is development mode, with the address actually
/// listened on (the port may differ from 8080 when configured).
fn announce_dev_mode(addrs: &[std::net::SocketAddr]) {
    let port = addrs.first().map_or(8080, std::net::SocketAddr::port);
    let url = format!("http://localhost:{port}");
    tracing::warn!(
        server.url = %url,
        "DEVELOPMENT MODE: plain HTTP, data and keys under ./data. Never use it for real citizens' data."
    );
    eprintln!(
        "\n  *** JAGA DEVELOPMENT MODE ***\n  Plain HTTP, development keys under ./data.\n  \
         Not for real citizens' data.\n  Open {url}\n  Commands take --dev too: jaga officers add --dev …, \
         jaga modules add --dev …, jaga audit verify --dev\n"
    );
}

/// Loads the development key file, creating it on first start.
fn dev_keys(config: &Config) -> anyhow::Result<KeyRing> {
    match KeyRing::load(&config.keys) {
        Ok(ring) if ring.consent.is_none() && config.keys.inline.is_none() => {
            keys::edit::add_consent_key(&config.keys.path)?;
            tracing::warn!(keys.path = %config.keys.path.display(), "added a consent receipt key to the development key file");
            Ok(KeyRing::load(&config.keys)?)
        }
        Ok(ring) if ring.oauth.all().is_empty() && config.keys.inline.is_none() => {
            keys::edit::rotate_signing(&config.keys.path, time::OffsetDateTime::now_utc().unix_timestamp(), 0)?;
            tracing::warn!(keys.path = %config.keys.path.display(), "added a token signing key to the development key file");
            Ok(KeyRing::load(&config.keys)?)
        }
        Ok(ring) => Ok(ring),
        Err(KeyError::Missing(_)) => {
            let (ring, text) = KeyRing::generate()?;
            keys::write_new(&config.keys.path, &text)?;
            tracing::warn!(keys.path = %config.keys.path.display(), "created a development key file");
            Ok(ring)
        }
        Err(e) => Err(e.into()),
    }
}

async fn shutdown_on_signal(handle: Handle<std::net::SocketAddr>, grace: Duration) {
    let ctrl_c = tokio::signal::ctrl_c();
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = ctrl_c => {}
        () = term => {}
    }
    tracing::info!(
        grace_secs = grace.as_secs(),
        "shutting down: finishing in-flight requests"
    );
    handle.graceful_shutdown(Some(grace));
}
