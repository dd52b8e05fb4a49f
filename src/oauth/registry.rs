//! Registering modules as OAuth clients (`jaga modules add`, `update`,
//! `set-jwks`, `rotate-secret`, `disable`). Every change is audited.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use zeroize::Zeroizing;

use super::client::AuthMethod;
use super::jwk::KeySet;
use crate::audit::{self, Actor, ActorKind, AuditError, Event, Outcome, Target};
use crate::ids;
use crate::modules::{Module, ModuleError};
use crate::store::clients::{self as stored, ClientUpdate};
use crate::store::{StoreError, Writer};

pub const GRANTS: &[&str] = &["authorization_code", "refresh_token", "client_credentials"];
pub const SECRET_PREFIX: &str = "jaga_cs_";

#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("{0}")]
    Invalid(String),
    #[error("no active module named {0}")]
    NoModule(String),
    #[error(transparent)]
    Module(#[from] ModuleError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Audit(#[from] AuditError),
    #[error(transparent)]
    Random(#[from] ids::RandomError),
}

fn invalid(m: impl Into<String>) -> RegistryError {
    RegistryError::Invalid(m.into())
}

/// What an operator says about a client; `None` keeps what is registered.
#[derive(Debug, Clone, Default)]
pub struct Registration {
    pub auth: Option<AuthMethod>,
    /// JWKS JSON text, for private_key_jwt.
    pub jwks: Option<String>,
    pub redirect_uris: Option<Vec<String>>,
    pub grant_types: Option<Vec<String>>,
    pub audience: Option<String>,
    pub backchannel_logout_uri: Option<String>,
    pub post_logout_redirect_uris: Option<Vec<String>>,
    /// Where the client publishes its JWKS, for private_key_jwt.
    pub jwks_uri: Option<String>,
    /// The subject DN of the client's TLS certificate, for tls_client_auth.
    pub tls_subject: Option<String>,
}

/// A redirect URI is absolute, exact and has no fragment; plain http only
/// for a loopback address (a native or test client on the same machine).
pub fn check_redirect_uri(uri: &str) -> Result<(), RegistryError> {
    let bad = |why: &str| invalid(format!("redirect URI {uri:?}: {why}"));
    if uri.len() > 512 || uri.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(bad("at most 512 characters, no spaces or control characters"));
    }
    if uri.contains('#') {
        return Err(bad("a fragment is not allowed"));
    }
    let Some((scheme, rest)) = uri.split_once("://") else {
        return Err(bad("it must be an absolute URL"));
    };
    let host = rest.split(['/', '?']).next().unwrap_or("");
    let host_only = host.rsplit_once('@').map_or(host, |(_, h)| h);
    if host.contains('@') {
        return Err(bad("user information is not allowed"));
    }
    let hostname = if host_only.starts_with('[') {
        host_only.split(']').next().map(|h| format!("{h}]")).unwrap_or_default()
    } else {
        host_only.split(':').next().unwrap_or("").to_owned()
    };
    match scheme {
        "https" if !hostname.is_empty() => Ok(()),
        "http" if matches!(hostname.as_str(), "localhost" | "127.0.0.1" | "[::1]") => Ok(()),
        "http" => Err(bad("plain http is allowed only for localhost")),
        _ => Err(bad("the scheme must be https")),
    }
}

impl Registration {
    /// Checks everything and returns the columns to write, plus a new
    /// client secret when the client is (now) client_secret_basic.
    fn to_update(
        &self,
        current: Option<AuthMethod>,
    ) -> Result<(ClientUpdate, Option<Zeroizing<String>>), RegistryError> {
        let mut update = ClientUpdate::default();
        let mut secret = None;
        if let Some(jwks) = &self.jwks {
            let value: serde_json::Value =
                serde_json::from_str(jwks).map_err(|e| invalid(format!("the JWKS is not JSON: {e}")))?;
            KeySet::parse(&value).map_err(|e| invalid(format!("the JWKS: {e}")))?;
            update.jwks = Some(Some(value.to_string()));
            update.jwks_uri = Some(None);
        }
        if let Some(uri) = &self.jwks_uri {
            if self.jwks.is_some() {
                return Err(invalid(
                    "give the keys either inline (--jwks) or by address (--jwks-uri), not both",
                ));
            }
            check_redirect_uri(uri)?;
            update.jwks_uri = Some(Some(uri.clone()));
            update.jwks = Some(None);
        }
        match self.auth {
            Some(AuthMethod::PrivateKeyJwt)
                if self.jwks.is_none() && self.jwks_uri.is_none() && current != Some(AuthMethod::PrivateKeyJwt) =>
            {
                return Err(invalid(
                    "private_key_jwt needs the client's public keys (--jwks FILE or --jwks-uri URL)",
                ));
            }
            Some(AuthMethod::TlsClientAuth) => {
                // RFC 8705 §2.1 (PKI method): the certificate chains to the
                // operator's client CA bundle and has this subject.
                if self.tls_subject.is_none() && current != Some(AuthMethod::TlsClientAuth) {
                    return Err(invalid(
                        "tls_client_auth needs the subject of the module's certificate (--tls-subject \"CN=…,O=…\")",
                    ));
                }
                if self.jwks.is_some() || self.jwks_uri.is_some() {
                    return Err(invalid(
                        "a tls_client_auth client authenticates with its certificate: leave out --jwks and --jwks-uri",
                    ));
                }
                update.jwks = Some(None);
                update.jwks_uri = Some(None);
            }
            Some(AuthMethod::None) => {
                // A public client (a citizens' app on a phone): it holds no
                // secret, so it signs people in only, with PKCE and its
                // DPoP key, and never gets client credentials.
                let grants = self.grant_types.as_deref().unwrap_or_default();
                if grants.is_empty() || grants.iter().any(|g| g == "client_credentials") {
                    return Err(invalid(
                        "a public client (--auth none) needs --grant authorization_code (and refresh_token), never client_credentials",
                    ));
                }
                if self.jwks.is_some() || self.jwks_uri.is_some() {
                    return Err(invalid("a public client has no keys: leave out --jwks and --jwks-uri"));
                }
                update.jwks = Some(None);
                update.jwks_uri = Some(None);
            }
            Some(AuthMethod::ClientSecretBasic) if current != Some(AuthMethod::ClientSecretBasic) => {
                let (text, hash) = new_secret()?;
                update.secret_hash = Some(Some(hash));
                secret = Some(text);
            }
            _ => {}
        }
        if let Some(auth) = self.auth {
            update.client_auth = Some(auth.as_str().to_owned());
            if auth != AuthMethod::ClientSecretBasic {
                update.secret_hash = Some(None);
            }
            if auth != AuthMethod::TlsClientAuth {
                update.tls_subject = Some(None);
            }
        }
        if let Some(subject) = &self.tls_subject {
            if self.auth.or(current) != Some(AuthMethod::TlsClientAuth) {
                return Err(invalid(
                    "--tls-subject is for a tls_client_auth client (--auth tls_client_auth)",
                ));
            }
            let canonical = super::mtls::canonical(subject).map_err(|e| invalid(e.to_string()))?;
            update.tls_subject = Some(Some(canonical));
        }
        if let Some(uris) = &self.redirect_uris {
            if uris.len() > 10 {
                return Err(invalid("at most 10 redirect URIs"));
            }
            uris.iter().try_for_each(|u| check_redirect_uri(u))?;
            update.redirect_uris = Some(serde_json::to_string(uris).unwrap_or_else(|_| "[]".into()));
        }
        if let Some(grants) = &self.grant_types {
            if self.auth.or(current) == Some(AuthMethod::None) && grants.iter().any(|g| g == "client_credentials") {
                return Err(invalid("a public client never gets client credentials"));
            }
            if let Some(g) = grants.iter().find(|g| !GRANTS.contains(&g.as_str())) {
                return Err(invalid(format!(
                    "grant type {g:?} is not offered ({})",
                    GRANTS.join(", ")
                )));
            }
            update.grant_types = Some(serde_json::to_string(grants).unwrap_or_else(|_| "[]".into()));
        }
        if let Some(uri) = &self.backchannel_logout_uri {
            check_redirect_uri(uri)?;
            update.backchannel_logout_uri = Some(Some(uri.clone()));
        }
        if let Some(uris) = &self.post_logout_redirect_uris {
            if uris.len() > 10 {
                return Err(invalid("at most 10 post-logout redirect URIs"));
            }
            uris.iter().try_for_each(|u| check_redirect_uri(u))?;
            update.post_logout_redirect_uris = Some(serde_json::to_string(uris).unwrap_or_else(|_| "[]".into()));
        }
        if let Some(audience) = &self.audience {
            if !matches!(audience.as_str(), "citizen" | "officer") {
                return Err(invalid("the audience is citizen or officer"));
            }
            update.audience = Some(audience.clone());
        }
        Ok((update, secret))
    }
}

fn new_secret() -> Result<(Zeroizing<String>, Vec<u8>), RegistryError> {
    let text = Zeroizing::new(format!("{SECRET_PREFIX}{}", B64URL.encode(ids::bytes::<32>()?)));
    let hash = ids::sha256(text.as_bytes()).to_vec();
    Ok((text, hash))
}

/// A newly registered module: its static API key (usable only where static
/// keys are allowed) and, for client_secret_basic, its client secret.
#[derive(Debug)]
pub struct Registered {
    pub module: Module,
    pub api_key: Zeroizing<String>,
    pub secret: Option<Zeroizing<String>>,
}

pub async fn register(
    writer: &Writer,
    name: &str,
    reg: &Registration,
    operator: &str,
) -> Result<Registered, RegistryError> {
    let mut reg = reg.clone();
    // Without keys the module is registered as a private_key_jwt client
    // with none yet (as the migration left existing modules): it gets
    // tokens once `jaga modules set-jwks` gives it its public keys.
    if reg.auth.is_none() && (reg.jwks.is_some() || reg.jwks_uri.is_some()) {
        reg.auth = Some(AuthMethod::PrivateKeyJwt);
    }
    let current = if reg.auth.is_none() {
        Some(AuthMethod::PrivateKeyJwt)
    } else {
        None
    };
    let (update, secret) = reg.to_update(current)?;
    let (module, api_key) = crate::modules::add_client(writer, name, update, operator).await?;
    Ok(Registered {
        module,
        api_key,
        secret,
    })
}

/// Changes a live client's registration; returns a new client secret when
/// it became client_secret_basic.
pub async fn update(
    writer: &Writer,
    name: &str,
    reg: &Registration,
    operator: &str,
) -> Result<Option<Zeroizing<String>>, RegistryError> {
    change(writer, name, operator, "module.update", move |current| {
        reg.to_update(current)
    })
    .await
}

/// A new client secret for a client_secret_basic client; the old one stops working.
pub async fn rotate_secret(writer: &Writer, name: &str, operator: &str) -> Result<Zeroizing<String>, RegistryError> {
    let secret = change(writer, name, operator, "module.rotate_secret", |current| {
        if current != Some(AuthMethod::ClientSecretBasic) {
            return Err(invalid("this client does not use a client secret"));
        }
        let (text, hash) = new_secret()?;
        Ok((
            ClientUpdate {
                secret_hash: Some(Some(hash)),
                ..ClientUpdate::default()
            },
            Some(text),
        ))
    })
    .await?;
    secret.ok_or_else(|| invalid("no secret was made"))
}

async fn change<F>(
    writer: &Writer,
    name: &str,
    operator: &str,
    action: &'static str,
    make: F,
) -> Result<Option<Zeroizing<String>>, RegistryError>
where
    F: FnOnce(Option<AuthMethod>) -> Result<(ClientUpdate, Option<Zeroizing<String>>), RegistryError>,
{
    let (name, operator) = (name.to_owned(), operator.to_owned());
    let (read_name, tx_name, tx_operator) = (name.clone(), name.clone(), operator);
    let row = writer
        .write::<Option<crate::store::clients::ClientRow>, RegistryError, _>(move |tx| {
            Box::pin(async move { Ok(stored::client_in(tx, &read_name).await?) })
        })
        .await?
        .filter(|r| r.revoked_at.is_none())
        .ok_or_else(|| RegistryError::NoModule(name.clone()))?;
    let (update, secret) = make(AuthMethod::parse(&row.client_auth))?;
    let fields: Vec<String> = [
        ("client_auth", update.client_auth.is_some()),
        ("jwks", update.jwks.is_some()),
        ("jwks_uri", update.jwks_uri.is_some()),
        ("secret", update.secret_hash.as_ref().is_some_and(Option::is_some)),
        ("redirect_uris", update.redirect_uris.is_some()),
        ("grant_types", update.grant_types.is_some()),
        ("audience", update.audience.is_some()),
        ("backchannel_logout_uri", update.backchannel_logout_uri.is_some()),
        ("post_logout_redirect_uris", update.post_logout_redirect_uris.is_some()),
    ]
    .into_iter()
    .filter(|(_, changed)| *changed)
    .map(|(f, _)| f.to_owned())
    .collect();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    writer
        .write::<(), RegistryError, _>(move |tx| {
            Box::pin(async move {
                if !stored::update_client(tx, &tx_name, &update, now).await? {
                    return Err(RegistryError::NoModule(tx_name));
                }
                let event = Event::new(
                    Actor::new(ActorKind::Operator, tx_operator),
                    action,
                    Target::new("module", Some(tx_name)).with_fields(fields),
                    Outcome::Success,
                );
                audit::record(tx, event).await?;
                Ok(())
            })
        })
        .await?;
    Ok(secret)
}
