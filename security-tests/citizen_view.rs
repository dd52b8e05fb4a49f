//! What a citizen sees of the service modules: who read which fields and
//! why (activity), and everything modules keep about them (right of access).

use reqwest::Method;
use serde_json::json;

use crate::support::Sandbox;
use crate::support::backend_test;
use crate::support::browser::Browser;
use crate::support::modules::ModuleApi;
use crate::support::modules::{add_module, define_tickets, portal_page};

backend_test! {
    async fn a_citizen_sees_which_module_read_which_fields_and_why(backend) {
        let sandbox = Sandbox::new(backend).await;
        let app = sandbox.serve();
        let antrian = add_module(&sandbox, "antrian");
        let mut siti = Browser::new(&app);
        let pseudonym = siti.enrol("1971015507900002", "Siti Aminah").await.body["account"]
            .as_str()
            .unwrap()
            .to_owned();
        define_tickets(&app, &antrian).await;
        let path = format!("/api/collections/antrian.ticket/records/{pseudonym}/1");
        assert_eq!(ModuleApi::new(&app, &antrian).write_at(&path, &[("service", Some("KTP"))]).await.0, 204);
        crate::support::modules::open_case(&app, &antrian, &pseudonym).await;
        let (status, _) = ModuleApi::new(&app, &antrian).read_at(&path, Some("antrian.call"), None).await;
        assert_eq!(status, 200);
        let activity = siti.send(Method::GET, "/api/activity", None).await;
        assert_eq!(activity.status, 200);
        let read = activity
            .body
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["action"] == "record.read")
            .unwrap();
        assert_eq!(read["actor"], "Queue service");
        assert_eq!(read["fields"], json!(["antrian.ticket.service"]));
        assert_eq!(read["purpose"], "antrian.call");
        let page = portal_page(&app, &siti, "/account/activity")
            .await
            .text()
            .await
            .unwrap();
        // The page speaks Bahasa Indonesia, in a sentence: the module by
        // its name, the field by its label, the purpose by its name.
        assert!(
            page.contains("Layanan Antrian membaca jenis layanan Anda untuk memanggil nomor antrean."),
            "{page}"
        );

        // And sees what the module keeps about them (right of access), audited.
        let own = siti.send(Method::GET, "/api/profile/records", None).await;
        assert_eq!(own.status, 200, "{:?}", own.body);
        assert_eq!(
            own.body,
            json!([{ "collection": "antrian.ticket", "record": "1", "values": { "service": "KTP" } }])
        );
        let data = portal_page(&app, &siti, "/account/data").await.text().await.unwrap();
        assert!(data.contains("Data yang disimpan layanan") && data.contains("antrian.ticket") && data.contains("KTP"));
        let activity = siti.send(Method::GET, "/api/activity", None).await;
        assert!(
            activity
                .body
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["action"] == "record.read"
                    && e["actor"] == "you"
                    && e["purpose"] == "own_data"
                    && e["fields"] == json!(["antrian.ticket.service"]))
        );
        sandbox.drop_database().await;
    }
}
