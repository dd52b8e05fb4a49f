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
fn at<'a>(value: &'a mut Value, path: &[&str]) -> &'a mut Value {
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

fn error_response(description: &str) -> Value {
    json!({
        "description": description,
        "content": { "application/json": { "schema": { "$ref": "#/components/schemas/ErrorBody" } } }
    })
}

/// Bodies read as raw bytes (WebAuthn responses): no content-type check
/// and no JSON shape check before the handler's own.
const RAW_BODIES: [&str; 3] = ["/api/enrol/finish", "/api/signin/finish", "/api/passkeys/finish"];

fn is_unsafe(method: &str) -> bool {
    !matches!(method, "get" | "head" | "options")
}

fn requires(operation: &Value, scheme: &str) -> bool {
    operation
        .get("security")
        .and_then(Value::as_array)
        .is_some_and(|alternatives| alternatives.iter().all(|a| a.get(scheme).is_some()))
}

fn common_answers(path: &str, method: &str, operation: &mut Value, origins: &[String]) {
    let mut add: Vec<(&str, &str)> = Vec::new();
    let has_body = operation.get("requestBody").is_some();
    if has_body {
        // Every body this API reads is required (an empty one is refused).
        *at(operation, &["requestBody", "required"]) = json!(true);
        add.push(("400", "Malformed request (the message says what is wrong)"));
        add.push(("413", "Body larger than server.max_body_bytes"));
        if !RAW_BODIES.contains(&path) {
            add.push(("415", "Body is not application/json"));
            add.push(("422", "JSON of the wrong shape (the message says which field)"));
        }
    }
    if path.contains('{') {
        add.push(("400", "A path segment is not valid percent-encoded UTF-8"));
    }
    // Every state-changing route outside the module API checks Origin.
    let origin_checked = path.starts_with("/api/") && !path.starts_with("/api/collections/") && is_unsafe(method);
    if origin_checked {
        add.push((
            "403",
            "Missing or foreign Origin, missing or wrong CSRF token, or not allowed",
        ));
        let parameters = operation
            .as_object_mut()
            .map(|o| o.entry("parameters").or_insert_with(|| json!([])));
        if let Some(Value::Array(parameters)) = parameters {
            parameters.push(json!({
                "name": "Origin",
                "in": "header",
                "required": true,
                "description": "The page's origin, one of webauthn.origins (browsers send it by themselves)",
                "schema": { "type": "string", "enum": origins },
            }));
        }
    }
    if requires(operation, "session") {
        add.push(("401", "Not signed in, or the session ended"));
    }
    if requires(operation, "csrf") {
        add.push(("403", "Missing or wrong CSRF token"));
    }
    if requires(operation, "metrics_token") {
        add.push(("401", "Missing or wrong metrics token"));
    }
    let module_key = requires(operation, "module_key");
    add.push(("408", "The request took longer than server.request_timeout_secs"));
    add.push(("500", "Server error; quote the request id"));

    let Some(responses) = operation.get_mut("responses").and_then(Value::as_object_mut) else {
        return;
    };
    for (status, description) in add {
        responses
            .entry(status.to_owned())
            .or_insert_with(|| error_response(description));
    }
    if module_key {
        let unauthorized = responses
            .entry("401".to_owned())
            .or_insert_with(|| error_response("Missing, unknown or revoked module API key"));
        *at(unauthorized, &["headers"]) = json!({
            "WWW-Authenticate": { "required": true, "description": "`Bearer`", "schema": { "type": "string" } }
        });
    }
    for (status, response) in responses.iter_mut() {
        if !status.starts_with(['4', '5']) {
            continue;
        }
        // Every error answer has the one shape, whatever the annotation said.
        if response.get("content").is_none() {
            *at(response, &["content"]) = error_response("").get("content").cloned().unwrap_or_default();
        }
        if status == "429" {
            *at(response, &["headers"]) = json!({
                "Retry-After": { "required": true, "description": "Seconds until a retry can succeed", "schema": { "type": "integer", "minimum": 0 } },
                "RateLimit-Policy": { "required": true, "description": "The policy, e.g. `\"enrol-ip\";q=20;w=300`", "schema": { "type": "string" } },
                "RateLimit": { "required": true, "description": "What is left of it", "schema": { "type": "string" } },
            });
        }
    }
}

// ---------------------------------------------------------------------
// Security schemes and schemas of bodies the handlers read or write as
// plain JSON values.

fn add_components(doc: &mut Value, listener: &Listener<'_>) {
    let components = at(doc, &["components"]);
    *at(components, &["securitySchemes"]) = json!({
        "module_key": {
            "type": "http",
            "scheme": "bearer",
            "description": "A module API key, `jaga_mk_…`, from `jaga modules add` (shown once).",
        },
        "session": {
            "type": "apiKey",
            "in": "cookie",
            "name": listener.cookie,
            "description": "The session cookie set by sign-in or enrolment \
                (`__Host-jaga_session`; `jaga_session` in development mode).",
        },
        "csrf": {
            "type": "apiKey",
            "in": "header",
            "name": super::session::CSRF_HEADER,
            "description": "The session's CSRF token (`csrf_token` of `GET /api/me`); \
                required on every state-changing request of a signed-in session.",
        },
        "metrics_token": {
            "type": "http",
            "scheme": "bearer",
            "description": "server.metrics_token",
        },
    });
    let schemas = at(components, &["schemas"]);
    let any_object = json!({ "type": "object" });
    *at(schemas, &["PasskeyOptions"]) = json!({
        "type": "object",
        "description": "WebAuthn options for `navigator.credentials.create()` or `.get()`.",
        "required": ["publicKey"],
        "properties": {
            "publicKey": any_object,
            "mediation": { "type": "string", "description": "`conditional` for autofill sign-in" },
        },
    });
    let b64url = json!({ "type": "string", "pattern": "^[A-Za-z0-9_-]*={0,2}$" });
    let credential = |response: Value| {
        json!({
            "type": "object",
            "required": ["id", "rawId", "type", "response"],
            "properties": {
                "id": b64url,
                "rawId": b64url,
                "type": { "const": "public-key" },
                "response": response,
                "authenticatorAttachment": { "type": ["string", "null"] },
                "clientExtensionResults": any_object,
            },
        })
    };
    let mut registration = credential(json!({
        "type": "object",
        "required": ["clientDataJSON", "attestationObject"],
        "properties": { "clientDataJSON": b64url, "attestationObject": b64url },
    }));
    *at(&mut registration, &["description"]) = json!(
        "The browser's registration response (`PublicKeyCredential.toJSON()`). \
         Checked against the ceremony its challenge names; anything else is refused."
    );
    *at(schemas, &["RegistrationResponse"]) = registration;
    let mut assertion = credential(json!({
        "type": "object",
        "required": ["clientDataJSON", "authenticatorData", "signature"],
        "properties": {
            "clientDataJSON": b64url,
            "authenticatorData": b64url,
            "signature": b64url,
            "userHandle": { "type": ["string", "null"] },
        },
    }));
    *at(&mut assertion, &["description"]) = json!("The browser's assertion (`PublicKeyCredential.toJSON()`).");
    *at(schemas, &["AssertionResponse"]) = assertion;
    *at(schemas, &["PasskeyView"]) = json!({
        "type": "object",
        "required": ["id", "name", "created_at", "last_used_at", "synced", "current"],
        "properties": {
            "id": { "type": "string", "description": "Credential id, base64url" },
            "name": { "type": "string" },
            "created_at": { "type": "integer", "format": "int64" },
            "last_used_at": { "type": ["integer", "null"], "format": "int64" },
            "synced": { "type": "boolean", "description": "Backed up by a passkey provider (or bound to one device)" },
            "current": { "type": "boolean", "description": "The passkey this session signed in with" },
        },
    });
    *at(schemas, &["PasskeyList"]) =
        json!({ "type": "array", "items": { "$ref": "#/components/schemas/PasskeyView" } });
    let issued = json!({
        "account": { "type": "string", "description": "The citizen's pseudonym" },
        "code": { "type": "string" },
        "url": { "type": "string", "description": "The link the code opens (the code in its fragment)" },
        "expires_at": { "type": "integer", "format": "int64" },
    });
    *at(schemas, &["IssuedCode"]) = json!({
        "type": "object",
        "required": ["account", "code", "url", "expires_at"],
        "properties": issued,
    });
    let mut with_qr = issued.clone();
    *at(&mut with_qr, &["qr_svg"]) = json!({ "type": "string", "description": "The link as an SVG QR code" });
    *at(schemas, &["CodeWithQr"]) = json!({
        "type": "object",
        "required": ["account", "code", "url", "expires_at", "qr_svg"],
        "properties": with_qr,
    });
    *at(schemas, &["SignedIn"]) = json!({
        "type": "object",
        "required": ["status"],
        "properties": { "status": { "const": "signed_in" } },
    });
    *at(schemas, &["Verified"]) = json!({
        "type": "object",
        "required": ["account", "verified"],
        "properties": { "account": { "type": "string" }, "verified": { "const": true } },
    });
    *at(schemas, &["Changed"]) = json!({
        "type": "object",
        "required": ["changed"],
        "properties": { "changed": { "type": "array", "items": { "type": "string" }, "description": "Names of the fields that changed" } },
    });
}

// ---------------------------------------------------------------------
// Value rules the server enforces, as JSON Schema.

/// Characters no free text may hold (`crate::vault::profile::is_unsafe_char`),
/// as inclusive ranges.
const UNSAFE: &[(u32, u32)] = &[
    (0x0000, 0x001F),
    (0x007F, 0x009F),
    (0x00AD, 0x00AD),
    (0x034F, 0x034F),
    (0x0600, 0x0605),
    (0x061C, 0x061C),
    (0x06DD, 0x06DD),
    (0x070F, 0x070F),
    (0x0890, 0x0891),
    (0x08E2, 0x08E2),
    (0x115F, 0x1160),
    (0x17B4, 0x17B5),
    (0x180B, 0x180F),
    (0x200B, 0x200B),
    (0x200E, 0x200F),
    (0x2028, 0x202E),
    (0x2060, 0x206F),
    (0x3164, 0x3164),
    (0xE000, 0xF8FF),
    (0xFDD0, 0xFDEF),
    (0xFEFF, 0xFEFF),
    (0xFFA0, 0xFFA0),
    (0xFFF0, 0xFFFB),
    (0xFFFE, 0xFFFF),
    (0x110BD, 0x110BD),
    (0x110CD, 0x110CD),
    (0x13430, 0x1343F),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0x1FFFE, 0x1FFFF),
    (0x2FFFE, 0x2FFFF),
    (0x3FFFE, 0x3FFFF),
    (0x4FFFE, 0x4FFFF),
    (0x5FFFE, 0x5FFFF),
    (0x6FFFE, 0x6FFFF),
    (0x7FFFE, 0x7FFFF),
    (0x8FFFE, 0x8FFFF),
    (0x9FFFE, 0x9FFFF),
    (0xAFFFE, 0xAFFFF),
    (0xBFFFE, 0xBFFFF),
    (0xCFFFE, 0xCFFFF),
    (0xDFFFE, 0xDFFFF),
    (0xE0000, 0xE0FFF),
    (0xEFFFE, 0xEFFFF),
    (0xF0000, 0x10FFFF),
];

/// `char::is_whitespace`: what `str::trim` removes.
const WHITESPACE: &[(u32, u32)] = &[
    (0x0009, 0x000D),
    (0x0020, 0x0020),
    (0x0085, 0x0085),
    (0x00A0, 0x00A0),
    (0x1680, 0x1680),
    (0x2000, 0x200A),
    (0x2028, 0x2029),
    (0x202F, 0x202F),
    (0x205F, 0x205F),
    (0x3000, 0x3000),
];

/// Ranges as the inside of a regex character class: `\uXXXX` in the
/// Basic Multilingual Plane, the characters themselves beyond it.
fn class(ranges: &[&[(u32, u32)]]) -> String {
    let one = |u: u32| match char::from_u32(u) {
        Some(c) if u > 0xFFFF => c.to_string(),
        _ => format!("\\u{u:04x}"),
    };
    ranges
        .iter()
        .flat_map(|r| r.iter())
        .map(|&(a, b)| {
            if a == b {
                one(a)
            } else {
                format!("{}-{}", one(a), one(b))
            }
        })
        .collect()
}

/// Text that is trimmed, then must be 1 to `max` characters with no
/// unsafe character (`enrol::parse_name`, passkey names).
fn trimmed_text(max: usize) -> String {
    let space = format!("[{}]", class(&[WHITESPACE]));
    let any = format!("[^{}]", class(&[UNSAFE]));
    let solid = format!("[^{}]", class(&[UNSAFE, WHITESPACE]));
    format!(
        "^{space}*{solid}(?:{any}{{0,{}}}{solid})?{space}*$",
        max.saturating_sub(2)
    )
}

/// `[0-9]` after every digit atom of `spec` (a digit, or a class) is
/// followed by the separators people type between groups.
fn separated(spec: &str) -> String {
    const SEP: &str = "[ .\\-]*";
    let mut out = String::new();
    let mut chars = spec.chars();
    while let Some(c) = chars.next() {
        out.push(c);
        if c == '[' {
            for d in chars.by_ref() {
                out.push(d);
                if d == ']' {
                    break;
                }
            }
            out.push_str(SEP);
        } else if c.is_ascii_digit() {
            out.push_str(SEP);
        }
    }
    out
}

/// The 16 digits of a NIK (`crate::account::Nik`) or family card number:
/// known province, regency not 00, a real DDMMYY date (day + 40 for women
/// when `women`), serial not 0000. Two-digit years divisible by 4 are leap
/// years (every year from 1927 to 2099).
fn sixteen_digits(women: bool) -> String {
    let province = "(?:1[1-9]|21|3[1-6]|5[1-3]|6[1-5]|7[1-6]|8[12]|9[1-6])";
    let regency = "(?:0[1-9]|[1-9][0-9])";
    let district = "[0-9][0-9]";
    let (low, d29, d30, d31) = if women {
        ("[04][1-9]|[15][0-9]|[26][0-8]", "[26]9", "[37]0", "[37]1")
    } else {
        ("0[1-9]|1[0-9]|2[0-8]", "29", "30", "31")
    };
    let year = "[0-9][0-9]";
    let leap = "(?:[02468][048]|[13579][26])";
    let date = format!(
        "(?:(?:{low})(?:0[1-9]|1[0-2]){year}|{d29}(?:0[13-9]|1[0-2]){year}|{d29}02{leap}\
         |{d30}(?:0[13-9]|1[0-2]){year}|{d31}(?:0[13578]|1[02]){year})"
    );
    let serial = "(?:[1-9][0-9][0-9][0-9]|0[1-9][0-9][0-9]|00[1-9][0-9]|000[1-9])";
    separated(&format!("{province}{regency}{district}{date}{serial}"))
}

/// A NIK as `Nik::parse` takes it: trimmed, separators ignored.
fn nik() -> Value {
    let space = format!("[{}]*", class(&[WHITESPACE]));
    json!({
        "type": "string",
        "pattern": format!("^{space}[ .\\-]*{}{space}$", sixteen_digits(true)),
        "description": "NIK: 16 digits (spaces, dots and dashes between them are ignored), a known province, \
            regency not 00, a real birth date DDMMYY (day + 40 for women), serial not 0000",
        "examples": ["3171014101900001"],
    })
}

/// `^[a-z][a-z0-9_]{min-1..max-1}$` (`crate::modules::is_ident`).
fn ident(max: usize) -> String {
    format!("[a-z][a-z0-9_]{{0,{}}}", max - 1)
}

const PURPOSE: &str = "^[a-z0-9._-]{1,100}$";

/// Largest module record value (`crate::modules::records::MAX_VALUE`), bytes.
const MAX_VALUE: usize = crate::modules::records::MAX_VALUE;

/// Merges `extra` into the property `property` of component schema `schema`.
fn refine(doc: &mut Value, schema: &str, property: &str, extra: Value) {
    let target = at(doc, &["components", "schemas", schema, "properties", property]);
    if let (Value::Object(target), Value::Object(extra)) = (target, extra) {
        target.extend(extra);
    }
}

/// Marks `property` of component schema `schema` required (and not null).
fn require(doc: &mut Value, schema: &str, property: &str, definition: Value) {
    let schema = at(doc, &["components", "schemas", schema]);
    *at(schema, &["properties", property]) = definition;
    if let Some(Value::Array(required)) = schema.get_mut("required") {
        required.push(json!(property));
    } else {
        *at(schema, &["required"]) = json!([property]);
    }
}

fn constrain(doc: &mut Value) {
    let purpose = json!({ "pattern": PURPOSE, "description": "Why: an identifier such as `antrian.call_ticket` (1 to 100 of a-z 0-9 . _ -)" });
    let field_name = json!({ "type": "string", "pattern": format!("^{}$", ident(48)) });
    let record = json!({ "pattern": "^[A-Za-z0-9_-]{1,64}$", "description": "The module's record id: 1 to 64 letters, digits, `-` or `_`" });
    let batch = |items: Value| json!({ "minItems": 1, "maxItems": crate::modules::MAX_BATCH, "items": items });
    let values = json!({
        "minProperties": 1,
        "propertyNames": field_name,
        "additionalProperties": {
            "type": ["string", "null"],
            "maxLength": MAX_VALUE,
            "pattern": format!("^[^{}]*$", class(&[&[(0x00, 0x08), (0x0B, 0x0C), (0x0E, 0x1F)], UNSAFE.get(1..).unwrap_or_default()])),
        },
        "description": "Values by field name (`null` removes the field). Every name must be a field of the \
            collection; a value is at most 16 KiB of UTF-8 and holds no control or bidirectional-override \
            character (line breaks and tabs only in `multiline` fields).",
    });

    // The module API.
    refine(
        doc,
        "Definition",
        "fields",
        json!({ "minItems": 1, "maxItems": crate::modules::collection::MAX_FIELDS,
        "description": "1 to 64 fields, names distinct. A definition may add fields; existing ones keep their name and \
            classification (409 otherwise). `<collection>.<field>` is at most 100 characters." }),
    );
    refine(
        doc,
        "FieldDef",
        "name",
        json!({ "pattern": format!("^{}$", ident(48)),
        "description": "1 to 48 lower-case letters, digits or underscores, starting with a letter" }),
    );
    refine(doc, "RecordRef", "record", record.clone());
    refine(
        doc,
        "RecordRef",
        "citizen",
        json!({ "description": "The citizen's pseudonym" }),
    );
    refine(doc, "RecordWrite", "record", record);
    refine(
        doc,
        "RecordWrite",
        "citizen",
        json!({ "description": "The citizen's pseudonym" }),
    );
    refine(doc, "RecordWrite", "values", values.clone());
    refine(doc, "WriteOne", "values", values);
    for schema in ["WriteBatch", "DeleteBatch"] {
        refine(
            doc,
            schema,
            "records",
            batch(
                doc.pointer(&format!("/components/schemas/{schema}/properties/records/items"))
                    .cloned()
                    .unwrap_or_default(),
            ),
        );
    }
    for schema in ["WriteBatch", "DeleteBatch", "WriteOne"] {
        refine(doc, schema, "purpose", purpose.clone());
    }
    let mut required_purpose = purpose.clone();
    *at(&mut required_purpose, &["type"]) = json!("string");
    require(doc, "ReadBatch", "purpose", required_purpose);
    refine(
        doc,
        "ReadBatch",
        "records",
        batch(json!({ "$ref": "#/components/schemas/RecordRef" })),
    );
    refine(
        doc,
        "ReadBatch",
        "fields",
        json!({ "items": field_name,
        "description": "Only these fields, each a field of the collection (default: all)" }),
    );

    // Enrolment, recovery and the counter.
    for schema in ["EnrolStart", "Enrol", "RecoverStart", "Recover", "Verify", "Find"] {
        refine(doc, schema, "nik", nik());
    }
    for schema in ["EnrolStart", "Enrol"] {
        refine(
            doc,
            schema,
            "name",
            json!({ "pattern": trimmed_text(100),
            "description": "The name, trimmed: 1 to 100 characters, no control or bidirectional-override character" }),
        );
    }
    refine(
        doc,
        "Rename",
        "name",
        json!({ "pattern": trimmed_text(60),
        "description": "Trimmed: 1 to 60 characters, no control or bidirectional-override character" }),
    );
    let kk = json!({
        "pattern": format!("^[ .\\-]*{}$", sixteen_digits(false)),
        "description": "Family card number: 16 digits, spaces, dots and dashes ignored; province, regency, \
            issue date DDMMYY and serial as in a NIK (no +40)",
    });
    refine(doc, "IdentityUpdate", "kk", kk);
    refine(doc, "IdentityUpdate", "nik", nik());
    let describe = |text: &str| json!({ "description": text });
    refine(
        doc,
        "ContactUpdate",
        "phone",
        describe(
            "An Indonesian number such as 0812 3456 5678 or +62 812 3456 5678 (spaces, dashes, dots and \
         parentheses ignored; 8 to 12 digits after the country or trunk prefix); `null` removes it",
        ),
    );
    refine(
        doc,
        "ContactUpdate",
        "email",
        describe("An address such as nama@contoh.go.id (at most 254 characters); `null` removes it"),
    );
    refine(doc, "ContactUpdate", "address", describe("`null` removes it"));
    for field in ["full_name", "birth_place"] {
        refine(
            doc,
            "IdentityUpdate",
            field,
            describe("White space folded, then 1 to 100 letters, spaces, apostrophes, periods, commas and hyphens"),
        );
    }
    refine(
        doc,
        "IdentityUpdate",
        "birth_date",
        describe("`YYYY-MM-DD`, from 1900 to today"),
    );
    refine(
        doc,
        "IdentityUpdate",
        "gender",
        describe("`laki-laki` or `perempuan` (also `male`/`l`, `female`/`p`; any case)"),
    );
    let address = at(doc, &["components", "schemas", "AddressInput"]);
    let space = format!("[{}]*", class(&[WHITESPACE]));
    let part = format!("{space}\\+?0*[1-9][0-9]{{0,2}}{space}");
    *at(address, &["properties", "rt_rw", "pattern"]) = json!(format!("^{part}/{part}$"));
    *at(address, &["properties", "rt_rw", "description"]) = json!("RT/RW such as 003/005, each 1 to 999");
    *at(address, &["properties", "postal_code", "pattern"]) = json!(format!("^{space}[0-9]{{5}}{space}$"));
    *at(address, &["description"]) = json!(
        "Address fields as submitted. Text fields have their white space folded and must then be 1 to 200 \
         (street) or 1 to 60 characters with no control or bidirectional-override character."
    );
}

/// Path and query parameters of the module API.
fn constrain_parameters(doc: &mut Value) {
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    for (path, item) in paths.iter_mut().filter(|(p, _)| p.starts_with("/api/collections/")) {
        for (method, operation) in item.as_object_mut().into_iter().flatten() {
            for parameter in operation
                .get_mut("parameters")
                .and_then(Value::as_array_mut)
                .into_iter()
                .flatten()
            {
                let name = parameter.get("name").and_then(Value::as_str).map(str::to_owned);
                let schema = match name.as_deref() {
                    Some("collection") => {
                        json!({ "type": "string", "pattern": format!("^[a-z][a-z0-9_]{{1,31}}\\.{}$", ident(32)) })
                    }
                    Some("citizen") => json!({ "type": "string", "minLength": 1 }),
                    Some("record") => json!({ "type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$" }),
                    Some("purpose") => {
                        *at(parameter, &["required"]) = json!(true);
                        json!({ "type": "string", "pattern": PURPOSE })
                    }
                    Some("fields") => {
                        let space = format!("[{}]*", class(&[WHITESPACE]));
                        let entry = format!("{space}(?:{})?{space}", ident(48));
                        json!({ "type": "string", "pattern": format!("^{entry}(?:,{entry})*$") })
                    }
                    _ => continue,
                };
                *at(parameter, &["schema"]) = schema;
            }
            if method == "put"
                && path == "/api/collections/{collection}"
                && let Some(first) = operation.get_mut("parameters").and_then(|p| p.get_mut(0))
            {
                *at(first, &["description"]) = json!(
                    "`<module>.<name>`: the caller's own module name, then 1 to 32 lower-case letters, digits or \
                     underscores starting with a letter (another module's name: 400 for a new collection, 403 \
                     for an existing one)"
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn in_ranges(ranges: &[(u32, u32)], u: u32) -> bool {
        ranges.iter().any(|&(a, b)| (a..=b).contains(&u))
    }

    #[test]
    fn character_tables_match_the_server() {
        for u in 0..=0x10FFFF_u32 {
            let Some(c) = char::from_u32(u) else {
                continue; // a surrogate: never in JSON text
            };
            assert_eq!(
                in_ranges(UNSAFE, u),
                crate::vault::profile::is_unsafe_char(c),
                "U+{u:04X} unsafe"
            );
            assert_eq!(in_ranges(WHITESPACE, u), c.is_whitespace(), "U+{u:04X} white space");
        }
    }

    #[test]
    fn separators_follow_digit_atoms() {
        assert_eq!(
            separated("(?:1[1-9]|21)"),
            "(?:1[ .\\-]*[1-9][ .\\-]*|2[ .\\-]*1[ .\\-]*)"
        );
    }

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
