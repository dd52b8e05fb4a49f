//! `jaga modules …`: modules as OAuth clients.

use super::context::{Offline, operator_name};
use crate::config::Config;
use crate::oauth::client::AuthMethod;
use crate::oauth::registry::{self, Registration};

/// How a module authenticates and what it may ask for.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ClientArgs {
    /// The module's public keys (a JWKS file) for private_key_jwt.
    #[arg(long, value_name = "FILE")]
    jwks: Option<std::path::PathBuf>,
    /// Where the module publishes its public keys (a JWKS URL), for
    /// private_key_jwt; https, or http for localhost. Fetched when needed
    /// and kept five minutes, so the module rotates its keys by itself.
    #[arg(long = "jwks-uri", value_name = "URL", conflicts_with = "jwks")]
    jwks_uri: Option<String>,
    /// private_key_jwt (default with --jwks), tls_client_auth (the
    /// module's TLS client certificate, RFC 8705; needs --tls-subject and
    /// tls.client_ca_path), client_secret_basic (weaker: a shared secret;
    /// only when the module cannot hold a key pair), or none: a public
    /// client such as a citizens' phone app (signs people in with PKCE and
    /// DPoP only; no client credentials).
    #[arg(long, value_name = "METHOD")]
    auth: Option<String>,
    /// For tls_client_auth: the subject DN of the module's certificate, as
    /// `openssl x509 -noout -subject -nameopt RFC2253` prints it
    /// (e.g. "CN=antrian.rangkui.go.id,O=Kecamatan Rangkui,C=ID"). The
    /// certificate must also chain to tls.client_ca_path.
    #[arg(long = "tls-subject", value_name = "DN")]
    tls_subject: Option<String>,
    /// An exact redirect URI (repeat for several); https, or http for localhost.
    #[arg(long = "redirect-uri", value_name = "URI")]
    redirect_uris: Vec<String>,
    /// A grant type (repeat): client_credentials, authorization_code, refresh_token.
    #[arg(long = "grant", value_name = "GRANT")]
    grants: Vec<String>,
    /// Whom the module signs in: citizen or officer.
    #[arg(long)]
    audience: Option<String>,
    /// Where Jaga posts a logout token when a person's sign-in at the
    /// module ends (OpenID Connect Back-Channel Logout); https, or http
    /// for localhost.
    #[arg(long = "backchannel-logout-uri", value_name = "URI")]
    backchannel_logout_uri: Option<String>,
    /// A page a person may be sent to after signing out from the module
    /// (repeat for several); https, or http for localhost.
    #[arg(long = "post-logout-redirect-uri", value_name = "URI")]
    post_logout_redirect_uris: Vec<String>,
}

impl ClientArgs {
    fn registration(&self) -> anyhow::Result<Registration> {
        let auth = match self.auth.as_deref() {
            None => None,
            Some(a) => Some(AuthMethod::parse(a).ok_or_else(|| {
                anyhow::anyhow!("--auth {a}: private_key_jwt, tls_client_auth, client_secret_basic or none")
            })?),
        };
        let jwks = match &self.jwks {
            None => None,
            Some(path) => {
                Some(std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("--jwks {}: {e}", path.display()))?)
            }
        };
        Ok(Registration {
            auth,
            jwks,
            redirect_uris: (!self.redirect_uris.is_empty()).then(|| self.redirect_uris.clone()),
            grant_types: (!self.grants.is_empty()).then(|| self.grants.clone()),
            audience: self.audience.clone(),
            backchannel_logout_uri: self.backchannel_logout_uri.clone(),
            jwks_uri: self.jwks_uri.clone(),
            tls_subject: self.tls_subject.clone(),
            post_logout_redirect_uris: (!self.post_logout_redirect_uris.is_empty())
                .then(|| self.post_logout_redirect_uris.clone()),
        })
    }
}

fn say_secret(secret: &str) -> anyhow::Result<()> {
    super::say(&format!(
        "client secret (client_secret_basic, weaker than private_key_jwt; shown once): {secret}"
    ))
}

pub async fn add(config: &Config, name: &str, client: &ClientArgs) -> anyhow::Result<()> {
    let registration = client.registration()?;
    let offline = Offline::open(config).await?;
    let added = registry::register(&offline.writer, name, &registration, &operator_name()).await;
    offline.close().await;
    let added = added?;
    super::say(&format!(
        "module {} added ({}); OAuth client_id: {}",
        added.module.name(),
        added.module.id(),
        added.module.name()
    ))?;
    if let Some(secret) = &added.secret {
        say_secret(secret)?;
    } else if registration.jwks.is_none() {
        super::say("no client keys yet: `jaga modules set-jwks` registers its public keys for private_key_jwt")?;
    }
    super::say(&format!(
        "API key (shown once; accepted only in --dev or with modules.static_keys = allow): {}",
        added.api_key.as_str()
    ))?;
    Ok(())
}

pub async fn update(config: &Config, name: &str, client: &ClientArgs) -> anyhow::Result<()> {
    let registration = client.registration()?;
    let offline = Offline::open(config).await?;
    let done = registry::update(&offline.writer, name, &registration, &operator_name()).await;
    offline.close().await;
    if let Some(secret) = done? {
        say_secret(&secret)?;
    }
    super::say(&format!("module {name}: registration updated"))
}

pub async fn set_jwks(config: &Config, name: &str, jwks: &std::path::Path) -> anyhow::Result<()> {
    let registration = ClientArgs {
        jwks: Some(jwks.to_path_buf()),
        auth: Some("private_key_jwt".into()),
        ..ClientArgs::default()
    }
    .registration()?;
    let offline = Offline::open(config).await?;
    let done = registry::update(&offline.writer, name, &registration, &operator_name()).await;
    offline.close().await;
    done?;
    super::say(&format!(
        "module {name}: public keys registered; it authenticates with private_key_jwt"
    ))
}

pub async fn rotate_secret(config: &Config, name: &str) -> anyhow::Result<()> {
    let offline = Offline::open(config).await?;
    let done = registry::rotate_secret(&offline.writer, name, &operator_name()).await;
    offline.close().await;
    say_secret(&done?)?;
    super::say("the previous secret no longer works")
}

pub async fn list(config: &Config) -> anyhow::Result<()> {
    let offline = Offline::open(config).await?;
    let mut out = Vec::new();
    for m in crate::store::modules::modules(&offline.db).await? {
        out.push((
            m.revoked_at.is_some(),
            crate::store::clients::client(&offline.db, &m.name).await?,
        ));
    }
    offline.close().await;
    for (disabled, row) in out {
        let Some(c) = row else { continue };
        let state = if disabled { "disabled" } else { "active" };
        let keys = match (&c.tls_subject, c.jwks.is_some() || c.jwks_uri.is_some()) {
            (Some(subject), _) => format!("certificate {subject}"),
            (None, true) => "keys registered".to_owned(),
            (None, false) => "no keys".to_owned(),
        };
        super::say(&format!(
            "{}\t{}\t{state}\t{} ({keys})\tgrants {}\taudience {}",
            c.name, c.module_id, c.client_auth, c.grant_types, c.audience
        ))?;
    }
    Ok(())
}

pub async fn revoke(config: &Config, name: &str) -> anyhow::Result<()> {
    let offline = Offline::open(config).await?;
    let done = crate::modules::revoke(
        &offline.writer,
        name,
        crate::identity::officers::operator(&operator_name()),
    )
    .await;
    offline.close().await;
    if !done? {
        anyhow::bail!("no active module named {name}");
    }
    super::say(&format!(
        "module {name}: disabled (API key, client authentication and its access tokens refused)"
    ))
}
