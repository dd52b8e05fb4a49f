//! The service counter: a counter officer, after checking the citizen's
//! KTP, enrols them (one-time code and QR), helps them recover, or
//! verifies the account they enrolled themselves.

use std::time::Duration;

use super::codes;
use super::enrol::{EnrolError, nik_index, parse_name};
use super::recovery::register_for;
use super::registration::Pending;
use super::{AccountId, AccountKind, Deps, Nik, Pseudonym, Role, Status, UserHandle};
use crate::audit::{self, Actor, ActorKind, Context, Event, Outcome, Target};
use crate::sessions::SignedIn;
use crate::store::identity::{self as stored, AccountRow, CounterRecoveryRow, EnrolmentCodeRow};
use crate::store::{Db, StoreError, Tx};

/// Lifetime of an enrolment code given to a citizen.
pub const CODE_LIFETIME: Duration = Duration::from_secs(15 * 60);
/// Lifetime of an officer's first-passkey link from the command line.
pub const OFFICER_LINK_LIFETIME: Duration = Duration::from_secs(24 * 3600);
/// Lifetime of a citizen's verification code.
pub const VERIFY_LIFETIME: Duration = Duration::from_secs(10 * 60);

/// Proof that the caller is an active counter officer: the functions below
/// take it, so code without the role check cannot call them. Only
/// [`CounterOfficer::load`] makes one, from the roles it reads itself.
#[derive(Debug, Clone)]
pub struct CounterOfficer {
    account: AccountRow,
}

impl CounterOfficer {
    /// The permit of the signed-in officer, if the store says that officer
    /// is active and holds the counter role.
    pub async fn load(db: &Db, who: &SignedIn) -> Result<Option<Self>, StoreError> {
        let account = who.account();
        if account.kind != AccountKind::Officer || account.status != Status::Active {
            return Ok(None);
        }
        let counter = stored::roles(db, &account.account_id)
            .await?
            .iter()
            .any(|r| Role::parse(r) == Some(Role::Counter));
        Ok(counter.then(|| Self {
            account: account.clone(),
        }))
    }

    pub fn pseudonym(&self) -> &str {
        &self.account.pseudonym
    }

    pub fn account_id(&self) -> &str {
        &self.account.account_id
    }

    pub fn actor(&self) -> Actor {
        Actor::new(ActorKind::Officer, self.account.pseudonym.clone())
    }
}

/// A code handed to someone, with the link it opens.
#[derive(Debug, serde::Serialize)]
pub struct IssuedCode {
    pub account: String,
    pub code: String,
    pub url: String,
    pub expires_at: i64,
}

pub(super) fn link(state_origin: &str, code: &str) -> String {
    // The code travels in the fragment: never sent to a server or in a Referer.
    format!("{state_origin}/enrol/code#{code}")
}

pub(super) fn code_row(
    code: &str,
    account_id: &str,
    purpose: &str,
    officer: Option<&str>,
    revoke_old: bool,
    lifetime: Duration,
) -> EnrolmentCodeRow {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    EnrolmentCodeRow {
        code_hash: codes::enrolment_hash(code),
        account_id: account_id.to_owned(),
        purpose: purpose.to_owned(),
        issued_by: officer.map(str::to_owned),
        revoke_old,
        nik_index: None,
        created_at: now,
        expires_at: now + i64::try_from(lifetime.as_secs()).unwrap_or(0),
        used_at: None,
    }
}

pub(super) fn new_account(kind: AccountKind, now: i64) -> Result<AccountRow, EnrolError> {
    Ok(AccountRow {
        account_id: AccountId::generate()?.as_str().to_owned(),
        kind,
        user_handle: UserHandle::generate()?.0.to_vec(),
        pseudonym: Pseudonym::generate(kind)?.as_str().to_owned(),
        status: Status::Pending,
        verified: true,
        flag: None,
        // NIK and name are sealed in the vault (see `personal`).
        display_name: String::new(),
        nik: None,
        // Taken when the enrolment code is used.
        nik_index: None,
        unit: None,
        created_at: now,
        updated_at: now,
    })
}

/// Assisted enrolment. A self-enrolled, unverified account holding the same
/// NIK loses to this counter-verified one: it is suspended, its sessions end,
/// and it is flagged for a security officer.
pub async fn enrol(
    deps: &Deps,
    officer: &CounterOfficer,
    nik: &str,
    name: &str,
    ctx: &Context,
) -> Result<IssuedCode, EnrolError> {
    let nik = Nik::parse(nik)?;
    let name = parse_name(name)?;
    let index = nik_index(&deps.keys.index, &nik);
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let account = new_account(AccountKind::Citizen, now)?;
    let code = codes::enrolment_code()?;
    let row = code_row(
        &code,
        &account.account_id,
        "enrol",
        Some(&officer.account.account_id),
        false,
        CODE_LIFETIME,
    );
    let url = link(first_origin(deps), &code);
    let expires_at = row.expires_at;
    let actor = officer.actor();
    let keys = deps.keys.clone();
    let ctx = ctx.clone();
    let pseudonym = deps
        .writer
        .write::<String, EnrolError, _>(move |tx| {
            Box::pin(async move {
                refuse_verified_holder(tx, &index, &actor, &ctx).await?;
                // A newer code for this NIK replaces any unused one, for the
                // same pending account.
                let account = match stored::live_code_for_nik_index(tx, &index, now).await? {
                    Some(live) => {
                        stored::void_codes_for_nik_index(tx, &index, now).await?;
                        stored::account_by_id_tx(tx, &live.account_id)
                            .await?
                            .ok_or(EnrolError::NoAccount)?
                    }
                    None => {
                        stored::insert_account(tx, &account).await?;
                        super::personal::store_audited(
                            tx,
                            &keys.vault,
                            &account.account_id,
                            &account.pseudonym,
                            Some(&nik),
                            &name,
                            now,
                            actor.clone(),
                        )
                        .await?;
                        account
                    }
                };
                let row = EnrolmentCodeRow {
                    nik_index: Some(index.clone()),
                    account_id: account.account_id.clone(),
                    ..row
                };
                stored::insert_enrolment_code(tx, &row).await?;
                let target = Target::new("account", Some(account.pseudonym.clone()));
                let event = Event::new(actor, "enrolment_code.issue", target, Outcome::Success)
                    .reason("enrol")
                    .within(&ctx);
                audit::record(tx, event).await?;
                Ok(account.pseudonym)
            })
        })
        .await?;
    Ok(IssuedCode {
        account: pseudonym,
        url,
        code,
        expires_at,
    })
}

/// A NIK already held by a counter-verified account is not enrolled
/// again (audited). A self-enrolled, unverified holder is dealt with when
/// the code is used, not before: an unused code or a mistyped NIK must not
/// suspend anyone.
async fn refuse_verified_holder(tx: &mut Tx<'_>, index: &[u8], actor: &Actor, ctx: &Context) -> Result<(), EnrolError> {
    if let Some(existing) = stored::account_by_nik_index(tx, index).await?
        && existing.verified
    {
        let target = Target::new("account", Some(existing.pseudonym.clone()));
        let event = Event::new(actor.clone(), "enrolment_code.issue", target, Outcome::Denied)
            .reason("already_verified")
            .within(ctx);
        audit::record_attempt(tx, event).await?;
        return Err(EnrolError::AlreadyVerified);
    }
    Ok(())
}

pub(crate) async fn suspend_squatter(
    tx: &mut Tx<'_>,
    actor: &Actor,
    squatter: &AccountRow,
    now: i64,
    ctx: &Context,
) -> Result<(), EnrolError> {
    stored::set_status(
        tx,
        &squatter.account_id,
        Status::Suspended,
        Some("nik_claimed_at_counter"),
        now,
    )
    .await?;
    stored::delete_sessions_of(tx, &squatter.account_id).await?;
    let event = Event::new(
        actor.clone(),
        "account.suspend",
        Target::new("account", Some(squatter.pseudonym.clone())),
        Outcome::Success,
    )
    .reason("nik_claimed_at_counter")
    .within(ctx);
    audit::record(tx, event).await?;
    Ok(())
}

/// Officer-assisted recovery: a new one-time code for the account of this
/// NIK. Using it ends every passkey and session of the account (a citizen
/// who still has a working passkey adds a new one themselves), the citizen
/// is told on their home page and in their activity which kind of officer
/// of which unit did it and when, and the recovery waits for a security
/// officer's review.
pub async fn recover(
    deps: &Deps,
    officer: &CounterOfficer,
    nik: &str,
    ctx: &Context,
) -> Result<IssuedCode, EnrolError> {
    // The citizen is told which unit's officer recovered the account: an
    // officer without a recorded unit cannot start one.
    let Some(officer_unit) = officer.account.unit.clone() else {
        return Err(EnrolError::UnitMissing);
    };
    let nik = Nik::parse(nik)?;
    let index = nik_index(&deps.keys.index, &nik);
    let code = codes::enrolment_code()?;
    let officer_id = officer.account.account_id.clone();
    let actor = officer.actor();
    let ctx = ctx.clone();
    let origin = first_origin(deps).to_owned();
    deps.writer
        .write(move |tx| {
            Box::pin(async move {
                let account = account_for_nik(tx, &index, &actor, &ctx).await?;
                let row = code_row(
                    &code,
                    &account.account_id,
                    "recover",
                    Some(&officer_id),
                    true,
                    CODE_LIFETIME,
                );
                stored::void_enrolment_codes(tx, &account.account_id, row.created_at).await?;
                stored::insert_enrolment_code(tx, &row).await?;
                stored::insert_counter_recovery(
                    tx,
                    &CounterRecoveryRow {
                        code_hash: row.code_hash.clone(),
                        account_id: account.account_id.clone(),
                        officer_id,
                        officer_unit: Some(officer_unit),
                        issued_at: row.created_at,
                        completed_at: None,
                        reviewed_at: None,
                    },
                )
                .await?;
                let target = Target::new("account", Some(account.pseudonym.clone()));
                let event = Event::new(actor.clone(), "enrolment_code.issue", target.clone(), Outcome::Success)
                    .reason("counter_recovery")
                    .within(&ctx);
                audit::record(tx, event).await?;
                let flagged = Event::new(actor, "review.flag", target, Outcome::Success)
                    .reason("counter_recovery")
                    .within(&ctx);
                audit::record(tx, flagged).await?;
                Ok(IssuedCode {
                    account: account.pseudonym,
                    url: link(&origin, &code),
                    code,
                    expires_at: row.expires_at,
                })
            })
        })
        .await
}

/// Redeems an enrolment code (single use) and starts registering a passkey.
/// With `sign_in` false (a security key enrolled at the counter), no session
/// is opened on the counter's browser.
pub async fn start_with_code(
    deps: &Deps,
    code: &str,
    sign_in: bool,
    officer_present: Option<Actor>,
    ctx: &Context,
) -> Result<serde_json::Value, EnrolError> {
    let hash = codes::enrolment_hash(code);
    let rp = deps.rp.clone();
    let keys = deps.keys.clone();
    let ctx = ctx.clone();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    deps.writer
        .write(move |tx| {
            Box::pin(async move {
                // Checked here, spent only when the passkey is stored, so a
                // cancelled passkey dialog does not burn the code.
                let claimed = stored::enrolment_code_live(tx, &hash, now)
                    .await?
                    .filter(|c| c.purpose != "verify");
                let Some(code) = claimed else {
                    let event = Event::new(
                        Actor::new(ActorKind::Anonymous, "-"),
                        "enrolment_code.use",
                        Target::new("account", None),
                        Outcome::Failure,
                    )
                    .reason("unknown_used_or_expired")
                    .within(&ctx);
                    audit::record_attempt(tx, event).await?;
                    return Err(EnrolError::CodeInvalid);
                };
                let account = stored::account_by_id_tx(tx, &code.account_id)
                    .await?
                    .ok_or(EnrolError::CodeInvalid)?;
                if account.status == Status::Suspended || account.status == Status::Erased {
                    return Err(EnrolError::CodeInvalid);
                }
                let by_officer = code.issued_by.is_some();
                if let Some(officer) = officer_present.filter(|_| by_officer) {
                    refuse_officer_session(tx, officer, &account, &ctx).await?;
                    return Err(EnrolError::OfficerSession);
                }
                let pending = Pending::Code {
                    account_id: account.account_id.clone(),
                    purpose: code.purpose.clone(),
                    revoke_old: code.revoke_old,
                    sign_in,
                    code_hash: hex::encode(&code.code_hash),
                    by_officer,
                };
                let options = register_for(&rp, &keys, tx, &account, pending).await?;
                Ok(options)
            })
        })
        .await
}

/// The account holding this NIK index for an officer's action; when there is
/// none, the refused lookup is audited and the action fails.
pub(crate) async fn account_for_nik(
    tx: &mut Tx<'_>,
    index: &[u8],
    officer: &Actor,
    ctx: &Context,
) -> Result<AccountRow, EnrolError> {
    if let Some(account) = stored::account_by_nik_index(tx, index).await? {
        return Ok(account);
    }
    let event = Event::new(
        officer.clone(),
        "account.lookup",
        Target::new("account", None),
        Outcome::Denied,
    )
    .reason("no_account_for_nik")
    .within(ctx);
    audit::record_attempt(tx, event).await?;
    Err(EnrolError::NoAccount)
}

/// A code an officer issued is for the citizen's own device: a browser
/// holding an officer's session may not use it (an officer cannot quietly
/// put their own passkey on a citizen's account). Audited as a denial.
pub(crate) async fn refuse_officer_session(
    tx: &mut Tx<'_>,
    officer: Actor,
    account: &AccountRow,
    ctx: &Context,
) -> Result<(), EnrolError> {
    let event = Event::new(
        officer,
        "enrolment_code.use",
        Target::new("account", Some(account.pseudonym.clone())),
        Outcome::Denied,
    )
    .reason("officer_session")
    .within(ctx);
    audit::record_attempt(tx, event).await?;
    Ok(())
}

fn first_origin(deps: &Deps) -> &str {
    deps.rp.origins().first().map_or("", String::as_str)
}
