//! Consent and restriction (UU PDP Art. 9, 11, 20-24, 40): a citizen
//! grants, refuses or withdraws each purpose of the catalog that lets them.
//! Decisions are appended, never changed; the newest is in force and is
//! checked on every module read, so a withdrawal stops processing from the
//! next request.
//!
//! A purpose based on consent needs a grant in force. A purpose on another
//! basis that the catalog marks withdrawable (restriction, Art. 11) runs
//! until the citizen refuses or withdraws it.

pub mod guardian;
pub mod receipt;

use std::collections::HashMap;
use std::sync::Arc;

use serde::Serialize;

use crate::audit::{self, Actor, ActorKind, AuditError, Context, Event, Outcome, Target};
use crate::policy::{LawfulBasis, Policies, PurposeDef};
use crate::sessions::OwnData;
use crate::store::consent::{self as stored, ConsentRow};
use crate::store::identity::AccountRow;
use crate::store::{Db, StoreError, Writer};

/// What consent decisions need.
#[derive(Debug, Clone)]
pub struct Deps {
    pub db: Db,
    pub writer: Writer,
    /// Opens the NIK, for the age check of children (Art. 25).
    pub keys: Arc<crate::keys::KeyRing>,
    pub policies: Policies,
    /// Signs the receipts.
    pub receipts: Arc<crate::keys::ReceiptKey>,
    /// Names this Jaga in receipts (`iss`): the audit log's origin.
    pub issuer: String,
}

/// A citizen's decision on a purpose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Grant,
    Refuse,
    Withdraw,
}

impl Decision {
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Grant => "grant",
            Decision::Refuse => "refuse",
            Decision::Withdraw => "withdraw",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        match s {
            "grant" => Some(Decision::Grant),
            "refuse" => Some(Decision::Refuse),
            "withdraw" => Some(Decision::Withdraw),
            _ => None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConsentError {
    #[error("no such purpose in the catalog")]
    NoPurpose,
    #[error("this purpose does not depend on your consent and cannot be refused or withdrawn")]
    NotWithdrawable,
    #[error("no decision on this purpose yet")]
    NoDecision,
    /// A citizen under 18 grants consent through their guardian.
    #[error("a citizen under 18 cannot grant consent alone")]
    GuardianRequired,
    #[error("not a ward of this citizen")]
    NoWard,
    /// The ward is 18 or older: the link has lapsed.
    #[error("the ward is 18 or older and decides alone")]
    LinkLapsed,
    #[error("the child is not under 18")]
    NotAChild,
    #[error("the guardian is under 18")]
    GuardianNotAdult,
    /// The child's and the guardian's family cards (KK) on record differ,
    /// or one is missing.
    #[error("the family cards on record do not match")]
    KkMismatch,
    #[error("no account holds this NIK")]
    NoCitizen,
    #[error("a stored value does not open")]
    Undecryptable,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Audit(#[from] AuditError),
}

/// Why processing for a purpose may not go on for a citizen now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Blocked {
    /// Based on consent, and no grant is in force.
    NoConsent,
    /// Refused or withdrawn by the citizen (restriction).
    Restricted,
}

impl Blocked {
    pub fn code(self) -> &'static str {
        match self {
            Blocked::NoConsent => "no_consent",
            Blocked::Restricted => "restricted",
        }
    }
}

/// Whether `decision` (the newest, if any) lets processing for `def` go on.
pub fn blocked(def: &PurposeDef, decision: Option<Decision>) -> Option<Blocked> {
    match (def.lawful_basis, decision) {
        (LawfulBasis::Consent, Some(Decision::Grant)) => None,
        (LawfulBasis::Consent, _) => Some(Blocked::NoConsent),
        (_, Some(Decision::Refuse | Decision::Withdraw)) if def.withdrawable => Some(Blocked::Restricted),
        _ => None,
    }
}

/// For each of `accounts` that may not be processed for `def` now, why.
/// One query, and none for purposes no decision can stop.
pub async fn blocked_among(
    db: &Db,
    def: &PurposeDef,
    accounts: &[&str],
) -> Result<HashMap<String, Blocked>, StoreError> {
    if def.lawful_basis != LawfulBasis::Consent && !def.withdrawable {
        return Ok(HashMap::new());
    }
    let decided: HashMap<String, Option<Decision>> = stored::current(db, &def.id, accounts)
        .await?
        .into_iter()
        .map(|row| (row.account_id, Decision::parse(&row.decision)))
        .collect();
    Ok(accounts
        .iter()
        .filter_map(|a| {
            let decision = decided.get(*a).copied().flatten();
            blocked(def, decision).map(|b| ((*a).to_owned(), b))
        })
        .collect())
}

/// Which of `accounts` refused, withdrew or restricted `def` (their newest
/// decision), where the catalog lets them: no new data may be collected
/// about them for it (UU PDP Art. 9, 40). A citizen who has not decided is
/// not among them (reads still need a consent in force).
pub async fn refused_among(db: &Db, def: &PurposeDef, accounts: &[&str]) -> Result<Vec<String>, StoreError> {
    if def.lawful_basis != LawfulBasis::Consent && !def.withdrawable {
        return Ok(Vec::new());
    }
    Ok(stored::current(db, &def.id, accounts)
        .await?
        .into_iter()
        .filter(|row| {
            matches!(
                Decision::parse(&row.decision),
                Some(Decision::Refuse | Decision::Withdraw)
            )
        })
        .map(|row| row.account_id)
        .collect())
}

/// A purpose as the citizen sees it, with their decision in force.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ConsentView {
    pub purpose: String,
    /// Bahasa Indonesia
    pub name_id: String,
    pub name_en: String,
    pub description_id: String,
    pub description_en: String,
    pub controller: String,
    /// UU PDP Art. 20(2): consent, contract, legal_obligation, …
    pub lawful_basis: &'static str,
    /// The decision in force (`null`: none yet).
    pub decision: Option<Decision>,
    /// Unix seconds of that decision.
    pub decided_at: Option<i64>,
    /// Whether processing goes on now.
    pub in_force: bool,
    pub notice_version: String,
}

fn view(def: &PurposeDef, newest: Option<&ConsentRow>) -> ConsentView {
    let decision = newest.and_then(|r| Decision::parse(&r.decision));
    ConsentView {
        purpose: def.id.clone(),
        name_id: def.name.id.clone(),
        name_en: def.name.en.clone(),
        description_id: def.description.id.clone(),
        description_en: def.description.en.clone(),
        controller: def.controller.clone(),
        lawful_basis: def.lawful_basis.as_str(),
        decision,
        decided_at: newest.map(|r| r.decided_at),
        in_force: blocked(def, decision).is_none(),
        notice_version: def.notice_version.clone(),
    }
}

/// Every purpose the citizen may decide on, with their decision in force.
pub async fn list(deps: &Deps, owner: &OwnData) -> Result<Vec<ConsentView>, ConsentError> {
    let history = stored::history(&deps.db, &owner.account().account_id).await?;
    let policies = deps.policies.current();
    let catalog = &policies.catalog;
    Ok(catalog
        .purposes()
        .filter(|p| p.withdrawable)
        .map(|p| view(p, history.iter().rev().find(|r| r.purpose_id == p.id)))
        .collect())
}

/// Records the citizen's own decision on `purpose` (from the portal), with
/// its audit event, in one transaction. A citizen under 18 cannot grant
/// consent alone (their guardian does); refusing and withdrawing stay
/// theirs.
pub async fn decide(
    deps: &Deps,
    owner: &OwnData,
    purpose: &str,
    decision: Decision,
    ctx: &Context,
) -> Result<ConsentView, ConsentError> {
    if guardian::grant_needs_guardian(deps, owner.account(), decision).await? {
        return Err(ConsentError::GuardianRequired);
    }
    record(deps, owner.account(), owner.account(), "portal", purpose, decision, ctx).await
}

/// Appends `subject`'s decision on `purpose`, recorded by `recorder` with
/// `method` (`portal`, `guardian`), and its audit event, in one
/// transaction.
pub(crate) async fn record(
    deps: &Deps,
    subject: &AccountRow,
    recorder: &AccountRow,
    method: &str,
    purpose: &str,
    decision: Decision,
    ctx: &Context,
) -> Result<ConsentView, ConsentError> {
    let policies = deps.policies.current();
    let catalog = &policies.catalog;
    let def = catalog.get(purpose).ok_or(ConsentError::NoPurpose)?.clone();
    if !def.withdrawable {
        return Err(ConsentError::NotWithdrawable);
    }
    let account = subject.clone();
    let row = ConsentRow {
        account_id: account.account_id.clone(),
        purpose_id: def.id.clone(),
        seq: 0,
        decision: decision.as_str().to_owned(),
        notice_version: def.notice_version.clone(),
        method: method.to_owned(),
        recorded_by: recorder.account_id.clone(),
        decided_at: time::OffsetDateTime::now_utc().unix_timestamp(),
    };
    let mut event = Event::new(
        Actor::new(ActorKind::Citizen, recorder.pseudonym.clone()),
        match decision {
            Decision::Grant => "consent.grant",
            Decision::Refuse => "consent.refuse",
            Decision::Withdraw => "consent.withdraw",
        },
        Target::new("citizen", Some(account.pseudonym.clone())),
        Outcome::Success,
    )
    .purpose(def.id.clone())
    .within(ctx);
    if method == "guardian" {
        event = event.reason("guardian");
    }
    let stored_row = row.clone();
    // A refusal or withdrawal also ends the modules' sign-ins it backed:
    // their refresh tokens and access tokens stop working at once.
    let stops = decision != Decision::Grant;
    let seq = deps
        .writer
        .write::<i64, ConsentError, _>(move |tx| {
            Box::pin(async move {
                let seq = stored::insert(tx, &stored_row).await?;
                if stops {
                    let whose = crate::store::oauth_flow::Whose::Purpose {
                        account: &stored_row.account_id,
                        purpose: &stored_row.purpose_id,
                    };
                    crate::store::oauth_flow::revoke_grants(tx, whose, "consent_withdrawn", stored_row.decided_at)
                        .await?;
                }
                audit::record(tx, event).await?;
                Ok(seq)
            })
        })
        .await?;
    Ok(view(&def, Some(&ConsentRow { seq, ..row })))
}

/// One signed receipt, as the citizen downloads it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReceiptOut {
    pub seq: i64,
    pub decision: Decision,
    /// Unix seconds.
    pub decided_at: i64,
    /// Compact JWS (EdDSA, Ed25519); verify with `/.well-known/jaga-consent-keys`.
    pub receipt: String,
    /// The receipt's payload, decoded, for reading.
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
}

/// The signed receipts of every decision of the citizen on `purpose`,
/// oldest first.
pub async fn receipts(deps: &Deps, owner: &OwnData, purpose: &str) -> Result<Vec<ReceiptOut>, ConsentError> {
    let account = owner.account();
    let policies = deps.policies.current();
    let catalog = &policies.catalog;
    let def = catalog.get(purpose);
    let rows: Vec<ConsentRow> = stored::history(&deps.db, &account.account_id)
        .await?
        .into_iter()
        .filter(|r| r.purpose_id == purpose)
        .collect();
    if rows.is_empty() {
        return Err(if def.is_some() {
            ConsentError::NoDecision
        } else {
            ConsentError::NoPurpose
        });
    }
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        // Decisions from the portal are the citizen's own; others name
        // the officer or guardian who recorded them.
        let recorder = if row.recorded_by == account.account_id {
            account.pseudonym.clone()
        } else {
            crate::store::identity::account_by_id(&deps.db, &row.recorded_by)
                .await?
                .map(|a| a.pseudonym)
                .unwrap_or_default()
        };
        let payload = receipt::payload(&deps.issuer, &row, def, &account.pseudonym, &recorder);
        out.push(ReceiptOut {
            seq: row.seq,
            decision: Decision::parse(&row.decision).unwrap_or(Decision::Withdraw),
            decided_at: row.decided_at,
            receipt: receipt::sign(&deps.receipts, &payload),
            payload,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Catalog;

    fn def(basis: &str, withdrawable: bool) -> PurposeDef {
        let text = format!(
            "[purposes.\"a.b\"]\nname = {{ id = \"n\", en = \"n\" }}\ndescription = {{ id = \"d\", en = \"d\" }}\n\
             controller = \"c\"\nmodules = [\"aa\"]\nlawful_basis = \"{basis}\"\nretention = \"1d\"\n\
             withdrawable = {withdrawable}\nnotice_version = \"1\"\n[purposes.\"a.b\".fields]\n\"profile.phone\" = \"plain\"\n\
             [modules.aa]\nname = {{ id = \"A\", en = \"A\" }}\n"
        );
        Catalog::parse("t", &text).unwrap().get("a.b").unwrap().clone()
    }

    #[test]
    fn consent_needs_a_grant_in_force() {
        let consent = def("consent", true);
        assert_eq!(blocked(&consent, None), Some(Blocked::NoConsent));
        assert_eq!(blocked(&consent, Some(Decision::Grant)), None);
        assert_eq!(blocked(&consent, Some(Decision::Refuse)), Some(Blocked::NoConsent));
        assert_eq!(blocked(&consent, Some(Decision::Withdraw)), Some(Blocked::NoConsent));
    }

    #[test]
    fn other_bases_stop_only_when_withdrawable_and_withdrawn() {
        let restrictable = def("public_task", true);
        assert_eq!(blocked(&restrictable, None), None);
        assert_eq!(
            blocked(&restrictable, Some(Decision::Withdraw)),
            Some(Blocked::Restricted)
        );
        assert_eq!(
            blocked(&restrictable, Some(Decision::Refuse)),
            Some(Blocked::Restricted)
        );
        assert_eq!(blocked(&restrictable, Some(Decision::Grant)), None);
        let fixed = def("legal_obligation", false);
        assert_eq!(blocked(&fixed, Some(Decision::Withdraw)), None);
    }
}
