//! Audit search latency (the security officers' console) over a generated
//! log, beside the raw sequential read rate of the same database.
//!
//! Run: `cargo bench --bench audit_search` (release build). SQLite by
//! default; `JAGA_BENCH_EVENTS` sets the log's size (default 1,000,000;
//! the figure is 10,000,000). Each query shape runs 40 times with
//! different values; p50 and p99 are reported per shape. The log is made
//! with the real schema and indexes (the migrations), rows inserted in
//! bulk with the indexes rebuilt afterwards (MACs are not checked by a
//! search, so they are placeholders). No ANALYZE is run, as in service.

#![expect(
    clippy::unwrap_used,
    clippy::print_stdout,
    clippy::indexing_slicing,
    reason = "benchmark binary"
)]

use std::time::{Duration, Instant};

use jaga::store::Db;
use jaga::store::audit_search::{Search, search};
use secrecy::SecretString;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row as _, SqlitePool};

const RUNS: usize = 40;
const MODULES: u64 = 8;
const CITIZENS: u64 = 200_000;
const OFFICERS: u64 = 50;
const DAYS: i64 = 90;
const START_US: i64 = 1_780_000_000_000_000;
const ACTIONS: [&str; 12] = [
    "record.read",
    "record.write",
    "record.delete",
    "profile.read",
    "consent.grant",
    "consent.withdraw",
    "session.signin",
    "session.signout",
    "oauth.token",
    "breakglass.open",
    "counter.enrol",
    "rights.correction",
];
const PURPOSES: [&str; 6] = [
    "antrian.call",
    "antrian.priority",
    "perizinan.review",
    "dokumen.register",
    "notifikasi.send",
    "keamanan.darurat",
];

/// A deterministic pseudo-random stream (splitmix64).
struct Mix(u64);

impl Mix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// The columns of event `seq`: mostly modules reading citizens' records,
/// some citizens and officers acting, a few refusals.
fn row(seq: i64, total: i64, mix: &mut Mix) -> [String; 12] {
    let span = DAYS * 86_400_000_000;
    let time_us = START_US + seq * (span / total.max(1)) + i64::try_from(mix.below(1_000_000)).unwrap();
    let citizen = format!("ctz_{:06}", mix.below(CITIZENS));
    let (actor_kind, actor_id, action) = match mix.below(100) {
        0..=59 => (
            "module",
            format!("modul{}", mix.below(MODULES)),
            ACTIONS[usize::try_from(mix.below(4)).unwrap()],
        ),
        60..=84 => (
            "citizen",
            citizen.clone(),
            ACTIONS[4 + usize::try_from(mix.below(4)).unwrap()],
        ),
        85..=94 => (
            "officer",
            format!("ofc_{:03}", mix.below(OFFICERS)),
            ACTIONS[8 + usize::try_from(mix.below(4)).unwrap()],
        ),
        _ => ("system", "jaga".to_owned(), "oauth.token"),
    };
    let outcome = match mix.below(100) {
        0..=94 => "success",
        95..=98 => "denied",
        _ => "failure",
    };
    let purpose = PURPOSES[usize::try_from(mix.below(6)).unwrap()];
    [
        seq.to_string(),
        time_us.to_string(),
        actor_kind.to_owned(),
        actor_id,
        action.to_owned(),
        "citizen".to_owned(),
        citizen,
        "profile.nik,profile.full_name".to_owned(),
        purpose.to_owned(),
        outcome.to_owned(),
        format!("{:032x}", mix.next()),
        "10.20.30.40".to_owned(),
    ]
}

async fn raw_pool(path: &std::path::Path) -> SqlitePool {
    let options = SqliteConnectOptions::new()
        .filename(path)
        .synchronous(SqliteSynchronous::Off)
        .pragma("cache_size", "-1000000");
    SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await
        .unwrap()
}

/// Fills the log with `total` events, dropping the audit indexes first and
/// making them again afterwards (the same statements the migrations ran).
async fn generate(pool: &SqlitePool, total: i64) {
    let indexes: Vec<(String, String)> = sqlx::query(
        "select name, sql from sqlite_master where type = 'index' and tbl_name = 'audit_event' and sql is not null",
    )
    .fetch_all(pool)
    .await
    .unwrap()
    .iter()
    .map(|r| (r.get(0), r.get(1)))
    .collect();
    for (name, _) in &indexes {
        sqlx::query(sqlx::AssertSqlSafe(format!("drop index {name}")))
            .execute(pool)
            .await
            .unwrap();
    }
    let mut mix = Mix(20_261_206);
    let started = Instant::now();
    let mut seq = 0i64;
    while seq < total {
        let mut tx = pool.begin().await.unwrap();
        for _ in 0..1_000 {
            if seq >= total {
                break;
            }
            let mut q = sqlx::QueryBuilder::new(
                "insert into audit_event (seq, time_us, actor_kind, actor_id, action, target_kind, target_id, \
                 target_fields, purpose, outcome, request_id, source, policies, mac) ",
            );
            let rows: Vec<[String; 12]> = (0..100)
                .map_while(|_| {
                    (seq < total).then(|| {
                        let r = row(seq, total, &mut mix);
                        seq += 1;
                        r
                    })
                })
                .collect();
            q.push_values(&rows, |mut b, r| {
                b.push_bind(r[0].parse::<i64>().unwrap())
                    .push_bind(r[1].parse::<i64>().unwrap());
                for v in &r[2..] {
                    b.push_bind(v.clone());
                }
                b.push_bind("").push_bind(vec![0u8; 32]);
            });
            q.build().execute(&mut *tx).await.unwrap();
        }
        tx.commit().await.unwrap();
    }
    println!("  generated {total} events in {:.0} s", started.elapsed().as_secs_f64());
    let started = Instant::now();
    for (_, sql) in &indexes {
        sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
            .execute(pool)
            .await
            .unwrap();
    }
    println!("  indexes made in {:.0} s", started.elapsed().as_secs_f64());
}

/// Rows per second of a sequential read of the whole table (the ceiling).
async fn raw_read_rate(pool: &SqlitePool, total: i64) -> f64 {
    let started = Instant::now();
    let mut read = 0i64;
    let mut from = 0i64;
    while from < total {
        let rows = sqlx::query(
            "select seq, time_us, actor_kind, actor_id, action, target_kind, target_id, target_fields, purpose, \
             outcome, reason, request_id, source, policies, mac from audit_event where seq >= $1 order by seq limit 10000",
        )
        .bind(from)
        .fetch_all(pool)
        .await
        .unwrap();
        read += i64::try_from(rows.len()).unwrap();
        from += 10_000;
    }
    read as f64 / started.elapsed().as_secs_f64()
}

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

#[tokio::main]
async fn main() {
    let total: i64 = std::env::var("JAGA_BENCH_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.db");
    let url = SecretString::from(format!("sqlite://{}", path.display()));
    let db = Db::open(&url, 2, true).await.unwrap();
    db.migrate().await.unwrap();
    db.close().await;
    println!("audit search, SQLite, {total} events");
    let pool = raw_pool(&path).await;
    generate(&pool, total).await;
    let rate = raw_read_rate(&pool, total).await;
    pool.close().await;
    println!("  raw sequential read: {rate:.0} rows/s (ceiling)");
    let db = Db::open(&url, 2, false).await.unwrap();
    let mut mix = Mix(7);
    println!(
        "  {:<34} {:>9} {:>9} {:>8}",
        "query (newest 50)", "p50 ms", "p99 ms", "rows"
    );
    for (name, make) in shapes() {
        let mut times = Vec::with_capacity(RUNS);
        let mut rows = 0usize;
        let _ = search(&db, &make(&mut mix, total)).await.unwrap(); // warm-up
        for _ in 0..RUNS {
            let s = make(&mut mix, total);
            let started = Instant::now();
            rows += search(&db, &s).await.unwrap().len();
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
    db.close().await;
}
