//! What the identity, passkey and session domains may ask of the database.

mod accounts;
mod codes;
mod passkeys;
mod sessions;

pub use accounts::*;
pub use codes::*;
pub use passkeys::*;
pub use sessions::*;

const ACCOUNT: &str = "select account_id, kind, user_handle, pseudonym, status, verified, flag, display_name, nik, \
     nik_index, unit, created_at, updated_at from account";
const PASSKEY: &str = "select credential_id, account_id, name, static_state, dynamic_state, transports, \
     backup_eligible, backed_up, created_at, last_used_at from passkey";
const SESSION: &str = "select token_hash, session_id, account_id, credential_id, csrf_token, user_agent, ip, \
     created_at, last_seen_at, expires_at from session";

/// An account's kind, stored as text (`citizen`, `officer`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountKind {
    Citizen,
    Officer,
}

impl AccountKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Citizen => "citizen",
            Self::Officer => "officer",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Citizen, Self::Officer].into_iter().find(|k| k.as_str() == s)
    }
}

/// An account's status, stored as text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Pending,
    Active,
    Suspended,
    Erased,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Active => "active",
            Self::Suspended => "suspended",
            Self::Erased => "erased",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Pending, Self::Active, Self::Suspended, Self::Erased]
            .into_iter()
            .find(|k| k.as_str() == s)
    }

    /// Whether an account in this status may sign in.
    pub fn may_sign_in(self) -> bool {
        matches!(self, Self::Pending | Self::Active)
    }
}

/// Stores an enum as its text (`as_str`) on either backend, and refuses
/// unknown text when reading (a corrupt row, not a default).
macro_rules! text_column {
    ($ty:ty, $what:literal) => {
        impl<DB: sqlx::Database> sqlx::Type<DB> for $ty
        where
            str: sqlx::Type<DB>,
        {
            fn type_info() -> DB::TypeInfo {
                <str as sqlx::Type<DB>>::type_info()
            }

            fn compatible(ty: &DB::TypeInfo) -> bool {
                <str as sqlx::Type<DB>>::compatible(ty)
            }
        }

        impl<'q, DB: sqlx::Database> sqlx::Encode<'q, DB> for $ty
        where
            &'q str: sqlx::Encode<'q, DB>,
        {
            fn encode_by_ref(
                &self,
                buf: &mut <DB as sqlx::Database>::ArgumentBuffer,
            ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
                <&'q str as sqlx::Encode<'q, DB>>::encode(self.as_str(), buf)
            }
        }

        impl<'r, DB: sqlx::Database> sqlx::Decode<'r, DB> for $ty
        where
            &'r str: sqlx::Decode<'r, DB>,
        {
            fn decode(value: <DB as sqlx::Database>::ValueRef<'r>) -> Result<Self, sqlx::error::BoxDynError> {
                let text = <&'r str as sqlx::Decode<'r, DB>>::decode(value)?;
                Self::parse(text).ok_or_else(|| format!(concat!("unknown ", $what, " {:?}"), text).into())
            }
        }
    };
}

text_column!(AccountKind, "account kind");
text_column!(Status, "account status");

/// An account row. Its `Debug` hides the personal data (NIK, name).
#[derive(Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AccountRow {
    pub account_id: String,
    pub kind: AccountKind,
    pub user_handle: Vec<u8>,
    pub pseudonym: String,
    pub status: Status,
    pub verified: bool,
    pub flag: Option<String>,
    pub display_name: String,
    pub nik: Option<String>,
    pub nik_index: Option<Vec<u8>>,
    /// An officer's unit (office), shown to citizens with the officer's role.
    pub unit: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl std::fmt::Debug for AccountRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccountRow")
            .field("account_id", &self.account_id)
            .field("kind", &self.kind)
            .field("pseudonym", &self.pseudonym)
            .field("status", &self.status)
            .field("verified", &self.verified)
            .field("flag", &self.flag)
            .field("display_name", &"<redacted>")
            .field("nik", &self.nik.as_ref().map(|_| "<redacted>"))
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PasskeyRow {
    pub credential_id: Vec<u8>,
    pub account_id: String,
    pub name: String,
    pub static_state: Vec<u8>,
    pub dynamic_state: Vec<u8>,
    pub transports: i64,
    pub backup_eligible: bool,
    pub backed_up: bool,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct CeremonyRow {
    pub challenge: Vec<u8>,
    pub kind: String,
    pub account_id: Option<String>,
    pub state: Vec<u8>,
    pub payload: String,
    pub expires_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SessionRow {
    pub token_hash: Vec<u8>,
    pub session_id: String,
    pub account_id: String,
    pub credential_id: Option<Vec<u8>>,
    pub csrf_token: String,
    pub user_agent: String,
    pub ip: String,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub expires_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct EnrolmentCodeRow {
    pub code_hash: Vec<u8>,
    pub account_id: String,
    pub purpose: String,
    pub issued_by: Option<String>,
    pub revoke_old: bool,
    pub nik_index: Option<Vec<u8>>,
    pub created_at: i64,
    pub expires_at: i64,
    pub used_at: Option<i64>,
}

/// A recovery started by a counter officer: shown to the citizen once used,
/// and waiting for a security officer's review.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct CounterRecoveryRow {
    pub code_hash: Vec<u8>,
    pub account_id: String,
    pub officer_id: String,
    pub officer_unit: Option<String>,
    pub issued_at: i64,
    pub completed_at: Option<i64>,
    pub reviewed_at: Option<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_debug_hides_personal_data() {
        let row = AccountRow {
            account_id: "a".into(),
            kind: AccountKind::Citizen,
            user_handle: vec![1; 64],
            pseudonym: "ctz_x".into(),
            status: Status::Active,
            verified: false,
            flag: None,
            display_name: "Kanari Canarysdottir".into(),
            nik: Some("3171015207990007".into()),
            nik_index: None,
            unit: None,
            created_at: 0,
            updated_at: 0,
        };
        let shown = format!("{row:?}");
        assert!(
            !shown.contains("Kanari") && !shown.contains("3171015207990007"),
            "{shown}"
        );
        assert!(shown.contains("ctz_x"));
    }
}
