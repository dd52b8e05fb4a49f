//! Audited field decryptions per second through the HTTP API: a module
//! reads one citizen's record (8 fields) with a purpose, over keep-alive
//! HTTP/1.1, against the real router on SQLite (WAL, `synchronous=FULL`).
//! Every request decrypts 8 fields and commits one audit event before it
//! answers. Beside it: this machine's raw AES-256-GCM decryption rate (the
//! ceiling for the cryptography alone).
//!
//! The same load runs with the purpose, policy (Cedar) and consent checks
//! on, as served, and with them switched off (`bench-internals`), in
//! alternating runs, so their cost is read off one run of the benchmark.
//! The purpose read (`perizinan.review`, a public task) is made
//! withdrawable here, so that every read looks up both the citizen's
//! decision and their open case with the module in the database.
//! Beside it: the policy decision's own cost per read (catalog and Cedar,
//! 8 fields), and the consent lookup's, in microseconds.
//!
//! Run: `cargo bench --features bench-internals --bench vault_read`
//! (release build). Each figure is the median of five runs. The load generator runs in the same process and
//! shares the machine's cores with the service. As in production: the
//! product's own server path (`http::server`), JSON logs at `info` (to a
//! file), the database in a folder on disk (under `target/`), and a count
//! of the audit events the measured requests committed.

#![expect(
    clippy::unwrap_used,
    clippy::print_stdout,
    clippy::indexing_slicing,
    reason = "benchmark binary"
)]

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use aes_gcm::aead::{Aead as _, KeyInit as _, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use jaga::app::AppState;
use jaga::audit::Context;
use jaga::modules::collection;

#[path = "support/reads.rs"]
#[expect(dead_code, reason = "the DPoP-bound reads are module_api_dpop's")]
mod reads;
#[path = "support/mod.rs"]
mod support;
use reads::{Auth, CALLERS, FIELDS, RUNS, http_reads, median, seed, start};

/// Microseconds per call of `f`, median and 99th percentile, over `n` calls.
async fn timed<F, Fut>(n: usize, mut f: F) -> (f64, f64)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let mut micros = Vec::with_capacity(n);
    for _ in 0..n {
        let started = Instant::now();
        f().await;
        micros.push(started.elapsed().as_secs_f64() * 1e6);
    }
    micros.sort_by(f64::total_cmp);
    (micros[n / 2], micros[n * 99 / 100])
}

/// The policy decision for one read (catalog and Cedar, 8 fields) and the
/// consent lookup for one citizen, each timed alone.
async fn decision_cost(state: &AppState, pseudonym: &str) -> ((f64, f64), (f64, f64)) {
    let ctx = Context::default();
    let module = jaga::modules::authenticate(&state.db, MODULE_KEY.get().unwrap())
        .await
        .unwrap()
        .unwrap();
    let owned = collection::owned(&state.db, &state.writer, &module, "perizinan.application", &ctx)
        .await
        .unwrap();
    let purpose = jaga::modules::purpose::Purpose::parse("perizinan.review").unwrap();
    let policies = state.modules.policies.current();
    let decision = timed(20_000, || {
        let plan = jaga::modules::decide::read(&policies, owned.module(), owned.collection(), &purpose, None).unwrap();
        assert_eq!(plan.levels.len(), FIELDS.len());
        std::future::ready(())
    })
    .await;
    let def = policies.catalog.get("perizinan.review").unwrap();
    let account = jaga::store::identity::accounts_by_pseudonyms(&state.db, &[pseudonym])
        .await
        .unwrap();
    let account_id = account[0].account_id.clone();
    let lookup = timed(2_000, || async {
        let blocked = jaga::consent::blocked_among(&state.db, def, &[account_id.as_str()])
            .await
            .unwrap();
        assert!(blocked.is_empty());
    })
    .await;
    (decision, lookup)
}

static MODULE_KEY: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// Raw AES-256-GCM decryptions of 48-byte values per second, on `threads` threads.
fn raw_aes(threads: usize) -> f64 {
    let per_thread = 1_000_000u64;
    let started = Instant::now();
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            std::thread::spawn(move || {
                let cipher = Aes256Gcm::new(&Key::<Aes256Gcm>::from([7u8; 32]));
                let nonce = Nonce::from([1u8; 12]);
                let sealed = cipher
                    .encrypt(
                        &nonce,
                        Payload {
                            msg: &[b'x'; 48],
                            aad: b"citizen/field/1",
                        },
                    )
                    .unwrap();
                let mut ok = 0u64;
                for _ in 0..per_thread {
                    let plain = cipher
                        .decrypt(
                            &nonce,
                            Payload {
                                msg: &sealed,
                                aad: b"citizen/field/1",
                            },
                        )
                        .unwrap();
                    ok += u64::from(plain.len() == 48);
                }
                ok
            })
        })
        .collect();
    let total: u64 = handles.into_iter().map(|h| h.join().unwrap()).sum();
    total as f64 / started.elapsed().as_secs_f64()
}

#[tokio::main]
async fn main() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    // On disk (under target/), never a memory-backed temporary folder.
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let (app, base, serving) = start(dir.path()).await;
    let (key, pseudonyms) = seed(&app.state).await;
    MODULE_KEY.set(key.clone()).unwrap();
    let pseudonyms = Arc::new(pseudonyms);
    let bypass = app.state.modules.bypass_checks.clone();
    let auth = Auth::Static(key.clone());
    let _ = http_reads(&base, &auth, &pseudonyms).await; // warm-up
    let mut requests = Vec::new();
    let mut unchecked = Vec::new();
    let mut served = 0u64;
    let before = jaga::store::audit::end_seq(&app.state.db).await.unwrap();
    for _ in 0..RUNS {
        bypass.store(false, Ordering::Relaxed);
        let (rate, count) = http_reads(&base, &auth, &pseudonyms).await;
        requests.push(rate);
        served += count;
        bypass.store(true, Ordering::Relaxed);
        let (rate, count) = http_reads(&base, &auth, &pseudonyms).await;
        unchecked.push(rate);
        served += count;
    }
    bypass.store(false, Ordering::Relaxed);
    let committed = jaga::store::audit::end_seq(&app.state.db).await.unwrap() - before;
    // Each measured read committed its audit event before it was answered.
    assert!(
        committed as u64 >= served,
        "{served} reads answered but {committed} audit events committed"
    );
    let rps = median(requests);
    let fields = FIELDS.len() as f64;
    println!(
        "HTTP reads, {CALLERS} concurrent callers, 1 audit event per read, {} fields each:",
        FIELDS.len()
    );
    println!("  {rps:>10.0} audited reads/s (requests answered 200)");
    println!(
        "  {:>10.0} audited field decryptions/s ({} per read)",
        rps * fields,
        FIELDS.len()
    );
    let bare = median(unchecked);
    println!(
        "  {:>10.0} audited field decryptions/s with the purpose, policy and consent checks bypassed ({:.0} reads/s)",
        bare * fields,
        bare
    );
    println!(
        "  the checks cost {:.1} % of throughput (target: under 20 %)",
        (1.0 - rps / bare) * 100.0
    );
    println!("  {committed} audit events committed during the 2 × {RUNS} measured runs, for {served} reads answered");
    let ((d50, d99), (c50, c99)) = decision_cost(&app.state, &pseudonyms[0]).await;
    println!(
        "policy decision per read (purpose catalog + Cedar, {} fields), in process:",
        FIELDS.len()
    );
    println!("  median {d50:.1} µs, p99 {d99:.1} µs");
    println!("consent lookup per read (one query), in process:");
    println!("  median {c50:.1} µs, p99 {c99:.1} µs");
    let one = median((0..RUNS).map(|_| raw_aes(1)).collect());
    let two = median((0..RUNS).map(|_| raw_aes(2)).collect());
    let workers = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let all = median((0..RUNS).map(|_| raw_aes(workers)).collect());
    println!("ceiling: raw AES-256-GCM decryptions of 48-byte values (no I/O, no audit):");
    println!("  {one:>10.0} /s on 1 thread");
    println!("  {two:>10.0} /s on 2 threads");
    println!("  {all:>10.0} /s on {workers} threads (as many as the runtime serving the load)");
    let state = app.state.clone();
    let events = jaga::store::audit::end_seq(&state.db).await.unwrap();
    println!("audit events written during the run: {events}");
    drop(state);
    serving.handle.shutdown();
    let _ = serving.serving.await;
    app.stop().await;
    drop(serving.log);
}
