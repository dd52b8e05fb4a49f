//! The portal's script and style sheet, compiled into the binary.

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::app::AppState;

const SCRIPT: &str = include_str!("../../static/jaga.js");
const STYLE: &str = include_str!("../../static/jaga.css");
const ICON: &str = include_str!("../../static/icon.svg");

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/static/jaga.js",
            get(|| async { asset(SCRIPT, "text/javascript; charset=utf-8") }),
        )
        .route(
            "/static/jaga.css",
            get(|| async { asset(STYLE, "text/css; charset=utf-8") }),
        )
        .route("/static/icon.svg", get(|| async { asset(ICON, "image/svg+xml") }))
        .route("/favicon.ico", get(|| async { asset(ICON, "image/svg+xml") }))
}

fn asset(body: &'static str, content_type: &'static str) -> Response {
    let mut response = body.into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=300"));
    response
}
