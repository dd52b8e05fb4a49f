// A module reads records of a collection it merely looked up by name:
// record reads take the `Owned` permit, which only the ownership check makes.
use jaga::modules::collection::Collection;
use jaga::modules::purpose::Purpose;
use jaga::modules::records::{self, RecordRef};
use jaga::modules::Deps;

async fn read(deps: &Deps, collection: &Collection, purpose: &Purpose) {
    let refs: Vec<RecordRef> = Vec::new();
    let _ = records::read(deps, collection, refs, None, purpose, &Default::default()).await;
}

fn main() {}
