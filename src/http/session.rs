//! The signed-in caller, from the session cookie; CSRF checks.

use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::error::ApiError;
use crate::app::AppState;
use crate::identity::Status;
use crate::sessions::{self, Active};
use crate::store::StoreError;
use crate::store::identity::{self as stored, AccountRow};

/// A request from a signed-in account with a live session.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub account: AccountRow,
    pub session: Active,
}

pub const CSRF_HEADER: &str = "x-csrf-token";

/// Seconds between updates of a session's last-seen time: at most a
/// minute, and well inside the idle timeout.
fn touch_every(state: &AppState) -> i64 {
    let idle = i64::try_from(state.config.sessions.idle_timeout.as_secs()).unwrap_or(i64::MAX);
    (idle / 4).clamp(0, 60)
}

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
    let Some(session) = sessions::find(&state.db, token, now, &state.config.sessions)
        .await
        .map_err(ApiError::internal)?
    else {
        return Ok(None);
    };
    let account = stored::account_by_id(&state.db, session.account_id.as_str())
        .await
        .map_err(ApiError::internal)?
        .filter(|a| Status::parse(&a.status).is_some_and(Status::may_sign_in));
    let Some(account) = account else {
        return Ok(None);
    };
    if now - session.last_seen_at >= touch_every(state) {
        let id = session.session_id.clone();
        state
            .writer
            .write::<(), StoreError, _>(move |tx| Box::pin(async move { stored::touch_session(tx, &id, now).await }))
            .await
            .map_err(ApiError::internal)?;
    }
    Ok(Some(SignedIn { account, session }))
}

/// The officer whose live session this browser holds, if any.
pub async fn officer_present(
    state: &AppState,
    headers: &axum::http::HeaderMap,
) -> Result<Option<crate::audit::Actor>, ApiError> {
    Ok(lookup(state, headers)
        .await?
        .filter(|who| who.account.kind == "officer")
        .map(|who| crate::audit::Actor::new(crate::audit::ActorKind::Officer, who.account.pseudonym)))
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
            if !sessions::csrf_matches(&who.session, presented) {
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

impl SignedIn {
    /// Sensitive changes (a passkey added or removed, new recovery codes)
    /// need a recent sign-in, so a stolen cookie or a session left open on
    /// a shared computer cannot take the account over for good.
    pub fn require_recent(&self, state: &AppState) -> Result<(), ApiError> {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let window = i64::try_from(state.config.sessions.reauth_window.as_secs()).unwrap_or(i64::MAX);
        if now.saturating_sub(self.session.created_at) <= window {
            return Ok(());
        }
        Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "reauth_required",
            "Untuk keamanan, masuk lagi dengan passkey lalu ulangi. \
             (For your security, sign in again with your passkey and try again.)",
        ))
    }
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
