//! The administration page: officers (no names) with their roles, and
//! actions to add, change roles, suspend and recover; modules with a way
//! to disable them. The actions call the admin API (/static/console.js).

use askama::Template;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;

use super::admin_words::{AdminWords, admin_words};
use super::{LangQuery, Page, render, signed_in_page, to_sign_in, when};
use crate::app::AppState;
use crate::console::admin::{self, ModuleView, OfficerView};
use crate::http::activity::lang_of;
use crate::http::error::ApiError;

struct OfficerRow {
    officer: String,
    status: &'static str,
    active: bool,
    roles: Vec<(&'static str, &'static str, bool)>,
    unit: String,
    you: bool,
}

struct ModuleRow {
    name: String,
    since: String,
    disabled: Option<String>,
}

fn officer_row(o: OfficerView, w: &AdminWords) -> OfficerRow {
    OfficerRow {
        status: w.statuses.iter().find(|(s, _)| *s == o.status).map_or("", |(_, l)| *l),
        active: o.status != "suspended",
        roles: w
            .role_names
            .iter()
            .map(|(r, label)| (*r, *label, o.roles.iter().any(|h| h == r)))
            .collect(),
        unit: o.unit.unwrap_or_default(),
        you: o.you,
        officer: o.officer,
    }
}

fn module_row(m: ModuleView) -> ModuleRow {
    ModuleRow {
        name: m.name,
        since: when(m.created_at),
        disabled: m.disabled_at.map(when),
    }
}

#[derive(Template)]
#[template(path = "console_admin.html")]
struct AdminPage {
    page: Page,
    w: &'static AdminWords,
    officers: Vec<OfficerRow>,
    modules: Vec<ModuleRow>,
}

pub(super) async fn admin(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<LangQuery>,
) -> Result<Response, ApiError> {
    let Some((page, who)) = signed_in_page(&state, &headers, &q).await? else {
        return Ok(to_sign_in());
    };
    let permit = crate::http::admin::administrator(&state, &who).await?;
    let w = admin_words(lang_of(page.t));
    let officers = admin::officers(&state.db, &permit)
        .await
        .map_err(ApiError::internal)?
        .into_iter()
        .map(|o| officer_row(o, w))
        .collect();
    let modules = admin::modules(&state.db, &permit)
        .await
        .map_err(ApiError::internal)?
        .into_iter()
        .map(module_row)
        .collect();
    let lang = page.set_lang;
    render(
        lang,
        &AdminPage {
            page,
            w,
            officers,
            modules,
        },
    )
}
