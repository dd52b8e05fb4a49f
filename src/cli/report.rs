//! `jaga report processing`: the records of processing (UU PDP Art. 31).

use anyhow::Context as _;
use time::macros::format_description;
use time::{Date, PrimitiveDateTime, Time, UtcOffset};

use super::say;
use crate::config::Config;
use crate::policy::{Policies, report};
use crate::store::{Db, audit as stored};

/// Western Indonesia Time, in which the report's days are counted.
const WIB: UtcOffset = match UtcOffset::from_hms(7, 0, 0) {
    Ok(o) => o,
    Err(_) => UtcOffset::UTC,
};

/// Microseconds since the epoch at the start of `day` (WIB).
fn start_of(day: Date) -> i64 {
    let at = PrimitiveDateTime::new(day, Time::MIDNIGHT).assume_offset(WIB);
    i64::try_from(at.unix_timestamp_nanos() / 1_000).unwrap_or(i64::MAX)
}

fn parse_day(what: &str, text: &str) -> anyhow::Result<Date> {
    Date::parse(text, format_description!("[year]-[month]-[day]"))
        .with_context(|| format!("--{what} {text:?}: expected a date such as 2026-12-01"))
}

/// Prints the report for the days `from` to `to` (both included, WIB) as
/// JSON (default) or CSV.
pub async fn processing(config: &Config, from: &str, to: &str, csv: bool) -> anyhow::Result<u8> {
    let (first, last) = (parse_day("from", from)?, parse_day("to", to)?);
    if last < first {
        anyhow::bail!("--to {to} is before --from {from}");
    }
    let end = last.next_day().context("--to is the last day the calendar holds")?;
    let policies = Policies::load(&config.policies_dir)?;
    let db = Db::open(&config.database.url, 2, false).await?;
    let rows = stored::counts_by_purpose(&db, start_of(first), start_of(end)).await;
    db.close().await;
    let report = report::build(&policies.current().catalog, &rows?);
    if csv {
        say(report::to_csv(&report).trim_end())?;
    } else {
        let document = serde_json::json!({
            "report": "records of processing (UU PDP Art. 31)",
            "from": first.to_string(),
            "to": last.to_string(),
            "timezone": "Asia/Jakarta (WIB, UTC+7)",
            "catalog": policies.dir().join(crate::policy::catalog::FILE).display().to_string(),
            "purposes": report.purposes,
            "outside_catalog": report.outside_catalog,
        });
        say(&serde_json::to_string_pretty(&document)?)?;
    }
    Ok(0)
}
