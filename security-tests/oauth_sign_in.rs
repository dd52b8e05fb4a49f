//! A module signs a citizen in (OpenID Connect, FAPI 2.0): the pushed
//! request, the passkey session reused, the consent screen, the code
//! exchanged with PKCE and DPoP, the ID token with a pairwise subject,
//! userinfo by policy and consent, refresh rotation; and every way the
//! flow must refuse: code and refresh reuse, a foreign DPoP key, prompts,
//! a refusal, consent withdrawn, signing out.

use reqwest::Method;

use crate::oauth::oauth_sandbox_env;
use crate::support::backend_test;
use crate::support::browser::Browser;
use crate::support::oauth::{ISSUER, Key, OauthClient, now, post_form};
use crate::support::sign_in::{
    REDIRECT, claims, decide, exchange, open_authorize, pkce, push, push_usual, query_of, refresh, register_signing_in,
    userinfo,
};
use crate::support::{Sandbox, TestApp};

const NIK: &str = "1971011203850001";
const SCOPE: &str = "openid antrian.call antrian.priority";

/// Siti, enrolled and signed in, with her CSRF token.
async fn siti(app: &TestApp) -> Browser<'_> {
    let mut b = Browser::new(app);
    assert_eq!(b.enrol(NIK, "Siti Aminah").await.status, 201);
    b.me().await;
    b
}

/// The whole sign-in up to the code; returns the redirect's parameters.
async fn sign_in(app: &TestApp, client: &OauthClient, browser: &Browser<'_>, ticked: &[&str]) -> (String, String) {
    let (request_uri, verifier) = push_usual(app, client, SCOPE, &[]).await;
    let page = open_authorize(app, Some(browser), &client.id, &request_uri).await;
    let location = if page.status == 200 {
        let decided = decide(browser, &client.id, &request_uri, "allow", ticked).await;
        assert_eq!(decided.status, 200, "{:?}", decided.body);
        decided.body["redirect"].as_str().unwrap().to_owned()
    } else {
        assert_eq!(page.status, 303, "{}", page.html);
        page.location.unwrap()
    };
    let q = query_of(&location);
    (q["code"].clone(), verifier)
}

backend_test! {
    /// The whole flow, as a module and a citizen's browser go through it.
    async fn a_module_signs_a_citizen_in_with_par_pkce_and_dpop(backend) {
        let mut sandbox = Sandbox::new(backend).await;
        oauth_sandbox_env(&mut sandbox);
        let client = register_signing_in(&sandbox, "antrian", "citizen");
        let app = sandbox.serve();
        let browser = siti(&app).await;
        let (request_uri, verifier) = push_usual(&app, &client, SCOPE, &[]).await;
        assert!(request_uri.starts_with("urn:ietf:params:oauth:request_uri:"));

        // Nobody signed in: the sign-in page, which comes back here.
        let page = open_authorize(&app, None, &client.id, &request_uri).await;
        assert_eq!(page.status, 303);
        let to = page.location.unwrap();
        assert!(to.starts_with("/signin?next=%2Foauth%2Fauthorize%3Fclient_id%3Dantrian"), "{to}");
        let signin = app.get(&to).await.text().await.unwrap();
        assert!(signin.contains("data-next=\"/oauth/authorize?client_id=antrian&#38;request_uri="), "{signin}");

        // Siti's session is reused: the consent screen, Bahasa Indonesia
        // first; the consent purpose is a choice (unticked), the public
        // task is information.
        let page = open_authorize(&app, Some(&browser), &client.id, &request_uri).await;
        assert_eq!(page.status, 200, "{}", page.html);
        assert!(page.html.contains("Masuk ke layanan"));
        assert!(page.html.contains("name=\"purpose\" value=\"antrian.priority\">"));
        assert!(!page.html.contains("value=\"antrian.call\""));
        assert!(page.html.contains("Memanggil nomor antrean"));
        assert!(page.html.contains("tugas pelayanan publik"));

        let decided = decide(&browser, &client.id, &request_uri, "allow", &["antrian.priority"]).await;
        assert_eq!(decided.status, 200, "{:?}", decided.body);
        let q = query_of(decided.body["redirect"].as_str().unwrap());
        assert_eq!(q["state"], "keadaan-1");
        assert_eq!(q["iss"], ISSUER);
        let code = q["code"].clone();
        // The consent is recorded like any other (with its receipt).
        assert_eq!(sandbox.sql_count("select count(*) from consent_event where purpose_id = 'antrian.priority' and decision = 'grant'").await, 1);
        // The pushed request is used up.
        assert_eq!(decide(&browser, &client.id, &request_uri, "allow", &[]).await.status, 400);
        let again = open_authorize(&app, Some(&browser), &client.id, &request_uri).await;
        assert_eq!((again.status, again.location), (400, None));

        let tokens = exchange(&app, &client, &code, &verifier, None).await;
        assert_eq!(tokens.status, 200, "{tokens:?}");
        assert_eq!(tokens.body["token_type"], "DPoP");
        let id = claims(tokens.body["id_token"].as_str().unwrap());
        assert_eq!(id["iss"], ISSUER);
        assert_eq!(id["aud"], "antrian");
        assert_eq!(id["nonce"], "nonce-1");
        assert_eq!(id["acr"], "urn:jaga:acr:passkey-uv");
        assert_eq!(id["amr"], serde_json::json!(["pop", "user", "mfa"]));
        assert!(id["auth_time"].as_i64().unwrap() <= now());
        let sub = id["sub"].as_str().unwrap().to_owned();
        // Pairwise: neither the account id nor the pseudonym.
        assert_eq!(sandbox.sql_count(&format!("select count(*) from account where account_id = '{sub}' or pseudonym = '{sub}'")).await, 0);
        let access = tokens.body["access_token"].as_str().unwrap().to_owned();
        let at = claims(&access);
        assert_eq!(at["cnf"]["jkt"], client.dpop.thumbprint());
        assert_eq!(at["aud"], format!("{ISSUER}/oauth/userinfo"));
        assert_eq!(at["scope"], SCOPE);

        // Userinfo: the masked name antrian.call allows, audited per purpose.
        let info = userinfo(&app, &client, &access).await;
        assert_eq!(info.status, 200, "{info:?}");
        assert_eq!(info.body["sub"], sub);
        assert_eq!(info.body["name"], "S. A.");
        assert!(info.body.get("nik").is_none());
        assert_eq!(sandbox.sql_count("select count(*) from audit_event where action = 'profile.read' and actor_id = 'antrian' and purpose = 'antrian.call' and reason = 'userinfo'").await, 1);
        // The access token does not open the module API.
        let api = app.client.get(app.url("/api/collections/antrian.ticket")).header("Authorization", format!("DPoP {access}")).header("DPoP", client.proof("GET", "http://localhost:8080/api/collections/antrian.ticket", None, Some(&access))).send().await.unwrap();
        assert_eq!(api.status(), 401);

        // Refresh: rotated. The answer to a refresh is lost: a retry with
        // the previous token is answered while its successor is unused
        // (FAPI 2.0 §5.3.2.1), and the lost successor is used up. The
        // lost one presented later is a reuse: the sign-in is revoked.
        let first = tokens.body["refresh_token"].as_str().unwrap().to_owned();
        let lost = refresh(&app, &client, &first).await;
        assert_eq!(lost.status, 200, "{lost:?}");
        assert!(lost.body.get("id_token").is_none());
        let lost = lost.body["refresh_token"].as_str().unwrap().to_owned();
        assert_ne!(lost, first);
        let second = refresh(&app, &client, &first).await;
        assert_eq!(second.status, 200, "{second:?}");
        let newest = second.body["refresh_token"].as_str().unwrap().to_owned();
        assert_ne!(newest, lost);
        let reused = refresh(&app, &client, &lost).await;
        assert_eq!((reused.status, reused.body["error"].as_str()), (400, Some("invalid_grant")));
        assert_eq!(refresh(&app, &client, &newest).await.body["error"], "invalid_grant");
        assert_eq!(refresh(&app, &client, &first).await.body["error"], "invalid_grant");
        assert_eq!(sandbox.sql_count("select count(*) from audit_event where action = 'oauth.token' and reason = 'refresh_token_retry'").await, 1);
        let gone = userinfo(&app, &client, second.body["access_token"].as_str().unwrap()).await;
        assert_eq!(gone.status, 401);
        assert!(gone.www_authenticate.unwrap().contains("invalid_token"));
        assert_eq!(sandbox.sql_count("select count(*) from audit_event where action = 'oauth.token' and reason = 'refresh_token_reuse'").await, 1);
        assert_eq!(sandbox.sql_count("select count(*) from audit_event where action = 'oauth.authorize' and outcome = 'success'").await, 1);
    }
}

backend_test! {
    /// A code is single use (a second use revokes what it gave), bound to
    /// the PKCE verifier and the DPoP key; requests the client did not push
    /// properly are refused at the back channel.
    async fn codes_are_single_use_and_bound_to_pkce_and_the_dpop_key(backend) {
        let mut sandbox = Sandbox::new(backend).await;
        oauth_sandbox_env(&mut sandbox);
        let client = register_signing_in(&sandbox, "antrian", "citizen");
        let app = sandbox.serve();
        let browser = siti(&app).await;
        let (_, challenge) = pkce();
        let base = [("response_type", "code"), ("redirect_uri", REDIRECT), ("scope", "openid"), ("code_challenge", challenge.as_str()), ("code_challenge_method", "S256")];
        // The usual request with one parameter changed (or, with None, left out).
        let with = |name: &str, value: Option<&str>| -> Vec<(String, String)> {
            base.iter()
                .filter(|(k, _)| *k != name || value.is_some())
                .map(|(k, v)| ((*k).to_owned(), if *k == name { value.unwrap().to_owned() } else { (*v).to_owned() }))
                .collect()
        };
        for (params, error) in [
            (with("code_challenge", None), "invalid_request"),
            (with("code_challenge_method", Some("plain")), "invalid_request"),
            (with("redirect_uri", Some("https://evil.example/cb")), "invalid_request"),
            (with("scope", Some("openid perizinan.review")), "invalid_scope"),
            (with("scope", Some("antrian.call")), "invalid_scope"),
            (with("response_type", Some("token")), "unsupported_response_type"),
        ] {
            let borrowed: Vec<(&str, &str)> = params.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            let a = push(&app, &client, &borrowed).await;
            assert_eq!((a.status, a.body["error"].as_str()), (400, Some(error)), "{params:?}: {a:?}");
        }
        // Without client authentication: 401 invalid_client.
        let bare = crate::support::oauth::post_form(&app, "/oauth/par", &base, None).await;
        assert_eq!((bare.status, bare.body["error"].as_str()), (401, Some("invalid_client")));
        // A request_uri the browser made up is shown, never redirected.
        let made_up = open_authorize(&app, Some(&browser), "antrian", "urn:ietf:params:oauth:request_uri:AAAA").await;
        assert_eq!((made_up.status, made_up.location), (400, None));
        assert!(made_up.html.contains("tidak dikenal"));

        // A foreign DPoP key cannot exchange a code bound to the client's.
        let (code, verifier) = sign_in(&app, &client, &browser, &[]).await;
        let foreign = exchange(&app, &client, &code, &verifier, Some(&Key::new())).await;
        assert_eq!(foreign.body["error"], "invalid_grant", "{foreign:?}");

        // A wrong verifier burns the code.
        let (code, _) = sign_in(&app, &client, &browser, &[]).await;
        let (other_verifier, _) = pkce();
        assert_eq!(exchange(&app, &client, &code, &other_verifier, None).await.body["error"], "invalid_grant");

        // Another client cannot use (or burn) a code.
        let other = register_signing_in(&sandbox, "perizinan", "citizen");
        let (code, verifier) = sign_in(&app, &client, &browser, &[]).await;
        assert_eq!(exchange(&app, &other, &code, &verifier, None).await.body["error"], "invalid_grant");
        assert_eq!(exchange(&app, &client, &code, &verifier, None).await.status, 200);

        // A second use of a code revokes the tokens of the first.
        let (code, verifier) = sign_in(&app, &client, &browser, &[]).await;
        let tokens = exchange(&app, &client, &code, &verifier, None).await;
        assert_eq!(tokens.status, 200, "{tokens:?}");
        let access = tokens.body["access_token"].as_str().unwrap().to_owned();
        assert_eq!(userinfo(&app, &client, &access).await.status, 200);
        let replayed = exchange(&app, &client, &code, &verifier, None).await;
        assert_eq!(replayed.body["error"], "invalid_grant");
        assert_eq!(userinfo(&app, &client, &access).await.status, 401);
        assert_eq!(refresh(&app, &client, tokens.body["refresh_token"].as_str().unwrap()).await.body["error"], "invalid_grant");
        assert_eq!(sandbox.sql_count("select count(*) from audit_event where action = 'oauth.token' and reason = 'code_reuse'").await, 1);
    }
}

backend_test! {
    /// prompt=none, prompt=login, a refusal, an officer module, and the
    /// sign-in ending when the citizen withdraws consent or signs out.
    async fn prompts_refusals_audiences_withdrawal_and_sign_out(backend) {
        let mut sandbox = Sandbox::new(backend).await;
        oauth_sandbox_env(&mut sandbox);
        let client = register_signing_in(&sandbox, "antrian", "citizen");
        let officers = register_signing_in(&sandbox, "perizinan", "officer");
        let app = sandbox.serve();
        let mut browser = siti(&app).await;

        // prompt=none with nobody signed in: login_required at the module.
        let (request_uri, _) = push_usual(&app, &client, "openid", &[("prompt", "none")]).await;
        let page = open_authorize(&app, None, &client.id, &request_uri).await;
        let q = query_of(&page.location.unwrap());
        assert_eq!((q["error"].as_str(), q["state"].as_str(), q["iss"].as_str()), ("login_required", "keadaan-1", ISSUER));
        // prompt=none when consent is needed: consent_required.
        let (request_uri, _) = push_usual(&app, &client, SCOPE, &[("prompt", "none")]).await;
        let page = open_authorize(&app, Some(&browser), &client.id, &request_uri).await;
        assert_eq!(query_of(&page.location.unwrap())["error"], "consent_required");
        // prompt=login with a session from before the request: sign in
        // again; the new sign-in is fresh enough, even for max_age=0 (no
        // loop back to the sign-in page).
        let (request_uri, _) = push_usual(&app, &client, "openid", &[("prompt", "login"), ("max_age", "0")]).await;
        assert!(open_authorize(&app, Some(&browser), &client.id, &request_uri).await.location.unwrap().starts_with("/signin?next="));
        // Arrived: the request now waits ten minutes for her, not one.
        assert_eq!(sandbox.sql_count(&format!("select count(*) from oauth_par where expires_at > {}", now() + 500)).await, 1);
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
        assert_eq!(browser.sign_in().await.status, 200);
        browser.me().await;
        let back = open_authorize(&app, Some(&browser), &client.id, &request_uri).await;
        assert!(query_of(&back.location.unwrap()).contains_key("code"));
        // A code whose sign-in ended before it was exchanged gives nothing.
        let (code, verifier) = sign_in(&app, &client, &browser, &[]).await;
        assert_eq!(browser.send(Method::POST, "/api/signout", None).await.status, 204);
        assert_eq!(exchange(&app, &client, &code, &verifier, None).await.body["error"], "invalid_grant");
        assert_eq!(browser.sign_in().await.status, 200);
        browser.me().await;
        // The citizen refuses: access_denied.
        let (request_uri, _) = push_usual(&app, &client, SCOPE, &[]).await;
        let denied = decide(&browser, &client.id, &request_uri, "deny", &[]).await;
        assert_eq!(query_of(denied.body["redirect"].as_str().unwrap())["error"], "access_denied");
        // A module for officers does not sign a citizen in.
        let (request_uri, _) = push_usual(&app, &officers, "openid", &[]).await;
        let page = open_authorize(&app, Some(&browser), &officers.id, &request_uri).await;
        assert_eq!(query_of(&page.location.unwrap())["error"], "access_denied");
        // An officer module may not ask for citizens' purposes.
        let (_, challenge) = pkce();
        let a = push(&app, &officers, &[("response_type", "code"), ("redirect_uri", REDIRECT), ("scope", "openid perizinan.review"), ("code_challenge", challenge.as_str()), ("code_challenge_method", "S256")]).await;
        assert_eq!(a.body["error"], "invalid_scope");

        // Withdrawing the consent a sign-in relied on ends it.
        let (code, verifier) = sign_in(&app, &client, &browser, &["antrian.priority"]).await;
        let tokens = exchange(&app, &client, &code, &verifier, None).await;
        assert_eq!(tokens.status, 200, "{tokens:?}");
        let withdrawn = browser.send(Method::PUT, "/api/consents/antrian.priority", Some(br#"{"decision":"withdraw"}"#.to_vec())).await;
        assert_eq!(withdrawn.status, 200, "{:?}", withdrawn.body);
        assert_eq!(refresh(&app, &client, tokens.body["refresh_token"].as_str().unwrap()).await.body["error"], "invalid_grant");
        assert_eq!(userinfo(&app, &client, tokens.body["access_token"].as_str().unwrap()).await.status, 401);

        // A sign-in without that purpose is not touched by it; signing out ends it.
        let (code, verifier) = sign_in(&app, &client, &browser, &[]).await;
        let tokens = exchange(&app, &client, &code, &verifier, None).await;
        let refresh_token = tokens.body["refresh_token"].as_str().unwrap().to_owned();
        let kept = refresh(&app, &client, &refresh_token).await;
        assert_eq!(kept.status, 200, "{kept:?}");
        assert_eq!(browser.send(Method::POST, "/api/signout", None).await.status, 204);
        browser.session = None;
        assert_eq!(refresh(&app, &client, kept.body["refresh_token"].as_str().unwrap()).await.body["error"], "invalid_grant");
    }
}

backend_test! {
    /// A public client (a citizens' phone app) holds no secret: it signs
    /// people in with PKCE and its DPoP key only, its code and refresh
    /// tokens work only with that key, and it gets nothing else.
    async fn a_public_client_signs_in_with_pkce_and_dpop_only(backend) {
        let mut sandbox = Sandbox::new(backend).await;
        oauth_sandbox_env(&mut sandbox);
        let refused = sandbox.cli(&["modules", "add", "--name", "warga", "--auth", "none", "--grant", "client_credentials"]);
        assert!(!refused.status.success());
        let out = sandbox.cli(&[
            "modules", "add", "--name", "antrian", "--auth", "none", "--grant", "authorization_code", "--grant",
            "refresh_token", "--redirect-uri", REDIRECT,
        ]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let app = sandbox.serve();
        let browser = siti(&app).await;
        let phone = OauthClient { id: "antrian".into(), key: Key::new(), dpop: Key::new() };
        let (verifier, challenge) = pkce();
        let par_url = "http://localhost:8080/oauth/par";
        let token_url = "http://localhost:8080/oauth/token";
        let params = [("client_id", "antrian"), ("response_type", "code"), ("redirect_uri", REDIRECT), ("scope", "openid antrian.call"), ("code_challenge", challenge.as_str()), ("code_challenge_method", "S256")];
        // Without a DPoP key to bind the code to: refused.
        let unbound = post_form(&app, "/oauth/par", &params, None).await;
        assert_eq!((unbound.status, unbound.body["error"].as_str()), (400, Some("invalid_request")), "{unbound:?}");
        let nonce = post_form(&app, "/oauth/par", &params, Some(&phone.proof("POST", par_url, None, None))).await.nonce.unwrap();
        let pushed = post_form(&app, "/oauth/par", &params, Some(&phone.proof("POST", par_url, Some(&nonce), None))).await;
        assert_eq!(pushed.status, 201, "{pushed:?}");
        let request_uri = pushed.body["request_uri"].as_str().unwrap();
        let page = open_authorize(&app, Some(&browser), "antrian", request_uri).await;
        let code = query_of(&page.location.unwrap())["code"].clone();
        let exchange_form = [("client_id", "antrian"), ("grant_type", "authorization_code"), ("code", code.as_str()), ("redirect_uri", REDIRECT), ("code_verifier", verifier.as_str())];
        let tokens = post_form(&app, "/oauth/token", &exchange_form, Some(&phone.proof("POST", token_url, Some(&nonce), None))).await;
        assert_eq!(tokens.status, 200, "{tokens:?}");
        assert_eq!(claims(tokens.body["access_token"].as_str().unwrap())["cnf"]["jkt"], phone.dpop.thumbprint());
        // A stolen refresh token is useless without the phone's key.
        let refresh_token = tokens.body["refresh_token"].as_str().unwrap();
        let thief = OauthClient { id: "antrian".into(), key: Key::new(), dpop: Key::new() };
        let stolen = [("client_id", "antrian"), ("grant_type", "refresh_token"), ("refresh_token", refresh_token)];
        let used = post_form(&app, "/oauth/token", &stolen, Some(&thief.proof("POST", token_url, Some(&nonce), None))).await;
        assert_eq!(used.body["error"], "invalid_grant");
        // … and the thief's attempt does not burn it for the phone.
        let kept = post_form(&app, "/oauth/token", &stolen, Some(&phone.proof("POST", token_url, Some(&nonce), None))).await;
        assert_eq!(kept.status, 200, "{kept:?}");
        // No introspection, no client credentials.
        let asked = post_form(&app, "/oauth/introspect", &[("client_id", "antrian"), ("token", refresh_token)], None).await;
        assert_eq!(asked.status, 401);
        let cc = post_form(&app, "/oauth/token", &[("client_id", "antrian"), ("grant_type", "client_credentials")], Some(&phone.proof("POST", token_url, Some(&nonce), None))).await;
        assert_eq!(cc.body["error"], "unauthorized_client");
    }
}

backend_test! {
    /// An officers' module signs an officer in (no consent screen: no
    /// citizen data is asked for); userinfo tells it the pairwise subject
    /// only, and a citizens' module does not sign the officer in.
    async fn an_officers_module_signs_an_officer_in(backend) {
        let mut sandbox = Sandbox::new(backend).await;
        oauth_sandbox_env(&mut sandbox);
        let officers = register_signing_in(&sandbox, "perizinan", "officer");
        let citizens = register_signing_in(&sandbox, "antrian", "citizen");
        let app = sandbox.serve();
        let officer = crate::accounts::counter_officer(&sandbox, &app).await;
        let (request_uri, verifier) = push_usual(&app, &officers, "openid", &[]).await;
        let page = open_authorize(&app, Some(&officer), &officers.id, &request_uri).await;
        let code = query_of(&page.location.unwrap())["code"].clone();
        let tokens = exchange(&app, &officers, &code, &verifier, None).await;
        assert_eq!(tokens.status, 200, "{tokens:?}");
        let info = userinfo(&app, &officers, tokens.body["access_token"].as_str().unwrap()).await;
        assert_eq!(info.status, 200, "{info:?}");
        assert_eq!(info.body.as_object().unwrap().len(), 1, "{info:?}");
        assert_eq!(info.body["sub"], claims(tokens.body["id_token"].as_str().unwrap())["sub"]);
        let (request_uri, _) = push_usual(&app, &citizens, "openid", &[]).await;
        let page = open_authorize(&app, Some(&officer), &citizens.id, &request_uri).await;
        assert_eq!(query_of(&page.location.unwrap())["error"], "access_denied");
    }
}
