//! Audit export and verification over a generated, sealed log: the export
//! rate (JSON Lines and CSV), the offline check of an export, and
//! `jaga audit verify` (the release binary) with its time and peak memory,
//! beside the raw sequential read rate of the same database.
//!
//! Run: `cargo bench --bench audit_export` (release build). SQLite;
//! `JAGA_BENCH_EVENTS` sets the log's size (default 1,000,000; the issue's
//! figure is 10,000,000). The log is sealed as the service seals it: a
//! real MAC per event, a signed checkpoint every 1,000 events with its
//! frontier, and the tip.

#![expect(clippy::unwrap_used, clippy::print_stdout, reason = "benchmark binary")]

use std::fs::File;
use std::io::{BufRead as _, BufReader, BufWriter, Write as _};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use jaga::audit::export::{self, Cut, Line};
use jaga::audit::offline::ExportCheck;
use jaga::audit::{checkpoint, csv};
use jaga::keys::KeyRing;
use jaga::store::Db;

#[path = "support/audit_log.rs"]
mod audit_log;

use audit_log::{DAYS, START_US, Seal, generate, raw_pool, raw_read_rate};

const ORIGIN: &str = "bench.jaga.localhost/audit";
const DAY_US: i64 = 86_400_000_000;

/// Writes the cut's events to `path`; returns how many.
async fn write(db: &Db, cut: &Cut, path: &Path, as_csv: bool) -> u64 {
    let mut out = BufWriter::new(File::create(path).unwrap());
    if as_csv {
        write!(out, "{}\r\n", csv::HEADER).unwrap();
    } else {
        serde_json::to_writer(&mut out, &cut.manifest).unwrap();
        out.write_all(b"\n").unwrap();
    }
    let mut next = cut.first();
    let mut n = 0;
    while next < cut.end {
        let lines = export::lines(db, cut, next).await.unwrap();
        next = lines.last().unwrap().seq + 1;
        for line in &lines {
            if as_csv {
                out.write_all(csv::row(line).as_bytes()).unwrap();
            } else {
                serde_json::to_writer(&mut out, line).unwrap();
                out.write_all(b"\n").unwrap();
            }
        }
        n += lines.len() as u64;
    }
    out.flush().unwrap();
    n
}

/// Peak resident memory (VmHWM, kB) of a running process, while it runs.
fn peak_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// Runs `jaga audit verify` on the log; its time, peak memory and what it said.
fn verify_with_binary(dir: &Path, db_path: &Path, keys: &Path) -> (Duration, u64, String) {
    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_jaga"))
        .args(["audit", "verify"])
        .env_clear()
        .env("JAGA_DATABASE_URL", format!("sqlite://{}", db_path.display()))
        .env("JAGA_KEYS_PATH", keys)
        .env("JAGA_AUDIT_ORIGIN", ORIGIN)
        .env("JAGA_AUDIT_CHECKPOINT_FILE", dir.join("no-copy"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut peak = 0;
    while child.try_wait().unwrap().is_none() {
        peak = peak.max(peak_kb(child.id()).unwrap_or(0));
        std::thread::sleep(Duration::from_millis(20));
    }
    let elapsed = started.elapsed();
    let out = child.wait_with_output().unwrap();
    let said = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    assert!(out.status.success(), "{said} {}", String::from_utf8_lossy(&out.stderr));
    (elapsed, peak, said)
}

/// Checks an export file offline; events per second.
fn check_offline(path: &Path, key: &str) -> f64 {
    let started = Instant::now();
    let mut lines = BufReader::new(File::open(path).unwrap()).lines();
    let manifest: export::Manifest = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
    let mut check = ExportCheck::new(&manifest, key).unwrap();
    for text in lines {
        let line: Line = serde_json::from_str(&text.unwrap()).unwrap();
        check.event(&line).unwrap();
    }
    let checked = check.finish().unwrap();
    checked.events as f64 / started.elapsed().as_secs_f64()
}

#[tokio::main]
async fn main() {
    let total = audit_log::events_wanted();
    let dir = tempfile::tempdir().unwrap();
    let (ring, text) = KeyRing::generate().unwrap();
    let keys = dir.path().join("keys.toml");
    jaga::keys::write_new(&keys, &text).unwrap();
    let key = checkpoint::verifier_key(ORIGIN, &ring.audit.public_key());
    let path = dir.path().join("audit.db");
    let url = audit_log::empty_database(&path).await;
    println!("audit export and verification, SQLite, {total} events");
    let pool = raw_pool(&path).await;
    let seal = Seal {
        keys: &ring.audit,
        origin: ORIGIN,
        every: 1_000,
    };
    generate(&pool, total, Some(&seal)).await;
    let rate = raw_read_rate(&pool, total).await;
    pool.close().await;
    println!("  raw sequential read: {rate:.0} rows/s (ceiling)");

    let db = Db::open(&url, 2, false).await.unwrap();
    let (all_from, all_to) = (START_US - DAY_US, START_US + (DAYS + 1) * DAY_US);
    for (name, as_csv) in [("JSON Lines", false), ("CSV", true)] {
        let file = dir.path().join(if as_csv { "all.csv" } else { "all.jsonl" });
        let started = Instant::now();
        let cut = export::cut(&db, ORIGIN, all_from, all_to).await.unwrap();
        let n = write(&db, &cut, &file, as_csv).await;
        let secs = started.elapsed().as_secs_f64();
        let size = std::fs::metadata(&file).unwrap().len();
        println!(
            "  export, whole log, {name:<10}: {n} events in {secs:.1} s = {:.0} events/s ({:.0} MB)",
            n as f64 / secs,
            size as f64 / 1e6
        );
    }
    let day_from = START_US + (DAYS / 2) * DAY_US;
    let started = Instant::now();
    let cut = export::cut(&db, ORIGIN, day_from, day_from + DAY_US).await.unwrap();
    let n = write(&db, &cut, &dir.path().join("day.jsonl"), false).await;
    let secs = started.elapsed().as_secs_f64();
    println!(
        "  export, one day, JSON Lines : {n} events in {:.2} s = {:.0} events/s (cut in the middle of the log)",
        secs,
        n as f64 / secs
    );
    let cut_only = Instant::now();
    let _ = export::cut(&db, ORIGIN, day_from, day_from + DAY_US).await.unwrap();
    println!(
        "  cutting an export (window lookup, frontier and right-hand hashes): {:.1} ms",
        cut_only.elapsed().as_secs_f64() * 1000.0
    );
    db.close().await;
    println!(
        "  offline check of the whole JSON Lines export: {:.0} events/s (one thread)",
        check_offline(&dir.path().join("all.jsonl"), &key)
    );
    println!(
        "  offline check of the one-day export: {:.0} events/s",
        check_offline(&dir.path().join("day.jsonl"), &key)
    );
    let (elapsed, peak, said) = verify_with_binary(dir.path(), &path, &keys);
    println!(
        "  jaga audit verify: {:.1} s = {:.0} events/s, peak resident memory {:.1} MB",
        elapsed.as_secs_f64(),
        total as f64 / elapsed.as_secs_f64(),
        peak as f64 / 1024.0
    );
    println!("    {said}");
}
