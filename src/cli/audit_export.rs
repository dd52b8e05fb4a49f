//! `jaga audit export` and `jaga audit verify --export`.
//!
//! An export directory holds `manifest.json` and one of `events.jsonl` or
//! `events.csv`. The console's JSON Lines export is one file: the manifest
//! on its first line, then the events; `verify --export` takes either.

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write as _};
use std::path::{Path, PathBuf};

use anyhow::Context as _;

use super::context::{Offline, operator};
use super::{EXIT_TAMPERED, say};
use crate::audit::export::{self, Line, Manifest};
use crate::audit::offline::ExportCheck;
use crate::audit::verify::Failure;
use crate::audit::{Context, csv};
use crate::config::Config;
use crate::console::export::{Asked, Format, start};

const MANIFEST: &str = "manifest.json";

fn events_file(format: Format) -> String {
    format!("events.{}", format.as_str())
}

/// Writes the export into `DIR.partial`, then renames it to `DIR`, so a
/// failed export leaves no directory that looks complete.
pub async fn export(config: &Config, asked: &Asked, out: &Path) -> anyhow::Result<()> {
    let window = asked.check().map_err(|e| anyhow::anyhow!("{e}"))?;
    anyhow::ensure!(!out.exists(), "{} already exists; name a new directory", out.display());
    let mut partial = out.as_os_str().to_owned();
    partial.push(".partial");
    let partial = PathBuf::from(partial);
    if partial.exists() {
        std::fs::remove_dir_all(&partial).with_context(|| format!("cannot remove {}", partial.display()))?;
    }
    std::fs::create_dir_all(&partial).with_context(|| format!("cannot create {}", partial.display()))?;
    let offline = Offline::open(config).await?;
    let written = write(&offline, config, window, &partial).await;
    offline.close().await;
    let (manifest, format) = match written {
        Ok(done) => done,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&partial);
            return Err(e);
        }
    };
    std::fs::rename(&partial, out)
        .with_context(|| format!("cannot rename {} to {}", partial.display(), out.display()))?;
    say(&format!(
        "exported {} events (sequence numbers {} to {}) cut at the signed checkpoint of size {} into {}/{}\n\
         check it anywhere with: jaga audit verify --export {} --key \"$(jaga audit public-key)\"",
        manifest.count,
        manifest.first_seq,
        (manifest.first_seq + manifest.count).saturating_sub(1),
        manifest.checkpoint.lines().nth(1).unwrap_or("?"),
        out.display(),
        events_file(format),
        out.display(),
    ))
}

async fn write(
    offline: &Offline,
    config: &Config,
    window: crate::console::export::Window,
    dir: &Path,
) -> anyhow::Result<(Manifest, Format)> {
    let cut = start(
        &offline.db,
        &offline.writer,
        &config.audit.origin,
        operator(),
        window,
        &Context::default(),
    )
    .await?;
    std::fs::write(dir.join(MANIFEST), serde_json::to_vec_pretty(&cut.manifest)?)?;
    let mut out = BufWriter::new(File::create(dir.join(events_file(window.format)))?);
    if window.format == Format::Csv {
        write!(out, "{}\r\n", csv::HEADER)?;
    }
    let progress = super::keys::bar(cut.manifest.count, "exporting audit events")?;
    let mut next = cut.first();
    while next < cut.end {
        let lines = export::lines(&offline.db, &cut, next).await?;
        let last = lines.last().context("the log ended before the export's end")?;
        next = last.seq + 1;
        for line in &lines {
            match window.format {
                Format::Jsonl => {
                    serde_json::to_writer(&mut out, line)?;
                    out.write_all(b"\n")?;
                }
                Format::Csv => out.write_all(csv::row(line).as_bytes())?,
            }
        }
        progress.inc(lines.len() as u64);
    }
    progress.finish_and_clear();
    out.into_inner().map_err(|e| e.into_error())?.sync_all()?;
    Ok((cut.manifest, window.format))
}

/// The manifest and a reader of the events, with their form.
fn open(path: &Path) -> anyhow::Result<(Manifest, Box<dyn BufRead>, Format)> {
    let read = |p: &Path| File::open(p).with_context(|| format!("cannot read {}", p.display()));
    if path.is_dir() {
        let manifest: Manifest = serde_json::from_reader(read(&path.join(MANIFEST))?)
            .with_context(|| format!("{} is not an export manifest", path.join(MANIFEST).display()))?;
        for format in [Format::Jsonl, Format::Csv] {
            let file = path.join(events_file(format));
            if file.exists() {
                let mut events = BufReader::new(read(&file)?);
                if format == Format::Csv {
                    let mut header = String::new();
                    events.read_line(&mut header)?;
                    anyhow::ensure!(
                        header.trim_end() == csv::HEADER,
                        "{} has another header",
                        file.display()
                    );
                }
                return Ok((manifest, Box::new(events), format));
            }
        }
        anyhow::bail!("{} holds neither events.jsonl nor events.csv", path.display());
    }
    let mut events = BufReader::new(read(path)?);
    let mut first = String::new();
    events.read_line(&mut first)?;
    let manifest: Manifest = serde_json::from_str(&first)
        .with_context(|| format!("the first line of {} is not an export manifest", path.display()))?;
    Ok((manifest, Box::new(events), Format::Jsonl))
}

fn check(manifest: &Manifest, events: Box<dyn BufRead>, format: Format, key: &str) -> Result<u64, Failure> {
    let mut check = ExportCheck::new(manifest, key)?;
    for (at, text) in (manifest.first_seq..).zip(events.lines()) {
        let text = text.map_err(|e| Failure {
            seq: Some(at),
            reason: format!("cannot read the events: {e}"),
        })?;
        let line: Option<Line> = match format {
            Format::Jsonl => serde_json::from_str(&text).ok(),
            Format::Csv => csv::parse(&text),
        };
        let line = line.ok_or_else(|| Failure {
            seq: Some(at),
            reason: format!("the line after event {} is not an event", at.saturating_sub(1)),
        })?;
        check.event(&line)?;
    }
    check.finish().map(|c| c.checkpoint_size)
}

/// Checks an export offline. Exit 0 if it is intact, 3 if not.
pub fn verify(path: &Path, key: &str) -> anyhow::Result<u8> {
    let (manifest, events, format) = open(path)?;
    match check(&manifest, events, format, key) {
        Ok(size) => {
            say(&format!(
                "audit export intact: {} events (sequence numbers {} to {}) of {}, matching its signed checkpoint \
                 of size {size}",
                manifest.count,
                manifest.first_seq,
                (manifest.first_seq + manifest.count).saturating_sub(1),
                manifest.origin
            ))?;
            Ok(0)
        }
        Err(failure) => {
            eprintln!("jaga: audit export verification failed: {failure}");
            Ok(EXIT_TAMPERED)
        }
    }
}
