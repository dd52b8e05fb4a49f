//! A browser as Jaga's API sees it: an origin, a cookie, a CSRF token and
//! a software passkey authenticator.

use passkey_client::DefaultClientData;
use passkey_types::webauthn::{CredentialCreationOptions, CredentialRequestOptions};
use reqwest::{Method, StatusCode};
use serde_json::Value;

use super::authenticator::{PasskeyClient, new_client};
use super::{TestApp, WEB_ORIGIN};

pub const COOKIE: &str = "__Host-jaga_session";

#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub body: Value,
    pub set_cookie: Option<String>,
}

pub struct Browser<'a> {
    pub app: &'a TestApp,
    /// The Origin header of API requests.
    pub origin: String,
    /// The origin the authenticator signs for (a phishing page differs).
    pub passkey_origin: String,
    pub passkeys: PasskeyClient,
    pub session: Option<String>,
    pub csrf: Option<String>,
    pub user_agent: String,
    /// X-Forwarded-For, for tests that run behind a trusted proxy.
    pub forwarded_for: Option<String>,
}

impl std::fmt::Debug for Browser<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Browser").field("origin", &self.origin).finish()
    }
}

impl<'a> Browser<'a> {
    pub fn new(app: &'a TestApp) -> Self {
        Self {
            app,
            origin: WEB_ORIGIN.to_owned(),
            passkey_origin: WEB_ORIGIN.to_owned(),
            passkeys: new_client(),
            session: None,
            csrf: None,
            user_agent: "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 Chrome/131.0 Mobile Safari/537.36".into(),
            forwarded_for: None,
        }
    }

    /// Sends a request the way the portal's script would.
    pub async fn send(&self, method: Method, path: &str, body: Option<Vec<u8>>) -> Answer {
        let mut req = self
            .app
            .client
            .request(method, self.app.url(path))
            .header("origin", &self.origin)
            .header("user-agent", &self.user_agent);
        if let Some(token) = &self.session {
            req = req.header("cookie", format!("{COOKIE}={token}"));
        }
        if let Some(csrf) = &self.csrf {
            req = req.header("x-csrf-token", csrf);
        }
        if let Some(xff) = &self.forwarded_for {
            req = req.header("x-forwarded-for", xff);
        }
        if let Some(body) = body {
            req = req.header("content-type", "application/json").body(body);
        }
        let resp = req.send().await.expect("request");
        let status = resp.status();
        let set_cookie = resp.headers().get("set-cookie").map(|v| v.to_str().unwrap().to_owned());
        let text = resp.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Answer {
            status,
            body,
            set_cookie,
        }
    }

    /// A GET with this browser's session, the response as it came.
    pub async fn get_raw(&self, path: &str) -> reqwest::Response {
        let mut req = self
            .app
            .client
            .get(self.app.url(path))
            .header("origin", &self.origin)
            .header("user-agent", &self.user_agent);
        if let Some(token) = &self.session {
            req = req.header("cookie", format!("{COOKIE}={token}"));
        }
        req.send().await.expect("request")
    }

    /// A portal page as HTML, with this browser's session.
    pub async fn page(&self, path: &str) -> String {
        let mut req = self
            .app
            .client
            .get(self.app.url(path))
            .header("user-agent", &self.user_agent);
        if let Some(token) = &self.session {
            req = req.header("cookie", format!("{COOKIE}={token}"));
        }
        let resp = req.send().await.expect("request");
        assert!(resp.status().is_success(), "GET {path}: {}", resp.status());
        resp.text().await.unwrap()
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> Answer {
        self.send(Method::POST, path, Some(serde_json::to_vec(body).unwrap()))
            .await
    }

    /// `POST /api/counter/enrol` (a counter officer's session).
    pub async fn counter_enrol(&self, nik: &str, name: &str) -> Answer {
        self.post_json("/api/counter/enrol", &serde_json::json!({ "nik": nik, "name": name }))
            .await
    }

    /// `POST /api/counter/recover`.
    pub async fn counter_recover(&self, nik: &str) -> Answer {
        self.post_json("/api/counter/recover", &serde_json::json!({ "nik": nik }))
            .await
    }

    /// `POST /api/counter/verify` with the code the citizen shows.
    pub async fn counter_verify(&self, nik: &str, code: &str) -> Answer {
        self.post_json("/api/counter/verify", &serde_json::json!({ "nik": nik, "code": code }))
            .await
    }

    /// `POST /api/counter/citizens/find`.
    pub async fn counter_find(&self, nik: &str) -> Answer {
        self.post_json("/api/counter/citizens/find", &serde_json::json!({ "nik": nik }))
            .await
    }

    /// `POST /api/verification-code` (the citizen's code for the counter).
    pub async fn verification_code(&self) -> Answer {
        self.post_json("/api/verification-code", &serde_json::json!({})).await
    }

    /// `POST /api/recovery-codes` (new recovery codes).
    pub async fn new_recovery_codes(&self) -> Answer {
        self.post_json("/api/recovery-codes", &serde_json::json!({})).await
    }

    /// `POST /api/enrol/code/start`.
    pub async fn code_start(&self, code: &str) -> Answer {
        self.post_json("/api/enrol/code/start", &serde_json::json!({ "code": code }))
            .await
    }

    fn take_cookie(&mut self, answer: &Answer) {
        if let Some(c) = &answer.set_cookie {
            let value = c.split(';').next().unwrap().split_once('=').unwrap().1.to_owned();
            self.session = if value.is_empty() { None } else { Some(value) };
        }
    }

    /// Starts enrolment and returns the options (or the refusal).
    pub async fn enrol_start(&self, nik: &str, name: &str) -> Answer {
        self.post_json("/api/enrol/start", &serde_json::json!({ "nik": nik, "name": name }))
            .await
    }

    /// Lets the authenticator create a passkey for `options`; returns the
    /// response JSON the browser would send.
    pub async fn create(&mut self, options: &Value) -> Vec<u8> {
        let request: CredentialCreationOptions = serde_json::from_value(options.clone()).unwrap();
        let origin = url::Url::parse(&self.passkey_origin).unwrap();
        let created = self
            .passkeys
            .register(&origin, request, DefaultClientData)
            .await
            .expect("create passkey");
        serde_json::to_vec(&created).unwrap()
    }

    /// Lets the authenticator sign `options`; returns the assertion JSON.
    pub async fn get(&mut self, options: &Value) -> Vec<u8> {
        let request: CredentialRequestOptions = serde_json::from_value(options.clone()).unwrap();
        let origin = url::Url::parse(&self.passkey_origin).unwrap();
        let asserted = self
            .passkeys
            .authenticate(&origin, request, DefaultClientData)
            .await
            .expect("use passkey");
        serde_json::to_vec(&asserted).unwrap()
    }

    /// Self-enrols and keeps the session.
    pub async fn enrol(&mut self, nik: &str, name: &str) -> Answer {
        let start = self.enrol_start(nik, name).await;
        assert_eq!(start.status, 200, "{:?}", start.body);
        let response = self.create(&start.body).await;
        let finish = self.send(Method::POST, "/api/enrol/finish", Some(response)).await;
        self.take_cookie(&finish);
        finish
    }

    pub async fn finish_sign_in(&mut self, assertion: Vec<u8>) -> Answer {
        let finish = self.send(Method::POST, "/api/signin/finish", Some(assertion)).await;
        self.take_cookie(&finish);
        finish
    }

    pub async fn sign_in_options(&self) -> Value {
        let start = self.post_json("/api/signin/start", &serde_json::json!({})).await;
        assert_eq!(start.status, 200, "{:?}", start.body);
        start.body
    }

    /// Signs in with the passkey and keeps the session.
    pub async fn sign_in(&mut self) -> Answer {
        let options = self.sign_in_options().await;
        let assertion = self.get(&options).await;
        self.finish_sign_in(assertion).await
    }

    /// Fetches the account and the CSRF token.
    pub async fn me(&mut self) -> Answer {
        let me = self.send(Method::GET, "/api/me", None).await;
        if me.status == 200 {
            self.csrf = me.body["csrf_token"].as_str().map(str::to_owned);
        }
        me
    }
}

impl Browser<'_> {
    /// Redeems an enrolment code and registers a passkey with it.
    pub async fn enrol_with_code(&mut self, code: &str, sign_in: bool) -> Answer {
        let start = self
            .post_json(
                "/api/enrol/code/start",
                &serde_json::json!({ "code": code, "sign_in": sign_in }),
            )
            .await;
        if start.status != 200 {
            return start;
        }
        let response = self.create(&start.body).await;
        let finish = self.send(Method::POST, "/api/enrol/finish", Some(response)).await;
        self.take_cookie(&finish);
        finish
    }

    /// Recovers with NIK and a recovery code, registering a new passkey.
    pub async fn recover(&mut self, nik: &str, code: &str) -> Answer {
        let start = self
            .post_json("/api/recover/start", &serde_json::json!({ "nik": nik, "code": code }))
            .await;
        if start.status != 200 {
            return start;
        }
        let response = self.create(&start.body).await;
        let finish = self.send(Method::POST, "/api/enrol/finish", Some(response)).await;
        self.take_cookie(&finish);
        finish
    }
}
