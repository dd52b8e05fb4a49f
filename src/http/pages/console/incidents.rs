//! The incidents pages: the list with a form to record one, and an
//! incident with its deadline, the citizens affected, and the notices.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;

use super::incident_words::{IncidentWords, incident_words};
use super::words::Words;
use super::{LangQuery, Page, officer_page, render, when};
use crate::app::AppState;
use crate::console::incidents::{self, NOTICE_SECS};
use crate::http::activity::lang_of;
use crate::http::client::Client;
use crate::http::error::ApiError;
use crate::store::incidents::IncidentRow;

struct IncidentView {
    id: String,
    title: String,
    window: String,
    discovered: String,
    due: String,
    overdue: bool,
    authority: Option<String>,
    officers: String,
    modules: String,
}

fn view(r: &IncidentRow, unnotified: bool) -> IncidentView {
    let due = r.discovered_at + NOTICE_SECS;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let window = format!(
        "{} – {}",
        when(r.window_from_us / 1_000_000),
        when(r.window_to_us / 1_000_000)
    );
    IncidentView {
        id: r.incident_id.clone(),
        title: r.title.clone(),
        window,
        discovered: when(r.discovered_at),
        due: when(due),
        overdue: now > due && (r.authority_notified_at.is_none() || unnotified),
        authority: r.authority_notified_at.map(when),
        officers: r.officers.clone(),
        modules: r.modules.clone(),
    }
}

#[derive(Template)]
#[template(path = "console_incidents.html")]
struct ListPage {
    page: Page,
    w: &'static Words,
    i: &'static IncidentWords,
    incidents: Vec<IncidentView>,
}

pub(super) async fn list(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<LangQuery>,
) -> Result<Response, ApiError> {
    let (page, permit, w) = match officer_page(&state, &headers, &q).await? {
        Ok(v) => v,
        Err(away) => return Ok(away),
    };
    let i = incident_words(lang_of(page.t));
    let incidents = incidents::list(&state.db, &permit)
        .await?
        .iter()
        .map(|r| view(r, false))
        .collect();
    let lang = page.set_lang;
    render(lang, &ListPage { page, w, i, incidents })
}

struct AffectedView {
    citizen: String,
    categories: String,
    accesses: i32,
    notified: Option<String>,
}

#[derive(Template)]
#[template(path = "console_incident.html")]
struct DetailPage {
    page: Page,
    w: &'static Words,
    i: &'static IncidentWords,
    incident: IncidentView,
    affected: Vec<AffectedView>,
}

pub(super) async fn detail(
    State(state): State<AppState>,
    client: Client,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<LangQuery>,
) -> Result<Response, ApiError> {
    let (page, permit, w) = match officer_page(&state, &headers, &q).await? {
        Ok(v) => v,
        Err(away) => return Ok(away),
    };
    let i = incident_words(lang_of(page.t));
    let (row, affected) = incidents::detail(&state.db, &state.writer, &permit, &id, &client.ctx).await?;
    let unnotified = affected.iter().any(|a| a.notified_at.is_none());
    let affected = affected
        .into_iter()
        .map(|a| AffectedView {
            citizen: a.citizen,
            categories: a.categories.split_whitespace().collect::<Vec<_>>().join(", "),
            accesses: a.accesses,
            notified: a.notified_at.map(when),
        })
        .collect();
    let lang = page.set_lang;
    render(
        lang,
        &DetailPage {
            page,
            w,
            i,
            incident: view(&row, unnotified),
            affected,
        },
    )
}
