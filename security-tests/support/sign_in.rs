//! A module signing a person in through Jaga, step by step as the RFCs
//! describe it: the pushed request (RFC 9126), the browser at the
//! authorization endpoint, the code exchange with PKCE and DPoP, refresh
//! and userinfo.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use serde_json::Value;

use super::browser::{Browser, COOKIE};
use super::oauth::{Answer, Key, OauthClient, jti, post_form};
use super::{Sandbox, TestApp};

pub const REDIRECT: &str = "https://antrian.example/masuk/callback";
pub const PAR_URL: &str = "http://localhost:8080/oauth/par";
pub const TOKEN_URL: &str = "http://localhost:8080/oauth/token";
pub const USERINFO_URL: &str = "http://localhost:8080/oauth/userinfo";

/// `jaga modules add` for a module that signs people in.
pub fn register_signing_in(sandbox: &Sandbox, id: &str, audience: &str) -> OauthClient {
    register_with(sandbox, id, &["--audience", audience])
}

/// `jaga modules add` for a module that signs people in, with `extra` options.
pub fn register_with(sandbox: &Sandbox, id: &str, extra: &[&str]) -> OauthClient {
    let key = Key::new();
    let mut jwk = key.public_jwk();
    jwk["kid"] = serde_json::json!("k1");
    let path = sandbox.dir.path().join(format!("{id}.jwks.json"));
    std::fs::write(&path, serde_json::json!({ "keys": [jwk] }).to_string()).unwrap();
    let mut args = vec![
        "modules",
        "add",
        "--name",
        id,
        "--jwks",
        path.to_str().unwrap(),
        "--grant",
        "authorization_code",
        "--grant",
        "refresh_token",
        "--redirect-uri",
        REDIRECT,
    ];
    args.extend_from_slice(extra);
    let out = sandbox.cli(&args);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    OauthClient {
        id: id.to_owned(),
        key,
        dpop: Key::new(),
    }
}

/// A PKCE verifier and its S256 challenge.
pub fn pkce() -> (String, String) {
    let verifier = format!("{}{}", jti(), jti());
    let challenge = B64URL.encode(ring::digest::digest(&ring::digest::SHA256, verifier.as_bytes()));
    (verifier, challenge)
}

fn authenticated<'a>(client: &'a OauthClient, assertion: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("client_id", client.id.as_str()),
        (
            "client_assertion_type",
            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        ),
        ("client_assertion", assertion),
    ]
}

/// A DPoP nonce, from a pushed request without one (refused with it).
pub async fn nonce(app: &TestApp, client: &OauthClient) -> String {
    let assertion = client.assertion();
    let form = authenticated(client, &assertion);
    let a = post_form(
        app,
        "/oauth/par",
        &form,
        Some(&client.proof("POST", PAR_URL, None, None)),
    )
    .await;
    assert_eq!(a.body["error"], "use_dpop_nonce", "{a:?}");
    a.nonce.unwrap()
}

/// Pushes `params` (with client authentication and a DPoP proof).
pub async fn push(app: &TestApp, client: &OauthClient, params: &[(&str, &str)]) -> Answer {
    let n = nonce(app, client).await;
    let assertion = client.assertion();
    let mut form = authenticated(client, &assertion);
    form.extend_from_slice(params);
    post_form(
        app,
        "/oauth/par",
        &form,
        Some(&client.proof("POST", PAR_URL, Some(&n), None)),
    )
    .await
}

/// A usual request: `openid` and `scope`, state, nonce, PKCE; returns the
/// request_uri and the verifier.
pub async fn push_usual(app: &TestApp, client: &OauthClient, scope: &str, extra: &[(&str, &str)]) -> (String, String) {
    let (verifier, challenge) = pkce();
    let mut params = vec![
        ("response_type", "code"),
        ("redirect_uri", REDIRECT),
        ("scope", scope),
        ("state", "keadaan-1"),
        ("nonce", "nonce-1"),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    params.extend_from_slice(extra);
    let a = push(app, client, &params).await;
    assert_eq!(a.status, 201, "{a:?}");
    assert_eq!(a.body["expires_in"], 60);
    (a.body["request_uri"].as_str().unwrap().to_owned(), verifier)
}

/// What the authorization endpoint answered the browser.
#[derive(Debug)]
pub struct Page {
    pub status: u16,
    pub location: Option<String>,
    pub html: String,
}

/// The browser (with its session cookie, if any) opens the authorization
/// endpoint; redirects are not followed.
pub async fn open_authorize(app: &TestApp, browser: Option<&Browser<'_>>, client_id: &str, request_uri: &str) -> Page {
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair("client_id", client_id)
        .append_pair("request_uri", request_uri)
        .finish();
    let http = app
        .client_builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let mut req = http
        .get(app.url(&format!("/oauth/authorize?{query}")))
        .header("accept", "text/html");
    if let Some(token) = browser.and_then(|b| b.session.as_ref()) {
        req = req.header("cookie", format!("{COOKIE}={token}"));
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let location = resp.headers().get("location").map(|v| v.to_str().unwrap().to_owned());
    Page {
        status,
        location,
        html: resp.text().await.unwrap(),
    }
}

/// The query parameters of a redirect to the module.
pub fn query_of(location: &str) -> std::collections::HashMap<String, String> {
    let (base, query) = location.split_once('?').unwrap();
    assert_eq!(base, REDIRECT, "{location}");
    form_urlencoded::parse(query.as_bytes()).into_owned().collect()
}

/// The consent screen's decision, as its script sends it.
pub async fn decide(
    browser: &Browser<'_>,
    client_id: &str,
    request_uri: &str,
    decision: &str,
    purposes: &[&str],
) -> super::browser::Answer {
    browser
        .post_json(
            "/api/oauth/decide",
            &serde_json::json!({
                "client_id": client_id, "request_uri": request_uri, "decision": decision, "purposes": purposes,
            }),
        )
        .await
}

/// `grant_type=authorization_code` with the client's DPoP key (or `dpop`).
pub async fn exchange(app: &TestApp, client: &OauthClient, code: &str, verifier: &str, dpop: Option<&Key>) -> Answer {
    let n = nonce(app, client).await;
    let assertion = client.assertion();
    let mut form = authenticated(client, &assertion);
    form.extend_from_slice(&[
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", REDIRECT),
        ("code_verifier", verifier),
    ]);
    let proof = match dpop {
        None => client.proof("POST", TOKEN_URL, Some(&n), None),
        Some(key) => {
            let header = serde_json::json!({ "typ": "dpop+jwt", "alg": "ES256", "jwk": key.public_jwk() });
            key.sign(&header, &client.proof_claims("POST", TOKEN_URL, Some(&n), None))
        }
    };
    post_form(app, "/oauth/token", &form, Some(&proof)).await
}

/// `grant_type=refresh_token` with the client's DPoP key.
pub async fn refresh(app: &TestApp, client: &OauthClient, refresh_token: &str) -> Answer {
    let n = nonce(app, client).await;
    let assertion = client.assertion();
    let mut form = authenticated(client, &assertion);
    form.extend_from_slice(&[("grant_type", "refresh_token"), ("refresh_token", refresh_token)]);
    post_form(
        app,
        "/oauth/token",
        &form,
        Some(&client.proof("POST", TOKEN_URL, Some(&n), None)),
    )
    .await
}

/// `GET /oauth/userinfo` with the access token and a fresh proof.
pub async fn userinfo(app: &TestApp, client: &OauthClient, access_token: &str) -> Answer {
    let n = nonce(app, client).await;
    let proof = client.proof("GET", USERINFO_URL, Some(&n), Some(access_token));
    let resp = app
        .client
        .get(app.url("/oauth/userinfo"))
        .header("Authorization", format!("DPoP {access_token}"))
        .header("DPoP", proof)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let www_authenticate = resp
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_owned());
    Answer {
        status,
        body: resp.json::<Value>().await.unwrap_or(Value::Null),
        nonce: None,
        www_authenticate,
    }
}

/// The claims of a JWT (unverified: the tests check signatures elsewhere).
pub fn claims(jwt: &str) -> Value {
    serde_json::from_slice(&B64URL.decode(jwt.split('.').nth(1).unwrap()).unwrap()).unwrap()
}
