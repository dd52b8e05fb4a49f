//! The console's audit pages: the search (a GET form; every search is
//! audited) and one event with its inclusion proof, which
//! /static/console.js checks in the browser against the signed checkpoint.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::words::Words;
use super::{LangQuery, Page, officer_page, render};
use crate::app::AppState;
use crate::audit::checkpoint::verifier_key;
use crate::audit::export::list;
use crate::console::search::{self, Asked, SearchError};
use crate::http::client::Client;
use crate::http::error::ApiError;
use crate::store::audit::EventRow;

/// The search form as submitted: empty fields are absent.
#[derive(Debug, Default, Deserialize)]
pub(super) struct SearchForm {
    lang: Option<String>,
    from: Option<String>,
    to: Option<String>,
    actor_kind: Option<String>,
    actor: Option<String>,
    citizen: Option<String>,
    action: Option<String>,
    purpose: Option<String>,
    module: Option<String>,
    outcome: Option<String>,
    request_id: Option<String>,
    cursor: Option<String>,
}

fn given(v: &Option<String>) -> Option<String> {
    v.as_deref().map(str::trim).filter(|t| !t.is_empty()).map(str::to_owned)
}

/// A `datetime-local` value (`2026-12-07T09:30`) is a WIB time; anything
/// else is passed on as written (an RFC 3339 instant, or refused).
fn wib(v: &Option<String>) -> Option<String> {
    given(v).map(|t| {
        let b = t.as_bytes();
        let local = t.len() == 16
            && b.get(10) == Some(&b'T')
            && t.char_indices()
                .all(|(i, c)| matches!(i, 4 | 7 | 10 | 13) || c.is_ascii_digit());
        if local { format!("{t}:00+07:00") } else { t }
    })
}

impl SearchForm {
    fn asked(&self) -> Asked {
        Asked {
            from: wib(&self.from),
            to: wib(&self.to),
            actor_kind: given(&self.actor_kind),
            actor: given(&self.actor),
            citizen: given(&self.citizen),
            action: given(&self.action),
            purpose: given(&self.purpose),
            module: given(&self.module),
            outcome: given(&self.outcome),
            request_id: given(&self.request_id),
            cursor: given(&self.cursor),
            limit: None,
        }
    }

    /// The filters as a query string (for the next page's link).
    fn filters(&self) -> String {
        let mut q = form_urlencoded::Serializer::new(String::new());
        for (name, v) in [
            ("from", &self.from),
            ("to", &self.to),
            ("actor_kind", &self.actor_kind),
            ("actor", &self.actor),
            ("citizen", &self.citizen),
            ("action", &self.action),
            ("purpose", &self.purpose),
            ("module", &self.module),
            ("outcome", &self.outcome),
            ("request_id", &self.request_id),
        ] {
            if let Some(v) = given(v) {
                q.append_pair(name, &v);
            }
        }
        q.finish()
    }

    fn value(v: &Option<String>) -> String {
        given(v).unwrap_or_default()
    }
}

/// One row of the results.
struct Row {
    seq: i64,
    time: String,
    actor: String,
    action: String,
    target: String,
    purpose: String,
    outcome: String,
}

fn kind_label(w: &Words, kind: &str) -> &'static str {
    w.kinds.iter().find(|(k, _)| *k == kind).map_or("", |(_, l)| *l)
}

fn outcome_label(w: &Words, outcome: &str) -> &'static str {
    w.outcomes.iter().find(|(o, _)| *o == outcome).map_or("", |(_, l)| *l)
}

fn target_text(r: &EventRow) -> String {
    let mut t = r.target_kind.clone();
    if let Some(id) = &r.target_id {
        t.push(' ');
        t.push_str(id);
    }
    if !r.target_fields.is_empty() {
        t.push_str(&format!(" [{}]", list(&r.target_fields).join(", ")));
    }
    t
}

fn row(r: EventRow, w: &Words) -> Row {
    Row {
        seq: r.seq,
        time: wib_micros(r.time_us),
        actor: format!("{}: {}", kind_label(w, &r.actor_kind), r.actor_id),
        target: target_text(&r),
        action: r.action,
        purpose: r.purpose.unwrap_or_default(),
        outcome: outcome_label(w, &r.outcome).to_owned(),
    }
}

/// An event's time in WIB to the second.
fn wib_micros(us: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(us) * 1_000)
        .ok()
        .map(|t| t.to_offset(time::macros::offset!(+7)))
        .and_then(|t| {
            t.format(&time::macros::format_description!(
                "[year]-[month]-[day] [hour]:[minute]:[second] WIB"
            ))
            .ok()
        })
        .unwrap_or_default()
}

#[derive(Template)]
#[template(path = "console_audit.html")]
struct SearchPage {
    page: Page,
    w: &'static Words,
    form: SearchForm,
    error: Option<String>,
    rows: Vec<Row>,
    next: Option<String>,
}

impl SearchPage {
    fn v(&self, field: &Option<String>) -> String {
        SearchForm::value(field)
    }
}

pub(super) async fn search(
    State(state): State<AppState>,
    client: Client,
    headers: HeaderMap,
    Query(form): Query<SearchForm>,
) -> Result<Response, ApiError> {
    let q = LangQuery {
        lang: form.lang.clone(),
    };
    let (page, permit, w) = match officer_page(&state, &headers, &q).await? {
        Ok(v) => v,
        Err(away) => return Ok(away),
    };
    let lang = page.set_lang;
    let found = search::search(&state.db, &state.writer, &permit, &form.asked(), &client.ctx).await;
    let (rows, next, error) = match found {
        Ok(found) => {
            let filters = form.filters();
            let next = found.next.map(|cursor| {
                let mut q = form_urlencoded::Serializer::new(filters.clone());
                q.append_pair("cursor", &cursor);
                q.finish()
            });
            (found.events.into_iter().map(|r| row(r, w)).collect(), next, None)
        }
        Err(SearchError::Bad(why)) => (Vec::new(), None, Some(why.0)),
        Err(other) => return Err(other.into()),
    };
    let bad = error.is_some();
    let mut response = render(
        lang,
        &SearchPage {
            page,
            w,
            form,
            error,
            rows,
            next,
        },
    )?;
    if bad {
        // The form again with what was wrong, not the generic error page.
        *response.status_mut() = StatusCode::BAD_REQUEST;
        response.extensions_mut().insert(crate::http::error::OwnPage);
    }
    Ok(response)
}

/// The event as its canonical bytes need it (read by console.js).
#[derive(Serialize)]
struct Canonical<'a> {
    seq: i64,
    time_us: i64,
    actor_kind: &'a str,
    actor_id: &'a str,
    action: &'a str,
    target_kind: &'a str,
    target_id: Option<&'a str>,
    target_fields: Vec<String>,
    purpose: Option<&'a str>,
    outcome: &'a str,
    reason: Option<&'a str>,
    request_id: Option<&'a str>,
    source: Option<&'a str>,
    policies: Vec<String>,
}

#[derive(Template)]
#[template(path = "console_event.html")]
struct EventPage {
    page: Page,
    w: &'static Words,
    row: Row,
    reason: String,
    request_id: String,
    source: String,
    policies: String,
    canonical: String,
    key: String,
}

pub(super) async fn event(
    State(state): State<AppState>,
    client: Client,
    headers: HeaderMap,
    Path(seq): Path<String>,
    Query(q): Query<LangQuery>,
) -> Result<Response, ApiError> {
    let (page, permit, w) = match officer_page(&state, &headers, &q).await? {
        Ok(v) => v,
        Err(away) => return Ok(away),
    };
    let missing = || {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "no_event",
            "Kejadian tidak ditemukan. (No such event.)",
        )
    };
    let seq: i64 = seq.parse().ok().filter(|s| *s >= 0).ok_or_else(missing)?;
    let r = search::event(&state.db, &state.writer, &permit, seq, &client.ctx)
        .await?
        .ok_or_else(missing)?;
    let canonical = serde_json::to_string(&Canonical {
        seq: r.seq,
        time_us: r.time_us,
        actor_kind: &r.actor_kind,
        actor_id: &r.actor_id,
        action: &r.action,
        target_kind: &r.target_kind,
        target_id: r.target_id.as_deref(),
        target_fields: list(&r.target_fields),
        purpose: r.purpose.as_deref(),
        outcome: &r.outcome,
        reason: r.reason.as_deref(),
        request_id: r.request_id.as_deref(),
        source: r.source.as_deref(),
        policies: list(&r.policies),
    })
    .map_err(ApiError::internal)?;
    let or_none = |v: &Option<String>| v.clone().unwrap_or_else(|| w.none.to_owned());
    let lang = page.set_lang;
    let view = EventPage {
        page,
        w,
        reason: or_none(&r.reason),
        request_id: or_none(&r.request_id),
        source: or_none(&r.source),
        policies: if r.policies.is_empty() {
            w.none.to_owned()
        } else {
            list(&r.policies).join(", ")
        },
        canonical,
        key: verifier_key(&state.config.audit.origin, &state.keys.audit.public_key()),
        row: row(r, w),
    };
    render(lang, &view).map(IntoResponse::into_response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_local_time_is_read_as_wib() {
        let t = |s: &str| wib(&Some(s.to_owned()));
        assert_eq!(t("2026-12-07T09:30").as_deref(), Some("2026-12-07T09:30:00+07:00"));
        assert_eq!(t("2026-12-07T09:30:00Z").as_deref(), Some("2026-12-07T09:30:00Z"));
        assert_eq!(t("  ").as_deref(), None);
        assert_eq!(t("yesterday").as_deref(), Some("yesterday"));
    }
}
