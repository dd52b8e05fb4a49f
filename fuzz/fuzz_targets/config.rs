//! Configuration: `jaga.toml` text and `JAGA_*` environment variables,
//! through `Layers::read` and `Config::from_layers` (production and dev).
//!
//! Input: TOML text, then optionally a NUL byte and environment lines
//! `KEY=VALUE` (one per line). `Layers::read` takes a path, so the TOML is
//! written to one temporary file per process. A `JAGA_…_FILE` variable
//! names a file to read: its value is written to a second temporary file
//! and the variable points there, so no input reads arbitrary paths.

#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use jaga::config::{Config, Layers};
use libfuzzer_sys::fuzz_target;

fn temp(kind: &str) -> PathBuf {
    std::env::temp_dir().join(format!("jaga-fuzz-{}-{kind}", std::process::id()))
}

fn paths() -> &'static (PathBuf, PathBuf) {
    static PATHS: OnceLock<(PathBuf, PathBuf)> = OnceLock::new();
    PATHS.get_or_init(|| (temp("config.toml"), temp("secret")))
}

fn check(layers: &Layers) {
    for dev in [false, true] {
        if let Ok(config) = Config::from_layers(layers, dev) {
            assert_eq!(config.dev, dev);
            assert!(!config.server.listen.is_empty());
            let _ = config.describe();
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let (file_path, secret_path) = paths();
    let (toml, env) = match data.iter().position(|&b| b == 0) {
        Some(at) => (data.get(..at).unwrap_or_default(), data.get(at + 1..).unwrap_or_default()),
        None => (data, &[][..]),
    };
    let env: Vec<(String, String)> = String::from_utf8_lossy(env)
        .lines()
        .filter_map(|line| line.split_once('='))
        .map(|(k, v)| {
            if k.ends_with("_FILE") && std::fs::write(secret_path, v).is_ok() {
                (k.to_owned(), secret_path.display().to_string())
            } else {
                (k.to_owned(), v.to_owned())
            }
        })
        .collect();

    if let Ok(layers) = Layers::read(None, env.clone()) {
        check(&layers);
    }
    if std::fs::write(file_path, toml).is_ok()
        && let Ok(layers) = Layers::read(Some(file_path), env)
    {
        check(&layers);
    }
});
