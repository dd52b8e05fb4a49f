//! What the identity, passkey and session domains may ask of the database.

use super::{Conn, Db, StoreError, Tx};

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

pub async fn insert_account(tx: &mut Tx<'_>, row: &AccountRow) -> Result<(), StoreError> {
    let r = row;
    on_tx!(tx, |conn| {
        sqlx::query(
            "insert into account (account_id, kind, user_handle, pseudonym, status, verified, flag, display_name, nik, \
             nik_index, unit, created_at, updated_at) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        )
        .bind(&r.account_id)
        .bind(r.kind)
        .bind(&r.user_handle)
        .bind(&r.pseudonym)
        .bind(r.status)
        .bind(r.verified)
        .bind(&r.flag)
        .bind(&r.display_name)
        .bind(&r.nik)
        .bind(&r.nik_index)
        .bind(&r.unit)
        .bind(r.created_at)
        .bind(r.updated_at)
        .execute(conn)
        .await
        .map_err(StoreError::from_write)?;
        Ok(())
    })
}

/// The account holding this NIK index, if any that is not suspended.
pub async fn account_by_nik_index(tx: &mut Tx<'_>, index: &[u8]) -> Result<Option<AccountRow>, StoreError> {
    on_tx!(tx, |conn| {
        let sql = sqlx::AssertSqlSafe(format!(
            "{ACCOUNT} where nik_index = $1 and status not in ('suspended', 'erased')"
        ));
        Ok(sqlx::query_as(sql).bind(index).fetch_optional(conn).await?)
    })
}

pub async fn account_by_id_tx(tx: &mut Tx<'_>, id: &str) -> Result<Option<AccountRow>, StoreError> {
    on_tx!(tx, |exec| {
        let sql = sqlx::AssertSqlSafe(format!("{ACCOUNT} where account_id = $1"));
        Ok(sqlx::query_as(sql).bind(id).fetch_optional(exec).await?)
    })
}

pub async fn account_by_id(db: &Db, id: &str) -> Result<Option<AccountRow>, StoreError> {
    on_db!(db, |exec| {
        let sql = sqlx::AssertSqlSafe(format!("{ACCOUNT} where account_id = $1"));
        Ok(sqlx::query_as(sql).bind(id).fetch_optional(exec).await?)
    })
}

pub async fn set_status(
    tx: &mut Tx<'_>,
    id: &str,
    status: Status,
    flag: Option<&str>,
    now: i64,
) -> Result<(), StoreError> {
    on_tx!(tx, |conn| {
        sqlx::query("update account set status = $2, flag = coalesce($3, flag), updated_at = $4 where account_id = $1")
            .bind(id)
            .bind(status)
            .bind(flag)
            .bind(now)
            .execute(conn)
            .await?;
        Ok(())
    })
}

/// Every officer account, oldest first.
pub async fn officers(db: &Db) -> Result<Vec<AccountRow>, StoreError> {
    on_db!(db, |pool| {
        let sql = sqlx::AssertSqlSafe(format!("{ACCOUNT} where kind = 'officer' order by created_at"));
        Ok(sqlx::query_as(sql).fetch_all(pool).await?)
    })
}

/// Records the unit (office) an officer works for.
pub async fn set_unit(tx: &mut Tx<'_>, id: &str, unit: &str, now: i64) -> Result<(), StoreError> {
    on_tx!(tx, |conn| {
        sqlx::query("update account set unit = $2, updated_at = $3 where account_id = $1 and kind = 'officer'")
            .bind(id)
            .bind(unit)
            .bind(now)
            .execute(conn)
            .await?;
        Ok(())
    })
}

pub async fn insert_role(tx: &mut Tx<'_>, id: &str, role: &str) -> Result<(), StoreError> {
    on_tx!(tx, |conn| {
        sqlx::query("insert into officer_role (account_id, role) values ($1, $2) on conflict do nothing")
            .bind(id)
            .bind(role)
            .execute(conn)
            .await?;
        Ok(())
    })
}

pub async fn roles(db: &Db, id: &str) -> Result<Vec<String>, StoreError> {
    on_db!(db, |pool| {
        let rows: Vec<(String,)> = sqlx::query_as("select role from officer_role where account_id = $1 order by role")
            .bind(id)
            .fetch_all(pool)
            .await?;
        Ok(rows.into_iter().map(|(r,)| r).collect())
    })
}

pub async fn insert_passkey(tx: &mut Tx<'_>, row: &PasskeyRow) -> Result<(), StoreError> {
    let r = row;
    on_tx!(tx, |conn| {
        sqlx::query(
            "insert into passkey (credential_id, account_id, name, static_state, dynamic_state, transports, \
             backup_eligible, backed_up, created_at, last_used_at) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(&r.credential_id)
        .bind(&r.account_id)
        .bind(&r.name)
        .bind(&r.static_state)
        .bind(&r.dynamic_state)
        .bind(r.transports)
        .bind(r.backup_eligible)
        .bind(r.backed_up)
        .bind(r.created_at)
        .bind(r.last_used_at)
        .execute(conn)
        .await
        .map_err(StoreError::from_write)?;
        Ok(())
    })
}

pub async fn passkey_tx(tx: &mut Tx<'_>, credential_id: &[u8]) -> Result<Option<PasskeyRow>, StoreError> {
    on_tx!(tx, |conn| {
        let sql = sqlx::AssertSqlSafe(format!("{PASSKEY} where credential_id = $1"));
        Ok(sqlx::query_as(sql).bind(credential_id).fetch_optional(conn).await?)
    })
}

pub async fn passkeys_of(db: &Db, account_id: &str) -> Result<Vec<PasskeyRow>, StoreError> {
    on_db!(db, |pool| {
        let sql = sqlx::AssertSqlSafe(format!("{PASSKEY} where account_id = $1 order by created_at"));
        Ok(sqlx::query_as(sql).bind(account_id).fetch_all(pool).await?)
    })
}

/// Records a use of a passkey, if its stored dynamic state is still
/// `expected` (compare and set: two concurrent uses of a cloned key cannot
/// both pass the counter check). Returns whether it was updated.
pub async fn update_passkey_use(
    tx: &mut Tx<'_>,
    credential_id: &[u8],
    expected: &[u8],
    dynamic_state: &[u8],
    backed_up: bool,
    now: i64,
) -> Result<bool, StoreError> {
    on_tx!(tx, |conn| {
        let done = sqlx::query(
            "update passkey set dynamic_state = $3, backed_up = $4, last_used_at = $5 \
             where credential_id = $1 and dynamic_state = $2",
        )
        .bind(credential_id)
        .bind(expected)
        .bind(dynamic_state)
        .bind(backed_up)
        .bind(now)
        .execute(conn)
        .await?;
        Ok(done.rows_affected() == 1)
    })
}

pub async fn insert_ceremony(tx: &mut Tx<'_>, row: &CeremonyRow) -> Result<(), StoreError> {
    let r = row;
    on_tx!(tx, |conn| {
        sqlx::query(
            "insert into ceremony (challenge, kind, account_id, state, payload, expires_at) \
             values ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&r.challenge)
        .bind(&r.kind)
        .bind(&r.account_id)
        .bind(&r.state)
        .bind(&r.payload)
        .bind(r.expires_at)
        .execute(conn)
        .await?;
        Ok(())
    })
}

/// Removes and returns the ceremony for `challenge`: a second call for the
/// same challenge finds nothing (the replay defence).
pub async fn take_ceremony(tx: &mut Tx<'_>, challenge: &[u8]) -> Result<Option<CeremonyRow>, StoreError> {
    on_tx!(tx, |conn| {
        Ok(sqlx::query_as(
            "delete from ceremony where challenge = $1 returning challenge, kind, account_id, state, payload, expires_at",
        )
        .bind(challenge)
        .fetch_optional(conn)
        .await?)
    })
}

/// Deletes ceremonies that expired before `now`; returns how many.
pub async fn delete_expired_ceremonies(tx: &mut Tx<'_>, now: i64) -> Result<u64, StoreError> {
    on_tx!(tx, |conn| {
        let done = sqlx::query("delete from ceremony where expires_at < $1")
            .bind(now)
            .execute(conn)
            .await?;
        Ok(done.rows_affected())
    })
}

/// Deletes expired sessions, used or expired codes and expired ceremonies;
/// returns how many of each (sessions, enrolment codes, recovery codes, ceremonies).
pub async fn purge_expired(tx: &mut Tx<'_>, now: i64, idle_secs: i64) -> Result<[u64; 4], StoreError> {
    on_tx!(tx, |conn| {
        let sessions = sqlx::query("delete from session where expires_at <= $1 or last_seen_at <= $2")
            .bind(now)
            .bind(now.saturating_sub(idle_secs))
            .execute(&mut *conn)
            .await?
            .rows_affected();
        let codes = sqlx::query(
            "delete from enrolment_code where (used_at is not null or expires_at <= $1) \
             and code_hash not in (select code_hash from counter_recovery where reviewed_at is null)",
        )
        .bind(now)
        .execute(&mut *conn)
        .await?
        .rows_affected();
        let recovery = sqlx::query("delete from recovery_code where used_at is not null")
            .execute(&mut *conn)
            .await?
            .rows_affected();
        let ceremonies = sqlx::query("delete from ceremony where expires_at <= $1")
            .bind(now)
            .execute(&mut *conn)
            .await?
            .rows_affected();
        Ok([sessions, codes, recovery, ceremonies])
    })
}

pub async fn insert_session(tx: &mut Tx<'_>, row: &SessionRow) -> Result<(), StoreError> {
    let r = row;
    on_tx!(tx, |conn| {
        sqlx::query(
            "insert into session (token_hash, session_id, account_id, credential_id, csrf_token, user_agent, ip, \
             created_at, last_seen_at, expires_at) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(&r.token_hash)
        .bind(&r.session_id)
        .bind(&r.account_id)
        .bind(&r.credential_id)
        .bind(&r.csrf_token)
        .bind(&r.user_agent)
        .bind(&r.ip)
        .bind(r.created_at)
        .bind(r.last_seen_at)
        .bind(r.expires_at)
        .execute(conn)
        .await?;
        Ok(())
    })
}

pub async fn session_by_hash(db: &Db, token_hash: &[u8]) -> Result<Option<SessionRow>, StoreError> {
    on_db!(db, |pool| {
        let sql = sqlx::AssertSqlSafe(format!("{SESSION} where token_hash = $1"));
        Ok(sqlx::query_as(sql).bind(token_hash).fetch_optional(pool).await?)
    })
}

pub async fn sessions_of(db: &Db, account_id: &str) -> Result<Vec<SessionRow>, StoreError> {
    on_db!(db, |pool| {
        let sql = sqlx::AssertSqlSafe(format!("{SESSION} where account_id = $1 order by created_at"));
        Ok(sqlx::query_as(sql).bind(account_id).fetch_all(pool).await?)
    })
}

pub async fn touch_session(tx: &mut Tx<'_>, session_id: &str, now: i64) -> Result<(), StoreError> {
    on_tx!(tx, |conn| {
        sqlx::query("update session set last_seen_at = $2 where session_id = $1")
            .bind(session_id)
            .bind(now)
            .execute(conn)
            .await?;
        Ok(())
    })
}

/// Deletes one session of `account_id`; returns whether it existed.
pub async fn delete_session(tx: &mut Tx<'_>, account_id: &str, session_id: &str) -> Result<bool, StoreError> {
    on_tx!(tx, |conn| {
        let done = sqlx::query("delete from session where account_id = $1 and session_id = $2")
            .bind(account_id)
            .bind(session_id)
            .execute(conn)
            .await?;
        Ok(done.rows_affected() > 0)
    })
}

pub async fn delete_sessions_of(tx: &mut Tx<'_>, account_id: &str) -> Result<u64, StoreError> {
    on_tx!(tx, |conn| {
        let done = sqlx::query("delete from session where account_id = $1")
            .bind(account_id)
            .execute(conn)
            .await?;
        Ok(done.rows_affected())
    })
}

pub async fn set_verified(tx: &mut Tx<'_>, id: &str, verified: bool, now: i64) -> Result<(), StoreError> {
    on_tx!(tx, |conn| {
        sqlx::query("update account set verified = $2, updated_at = $3 where account_id = $1")
            .bind(id)
            .bind(verified)
            .bind(now)
            .execute(conn)
            .await?;
        Ok(())
    })
}

/// Replaces an account's recovery codes with these hashes.
pub async fn replace_recovery_codes(
    tx: &mut Tx<'_>,
    account_id: &str,
    hashes: &[Vec<u8>],
    now: i64,
) -> Result<(), StoreError> {
    on_tx!(tx, |conn| {
        sqlx::query("delete from recovery_code where account_id = $1")
            .bind(account_id)
            .execute(&mut *conn)
            .await?;
        for hash in hashes {
            sqlx::query("insert into recovery_code (account_id, code_hash, created_at) values ($1, $2, $3)")
                .bind(account_id)
                .bind(hash)
                .bind(now)
                .execute(&mut *conn)
                .await?;
        }
        Ok(())
    })
}

/// Marks a recovery code used; false if it does not exist or was used.
pub async fn use_recovery_code(tx: &mut Tx<'_>, account_id: &str, hash: &[u8], now: i64) -> Result<bool, StoreError> {
    on_tx!(tx, |conn| {
        let done = sqlx::query(
            "update recovery_code set used_at = $3 where account_id = $1 and code_hash = $2 and used_at is null",
        )
        .bind(account_id)
        .bind(hash)
        .bind(now)
        .execute(conn)
        .await?;
        Ok(done.rows_affected() == 1)
    })
}

pub async fn unused_recovery_codes_tx(tx: &mut Tx<'_>, account_id: &str) -> Result<i64, StoreError> {
    on_tx!(tx, |exec| {
        let (n,): (i64,) =
            sqlx::query_as("select count(*) from recovery_code where account_id = $1 and used_at is null")
                .bind(account_id)
                .fetch_one(exec)
                .await?;
        Ok(n)
    })
}

pub async fn unused_recovery_codes(db: &Db, account_id: &str) -> Result<i64, StoreError> {
    on_db!(db, |exec| {
        let (n,): (i64,) =
            sqlx::query_as("select count(*) from recovery_code where account_id = $1 and used_at is null")
                .bind(account_id)
                .fetch_one(exec)
                .await?;
        Ok(n)
    })
}

pub async fn insert_enrolment_code(tx: &mut Tx<'_>, row: &EnrolmentCodeRow) -> Result<(), StoreError> {
    let r = row;
    on_tx!(tx, |conn| {
        sqlx::query(
            "insert into enrolment_code (code_hash, account_id, purpose, issued_by, revoke_old, nik_index, created_at, \
             expires_at, used_at) values ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(&r.code_hash)
        .bind(&r.account_id)
        .bind(&r.purpose)
        .bind(&r.issued_by)
        .bind(r.revoke_old)
        .bind(&r.nik_index)
        .bind(r.created_at)
        .bind(r.expires_at)
        .bind(r.used_at)
        .execute(conn)
        .await?;
        Ok(())
    })
}

/// Marks an unexpired, unused code used and returns it (single use).
pub async fn claim_enrolment_code(
    tx: &mut Tx<'_>,
    hash: &[u8],
    now: i64,
) -> Result<Option<EnrolmentCodeRow>, StoreError> {
    on_tx!(tx, |conn| {
        Ok(sqlx::query_as(
            "update enrolment_code set used_at = $2 where code_hash = $1 and used_at is null and expires_at >= $2 \
             returning code_hash, account_id, purpose, issued_by, revoke_old, nik_index, created_at, expires_at, used_at",
        )
        .bind(hash)
        .bind(now)
        .fetch_optional(conn)
        .await?)
    })
}

pub async fn passkeys_of_tx(tx: &mut Tx<'_>, account_id: &str) -> Result<Vec<PasskeyRow>, StoreError> {
    on_tx!(tx, |conn| {
        let sql = sqlx::AssertSqlSafe(format!("{PASSKEY} where account_id = $1 order by created_at"));
        Ok(sqlx::query_as(sql).bind(account_id).fetch_all(conn).await?)
    })
}

pub async fn rename_passkey(
    tx: &mut Tx<'_>,
    account_id: &str,
    credential_id: &[u8],
    name: &str,
) -> Result<bool, StoreError> {
    on_tx!(tx, |conn| {
        let done = sqlx::query("update passkey set name = $3 where account_id = $1 and credential_id = $2")
            .bind(account_id)
            .bind(credential_id)
            .bind(name)
            .execute(conn)
            .await?;
        Ok(done.rows_affected() == 1)
    })
}

pub async fn delete_passkey(tx: &mut Tx<'_>, account_id: &str, credential_id: &[u8]) -> Result<bool, StoreError> {
    on_tx!(tx, |conn| {
        let done = sqlx::query("delete from passkey where account_id = $1 and credential_id = $2")
            .bind(account_id)
            .bind(credential_id)
            .execute(conn)
            .await?;
        Ok(done.rows_affected() == 1)
    })
}

pub async fn delete_passkeys_of(tx: &mut Tx<'_>, account_id: &str) -> Result<u64, StoreError> {
    on_tx!(tx, |conn| {
        let done = sqlx::query("delete from passkey where account_id = $1")
            .bind(account_id)
            .execute(conn)
            .await?;
        Ok(done.rows_affected())
    })
}

/// Ends the sessions that were started with this passkey.
pub async fn delete_sessions_of_passkey(
    tx: &mut Tx<'_>,
    account_id: &str,
    credential_id: &[u8],
) -> Result<u64, StoreError> {
    on_tx!(tx, |conn| {
        let done = sqlx::query("delete from session where account_id = $1 and credential_id = $2")
            .bind(account_id)
            .bind(credential_id)
            .execute(conn)
            .await?;
        Ok(done.rows_affected())
    })
}

/// An unused, unexpired code (not spent: see [`claim_enrolment_code`]).
pub async fn enrolment_code_live(
    tx: &mut Tx<'_>,
    hash: &[u8],
    now: i64,
) -> Result<Option<EnrolmentCodeRow>, StoreError> {
    on_tx!(tx, |conn| {
        Ok(sqlx::query_as(
            "select code_hash, account_id, purpose, issued_by, revoke_old, nik_index, created_at, expires_at, used_at \
             from enrolment_code where code_hash = $1 and used_at is null and expires_at >= $2",
        )
        .bind(hash)
        .bind(now)
        .fetch_optional(conn)
        .await?)
    })
}

/// Whether this recovery code exists and is unused (not spent).
pub async fn recovery_code_unused(tx: &mut Tx<'_>, account_id: &str, hash: &[u8]) -> Result<bool, StoreError> {
    on_tx!(tx, |conn| {
        let (n,): (i64,) = sqlx::query_as(
            "select count(*) from recovery_code where account_id = $1 and code_hash = $2 and used_at is null",
        )
        .bind(account_id)
        .bind(hash)
        .fetch_one(conn)
        .await?;
        Ok(n == 1)
    })
}

/// Ends every live enrolment or recovery code of an account (a newer code
/// replaces them; a used one ends its siblings).
pub async fn void_enrolment_codes(tx: &mut Tx<'_>, account_id: &str, now: i64) -> Result<u64, StoreError> {
    on_tx!(tx, |conn| {
        let done = sqlx::query(
            "update enrolment_code set used_at = $2 where account_id = $1 and used_at is null and purpose <> 'verify'",
        )
        .bind(account_id)
        .bind(now)
        .execute(conn)
        .await?;
        Ok(done.rows_affected())
    })
}

/// The newest unused counter code waiting to give an account this NIK index.
pub async fn live_code_for_nik_index(
    tx: &mut Tx<'_>,
    index: &[u8],
    now: i64,
) -> Result<Option<EnrolmentCodeRow>, StoreError> {
    on_tx!(tx, |conn| {
        Ok(sqlx::query_as(
            "select code_hash, account_id, purpose, issued_by, revoke_old, nik_index, created_at, expires_at, used_at \
             from enrolment_code where nik_index = $1 and used_at is null and expires_at >= $2 \
             order by created_at desc limit 1",
        )
        .bind(index)
        .bind(now)
        .fetch_optional(conn)
        .await?)
    })
}

/// Gives an account the NIK index it was enrolled for at the counter.
pub async fn set_nik_index(tx: &mut Tx<'_>, account_id: &str, index: &[u8], now: i64) -> Result<(), StoreError> {
    on_tx!(tx, |conn| {
        sqlx::query("update account set nik_index = $2, updated_at = $3 where account_id = $1")
            .bind(account_id)
            .bind(index)
            .bind(now)
            .execute(conn)
            .await
            .map_err(StoreError::from_write)?;
        Ok(())
    })
}

/// Ends the live counter codes waiting to give an account this NIK index.
pub async fn void_codes_for_nik_index(tx: &mut Tx<'_>, index: &[u8], now: i64) -> Result<u64, StoreError> {
    on_tx!(tx, |conn| {
        let done = sqlx::query("update enrolment_code set used_at = $2 where nik_index = $1 and used_at is null")
            .bind(index)
            .bind(now)
            .execute(conn)
            .await?;
        Ok(done.rows_affected())
    })
}

/// Serialises changes to one account's passkeys (PostgreSQL row lock; the
/// SQLite writer is already alone).
pub async fn lock_account(tx: &mut Tx<'_>, account_id: &str) -> Result<(), StoreError> {
    // The one statement that differs: SQLite's writer already holds the
    // database lock (BEGIN IMMEDIATE); PostgreSQL locks the account row.
    match tx.conn().await? {
        Conn::Sqlite(conn) => {
            sqlx::query("select 1 from account where account_id = $1")
                .bind(account_id)
                .execute(conn)
                .await?;
        }
        Conn::Postgres(conn) => {
            sqlx::query("select 1 from account where account_id = $1 for update")
                .bind(account_id)
                .execute(conn)
                .await?;
        }
    }
    Ok(())
}

/// Accounts whose NIK or name still sit in plaintext columns.
pub async fn accounts_with_plaintext(db: &Db) -> Result<Vec<AccountRow>, StoreError> {
    on_db!(db, |pool| {
        let sql = sqlx::AssertSqlSafe(format!("{ACCOUNT} where nik is not null or display_name <> ''"));
        Ok(sqlx::query_as(sql).fetch_all(pool).await?)
    })
}

pub async fn clear_plaintext(tx: &mut Tx<'_>, account_id: &str, now: i64) -> Result<(), StoreError> {
    on_tx!(tx, |conn| {
        sqlx::query("update account set nik = null, display_name = '', updated_at = $2 where account_id = $1")
            .bind(account_id)
            .bind(now)
            .execute(conn)
            .await?;
        Ok(())
    })
}

pub async fn account_by_pseudonym_tx(tx: &mut Tx<'_>, pseudonym: &str) -> Result<Option<AccountRow>, StoreError> {
    on_tx!(tx, |exec| {
        let sql = sqlx::AssertSqlSafe(format!("{ACCOUNT} where pseudonym = $1"));
        Ok(sqlx::query_as(sql).bind(pseudonym).fetch_optional(exec).await?)
    })
}

/// The accounts of several pseudonyms, in one query (unknown ones are
/// simply absent).
pub async fn accounts_by_pseudonyms(db: &Db, pseudonyms: &[&str]) -> Result<Vec<AccountRow>, StoreError> {
    if pseudonyms.is_empty() {
        return Ok(Vec::new());
    }
    on_db!(db, |pool| {
        let mut q = sqlx::QueryBuilder::new(format!("{ACCOUNT} where pseudonym in ("));
        let mut list = q.separated(", ");
        for p in pseudonyms {
            list.push_bind(*p);
        }
        q.push(")");
        Ok(q.build_query_as().fetch_all(pool).await?)
    })
}

pub async fn account_by_pseudonym(db: &Db, pseudonym: &str) -> Result<Option<AccountRow>, StoreError> {
    on_db!(db, |exec| {
        let sql = sqlx::AssertSqlSafe(format!("{ACCOUNT} where pseudonym = $1"));
        Ok(sqlx::query_as(sql).bind(pseudonym).fetch_optional(exec).await?)
    })
}

/// Marks an account erased: no NIK index, no name, no recovery codes, no usable codes.
pub async fn mark_erased(tx: &mut Tx<'_>, account_id: &str, now: i64) -> Result<(), StoreError> {
    on_tx!(tx, |conn| {
        sqlx::query(
            "update account set status = 'erased', nik = null, nik_index = null, display_name = '', flag = null, \
             updated_at = $2 where account_id = $1",
        )
        .bind(account_id)
        .bind(now)
        .execute(&mut *conn)
        .await?;
        sqlx::query("delete from recovery_code where account_id = $1")
            .bind(account_id)
            .execute(&mut *conn)
            .await?;
        sqlx::query(
            "update enrolment_code set nik_index = null, used_at = coalesce(used_at, $2) where account_id = $1",
        )
        .bind(account_id)
        .bind(now)
        .execute(conn)
        .await?;
        Ok(())
    })
}

/// Re-points the NIK index carried by an account's codes (index-key rotation).
pub async fn set_code_nik_indexes(tx: &mut Tx<'_>, account_id: &str, index: &[u8]) -> Result<u64, StoreError> {
    on_tx!(tx, |conn| {
        let done =
            sqlx::query("update enrolment_code set nik_index = $2 where account_id = $1 and nik_index is not null")
                .bind(account_id)
                .bind(index)
                .execute(conn)
                .await?;
        Ok(done.rows_affected())
    })
}

/// Read side: the account holding this NIK index, if any that is not suspended or erased.
pub async fn account_by_nik_index_db(db: &Db, index: &[u8]) -> Result<Option<AccountRow>, StoreError> {
    on_db!(db, |conn| {
        let sql = sqlx::AssertSqlSafe(format!(
            "{ACCOUNT} where nik_index = $1 and status not in ('suspended', 'erased')"
        ));
        Ok(sqlx::query_as(sql).bind(index).fetch_optional(conn).await?)
    })
}

pub async fn insert_counter_recovery(tx: &mut Tx<'_>, row: &CounterRecoveryRow) -> Result<(), StoreError> {
    let r = row;
    on_tx!(tx, |conn| {
        sqlx::query(
            "insert into counter_recovery (code_hash, account_id, officer_id, officer_unit, issued_at, completed_at) \
             values ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&r.code_hash)
        .bind(&r.account_id)
        .bind(&r.officer_id)
        .bind(&r.officer_unit)
        .bind(r.issued_at)
        .bind(r.completed_at)
        .execute(conn)
        .await?;
        Ok(())
    })
}

/// Marks the counter recovery of this code done; false if there was none.
pub async fn complete_counter_recovery(tx: &mut Tx<'_>, code_hash: &[u8], now: i64) -> Result<bool, StoreError> {
    on_tx!(tx, |conn| {
        let done =
            sqlx::query("update counter_recovery set completed_at = $2 where code_hash = $1 and completed_at is null")
                .bind(code_hash)
                .bind(now)
                .execute(conn)
                .await?;
        Ok(done.rows_affected() == 1)
    })
}

/// The account's latest completed counter recovery, if any.
pub async fn last_counter_recovery(db: &Db, account_id: &str) -> Result<Option<CounterRecoveryRow>, StoreError> {
    on_db!(db, |exec| {
        Ok(sqlx::query_as(
            "select code_hash, account_id, officer_id, officer_unit, issued_at, completed_at, reviewed_at \
             from counter_recovery where account_id = $1 and completed_at is not null \
             order by completed_at desc limit 1",
        )
        .bind(account_id)
        .fetch_optional(exec)
        .await?)
    })
}

/// Counter recoveries no security officer has reviewed yet, oldest first.
pub async fn unreviewed_counter_recoveries(db: &Db, limit: i64) -> Result<Vec<CounterRecoveryRow>, StoreError> {
    on_db!(db, |exec| {
        Ok(sqlx::query_as(
            "select code_hash, account_id, officer_id, officer_unit, issued_at, completed_at, reviewed_at \
             from counter_recovery where reviewed_at is null order by issued_at limit $1",
        )
        .bind(limit)
        .fetch_all(exec)
        .await?)
    })
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
