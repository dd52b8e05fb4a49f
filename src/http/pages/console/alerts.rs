//! The console's alerts page: the newest alerts, in words, with where
//! each one's webhook delivery stands and a way to send a dead letter
//! again (/static/console.js).

use askama::Template;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;

use super::words::Words;
use super::{LangQuery, Page, officer_page, render, when};
use crate::app::AppState;
use crate::http::client::Client;
use crate::http::error::ApiError;
use crate::store::alerts::ListedRow;

struct AlertView {
    id: String,
    rule_id: String,
    raised: String,
    severity: &'static str,
    severe: bool,
    text: String,
    subject: String,
    seq: Option<i64>,
    delivery: &'static str,
    dead: bool,
    last_error: Option<String>,
}

/// The rule's sentence with the alert's figures in it.
fn sentence(w: &Words, rule: &str, facts: &str) -> String {
    let facts: serde_json::Value = serde_json::from_str(facts).unwrap_or_default();
    let mut text = w
        .rules
        .iter()
        .find(|(r, _)| *r == rule)
        .map_or(rule, |(_, t)| *t)
        .to_owned();
    if let Some(map) = facts.as_object() {
        for (k, v) in map {
            let value = v.as_str().map_or_else(|| v.to_string(), str::to_owned);
            text = text.replace(&format!("{{{k}}}"), &value);
        }
    }
    text
}

fn view(r: ListedRow, w: &Words) -> AlertView {
    let state = crate::http::alerts::delivery(&r);
    use crate::http::alerts::Delivery;
    AlertView {
        text: sentence(w, &r.rule, &r.facts),
        severity: w
            .severities
            .iter()
            .find(|(s, _)| *s == r.severity)
            .map_or("", |(_, l)| *l),
        severe: matches!(r.severity.as_str(), "high" | "critical"),
        raised: when(r.raised_at),
        delivery: match state {
            Delivery::None => w.console_only,
            Delivery::Pending => w.pending,
            Delivery::Delivered => w.delivered,
            Delivery::Dead => w.dead,
        },
        dead: matches!(state, Delivery::Dead),
        id: r.alert_id,
        rule_id: r.rule,
        subject: r.subject,
        seq: r.seq,
        last_error: r.last_error,
    }
}

#[derive(Template)]
#[template(path = "console_alerts.html")]
struct AlertsPage {
    page: Page,
    w: &'static Words,
    alerts: Vec<AlertView>,
}

pub(super) async fn alerts(
    State(state): State<AppState>,
    client: Client,
    headers: HeaderMap,
    Query(q): Query<LangQuery>,
) -> Result<Response, ApiError> {
    let (page, permit, w) = match officer_page(&state, &headers, &q).await? {
        Ok(v) => v,
        Err(away) => return Ok(away),
    };
    let rows = crate::console::alerts::list(&state.db, &state.writer, &permit, &client.ctx).await?;
    let alerts = rows.into_iter().map(|r| view(r, w)).collect();
    let lang = page.set_lang;
    render(lang, &AlertsPage { page, w, alerts })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_figures_go_into_the_sentence() {
        let w = super::super::words::words(crate::policy::labels::Lang::Id);
        assert_eq!(
            sentence(w, "officer_reads", r#"{"citizens": 57, "window_minutes": 60}"#),
            "Petugas membaca data 57 warga berbeda dalam 60 menit"
        );
        assert_eq!(
            sentence(w, "break_glass", r#"{"citizen": "ctz_1"}"#),
            "Akses darurat ke data warga ctz_1"
        );
    }
}
