//! The vault over a real database: only ciphertext at rest, reads and
//! writes audited in the same unit, erasure by destroying the data key.

use jaga::audit::{self, Actor, ActorKind, Event, Outcome, Target};
use jaga::store::identity::AccountRow;
use jaga::vault::{VaultError, citizen};

use crate::support::backend_test;
use crate::support::modules::ModuleApi;
use crate::support::{Backend, Lib, Sandbox};

const CANARIES: [(&str, &str); 3] = [
    ("profile.full_name", "Kanari Canarysdottir"),
    ("profile.phone", "+6281299887766"),
    ("profile.email", "kanari.canary@contoh.go.id"),
];

async fn citizen_account(lib: &Lib) -> String {
    let row = AccountRow {
        account_id: jaga::identity::AccountId::generate().unwrap().as_str().to_owned(),
        kind: jaga::account::AccountKind::Citizen,
        user_handle: jaga::identity::UserHandle::generate().unwrap().0.to_vec(),
        pseudonym: "ctz_vaulttest".into(),
        status: jaga::account::Status::Active,
        verified: true,
        flag: None,
        display_name: "-".into(),
        nik: None,
        nik_index: None,
        unit: None,
        created_at: 0,
        updated_at: 0,
    };
    let id = row.account_id.clone();
    lib.writer
        .write::<(), jaga::store::StoreError, _>(move |tx| {
            Box::pin(async move { jaga::store::identity::insert_account(tx, &row).await })
        })
        .await
        .unwrap();
    id
}

fn event(action: &'static str, fields: &[&str]) -> Event {
    Event::new(
        Actor::new(ActorKind::Citizen, "ctz_vaulttest"),
        action,
        Target::new("citizen", Some("ctz_vaulttest".into())).with_fields(fields.iter().map(|f| f.to_string())),
        Outcome::Success,
    )
    .purpose("profile.self_service")
}

#[derive(Debug, thiserror::Error)]
enum UnitError {
    #[error(transparent)]
    Vault(VaultError),
    #[error(transparent)]
    Audit(audit::AuditError),
}

impl From<jaga::store::StoreError> for UnitError {
    fn from(e: jaga::store::StoreError) -> Self {
        UnitError::Vault(VaultError::Store(e))
    }
}

async fn write_all(lib: &Lib, account: &str) {
    let keys = lib.keys.clone();
    let account = account.to_owned();
    lib.writer
        .write::<(), UnitError, _>(move |tx| {
            Box::pin(async move {
                for (field, value) in CANARIES {
                    citizen::write(tx, &keys.vault, &account, field, value.as_bytes(), 1)
                        .await
                        .map_err(UnitError::Vault)?;
                }
                let names: Vec<&str> = CANARIES.iter().map(|(f, _)| *f).collect();
                audit::record(tx, event("vault.write", &names))
                    .await
                    .map_err(UnitError::Audit)
            })
        })
        .await
        .unwrap();
}

async fn read(lib: &Lib, account: &str, field: &'static str) -> Result<Option<String>, VaultError> {
    let keys = lib.keys.clone();
    let account = account.to_owned();
    lib.writer
        .write::<Option<String>, UnitError, _>(move |tx| {
            Box::pin(async move {
                let value = citizen::read(tx, &keys.vault, &account, field)
                    .await
                    .map_err(UnitError::Vault)?;
                audit::record(tx, event("vault.read", &[field]))
                    .await
                    .map_err(UnitError::Audit)?;
                Ok(value.map(|v| String::from_utf8_lossy(&v).into_owned()))
            })
        })
        .await
        .map_err(|e| match e {
            UnitError::Vault(v) => v,
            UnitError::Audit(a) => panic!("{a}"),
        })
}

backend_test! {
    async fn fields_round_trip_and_only_ciphertext_is_stored(backend) {
        let sandbox = Sandbox::new(backend).await;
        let lib = Lib::open(&sandbox).await;
        let account = citizen_account(&lib).await;
        write_all(&lib, &account).await;
        for (field, value) in CANARIES {
            assert_eq!(
                read(&lib, &account, field).await.unwrap().as_deref(),
                Some(value),
                "{backend:?}"
            );
        }
        // A second write bumps the record version; the value still reads.
        write_all(&lib, &account).await;
        assert_eq!(
            read(&lib, &account, "profile.phone").await.unwrap().as_deref(),
            Some("+6281299887766")
        );
        // (The audit events of the product's reads and writes are checked
        // where the product writes them: profile.rs, modules.rs.)
        lib.close().await;
        let dump = match backend {
            Backend::Sqlite => {
                let mut bytes = std::fs::read(sandbox.dir.path().join("jaga.db")).unwrap();
                if let Ok(wal) = std::fs::read(sandbox.dir.path().join("jaga.db-wal")) {
                    bytes.extend(wal);
                }
                bytes
            }
            Backend::Postgres => {
                let out = std::process::Command::new("pg_dump")
                    .arg(&sandbox.db_url)
                    .output()
                    .expect("pg_dump");
                assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
                out.stdout
            }
        };
        assert!(dump.len() > 1000, "{backend:?}: dump too small");
        for (_, canary) in CANARIES {
            let hit = dump.windows(canary.len()).any(|w| w == canary.as_bytes());
            assert!(!hit, "{backend:?}: {canary} found in the raw database");
        }
        sandbox.drop_database().await;
    }
}

backend_test! {
    async fn an_erased_citizen_is_unreadable(backend) {
        let sandbox = Sandbox::new(backend).await;
        let lib = Lib::open(&sandbox).await;
        let account = citizen_account(&lib).await;
        write_all(&lib, &account).await;
        let erasing = account.clone();
        lib.writer
            .write::<(), VaultError, _>(move |tx| Box::pin(async move { citizen::erase(tx, &erasing).await }))
            .await
            .unwrap();
        // The sealed fields are still there (as in any backup), but nothing opens them.
        for (field, _) in CANARIES {
            assert!(
                matches!(read(&lib, &account, field).await, Err(VaultError::Undecryptable(_))),
                "{backend:?}"
            );
        }
        lib.close().await;
        sandbox.drop_database().await;
    }
}

fn raw_database(sandbox: &Sandbox) -> Vec<u8> {
    match sandbox.backend {
        Backend::Sqlite => {
            let mut bytes = std::fs::read(sandbox.dir.path().join("jaga.db")).unwrap();
            if let Ok(wal) = std::fs::read(sandbox.dir.path().join("jaga.db-wal")) {
                bytes.extend(wal);
            }
            bytes
        }
        Backend::Postgres => {
            let out = std::process::Command::new("pg_dump")
                .arg(&sandbox.db_url)
                .output()
                .expect("pg_dump");
            assert!(out.status.success());
            out.stdout
        }
    }
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle.as_bytes())
}

backend_test! {
    async fn enrolment_leaves_no_nik_or_name_in_the_database(backend) {
        let sandbox = Sandbox::new(backend).await;
        let app = sandbox.serve();
        let mut phone = crate::support::browser::Browser::new(&app);
        assert_eq!(
            phone.enrol("3171015207990007", "Kanari Canarysdottir").await.status,
            201
        );
        let (status, _) = app.stop();
        assert!(status.success());
        let raw = raw_database(&sandbox);
        for canary in ["3171015207990007", "Kanari", "Canarysdottir"] {
            assert!(!contains(&raw, canary), "{backend:?}: {canary} in the database");
        }
        sandbox.drop_database().await;
    }
}

backend_test! {
    async fn plaintext_from_before_the_vault_is_moved_and_erased_at_start(backend) {
        let sandbox = Sandbox::new(backend).await;
        let lib = Lib::open(&sandbox).await;
        let row_account = citizen_account(&lib).await;
        lib.close().await;
        // An account as the pre-vault version stored it.
        let sql = format!(
            "update account set nik = '3171015207990007', display_name = 'Kanari Canarysdottir' where account_id = '{row_account}'"
        );
        {
            use sqlx::Connection as _;
            match backend {
                Backend::Sqlite => {
                    let url = format!("sqlite://{}", sandbox.dir.path().join("jaga.db").display());
                    let mut c = sqlx::SqliteConnection::connect(&url).await.unwrap();
                    sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).execute(&mut c).await.unwrap();
                }
                Backend::Postgres => {
                    let mut c = sqlx::PgConnection::connect(&sandbox.db_url).await.unwrap();
                    sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).execute(&mut c).await.unwrap();
                }
            }
        }
        let app = sandbox.serve();
        assert!(app.stop().0.success());
        let raw = raw_database(&sandbox);
        for canary in ["3171015207990007", "Canarysdottir"] {
            assert!(!contains(&raw, canary), "{backend:?}: {canary} left in plaintext");
        }
        let lib = Lib::open(&sandbox).await;
        let nik = read(&lib, &row_account, jaga::identity::personal::NIK_FIELD)
            .await
            .unwrap();
        assert_eq!(nik.as_deref(), Some("3171015207990007"));
        let events = jaga::store::audit::events_from(&lib.db, 0, 100).await.unwrap();
        assert!(events.iter().any(|e| e.action == "vault.migrate"));
        lib.close().await;
        sandbox.drop_database().await;
    }
}

backend_test! {
    async fn an_unfinished_self_enrolment_leaves_no_nik_or_name_in_the_database(backend) {
        let sandbox = Sandbox::new(backend).await;
        let app = sandbox.serve();
        let phone = crate::support::browser::Browser::new(&app);
        let started = phone.enrol_start("3171015207990007", "Kanari Canarysdottir").await;
        assert_eq!(started.status, 200);
        assert!(app.stop().0.success());
        let raw = raw_database(&sandbox);
        for canary in ["3171015207990007", "Kanari", "Canarysdottir"] {
            assert!(!contains(&raw, canary), "{backend:?}: {canary} in the pending ceremony");
        }
        sandbox.drop_database().await;
    }
}

backend_test! {
    /// Every profile field and a module's values, written through the HTTP API
    /// with recognisable canaries (none of which can occur in hex or base64
    /// by chance), read back through the API, then searched for in the raw
    /// database (SQLite file and WAL, or `pg_dump`) and in the captured logs.
    async fn canaries_in_every_field_reach_neither_the_database_nor_the_logs(backend) {
        use reqwest::Method;
        use serde_json::json;
        const NIK: &str = "3171015207990007";
        const KK: &str = "3171010101990009";
        let canaries = [
            NIK,
            KK,
            "Kanari",
            "Canarysdottir",
            "Kotakanari",
            "1937-03-29",
            "+6281299887766",
            "kanari.canary@",
            "Jalan Kenari Zebra",
            "Kelkanari",
            "Keckanari",
            "Provkanari",
            "Kanari-rahasia-medis",
            "Antrian-Kanari",
        ];

        let sandbox = Sandbox::new(backend).await;
        let app = sandbox.serve();
        let mut citizen = crate::support::browser::Browser::new(&app);
        let pseudonym = citizen.enrol(NIK, "Kanari Canarysdottir").await.body["account"]
            .as_str()
            .unwrap()
            .to_owned();
        citizen.me().await;
        let contact = json!({
            "phone": "081299887766",
            "email": "kanari.canary@example.go.id",
            "address": {
                "street": "Jalan Kenari Zebra 7", "rt_rw": "001/002", "kelurahan": "Kelkanari",
                "kecamatan": "Keckanari", "kabupaten_kota": "Kota Pangkalpinang", "province": "Provkanari",
                "postal_code": "33135"
            }
        });
        let patched = citizen
            .send(
                Method::PATCH,
                "/api/profile",
                Some(serde_json::to_vec(&contact).unwrap()),
            )
            .await;
        assert_eq!(patched.status, 204, "{:?}", patched.body);
        let officer = crate::accounts::counter_officer(&sandbox, &app).await;
        let identity =
            json!({ "kk": KK, "birth_place": "Kotakanari", "birth_date": "1937-03-29", "gender": "perempuan" });
        let set = officer
            .send(
                Method::PUT,
                &format!("/api/counter/citizens/{pseudonym}/identity"),
                Some(serde_json::to_vec(&identity).unwrap()),
            )
            .await;
        assert_eq!(set.status, 200, "{:?}", set.body);
        crate::support::modules::decide(&citizen, "antrian.priority", "grant").await;
        let key = crate::support::modules::add_module(&sandbox, "antrian");
        crate::support::modules::define_tickets(&app, &key).await;
        let path = format!("/api/collections/antrian.ticket/records/{pseudonym}/k1");
        let values = json!({ "purpose": "antrian.priority", "values": { "queue_number": "Antrian-Kanari", "health_note": "Kanari-rahasia-medis" } });
        let (status, _) = crate::support::modules::call(&app, &key, Method::PUT, &path, Some(values)).await;
        assert_eq!(status, 204);
        // Everything reads back in plain for those entitled to it.
        let own = citizen.send(Method::GET, "/api/profile", None).await;
        for (field, value) in [("kk", KK), ("birth_place", "Kotakanari"), ("phone", "+6281299887766")] {
            assert_eq!(own.body[field], value);
        }
        let (status, body) =
            ModuleApi::new(&app, &key).read_at(&path, Some("antrian.priority"), None).await;
        assert_eq!(status, 200);
        assert_eq!(body["values"]["health_note"], "Kanari-rahasia-medis");

        let (status, logs) = app.stop();
        assert!(status.success());
        let raw = raw_database(&sandbox);
        for canary in canaries {
            assert!(!contains(&raw, canary), "{backend:?}: {canary} in the database");
            assert!(!logs.contains(canary), "{backend:?}: {canary} in the logs");
        }
        sandbox.drop_database().await;
    }
}

backend_test! {
    /// A citizen enrolled at the counter who has not used the code yet: NIK
    /// and name are sealed from the start, in the account and in the code.
    async fn a_counter_enrolment_waiting_for_its_code_leaves_no_nik_or_name_in_the_database(backend) {
        let sandbox = Sandbox::new(backend).await;
        let app = sandbox.serve();
        let officer = crate::accounts::counter_officer(&sandbox, &app).await;
        let issued = officer
            .post_json(
                "/api/counter/enrol",
                &serde_json::json!({ "nik": "3171015207990007", "name": "Kanari Canarysdottir" }),
            )
            .await;
        assert_eq!(issued.status, 200, "{:?}", issued.body);
        drop(officer);
        let (status, _) = app.stop();
        assert!(status.success());
        let raw = raw_database(&sandbox);
        assert!(raw.len() > 1000);
        for canary in ["3171015207990007", "Kanari", "Canarysdottir"] {
            assert!(!contains(&raw, canary), "{backend:?}: {canary} at rest");
        }
    }
}
