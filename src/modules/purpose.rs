//! The purpose a module names for a read or write.

use super::ModuleError;

/// A purpose identifier (`antrian.call_ticket`): 1–100 characters of
/// `a-z 0-9 . _ -`, so no free text (or personal data) enters the log.
/// Only [`Purpose::parse`] makes one; reads take it, so a read without a
/// checked purpose does not compile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Purpose(String);

impl Purpose {
    pub fn parse(identifier: &str) -> Result<Self, ModuleError> {
        let ok = (1..=100).contains(&identifier.len())
            && identifier
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b));
        ok.then(|| Self(identifier.to_owned())).ok_or(ModuleError::Purpose)
    }

    /// The purpose a request must name (reads, writes, deletes).
    pub fn required(identifier: Option<&str>) -> Result<Self, ModuleError> {
        Self::parse(identifier.ok_or(ModuleError::Purpose)?)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::Purpose;

    #[test]
    fn identifiers_only() {
        assert!(Purpose::parse("antrian.call_ticket").is_ok());
        for bad in ["", "Marketing", "antrian call", "nik=3171", &"a".repeat(101)] {
            assert!(Purpose::parse(bad).is_err(), "{bad:?}");
        }
        assert!(Purpose::required(None).is_err());
    }
}
