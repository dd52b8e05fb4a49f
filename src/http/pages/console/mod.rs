//! The security officers' console, rendered on the server like the
//! portal: integrity status, audit search, an event with its inclusion
//! proof (checked in the browser by /static/console.js), and the
//! break-glass review queue. Security officers only: anyone else signed in
//! gets the 403 page, and a visitor is sent to sign in.

mod admin;
mod admin_words;
mod alerts;
mod audit;
mod incident_words;
mod incidents;
mod words;

use askama::Template;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;

use super::{LangQuery, Page, render, signed_in_page, to_sign_in, when};
use crate::app::AppState;
use crate::audit::checkpoint::{Checkpoint, verifier_key};
use crate::breakglass::review::Waiting;
use crate::console::permit::SecurityOfficer;
use crate::http::activity::lang_of;
use crate::http::error::ApiError;
use words::{Words, words};

pub fn routes() -> crate::http::routes::Routes {
    crate::http::routes::Routes::new()
        .get("/security", home)
        .get("/security/audit", audit::search)
        .get("/security/audit/{seq}", audit::event)
        .get("/security/alerts", alerts::alerts)
        .get("/security/break-glass", break_glass)
        .get("/security/incidents", incidents::list)
        .get("/security/incidents/{id}", incidents::detail)
        .get("/audit", || async { Redirect::to("/security/audit") })
        .get("/admin", admin::admin)
}

/// The page and the security-officer permit; `Err` is where a visitor
/// without one goes (sign-in), and a signed-in non-officer gets 403.
async fn officer_page(
    state: &AppState,
    headers: &HeaderMap,
    q: &LangQuery,
) -> Result<Result<(Page, SecurityOfficer, &'static Words), Response>, ApiError> {
    let Some((page, who)) = signed_in_page(state, headers, q).await? else {
        return Ok(Err(to_sign_in()));
    };
    let permit = crate::http::console::officer(state, &who).await?;
    let w = words(lang_of(page.t));
    Ok(Ok((page, permit, w)))
}

/// The latest signed checkpoint as the console shows it.
struct Signed {
    size: u64,
    at: String,
    root: String,
}

/// A witness as the console shows it.
struct WitnessView {
    name: String,
    url: String,
    /// (tree size, when it signed)
    cosigned: Option<(i64, String)>,
    error: Option<String>,
    refused: Option<String>,
}

async fn witness_views(state: &AppState) -> Result<Vec<WitnessView>, ApiError> {
    let mut views = Vec::new();
    for w in &state.config.audit.witnesses.http {
        let latest = crate::store::audit_witness::latest(&state.db, &w.name)
            .await
            .map_err(ApiError::internal)?;
        let health = state.witnesses.get(&w.name);
        views.push(WitnessView {
            cosigned: latest.map(|c| (c.tree_size, when(c.time_s))),
            name: w.name.clone(),
            url: w.url.clone(),
            error: health.error,
            refused: health.refused,
        });
    }
    Ok(views)
}

#[derive(Template)]
#[template(path = "console_home.html")]
struct Home {
    page: Page,
    w: &'static Words,
    failure: Option<String>,
    signed: Option<Signed>,
    verified: Option<(u64, String)>,
    key: String,
    waiting: usize,
    witnesses: Vec<WitnessView>,
    folder: Option<String>,
}

async fn home(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<LangQuery>,
) -> Result<Response, ApiError> {
    let (page, permit, w) = match officer_page(&state, &headers, &q).await? {
        Ok(v) => v,
        Err(away) => return Ok(away),
    };
    let public = state.keys.audit.public_key();
    let tip = crate::store::audit::tip(&state.db).await.map_err(ApiError::internal)?;
    let signed = tip
        .and_then(|t| Checkpoint::open(&t.note, &public).ok())
        .map(|cp| Signed {
            size: cp.size,
            at: when(cp.time),
            root: B64.encode(cp.root),
        });
    let verified = match state.audit_status.verified() {
        (events, Some(at)) => Some((events, when(at))),
        _ => None,
    };
    // Counted only: the justifications are opened (and audited) on the
    // queue's own page.
    let waiting = crate::store::break_glass::unreviewed(&state.db, crate::breakglass::review::QUEUE_LIMIT)
        .await
        .map_err(ApiError::internal)?
        .len();
    drop(permit);
    let lang = page.set_lang;
    render(
        lang,
        &Home {
            page,
            w,
            failure: state.audit_status.failure(),
            signed,
            verified,
            key: verifier_key(&state.config.audit.origin, &public),
            waiting,
            witnesses: witness_views(&state).await?,
            folder: state
                .config
                .audit
                .witnesses
                .folder
                .as_ref()
                .map(|p| p.display().to_string()),
        },
    )
}

/// A grant as the queue shows it.
struct GrantView {
    grant: String,
    officer: String,
    citizen: String,
    opened: String,
    waited: String,
    overdue: bool,
    justification: Option<String>,
    own: bool,
}

/// How long, in the largest whole unit.
fn waited(secs: i64, w: &Words) -> String {
    match secs {
        s if s >= 86_400 => format!("{} {}", s / 86_400, w.days),
        s if s >= 3_600 => format!("{} {}", s / 3_600, w.hours),
        s => format!("{} {}", (s / 60).max(0), w.minutes),
    }
}

/// A grant unreviewed for longer than this is shown as overdue.
const OVERDUE_SECS: i64 = 3 * 86_400;

fn grant_view(g: Waiting, w: &Words) -> GrantView {
    GrantView {
        waited: waited(g.waiting_secs, w),
        overdue: g.waiting_secs > OVERDUE_SECS,
        opened: when(g.opened_at),
        grant: g.grant,
        officer: g.officer,
        citizen: g.citizen,
        justification: g.justification,
        own: g.own,
    }
}

#[derive(Template)]
#[template(path = "console_break_glass.html")]
struct BreakGlass {
    page: Page,
    w: &'static Words,
    grants: Vec<GrantView>,
}

async fn break_glass(
    State(state): State<AppState>,
    client: crate::http::client::Client,
    headers: HeaderMap,
    Query(q): Query<LangQuery>,
) -> Result<Response, ApiError> {
    let (page, permit, w) = match officer_page(&state, &headers, &q).await? {
        Ok(v) => v,
        Err(away) => return Ok(away),
    };
    let queue = crate::breakglass::review::queue(&state.break_glass, &permit, &client.ctx).await?;
    let grants = queue.into_iter().map(|g| grant_view(g, w)).collect();
    let lang = page.set_lang;
    render(lang, &BreakGlass { page, w, grants }).map(IntoResponse::into_response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waiting_is_said_in_its_largest_unit() {
        let w = words(crate::policy::labels::Lang::En);
        assert_eq!(waited(59, w), "0 minutes");
        assert_eq!(waited(3_599, w), "59 minutes");
        assert_eq!(waited(7_200, w), "2 hours");
        assert_eq!(waited(3 * 86_400 + 5, w), "3 days");
    }
}
