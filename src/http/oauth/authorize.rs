//! The consent screen's decision (`POST /api/oauth/decide`), sent by the
//! page's script with the session's CSRF token.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::app::AppState;
use crate::http::client::Client;
use crate::http::error::ApiError;
use crate::http::session::SignedIn;
use crate::oauth::authorize::{self, AuthorizeError, Step};
use crate::oauth::par::{self, WaitingError};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(in crate::http) struct DecideBody {
    client_id: String,
    request_uri: String,
    /// `allow` or `deny`.
    decision: Decision,
    /// The purposes based on consent the person ticked.
    #[serde(default)]
    purposes: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub(in crate::http) enum Decision {
    Allow,
    Deny,
}

fn unusable() -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "unknown_request",
        "Permintaan masuk ini tidak dikenal, sudah dipakai atau sudah kedaluwarsa. Kembali ke layanan dan mulai \
         lagi. (This sign-in request is unknown, was used already or has expired. Go back to the service and \
         start again.)",
    )
}

impl From<AuthorizeError> for ApiError {
    fn from(e: AuthorizeError) -> Self {
        match e {
            AuthorizeError::Unusable(_) => unusable(),
            AuthorizeError::GuardianRequired => ApiError::new(
                StatusCode::FORBIDDEN,
                "guardian_required",
                "Anak di bawah 18 tahun memberi persetujuan melalui walinya. Biarkan tujuan ini tidak dicentang. \
                 (A child under 18 gives consent through their guardian. Leave this purpose unticked.)",
            ),
            other => ApiError::internal(other),
        }
    }
}

/// Decide on a module's sign-in
///
/// The signed-in person allows (with the purposes they consent to) or
/// refuses the pushed request shown on the consent screen. Consent given
/// here is recorded with its receipt, like on the Consents page. Answers
/// the URL to send the browser to: the module's redirect URI with the code
/// (or `access_denied`), `state` and `iss`.
#[utoipa::path(post, path = "/api/oauth/decide", tag = "oauth", security(("session" = [], "csrf" = [])),
    request_body = DecideBody,
    responses(
        (status = 200, description = "redirect: where the browser goes next", body = Object),
        (status = 400, description = "The sign-in request is unknown, used or expired", body = crate::http::error::ErrorBody),
        (status = 401, description = "Not signed in", body = crate::http::error::ErrorBody),
        (status = 403, description = "CSRF token mismatch, or a child's consent needs their guardian", body = crate::http::error::ErrorBody),
        (status = 429, description = "Rate limited (account-ip)", body = crate::http::error::ErrorBody),
    ))]
pub(in crate::http) async fn decide(
    State(state): State<AppState>,
    client: Client,
    who: SignedIn,
    Json(body): Json<DecideBody>,
) -> Result<Json<Value>, ApiError> {
    let now = crate::oauth::now();
    let waiting = match par::waiting(&state.oauth, &body.client_id, &body.request_uri, now).await {
        Ok(w) => w,
        Err(WaitingError::Unusable(_)) => return Err(unusable()),
        Err(WaitingError::Store(e)) => return Err(ApiError::internal(e)),
    };
    let step = match body.decision {
        Decision::Allow => {
            authorize::approve(
                &state.oauth,
                &state.consent,
                &waiting,
                &who,
                &body.purposes,
                now,
                &client.ctx,
            )
            .await?
        }
        Decision::Deny => authorize::deny(&state.oauth, &waiting, &who, &client.ctx).await?,
    };
    match step {
        Step::Redirect(url) => Ok(Json(json!({ "redirect": url }))),
        // The session no longer fits the request (it ended, or is too old
        // for max_age): the page starts again from the authorization endpoint.
        Step::SignIn | Step::Ask(_) => {
            let query = form_urlencoded::Serializer::new(String::new())
                .append_pair("client_id", &body.client_id)
                .append_pair("request_uri", &body.request_uri)
                .finish();
            Ok(Json(json!({ "redirect": format!("{}?{query}", super::AUTHORIZE) })))
        }
    }
}
