//! Whether a purpose's lawful basis holds for each citizen now (UU PDP
//! Art. 20): consent needs a grant in force; a withdrawable purpose stops
//! on refusal or withdrawal; a contract or a public task needs an open case
//! with the module.

use std::collections::HashMap;

use super::{Deps, Module, ModuleError};
use crate::consent;
use crate::policy::{LawfulBasis, PurposeDef};
use crate::store::cases;

/// The citizens (account ids) of `accounts` for whom processing for `def`
/// by `module` must not go on, with the reason code (`no_consent`,
/// `restricted`, `no_open_case`).
pub async fn blocked(
    deps: &Deps,
    module: &Module,
    def: &PurposeDef,
    accounts: &[&str],
) -> Result<HashMap<String, &'static str>, ModuleError> {
    // Both lookups at once: they are independent reads.
    let needs_case = matches!(def.lawful_basis, LawfulBasis::Contract | LawfulBasis::PublicTask);
    let (decided, open) = tokio::join!(consent::blocked_among(&deps.db, def, accounts), async {
        if needs_case {
            cases::with_open_case(&deps.db, module.id(), accounts).await.map(Some)
        } else {
            Ok(None)
        }
    });
    let mut out: HashMap<String, &'static str> = decided?
        .into_iter()
        .map(|(account, why)| (account, why.code()))
        .collect();
    if let Some(open) = open? {
        for account in accounts {
            if !open.iter().any(|a| a == account) {
                out.entry((*account).to_owned()).or_insert("no_open_case");
            }
        }
    }
    Ok(out)
}
