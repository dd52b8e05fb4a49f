//! Witnesses of the audit log (C2SP tlog-witness and tlog-cosignature).
//!
//! A witness keeps, for each log, the latest checkpoint it cosigned, and
//! cosigns a new one only when a consistency proof shows that it extends
//! that one. A database administrator who rewrites the log's history, even
//! with the signing key and the checkpoint copy beside it, cannot get a
//! witness to cosign it: the witness refuses, and Jaga says so.
//!
//! - [`state`]: the witness itself (`jaga witness serve`);
//! - [`push`]: Jaga sending its checkpoints to the witnesses configured;
//! - [`folder`]: a folder as a witness (a copy of the latest checkpoint on
//!   storage the database's administrators cannot write).

pub mod cosignature;
pub mod folder;
pub mod push;
pub mod request;
pub mod state;
