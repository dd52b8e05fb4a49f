//! What the instance that signs audit checkpoints also does with the log:
//! reads new events against the alert rules (and sends alerts to the
//! webhook), and sends new checkpoints to the witnesses.

use tokio::sync::watch;

use super::AppState;

/// Reads new audit events against the alert rules, and sends alerts to
/// the webhook, from the instance that signs checkpoints.
pub(super) fn spawn_alerts(state: &AppState, leading: watch::Receiver<bool>, mut stopping: watch::Receiver<bool>) {
    let (db, writer, status) = (state.db.clone(), state.writer.clone(), state.audit_status.clone());
    let policies = state.modules.policies.clone();
    let config = state.config.alerts.clone();
    let webhook = config.webhook.and_then(|w| {
        let client = crate::oauth::fetch::http().cloned();
        if client.is_none() {
            tracing::error!("no HTTP client: alerts are not sent to the webhook");
        }
        client.map(|client| crate::alerts::webhook::Webhook {
            url: w.url,
            secret: w.secret,
            retry_base_secs: w.retry_base_secs,
            max_attempts: w.max_attempts,
            client,
        })
    });
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(config.every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = stopping.changed() => return,
            }
            if !*leading.borrow() {
                continue;
            }
            let rules = policies.current();
            let failure = status.failure();
            match crate::alerts::engine::scan(&db, &writer, &rules.alerts, failure.as_deref(), webhook.is_some()).await
            {
                Ok(new) => {
                    for a in new {
                        tracing::warn!(alert = %a.alert_id, alert.rule = %a.rule, alert.severity = %a.severity, "alert raised");
                    }
                }
                Err(e) => tracing::warn!(error = %e, "the alert scan failed; will retry"),
            }
            if let Some(hook) = &webhook {
                let now = time::OffsetDateTime::now_utc().unix_timestamp();
                if let Err(e) = crate::alerts::webhook::deliver_due(&db, &writer, hook, now).await {
                    tracing::warn!(error = %e, "alert deliveries failed; will retry");
                }
            }
        }
    });
}

/// Sends new checkpoints to the witnesses configured, from the instance
/// that signs them, every `audit.witness_every_secs` (none configured:
/// nothing runs).
pub(super) fn spawn_witness_pusher(
    state: &AppState,
    leading: watch::Receiver<bool>,
    mut stopping: watch::Receiver<bool>,
) {
    let config = state.config.audit.witnesses.clone();
    if config.http.is_empty() && config.folder.is_none() {
        return;
    }
    let Some(client) = crate::oauth::fetch::http().cloned() else {
        tracing::error!("no HTTP client: checkpoints are not sent to the witnesses");
        return;
    };
    let pusher = crate::witness::push::Pusher {
        db: state.db.clone(),
        writer: state.writer.clone(),
        keys: state.keys.audit.clone(),
        every: config.every,
        config,
        audit_status: state.audit_status.clone(),
        status: state.witnesses.clone(),
        client,
    };
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(pusher.every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = stopping.changed() => return,
            }
            if !*leading.borrow() || pusher.audit_status.failure().is_some() {
                continue;
            }
            if let Err(e) = pusher.push().await {
                tracing::warn!(error = %e, "sending checkpoints to the witnesses failed; will retry");
            }
        }
    });
}
