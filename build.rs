//! Tells the integration tests whether a PostgreSQL server
//! (JAGA_TEST_POSTGRES_URL), a Redis server (JAGA_TEST_REDIS_URL) and the
//! replicated PostgreSQL of the failover test (JAGA_TEST_FAILOVER, made by
//! scripts/pg-replica.sh) are there, so that without one the tests that
//! need it show in `cargo test` output as ignored, with the reason,
//! instead of passing silently.

fn main() {
    // sqlx::migrate! embeds the migrations: a new file must rebuild.
    println!("cargo::rerun-if-changed=migrations");
    // (variable, cfg set when it is missing)
    for (var, cfg) in [
        ("JAGA_TEST_POSTGRES_URL", "jaga_no_postgres"),
        ("JAGA_TEST_REDIS_URL", "jaga_no_redis"),
        ("JAGA_TEST_FAILOVER", "jaga_no_failover"),
    ] {
        println!("cargo::rerun-if-env-changed={var}");
        println!("cargo::rustc-check-cfg=cfg({cfg})");
        if std::env::var_os(var).is_none_or(|v| v.is_empty()) {
            println!("cargo::rustc-cfg={cfg}");
        }
    }
}
