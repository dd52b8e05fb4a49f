//! The rules at work: each scan reads the audit events written since the
//! last one, and raises an alert for each pattern of `policies/alerts.toml`
//! they complete. An occurrence (rule, subject, time window) raises one
//! alert however many scans see it. Only the instance that signs audit
//! checkpoints scans, so a deployment raises each alert once.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use crate::policy::alerts::{AlertRules, Rule};
use crate::store::alerts::{self as stored, AlertRow};
use crate::store::audit::EventRow;
use crate::store::{Db, StoreError, Writer};

/// Events read per scan at most (the rest wait for the next).
const BATCH: i64 = 5_000;
const HOUR_US: i64 = 3_600_000_000;
const MINUTE_US: i64 = 60_000_000;
/// WIB is UTC+7, without daylight saving.
const WIB_US: i64 = 7 * HOUR_US;

/// An alert about to be raised.
#[derive(Debug, Clone, PartialEq)]
pub struct Raised {
    pub rule: &'static str,
    pub rule_def: Rule,
    pub subject: String,
    pub facts: Value,
    pub seq: Option<i64>,
    /// Names the occurrence.
    pub dedupe: String,
}

fn is_read(e: &EventRow) -> bool {
    e.action.ends_with(".read") && e.outcome == "success"
}

/// Minutes from WIB midnight and the WIB weekday (0 = Monday) of an instant.
fn wib_clock(time_us: i64) -> (u32, u8) {
    let local = time_us + WIB_US;
    let minute = local.rem_euclid(24 * 60 * MINUTE_US) / MINUTE_US;
    let day = local.div_euclid(24 * 60 * MINUTE_US);
    // 1970-01-01 was a Thursday (3 when Monday is 0).
    let weekday = (day + 3).rem_euclid(7);
    (u32::try_from(minute).unwrap_or(0), u8::try_from(weekday).unwrap_or(0))
}

fn wib_date(time_us: i64) -> i64 {
    (time_us + WIB_US).div_euclid(24 * 60 * MINUTE_US)
}

/// Every alert the events `rows` complete (instant rules from the events
/// themselves, windowed rules from counts in the database).
pub async fn evaluate(
    db: &Db,
    rules: &AlertRules,
    rows: &[EventRow],
    failure: Option<&str>,
) -> Result<Vec<Raised>, StoreError> {
    let mut out = Vec::new();
    let mut raise = |rule: &'static str, def: Rule, subject: &str, facts: Value, seq: Option<i64>, key: String| {
        if def.enabled {
            out.push(Raised {
                rule,
                rule_def: def,
                subject: subject.to_owned(),
                facts,
                seq,
                dedupe: format!("{rule}:{key}"),
            });
        }
    };
    let mut officers: BTreeMap<&str, i64> = BTreeMap::new();
    let mut modules: BTreeMap<&str, (i64, i64)> = BTreeMap::new();
    let (mut last_denied, mut last_trip) = (None, None);
    for e in rows {
        match e.action.as_str() {
            "breakglass.open" if e.outcome == "success" => raise(
                "break_glass",
                rules.break_glass,
                &e.actor_id,
                json!({ "citizen": e.target_id }),
                Some(e.seq),
                e.seq.to_string(),
            ),
            "passkey.counter_regression" => raise(
                "counter_regression",
                rules.counter_regression,
                &e.actor_id,
                json!({}),
                Some(e.seq),
                e.seq.to_string(),
            ),
            "audit.witness.refused" => raise(
                "witness_refused",
                rules.witness_refused,
                e.target_id.as_deref().unwrap_or("witness"),
                json!({}),
                Some(e.seq),
                e.seq.to_string(),
            ),
            "ratelimit.trip" => last_trip = Some(e.time_us),
            _ => {}
        }
        if e.outcome == "denied" && e.action != "ratelimit.trip" {
            last_denied = Some(e.time_us);
        }
        if is_read(e) && e.actor_kind == "officer" && e.target_kind == "citizen" {
            officers.insert(&e.actor_id, e.time_us);
        }
        if is_read(e) && e.actor_kind == "module" {
            let hours = &rules.module_hours;
            let (minute, day) = wib_clock(e.time_us);
            if !(hours.days.contains(&day) && (hours.open..hours.close).contains(&minute)) {
                raise(
                    "module_hours",
                    hours.rule,
                    &e.actor_id,
                    json!({ "wib_minute": minute }),
                    Some(e.seq),
                    format!("{}:{}", e.actor_id, wib_date(e.time_us)),
                );
            }
            modules.entry(&e.actor_id).or_insert((e.time_us, e.seq)).0 = e.time_us;
        }
    }
    let w = rules.officer_reads;
    if w.rule.enabled {
        for (officer, at) in officers {
            let window = i64::from(w.window_minutes) * MINUTE_US;
            let n = stored::citizens_read(db, officer, at - window, at).await?;
            if n > i64::from(w.limit) {
                let key = format!("{officer}:{}", at.div_euclid(window));
                raise(
                    "officer_reads",
                    w.rule,
                    officer,
                    json!({ "citizens": n, "window_minutes": w.window_minutes }),
                    None,
                    key,
                );
            }
        }
    }
    let r = rules.module_rate;
    if r.rule.enabled {
        for (module, (at, _)) in modules {
            let hour = stored::module_reads(db, module, at - HOUR_US, at).await?;
            let span = i64::from(r.baseline_days) * 24 * HOUR_US;
            let before = stored::module_reads(db, module, at - HOUR_US - span, at - HOUR_US - 1).await?;
            let usual = before as f64 / (f64::from(r.baseline_days) * 24.0);
            if hour >= i64::from(r.min_reads) && hour as f64 > f64::from(r.factor) * usual {
                let key = format!("{module}:{}", at.div_euclid(HOUR_US));
                let facts = json!({ "reads_in_hour": hour, "usual_per_hour": (usual * 10.0).round() / 10.0 });
                raise("module_rate", r.rule, module, facts, None, key);
            }
        }
    }
    for (name, w, last) in [
        ("denial_burst", rules.denial_burst, last_denied),
        ("rate_limit_storm", rules.rate_limit_storm, last_trip),
    ] {
        let Some(at) = last.filter(|_| w.rule.enabled) else {
            continue;
        };
        let window = i64::from(w.window_minutes) * MINUTE_US;
        let n = if name == "denial_burst" {
            stored::denials(db, at - window, at).await?
        } else {
            stored::actions(db, "ratelimit.trip", at - window, at).await?
        };
        if n > i64::from(w.limit) {
            let key = at.div_euclid(window).to_string();
            raise(
                name,
                w.rule,
                "log",
                json!({ "count": n, "window_minutes": w.window_minutes }),
                None,
                key,
            );
        }
    }
    if let Some(reason) = failure {
        let key = hex::encode(crate::ids::sha256(reason.as_bytes()).get(..8).unwrap_or_default());
        raise(
            "verification_failed",
            rules.verification_failed,
            "log",
            json!({ "reason": reason }),
            None,
            key,
        );
    }
    Ok(out)
}

/// One scan: events since the last, alerts raised and the cursor moved in
/// one unit. The first scan starts at the end of the log (history is not
/// alerted on). Returns the alerts that are new.
pub async fn scan(
    db: &Db,
    writer: &Writer,
    rules: &AlertRules,
    failure: Option<&str>,
    deliver: bool,
) -> Result<Vec<AlertRow>, StoreError> {
    let Some(from) = stored::cursor(db).await? else {
        let end = crate::store::audit::end_seq(db).await?;
        writer
            .write::<(), StoreError, _>(move |tx| Box::pin(async move { stored::set_cursor(tx, end).await }))
            .await?;
        return Ok(Vec::new());
    };
    let rows = crate::store::audit::events_from(db, from, BATCH).await?;
    let next = rows.last().map_or(from, |r| r.seq + 1);
    let raised = evaluate(db, rules, &rows, failure).await?;
    if rows.is_empty() && raised.is_empty() {
        return Ok(Vec::new());
    }
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let mut alerts = Vec::new();
    let mut seen = BTreeSet::new();
    for r in raised {
        if !seen.insert(r.dedupe.clone()) {
            continue;
        }
        let id = crate::ids::bytes::<10>().map_err(|e| StoreError::Corrupt(e.to_string()))?;
        alerts.push(AlertRow {
            alert_id: format!("al_{}", crate::ids::base32(&id)),
            dedupe: r.dedupe,
            rule: r.rule.to_owned(),
            severity: r.rule_def.severity.as_str().to_owned(),
            subject: r.subject,
            facts: r.facts.to_string(),
            seq: r.seq,
            raised_at: now,
        });
    }
    writer
        .write::<Vec<AlertRow>, StoreError, _>(move |tx| {
            Box::pin(async move {
                let mut new = Vec::new();
                for a in alerts {
                    if stored::raise(tx, &a, deliver).await? {
                        new.push(a);
                    }
                }
                stored::set_cursor(tx, next).await?;
                Ok(new)
            })
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wib_clock_and_weekday() {
        // 2026-12-07 00:30 UTC is Monday 07:30 WIB.
        let t = time::macros::datetime!(2026-12-07 00:30 UTC).unix_timestamp() * 1_000_000;
        assert_eq!(wib_clock(t), (7 * 60 + 30, 0));
        // 2026-12-06 17:30 UTC is Monday 00:30 WIB; 16:59 UTC is Sunday 23:59 WIB.
        let t = time::macros::datetime!(2026-12-06 17:30 UTC).unix_timestamp() * 1_000_000;
        assert_eq!(wib_clock(t), (30, 0));
        let t = time::macros::datetime!(2026-12-06 16:59 UTC).unix_timestamp() * 1_000_000;
        assert_eq!(wib_clock(t), (23 * 60 + 59, 6));
    }
}
