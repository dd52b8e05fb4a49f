//! Alerts for security officers: rules over the audit log
//! (`policies/alerts.toml`, [`crate::policy::alerts`]), raised by [`engine`] scans, shown
//! in the console and sent to a webhook with signed bodies, retries with
//! backoff, and dead letters an officer can send again ([`webhook`]).

pub mod engine;
pub mod webhook;
