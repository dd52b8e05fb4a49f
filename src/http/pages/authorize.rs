//! The authorization endpoint as the person sees it: the sign-in (their
//! passkey session, or the sign-in page and back), then the consent screen
//! that says which module asks for which data, for what purpose, on which
//! lawful basis and for how long. The decision is sent by the page's script
//! to `POST /api/oauth/decide`.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::privacy::{self, Shown};
use super::{LangQuery, Page, page, render};
use crate::app::AppState;
use crate::http::client::Client;
use crate::http::error::ApiError;
use crate::oauth::authorize::{self, AuthorizeError, Step};
use crate::oauth::par::{self, WaitingError};
use crate::policy::labels::Lang;

/// The page's own words, in each language.
pub(in crate::http) struct Words {
    title: &'static str,
    asks: &'static str,
    sub: &'static str,
    choices: &'static str,
    choices_intro: &'static str,
    agree: &'static str,
    info: &'static str,
    info_intro: &'static str,
    allow: &'static str,
    deny: &'static str,
    problem: &'static str,
    unknown: &'static str,
    back: &'static str,
}

static ID: Words = Words {
    title: "Masuk ke layanan",
    asks: "meminta Anda masuk dengan akun Jaga.",
    sub: "Layanan ini mengenal Anda dengan tanda pengenal khusus untuk layanan ini saja. Data lain hanya \
          diberikan untuk tujuan di bawah ini, dan setiap pembacaan dicatat di Aktivitas Anda.",
    choices: "Perlu persetujuan Anda",
    choices_intro: "Centang tujuan yang Anda setujui. Anda boleh tidak mencentang: Anda tetap dapat masuk, dan \
                    persetujuan dapat ditarik kapan saja di halaman Persetujuan.",
    agree: "Saya setuju",
    info: "Untuk informasi Anda",
    info_intro: "Tujuan berikut tidak bergantung pada persetujuan Anda; dasar hukumnya tertulis di bawah.",
    allow: "Lanjutkan",
    deny: "Tolak dan kembali",
    problem: "Permintaan masuk tidak dapat dipakai",
    unknown: "Permintaan masuk ini tidak dikenal, sudah dipakai atau sudah kedaluwarsa. Kembali ke layanan dan \
              mulai lagi.",
    back: "Kembali ke beranda",
};

static EN: Words = Words {
    title: "Sign in to a service",
    asks: "asks you to sign in with your Jaga account.",
    sub: "This service knows you by an identifier made for it alone. Other data is given only for the purposes \
          below, and every read is recorded in your Activity.",
    choices: "Needs your consent",
    choices_intro: "Tick the purposes you agree to. You may leave them unticked: you can still sign in, and you \
                    can withdraw consent at any time on the Consents page.",
    agree: "I agree",
    info: "For your information",
    info_intro: "These purposes do not depend on your consent; their lawful basis is written below.",
    allow: "Continue",
    deny: "Refuse and go back",
    problem: "This sign-in request cannot be used",
    unknown: "This sign-in request is unknown, was used already or has expired. Go back to the service and \
              start again.",
    back: "Back to the home page",
};

pub(in crate::http) fn words(english: bool) -> &'static Words {
    if english { &EN } else { &ID }
}

#[derive(Debug, Deserialize)]
pub(in crate::http) struct AuthorizeQuery {
    client_id: Option<String>,
    request_uri: Option<String>,
    lang: Option<String>,
}

#[derive(Template)]
#[template(path = "authorize.html")]
struct Consent {
    page: Page,
    w: &'static Words,
    p: &'static privacy::Words,
    module: String,
    client_id: String,
    request_uri: String,
    choices: Vec<Shown>,
    info: Vec<Shown>,
}

#[derive(Template)]
#[template(path = "authorize_problem.html")]
struct Problem {
    page: Page,
    w: &'static Words,
    message: &'static str,
}

fn problem(page: Page, status: StatusCode, message: &'static str) -> Result<Response, ApiError> {
    let w = words(page.t.lang == "en");
    let html = Problem { page, w, message }.render().map_err(ApiError::internal)?;
    let mut response = (status, axum::response::Html(html)).into_response();
    response.extensions_mut().insert(crate::http::error::OwnPage);
    Ok(response)
}

/// The path back here after signing in.
fn back_here(client_id: &str, request_uri: &str) -> String {
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair("client_id", client_id)
        .append_pair("request_uri", request_uri)
        .finish();
    format!("{}?{query}", crate::http::oauth::AUTHORIZE)
}

/// Authorization endpoint (OpenID Connect, code flow)
///
/// `client_id` and the `request_uri` of a pushed request (the only
/// parameters read). Signs the person in (or reuses their session),
/// shows the consent screen when a decision is needed, and redirects to
/// the pushed redirect URI with `code`, `state` and `iss` (RFC 9207), or
/// an error. An unknown or expired request is shown, never redirected.
pub(in crate::http) async fn authorize(
    State(state): State<AppState>,
    who: Client,
    headers: HeaderMap,
    Query(q): Query<AuthorizeQuery>,
) -> Result<Response, ApiError> {
    let lang_query = LangQuery { lang: q.lang.clone() };
    let (mut page, signed_in) = page(&state, &headers, &lang_query).await?;
    let (Some(client_id), Some(request_uri)) = (q.client_id.as_deref(), q.request_uri.as_deref()) else {
        let w = words(page.t.lang == "en");
        return problem(page, StatusCode::BAD_REQUEST, w.unknown);
    };
    let here = back_here(client_id, request_uri);
    page.keep = here.split_once('?').map(|(_, q)| format!("{q}&")).unwrap_or_default();
    let now = crate::oauth::now();
    let w = words(page.t.lang == "en");
    let waiting = match par::waiting(&state.oauth, client_id, request_uri, now).await {
        Ok(w) => w,
        Err(WaitingError::Unusable(_)) => return problem(page, StatusCode::BAD_REQUEST, w.unknown),
        Err(WaitingError::Store(e)) => return Err(ApiError::internal(e)),
    };
    let step = match authorize::step(&state.oauth, &waiting, signed_in.as_ref(), now, &who.ctx).await {
        Ok(step) => step,
        Err(AuthorizeError::Unusable(_)) => return problem(page, StatusCode::BAD_REQUEST, w.unknown),
        Err(e) => return Err(ApiError::internal(e)),
    };
    match step {
        Step::SignIn => {
            let next = form_urlencoded::Serializer::new(String::new())
                .append_pair("next", &here)
                .finish();
            Ok(Redirect::to(&format!("/signin?{next}")).into_response())
        }
        Step::Redirect(url) => Ok(Redirect::to(&url).into_response()),
        Step::Ask(ask) => {
            let english = page.t.lang == "en";
            let p = if english { &privacy::EN } else { &privacy::ID };
            let policies = state.consent.policies.current();
            let labels = policies.catalog.labels();
            let lang = if english { Lang::En } else { Lang::Id };
            let module = labels.module(&ask.client.name, lang);
            let set_lang = page.set_lang;
            render(
                set_lang,
                &Consent {
                    page,
                    w,
                    p,
                    module,
                    client_id: client_id.to_owned(),
                    request_uri: request_uri.to_owned(),
                    choices: ask
                        .choices
                        .iter()
                        .map(|d| privacy::shown(d, labels, p, english))
                        .collect(),
                    info: ask.info.iter().map(|d| privacy::shown(d, labels, p, english)).collect(),
                },
            )
        }
    }
}

/// Whether `next` is a place the sign-in page may send the person back
/// to: only the authorization endpoint of this origin.
pub(super) fn safe_next(next: &str) -> Option<&str> {
    let rest = next.strip_prefix(crate::http::oauth::AUTHORIZE)?.strip_prefix('?')?;
    let ok = rest.len() < 300
        && rest
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.~%=&+".contains(&b));
    ok.then_some(next)
}
