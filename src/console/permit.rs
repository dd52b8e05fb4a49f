//! The security officer's permit.

use crate::account::{AccountKind, Role, Status};
use crate::audit::{Actor, ActorKind};
use crate::sessions::SignedIn;
use crate::store::identity::{self as stored, AccountRow};
use crate::store::{Db, StoreError};

/// Proof that the caller is an active officer holding the security role:
/// the console's functions take it, so code without the role check cannot
/// call them. Only [`SecurityOfficer::load`] makes one, from the roles it
/// reads itself.
#[derive(Debug, Clone)]
pub struct SecurityOfficer {
    account: AccountRow,
}

/// The signed-in account, if the store says it is an active officer
/// holding `role`.
async fn holding(db: &Db, who: &SignedIn, role: Role) -> Result<Option<AccountRow>, StoreError> {
    let account = who.account();
    if account.kind != AccountKind::Officer || account.status != Status::Active {
        return Ok(None);
    }
    let held = stored::roles(db, &account.account_id)
        .await?
        .iter()
        .any(|r| Role::parse(r) == Some(role));
    Ok(held.then(|| account.clone()))
}

impl SecurityOfficer {
    /// The permit of the signed-in officer, if the store says that officer
    /// is active and holds the security role.
    pub async fn load(db: &Db, who: &SignedIn) -> Result<Option<Self>, StoreError> {
        Ok(holding(db, who, Role::Security).await?.map(|account| Self { account }))
    }

    pub fn account_id(&self) -> &str {
        &self.account.account_id
    }

    pub fn actor(&self) -> Actor {
        Actor::new(ActorKind::Officer, self.account.pseudonym.clone())
    }
}

/// Proof that the caller is an active officer holding the administrator
/// role: officer and module administration take it. An administrator
/// manages accounts and modules and reads no citizen's personal data.
#[derive(Debug, Clone)]
pub struct Administrator {
    account: AccountRow,
}

impl Administrator {
    pub async fn load(db: &Db, who: &SignedIn) -> Result<Option<Self>, StoreError> {
        Ok(holding(db, who, Role::Admin).await?.map(|account| Self { account }))
    }

    pub fn actor(&self) -> Actor {
        Actor::new(ActorKind::Officer, self.account.pseudonym.clone())
    }

    pub fn pseudonym(&self) -> &str {
        &self.account.pseudonym
    }
}
