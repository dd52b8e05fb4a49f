//! The signed-in owner's account: passkeys, recovery codes, activity, and
//! the verification code shown at the counter.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, patch, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use super::client::Client;
use super::error::ApiError;
use super::session::SignedIn;
use crate::app::AppState;
use crate::identity::counter::{self, IssuedCode};
use crate::identity::credentials::{self, CredentialError, PasskeyView};
use crate::identity::{recovery, registration};

pub fn routes(state: &AppState) -> Router<AppState> {
    let add = Router::new()
        .route("/api/passkeys/start", post(add_start))
        .route("/api/passkeys/finish", post(add_finish));
    Router::new()
        .route("/api/passkeys", get(list))
        .merge(super::limits::limited(state, add, crate::ratelimit::ENROL_IP))
        .route("/api/passkeys/{id}", patch(rename).delete(remove))
        .route("/api/recovery-codes", post(regenerate))
        .route("/api/verification-code", post(verification_code))
        .route("/api/activity", get(activity))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            super::session::check_origin,
        ))
}

impl From<CredentialError> for ApiError {
    fn from(e: CredentialError) -> Self {
        match e {
            CredentialError::NotFound => ApiError::not_found(),
            CredentialError::Name => ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_name",
                "Nama passkey harus 1 sampai 60 karakter. (A passkey name must be 1 to 60 characters.)",
            ),
            CredentialError::LastPasskey => ApiError::new(
                StatusCode::CONFLICT,
                "last_passkey",
                "Passkey terakhir tidak dapat dihapus karena tidak ada kode pemulihan yang tersisa. \\
                 Buat kode pemulihan baru atau tambahkan passkey lain dahulu. \\
                 (The last passkey cannot be removed while no recovery code remains. \\
                 Create new recovery codes or add another passkey first.)",
            ),
            CredentialError::Enrol(e) => e.into(),
            other => ApiError::internal(other),
        }
    }
}

async fn list(State(state): State<AppState>, who: SignedIn) -> Result<Json<Vec<PasskeyView>>, ApiError> {
    Ok(Json(
        credentials::list(&state, &who.account, who.session.credential_id.as_deref()).await?,
    ))
}

async fn add_start(State(state): State<AppState>, who: SignedIn) -> Result<Json<serde_json::Value>, ApiError> {
    Ok(Json(credentials::start_add(&state, &who.account).await?))
}

async fn add_finish(
    State(state): State<AppState>,
    client: Client,
    who: SignedIn,
    body: Bytes,
) -> Result<axum::response::Response, ApiError> {
    let registered = registration::finish(&state, &body, &client.user_agent, &client.ctx, Some(&who.account)).await?;
    super::auth::registered_response(&state, registered)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Rename {
    name: String,
}

async fn rename(
    State(state): State<AppState>,
    client: Client,
    who: SignedIn,
    Path(id): Path<String>,
    Json(body): Json<Rename>,
) -> Result<StatusCode, ApiError> {
    credentials::rename(&state, &who.account, &id, &body.name, &client.ctx).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn remove(
    State(state): State<AppState>,
    client: Client,
    who: SignedIn,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    credentials::remove(&state, &who.account, &id, &client.ctx).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize)]
struct Codes {
    recovery_codes: Vec<String>,
}

async fn regenerate(State(state): State<AppState>, client: Client, who: SignedIn) -> Result<Json<Codes>, ApiError> {
    let codes = recovery::regenerate(&state, &who.account, &client.ctx).await?;
    Ok(Json(Codes { recovery_codes: codes }))
}

async fn verification_code(
    State(state): State<AppState>,
    client: Client,
    who: SignedIn,
) -> Result<Json<IssuedCode>, ApiError> {
    Ok(Json(
        counter::verification_code(&state, &who.account, &client.ctx).await?,
    ))
}

#[derive(Debug, Serialize)]
struct ActivityItem {
    time_us: i64,
    action: String,
    actor: String,
    outcome: String,
    reason: Option<String>,
}

/// What happened to and with this account, newest first.
async fn activity(State(state): State<AppState>, who: SignedIn) -> Result<Json<Vec<ActivityItem>>, ApiError> {
    let rows = crate::store::audit::events_about(&state.db, &who.account.pseudonym, 200)
        .await
        .map_err(ApiError::internal)?;
    Ok(Json(
        rows.into_iter()
            .map(|r| ActivityItem {
                time_us: r.time_us,
                action: r.action,
                actor: if r.actor_id == who.account.pseudonym {
                    "you".into()
                } else {
                    r.actor_kind
                },
                outcome: r.outcome,
                reason: r.reason,
            })
            .collect(),
    ))
}
