//! The userinfo endpoint (OpenID Connect Core §5.3): what a module may
//! know of the person who signed in, decided by the purpose catalog and
//! the person's consent, at the reveal level each purpose allows. Every
//! field opened is audited, per purpose, before anything is returned.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::access::{AccessToken, Binding};
use super::error::{Code, OauthError};
use super::grant::{DpopHeader, require_proof};
use super::mtls::PeerCert;
use super::{Deps, OPENID_SCOPE, now};
use crate::account::AccountKind;
use crate::audit::{self, Actor, ActorKind, AuditError, Context, Event, Outcome, Target};
use crate::profile::ProfileView;
use crate::store::clients;
use crate::store::oauth_flow as stored;
use crate::vault::profile::Reveal;

fn invalid_token(description: &str) -> OauthError {
    OauthError::new(Code::InvalidToken, description)
}

/// How a request presented its access token.
#[derive(Debug, Clone, Copy)]
pub struct Presentation<'a> {
    /// `Authorization: Bearer` (a certificate-bound token) rather than `DPoP`.
    pub bearer: bool,
    pub dpop: DpopHeader<'a>,
    /// The TLS client certificate of the connection.
    pub cert: Option<&'a PeerCert>,
}

/// A userinfo access token that is still good, presented by its holder
/// (the DPoP proof that came with it, RFC 9449 §7, or the TLS client
/// certificate it is bound to, RFC 8705 §3): signature, audience,
/// binding, revocation, and the grant it came from still live.
pub async fn check_token(
    deps: &Deps,
    token: &str,
    how: Presentation<'_>,
    now: i64,
) -> Result<(AccessToken, stored::GrantRow), OauthError> {
    let t = deps
        .verified
        .get_or_verify(&deps.keys.oauth, &deps.issuer, token, &deps.issuer.userinfo(), now)
        .map_err(|e| invalid_token(&e.0))?;
    let Some(grant_id) = &t.grant else {
        return Err(invalid_token("the access token is not a sign-in token"));
    };
    match (t.binding(), how.bearer) {
        (Some(Binding::Dpop(jkt)), false) => {
            let proof = require_proof(deps, how.dpop, Some(token), now).await?;
            if proof.jkt != jkt {
                return Err(OauthError::new(
                    Code::InvalidDpopProof,
                    "the DPoP proof's key is not the one the access token is bound to",
                ));
            }
        }
        (Some(Binding::Certificate(x5t)), true) => {
            let presented = how.cert.map(PeerCert::thumbprint).unwrap_or_default();
            if !bool::from(subtle::ConstantTimeEq::ct_eq(presented.as_bytes(), x5t.as_bytes())) {
                return Err(invalid_token(
                    "the access token is bound to a TLS client certificate this connection did not present",
                ));
            }
        }
        _ => {
            return Err(invalid_token(
                "send a DPoP-bound token as Authorization: DPoP, a certificate-bound one as Authorization: Bearer",
            ));
        }
    }
    let server = |e: &dyn std::fmt::Display| OauthError::server(&e);
    if clients::token_holder(&deps.db, &t.client_id, &t.jti, t.iat)
        .await
        .map_err(|e| server(&e))?
        .is_none()
    {
        return Err(invalid_token("the access token is revoked"));
    }
    let grant = stored::live_grant(&deps.db, grant_id, now)
        .await
        .map_err(|e| server(&e))?
        .ok_or_else(|| invalid_token("the sign-in this access token came from has ended"))?;
    Ok((t, grant))
}

/// The claims of one profile field, from the view at its level.
fn claim(field: &str, view: &ProfileView, out: &mut Map<String, Value>) {
    let mut put = |name: &str, v: &Option<String>| {
        if let Some(v) = v {
            out.insert(name.to_owned(), Value::String(v.clone()));
        }
    };
    match field {
        "profile.full_name" => put("name", &view.full_name),
        "profile.nik" => put("nik", &view.nik),
        "profile.kk" => put("kk", &view.kk),
        "profile.birth_place" => put("birth_place", &view.birth_place),
        "profile.birth_date" => put("birthdate", &view.birth_date),
        "profile.gender" => put("gender", &view.gender),
        "profile.phone" => put("phone_number", &view.phone),
        "profile.email" => put("email", &view.email),
        "profile.address" => {
            if let Some(a) = &view.address {
                let street = [a.street.as_deref(), a.rt_rw.as_deref()]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(" ");
                let locality = [
                    a.kelurahan.as_deref(),
                    a.kecamatan.as_deref(),
                    Some(a.kabupaten_kota.as_str()),
                ]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(", ");
                let mut address = json!({ "locality": locality, "region": a.province, "country": "ID" });
                if let Some(obj) = address.as_object_mut() {
                    if !street.is_empty() {
                        obj.insert("street_address".into(), json!(street));
                    }
                    if let Some(p) = &a.postal_code {
                        obj.insert("postal_code".into(), json!(p));
                    }
                }
                out.insert("address".into(), address);
            }
        }
        _ => {}
    }
}

/// `GET`/`POST /oauth/userinfo`.
pub async fn userinfo(deps: &Deps, token: &str, how: Presentation<'_>, ctx: &Context) -> Result<Value, OauthError> {
    let now = now();
    let server = |e: &dyn std::fmt::Display| OauthError::server(&e);
    let (t, grant) = check_token(deps, token, how, now).await?;
    if !t.has_scope(OPENID_SCOPE) {
        return Err(OauthError::new(
            Code::InsufficientScope,
            "userinfo needs the openid scope",
        ));
    }
    let mut out = Map::new();
    out.insert("sub".into(), Value::String(t.sub.clone()));
    let account = crate::store::identity::account_by_id(&deps.db, &grant.account_id)
        .await
        .map_err(|e| server(&e))?
        .ok_or_else(|| invalid_token("the account is gone"))?;
    if account.kind != AccountKind::Citizen {
        return Ok(Value::Object(out));
    }
    // The most each field may show, over the purposes in force.
    let snapshot = deps.policies.current();
    let mut levels: BTreeMap<String, Reveal> = BTreeMap::new();
    let mut per_purpose: Vec<(String, Vec<String>)> = Vec::new();
    for id in t.scope.iter().filter(|s| *s != OPENID_SCOPE) {
        // The catalog as it is now: a purpose that no longer names the
        // module gives it nothing.
        let Some(def) = snapshot.catalog.get(id).filter(|d| d.allows_module(&t.client_id)) else {
            continue;
        };
        let blocked = crate::consent::blocked_among(&deps.db, def, &[account.account_id.as_str()])
            .await
            .map_err(|e| server(&e))?;
        if !blocked.is_empty() {
            continue;
        }
        let fields: Vec<String> = def
            .fields
            .iter()
            .filter(|(f, r)| f.starts_with("profile.") && **r != Reveal::Redacted)
            .map(|(f, r)| {
                let level = levels.entry(f.clone()).or_insert(*r);
                if *r > *level {
                    *level = *r;
                }
                f.clone()
            })
            .collect();
        if !fields.is_empty() {
            per_purpose.push((def.id.clone(), fields));
        }
    }
    if levels.is_empty() {
        return Ok(Value::Object(out));
    }
    let (profile, _) = crate::profile::load(&deps.db, &deps.keys.vault, &account.account_id)
        .await
        .map_err(|e| server(&e))?;
    let plain = ProfileView::new(&account, &profile, Reveal::Plain);
    let masked = ProfileView::new(&account, &profile, Reveal::Masked);
    for (field, level) in &levels {
        claim(field, if *level == Reveal::Plain { &plain } else { &masked }, &mut out);
    }
    let events: Vec<Event> = per_purpose
        .into_iter()
        .map(|(purpose, fields)| {
            Event::new(
                Actor::new(ActorKind::Module, t.client_id.clone()),
                "profile.read",
                Target::new("citizen", Some(account.pseudonym.clone())).with_fields(fields),
                Outcome::Success,
            )
            .purpose(purpose)
            .reason("userinfo")
            .within(ctx)
        })
        .collect();
    deps.writer
        .write::<(), AuditError, _>(move |tx| {
            Box::pin(async move {
                for e in events.clone() {
                    audit::record(tx, e).await?;
                }
                Ok(())
            })
        })
        .await
        .map_err(|e| server(&e))?;
    Ok(Value::Object(out))
}
