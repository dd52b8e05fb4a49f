//! The one error shape: `{"error": "...", "message": "...", "request_id": "..."}`.
//!
//! Handlers return [`ApiError`]; it travels to [`render_errors`] as a
//! response extension, which writes every 4xx/5xx body (including those made
//! by layers, rejections and the fallback) in the same shape, with the
//! request id, and logs server errors once with their internal cause.

use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::request_id::RequestId;

/// A failed request as the handler sees it.
#[derive(Debug, Clone)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    /// Logged at the boundary, never sent.
    internal: Option<String>,
    /// Extra response headers (Retry-After, RateLimit…).
    headers: Vec<(axum::http::HeaderName, HeaderValue)>,
    /// Also sent as `error_description` (OAuth endpoints, RFC 6749 §5.2).
    described: bool,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            internal: None,
            headers: Vec::new(),
            described: false,
        }
    }

    /// Sends the message as `error_description` too, as OAuth clients expect.
    pub fn described(mut self) -> Self {
        self.described = true;
        self
    }

    pub fn with_header(mut self, name: axum::http::HeaderName, value: HeaderValue) -> Self {
        self.headers.push((name, value));
        self
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    pub fn not_found() -> Self {
        generic(StatusCode::NOT_FOUND)
    }

    /// An opaque 500; `cause` goes to the log only. When the cause is the
    /// database being out of reach (a failover, a restart, conflicts that
    /// outlived their retries), 503 with `Retry-After` instead: the same
    /// request may well succeed in a moment.
    pub fn internal(cause: impl std::error::Error + 'static) -> Self {
        let status = if crate::store::is_unavailable(&cause) {
            StatusCode::SERVICE_UNAVAILABLE
        } else {
            StatusCode::INTERNAL_SERVER_ERROR
        };
        let mut e = generic(status);
        e.internal = Some(cause.to_string());
        if status == StatusCode::SERVICE_UNAVAILABLE {
            e.headers.push((header::RETRY_AFTER, HeaderValue::from_static("1")));
        }
        e
    }
}

impl IntoResponse for ApiError {
    fn into_response(mut self) -> Response {
        let mut response = self.status.into_response();
        for (name, value) in std::mem::take(&mut self.headers) {
            response.headers_mut().insert(name, value);
        }
        response.extensions_mut().insert(self);
        response
    }
}

/// The JSON body of every error response.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// Stable machine-readable code, e.g. `not_found`.
    pub error: String,
    /// Human-readable explanation; never contains internals.
    pub message: String,
    /// Quote this when reporting a problem.
    pub request_id: String,
    /// The OAuth endpoints' name for `message` (RFC 6749 §5.2).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_description: Option<String>,
}

fn generic(status: StatusCode) -> ApiError {
    let (code, message) = match status {
        StatusCode::BAD_REQUEST => ("bad_request", "The request is malformed."),
        StatusCode::UNAUTHORIZED => ("unauthorized", "Authentication is required."),
        StatusCode::FORBIDDEN => ("forbidden", "This action is not allowed."),
        StatusCode::NOT_FOUND => ("not_found", "There is nothing at this address."),
        StatusCode::METHOD_NOT_ALLOWED => ("method_not_allowed", "This method is not allowed here."),
        StatusCode::REQUEST_TIMEOUT => ("request_timeout", "The request took too long."),
        StatusCode::PAYLOAD_TOO_LARGE => ("payload_too_large", "The request body is too large."),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ("unsupported_media_type", "This content type is not accepted."),
        StatusCode::UNPROCESSABLE_ENTITY => ("unprocessable", "The request could not be processed."),
        StatusCode::TOO_MANY_REQUESTS => ("too_many_requests", "Too many requests; try again later."),
        StatusCode::SERVICE_UNAVAILABLE => ("unavailable", "The service is not available right now."),
        s if s.is_client_error() => ("client_error", "The request was not accepted."),
        _ => (
            "internal",
            "Something went wrong on our side. Quote the request id if you contact us.",
        ),
    };
    ApiError::new(status, code, message)
}

/// For malformed requests rejected by an extractor (bad JSON, wrong content
/// type), keeps the extractor's short explanation: it describes the
/// request, never the server.
async fn with_detail(mut error: ApiError, status: StatusCode, body: axum::body::Body) -> ApiError {
    let explains_request = matches!(
        status,
        StatusCode::BAD_REQUEST | StatusCode::UNSUPPORTED_MEDIA_TYPE | StatusCode::UNPROCESSABLE_ENTITY
    );
    if explains_request
        && let Ok(bytes) = axum::body::to_bytes(body, 2048).await
        && let Ok(text) = std::str::from_utf8(&bytes)
    {
        let detail: String = text.chars().filter(|c| !c.is_control()).take(300).collect();
        if !detail.trim().is_empty() {
            error.message = format!("{} ({})", error.message, detail.trim());
        }
    }
    error
}

/// Marks an error response that is already a page written for the case
/// (the authorization endpoint's): it is sent as it is.
#[derive(Debug, Clone, Copy)]
pub struct OwnPage;

/// An error page for a browser that asked for a page (not the API): the
/// same status, in Bahasa Indonesia first, with a way back home.
#[derive(askama::Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    title_id: &'a str,
    text_id: &'a str,
    title_en: &'a str,
    text_en: &'a str,
    request_id: &'a str,
}

/// Whether this request is a browser opening a page: not the API or an
/// operations endpoint, and HTML accepted.
fn wants_a_page(request: &Request) -> bool {
    let path = request.uri().path();
    let machine = [
        "/api/",
        "/static/",
        "/metrics",
        "/healthz",
        "/readyz",
        "/openapi.json",
        "/oauth/",
        "/.well-known/",
    ]
    .iter()
    .any(|p| path.starts_with(p))
        && path != crate::http::oauth::AUTHORIZE
        && path != crate::http::oauth::LOGOUT;
    let html = request
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html"));
    !machine && html && matches!(*request.method(), axum::http::Method::GET | axum::http::Method::HEAD)
}

fn error_page(status: StatusCode, request_id: &str) -> Option<Response> {
    let (title_id, text_id, title_en, text_en) = match status {
        StatusCode::NOT_FOUND => (
            "Halaman tidak ditemukan",
            "Alamat ini tidak ada di Jaga.",
            "Page not found",
            "There is nothing at this address.",
        ),
        StatusCode::FORBIDDEN => (
            "Anda tidak dapat membuka halaman ini",
            "Halaman ini hanya untuk petugas dengan peran yang sesuai.",
            "You may not open this page",
            "This page is for officers with the right role only.",
        ),
        s if s.is_server_error() => (
            "Terjadi kesalahan pada sistem kami",
            "Silakan coba lagi nanti. Sebutkan kode permintaan jika menghubungi kami.",
            "Something went wrong on our side",
            "Please try again later. Quote the request id if you contact us.",
        ),
        _ => (
            "Permintaan tidak dapat diproses",
            "Silakan kembali dan coba lagi.",
            "The request could not be processed",
            "Please go back and try again.",
        ),
    };
    let page = ErrorPage {
        title_id,
        text_id,
        title_en,
        text_en,
        request_id,
    };
    let html = askama::Template::render(&page).ok()?;
    let mut response = (status, axum::response::Html(html)).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_LANGUAGE, HeaderValue::from_static("id, en"));
    Some(response)
}

/// Middleware: rewrites every error response into [`ErrorBody`], or an
/// error page for a browser opening a page.
pub async fn render_errors(request: Request, next: Next) -> Response {
    let request_id = request
        .extensions()
        .get::<RequestId>()
        .map(|r| r.0.clone())
        .unwrap_or_default();
    let page = wants_a_page(&request);
    let response = next.run(request).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) || response.extensions().get::<OwnPage>().is_some() {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let error = match parts.extensions.remove::<ApiError>() {
        Some(e) => e,
        None => with_detail(generic(status), status, body).await,
    };
    if status.is_server_error() {
        tracing::error!(
            http.status = status.as_u16(),
            error.code = error.code,
            error.cause = error.internal.as_deref().unwrap_or("-"),
            "request failed"
        );
    }
    if page
        && status != StatusCode::TOO_MANY_REQUESTS
        && let Some(mut html) = error_page(status, &request_id)
    {
        // The security headers and the rest, but the page's own type and length.
        for (name, value) in &parts.headers {
            if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
                html.headers_mut().insert(name.clone(), value.clone());
            }
        }
        return html;
    }
    let body = ErrorBody {
        error: error.code.to_owned(),
        error_description: error.described.then(|| error.message.clone()),
        message: error.message,
        request_id,
    };
    let bytes = serde_json::to_vec(&body).unwrap_or_default();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts
        .headers
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    Response::from_parts(parts, axum::body::Body::from(bytes))
}
