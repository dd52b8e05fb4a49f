//! Who is calling: request id, client address and user agent, as the
//! audit context of an action.

use std::net::IpAddr;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};

use super::request_id::RequestId;
use crate::audit::Context;
use crate::config::Cidr;

/// The client's address: the peer, or what a trusted proxy says it saw.
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub IpAddr);

/// X-Forwarded-For is believed only when the peer is a trusted proxy; then
/// the right-most address that is not itself a trusted proxy is the client.
/// A forged header from anyone else changes nothing.
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &[Cidr]) -> IpAddr {
    let is_trusted = |ip: IpAddr| trusted.iter().any(|c| c.contains(ip));
    if !is_trusted(peer) {
        return peer;
    }
    let entries: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .collect();
    // Walk from the right: each trusted hop vouches for the one before it.
    // The first address that is not a trusted proxy is the client; an
    // unreadable entry stops the walk at the last hop we could trust.
    let mut client = peer;
    for entry in entries.iter().rev() {
        match entry.trim().parse::<IpAddr>() {
            Ok(ip) if is_trusted(ip) => client = ip,
            Ok(ip) => return ip,
            Err(_) => return client,
        }
    }
    client
}

#[derive(Debug, Clone)]
pub struct Client {
    pub ctx: Context,
    pub user_agent: String,
}

impl<S: Send + Sync> FromRequestParts<S> for Client {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let request_id = parts.extensions.get::<RequestId>().map(|r| r.0.clone());
        let source = parts.extensions.get::<ClientIp>().map(|c| c.0.to_string());
        let user_agent = parts
            .headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .chars()
            .filter(|c| !c.is_control())
            .take(300)
            .collect();
        Ok(Client {
            ctx: Context { request_id, source },
            user_agent,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(xff: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", xff.parse().unwrap());
        h
    }

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let proxy: IpAddr = "10.0.0.5".parse().unwrap();
        let trusted = [Cidr::parse("10.0.0.0/24").unwrap()];
        let h = headers("203.0.113.9, 198.51.100.7");
        assert_eq!(
            client_ip(proxy, &h, &trusted),
            "198.51.100.7".parse::<IpAddr>().unwrap()
        );
        let stranger: IpAddr = "192.0.2.44".parse().unwrap();
        assert_eq!(client_ip(stranger, &h, &trusted), stranger);
        assert_eq!(client_ip(proxy, &h, &[]), proxy);
        assert_eq!(client_ip(proxy, &headers("garbage"), &trusted), proxy);
        // Junk on the left does not hide the client the proxy saw.
        assert_eq!(
            client_ip(proxy, &headers("x, 198.51.100.7"), &trusted),
            "198.51.100.7".parse::<IpAddr>().unwrap()
        );
        // Junk on the right stops at the proxy.
        assert_eq!(client_ip(proxy, &headers("198.51.100.7, x"), &trusted), proxy);
    }
}
