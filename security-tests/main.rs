//! Jaga's attack-minded integration suite. Each test spawns the real binary
//! (or drives the real library) against SQLite, and against PostgreSQL when
//! JAGA_TEST_POSTGRES_URL is set.

#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code fails loudly on purpose"
)]

mod accounts;
mod alerts;
mod audit_export;
mod audit_proof;
mod audit_tamper;
mod audit_tip;
mod break_glass;
mod break_glass_review;
mod browser;
mod cases;
mod citizen_view;
mod cli_config;
mod console_audit;
mod console_pages;
mod console_walk;
mod corrections;
mod counter_recovery;
mod csrf_walk;
mod erasure;
mod errors;
mod fail_closed;
mod failover;
mod group_commit;
mod guardians;
mod headers;
mod history;
mod incidents;
mod modules;
mod oauth;
mod oauth_clients;
mod oauth_logout;
mod oauth_mtls;
mod oauth_sign_in;
mod officer_admin;
mod passkey_attacks;
mod passkeys;
mod policies;
mod profile;
mod purposes;
mod ratelimits;
mod record_retention;
mod retention;
mod rights;
mod rotation;
mod scale_out;
mod serving;
mod support;
mod text_input;
mod transparency;
mod vault;
mod witness;
