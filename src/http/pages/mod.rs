//! The citizen portal and the counter page, rendered on the server. The
//! only script is /static/jaga.js (passkey ceremonies and API calls); no
//! inline script, nothing from other origins.

mod authorize;
mod consents;
mod console;
mod data;
pub(super) mod history;
mod logout;
mod privacy;
mod requests;
mod texts;
mod transparency;

use crate::account::AccountKind;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::error::ApiError;
use super::session::{SignedIn, lookup};
use crate::app::AppState;
use crate::identity::Role;
pub use texts::{Lang, Texts};

pub fn routes() -> super::routes::Routes {
    super::routes::Routes::new()
        .get("/", home)
        .get("/signin", signin)
        .get(crate::http::oauth::AUTHORIZE, authorize::authorize)
        .get(crate::http::oauth::LOGOUT, logout::logout)
        .get("/enrol", enrol)
        .get("/enrol/code", code)
        .get("/officer/enrol", officer_enrol)
        .get("/recover", recover)
        .get("/account/data", data::data)
        .get("/account/consents", consents::consents)
        .get("/account/erase", requests::erase_page)
        .get("/account/passkeys", passkeys)
        .get("/account/sessions", sessions)
        .get("/account/recovery-codes", recovery_codes)
        .get("/account/activity", activity)
        .get("/counter", counter)
        .get("/privasi", privacy::privacy)
        .get("/transparansi", transparency::transparency)
        .merge(console::routes())
}

const LANG_COOKIE: &str = "jaga_lang";

#[derive(Debug, Deserialize)]
pub struct LangQuery {
    lang: Option<String>,
}

/// The signed-in person as pages show them.
#[derive(Debug)]
pub struct UserView {
    pub pseudonym: String,
    /// The latest recovery of this account at a service counter, said plainly.
    pub counter_recovery: Option<String>,
    pub verified: bool,
    pub counter: bool,
    pub security: bool,
    pub admin: bool,
    pub citizen: bool,
}

/// What every page needs.
#[derive(Debug)]
pub struct Page {
    pub t: &'static Texts,
    pub user: Option<UserView>,
    pub csrf: String,
    /// Remember an explicit language choice.
    set_lang: Option<Lang>,
    /// Query parameters the language switch keeps (`a=1&b=2&`, or empty).
    pub keep: String,
}

async fn page(state: &AppState, headers: &HeaderMap, query: &LangQuery) -> Result<(Page, Option<SignedIn>), ApiError> {
    let cookie_lang = headers
        .get(header::COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(|c| crate::sessions::token_from_cookies(c, LANG_COOKIE))
        .map(str::to_owned);
    let explicit = query.lang.as_deref().filter(|l| matches!(*l, "id" | "en"));
    let accept = headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok());
    let lang = Lang::choose(explicit.or(cookie_lang.as_deref()), accept);
    let who = lookup(state, headers).await?;
    let user = match &who {
        Some(w) => {
            let roles = crate::store::identity::roles(&state.db, &w.account().account_id)
                .await
                .map_err(ApiError::internal)?;
            let counter_recovery = if w.account().kind == AccountKind::Citizen {
                super::activity::counter_recovery_notice(state, &w.account().account_id, lang.texts()).await?
            } else {
                None
            };
            Some(UserView {
                counter_recovery,
                pseudonym: w.account().pseudonym.clone(),
                verified: w.account().verified,
                counter: w.account().kind == AccountKind::Officer
                    && roles.iter().any(|r| Role::parse(r) == Some(Role::Counter)),
                security: w.account().kind == AccountKind::Officer
                    && roles.iter().any(|r| Role::parse(r) == Some(Role::Security)),
                admin: w.account().kind == AccountKind::Officer
                    && roles.iter().any(|r| Role::parse(r) == Some(Role::Admin)),
                citizen: w.account().kind == AccountKind::Citizen,
            })
        }
        None => None,
    };
    Ok((
        Page {
            t: lang.texts(),
            user,
            csrf: who.as_ref().map(|w| w.session().csrf_token.clone()).unwrap_or_default(),
            set_lang: explicit.map(|_| lang),
            keep: String::new(),
        },
        who,
    ))
}

fn render(page_lang: Option<Lang>, template: &impl Template) -> Result<Response, ApiError> {
    let html = template.render().map_err(ApiError::internal)?;
    let mut response = Html(html).into_response();
    if let Some(lang) = page_lang {
        let value = format!(
            "{LANG_COOKIE}={}; Path=/; SameSite=Lax; Max-Age=31536000",
            lang.texts().lang
        );
        if let Ok(v) = HeaderValue::from_str(&value) {
            response.headers_mut().insert(header::SET_COOKIE, v);
        }
    }
    Ok(response)
}

macro_rules! simple_page {
    ($fn:ident, $ty:ident, $file:literal) => {
        #[derive(Template)]
        #[template(path = $file)]
        struct $ty {
            page: Page,
        }

        async fn $fn(
            State(state): State<AppState>,
            headers: HeaderMap,
            Query(q): Query<LangQuery>,
        ) -> Result<Response, ApiError> {
            let (page, _) = page(&state, &headers, &q).await?;
            let lang = page.set_lang;
            render(lang, &$ty { page })
        }
    };
}

#[derive(Template)]
#[template(path = "home.html")]
struct Home {
    page: Page,
    /// The signed-in citizen's name, for the greeting (an audited own-data read).
    name: Option<String>,
}

async fn home(
    State(state): State<AppState>,
    client: crate::http::client::Client,
    headers: HeaderMap,
    Query(q): Query<LangQuery>,
) -> Result<Response, ApiError> {
    let (page, who) = page(&state, &headers, &q).await?;
    let name = match who.as_ref().and_then(SignedIn::own_data) {
        Some(own) => crate::profile::own_name(&state.profile, &own, &client.ctx).await?,
        None => None,
    };
    let lang = page.set_lang;
    render(lang, &Home { page, name })
}

#[derive(Template)]
#[template(path = "signin.html")]
struct SignIn {
    page: Page,
    /// Where to go once signed in (only the authorization endpoint).
    next: Option<String>,
}

#[derive(Debug, Deserialize)]
struct SignInQuery {
    lang: Option<String>,
    next: Option<String>,
}

async fn signin(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<SignInQuery>,
) -> Result<Response, ApiError> {
    let (mut page, _) = page(&state, &headers, &LangQuery { lang: q.lang }).await?;
    let next = q.next.as_deref().and_then(authorize::safe_next).map(str::to_owned);
    if let Some(next) = &next {
        let keep = form_urlencoded::Serializer::new(String::new())
            .append_pair("next", next)
            .finish();
        page.keep = format!("{keep}&");
    }
    let lang = page.set_lang;
    render(lang, &SignIn { page, next })
}
simple_page!(enrol, Enrol, "enrol.html");
simple_page!(code, Code, "code.html");
simple_page!(officer_enrol, OfficerEnrol, "officer_enrol.html");
simple_page!(recover, Recover, "recover.html");

/// A page for a signed-in person; `None` when nobody is signed in.
async fn signed_in_page(
    state: &AppState,
    headers: &HeaderMap,
    q: &LangQuery,
) -> Result<Option<(Page, SignedIn)>, ApiError> {
    let (page, who) = page(state, headers, q).await?;
    Ok(who.map(|who| (page, who)))
}

/// Where a signed-out visitor of a signed-in page is sent.
fn to_sign_in() -> Response {
    Redirect::to("/signin").into_response()
}

/// A time as citizens and officers read it: Asia/Jakarta (WIB, UTC+7,
/// no daylight saving), `2026-12-06 14:05 WIB`.
pub(super) fn when(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .map(|t| t.to_offset(time::macros::offset!(+7)))
        .and_then(|t| {
            t.format(&time::macros::format_description!(
                "[year]-[month]-[day] [hour]:[minute] WIB"
            ))
            .ok()
        })
        .unwrap_or_default()
}

struct PasskeyRow {
    id: String,
    name: String,
    synced: bool,
    current: bool,
    created: String,
    last_used: String,
}

#[derive(Template)]
#[template(path = "passkeys.html")]
struct Passkeys {
    page: Page,
    passkeys: Vec<PasskeyRow>,
}

async fn passkeys(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<LangQuery>,
) -> Result<Response, ApiError> {
    let Some((page, who)) = signed_in_page(&state, &headers, &q).await? else {
        return Ok(to_sign_in());
    };
    let list =
        crate::identity::credentials::list(&state.identity, who.account(), who.session().credential_id.as_deref())
            .await?;
    let never = page.t.never;
    let passkeys = list
        .into_iter()
        .map(|p| PasskeyRow {
            id: p.id,
            name: p.name,
            synced: p.synced,
            current: p.current,
            created: when(p.created_at),
            last_used: p.last_used_at.map_or_else(|| never.to_owned(), when),
        })
        .collect();
    let lang = page.set_lang;
    render(lang, &Passkeys { page, passkeys })
}

struct SessionRow {
    id: String,
    device: String,
    ip: String,
    current: bool,
    started: String,
    last_seen: String,
}

#[derive(Template)]
#[template(path = "sessions.html")]
struct Sessions {
    page: Page,
    sessions: Vec<SessionRow>,
}

async fn sessions(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<LangQuery>,
) -> Result<Response, ApiError> {
    let Some((page, who)) = signed_in_page(&state, &headers, &q).await? else {
        return Ok(to_sign_in());
    };
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let rows = crate::sessions::live_of(&state.db, &who.account().account_id, now, &state.config.sessions)
        .await
        .map_err(ApiError::internal)?;
    let sessions = rows
        .into_iter()
        .map(|r| SessionRow {
            current: r.session_id == who.session().session_id,
            id: r.session_id,
            device: crate::sessions::device_name(&r.user_agent),
            ip: r.ip,
            started: when(r.created_at),
            last_seen: when(r.last_seen_at),
        })
        .collect();
    let lang = page.set_lang;
    render(lang, &Sessions { page, sessions })
}

#[derive(Template)]
#[template(path = "recovery_codes.html")]
struct RecoveryCodes {
    page: Page,
    unused: i64,
}

async fn recovery_codes(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<LangQuery>,
) -> Result<Response, ApiError> {
    let Some((page, who)) = signed_in_page(&state, &headers, &q).await? else {
        return Ok(to_sign_in());
    };
    let unused = crate::store::identity::unused_recovery_codes(&state.db, &who.account().account_id)
        .await
        .map_err(ApiError::internal)?;
    let lang = page.set_lang;
    render(lang, &RecoveryCodes { page, unused })
}

struct EventRow {
    time: String,
    /// The event in plain language.
    sentence: String,
    /// `success`, `denied` or `failure` (for styling).
    outcome: String,
}

#[derive(Template)]
#[template(path = "activity.html")]
struct Activity {
    page: Page,
    events: Vec<EventRow>,
}

async fn activity(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<LangQuery>,
) -> Result<Response, ApiError> {
    let Some((page, who)) = signed_in_page(&state, &headers, &q).await? else {
        return Ok(to_sign_in());
    };
    let rows = crate::store::audit::events_about(&state.db, &who.account().pseudonym, 200)
        .await
        .map_err(ApiError::internal)?;
    let policies = state.consent.policies.current();
    let actors =
        super::activity::actor_labels(&state, &rows, &who.account().pseudonym, page.t, &policies.catalog).await?;
    let lang = super::activity::lang_of(page.t);
    let events = rows
        .iter()
        .zip(actors)
        .map(|(r, actor)| EventRow {
            time: when(r.time_us / 1_000_000),
            sentence: history::sentence(r, &actor, &policies.catalog, lang),
            outcome: r.outcome.clone(),
        })
        .collect();
    let lang = page.set_lang;
    render(lang, &Activity { page, events })
}

#[derive(Template)]
#[template(path = "counter.html")]
struct Counter {
    page: Page,
    w: &'static requests::Words,
    queue: Vec<requests::QueueRow>,
}

async fn counter(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<LangQuery>,
) -> Result<Response, ApiError> {
    let Some((page, who)) = signed_in_page(&state, &headers, &q).await? else {
        return Ok(to_sign_in());
    };
    super::counter::officer(&state, &who).await?;
    let queue = crate::rights::correction::queue(&state.profile).await?;
    let words = super::activity::lang_of(page.t);
    let policies = state.consent.policies.current();
    let queue = requests::queue_rows(queue, &policies.catalog, words);
    let lang = page.set_lang;
    render(
        lang,
        &Counter {
            page,
            w: requests::words(words),
            queue,
        },
    )
}
