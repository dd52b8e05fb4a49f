//! Form-encoded OAuth requests: the content type is checked, and a
//! parameter sent twice is refused (RFC 6749 §3.1, §3.2).

use std::collections::HashMap;

use axum::http::{HeaderMap, header};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;

use crate::oauth::client::Presented;
use crate::oauth::error::OauthError;
use crate::oauth::mtls::PeerCert;

#[derive(Debug, Default)]
pub struct Form(HashMap<String, String>);

impl Form {
    pub fn parse(headers: &HeaderMap, body: &[u8]) -> Result<Form, OauthError> {
        let form_type = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/x-www-form-urlencoded"));
        if !form_type {
            return Err(OauthError::request(
                "the body must be application/x-www-form-urlencoded",
            ));
        }
        let mut out = HashMap::new();
        for (name, value) in form_urlencoded::parse(body) {
            if value.is_empty() {
                continue;
            }
            if out.insert(name.to_string(), value.to_string()).is_some() {
                return Err(OauthError::request(format!(
                    "the parameter {name:?} is sent more than once"
                )));
            }
        }
        Ok(Form(out))
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// The client authentication the request brings: `Authorization:
    /// Basic` (RFC 6749 §2.3.1, form-encoded id and secret), the form's
    /// client_id and assertion, and the TLS client certificate.
    pub fn presented(&self, headers: &HeaderMap, cert: Option<&PeerCert>) -> Result<Presented, OauthError> {
        let basic = match headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) {
            None => None,
            Some(v) => {
                let encoded = v
                    .strip_prefix("Basic ")
                    .ok_or_else(|| OauthError::client("only Basic authorization is understood here"))?;
                let raw = B64
                    .decode(encoded.trim())
                    .map_err(|_| OauthError::client("the Basic credentials are not base64"))?;
                let text =
                    String::from_utf8(raw).map_err(|_| OauthError::client("the Basic credentials are not UTF-8"))?;
                let (id, secret) = text
                    .split_once(':')
                    .ok_or_else(|| OauthError::client("the Basic credentials have no ':'"))?;
                let decode = |s: &str| {
                    form_urlencoded::parse(format!("v={s}").as_bytes())
                        .next()
                        .map(|(_, v)| v.into_owned())
                        .unwrap_or_default()
                };
                Some((decode(id), decode(secret)))
            }
        };
        Ok(Presented {
            basic,
            client_id: self.get("client_id").map(str::to_owned),
            assertion_type: self.get("client_assertion_type").map(str::to_owned),
            assertion: self.get("client_assertion").map(str::to_owned),
            secret_in_body: self.get("client_secret").is_some(),
            cert: cert.cloned(),
        })
    }
}
