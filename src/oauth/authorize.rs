//! The authorization endpoint's decisions: who must sign in, what the
//! person is asked, and the code (or error) the browser carries back to the
//! module. The person's passkey session is reused unless `prompt=login` or
//! `max_age` asks for a fresh sign-in. Errors go only to the redirect URI
//! the module registered and pushed.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use serde_json::json;

use super::error::Code;
use super::par::{Prompt, Pushed, Unusable, Waiting};
use super::{Deps, OPENID_SCOPE};
use crate::account::AccountKind;
use crate::audit::{self, Actor, ActorKind, AuditError, Context, Event, Outcome, Target};
use crate::consent::{self, ConsentError, Decision};
use crate::policy::{LawfulBasis, PurposeDef};
use crate::sessions::SignedIn;
use crate::store::StoreError;
use crate::store::clients::{self as clients, ClientRow};
use crate::store::oauth_flow::{self as stored, CodeRow, GrantRow};

/// How long a code may wait for the module's token request.
pub const CODE_SECS: i64 = 60;
/// How long a person who arrived has to sign in and decide.
pub const DECIDE_SECS: i64 = 600;

/// What the browser is shown next.
#[derive(Debug)]
pub enum Step {
    /// Nobody (fresh enough) is signed in: the sign-in page, then back.
    SignIn,
    /// The consent screen.
    Ask(Box<Ask>),
    /// Back to the module, with a code or an error.
    Redirect(String),
}

/// What the consent screen shows.
#[derive(Debug)]
pub struct Ask {
    pub client: ClientRow,
    /// Purposes based on consent the person has not granted: a choice.
    pub choices: Vec<PurposeDef>,
    /// The other purposes asked for: information, not a choice.
    pub info: Vec<PurposeDef>,
}

#[derive(Debug, thiserror::Error)]
pub enum AuthorizeError {
    #[error(transparent)]
    Unusable(Unusable),
    #[error("a child's consent is given by their guardian")]
    GuardianRequired,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Audit(#[from] AuditError),
    #[error(transparent)]
    Consent(ConsentError),
    #[error(transparent)]
    Issue(#[from] super::access::IssueError),
    #[error(transparent)]
    Random(#[from] crate::ids::RandomError),
}

impl From<ConsentError> for AuthorizeError {
    fn from(e: ConsentError) -> Self {
        match e {
            ConsentError::GuardianRequired => AuthorizeError::GuardianRequired,
            other => AuthorizeError::Consent(other),
        }
    }
}

/// `uri` with `params` added to its query.
fn with_query(uri: &str, params: &[(&str, &str)]) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    for (k, v) in params {
        query.append_pair(k, v);
    }
    let separator = if uri.contains('?') { '&' } else { '?' };
    format!("{uri}{separator}{}", query.finish())
}

/// The authorization response carrying `params`, `state` and `iss` (RFC 9207).
fn response(deps: &Deps, pushed: &Pushed, params: &[(&str, &str)]) -> String {
    let mut all: Vec<(&str, &str)> = params.to_vec();
    if let Some(state) = &pushed.state {
        all.push(("state", state));
    }
    all.push(("iss", &deps.issuer.url));
    with_query(&pushed.redirect_uri, &all)
}

/// An error response to the module's redirect URI.
pub fn error_response(deps: &Deps, pushed: &Pushed, code: Code, description: &str) -> String {
    response(
        deps,
        pushed,
        &[("error", code.as_str()), ("error_description", description)],
    )
}

/// The live client a waiting request belongs to.
pub async fn client_of(deps: &Deps, waiting: &Waiting) -> Result<ClientRow, AuthorizeError> {
    clients::client(&deps.db, &waiting.pushed.client_id)
        .await?
        .filter(|c| c.revoked_at.is_none())
        .ok_or(AuthorizeError::Unusable(Unusable::NoClient))
}

/// Whether `who` signed in recently enough for this request.
fn fresh(waiting: &Waiting, who: &SignedIn, now: i64) -> bool {
    let auth_time = who.session().created_at;
    let pushed = &waiting.pushed;
    // A sign-in after the request was pushed (in a later second: the clock
    // has whole seconds) is fresh for prompt=login and any max_age, so
    // max_age=0 cannot send the person round in circles.
    if auth_time > waiting.pushed_at {
        return true;
    }
    pushed.prompt != Some(Prompt::Login) && pushed.max_age.is_none_or(|max| now.saturating_sub(auth_time) <= max)
}

fn kind_name(kind: AccountKind) -> &'static str {
    match kind {
        AccountKind::Citizen => "citizen",
        AccountKind::Officer => "officer",
    }
}

/// The purposes of a request, split into choices (consent not in force)
/// and information; purposes the citizen restricted are left out.
async fn purposes(
    deps: &Deps,
    pushed: &Pushed,
    who: &SignedIn,
) -> Result<(Vec<PurposeDef>, Vec<PurposeDef>), AuthorizeError> {
    let snapshot = deps.policies.current();
    let account = who.account().account_id.as_str();
    let mut choices = Vec::new();
    let mut info = Vec::new();
    for id in pushed.scope.iter().filter(|s| *s != OPENID_SCOPE) {
        let Some(def) = snapshot.catalog.get(id) else { continue };
        let blocked = consent::blocked_among(&deps.db, def, &[account]).await?;
        match (def.lawful_basis, blocked.contains_key(account)) {
            (LawfulBasis::Consent, true) => choices.push(def.clone()),
            (LawfulBasis::Consent, false) => info.push(def.clone()),
            (_, true) => {}
            (_, false) => info.push(def.clone()),
        }
    }
    Ok((choices, info))
}

/// Decides what the browser sees for a waiting request.
pub async fn step(
    deps: &Deps,
    waiting: &Waiting,
    who: Option<&SignedIn>,
    now: i64,
    ctx: &Context,
) -> Result<Step, AuthorizeError> {
    let client = client_of(deps, waiting).await?;
    let pushed = &waiting.pushed;
    let Some(who) = who.filter(|w| fresh(waiting, w, now)) else {
        if pushed.prompt == Some(Prompt::None) {
            return refuse(deps, waiting, None, Code::LoginRequired, "nobody is signed in", ctx).await;
        }
        arrived(deps, waiting, now).await?;
        return Ok(Step::SignIn);
    };
    if kind_name(who.account().kind) != client.audience {
        let why = if client.audience == "officer" {
            "this service signs officers in"
        } else {
            "this service signs citizens in"
        };
        return refuse(deps, waiting, Some(who), Code::AccessDenied, why, ctx).await;
    }
    let (choices, info) = purposes(deps, pushed, who).await?;
    let ask = pushed.prompt == Some(Prompt::Consent) || !choices.is_empty();
    if !ask {
        let scope = granted_scope(&info, &[]);
        return issue_code(deps, waiting, who, scope, now, ctx)
            .await
            .map(Step::Redirect);
    }
    if pushed.prompt == Some(Prompt::None) {
        return refuse(
            deps,
            waiting,
            Some(who),
            Code::ConsentRequired,
            "the person must decide on consent",
            ctx,
        )
        .await;
    }
    arrived(deps, waiting, now).await?;
    Ok(Step::Ask(Box::new(Ask { client, choices, info })))
}

/// The person is here: the request waits for them to sign in and decide.
async fn arrived(deps: &Deps, waiting: &Waiting, now: i64) -> Result<(), AuthorizeError> {
    let (hash, until) = (waiting.hash, now + DECIDE_SECS);
    deps.writer
        .write::<(), StoreError, _>(move |tx| Box::pin(async move { stored::extend_par(tx, &hash, until).await }))
        .await?;
    Ok(())
}

fn granted_scope(info: &[PurposeDef], chosen: &[&PurposeDef]) -> Vec<String> {
    std::iter::once(OPENID_SCOPE.to_owned())
        .chain(info.iter().map(|p| p.id.clone()))
        .chain(chosen.iter().map(|p| p.id.clone()))
        .collect()
}

/// The person approved: records consent for each purpose they ticked
/// (with its receipt), then sends the code. Purposes left unticked are
/// not given to the module.
pub async fn approve(
    deps: &Deps,
    consents: &consent::Deps,
    waiting: &Waiting,
    who: &SignedIn,
    ticked: &[String],
    now: i64,
    ctx: &Context,
) -> Result<Step, AuthorizeError> {
    let step = step(deps, waiting, Some(who), now, ctx).await?;
    let Step::Ask(ask) = step else { return Ok(step) };
    let chosen: Vec<&PurposeDef> = ask.choices.iter().filter(|p| ticked.contains(&p.id)).collect();
    if !chosen.is_empty() {
        let own = who.own_data().ok_or(AuthorizeError::Unusable(Unusable::NoClient))?;
        for def in &chosen {
            consent::decide(consents, &own, &def.id, Decision::Grant, ctx).await?;
        }
    }
    let scope = granted_scope(&ask.info, &chosen);
    issue_code(deps, waiting, who, scope, now, ctx)
        .await
        .map(Step::Redirect)
}

/// The person said no: the module gets `access_denied`.
pub async fn deny(deps: &Deps, waiting: &Waiting, who: &SignedIn, ctx: &Context) -> Result<Step, AuthorizeError> {
    client_of(deps, waiting).await?;
    refuse(deps, waiting, Some(who), Code::AccessDenied, "the person refused", ctx).await
}

fn actor(who: Option<&SignedIn>) -> Actor {
    match who {
        Some(w) if w.account().kind == AccountKind::Officer => {
            Actor::new(ActorKind::Officer, w.account().pseudonym.clone())
        }
        Some(w) => Actor::new(ActorKind::Citizen, w.account().pseudonym.clone()),
        None => Actor::new(ActorKind::Anonymous, "-"),
    }
}

/// Ends a request with an error to the module (the pushed request is
/// used up), audited.
async fn refuse(
    deps: &Deps,
    waiting: &Waiting,
    who: Option<&SignedIn>,
    code: Code,
    description: &str,
    ctx: &Context,
) -> Result<Step, AuthorizeError> {
    let hash = waiting.hash;
    let event = Event::new(
        actor(who),
        "oauth.authorize",
        Target::new("oauth_client", Some(waiting.pushed.client_id.clone())),
        Outcome::Denied,
    )
    .reason(code.as_str())
    .within(ctx);
    let used = deps
        .writer
        .write::<bool, AuthorizeError, _>(move |tx| {
            Box::pin(async move {
                let used = stored::delete_par(tx, &hash).await?;
                if used {
                    audit::record(tx, event).await?;
                }
                Ok(used)
            })
        })
        .await?;
    if !used {
        return Err(AuthorizeError::Unusable(Unusable::Unknown));
    }
    Ok(Step::Redirect(error_response(deps, &waiting.pushed, code, description)))
}

/// The request is granted: one grant, one code (single use, 60 s), the
/// pushed request used up, the issuance audited; all in one transaction.
async fn issue_code(
    deps: &Deps,
    waiting: &Waiting,
    who: &SignedIn,
    scope: Vec<String>,
    now: i64,
    ctx: &Context,
) -> Result<String, AuthorizeError> {
    let pushed = &waiting.pushed;
    let code = B64URL.encode(crate::ids::bytes::<32>()?);
    let session = who.session();
    let grant = GrantRow {
        grant_id: format!(
            "gr_{}",
            crate::ids::base32(&crate::ids::bytes::<15>()?).to_ascii_lowercase()
        ),
        client_id: pushed.client_id.clone(),
        account_id: who.account().account_id.as_str().to_owned(),
        session_id: session.session_id.clone(),
        credential_id: session.credential_id.clone(),
        scope: scope.join(" "),
        jkt: pushed.dpop_jkt.clone(),
        x5t: None,
        auth_time: session.created_at,
        amr: serde_json::to_string(&super::id_token::amr()).unwrap_or_else(|_| "[]".into()),
        created_at: now,
        expires_at: session.created_at.saturating_add(deps.session_secs),
        revoked_at: None,
    };
    let code_row = CodeRow {
        grant_id: grant.grant_id.clone(),
        request: json!({
            "redirect_uri": pushed.redirect_uri,
            "nonce": pushed.nonce,
            "code_challenge": pushed.code_challenge,
            "dpop_jkt": pushed.dpop_jkt,
        })
        .to_string(),
        expires_at: now + CODE_SECS,
        used_at: None,
    };
    let code_hash = crate::ids::sha256(code.as_bytes());
    let hash = waiting.hash;
    let event = Event::new(
        actor(Some(who)),
        "oauth.authorize",
        Target::new("oauth_client", Some(pushed.client_id.clone())).with_fields(scope.clone()),
        Outcome::Success,
    )
    .reason("code")
    .within(ctx);
    let used = deps
        .writer
        .write::<bool, AuthorizeError, _>(move |tx| {
            Box::pin(async move {
                if !stored::delete_par(tx, &hash).await? {
                    return Ok(false);
                }
                stored::insert_grant(tx, &grant).await?;
                stored::insert_code(tx, &code_hash, &code_row).await?;
                audit::record(tx, event).await?;
                Ok(true)
            })
        })
        .await?;
    if !used {
        return Err(AuthorizeError::Unusable(Unusable::Unknown));
    }
    Ok(response(deps, pushed, &[("code", &code)]))
}
