//! RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0): a module
//! sends the person here to sign out of Jaga. The person confirms (a link
//! alone never signs anyone out), and is then sent back to a page the
//! module registered, with its `state`. Signing out ends the person's
//! sign-ins at every module, and each module that registered a
//! back-channel logout URI is told.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::{LangQuery, Page, page, render};
use crate::app::AppState;
use crate::http::error::ApiError;
use crate::oauth::id_token;
use crate::store::clients;

struct Words {
    title: &'static str,
    intro: &'static str,
    module_asks: &'static str,
    sign_out: &'static str,
    stay: &'static str,
    done: &'static str,
    problem: &'static str,
    bad_return: &'static str,
}

static ID: Words = Words {
    title: "Keluar dari Jaga",
    intro: "Jika Anda keluar, Anda juga keluar dari setiap layanan yang Anda masuki dengan akun Jaga di perangkat ini.",
    module_asks: "Permintaan ini datang dari layanan",
    sign_out: "Ya, keluar",
    stay: "Tetap masuk",
    done: "Anda sudah keluar dari Jaga.",
    problem: "Permintaan keluar tidak dapat dipakai",
    bad_return: "Alamat tujuan setelah keluar tidak terdaftar untuk layanan ini. Anda tidak dialihkan ke mana pun.",
};

static EN: Words = Words {
    title: "Sign out of Jaga",
    intro: "If you sign out, you also leave every service you signed in to with your Jaga account on this device.",
    module_asks: "This request comes from the service",
    sign_out: "Yes, sign out",
    stay: "Stay signed in",
    done: "You are signed out of Jaga.",
    problem: "This sign-out request cannot be used",
    bad_return: "The address to return to after signing out is not registered for this service. You are not sent \
                 anywhere.",
};

#[derive(Debug, Deserialize)]
pub(super) struct LogoutQuery {
    id_token_hint: Option<String>,
    client_id: Option<String>,
    post_logout_redirect_uri: Option<String>,
    state: Option<String>,
    lang: Option<String>,
}

#[derive(Template)]
#[template(path = "logout.html")]
struct Confirm {
    page: Page,
    w: &'static Words,
    module: Option<String>,
    /// Where the browser goes once signed out.
    then: String,
    signed_in: bool,
    problem: Option<&'static str>,
}

/// `uri` with `state` added (when given).
fn with_state(uri: &str, state: Option<&str>) -> String {
    match state {
        None => uri.to_owned(),
        Some(s) => {
            let query = form_urlencoded::Serializer::new(String::new())
                .append_pair("state", s)
                .finish();
            let separator = if uri.contains('?') { '&' } else { '?' };
            format!("{uri}{separator}{query}")
        }
    }
}

/// End session endpoint
pub(super) async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<LogoutQuery>,
) -> Result<Response, ApiError> {
    let (page, who) = page(&state, &headers, &LangQuery { lang: q.lang.clone() }).await?;
    let w = if page.t.lang == "en" { &EN } else { &ID };
    let oauth = &state.oauth;
    let hint = q
        .id_token_hint
        .as_deref()
        .and_then(|t| id_token::verify_hint(&oauth.keys.oauth, &oauth.issuer, t));
    // The module: from the hint, or client_id (they must agree).
    let named = match (&hint, q.client_id.as_deref()) {
        (Some(h), Some(c)) if h.client_id != c => None,
        (Some(h), _) => Some(h.client_id.clone()),
        (None, c) => c.map(str::to_owned),
    };
    let client = match &named {
        Some(name) => clients::client(&state.db, name)
            .await
            .map_err(ApiError::internal)?
            .filter(|c| c.revoked_at.is_none()),
        None => None,
    };
    let mut problem = None;
    let then = match q.post_logout_redirect_uri.as_deref() {
        None => "/".to_owned(),
        Some(uri) => {
            let registered: Vec<String> = client
                .as_ref()
                .and_then(|c| serde_json::from_str(&c.post_logout_redirect_uris).ok())
                .unwrap_or_default();
            if registered.iter().any(|r| r == uri) {
                with_state(uri, q.state.as_deref())
            } else {
                problem = Some(w.bad_return);
                "/".to_owned()
            }
        }
    };
    if who.is_none() && problem.is_none() && then != "/" {
        return Ok(Redirect::to(&then).into_response());
    }
    let english = page.t.lang == "en";
    let module = client.as_ref().map(|c| {
        let policies = state.consent.policies.current();
        let lang = if english {
            crate::policy::labels::Lang::En
        } else {
            crate::policy::labels::Lang::Id
        };
        policies.catalog.labels().module(&c.name, lang)
    });
    let status = if problem.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let set_lang = page.set_lang;
    let mut response = render(
        set_lang,
        &Confirm {
            page,
            w,
            module,
            then,
            signed_in: who.is_some(),
            problem,
        },
    )?;
    *response.status_mut() = status;
    if problem.is_some() {
        response.extensions_mut().insert(crate::http::error::OwnPage);
    }
    Ok(response)
}
