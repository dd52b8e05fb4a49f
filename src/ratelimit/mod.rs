//! Keyed rate limits (GCRA, `governor`) per client address and per account,
//! on the ceremonies and codes an attacker would hammer. Buckets refill on
//! their own: nobody can lock a citizen out for good.

use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::{Duration, Instant};

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

const ALL: [Policy; 10] = [
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
            audited: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one request from the bucket of `key` under `policy` (as configured).
    pub fn check(&self, policy: Policy, key: &Key) -> Decision {
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
                let wait = not_until.wait_time_from(self.clock.now()).as_secs().max(1);
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
    pub fn fail(&self, policy: Policy, key: &Key) -> Decision {
        self.check(policy, key)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_then_refusal_with_retry_after() {
        let limits = Limits::default();
        let key = Key::Ip("192.0.2.1".parse().unwrap());
        for i in 0..CODE_IP.burst {
            let d = limits.check(CODE_IP, &key);
            assert!(d.allowed(), "request {i}");
            assert_eq!(d.remaining, CODE_IP.burst - i - 1);
        }
        let refused = limits.check(CODE_IP, &key);
        assert!(!refused.allowed());
        assert!(refused.retry_after >= 1 && refused.retry_after <= 30, "{refused:?}");
        assert_eq!(refused.policy_header(), "\"code-ip\";q=10;w=300");
        // Another address is not affected.
        assert!(limits.check(CODE_IP, &Key::Ip("192.0.2.2".parse().unwrap())).allowed());
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
