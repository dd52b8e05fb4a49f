//! One-time identifiers (`jti` of client assertions and DPoP proofs): each
//! may be used once until it expires. With Redis (`ratelimit.store`), every
//! instance shares the memory (`SET NX PX`); otherwise each instance keeps
//! its own, which is exact for one instance.

use std::collections::{BTreeMap, HashSet};
use std::sync::Mutex;

use redis::aio::ConnectionManager;

/// Identifiers seen, each until its expiry: a set to look them up, and the
/// same ids by expiry second, so that forgetting expired ones costs only
/// what expired (never a scan of everything held).
#[derive(Debug, Default)]
pub struct Seen {
    ids: HashSet<[u8; 16]>,
    by_expiry: BTreeMap<i64, Vec<[u8; 16]>>,
}

impl Seen {
    fn forget_expired(&mut self, now: i64) {
        while let Some(entry) = self.by_expiry.first_entry() {
            if *entry.key() >= now {
                break;
            }
            for id in entry.remove() {
                self.ids.remove(&id);
            }
        }
    }

    /// True if `id` was not held; it is held until `expires_at` from now on.
    fn insert(&mut self, id: [u8; 16], expires_at: i64, now: i64) -> bool {
        self.forget_expired(now);
        if !self.ids.insert(id) {
            return false;
        }
        self.by_expiry.entry(expires_at).or_default().push(id);
        true
    }

    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }
}

fn short_hash(id: &str) -> [u8; 16] {
    let digest = crate::ids::sha256(id.as_bytes());
    let mut out = [0u8; 16];
    out.copy_from_slice(digest.get(..16).unwrap_or(&[0; 16]));
    out
}

pub enum Replay {
    Memory(Mutex<Seen>),
    Redis { conn: ConnectionManager, namespace: String },
}

impl std::fmt::Debug for Replay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Replay::Memory(_) => "Replay::Memory",
            Replay::Redis { .. } => "Replay::Redis",
        })
    }
}

impl Replay {
    pub fn memory() -> Replay {
        Replay::Memory(Mutex::new(Seen::default()))
    }

    pub fn redis(url: &str, namespace: &str) -> Result<Replay, String> {
        let client = redis::Client::open(url).map_err(|e| e.to_string())?;
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(std::time::Duration::from_millis(250)))
            .set_response_timeout(Some(std::time::Duration::from_millis(250)))
            .set_number_of_retries(2);
        let conn = ConnectionManager::new_lazy_with_config(client, config).map_err(|e| e.to_string())?;
        Ok(Replay::Redis {
            conn,
            namespace: namespace.to_owned(),
        })
    }

    /// True the first time `id` is seen before `expires_at` (unix seconds);
    /// false on any later use. An unreachable Redis is an error: a replay
    /// check that cannot be made refuses (fails closed).
    pub async fn first_use(&self, id: &str, expires_at: i64) -> Result<bool, String> {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        match self {
            Replay::Memory(seen) => {
                let mut seen = seen.lock().map_err(|_| "replay memory poisoned".to_owned())?;
                Ok(seen.insert(short_hash(id), expires_at, now))
            }
            Replay::Redis { conn, namespace } => {
                let ttl_ms = (expires_at - now).clamp(1, 3600) * 1000;
                let key = format!(
                    "jaga:{namespace}:jti:{}",
                    hex::encode(crate::ids::sha256(id.as_bytes()))
                );
                let set: Option<String> = redis::cmd("SET")
                    .arg(&key)
                    .arg(1)
                    .arg("NX")
                    .arg("PX")
                    .arg(ttl_ms)
                    .query_async(&mut conn.clone())
                    .await
                    .map_err(|e| e.to_string())?;
                Ok(set.is_some())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Seen;

    #[test]
    fn an_id_is_refused_until_it_expires_and_expired_ones_are_forgotten() {
        let mut seen = Seen::default();
        assert!(seen.insert([1; 16], 110, 100));
        assert!(!seen.insert([1; 16], 110, 105));
        assert!(seen.insert([2; 16], 200, 105));
        assert_eq!(seen.len(), 2);
        // Past 110 the first is forgotten (and may be used again), the second stays.
        assert!(seen.insert([3; 16], 300, 111));
        assert_eq!(seen.len(), 2);
        assert!(seen.insert([1; 16], 400, 112));
        assert!(!seen.insert([2; 16], 400, 150));
    }
}
