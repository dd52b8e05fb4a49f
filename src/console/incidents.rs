//! Personal data breach incidents (UU PDP Art. 46). A security officer
//! names a time window and the officers and modules involved; the citizens
//! whose data they touched in it, and which data, are taken from the audit
//! log. Each citizen and the authority must be notified in writing within
//! 3 × 24 hours of discovery: the list exports as CSV for the notices, and
//! when each notice was sent is recorded. Every step is audited.

use std::collections::{BTreeMap, BTreeSet};

use super::permit::SecurityOfficer;
use super::search::{BadQuery, instant, word};
use crate::audit::{self, AuditError, Context, Event, Outcome, Target};
use crate::store::incidents::{self as stored, AffectedRow, IncidentRow};
use crate::store::{Db, StoreError, Writer};

/// The notices are due this long after discovery (UU PDP Art. 46(1)).
pub const NOTICE_SECS: i64 = 3 * 24 * 3600;
/// Officers and modules named at most.
const MAX_ACTORS: usize = 50;

#[derive(Debug, thiserror::Error)]
pub enum IncidentError {
    #[error(transparent)]
    Bad(#[from] BadQuery),
    #[error("no such incident")]
    NotFound,
    #[error(transparent)]
    Audit(#[from] AuditError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn bad(m: &str) -> IncidentError {
    IncidentError::Bad(BadQuery(m.to_owned()))
}

/// What an officer writes to open an incident.
#[derive(Debug, Clone, Default)]
pub struct Opening {
    pub title: String,
    /// RFC 3339 instants.
    pub from: String,
    pub to: String,
    pub officers: Vec<String>,
    pub modules: Vec<String>,
}

async fn record(writer: &Writer, e: Event) -> Result<(), AuditError> {
    writer
        .write::<(), AuditError, _>(move |tx| Box::pin(audit::record(tx, e)))
        .await
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// Opens an incident: the affected citizens and their data categories are
/// read from the audit log now. Returns its id.
pub async fn open(
    db: &Db,
    writer: &Writer,
    officer: &SecurityOfficer,
    o: &Opening,
    ctx: &Context,
) -> Result<String, IncidentError> {
    let title = o.title.trim();
    if title.is_empty() || title.chars().count() > 200 || title.chars().any(char::is_control) {
        return Err(bad("title: 1 to 200 characters, without control characters"));
    }
    let (from_us, to_us) = (instant("from", &o.from)?, instant("to", &o.to)?);
    if from_us >= to_us {
        return Err(bad("from must be before to"));
    }
    let officers = o
        .officers
        .iter()
        .map(|p| word("officers", p))
        .collect::<Result<BTreeSet<_>, _>>()?;
    if officers.iter().any(|p| !p.starts_with("ofc_")) {
        return Err(bad("officers: officers' pseudonyms (ofc_…)"));
    }
    let modules = o
        .modules
        .iter()
        .map(|m| word("modules", m))
        .collect::<Result<BTreeSet<_>, _>>()?;
    if officers.is_empty() && modules.is_empty() {
        return Err(bad("name at least one officer or module"));
    }
    if officers.len() + modules.len() > MAX_ACTORS {
        return Err(bad("at most 50 officers and modules"));
    }
    let mut touched: BTreeMap<String, (BTreeSet<String>, i32)> = BTreeMap::new();
    for (kind, id) in officers
        .iter()
        .map(|p| ("officer", p))
        .chain(modules.iter().map(|m| ("module", m)))
    {
        for a in stored::accesses(db, kind, id, from_us, to_us).await? {
            let entry = touched.entry(a.target_id).or_default();
            entry.0.extend(crate::audit::export::list(&a.target_fields));
            entry.1 = entry.1.saturating_add(1);
        }
    }
    let id = format!(
        "inc_{}",
        crate::ids::base32(&crate::ids::bytes::<10>().map_err(|e| StoreError::Corrupt(e.to_string()))?)
    );
    let row = IncidentRow {
        incident_id: id.clone(),
        title: title.to_owned(),
        window_from_us: from_us,
        window_to_us: to_us,
        officers: officers.into_iter().collect::<Vec<_>>().join(" "),
        modules: modules.into_iter().collect::<Vec<_>>().join(" "),
        opened_by: officer.actor().id,
        discovered_at: now(),
        authority_notified_at: None,
    };
    let affected: Vec<AffectedRow> = touched
        .into_iter()
        .map(|(citizen, (fields, accesses))| AffectedRow {
            incident_id: id.clone(),
            citizen,
            categories: fields.into_iter().collect::<Vec<_>>().join(" "),
            accesses,
            notified_at: None,
        })
        .collect();
    let e = Event::new(
        officer.actor(),
        "incident.open",
        Target::new("incident", Some(id.clone())),
        Outcome::Success,
    )
    .within(ctx);
    writer
        .write::<(), AuditError, _>(move |tx| {
            Box::pin(async move {
                stored::insert(tx, &row, &affected).await?;
                audit::record(tx, e).await
            })
        })
        .await?;
    Ok(id)
}

pub async fn list(db: &Db, _officer: &SecurityOfficer) -> Result<Vec<IncidentRow>, IncidentError> {
    Ok(stored::list(db).await?)
}

/// An incident and its affected citizens; the read is audited.
pub async fn detail(
    db: &Db,
    writer: &Writer,
    officer: &SecurityOfficer,
    id: &str,
    ctx: &Context,
) -> Result<(IncidentRow, Vec<AffectedRow>), IncidentError> {
    let incident = stored::get(db, id).await?.ok_or(IncidentError::NotFound)?;
    let e = Event::new(
        officer.actor(),
        "incident.read",
        Target::new("incident", Some(id.to_owned())),
        Outcome::Success,
    )
    .within(ctx);
    record(writer, e).await?;
    Ok((incident, stored::affected(db, id).await?))
}

/// What an officer records as sent.
#[derive(Debug, Clone, Default)]
pub struct Notices {
    /// These citizens were notified (`all`: every one not notified yet).
    pub citizens: Vec<String>,
    pub all: bool,
    pub authority: bool,
}

/// Records notices sent now; returns (citizens recorded, authority recorded).
pub async fn notify(
    db: &Db,
    writer: &Writer,
    officer: &SecurityOfficer,
    id: &str,
    n: &Notices,
    ctx: &Context,
) -> Result<(u64, bool), IncidentError> {
    stored::get(db, id).await?.ok_or(IncidentError::NotFound)?;
    let citizens = if n.all {
        stored::affected(db, id).await?.into_iter().map(|a| a.citizen).collect()
    } else {
        n.citizens
            .iter()
            .map(|c| word("citizens", c))
            .collect::<Result<Vec<_>, _>>()?
    };
    let (id, authority, at) = (id.to_owned(), n.authority, now());
    let mut fields = Vec::new();
    if !citizens.is_empty() {
        fields.push("citizens");
    }
    if authority {
        fields.push("authority");
    }
    let e = Event::new(
        officer.actor(),
        "incident.notice",
        Target::new("incident", Some(id.clone())).with_fields(fields),
        Outcome::Success,
    )
    .within(ctx);
    Ok(writer
        .write::<(u64, bool), AuditError, _>(move |tx| {
            Box::pin(async move {
                let done = stored::citizens_notified(tx, &id, &citizens, at).await?;
                let told = authority && stored::authority_notified(tx, &id, at).await?;
                audit::record(tx, e).await?;
                Ok((done, told))
            })
        })
        .await?)
}

/// The affected citizens as CSV for the notices (citizen, data categories,
/// accesses, notified at); the export is audited.
pub async fn export(
    db: &Db,
    writer: &Writer,
    officer: &SecurityOfficer,
    id: &str,
    ctx: &Context,
) -> Result<String, IncidentError> {
    stored::get(db, id).await?.ok_or(IncidentError::NotFound)?;
    let e = Event::new(
        officer.actor(),
        "incident.export",
        Target::new("incident", Some(id.to_owned())),
        Outcome::Success,
    )
    .within(ctx);
    record(writer, e).await?;
    let mut out = String::from("citizen,categories,accesses,notified_at\r\n");
    for a in stored::affected(db, id).await? {
        for (i, value) in [
            a.citizen,
            a.categories,
            a.accesses.to_string(),
            a.notified_at.map(|t| t.to_string()).unwrap_or_default(),
        ]
        .iter()
        .enumerate()
        {
            if i > 0 {
                out.push(',');
            }
            crate::audit::csv::cell(&mut out, value);
        }
        out.push_str("\r\n");
    }
    Ok(out)
}
