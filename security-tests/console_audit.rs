//! The security officers' audit search: only security officers may use
//! it; filters return exactly the events the log holds for them, newest
//! first; pages follow a cursor without repeats or gaps while events keep
//! being appended; bad filters are 400; every search and read is audited.

use reqwest::Method;
use serde_json::Value;

use crate::counter_recovery::officer_with_role;
use crate::support::browser::Browser;
use crate::support::modules::{ModuleApi, add_module, citizen_deciding, define_tickets, open_case};
use crate::support::{Lib, Sandbox, backend_test};

const SEARCH: &str = "/api/security/audit";

/// What is looked for, the filters, and the sequence numbers expected.
type Case<'a> = (&'a str, Vec<(&'a str, &'a str)>, Vec<i64>);

/// Every event of the log, newest first (time, then sequence number).
async fn newest_first(sandbox: &Sandbox) -> Vec<jaga::store::audit::EventRow> {
    let lib = Lib::open(sandbox).await;
    let mut rows = jaga::store::audit::events_from(&lib.db, 0, 1_000_000).await.unwrap();
    lib.close().await;
    rows.sort_by_key(|r| std::cmp::Reverse((r.time_us, r.seq)));
    rows
}

/// Every page of a search, following `next_cursor`; the events in order.
async fn all_pages(officer: &Browser<'_>, filters: &[(&str, &str)], limit: u32) -> Vec<Value> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut query = form_urlencoded::Serializer::new(String::new());
        query.extend_pairs(filters).append_pair("limit", &limit.to_string());
        if let Some(c) = &cursor {
            query.append_pair("cursor", c);
        }
        let page = officer
            .send(Method::GET, &format!("{SEARCH}?{}", query.finish()), None)
            .await;
        assert_eq!(page.status, 200, "{:?}", page.body);
        let events = page.body["events"].as_array().unwrap();
        assert!(events.len() <= limit as usize);
        out.extend(events.iter().cloned());
        match page.body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return out,
        }
    }
}

fn seqs(events: &[Value]) -> Vec<i64> {
    events.iter().map(|e| e["seq"].as_i64().unwrap()).collect()
}

backend_test! {
    /// Citizens, counter officers, administrators and modules get 403 (or
    /// 401 without a session); a security officer gets the log.
    async fn only_security_officers_search_the_audit_log(backend) {
        let sandbox = Sandbox::new(backend).await;
        let app = sandbox.serve();
        let antrian = add_module(&sandbox, "antrian");
        let (_, citizen) = citizen_deciding(&app, "1971015507900002", "Siti Aminah", &[], "grant").await;
        let (counter, _) = officer_with_role(&sandbox, &app, "counter").await;
        let (admin, _) = officer_with_role(&sandbox, &app, "admin").await;
        let (security, _) = officer_with_role(&sandbox, &app, "security").await;
        for path in [SEARCH.to_owned(), format!("{SEARCH}?action=session.signin"), format!("{SEARCH}/1")] {
            for (who, browser) in [("citizen", &citizen), ("counter officer", &counter), ("administrator", &admin)] {
                let answer = browser.send(Method::GET, &path, None).await;
                assert_eq!((answer.status.as_u16(), answer.body["error"].as_str()), (403, Some("forbidden")), "{who} {path}");
            }
            let anonymous = app.get(&path).await;
            assert_eq!(anonymous.status(), 401, "{path}");
            let module = app.client.get(app.url(&path)).bearer_auth(&antrian).send().await.unwrap();
            assert_eq!(module.status(), 401, "a module has no session: {path}");
            let allowed = security.send(Method::GET, &path, None).await;
            assert_eq!(allowed.status, 200, "{path}: {:?}", allowed.body);
        }
        // Refused looks leave nothing to read: only the security officer's
        // searches and read are on the record.
        let log = newest_first(&sandbox).await;
        assert_eq!(log.iter().filter(|e| e.action == "audit.search").count(), 2);
        assert_eq!(log.iter().filter(|e| e.action == "audit.read").count(), 1);
    }
}

backend_test! {
    /// Every filter returns exactly what the log holds for it, newest
    /// first, across pages; an event's link gives its detail.
    async fn filters_return_exactly_the_matching_events(backend) {
        let sandbox = Sandbox::new(backend).await;
        let app = sandbox.serve();
        let antrian = add_module(&sandbox, "antrian");
        define_tickets(&app, &antrian).await;
        let (siti, _citizen) = citizen_deciding(&app, "1971015507900002", "Siti Aminah", &[], "grant").await;
        let (budi, _) = citizen_deciding(&app, "1971011203850001", "Budi Santoso", &[], "grant").await;
        let api = ModuleApi::new(&app, &antrian);
        // Siti's ticket is read (her case is open); Budi's is refused.
        open_case(&app, &antrian, &siti).await;
        for (who, n, read) in [(&siti, "A-001", 200), (&budi, "A-002", 403)] {
            let path = format!("/api/collections/antrian.ticket/records/{who}/t1");
            assert_eq!(api.write_at(&path, &[("queue_number", Some(n))]).await.0, 204);
            assert_eq!(api.read_at(&path, Some("antrian.call"), None).await.0, read);
        }
        let (security, me) = officer_with_role(&sandbox, &app, "security").await;
        let body = serde_json::json!({ "citizen": siti, "justification": "darurat", "minutes": 30 });
        let refused = security.send(Method::POST, "/api/break-glass", Some(serde_json::to_vec(&body).unwrap())).await;
        assert_eq!(refused.status, 403, "too short a justification is refused (and audited)");

        let log = newest_first(&sandbox).await;
        let expect = |keep: &dyn Fn(&jaga::store::audit::EventRow) -> bool| -> Vec<i64> {
            log.iter().filter(|e| keep(e)).map(|e| e.seq).collect()
        };
        let some_read = log.iter().find(|e| e.actor_kind == "module" && e.outcome == "success").unwrap();
        let request_id = log.iter().find_map(|e| e.request_id.clone()).unwrap();
        let cases: Vec<Case<'_>> = vec![
            ("module", vec![("module", "antrian")], expect(&|e| e.actor_kind == "module" && e.actor_id == "antrian")),
            ("citizen", vec![("citizen", &siti)],
                expect(&|e| e.target_id.as_deref() == Some(siti.as_str()) || (e.actor_kind == "citizen" && e.actor_id == siti))),
            ("action", vec![("action", some_read.action.as_str())], expect(&|e| e.action == some_read.action)),
            ("actor", vec![("actor_kind", "citizen"), ("actor", &budi)], expect(&|e| e.actor_kind == "citizen" && e.actor_id == budi)),
            ("module and citizen", vec![("module", "antrian"), ("citizen", &budi)],
                expect(&|e| e.actor_kind == "module" && e.actor_id == "antrian" && e.target_id.as_deref() == Some(budi.as_str()))),
            ("request id", vec![("request_id", &request_id)], expect(&|e| e.request_id.as_deref() == Some(request_id.as_str()))),
        ];
        for (what, filters, expected) in &cases {
            assert!(!expected.is_empty(), "{what}: the log holds something to find");
            let found = all_pages(&security, filters, 2).await;
            assert_eq!(&seqs(&found), expected, "{what}");
        }
        // Outcome: the refused break-glass; purpose: the module's reads.
        let denied = all_pages(&security, &[("outcome", "denied")], 5).await;
        let refusals = expect(&|e| e.outcome == "denied");
        assert!(!refusals.is_empty());
        assert_eq!(seqs(&denied), refusals);
        let purpose = all_pages(&security, &[("purpose", "antrian.call"), ("module", "antrian")], 5).await;
        assert_eq!(seqs(&purpose), expect(&|e| e.purpose.as_deref() == Some("antrian.call") && e.actor_id == "antrian"));
        assert!(!purpose.is_empty());

        // Time: a window that ends before the first event holds nothing; one
        // around everything holds the module's events.
        let none = all_pages(&security, &[("to", "2020-01-01T00:00:00Z")], 50).await;
        assert!(none.is_empty());
        let all = all_pages(&security, &[("from", "2020-01-01T00:00:00+07:00"), ("to", "2100-01-01T00:00:00Z"), ("module", "antrian")], 50).await;
        assert_eq!(seqs(&all), expect(&|e| e.actor_kind == "module" && e.actor_id == "antrian"));

        // The link of a result is its detail, and reading it is audited.
        let first = &all[0];
        let detail = security.send(Method::GET, first["link"].as_str().unwrap(), None).await;
        assert_eq!(detail.status, 200);
        assert_eq!(&detail.body, first);
        assert_eq!(security.send(Method::GET, &format!("{SEARCH}/999999"), None).await.status, 404);
        assert_eq!(security.send(Method::GET, &format!("{SEARCH}/abc"), None).await.status, 404);
        let after = newest_first(&sandbox).await;
        let reads: Vec<_> = after.iter().filter(|e| e.action == "audit.read" && e.actor_id == me).collect();
        assert_eq!(reads.len(), 2);
        assert_eq!(reads.iter().filter(|e| e.target_id.as_deref() == Some(&first["seq"].to_string())).count(), 1);
        // A search names the filters it used, never their values.
        let searches: Vec<_> = after.iter().filter(|e| e.action == "audit.search").collect();
        assert!(searches.iter().any(|e| e.target_fields == "citizen"));
        assert!(!searches.iter().any(|e| e.target_fields.contains(siti.as_str())));
    }
}

backend_test! {
    /// Paging while the log grows: every page request appends an event
    /// (the search is audited), yet the pages neither repeat nor skip.
    async fn pages_neither_repeat_nor_skip_while_the_log_grows(backend) {
        let sandbox = Sandbox::new(backend).await;
        let app = sandbox.serve();
        let (security, me) = officer_with_role(&sandbox, &app, "security").await;
        for _ in 0..7 {
            assert_eq!(security.send(Method::GET, &format!("{SEARCH}?limit=1"), None).await.status, 200);
        }
        let found = all_pages(&security, &[("action", "audit.search"), ("actor", &me)], 2).await;
        let seen = seqs(&found);
        let mut unique = seen.clone();
        unique.dedup();
        assert_eq!(unique, seen, "no event twice");
        // Everything there when paging began (the first page's newest event
        // and older) was shown; events appended meanwhile were not.
        let newest = seen[0];
        let log = newest_first(&sandbox).await;
        let all_searches: Vec<i64> = log.iter().filter(|e| e.action == "audit.search" && e.actor_id == me).map(|e| e.seq).collect();
        let expected: Vec<i64> = all_searches.iter().copied().filter(|s| *s <= newest).collect();
        assert_eq!(seen, expected);
        assert!(all_searches.len() > expected.len(), "the pages themselves were appended meanwhile");
    }
}

backend_test! {
    /// Bad filters are 400 with the one error shape.
    async fn bad_filters_are_refused(backend) {
        let sandbox = Sandbox::new(backend).await;
        let app = sandbox.serve();
        let (security, _) = officer_with_role(&sandbox, &app, "security").await;
        for query in ["limit=0", "limit=201", "limit=x", "from=yesterday", "from=2026-12-02T00:00:00Z&to=2026-12-01T00:00:00Z",
            "actor_kind=robot", "outcome=maybe", "cursor=bm9wZQ", "cursor=%%%", "colour=red", "action=a%20b"] {
            let answer = security.send(Method::GET, &format!("{SEARCH}?{query}"), None).await;
            assert_eq!(answer.status, 400, "{query}: {:?}", answer.body);
            assert!(answer.body["error"].is_string() && answer.body["message"].is_string(), "{query}: {:?}", answer.body);
        }
    }
}
