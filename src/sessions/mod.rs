//! Browser sessions: opaque 256-bit random tokens, stored only as SHA-256
//! hashes, with idle and absolute timeouts.

mod permit;
pub mod retention;
pub mod signin;

pub use permit::{OwnData, Recent, SignedIn, authenticate};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use secrecy::{ExposeSecret as _, SecretString};

use crate::account::AccountId;
use crate::config::SessionConfig;
use crate::ids::{self, RandomError};
use crate::store::identity::{self as stored, SessionRow};
use crate::store::{Db, StoreError, Tx, Writer};

/// What sign-in and sessions need.
#[derive(Debug, Clone)]
pub struct Deps {
    pub db: Db,
    pub writer: Writer,
    pub rp: std::sync::Arc<crate::passkeys::RelyingParty>,
    pub limits: std::sync::Arc<crate::ratelimit::Limits>,
    pub sessions: std::sync::Arc<SessionConfig>,
}

/// Cookie names: `__Host-` (Secure, no Domain, Path=/) in production; the
/// plain name in development mode over http://localhost.
pub const COOKIE: &str = "__Host-jaga_session";
pub const DEV_COOKIE: &str = "jaga_session";

/// A session just created: the token goes to the browser once.
#[derive(Debug)]
pub struct Issued {
    pub token: SecretString,
    pub row: SessionRow,
}

/// A session that passed its timeouts.
#[derive(Debug, Clone)]
pub struct Active {
    pub session_id: String,
    pub account_id: AccountId,
    pub csrf_token: String,
    pub credential_id: Option<Vec<u8>>,
    pub created_at: i64,
    pub last_seen_at: i64,
}

/// Creates a session for an account that has just signed in.
pub fn issue(
    account: &AccountId,
    credential_id: Option<Vec<u8>>,
    user_agent: &str,
    ip: &str,
    now: i64,
    config: &SessionConfig,
) -> Result<Issued, RandomError> {
    let token = B64URL.encode(ids::bytes::<32>()?);
    let row = SessionRow {
        token_hash: ids::sha256(token.as_bytes()).to_vec(),
        session_id: format!("ses_{}", ids::base32(&ids::bytes::<10>()?)),
        account_id: account.as_str().to_owned(),
        credential_id,
        csrf_token: B64URL.encode(ids::bytes::<32>()?),
        user_agent: user_agent.chars().take(300).collect(),
        ip: ip.to_owned(),
        created_at: now,
        last_seen_at: now,
        expires_at: now.saturating_add(i64::try_from(config.absolute_timeout.as_secs()).unwrap_or(i64::MAX)),
    };
    Ok(Issued {
        token: SecretString::from(token),
        row,
    })
}

pub async fn store(tx: &mut Tx<'_>, issued: &Issued) -> Result<(), StoreError> {
    stored::insert_session(tx, &issued.row).await
}

/// Whether a stored session is still alive at `now` (absolute and idle timeouts).
fn is_live(row: &SessionRow, now: i64, config: &SessionConfig) -> bool {
    let idle = i64::try_from(config.idle_timeout.as_secs()).unwrap_or(i64::MAX);
    now < row.expires_at && now.saturating_sub(row.last_seen_at) < idle
}

/// The account's sessions that are still alive, oldest first.
pub async fn live_of(db: &Db, account: &str, now: i64, config: &SessionConfig) -> Result<Vec<SessionRow>, StoreError> {
    let rows = stored::sessions_of(db, account).await?;
    Ok(rows.into_iter().filter(|r| is_live(r, now, config)).collect())
}

/// Looks a token up; `None` if unknown, expired (absolute) or idle too long.
pub async fn find(db: &Db, token: &str, now: i64, config: &SessionConfig) -> Result<Option<Active>, StoreError> {
    if token.len() != 43 {
        return Ok(None);
    }
    let Some(row) = stored::session_by_hash(db, &ids::sha256(token.as_bytes())).await? else {
        return Ok(None);
    };
    if !is_live(&row, now, config) {
        return Ok(None);
    }
    Ok(Some(Active {
        session_id: row.session_id,
        account_id: AccountId::from_stored(row.account_id),
        csrf_token: row.csrf_token,
        credential_id: row.credential_id,
        created_at: row.created_at,
        last_seen_at: row.last_seen_at,
    }))
}

/// Whether a presented CSRF token matches, in constant time.
pub fn csrf_matches(active: &Active, presented: &str) -> bool {
    use subtle::ConstantTimeEq as _;
    bool::from(active.csrf_token.as_bytes().ct_eq(presented.as_bytes()))
}

/// The token of a cookie header value, if present.
pub fn token_from_cookies<'a>(cookie_header: &'a str, name: &str) -> Option<&'a str> {
    cookie_header
        .split(';')
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// A short, readable device description from a user agent, for the
/// session list ("Chrome on Android").
pub fn device_name(user_agent: &str) -> String {
    let browser = [
        ("Edg/", "Edge"),
        ("OPR/", "Opera"),
        ("SamsungBrowser", "Samsung Internet"),
        ("Firefox/", "Firefox"),
        ("Chrome/", "Chrome"),
        ("Safari/", "Safari"),
    ]
    .iter()
    .find(|(needle, _)| user_agent.contains(needle))
    .map_or("Browser", |(_, name)| name);
    let system = [
        ("Android", "Android"),
        ("iPhone", "iPhone"),
        ("iPad", "iPad"),
        ("Windows", "Windows"),
        ("Mac OS X", "macOS"),
        ("CrOS", "ChromeOS"),
        ("Linux", "Linux"),
    ]
    .iter()
    .find(|(needle, _)| user_agent.contains(needle))
    .map_or("unknown system", |(_, name)| name);
    format!("{browser} on {system}")
}

pub fn expose(token: &SecretString) -> &str {
    token.expose_secret()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn cfg() -> SessionConfig {
        SessionConfig {
            idle_timeout: Duration::from_secs(1800),
            absolute_timeout: Duration::from_secs(43200),
            reauth_window: Duration::from_secs(600),
            purge_every: Duration::from_secs(600),
        }
    }

    #[test]
    fn tokens_are_random_256_bit_and_stored_hashed() {
        let id = AccountId::from_stored("a".into());
        let a = issue(&id, None, "ua", "127.0.0.1", 0, &cfg()).unwrap();
        let b = issue(&id, None, "ua", "127.0.0.1", 0, &cfg()).unwrap();
        assert_eq!(B64URL.decode(expose(&a.token)).unwrap().len(), 32);
        assert_ne!(expose(&a.token), expose(&b.token));
        assert_eq!(a.row.token_hash, ids::sha256(expose(&a.token).as_bytes()).to_vec());
        assert!(!format!("{a:?}").contains(expose(&a.token)));
        assert_eq!(a.row.expires_at, 43200);
    }

    #[test]
    fn cookie_parsing_finds_only_the_named_cookie() {
        assert_eq!(
            token_from_cookies("a=1; __Host-jaga_session=tok; b=2", COOKIE),
            Some("tok")
        );
        assert_eq!(token_from_cookies("x__Host-jaga_session=tok", COOKIE), None);
    }
}
