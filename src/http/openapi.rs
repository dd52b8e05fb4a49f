//! The OpenAPI 3.1 document, generated from the handlers' annotations.

use axum::Json;
use utoipa::OpenApi;

#[derive(Debug, OpenApi)]
#[openapi(
    modifiers(&CommonErrors),
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
        super::profile::own,
        super::profile::own_records,
        super::profile::update_contact,
        super::profile::find,
        super::profile::set_identity,
        super::modules::define,
        super::modules::describe,
        super::modules::write_batch,
        super::modules::read_batch,
        super::modules::delete_batch,
        super::modules::read_one,
        super::modules::write_one,
        super::modules::delete_one
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
        (name = "profile", description = "The citizen's own data (Data saya)"),
        (name = "modules", description = "Service modules' collections and citizen records (module API key)")
    )
)]
pub struct ApiDoc;

pub fn routes() -> super::routes::Routes {
    super::routes::Routes::new().get("/openapi.json", openapi_json)
}

/// This document.
#[utoipa::path(get, path = "/openapi.json", tag = "operations",
    responses((status = 200, description = "OpenAPI 3.1 document")))]
pub async fn openapi_json() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

/// Documents the answers every API operation can give besides its own:
/// malformed requests, missing sign-in or CSRF token, rate limits and
/// server errors, all in the one error shape.
#[derive(Debug)]
struct CommonErrors;

impl utoipa::Modify for CommonErrors {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{Ref, ResponseBuilder, content::ContentBuilder};
        let common = [
            ("400", "Malformed request (the message says what is wrong)"),
            ("401", "Not signed in, or the session ended"),
            ("403", "Missing or foreign Origin, missing CSRF token, or not allowed"),
            ("413", "Body too large"),
            ("415", "Body is not application/json"),
            ("422", "JSON of the wrong shape (the message says which field)"),
            ("429", "Rate limited; see Retry-After, RateLimit-Policy and RateLimit"),
            ("500", "Server error; quote the request id"),
        ];
        for (path, item) in openapi.paths.paths.iter_mut() {
            if !path.starts_with("/api/") {
                continue;
            }
            for operation in [&mut item.get, &mut item.post, &mut item.patch, &mut item.delete]
                .into_iter()
                .flatten()
            {
                for (status, description) in common {
                    operation
                        .responses
                        .responses
                        .entry(status.to_owned())
                        .or_insert_with(|| {
                            ResponseBuilder::new()
                                .description(description)
                                .content(
                                    "application/json",
                                    ContentBuilder::new()
                                        .schema(Some(Ref::from_schema_name("ErrorBody")))
                                        .build(),
                                )
                                .into()
                        });
                }
            }
        }
    }
}
