//! Module API reads with a DPoP-bound access token beside the same reads
//! with the static module key (#12, item 8): audited field decryptions per
//! second, in alternating runs against one served Jaga on SQLite. With a
//! token, Jaga checks on every request the DPoP proof (a P-256 signature,
//! `htm`, `htu`, `iat`, `ath`, the nonce, the `jti` against replay) and
//! that the token is not revoked and its module live (one query); the
//! token's own signature is verified once per instance and cached until it
//! expires. Target: at least 80 % of the static key's rate.
//!
//! The proofs are made before each run (one per request, for its URL), so
//! the load generator, which shares the machine's two cores with the
//! service, spends no signing time while the service is measured; a real
//! module signs on its own machine. Beside it: this machine's raw P-256
//! verifications per second (ring), the ceiling for the proof check alone.
//!
//! Run: `cargo bench --bench module_api_dpop` (release build). Each figure
//! is the median of five runs of four seconds.

#![expect(
    clippy::unwrap_used,
    clippy::print_stdout,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "benchmark binary"
)]

use std::sync::Arc;
use std::time::Instant;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_FIXED, ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair as _};
use serde_json::{Value, json};

#[path = "support/reads.rs"]
mod reads;
#[path = "support/mod.rs"]
mod support;
use reads::{Auth, FIELDS, RUNS, http_reads, median, read_path, seed, start};

/// Proofs made per run: more than a run can use on this machine.
const PROOFS: usize = 40_000;

struct Key(EcdsaKeyPair);

impl Key {
    fn new() -> Key {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
        Key(EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng).unwrap())
    }

    fn jwk(&self) -> Value {
        let p = self.0.public_key().as_ref();
        json!({ "kty": "EC", "crv": "P-256", "x": B64URL.encode(&p[1..33]), "y": B64URL.encode(&p[33..65]) })
    }

    fn sign(&self, header: &Value, claims: &Value) -> String {
        let input = format!(
            "{}.{}",
            B64URL.encode(header.to_string()),
            B64URL.encode(claims.to_string())
        );
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

/// A DPoP proof for `GET url` with `token`.
fn proof(dpop: &Key, url: &str, nonce: &str, token: &str) -> String {
    let ath = B64URL.encode(ring::digest::digest(&ring::digest::SHA256, token.as_bytes()));
    dpop.sign(
        &json!({ "typ": "dpop+jwt", "alg": "ES256", "jwk": dpop.jwk() }),
        &json!({ "jti": jti(), "htm": "GET", "htu": url, "iat": now(), "nonce": nonce, "ath": ath }),
    )
}

/// The module's access token, from the token endpoint (private_key_jwt, DPoP).
async fn token(base: &str, issuer: &str, client: &Key, dpop: &Key, nonce: &str) -> String {
    let now = now();
    let assertion = client.sign(
        &json!({ "alg": "ES256", "kid": "bench-1" }),
        &json!({ "iss": "perizinan", "sub": "perizinan", "aud": issuer, "jti": jti(), "iat": now, "exp": now + 60 }),
    );
    let token_url = format!("{issuer}/oauth/token");
    let proof = dpop.sign(
        &json!({ "typ": "dpop+jwt", "alg": "ES256", "jwk": dpop.jwk() }),
        &json!({ "jti": jti(), "htm": "POST", "htu": token_url, "iat": now, "nonce": nonce }),
    );
    let form = form_urlencoded::Serializer::new(String::new())
        .append_pair("grant_type", "client_credentials")
        .append_pair(
            "client_assertion_type",
            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        )
        .append_pair("client_assertion", &assertion)
        .finish();
    let resp = reqwest::Client::new()
        .post(format!("{base}/oauth/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("dpop", proof)
        .body(form)
        .send()
        .await
        .unwrap();
    let body: Value = resp.json().await.unwrap();
    body["access_token"]
        .as_str()
        .unwrap_or_else(|| panic!("{body}"))
        .to_owned()
}

/// One proof per request of a run, made on both cores.
fn proofs(dpop: &Arc<Key>, issuer: &str, nonce: &str, token: &str, pseudonyms: &Arc<Vec<String>>) -> Arc<Vec<String>> {
    let halves: Vec<_> = (0..2)
        .map(|half| {
            let (dpop, issuer, nonce, token, pseudonyms) = (
                dpop.clone(),
                issuer.to_owned(),
                nonce.to_owned(),
                token.to_owned(),
                pseudonyms.clone(),
            );
            std::thread::spawn(move || {
                (0..PROOFS)
                    .filter(|n| n % 2 == half)
                    .map(|n| {
                        (
                            n,
                            proof(&dpop, &format!("{issuer}{}", read_path(&pseudonyms, n)), &nonce, &token),
                        )
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let mut all = vec![String::new(); PROOFS];
    for h in halves {
        for (n, p) in h.join().unwrap() {
            all[n] = p;
        }
    }
    Arc::new(all)
}

/// Raw P-256 signature verifications per second on one thread (ring).
fn raw_verify() -> f64 {
    let key = Key::new();
    let message = b"eyJhbGciOiJFUzI1NiJ9.eyJodG0iOiJHRVQifQ";
    let sig = key.0.sign(&SystemRandom::new(), message).unwrap();
    let public =
        ring::signature::UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, key.0.public_key().as_ref().to_vec());
    let n = 20_000;
    let started = Instant::now();
    for _ in 0..n {
        public.verify(message, sig.as_ref()).unwrap();
    }
    f64::from(n) / started.elapsed().as_secs_f64()
}

#[tokio::main]
async fn main() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let (app, base, serving) = start(dir.path()).await;
    let (key, pseudonyms) = seed(&app.state).await;
    let pseudonyms = Arc::new(pseudonyms);
    // The same module as an OAuth client (private_key_jwt).
    let client = Key::new();
    let mut jwk = client.jwk();
    jwk["kid"] = json!("bench-1");
    let registration = jaga::oauth::registry::Registration {
        jwks: Some(json!({ "keys": [jwk] }).to_string()),
        ..Default::default()
    };
    jaga::oauth::registry::update(&app.state.writer, "perizinan", &registration, "bench")
        .await
        .unwrap();
    let issuer = app.state.oauth.issuer.url.clone();
    let dpop = Arc::new(Key::new());
    let static_key = Auth::Static(key);
    let _ = http_reads(&base, &static_key, &pseudonyms).await; // warm-up
    let (mut with_key, mut with_token) = (Vec::new(), Vec::new());
    for _ in 0..RUNS {
        let (rate, _) = http_reads(&base, &static_key, &pseudonyms).await;
        with_key.push(rate);
        // A fresh token and nonce for each run (the nonce lasts a minute or two).
        let nonce = app.state.oauth.nonce(now());
        let token = token(&base, &issuer, &client, &dpop, &nonce).await;
        let made = proofs(&dpop, &issuer, &nonce, &token, &pseudonyms);
        let (rate, count) = http_reads(&base, &Auth::Dpop { token, proofs: made }, &pseudonyms).await;
        assert!((count as usize) < PROOFS, "the run used every proof made: make more");
        with_token.push(rate);
    }
    let (k, t) = (median(with_key), median(with_token));
    let fields = FIELDS.len() as f64;
    println!(
        "Module API reads, 64 concurrent callers, {} fields and 1 audit event per read:",
        FIELDS.len()
    );
    println!(
        "  static key:            {:>8.0} reads/s  {:>9.0} audited field decryptions/s",
        k,
        k * fields
    );
    println!(
        "  DPoP-bound token:      {:>8.0} reads/s  {:>9.0} audited field decryptions/s",
        t,
        t * fields
    );
    println!(
        "  token / static key:    {:>8.1} % (target: at least 80 %)",
        t / k * 100.0
    );
    println!(
        "ceiling: raw P-256 verifications (ring), one thread: {:>8.0} /s",
        raw_verify()
    );
    serving.handle.shutdown();
    let _ = serving.serving.await;
    app.stop().await;
    drop(serving.log);
}
