//! Verifying a self-enrolled account at the counter: the citizen shows a
//! short code from their signed-in phone, the officer checks it with the
//! KTP. Only failed checks count against the NIK's bucket.

use super::Deps;
use super::Nik;
use super::codes;
use super::counter::{CounterOfficer, IssuedCode, VERIFY_LIFETIME, account_for_nik, code_row};
use super::enrol::{EnrolError, nik_index};
use crate::audit::{self, Actor, ActorKind, Context, Event, Outcome, Target};
use crate::store::identity::{self as stored, AccountRow, EnrolmentCodeRow};

fn verify_hash(account_id: &str, code: &str) -> Vec<u8> {
    codes::enrolment_hash(&format!("verify:{account_id}:{}", codes::normalise(code)))
}

/// A citizen asks for a short code to show at the counter (a few per
/// account per ten minutes: each is a stored row and an audit event).
pub async fn verification_code(deps: &Deps, account: &AccountRow, ctx: &Context) -> Result<IssuedCode, EnrolError> {
    let key = crate::ratelimit::Key::Account(account.account_id.as_bytes().to_vec());
    let decision = deps
        .limits
        .check(crate::ratelimit::VERIFICATION_CODE_ACCOUNT, &key)
        .await;
    if !decision.allowed() {
        if deps.limits.should_audit(decision.policy, &key) {
            crate::audit::record_trip(&deps.writer, decision.policy.name, ctx).await;
        }
        return Err(EnrolError::Limited(decision));
    }
    let digits: String = crate::ids::bytes::<8>()?
        .iter()
        .map(|b| char::from(b'0' + b % 10))
        .collect();
    let row = code_row(&digits, &account.account_id, "verify", None, false, VERIFY_LIFETIME);
    let row = EnrolmentCodeRow {
        code_hash: verify_hash(&account.account_id, &digits),
        ..row
    };
    let expires_at = row.expires_at;
    let actor = Actor::new(ActorKind::Citizen, account.pseudonym.clone());
    let target = Target::new("account", Some(account.pseudonym.clone()));
    let ctx = ctx.clone();
    deps.writer
        .write::<(), EnrolError, _>(move |tx| {
            Box::pin(async move {
                stored::insert_enrolment_code(tx, &row).await?;
                audit::record(
                    tx,
                    Event::new(actor, "verification_code.issue", target, Outcome::Success).within(&ctx),
                )
                .await?;
                Ok(())
            })
        })
        .await?;
    Ok(IssuedCode {
        account: account.pseudonym.clone(),
        url: String::new(),
        code: digits,
        expires_at,
    })
}

/// The officer checked the KTP and the citizen showed the code from their
/// signed-in phone: the account becomes verified.
pub async fn verify(
    deps: &Deps,
    officer: &CounterOfficer,
    nik: &str,
    code: &str,
    ctx: &Context,
) -> Result<String, EnrolError> {
    let nik = Nik::parse(nik)?;
    let index = nik_index(&deps.keys.index, &nik);
    let key = crate::ratelimit::Key::Account(index.clone());
    match verify_code(deps, officer, index, code, ctx).await {
        Err(EnrolError::VerificationFailed) => {
            let decision = deps.limits.fail(crate::ratelimit::VERIFY_ACCOUNT, &key).await;
            if decision.allowed() {
                Err(EnrolError::VerificationFailed)
            } else {
                if deps.limits.should_audit(decision.policy, &key) {
                    crate::audit::record_trip(&deps.writer, decision.policy.name, ctx).await;
                }
                Err(EnrolError::Limited(decision))
            }
        }
        other => other,
    }
}

async fn verify_code(
    deps: &Deps,
    officer: &CounterOfficer,
    index: Vec<u8>,
    code: &str,
    ctx: &Context,
) -> Result<String, EnrolError> {
    let code = code.to_owned();
    let actor = officer.actor();
    let ctx = ctx.clone();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    deps.writer
        .write(move |tx| {
            Box::pin(async move {
                let account = account_for_nik(tx, &index, &actor, &ctx).await?;
                let claimed = stored::claim_enrolment_code(tx, &verify_hash(&account.account_id, &code), now).await?;
                let target = Target::new("account", Some(account.pseudonym.clone()));
                if !claimed.is_some_and(|c| c.purpose == "verify" && c.account_id == account.account_id) {
                    let event = Event::new(actor, "account.verify", target, Outcome::Denied)
                        .reason("code_mismatch")
                        .within(&ctx);
                    audit::record_attempt(tx, event).await?;
                    return Err(EnrolError::VerificationFailed);
                }
                stored::set_verified(tx, &account.account_id, true, now).await?;
                audit::record(
                    tx,
                    Event::new(actor, "account.verify", target, Outcome::Success).within(&ctx),
                )
                .await?;
                Ok(account.pseudonym)
            })
        })
        .await
}
