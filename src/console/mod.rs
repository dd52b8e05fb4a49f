//! The security officers' console: what only an active officer holding the
//! security role may do (the permit in [`permit`]), starting with the
//! audit search. Every use of it is itself audited.

pub mod admin;
pub mod alerts;
pub mod export;
pub mod incidents;
pub mod permit;
pub mod search;
