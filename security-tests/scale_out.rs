//! Several instances: shared rate-limit buckets (Redis) and the fallback
//! when Redis is gone, one checkpoint signer replaced when it dies, shared
//! state changes seen by every instance, and a deadlock with an outside
//! transaction retried instead of answered 500. (Throughput and the
//! hot-key workloads over 1, 2 and 3 instances: `benches/scale_out.rs`,
//! run by CI with `--check`.)

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::counter_recovery::officer_of_unit;
use crate::support::browser::Browser;
use crate::support::modules::{add_module, call, citizen, define_tickets};
use crate::support::{Backend, Sandbox, TestApp, postgres};

/// `jaga serve` with its own copy of the audit checkpoint (one per host).
fn instance(sandbox: &Sandbox, n: u32) -> TestApp {
    let mut cmd = sandbox.command(&["serve"]);
    cmd.env(
        "JAGA_AUDIT_CHECKPOINT_FILE",
        sandbox.dir.path().join(format!("checkpoint-{n}.txt")),
    );
    TestApp::start(cmd)
}

fn unique(prefix: &str) -> String {
    let mut bytes = [0u8; 4];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes).unwrap();
    format!("{prefix}-{}.jaga.test", hex::encode(bytes))
}

fn redis_url() -> String {
    std::env::var("JAGA_TEST_REDIS_URL").unwrap_or_default()
}

async fn recovery_attempt(app: &TestApp, i: u32) -> reqwest::Response {
    app.client
        .post(app.url("/api/recover/start"))
        .header("origin", crate::support::WEB_ORIGIN)
        .header("content-type", "application/json")
        .body(json!({ "nik": format!("197101120385{:04}", i + 1), "code": "aaaa-bbbb-cccc" }).to_string())
        .send()
        .await
        .unwrap()
}

/// Two instances sharing one Redis: a client spreading its attempts over
/// both gets one budget, not two, with the same headers as on one.
#[cfg_attr(jaga_no_redis, ignore = "Redis variant skipped: JAGA_TEST_REDIS_URL is not set")]
#[tokio::test]
async fn two_instances_share_one_budget_through_redis() {
    let origin = unique("ratelimit");
    let mut apps = Vec::new();
    let mut sandboxes = Vec::new();
    for _ in 0..2 {
        let mut sandbox = Sandbox::new(Backend::Sqlite).await;
        sandbox.extra_env = vec![
            ("JAGA_RATELIMIT_STORE".into(), redis_url()),
            ("JAGA_AUDIT_ORIGIN".into(), origin.clone()),
        ];
        apps.push(sandbox.serve());
        sandboxes.push(sandbox);
    }
    // recovery-ip: 10 per 300 s, over both instances together.
    for i in 0..10 {
        let resp = recovery_attempt(&apps[(i % 2) as usize], i).await;
        assert_eq!(resp.status(), 401, "attempt {i}");
        let remaining = resp.headers()["ratelimit"].to_str().unwrap().to_owned();
        assert_eq!(
            remaining,
            format!(
                "\"recovery-ip\";r={};t={}",
                9 - i,
                remaining.rsplit('=').next().unwrap()
            )
        );
    }
    for app in &apps {
        let resp = recovery_attempt(app, 20).await;
        assert_eq!(resp.status(), 429);
        let h = resp.headers();
        let retry: u64 = h["retry-after"].to_str().unwrap().parse().unwrap();
        assert!((1..=30).contains(&retry), "{retry}");
        assert_eq!(h["ratelimit-policy"], "\"recovery-ip\";q=10;w=300");
        assert!(h["ratelimit"].to_str().unwrap().starts_with("\"recovery-ip\";r=0;t="));
    }
    for app in &apps {
        assert!(!app.logs().contains("does not answer"), "{}", app.logs());
    }
}

/// Redis out of reach: nobody is locked out, the limits still hold on the
/// instance's own buckets, and it says so once in the log and in /metrics.
#[tokio::test]
async fn an_unreachable_redis_falls_back_to_local_buckets_and_says_so() {
    let mut sandbox = Sandbox::new(Backend::Sqlite).await;
    sandbox.extra_env = vec![
        // Nothing listens on port 1.
        ("JAGA_RATELIMIT_STORE".into(), "redis://127.0.0.1:1/".into()),
        (
            "JAGA_SERVER_METRICS_TOKEN".into(),
            "metrics-secret-0123456789-abcdefghijkl".into(),
        ),
    ];
    let app = sandbox.serve();
    for i in 0..10 {
        assert_eq!(recovery_attempt(&app, i).await.status(), 401, "attempt {i}");
    }
    assert_eq!(recovery_attempt(&app, 11).await.status(), 429);
    let logs = app.logs();
    assert_eq!(
        logs.matches("the shared rate-limit store does not answer").count(),
        1,
        "{logs}"
    );
    let metrics = app
        .client
        .get(app.url("/metrics"))
        .bearer_auth("metrics-secret-0123456789-abcdefghijkl")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("jaga_ratelimit_store_degraded 1"), "{metrics}");
    let fallbacks: u64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("jaga_ratelimit_store_fallbacks_total "))
        .unwrap()
        .parse()
        .unwrap();
    assert!(fallbacks >= 11, "{fallbacks}");
    // Readiness stays green (the log names the degraded store).
    assert_eq!(app.get("/readyz").await.status(), 200);
    app.wait_for_log("readiness.degraded").await;
}

async fn largest_checkpoint(sandbox: &Sandbox) -> i64 {
    sandbox
        .sql_count("select coalesce(max(tree_size), 0) from audit_checkpoint")
        .await
}

/// The instance that signs checkpoints is killed (-9) under load; the
/// other takes the signer lease and signs the next checkpoint; the log
/// verifies from the outside.
#[cfg_attr(
    jaga_no_postgres,
    ignore = "PostgreSQL variant skipped: JAGA_TEST_POSTGRES_URL is not set"
)]
#[tokio::test]
async fn a_killed_signer_is_replaced_and_the_log_verifies() {
    let mut sandbox = Sandbox::new(Backend::Postgres).await;
    sandbox.extra_env = vec![
        ("JAGA_AUDIT_SIGNER_TAKEOVER_SECS".into(), "1".into()),
        ("JAGA_AUDIT_CHECKPOINT_EVERY_SECS".into(), "1".into()),
    ];
    let key = add_module(&sandbox, "antrian");
    let first = instance(&sandbox, 1);
    first.wait_for_log("this instance now signs audit checkpoints").await;
    let second = instance(&sandbox, 2);
    define_tickets(&first, &key).await;
    let pseudonym = citizen(&first, "3171015207990007", "Siti Aminah").await;
    // Load on the surviving instance for the whole test.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let load = {
        let (client, base, key, pseudonym, stop) = (
            second.client.clone(),
            second.base.clone(),
            key.clone(),
            pseudonym.clone(),
            stop.clone(),
        );
        tokio::spawn(async move {
            let mut n = 0u32;
            let mut failures = 0u32;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                n += 1;
                let status = client
                    .put(format!(
                        "{base}/api/collections/antrian.ticket/records/{pseudonym}/t-{n}"
                    ))
                    .bearer_auth(&key)
                    .json(&json!({ "purpose": "antrian.call", "values": { "queue_number": format!("A-{n}") } }))
                    .send()
                    .await
                    .unwrap()
                    .status();
                if !status.is_success() {
                    failures += 1;
                }
            }
            (n, failures)
        })
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while largest_checkpoint(&sandbox).await == 0 {
        assert!(Instant::now() < deadline, "no checkpoint signed:\n{}", first.logs());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(!second.logs().contains("now signs audit checkpoints"), "two signers");
    let before = largest_checkpoint(&sandbox).await;
    let killed = Instant::now();
    drop(first); // SIGKILL: no clean stop, no lease given back.
    second.wait_for_log("this instance now signs audit checkpoints").await;
    let deadline = Instant::now() + Duration::from_secs(30);
    while largest_checkpoint(&sandbox).await <= before {
        assert!(
            Instant::now() < deadline,
            "no checkpoint after the kill:\n{}",
            second.logs()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    eprintln!(
        "signer killed; next checkpoint by the other instance after {} ms",
        killed.elapsed().as_millis()
    );
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let (writes, failures) = load.await.unwrap();
    assert_eq!(failures, 0, "{writes} writes, {failures} failed");
    let (status, logs) = second.stop();
    assert!(status.success(), "{logs}");
    let out = sandbox.cli(&["audit", "verify"]);
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // Every checkpoint size has exactly one root.
    let forks = sandbox
        .sql_count("select count(*) from (select tree_size from audit_checkpoint group by tree_size having count(distinct root_hash) > 1) f")
        .await;
    assert_eq!(forks, 0);
}

/// Revocations, ended sessions, suspensions and key rotations made on or
/// through one instance hold on the other at once.
#[cfg_attr(
    jaga_no_postgres,
    ignore = "PostgreSQL variant skipped: JAGA_TEST_POSTGRES_URL is not set"
)]
#[tokio::test]
async fn shared_state_changes_reach_every_instance() {
    let sandbox = Sandbox::new(Backend::Postgres).await;
    let key = add_module(&sandbox, "antrian");
    let a = instance(&sandbox, 1);
    let b = instance(&sandbox, 2);
    define_tickets(&a, &key).await;
    let probe = "/api/collections/antrian.ticket/records/ctz_nobody/r1?purpose=antrian.call";

    // A module's key revoked: the very next call on either instance fails.
    assert_eq!(call(&b, &key, Method::GET, probe, None).await.0, StatusCode::NOT_FOUND);
    let out = sandbox.cli(&["modules", "revoke", "--name", "antrian"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    for app in [&a, &b] {
        assert_eq!(
            call(app, &key, Method::GET, probe, None).await.0,
            StatusCode::UNAUTHORIZED
        );
    }

    // A session ended on one instance is ended on the other.
    let mut on_a = Browser::new(&a);
    assert_eq!(on_a.enrol("3171015207990007", "Siti Aminah").await.status, 201);
    let mut on_b = Browser::new(&b);
    on_b.session = on_a.session.clone();
    assert_eq!(on_b.me().await.status, 200);
    on_a.me().await;
    assert_eq!(on_a.send(Method::POST, "/api/signout", None).await.status, 204);
    assert_eq!(on_b.me().await.status, 401);

    // An officer suspended (by the command) is out on both instances.
    let (officer, pseudonym) = officer_of_unit(&sandbox, &a).await;
    let mut officer_on_b = Browser::new(&b);
    officer_on_b.session = officer.session.clone();
    assert_eq!(officer_on_b.me().await.status, 200);
    let out = sandbox.cli(&["officers", "suspend", "--officer", &pseudonym]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(officer_on_b.me().await.status, 401);

    // A KEK rotation is announced: both instances read the key file again
    // at once, and new data keys are wrapped under the new version.
    let out = sandbox.cli(&["keys", "rotate"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let announced = Instant::now();
    for app in [&a, &b] {
        app.wait_for_log("adopted the key file's keys, as announced").await;
    }
    eprintln!(
        "both instances adopted the rotation {} ms after the command",
        announced.elapsed().as_millis()
    );
    let mut citizen_on_b = Browser::new(&b);
    let enrolled = citizen_on_b.enrol("3171015207990015", "Budi Santoso").await;
    assert_eq!(enrolled.status, 201);
    let budi = enrolled.body["account"].as_str().unwrap().to_owned();
    assert!(budi.starts_with("ctz_"), "{budi}");
    let version = sandbox
        .sql_count(&format!(
            "select k.kek_version from citizen_key k join account a using (account_id) where a.pseudonym = '{budi}'"
        ))
        .await;
    assert_eq!(version, 2);
}

/// A unit that meets a deadlock with a transaction outside Jaga is run
/// again: the caller gets its answer, not a 500.
#[cfg_attr(
    jaga_no_postgres,
    ignore = "PostgreSQL variant skipped: JAGA_TEST_POSTGRES_URL is not set"
)]
#[tokio::test]
async fn a_deadlock_with_an_outside_transaction_is_retried() {
    use sqlx::Connection as _;
    let sandbox = Sandbox::new(Backend::Postgres).await;
    let key = add_module(&sandbox, "antrian");
    let app = sandbox.serve();
    define_tickets(&app, &key).await;
    let pseudonym = citizen(&app, "3171015207990007", "Siti Aminah").await;
    let mut outside = sqlx::PgConnection::connect(&sandbox.db_url).await.unwrap();
    // The outside session waits long before looking for deadlocks: Jaga's
    // side finds it (after its 1 s) and is the one that fails.
    sqlx::raw_sql("set deadlock_timeout = '20s'; begin")
        .execute(&mut outside)
        .await
        .unwrap();
    sqlx::query("select 1 from account where pseudonym = $1 for update")
        .bind(&pseudonym)
        .execute(&mut outside)
        .await
        .unwrap();
    // Jaga's batch takes the writer lock, then waits for the account.
    let write = {
        let (client, url, key) = (
            app.client.clone(),
            app.url(&format!("/api/collections/antrian.ticket/records/{pseudonym}/r1")),
            key.clone(),
        );
        tokio::spawn(async move {
            let resp = client
                .put(url)
                .bearer_auth(&key)
                .json(&json!({ "purpose": "antrian.call", "values": { "queue_number": "A-1" } }))
                .send()
                .await
                .unwrap();
            (resp.status(), resp.text().await.unwrap())
        })
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut admin = postgres::admin().await;
    loop {
        let waiting: i64 =
            sqlx::query_scalar("select count(*) from pg_stat_activity where datname = $1 and wait_event_type = 'Lock'")
                .bind(&sandbox.pg().unwrap().name)
                .fetch_one(&mut admin)
                .await
                .unwrap();
        if waiting > 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "Jaga's unit never waited for the account lock"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Now the outside transaction waits for Jaga's writer lock: a cycle.
    let waited = sqlx::query("select pg_advisory_xact_lock(7665521707850363497)")
        .execute(&mut outside)
        .await;
    assert!(waited.is_ok(), "{waited:?}");
    sqlx::raw_sql("rollback").execute(&mut outside).await.unwrap();
    let (status, body) = write.await.unwrap();
    assert_eq!(status, 204, "{body}");
    // It did meet the deadlock, and ran again.
    app.wait_for_log("a unit of work will run again").await;
    let stored = sandbox
        .sql_count("select count(*) from record_field where record_id = 'r1'")
        .await;
    assert_eq!(stored, 1);
    let (status, logs) = app.stop();
    assert!(status.success(), "{logs}");
    let out = sandbox.cli(&["audit", "verify"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
}

/// `database.migrations = "check"`: an instance whose database role may not
/// change the schema refuses a database with a pending migration, naming
/// `jaga migrate`, and starts once the owner has run it.
#[cfg_attr(
    jaga_no_postgres,
    ignore = "PostgreSQL variant skipped: JAGA_TEST_POSTGRES_URL is not set"
)]
#[tokio::test]
async fn check_mode_refuses_pending_migrations_and_changes_nothing() {
    let mut sandbox = Sandbox::new(Backend::Postgres).await;
    sandbox.extra_env = vec![("JAGA_DATABASE_MIGRATIONS".into(), "check".into())];
    let out = sandbox.cli(&["modules", "list"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("run `jaga migrate`"), "{err}");
    let tables = sandbox
        .sql_count("select count(*) from pg_tables where schemaname = 'public'")
        .await;
    assert_eq!(tables, 0, "check mode created tables");
    let out = sandbox.cli(&["migrate"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let app = sandbox.serve();
    assert_eq!(app.get("/readyz").await.status(), 200);
}

/// The database out of reach: a write is answered 503 with Retry-After
/// (never 500, never left to time out), and once the database is back the
/// same instance writes again by itself.
#[cfg_attr(
    jaga_no_postgres,
    ignore = "PostgreSQL variant skipped: JAGA_TEST_POSTGRES_URL is not set"
)]
#[tokio::test]
async fn an_unreachable_database_is_answered_503_and_writes_resume_after() {
    let sandbox = Sandbox::new(Backend::Postgres).await;
    let key = add_module(&sandbox, "antrian");
    let app = sandbox.serve();
    define_tickets(&app, &key).await;
    let pseudonym = citizen(&app, "3171015207990007", "Siti Aminah").await;
    let write = |n: u32| {
        app.client
            .put(app.url(&format!("/api/collections/antrian.ticket/records/{pseudonym}/u-{n}")))
            .bearer_auth(&key)
            .json(&json!({ "purpose": "antrian.call", "values": { "queue_number": format!("A-{n}") } }))
            .send()
    };
    assert_eq!(write(1).await.unwrap().status(), 204);
    sandbox.pg().unwrap().cut_off().await;
    let resp = write(2).await.unwrap();
    if resp.status() != 503 {
        panic!(
            "{}: {}\n{}",
            resp.status(),
            resp.text().await.unwrap_or_default(),
            app.logs()
        );
    }
    assert_eq!(resp.headers()["retry-after"], "1");
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["error"], "unavailable");
    sandbox.pg().unwrap().reconnect().await;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let status = write(3).await.unwrap().status();
        if status == 204 {
            break;
        }
        assert_eq!(status, 503);
        assert!(Instant::now() < deadline, "no write after the database came back");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let stored = sandbox
        .sql_count("select count(distinct record_id) from record_field where record_id in ('u-1', 'u-3')")
        .await;
    assert_eq!(stored, 2);
}
