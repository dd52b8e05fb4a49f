//! Jaga: identity, consent and personal-data protection for a regional
//! government's digital public services.
//!
//! Layers: [`http`] → domain modules ([`audit`], …) → [`store`].

pub mod account;
pub mod alerts;
pub mod app;
pub mod audit;
pub mod breakglass;
pub mod cli;
pub mod config;
pub mod consent;
pub mod console;
pub mod http;
pub mod identity;
pub mod ids;
pub mod keys;
pub mod modules;
pub mod note;
pub mod oauth;
pub mod passkeys;
pub mod policy;
pub mod profile;

pub mod ratelimit;
pub mod rights;
pub mod rotation;
pub mod sessions;
pub mod store;
pub mod telemetry;
pub mod transparency;
pub mod vault;
pub mod witness;
