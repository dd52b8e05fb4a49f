//! Buckets shared by every instance, in Redis: the same GCRA as the local
//! buckets, evaluated atomically by one script on the Redis server (one
//! round trip, `EVALSHA`), on the Redis server's clock, so a client gets
//! the same budget however many instances it spreads its requests over.
//!
//! A bucket is one key holding its theoretical arrival time (ms), expiring
//! when the bucket is full again: Redis keeps only buckets in use.

use std::time::Duration;

use redis::aio::ConnectionManager;

use super::{Key, Policy};

/// GCRA on the server's clock. KEYS[1]: the bucket. ARGV[1]: emission
/// interval T (ms, window / burst). ARGV[2]: burst. Returns {allowed,
/// retry_after_ms, full_in_ms, remaining}.
const GCRA: &str = r"
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) * 1000 + math.floor(tonumber(now_parts[2]) / 1000)
local t = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local tau = t * burst
local tat = tonumber(redis.call('GET', KEYS[1])) or now
if tat < now then tat = now end
local new_tat = tat + t
if new_tat - now > tau then
  return {0, new_tat - tau - now, tat - now, 0}
end
redis.call('SET', KEYS[1], new_tat, 'PX', new_tat - now)
return {1, 0, new_tat - now, math.floor((tau - (new_tat - now)) / t)}
";

/// How long a check may wait for Redis before the local buckets answer.
const TIMEOUT: Duration = Duration::from_millis(250);

/// What the Redis script answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Answer {
    pub allowed: bool,
    pub retry_after_ms: u64,
    pub full_in_ms: u64,
    pub remaining: u32,
}

pub struct SharedBuckets {
    conn: ConnectionManager,
    script: redis::Script,
    /// Keeps deployments that share one Redis apart (the audit origin).
    namespace: String,
}

impl std::fmt::Debug for SharedBuckets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SharedBuckets")
    }
}

impl SharedBuckets {
    /// A client for `url` that connects in the background (and again after
    /// a failure); an unusable URL is an error.
    pub fn new(url: &str, namespace: &str) -> Result<Self, String> {
        let client = redis::Client::open(url).map_err(|e| e.to_string())?;
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(TIMEOUT))
            .set_response_timeout(Some(TIMEOUT))
            .set_number_of_retries(2)
            .set_max_delay(Duration::from_millis(500));
        let conn = ConnectionManager::new_lazy_with_config(client, config).map_err(|e| e.to_string())?;
        Ok(Self {
            conn,
            script: redis::Script::new(GCRA),
            namespace: namespace.to_owned(),
        })
    }

    /// Takes one request from the bucket of `key` under `policy`.
    pub async fn take(&self, policy: Policy, key: &Key) -> Result<Answer, String> {
        let interval_ms = (policy.window.as_millis() / u128::from(policy.burst.max(1))).max(1);
        let mut conn = self.conn.clone();
        let mut call = self.script.prepare_invoke();
        call.key(bucket(&self.namespace, policy, key))
            .arg(u64::try_from(interval_ms).unwrap_or(u64::MAX))
            .arg(policy.burst);
        let answered = tokio::time::timeout(TIMEOUT, call.invoke_async::<(i64, i64, i64, i64)>(&mut conn)).await;
        let (allowed, retry, full, remaining) = match answered {
            Ok(Ok(v)) => v,
            Ok(Err(e)) => return Err(e.to_string()),
            Err(_) => return Err(format!("no answer within {} ms", TIMEOUT.as_millis())),
        };
        Ok(Answer {
            allowed: allowed == 1,
            retry_after_ms: u64::try_from(retry).unwrap_or(0),
            full_in_ms: u64::try_from(full).unwrap_or(0),
            remaining: u32::try_from(remaining).unwrap_or(0),
        })
    }
}

/// `jaga:<namespace>:rl:<policy>:<key>`; account identifiers (already
/// digests or blind indexes) in hex.
fn bucket(namespace: &str, policy: Policy, key: &Key) -> String {
    match key {
        Key::Ip(ip) => format!("jaga:{namespace}:rl:{}:ip:{ip}", policy.name),
        Key::Account(id) => format!("jaga:{namespace}:rl:{}:acct:{}", policy.name, hex::encode(id)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_names_separate_policies_and_kinds() {
        let ip = Key::Ip("192.0.2.1".parse().unwrap());
        assert_eq!(
            bucket("d", super::super::CODE_IP, &ip),
            "jaga:d:rl:code-ip:ip:192.0.2.1"
        );
        assert_eq!(
            bucket("d", super::super::SIGN_IN_ACCOUNT, &Key::Account(vec![0xab, 1])),
            "jaga:d:rl:signin-account:acct:ab01"
        );
    }
}
