//! Mutual TLS for modules (RFC 8705): `tls_client_auth` client
//! authentication and certificate-bound access tokens (`cnf.x5t#S256`).
//!
//! The TLS listener verifies a presented certificate's chain against the
//! operator's client CA bundle (`tls.client_ca_path`) before any request is
//! read; what is decided here is whose certificate it is. A module is
//! registered with its certificate's subject distinguished name, written as
//! RFC 4514 strings are (most specific first, as `openssl x509 -noout
//! -subject -nameopt RFC2253` prints it). Both sides are brought to one
//! canonical form before they are compared: attribute names in capitals,
//! no spaces around separators, values escaped the one RFC 4514 way.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;

/// The certificate a client presented on its TLS connection (DER), its
/// chain already verified against the client CA bundle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerCert(pub Vec<u8>);

impl PeerCert {
    /// `x5t#S256`: the base64url SHA-256 of the certificate (RFC 8705 §3.1).
    pub fn thumbprint(&self) -> String {
        B64URL.encode(crate::ids::sha256(&self.0))
    }

    /// The subject in canonical RFC 4514 form; `None` if the certificate
    /// does not parse or its subject holds a value that is not text.
    pub fn subject(&self) -> Option<String> {
        let (_, cert) = x509_parser::parse_x509_certificate(&self.0).ok()?;
        let mut rdns = Vec::new();
        for rdn in cert.subject().iter_rdn() {
            let mut parts = Vec::new();
            for atv in rdn.iter() {
                let oid = atv.attr_type().to_id_string();
                let value = atv.as_str().ok()?;
                parts.push(format!("{}={}", name_of(&oid), escape(value)));
            }
            rdns.push(parts.join("+"));
        }
        // RFC 4514 §2.1: the last RDN of the sequence is written first.
        rdns.reverse();
        Some(rdns.join(","))
    }
}

/// The short names RFC 4514 §3 defines; any other type is its dotted OID.
const NAMES: &[(&str, &str)] = &[
    ("CN", "2.5.4.3"),
    ("L", "2.5.4.7"),
    ("ST", "2.5.4.8"),
    ("O", "2.5.4.10"),
    ("OU", "2.5.4.11"),
    ("C", "2.5.4.6"),
    ("STREET", "2.5.4.9"),
    ("DC", "0.9.2342.19200300.100.1.25"),
    ("UID", "0.9.2342.19200300.100.1.1"),
];

fn name_of(oid: &str) -> String {
    NAMES
        .iter()
        .find(|(_, o)| *o == oid)
        .map_or_else(|| oid.to_owned(), |(n, _)| (*n).to_owned())
}

/// Escapes a value as RFC 4514 §2.4 asks (the characters it requires, and
/// nothing else, so that one value has one spelling).
fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let last = value.chars().count().saturating_sub(1);
    for (i, c) in value.chars().enumerate() {
        let needs = matches!(c, '"' | '+' | ',' | ';' | '<' | '>' | '\\')
            || (i == 0 && matches!(c, ' ' | '#'))
            || (i == last && c == ' ');
        if c == '\0' {
            out.push_str("\\00");
        } else {
            if needs {
                out.push('\\');
            }
            out.push(c);
        }
    }
    out
}

/// Why a written distinguished name is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the subject DN {0}")]
pub struct BadName(String);

fn bad(m: &str) -> BadName {
    BadName(m.to_owned())
}

/// The canonical form of a distinguished name an operator wrote.
pub fn canonical(written: &str) -> Result<String, BadName> {
    if written.len() > 1024 || written.chars().any(char::is_control) {
        return Err(bad("is at most 1024 characters, without control characters"));
    }
    let mut rdns = Vec::new();
    for rdn in split_unescaped(written, ',')? {
        let mut parts = Vec::new();
        for atv in split_unescaped(&rdn, '+')? {
            let (name, value) = atv
                .split_once('=')
                .ok_or_else(|| bad("has a part without '=' (write it as CN=…,O=…)"))?;
            let name = name.trim();
            let kind = if name.chars().all(|c| c.is_ascii_digit() || c == '.') && name.contains('.') {
                name_of(name)
            } else {
                let upper = name.to_ascii_uppercase();
                if !NAMES.iter().any(|(n, _)| *n == upper) {
                    return Err(BadName(format!(
                        "names the attribute {name:?}: use CN, L, ST, O, OU, C, STREET, DC, UID or a dotted OID"
                    )));
                }
                upper
            };
            let value = unescape(value.trim_start())?;
            if value.is_empty() {
                return Err(bad("has an empty value"));
            }
            parts.push(format!("{kind}={}", escape(&value)));
        }
        rdns.push(parts.join("+"));
    }
    if rdns.is_empty() {
        return Err(bad("is empty"));
    }
    Ok(rdns.join(","))
}

/// Splits at `sep` where it is not escaped, keeping escapes for `unescape`.
fn split_unescaped(s: &str, sep: char) -> Result<Vec<String>, BadName> {
    let mut out = vec![String::new()];
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        let current = out.last_mut().ok_or_else(|| bad("is empty"))?;
        if c == '\\' {
            current.push(c);
            current.push(chars.next().ok_or_else(|| bad("ends with a lone '\\'"))?);
        } else if c == sep {
            out.push(String::new());
        } else {
            current.push(c);
        }
    }
    Ok(out)
}

/// The value an escaped RFC 4514 string stands for; trailing unescaped
/// spaces are separators' padding and dropped.
fn unescape(s: &str) -> Result<String, BadName> {
    if s.starts_with('#') {
        return Err(bad("has a hex-encoded (#…) value: write the text"));
    }
    let mut out = String::new();
    let mut kept = 0;
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            if c != ' ' {
                kept = out.len();
            }
            continue;
        }
        let next = chars.next().ok_or_else(|| bad("ends with a lone '\\'"))?;
        if next.is_ascii_hexdigit() {
            let low = chars
                .next()
                .filter(char::is_ascii_hexdigit)
                .ok_or_else(|| bad("has a bad \\XX escape"))?;
            let byte = u8::from_str_radix(&format!("{next}{low}"), 16).map_err(|_| bad("has a bad \\XX escape"))?;
            if !byte.is_ascii() {
                return Err(bad("escapes a non-ASCII byte: write the character itself"));
            }
            out.push(char::from(byte));
        } else {
            out.push(next);
        }
        kept = out.len();
    }
    out.truncate(kept);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_names_have_one_canonical_form() {
        let a = canonical("cn = antrian.rangkui.go.id, o=Kecamatan Rangkui ,C=ID").unwrap();
        assert_eq!(a, "CN=antrian.rangkui.go.id,O=Kecamatan Rangkui,C=ID");
        assert_eq!(canonical("2.5.4.3=x,2.5.4.10=y").unwrap(), "CN=x,O=y");
        assert_eq!(canonical("CN=a\\,b,O=c").unwrap(), "CN=a\\,b,O=c");
        assert_eq!(canonical("CN=a\\2cb").unwrap(), "CN=a\\,b");
        assert_eq!(canonical("CN=\\ lead").unwrap(), "CN=\\ lead");
        assert_eq!(canonical("CN=x+UID=7").unwrap(), "CN=x+UID=7");
    }

    #[test]
    fn bad_names_are_refused() {
        for bad in ["", "CN", "CN=", "FOO=x", "CN=x,", "CN=#0403", "CN=x\\", "CN=\\e2"] {
            assert!(canonical(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn escaping_is_what_rfc_4514_requires() {
        assert_eq!(escape("a,b+c"), "a\\,b\\+c");
        assert_eq!(escape("#x "), "\\#x\\ ");
        assert_eq!(escape("Dinas Kependudukan"), "Dinas Kependudukan");
    }
}
