//! The console's pages: only security officers open them (a visitor is
//! sent to sign in, anyone else signed in gets the 403 page); the search
//! page filters and pages like the API and is audited; an event's page
//! carries what the browser needs to check its proof; the break-glass
//! queue shows age and justification and who may review.

use reqwest::Method;
use serde_json::json;

use crate::counter_recovery::officer_with_role;
use crate::support::browser::Browser;
use crate::support::modules::{citizen_deciding, jaga_sql, portal_page};
use crate::support::{Sandbox, TestApp, backend_test};

const PAGES: [&str; 4] = [
    "/security",
    "/security/audit",
    "/security/audit/0",
    "/security/break-glass",
];

async fn html(app: &TestApp, who: &Browser<'_>, path: &str) -> (u16, String) {
    let page = portal_page(app, who, path).await;
    (page.status().as_u16(), page.text().await.unwrap())
}

/// The text between `data-event="` and the next quote, HTML-decoded.
fn data_event(page: &str) -> serde_json::Value {
    let start = page.find("data-event=\"").unwrap() + "data-event=\"".len();
    let raw = &page[start..start + page[start..].find('"').unwrap()];
    let text = raw
        .replace("&#34;", "\"")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#60;", "<")
        .replace("&#62;", ">")
        .replace("&amp;", "&");
    serde_json::from_str(&text).unwrap()
}

backend_test! {
    async fn only_security_officers_open_the_console(backend) {
        let sandbox = Sandbox::new(backend).await;
        let app = sandbox.serve();
        let (siti, citizen) = citizen_deciding(&app, "1971015507900002", "Siti Aminah", &[], "grant").await;
        let (counter, _) = officer_with_role(&sandbox, &app, "counter").await;
        let (admin, _) = officer_with_role(&sandbox, &app, "admin").await;
        let (opener, _) = officer_with_role(&sandbox, &app, "security").await;
        let (security, _) = officer_with_role(&sandbox, &app, "security").await;
        let visitor = app.client_builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        for path in PAGES {
            let away = visitor.get(app.url(path)).send().await.unwrap();
            assert!(away.status().is_redirection(), "{path}: {}", away.status());
            assert_eq!(away.headers()["location"], "/signin", "{path}");
            for (who, browser) in [("citizen", &citizen), ("counter officer", &counter), ("administrator", &admin)] {
                let (status, body) = html(&app, browser, path).await;
                assert_eq!(status, 403, "{who} {path}");
                assert!(!body.contains("audit-results") && !body.contains("data-event"), "{who} {path}");
            }
            let (status, body) = html(&app, &security, path).await;
            assert_eq!(status, 200, "{path}: {body}");
            assert!(body.contains("Konsol keamanan"), "{path}");
        }
        assert_eq!(visitor.get(app.url("/audit")).send().await.unwrap().headers()["location"], "/security/audit");

        // The console home: integrity, the verifier key, and the menu entry.
        let (_, home) = html(&app, &security, "/security").await;
        assert!(home.contains("id=\"integrity-ok\"") && home.contains("id=\"checkpoint-size\""), "{home}");
        let out = sandbox.cli(&["audit", "public-key"]);
        let key = String::from_utf8(out.stdout).unwrap();
        assert!(home.contains(key.trim()), "the verifier key is shown");
        assert!(home.contains("href=\"/security\""), "in the menu");
        let (_, citizen_home) = html(&app, &citizen, "/").await;
        assert!(!citizen_home.contains("href=\"/security\""), "not in a citizen's menu");

        // The search: filters, newest first, every search audited.
        let (status, page) = html(&app, &security, "/security/audit?actor_kind=officer&outcome=success&from=&to=").await;
        assert_eq!(status, 200, "{page}");
        assert!(page.contains("id=\"audit-results\""), "{page}");
        assert!(page.contains("<option value=\"officer\" selected>"), "the form keeps its filters");
        assert!(!page.contains(">Warga: "), "only officers' events: {page}");
        let (status, page) = html(&app, &security, "/security/audit?from=yesterday").await;
        assert_eq!(status, 400);
        assert!(page.contains("id=\"search-error\"") && page.contains("RFC 3339"), "{page}");
        let (status, page) = html(&app, &security, "/security/audit?from=2000-01-01T00:00&to=2000-01-02T00:00").await;
        assert_eq!(status, 200, "a local time is read as WIB");
        assert!(page.contains("Tidak ada kejadian yang cocok."));
        let searches = sandbox.sql_count("select count(*) from audit_event where action = 'audit.search'").await;
        assert_eq!(searches, 3, "each search that ran is audited; the refused one did not run");

        // Pages follow the cursor: 50 a page, none repeated.
        for _ in 0..60 {
            security.send(Method::GET, "/api/security/audit?limit=1", None).await;
        }
        let (_, first) = html(&app, &security, "/security/audit?action=audit.search").await;
        let next = first.split("id=\"next-page\"").next().unwrap();
        let href = next.rsplit("href=\"").next().unwrap().split('"').next().unwrap().replace("&#38;", "&");
        assert!(href.starts_with("/security/audit?action=audit.search&cursor="), "{href}");
        let (_, second) = html(&app, &security, &href).await;
        let seqs = |p: &str| -> Vec<String> {
            p.split("<a href=\"/security/audit/").skip(1).map(|s| s.split('"').next().unwrap().to_owned()).collect()
        };
        let (a, b) = (seqs(&first), seqs(&second));
        assert_eq!(a.len(), 50);
        assert!(!b.is_empty() && b.iter().all(|s| !a.contains(s)), "no repeats across pages");

        // An event's page: its fields for the proof check, and the key.
        let (status, page) = html(&app, &security, "/security/audit/3").await;
        assert_eq!(status, 200);
        let event = data_event(&page);
        let row = crate::audit_proof::stored_row(&sandbox, 3).await;
        assert_eq!(event["seq"], 3);
        assert_eq!(event["time_us"], row.time_us);
        assert_eq!(event["actor_id"], row.actor_id);
        assert!(page.contains("/static/console.js"));
        assert_eq!(html(&app, &security, "/security/audit/99999999").await.0, 404);
        assert_eq!(html(&app, &security, "/security/audit/x").await.0, 404);

        // The break-glass queue: age and justification; not the opener's to review.
        let why = "Laporan kepolisian no. 17/XII/2026: dugaan pemalsuan identitas pemohon";
        let opened = opener.send(Method::POST, "/api/break-glass",
            Some(serde_json::to_vec(&json!({ "citizen": siti, "justification": why, "minutes": 30 })).unwrap())).await;
        assert_eq!(opened.status, 201, "{:?}", opened.body);
        let grant = opened.body["grant"].as_str().unwrap().to_owned();
        jaga_sql(&sandbox, &format!("update break_glass set opened_at = opened_at - 4 * 86400 where grant_id = '{grant}'")).await;
        let (_, queue) = html(&app, &security, "/security/break-glass").await;
        assert!(queue.contains(&format!("id=\"grant-{grant}\"")) && queue.contains(why), "{queue}");
        assert!(queue.contains("4 hari") && queue.contains("class=\"overdue\""), "aging shows: {queue}");
        assert!(queue.contains(&format!("data-grant=\"{grant}\"")), "another officer may review");
        let (_, own) = html(&app, &opener, "/security/break-glass?lang=en").await;
        assert!(own.contains("another security officer must review it") && !own.contains("data-grant="), "{own}");
        let (_, home) = html(&app, &security, "/security").await;
        assert!(home.contains("<strong id=\"waiting-count\">1</strong>"), "{home}");
    }
}
