//! Free text a person or a module sends may hold any printable text, but
//! never control characters (NUL, ESC, BEL…) or bidirectional overrides
//! (U+202E and friends), which make stored text display differently from
//! what it is. Each refusal is a 400 naming the field; nothing is stored.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::support::Sandbox;
use crate::support::backend_test;
use crate::support::browser::Browser;
use crate::support::modules::ModuleApi;
use crate::support::modules::add_module;

const HOSTILE: [&str; 5] = ["\u{0}", "\u{1b}[31m", "\u{7}", "\u{202e}", "\u{2066}"];

backend_test! {
    async fn control_and_bidi_characters_are_refused_in_every_free_text_field(backend) {
        let sandbox = Sandbox::new(backend).await;
        let app = sandbox.serve();
        // Enrolment name.
        for bad in HOSTILE {
            let b = Browser::new(&app);
            let answer = b.enrol_start("1971015507900002", &format!("Siti{bad}Aminah")).await;
            assert_eq!(answer.status, 400, "{backend:?} name {bad:?}: {:?}", answer.body);
            assert_eq!(answer.body["error"], "invalid_name");
        }
        let mut siti = Browser::new(&app);
        assert_eq!(siti.enrol("1971015507900002", "Siti Aminah").await.status, 201);
        siti.me().await;
        // E-mail, address, phone.
        for bad in HOSTILE {
            for (field, body) in [
                ("email", json!({ "email": format!("siti{bad}@contoh.go.id") })),
                (
                    "address.street",
                    json!({ "address": {
                        "street": format!("Jl. Merdeka{bad} 10"), "rt_rw": "3/5", "kelurahan": "Rangkui",
                        "kecamatan": "Rangkui", "kabupaten_kota": "Pangkalpinang",
                        "province": "Kepulauan Bangka Belitung", "postal_code": "33134" } }),
                ),
                ("phone", json!({ "phone": format!("0812{bad}34565678") })),
            ] {
                let answer = siti
                    .send(Method::PATCH, "/api/profile", Some(serde_json::to_vec(&body).unwrap()))
                    .await;
                assert_eq!(answer.status, 400, "{backend:?} {field} {bad:?}: {:?}", answer.body);
                assert!(
                    answer.body["message"].as_str().unwrap().contains(field),
                    "{field}: {:?}",
                    answer.body
                );
            }
        }
        let profile = siti.send(Method::GET, "/api/profile", None).await;
        assert!(profile.body["email"].is_null() && profile.body["address"].is_null());
        // A passkey's name.
        let keys = siti.send(Method::GET, "/api/passkeys", None).await;
        let id = keys.body[0]["id"].as_str().unwrap().to_owned();
        for bad in HOSTILE {
            let body = serde_json::to_vec(&json!({ "name": format!("Ponsel{bad}") })).unwrap();
            let answer = siti
                .send(Method::PATCH, &format!("/api/passkeys/{id}"), Some(body))
                .await;
            assert_eq!(answer.status, 400, "{backend:?} passkey name {bad:?}");
        }
        // Module values: refused in every field; line breaks and tabs only
        // where the field says it holds multiline text.
        let key = add_module(&sandbox, "survei");
        let definition = json!({ "fields": [
            { "name": "rating", "classification": "personal" },
            { "name": "comment", "classification": "personal", "multiline": true }
        ]});
        let (status, body) = ModuleApi::new(&app, &key).define("survei.response", definition).await;
        assert_eq!(status, 200, "{body:?}");
        assert_eq!(body["fields"][1]["multiline"], true);
        let (ctz, _budi) =
            crate::support::modules::citizen_deciding(&app, "1971011203850001", "Budi", &["survei.kepuasan"], "grant").await;
        let path = format!("/api/collections/survei.response/records/{ctz}/1");
        for (field, value, ok) in [
            ("rating", "KTP\nbaru", false),
            ("rating", "KTP\u{202e}", false),
            ("comment", "Antrean lama.\nMohon diperbaiki.\tTerima kasih.", true),
            ("comment", "Antrean\u{1b}[2J lama", false),
            ("comment", "Antrean\u{202e} lama", false),
            ("comment", "Antrean\u{0} lama", false),
        ] {
            let (status, body) = ModuleApi::new(&app, &key).write_at(&path, &[(field, Some(value))]).await;
            if ok {
                assert_eq!(status, StatusCode::NO_CONTENT, "{field} {value:?}: {body:?}");
            } else {
                assert_eq!(
                    status,
                    StatusCode::BAD_REQUEST,
                    "{backend:?} {field} {value:?}: {body:?}"
                );
                assert!(body["message"].as_str().unwrap().contains(field), "{body:?}");
            }
        }
        let (_, read) = ModuleApi::new(&app, &key).read_at(&path, Some("survei.kepuasan"), None).await;
        assert_eq!(
            read["values"],
            json!({ "comment": "Antrean lama.\nMohon diperbaiki.\tTerima kasih." })
        );
        drop(siti);
        sandbox.drop_database().await;
    }
}
