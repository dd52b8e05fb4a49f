//! Modules as OAuth clients (FAPI 2.0): client credentials with
//! private_key_jwt and DPoP, JWT access tokens for the module API, and
//! every JWT and DPoP attack the profile names, refused with the error the
//! RFCs specify and audited.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use reqwest::Method;
use serde_json::{Value, json};

use crate::support::backend_test;
use crate::support::modules::{citizen, ticket_definition};
use crate::support::oauth::{
    ISSUER, Key, OauthClient, access_token, call, call_with, nonce, now, post_form, token_request,
};
use crate::support::{Sandbox, TestApp};

pub(crate) const TOKEN_URL: &str = "http://localhost:8080/oauth/token";
const COLLECTION: &str = "/api/collections/antrian.ticket";

pub(crate) fn oauth_sandbox_env(sandbox: &mut Sandbox) {
    sandbox.extra_env = vec![("JAGA_MODULES_STATIC_KEYS".into(), "refuse".into())];
}

fn claims_of(jwt: &str) -> (Value, Value) {
    let mut parts = jwt.split('.');
    let header = serde_json::from_slice(&B64URL.decode(parts.next().unwrap()).unwrap()).unwrap();
    let claims = serde_json::from_slice(&B64URL.decode(parts.next().unwrap()).unwrap()).unwrap();
    (header, claims)
}

/// A client assertion for `client` with `edit` applied to its header and claims.
fn assertion_with(client: &OauthClient, edit: impl FnOnce(&mut Value, &mut Value)) -> String {
    let mut header = json!({ "alg": "ES256", "kid": "k1" });
    let mut claims = client.assertion_claims();
    edit(&mut header, &mut claims);
    client.key.sign(&header, &claims)
}

async fn fresh_proof(app: &TestApp, client: &OauthClient) -> String {
    let n = nonce(app, client).await;
    client.proof("POST", TOKEN_URL, Some(&n), None)
}

async fn audit_count(sandbox: &Sandbox, action: &str, outcome: &str) -> i64 {
    sandbox
        .sql_count(&format!(
            "select count(*) from audit_event where action = '{action}' and outcome = '{outcome}'"
        ))
        .await
}

backend_test! {
    /// Discovery, the JWKS, and a client credentials grant: a DPoP-bound ES256
    /// access token (RFC 9068) that the module API takes with a fresh proof.
    async fn client_credentials_give_a_dpop_bound_token_the_module_api_takes(backend) {
        let mut sandbox = Sandbox::new(backend).await;
        oauth_sandbox_env(&mut sandbox);
        let client = OauthClient::register(&sandbox, "antrian");
        let app = sandbox.serve();

        let meta: Value = app.get("/.well-known/openid-configuration").await.json().await.unwrap();
        assert_eq!(meta["issuer"], ISSUER);
        assert_eq!(meta["token_endpoint"], TOKEN_URL);
        assert_eq!(meta["token_endpoint_auth_methods_supported"][0], "private_key_jwt");
        let jwks: Value = app.get("/oauth/jwks").await.json().await.unwrap();
        assert_eq!(jwks["keys"].as_array().unwrap().len(), 1);
        assert!(jwks["keys"][0].get("d").is_none(), "the JWKS holds public keys only");

        // Without a nonce: use_dpop_nonce, with the nonce to use.
        let first = token_request(&app, &client, &client.assertion(), Some(&client.proof("POST", TOKEN_URL, None, None)), None).await;
        assert_eq!((first.status, first.body["error"].as_str()), (400, Some("use_dpop_nonce")), "{first:?}");
        assert!(first.body["error_description"].is_string());
        let nonce = first.nonce.clone().unwrap();
        let ok = token_request(&app, &client, &client.assertion(), Some(&client.proof("POST", TOKEN_URL, Some(&nonce), None)), None).await;
        assert_eq!(ok.status, 200, "{ok:?}");
        assert_eq!(ok.body["token_type"], "DPoP");
        assert_eq!(ok.body["expires_in"], 300);
        let token = ok.body["access_token"].as_str().unwrap();
        let (header, claims) = claims_of(token);
        assert_eq!(header["typ"], "at+jwt");
        assert_eq!(header["alg"], "ES256");
        assert_eq!(header["kid"], jwks["keys"][0]["kid"]);
        assert_eq!(claims["iss"], ISSUER);
        assert_eq!(claims["aud"], format!("{ISSUER}/api"));
        assert_eq!(claims["client_id"], "antrian");
        assert_eq!(claims["cnf"]["jkt"], client.dpop.thumbprint());
        assert_eq!(claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(), 300);
        // The signature verifies with the published key.
        let jwk = &jwks["keys"][0];
        let mut point = vec![4u8];
        point.extend(B64URL.decode(jwk["x"].as_str().unwrap()).unwrap());
        point.extend(B64URL.decode(jwk["y"].as_str().unwrap()).unwrap());
        let (input, sig) = token.rsplit_once('.').unwrap();
        ring::signature::UnparsedPublicKey::new(&ring::signature::ECDSA_P256_SHA256_FIXED, &point)
            .verify(input.as_bytes(), &B64URL.decode(sig).unwrap())
            .expect("the access token verifies with the JWKS key");

        // The module API takes it with a proof for the request.
        let nonce = ok.nonce.unwrap();
        let defined = call(&app, &client, &nonce, Method::PUT, COLLECTION, token, Some(ticket_definition())).await;
        assert_eq!(defined.status, 200, "{defined:?}");
        assert!(defined.www_authenticate.is_none());
        let pseudonym = citizen(&app, "1971015507900002", "Siti Aminah").await;
        let opened = call(&app, &client, &nonce, Method::PUT, &format!("/api/cases/{pseudonym}/c1"), token,
            Some(json!({ "state": "open" }))).await;
        assert_eq!(opened.status, 204, "{opened:?}");
        let path = format!("{COLLECTION}/records/{pseudonym}/t1");
        let wrote = call(&app, &client, &nonce, Method::PUT, &path, token,
            Some(json!({ "purpose": "antrian.priority", "values": { "queue_number": "A-001" } }))).await;
        assert_eq!(wrote.status, 204, "{wrote:?}");
        let read = call(&app, &client, &nonce, Method::GET, &format!("{path}?purpose=antrian.call"), token, None).await;
        assert_eq!(read.status, 200, "{read:?}");
        assert_eq!(read.body["values"]["queue_number"], "A-001");

        // Static keys are refused here (this deployment did not allow them).
        let resp = app.client.get(app.url(COLLECTION)).bearer_auth("jaga_mk_whatever").send().await.unwrap();
        assert_eq!(resp.status(), 401);

        assert_eq!(audit_count(&sandbox, "oauth.token", "success").await, 1);
        assert_eq!(audit_count(&sandbox, "oauth.token", "denied").await, 0,
            "asking for a nonce (use_dpop_nonce) is a protocol step, not a refusal");
    }
}

backend_test! {
    /// Client authentication attacks at the token endpoint: each is
    /// invalid_client (401, WWW-Authenticate) and no token is issued.
    async fn forged_client_assertions_are_refused(backend) {
        let mut sandbox = Sandbox::new(backend).await;
        oauth_sandbox_env(&mut sandbox);
        let client = OauthClient::register(&sandbox, "antrian");
        let other = OauthClient::register(&sandbox, "survei");
        let app = sandbox.serve();
        let now = now();
        let public = client.key.public_jwk();
        let hs256_with_public_key = {
            let header = B64URL.encode(json!({ "alg": "HS256", "kid": "k1" }).to_string());
            let claims = B64URL.encode(client.assertion_claims().to_string());
            let input = format!("{header}.{claims}");
            let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, public.to_string().as_bytes());
            format!("{input}.{}", B64URL.encode(ring::hmac::sign(&key, input.as_bytes())))
        };
        let alg_none = format!(
            "{}.{}.",
            B64URL.encode(json!({ "alg": "none" }).to_string()),
            B64URL.encode(client.assertion_claims().to_string())
        );
        let stranger = Key::new();
        let cases: Vec<(&str, String)> = vec![
            ("alg none", alg_none),
            ("HS256 signed with the public key", hs256_with_public_key),
            ("unknown kid", assertion_with(&client, |h, _| h["kid"] = json!("nope"))),
            ("signed by another key, no kid", stranger.sign(&json!({ "alg": "ES256" }), &client.assertion_claims())),
            ("embedded jwk", stranger.sign(&json!({ "alg": "ES256", "jwk": stranger.public_jwk() }), &client.assertion_claims())),
            ("jku", assertion_with(&client, |h, _| h["jku"] = json!("https://evil.example/jwks"))),
            ("x5u", assertion_with(&client, |h, _| h["x5u"] = json!("https://evil.example/cert"))),
            ("wrong aud", assertion_with(&client, |_, c| c["aud"] = json!(TOKEN_URL))),
            ("aud array with another", assertion_with(&client, |_, c| c["aud"] = json!([ISSUER, "https://x.example"]))),
            ("iss not the client", assertion_with(&client, |_, c| c["iss"] = json!("survei"))),
            ("expired", assertion_with(&client, |_, c| { c["exp"] = json!(now - 5); c["iat"] = json!(now - 65); })),
            ("exp far ahead", assertion_with(&client, |_, c| c["exp"] = json!(now + 3600))),
            ("nbf in the future", assertion_with(&client, |_, c| c["nbf"] = json!(now + 120))),
            ("iat in the future", assertion_with(&client, |_, c| c["iat"] = json!(now + 120))),
            ("typ of an access token", assertion_with(&client, |h, _| h["typ"] = json!("at+jwt"))),
            ("no jti", assertion_with(&client, |_, c| { c.as_object_mut().unwrap().remove("jti"); })),
            ("another client's sub, own key", assertion_with(&client, |_, c| { c["sub"] = json!("survei"); c["iss"] = json!("survei"); })),
        ];
        for (what, assertion) in &cases {
            let proof = fresh_proof(&app, &client).await;
            let a = token_request(&app, &client, assertion, Some(&proof), None).await;
            assert!(matches!(a.status, 400 | 401), "{what}: {a:?}");
            assert!(matches!(a.body["error"].as_str(), Some("invalid_client" | "invalid_request")), "{what}: {a:?}");
            if a.status == 401 {
                assert!(a.www_authenticate.is_some(), "{what}: WWW-Authenticate");
            }
            assert!(a.body.get("access_token").is_none(), "{what}");
        }
        // A replayed assertion (the same jti) is refused the second time.
        let assertion = client.assertion();
        let ok = token_request(&app, &client, &assertion, Some(&fresh_proof(&app, &client).await), None).await;
        assert_eq!(ok.status, 200, "{ok:?}");
        let again = token_request(&app, &client, &assertion, Some(&fresh_proof(&app, &client).await), None).await;
        assert_eq!((again.status, again.body["error"].as_str()), (401, Some("invalid_client")), "{again:?}");
        // client_secret_post is not offered; a disabled client gets nothing.
        let posted = post_form(&app, "/oauth/token", &[("grant_type", "client_credentials"), ("client_id", "antrian"), ("client_secret", "x")], None).await;
        assert_eq!(posted.body["error"], "invalid_client");
        assert!(sandbox.cli(&["modules", "disable", "--name", "survei"]).status.success());
        let shared_nonce = nonce(&app, &client).await;
        let other_proof = other.proof("POST", TOKEN_URL, Some(&shared_nonce), None);
        let disabled = token_request(&app, &other, &other.assertion(), Some(&other_proof), None).await;
        assert_eq!((disabled.status, disabled.body["error"].as_str()), (401, Some("invalid_client")), "{disabled:?}");
        // Unsupported grants and scopes.
        let code = post_form(&app, "/oauth/token", &[("grant_type", "password"), ("client_id", "antrian")], None).await;
        assert_eq!(code.body["error"], "unsupported_grant_type");
        let scope = token_request(&app, &client, &client.assertion(), Some(&fresh_proof(&app, &client).await), Some("perizinan.review")).await;
        assert_eq!(scope.body["error"], "invalid_scope", "{scope:?}");
        // Without DPoP no token: they are sender-constrained.
        let bare = token_request(&app, &client, &client.assertion(), None, None).await;
        assert_eq!(bare.body["error"], "invalid_request");
        // A parameter sent twice.
        let twice = post_form(&app, "/oauth/token", &[("grant_type", "client_credentials"), ("grant_type", "client_credentials")], None).await;
        assert_eq!(twice.body["error"], "invalid_request");
        assert!(audit_count(&sandbox, "oauth.token", "denied").await >= cases.len() as i64);
    }
}

backend_test! {
    /// DPoP attacks at the token endpoint and the module API.
    async fn forged_or_replayed_dpop_proofs_are_refused(backend) {
        let mut sandbox = Sandbox::new(backend).await;
        oauth_sandbox_env(&mut sandbox);
        let client = OauthClient::register(&sandbox, "antrian");
        let other = OauthClient::register(&sandbox, "survei");
        let app = sandbox.serve();
        let n = nonce(&app, &client).await;
        let now = now();
        let proof_with = |edit: &dyn Fn(&mut Value, &mut Value)| {
            let mut h = client.proof_header();
            let mut c = client.proof_claims("POST", TOKEN_URL, Some(&n), None);
            edit(&mut h, &mut c);
            client.dpop.sign(&h, &c)
        };
        let cases: Vec<(&str, String, &str)> = vec![
            ("wrong typ", proof_with(&|h, _| h["typ"] = json!("JWT")), "invalid_dpop_proof"),
            ("wrong htm", proof_with(&|_, c| c["htm"] = json!("GET")), "invalid_dpop_proof"),
            ("wrong htu", proof_with(&|_, c| c["htu"] = json!("http://localhost:8080/oauth/introspect")), "invalid_dpop_proof"),
            ("stale iat", proof_with(&|_, c| c["iat"] = json!(now - 600)), "invalid_dpop_proof"),
            ("private key in jwk", proof_with(&|h, _| h["jwk"]["d"] = json!("AAAA")), "invalid_dpop_proof"),
            ("no nonce", proof_with(&|_, c| { c.as_object_mut().unwrap().remove("nonce"); }), "use_dpop_nonce"),
            ("forged nonce", proof_with(&|_, c| c["nonce"] = json!("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")), "use_dpop_nonce"),
            ("alg none", format!("{}.{}.", B64URL.encode(json!({"typ": "dpop+jwt", "alg": "none", "jwk": client.dpop.public_jwk()}).to_string()),
                B64URL.encode(client.proof_claims("POST", TOKEN_URL, Some(&n), None).to_string())), "invalid_dpop_proof"),
            ("signed by another key", Key::new().sign(&client.proof_header(), &client.proof_claims("POST", TOKEN_URL, Some(&n), None)), "invalid_dpop_proof"),
        ];
        for (what, proof, code) in &cases {
            let a = token_request(&app, &client, &client.assertion(), Some(proof), None).await;
            assert_eq!((a.status, a.body["error"].as_str()), (400, Some(*code)), "{what}: {a:?}");
            assert!(a.body.get("access_token").is_none());
        }
        // A replayed proof (same jti) at the token endpoint.
        let proof = client.proof("POST", TOKEN_URL, Some(&n), None);
        assert_eq!(token_request(&app, &client, &client.assertion(), Some(&proof), None).await.status, 200);
        let replay = token_request(&app, &client, &client.assertion(), Some(&proof), None).await;
        assert_eq!(replay.body["error"], "invalid_dpop_proof", "{replay:?}");

        // At the module API.
        let (token, n) = access_token(&app, &client, None).await;
        let url = format!("{ISSUER}{COLLECTION}");
        let good = client.proof("PUT", &url, Some(&n), Some(&token));
        let ok = call_with(&app, Method::PUT, COLLECTION, &token, &good, Some(ticket_definition())).await;
        assert_eq!(ok.status, 200, "{ok:?}");
        let replayed = call_with(&app, Method::PUT, COLLECTION, &token, &good, Some(ticket_definition())).await;
        assert_eq!((replayed.status, replayed.body["error"].as_str()), (401, Some("invalid_dpop_proof")), "{replayed:?}");
        assert!(replayed.www_authenticate.unwrap().starts_with("DPoP error=\"invalid_dpop_proof\""));
        let resource_cases: Vec<(&str, String, &str)> = vec![
            ("wrong htm", client.proof("GET", &url, Some(&n), Some(&token)), "invalid_dpop_proof"),
            ("wrong htu", client.proof("PUT", &format!("{ISSUER}/api/collections/survei.x"), Some(&n), Some(&token)), "invalid_dpop_proof"),
            ("no ath", client.proof("PUT", &url, Some(&n), None), "invalid_dpop_proof"),
            ("ath of another token", client.proof("PUT", &url, Some(&n), Some("another")), "invalid_dpop_proof"),
            ("no nonce", client.proof("PUT", &url, None, Some(&token)), "use_dpop_nonce"),
            ("another client's key", other.proof("PUT", &url, Some(&n), Some(&token)), "invalid_token"),
        ];
        for (what, proof, code) in &resource_cases {
            let a = call_with(&app, Method::PUT, COLLECTION, &token, proof, Some(ticket_definition())).await;
            assert_eq!((a.status, a.body["error"].as_str()), (401, Some(*code)), "{what}: {a:?}");
            let challenge = a.www_authenticate.clone().unwrap();
            assert!(challenge.starts_with(&format!("DPoP error=\"{code}\"")), "{what}: {challenge}");
            if *code == "use_dpop_nonce" {
                assert!(a.nonce.is_some(), "{what}: a DPoP-Nonce to retry with");
            }
        }
        // The DPoP-bound token used as a bearer token.
        let bearer = app.client.get(app.url(COLLECTION)).bearer_auth(&token).send().await.unwrap();
        assert_eq!(bearer.status(), 401);
        // No proof at all.
        let bare = app.client.get(app.url(COLLECTION)).header("Authorization", format!("DPoP {token}")).send().await.unwrap();
        assert_eq!(bare.status(), 401);
    }
}

backend_test! {
    /// Tokens Jaga did not issue, or issued for something else, are refused
    /// by the module API: wrong signature, alg, typ, iss, aud, expired, nbf.
    async fn tokens_jaga_did_not_issue_for_the_module_api_are_refused(backend) {
        let mut sandbox = Sandbox::new(backend).await;
        oauth_sandbox_env(&mut sandbox);
        let client = OauthClient::register(&sandbox, "antrian");
        let app = sandbox.serve();
        let (good, n) = access_token(&app, &client, None).await;
        let (header, claims) = claims_of(&good);
        // Re-sign with Jaga's own key (read from the key file, as an insider
        // could not) to show each claim check on its own.
        let ring = jaga::keys::KeyRing::load_file(&sandbox.keys_path()).unwrap();
        let keys = ring.oauth.all();
        let key = keys.first().unwrap();
        let resign = |h: &Value, c: &Value| {
            let input = format!("{}.{}", B64URL.encode(h.to_string()), B64URL.encode(c.to_string()));
            format!("{input}.{}", B64URL.encode(key.sign(input.as_bytes()).unwrap()))
        };
        let edit = |f: &dyn Fn(&mut Value, &mut Value)| {
            let (mut h, mut c) = (header.clone(), claims.clone());
            f(&mut h, &mut c);
            resign(&h, &c)
        };
        let stranger = Key::new();
        let now = now();
        let cases: Vec<(&str, String)> = vec![
            ("signed by a stranger", stranger.sign(&header, &claims)),
            ("unknown kid", edit(&|h, _| h["kid"] = json!("nope"))),
            ("typ JWT (an ID token, say)", edit(&|h, _| h["typ"] = json!("JWT"))),
            ("embedded jwk", edit(&|h, _| h["jwk"] = stranger.public_jwk())),
            ("wrong iss", edit(&|_, c| c["iss"] = json!("https://evil.example"))),
            ("wrong aud", edit(&|_, c| c["aud"] = json!("https://other.example/api"))),
            ("expired", edit(&|_, c| c["exp"] = json!(now - 1))),
            ("nbf in the future", edit(&|_, c| c["nbf"] = json!(now + 600))),
            ("iat in the future", edit(&|_, c| c["iat"] = json!(now + 600))),
            ("no cnf (unbound)", edit(&|_, c| { c.as_object_mut().unwrap().remove("cnf"); })),
            ("alg none", format!("{}.{}.", B64URL.encode(json!({"alg": "none", "typ": "at+jwt"}).to_string()), B64URL.encode(claims.to_string()))),
        ];
        for (what, token) in &cases {
            let a = call(&app, &client, &n, Method::GET, COLLECTION, token, None).await;
            assert_eq!((a.status, a.body["error"].as_str()), (401, Some("invalid_token")), "{what}: {a:?}");
        }
        assert_eq!(call(&app, &client, &n, Method::PUT, COLLECTION, &good, Some(ticket_definition())).await.status, 200);
    }
}

backend_test! {
    /// Introspection tells only the token's own client; revocation ends
    /// the token at once (module API 401) and is audited; scope limits the
    /// purposes a token may name.
    async fn introspection_revocation_and_scope(backend) {
        let mut sandbox = Sandbox::new(backend).await;
        oauth_sandbox_env(&mut sandbox);
        let client = OauthClient::register(&sandbox, "antrian");
        let other = OauthClient::register(&sandbox, "survei");
        let app = sandbox.serve();
        let (token, n) = access_token(&app, &client, None).await;
        let introspect = |c: &OauthClient, t: &str| {
            let assertion = c.assertion();
            let (id, t) = (c.id.clone(), t.to_owned());
            let app = &app;
            async move {
                post_form(app, "/oauth/introspect", &[
                    ("token", t.as_str()),
                    ("client_id", id.as_str()),
                    ("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"),
                    ("client_assertion", assertion.as_str()),
                ], None).await
            }
        };
        let own = introspect(&client, &token).await;
        assert_eq!(own.status, 200, "{own:?}");
        assert_eq!(own.body["active"], true);
        assert_eq!(own.body["client_id"], "antrian");
        assert_eq!(own.body["cnf"]["jkt"], client.dpop.thumbprint());
        assert!(own.body["scope"].as_str().unwrap().split(' ').any(|s| s == "antrian.call"));
        assert_eq!(introspect(&other, &token).await.body, json!({ "active": false }));
        assert_eq!(introspect(&client, "garbage").await.body, json!({ "active": false }));
        let unauthenticated = post_form(&app, "/oauth/introspect", &[("token", token.as_str())], None).await;
        assert_eq!(unauthenticated.status, 401);

        // Scope: a token for collections only cannot name a purpose.
        let (narrow, n2) = access_token(&app, &client, Some("collections")).await;
        assert_eq!(call(&app, &client, &n2, Method::PUT, COLLECTION, &narrow, Some(ticket_definition())).await.status, 200);
        let pseudonym = citizen(&app, "1971015507900002", "Siti Aminah").await;
        let path = format!("{COLLECTION}/records/{pseudonym}/t1?purpose=antrian.call");
        let refused = call(&app, &client, &n2, Method::GET, &path, &narrow, None).await;
        assert_eq!((refused.status, refused.body["error"].as_str()), (403, Some("insufficient_scope")), "{refused:?}");

        // Revocation by another client changes nothing; by its own, ends it.
        let revoke = |c: &OauthClient, t: &str| {
            let assertion = c.assertion();
            let (id, t) = (c.id.clone(), t.to_owned());
            let app = &app;
            async move {
                post_form(app, "/oauth/revoke", &[
                    ("token", t.as_str()),
                    ("token_type_hint", "access_token"),
                    ("client_id", id.as_str()),
                    ("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"),
                    ("client_assertion", assertion.as_str()),
                ], None).await
            }
        };
        assert_eq!(revoke(&other, &token).await.status, 200);
        assert_eq!(call(&app, &client, &n, Method::GET, COLLECTION, &token, None).await.status, 200);
        assert_eq!(revoke(&client, &token).await.status, 200);
        let after = call(&app, &client, &n, Method::GET, COLLECTION, &token, None).await;
        assert_eq!((after.status, after.body["error"].as_str()), (401, Some("invalid_token")), "{after:?}");
        assert_eq!(introspect(&client, &token).await.body, json!({ "active": false }));
        assert_eq!(audit_count(&sandbox, "oauth.revoke", "success").await, 1);
        assert_eq!(
            sandbox.sql_count("select count(*) from oauth_revoked").await, 1,
            "revoked by jti until it would have expired"
        );
        // Disabling the module ends its live tokens too.
        let (live, n3) = access_token(&app, &client, None).await;
        assert!(sandbox.cli(&["modules", "disable", "--name", "antrian"]).status.success());
        assert_eq!(call(&app, &client, &n3, Method::GET, COLLECTION, &live, None).await.status, 401);
        // Registered again, it is the same module with nothing of its old
        // credentials: its old tokens and its old key stay refused.
        assert!(sandbox.cli(&["modules", "add", "--name", "antrian"]).status.success());
        assert_eq!(call(&app, &client, &n3, Method::GET, COLLECTION, &live, None).await.status, 401);
        let proof = client.proof("POST", TOKEN_URL, Some(&n3), None);
        let old_key = token_request(&app, &client, &client.assertion(), Some(&proof), None).await;
        assert_eq!((old_key.status, old_key.body["error"].as_str()), (401, Some("invalid_client")), "{old_key:?}");
        assert_eq!(old_key.body["error_description"], "client authentication failed", "nothing told about the client");
    }
}

backend_test! {
    /// Static keys: refused outside --dev unless allowed, and when allowed,
    /// said in the log and in /metrics.
    async fn static_keys_are_refused_unless_allowed_and_then_said(backend) {
        let mut sandbox = Sandbox::new(backend).await;
        oauth_sandbox_env(&mut sandbox);
        let key = crate::support::modules::add_module(&sandbox, "antrian");
        let app = sandbox.serve();
        let refused = app.client.get(app.url(COLLECTION)).bearer_auth(&key).send().await.unwrap();
        assert_eq!(refused.status(), 401);
        let body: Value = refused.json().await.unwrap();
        assert!(body["message"].as_str().unwrap().contains("static module API keys are not accepted"), "{body}");
        drop(app);

        sandbox.extra_env = vec![
            ("JAGA_MODULES_STATIC_KEYS".into(), "allow".into()),
            ("JAGA_SERVER_METRICS_TOKEN".into(), "metrics-secret-0123456789-abcdefghijkl".into()),
        ];
        let app = sandbox.serve();
        assert!(app.logs().contains("modules.static_keys = allow"));
        let (status, _) = crate::support::modules::call(&app, &key, Method::PUT, COLLECTION, Some(ticket_definition())).await;
        assert_eq!(status, 200);
        let metrics = app.client.get(app.url("/metrics")).bearer_auth("metrics-secret-0123456789-abcdefghijkl").send().await.unwrap().text().await.unwrap();
        assert!(metrics.contains("jaga_module_static_keys_allowed 1"), "{metrics}");
        assert!(metrics.contains("jaga_module_static_key_uses_total 1"), "{metrics}");
    }
}
