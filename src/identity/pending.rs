//! What a registration ceremony carries from its start to its finish.

use serde::{Deserialize, Serialize};

use super::enrol::EnrolError;
use crate::passkeys::{self, PasskeyError};
use crate::store::identity::CeremonyRow;

/// What a registration ceremony is for, kept with its state. Its `Debug`
/// shows the flow only (a self-enrolment carries a NIK and a name).
#[derive(Serialize, Deserialize)]
#[serde(tag = "flow", rename_all = "snake_case")]
pub(crate) enum Pending {
    SelfEnrol {
        account_id: String,
        pseudonym: String,
        user_handle: String,
        /// NIK and name, sealed: no plaintext in the ceremony row either.
        personal: SealedPersonal,
    },
    AddPasskey {
        account_id: String,
    },
    Recover {
        account_id: String,
        /// The recovery code, spent when the passkey is stored.
        code_hash: String,
    },
    Code {
        account_id: String,
        purpose: String,
        revoke_old: bool,
        sign_in: bool,
        /// The enrolment code, spent when the passkey is stored.
        code_hash: String,
        /// Issued by a counter officer (not from the command line).
        #[serde(default)]
        by_officer: bool,
    },
}

/// NIK and name carried from the start of a self-enrolment to its finish,
/// sealed under a one-off data key wrapped by the vault's KEK and bound to
/// the future account id.
#[derive(Serialize, Deserialize)]
pub(crate) struct SealedPersonal {
    kek_version: u32,
    wrapped_key: String,
    nik: String,
    name: String,
}

impl SealedPersonal {
    fn binding<'a>(account_id: &'a str, field: &'a str) -> crate::vault::field::Binding<'a> {
        crate::vault::field::Binding {
            citizen_id: account_id,
            field,
            record_version: 0,
        }
    }

    pub(crate) fn seal(
        keks: &dyn crate::vault::KeyProvider,
        account_id: &str,
        nik: &str,
        name: &str,
    ) -> Result<Self, crate::vault::VaultError> {
        use crate::vault::field::seal;
        let key = crate::vault::DataKey::generate()?;
        let wrapped = key.wrap(account_id, keks)?;
        Ok(Self {
            kek_version: wrapped.kek_version,
            wrapped_key: hex::encode(&wrapped.bytes),
            nik: hex::encode(seal(
                &key,
                1,
                &Self::binding(account_id, "ceremony.nik"),
                nik.as_bytes(),
            )?),
            name: hex::encode(seal(
                &key,
                1,
                &Self::binding(account_id, "ceremony.name"),
                name.as_bytes(),
            )?),
        })
    }

    pub(crate) fn open(
        &self,
        keks: &dyn crate::vault::KeyProvider,
        account_id: &str,
    ) -> Result<(String, String), crate::vault::VaultError> {
        use crate::vault::Undecryptable;
        use crate::vault::field::open;
        let bytes = |h: &str| hex::decode(h).map_err(|_| Undecryptable);
        let wrapped = crate::vault::WrappedKey {
            kek_version: self.kek_version,
            bytes: bytes(&self.wrapped_key)?,
        };
        let key = crate::vault::DataKey::unwrap(&wrapped, account_id, keks)?;
        let text = |sealed: &str, field: &str| -> Result<String, crate::vault::VaultError> {
            let plain = open(&key, &Self::binding(account_id, field), &bytes(sealed)?)?;
            String::from_utf8(plain.to_vec()).map_err(|_| Undecryptable.into())
        };
        Ok((text(&self.nik, "ceremony.nik")?, text(&self.name, "ceremony.name")?))
    }
}

impl std::fmt::Debug for Pending {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let flow = match self {
            Pending::SelfEnrol { .. } => "self_enrol",
            Pending::AddPasskey { .. } => "add_passkey",
            Pending::Recover { .. } => "recover",
            Pending::Code { .. } => "code",
        };
        f.debug_struct("Pending").field("flow", &flow).finish_non_exhaustive()
    }
}

pub(crate) fn ceremony_row(started: &passkeys::Started, pending: &Pending) -> Result<CeremonyRow, EnrolError> {
    Ok(CeremonyRow {
        challenge: started.challenge.to_vec(),
        kind: "register".into(),
        account_id: None,
        state: started.state.clone(),
        payload: serde_json::to_string(pending).map_err(|e| PasskeyError::Internal(e.to_string()))?,
        expires_at: started.expires_at,
    })
}
