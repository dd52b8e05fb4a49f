//! The answers every operation gets from the layers around it (body
//! limits, JSON rejections, sign-in, Origin and CSRF checks, timeouts,
//! rate limits), and the security schemes and shared components.

use serde_json::{Value, json};

use super::{Listener, at};

pub(super) fn error_response(description: &str) -> Value {
    json!({
        "description": description,
        "content": { "application/json": { "schema": { "$ref": "#/components/schemas/ErrorBody" } } }
    })
}

/// Bodies read as raw bytes (WebAuthn responses): no content-type check
/// and no JSON shape check before the handler's own.
const RAW_BODIES: [&str; 3] = ["/api/enrol/finish", "/api/signin/finish", "/api/passkeys/finish"];
/// Form-encoded OAuth requests: any malformed one is 400 `invalid_request`.
const FORM_BODIES: [&str; 4] = ["/oauth/token", "/oauth/introspect", "/oauth/revoke", "/oauth/par"];

fn is_unsafe(method: &str) -> bool {
    !matches!(method, "get" | "head" | "options")
}

fn requires(operation: &Value, scheme: &str) -> bool {
    operation
        .get("security")
        .and_then(Value::as_array)
        .is_some_and(|alternatives| alternatives.iter().all(|a| a.get(scheme).is_some()))
}

pub(super) fn common_answers(path: &str, method: &str, operation: &mut Value, origins: &[String]) {
    let mut add: Vec<(&str, &str)> = Vec::new();
    let has_body = operation.get("requestBody").is_some();
    if has_body {
        // Every body this API reads is required (an empty one is refused).
        *at(operation, &["requestBody", "required"]) = json!(true);
        add.push(("400", "Malformed request (the message says what is wrong)"));
        add.push(("413", "Body larger than server.max_body_bytes"));
        if !RAW_BODIES.contains(&path) && !FORM_BODIES.contains(&path) {
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
        let unauthorized = responses.entry("401".to_owned()).or_insert_with(|| {
            error_response(
                "Missing, expired or revoked access token, bad DPoP proof, or a static key where they are refused",
            )
        });
        *at(unauthorized, &["headers"]) = json!({
            "WWW-Authenticate": { "required": true, "description": "`DPoP error=\"…\", algs=\"ES256 PS256 EdDSA\"` (RFC 9449)", "schema": { "type": "string" } }
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
                "RateLimit": { "required": true, "description": "What is left, e.g. `\"enrol-ip\";r=0;t=15`", "schema": { "type": "string" } },
            });
        }
    }
}

// ---------------------------------------------------------------------
// Security schemes and schemas of bodies the handlers read or write as
// plain JSON values.

pub(super) fn add_components(doc: &mut Value, listener: &Listener<'_>) {
    let components = at(doc, &["components"]);
    *at(components, &["securitySchemes"]) = json!({
        "module_key": {
            "type": "http",
            "scheme": "bearer",
            "description": "A DPoP-bound access token from `/oauth/token` (`Authorization: DPoP …` with a `DPoP` proof, RFC 9449), a token bound to the module's TLS client certificate (`Authorization: Bearer …` on that connection, RFC 8705), or, in --dev or with modules.static_keys = allow, a module API key `jaga_mk_…` from `jaga modules add`.",
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
            "name": crate::http::session::CSRF_HEADER,
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
