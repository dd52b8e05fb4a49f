//! Tells the integration tests whether a PostgreSQL server is configured
//! (JAGA_TEST_POSTGRES_URL), so that without one each test's PostgreSQL
//! variant shows in `cargo test` output as ignored, with the reason,
//! instead of passing silently.

fn main() {
    println!("cargo::rerun-if-env-changed=JAGA_TEST_POSTGRES_URL");
    println!("cargo::rustc-check-cfg=cfg(jaga_no_postgres)");
    if std::env::var_os("JAGA_TEST_POSTGRES_URL").is_none_or(|v| v.is_empty()) {
        println!("cargo::rustc-cfg=jaga_no_postgres");
    }
}
