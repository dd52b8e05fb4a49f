//! Break-glass: a security officer reads a citizen's data without their
//! consent, in an emergency, only with a written justification and for a
//! bounded window. The Cedar policy `break_glass` decides (role, length of
//! the justification, length of the window); the justification is sealed
//! under the citizen's data key; opening and every read are audited with
//! the deciding policies and shown to the citizen in their history; every
//! grant waits in a review queue for a security officer other than the one
//! who used it (the officer console reviews it).

use serde::Serialize;

pub mod review;

use crate::account::{AccountKind, Status};
use crate::audit::{self, Actor, ActorKind, Context, Event, Outcome, Target};
use crate::ids::{self, RandomError};
use crate::policy::{OfficerAction, Policies};
use crate::profile::{self, ProfileView};
use crate::sessions::SignedIn;
use crate::store::break_glass::{self as stored, BreakGlassRow};
use crate::store::identity::{self as identity_store, AccountRow};
use crate::store::{Db, StoreError, Writer};
use crate::vault::profile::Reveal;
use crate::vault::{VaultError, citizen};

/// The purpose every break-glass event names (catalog: emergency access,
/// vital interest); a read shows the fields it lists, and nothing else.
pub const PURPOSE: &str = "keamanan.darurat";
/// Longest justification, in characters.
pub const MAX_JUSTIFICATION: usize = 2000;
/// Longest window anyone may ask for, in minutes; the policy sets the
/// window actually allowed (one hour as shipped).
pub const MAX_MINUTES: u32 = 24 * 60;

/// What break-glass needs.
#[derive(Debug, Clone)]
pub struct Deps {
    pub db: Db,
    pub writer: Writer,
    pub keys: std::sync::Arc<crate::keys::KeyRing>,
    pub policies: Policies,
}

#[derive(Debug, thiserror::Error)]
pub enum BreakGlassError {
    #[error("{0}")]
    Invalid(&'static str),
    /// Not allowed by the policies (or not an active officer); audited.
    #[error("the break-glass policy does not allow this")]
    Refused,
    #[error("no such citizen")]
    NoCitizen,
    #[error("no such break-glass grant")]
    NoGrant,
    /// The grant belongs to another officer.
    #[error("this break-glass grant belongs to another officer")]
    NotYours,
    #[error("the break-glass window has closed")]
    Expired,
    /// A grant is reviewed by a security officer other than its own.
    #[error("a break-glass grant is reviewed by another security officer")]
    SelfReview,
    #[error("this break-glass grant was already reviewed")]
    AlreadyReviewed,
    #[error(transparent)]
    Random(#[from] RandomError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Vault(#[from] VaultError),
    #[error(transparent)]
    Audit(#[from] audit::AuditError),
    #[error(transparent)]
    Profile(#[from] profile::ProfileError),
    #[error(transparent)]
    Module(#[from] crate::modules::ModuleError),
}

/// An opened grant.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Opened {
    pub grant: String,
    pub citizen: String,
    pub expires_at: i64,
}

/// What a break-glass read shows: the profile, in plain (the catalog's
/// emergency purpose lists it whole).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Disclosed {
    pub grant: String,
    pub citizen: String,
    pub expires_at: i64,
    /// The profile, in plain; what service modules keep stays behind their
    /// own purposes.
    pub profile: ProfileView,
}

fn sealed_name(grant: &str) -> String {
    format!("break_glass/{grant}/justification")
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// The officer's roles, if `who` is an active officer.
async fn officer_roles(db: &Db, who: &SignedIn) -> Result<Option<Vec<String>>, StoreError> {
    let account = who.account();
    if account.kind != AccountKind::Officer || account.status != Status::Active {
        return Ok(None);
    }
    Ok(Some(identity_store::roles(db, &account.account_id).await?))
}

fn officer_actor(who: &SignedIn) -> Actor {
    let kind = match who.account().kind {
        AccountKind::Officer => ActorKind::Officer,
        _ => ActorKind::Citizen,
    };
    Actor::new(kind, who.account().pseudonym.clone())
}

async fn live_citizen(db: &Db, pseudonym: &str) -> Result<Option<AccountRow>, StoreError> {
    Ok(identity_store::account_by_pseudonym(db, pseudonym)
        .await?
        .filter(|a| a.kind == AccountKind::Citizen && a.status != Status::Erased))
}

async fn record(writer: &Writer, event: Event) -> Result<(), BreakGlassError> {
    writer
        .write::<(), BreakGlassError, _>(move |tx| {
            let event = event.clone();
            Box::pin(async move { Ok(audit::record(tx, event).await?) })
        })
        .await
}

/// Opens a window of `minutes` on `citizen`'s data for `who`, if the
/// policies allow it for this justification and window. Refusals are
/// audited (with the forbids that decided, if any).
pub async fn open(
    deps: &Deps,
    who: &SignedIn,
    citizen: &str,
    justification: &str,
    minutes: u32,
    ctx: &Context,
) -> Result<Opened, BreakGlassError> {
    let justification = justification.trim();
    let chars = justification.chars().count();
    if chars == 0 || chars > MAX_JUSTIFICATION {
        return Err(BreakGlassError::Invalid("justification: 1 to 2000 characters"));
    }
    if justification.chars().any(|c| c.is_control() && c != '\n') {
        return Err(BreakGlassError::Invalid("justification: no control characters"));
    }
    if !(1..=MAX_MINUTES).contains(&minutes) {
        return Err(BreakGlassError::Invalid("minutes: 1 to 1440"));
    }
    // Only an active officer gets any further: nobody else learns whether
    // a pseudonym exists, or writes into a citizen's history.
    let Some(roles) = officer_roles(&deps.db, who).await? else {
        let attempt = Event::new(
            officer_actor(who),
            "breakglass.open",
            Target::new("citizen", None),
            Outcome::Denied,
        )
        .purpose(PURPOSE)
        .reason("not_an_officer")
        .within(ctx);
        record(&deps.writer, attempt).await?;
        return Err(BreakGlassError::Refused);
    };
    let Some(account) = live_citizen(&deps.db, citizen).await? else {
        return Err(BreakGlassError::NoCitizen);
    };
    let target = Target::new("citizen", Some(account.pseudonym.clone()));
    let roles: Vec<&str> = roles.iter().map(String::as_str).collect();
    let verdict = deps.policies.current().rules.officer(
        &who.account().pseudonym,
        &roles,
        OfficerAction::BreakGlass {
            justification_length: chars,
            window_minutes: minutes,
        },
        &account.pseudonym,
    );
    if !verdict.allowed {
        let denied = Event::new(officer_actor(who), "breakglass.open", target, Outcome::Denied)
            .purpose(PURPOSE)
            .reason("policy_denied")
            .policies(verdict.policies)
            .within(ctx);
        record(&deps.writer, denied).await?;
        return Err(BreakGlassError::Refused);
    }
    let grant = format!("bg_{}", ids::base32(&ids::bytes::<10>()?));
    let opened_at = now();
    let expires_at = opened_at + i64::from(minutes) * 60;
    let (deps2, grant2, text) = (deps.clone(), grant.clone(), justification.to_owned());
    let (officer_id, citizen_id) = (who.account().account_id.clone(), account.account_id.clone());
    let event = Event::new(officer_actor(who), "breakglass.open", target, Outcome::Success)
        .purpose(PURPOSE)
        .reason("review_required")
        .policies(verdict.policies)
        .within(ctx);
    let chars = i64::try_from(chars).unwrap_or(i64::MAX);
    deps.writer
        .write::<(), BreakGlassError, _>(move |tx| {
            let (deps, grant, text, event) = (deps2.clone(), grant2.clone(), text.clone(), event.clone());
            let (officer_id, citizen_id) = (officer_id.clone(), citizen_id.clone());
            Box::pin(async move {
                // Erased since it was looked up: no data key may come back.
                let live = identity_store::lock_account(tx, &citizen_id).await?;
                if live.is_none_or(|a| a.status == Status::Erased) {
                    return Err(BreakGlassError::NoCitizen);
                }
                let (dek, version) = citizen::data_key(tx, &deps.keys.vault, &citizen_id, opened_at).await?;
                let sealed = citizen::seal_with(&dek, version, &citizen_id, &sealed_name(&grant), 1, text.as_bytes())?;
                stored::insert(
                    tx,
                    &BreakGlassRow {
                        grant_id: grant,
                        officer_id,
                        citizen_id,
                        justification: sealed,
                        justification_chars: chars,
                        opened_at,
                        expires_at,
                        reviewed_at: None,
                        reviewed_by: None,
                        review: None,
                    },
                )
                .await?;
                audit::record(tx, event).await?;
                Ok(())
            })
        })
        .await?;
    Ok(Opened {
        grant,
        citizen: account.pseudonym,
        expires_at,
    })
}

/// Everything held about the grant's citizen, in plain, for the officer
/// who opened it, while its window is open and the policies still allow
/// it. The audit event (every field opened) commits before anything is
/// returned.
pub async fn read(deps: &Deps, who: &SignedIn, grant: &str, ctx: &Context) -> Result<Disclosed, BreakGlassError> {
    let Some(row) = stored::get(&deps.db, grant).await? else {
        return Err(BreakGlassError::NoGrant);
    };
    if row.officer_id != who.account().account_id {
        // Another's grant: refused, and the attempt is on the record.
        let probe = Event::new(
            officer_actor(who),
            "breakglass.read",
            Target::new("break_glass", None),
            Outcome::Denied,
        )
        .purpose(PURPOSE)
        .reason("not_the_grant_holder")
        .within(ctx);
        record(&deps.writer, probe).await?;
        return Err(BreakGlassError::NotYours);
    }
    let Some(account) = identity_store::account_by_id(&deps.db, &row.citizen_id)
        .await?
        .filter(|a| a.status != Status::Erased)
    else {
        return Err(BreakGlassError::NoCitizen);
    };
    let target = Target::new("citizen", Some(account.pseudonym.clone()));
    let denied = |reason: &str, policies: Vec<String>| {
        Event::new(officer_actor(who), "breakglass.read", target.clone(), Outcome::Denied)
            .purpose(PURPOSE)
            .reason(reason)
            .policies(policies)
            .within(ctx)
    };
    if now() >= row.expires_at {
        record(&deps.writer, denied("expired", Vec::new())).await?;
        return Err(BreakGlassError::Expired);
    }
    // The officer may have lost the role, or the policy changed, since.
    let roles = officer_roles(&deps.db, who).await?.unwrap_or_default();
    let roles: Vec<&str> = roles.iter().map(String::as_str).collect();
    let window = u32::try_from((row.expires_at - row.opened_at) / 60).unwrap_or(u32::MAX);
    let verdict = deps.policies.current().rules.officer(
        &who.account().pseudonym,
        &roles,
        OfficerAction::BreakGlass {
            justification_length: usize::try_from(row.justification_chars).unwrap_or(0),
            window_minutes: window,
        },
        &account.pseudonym,
    );
    if !verdict.allowed {
        record(
            &deps.writer,
            denied("policy_denied", verdict.policies.into_iter().collect()),
        )
        .await?;
        return Err(BreakGlassError::Refused);
    }
    // What the catalog's emergency purpose lists, and nothing else.
    let policies = deps.policies.current();
    let Some(def) = policies.catalog.get(PURPOSE) else {
        return Err(BreakGlassError::Refused);
    };
    if crate::profile::fields::ALL
        .iter()
        .any(|f| def.reveal(f) != Some(Reveal::Plain))
    {
        // The catalog no longer lets break-glass open the whole profile.
        return Err(BreakGlassError::Refused);
    }
    let (loaded, opened) = profile::load(&deps.db, &deps.keys.vault, &account.account_id).await?;
    let event = Event::new(
        officer_actor(who),
        "breakglass.read",
        target.with_fields(opened),
        Outcome::Success,
    )
    .purpose(PURPOSE)
    .reason("break_glass")
    .policies(verdict.policies)
    .within(ctx);
    record(&deps.writer, event).await?;
    Ok(Disclosed {
        grant: row.grant_id,
        citizen: account.pseudonym.clone(),
        expires_at: row.expires_at,
        profile: ProfileView::new(&account, &loaded, Reveal::Plain),
    })
}

/// The justification of a grant, opened (for the review queue).
pub async fn justification(deps: &Deps, row: &BreakGlassRow) -> Result<String, BreakGlassError> {
    let keys = crate::store::vault::read_keys(&deps.db, &[row.citizen_id.as_str()]).await?;
    let mut opener = citizen::Opener::new(&deps.keys.vault, keys);
    Ok(opener.open_text(&row.citizen_id, &sealed_name(&row.grant_id), 1, &row.justification)?)
}
