//! The public transparency report, month by month (calendar months in
//! WIB, UTC+7): reads of personal data by purpose and module, consents
//! granted and withdrawn, break-glass uses, and data-subject requests with
//! how long they took. Counts, never people: a count under 10 is shown as
//! "< 10", and durations only once 10 requests were decided, so that a
//! small number cannot point at someone.
//!
//! Reports are computed from the store and kept for ten minutes, so that
//! the public page costs the database at most one computation per month
//! shown per ten minutes, however often it is asked for.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Serialize;
use time::{Date, OffsetDateTime, UtcOffset};

use crate::store::transparency as stored;
use crate::store::{Db, StoreError};

/// Counts below this are not shown exactly.
pub const THRESHOLD: i64 = 10;
/// How long a computed report is served before it is computed again.
pub const KEPT_FOR: Duration = Duration::from_secs(600);
/// The first month a report can be asked for.
const FIRST_YEAR: i32 = 2024;

/// WIB, the time zone of the report's months.
fn wib() -> UtcOffset {
    UtcOffset::from_hms(7, 0, 0).unwrap_or(UtcOffset::UTC)
}

/// Why a month has no report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BadMonth {
    /// Not `YYYY-MM` with a month 01 to 12.
    Malformed,
    /// Before January 2024, or still to come.
    NoReport,
}

/// A calendar month.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Month {
    year: i32,
    month: time::Month,
}

impl Month {
    /// The month `now` falls in, in WIB.
    pub fn of(now: OffsetDateTime) -> Self {
        let local = now.to_offset(wib());
        Self {
            year: local.year(),
            month: local.month(),
        }
    }

    /// `YYYY-MM`, from January 2024 to the month of `now`.
    pub fn parse(text: &str, now: OffsetDateTime) -> Result<Self, BadMonth> {
        let (y, m) = text.split_once('-').ok_or(BadMonth::Malformed)?;
        if y.len() != 4 || m.len() != 2 || !text.bytes().all(|b| b.is_ascii_digit() || b == b'-') {
            return Err(BadMonth::Malformed);
        }
        let month = Self {
            year: y.parse().map_err(|_| BadMonth::Malformed)?,
            month: m
                .parse::<u8>()
                .ok()
                .and_then(|m| time::Month::try_from(m).ok())
                .ok_or(BadMonth::Malformed)?,
        };
        if month.year >= FIRST_YEAR && month <= Self::of(now) {
            Ok(month)
        } else {
            Err(BadMonth::NoReport)
        }
    }

    pub fn previous(self) -> Option<Self> {
        let year = if self.month == time::Month::January {
            self.year - 1
        } else {
            self.year
        };
        (year >= FIRST_YEAR).then_some(Self {
            year,
            month: self.month.previous(),
        })
    }

    pub fn next(self) -> Self {
        Self {
            year: if self.month == time::Month::December {
                self.year + 1
            } else {
                self.year
            },
            month: self.month.next(),
        }
    }

    /// Midnight WIB on the month's first day.
    fn start(self) -> OffsetDateTime {
        Date::from_calendar_date(self.year, self.month, 1)
            .map(|d| d.midnight().assume_offset(wib()))
            .unwrap_or(OffsetDateTime::UNIX_EPOCH)
    }

    pub fn number(self) -> u8 {
        u8::from(self.month)
    }

    pub fn year(self) -> i32 {
        self.year
    }
}

impl std::fmt::Display for Month {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}", self.year, u8::from(self.month))
    }
}

/// A count as published: exact from 10, otherwise "< 10".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum Count {
    Exact(u64),
    /// Always "< 10".
    Few(&'static str),
}

impl Count {
    pub fn of(n: i64) -> Self {
        match u64::try_from(n) {
            Ok(n) if n >= THRESHOLD.unsigned_abs() => Count::Exact(n),
            _ => Count::Few("< 10"),
        }
    }
}

impl std::fmt::Display for Count {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Count::Exact(n) => write!(f, "{n}"),
            Count::Few(s) => f.write_str(s),
        }
    }
}

/// Reads of personal data for one purpose, by one module or by officers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Access {
    pub purpose: String,
    /// `module` or `officer`.
    pub by: String,
    /// The module, when a module read.
    pub module: Option<String>,
    pub count: Count,
}

/// Consent decisions for one purpose.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Consents {
    pub purpose: String,
    pub granted: Count,
    pub refused: Count,
    pub withdrawn: Count,
}

/// Emergency accesses opened in the month, and their review so far.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct BreakGlass {
    pub used: Count,
    pub accepted: Count,
    pub escalated: Count,
    pub not_reviewed: Count,
}

/// Correction requests received in the month (UU PDP Art. 6, 30).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Corrections {
    pub received: Count,
    pub decided: Count,
    /// Hours from request to decision, once 10 were decided.
    pub median_hours: Option<f64>,
    pub longest_hours: Option<f64>,
}

/// Data-subject requests received in the month.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Requests {
    pub corrections: Corrections,
    /// Erasures (UU PDP Art. 8, 43), carried out when asked.
    pub erasures: Count,
}

/// One month's report.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Report {
    /// `YYYY-MM`.
    pub month: String,
    /// The month's bounds, RFC 3339 in WIB: `from` included, `to` excluded.
    pub from: String,
    pub to: String,
    /// False while the month is still running (the counts will grow).
    pub complete: bool,
    /// When these counts were computed (RFC 3339, UTC).
    pub computed_at: String,
    pub accesses: Vec<Access>,
    pub consents: Vec<Consents>,
    pub break_glass: BreakGlass,
    pub requests: Requests,
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

fn hours(secs: i64) -> f64 {
    (secs as f64 / 360.0).round() / 10.0
}

fn corrections(times: &[Option<i64>]) -> Corrections {
    let mut decided: Vec<i64> = times.iter().flatten().copied().collect();
    decided.sort_unstable();
    let n = decided.len();
    let shown = i64::try_from(n).unwrap_or(i64::MAX) >= THRESHOLD;
    let median = match (decided.get(n / 2), n.checked_sub(1).and_then(|i| decided.get(i / 2))) {
        (Some(hi), Some(lo)) if n.is_multiple_of(2) => Some((lo + hi) / 2),
        (Some(mid), _) => Some(*mid),
        _ => None,
    };
    Corrections {
        received: Count::of(i64::try_from(times.len()).unwrap_or(i64::MAX)),
        decided: Count::of(i64::try_from(n).unwrap_or(i64::MAX)),
        median_hours: median.filter(|_| shown).map(hours),
        longest_hours: decided.last().copied().filter(|_| shown).map(hours),
    }
}

fn consents(rows: Vec<stored::ConsentCount>) -> Vec<Consents> {
    let mut by_purpose: Vec<(String, [i64; 3])> = Vec::new();
    for row in rows {
        let at = match row.decision.as_str() {
            "grant" => 0,
            "refuse" => 1,
            _ => 2,
        };
        match by_purpose.last_mut() {
            Some((p, counts)) if *p == row.purpose_id => {
                if let Some(c) = counts.get_mut(at) {
                    *c += row.count;
                }
            }
            _ => {
                let mut counts = [0; 3];
                if let Some(c) = counts.get_mut(at) {
                    *c = row.count;
                }
                by_purpose.push((row.purpose_id, counts));
            }
        }
    }
    by_purpose
        .into_iter()
        .map(|(purpose, [g, r, w])| Consents {
            purpose,
            granted: Count::of(g),
            refused: Count::of(r),
            withdrawn: Count::of(w),
        })
        .collect()
}

/// Computes `month`'s report from the store.
pub async fn compute(db: &Db, month: Month, now: OffsetDateTime) -> Result<Report, StoreError> {
    let (start, end) = (month.start(), month.next().start());
    let (from_s, to_s) = (start.unix_timestamp(), end.unix_timestamp());
    let (from_us, to_us) = (from_s.saturating_mul(1_000_000), to_s.saturating_mul(1_000_000));
    let accesses = stored::accesses(db, from_us, to_us)
        .await?
        .into_iter()
        .map(|a| Access {
            purpose: a.purpose,
            module: (a.actor_kind == "module").then_some(a.module),
            by: a.actor_kind,
            count: Count::of(a.count),
        })
        .collect();
    let glass = stored::break_glass(db, from_s, to_s).await?;
    Ok(Report {
        month: month.to_string(),
        from: rfc3339(start),
        to: rfc3339(end),
        complete: now >= end,
        computed_at: rfc3339(now),
        accesses,
        consents: consents(stored::consents(db, from_s, to_s).await?),
        break_glass: BreakGlass {
            used: Count::of(glass.opened),
            accepted: Count::of(glass.accepted),
            escalated: Count::of(glass.escalated),
            not_reviewed: Count::of(glass.opened - glass.accepted - glass.escalated),
        },
        requests: Requests {
            corrections: corrections(&stored::correction_times(db, from_s, to_s).await?),
            erasures: Count::of(stored::erasures(db, from_s, to_s).await?),
        },
    })
}

/// Reports computed lately, by month.
#[derive(Debug, Default)]
pub struct Reports {
    kept: Mutex<HashMap<Month, (Instant, Arc<Report>)>>,
}

impl Reports {
    /// `month`'s report: the one computed within [`KEPT_FOR`], or a new one.
    pub async fn get(&self, db: &Db, month: Month) -> Result<Arc<Report>, StoreError> {
        let fresh = |at: &Instant| at.elapsed() < KEPT_FOR;
        if let Ok(kept) = self.kept.lock()
            && let Some((at, report)) = kept.get(&month)
            && fresh(at)
        {
            return Ok(report.clone());
        }
        let report = Arc::new(compute(db, month, OffsetDateTime::now_utc()).await?);
        if let Ok(mut kept) = self.kept.lock() {
            kept.retain(|_, (at, _)| fresh(at));
            kept.insert(month, (Instant::now(), report.clone()));
        }
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> OffsetDateTime {
        OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).unwrap()
    }

    #[test]
    fn months_are_wib_calendar_months() {
        let now = at("2026-11-30T17:30:00Z"); // 00:30 on 1 December in WIB
        assert_eq!(Month::of(now).to_string(), "2026-12");
        let nov = Month::parse("2026-11", now).unwrap();
        assert_eq!(rfc3339(nov.start()), "2026-11-01T00:00:00+07:00");
        assert_eq!(rfc3339(nov.next().start()), "2026-12-01T00:00:00+07:00");
        assert_eq!(
            Month::parse("2026-01", now).unwrap().previous().unwrap().to_string(),
            "2025-12"
        );
        assert_eq!(Month::parse("2024-01", now).unwrap().previous(), None);
        for bad in [
            "2026-13", "2026-00", "2026-1", "26-11", "2026/11", "+026-11", "2026-11x",
        ] {
            assert_eq!(Month::parse(bad, now), Err(BadMonth::Malformed), "{bad}");
        }
        for none in ["2027-01", "2023-12", "0000-01"] {
            assert_eq!(Month::parse(none, now), Err(BadMonth::NoReport), "{none}");
        }
    }

    #[test]
    fn small_counts_are_not_shown_exactly() {
        assert_eq!(Count::of(0).to_string(), "< 10");
        assert_eq!(Count::of(9).to_string(), "< 10");
        assert_eq!(Count::of(10), Count::Exact(10));
        assert_eq!(serde_json::to_value(Count::of(3)).unwrap(), serde_json::json!("< 10"));
        assert_eq!(serde_json::to_value(Count::of(12)).unwrap(), serde_json::json!(12));
    }

    #[test]
    fn durations_show_only_from_ten_decided() {
        let few: Vec<Option<i64>> = vec![Some(3600); 9];
        let c = corrections(&few);
        assert_eq!((c.median_hours, c.longest_hours), (None, None));
        let mut many: Vec<Option<i64>> = (1..=10).map(|h| Some(h * 3600)).collect();
        many.push(None);
        let c = corrections(&many);
        assert_eq!(
            (c.received.clone(), c.decided.clone()),
            (Count::Exact(11), Count::Exact(10))
        );
        assert_eq!((c.median_hours, c.longest_hours), (Some(5.5), Some(10.0)));
    }
}
