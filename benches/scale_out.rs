//! Several `jaga serve` processes on one PostgreSQL database: module record
//! writes spread over the instances, for 1, 2 and 3 instances, on two
//! workloads (hot keys: five citizens; spread: 1,000 citizens).
//!
//! For every run it counts the answers that were not 2xx, then checks what
//! is stored: every acknowledged write is present (a unique record id per
//! write), the audit log's sequence numbers are dense, and
//! `jaga audit verify` passes. Any error or lost write fails the run.
//!
//! Run (figures, release): `cargo bench --bench scale_out`
//! Run (CI check, debug):  `cargo bench --profile dev --bench scale_out -- --check`
//! Options: `--database postgres://…` (a server; a fresh database is made
//! and dropped), `--instances 1,2,3`, `--writes N`, `--callers N`,
//! `--runs N`, `--first-only` (all traffic to the first instance, the
//! others idle: tells the cost of more processes from that of sharing). The load generator runs on the same machine and shares its
//! cores with the instances and PostgreSQL.

#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::indexing_slicing,
    reason = "benchmark binary"
)]

use std::io::{BufRead as _, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use jaga::app::App;
use jaga::audit::Context;
use jaga::config::{Config, Layers};
use jaga::keys::KeyRing;
use jaga::modules::collection::{self, Classification, FieldDef};
use sqlx::Connection as _;

#[path = "support/mod.rs"]
mod support;
use support::citizen;

const BIN: &str = env!("CARGO_BIN_EXE_jaga");
const COLLECTION: &str = "antrian.ticket";
const METRICS_TOKEN: &str = "scale-out-metrics-token-0123456789abcdef";

/// (batches, units) the writers of `bases` have run so far.
async fn writer_counts(bases: &[String]) -> (u64, u64) {
    let client = reqwest::Client::new();
    let mut total = (0, 0);
    for base in bases {
        let text = client
            .get(format!("{base}/metrics"))
            .bearer_auth(METRICS_TOKEN)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let read = |name: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.trim().parse::<u64>().ok())
                .unwrap_or(0)
        };
        total.0 += read("jaga_writer_batches_total ");
        total.1 += read("jaga_writer_units_total ");
    }
    total
}

struct Options {
    server: String,
    instances: Vec<usize>,
    writes: usize,
    callers: usize,
    runs: usize,
    first_only: bool,
}

fn options() -> Options {
    let args: Vec<String> = std::env::args().collect();
    let value = |name: &str| args.iter().position(|a| a == name).map(|i| args[i + 1].clone());
    let check = args.iter().any(|a| a == "--check");
    Options {
        server: value("--database")
            .or_else(|| std::env::var("JAGA_TEST_POSTGRES_URL").ok())
            .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/postgres".to_owned()),
        instances: value("--instances").map_or(vec![1, 2, 3], |v| v.split(',').map(|n| n.parse().unwrap()).collect()),
        writes: value("--writes").map_or(if check { 600 } else { 3_000 }, |v| v.parse().unwrap()),
        callers: value("--callers").map_or(if check { 600 } else { 64 }, |v| v.parse().unwrap()),
        runs: value("--runs").map_or(if check { 1 } else { 3 }, |v| v.parse().unwrap()),
        first_only: args.iter().any(|a| a == "--first-only"),
    }
}

/// `url` naming database `name` instead.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = url.split_once('?').map_or((url, None), |(b, q)| (b, Some(q)));
    let host_end = base[base.find("://").map_or(0, |i| i + 3)..]
        .find('/')
        .map_or(base.len(), |i| i + base.find("://").map_or(0, |i| i + 3));
    match query {
        Some(q) => format!("{}/{name}?{q}", &base[..host_end]),
        None => format!("{}/{name}", &base[..host_end]),
    }
}

struct Setup {
    dir: tempfile::TempDir,
    url: String,
    key: String,
    hot: Vec<String>,
    spread: Vec<String>,
}

impl Setup {
    fn env(&self, instance: usize) -> Vec<(String, String)> {
        let dir = self.dir.path();
        [
            ("PATH", std::env::var("PATH").unwrap_or_default()),
            ("JAGA_DATABASE_URL", self.url.clone()),
            ("JAGA_KEYS_PATH", dir.join("keys.toml").display().to_string()),
            (
                "JAGA_POLICIES_DIR",
                concat!(env!("CARGO_MANIFEST_DIR"), "/policies").to_owned(),
            ),
            (
                "JAGA_AUDIT_CHECKPOINT_FILE",
                dir.join(format!("checkpoint-{instance}.txt")).display().to_string(),
            ),
            ("JAGA_AUDIT_ORIGIN", "scale-out.jaga.test".to_owned()),
            ("JAGA_WEBAUTHN_RP_ID", "localhost".to_owned()),
            ("JAGA_WEBAUTHN_ORIGINS", "http://localhost:8080".to_owned()),
            ("JAGA_SERVER_LISTEN", "127.0.0.1:0".to_owned()),
            ("JAGA_LOG_FORMAT", "json".to_owned()),
            ("JAGA_LOG_FILTER", "warn,jaga=info".to_owned()),
            ("JAGA_SERVER_METRICS_TOKEN", METRICS_TOKEN.to_owned()),
            // It measures record writes, not module authentication: the static
            // key keeps the load generator simple (OAuth has its own benchmark).
            ("JAGA_MODULES_STATIC_KEYS", "allow".to_owned()),
        ]
        .map(|(k, v)| (k.to_owned(), v))
        .to_vec()
    }
}

async fn create_database(server: &str) -> (String, String) {
    let mut bytes = [0u8; 6];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes).unwrap();
    let name = format!("jaga_scale_{}", hex::encode(bytes));
    let mut admin = sqlx::PgConnection::connect(server).await.unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("create database {name}")))
        .execute(&mut admin)
        .await
        .unwrap();
    (name.clone(), with_database(server, &name))
}

async fn drop_database(server: &str, name: &str) {
    let mut admin = sqlx::PgConnection::connect(server).await.unwrap();
    let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "drop database if exists {name} with (force)"
    )))
    .execute(&mut admin)
    .await;
}

/// A module, its collection and the citizens, through the library (an
/// in-process instance that stops before the measured ones start).
async fn seed(dir: tempfile::TempDir, url: String) -> Setup {
    let (keys, text) = KeyRing::generate().unwrap();
    let path = dir.path().join("keys.toml");
    std::fs::write(&path, text.as_bytes()).unwrap();
    std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    let partial = Setup {
        dir,
        url,
        key: String::new(),
        hot: Vec::new(),
        spread: Vec::new(),
    };
    let env = partial.env(0);
    let config = Config::from_layers(&Layers::read(None, env).unwrap(), false).unwrap();
    let app = App::start(config, keys).await.unwrap();
    let (module, key) = jaga::modules::add(&app.state.writer, "antrian", "bench").await.unwrap();
    let fields = ["queue_number", "service"]
        .iter()
        .map(|f| FieldDef {
            name: (*f).to_owned(),
            classification: Classification::Personal,
            multiline: false,
        })
        .collect();
    collection::define(
        &app.state.db,
        &app.state.writer,
        &module,
        COLLECTION,
        fields,
        &Context::default(),
    )
    .await
    .unwrap();
    let mut all = Vec::new();
    for i in 0..1_000 {
        all.push(citizen(&app.state, i).await);
    }
    app.stop().await;
    Setup {
        key: key.to_string(),
        hot: all[..5].to_vec(),
        spread: all,
        ..partial
    }
}

/// A running `jaga serve` process.
struct Instance {
    child: Child,
    base: String,
}

impl Instance {
    fn start(env: Vec<(String, String)>) -> Instance {
        let mut child = Command::new(BIN)
            .arg("serve")
            .env_clear()
            .envs(env)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Ok(v) = serde_json::from_str::<serde_json::Value>(&line) {
                    if v["message"] == "listening" {
                        let _ = tx.send(format!("http://{}", v["server.addr"].as_str().unwrap_or_default()));
                    } else if v["level"] == "ERROR" || v["level"] == "WARN" {
                        println!("    instance log: {line}");
                    }
                }
            }
        });
        let base = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("instance did not start");
        Instance { child, base }
    }

    fn stop(mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

/// What one run measured.
struct Run {
    per_second: f64,
    errors: u64,
    acknowledged: u64,
}

async fn drive(bases: &[String], key: &str, citizens: &[String], writes: usize, callers: usize, tag: &str) -> Run {
    let next = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let acknowledged = Arc::new(AtomicU64::new(0));
    let citizens = Arc::new(citizens.to_vec());
    let bases = Arc::new(bases.to_vec());
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..callers.min(writes) {
        let (next, errors, acknowledged) = (next.clone(), errors.clone(), acknowledged.clone());
        let (citizens, bases, key, tag) = (citizens.clone(), bases.clone(), key.to_owned(), tag.to_owned());
        let client = reqwest::Client::builder().pool_max_idle_per_host(4).build().unwrap();
        tasks.push(tokio::spawn(async move {
            loop {
                let n = usize::try_from(next.fetch_add(1, Ordering::Relaxed)).unwrap();
                if n >= writes {
                    return;
                }
                let base = &bases[n % bases.len()];
                let citizen = &citizens[n % citizens.len()];
                let url = format!("{base}/api/collections/{COLLECTION}/records/{citizen}/{tag}-{n}");
                let body = serde_json::json!({ "purpose": "antrian.call", "values": { "queue_number": format!("A-{n}"), "service": "KTP" } });
                match client.put(url).bearer_auth(&key).json(&body).send().await {
                    Ok(r) if r.status().is_success() => {
                        acknowledged.fetch_add(1, Ordering::Relaxed);
                    }
                    Ok(r) => {
                        let status = r.status();
                        let text = r.text().await.unwrap_or_default();
                        if errors.fetch_add(1, Ordering::Relaxed) < 5 {
                            println!("    error: {status} {text}");
                        }
                    }
                    Err(e) => {
                        if errors.fetch_add(1, Ordering::Relaxed) < 5 {
                            println!("    error: {e}");
                        }
                    }
                }
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let elapsed = started.elapsed().as_secs_f64();
    Run {
        per_second: writes as f64 / elapsed,
        errors: errors.load(Ordering::Relaxed),
        acknowledged: acknowledged.load(Ordering::Relaxed),
    }
}

/// Every acknowledged write stored, dense audit sequence numbers, and the
/// log verifying from the outside.
async fn check_stored(setup: &Setup, tag: &str, acknowledged: u64) -> Result<(), String> {
    let mut conn = sqlx::PgConnection::connect(&setup.url).await.unwrap();
    let (stored,): (i64,) = sqlx::query_as(
        "select count(distinct (account_id, record_id)) from record_field where collection = $1 and record_id like $2",
    )
    .bind(COLLECTION)
    .bind(format!("{tag}-%"))
    .fetch_one(&mut conn)
    .await
    .unwrap();
    if u64::try_from(stored).unwrap() != acknowledged {
        return Err(format!("{acknowledged} writes acknowledged but {stored} stored"));
    }
    let (count, end): (i64, i64) = sqlx::query_as("select count(*), coalesce(max(seq) + 1, 0) from audit_event")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    if count != end {
        return Err(format!("audit sequence numbers not dense: {count} events up to {end}"));
    }
    let out = Command::new(BIN)
        .args(["audit", "verify"])
        .env_clear()
        .envs(setup.env(0))
        .output()
        .unwrap();
    if !out.status.success() {
        return Err(format!(
            "jaga audit verify failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(())
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

#[tokio::main]
async fn main() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let opts = options();
    let (name, url) = create_database(&opts.server).await;
    let setup = seed(tempfile::tempdir().unwrap(), url).await;
    println!(
        "scale_out: {} writes per run, {} callers, {} run(s) each; cores: {}",
        opts.writes,
        opts.callers,
        opts.runs,
        std::thread::available_parallelism().map_or(0, usize::from)
    );
    let mut failed = false;
    let mut serial = 0;
    let workloads = [
        ("hot keys (5 citizens)", &setup.hot),
        ("spread (1,000 citizens)", &setup.spread),
    ];
    // Rates by (instances, workload). Rounds interleave the instance
    // counts, so a drift of the machine weighs on all of them alike.
    let mut rates: std::collections::BTreeMap<(usize, usize), Vec<f64>> = std::collections::BTreeMap::new();
    for _ in 0..opts.runs {
        for &n in &opts.instances {
            let instances: Vec<Instance> = (1..=n).map(|i| Instance::start(setup.env(i))).collect();
            let mut bases: Vec<String> = instances.iter().map(|i| i.base.clone()).collect();
            if opts.first_only {
                // Diagnosis: the other instances run but get no traffic.
                bases.truncate(1);
            }
            for (w, (workload, citizens)) in workloads.iter().enumerate() {
                serial += 1;
                let tag = format!("r{serial}");
                let counted = writer_counts(&bases).await;
                let run = drive(&bases, &setup.key, citizens, opts.writes, opts.callers, &tag).await;
                let (batches, units) = writer_counts(&bases).await;
                let (batches, units) = (batches - counted.0, units - counted.1);
                let stored = check_stored(&setup, &tag, run.acknowledged).await;
                if run.errors > 0 || stored.is_err() {
                    failed = true;
                }
                println!(
                    "  {n} instance(s), {workload}: {:.0} writes/s, {} errors, {} acknowledged, stored: {}; \
                     {batches} write batches, {:.1} units per batch",
                    run.per_second,
                    run.errors,
                    run.acknowledged,
                    stored.as_ref().map_or_else(|e| e.clone(), |()| "all".to_owned()),
                    units as f64 / batches.max(1) as f64
                );
                rates.entry((n, w)).or_default().push(run.per_second);
            }
            for i in instances {
                i.stop();
            }
        }
    }
    for (w, (workload, _)) in workloads.iter().enumerate() {
        let one = rates.get(&(1, w)).map(|r| median(r.clone()));
        for &n in &opts.instances {
            let m = median(rates.get(&(n, w)).cloned().unwrap_or_default());
            let share = one.map_or(String::new(), |o| format!(" ({:.0} % of one instance)", 100.0 * m / o));
            println!("{n} instance(s), {workload}: median {m:.0} writes/s{share}");
        }
    }
    drop_database(&opts.server, &name).await;
    if failed {
        println!("scale_out: FAILED (errors or lost writes above)");
        std::process::exit(1);
    }
    println!("scale_out: 0 errors, 0 lost acknowledged writes, audit log verified");
}
