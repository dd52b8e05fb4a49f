//! The generated audit log of [`crate::audit_log`] on PostgreSQL, for the
//! search benchmark.

#![expect(clippy::unwrap_used, clippy::print_stdout, reason = "benchmark setup")]

use std::time::Instant;

use jaga::store::Db;
use secrecy::SecretString;

use crate::audit_log::{Mix, row};

/// The PostgreSQL database `name` on the server of `admin_url`, made anew
/// and migrated; its URL.
pub async fn empty_postgres(admin_url: &str, name: &str) -> SecretString {
    use sqlx::Connection as _;
    let mut admin = sqlx::PgConnection::connect(admin_url).await.unwrap();
    for statement in [
        format!("drop database if exists {name} with (force)"),
        format!("create database {name}"),
    ] {
        sqlx::query(sqlx::AssertSqlSafe(statement))
            .execute(&mut admin)
            .await
            .unwrap();
    }
    admin.close().await.unwrap();
    let base = admin_url.rsplit_once('/').map_or(admin_url, |(b, _)| b);
    let url = SecretString::from(format!("{base}/{name}"));
    let db = Db::open(&url, 2, true).await.unwrap();
    db.migrate().await.unwrap();
    db.close().await;
    url
}

/// A CSV field for COPY: quoted, quotes doubled (never NULL).
fn quoted(out: &mut String, value: &str) {
    out.push('"');
    out.push_str(&value.replace('"', "\"\""));
    out.push('"');
}

/// Fills a PostgreSQL log with the same `total` events as [`generate`]
/// (placeholder MACs), by COPY, with the audit indexes dropped and made
/// again afterwards, then ANALYZE (which autovacuum does in service).
pub async fn generate_postgres(pool: &sqlx::PgPool, total: i64) {
    use sqlx::postgres::PgPoolCopyExt as _;
    let indexes: Vec<(String, String)> = sqlx::query_as(
        "select indexname::text, indexdef from pg_indexes where tablename = 'audit_event' \
         and indexname not like '%pkey'",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    for (name, _) in &indexes {
        sqlx::query(sqlx::AssertSqlSafe(format!("drop index {name}")))
            .execute(pool)
            .await
            .unwrap();
    }
    let mut mix = Mix(20_261_206);
    let started = Instant::now();
    let mut seq = 0i64;
    let mac = format!("\\x{}", "00".repeat(32));
    while seq < total {
        let mut text = String::with_capacity(20 << 20);
        for _ in 0..100_000 {
            if seq >= total {
                break;
            }
            let r = row(seq, total, &mut mix);
            seq += 1;
            for v in &r {
                quoted(&mut text, v);
                text.push(',');
            }
            text.push_str("\"\",");
            text.push_str(&mac);
            text.push('\n');
        }
        let mut copy = pool
            .copy_in_raw(
                "copy audit_event (seq, time_us, actor_kind, actor_id, action, target_kind, target_id, \
                 target_fields, purpose, outcome, request_id, source, policies, mac) from stdin with (format csv)",
            )
            .await
            .unwrap();
        copy.send(text.into_bytes()).await.unwrap();
        copy.finish().await.unwrap();
    }
    println!("  generated {total} events in {:.0} s", started.elapsed().as_secs_f64());
    let started = Instant::now();
    for (_, sql) in &indexes {
        sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
            .execute(pool)
            .await
            .unwrap();
    }
    sqlx::query("analyze audit_event").execute(pool).await.unwrap();
    println!(
        "  indexes made (and analyzed) in {:.0} s",
        started.elapsed().as_secs_f64()
    );
}

/// Rows per second of a sequential read of the whole PostgreSQL table.
pub async fn raw_read_rate_postgres(pool: &sqlx::PgPool, total: i64) -> f64 {
    let started = Instant::now();
    let mut read = 0i64;
    let mut from = 0i64;
    while from < total {
        let rows = sqlx::query(crate::audit_log::RAW_READ)
            .bind(from)
            .fetch_all(pool)
            .await
            .unwrap();
        read += i64::try_from(rows.len()).unwrap();
        from += 10_000;
    }
    read as f64 / started.elapsed().as_secs_f64()
}
