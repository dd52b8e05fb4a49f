//! What several benchmarks need: seeding through the library.

#![expect(clippy::unwrap_used, reason = "benchmark setup")]

use jaga::app::AppState;

/// An active citizen account without a passkey (modules keep records
/// about it), stored through the writer; every second one verified.
pub async fn citizen(state: &AppState, i: usize) -> String {
    use jaga::identity::{AccountId, AccountKind, Pseudonym, UserHandle};
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let row = jaga::store::identity::AccountRow {
        account_id: AccountId::generate().unwrap().as_str().to_owned(),
        kind: jaga::account::AccountKind::Citizen,
        user_handle: UserHandle::generate().unwrap().0.to_vec(),
        pseudonym: Pseudonym::generate(AccountKind::Citizen).unwrap().as_str().to_owned(),
        status: jaga::account::Status::Active,
        verified: i.is_multiple_of(2),
        flag: None,
        display_name: String::new(),
        nik: None,
        nik_index: None,
        unit: None,
        created_at: now,
        updated_at: now,
    };
    let pseudonym = row.pseudonym.clone();
    state
        .writer
        .write::<(), jaga::store::StoreError, _>(move |tx| {
            Box::pin(async move { jaga::store::identity::insert_account(tx, &row).await })
        })
        .await
        .unwrap();
    pseudonym
}
