//! Modules authenticated by their TLS client certificate (RFC 8705
//! tls_client_auth) and access tokens bound to it (`cnf.x5t#S256`): the
//! certificate must chain to the operator's client CA bundle and carry the
//! registered subject, and the token works only on a connection that
//! presents the same certificate.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
};
use serde_json::Value;

use crate::support::browser::Browser;
use crate::support::modules::ticket_definition;
use crate::support::oauth::{Key, OauthClient};
use crate::support::sign_in::{REDIRECT, TOKEN_URL, claims, decide, open_authorize, pkce, query_of};
use crate::support::{Sandbox, TestApp, backend_test};

const COLLECTION: &str = "/api/collections/antrian.ticket";
const SUBJECT: &str = "CN=antrian.rangkui.go.id,O=Kecamatan Rangkui,C=ID";
const NIK: &str = "1971011203850001";

/// A client certificate (PEM, with its key) and its DER.
struct ClientCert {
    pem: String,
    der: Vec<u8>,
}

fn ca(name: &str) -> (CertificateParams, KeyPair, String) {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.distinguished_name = DistinguishedName::new();
    params.distinguished_name.push(DnType::CommonName, name);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let key = KeyPair::generate().unwrap();
    let pem = params.self_signed(&key).unwrap().pem();
    (params, key, pem)
}

fn client_cert(ca: &(CertificateParams, KeyPair, String), cn: &str) -> ClientCert {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.distinguished_name = DistinguishedName::new();
    params.distinguished_name.push(DnType::CountryName, "ID");
    params
        .distinguished_name
        .push(DnType::OrganizationName, "Kecamatan Rangkui");
    params.distinguished_name.push(DnType::CommonName, cn);
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    let key = KeyPair::generate().unwrap();
    let issuer = Issuer::from_params(&ca.0, &ca.1);
    let cert = params.signed_by(&key, &issuer).unwrap();
    ClientCert {
        pem: format!("{}{}", cert.pem(), key.serialize_pem()),
        der: cert.der().to_vec(),
    }
}

async fn form(client: &reqwest::Client, url: &str, body: &[(&str, &str)]) -> (u16, Value) {
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(body)
        .finish();
    let resp = client
        .post(url)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    (resp.status().as_u16(), resp.json().await.unwrap_or(Value::Null))
}

/// The certificates of a test: the server's, the module CA's, and client
/// certificates for antrian, for another module, and a forged one for
/// antrian from a CA outside the bundle.
struct Pki {
    dir: tempfile::TempDir,
    server: rcgen::CertifiedKey<KeyPair>,
    module_ca: String,
    antrian: ClientCert,
    other: ClientCert,
    forged: ClientCert,
}

fn pki() -> Pki {
    let module_ca = ca("Jaga module CA");
    let rogue_ca = ca("Rogue CA");
    Pki {
        dir: tempfile::tempdir().unwrap(),
        server: rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap(),
        antrian: client_cert(&module_ca, "antrian.rangkui.go.id"),
        other: client_cert(&module_ca, "survei.rangkui.go.id"),
        forged: client_cert(&rogue_ca, "antrian.rangkui.go.id"),
        module_ca: module_ca.2,
    }
}

impl Pki {
    /// TLS with the module CA bundle; static keys refused.
    fn env(&self, sandbox: &mut Sandbox) {
        let write = |name: &str, text: &str| {
            let path = self.dir.path().join(name);
            std::fs::write(&path, text).unwrap();
            path.display().to_string()
        };
        sandbox.extra_env = vec![
            ("JAGA_TLS_CERT_PATH".into(), write("cert.pem", &self.server.cert.pem())),
            (
                "JAGA_TLS_KEY_PATH".into(),
                write("key.pem", &self.server.signing_key.serialize_pem()),
            ),
            (
                "JAGA_TLS_CLIENT_CA_PATH".into(),
                write("modules-ca.pem", &self.module_ca),
            ),
            ("JAGA_MODULES_STATIC_KEYS".into(), "refuse".into()),
        ];
    }

    /// Serves, and clients without a certificate and with each client certificate.
    fn serve(&self, sandbox: &Sandbox) -> (TestApp, Clients) {
        let mut app = sandbox.serve();
        app.trust(reqwest::Certificate::from_pem(self.server.cert.pem().as_bytes()).unwrap());
        let with = |c: &ClientCert| {
            app.client_builder()
                .identity(reqwest::Identity::from_pem(c.pem.as_bytes()).unwrap())
                .build()
                .unwrap()
        };
        let clients = Clients {
            none: app.client.clone(),
            antrian: with(&self.antrian),
            other: with(&self.other),
            forged: with(&self.forged),
        };
        (app, clients)
    }
}

struct Clients {
    none: reqwest::Client,
    antrian: reqwest::Client,
    other: reqwest::Client,
    forged: reqwest::Client,
}

fn thumbprint(c: &ClientCert) -> String {
    B64URL.encode(ring::digest::digest(&ring::digest::SHA256, &c.der))
}

backend_test! {
    /// tls_client_auth: registration checks the subject; the token endpoint
    /// authenticates the module by its certificate and binds the token to
    /// it; the module API and introspection accept it only with that
    /// certificate; a certificate from another CA ends the handshake.
    async fn a_module_authenticates_with_its_certificate_and_its_token_is_bound_to_it(backend) {
        let pki = pki();
        let mut sandbox = Sandbox::new(backend).await;
        pki.env(&mut sandbox);

        // Registration: the subject is required, checked and kept canonical.
        let missing = sandbox.cli(&["modules", "add", "--name", "antrian", "--auth", "tls_client_auth"]);
        assert!(String::from_utf8_lossy(&missing.stderr).contains("--tls-subject"), "{missing:?}");
        let bad = sandbox.cli(&["modules", "add", "--name", "antrian", "--auth", "tls_client_auth", "--tls-subject", "FOO=bar"]);
        assert!(!bad.status.success());
        let added = sandbox.cli(&["modules", "add", "--name", "antrian", "--auth", "tls_client_auth",
            "--tls-subject", "cn = antrian.rangkui.go.id, o=Kecamatan Rangkui, c=ID", "--grant", "client_credentials"]);
        assert!(added.status.success(), "{}", String::from_utf8_lossy(&added.stderr));
        let listed = String::from_utf8_lossy(&sandbox.cli(&["modules", "list"]).stdout).to_string();
        assert!(listed.contains(&format!("tls_client_auth (certificate {SUBJECT})")), "{listed}");

        let (app, c) = pki.serve(&sandbox);
        let (none, with_antrian, with_other, with_forged) = (&c.none, &c.antrian, &c.other, &c.forged);
        let url = |p: &str| app.url(p);

        // The certificate is asked for, not required: browsers bring none.
        assert_eq!(none.get(url("/healthz")).send().await.unwrap().status(), 200);
        let meta: Value = none.get(url("/.well-known/openid-configuration")).send().await.unwrap().json().await.unwrap();
        assert!(meta["token_endpoint_auth_methods_supported"].as_array().unwrap().iter().any(|m| m == "tls_client_auth"), "{meta}");
        assert_eq!(meta["tls_client_certificate_bound_access_tokens"], true);

        let grant = [("grant_type", "client_credentials"), ("client_id", "antrian")];
        // No certificate, or one of another subject: invalid_client.
        for (who, c) in [("no certificate", none), ("another module's certificate", with_other)] {
            let (status, body) = form(c, &url("/oauth/token"), &grant).await;
            assert_eq!((status, body["error"].as_str()), (401, Some("invalid_client")), "{who}: {body}");
        }
        // A certificate from a CA outside the bundle ends the handshake.
        assert!(with_forged.post(url("/oauth/token")).send().await.is_err(), "a forged certificate is refused in the handshake");

        // The module's own certificate: a Bearer token bound to it.
        let (status, body) = form(with_antrian, &url("/oauth/token"), &grant).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["token_type"], "Bearer");
        let token = body["access_token"].as_str().unwrap().to_owned();
        let claims: Value = serde_json::from_slice(&B64URL.decode(token.split('.').nth(1).unwrap()).unwrap()).unwrap();
        let thumbprint = thumbprint(&pki.antrian);
        assert_eq!(claims["cnf"], serde_json::json!({ "x5t#S256": thumbprint }), "{claims}");

        // The module API takes it only on a connection with that certificate.
        let put = |c: &reqwest::Client, scheme: &str| {
            c.put(url(COLLECTION))
                .header("Authorization", format!("{scheme} {token}"))
                .json(&ticket_definition())
                .send()
        };
        let ok = put(with_antrian, "Bearer").await.unwrap();
        assert_eq!(ok.status(), 200, "{:?}", ok.text().await);
        for (who, c) in [("no certificate", none), ("another certificate", with_other)] {
            let refused = put(c, "Bearer").await.unwrap();
            assert_eq!(refused.status(), 401, "{who}");
            assert!(refused.headers()["www-authenticate"].to_str().unwrap().starts_with("Bearer error=\"invalid_token\""), "{who}");
        }
        // Presented as a DPoP token it is not one.
        let as_dpop = put(with_antrian, "DPoP").await.unwrap();
        assert_eq!(as_dpop.status(), 401);

        // Introspection: the module, by its certificate, learns the binding.
        let (status, info) = form(with_antrian, &url("/oauth/introspect"), &[("client_id", "antrian"), ("token", &token)]).await;
        assert_eq!(status, 200, "{info}");
        assert_eq!((info["active"].as_bool(), info["token_type"].as_str()), (Some(true), Some("Bearer")));
        assert_eq!(info["cnf"]["x5t#S256"], thumbprint.as_str());
        let (status, _) = form(with_other, &url("/oauth/introspect"), &[("client_id", "antrian"), ("token", &token)]).await;
        assert_eq!(status, 401);

        // Revoked by the module, refused by the module API from then on.
        let (status, _) = form(with_antrian, &url("/oauth/revoke"), &[("client_id", "antrian"), ("token", &token)]).await;
        assert_eq!(status, 200);
        assert_eq!(put(with_antrian, "Bearer").await.unwrap().status(), 401);
        let issued = sandbox
            .sql_count("select count(*) from audit_event where action = 'oauth.token' and outcome = 'success'")
            .await;
        assert_eq!(issued, 1, "the issuance is audited");
        let refused = sandbox
            .sql_count("select count(*) from audit_event where action = 'oauth.token' and outcome = 'denied'")
            .await;
        assert_eq!(refused, 2, "both refusals are audited");
    }
}

async fn userinfo(c: &reqwest::Client, app: &TestApp, scheme: &str, token: &str) -> (u16, Value) {
    let resp = c
        .get(app.url("/oauth/userinfo"))
        .header("Authorization", format!("{scheme} {token}"))
        .send()
        .await
        .unwrap();
    (resp.status().as_u16(), resp.json().await.unwrap_or(Value::Null))
}

backend_test! {
    /// A tls_client_auth module signs a citizen in with PAR and PKCE and no
    /// DPoP key: the grant is bound to its certificate, so userinfo and the
    /// refresh token work only with that certificate (and not with a DPoP
    /// key in its place).
    async fn a_sign_in_is_bound_to_the_modules_certificate(backend) {
        let pki = pki();
        let mut sandbox = Sandbox::new(backend).await;
        pki.env(&mut sandbox);
        let added = sandbox.cli(&["modules", "add", "--name", "antrian", "--auth", "tls_client_auth",
            "--tls-subject", SUBJECT, "--grant", "authorization_code", "--grant", "refresh_token",
            "--redirect-uri", REDIRECT, "--audience", "citizen"]);
        assert!(added.status.success(), "{}", String::from_utf8_lossy(&added.stderr));
        let (app, c) = pki.serve(&sandbox);
        let mut browser = Browser::new(&app);
        assert_eq!(browser.enrol(NIK, "Siti Aminah").await.status, 201);
        browser.me().await;

        let (verifier, challenge) = pkce();
        let pushed = [("client_id", "antrian"), ("response_type", "code"), ("redirect_uri", REDIRECT),
            ("scope", "openid antrian.call"), ("state", "s-1"), ("nonce", "n-1"),
            ("code_challenge", challenge.as_str()), ("code_challenge_method", "S256")];
        let (status, _) = form(&c.other, &app.url("/oauth/par"), &pushed).await;
        assert_eq!(status, 401, "another module's certificate cannot push for antrian");
        let (status, body) = form(&c.antrian, &app.url("/oauth/par"), &pushed).await;
        assert_eq!(status, 201, "{body}");
        let request_uri = body["request_uri"].as_str().unwrap().to_owned();
        let page = open_authorize(&app, Some(&browser), "antrian", &request_uri).await;
        let location = if page.status == 200 {
            let decided = decide(&browser, "antrian", &request_uri, "allow", &[]).await;
            assert_eq!(decided.status, 200, "{:?}", decided.body);
            decided.body["redirect"].as_str().unwrap().to_owned()
        } else {
            page.location.unwrap()
        };
        let code = query_of(&location)["code"].clone();

        let exchange = [("client_id", "antrian"), ("grant_type", "authorization_code"), ("code", code.as_str()),
            ("redirect_uri", REDIRECT), ("code_verifier", verifier.as_str())];
        let (status, tokens) = form(&c.antrian, &app.url("/oauth/token"), &exchange).await;
        assert_eq!(status, 200, "{tokens}");
        assert_eq!(tokens["token_type"], "Bearer");
        let access = tokens["access_token"].as_str().unwrap().to_owned();
        assert_eq!(claims(&access)["cnf"], serde_json::json!({ "x5t#S256": thumbprint(&pki.antrian) }));
        let sub = claims(tokens["id_token"].as_str().unwrap())["sub"].clone();
        assert_eq!(sandbox.sql_count("select count(*) from oauth_grant where x5t is not null and jkt is null").await, 1);

        // Userinfo: only on a connection with the certificate, as Bearer.
        let (status, info) = userinfo(&c.antrian, &app, "Bearer", &access).await;
        assert_eq!((status, &info["sub"]), (200, &sub), "{info}");
        for (who, client, scheme) in [("no certificate", &c.none, "Bearer"), ("another certificate", &c.other, "Bearer"),
            ("as a DPoP token", &c.antrian, "DPoP")] {
            let (status, body) = userinfo(client, &app, scheme, &access).await;
            assert_eq!((status, body["error"].as_str()), (401, Some("invalid_token")), "{who}: {body}");
        }

        // Refresh: with the certificate; a DPoP key in its place is refused
        // and changes nothing.
        let refresh_token = tokens["refresh_token"].as_str().unwrap().to_owned();
        let refresh = [("client_id", "antrian"), ("grant_type", "refresh_token"), ("refresh_token", refresh_token.as_str())];
        let dpop = OauthClient { id: "antrian".into(), key: Key::new(), dpop: Key::new() };
        let first = c.antrian.post(app.url("/oauth/token"))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .header("DPoP", dpop.proof("POST", TOKEN_URL, None, None))
            .body(form_urlencoded::Serializer::new(String::new()).extend_pairs(refresh).finish())
            .send().await.unwrap();
        let nonce = first.headers()["dpop-nonce"].to_str().unwrap().to_owned();
        let with_dpop = c.antrian.post(app.url("/oauth/token"))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .header("DPoP", dpop.proof("POST", TOKEN_URL, Some(&nonce), None))
            .body(form_urlencoded::Serializer::new(String::new()).extend_pairs(refresh).finish())
            .send().await.unwrap();
        assert_eq!(with_dpop.status(), 400);
        assert_eq!(with_dpop.json::<Value>().await.unwrap()["error"], "invalid_grant");
        let (status, renewed) = form(&c.antrian, &app.url("/oauth/token"), &refresh).await;
        assert_eq!(status, 200, "{renewed}");
        assert_eq!(renewed["token_type"], "Bearer");
        let (status, _) = userinfo(&c.antrian, &app, "Bearer", renewed["access_token"].as_str().unwrap()).await;
        assert_eq!(status, 200);
    }
}
