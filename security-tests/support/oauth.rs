//! An OAuth client as a module would run it: its own key pair for
//! private_key_jwt, a DPoP key, and requests to the token endpoint and the
//! module API made the way RFC 7523 and RFC 9449 say (and, for attacks,
//! every way they say not to).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair as _};
use serde_json::{Value, json};

use super::{Sandbox, TestApp, WEB_ORIGIN};

pub const ISSUER: &str = WEB_ORIGIN;

pub fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

pub fn jti() -> String {
    B64URL.encode(ring::rand::generate::<[u8; 16]>(&SystemRandom::new()).unwrap().expose())
}

/// A P-256 key pair.
pub struct Key(EcdsaKeyPair);

impl Key {
    pub fn new() -> Key {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
        Key(EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng).unwrap())
    }

    pub fn public_jwk(&self) -> Value {
        let p = self.0.public_key().as_ref();
        json!({ "kty": "EC", "crv": "P-256", "x": B64URL.encode(&p[1..33]), "y": B64URL.encode(&p[33..65]) })
    }

    pub fn thumbprint(&self) -> String {
        let j = self.public_jwk();
        let input = format!(
            r#"{{"crv":"P-256","kty":"EC","x":"{}","y":"{}"}}"#,
            j["x"].as_str().unwrap(),
            j["y"].as_str().unwrap()
        );
        B64URL.encode(ring::digest::digest(&ring::digest::SHA256, input.as_bytes()))
    }

    /// A compact JWS with exactly this header and these claims.
    pub fn sign(&self, header: &Value, claims: &Value) -> String {
        let input = format!(
            "{}.{}",
            B64URL.encode(header.to_string()),
            B64URL.encode(claims.to_string())
        );
        let sig = self.0.sign(&SystemRandom::new(), input.as_bytes()).unwrap();
        format!("{input}.{}", B64URL.encode(sig.as_ref()))
    }
}

/// A module registered as a private_key_jwt client, with its DPoP key.
pub struct OauthClient {
    pub id: String,
    pub key: Key,
    pub dpop: Key,
}

impl OauthClient {
    /// `jaga modules add --name ID --jwks FILE` (with `kid` "k1").
    pub fn register(sandbox: &Sandbox, id: &str) -> OauthClient {
        let key = Key::new();
        let mut jwk = key.public_jwk();
        jwk["kid"] = json!("k1");
        let path = sandbox.dir.path().join(format!("{id}.jwks.json"));
        std::fs::write(&path, json!({ "keys": [jwk] }).to_string()).unwrap();
        let out = sandbox.cli(&["modules", "add", "--name", id, "--jwks", path.to_str().unwrap()]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        OauthClient {
            id: id.to_owned(),
            key,
            dpop: Key::new(),
        }
    }

    pub fn assertion_claims(&self) -> Value {
        let now = now();
        json!({ "iss": self.id, "sub": self.id, "aud": ISSUER, "jti": jti(), "iat": now, "exp": now + 60 })
    }

    pub fn assertion(&self) -> String {
        self.key
            .sign(&json!({ "alg": "ES256", "kid": "k1" }), &self.assertion_claims())
    }

    pub fn proof_claims(&self, method: &str, url: &str, nonce: Option<&str>, token: Option<&str>) -> Value {
        let mut c = json!({ "jti": jti(), "htm": method, "htu": url, "iat": now() });
        if let Some(n) = nonce {
            c["nonce"] = json!(n);
        }
        if let Some(t) = token {
            c["ath"] = json!(B64URL.encode(ring::digest::digest(&ring::digest::SHA256, t.as_bytes())));
        }
        c
    }

    pub fn proof_header(&self) -> Value {
        json!({ "typ": "dpop+jwt", "alg": "ES256", "jwk": self.dpop.public_jwk() })
    }

    pub fn proof(&self, method: &str, url: &str, nonce: Option<&str>, token: Option<&str>) -> String {
        self.dpop
            .sign(&self.proof_header(), &self.proof_claims(method, url, nonce, token))
    }
}

/// What an OAuth endpoint answered.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: Value,
    pub nonce: Option<String>,
    pub www_authenticate: Option<String>,
}

async fn answer(resp: reqwest::Response) -> Answer {
    let status = resp.status().as_u16();
    let header = |n: &str| resp.headers().get(n).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let (nonce, www_authenticate) = (header("dpop-nonce"), header("www-authenticate"));
    let body = resp.json::<Value>().await.unwrap_or(Value::Null);
    Answer {
        status,
        body,
        nonce,
        www_authenticate,
    }
}

/// A form POST to `path` with an optional DPoP proof.
pub async fn post_form(app: &TestApp, path: &str, form: &[(&str, &str)], dpop: Option<&str>) -> Answer {
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form)
        .finish();
    let mut req = app
        .client
        .post(app.url(path))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(body);
    if let Some(p) = dpop {
        req = req.header("DPoP", p);
    }
    answer(req.send().await.unwrap()).await
}

/// A nonce from the token endpoint (a request without one is refused with it).
pub async fn nonce(app: &TestApp, client: &OauthClient) -> String {
    let url = format!("{ISSUER}/oauth/token");
    let a = token_request(
        app,
        client,
        &client.assertion(),
        Some(&client.proof("POST", &url, None, None)),
        None,
    )
    .await;
    assert_eq!(a.body["error"], "use_dpop_nonce", "{a:?}");
    a.nonce.unwrap()
}

pub async fn token_request(
    app: &TestApp,
    client: &OauthClient,
    assertion: &str,
    proof: Option<&str>,
    scope: Option<&str>,
) -> Answer {
    let mut form = vec![
        ("grant_type", "client_credentials"),
        ("client_id", client.id.as_str()),
        (
            "client_assertion_type",
            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        ),
        ("client_assertion", assertion),
    ];
    if let Some(s) = scope {
        form.push(("scope", s));
    }
    post_form(app, "/oauth/token", &form, proof).await
}

/// A DPoP-bound access token for `client` (following the nonce dance).
pub async fn access_token(app: &TestApp, client: &OauthClient, scope: Option<&str>) -> (String, String) {
    let nonce = nonce(app, client).await;
    let url = format!("{ISSUER}/oauth/token");
    let a = token_request(
        app,
        client,
        &client.assertion(),
        Some(&client.proof("POST", &url, Some(&nonce), None)),
        scope,
    )
    .await;
    assert_eq!(a.status, 200, "{a:?}");
    (
        a.body["access_token"].as_str().unwrap().to_owned(),
        a.nonce.unwrap_or(nonce),
    )
}

/// A module API call with a DPoP-bound token and a proof made by `proof`.
pub async fn call_with(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    token: &str,
    proof: &str,
    body: Option<Value>,
) -> Answer {
    let mut req = app
        .client
        .request(method, app.url(path))
        .header("Authorization", format!("DPoP {token}"))
        .header("DPoP", proof);
    if let Some(b) = body {
        req = req.json(&b);
    }
    answer(req.send().await.unwrap()).await
}

/// A well-made module API call.
pub async fn call(
    app: &TestApp,
    client: &OauthClient,
    nonce: &str,
    method: reqwest::Method,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> Answer {
    let url = format!("{ISSUER}{}", path.split('?').next().unwrap());
    let proof = client.proof(method.as_str(), &url, Some(nonce), Some(token));
    call_with(app, method, path, token, &proof, body).await
}
