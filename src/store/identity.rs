//! What the identity, passkey and session domains may ask of the database.

use super::{Conn, Db, StoreError, Tx, postgres, sqlite};

/// An account row. Its `Debug` hides the personal data (NIK, name).
#[derive(Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AccountRow {
    pub account_id: String,
    pub kind: String,
    pub user_handle: Vec<u8>,
    pub pseudonym: String,
    pub status: String,
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

macro_rules! dispatch_tx {
    ($tx:expr, $f:ident $(, $arg:expr)*) => {
        match $tx.conn().await? {
            Conn::Sqlite(c) => sqlite::identity::$f(c $(, $arg)*).await,
            Conn::Postgres(c) => postgres::identity::$f(c $(, $arg)*).await,
        }
    };
}

macro_rules! dispatch_db {
    ($db:expr, $f:ident $(, $arg:expr)*) => {
        match $db {
            Db::Sqlite(d) => sqlite::identity::$f(d.read_pool() $(, $arg)*).await,
            Db::Postgres(d) => postgres::identity::$f(d.pool() $(, $arg)*).await,
        }
    };
}

pub async fn insert_account(tx: &mut Tx<'_>, row: &AccountRow) -> Result<(), StoreError> {
    dispatch_tx!(tx, insert_account, row)
}

/// The account holding this NIK index, if any that is not suspended.
pub async fn account_by_nik_index(tx: &mut Tx<'_>, index: &[u8]) -> Result<Option<AccountRow>, StoreError> {
    dispatch_tx!(tx, account_by_nik_index, index)
}

pub async fn account_by_id_tx(tx: &mut Tx<'_>, id: &str) -> Result<Option<AccountRow>, StoreError> {
    dispatch_tx!(tx, account_by_id, id)
}

pub async fn account_by_id(db: &Db, id: &str) -> Result<Option<AccountRow>, StoreError> {
    dispatch_db!(db, account_by_id, id)
}

pub async fn set_status(
    tx: &mut Tx<'_>,
    id: &str,
    status: &str,
    flag: Option<&str>,
    now: i64,
) -> Result<(), StoreError> {
    dispatch_tx!(tx, set_status, id, status, flag, now)
}

/// Every officer account, oldest first.
pub async fn officers(db: &Db) -> Result<Vec<AccountRow>, StoreError> {
    dispatch_db!(db, officers)
}

/// Records the unit (office) an officer works for.
pub async fn set_unit(tx: &mut Tx<'_>, id: &str, unit: &str, now: i64) -> Result<(), StoreError> {
    dispatch_tx!(tx, set_unit, id, unit, now)
}

pub async fn insert_role(tx: &mut Tx<'_>, id: &str, role: &str) -> Result<(), StoreError> {
    dispatch_tx!(tx, insert_role, id, role)
}

pub async fn roles(db: &Db, id: &str) -> Result<Vec<String>, StoreError> {
    dispatch_db!(db, roles, id)
}

pub async fn insert_passkey(tx: &mut Tx<'_>, row: &PasskeyRow) -> Result<(), StoreError> {
    dispatch_tx!(tx, insert_passkey, row)
}

pub async fn passkey_tx(tx: &mut Tx<'_>, credential_id: &[u8]) -> Result<Option<PasskeyRow>, StoreError> {
    dispatch_tx!(tx, passkey, credential_id)
}

pub async fn passkeys_of(db: &Db, account_id: &str) -> Result<Vec<PasskeyRow>, StoreError> {
    dispatch_db!(db, passkeys_of, account_id)
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
    dispatch_tx!(
        tx,
        update_passkey_use,
        credential_id,
        expected,
        dynamic_state,
        backed_up,
        now
    )
}

pub async fn insert_ceremony(tx: &mut Tx<'_>, row: &CeremonyRow) -> Result<(), StoreError> {
    dispatch_tx!(tx, insert_ceremony, row)
}

/// Removes and returns the ceremony for `challenge`: a second call for the
/// same challenge finds nothing (the replay defence).
pub async fn take_ceremony(tx: &mut Tx<'_>, challenge: &[u8]) -> Result<Option<CeremonyRow>, StoreError> {
    dispatch_tx!(tx, take_ceremony, challenge)
}

/// Deletes ceremonies that expired before `now`; returns how many.
pub async fn delete_expired_ceremonies(tx: &mut Tx<'_>, now: i64) -> Result<u64, StoreError> {
    dispatch_tx!(tx, delete_expired_ceremonies, now)
}

/// Deletes expired sessions, used or expired codes and expired ceremonies;
/// returns how many of each (sessions, enrolment codes, recovery codes, ceremonies).
pub async fn purge_expired(tx: &mut Tx<'_>, now: i64, idle_secs: i64) -> Result<[u64; 4], StoreError> {
    dispatch_tx!(tx, purge_expired, now, idle_secs)
}

pub async fn insert_session(tx: &mut Tx<'_>, row: &SessionRow) -> Result<(), StoreError> {
    dispatch_tx!(tx, insert_session, row)
}

pub async fn session_by_hash(db: &Db, token_hash: &[u8]) -> Result<Option<SessionRow>, StoreError> {
    dispatch_db!(db, session_by_hash, token_hash)
}

pub async fn sessions_of(db: &Db, account_id: &str) -> Result<Vec<SessionRow>, StoreError> {
    dispatch_db!(db, sessions_of, account_id)
}

pub async fn touch_session(tx: &mut Tx<'_>, session_id: &str, now: i64) -> Result<(), StoreError> {
    dispatch_tx!(tx, touch_session, session_id, now)
}

/// Deletes one session of `account_id`; returns whether it existed.
pub async fn delete_session(tx: &mut Tx<'_>, account_id: &str, session_id: &str) -> Result<bool, StoreError> {
    dispatch_tx!(tx, delete_session, account_id, session_id)
}

pub async fn delete_sessions_of(tx: &mut Tx<'_>, account_id: &str) -> Result<u64, StoreError> {
    dispatch_tx!(tx, delete_sessions_of, account_id)
}

pub async fn set_verified(tx: &mut Tx<'_>, id: &str, verified: bool, now: i64) -> Result<(), StoreError> {
    dispatch_tx!(tx, set_verified, id, verified, now)
}

/// Replaces an account's recovery codes with these hashes.
pub async fn replace_recovery_codes(
    tx: &mut Tx<'_>,
    account_id: &str,
    hashes: &[Vec<u8>],
    now: i64,
) -> Result<(), StoreError> {
    dispatch_tx!(tx, replace_recovery_codes, account_id, hashes, now)
}

/// Marks a recovery code used; false if it does not exist or was used.
pub async fn use_recovery_code(tx: &mut Tx<'_>, account_id: &str, hash: &[u8], now: i64) -> Result<bool, StoreError> {
    dispatch_tx!(tx, use_recovery_code, account_id, hash, now)
}

pub async fn unused_recovery_codes_tx(tx: &mut Tx<'_>, account_id: &str) -> Result<i64, StoreError> {
    dispatch_tx!(tx, unused_recovery_codes, account_id)
}

pub async fn unused_recovery_codes(db: &Db, account_id: &str) -> Result<i64, StoreError> {
    dispatch_db!(db, unused_recovery_codes, account_id)
}

pub async fn insert_enrolment_code(tx: &mut Tx<'_>, row: &EnrolmentCodeRow) -> Result<(), StoreError> {
    dispatch_tx!(tx, insert_enrolment_code, row)
}

/// Marks an unexpired, unused code used and returns it (single use).
pub async fn claim_enrolment_code(
    tx: &mut Tx<'_>,
    hash: &[u8],
    now: i64,
) -> Result<Option<EnrolmentCodeRow>, StoreError> {
    dispatch_tx!(tx, claim_enrolment_code, hash, now)
}

pub async fn passkeys_of_tx(tx: &mut Tx<'_>, account_id: &str) -> Result<Vec<PasskeyRow>, StoreError> {
    dispatch_tx!(tx, passkeys_of_conn, account_id)
}

pub async fn rename_passkey(
    tx: &mut Tx<'_>,
    account_id: &str,
    credential_id: &[u8],
    name: &str,
) -> Result<bool, StoreError> {
    dispatch_tx!(tx, rename_passkey, account_id, credential_id, name)
}

pub async fn delete_passkey(tx: &mut Tx<'_>, account_id: &str, credential_id: &[u8]) -> Result<bool, StoreError> {
    dispatch_tx!(tx, delete_passkey, account_id, credential_id)
}

pub async fn delete_passkeys_of(tx: &mut Tx<'_>, account_id: &str) -> Result<u64, StoreError> {
    dispatch_tx!(tx, delete_passkeys_of, account_id)
}

/// Ends the sessions that were started with this passkey.
pub async fn delete_sessions_of_passkey(
    tx: &mut Tx<'_>,
    account_id: &str,
    credential_id: &[u8],
) -> Result<u64, StoreError> {
    dispatch_tx!(tx, delete_sessions_of_passkey, account_id, credential_id)
}

/// An unused, unexpired code (not spent: see [`claim_enrolment_code`]).
pub async fn enrolment_code_live(
    tx: &mut Tx<'_>,
    hash: &[u8],
    now: i64,
) -> Result<Option<EnrolmentCodeRow>, StoreError> {
    dispatch_tx!(tx, enrolment_code_live, hash, now)
}

/// Whether this recovery code exists and is unused (not spent).
pub async fn recovery_code_unused(tx: &mut Tx<'_>, account_id: &str, hash: &[u8]) -> Result<bool, StoreError> {
    dispatch_tx!(tx, recovery_code_unused, account_id, hash)
}

/// Ends every live enrolment or recovery code of an account (a newer code
/// replaces them; a used one ends its siblings).
pub async fn void_enrolment_codes(tx: &mut Tx<'_>, account_id: &str, now: i64) -> Result<u64, StoreError> {
    dispatch_tx!(tx, void_enrolment_codes, account_id, now)
}

/// The newest unused counter code waiting to give an account this NIK index.
pub async fn live_code_for_nik_index(
    tx: &mut Tx<'_>,
    index: &[u8],
    now: i64,
) -> Result<Option<EnrolmentCodeRow>, StoreError> {
    dispatch_tx!(tx, live_code_for_nik_index, index, now)
}

/// Gives an account the NIK index it was enrolled for at the counter.
pub async fn set_nik_index(tx: &mut Tx<'_>, account_id: &str, index: &[u8], now: i64) -> Result<(), StoreError> {
    dispatch_tx!(tx, set_nik_index, account_id, index, now)
}

/// Ends the live counter codes waiting to give an account this NIK index.
pub async fn void_codes_for_nik_index(tx: &mut Tx<'_>, index: &[u8], now: i64) -> Result<u64, StoreError> {
    dispatch_tx!(tx, void_codes_for_nik_index, index, now)
}

/// Serialises changes to one account's passkeys (PostgreSQL row lock; the
/// SQLite writer is already alone).
pub async fn lock_account(tx: &mut Tx<'_>, account_id: &str) -> Result<(), StoreError> {
    dispatch_tx!(tx, lock_account, account_id)
}

/// Accounts whose NIK or name still sit in plaintext columns.
pub async fn accounts_with_plaintext(db: &Db) -> Result<Vec<AccountRow>, StoreError> {
    dispatch_db!(db, accounts_with_plaintext)
}

pub async fn clear_plaintext(tx: &mut Tx<'_>, account_id: &str, now: i64) -> Result<(), StoreError> {
    dispatch_tx!(tx, clear_plaintext, account_id, now)
}

pub async fn account_by_pseudonym_tx(tx: &mut Tx<'_>, pseudonym: &str) -> Result<Option<AccountRow>, StoreError> {
    dispatch_tx!(tx, account_by_pseudonym, pseudonym)
}

pub async fn account_by_pseudonym(db: &Db, pseudonym: &str) -> Result<Option<AccountRow>, StoreError> {
    dispatch_db!(db, account_by_pseudonym, pseudonym)
}

/// Marks an account erased: no NIK index, no name, no recovery codes, no usable codes.
pub async fn mark_erased(tx: &mut Tx<'_>, account_id: &str, now: i64) -> Result<(), StoreError> {
    dispatch_tx!(tx, mark_erased, account_id, now)
}

/// Re-points the NIK index carried by an account's codes (index-key rotation).
pub async fn set_code_nik_indexes(tx: &mut Tx<'_>, account_id: &str, index: &[u8]) -> Result<u64, StoreError> {
    dispatch_tx!(tx, set_code_nik_indexes, account_id, index)
}

/// Read side: the account holding this NIK index, if any that is not suspended or erased.
pub async fn account_by_nik_index_db(db: &Db, index: &[u8]) -> Result<Option<AccountRow>, StoreError> {
    dispatch_db!(db, account_by_nik_index, index)
}

pub async fn insert_counter_recovery(tx: &mut Tx<'_>, row: &CounterRecoveryRow) -> Result<(), StoreError> {
    dispatch_tx!(tx, insert_counter_recovery, row)
}

/// Marks the counter recovery of this code done; false if there was none.
pub async fn complete_counter_recovery(tx: &mut Tx<'_>, code_hash: &[u8], now: i64) -> Result<bool, StoreError> {
    dispatch_tx!(tx, complete_counter_recovery, code_hash, now)
}

/// The account's latest completed counter recovery, if any.
pub async fn last_counter_recovery(db: &Db, account_id: &str) -> Result<Option<CounterRecoveryRow>, StoreError> {
    dispatch_db!(db, last_counter_recovery, account_id)
}

/// Counter recoveries no security officer has reviewed yet, oldest first.
pub async fn unreviewed_counter_recoveries(db: &Db, limit: i64) -> Result<Vec<CounterRecoveryRow>, StoreError> {
    dispatch_db!(db, unreviewed_counter_recoveries, limit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_debug_hides_personal_data() {
        let row = AccountRow {
            account_id: "a".into(),
            kind: "citizen".into(),
            user_handle: vec![1; 64],
            pseudonym: "ctz_x".into(),
            status: "active".into(),
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
