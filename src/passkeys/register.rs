//! Registration ceremonies.

use webauthn_rp::bin::{Decode as _, Encode as _};
use webauthn_rp::request::register::CredProtect;
use webauthn_rp::request::register::{
    CoseAlgorithmIdentifier, CoseAlgorithmIdentifiers, Nickname, PublicKeyCredentialUserEntity,
    RegistrationVerificationOptions, USER_HANDLE_MAX_LEN, UserHandle64, Username,
};
use webauthn_rp::request::{ExtensionInfo, PublicKeyCredentialDescriptor, TimedCeremony as _};
use webauthn_rp::response::register::error::RegCeremonyErr;
use webauthn_rp::response::{AuthTransports, Backup, CredentialId};
use webauthn_rp::{PublicKeyCredentialCreationOptions, Registration, RegistrationServerState};

use super::{PasskeyError, RelyingParty, Started, internal, unix};
use crate::account::UserHandle;

/// What a verified registration gives us to store.
#[derive(Debug)]
pub struct NewPasskey {
    pub credential_id: Vec<u8>,
    pub user_handle: [u8; 64],
    pub static_state: Vec<u8>,
    pub dynamic_state: Vec<u8>,
    pub transports: i64,
    pub backup_eligible: bool,
    pub backed_up: bool,
}

/// Starts registering a passkey for `user` (ES256, EdDSA and RS256;
/// resident key and user verification required; attestation none), with
/// the account's existing credentials excluded.
pub fn start_registration(
    rp: &RelyingParty,
    user: &UserHandle,
    user_name: &str,
    display_name: &str,
    existing: &[(Vec<u8>, i64)],
) -> Result<Started, PasskeyError> {
    let handle = UserHandle64::decode(user.0).map_err(internal)?;
    let name = Username::try_from(user_name).map_err(internal)?;
    let display = Nickname::try_from(display_name).ok();
    let mut exclude = Vec::with_capacity(existing.len());
    for (id, transports) in existing {
        exclude.push(PublicKeyCredentialDescriptor {
            id: CredentialId::<Vec<u8>>::decode(id.clone()).map_err(internal)?,
            transports: AuthTransports::decode(u8::try_from(*transports).unwrap_or(0)).map_err(internal)?,
        });
    }
    let entity = PublicKeyCredentialUserEntity {
        name,
        id: &handle,
        display_name: display,
    };
    let mut options = PublicKeyCredentialCreationOptions::passkey(&rp.rp_id, entity, exclude);
    options.pub_key_cred_params = CoseAlgorithmIdentifiers::ALL.remove(CoseAlgorithmIdentifier::Es384);
    // Ask for credProtect but do not make the browser refuse authenticators
    // without it (many platform passkey providers): user verification is
    // required and checked on every use anyway.
    options.extensions.cred_protect = CredProtect::UserVerificationRequired(ExtensionInfo::AllowDontEnforceValue);
    options.timeout = rp.timeout_ms;
    let (server, client) = options.start_ceremony().map_err(internal)?;
    let public_key = serde_json::to_value(&client).map_err(internal)?;
    Ok(Started {
        challenge: server.sent_challenge().0.to_le_bytes(),
        expires_at: unix(server.expiration()),
        state: server.encode().map_err(internal)?,
        options: serde_json::json!({ "publicKey": public_key }),
    })
}

/// Parses the browser's response and returns it with its challenge.
pub fn parse_registration(body: &[u8]) -> Result<(Registration, [u8; 16]), PasskeyError> {
    let reg: Registration = serde_json::from_slice(body).map_err(|_| PasskeyError::Malformed)?;
    let challenge = reg.challenge().map_err(|_| PasskeyError::Malformed)?.0.to_le_bytes();
    Ok((reg, challenge))
}

/// Verifies a registration against its stored ceremony state.
pub fn finish_registration(rp: &RelyingParty, reg: &Registration, state: &[u8]) -> Result<NewPasskey, PasskeyError> {
    let server = RegistrationServerState::<USER_HANDLE_MAX_LEN>::decode(state).map_err(internal)?;
    let options = RegistrationVerificationOptions::<String, String> {
        allowed_origins: &rp.origins,
        ..Default::default()
    };
    let credential = server.verify(&rp.rp_id, reg, &options).map_err(|e| match e {
        RegCeremonyErr::Timeout => PasskeyError::Expired,
        other => PasskeyError::Rejected(format!("{other:?}")),
    })?;
    let (id, transports, user_id, static_state, dynamic_state, _metadata) = credential.into_parts();
    Ok(NewPasskey {
        credential_id: id.encode().map_err(internal)?.to_vec(),
        user_handle: user_id.encode().map_err(internal)?,
        static_state: static_state.encode().map_err(internal)?,
        dynamic_state: dynamic_state.encode().map_err(internal)?.to_vec(),
        transports: i64::from(transports.encode().map_err(internal)?),
        backup_eligible: !matches!(dynamic_state.backup, Backup::NotEligible),
        backed_up: matches!(dynamic_state.backup, Backup::Exists),
    })
}
