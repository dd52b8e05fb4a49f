//! Composition root: opens the database, starts the writer and the audit
//! checkpointer, and holds what every request needs.

use std::sync::Arc;

use secrecy::ExposeSecret as _;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::audit::checkpointer::{AuditStatus, Checkpointer};
use crate::audit::{self, Actor, AuditError, AuditSealer, Event, Outcome, Target};
use crate::config::Config;
use crate::keys::KeyRing;
use crate::passkeys::RelyingParty;
use crate::ratelimit::Limits;
use crate::store::{Db, Writer};
use crate::telemetry::Metrics;

mod watchers;
use watchers::{spawn_alerts, spawn_witness_pusher};

/// Shared state of the HTTP handlers; cheap to clone.
#[derive(Debug, Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub db: Db,
    pub writer: Writer,
    pub keys: Arc<KeyRing>,
    pub audit_status: AuditStatus,
    pub metrics: Arc<Metrics>,
    pub rp: Arc<RelyingParty>,
    pub limits: Arc<Limits>,
    /// What each domain area is given: only the dependencies it uses
    /// (behind `Arc`: the state is cloned for every request).
    pub identity: Arc<crate::identity::Deps>,
    pub sessions: Arc<crate::sessions::Deps>,
    pub modules: Arc<crate::modules::Deps>,
    pub profile: Arc<crate::profile::Deps>,
    pub consent: Arc<crate::consent::Deps>,
    pub break_glass: Arc<crate::breakglass::Deps>,
    /// The public transparency reports, computed at most every ten minutes.
    pub transparency: Arc<crate::transparency::Reports>,
    /// What the witnesses of the audit log last said.
    pub witnesses: crate::witness::push::WitnessStatus,
    pub rights: Arc<crate::rights::Deps>,
    pub oauth: Arc<crate::oauth::Deps>,
}

/// A started application: state plus its background tasks.
#[derive(Debug)]
pub struct App {
    pub state: AppState,
    stop_checkpointer: watch::Sender<bool>,
    checkpointer: JoinHandle<()>,
    purger: JoinHandle<()>,
    writer_task: JoinHandle<()>,
}

impl App {
    /// Opens and migrates the database and starts background tasks.
    pub async fn start(config: Config, keys: KeyRing) -> anyhow::Result<App> {
        let webauthn = config
            .webauthn
            .as_ref()
            .ok_or_else(|| anyhow::anyhow!("webauthn.rp_id and webauthn.origins: required to serve"))?;
        let rp = Arc::new(RelyingParty::new(webauthn)?);
        if keys.index_pending.is_some() {
            anyhow::bail!(
                "a blind-index key rotation is unfinished: run `jaga keys rotate-index` to finish it before serving"
            );
        }
        // The written policies first: a bad file stops start-up before
        // anything is opened, naming the file, the line and the reason.
        let policies = crate::policy::Policies::load(&config.policies_dir)?;
        let receipts = keys.consent.clone().ok_or_else(|| {
            anyhow::anyhow!("the key file has no consent receipt key: run `jaga keys add-consent-key`")
        })?;
        tracing::info!(
            policy.dir = %config.policies_dir.display(),
            policy.purposes = policies.current().catalog.len(),
            "policies loaded"
        );
        let db = Db::open(&config.database.url, config.database.max_connections, true).await?;
        db.prepare(config.database.apply_migrations).await?;
        let keys = Arc::new(keys);
        let audit_status = AuditStatus::default();
        let (writer, writer_task) = Writer::start(
            db.clone(),
            Arc::new(AuditSealer::new(
                keys.audit.clone(),
                config.audit.origin.clone(),
                Some(config.audit.checkpoint_file.clone()),
                audit_status.clone(),
            )),
        );
        let checkpointer = Checkpointer::resume(
            db.clone(),
            writer.clone(),
            keys.audit.clone(),
            config.audit.clone(),
            audit_status.clone(),
        )
        .await?;
        // A folder witness must still find its tree in the log.
        if let Some(folder) = &config.audit.witnesses.folder {
            crate::witness::folder::check(folder, &db, &keys.audit)
                .await
                .map_err(|e| anyhow::anyhow!("audit.witness_dir: {e}; run `jaga audit verify`"))?;
        }
        let leading = checkpointer.leading();
        let (stop_checkpointer, stopped) = watch::channel(false);
        let checkpointer = tokio::spawn(checkpointer.run(stopped));
        record_lifecycle(&writer, "service.start").await?;
        let moved = crate::identity::personal::migrate_plaintext(&db, &writer, &keys).await?;
        if moved > 0 {
            tracing::info!(
                vault.migrated_accounts = moved,
                "moved plaintext personal data into the vault"
            );
        }
        let limits = Arc::new(limits(&config)?);
        let replay = Arc::new(match &config.ratelimit_store {
            Some(url) => crate::oauth::replay::Replay::redis(url.expose_secret(), &config.audit.origin)
                .map_err(|e| anyhow::anyhow!("ratelimit.store: {e}"))?,
            None => crate::oauth::replay::Replay::memory(),
        });
        if keys.oauth.all().is_empty() {
            tracing::warn!(
                "the key file has no token signing key: the OpenID provider cannot issue tokens until `jaga keys rotate-signing` adds one"
            );
        }
        if config.oauth.static_keys && !config.dev {
            tracing::warn!(
                "modules.static_keys = allow: the module API takes static API keys, which are weaker than DPoP-bound access tokens"
            );
        }
        let state = AppState::new(
            config,
            db,
            writer,
            keys,
            audit_status,
            rp,
            limits,
            (policies, receipts, replay),
        );
        state.metrics.allow_static_keys(state.config.oauth.static_keys);
        spawn_witness_pusher(&state, leading.clone(), stop_checkpointer.subscribe());
        spawn_alerts(&state, leading.clone(), stop_checkpointer.subscribe());
        let purger = spawn_purger(&state, leading, stop_checkpointer.subscribe());
        spawn_logouts(&state, stop_checkpointer.subscribe());
        spawn_change_handler(
            &state,
            crate::store::changes::listen(&state.db),
            stop_checkpointer.subscribe(),
        )?;
        spawn_limit_clean_up(state.limits.clone());
        Ok(App {
            state,
            stop_checkpointer,
            checkpointer,
            purger,
            writer_task,
        })
    }

    /// Writes the pending audit checkpoint, drains the writer and closes
    /// the database. Call after the HTTP servers have finished.
    pub async fn stop(self) {
        if let Err(e) = record_lifecycle(&self.state.writer, "service.stop").await {
            tracing::error!(error = %e, "could not record service.stop");
        }
        let _ = self.stop_checkpointer.send(true);
        if let Err(e) = self.checkpointer.await {
            tracing::error!(error = %e, "audit checkpointer ended abnormally");
        }
        if let Err(e) = self.purger.await {
            tracing::error!(error = %e, "retention purge ended abnormally");
        }
        let db = self.state.db.clone();
        drop(self.state);
        if let Err(e) = self.writer_task.await {
            tracing::error!(error = %e, "database writer ended abnormally");
        }
        db.close().await;
    }
}

impl AppState {
    /// The state and each domain area's dependencies (only what it uses).
    #[expect(clippy::too_many_arguments, reason = "every shared service, each made once at start")]
    fn new(
        config: Config,
        db: Db,
        writer: Writer,
        keys: Arc<KeyRing>,
        audit_status: AuditStatus,
        rp: Arc<RelyingParty>,
        limits: Arc<Limits>,
        (policies, receipts, replay): (
            crate::policy::Policies,
            Arc<crate::keys::ReceiptKey>,
            Arc<crate::oauth::replay::Replay>,
        ),
    ) -> Self {
        let sessions = Arc::new(config.sessions.clone());
        let modules = Arc::new(crate::modules::Deps {
            db: db.clone(),
            writer: writer.clone(),
            keys: keys.clone(),
            policies: policies.clone(),
            #[cfg(feature = "bench-internals")]
            bypass_checks: Arc::default(),
        });
        let consent = Arc::new(crate::consent::Deps {
            db: db.clone(),
            writer: writer.clone(),
            keys: keys.clone(),
            policies: policies.clone(),
            receipts,
            issuer: config.audit.origin.clone(),
        });
        let profile = Arc::new(crate::profile::Deps {
            db: db.clone(),
            writer: writer.clone(),
            keys: keys.clone(),
        });
        let issuer = config
            .oauth
            .issuer
            .clone()
            .or_else(|| config.webauthn.as_ref().and_then(|w| w.origins.first().cloned()))
            .unwrap_or_default();
        let oauth = Arc::new(crate::oauth::Deps {
            db: db.clone(),
            writer: writer.clone(),
            keys: keys.clone(),
            policies: policies.clone(),
            issuer: crate::oauth::Issuer::new(&issuer, config.oauth.access_token_secs),
            replay,
            verified: Arc::default(),
            session_secs: i64::try_from(config.sessions.absolute_timeout.as_secs()).unwrap_or(i64::MAX),
            remote_keys: Arc::default(),
        });
        AppState {
            oauth,
            rights: Arc::new(crate::rights::Deps {
                profile: profile.clone(),
                modules: modules.clone(),
                consent: consent.clone(),
            }),
            identity: Arc::new(crate::identity::Deps {
                db: db.clone(),
                writer: writer.clone(),
                keys: keys.clone(),
                rp: rp.clone(),
                limits: limits.clone(),
                sessions: sessions.clone(),
            }),
            sessions: Arc::new(crate::sessions::Deps {
                db: db.clone(),
                writer: writer.clone(),
                rp: rp.clone(),
                limits: limits.clone(),
                sessions,
            }),
            break_glass: Arc::new(crate::breakglass::Deps {
                db: db.clone(),
                writer: writer.clone(),
                keys: keys.clone(),
                policies,
            }),
            transparency: Arc::default(),
            witnesses: crate::witness::push::WitnessStatus::default(),
            modules,
            consent,
            profile,
            config: Arc::new(config),
            db,
            writer,
            keys,
            audit_status,
            metrics: Arc::new(Metrics::default()),
            rp,
            limits,
        }
    }
}

/// Adopts changes without a restart. KEK changes (`jaga keys rotate`,
/// `retire`): at once when another instance or the command announces
/// them, else when the key file's modification time changes (looked at
/// every 30 s, and before a new data key is wrapped). Policies: on SIGHUP
/// and when `jaga policy reload` announces them. Ends when `stopping`
/// changes (it holds a writer, which must drain at stop).
fn spawn_change_handler(
    state: &AppState,
    mut changes: tokio::sync::mpsc::Receiver<crate::store::changes::Change>,
    mut stopping: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    use crate::policy::reload::{self, Trigger};
    use crate::store::changes::Change;
    let (keys, policies, writer) = (state.keys.clone(), state.consent.policies.clone(), state.writer.clone());
    let mut hangup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())?;
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(30));
        tick.tick().await;
        let mut listening = true;
        loop {
            tokio::select! {
                _ = stopping.changed() => return,
                _ = tick.tick() => {
                    keys.vault.refresh();
                    if keys.oauth.refresh(false) {
                        tracing::info!("adopted the key file's token signing keys");
                    }
                }
                _ = hangup.recv() => {
                    reload::reload(&policies, &writer, Trigger::Signal).await;
                }
                change = changes.recv(), if listening => match change {
                    Some(Change::Keys) => {
                        keys.oauth.refresh(true);
                        if keys.vault.reload_now() {
                            tracing::info!("adopted the key file's keys, as announced");
                        }
                    }
                    Some(Change::Policies) => {
                        reload::reload(&policies, &writer, Trigger::Announced).await;
                    }
                    None => listening = false,
                },
            }
        }
    });
    Ok(())
}

/// Back-channel logouts: every two seconds, the queued logout tokens that
/// are due are posted to the modules (every instance delivers; a logout
/// is claimed before it is sent), until `stopping` changes.
fn spawn_logouts(state: &AppState, mut stopping: watch::Receiver<bool>) {
    let oauth = state.oauth.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(2));
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = stopping.changed() => return,
            }
            let now = time::OffsetDateTime::now_utc().unix_timestamp();
            if let Err(e) = crate::oauth::logout::deliver_due(&oauth, now).await {
                tracing::warn!(error = %e, "back-channel logout delivery failed; will retry");
            }
        }
    });
}

/// Retention: expired sessions, codes and ceremonies are deleted, and
/// module record fields past their purposes' retention ended, once a
/// period (the first after one period: a restart does not start with a
/// burst of deletes), until `stopping` changes. Only the instance that
/// signs audit checkpoints purges (`leading`): one purge per period for
/// the whole deployment.
fn spawn_purger(
    state: &AppState,
    leading: watch::Receiver<bool>,
    mut stopping: watch::Receiver<bool>,
) -> JoinHandle<()> {
    let (writer, sessions) = (state.writer.clone(), state.config.sessions.clone());
    let (modules, profile) = (state.modules.clone(), state.profile.clone());
    tokio::spawn(async move {
        let mut tick =
            tokio::time::interval_at(tokio::time::Instant::now() + sessions.purge_every, sessions.purge_every);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = stopping.changed() => return,
            }
            if !*leading.borrow() {
                continue;
            }
            let now = time::OffsetDateTime::now_utc().unix_timestamp();
            match crate::sessions::retention::purge(&writer, &sessions, now).await {
                Ok(purged) => tracing::debug!(
                    retention.sessions = purged.sessions,
                    retention.codes = purged.codes,
                    retention.recovery_codes = purged.recovery_codes,
                    retention.ceremonies = purged.ceremonies,
                    "expired rows purged"
                ),
                Err(e) => tracing::warn!(error = %e, "retention purge failed; will retry"),
            }
            if let Err(e) = crate::oauth::purge_revoked(&writer, now).await {
                tracing::warn!(error = %e, "purging expired token revocations failed; will retry");
            }
            // Module records whose purposes' retention has passed.
            let catalog = modules.policies.current();
            match crate::modules::retention::sweep(&modules, &catalog.catalog, now).await {
                Ok(0) => {}
                Ok(ended) => tracing::info!(
                    retention.record_fields = ended,
                    "module record fields past retention ended"
                ),
                Err(e) => tracing::warn!(error = %e, "retention sweep of module records failed; will retry"),
            }
            // Erased citizens' data kept under a legal obligation, once due.
            match crate::rights::erasure::finish_due(&profile, now).await {
                Ok(0) => {}
                Ok(ended) => tracing::info!(retention.erasures = ended, "kept data of erased citizens ended"),
                Err(e) => tracing::warn!(error = %e, "ending erased citizens' kept data failed; will retry"),
            }
        }
    })
}

/// The rate limits, their buckets shared through Redis if configured.
fn limits(config: &Config) -> anyhow::Result<Limits> {
    use secrecy::ExposeSecret as _;
    let limits = Limits::new(&config.ratelimit);
    let Some(url) = &config.ratelimit_store else {
        return Ok(limits);
    };
    let shared = crate::ratelimit::SharedBuckets::new(url.expose_secret(), &config.audit.origin)
        .map_err(|e| anyhow::anyhow!("ratelimit.store: {e}"))?;
    tracing::info!("rate-limit buckets are shared through Redis");
    Ok(limits.with_shared(shared))
}

/// Forgets idle rate-limit buckets once a minute.
fn spawn_limit_clean_up(limits: Arc<Limits>) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
        loop {
            tick.tick().await;
            limits.clean_up();
        }
    });
}

/// Audits the service starting or stopping.
async fn record_lifecycle(writer: &Writer, action: &'static str) -> Result<(), AuditError> {
    let event = Event::new(Actor::system(), action, Target::new("service", None), Outcome::Success);
    writer.write(move |tx| Box::pin(audit::record(tx, event))).await
}
