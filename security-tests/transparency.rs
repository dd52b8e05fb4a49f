//! The public transparency report: no sign-in; counts by purpose and
//! module, consents, break-glass and requests for the month; counts under
//! 10 shown as "< 10"; no pseudonym anywhere; computed at most every ten
//! minutes; malformed months are 400, months without a report 404.

use reqwest::Method;
use serde_json::{Value, json};

use crate::counter_recovery::officer_with_role;
use crate::support::modules::{ModuleApi, add_module, citizen_deciding, define_tickets, open_case};
use crate::support::{Sandbox, backend_test};

/// This month in WIB, `YYYY-MM`.
fn this_month() -> String {
    let now = time::OffsetDateTime::now_utc().to_offset(time::UtcOffset::from_hms(7, 0, 0).unwrap());
    format!("{:04}-{:02}", now.year(), u8::from(now.month()))
}

backend_test! {
    async fn the_monthly_report_counts_without_naming_anyone(backend) {
        let sandbox = Sandbox::new(backend).await;
        let app = sandbox.serve();
        let antrian = add_module(&sandbox, "antrian");
        define_tickets(&app, &antrian).await;
        let (siti, _) = citizen_deciding(&app, "1971015507900002", "Siti Aminah", &["antrian.priority"], "grant").await;
        let (budi, _) = citizen_deciding(&app, "1971011203850001", "Budi Santoso", &["antrian.priority"], "refuse").await;
        open_case(&app, &antrian, &siti).await;
        let api = ModuleApi::new(&app, &antrian);
        let path = format!("/api/collections/antrian.ticket/records/{siti}/t1");
        assert_eq!(api.write_at(&path, &[("queue_number", Some("A-001"))]).await.0, 204);
        for _ in 0..12 {
            assert_eq!(api.read_at(&path, Some("antrian.call"), None).await.0, 200);
        }
        // A refused read is not an access.
        let refused = format!("/api/collections/antrian.ticket/records/{budi}/t1");
        assert_eq!(api.read_at(&refused, Some("antrian.call"), None).await.0, 403);
        let (security, _) = officer_with_role(&sandbox, &app, "security").await;
        let body = json!({ "citizen": siti, "justification": "Warga pingsan di loket, perlu kontak keluarga segera.", "minutes": 30 });
        let opened = security.send(Method::POST, "/api/break-glass", Some(serde_json::to_vec(&body).unwrap())).await;
        assert_eq!(opened.status, 201, "{:?}", opened.body);

        let month = this_month();
        let answer = app.get(&format!("/api/transparency/{month}")).await;
        assert_eq!(answer.status(), 200, "public: no sign-in");
        let text = answer.text().await.unwrap();
        for who in [&siti, &budi] {
            assert!(!text.contains(who.as_str()), "no pseudonym in the report");
        }
        let report: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(report["month"], month.as_str());
        assert_eq!(report["complete"], false);
        assert!(report["from"].as_str().unwrap().ends_with("T00:00:00+07:00"));
        let reads = report["accesses"].as_array().unwrap().iter()
            .find(|a| a["purpose"] == "antrian.call" && a["module"] == "antrian").unwrap();
        assert_eq!((reads["by"].as_str(), &reads["count"]), (Some("module"), &json!(12)), "{report}");
        let consents = report["consents"].as_array().unwrap().iter()
            .find(|c| c["purpose"] == "antrian.priority").unwrap();
        assert_eq!(consents["granted"], "< 10");
        assert_eq!(report["break_glass"]["used"], "< 10");
        assert_eq!(report["requests"]["corrections"]["median_hours"], Value::Null);

        // Computed at most every ten minutes: more reads do not show yet.
        assert_eq!(api.read_at(&path, Some("antrian.call"), None).await.0, 200);
        let again: Value = app.get(&format!("/api/transparency/{month}")).await.json().await.unwrap();
        assert_eq!(again, report);

        // The page, in Bahasa Indonesia first and in English.
        let page = app.get(&format!("/transparansi?month={month}")).await;
        assert_eq!(page.status(), 200);
        let html = page.text().await.unwrap();
        assert!(html.contains("<h1>Laporan transparansi</h1>"), "{html}");
        assert!(html.contains("<td>12</td>") && html.contains("&#60; 10"), "{html}");
        assert!(html.contains(&format!("href=\"/api/transparency/{month}\"")));
        assert!(!html.contains(siti.as_str()));
        let english = app.get(&format!("/transparansi?month={month}&lang=en")).await.text().await.unwrap();
        assert!(english.contains("<h1>Transparency report</h1>"));
        let home = app.get("/").await.text().await.unwrap();
        assert!(home.contains("href=\"/transparansi\""));

        // The last complete month, and months that have no report.
        let latest: Value = app.get("/api/transparency").await.json().await.unwrap();
        assert_eq!(latest["complete"], true);
        assert_ne!(latest["month"], month.as_str());
        for (month, status, error) in [("2026-13", 400, "invalid_month"), ("2026-1", 400, "invalid_month"),
            ("bulan", 400, "invalid_month"), ("2026-11%20", 400, "invalid_month"), ("0", 400, "invalid_month"),
            ("2023-12", 404, "no_report"), ("2100-01", 404, "no_report")] {
            let answer = app.get(&format!("/api/transparency/{month}")).await;
            assert_eq!(answer.status(), status, "{month}");
            let body: Value = answer.json().await.unwrap();
            assert_eq!(body["error"], error, "{month}");
            assert_eq!(app.get(&format!("/transparansi?month={month}")).await.status(), status, "{month}");
        }
    }
}
