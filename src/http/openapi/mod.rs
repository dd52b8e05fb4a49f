//! The OpenAPI 3.1 document: generated from the handlers' annotations,
//! then completed here with what annotations cannot say or would repeat on
//! every operation: the answers each operation gets from the layers around
//! it (body limits, JSON rejections, sign-in, Origin and CSRF checks,
//! timeouts), the security schemes of this listener (session cookie name,
//! allowed origins), and the value rules the server enforces on request
//! fields defined outside `src/http` (patterns, lengths, item counts).
//!
//! Where JSON Schema cannot say a rule exactly (a field name must belong
//! to the collection, a name must be letters, a value is at most 16 KiB of
//! UTF-8), the schema is looser than the server and the description says
//! the rule; it is never stricter.

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};
use utoipa::OpenApi;

use crate::app::AppState;

mod answers;
mod rules;

use answers::{add_components, common_answers, error_response};
use rules::{constrain, constrain_cases, constrain_parameters};

#[derive(Debug, OpenApi)]
#[openapi(
    info(title = "Jaga", description = "Identity, consent and personal-data protection for digital public services."),
    paths(
        super::health::healthz,
        super::health::readyz,
        super::metrics::metrics,
        openapi_json,
        super::auth::enrol_start,
        super::auth::enrol_finish,
        super::auth::signin_start,
        super::auth::signin_finish,
        super::auth::signout,
        super::auth::me,
        super::auth::list_sessions,
        super::auth::revoke_session,
        super::auth::code_start,
        super::auth::recover_start,
        super::account::list,
        super::account::add_start,
        super::account::add_finish,
        super::account::rename,
        super::account::remove,
        super::account::regenerate,
        super::account::verification_code,
        super::account::activity,
        super::counter::enrol,
        super::counter::recover,
        super::counter::verify,
        super::wards::link,
        super::wards::list,
        super::wards::decide,
        super::break_glass::open,
        super::break_glass::read,
        super::break_glass::queue,
        super::break_glass::review,
        super::console::audit_search,
        super::console::audit_event,
        super::audit_proof::checkpoint,
        super::audit_proof::inclusion,
        super::audit_proof::consistency,
        super::alerts::list,
        super::alerts::redeliver,
        super::incidents::list,
        super::incidents::open,
        super::incidents::detail,
        super::incidents::notices,
        super::incidents::export,
        super::admin::officers,
        super::admin::add,
        super::admin::set_roles,
        super::admin::suspend,
        super::admin::recover,
        super::admin::modules,
        super::admin::disable_module,
        super::audit_export::audit_export,
        super::transparency::latest,
        super::transparency::month,
        super::profile::own,
        super::profile::own_records,
        super::profile::export,
        super::profile::update_contact,
        super::profile::find,
        super::profile::set_identity,
        super::consent::list,
        super::consent::decide,
        super::consent::receipts,
        super::consent::keys,
        super::rights::own_corrections,
        super::rights::request_correction,
        super::rights::queue,
        super::rights::open,
        super::rights::decide,
        super::rights::erasure_preview,
        super::rights::erase,
        super::modules::define,
        super::modules::describe,
        super::modules::write_batch,
        super::modules::read_batch,
        super::modules::delete_batch,
        super::modules::read_one,
        super::modules::write_one,
        super::modules::delete_one,
        super::cases::set,
        super::oauth::metadata::openid_configuration,
        super::oauth::metadata::authorization_server,
        super::oauth::metadata::jwks,
        super::oauth::token::token,
        super::oauth::token::introspect,
        super::oauth::token::revoke,
        super::oauth::par::par,
        super::oauth::authorize::decide,
        super::oauth::userinfo::get,
        super::oauth::userinfo::post
    ),
    components(schemas(super::error::ErrorBody, super::health::Health)),
    tags(
        (name = "operations", description = "Health, readiness, metrics and this document"),
        (name = "enrolment", description = "Self-enrolment and enrolment with a counter code"),
        (name = "sign-in", description = "Username-less passkey sign-in"),
        (name = "sessions", description = "The signed-in person's sessions and account"),
        (name = "passkeys", description = "The owner's passkeys"),
        (name = "recovery", description = "Recovery codes"),
        (name = "counter", description = "The service counter (counter officers)"),
        (name = "break-glass", description = "Emergency access for security officers: written justification, bounded window, reviewed"),
        (name = "security", description = "The security officers' console: audit search and export (security role only; every use audited)"),
        (name = "admin", description = "Officer and module administration (administrator role only; every change audited; no personal data)"),
        (name = "audit", description = "The audit log's published checkpoint (public)"),
        (name = "transparency", description = "The public monthly transparency report: counts only, no sign-in"),
        (name = "profile", description = "The citizen's own data (Data saya)"),
        (name = "rights", description = "Correction requests and erasure (UU PDP Art. 6, 8, 30)"),
        (name = "modules", description = "Service modules' collections and citizen records (DPoP-bound access token; a module API key where allowed)"),
        (name = "oauth", description = "OAuth 2.0 / OpenID Connect for service modules (FAPI 2.0: private_key_jwt, DPoP)")
    )
)]
pub struct ApiDoc;

pub fn routes() -> super::routes::Routes {
    super::routes::Routes::new().get("/openapi.json", openapi_json)
}

/// This document
///
/// Describes this listener: its session cookie name, the origins it
/// accepts, and whether `/metrics` is served here.
#[utoipa::path(get, path = "/openapi.json", tag = "operations",
    responses((status = 200, description = "OpenAPI 3.1 document", content_type = "application/json", body = Object)))]
pub async fn openapi_json(State(state): State<AppState>) -> Json<Value> {
    let server = &state.config.server;
    let metrics = if server.metrics_token.is_some() {
        MetricsAccess::Token
    } else if state.config.dev && server.admin_listen.is_none() {
        MetricsAccess::Open
    } else {
        MetricsAccess::Absent
    };
    Json(document(&Listener {
        cookie: super::session::cookie_name(&state),
        origins: state.rp.origins(),
        metrics,
    }))
}

/// How `/metrics` is served on the main listener (see `super::router`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricsAccess {
    Open,
    Token,
    Absent,
}

/// What the document says about the listener that serves it.
#[derive(Debug)]
pub struct Listener<'a> {
    pub cookie: &'a str,
    pub origins: &'a [String],
    pub metrics: MetricsAccess,
}

/// The complete document.
pub fn document(listener: &Listener<'_>) -> Value {
    let mut doc = serde_json::to_value(ApiDoc::openapi()).unwrap_or_default();
    add_components(&mut doc, listener);
    constrain(&mut doc);
    constrain_parameters(&mut doc);
    constrain_cases(&mut doc);
    if let Some(paths) = doc.pointer_mut("/paths").and_then(Value::as_object_mut) {
        if let Some(get) = paths.get_mut("/metrics").and_then(|p| p.get_mut("get")) {
            match listener.metrics {
                MetricsAccess::Absent => {
                    *at(get, &["responses", "404"]) = error_response(
                        "Not served on this listener (see server.admin_listen and server.metrics_token)",
                    );
                }
                MetricsAccess::Token => get["security"] = json!([{ "metrics_token": [] }]),
                MetricsAccess::Open => {}
            }
        }
        for (path, item) in paths.iter_mut() {
            let Some(item) = item.as_object_mut() else { continue };
            for (method, operation) in item.iter_mut() {
                common_answers(path, method, operation, listener.origins);
            }
        }
    }
    doc
}

/// The value at `path` in `value`, made (as empty objects) where missing.
pub(super) fn at<'a>(value: &'a mut Value, path: &[&str]) -> &'a mut Value {
    path.iter().fold(value, |value, key| {
        if !value.is_object() {
            *value = json!({});
        }
        match value {
            Value::Object(map) => map.entry(*key).or_insert(Value::Null),
            other => other,
        }
    })
}

// ---------------------------------------------------------------------
// Answers every operation can get besides its own.

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_answer_has_the_one_shape() {
        let origins = ["http://localhost:8080".to_owned()];
        let doc = document(&Listener {
            cookie: "jaga_session",
            origins: &origins,
            metrics: MetricsAccess::Open,
        });
        let paths = doc["paths"].as_object().into_iter().flatten();
        for (path, item) in paths {
            for (method, operation) in item.as_object().into_iter().flatten() {
                assert!(operation["summary"].is_string(), "{method} {path}: summary");
                for (status, response) in operation["responses"].as_object().into_iter().flatten() {
                    if status.starts_with(['4', '5']) {
                        assert_eq!(
                            response["content"]["application/json"]["schema"]["$ref"], "#/components/schemas/ErrorBody",
                            "{method} {path} {status}"
                        );
                    }
                }
            }
        }
        let put = &doc["paths"]["/api/collections/{collection}/records/{citizen}/{record}"]["put"];
        for status in ["400", "401", "403", "404", "413", "415", "422", "500"] {
            assert!(put["responses"][status].is_object(), "PUT record {status}");
        }
        let read = &doc["paths"]["/api/collections/{collection}/records/{citizen}/{record}"]["get"];
        let purpose = read["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|p| p["name"] == "purpose");
        assert_eq!(purpose.map(|p| p["in"].clone()), Some(json!("query")));
    }
}
