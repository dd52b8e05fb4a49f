//! The portal's script and style sheet, compiled into the binary.

use super::routes::Routes;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

const SCRIPT: &str = include_str!("../../static/jaga.js");
const CONSOLE: &str = include_str!("../../static/console.js");
const STYLE: &str = include_str!("../../static/jaga.css");
const ICON: &str = include_str!("../../static/icon.svg");

pub fn routes() -> Routes {
    Routes::new()
        .get("/static/jaga.js", || async {
            asset(SCRIPT, "text/javascript; charset=utf-8")
        })
        .get("/static/console.js", || async {
            asset(CONSOLE, "text/javascript; charset=utf-8")
        })
        .get("/static/jaga.css", || async { asset(STYLE, "text/css; charset=utf-8") })
        .get("/static/icon.svg", || async { asset(ICON, "image/svg+xml") })
        .get("/favicon.ico", || async { asset(ICON, "image/svg+xml") })
}

fn asset(body: &'static str, content_type: &'static str) -> Response {
    let mut response = body.into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=300"));
    response
}
