//! A generated audit log for the audit benchmarks: deterministic events
//! (mostly modules reading citizens' records), written in bulk through the
//! real schema, optionally sealed and signed as the service does.

#![expect(
    clippy::unwrap_used,
    clippy::print_stdout,
    clippy::indexing_slicing,
    reason = "benchmark setup"
)]

use std::time::Instant;

use jaga::audit::checkpoint::Checkpoint;
use jaga::audit::merkle::{Frontier, leaf_hash};
use jaga::audit::{AuditKeys, from_row};
use jaga::store::Db;
use jaga::store::audit::EventRow;
use secrecy::SecretString;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row as _, SqlitePool};

pub const MODULES: u64 = 8;
pub const CITIZENS: u64 = 200_000;
pub const OFFICERS: u64 = 50;
pub const DAYS: i64 = 90;
pub const START_US: i64 = 1_780_000_000_000_000;
pub const ACTIONS: [&str; 12] = [
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
pub const PURPOSES: [&str; 6] = [
    "antrian.call",
    "antrian.priority",
    "perizinan.review",
    "dokumen.register",
    "notifikasi.send",
    "keamanan.darurat",
];

/// A deterministic pseudo-random stream (splitmix64).
pub struct Mix(pub u64);

impl Mix {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// The columns of event `seq`: mostly modules reading citizens' records,
/// some citizens and officers acting, a few refusals.
pub fn row(seq: i64, total: i64, mix: &mut Mix) -> [String; 12] {
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

pub async fn raw_pool(path: &std::path::Path) -> SqlitePool {
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

/// Signs the generated log as the service does: a checkpoint every
/// `every` events and the tip at the end, with real leaf MACs.
pub struct Seal<'a> {
    pub keys: &'a AuditKeys,
    pub origin: &'a str,
    pub every: i64,
}

/// The stored row of generated event `r` (no reason, no policies).
fn event_row(r: &[String; 12], mac: Vec<u8>) -> EventRow {
    EventRow {
        seq: r[0].parse().unwrap(),
        time_us: r[1].parse().unwrap(),
        actor_kind: r[2].clone(),
        actor_id: r[3].clone(),
        action: r[4].clone(),
        target_kind: r[5].clone(),
        target_id: Some(r[6].clone()),
        target_fields: r[7].clone(),
        purpose: Some(r[8].clone()),
        outcome: r[9].clone(),
        reason: None,
        request_id: Some(r[10].clone()),
        source: Some(r[11].clone()),
        policies: String::new(),
        mac,
    }
}

/// A signed checkpoint of `frontier` at the time of event `time_us`.
fn signed(seal: &Seal<'_>, frontier: &Frontier, time_us: i64) -> (Vec<u8>, i64, String) {
    let root = frontier.root();
    let time = time_us / 1_000_000;
    let note = Checkpoint {
        origin: seal.origin.to_owned(),
        size: frontier.size(),
        root,
        time,
    }
    .sign(seal.keys);
    (root.to_vec(), time, note)
}

/// Fills the log with `total` events, dropping the audit indexes first and
/// making them again afterwards (the same statements the migrations ran).
/// Without a seal, MACs are placeholders and nothing is signed.
pub async fn generate(pool: &SqlitePool, total: i64, seal: Option<&Seal<'_>>) {
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
    let mut frontier = Frontier::default();
    let started = Instant::now();
    let mut seq = 0i64;
    while seq < total {
        let mut tx = pool.begin().await.unwrap();
        for _ in 0..1_000 {
            if seq >= total {
                break;
            }
            let mut checkpoints = Vec::new();
            let rows: Vec<EventRow> = (0..100)
                .map_while(|_| {
                    (seq < total).then(|| {
                        let r = row(seq, total, &mut mix);
                        seq += 1;
                        let Some(seal) = seal else {
                            return event_row(&r, vec![0u8; 32]);
                        };
                        let unsealed = event_row(&r, Vec::new());
                        let leaf = leaf_hash(&from_row(&unsealed).unwrap().canonical_bytes());
                        frontier.push(leaf);
                        if seq % seal.every == 0 {
                            checkpoints.push((seq, signed(seal, &frontier, unsealed.time_us), frontier.to_bytes()));
                        }
                        EventRow {
                            mac: seal.keys.leaf_mac(&leaf).to_vec(),
                            ..unsealed
                        }
                    })
                })
                .collect();
            let mut q = sqlx::QueryBuilder::new(
                "insert into audit_event (seq, time_us, actor_kind, actor_id, action, target_kind, target_id, \
                 target_fields, purpose, outcome, request_id, source, policies, mac) ",
            );
            q.push_values(&rows, |mut b, r| {
                b.push_bind(r.seq)
                    .push_bind(r.time_us)
                    .push_bind(r.actor_kind.clone())
                    .push_bind(r.actor_id.clone())
                    .push_bind(r.action.clone())
                    .push_bind(r.target_kind.clone())
                    .push_bind(r.target_id.clone())
                    .push_bind(r.target_fields.clone())
                    .push_bind(r.purpose.clone())
                    .push_bind(r.outcome.clone())
                    .push_bind(r.request_id.clone())
                    .push_bind(r.source.clone())
                    .push_bind("")
                    .push_bind(r.mac.clone());
            });
            q.build().execute(&mut *tx).await.unwrap();
            for (size, (root, time, note), bytes) in checkpoints {
                sqlx::query("insert into audit_checkpoint (tree_size, root_hash, time_s, note, frontier) values ($1, $2, $3, $4, $5)")
                    .bind(size)
                    .bind(root)
                    .bind(time)
                    .bind(note)
                    .bind(bytes)
                    .execute(&mut *tx)
                    .await
                    .unwrap();
            }
        }
        tx.commit().await.unwrap();
    }
    if let Some(seal) = seal {
        let (_, _, note) = signed(seal, &frontier, START_US + DAYS * 86_400_000_000);
        sqlx::query("insert into audit_tip (singleton, tree_size, frontier, note) values (1, $1, $2, $3)")
            .bind(total)
            .bind(frontier.to_bytes())
            .bind(note)
            .execute(pool)
            .await
            .unwrap();
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

/// The raw read: every column, 10,000 rows from a sequence number.
pub const RAW_READ: &str = "select seq, time_us, actor_kind, actor_id, action, target_kind, target_id, target_fields, \
     purpose, outcome, reason, request_id, source, policies, mac from audit_event where seq >= $1 order by seq limit 10000";

/// Rows per second of a sequential read of the whole table (the ceiling).
pub async fn raw_read_rate(pool: &SqlitePool, total: i64) -> f64 {
    let started = Instant::now();
    let mut read = 0i64;
    let mut from = 0i64;
    while from < total {
        let rows = sqlx::query(RAW_READ).bind(from).fetch_all(pool).await.unwrap();
        read += i64::try_from(rows.len()).unwrap();
        from += 10_000;
    }
    read as f64 / started.elapsed().as_secs_f64()
}

/// The log's size (`JAGA_BENCH_EVENTS`, default 1,000,000).
pub fn events_wanted() -> i64 {
    std::env::var("JAGA_BENCH_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000)
}

/// A migrated, empty SQLite database at `path`; its URL.
pub async fn empty_database(path: &std::path::Path) -> SecretString {
    let url = SecretString::from(format!("sqlite://{}", path.display()));
    let db = Db::open(&url, 2, true).await.unwrap();
    db.migrate().await.unwrap();
    db.close().await;
    url
}
