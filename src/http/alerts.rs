//! The console's alerts API: the newest alerts with their webhook
//! delivery, and sending a dead letter again. Security officers only.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Serialize;

use super::client::Client;
use super::console::officer;
use super::error::{ApiError, ErrorBody};
use super::routes::Routes;
use super::session::SignedIn;
use crate::app::AppState;
use crate::console::alerts::{self, AlertError};
use crate::store::alerts::ListedRow;

pub fn routes(state: &AppState) -> Routes {
    Routes::new()
        .get("/api/security/alerts", list)
        .post("/api/security/alerts/{alert}/redeliver", redeliver)
        .layered(|r| super::session::origin_checked(state, r))
}

impl From<AlertError> for ApiError {
    fn from(e: AlertError) -> Self {
        match e {
            AlertError::NotDead => ApiError::new(
                StatusCode::NOT_FOUND,
                "no_dead_letter",
                "Tidak ada peringatan gagal terkirim dengan kode ini. (No dead letter with this id.)",
            ),
            other => ApiError::internal(other),
        }
    }
}

/// Where an alert's webhook delivery stands.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub(in crate::http) enum Delivery {
    /// No webhook is configured.
    None,
    Pending,
    Delivered,
    /// Failed every attempt: send it again with `redeliver`.
    Dead,
}

/// An alert.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct Alert {
    id: String,
    /// A rule of policies/alerts.toml.
    rule: String,
    /// low, medium, high or critical
    severity: String,
    /// An officer's or citizen's pseudonym, a module, a witness, or "log".
    subject: String,
    /// The figures that raised it.
    #[schema(value_type = Object)]
    facts: serde_json::Value,
    /// The audit event that raised it.
    audit_seq: Option<i64>,
    /// Unix seconds.
    raised_at: i64,
    delivery: Delivery,
    attempts: i32,
    /// The last delivery error.
    last_error: Option<String>,
    /// When it is tried again (Unix seconds), while pending.
    next_at: Option<i64>,
}

pub(in crate::http) fn delivery(r: &ListedRow) -> Delivery {
    match (r.attempts, r.delivered_at, r.dead_at) {
        (None, _, _) => Delivery::None,
        (_, Some(_), _) => Delivery::Delivered,
        (_, _, Some(_)) => Delivery::Dead,
        _ => Delivery::Pending,
    }
}

impl From<ListedRow> for Alert {
    fn from(r: ListedRow) -> Self {
        let delivery = delivery(&r);
        Alert {
            facts: serde_json::from_str(&r.facts).unwrap_or_else(|_| serde_json::json!({})),
            next_at: matches!(delivery, Delivery::Pending).then_some(r.next_at).flatten(),
            delivery,
            attempts: r.attempts.unwrap_or(0),
            id: r.alert_id,
            rule: r.rule,
            severity: r.severity,
            subject: r.subject,
            audit_seq: r.seq,
            raised_at: r.raised_at,
            last_error: r.last_error,
        }
    }
}

/// The newest alerts
///
/// Security officers only; newest first, at most 200, with where each
/// one's webhook delivery stands. The look is audited.
#[utoipa::path(get, path = "/api/security/alerts", tag = "security", security(("session" = [])),
    responses(
        (status = 200, description = "The alerts", body = [Alert]),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not a security officer", body = ErrorBody),
    ))]
pub(super) async fn list(
    State(state): State<AppState>,
    client: Client,
    who: SignedIn,
) -> Result<Json<Vec<Alert>>, ApiError> {
    let permit = officer(&state, &who).await?;
    let rows = alerts::list(&state.db, &state.writer, &permit, &client.ctx).await?;
    Ok(Json(rows.into_iter().map(Alert::from).collect()))
}

/// Send a dead letter again
///
/// An alert whose webhook delivery failed every attempt is tried again
/// from now, its attempts starting over. Audited.
#[utoipa::path(post, path = "/api/security/alerts/{alert}/redeliver", tag = "security", security(("session" = [], "csrf" = [])),
    params(("alert" = String, Path, description = "The alert")),
    responses(
        (status = 204, description = "It will be sent again"),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not a security officer", body = ErrorBody),
        (status = 404, description = "No dead letter with this id (no_dead_letter)", body = ErrorBody),
    ))]
pub(super) async fn redeliver(
    State(state): State<AppState>,
    client: Client,
    who: SignedIn,
    Path(alert): Path<String>,
) -> Result<StatusCode, ApiError> {
    let permit = officer(&state, &who).await?;
    alerts::redeliver(&state.writer, &permit, &alert, &client.ctx).await?;
    Ok(StatusCode::NO_CONTENT)
}
