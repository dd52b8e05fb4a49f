//! The public transparency report as JSON: `GET /api/transparency/{month}`
//! and `GET /api/transparency` (the last complete month). No sign-in;
//! counts only ([`crate::transparency`]).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;

use super::error::{ApiError, ErrorBody};
use super::routes::Routes;
use crate::app::AppState;
use crate::transparency::{Month, Report};

pub fn routes() -> Routes {
    Routes::new()
        .get("/api/transparency", latest)
        .get("/api/transparency/{month}", month)
}

pub(in crate::http) fn invalid_month() -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "invalid_month",
        "Bulan tidak valid: tulis YYYY-MM, dari 2024-01 sampai bulan ini. \
         (Invalid month: write YYYY-MM, from 2024-01 to this month.)",
    )
}

async fn report(state: &AppState, month: Month) -> Result<Json<Report>, ApiError> {
    let report = state
        .transparency
        .get(&state.db, month)
        .await
        .map_err(ApiError::internal)?;
    Ok(Json(Report::clone(&report)))
}

/// The transparency report of the last complete month
///
/// Public. Counts under 10 are the string "< 10".
#[utoipa::path(get, path = "/api/transparency", tag = "transparency",
    responses(
        (status = 200, description = "The report", body = Report),
    ))]
pub(super) async fn latest(State(state): State<AppState>) -> Result<Json<Report>, ApiError> {
    let now = time::OffsetDateTime::now_utc();
    let month = Month::of(now).previous().unwrap_or_else(|| Month::of(now));
    report(&state, month).await
}

/// The transparency report of one month
///
/// Public. Calendar months in WIB (UTC+7); the running month is marked
/// `complete: false`. Counts under 10 are the string "< 10"; correction
/// durations are shown from 10 decisions. Computed at most every ten
/// minutes.
#[utoipa::path(get, path = "/api/transparency/{month}", tag = "transparency",
    params(("month" = String, Path, description = "YYYY-MM, from 2024-01 to this month")),
    responses(
        (status = 200, description = "The report", body = Report),
        (status = 400, description = "Not a month that has a report (invalid_month)", body = ErrorBody),
    ))]
pub(super) async fn month(State(state): State<AppState>, Path(text): Path<String>) -> Result<Json<Report>, ApiError> {
    let month = Month::parse(&text, time::OffsetDateTime::now_utc()).ok_or_else(invalid_month)?;
    report(&state, month).await
}
