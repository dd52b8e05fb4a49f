//! The alert rules (`policies/alerts.toml`): which patterns in the audit
//! log raise an alert for security officers, and their thresholds. Every
//! rule is on unless the file turns it off; a missing file means the
//! defaults below; a bad file stops the service at start.

use std::path::Path;

use serde::Deserialize;

use super::CatalogError;

pub const FILE: &str = "alerts.toml";

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
            Self::Critical => "critical",
        }
    }
}

/// A rule's switch and severity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    pub enabled: bool,
    pub severity: Severity,
}

/// More than `limit` of something within `window_minutes`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Windowed {
    pub rule: Rule,
    pub limit: u32,
    pub window_minutes: u32,
}

/// Service hours: WIB minutes from midnight `[open, close)` on `days`
/// (0 = Monday).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hours {
    pub rule: Rule,
    pub open: u32,
    pub close: u32,
    pub days: Vec<u8>,
}

/// More than `factor` times the usual hourly rate (the average over the
/// last `baseline_days`), and at least `min_reads` in the hour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub rule: Rule,
    pub factor: u32,
    pub min_reads: u32,
    pub baseline_days: u32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AlertRules {
    /// One officer reading more than `limit` different citizens.
    pub officer_reads: Windowed,
    /// A module reading outside service hours.
    pub module_hours: Hours,
    /// A module reading above its usual rate.
    pub module_rate: Rate,
    /// More than `limit` denied events.
    pub denial_burst: Windowed,
    pub break_glass: Rule,
    pub counter_regression: Rule,
    /// More than `limit` rate-limit trips.
    pub rate_limit_storm: Windowed,
    pub verification_failed: Rule,
    pub witness_refused: Rule,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    officer_reads: Option<RawRule>,
    module_hours: Option<RawRule>,
    module_rate: Option<RawRule>,
    denial_burst: Option<RawRule>,
    break_glass: Option<RawRule>,
    counter_regression: Option<RawRule>,
    rate_limit_storm: Option<RawRule>,
    verification_failed: Option<RawRule>,
    witness_refused: Option<RawRule>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    enabled: Option<bool>,
    severity: Option<Severity>,
    citizens: Option<u32>,
    window_minutes: Option<u32>,
    open: Option<String>,
    close: Option<String>,
    days: Option<Vec<String>>,
    factor: Option<u32>,
    min_reads: Option<u32>,
    baseline_days: Option<u32>,
    denials: Option<u32>,
    trips: Option<u32>,
}

const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

fn error(file: &str, reason: String) -> CatalogError {
    CatalogError {
        file: file.to_owned(),
        line: 0,
        column: 0,
        reason,
    }
}

/// "HH:MM" as minutes from midnight (24:00 allowed as the end of a day).
fn clock(text: &str) -> Option<u32> {
    if text == "24:00" {
        return Some(24 * 60);
    }
    let (h, m) = text.split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    (h < 24 && m < 60).then_some(h * 60 + m)
}

impl Default for AlertRules {
    fn default() -> Self {
        let on = |severity| Rule {
            enabled: true,
            severity,
        };
        let windowed = |severity, limit, window_minutes| Windowed {
            rule: on(severity),
            limit,
            window_minutes,
        };
        Self {
            officer_reads: windowed(Severity::High, 50, 60),
            module_hours: Hours {
                rule: on(Severity::Medium),
                open: 7 * 60,
                close: 18 * 60,
                days: vec![0, 1, 2, 3, 4, 5],
            },
            module_rate: Rate {
                rule: on(Severity::Medium),
                factor: 3,
                min_reads: 200,
                baseline_days: 7,
            },
            denial_burst: windowed(Severity::Medium, 30, 10),
            break_glass: on(Severity::High),
            counter_regression: on(Severity::High),
            rate_limit_storm: windowed(Severity::Medium, 200, 10),
            verification_failed: on(Severity::Critical),
            witness_refused: on(Severity::Critical),
        }
    }
}

impl AlertRules {
    /// Reads `<dir>/alerts.toml`; the defaults if there is none.
    pub fn load(dir: &Path) -> Result<Self, CatalogError> {
        let path = dir.join(FILE);
        match std::fs::read_to_string(&path) {
            Ok(text) => Self::parse(&path.display().to_string(), &text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(e) => Err(error(
                &path.display().to_string(),
                format!("cannot read the alert rules: {e}"),
            )),
        }
    }

    pub fn parse(file: &str, text: &str) -> Result<Self, CatalogError> {
        let raw: RawFile = toml::from_str(text).map_err(|e| {
            let (line, column) = e.span().map_or((0, 0), |s| {
                let before = text.get(..s.start).unwrap_or_default();
                (
                    before.lines().count().max(1),
                    before.rsplit('\n').next().map_or(0, str::len) + 1,
                )
            });
            CatalogError {
                file: file.to_owned(),
                line,
                column,
                reason: e.message().trim().to_owned(),
            }
        })?;
        let d = Self::default();
        let bad = |rule: &str, why: &str| error(file, format!("[{rule}]: {why}"));
        let rule = |raw: &Option<RawRule>, default: Rule| Rule {
            enabled: raw.as_ref().and_then(|r| r.enabled).unwrap_or(default.enabled),
            severity: raw.as_ref().and_then(|r| r.severity).unwrap_or(default.severity),
        };
        let number = |name: &str, key: &str, v: Option<u32>, default: u32, max: u32| -> Result<u32, CatalogError> {
            match v {
                None => Ok(default),
                Some(n) if (1..=max).contains(&n) => Ok(n),
                Some(_) => Err(bad(name, &format!("{key}: 1 to {max}"))),
            }
        };
        let get = |r: &Option<RawRule>, f: fn(&RawRule) -> Option<u32>| r.as_ref().and_then(f);
        // Keys a rule does not use are refused, so a typo is not ignored.
        let only = |name: &str, r: &Option<RawRule>, allowed: &[&str]| -> Result<(), CatalogError> {
            let Some(r) = r else { return Ok(()) };
            let used = [
                ("citizens", r.citizens.is_some()),
                ("window_minutes", r.window_minutes.is_some()),
                ("open", r.open.is_some()),
                ("close", r.close.is_some()),
                ("days", r.days.is_some()),
                ("factor", r.factor.is_some()),
                ("min_reads", r.min_reads.is_some()),
                ("baseline_days", r.baseline_days.is_some()),
                ("denials", r.denials.is_some()),
                ("trips", r.trips.is_some()),
            ];
            match used.iter().find(|(k, set)| *set && !allowed.contains(k)) {
                Some((k, _)) => Err(bad(name, &format!("{k} is not a setting of this rule"))),
                None => Ok(()),
            }
        };
        only("officer_reads", &raw.officer_reads, &["citizens", "window_minutes"])?;
        only("module_hours", &raw.module_hours, &["open", "close", "days"])?;
        only(
            "module_rate",
            &raw.module_rate,
            &["factor", "min_reads", "baseline_days"],
        )?;
        only("denial_burst", &raw.denial_burst, &["denials", "window_minutes"])?;
        only("rate_limit_storm", &raw.rate_limit_storm, &["trips", "window_minutes"])?;
        for (name, r) in [
            ("break_glass", &raw.break_glass),
            ("counter_regression", &raw.counter_regression),
            ("verification_failed", &raw.verification_failed),
            ("witness_refused", &raw.witness_refused),
        ] {
            only(name, r, &[])?;
        }

        let hours = &raw.module_hours;
        let open = match hours.as_ref().and_then(|h| h.open.as_deref()) {
            None => d.module_hours.open,
            Some(t) => clock(t).ok_or_else(|| bad("module_hours", "open: HH:MM"))?,
        };
        let close = match hours.as_ref().and_then(|h| h.close.as_deref()) {
            None => d.module_hours.close,
            Some(t) => clock(t).ok_or_else(|| bad("module_hours", "close: HH:MM (24:00 for midnight)"))?,
        };
        if open >= close {
            return Err(bad("module_hours", "open must be before close"));
        }
        let days = match hours.as_ref().and_then(|h| h.days.as_ref()) {
            None => d.module_hours.days.clone(),
            Some(list) => {
                let mut days = Vec::new();
                for day in list {
                    let i = DAYS
                        .iter()
                        .position(|d| d == day)
                        .ok_or_else(|| bad("module_hours", "days: mon, tue, wed, thu, fri, sat, sun"))?;
                    days.push(u8::try_from(i).unwrap_or(0));
                }
                days
            }
        };
        let windowed = |name: &str, r: &Option<RawRule>, default: Windowed, limit: Option<u32>, key: &str| {
            Ok::<_, CatalogError>(Windowed {
                rule: rule(r, default.rule),
                limit: number(name, key, limit, default.limit, 10_000_000)?,
                window_minutes: number(
                    name,
                    "window_minutes",
                    get(r, |r| r.window_minutes),
                    default.window_minutes,
                    1440,
                )?,
            })
        };
        Ok(Self {
            officer_reads: windowed(
                "officer_reads",
                &raw.officer_reads,
                d.officer_reads,
                get(&raw.officer_reads, |r| r.citizens),
                "citizens",
            )?,
            module_hours: Hours {
                rule: rule(hours, d.module_hours.rule),
                open,
                close,
                days,
            },
            module_rate: Rate {
                rule: rule(&raw.module_rate, d.module_rate.rule),
                factor: number(
                    "module_rate",
                    "factor",
                    get(&raw.module_rate, |r| r.factor),
                    d.module_rate.factor,
                    1000,
                )?,
                min_reads: number(
                    "module_rate",
                    "min_reads",
                    get(&raw.module_rate, |r| r.min_reads),
                    d.module_rate.min_reads,
                    10_000_000,
                )?,
                baseline_days: number(
                    "module_rate",
                    "baseline_days",
                    get(&raw.module_rate, |r| r.baseline_days),
                    d.module_rate.baseline_days,
                    90,
                )?,
            },
            denial_burst: windowed(
                "denial_burst",
                &raw.denial_burst,
                d.denial_burst,
                get(&raw.denial_burst, |r| r.denials),
                "denials",
            )?,
            break_glass: rule(&raw.break_glass, d.break_glass),
            counter_regression: rule(&raw.counter_regression, d.counter_regression),
            rate_limit_storm: windowed(
                "rate_limit_storm",
                &raw.rate_limit_storm,
                d.rate_limit_storm,
                get(&raw.rate_limit_storm, |r| r.trips),
                "trips",
            )?,
            verification_failed: rule(&raw.verification_failed, d.verification_failed),
            witness_refused: rule(&raw.witness_refused, d.witness_refused),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_rules_parse() {
        let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/policies/alerts.toml")).unwrap();
        let rules = AlertRules::parse("alerts.toml", &text).unwrap();
        assert!(rules.break_glass.enabled && rules.witness_refused.enabled);
    }

    #[test]
    fn an_empty_file_is_the_defaults_and_rules_can_be_turned_off() {
        assert_eq!(AlertRules::parse("a", "").unwrap(), AlertRules::default());
        let off = AlertRules::parse("a", "[break_glass]\nenabled = false\n").unwrap();
        assert!(!off.break_glass.enabled);
        let hours = AlertRules::parse(
            "a",
            "[module_hours]\nopen = \"08:00\"\nclose = \"24:00\"\ndays = [\"sat\"]\n",
        )
        .unwrap();
        assert_eq!(hours.module_hours.open..hours.module_hours.close, 480..1440);
        assert_eq!(hours.module_hours.days, vec![5]);
    }

    #[test]
    fn bad_rules_are_refused_with_the_reason() {
        for (text, reason) in [
            ("[officer_reads]\ncitizens = 0\n", "citizens: 1 to"),
            ("[officer_reads]\ntrips = 5\n", "trips is not a setting of this rule"),
            ("[no_such_rule]\n", "unknown field"),
            ("[module_hours]\nopen = \"7am\"\n", "open: HH:MM"),
            (
                "[module_hours]\nopen = \"18:00\"\nclose = \"07:00\"\n",
                "open must be before close",
            ),
            ("[module_hours]\ndays = [\"monday\"]\n", "days:"),
            ("[break_glass]\nseverity = \"urgent\"\n", "unknown variant"),
        ] {
            let e = AlertRules::parse("alerts.toml", text).unwrap_err().to_string();
            assert!(e.contains(reason), "{text}: {e}");
        }
    }
}
