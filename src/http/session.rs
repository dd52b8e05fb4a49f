//! The signed-in caller, from the session cookie; CSRF checks.

use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::error::ApiError;
use crate::account::AccountKind;
use crate::app::AppState;
use crate::sessions::{self, Recent};

/// A request from a signed-in account with a live session (the permit
/// is made in `sessions`; this module only extracts it from the cookie).
pub use crate::sessions::SignedIn;

pub const CSRF_HEADER: &str = "x-csrf-token";

pub fn cookie_name(state: &AppState) -> &'static str {
    if state.config.dev {
        sessions::DEV_COOKIE
    } else {
        sessions::COOKIE
    }
}

/// `Set-Cookie` for a new session: `__Host-`, Secure, HttpOnly, SameSite=Lax
/// (development mode over http://localhost drops the prefix and Secure).
pub fn session_cookie(state: &AppState, token: &str) -> Result<HeaderValue, ApiError> {
    let max_age = state.config.sessions.absolute_timeout.as_secs();
    let secure = if state.config.dev { "" } else { "; Secure" };
    HeaderValue::from_str(&format!(
        "{}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}",
        cookie_name(state)
    ))
    .map_err(ApiError::internal)
}

pub fn clear_cookie(state: &AppState) -> HeaderValue {
    let secure = if state.config.dev { "" } else { "; Secure" };
    HeaderValue::from_str(&format!(
        "{}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{secure}",
        cookie_name(state)
    ))
    .unwrap_or_else(|_| HeaderValue::from_static(""))
}

fn unauthorized() -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "unauthorized",
        "Silakan masuk dahulu. (Please sign in first.)",
    )
}

fn is_unsafe(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// The live session of a request's cookie, if any (no CSRF check: for
/// pages and other safe requests).
pub async fn lookup(state: &AppState, headers: &axum::http::HeaderMap) -> Result<Option<SignedIn>, ApiError> {
    let cookies = headers.get(header::COOKIE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let Some(token) = sessions::token_from_cookies(cookies, cookie_name(state)) else {
        return Ok(None);
    };
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    sessions::authenticate(&state.sessions, token, now)
        .await
        .map_err(ApiError::internal)
}

/// The officer whose live session this browser holds, if any.
pub async fn officer_present(
    state: &AppState,
    headers: &axum::http::HeaderMap,
) -> Result<Option<crate::audit::Actor>, ApiError> {
    Ok(lookup(state, headers)
        .await?
        .filter(|who| who.account().kind == AccountKind::Officer)
        .map(|who| crate::audit::Actor::new(crate::audit::ActorKind::Officer, who.account().pseudonym.clone())))
}

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let who = lookup(state, &parts.headers).await?.ok_or_else(unauthorized)?;
        if is_unsafe(&parts.method) {
            let presented = parts
                .headers
                .get(CSRF_HEADER)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            if !sessions::csrf_matches(who.session(), presented) {
                return Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    "csrf",
                    "Permintaan ditolak: token CSRF tidak cocok. (Request refused: CSRF token mismatch.)",
                ));
            }
        }
        Ok(who)
    }
}

/// The recent-sign-in permit for sensitive changes (a passkey added or
/// removed, new recovery codes), or 403 `reauth_required`.
pub fn recent(state: &AppState, who: &SignedIn) -> Result<Recent, ApiError> {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    who.recent(state.config.sessions.reauth_window, now).ok_or_else(|| {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "reauth_required",
            "Untuk keamanan, masuk lagi dengan passkey lalu ulangi. \
             (For your security, sign in again with your passkey and try again.)",
        )
    })
}

/// `router` with every state-changing route behind [`check_origin`].
pub fn origin_checked(state: &AppState, router: axum::Router<AppState>) -> axum::Router<AppState> {
    router.route_layer(axum::middleware::from_fn_with_state(state.clone(), check_origin))
}

/// Middleware: a state-changing request must come from one of our origins
/// (the Origin header is required and must match).
pub async fn check_origin(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if is_unsafe(request.method()) {
        let origin = request.headers().get(header::ORIGIN).and_then(|v| v.to_str().ok());
        if !origin.is_some_and(|o| state.rp.allows_origin(o)) {
            return ApiError::new(
                StatusCode::FORBIDDEN,
                "forbidden_origin",
                "Permintaan ditolak: asal permintaan tidak dikenal. (Request refused: unknown origin.)",
            )
            .into_response();
        }
    }
    next.run(request).await
}
