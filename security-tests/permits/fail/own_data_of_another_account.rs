// Right of access: own records are read with the citizen's own-data
// permit, never with an account row chosen by the caller.
use jaga::modules::{Deps, access};
use jaga::store::identity::AccountRow;

async fn read(deps: &Deps, someone: &AccountRow) {
    let _ = access::own_records(deps, someone, &Default::default()).await;
}

fn main() {}
