//! A citizen's sealed fields, read and written inside a unit of work (the
//! caller records the audit event in the same unit, so plaintext leaves only
//! after both committed).

use zeroize::Zeroizing;

use super::field::{self, Binding};
use super::{DataKey, KeyProvider, Undecryptable, VaultError, WrappedKey};
use crate::store::Tx;
use crate::store::vault::{self as stored, CitizenKeyRow, FieldRow};

/// The citizen's data key: unwrapped if it exists, else created and stored
/// wrapped under the active KEK. Returns the key and its version.
pub async fn data_key(
    tx: &mut Tx<'_>,
    keks: &dyn KeyProvider,
    account_id: &str,
    now: i64,
) -> Result<(DataKey, u32), VaultError> {
    if let Some(row) = stored::key_of(tx, account_id).await? {
        return unwrap_row(&row, keks);
    }
    let dek = DataKey::generate()?;
    let wrapped = dek.wrap(account_id, keks)?;
    let row = CitizenKeyRow {
        account_id: account_id.to_owned(),
        dek_version: 1,
        kek_version: i64::from(wrapped.kek_version),
        wrapped: wrapped.bytes,
        created_at: now,
    };
    stored::insert_key(tx, &row).await?;
    Ok((dek, 1))
}

/// Unwraps a stored data key; returns it with its version.
pub fn unwrap_row(row: &CitizenKeyRow, keks: &dyn KeyProvider) -> Result<(DataKey, u32), VaultError> {
    let wrapped = WrappedKey {
        kek_version: u32::try_from(row.kek_version).map_err(|_| Undecryptable)?,
        bytes: row.wrapped.clone(),
    };
    let version = u32::try_from(row.dek_version).map_err(|_| Undecryptable)?;
    Ok((DataKey::unwrap(&wrapped, &row.account_id, keks)?, version))
}

/// Seals and stores one field; its record version goes up by one.
pub async fn write(
    tx: &mut Tx<'_>,
    keks: &dyn KeyProvider,
    account_id: &str,
    name: &str,
    plaintext: &[u8],
    now: i64,
) -> Result<(), VaultError> {
    let (dek, dek_version) = data_key(tx, keks, account_id, now).await?;
    let previous = stored::field(tx, account_id, name).await?;
    let record_version = previous.map_or(1, |p| p.record_version + 1);
    let binding = Binding {
        citizen_id: account_id,
        field: name,
        record_version: u64::try_from(record_version).unwrap_or(0),
    };
    let sealed = field::seal(&dek, dek_version, &binding, plaintext)?;
    stored::upsert_field(
        tx,
        &FieldRow {
            account_id: account_id.to_owned(),
            field: name.to_owned(),
            record_version,
            sealed,
            updated_at: now,
        },
    )
    .await?;
    Ok(())
}

/// Opens one field, if the citizen has it. Fails with the generic error
/// when the data key is gone (erased) or anything does not match.
pub async fn read(
    tx: &mut Tx<'_>,
    keks: &dyn KeyProvider,
    account_id: &str,
    name: &str,
) -> Result<Option<Zeroizing<Vec<u8>>>, VaultError> {
    let Some(row) = stored::field(tx, account_id, name).await? else {
        return Ok(None);
    };
    let key = stored::key_of(tx, account_id).await?.ok_or(Undecryptable)?;
    let (dek, _) = unwrap_row(&key, keks)?;
    let binding = Binding {
        citizen_id: account_id,
        field: name,
        record_version: u64::try_from(row.record_version).map_err(|_| Undecryptable)?,
    };
    Ok(Some(field::open(&dek, &binding, &row.sealed)?))
}

/// Opens stored values of one or more citizens, unwrapping each citizen's
/// data key once: the one decrypt path of profile reads, module record
/// reads and the right of access. The caller fetches the wrapped keys
/// (one query per batch); a value whose key is missing or does not open
/// fails with the generic [`Undecryptable`].
pub struct Opener<'k> {
    keks: &'k dyn KeyProvider,
    wrapped: std::collections::HashMap<String, CitizenKeyRow>,
    unwrapped: std::collections::HashMap<String, DataKey>,
}

impl std::fmt::Debug for Opener<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Opener")
            .field("citizens", &self.wrapped.len())
            .field("unwrapped", &self.unwrapped.len())
            .finish_non_exhaustive()
    }
}

impl<'k> Opener<'k> {
    pub fn new(keks: &'k dyn KeyProvider, keys: impl IntoIterator<Item = CitizenKeyRow>) -> Self {
        Self {
            keks,
            wrapped: keys.into_iter().map(|row| (row.account_id.clone(), row)).collect(),
            unwrapped: std::collections::HashMap::new(),
        }
    }

    /// Opens `account_id`'s value `name` (sealed at `record_version`) as text.
    pub fn open_text(
        &mut self,
        account_id: &str,
        name: &str,
        record_version: i64,
        sealed: &[u8],
    ) -> Result<String, VaultError> {
        if !self.unwrapped.contains_key(account_id) {
            let row = self.wrapped.get(account_id).ok_or(Undecryptable)?;
            let (dek, _) = unwrap_row(row, self.keks)?;
            self.unwrapped.insert(account_id.to_owned(), dek);
        }
        let dek = self.unwrapped.get(account_id).ok_or(Undecryptable)?;
        let plain = open_with(dek, account_id, name, record_version, sealed)?;
        Ok(String::from_utf8(plain.to_vec()).map_err(|_| Undecryptable)?)
    }
}

/// Opens one stored value of a citizen with their unwrapped data key.
pub fn open_with(
    dek: &DataKey,
    account_id: &str,
    name: &str,
    record_version: i64,
    sealed: &[u8],
) -> Result<Zeroizing<Vec<u8>>, Undecryptable> {
    let binding = Binding {
        citizen_id: account_id,
        field: name,
        record_version: u64::try_from(record_version).map_err(|_| Undecryptable)?,
    };
    field::open(dek, &binding, sealed)
}

/// Seals one value of a citizen under their data key at `record_version`.
pub fn seal_with(
    dek: &DataKey,
    dek_version: u32,
    account_id: &str,
    name: &str,
    record_version: i64,
    plaintext: &[u8],
) -> Result<Vec<u8>, VaultError> {
    let binding = Binding {
        citizen_id: account_id,
        field: name,
        record_version: u64::try_from(record_version).map_err(|_| VaultError::Encrypt)?,
    };
    field::seal(dek, dek_version, &binding, plaintext)
}

/// Crypto-shredding: destroys the data key and the blind-index entries.
/// Sealed fields may stay (and stay in backups): nothing can open them.
pub async fn erase(tx: &mut Tx<'_>, account_id: &str) -> Result<(), VaultError> {
    stored::delete_key(tx, account_id).await?;
    stored::delete_indexes_of(tx, account_id).await?;
    Ok(())
}

/// Removes one sealed field of a citizen.
pub async fn remove(tx: &mut Tx<'_>, account_id: &str, name: &str) -> Result<(), VaultError> {
    stored::delete_field(tx, account_id, name).await?;
    Ok(())
}
