//! One-time identifiers (`jti` of client assertions and DPoP proofs): each
//! may be used once until it expires. With Redis (`ratelimit.store`), every
//! instance shares the memory (`SET NX PX`); otherwise each instance keeps
//! its own, which is exact for one instance.

use std::collections::HashMap;
use std::sync::Mutex;

use redis::aio::ConnectionManager;

/// Entries kept in memory before expired ones are swept.
const SWEEP_AT: usize = 100_000;

pub enum Replay {
    Memory(Mutex<HashMap<String, i64>>),
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
        Replay::Memory(Mutex::new(HashMap::new()))
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
                if seen.len() >= SWEEP_AT {
                    seen.retain(|_, exp| *exp >= now);
                }
                match seen.get(id) {
                    Some(exp) if *exp >= now => Ok(false),
                    _ => {
                        seen.insert(id.to_owned(), expires_at);
                        Ok(true)
                    }
                }
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
