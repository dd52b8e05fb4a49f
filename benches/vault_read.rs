//! Audited field decryptions per second through the HTTP API: a module
//! reads one citizen's record (8 fields) with a purpose, over keep-alive
//! HTTP/1.1, against the real router on SQLite (WAL, `synchronous=FULL`).
//! Every request decrypts 8 fields and commits one audit event before it
//! answers. Beside it: this machine's raw AES-256-GCM decryption rate (the
//! ceiling for the cryptography alone).
//!
//! Run: `cargo bench --bench vault_read` (release build). Each figure is the
//! median of five runs. The load generator runs in the same process and
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

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use aes_gcm::aead::{Aead as _, KeyInit as _, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use jaga::app::{App, AppState};
use jaga::audit::Context;
use jaga::config::{Config, Layers};
use jaga::keys::KeyRing;
use jaga::modules::collection::{self, Classification, FieldDef};
use jaga::modules::records::{self, RecordWrite};

#[path = "support/mod.rs"]
mod support;
use support::citizen;

const RUNS: usize = 5;
const RUN_TIME: Duration = Duration::from_secs(4);
const CALLERS: usize = 64;
const CITIZENS: usize = 1_000;
const FIELDS: [&str; 8] = [
    "applicant_name",
    "applicant_address",
    "phone",
    "permit_type",
    "business_name",
    "business_address",
    "tax_number",
    "notes",
];

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

async fn start(dir: &std::path::Path) -> (App, String, Serving) {
    let (keys, _) = KeyRing::generate().unwrap();
    let env = [
        (
            "JAGA_DATABASE_URL",
            format!("sqlite://{}", dir.join("jaga.db").display()),
        ),
        ("JAGA_KEYS_PATH", dir.join("keys.toml").display().to_string()),
        (
            "JAGA_AUDIT_CHECKPOINT_FILE",
            dir.join("checkpoint.txt").display().to_string(),
        ),
        ("JAGA_WEBAUTHN_RP_ID", "localhost".to_owned()),
        ("JAGA_WEBAUTHN_ORIGINS", "http://localhost:8080".to_owned()),
        ("JAGA_SERVER_LISTEN", "127.0.0.1:0".to_owned()),
        ("JAGA_LOG_FORMAT", "json".to_owned()),
        ("JAGA_LOG_FILTER", "info".to_owned()),
    ]
    .map(|(k, v)| (k.to_owned(), v));
    let config = Config::from_layers(&Layers::read(None, env).unwrap(), false).unwrap();
    // Production's logging: JSON at info, every request, through the same
    // background writer; here to a file.
    let log = std::fs::File::create(dir.join("jaga.log")).unwrap();
    let log = jaga::telemetry::init_serving(&config.log, log);
    // Production's server path: bind, then serve with the product's server.
    let listeners = jaga::http::server::bind(&config).await.unwrap();
    let base = format!("http://{}", listeners.main_addrs()[0]);
    let app = App::start(config, keys).await.unwrap();
    let main = jaga::http::router(app.state.clone());
    let admin = jaga::http::admin_router(app.state.clone());
    let handle = axum_server::Handle::new();
    let serving = tokio::spawn(jaga::http::server::serve(listeners, None, main, admin, handle.clone()));
    (app, base, Serving { log, handle, serving })
}

/// The running server: shut down before the app stops (it holds the state).
struct Serving {
    log: jaga::telemetry::LogWriter,
    handle: axum_server::Handle<std::net::SocketAddr>,
    serving: tokio::task::JoinHandle<Result<(), jaga::http::server::ServeError>>,
}

/// Citizens (accounts only: the profile is not what is read here) and one
/// 8-field record each, written through the module API's library calls.
async fn seed(state: &AppState) -> (String, Vec<String>) {
    let (module, key) = jaga::modules::add(&state.writer, "perizinan", "bench").await.unwrap();
    let fields = FIELDS
        .iter()
        .map(|f| FieldDef {
            name: (*f).to_owned(),
            classification: Classification::Personal,
            multiline: false,
        })
        .collect();
    let ctx = Context::default();
    collection::define(&state.db, &state.writer, &module, "perizinan.application", fields, &ctx)
        .await
        .unwrap();
    let owned = collection::owned(&state.db, &state.writer, &module, "perizinan.application", &ctx)
        .await
        .unwrap();
    let purpose = jaga::modules::purpose::Purpose::parse("perizinan.review").unwrap();
    let mut pseudonyms = Vec::with_capacity(CITIZENS);
    for i in 0..CITIZENS {
        pseudonyms.push(citizen(state, i).await);
    }
    for chunk in pseudonyms.chunks(100) {
        let writes = chunk
            .iter()
            .map(|p| RecordWrite {
                citizen: p.clone(),
                record: "app-1".to_owned(),
                values: FIELDS
                    .iter()
                    .map(|f| {
                        (
                            (*f).to_owned(),
                            Some(format!("{f} value for a permit application, about 48 b")),
                        )
                    })
                    .collect::<BTreeMap<_, _>>(),
            })
            .collect();
        records::write(&state.modules, &owned, writes, &purpose, &ctx)
            .await
            .unwrap();
    }
    (key.to_string(), pseudonyms)
}

/// Reads per second and the number of reads answered.
async fn http_reads(base: &str, key: &str, pseudonyms: &Arc<Vec<String>>) -> (f64, u64) {
    let done = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::new();
    let started = Instant::now();
    for c in 0..CALLERS {
        let (done, stop, pseudonyms) = (done.clone(), stop.clone(), pseudonyms.clone());
        let client = reqwest::Client::builder().pool_max_idle_per_host(1).build().unwrap();
        let (base, key) = (base.to_owned(), key.to_owned());
        tasks.push(tokio::spawn(async move {
            let mut i = c;
            while !stop.load(Ordering::Relaxed) {
                let p = &pseudonyms[i % pseudonyms.len()];
                let url =
                    format!("{base}/api/collections/perizinan.application/records/{p}/app-1?purpose=perizinan.review");
                let resp = client.get(url).bearer_auth(&key).send().await.unwrap();
                assert_eq!(resp.status(), 200);
                let _ = resp.bytes().await.unwrap();
                done.fetch_add(1, Ordering::Relaxed);
                i += CALLERS;
            }
        }));
    }
    tokio::time::sleep(RUN_TIME).await;
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        t.await.unwrap();
    }
    let count = done.load(Ordering::Relaxed);
    (count as f64 / started.elapsed().as_secs_f64(), count)
}

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
    let pseudonyms = Arc::new(pseudonyms);
    let _ = http_reads(&base, &key, &pseudonyms).await; // warm-up
    let mut requests = Vec::new();
    let mut served = 0u64;
    let before = jaga::store::audit::end_seq(&app.state.db).await.unwrap();
    for _ in 0..RUNS {
        let (rate, count) = http_reads(&base, &key, &pseudonyms).await;
        requests.push(rate);
        served += count;
    }
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
    println!("  {committed} audit events committed during the {RUNS} measured runs, for {served} reads answered");
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
