//! Keyed rate limits (GCRA) per client address and per account, on the
//! ceremonies and codes an attacker would hammer. Buckets refill on their
//! own: nobody can lock a citizen out for good.
//!
//! Buckets live in this process (`governor`), or in Redis shared by every
//! instance (`ratelimit.store`, [`shared`]). When Redis cannot answer, the
//! local buckets do, so nobody is locked out and the limits still hold per
//! instance; the fallback is logged once per outage, counted in
//! `/metrics`, and named in the readiness log.

mod shared;

use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

pub use shared::SharedBuckets;

use governor::clock::{Clock as _, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};

/// A published policy: `burst` requests per `window`, refilled evenly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Policy {
    pub name: &'static str,
    pub burst: u32,
    pub window: Duration,
}

/// Per client address.
pub const SIGN_IN_IP: Policy = Policy {
    name: "signin-ip",
    burst: 30,
    window: Duration::from_secs(60),
};
pub const ENROL_IP: Policy = Policy {
    name: "enrol-ip",
    burst: 20,
    window: Duration::from_secs(300),
};
pub const CODE_IP: Policy = Policy {
    name: "code-ip",
    burst: 10,
    window: Duration::from_secs(300),
};
/// Officer routes at the counter (lookups, verification): their own
/// bucket, so anonymous traffic from the same office network cannot use up
/// the officers' budget.
pub const COUNTER_IP: Policy = Policy {
    name: "counter-ip",
    burst: 120,
    window: Duration::from_secs(60),
};
/// A signed-in person's own changes and reads of their data (each is a
/// stored change or an audit event).
pub const ACCOUNT_IP: Policy = Policy {
    name: "account-ip",
    burst: 120,
    window: Duration::from_secs(60),
};
pub const RECOVERY_IP: Policy = Policy {
    name: "recovery-ip",
    burst: 10,
    window: Duration::from_secs(300),
};
/// Failed attempts per account identifier (a presented credential id, or
/// the blind index of a NIK). Only failures take from these buckets, and a
/// correct passkey or code is never refused by them: knowing someone's
/// credential id or NIK is not enough to lock them out. A failure that
/// finds its bucket empty is answered 429 instead of 401, whether the
/// identifier is registered or not.
pub const SIGN_IN_ACCOUNT: Policy = Policy {
    name: "signin-account",
    burst: 10,
    window: Duration::from_secs(60),
};
pub const RECOVERY_ACCOUNT: Policy = Policy {
    name: "recovery-account",
    burst: 5,
    window: Duration::from_secs(900),
};
pub const VERIFY_ACCOUNT: Policy = Policy {
    name: "verify-account",
    burst: 5,
    window: Duration::from_secs(900),
};
/// Verification codes a signed-in citizen may ask for (each is a stored
/// row and an audit event).
pub const VERIFICATION_CODE_ACCOUNT: Policy = Policy {
    name: "verification-code-account",
    burst: 5,
    window: Duration::from_secs(600),
};

/// Refused requests at the OAuth endpoints, per client address. Only
/// refusals take from it: a client that authenticates correctly is never
/// slowed by it; one that keeps failing gets 429 (and one audit event a
/// minute) instead of an audit event per attempt.
pub const OAUTH_FAILURE_IP: Policy = Policy {
    name: "oauth-failure-ip",
    burst: 60,
    window: Duration::from_secs(60),
};

const ALL: [Policy; 11] = [
    SIGN_IN_IP,
    ENROL_IP,
    CODE_IP,
    COUNTER_IP,
    ACCOUNT_IP,
    RECOVERY_IP,
    SIGN_IN_ACCOUNT,
    RECOVERY_ACCOUNT,
    VERIFY_ACCOUNT,
    VERIFICATION_CODE_ACCOUNT,
    OAUTH_FAILURE_IP,
];

/// What a limit key is made of.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Key {
    Ip(IpAddr),
    Account(Vec<u8>),
}

impl Key {
    /// IPv6 clients are keyed by their /64: one subscriber holds a whole /64.
    pub fn for_ip(ip: IpAddr) -> Key {
        match ip {
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => Key::Ip(IpAddr::V4(v4)),
                None => {
                    let prefix = u128::from(v6) & !((1u128 << 64) - 1);
                    Key::Ip(IpAddr::V6(std::net::Ipv6Addr::from(prefix)))
                }
            },
            v4 => Key::Ip(v4),
        }
    }
}

type Limiter = RateLimiter<Key, DefaultKeyedStateStore<Key>, DefaultClock, StateInformationMiddleware>;

/// The state of a bucket after a request, for the `RateLimit` header.
#[derive(Debug, Clone, Copy)]
pub struct Decision {
    pub policy: Policy,
    pub remaining: u32,
    /// Seconds until the request may be retried (0 when allowed).
    pub retry_after: u64,
    /// Seconds until the bucket is full again.
    pub reset: u64,
}

impl Decision {
    pub fn allowed(&self) -> bool {
        self.retry_after == 0
    }

    /// `RateLimit-Policy` (draft-ietf-httpapi-ratelimit-headers).
    pub fn policy_header(&self) -> String {
        format!(
            "\"{}\";q={};w={}",
            self.policy.name,
            self.policy.burst,
            self.policy.window.as_secs()
        )
    }

    /// `RateLimit`.
    pub fn state_header(&self) -> String {
        format!("\"{}\";r={};t={}", self.policy.name, self.remaining, self.reset)
    }
}

pub struct Limits {
    /// By policy name: the policy in force (default or configured) and its buckets.
    limiters: HashMap<&'static str, (Policy, Limiter)>,
    clock: DefaultClock,
    /// Buckets shared through Redis, if configured.
    shared: Option<SharedBuckets>,
    health: SharedHealth,
    /// When a key's trip was last audited: once a minute per key at most,
    /// so a flood of refused requests cannot flood the audit log.
    audited: Mutex<HashMap<(&'static str, Key), Instant>>,
}

impl std::fmt::Debug for Limits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Limits")
            .field("policies", &self.limiters.len())
            .finish()
    }
}

fn quota(p: Policy) -> Quota {
    let burst = NonZeroU32::new(p.burst).unwrap_or(NonZeroU32::MIN);
    let period = p.window / p.burst.max(1);
    Quota::with_period(period).map_or_else(|| Quota::per_second(burst), |q| q.allow_burst(burst))
}

impl Default for Limits {
    fn default() -> Self {
        Self::new(&[])
    }
}

impl Policy {
    /// The built-in policy called `name`.
    pub fn named(name: &str) -> Option<Policy> {
        ALL.iter().copied().find(|p| p.name == name)
    }
}

impl Limits {
    /// The built-in policies, with `overrides` (name, burst, window) applied.
    pub fn new(overrides: &[(String, u32, Duration)]) -> Self {
        let clock = DefaultClock::default();
        let limiters = ALL
            .iter()
            .map(|p| {
                let policy = overrides
                    .iter()
                    .find(|(name, ..)| name == p.name)
                    .map_or(*p, |(_, burst, window)| Policy {
                        burst: *burst,
                        window: *window,
                        ..*p
                    });
                (
                    p.name,
                    (
                        policy,
                        RateLimiter::dashmap_with_clock(quota(policy), clock.clone())
                            .with_middleware::<StateInformationMiddleware>(),
                    ),
                )
            })
            .collect();
        Self {
            limiters,
            clock,
            shared: None,
            health: SharedHealth::default(),
            audited: Mutex::new(HashMap::new()),
        }
    }

    /// Shares the buckets through Redis (see [`SharedBuckets`]).
    pub fn with_shared(mut self, shared: SharedBuckets) -> Self {
        self.shared = Some(shared);
        self
    }

    /// Takes one request from the bucket of `key` under `policy` (as
    /// configured): in Redis if shared and reachable, else locally.
    pub async fn check(&self, policy: Policy, key: &Key) -> Decision {
        let policy = self.limiters.get(policy.name).map_or(policy, |(p, _)| *p);
        if let Some(shared) = &self.shared
            && self.health.worth_trying()
        {
            match shared.take(policy, key).await {
                Ok(answer) => {
                    self.health.answered();
                    return Decision::from_shared(policy, answer);
                }
                Err(e) => self.health.failed(&e),
            }
        }
        self.check_local(policy, key)
    }

    /// Whether shared buckets are configured but out of reach (the local
    /// buckets answer meanwhile).
    pub fn degraded(&self) -> bool {
        self.shared.is_some() && self.health.down.load(Ordering::Relaxed)
    }

    /// Decisions answered locally because the shared store failed.
    pub fn fallbacks(&self) -> u64 {
        self.health.fallbacks.load(Ordering::Relaxed)
    }

    fn check_local(&self, policy: Policy, key: &Key) -> Decision {
        let Some((policy, limiter)) = self.limiters.get(policy.name).map(|(p, l)| (*p, l)) else {
            return Decision {
                policy,
                remaining: policy.burst,
                retry_after: 0,
                reset: 0,
            };
        };
        let per = policy.window.as_secs().div_ceil(u64::from(policy.burst.max(1)));
        match limiter.check_key(key) {
            Ok(snapshot) => {
                let remaining = snapshot.remaining_burst_capacity();
                Decision {
                    policy,
                    remaining,
                    retry_after: 0,
                    reset: u64::from(policy.burst - remaining.min(policy.burst)) * per,
                }
            }
            Err(not_until) => {
                // Rounded up: a client that waits exactly this long is let in.
                let wait_ms = not_until.wait_time_from(self.clock.now()).as_millis();
                let wait = u64::try_from(wait_ms.div_ceil(1000)).unwrap_or(u64::MAX).max(1);
                Decision {
                    policy,
                    remaining: 0,
                    retry_after: wait,
                    reset: wait + u64::from(policy.burst.saturating_sub(1)) * per,
                }
            }
        }
    }

    /// Records a failed attempt for `key`: the answer is 429 when the
    /// bucket was already empty. Successes never call this.
    pub async fn fail(&self, policy: Policy, key: &Key) -> Decision {
        self.check(policy, key).await
    }

    /// Whether this trip should be audited now (at most once a minute per key).
    pub fn should_audit(&self, policy: Policy, key: &Key) -> bool {
        let mut seen = match self.audited.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        let now = Instant::now();
        let entry = (policy.name, key.clone());
        match seen.get(&entry) {
            Some(t) if now.duration_since(*t) < Duration::from_secs(60) => false,
            _ => {
                seen.insert(entry, now);
                true
            }
        }
    }

    /// Forgets buckets that are full again; call regularly.
    pub fn clean_up(&self) {
        for (_, limiter) in self.limiters.values() {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
        let mut seen = match self.audited.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        seen.retain(|_, t| t.elapsed() < Duration::from_secs(60));
    }
}

impl Decision {
    fn from_shared(policy: Policy, a: shared::Answer) -> Decision {
        let secs = |ms: u64| ms.div_ceil(1000);
        if a.allowed {
            Decision {
                policy,
                remaining: a.remaining.min(policy.burst),
                retry_after: 0,
                reset: secs(a.full_in_ms),
            }
        } else {
            let wait = secs(a.retry_after_ms).max(1);
            Decision {
                policy,
                remaining: 0,
                retry_after: wait,
                reset: secs(a.full_in_ms).max(wait),
            }
        }
    }
}

/// Whether the shared store answers. After a failure it is left alone for
/// a second (requests are not slowed by a dead store), then tried again.
#[derive(Debug, Default)]
struct SharedHealth {
    down: AtomicBool,
    retry_at: Mutex<Option<Instant>>,
    fallbacks: AtomicU64,
}

const SHARED_RETRY: Duration = Duration::from_secs(1);

impl SharedHealth {
    fn worth_trying(&self) -> bool {
        let retry_at = *self.retry_at.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let trying = retry_at.is_none_or(|t| Instant::now() >= t);
        if !trying {
            self.fallbacks.fetch_add(1, Ordering::Relaxed);
        }
        trying
    }

    fn answered(&self) {
        if self.down.swap(false, Ordering::Relaxed) {
            tracing::info!("the shared rate-limit store answers again; buckets are shared again");
        }
        *self.retry_at.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = None;
    }

    fn failed(&self, error: &str) {
        self.fallbacks.fetch_add(1, Ordering::Relaxed);
        *self.retry_at.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(Instant::now() + SHARED_RETRY);
        if !self.down.swap(true, Ordering::Relaxed) {
            tracing::error!(
                error = %error,
                "the shared rate-limit store does not answer; this instance uses its own buckets until it does"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn burst_then_refusal_with_retry_after() {
        let limits = Limits::default();
        let key = Key::Ip("192.0.2.1".parse().unwrap());
        for i in 0..CODE_IP.burst {
            let d = limits.check(CODE_IP, &key).await;
            assert!(d.allowed(), "request {i}");
            assert_eq!(d.remaining, CODE_IP.burst - i - 1);
        }
        let refused = limits.check(CODE_IP, &key).await;
        assert!(!refused.allowed());
        assert!(refused.retry_after >= 1 && refused.retry_after <= 30, "{refused:?}");
        assert_eq!(refused.policy_header(), "\"code-ip\";q=10;w=300");
        // Another address is not affected.
        assert!(
            limits
                .check(CODE_IP, &Key::Ip("192.0.2.2".parse().unwrap()))
                .await
                .allowed()
        );
    }

    #[tokio::test]
    async fn an_unreachable_store_falls_back_to_local_buckets_and_says_so() {
        // Nothing listens on port 1: every shared check fails at once.
        let limits = Limits::default().with_shared(SharedBuckets::new("redis://127.0.0.1:1/", "test").unwrap());
        let key = Key::Ip("192.0.2.9".parse().unwrap());
        for i in 0..CODE_IP.burst {
            assert!(limits.check(CODE_IP, &key).await.allowed(), "request {i}");
        }
        // The limits still hold (locally), nobody is locked out before that.
        assert!(!limits.check(CODE_IP, &key).await.allowed());
        assert!(limits.degraded());
        assert!(limits.fallbacks() >= u64::from(CODE_IP.burst));
    }

    #[test]
    fn ipv6_clients_share_their_slash_64() {
        let a = Key::for_ip("2001:db8:1:2:aaaa::1".parse().unwrap());
        let b = Key::for_ip("2001:db8:1:2:bbbb::9".parse().unwrap());
        let c = Key::for_ip("2001:db8:1:3::1".parse().unwrap());
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn trips_are_audited_once_a_minute_per_key() {
        let limits = Limits::default();
        let key = Key::Account(vec![1]);
        assert!(limits.should_audit(RECOVERY_ACCOUNT, &key));
        assert!(!limits.should_audit(RECOVERY_ACCOUNT, &key));
        assert!(limits.should_audit(RECOVERY_ACCOUNT, &Key::Account(vec![2])));
    }
}
