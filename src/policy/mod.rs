//! The written policies that decide what may be done with citizen
//! personal data: the purpose catalog ([`catalog`], `purposes.toml`) and
//! the Cedar policies ([`rules`], `*.cedar` against `jaga.cedarschema`)
//! and the alert rules ([`alerts`], `alerts.toml`),
//! loaded from the policies folder at start, checked by `jaga policy
//! check`, and reloaded whole (or not at all) on SIGHUP and `jaga policy
//! reload`.

pub mod alerts;
pub mod catalog;
pub mod labels;
pub mod officers;
pub mod reload;
pub mod report;
pub mod rules;

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

pub use catalog::{Catalog, CatalogError, LawfulBasis, PurposeDef, Retention};
pub use rules::{FieldAction, FieldFacts, OfficerAction, Principal, Rules, Verdict};

/// One consistent set of policies: a request decides with one snapshot.
#[derive(Debug)]
pub struct Snapshot {
    pub catalog: Catalog,
    pub rules: Rules,
    /// The alert rules (`alerts.toml`).
    pub alerts: alerts::AlertRules,
}

impl Snapshot {
    /// Reads and checks every policy in `dir`; any error refuses the set.
    pub fn load(dir: &Path) -> Result<Self, CatalogError> {
        Ok(Self {
            catalog: Catalog::load(dir)?,
            rules: Rules::load(dir)?,
            alerts: alerts::AlertRules::load(dir)?,
        })
    }
}

/// The policies in force, shared by every request. Readers take a cheap
/// snapshot ([`Policies::current`]); a reload replaces the whole set.
#[derive(Debug, Clone)]
pub struct Policies {
    dir: PathBuf,
    current: Arc<RwLock<Arc<Snapshot>>>,
}

impl Policies {
    /// Loads and checks every policy in `dir`; any error refuses the set.
    pub fn load(dir: &Path) -> Result<Self, CatalogError> {
        Ok(Self::with(dir, Snapshot::load(dir)?))
    }

    /// Policies made of an already checked set.
    pub fn with(dir: &Path, snapshot: Snapshot) -> Self {
        Self {
            dir: dir.to_owned(),
            current: Arc::new(RwLock::new(Arc::new(snapshot))),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The policies in force now.
    pub fn current(&self) -> Arc<Snapshot> {
        match self.current.read() {
            Ok(c) => c.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Reads the folder again and puts the new set in force only if all of
    /// it checks; otherwise the set in force stays and the error is returned.
    pub fn reload(&self) -> Result<Arc<Snapshot>, CatalogError> {
        let fresh = Arc::new(Snapshot::load(&self.dir)?);
        match self.current.write() {
            Ok(mut c) => *c = fresh.clone(),
            Err(poisoned) => *poisoned.into_inner() = fresh.clone(),
        }
        Ok(fresh)
    }
}
