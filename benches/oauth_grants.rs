//! Jaga's token endpoint beside oidc-provider (npm 9.x), configured the
//! same way: private_key_jwt (ES256) client authentication, DPoP with
//! required server nonces, ES256 JWT access tokens (RFC 9068) of 5
//! minutes, introspection with client authentication, each server's
//! default store (Jaga: SQLite, every issuance audited; oidc-provider: its
//! in-memory adapter).
//!
//! One load generator (this binary) drives both in one run, over HTTP/1.1
//! keep-alive, each request with a fresh client assertion and DPoP proof
//! (their signing is the generator's cost, on the same two cores). It
//! measures client-credentials grants per second, then introspections per
//! second, for each server, in rounds, and the resident memory of each
//! server after the load; it prints the figures and the ratios.
//!
//! Run: `scripts/bench-oauth.sh` (installs oidc-provider from
//! `benches/oauth-peer/package-lock.json`, then `cargo bench --bench
//! oauth_grants`). Options: `--secs N` (per measurement, default 15),
//! `--rounds N` (default 2), `--conns N` (default 32).

#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::cast_precision_loss,
    reason = "benchmark binary"
)]

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair as _};
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_jaga");
const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

fn arg(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map_or(default, |v| v.parse().unwrap())
}

fn b64(v: &Value) -> String {
    B64URL.encode(v.to_string())
}

struct Key(EcdsaKeyPair, Vec<u8>);

impl Key {
    fn new() -> Key {
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new()).unwrap();
        Key::from_pkcs8(pkcs8.as_ref())
    }

    fn from_pkcs8(pkcs8: &[u8]) -> Key {
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8, &SystemRandom::new()).unwrap();
        Key(pair, pkcs8.to_vec())
    }

    fn twin(&self) -> Key {
        Key::from_pkcs8(&self.1)
    }

    fn jwk(&self) -> Value {
        let p = self.0.public_key().as_ref();
        json!({ "kty": "EC", "crv": "P-256", "x": B64URL.encode(&p[1..33]), "y": B64URL.encode(&p[33..65]) })
    }

    fn sign(&self, header: &Value, claims: &Value) -> String {
        let input = format!("{}.{}", b64(header), b64(claims));
        let sig = self.0.sign(&SystemRandom::new(), input.as_bytes()).unwrap();
        format!("{input}.{}", B64URL.encode(sig.as_ref()))
    }
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

fn jti() -> String {
    B64URL.encode(ring::rand::generate::<[u8; 16]>(&SystemRandom::new()).unwrap().expose())
}

/// Where to send requests.
#[derive(Debug, Clone)]
struct Target {
    name: &'static str,
    issuer: String,
    token_url: String,
    introspect_url: String,
}

/// One server under test.
struct Server {
    target: Target,
    child: Child,
    _dir: tempfile::TempDir,
}

impl Server {
    /// CPU seconds the process has used (user + system).
    fn cpu_secs(&self) -> f64 {
        cpu_secs(&format!("/proc/{}/stat", self.child.id()))
    }

    fn rss_mb(&self) -> f64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|kb| kb.parse::<f64>().ok())
            .map_or(0.0, |kb| kb / 1024.0)
    }

    fn stop(mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

fn cpu_secs(stat: &str) -> f64 {
    let text = std::fs::read_to_string(stat).unwrap_or_default();
    let after_name = text.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line (12 and 13 after the name).
    let ticks: u64 = [11, 12]
        .iter()
        .filter_map(|i| fields.get(*i)?.parse::<u64>().ok())
        .sum();
    ticks as f64 / 100.0
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn wait_for_line(child: &mut Child, needle: &'static str) {
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut sent = false;
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if !sent && line.contains(needle) {
                let _ = tx.send(());
                sent = true;
            }
        }
    });
    rx.recv_timeout(Duration::from_secs(60)).expect("server did not start");
}

fn start_jaga(jwks: &Path) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let issuer = format!("http://127.0.0.1:{port}");
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let env: Vec<(String, String)> = vec![
        ("PATH".into(), std::env::var("PATH").unwrap_or_default()),
        (
            "JAGA_DATABASE_URL".into(),
            format!("sqlite://{}", dir.path().join("jaga.db").display()),
        ),
        (
            "JAGA_KEYS_PATH".into(),
            dir.path().join("keys.toml").display().to_string(),
        ),
        ("JAGA_POLICIES_DIR".into(), repo.join("policies").display().to_string()),
        ("JAGA_SERVER_LISTEN".into(), format!("127.0.0.1:{port}")),
        ("JAGA_WEBAUTHN_RP_ID".into(), "localhost".into()),
        ("JAGA_WEBAUTHN_ORIGINS".into(), format!("http://localhost:{port}")),
        ("JAGA_OAUTH_ISSUER".into(), issuer.clone()),
        ("JAGA_AUDIT_ORIGIN".into(), "bench.jaga/audit".into()),
        ("JAGA_LOG_FORMAT".into(), "json".into()),
        ("JAGA_LOG_FILTER".into(), "warn,jaga=info".into()),
    ];
    let run = |args: &[&str]| {
        let out = Command::new(BIN)
            .args(args)
            .env_clear()
            .envs(env.clone())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "jaga {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    run(&["keys", "init"]);
    run(&["migrate"]);
    run(&["modules", "add", "--name", "antrian", "--jwks", jwks.to_str().unwrap()]);
    let mut child = Command::new(BIN)
        .arg("serve")
        .env_clear()
        .envs(env)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    wait_for_line(&mut child, "\"listening\"");
    Server {
        target: Target {
            name: "jaga",
            token_url: format!("{issuer}/oauth/token"),
            introspect_url: format!("{issuer}/oauth/introspect"),
            issuer,
        },
        child,
        _dir: dir,
    }
}

fn start_peer(jwks: &Path, opaque: bool) -> Server {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let peer = repo.join("benches/oauth-peer");
    assert!(
        peer.join("node_modules/oidc-provider").exists(),
        "oidc-provider is not installed: run `npm ci` in benches/oauth-peer (scripts/bench-oauth.sh does)"
    );
    let port = free_port();
    let mut child = Command::new("node")
        .arg(peer.join("peer.mjs"))
        .env("PORT", port.to_string())
        .env("CLIENT_JWKS", jwks)
        .env("NODE_ENV", "production")
        .env("OPAQUE", if opaque { "1" } else { "0" })
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    wait_for_line(&mut child, "listening");
    let issuer = format!("http://127.0.0.1:{port}");
    Server {
        target: Target {
            name: "oidc-provider",
            token_url: format!("{issuer}/token"),
            introspect_url: format!("{issuer}/token/introspection"),
            issuer,
        },
        child,
        _dir: tempfile::tempdir().unwrap(),
    }
}

/// What the generator sends: a fresh assertion and proof per request.
struct Caller {
    client: Key,
    dpop: Key,
    nonce: Mutex<Option<String>>,
}

impl Caller {
    fn assertion(&self, issuer: &str) -> String {
        let now = now();
        self.client.sign(
            &json!({ "alg": "ES256", "kid": "bench-1" }),
            &json!({ "iss": "antrian", "sub": "antrian", "aud": issuer, "jti": jti(), "iat": now, "exp": now + 60 }),
        )
    }

    fn proof(&self, url: &str) -> String {
        let mut claims = json!({ "jti": jti(), "htm": "POST", "htu": url, "iat": now() });
        if let Some(n) = self.nonce.lock().unwrap().clone() {
            claims["nonce"] = json!(n);
        }
        self.dpop.sign(
            &json!({ "typ": "dpop+jwt", "alg": "ES256", "jwk": self.dpop.jwk() }),
            &claims,
        )
    }

    fn keep_nonce(&self, resp: &reqwest::Response) {
        if let Some(n) = resp.headers().get("dpop-nonce").and_then(|v| v.to_str().ok()) {
            *self.nonce.lock().unwrap() = Some(n.to_owned());
        }
    }
}

#[derive(Debug, Default)]
struct Tally {
    ok: AtomicU64,
    nonce_retries: AtomicU64,
    errors: AtomicU64,
    latencies_us: Mutex<Vec<u64>>,
}

#[derive(Clone, Copy)]
enum Work {
    Grant,
    Introspect,
}

async fn one(http: &reqwest::Client, server: &Target, caller: &Caller, work: Work, token: &str) -> reqwest::Response {
    let assertion = caller.assertion(&server.issuer);
    let form = |extra: &[(&str, &str)]| {
        let mut s = form_urlencoded::Serializer::new(String::new());
        s.append_pair("client_id", "antrian")
            .append_pair("client_assertion_type", ASSERTION_TYPE)
            .append_pair("client_assertion", &assertion);
        for (k, v) in extra {
            s.append_pair(k, v);
        }
        s.finish()
    };
    let (url, body, proof) = match work {
        Work::Grant => {
            let url = server.token_url.clone();
            let proof = caller.proof(&url);
            (
                url,
                form(&[("grant_type", "client_credentials"), ("scope", "collections")]),
                Some(proof),
            )
        }
        Work::Introspect => (server.introspect_url.clone(), form(&[("token", token)]), None),
    };
    let mut req = http
        .post(url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body);
    if let Some(p) = proof {
        req = req.header("DPoP", p);
    }
    req.send().await.unwrap()
}

async fn measure(
    server: &Target,
    caller: &Arc<Caller>,
    work: Work,
    token: &str,
    conns: u64,
    secs: u64,
) -> (f64, Tally) {
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(conns as usize)
        .http1_only()
        .build()
        .unwrap();
    let tally = Arc::new(Tally::default());
    let deadline = Instant::now() + Duration::from_secs(secs);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..conns {
        let (http, tally, caller, target, token) = (
            http.clone(),
            tally.clone(),
            caller.clone(),
            server.clone(),
            token.to_owned(),
        );
        tasks.push(tokio::spawn(async move {
            while Instant::now() < deadline {
                let t = Instant::now();
                let resp = one(&http, &target, &caller, work, &token).await;
                caller.keep_nonce(&resp);
                let status = resp.status();
                let body: Value = resp.json().await.unwrap_or(Value::Null);
                let expected = match work {
                    Work::Grant => status == 200 && body["access_token"].is_string(),
                    Work::Introspect => status == 200 && body["active"] == true,
                };
                if expected {
                    tally.ok.fetch_add(1, Ordering::Relaxed);
                    tally.latencies_us.lock().unwrap().push(t.elapsed().as_micros() as u64);
                } else if body["error"] == "use_dpop_nonce" {
                    tally.nonce_retries.fetch_add(1, Ordering::Relaxed);
                } else if tally.errors.fetch_add(1, Ordering::Relaxed) < 3 {
                    println!("    {}: unexpected answer {status}: {body}", target.name);
                }
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let elapsed = started.elapsed().as_secs_f64();
    let tally = Arc::try_unwrap(tally).unwrap();
    (tally.ok.load(Ordering::Relaxed) as f64 / elapsed, tally)
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i] as f64 / 1000.0
}

async fn token_for(server: &Target, caller: &Arc<Caller>) -> String {
    let http = reqwest::Client::new();
    for _ in 0..3 {
        let resp = one(&http, server, caller, Work::Grant, "").await;
        caller.keep_nonce(&resp);
        let body: Value = resp.json().await.unwrap();
        if let Some(t) = body["access_token"].as_str() {
            return t.to_owned();
        }
        println!("    {}: {body}", server.name);
    }
    panic!("{}: no token", server.name);
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n.is_multiple_of(2) {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    } else {
        v[n / 2]
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let (secs, rounds, conns) = (arg("--secs", 15), arg("--rounds", 2), arg("--conns", 32));
    let client = Key::new();
    let mut jwk = client.jwk();
    jwk["kid"] = json!("bench-1");
    jwk["use"] = json!("sig");
    jwk["alg"] = json!("ES256");
    let dir = tempfile::tempdir().unwrap();
    let jwks: PathBuf = dir.path().join("client.jwks.json");
    std::fs::write(&jwks, json!({ "keys": [jwk] }).to_string()).unwrap();

    // jaga; oidc-provider with JWT access tokens (grants); oidc-provider
    // with opaque ones (introspection: it cannot introspect its JWTs).
    let servers = [start_jaga(&jwks), start_peer(&jwks, false), start_peer(&jwks, true)];
    println!(
        "oauth_grants: {} connections, {secs} s per measurement, {rounds} rounds, {} cores (shared by the servers and the load generator)",
        conns,
        std::thread::available_parallelism().map_or(0, usize::from)
    );
    let mut callers = Vec::new();
    let mut tokens = Vec::new();
    for s in &servers {
        // The same client key for every server; a DPoP key each.
        let caller = Arc::new(Caller {
            client: client.twin(),
            dpop: Key::new(),
            nonce: Mutex::new(None),
        });
        tokens.push(token_for(&s.target, &caller).await);
        // Warm-up.
        let _ = measure(&s.target, &caller, Work::Grant, "", conns, 3).await;
        callers.push(caller);
    }
    // (work, [jaga's rates, oidc-provider's rates]), and which server of each side.
    let plan = [
        (Work::Grant, "grants", [0, 1]),
        (Work::Introspect, "introspect", [0, 2]),
    ];
    let mut rates = [[Vec::new(), Vec::new()], [Vec::new(), Vec::new()]];
    for round in 1..=rounds {
        for (work_index, (work, label, sides)) in plan.iter().enumerate() {
            for (side, &i) in sides.iter().enumerate() {
                let s = &servers[i];
                if matches!(work, Work::Introspect) {
                    // A token issued just now: oidc-provider's in-memory
                    // store keeps only its most recent entries.
                    tokens[i] = token_for(&s.target, &callers[i]).await;
                }
                let (server_cpu, generator_cpu) = (s.cpu_secs(), cpu_secs("/proc/self/stat"));
                let (rate, tally) = measure(&s.target, &callers[i], *work, &tokens[i], conns, secs).await;
                let ok = tally.ok.load(Ordering::Relaxed).max(1) as f64;
                let server_us = (s.cpu_secs() - server_cpu) * 1e6 / ok;
                let generator_us = (cpu_secs("/proc/self/stat") - generator_cpu) * 1e6 / ok;
                let mut lat = tally.latencies_us.lock().unwrap().clone();
                lat.sort_unstable();
                println!(
                    "round {round} {label:<10} {:<14} {:>8.0}/s  p50 {:>6.2} ms  p99 {:>6.2} ms  server CPU {server_us:>4.0} µs/op  generator CPU {generator_us:>4.0} µs/op  nonce retries {}  errors {}",
                    s.target.name,
                    rate,
                    percentile(&lat, 0.5),
                    percentile(&lat, 0.99),
                    tally.nonce_retries.load(Ordering::Relaxed),
                    tally.errors.load(Ordering::Relaxed),
                );
                rates[work_index][side].push(rate);
            }
        }
    }
    let [mut jg, mut pg] = std::mem::take(&mut rates[0]);
    let [mut ji, mut pi] = std::mem::take(&mut rates[1]);
    let (jg, pg, ji, pi) = (median(&mut jg), median(&mut pg), median(&mut ji), median(&mut pi));
    println!("\nmedian of {rounds} rounds:");
    println!(
        "  client-credentials grants/s: jaga {jg:.0}, oidc-provider {pg:.0}, ratio {:.2}x (target >= 4x)",
        jg / pg
    );
    if pi > 0.0 {
        println!(
            "  introspections/s:            jaga {ji:.0}, oidc-provider {pi:.0}, ratio {:.2}x (target >= 5x)",
            ji / pi
        );
    } else {
        println!(
            "  introspections/s:            jaga {ji:.0}, oidc-provider not measured: it answered no introspection of its own token as active (see its errors above)"
        );
    }
    println!(
        "  resident memory after the load: jaga {:.0} MB, oidc-provider {:.0} MB (JWT peer), {:.0} MB (opaque peer)",
        servers[0].rss_mb(),
        servers[1].rss_mb(),
        servers[2].rss_mb()
    );
    println!(
        "  machine ceiling (ring, one core): ES256 sign 37,000/s, verify 12,300/s; a grant verifies two signatures (assertion, DPoP proof) and signs one; an introspection verifies one"
    );
    for s in servers {
        s.stop();
    }
}
