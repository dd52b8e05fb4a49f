//! Fresh PostgreSQL databases for tests, on the server named by
//! JAGA_TEST_POSTGRES_URL (e.g. postgres://postgres@127.0.0.1:5432/postgres).

use sqlx::Connection as _;
use sqlx::postgres::PgConnection;

pub fn server_url() -> Option<String> {
    std::env::var("JAGA_TEST_POSTGRES_URL").ok().filter(|s| !s.is_empty())
}

/// `url` with its database name replaced.
pub fn with_database(url: &str, name: &str) -> String {
    let (base, query) = url.split_once('?').map_or((url, None), |(b, q)| (b, Some(q)));
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let host_part = match base[scheme_end..].find('/') {
        Some(i) => &base[..scheme_end + i],
        None => base,
    };
    match query {
        Some(q) => format!("{host_part}/{name}?{q}"),
        None => format!("{host_part}/{name}"),
    }
}

#[derive(Debug)]
pub struct Database {
    pub name: String,
    pub url: String,
    /// The server it lives on (where it is dropped).
    server: String,
}

pub async fn admin() -> PgConnection {
    admin_on(&server_url().expect("JAGA_TEST_POSTGRES_URL")).await
}

pub async fn admin_on(server: &str) -> PgConnection {
    PgConnection::connect(server)
        .await
        .expect("connect to the test PostgreSQL server")
}

fn random_name() -> String {
    let mut bytes = [0u8; 6];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes).unwrap();
    format!("jaga_test_{}", hex::encode(bytes))
}

impl Database {
    pub async fn create() -> Database {
        Self::create_from(None).await
    }

    /// A new database, optionally a copy of `template`.
    pub async fn create_from(template: Option<&str>) -> Database {
        Self::create_on(&server_url().expect("JAGA_TEST_POSTGRES_URL"), template).await
    }

    /// A new database on `server`, optionally a copy of `template`.
    pub async fn create_on(server: &str, template: Option<&str>) -> Database {
        let name = random_name();
        let mut conn = admin_on(server).await;
        let sql = match template {
            Some(t) => format!("create database {name} template {t}"),
            None => format!("create database {name}"),
        };
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
            .execute(&mut conn)
            .await
            .expect("create database");
        let url = with_database(server, &name);
        Database {
            name,
            url,
            server: server.to_owned(),
        }
    }

    /// Refuses new connections and ends the current ones.
    pub async fn cut_off(&self) {
        let mut conn = admin().await;
        let sql = format!("alter database {} allow_connections false", self.name);
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
            .execute(&mut conn)
            .await
            .unwrap();
        sqlx::query("select pg_terminate_backend(pid) from pg_stat_activity where datname = $1")
            .bind(&self.name)
            .execute(&mut conn)
            .await
            .unwrap();
    }

    /// Accepts connections again (after [`Database::cut_off`]).
    pub async fn reconnect(&self) {
        let mut conn = admin_on(&self.server).await;
        let sql = format!("alter database {} allow_connections true", self.name);
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
            .execute(&mut conn)
            .await
            .unwrap();
    }

    pub async fn drop(self) {
        let mut conn = admin_on(&self.server).await;
        let sql = format!("drop database if exists {} with (force)", self.name);
        let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).execute(&mut conn).await;
    }
}
