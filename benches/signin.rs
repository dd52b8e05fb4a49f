//! Complete passkey sign-ins per second through the real server on SQLite:
//! `POST /api/signin/start` (a ceremony stored), the software authenticator
//! signing the challenge, `POST /api/signin/finish` (ceremony taken,
//! assertion verified by webauthn_rp, passkey use recorded, session
//! created, audit events committed), over keep-alive HTTP/1.1. As in
//! production: the product's server path, JSON logs at info through the
//! background writer (to a file), data on disk under `target/`. Rate limits
//! are set out of the way by configuration (`ratelimit.policies`), not by
//! code; enough accounts that no per-account state binds.
//!
//! Beside it: this machine's raw ES256 (P-256) verification rate with ring
//! and with the `p256` crate webauthn_rp uses, on 1 and 2 threads, and the
//! authenticator's own signing rate (the load generator shares the cores).
//!
//! Run: `cargo bench --bench signin` (release build). Median of five runs.

#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::indexing_slicing,
    reason = "benchmark binary"
)]

#[path = "../security-tests/support/authenticator.rs"]
mod authenticator;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use jaga::app::App;
use jaga::config::{Config, Layers};
use jaga::keys::KeyRing;
use passkey_client::DefaultClientData;
use passkey_types::webauthn::{CredentialCreationOptions, CredentialRequestOptions};

const RUNS: usize = 5;
const RUN_TIME: Duration = Duration::from_secs(4);
const CALLERS: usize = 32;
const ACCOUNTS: usize = 320;
const ORIGIN: &str = "http://localhost:8080";

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

struct Serving {
    app: App,
    base: String,
    _log: jaga::telemetry::LogWriter,
    handle: axum_server::Handle<std::net::SocketAddr>,
    serving: tokio::task::JoinHandle<Result<(), jaga::http::server::ServeError>>,
}

async fn start(dir: &std::path::Path) -> Serving {
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
        ("JAGA_WEBAUTHN_ORIGINS", ORIGIN.to_owned()),
        ("JAGA_SERVER_LISTEN", "127.0.0.1:0".to_owned()),
        ("JAGA_LOG_FORMAT", "json".to_owned()),
        ("JAGA_LOG_FILTER", "info".to_owned()),
        // Out of the way, by configuration: one load generator, one address.
        (
            "JAGA_RATELIMIT_POLICIES",
            "signin-ip=1000000/1, enrol-ip=1000000/1, signin-account=1000000/1".to_owned(),
        ),
    ]
    .map(|(k, v)| (k.to_owned(), v));
    let config = Config::from_layers(&Layers::read(None, env).unwrap(), false).unwrap();
    let log = std::fs::File::create(dir.join("jaga.log")).unwrap();
    let log = jaga::telemetry::init_serving(&config.log, log);
    let listeners = jaga::http::server::bind(&config).await.unwrap();
    let base = format!("http://{}", listeners.main_addrs()[0]);
    let app = App::start(config, keys).await.unwrap();
    let main = jaga::http::router(app.state.clone());
    let admin = jaga::http::admin_router(app.state.clone());
    let handle = axum_server::Handle::new();
    let serving = tokio::spawn(jaga::http::server::serve(listeners, None, main, admin, handle.clone()));
    Serving {
        app,
        base,
        _log: log,
        handle,
        serving,
    }
}

/// One citizen's browser: an HTTP client and a software authenticator.
struct Person {
    http: reqwest::Client,
    passkeys: authenticator::PasskeyClient,
}

async fn post(http: &reqwest::Client, base: &str, path: &str, body: Vec<u8>) -> reqwest::Response {
    http.post(format!("{base}{path}"))
        .header("origin", ORIGIN)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap()
}

async fn enrol(base: &str, i: usize) -> Person {
    let http = reqwest::Client::builder().pool_max_idle_per_host(1).build().unwrap();
    let mut passkeys = authenticator::new_client();
    let nik = format!("197101120385{:04}", i + 1);
    let body = serde_json::json!({ "nik": nik, "name": format!("Warga {i}") });
    let options: serde_json::Value = post(&http, base, "/api/enrol/start", body.to_string().into_bytes())
        .await
        .json()
        .await
        .unwrap();
    let request: CredentialCreationOptions = serde_json::from_value(options).unwrap();
    let origin = url::Url::parse(ORIGIN).unwrap();
    let created = passkeys
        .register(&origin, request, DefaultClientData)
        .await
        .expect("create");
    let finish = post(&http, base, "/api/enrol/finish", serde_json::to_vec(&created).unwrap()).await;
    assert_eq!(finish.status(), 201);
    Person { http, passkeys }
}

/// One complete sign-in; panics if it is not accepted.
async fn sign_in(base: &str, person: &mut Person) {
    let options: serde_json::Value = post(&person.http, base, "/api/signin/start", b"{}".to_vec())
        .await
        .json()
        .await
        .unwrap();
    let request: CredentialRequestOptions = serde_json::from_value(options).unwrap();
    let origin = url::Url::parse(ORIGIN).unwrap();
    let asserted = person
        .passkeys
        .authenticate(&origin, request, DefaultClientData)
        .await
        .expect("sign");
    let finish = post(
        &person.http,
        base,
        "/api/signin/finish",
        serde_json::to_vec(&asserted).unwrap(),
    )
    .await;
    assert_eq!(finish.status(), 200);
}

async fn sign_ins(base: &str, people: Vec<Vec<Person>>) -> (f64, u64, Vec<Vec<Person>>) {
    let done = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for mut group in people {
        let (done, stop, base) = (done.clone(), stop.clone(), base.to_owned());
        tasks.push(tokio::spawn(async move {
            let mut i = 0;
            while !stop.load(Ordering::Relaxed) {
                let n = group.len();
                sign_in(&base, &mut group[i % n]).await;
                done.fetch_add(1, Ordering::Relaxed);
                i += 1;
            }
            group
        }));
    }
    tokio::time::sleep(RUN_TIME).await;
    stop.store(true, Ordering::Relaxed);
    let mut back = Vec::new();
    for t in tasks {
        back.push(t.await.unwrap());
    }
    let count = done.load(Ordering::Relaxed);
    (count as f64 / started.elapsed().as_secs_f64(), count, back)
}

/// ES256 verifications per second on `threads` threads, with `verify`.
fn verifications(threads: usize, verify: fn(&[u8], &[u8], &[u8]) -> bool) -> f64 {
    use p256::ecdsa::signature::Signer as _;
    let secret = p256::ecdsa::SigningKey::from_bytes(&[7u8; 32].into()).unwrap();
    let public = secret.verifying_key().to_encoded_point(false).as_bytes().to_vec();
    let message = b"authenticator data and client data hash".to_vec();
    let signature: p256::ecdsa::Signature = secret.sign(&message);
    let der = signature.to_der().as_bytes().to_vec();
    let per_thread = 2_000u64;
    let started = Instant::now();
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let (public, message, der) = (public.clone(), message.clone(), der.clone());
            std::thread::spawn(move || (0..per_thread).filter(|_| verify(&public, &message, &der)).count() as u64)
        })
        .collect();
    let total: u64 = handles.into_iter().map(|h| h.join().unwrap()).sum();
    assert_eq!(total, per_thread * threads as u64);
    total as f64 / started.elapsed().as_secs_f64()
}

fn ring_verify(public: &[u8], message: &[u8], der: &[u8]) -> bool {
    ring::signature::UnparsedPublicKey::new(&ring::signature::ECDSA_P256_SHA256_ASN1, public)
        .verify(message, der)
        .is_ok()
}

fn p256_verify(public: &[u8], message: &[u8], der: &[u8]) -> bool {
    use p256::ecdsa::signature::Verifier as _;
    let key = p256::ecdsa::VerifyingKey::from_sec1_bytes(public).unwrap();
    let signature = p256::ecdsa::Signature::from_der(der).unwrap();
    key.verify(message, &signature).is_ok()
}

#[tokio::main]
async fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let serving = start(dir.path()).await;
    let base = serving.base.clone();
    let mut people = Vec::with_capacity(ACCOUNTS);
    for i in 0..ACCOUNTS {
        people.push(enrol(&base, i).await);
    }
    let mut groups: Vec<Vec<Person>> = (0..CALLERS).map(|_| Vec::new()).collect();
    for (i, person) in people.into_iter().enumerate() {
        groups[i % CALLERS].push(person);
    }
    let (_, _, mut groups) = sign_ins(&base, groups).await; // warm-up
    let before = jaga::store::audit::end_seq(&serving.app.state.db).await.unwrap();
    let mut rates = Vec::new();
    let mut total = 0;
    for _ in 0..RUNS {
        let (rate, count, back) = sign_ins(&base, groups).await;
        groups = back;
        rates.push(rate);
        total += count;
    }
    let committed = jaga::store::audit::end_seq(&serving.app.state.db).await.unwrap() - before;
    let workers = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    println!(
        "complete passkey sign-ins (start + ES256 assertion + verification + session + audit), {CALLERS} callers, \
         {ACCOUNTS} accounts:"
    );
    println!("  {:>10.0} sign-ins/s", median(rates));
    println!("  {total} sign-ins measured, {committed} audit events committed");
    println!("ceiling: raw ES256 verifications (no I/O):");
    for threads in [1, workers] {
        println!(
            "  ring: {:>8.0} /s   p256 (webauthn_rp's): {:>8.0} /s   on {threads} thread(s)",
            verifications(threads, ring_verify),
            verifications(threads, p256_verify)
        );
    }
    // The authenticator signs each challenge on the same machine.
    let started = Instant::now();
    let secret = p256::ecdsa::SigningKey::from_bytes(&[9u8; 32].into()).unwrap();
    let signs = 2_000;
    for i in 0..signs {
        use p256::ecdsa::signature::Signer as _;
        let _: p256::ecdsa::Signature = secret.sign(format!("challenge {i}").as_bytes());
    }
    println!(
        "load generator: the authenticator's ES256 signing, {:.0} /s on 1 thread (shares the cores)",
        f64::from(signs) / started.elapsed().as_secs_f64()
    );
    serving.handle.shutdown();
    let _ = serving.serving.await;
    serving.app.stop().await;
}
