//! The value rules the server enforces on request fields, as JSON Schema
//! patterns and bounds (looser than the server where a rule cannot be said
//! exactly; never stricter).

use serde_json::{Value, json};

use super::at;

/// Characters no free text may hold (`crate::vault::profile::is_unsafe_char`),
/// as inclusive ranges.
const UNSAFE: &[(u32, u32)] = &[
    (0x0000, 0x001F),
    (0x007F, 0x009F),
    (0x00AD, 0x00AD),
    (0x034F, 0x034F),
    (0x0600, 0x0605),
    (0x061C, 0x061C),
    (0x06DD, 0x06DD),
    (0x070F, 0x070F),
    (0x0890, 0x0891),
    (0x08E2, 0x08E2),
    (0x115F, 0x1160),
    (0x17B4, 0x17B5),
    (0x180B, 0x180F),
    (0x200B, 0x200B),
    (0x200E, 0x200F),
    (0x2028, 0x202E),
    (0x2060, 0x206F),
    (0x3164, 0x3164),
    (0xE000, 0xF8FF),
    (0xFDD0, 0xFDEF),
    (0xFEFF, 0xFEFF),
    (0xFFA0, 0xFFA0),
    (0xFFF0, 0xFFFB),
    (0xFFFE, 0xFFFF),
    (0x110BD, 0x110BD),
    (0x110CD, 0x110CD),
    (0x13430, 0x1343F),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0x1FFFE, 0x1FFFF),
    (0x2FFFE, 0x2FFFF),
    (0x3FFFE, 0x3FFFF),
    (0x4FFFE, 0x4FFFF),
    (0x5FFFE, 0x5FFFF),
    (0x6FFFE, 0x6FFFF),
    (0x7FFFE, 0x7FFFF),
    (0x8FFFE, 0x8FFFF),
    (0x9FFFE, 0x9FFFF),
    (0xAFFFE, 0xAFFFF),
    (0xBFFFE, 0xBFFFF),
    (0xCFFFE, 0xCFFFF),
    (0xDFFFE, 0xDFFFF),
    (0xE0000, 0xE0FFF),
    (0xEFFFE, 0xEFFFF),
    (0xF0000, 0x10FFFF),
];

/// `char::is_whitespace`: what `str::trim` removes.
const WHITESPACE: &[(u32, u32)] = &[
    (0x0009, 0x000D),
    (0x0020, 0x0020),
    (0x0085, 0x0085),
    (0x00A0, 0x00A0),
    (0x1680, 0x1680),
    (0x2000, 0x200A),
    (0x2028, 0x2029),
    (0x202F, 0x202F),
    (0x205F, 0x205F),
    (0x3000, 0x3000),
];

/// Ranges as the inside of a regex character class: a `\u` escape with
/// four hex digits in the Basic Multilingual Plane, the characters
/// themselves beyond it.
fn class(ranges: &[&[(u32, u32)]]) -> String {
    let one = |u: u32| match char::from_u32(u) {
        Some(c) if u > 0xFFFF => c.to_string(),
        _ => format!("\\u{u:04x}"),
    };
    ranges
        .iter()
        .flat_map(|r| r.iter())
        .map(|&(a, b)| {
            if a == b {
                one(a)
            } else {
                format!("{}-{}", one(a), one(b))
            }
        })
        .collect()
}

/// Text that is trimmed, then must be 1 to `max` characters with no
/// unsafe character (`enrol::parse_name`, passkey names).
fn trimmed_text(max: usize) -> String {
    let space = format!("[{}]", class(&[WHITESPACE]));
    let any = format!("[^{}]", class(&[UNSAFE]));
    let solid = format!("[^{}]", class(&[UNSAFE, WHITESPACE]));
    format!(
        "^{space}*{solid}(?:{any}{{0,{}}}{solid})?{space}*$",
        max.saturating_sub(2)
    )
}

/// `[0-9]` after every digit atom of `spec` (a digit, or a class) is
/// followed by the separators people type between groups.
fn separated(spec: &str) -> String {
    const SEP: &str = "[ .\\-]*";
    let mut out = String::new();
    let mut chars = spec.chars();
    while let Some(c) = chars.next() {
        out.push(c);
        if c == '[' {
            for d in chars.by_ref() {
                out.push(d);
                if d == ']' {
                    break;
                }
            }
            out.push_str(SEP);
        } else if c.is_ascii_digit() {
            out.push_str(SEP);
        }
    }
    out
}

/// The 16 digits of a NIK (`crate::account::Nik`) or family card number:
/// known province, regency not 00, a real DDMMYY date (day + 40 for women
/// when `women`), serial not 0000. Two-digit years divisible by 4 are leap
/// years (every year from 1927 to 2099).
fn sixteen_digits(women: bool) -> String {
    let province = "(?:1[1-9]|21|3[1-6]|5[1-3]|6[1-5]|7[1-6]|8[12]|9[1-6])";
    let regency = "(?:0[1-9]|[1-9][0-9])";
    let district = "[0-9][0-9]";
    let (low, d29, d30, d31) = if women {
        ("[04][1-9]|[15][0-9]|[26][0-8]", "[26]9", "[37]0", "[37]1")
    } else {
        ("0[1-9]|1[0-9]|2[0-8]", "29", "30", "31")
    };
    let year = "[0-9][0-9]";
    let leap = "(?:[02468][048]|[13579][26])";
    let date = format!(
        "(?:(?:{low})(?:0[1-9]|1[0-2]){year}|{d29}(?:0[13-9]|1[0-2]){year}|{d29}02{leap}\
         |{d30}(?:0[13-9]|1[0-2]){year}|{d31}(?:0[13578]|1[02]){year})"
    );
    let serial = "(?:[1-9][0-9][0-9][0-9]|0[1-9][0-9][0-9]|00[1-9][0-9]|000[1-9])";
    separated(&format!("{province}{regency}{district}{date}{serial}"))
}

/// A NIK as `Nik::parse` takes it: trimmed, separators ignored.
fn nik() -> Value {
    let space = format!("[{}]*", class(&[WHITESPACE]));
    json!({
        "type": "string",
        "pattern": format!("^{space}[ .\\-]*{}{space}$", sixteen_digits(true)),
        "description": "NIK: 16 digits (spaces, dots and dashes between them are ignored), a known province, \
            regency not 00, a real birth date DDMMYY (day + 40 for women), serial not 0000",
        "examples": ["3171014101900001"],
    })
}

/// `^[a-z][a-z0-9_]{min-1..max-1}$` (`crate::modules::is_ident`).
fn ident(max: usize) -> String {
    format!("[a-z][a-z0-9_]{{0,{}}}", max - 1)
}

const PURPOSE: &str = "^[a-z0-9._-]{1,100}$";

/// Largest module record value (`crate::modules::records::MAX_VALUE`), bytes.
const MAX_VALUE: usize = crate::modules::records::MAX_VALUE;

/// Merges `extra` into the property `property` of component schema `schema`.
fn refine(doc: &mut Value, schema: &str, property: &str, extra: Value) {
    let target = at(doc, &["components", "schemas", schema, "properties", property]);
    if let (Value::Object(target), Value::Object(extra)) = (target, extra) {
        target.extend(extra);
    }
}

/// Marks `property` of component schema `schema` required (and not null).
fn require(doc: &mut Value, schema: &str, property: &str, definition: Value) {
    let schema = at(doc, &["components", "schemas", schema]);
    *at(schema, &["properties", property]) = definition;
    if let Some(Value::Array(required)) = schema.get_mut("required") {
        required.push(json!(property));
    } else {
        *at(schema, &["required"]) = json!([property]);
    }
}

pub(super) fn constrain(doc: &mut Value) {
    // OAuth forms: a parameter not defined is ignored (RFC 6749 §3.1), but
    // each appears once and is text: a parameter sent twice is refused.
    for form in ["TokenForm", "TokenQuestion", "ParForm"] {
        *at(doc, &["components", "schemas", form, "additionalProperties"]) = json!({ "type": "string" });
    }
    let purpose = json!({ "pattern": PURPOSE, "description": "Why: a purpose of the catalog (policies/purposes.toml) that lists the module and covers the fields, such as `antrian.call` (1 to 100 of a-z 0-9 . _ -; another identifier: 403)" });
    let field_name = json!({ "type": "string", "pattern": format!("^{}$", ident(48)) });
    let record = json!({ "pattern": "^[A-Za-z0-9_-]{1,64}$", "description": "The module's record id: 1 to 64 letters, digits, `-` or `_`" });
    let batch = |items: Value| json!({ "minItems": 1, "maxItems": crate::modules::MAX_BATCH, "items": items });
    let values = json!({
        "minProperties": 1,
        "propertyNames": field_name,
        "additionalProperties": {
            "type": ["string", "null"],
            "maxLength": MAX_VALUE,
            "pattern": format!("^[^{}]*$", class(&[&[(0x00, 0x08), (0x0B, 0x0C), (0x0E, 0x1F)], UNSAFE.get(1..).unwrap_or_default()])),
        },
        "description": "Values by field name (`null` removes the field). Every name must be a field of the \
            collection; a value is at most 16 KiB of UTF-8 and holds no control or bidirectional-override \
            character (line breaks and tabs only in `multiline` fields).",
    });

    // The module API.
    refine(
        doc,
        "Definition",
        "fields",
        json!({ "minItems": 1, "maxItems": crate::modules::collection::MAX_FIELDS,
        "description": "1 to 64 fields, names distinct. A definition may add fields; existing ones keep their name and \
            classification (409 otherwise). `<collection>.<field>` is at most 100 characters." }),
    );
    refine(
        doc,
        "FieldDef",
        "name",
        json!({ "pattern": format!("^{}$", ident(48)),
        "description": "1 to 48 lower-case letters, digits or underscores, starting with a letter" }),
    );
    refine(doc, "RecordRef", "record", record.clone());
    refine(
        doc,
        "RecordRef",
        "citizen",
        json!({ "description": "The citizen's pseudonym" }),
    );
    refine(doc, "RecordWrite", "record", record);
    refine(
        doc,
        "RecordWrite",
        "citizen",
        json!({ "description": "The citizen's pseudonym" }),
    );
    refine(doc, "RecordWrite", "values", values.clone());
    refine(doc, "WriteOne", "values", values);
    for schema in ["WriteBatch", "DeleteBatch"] {
        refine(
            doc,
            schema,
            "records",
            batch(
                doc.pointer(&format!("/components/schemas/{schema}/properties/records/items"))
                    .cloned()
                    .unwrap_or_default(),
            ),
        );
    }
    let mut required_purpose = purpose.clone();
    *at(&mut required_purpose, &["type"]) = json!("string");
    for schema in ["WriteBatch", "DeleteBatch", "WriteOne", "ReadBatch"] {
        require(doc, schema, "purpose", required_purpose.clone());
    }
    refine(
        doc,
        "ReadBatch",
        "records",
        batch(json!({ "$ref": "#/components/schemas/RecordRef" })),
    );
    refine(
        doc,
        "ReadBatch",
        "fields",
        json!({ "items": field_name,
        "description": "Only these fields, each a field of the collection (default: all)" }),
    );

    // Enrolment, recovery and the counter.
    for schema in ["EnrolStart", "Enrol", "RecoverStart", "Recover", "Verify", "Find"] {
        refine(doc, schema, "nik", nik());
    }
    for schema in ["EnrolStart", "Enrol"] {
        refine(
            doc,
            schema,
            "name",
            json!({ "pattern": trimmed_text(100),
            "description": "The name, trimmed: 1 to 100 characters, no control or bidirectional-override character" }),
        );
    }
    refine(
        doc,
        "Rename",
        "name",
        json!({ "pattern": trimmed_text(60),
        "description": "Trimmed: 1 to 60 characters, no control or bidirectional-override character" }),
    );
    let kk = json!({
        "pattern": format!("^[ .\\-]*{}$", sixteen_digits(false)),
        "description": "Family card number: 16 digits, spaces, dots and dashes ignored; province, regency, \
            issue date DDMMYY and serial as in a NIK (no +40)",
    });
    refine(doc, "IdentityUpdate", "kk", kk);
    refine(doc, "IdentityUpdate", "nik", nik());
    let describe = |text: &str| json!({ "description": text });
    refine(
        doc,
        "ContactUpdate",
        "phone",
        describe(
            "An Indonesian number such as 0812 3456 5678 or +62 812 3456 5678 (spaces, dashes, dots and \
         parentheses ignored; 8 to 12 digits after the country or trunk prefix); `null` removes it",
        ),
    );
    refine(
        doc,
        "ContactUpdate",
        "email",
        describe("An address such as nama@contoh.go.id (at most 254 characters); `null` removes it"),
    );
    refine(doc, "ContactUpdate", "address", describe("`null` removes it"));
    for field in ["full_name", "birth_place"] {
        refine(
            doc,
            "IdentityUpdate",
            field,
            describe("White space folded, then 1 to 100 letters, spaces, apostrophes, periods, commas and hyphens"),
        );
    }
    refine(
        doc,
        "IdentityUpdate",
        "birth_date",
        describe("`YYYY-MM-DD`, from 1900 to today"),
    );
    refine(
        doc,
        "IdentityUpdate",
        "gender",
        describe("`laki-laki` or `perempuan` (also `male`/`l`, `female`/`p`; any case)"),
    );
    let address = at(doc, &["components", "schemas", "AddressInput"]);
    let space = format!("[{}]*", class(&[WHITESPACE]));
    let part = format!("{space}\\+?0*[1-9][0-9]{{0,2}}{space}");
    *at(address, &["properties", "rt_rw", "pattern"]) = json!(format!("^{part}/{part}$"));
    *at(address, &["properties", "rt_rw", "description"]) = json!("RT/RW such as 003/005, each 1 to 999");
    *at(address, &["properties", "postal_code", "pattern"]) = json!(format!("^{space}[0-9]{{5}}{space}$"));
    *at(address, &["description"]) = json!(
        "Address fields as submitted. Text fields have their white space folded and must then be 1 to 200 \
         (street) or 1 to 60 characters with no control or bidirectional-override character."
    );
}

/// Path and query parameters of the module API.
/// The case API as the server takes it: ids by the record-id rule, and the
/// body as one of its two shapes (an event, an identifier, only when
/// closing).
pub(super) fn constrain_cases(doc: &mut Value) {
    let state = |value: &str| json!({ "type": "string", "enum": [value] });
    let open = json!({ "type": "object", "additionalProperties": false, "required": ["state"],
        "properties": { "state": state("open") } });
    let closed = json!({ "type": "object", "additionalProperties": false, "required": ["state"],
        "properties": {
            "state": state("closed"),
            "event": { "type": ["string", "null"], "pattern": format!("^{}$", ident(48)),
                "description": "The event the module records (default `case_closed`); a purpose kept until it ends with it" }
        } });
    *at(doc, &["components", "schemas", "SetCase"]) = json!({ "oneOf": [open, closed] });
    let Some(operation) = doc.pointer_mut("/paths/~1api~1cases~1{citizen}~1{case}/put") else {
        return;
    };
    for parameter in operation
        .get_mut("parameters")
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
    {
        let schema = match parameter.get("name").and_then(Value::as_str) {
            Some("citizen") => json!({ "type": "string", "minLength": 1 }),
            Some("case") => json!({ "type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$" }),
            _ => continue,
        };
        *at(parameter, &["schema"]) = schema;
    }
}

pub(super) fn constrain_parameters(doc: &mut Value) {
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    for (path, item) in paths.iter_mut().filter(|(p, _)| p.starts_with("/api/collections/")) {
        for (method, operation) in item.as_object_mut().into_iter().flatten() {
            for parameter in operation
                .get_mut("parameters")
                .and_then(Value::as_array_mut)
                .into_iter()
                .flatten()
            {
                let name = parameter.get("name").and_then(Value::as_str).map(str::to_owned);
                let schema = match name.as_deref() {
                    Some("collection") => {
                        json!({ "type": "string", "pattern": format!("^[a-z][a-z0-9_]{{1,31}}\\.{}$", ident(32)) })
                    }
                    Some("citizen") => json!({ "type": "string", "minLength": 1 }),
                    Some("record") => json!({ "type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$" }),
                    Some("purpose") => {
                        *at(parameter, &["required"]) = json!(true);
                        json!({ "type": "string", "pattern": PURPOSE })
                    }
                    Some("fields") => {
                        let space = format!("[{}]*", class(&[WHITESPACE]));
                        let entry = format!("{space}(?:{})?{space}", ident(48));
                        json!({ "type": "string", "pattern": format!("^{entry}(?:,{entry})*$") })
                    }
                    _ => continue,
                };
                *at(parameter, &["schema"]) = schema;
            }
            if method == "put"
                && path == "/api/collections/{collection}"
                && let Some(first) = operation.get_mut("parameters").and_then(|p| p.get_mut(0))
            {
                *at(first, &["description"]) = json!(
                    "`<module>.<name>`: the caller's own module name, then 1 to 32 lower-case letters, digits or \
                     underscores starting with a letter (another module's name: 400 for a new collection, 403 \
                     for an existing one)"
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn in_ranges(ranges: &[(u32, u32)], u: u32) -> bool {
        ranges.iter().any(|&(a, b)| (a..=b).contains(&u))
    }

    #[test]
    fn character_tables_match_the_server() {
        for u in 0..=0x10FFFF_u32 {
            let Some(c) = char::from_u32(u) else {
                continue; // a surrogate: never in JSON text
            };
            assert_eq!(
                in_ranges(UNSAFE, u),
                crate::vault::profile::is_unsafe_char(c),
                "U+{u:04X} unsafe"
            );
            assert_eq!(in_ranges(WHITESPACE, u), c.is_whitespace(), "U+{u:04X} white space");
        }
    }

    #[test]
    fn separators_follow_digit_atoms() {
        assert_eq!(
            separated("(?:1[1-9]|21)"),
            "(?:1[ .\\-]*[1-9][ .\\-]*|2[ .\\-]*1[ .\\-]*)"
        );
    }
}
