//! Audit events and their canonical byte encoding.

use std::fmt;

/// Who acted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActorKind {
    /// Jaga itself (background tasks).
    System,
    /// Someone at the command line of the server.
    Operator,
    Citizen,
    Officer,
    /// A service module (machine client).
    Module,
    /// A caller that has not signed in.
    Anonymous,
}

impl ActorKind {
    pub const ALL: [ActorKind; 6] = [
        Self::System,
        Self::Operator,
        Self::Citizen,
        Self::Officer,
        Self::Module,
        Self::Anonymous,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::System => "system",
            Self::Operator => "operator",
            Self::Citizen => "citizen",
            Self::Officer => "officer",
            Self::Module => "module",
            Self::Anonymous => "anonymous",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// How the action ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Success,
    /// Refused by a rule (authorization, policy, rate limit).
    Denied,
    /// Attempted and failed (bad input, bad signature, internal error).
    Failure,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Denied => "denied",
            Self::Failure => "failure",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Success, Self::Denied, Self::Failure]
            .into_iter()
            .find(|o| o.as_str() == s)
    }
}

/// Who acted: a kind and a pseudonymous id (never a NIK or a name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub kind: ActorKind,
    pub id: String,
}

impl Actor {
    pub fn new(kind: ActorKind, id: impl Into<String>) -> Self {
        Self { kind, id: id.into() }
    }

    pub fn system() -> Self {
        Self::new(ActorKind::System, "jaga")
    }
}

/// What was acted on: a kind, a pseudonymous id and field names, never values.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Target {
    pub kind: String,
    pub id: Option<String>,
    pub fields: Vec<String>,
}

impl Target {
    pub fn new(kind: impl Into<String>, id: Option<String>) -> Self {
        Self {
            kind: kind.into(),
            id,
            fields: Vec::new(),
        }
    }

    pub fn with_fields(mut self, fields: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.fields = fields.into_iter().map(Into::into).collect();
        self
    }
}

/// One event as a caller hands it to [`super::record`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub actor: Actor,
    /// Dotted lower-case name, e.g. `passkey.register`.
    pub action: String,
    pub target: Target,
    pub purpose: Option<String>,
    pub outcome: Outcome,
    /// A short machine-readable reason (never personal data).
    pub reason: Option<String>,
    pub request_id: Option<String>,
    /// Client IP address as Jaga saw it.
    pub source: Option<String>,
    /// The ids of the policies that decided (sorted, no repeats); empty
    /// when no policy was consulted.
    pub policies: Vec<String>,
}

impl Event {
    pub fn new(actor: Actor, action: impl Into<String>, target: Target, outcome: Outcome) -> Self {
        Self {
            actor,
            action: action.into(),
            target,
            purpose: None,
            outcome,
            reason: None,
            request_id: None,
            source: None,
            policies: Vec::new(),
        }
    }

    /// Names the policies that decided.
    pub fn policies(mut self, ids: impl IntoIterator<Item = impl Into<String>>) -> Self {
        let mut ids: Vec<String> = ids.into_iter().map(Into::into).collect();
        ids.sort_unstable();
        ids.dedup();
        self.policies = ids;
        self
    }

    pub fn reason(mut self, reason: impl Into<String>) -> Self {
        self.reason = Some(reason.into());
        self
    }

    pub fn purpose(mut self, purpose: impl Into<String>) -> Self {
        self.purpose = Some(purpose.into());
        self
    }

    pub fn request(mut self, request_id: Option<String>, source: Option<String>) -> Self {
        self.request_id = request_id;
        self.source = source;
        self
    }

    /// Names (not values) must be short identifiers, so that no free text
    /// (and so no personal data) can slip into them.
    pub fn check(&self) -> Result<(), InvalidEvent> {
        ident("action", &self.action)?;
        ident("target.kind", &self.target.kind)?;
        for f in &self.target.fields {
            ident("target.fields", f)?;
        }
        if let Some(p) = &self.purpose {
            ident("purpose", p)?;
        }
        if let Some(r) = &self.reason {
            ident("reason", r)?;
        }
        for p in &self.policies {
            ident("policies", p)?;
        }
        token("actor.id", &self.actor.id)?;
        if let Some(id) = &self.target.id {
            token("target.id", id)?;
        }
        for (name, v) in [("request_id", &self.request_id), ("source", &self.source)] {
            if let Some(v) = v {
                token(name, v)?;
            }
        }
        Ok(())
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("audit event field {0} is not a valid identifier")]
pub struct InvalidEvent(pub &'static str);

fn ident(name: &'static str, v: &str) -> Result<(), InvalidEvent> {
    let ok = !v.is_empty()
        && v.len() <= 100
        && v.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b));
    ok.then_some(()).ok_or(InvalidEvent(name))
}

fn token(name: &'static str, v: &str) -> Result<(), InvalidEvent> {
    let ok = !v.is_empty() && v.len() <= 200 && v.bytes().all(|b| b.is_ascii_graphic());
    ok.then_some(()).ok_or(InvalidEvent(name))
}

/// An event with its place in the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    /// Sequence number, 0-based; also the event's leaf index in the tree.
    pub seq: u64,
    /// UTC time in microseconds since the Unix epoch.
    pub time_us: i64,
    pub event: Event,
}

impl Recorded {
    /// Canonical encoding. Stable forever; a new layout gets a new version
    /// byte. Version 1 is written for events that name no policy, version 2
    /// (the same fields, then the policies) for those that do, so every
    /// event recorded before policies existed keeps its bytes.
    ///
    /// ```text
    /// u8      0x01 or 0x02              format version
    /// u64     seq                       big-endian
    /// i64     time_us                   big-endian, microseconds since 1970-01-01T00:00:00Z
    /// str     actor.kind                one of system, operator, citizen, officer, module, anonymous
    /// str     actor.id
    /// str     action
    /// str     target.kind
    /// opt     target.id
    /// u32     number of target fields, big-endian, then each as str
    /// opt     purpose
    /// str     outcome                   success, denied or failure
    /// opt     reason
    /// opt     request_id
    /// opt     source
    /// (version 2 only)
    /// u32     number of policies, big-endian, then each id as str
    ///
    /// str = u32 big-endian byte length, then that many UTF-8 bytes
    /// opt = 0x00 when absent, or 0x01 followed by str
    /// ```
    pub fn canonical_bytes(&self) -> Vec<u8> {
        let e = &self.event;
        let mut out = Vec::with_capacity(160);
        out.push(if e.policies.is_empty() { 1u8 } else { 2u8 });
        out.extend_from_slice(&self.seq.to_be_bytes());
        out.extend_from_slice(&self.time_us.to_be_bytes());
        put_str(&mut out, e.actor.kind.as_str());
        put_str(&mut out, &e.actor.id);
        put_str(&mut out, &e.action);
        put_str(&mut out, &e.target.kind);
        put_opt(&mut out, e.target.id.as_deref());
        put_len(&mut out, e.target.fields.len());
        for f in &e.target.fields {
            put_str(&mut out, f);
        }
        put_opt(&mut out, e.purpose.as_deref());
        put_str(&mut out, e.outcome.as_str());
        put_opt(&mut out, e.reason.as_deref());
        put_opt(&mut out, e.request_id.as_deref());
        put_opt(&mut out, e.source.as_deref());
        if !e.policies.is_empty() {
            put_len(&mut out, e.policies.len());
            for p in &e.policies {
                put_str(&mut out, p);
            }
        }
        out
    }
}

fn put_len(out: &mut Vec<u8>, len: usize) {
    // Lengths are bounded by Event::check (at most a few hundred bytes).
    let len = u32::try_from(len).unwrap_or(u32::MAX);
    out.extend_from_slice(&len.to_be_bytes());
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    put_len(out, s.len());
    out.extend_from_slice(s.as_bytes());
}

fn put_opt(out: &mut Vec<u8>, s: Option<&str>) {
    match s {
        None => out.push(0),
        Some(s) => {
            out.push(1);
            put_str(out, s);
        }
    }
}

impl fmt::Display for Recorded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{} {} {}", self.seq, self.event.action, self.event.outcome.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Recorded {
        Recorded {
            seq: 5,
            time_us: 1_700_000_000_000_000,
            event: Event::new(
                Actor::new(ActorKind::Officer, "ofc_1"),
                "vault.read",
                Target::new("citizen", Some("ctz_9".into())).with_fields(["nik", "name"]),
                Outcome::Success,
            )
            .purpose("permit.review")
            .request(Some("req1".into()), Some("10.0.0.1".into())),
        }
    }

    /// The layout written out by hand from the specification above.
    #[test]
    fn encoding_follows_the_specification() {
        fn s(out: &mut Vec<u8>, v: &str) {
            out.extend_from_slice(&(v.len() as u32).to_be_bytes());
            out.extend_from_slice(v.as_bytes());
        }
        let mut e = vec![1u8];
        e.extend_from_slice(&5u64.to_be_bytes());
        e.extend_from_slice(&1_700_000_000_000_000i64.to_be_bytes());
        for v in ["officer", "ofc_1", "vault.read", "citizen"] {
            s(&mut e, v);
        }
        e.push(1);
        s(&mut e, "ctz_9");
        e.extend_from_slice(&2u32.to_be_bytes());
        s(&mut e, "nik");
        s(&mut e, "name");
        e.push(1);
        s(&mut e, "permit.review");
        s(&mut e, "success");
        e.push(0);
        e.push(1);
        s(&mut e, "req1");
        e.push(1);
        s(&mut e, "10.0.0.1");
        assert_eq!(sample().canonical_bytes(), e);
    }

    /// Pinned: a change here would break every existing log.
    #[test]
    fn encoding_is_stable() {
        let digest = ring::digest::digest(&ring::digest::SHA256, &sample().canonical_bytes());
        assert_eq!(
            hex::encode(digest.as_ref()),
            "db4633cf0598a093bd419b32b9147f93b368357d4ef496cb7c8898980a61d864"
        );
    }

    /// Version 2: version 1's fields, then the policies that decided.
    #[test]
    fn policies_make_version_two_and_leave_version_one_alone() {
        let plain = sample().canonical_bytes();
        let mut with = sample();
        with.event = with.event.policies(["module-own-personal-data", "a-first"]);
        let bytes = with.canonical_bytes();
        assert_eq!(bytes.first(), Some(&2u8));
        let mut expected = plain.clone();
        expected[0] = 2;
        expected.extend_from_slice(&2u32.to_be_bytes());
        for id in ["a-first", "module-own-personal-data"] {
            expected.extend_from_slice(&(id.len() as u32).to_be_bytes());
            expected.extend_from_slice(id.as_bytes());
        }
        assert_eq!(bytes, expected);
        assert_eq!(plain.first(), Some(&1u8));
    }

    #[test]
    fn absent_and_empty_are_distinct() {
        let mut a = sample();
        a.event.reason = None;
        let mut b = sample();
        b.event.reason = Some(String::new());
        assert_ne!(a.canonical_bytes(), b.canonical_bytes());
    }

    #[test]
    fn field_boundaries_cannot_shift() {
        let mut a = sample();
        a.event.target.fields = vec!["ab".into(), "c".into()];
        let mut b = sample();
        b.event.target.fields = vec!["a".into(), "bc".into()];
        assert_ne!(a.canonical_bytes(), b.canonical_bytes());
    }

    #[test]
    fn free_text_is_refused_in_names() {
        let mut e = sample().event;
        e.reason = Some("NIK 3171012345670001 mismatch".into());
        assert_eq!(e.check(), Err(InvalidEvent("reason")));
        assert!(sample().event.check().is_ok());
    }
}
