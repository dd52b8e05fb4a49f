//! The OpenID provider's settings and whether modules may still use
//! static API keys.

use super::{ConfigError, Getter, invalid};

#[derive(Debug, Clone)]
pub struct OauthConfig {
    /// The issuer identifier; `None`: the first of `webauthn.origins`.
    pub issuer: Option<String>,
    pub access_token_secs: i64,
    /// Whether the module API still takes static API keys (`jaga_mk_…`):
    /// on in development mode, off otherwise unless `modules.static_keys =
    /// "allow"` (logged as a warning at start and shown in `/metrics`).
    pub static_keys: bool,
}

pub(super) fn oauth(get: &Getter<'_>, dev: bool) -> Result<OauthConfig, ConfigError> {
    let issuer = get.string("oauth.issuer")?;
    if let Some(i) = &issuer {
        let ok = (i.starts_with("https://") || i.starts_with("http://localhost") || i.starts_with("http://127.0.0.1"))
            && !i.contains(['?', '#'])
            && !i.ends_with('/');
        if !ok {
            return Err(invalid(
                "oauth.issuer",
                "an https URL without query, fragment or trailing slash (http only for localhost)",
            ));
        }
    }
    let static_keys = match get.string("modules.static_keys")?.as_deref() {
        None => dev,
        Some("allow") => true,
        Some("refuse") => false,
        Some(other) => {
            return Err(invalid(
                "modules.static_keys",
                format!("{other:?} is not allow or refuse"),
            ));
        }
    };
    Ok(OauthConfig {
        issuer,
        access_token_secs: get.int("oauth.access_token_secs", 300, 60, 3600)?,
        static_keys,
    })
}
