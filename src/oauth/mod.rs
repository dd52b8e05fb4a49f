//! Jaga as an OAuth 2.0 authorization server and OpenID provider for the
//! service modules, following the FAPI 2.0 Security Profile.
//!
//! This part serves machine clients: modules authenticate with
//! `private_key_jwt` (or, where an operator allowed it for one client,
//! `client_secret_basic`) and get short-lived JWT access tokens (RFC 9068)
//! bound to a DPoP key (RFC 9449), for the module API. Introspection
//! (RFC 7662) and revocation (RFC 7009) complete it.

pub mod access;
pub mod client;
pub mod dpop;
pub mod error;
pub mod grant;
pub mod jwk;
pub mod jws;
pub mod nonce;
pub mod registry;
pub mod replay;

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
}

/// The scope that lets a module define and describe its collections.
pub const COLLECTIONS_SCOPE: &str = "collections";

pub fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// Forgets revocations of access tokens that have expired anyway.
pub async fn purge_revoked(writer: &crate::store::Writer, now: i64) -> Result<u64, crate::store::StoreError> {
    writer
        .write::<u64, crate::store::StoreError, _>(move |tx| Box::pin(crate::store::clients::purge_revoked(tx, now)))
        .await
}
