//! Every console route, from the router's own table (`/api/security/…`,
//! `/api/admin/…`, `/security…`, `/admin`), refuses everyone but its own
//! officers: citizens and counter officers get 403, a security officer
//! gets 403 from administration and an administrator 403 from the
//! security console, and a module's key is no session (401; a page sends
//! it to sign in). A route added later is walked too.

use reqwest::Method;

use crate::counter_recovery::officer_with_role;
use crate::csrf_walk::route_table;
use crate::support::browser::Browser;
use crate::support::modules::{add_module, citizen_deciding, portal_page};
use crate::support::{Sandbox, backend_test};

fn concrete(path: &str) -> String {
    path.split('/')
        .map(|seg| if seg.starts_with('{') { "x" } else { seg })
        .collect::<Vec<_>>()
        .join("/")
}

async fn status(who: &Browser<'_>, method: &Method, path: &str, page: bool) -> u16 {
    if page {
        portal_page(who.app, who, path).await.status().as_u16()
    } else {
        who.send(method.clone(), path, Some(b"{}".to_vec()))
            .await
            .status
            .as_u16()
    }
}

backend_test! {
    async fn every_console_route_refuses_everyone_else(backend) {
        let sandbox = Sandbox::new(backend).await;
        let table = route_table(&sandbox).await;
        let routes: Vec<(Method, String, bool)> = table
            .iter()
            .filter(|(_, p)| p.starts_with("/api/security/") || p.starts_with("/api/admin/") || p.starts_with("/security") || *p == "/admin")
            .map(|(m, p)| (Method::from_bytes(m.as_str().as_bytes()).unwrap(), concrete(p), !p.starts_with("/api/")))
            .collect();
        assert!(routes.len() >= 29, "the table lists the console: {routes:?}");
        let app = sandbox.serve();
        let module = add_module(&sandbox, "antrian");
        let (_, citizen) = citizen_deciding(&app, "1971015507900002", "Siti Aminah", &[], "grant").await;
        let (counter, _) = officer_with_role(&sandbox, &app, "counter").await;
        let (security, _) = officer_with_role(&sandbox, &app, "security").await;
        let (admin, _) = officer_with_role(&sandbox, &app, "admin").await;
        let no_redirects = app.client_builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        for (method, path, page) in &routes {
            let administration = path.starts_with("/api/admin/") || path == "/admin";
            let other = if administration { ("security officer", &security) } else { ("administrator", &admin) };
            for (who, browser) in [("citizen", &citizen), ("counter officer", &counter), other] {
                assert_eq!(status(browser, method, path, *page).await, 403, "{who} {method} {path}");
            }
            let with_key = no_redirects
                .request(method.clone(), app.url(path))
                .bearer_auth(&module)
                .header("origin", crate::support::WEB_ORIGIN)
                .header("content-type", "application/json")
                .body("{}")
                .send()
                .await
                .unwrap();
            if *page {
                assert!(with_key.status().is_redirection(), "module {method} {path}: {}", with_key.status());
            } else {
                assert_eq!(with_key.status(), 401, "module {method} {path}");
            }
        }
    }
}
