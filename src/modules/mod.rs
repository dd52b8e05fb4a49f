//! Service modules (antrian, perizinan, …): their API keys, the
//! collections they define, and the citizen records they keep in Jaga,
//! sealed under each citizen's data key.
//!
//! Until OpenID Connect lands, a module authenticates with an API key made
//! by `jaga modules add` (`jaga_mk_` + 256 random bits, base64url; shown
//! once, stored as SHA-256). A module reaches only its own collections.

pub mod access;
mod basis;
pub mod cases;
mod checks;
pub mod collection;
pub mod decide;
mod denied;
pub mod purpose;
mod reading;
pub mod records;
pub mod retention;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use zeroize::Zeroizing;

use crate::audit::{self, Actor, ActorKind, AuditError, Event, Outcome, Target};
use crate::ids::{self, RandomError};
use crate::store::modules::{self as stored, ModuleRow};
use crate::store::{Db, StoreError, Writer};
use crate::vault::VaultError;

/// What module records need: the database, the writer, the keys and the
/// policies that decide each read and write.
#[derive(Debug, Clone)]
pub struct Deps {
    pub db: Db,
    pub writer: Writer,
    pub keys: std::sync::Arc<crate::keys::KeyRing>,
    pub policies: crate::policy::Policies,
    /// Benchmarks only: reads skip the purpose, policy and consent checks.
    #[cfg(feature = "bench-internals")]
    pub bypass_checks: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl Deps {
    #[cfg(feature = "bench-internals")]
    fn checks_bypassed(&self) -> bool {
        self.bypass_checks.load(std::sync::atomic::Ordering::Relaxed)
    }

    #[cfg(not(feature = "bench-internals"))]
    #[expect(clippy::unused_self, reason = "the same call as with bench-internals")]
    fn checks_bypassed(&self) -> bool {
        false
    }
}

pub const KEY_PREFIX: &str = "jaga_mk_";
/// Most records one batch request may name.
pub const MAX_BATCH: usize = 100;

/// An authenticated (or just registered) module. Only this module's
/// functions make one: [`authenticate`] from an API key, [`add`].
#[derive(Debug, Clone)]
pub struct Module {
    id: String,
    name: String,
}

impl Module {
    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn actor(&self) -> Actor {
        Actor::new(ActorKind::Module, self.name.clone())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ModuleError {
    #[error("module name must be 2 to 32 lower-case letters, digits or underscores, starting with a letter")]
    Name,
    #[error("a module with this name already exists")]
    Exists,
    #[error("no such collection")]
    NoCollection,
    #[error("this collection belongs to another module")]
    OtherModule,
    #[error("{0}")]
    Definition(String),
    #[error("{0}")]
    Conflict(String),
    #[error("a purpose from the purpose catalog is required (an identifier such as antrian.call)")]
    Purpose,
    /// The purpose catalog or a policy does not allow this (403, audited
    /// with the ids of the policies that decided).
    #[error("{message}")]
    Refused {
        reason: decide::Refusal,
        message: String,
        policies: Vec<String>,
    },
    #[error("a batch names 1 to {MAX_BATCH} records")]
    Batch,
    #[error("{0}")]
    Invalid(String),
    #[error("no such citizen: {0}")]
    NoCitizen(String),
    #[error(transparent)]
    Random(#[from] RandomError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Vault(#[from] VaultError),
    #[error(transparent)]
    Audit(#[from] AuditError),
}

impl ModuleError {
    pub(crate) fn refused(reason: decide::Refusal, message: String) -> Self {
        ModuleError::Refused {
            reason,
            message,
            policies: Vec::new(),
        }
    }

    /// A stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            ModuleError::Name => "invalid_module_name",
            ModuleError::Exists => "module_exists",
            ModuleError::NoCollection => "no_collection",
            ModuleError::OtherModule => "forbidden",
            ModuleError::Definition(_) => "invalid_collection",
            ModuleError::Conflict(_) => "collection_conflict",
            ModuleError::Purpose => "purpose_required",
            ModuleError::Refused {
                reason: decide::Refusal::Restricted,
                ..
            } => "restricted",
            ModuleError::Refused { .. } => "purpose_not_allowed",
            ModuleError::Batch => "batch_size",
            ModuleError::Invalid(_) => "invalid_record",
            ModuleError::NoCitizen(_) => "no_citizen",
            _ => "internal",
        }
    }
}

/// `[a-z][a-z0-9_]{min-1..max-1}`
pub(crate) fn is_ident(s: &str, min: usize, max: usize) -> bool {
    (min..=max).contains(&s.len())
        && s.bytes().next().is_some_and(|b| b.is_ascii_lowercase())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

fn key_hash(key: &str) -> Vec<u8> {
    ids::sha256(key.as_bytes()).to_vec()
}

/// Registers a module; returns it and its API key (shown once). A revoked
/// module of the same name is registered again: it gets the new key and
/// keeps its collections and records.
pub async fn add(writer: &Writer, name: &str, operator: &str) -> Result<(Module, Zeroizing<String>), ModuleError> {
    add_client(writer, name, crate::store::clients::ClientUpdate::default(), operator).await
}

/// [`add`], registering the module as an OAuth client with `client` in the
/// same unit of work.
pub async fn add_client(
    writer: &Writer,
    name: &str,
    client: crate::store::clients::ClientUpdate,
    operator: &str,
) -> Result<(Module, Zeroizing<String>), ModuleError> {
    if !is_ident(name, 2, 32) {
        return Err(ModuleError::Name);
    }
    let key = Zeroizing::new(format!("{KEY_PREFIX}{}", B64URL.encode(ids::bytes::<32>()?)));
    let row = ModuleRow {
        module_id: format!("mod_{}", ids::base32(&ids::bytes::<10>()?)),
        name: name.to_owned(),
        key_hash: key_hash(&key),
        created_at: time::OffsetDateTime::now_utc().unix_timestamp(),
        revoked_at: None,
    };
    let event = Event::new(
        Actor::new(ActorKind::Operator, operator),
        "module.add",
        Target::new("module", Some(row.name.clone())),
        Outcome::Success,
    );
    let module = writer
        .write::<Module, ModuleError, _>(move |tx| {
            Box::pin(async move {
                let (id, event) = match stored::reactivate_module(tx, &row.name, &row.key_hash).await? {
                    Some(id) => (id, event.reason("registered_again")),
                    None => {
                        stored::insert_module(tx, &row).await.map_err(|e| match e {
                            StoreError::Conflict => ModuleError::Exists,
                            other => other.into(),
                        })?;
                        (row.module_id.clone(), event)
                    }
                };
                crate::store::clients::update_client(tx, &row.name, &client, row.created_at).await?;
                audit::record(tx, event).await?;
                Ok(Module { id, name: row.name })
            })
        })
        .await?;
    Ok((module, key))
}

/// Disables a module (its API key, client authentication and access
/// tokens are refused); returns false if there was no live module of that
/// name.
pub async fn revoke(writer: &Writer, name: &str, actor: Actor) -> Result<bool, ModuleError> {
    let name = name.to_owned();
    writer
        .write::<bool, ModuleError, _>(move |tx| {
            Box::pin(async move {
                let now = time::OffsetDateTime::now_utc().unix_timestamp();
                let done = stored::revoke_module(tx, &name, now).await?;
                if done {
                    let event = Event::new(
                        actor,
                        "module.revoke",
                        Target::new("module", Some(name)),
                        Outcome::Success,
                    );
                    audit::record(tx, event).await?;
                }
                Ok(done)
            })
        })
        .await
}

/// The live module holding `presented` as its API key, if any.
pub async fn authenticate(db: &Db, presented: &str) -> Result<Option<Module>, StoreError> {
    if !presented.starts_with(KEY_PREFIX) || presented.len() > 128 {
        return Ok(None);
    }
    Ok(stored::module_by_key_hash(db, &key_hash(presented))
        .await?
        .filter(|m| m.revoked_at.is_none())
        .map(|m| Module {
            id: m.module_id,
            name: m.name,
        }))
}

/// The live module an access token was issued to, unless the token was
/// revoked: looked up on every call, so a revocation or a disabled module
/// takes effect at once on every instance.
pub async fn authenticate_token(
    db: &Db,
    client_id: &str,
    jti: &str,
    issued_at: i64,
) -> Result<Option<Module>, StoreError> {
    Ok(crate::store::clients::token_holder(db, client_id, jti, issued_at)
        .await?
        .map(|id| Module {
            id,
            name: client_id.to_owned(),
        }))
}
