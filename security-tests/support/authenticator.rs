//! 1Password's software authenticator with a credential store that can
//! answer discoverable (empty allow-list) requests.

use std::collections::HashMap;

use passkey_authenticator::{
    Authenticator, CredentialStore, DiscoverabilitySupport, StoreInfo, UiHint, UserCheck, UserValidationMethod,
};
use passkey_client::Client;
use passkey_crypto::rust_crypto::RustCryptoBackend;
use passkey_types::Passkey;
use passkey_types::ctap2::make_credential::{Options, PublicKeyCredentialRpEntity, PublicKeyCredentialUserEntity};
use passkey_types::ctap2::{Aaguid, Ctap2Error, StatusCode};
use passkey_types::webauthn::PublicKeyCredentialDescriptor;

#[derive(Debug, Default)]
pub struct RpStore {
    pub by_rp: HashMap<String, Vec<Passkey>>,
}

#[async_trait::async_trait]
impl CredentialStore for RpStore {
    type PasskeyItem = Passkey;

    async fn find_credentials(
        &self,
        ids: Option<&[PublicKeyCredentialDescriptor]>,
        rp_id: &str,
        _user_handle: Option<&[u8]>,
    ) -> Result<Vec<Passkey>, StatusCode> {
        let found: Vec<Passkey> = self.by_rp.get(rp_id).map_or_else(Vec::new, |list| {
            list.iter()
                .rev()
                .filter(|pk| ids.is_none_or(|ids| ids.iter().any(|d| d.id == pk.credential_id)))
                .cloned()
                .collect()
        });
        if found.is_empty() {
            Err(Ctap2Error::NoCredentials.into())
        } else {
            Ok(found)
        }
    }

    async fn save_credential(
        &mut self,
        cred: Passkey,
        user: PublicKeyCredentialUserEntity,
        rp: PublicKeyCredentialRpEntity,
        _options: Options,
    ) -> Result<(), StatusCode> {
        let list = self.by_rp.entry(rp.id).or_default();
        list.retain(|pk| pk.user_handle.as_ref() != Some(&user.id) || pk.credential_id == cred.credential_id);
        list.push(cred);
        Ok(())
    }

    async fn update_credential(&mut self, cred: &Passkey) -> Result<(), StatusCode> {
        let slot = self
            .by_rp
            .get_mut(&cred.rp_id)
            .and_then(|l| l.iter_mut().find(|pk| pk.credential_id == cred.credential_id))
            .ok_or(StatusCode::from(Ctap2Error::NoCredentials))?;
        *slot = cred.clone();
        Ok(())
    }

    async fn get_info(&self) -> StoreInfo {
        StoreInfo {
            discoverability: DiscoverabilitySupport::ForcedDiscoverable,
        }
    }
}

/// User verification that the test can switch off.
#[derive(Debug)]
pub struct TestUv {
    pub verify: bool,
}

#[async_trait::async_trait]
impl UserValidationMethod for TestUv {
    type PasskeyItem = Passkey;

    async fn check_user<'a>(
        &self,
        hint: UiHint<'a, Passkey>,
        presence: bool,
        verification: bool,
    ) -> Result<UserCheck, Ctap2Error> {
        if matches!(hint, UiHint::InformExcludedCredentialFound(_)) {
            return Err(Ctap2Error::CredentialExcluded);
        }
        Ok(UserCheck {
            presence,
            verification: verification && self.verify,
        })
    }

    fn is_presence_enabled(&self) -> bool {
        true
    }

    fn is_verification_enabled(&self) -> Option<bool> {
        Some(true)
    }
}

pub type PasskeyClient = Client<RpStore, TestUv, RustCryptoBackend, public_suffix::PublicSuffixList, ()>;

/// A fresh authenticator with a signature counter.
pub fn new_client() -> PasskeyClient {
    let mut authenticator = Authenticator::new(
        Aaguid::new_empty(),
        RpStore::default(),
        TestUv { verify: true },
        RustCryptoBackend,
    );
    authenticator.set_make_credentials_with_signature_counter(true);
    Client::new(authenticator).allows_insecure_localhost(true)
}
