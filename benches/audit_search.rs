//! Audit search latency (the security officers' console) over a generated
//! log, beside the raw sequential read rate of the same database.
//!
//! Run: `cargo bench --bench audit_search` (release build). SQLite, and
//! PostgreSQL too when `JAGA_BENCH_POSTGRES_URL` names a server (a
//! database `jaga_bench_audit_search` is made anew on it; PostgreSQL's
//! statistics are gathered after the bulk load, as autovacuum does in
//! service). `JAGA_BENCH_EVENTS` sets the log's size (default 1,000,000;
//! the figure is 10,000,000); `JAGA_BENCH_SKIP_SQLITE=1` measures
//! PostgreSQL alone. Each query shape runs 40 times with
//! different values; p50 and p99 are reported per shape. The log is made
//! with the real schema and indexes (the migrations), rows inserted in
//! bulk with the indexes rebuilt afterwards (MACs are not checked by a
//! search, so they are placeholders). On SQLite no ANALYZE is run, as in
//! service.

#![expect(
    clippy::unwrap_used,
    clippy::print_stdout,
    clippy::indexing_slicing,
    reason = "benchmark binary"
)]

use std::time::{Duration, Instant};

use jaga::store::Db;
use jaga::store::audit_search::{Search, search};

#[path = "support/audit_log.rs"]
mod audit_log;
#[path = "support/audit_log_pg.rs"]
mod audit_log_pg;

use audit_log::{
    ACTIONS, CITIZENS, DAYS, MODULES, Mix, OFFICERS, PURPOSES, START_US, generate, raw_pool, raw_read_rate,
};

const RUNS: usize = 40;
fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

type Shape = (&'static str, Box<dyn Fn(&mut Mix, i64) -> Search>);

fn shapes() -> Vec<Shape> {
    let base = || Search {
        limit: 50,
        ..Search::default()
    };
    let day = 86_400_000_000i64;
    let day_start =
        move |mix: &mut Mix| START_US + i64::try_from(mix.below(u64::try_from(DAYS - 1).unwrap())).unwrap() * day;
    vec![
        ("newest 50, no filter", Box::new(move |_, _| base())),
        (
            "a module",
            Box::new(move |m, _| Search {
                module: Some(format!("modul{}", m.below(MODULES))),
                ..base()
            }),
        ),
        (
            "a citizen",
            Box::new(move |m, _| Search {
                citizen: Some(format!("ctz_{:06}", m.below(CITIZENS))),
                ..base()
            }),
        ),
        (
            "an officer (actor)",
            Box::new(move |m, _| Search {
                actor_kind: Some("officer".into()),
                actor_id: Some(format!("ofc_{:03}", m.below(OFFICERS))),
                ..base()
            }),
        ),
        (
            "an action",
            Box::new(move |m, _| Search {
                action: Some(ACTIONS[usize::try_from(m.below(12)).unwrap()].into()),
                ..base()
            }),
        ),
        (
            "a purpose",
            Box::new(move |m, _| Search {
                purpose: Some(PURPOSES[usize::try_from(m.below(6)).unwrap()].into()),
                ..base()
            }),
        ),
        (
            "outcome denied",
            Box::new(move |_, _| Search {
                outcome: Some("denied".into()),
                ..base()
            }),
        ),
        (
            "a request id",
            Box::new(move |m, _| Search {
                request_id: Some(format!("{:032x}", m.next())),
                ..base()
            }),
        ),
        (
            "one day (time window)",
            Box::new(move |m, _| {
                let from = day_start(m);
                Search {
                    from_us: Some(from),
                    to_us: Some(from + day),
                    ..base()
                }
            }),
        ),
        (
            "a module in one day",
            Box::new(move |m, _| {
                let from = day_start(m);
                Search {
                    from_us: Some(from),
                    to_us: Some(from + day),
                    module: Some(format!("modul{}", m.below(MODULES))),
                    ..base()
                }
            }),
        ),
        (
            "a citizen and an action",
            Box::new(move |m, _| Search {
                citizen: Some(format!("ctz_{:06}", m.below(CITIZENS))),
                action: Some("record.read".into()),
                ..base()
            }),
        ),
        (
            "a module, denied, in one day",
            Box::new(move |m, _| {
                let from = day_start(m);
                Search {
                    from_us: Some(from),
                    to_us: Some(from + day),
                    module: Some(format!("modul{}", m.below(MODULES))),
                    outcome: Some("denied".into()),
                    ..base()
                }
            }),
        ),
        (
            "a page deep in the log (cursor)",
            Box::new(move |m, total| {
                let seq = i64::try_from(m.below(u64::try_from(total).unwrap())).unwrap();
                Search {
                    before: Some((START_US + seq * (DAYS * day / total.max(1)), seq)),
                    ..base()
                }
            }),
        ),
    ]
}

/// p50 and p99 of every query shape.
async fn measure(db: &Db, total: i64) {
    let mut mix = Mix(7);
    println!(
        "  {:<34} {:>9} {:>9} {:>8}",
        "query (newest 50)", "p50 ms", "p99 ms", "rows"
    );
    for (name, make) in shapes() {
        let mut times = Vec::with_capacity(RUNS);
        let mut rows = 0usize;
        let _ = search(db, &make(&mut mix, total)).await.unwrap(); // warm-up
        for _ in 0..RUNS {
            let s = make(&mut mix, total);
            let started = Instant::now();
            rows += search(db, &s).await.unwrap().len();
            times.push(started.elapsed());
        }
        times.sort();
        println!(
            "  {name:<34} {:>9.2} {:>9.2} {:>8.1}",
            percentile(&times, 0.5),
            percentile(&times, 0.99),
            rows as f64 / RUNS as f64
        );
    }
}

#[tokio::main]
async fn main() {
    let total = audit_log::events_wanted();
    if std::env::var_os("JAGA_BENCH_SKIP_SQLITE").is_none() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.db");
        let url = audit_log::empty_database(&path).await;
        println!("audit search, SQLite, {total} events");
        let pool = raw_pool(&path).await;
        generate(&pool, total, None).await;
        let rate = raw_read_rate(&pool, total).await;
        pool.close().await;
        println!("  raw sequential read: {rate:.0} rows/s (ceiling)");
        let db = Db::open(&url, 2, false).await.unwrap();
        measure(&db, total).await;
        db.close().await;
    }

    // PostgreSQL, when a server is named (the same log, by COPY).
    let Ok(admin) = std::env::var("JAGA_BENCH_POSTGRES_URL") else {
        println!("PostgreSQL: skipped (set JAGA_BENCH_POSTGRES_URL, e.g. postgres://postgres@127.0.0.1:5432/postgres)");
        return;
    };
    println!("audit search, PostgreSQL, {total} events");
    let url = audit_log_pg::empty_postgres(&admin, "jaga_bench_audit_search").await;
    let pool = sqlx::PgPool::connect(secrecy::ExposeSecret::expose_secret(&url))
        .await
        .unwrap();
    audit_log_pg::generate_postgres(&pool, total).await;
    let rate = audit_log_pg::raw_read_rate_postgres(&pool, total).await;
    pool.close().await;
    println!("  raw sequential read: {rate:.0} rows/s (ceiling)");
    let db = Db::open(&url, 4, false).await.unwrap();
    measure(&db, total).await;
    db.close().await;
}
