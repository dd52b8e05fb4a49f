//! Audited appends per second on SQLite, beside the raw SQLite insert rate
//! of the same machine (the ceiling).
//!
//! Run: `cargo bench --bench audit_append` (release build). Each figure is
//! the median of five runs. `JAGA_BENCH_EVENTS` sets events per run.

#![expect(
    clippy::unwrap_used,
    clippy::print_stdout,
    clippy::indexing_slicing,
    reason = "benchmark binary"
)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use jaga::audit::checkpointer::Checkpointer;
use jaga::audit::{Actor, ActorKind, AuditError, AuditSealer, Event, Outcome, Target};
use jaga::config::AuditConfig;
use jaga::keys::KeyRing;
use jaga::store::{Db, Writer};
use secrecy::SecretString;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

const RUNS: usize = 5;
const CALLERS: u64 = 256;

fn event(i: u64) -> Event {
    Event::new(
        Actor::new(ActorKind::Module, format!("mod_{}", i % 5)),
        "vault.read",
        Target::new("citizen", Some(format!("ctz_{}", i % 10_000))).with_fields(["nik", "name", "address.street"]),
        Outcome::Success,
    )
    .purpose("antrian.ticket")
    .request(Some(format!("{i:032x}")), Some("10.20.30.40".to_owned()))
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

async fn raw_inserts(dir: &std::path::Path, rows: u64, per_tx: u64, multi_row: bool) -> f64 {
    let path = dir.join(format!("raw-{per_tx}-{multi_row}.db"));
    let _ = std::fs::remove_file(&path);
    let options = SqliteConnectOptions::new()
        .filename(&path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full);
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await
        .unwrap();
    sqlx::query(
        "create table t (seq integer primary key, time_us integer, actor_kind text, actor_id text, action text, \
         target_kind text, target_id text, target_fields text, purpose text, outcome text, request_id text, \
         source text, mac blob)",
    )
    .execute(&pool)
    .await
    .unwrap();
    let mac = vec![7u8; 32];
    let start = Instant::now();
    let mut seq = 0i64;
    while (seq as u64) < rows {
        let mut tx = pool.begin().await.unwrap();
        if multi_row {
            let mut q: sqlx::QueryBuilder<sqlx::Sqlite> = sqlx::QueryBuilder::new("insert into t ");
            q.push_values(seq..seq + per_tx as i64, |mut b, i| {
                b.push_bind(i).push_bind(i);
                for v in [
                    "module",
                    "mod_1",
                    "vault.read",
                    "citizen",
                    "ctz_1",
                    "nik,name",
                    "antrian.ticket",
                    "success",
                    "abcdef",
                    "10.20.30.40",
                ] {
                    b.push_bind(v);
                }
                b.push_bind(mac.clone());
            });
            q.build().execute(&mut *tx).await.unwrap();
            seq += per_tx as i64;
            tx.commit().await.unwrap();
            continue;
        }
        for _ in 0..per_tx {
            sqlx::query("insert into t values (?, ?, 'module', 'mod_1', 'vault.read', 'citizen', 'ctz_1', 'nik,name', 'antrian.ticket', 'success', 'abcdef', '10.20.30.40', ?)")
                .bind(seq)
                .bind(seq)
                .bind(&mac)
                .execute(&mut *tx)
                .await
                .unwrap();
            seq += 1;
        }
        tx.commit().await.unwrap();
    }
    let rate = rows as f64 / start.elapsed().as_secs_f64();
    pool.close().await;
    rate
}

async fn audited_appends(dir: &std::path::Path, run: usize, events: u64) -> (f64, u64) {
    let path = dir.join(format!("audit-{run}.db"));
    let url = SecretString::from(format!("sqlite://{}", path.display()));
    let db = Db::open(&url, 4, true).await.unwrap();
    db.migrate().await.unwrap();
    let (keys, _) = KeyRing::generate().unwrap();
    let keys = Arc::new(keys);
    let config = AuditConfig {
        origin: "bench/audit".into(),
        checkpoint_file: dir.join(format!("checkpoint-{run}.txt")),
        checkpoint_every_events: 1000,
        checkpoint_every: Duration::from_secs(60),
        reverify_every: Duration::from_secs(300),
        signer_takeover: Duration::from_secs(5),
        witnesses: Default::default(),
    };
    let status = jaga::audit::checkpointer::AuditStatus::default();
    let sealer = AuditSealer::new(
        keys.audit.clone(),
        config.origin.clone(),
        Some(config.checkpoint_file.clone()),
        status.clone(),
    );
    let (writer, writer_task) = Writer::start(db.clone(), Arc::new(sealer));
    let checkpointer = Checkpointer::resume(db.clone(), writer.clone(), keys.audit.clone(), config, status)
        .await
        .unwrap();
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let checkpointing = tokio::spawn(checkpointer.run(stopped));

    let start = Instant::now();
    let mut callers = tokio::task::JoinSet::new();
    for c in 0..CALLERS {
        let writer = writer.clone();
        callers.spawn(async move {
            let mut i = c;
            while i < events {
                let e = event(i);
                writer
                    .write::<(), AuditError, _>(move |tx| Box::pin(jaga::audit::record(tx, e)))
                    .await
                    .unwrap();
                i += CALLERS;
            }
        });
    }
    while callers.join_next().await.is_some() {}
    let rate = events as f64 / start.elapsed().as_secs_f64();
    let _ = stop.send(true);
    checkpointing.await.unwrap();
    let checkpoints = jaga::store::audit::checkpoints(&db).await.unwrap().len() as u64;
    // Every acknowledged event is stored, and covered by the signed tip.
    let stored = jaga::store::audit::end_seq(&db).await.unwrap() as u64;
    assert_eq!(stored, events, "events acknowledged but not stored");
    let tip = jaga::store::audit::tip(&db).await.unwrap().unwrap();
    assert_eq!(
        tip.tree_size as u64, events,
        "the signed tip does not cover every event"
    );
    drop(writer);
    writer_task.await.unwrap();
    db.close().await;
    (rate, checkpoints)
}

#[tokio::main]
async fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let events: u64 = std::env::var("JAGA_BENCH_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200_000);
    // On disk (under target/): the durability figure needs real fsyncs.
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    println!(
        "machine: {} cores; SQLite WAL, synchronous=FULL; {events} rows per run; median of {RUNS} runs",
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0)
    );

    for (per_tx, multi_row, what) in [
        (1u64, false, "1 single-row insert per transaction"),
        (100, false, "100 single-row inserts per transaction"),
        (200, true, "one 200-row insert per transaction"),
    ] {
        let rows = if per_tx == 1 { events / 10 } else { events };
        let mut rates = Vec::new();
        for _ in 0..RUNS {
            rates.push(raw_inserts(dir.path(), rows, per_tx, multi_row).await);
        }
        println!("ceiling: raw SQLite, {what}: {:.0} rows/s", median(rates));
    }
    let mut rates = Vec::new();
    let mut checkpoints = 0;
    for run in 0..RUNS {
        let (rate, cps) = audited_appends(dir.path(), run, events).await;
        rates.push(rate);
        checkpoints = cps;
    }
    println!(
        "audited appends ({CALLERS} concurrent callers, group commit, a signed tip and its copy at every commit, stored checkpoint every 1000 events; {checkpoints} checkpoints in the last run; every event counted back): {:.0} events/s",
        median(rates)
    );
}
