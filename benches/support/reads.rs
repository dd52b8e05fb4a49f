//! The module API read load both read benchmarks share: a served Jaga on
//! SQLite (the product's server path, JSON logs at info to a file), one
//! module with an 8-field collection, a thousand citizens with one record
//! each and an open case, and 64 keep-alive callers reading records with
//! a purpose.

#![expect(clippy::unwrap_used, clippy::indexing_slicing, reason = "benchmark support")]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use jaga::app::{App, AppState};
use jaga::audit::Context;
use jaga::config::{Config, Layers};
use jaga::keys::KeyRing;
use jaga::modules::cases::CaseState;
use jaga::modules::collection::{self, Classification, FieldDef};
use jaga::modules::records::{self, RecordWrite};

use super::support::citizen;

pub const RUNS: usize = 5;
pub const RUN_TIME: Duration = Duration::from_secs(4);
pub const CALLERS: usize = 64;
pub const CITIZENS: usize = 1_000;
pub const FIELDS: [&str; 8] = [
    "applicant_name",
    "applicant_address",
    "phone",
    "permit_type",
    "business_name",
    "business_address",
    "tax_number",
    "notes",
];

pub fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

pub async fn start(dir: &std::path::Path) -> (App, String, Serving) {
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
        ("JAGA_POLICIES_DIR", policies(dir).display().to_string()),
        // It measures record writes, not module authentication: the static
        // key keeps the load generator simple (OAuth has its own benchmark).
        ("JAGA_MODULES_STATIC_KEYS", "allow".to_owned()),
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

/// The shipped policies, with `perizinan.review` made withdrawable: each
/// read then also looks up the citizens' decisions (as a consent purpose's
/// would).
fn policies(dir: &std::path::Path) -> std::path::PathBuf {
    let to = dir.join("policies");
    std::fs::create_dir_all(&to).unwrap();
    let shipped = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("policies");
    for entry in std::fs::read_dir(shipped).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
    let catalog = to.join("purposes.toml");
    let text = std::fs::read_to_string(&catalog).unwrap();
    let review = text.find("[purposes.\"perizinan.review\"]").unwrap();
    let flag = review + text[review..].find("withdrawable = false").unwrap();
    let changed = format!(
        "{}withdrawable = true{}",
        &text[..flag],
        &text[flag + "withdrawable = false".len()..]
    );
    std::fs::write(&catalog, changed).unwrap();
    to
}

/// The running server: shut down before the app stops (it holds the state).
pub struct Serving {
    pub log: jaga::telemetry::LogWriter,
    pub handle: axum_server::Handle<std::net::SocketAddr>,
    pub serving: tokio::task::JoinHandle<Result<(), jaga::http::server::ServeError>>,
}

/// Citizens (accounts only: the profile is not what is read here) and one
/// 8-field record each, written through the module API's library calls.
pub async fn seed(state: &AppState) -> (String, Vec<String>) {
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
    // perizinan.review is a public task: it reads a citizen's data while
    // the citizen has an open case (an application) with the module.
    for p in &pseudonyms {
        jaga::modules::cases::set(&state.modules, &module, p, "app-1", CaseState::Open, &ctx)
            .await
            .unwrap();
    }
    (key.to_string(), pseudonyms)
}

/// How a caller authenticates to the module API.
#[derive(Clone)]
pub enum Auth {
    /// A static module API key (`Authorization: Bearer jaga_mk_…`).
    Static(String),
    /// A DPoP-bound access token and one proof per request, made before
    /// the run: `proofs[n]` is for the `n`-th request (citizen `n % N`),
    /// so the load generator spends no signing time during the run.
    Dpop { token: String, proofs: Arc<Vec<String>> },
}

/// The path of the `n`-th read of a run.
pub fn read_path(pseudonyms: &[String], n: usize) -> String {
    let p = &pseudonyms[n % pseudonyms.len()];
    format!("/api/collections/perizinan.application/records/{p}/app-1")
}

/// Reads per second and the number of reads answered.
pub async fn http_reads(base: &str, auth: &Auth, pseudonyms: &Arc<Vec<String>>) -> (f64, u64) {
    let done = Arc::new(AtomicU64::new(0));
    let next = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::new();
    let started = Instant::now();
    for _ in 0..CALLERS {
        let (done, next, stop, pseudonyms) = (done.clone(), next.clone(), stop.clone(), pseudonyms.clone());
        let client = reqwest::Client::builder().pool_max_idle_per_host(1).build().unwrap();
        let (base, auth) = (base.to_owned(), auth.clone());
        tasks.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let n = next.fetch_add(1, Ordering::Relaxed);
                let url = format!("{base}{}?purpose=perizinan.review", read_path(&pseudonyms, n));
                let request = match &auth {
                    Auth::Static(key) => client.get(url).bearer_auth(key),
                    Auth::Dpop { token, proofs } => {
                        let Some(proof) = proofs.get(n) else { break };
                        client
                            .get(url)
                            .header("authorization", format!("DPoP {token}"))
                            .header("dpop", proof)
                    }
                };
                let resp = request.send().await.unwrap();
                assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap_or_default());
                let _ = resp.bytes().await.unwrap();
                done.fetch_add(1, Ordering::Relaxed);
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
