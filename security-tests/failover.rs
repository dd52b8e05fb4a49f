//! Failover: Jaga on a PostgreSQL primary with a synchronous standby,
//! through HAProxy (`scripts/pg-replica.sh up`; JAGA_TEST_FAILOVER names
//! the proxy's URL). Under write load the primary is killed (-9) and the
//! standby promoted: meanwhile Jaga answers 503, never 500; afterwards it
//! writes again by itself, every acknowledged write is there, and the
//! audit log verifies.
//!
//! The test kills the primary: run `scripts/pg-replica.sh down && up`
//! before running it again.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::support::Sandbox;
use crate::support::modules::{add_module, citizen, define_tickets};

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/pg-replica.sh");

fn replica(step: &str) -> String {
    let out = std::process::Command::new("bash")
        .args([SCRIPT, step])
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "pg-replica.sh {step}: {text}");
    text
}

#[derive(Debug, Default)]
struct Tally {
    acknowledged: BTreeSet<u32>,
    unavailable: u32,
    other: Vec<String>,
    /// First answer 503 after the kill: the gap has begun.
    gap_at: Option<Instant>,
    /// First acknowledged write after the gap began.
    back_at: Option<Instant>,
}

#[cfg_attr(
    jaga_no_failover,
    ignore = "failover test skipped: JAGA_TEST_FAILOVER is not set (scripts/pg-replica.sh up, then the proxy URL)"
)]
#[tokio::test]
async fn primary_killed_under_load_standby_promoted_no_acknowledged_write_lost() {
    let server = std::env::var("JAGA_TEST_FAILOVER").unwrap();
    let mut sandbox = Sandbox::on_postgres_server(&server).await;
    sandbox.extra_env = vec![
        ("JAGA_AUDIT_SIGNER_TAKEOVER_SECS".into(), "1".into()),
        ("JAGA_AUDIT_CHECKPOINT_EVERY_SECS".into(), "1".into()),
    ];
    let key = add_module(&sandbox, "antrian");
    let app = sandbox.serve();
    define_tickets(&app, &key).await;
    let pseudonym = citizen(&app, "3171015207990007", "Siti Aminah").await;

    let tally = Arc::new(Mutex::new(Tally::default()));
    let killed_at: Arc<Mutex<Option<Instant>>> = Arc::default();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut callers = Vec::new();
    for c in 0..8u32 {
        let (client, base, key, pseudonym) = (app.client.clone(), app.base.clone(), key.clone(), pseudonym.clone());
        let (tally, killed_at, stop) = (tally.clone(), killed_at.clone(), stop.clone());
        callers.push(tokio::spawn(async move {
            let mut n = c;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                n += 8;
                let sent = client
                    .put(format!(
                        "{base}/api/collections/antrian.ticket/records/{pseudonym}/f-{n}"
                    ))
                    .bearer_auth(&key)
                    .json(&json!({ "purpose": "antrian.call", "values": { "queue_number": format!("A-{n}") } }))
                    .timeout(Duration::from_secs(60))
                    .send()
                    .await;
                let answer = match sent {
                    Ok(r) => Ok((r.status(), r.headers().contains_key("retry-after"))),
                    Err(e) => Err(e.to_string()),
                };
                {
                    let mut t = tally.lock().unwrap();
                    match answer {
                        Ok((status, _)) if status.is_success() => {
                            t.acknowledged.insert(n);
                            if t.back_at.is_none() && t.gap_at.is_some() {
                                t.back_at = Some(Instant::now());
                            }
                        }
                        Ok((status, false)) if status == 503 => t.other.push("503 without Retry-After".into()),
                        Ok((status, true)) if status == 503 => {
                            t.unavailable += 1;
                            if t.gap_at.is_none() && killed_at.lock().unwrap().is_some() {
                                t.gap_at = Some(Instant::now());
                            }
                        }
                        Ok((status, _)) => t.other.push(status.to_string()),
                        Err(e) => t.other.push(e),
                    }
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }));
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let before = tally.lock().unwrap().acknowledged.len();
    assert!(before > 0, "no write succeeded before the failover");

    replica("kill-primary");
    let kill = Instant::now();
    *killed_at.lock().unwrap() = Some(kill);
    // The gap: no writable primary.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let promoted = replica("promote");
    let promoted_at = Instant::now();
    let deadline = Instant::now() + Duration::from_secs(60);
    while tally.lock().unwrap().back_at.is_none() {
        assert!(
            Instant::now() < deadline,
            "Jaga did not write again after the promotion:\n{}",
            app.logs()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for c in callers {
        c.await.unwrap();
    }
    let tally = std::mem::take(&mut *tally.lock().unwrap());
    let logs = app.logs();
    let since = |t: Option<Instant>, from: Instant| t.map_or(0, |t| t.saturating_duration_since(from).as_millis());
    eprintln!(
        "failover: {} writes acknowledged, {} answered 503 meanwhile; first 503 {} ms after the kill; \
         writes acknowledged again {} ms after the kill (the test waits 2 s before promoting), {} ms after \
         the promotion finished; pg-replica.sh: {}",
        tally.acknowledged.len(),
        tally.unavailable,
        since(tally.gap_at, kill),
        since(tally.back_at, kill),
        since(tally.back_at, promoted_at),
        promoted.lines().last().unwrap_or_default()
    );
    assert!(
        tally.other.is_empty(),
        "answers other than 2xx and 503: {:?}\n{logs}",
        tally.other
    );
    assert!(
        tally.unavailable > 0,
        "no request was answered 503 during the gap\n{logs}"
    );

    let (status, logs) = app.stop();
    assert!(status.success(), "{logs}");
    let ids: Vec<String> = tally.acknowledged.iter().map(|n| format!("'f-{n}'")).collect();
    let stored = sandbox
        .sql_count(&format!(
            "select count(distinct record_id) from record_field where record_id in ({})",
            ids.join(",")
        ))
        .await;
    assert_eq!(
        stored,
        i64::try_from(tally.acknowledged.len()).unwrap(),
        "acknowledged writes lost\n{logs}"
    );
    let out = sandbox.cli(&["audit", "verify"]);
    assert!(
        out.status.success(),
        "{}{}\n{logs}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
