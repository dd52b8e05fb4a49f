//! HTTP: routers, middleware and the server. Layers are applied here, in
//! one visible place.

mod account;
mod activity;
mod admin;
mod alerts;
mod assets;
mod audit_export;
mod audit_proof;
mod auth;
mod break_glass;
mod cases;
pub(crate) mod client;
mod consent;
mod console;
mod counter;
pub mod error;
mod health;
mod incidents;
mod json;
mod limits;
mod metrics;
mod module_auth;
mod modules;
mod oauth;
pub mod openapi;
mod pages;
pub(crate) mod profile;
mod request_id;
mod rights;
mod routes;
mod security_headers;
pub mod server;
mod session;
mod transparency;
mod wards;
mod wire;
pub mod witness_server;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::middleware::{from_fn, from_fn_with_state};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;

use crate::app::AppState;
use error::ApiError;
use routes::Routes;

pub use security_headers::CSP;

/// The public router. `/metrics` is served here only to a caller with the
/// configured bearer token (`server.metrics_token`), or to anyone in
/// development mode without an admin listener; otherwise it lives on the
/// admin listener alone.
pub fn router(state: AppState) -> Router {
    let (routes, _) = public_routes(&state).into_parts();
    with_layers(routes, state)
}

/// Every (method, path) the public router serves, for tests that must
/// reach every route.
pub fn route_table(state: &AppState) -> Vec<(axum::http::Method, &'static str)> {
    public_routes(state).into_parts().1
}

fn public_routes(state: &AppState) -> Routes {
    let routes = Routes::new()
        .merge(auth::routes(state))
        .merge(account::routes(state))
        .merge(counter::routes(state))
        .merge(break_glass::routes(state))
        .merge(console::routes())
        .merge(audit_proof::routes())
        .merge(alerts::routes(state))
        .merge(admin::routes(state))
        .merge(incidents::routes(state))
        .merge(transparency::routes())
        .merge(wards::routes(state))
        .merge(profile::routes(state))
        .merge(consent::routes(state))
        .merge(rights::routes(state))
        .merge(modules::routes())
        .merge(oauth::routes(state))
        .merge(cases::routes())
        .merge(pages::routes())
        .merge(assets::routes())
        .merge(health::routes())
        .merge(openapi::routes());
    if state.config.server.metrics_token.is_some() {
        routes.get("/metrics", metrics::with_token)
    } else if state.config.dev && state.config.server.admin_listen.is_none() {
        routes.get("/metrics", metrics::metrics)
    } else {
        routes
    }
}

/// The admin router: metrics and health only.
pub fn admin_router(state: AppState) -> Router {
    let (routes, _) = health::routes().get("/metrics", metrics::metrics).into_parts();
    with_layers(routes, state)
}

fn with_layers(routes: Router<AppState>, state: AppState) -> Router {
    let server = &state.config.server;
    routes
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        // Innermost first: each layer wraps everything above it.
        .layer(DefaultBodyLimit::max(server.max_body_bytes))
        .layer(RequestBodyLimitLayer::new(server.max_body_bytes))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            server.request_timeout,
        ))
        .layer(CatchPanicLayer::new())
        .layer(from_fn_with_state(state.clone(), security_headers::apply))
        .layer(from_fn(error::render_errors))
        .layer(from_fn_with_state(state.clone(), request_id::assign))
        .with_state(state)
}

async fn not_found() -> ApiError {
    ApiError::not_found()
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "This method is not allowed here.",
    )
}

pub use crate::telemetry::Metrics;
