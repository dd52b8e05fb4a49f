//! Audit exports: a stretch of the log, cut at a signed checkpoint, with the
//! hashes that tie the stretch to that checkpoint, so that it can be
//! verified on another machine with nothing but the log's public key.
//!
//! An export covers the events `first_seq .. first_seq + count`: from the
//! first event at or after `from` to the last before `to`, in log order
//! (time, then sequence number), so it is one unbroken stretch of the log.
//! With it come:
//! - `checkpoint`: the smallest signed checkpoint that covers the stretch;
//! - `left`: the tree's frontier before the stretch (the roots of its
//!   perfect subtrees, largest first);
//! - `right`: the roots of the perfect subtrees between the stretch's end
//!   and the checkpoint's size ([`merkle::range_heights`]).
//!
//! The frontier, then every exported event's leaf, then the right roots,
//! rebuild the checkpoint's root ([`super::offline`]).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde::{Deserialize, Serialize};

use super::merkle::{self, Frontier, Hash};
use super::{Actor, ActorKind, Event, Outcome, Recorded, Target, from_row};
use crate::store::audit::{self as stored, EventRow};
use crate::store::audit_export as range;
use crate::store::{Db, StoreError};

/// The format name every manifest carries.
pub const FORMAT: &str = "jaga-audit-export/1";

/// Events read from the database at a time.
pub const BATCH: i64 = 5_000;

/// What an export is, and what ties it to its checkpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Always `jaga-audit-export/1`.
    pub format: String,
    /// The log's origin (the checkpoint's first line).
    pub origin: String,
    /// The window asked for (RFC 3339, UTC): `from` included, `to` excluded.
    pub from: String,
    pub to: String,
    /// Sequence number of the first event exported.
    pub first_seq: u64,
    /// Number of events exported (one unbroken stretch of the log).
    pub count: u64,
    /// The signed checkpoint (C2SP signed note) the export is cut at.
    pub checkpoint: String,
    /// The tree's frontier before the first event, base64, largest subtree first.
    pub left: Vec<String>,
    /// Roots of the perfect subtrees from the end of the stretch to the
    /// checkpoint's size, base64, left to right.
    pub right: Vec<String>,
}

/// One exported event: every field the event's leaf hash covers, plus its
/// time written out for people (checked against `time_us`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Line {
    pub seq: u64,
    pub time_us: i64,
    /// RFC 3339, UTC.
    pub time: String,
    pub actor_kind: String,
    pub actor_id: String,
    pub action: String,
    pub target_kind: String,
    pub target_id: Option<String>,
    pub target_fields: Vec<String>,
    pub purpose: Option<String>,
    pub outcome: String,
    pub reason: Option<String>,
    pub request_id: Option<String>,
    pub source: Option<String>,
    pub policies: Vec<String>,
}

/// RFC 3339 in UTC with microseconds, or "" for an instant out of range.
pub fn time_text(us: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(us) * 1_000)
        .ok()
        .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_default()
}

/// A stored comma-joined list (target fields, policies) as items.
pub fn list(text: &str) -> Vec<String> {
    text.split(',').filter(|s| !s.is_empty()).map(str::to_owned).collect()
}

impl Line {
    /// `None` if the row holds a negative sequence number.
    pub fn from_row(r: EventRow) -> Option<Self> {
        Some(Line {
            seq: u64::try_from(r.seq).ok()?,
            time_us: r.time_us,
            time: time_text(r.time_us),
            actor_kind: r.actor_kind,
            actor_id: r.actor_id,
            action: r.action,
            target_kind: r.target_kind,
            target_id: r.target_id,
            target_fields: list(&r.target_fields),
            purpose: r.purpose,
            outcome: r.outcome,
            reason: r.reason,
            request_id: r.request_id,
            source: r.source,
            policies: list(&r.policies),
        })
    }

    /// The event as recorded; `None` if a field holds what no writer
    /// could have written (an unknown kind or outcome, a wrong time text,
    /// an empty optional value).
    pub fn to_recorded(&self) -> Option<Recorded> {
        let opt_ok = [
            &self.target_id,
            &self.purpose,
            &self.reason,
            &self.request_id,
            &self.source,
        ]
        .iter()
        .all(|v| v.as_ref().is_none_or(|v| !v.is_empty()));
        if !opt_ok || self.time != time_text(self.time_us) {
            return None;
        }
        let event = Event {
            actor: Actor::new(ActorKind::parse(&self.actor_kind)?, self.actor_id.clone()),
            action: self.action.clone(),
            target: Target {
                kind: self.target_kind.clone(),
                id: self.target_id.clone(),
                fields: self.target_fields.clone(),
            },
            purpose: self.purpose.clone(),
            outcome: Outcome::parse(&self.outcome)?,
            reason: self.reason.clone(),
            request_id: self.request_id.clone(),
            source: self.source.clone(),
            policies: self.policies.clone(),
        };
        event.check().ok()?;
        Some(Recorded {
            seq: self.seq,
            time_us: self.time_us,
            event,
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("the audit log has no signed checkpoint yet")]
    NoCheckpoint,
    #[error("audit event {0} cannot be read back (run `jaga audit verify`)")]
    Unreadable(i64),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Where an export starts and ends, and its manifest.
#[derive(Debug, Clone)]
pub struct Cut {
    pub manifest: Manifest,
    /// One past the last sequence number exported.
    pub end: u64,
}

impl Cut {
    pub fn first(&self) -> u64 {
        self.manifest.first_seq
    }
}

fn seq(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// The leaf hashes of events `from..to`, read a batch at a time.
struct Leaves<'a> {
    db: &'a Db,
    next: u64,
    to: u64,
    batch: std::vec::IntoIter<EventRow>,
}

impl<'a> Leaves<'a> {
    fn new(db: &'a Db, from: u64, to: u64) -> Self {
        Self {
            db,
            next: from,
            to,
            batch: Vec::new().into_iter(),
        }
    }

    async fn next(&mut self) -> Result<Option<Hash>, ExportError> {
        if self.next >= self.to {
            return Ok(None);
        }
        let row = match self.batch.next() {
            Some(row) => row,
            None => {
                let rows = range::events_between(self.db, seq(self.next), seq(self.to), BATCH).await?;
                self.batch = rows.into_iter();
                self.batch.next().ok_or(ExportError::Unreadable(seq(self.next)))?
            }
        };
        let recorded = from_row(&row)
            .filter(|r| r.seq == self.next)
            .ok_or(ExportError::Unreadable(seq(self.next)))?;
        self.next += 1;
        Ok(Some(merkle::leaf_hash(&recorded.canonical_bytes())))
    }
}

/// The frontier before event `at`: from the newest stored checkpoint at or
/// before it, then the events in between.
async fn frontier_at(db: &Db, at: u64) -> Result<Frontier, ExportError> {
    let start = match stored::checkpoint_at_or_before(db, seq(at)).await? {
        Some(cp) => Frontier::from_bytes(&cp.frontier).ok_or(ExportError::Unreadable(cp.tree_size))?,
        None => Frontier::default(),
    };
    let mut frontier = start;
    let mut leaves = Leaves::new(db, frontier.size(), at);
    while let Some(leaf) = leaves.next().await? {
        frontier.push(leaf);
    }
    Ok(frontier)
}

/// The roots of the perfect subtrees covering events `from..to`.
async fn range_roots(db: &Db, from: u64, to: u64) -> Result<Vec<Hash>, ExportError> {
    let mut leaves = Leaves::new(db, from, to);
    let mut roots = Vec::new();
    for h in merkle::range_heights(from, to) {
        let mut piece = Frontier::default();
        for _ in 0..(1u64 << h) {
            let leaf = leaves.next().await?.ok_or(ExportError::Unreadable(seq(from)))?;
            piece.push(leaf);
        }
        roots.push(piece.root());
    }
    Ok(roots)
}

/// Cuts an export of the window `[from_us, to_us)` at a signed checkpoint.
/// `from`/`to` are the window as written in the manifest.
pub async fn cut(db: &Db, origin: &str, from_us: i64, to_us: i64) -> Result<Cut, ExportError> {
    let tip = stored::tip(db).await?.ok_or(ExportError::NoCheckpoint)?;
    let size = tip.tree_size;
    let first = range::first_at_or_after(db, from_us, size).await?;
    let last = range::last_before(db, to_us, size).await?;
    let (a, b) = match (first, last) {
        (Some(a), Some(l)) if a <= l => (a, l + 1),
        // Nothing in the window: an empty stretch at the tip.
        _ => (size, size),
    };
    let (a, b) = (
        u64::try_from(a).map_err(|_| ExportError::Unreadable(a))?,
        u64::try_from(b).map_err(|_| ExportError::Unreadable(b))?,
    );
    let (cp_size, note) = match range::checkpoint_at_or_after(db, seq(b)).await? {
        Some(cp) if cp.tree_size <= size => (cp.tree_size, cp.note),
        _ => (tip.tree_size, tip.note),
    };
    let cp_size = u64::try_from(cp_size).map_err(|_| ExportError::Unreadable(cp_size))?;
    let left = frontier_at(db, a).await?.hashes();
    let right = range_roots(db, b, cp_size).await?;
    Ok(Cut {
        manifest: Manifest {
            format: FORMAT.to_owned(),
            origin: origin.to_owned(),
            from: time_text(from_us),
            to: time_text(to_us),
            first_seq: a,
            count: b - a,
            checkpoint: note,
            left: left.iter().map(|h| B64.encode(h)).collect(),
            right: right.iter().map(|h| B64.encode(h)).collect(),
        },
        end: b,
    })
}

/// The exported events from `from` (below the cut's end), at most [`BATCH`].
pub async fn lines(db: &Db, cut: &Cut, from: u64) -> Result<Vec<Line>, ExportError> {
    let rows = range::events_between(db, seq(from), seq(cut.end), BATCH).await?;
    rows.into_iter()
        .map(|r| {
            let at = r.seq;
            Line::from_row(r).ok_or(ExportError::Unreadable(at))
        })
        .collect()
}
