//! A module's open cases with citizens (the lawful basis of contract and
//! public-task purposes).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;

use super::client::Client;
use super::error::{ApiError, ErrorBody};
use super::json::Body;
use super::modules::Caller;
use super::routes::Routes;
use crate::app::AppState;
use crate::modules::cases::{self, CaseState};

pub fn routes() -> Routes {
    Routes::new().put("/api/cases/{citizen}/{case}", set)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub(super) enum CaseStatus {
    Open,
    Closed,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct SetCase {
    /// `open` or `closed`.
    state: CaseStatus,
    /// When closing: the event the module records (an identifier such as
    /// `ticket_closed`); a purpose kept until that event ends with it.
    event: Option<String>,
}

/// Open or close a case
///
/// A purpose based on a contract or a public task reads a citizen's data
/// only while the citizen has an open case with the module. Opening an
/// open case, or closing a closed one, changes nothing.
#[utoipa::path(put, path = "/api/cases/{citizen}/{case}", tag = "modules", security(("module_key" = [])),
    params(
        ("citizen" = String, Path, description = "The citizen's pseudonym"),
        ("case" = String, Path, description = "The module's case id: 1 to 64 letters, digits, `-` or `_`"),
    ),
    request_body = SetCase,
    responses(
        (status = 204, description = "The case is in the state asked"),
        (status = 400, description = "Invalid case id or event", body = ErrorBody),
        (status = 404, description = "No such citizen", body = ErrorBody),
        (status = 422, description = "The body is not {state, event?}", body = ErrorBody),
    ))]
pub(super) async fn set(
    State(state): State<AppState>,
    caller: Caller,
    client: Client,
    Path((citizen, case)): Path<(String, String)>,
    Body(body): Body<SetCase>,
) -> Result<StatusCode, ApiError> {
    let wanted = match (body.state, body.event) {
        (CaseStatus::Open, None) => CaseState::Open,
        (CaseStatus::Open, Some(_)) => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "event is given only when closing a case",
            ));
        }
        (CaseStatus::Closed, event) => CaseState::Closed {
            event: event.unwrap_or_else(|| "case_closed".to_owned()),
        },
    };
    cases::set(&state.modules, &caller.0, &citizen, &case, wanted, &client.ctx).await?;
    Ok(StatusCode::NO_CONTENT)
}
