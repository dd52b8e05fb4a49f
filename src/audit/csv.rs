//! The CSV form of an export (RFC 4180, one event per line), written so a
//! spreadsheet opens it safely and read back exactly for verification.
//!
//! - Lists (target fields, policies) are joined by spaces; their items are
//!   identifiers, which hold no spaces.
//! - An absent optional value is an empty cell; a present one is never empty.
//! - A cell a spreadsheet would run as a formula (starting with `=`, `+`,
//!   `-`, `@`, a tab or a carriage return) is written with a leading `'`,
//!   as is a cell that itself starts with `'`; reading removes exactly one.

use super::export::Line;

pub const HEADER: &str = "seq,time_us,time,actor_kind,actor_id,action,target_kind,target_id,target_fields,\
purpose,outcome,reason,request_id,source,policies";

const COLUMNS: usize = 15;

/// Appends one cell, quoted when needed and guarded against formulas.
pub fn cell(out: &mut String, value: &str) {
    let guarded = value.starts_with(['=', '+', '-', '@', '\t', '\r', '\'']);
    let quoted = value.contains([',', '"', '\n', '\r']) || value.starts_with(' ') || value.ends_with(' ');
    if quoted {
        out.push('"');
    }
    if guarded {
        out.push('\'');
    }
    for c in value.chars() {
        if c == '"' {
            out.push('"');
        }
        out.push(c);
    }
    if quoted {
        out.push('"');
    }
}

/// One event as a CSV line, with its line end.
pub fn row(line: &Line) -> String {
    let cells = [
        line.seq.to_string(),
        line.time_us.to_string(),
        line.time.clone(),
        line.actor_kind.clone(),
        line.actor_id.clone(),
        line.action.clone(),
        line.target_kind.clone(),
        line.target_id.clone().unwrap_or_default(),
        line.target_fields.join(" "),
        line.purpose.clone().unwrap_or_default(),
        line.outcome.clone(),
        line.reason.clone().unwrap_or_default(),
        line.request_id.clone().unwrap_or_default(),
        line.source.clone().unwrap_or_default(),
        line.policies.join(" "),
    ];
    let mut out = String::with_capacity(200);
    for (i, c) in cells.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        cell(&mut out, c);
    }
    out.push_str("\r\n");
    out
}

/// The cells of one line (without its line end); `None` if a quote is
/// left open or stray.
fn cells(text: &str) -> Option<Vec<String>> {
    let mut out = Vec::with_capacity(COLUMNS);
    let mut chars = text.chars().peekable();
    loop {
        let mut value = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            loop {
                match chars.next()? {
                    '"' if chars.peek() == Some(&'"') => {
                        chars.next();
                        value.push('"');
                    }
                    '"' => break,
                    c => value.push(c),
                }
            }
            out.push(value);
            match chars.next() {
                None => return Some(out),
                Some(',') => {}
                Some(_) => return None,
            }
        } else {
            loop {
                match chars.next() {
                    None => {
                        out.push(value);
                        return Some(out);
                    }
                    Some(',') => {
                        out.push(value);
                        break;
                    }
                    Some('"') => return None,
                    Some(c) => value.push(c),
                }
            }
        }
    }
}

fn unguard(value: String) -> String {
    match value.strip_prefix('\'') {
        Some(rest) => rest.to_owned(),
        None => value,
    }
}

fn opt(value: String) -> Option<String> {
    (!value.is_empty()).then_some(value)
}

fn words(value: &str) -> Vec<String> {
    value.split(' ').filter(|s| !s.is_empty()).map(str::to_owned).collect()
}

/// Reads one CSV line back; `None` if it is not one [`row`] could write.
pub fn parse(text: &str) -> Option<Line> {
    let text = text.strip_suffix('\n').unwrap_or(text);
    let text = text.strip_suffix('\r').unwrap_or(text);
    let cells: Vec<String> = cells(text)?.into_iter().map(unguard).collect();
    let [
        seq,
        time_us,
        time,
        actor_kind,
        actor_id,
        action,
        target_kind,
        target_id,
        fields,
        purpose,
        outcome,
        reason,
        request_id,
        source,
        policies,
    ]: [String; COLUMNS] = cells.try_into().ok()?;
    Some(Line {
        seq: seq.parse().ok()?,
        time_us: time_us.parse().ok()?,
        time,
        actor_kind,
        actor_id,
        action,
        target_kind,
        target_id: opt(target_id),
        target_fields: words(&fields),
        purpose: opt(purpose),
        outcome,
        reason: opt(reason),
        request_id: opt(request_id),
        source: opt(source),
        policies: words(&policies),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line() -> Line {
        Line {
            seq: 7,
            time_us: 1_790_000_000_123_456,
            time: "2026-09-21T12:53:20.123456Z".into(),
            actor_kind: "module".into(),
            actor_id: "antrian".into(),
            action: "record.read".into(),
            target_kind: "record".into(),
            target_id: Some("cit_abc".into()),
            target_fields: vec!["queue_number".into(), "name".into()],
            purpose: Some("antrian.call".into()),
            outcome: "success".into(),
            reason: None,
            request_id: Some("=HYPERLINK(\"x\",\"y\")".into()),
            source: Some("'quoted,already".into()),
            policies: vec!["consent.grant".into()],
        }
    }

    #[test]
    fn rows_read_back_exactly() {
        let l = line();
        let text = row(&l);
        assert!(text.ends_with("\r\n"));
        assert_eq!(parse(&text), Some(l.clone()));
        let mut bare = l;
        bare.target_id = None;
        bare.target_fields.clear();
        bare.request_id = Some("-1".into());
        bare.source = None;
        bare.policies.clear();
        assert_eq!(parse(&row(&bare)), Some(bare));
    }

    #[test]
    fn formula_cells_are_guarded() {
        let text = row(&line());
        assert!(text.contains(",\"'=HYPERLINK(\"\"x\"\",\"\"y\"\")\","), "{text}");
        assert!(text.contains(",\"''quoted,already\","), "{text}");
        for cell in text.trim_end().split(',') {
            assert!(!cell.starts_with(['=', '+', '-', '@']), "{cell}");
        }
    }

    #[test]
    fn broken_lines_are_refused() {
        let text = row(&line());
        assert_eq!(parse("7,1,\"open"), None);
        assert_eq!(parse(&text.replacen(",", ",,", 1)), None, "a column too many");
        assert_eq!(parse(&text.replacen("7,", "x,", 1)), None);
        assert_eq!(parse("a\"b,c"), None);
        assert_eq!(parse(""), None);
    }
}
