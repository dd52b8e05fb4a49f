//! Records of processing (UU PDP Art. 31): the purpose catalog with each
//! purpose's lawful basis, and how often each module or officer processed
//! data for it in a period, counted from the audit log. Citizens acting on
//! their own data are counted together, never by pseudonym.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{Catalog, Retention};
use crate::store::audit::PurposeCount;
use crate::vault::profile::Reveal;

/// Who did it, how, with what outcome, and how often.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Count {
    pub actor_kind: String,
    /// A module's name or an officer's pseudonym; empty for citizens.
    pub actor: String,
    pub action: String,
    pub outcome: String,
    pub count: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct PurposeReport {
    pub id: String,
    pub name_id: String,
    pub name_en: String,
    pub controller: String,
    pub lawful_basis: &'static str,
    pub modules: Vec<String>,
    pub officer_roles: Vec<String>,
    pub fields: BTreeMap<String, &'static str>,
    pub retention: String,
    pub withdrawable: bool,
    pub notice_version: String,
    pub processing: Vec<Count>,
    pub total: i64,
}

/// Processing recorded under a purpose the catalog does not hold (the
/// citizen's own-data reads, refused unknown purposes, older events).
#[derive(Debug, Clone, Serialize)]
pub struct Outside {
    pub purpose: String,
    #[serde(flatten)]
    pub count: Count,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub purposes: Vec<PurposeReport>,
    pub outside_catalog: Vec<Outside>,
}

fn level(r: Reveal) -> &'static str {
    match r {
        Reveal::Plain => "plain",
        Reveal::Masked => "masked",
        Reveal::Redacted => "redacted",
    }
}

fn retention(r: &Retention) -> String {
    match r {
        Retention::Days(d) => format!("{d}d"),
        Retention::UntilEvent(e) => format!("event:{e}"),
    }
}

/// Adds `row` to `counts`, citizens merged into one actor.
fn add(counts: &mut Vec<Count>, row: &PurposeCount) {
    let actor = if row.actor_kind == "citizen" {
        String::new()
    } else {
        row.actor_id.clone()
    };
    match counts.iter_mut().find(|c| {
        c.actor_kind == row.actor_kind && c.actor == actor && c.action == row.action && c.outcome == row.outcome
    }) {
        Some(c) => c.count += row.count,
        None => counts.push(Count {
            actor_kind: row.actor_kind.clone(),
            actor,
            action: row.action.clone(),
            outcome: row.outcome.clone(),
            count: row.count,
        }),
    }
}

pub fn build(catalog: &Catalog, rows: &[PurposeCount]) -> Report {
    let mut purposes: Vec<PurposeReport> = catalog
        .purposes()
        .map(|p| PurposeReport {
            id: p.id.clone(),
            name_id: p.name.id.clone(),
            name_en: p.name.en.clone(),
            controller: p.controller.clone(),
            lawful_basis: p.lawful_basis.as_str(),
            modules: p.modules.clone(),
            officer_roles: p.officer_roles.clone(),
            fields: p.fields.iter().map(|(f, r)| (f.clone(), level(*r))).collect(),
            retention: retention(&p.retention),
            withdrawable: p.withdrawable,
            notice_version: p.notice_version.clone(),
            processing: Vec::new(),
            total: 0,
        })
        .collect();
    let mut outside: BTreeMap<String, Vec<Count>> = BTreeMap::new();
    for row in rows {
        match purposes.iter_mut().find(|p| p.id == row.purpose) {
            Some(p) => {
                add(&mut p.processing, row);
                p.total += row.count;
            }
            None => add(outside.entry(row.purpose.clone()).or_default(), row),
        }
    }
    Report {
        purposes,
        outside_catalog: outside
            .into_iter()
            .flat_map(|(purpose, counts)| {
                counts.into_iter().map(move |count| Outside {
                    purpose: purpose.clone(),
                    count,
                })
            })
            .collect(),
    }
}

/// One CSV field, quoted when it must be (RFC 4180).
fn csv(field: &str) -> String {
    if field.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_owned()
    }
}

/// The report as CSV: one row per purpose, actor, action and outcome; a
/// catalog purpose without processing has one row with count 0.
pub fn to_csv(report: &Report) -> String {
    let mut out = String::from("purpose,in_catalog,lawful_basis,controller,actor_kind,actor,action,outcome,count\n");
    let mut line = |cells: [&str; 9]| {
        out.push_str(&cells.map(csv).join(","));
        out.push('\n');
    };
    for p in &report.purposes {
        if p.processing.is_empty() {
            line([&p.id, "yes", p.lawful_basis, &p.controller, "", "", "", "", "0"]);
        }
        for c in &p.processing {
            let n = c.count.to_string();
            line([
                &p.id,
                "yes",
                p.lawful_basis,
                &p.controller,
                &c.actor_kind,
                &c.actor,
                &c.action,
                &c.outcome,
                &n,
            ]);
        }
    }
    for o in &report.outside_catalog {
        let c = &o.count;
        let n = c.count.to_string();
        line([
            &o.purpose,
            "no",
            "",
            "",
            &c.actor_kind,
            &c.actor,
            &c.action,
            &c.outcome,
            &n,
        ]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(purpose: &str, kind: &str, actor: &str, outcome: &str, count: i64) -> PurposeCount {
        PurposeCount {
            purpose: purpose.into(),
            actor_kind: kind.into(),
            actor_id: actor.into(),
            action: "record.read".into(),
            outcome: outcome.into(),
            count,
        }
    }

    #[test]
    fn counts_land_on_their_purpose_and_citizens_are_merged() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("policies");
        let catalog = Catalog::load(&dir).unwrap();
        let rows = [
            row("antrian.call", "module", "antrian", "success", 7),
            row("antrian.call", "module", "antrian", "denied", 2),
            row("own_data", "citizen", "ctz_a", "success", 3),
            row("own_data", "citizen", "ctz_b", "success", 4),
            row("marketing", "module", "antrian", "denied", 1),
        ];
        let report = build(&catalog, &rows);
        let call = report.purposes.iter().find(|p| p.id == "antrian.call").unwrap();
        assert_eq!(call.total, 9);
        assert_eq!(call.lawful_basis, "public_task");
        assert_eq!(call.processing.len(), 2);
        let own: Vec<_> = report
            .outside_catalog
            .iter()
            .filter(|o| o.purpose == "own_data")
            .collect();
        assert_eq!(own.len(), 1, "citizens counted together");
        assert_eq!((own[0].count.count, own[0].count.actor.as_str()), (7, ""));
        let text = to_csv(&report);
        assert!(text.starts_with("purpose,in_catalog,"));
        assert!(text.contains("antrian.call,yes,public_task,\"Seksi Pelayanan Umum, Kecamatan Rangkui\",module,antrian,record.read,success,7\n"));
        assert!(text.contains("survei.kepuasan,yes,consent,Sekretariat Kecamatan Rangkui,,,,,0\n"));
        assert!(text.contains("marketing,no,,,module,antrian,record.read,denied,1\n"));
    }
}
