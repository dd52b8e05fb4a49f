//! Audit search for security officers: filters over the audit log, newest
//! first, a page at a time. The cursor is the last event of a page (its
//! time and sequence number), so pages never repeat or skip an event that
//! was there when the search began, however many are appended meanwhile.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;

use super::permit::SecurityOfficer;
use crate::audit::{self, ActorKind, AuditError, Context, Event, Outcome, Target};
use crate::store::audit::EventRow;
use crate::store::audit_search::{self as stored, Search};
use crate::store::{Db, Writer};

pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 200;

/// A filter value the search refuses (said to the officer).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct BadQuery(pub String);

fn bad(m: impl Into<String>) -> BadQuery {
    BadQuery(m.into())
}

#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error(transparent)]
    Bad(#[from] BadQuery),
    #[error(transparent)]
    Audit(#[from] AuditError),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

/// The filters as written in a request (all optional text).
#[derive(Debug, Clone, Default)]
pub struct Asked {
    /// RFC 3339 instants.
    pub from: Option<String>,
    pub to: Option<String>,
    pub actor_kind: Option<String>,
    pub actor: Option<String>,
    pub citizen: Option<String>,
    pub action: Option<String>,
    pub purpose: Option<String>,
    pub module: Option<String>,
    pub outcome: Option<String>,
    pub request_id: Option<String>,
    pub cursor: Option<String>,
    pub limit: Option<String>,
}

/// A page of events, and the cursor of the next one if there may be more.
#[derive(Debug, Clone)]
pub struct Page {
    pub events: Vec<EventRow>,
    pub next: Option<String>,
}

pub fn instant(name: &str, text: &str) -> Result<i64, BadQuery> {
    let t = time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .map_err(|_| bad(format!("{name}: an RFC 3339 instant such as 2026-12-01T00:00:00+07:00")))?;
    i64::try_from(t.unix_timestamp_nanos() / 1_000).map_err(|_| bad(format!("{name}: out of range")))
}

/// Identifiers in the log are short and printable; anything else cannot match.
pub fn word(name: &str, text: &str) -> Result<String, BadQuery> {
    if text.is_empty() || text.len() > 128 || text.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(bad(format!("{name}: 1 to 128 characters, without spaces")));
    }
    Ok(text.to_owned())
}

pub fn encode_cursor(row: &EventRow) -> String {
    B64URL.encode(format!("{}:{}", row.time_us, row.seq))
}

fn decode_cursor(text: &str) -> Result<(i64, i64), BadQuery> {
    let refused = || bad("cursor: not one this search gave");
    let raw = B64URL.decode(text).map_err(|_| refused())?;
    let raw = String::from_utf8(raw).map_err(|_| refused())?;
    let (time_us, seq) = raw.split_once(':').ok_or_else(refused)?;
    Ok((
        time_us.parse().map_err(|_| refused())?,
        seq.parse().map_err(|_| refused())?,
    ))
}

impl Asked {
    /// Checks every filter and makes the store's search.
    pub fn to_search(&self) -> Result<Search, BadQuery> {
        let opt = |name: &str, v: &Option<String>| v.as_deref().map(|t| word(name, t)).transpose();
        let actor_kind = match self.actor_kind.as_deref() {
            None => None,
            Some(k) => Some(
                ActorKind::parse(k)
                    .ok_or_else(|| bad("actor_kind: system, operator, citizen, officer, module or anonymous"))?
                    .as_str()
                    .to_owned(),
            ),
        };
        let outcome = match self.outcome.as_deref() {
            None => None,
            Some(o) => Some(
                Outcome::parse(o)
                    .ok_or_else(|| bad("outcome: success, denied or failure"))?
                    .as_str()
                    .to_owned(),
            ),
        };
        let limit = match self.limit.as_deref() {
            None => DEFAULT_LIMIT,
            Some(l) => l
                .parse::<i64>()
                .ok()
                .filter(|n| (1..=MAX_LIMIT).contains(n))
                .ok_or_else(|| bad(format!("limit: 1 to {MAX_LIMIT}")))?,
        };
        let from_us = self.from.as_deref().map(|t| instant("from", t)).transpose()?;
        let to_us = self.to.as_deref().map(|t| instant("to", t)).transpose()?;
        if let (Some(f), Some(t)) = (from_us, to_us)
            && f >= t
        {
            return Err(bad("from must be before to"));
        }
        Ok(Search {
            from_us,
            to_us,
            actor_kind,
            actor_id: opt("actor", &self.actor)?,
            citizen: opt("citizen", &self.citizen)?,
            action: opt("action", &self.action)?,
            purpose: opt("purpose", &self.purpose)?,
            module: opt("module", &self.module)?,
            outcome,
            request_id: opt("request_id", &self.request_id)?,
            before: self.cursor.as_deref().map(decode_cursor).transpose()?,
            limit,
        })
    }

    /// The names of the filters given (what the audit event records).
    fn named(&self) -> Vec<&'static str> {
        [
            ("from", &self.from),
            ("to", &self.to),
            ("actor_kind", &self.actor_kind),
            ("actor", &self.actor),
            ("citizen", &self.citizen),
            ("action", &self.action),
            ("purpose", &self.purpose),
            ("module", &self.module),
            ("outcome", &self.outcome),
            ("request_id", &self.request_id),
            ("cursor", &self.cursor),
        ]
        .into_iter()
        .filter(|(_, v)| v.is_some())
        .map(|(n, _)| n)
        .collect()
    }
}

/// One page of the search, after the search itself is audited (which
/// filters were used; their values stay out of the log).
pub async fn search(
    db: &Db,
    writer: &Writer,
    officer: &SecurityOfficer,
    asked: &Asked,
    ctx: &Context,
) -> Result<Page, SearchError> {
    let search = asked.to_search()?;
    let e = Event::new(
        officer.actor(),
        "audit.search",
        Target::new("audit_log", None).with_fields(asked.named()),
        Outcome::Success,
    )
    .within(ctx);
    writer
        .write::<(), AuditError, _>(move |tx| Box::pin(audit::record(tx, e)))
        .await?;
    let events = stored::search(db, &search).await?;
    let full = i64::try_from(events.len()).unwrap_or(i64::MAX) == search.limit;
    let next = full.then(|| events.last().map(encode_cursor)).flatten();
    Ok(Page { events, next })
}

/// One event, by its sequence number; reading it is audited.
pub async fn event(
    db: &Db,
    writer: &Writer,
    officer: &SecurityOfficer,
    seq: i64,
    ctx: &Context,
) -> Result<Option<EventRow>, SearchError> {
    let e = Event::new(
        officer.actor(),
        "audit.read",
        Target::new("audit_event", Some(seq.to_string())),
        Outcome::Success,
    )
    .within(ctx);
    writer
        .write::<(), AuditError, _>(move |tx| Box::pin(audit::record(tx, e)))
        .await?;
    Ok(stored::event(db, seq).await?)
}
