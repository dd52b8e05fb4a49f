//! Layering: defaults < `jaga.toml` < `JAGA_*` environment variables.
//!
//! The file and the environment are flattened into one map of dotted keys
//! to raw values, checked against [`super::spec::KEYS`]; typed parsing and
//! defaults happen in [`super::Config::from_layers`].

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use secrecy::SecretString;

use super::ConfigError;
use super::spec::{self, Kind};

/// A value as it arrived, before typed parsing.
#[derive(Debug)]
pub enum Raw {
    Str(SecretString),
    List(Vec<String>),
    Int(i64),
}

/// Where the effective configuration came from.
#[derive(Debug, Default)]
pub struct Layers {
    pub file: Option<PathBuf>,
    pub values: BTreeMap<&'static str, Raw>,
}

/// Environment variables starting with `JAGA_` that are not configuration keys.
const NON_KEY_VARS: &[&str] = &["JAGA_CONFIG"];
const NON_KEY_PREFIXES: &[&str] = &["JAGA_TEST_"];

impl Layers {
    /// Reads the file (if any) and the given environment.
    pub fn read(file: Option<&Path>, env: impl IntoIterator<Item = (String, String)>) -> Result<Self, ConfigError> {
        let mut layers = Layers::default();
        if let Some(path) = file {
            let text = std::fs::read_to_string(path).map_err(|e| ConfigError::File {
                path: path.display().to_string(),
                reason: e.to_string(),
            })?;
            let table: toml::Table = toml::from_str(&text).map_err(|e| ConfigError::File {
                path: path.display().to_string(),
                reason: e.message().to_string(),
            })?;
            layers.merge_table(&table)?;
            layers.file = Some(path.to_path_buf());
        }
        let mut env: Vec<(String, String)> = env.into_iter().filter(|(k, _)| k.starts_with("JAGA_")).collect();
        env.sort();
        for (name, value) in env {
            layers.merge_env(&name, value)?;
        }
        Ok(layers)
    }

    fn merge_table(&mut self, table: &toml::Table) -> Result<(), ConfigError> {
        for (section, inner) in table {
            let toml::Value::Table(inner) = inner else {
                return Err(ConfigError::UnknownKey(section.clone()));
            };
            for (name, value) in inner {
                let dotted = format!("{section}.{name}");
                let spec = spec::find(&dotted).ok_or(ConfigError::UnknownKey(dotted.clone()))?;
                let raw = from_toml(spec.kind, value).ok_or_else(|| ConfigError::Invalid {
                    key: dotted.clone(),
                    reason: format!("expected {}", kind_name(spec.kind)),
                })?;
                self.values.insert(spec.name, raw);
            }
        }
        Ok(())
    }

    fn merge_env(&mut self, var: &str, value: String) -> Result<(), ConfigError> {
        if NON_KEY_VARS.contains(&var) || NON_KEY_PREFIXES.iter().any(|p| var.starts_with(p)) {
            return Ok(());
        }
        if let Some(spec) = spec::KEYS.iter().find(|k| spec::env_name(k.name) == var) {
            let raw = from_env(spec.kind, &value).ok_or_else(|| ConfigError::Invalid {
                key: format!("{} ({var})", spec.name),
                reason: format!("expected {}", kind_name(spec.kind)),
            })?;
            self.values.insert(spec.name, raw);
            return Ok(());
        }
        let secret_file = spec::KEYS
            .iter()
            .find(|k| k.secret && format!("{}_FILE", spec::env_name(k.name)) == var);
        if let Some(spec) = secret_file {
            let text = std::fs::read_to_string(&value).map_err(|e| ConfigError::Invalid {
                key: format!("{} ({var})", spec.name),
                reason: format!("cannot read {value}: {e}"),
            })?;
            let text = text.trim_end_matches(['\n', '\r']).to_owned();
            self.values.insert(spec.name, Raw::Str(SecretString::from(text)));
            return Ok(());
        }
        Err(ConfigError::UnknownKey(var.to_owned()))
    }
}

fn kind_name(kind: Kind) -> &'static str {
    match kind {
        Kind::Str => "a string",
        Kind::StrList => "a list of strings",
        Kind::Int => "an integer",
    }
}

fn from_toml(kind: Kind, value: &toml::Value) -> Option<Raw> {
    match (kind, value) {
        (Kind::Str, toml::Value::String(s)) => Some(Raw::Str(SecretString::from(s.clone()))),
        (Kind::Int, toml::Value::Integer(i)) => Some(Raw::Int(*i)),
        (Kind::StrList, toml::Value::String(s)) => Some(Raw::List(vec![s.clone()])),
        (Kind::StrList, toml::Value::Array(items)) => items
            .iter()
            .map(|v| v.as_str().map(str::to_owned))
            .collect::<Option<Vec<_>>>()
            .map(Raw::List),
        _ => None,
    }
}

fn from_env(kind: Kind, value: &str) -> Option<Raw> {
    match kind {
        Kind::Str => Some(Raw::Str(SecretString::from(value.to_owned()))),
        Kind::Int => value.trim().parse().ok().map(Raw::Int),
        Kind::StrList => Some(Raw::List(
            value
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn unknown_environment_key_is_named() {
        let err = Layers::read(None, env(&[("JAGA_DATABSE_URL", "x")])).unwrap_err();
        assert_eq!(err.to_string(), "JAGA_DATABSE_URL: unknown configuration key");
    }

    #[test]
    fn environment_sets_typed_values() {
        let layers = Layers::read(
            None,
            env(&[
                ("JAGA_SERVER_LISTEN", "127.0.0.1:1, [::1]:2"),
                ("JAGA_SERVER_MAX_BODY_BYTES", "2048"),
                ("PATH", "/bin"),
            ]),
        )
        .unwrap();
        assert!(matches!(layers.values.get("server.listen"), Some(Raw::List(v)) if v.len() == 2));
        assert!(matches!(
            layers.values.get("server.max_body_bytes"),
            Some(Raw::Int(2048))
        ));
    }

    #[test]
    fn non_integer_is_refused_with_key_name() {
        let err = Layers::read(None, env(&[("JAGA_SERVER_MAX_BODY_BYTES", "big")])).unwrap_err();
        assert!(err.to_string().starts_with("server.max_body_bytes"));
    }

    #[test]
    fn secret_can_come_from_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("url");
        std::fs::write(&path, "postgres://db/jaga\n").unwrap();
        let layers = Layers::read(None, env(&[("JAGA_DATABASE_URL_FILE", path.to_str().unwrap())])).unwrap();
        let Some(Raw::Str(s)) = layers.values.get("database.url") else {
            panic!("missing")
        };
        use secrecy::ExposeSecret;
        assert_eq!(s.expose_secret(), "postgres://db/jaga");
    }

    #[test]
    fn unknown_file_key_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("jaga.toml");
        std::fs::write(&path, "[server]\nlisen = \"x\"\n").unwrap();
        let err = Layers::read(Some(&path), Vec::new()).unwrap_err();
        assert_eq!(err.to_string(), "server.lisen: unknown configuration key");
    }
}
