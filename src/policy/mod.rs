//! The written policies that decide what may be done with citizen
//! personal data. Today: the purpose catalog ([`catalog`]), loaded from
//! the policies folder at start and checked by `jaga policy check`.

pub mod catalog;
pub mod report;

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

pub use catalog::{Catalog, CatalogError, LawfulBasis, PurposeDef, Retention};

/// The policies in force, shared by every request. Readers take a cheap
/// snapshot ([`Policies::catalog`]); a reload replaces the whole set.
#[derive(Debug, Clone)]
pub struct Policies {
    dir: PathBuf,
    catalog: Arc<RwLock<Arc<Catalog>>>,
}

impl Policies {
    /// Loads and checks every policy in `dir`; any error refuses the set.
    pub fn load(dir: &Path) -> Result<Self, CatalogError> {
        Ok(Self::with(dir, Catalog::load(dir)?))
    }

    /// Policies made of an already checked catalog.
    pub fn with(dir: &Path, catalog: Catalog) -> Self {
        Self {
            dir: dir.to_owned(),
            catalog: Arc::new(RwLock::new(Arc::new(catalog))),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The catalog in force now.
    pub fn catalog(&self) -> Arc<Catalog> {
        match self.catalog.read() {
            Ok(c) => c.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }
}
