//! Audit exports for security officers (and operators at the command
//! line): a time window of the log as JSON Lines or CSV, cut at a signed
//! checkpoint ([`crate::audit::export`]). Every export is itself audited.

use super::search::{BadQuery, instant};
use crate::audit::export::{self, Cut, ExportError};
use crate::audit::{self, Actor, AuditError, Context, Event, Outcome, Target};
use crate::store::{Db, Writer};

/// The two forms an export is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// JSON Lines: the manifest, then one event per line.
    Jsonl,
    /// CSV (RFC 4180) with a header row; the manifest travels beside it.
    Csv,
}

impl Format {
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "jsonl" => Some(Self::Jsonl),
            "csv" => Some(Self::Csv),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Jsonl => "jsonl",
            Self::Csv => "csv",
        }
    }
}

/// The window and form as written in a request or on the command line.
#[derive(Debug, Clone, Default)]
pub struct Asked {
    pub from: Option<String>,
    pub to: Option<String>,
    pub format: Option<String>,
}

/// A checked request: the window in microseconds and the form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub from_us: i64,
    pub to_us: i64,
    pub format: Format,
}

impl Asked {
    pub fn check(&self) -> Result<Window, BadQuery> {
        let from = self.from.as_deref().ok_or_else(|| BadQuery("from: required".into()))?;
        let to = self.to.as_deref().ok_or_else(|| BadQuery("to: required".into()))?;
        let (from_us, to_us) = (instant("from", from)?, instant("to", to)?);
        if from_us >= to_us {
            return Err(BadQuery("from must be before to".into()));
        }
        let format = match self.format.as_deref() {
            None => Format::Jsonl,
            Some(f) => Format::parse(f).ok_or_else(|| BadQuery("format: jsonl or csv".into()))?,
        };
        Ok(Window { from_us, to_us, format })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Bad(#[from] BadQuery),
    #[error(transparent)]
    Audit(#[from] AuditError),
    #[error(transparent)]
    Export(#[from] ExportError),
}

/// Records the export (`audit.export`, naming its form) and cuts it. The
/// caller then streams [`export::lines`] from `cut.first()`.
pub async fn start(
    db: &Db,
    writer: &Writer,
    origin: &str,
    by: Actor,
    window: Window,
    ctx: &Context,
) -> Result<Cut, StartError> {
    let e = Event::new(
        by,
        "audit.export",
        Target::new("audit_log", None).with_fields([window.format.as_str()]),
        Outcome::Success,
    )
    .within(ctx);
    writer
        .write::<(), AuditError, _>(move |tx| Box::pin(audit::record(tx, e)))
        .await?;
    Ok(export::cut(db, origin, window.from_us, window.to_us).await?)
}
