//! The public transparency report as JSON: `GET /api/transparency/{month}`
//! and `GET /api/transparency` (the last complete month). No sign-in;
//! counts only ([`crate::transparency`]).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;

use super::error::{ApiError, ErrorBody};
use super::routes::Routes;
use crate::app::AppState;
use crate::transparency::{BadMonth, Month, Report};

pub fn routes() -> Routes {
    Routes::new()
        .get("/api/transparency", latest)
        .get("/api/transparency/{month}", month)
}

/// 400 for a month not written `YYYY-MM`, 404 for one without a report.
pub(in crate::http) fn bad_month(why: BadMonth) -> ApiError {
    match why {
        BadMonth::Malformed => ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_month",
            "Bulan tidak valid: tulis YYYY-MM. (Invalid month: write YYYY-MM.)",
        ),
        BadMonth::NoReport => ApiError::new(
            StatusCode::NOT_FOUND,
            "no_report",
            "Laporan hanya ada dari 2024-01 sampai bulan ini. \
             (Reports exist from 2024-01 to this month.)",
        ),
    }
}

/// The month in the path.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
pub(super) struct MonthPath {
    /// YYYY-MM, from 2024-01 to this month.
    #[param(pattern = "^[0-9]{4}-(0[1-9]|1[0-2])$")]
    month: String,
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
    params(MonthPath),
    responses(
        (status = 200, description = "The report", body = Report),
        (status = 400, description = "Not written YYYY-MM (invalid_month)", body = ErrorBody),
        (status = 404, description = "Before 2024-01 or still to come (no_report)", body = ErrorBody),
    ))]
pub(super) async fn month(State(state): State<AppState>, Path(p): Path<MonthPath>) -> Result<Json<Report>, ApiError> {
    let month = Month::parse(&p.month, time::OffsetDateTime::now_utc()).map_err(bad_month)?;
    report(&state, month).await
}
