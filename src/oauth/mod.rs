//! Jaga as an OAuth 2.0 authorization server and OpenID provider for the
//! service modules, following the FAPI 2.0 Security Profile.
//!
//! Machine clients: modules authenticate with `private_key_jwt` (or, where
//! an operator allowed it for one client, `client_secret_basic`) and get
//! short-lived JWT access tokens (RFC 9068) bound to a DPoP key (RFC 9449),
//! for the module API. Introspection (RFC 7662) and revocation (RFC 7009)
//! complete it.
//!
//! Signing people in: a module pushes its authorization request (RFC 9126),
//! the person signs in with their passkey (or is already signed in) and
//! decides on the consent screen, the module exchanges the code (PKCE S256,
//! bound to its DPoP key) for an ID token with a pairwise `sub`, an access
//! token for userinfo and a refresh token rotated on every use.

pub mod access;
pub mod authorize;
pub mod client;
pub mod code;
pub mod dpop;
pub mod error;
pub mod fetch;
pub mod grant;
pub mod id_token;
pub mod jwk;
pub mod jws;
pub mod logout;
pub mod mtls;
pub mod nonce;
pub mod par;
pub mod registry;
pub mod replay;
pub mod userinfo;

use std::sync::Arc;

/// Default access token lifetime (FAPI deployments keep them short).
pub const ACCESS_TOKEN_SECS: i64 = 300;

/// Who Jaga is as an issuer, and the resources it issues tokens for.
#[derive(Debug, Clone)]
pub struct Issuer {
    /// The issuer identifier: Jaga's public origin, no trailing slash.
    pub url: String,
    pub access_token_secs: i64,
}

impl Issuer {
    pub fn new(url: &str, access_token_secs: i64) -> Issuer {
        Issuer {
            url: url.trim_end_matches('/').to_owned(),
            access_token_secs,
        }
    }

    /// The audience of tokens for the module API.
    pub fn module_api(&self) -> String {
        format!("{}/api", self.url)
    }

    /// The audience of the access tokens a person's sign-in gives a module:
    /// the userinfo endpoint (the module API takes only its own tokens).
    pub fn userinfo(&self) -> String {
        self.endpoint(USERINFO_PATH)
    }

    pub fn endpoint(&self, path: &str) -> String {
        format!("{}{path}", self.url)
    }
}

/// What the OAuth endpoints need.
#[derive(Debug, Clone)]
pub struct Deps {
    pub db: crate::store::Db,
    pub writer: crate::store::Writer,
    pub keys: Arc<crate::keys::KeyRing>,
    pub policies: crate::policy::Policies,
    pub issuer: Issuer,
    pub replay: Arc<replay::Replay>,
    pub verified: Arc<access::Verified>,
    /// The absolute lifetime of a browser session: no grant outlives it.
    pub session_secs: i64,
    /// The JWKS of modules registered with a jwks_uri, as fetched.
    pub remote_keys: Arc<fetch::RemoteKeys>,
}

impl Deps {
    /// A DPoP nonce for `now`.
    pub fn nonce(&self, now: i64) -> String {
        nonce::current(&self.keys.index, now)
    }

    /// The scopes a module may be given: `collections` (defining its
    /// collections) and each catalog purpose that names it.
    pub fn scopes_for(&self, module: &str) -> Vec<String> {
        let snapshot = self.policies.current();
        std::iter::once(COLLECTIONS_SCOPE.to_owned())
            .chain(
                snapshot
                    .catalog
                    .purposes()
                    .filter(|p| p.allows_module(module))
                    .map(|p| p.id.clone()),
            )
            .collect()
    }

    /// The scopes a module may ask a person for: `openid` and, for a
    /// module that signs citizens in, each catalog purpose naming it.
    pub fn sign_in_scopes(&self, client: &client::Client) -> Vec<String> {
        let mut scopes = vec![OPENID_SCOPE.to_owned()];
        if client.row.audience == "citizen" {
            let snapshot = self.policies.current();
            scopes.extend(
                snapshot
                    .catalog
                    .purposes()
                    .filter(|p| p.allows_module(client.id()))
                    .map(|p| p.id.clone()),
            );
        }
        scopes
    }
}

/// The scope that lets a module define and describe its collections.
pub const COLLECTIONS_SCOPE: &str = "collections";
/// The scope of an OpenID Connect sign-in.
pub const OPENID_SCOPE: &str = "openid";
pub const USERINFO_PATH: &str = "/oauth/userinfo";

pub fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// Forgets revocations of access tokens that have expired anyway, and
/// pushed requests, codes, refresh tokens and grants past their end.
pub async fn purge_revoked(writer: &crate::store::Writer, now: i64) -> Result<u64, crate::store::StoreError> {
    writer
        .write::<u64, crate::store::StoreError, _>(move |tx| {
            Box::pin(async move {
                let revoked = crate::store::clients::purge_revoked(tx, now).await?;
                Ok(revoked + crate::store::oauth_flow::purge(tx, now).await?)
            })
        })
        .await
}
