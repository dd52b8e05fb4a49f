// The reveal level follows from a permit: the plain (owner) level needs
// the citizen's own-data permit, not an account row the caller picked.
use jaga::profile::Reader;
use jaga::store::identity::AccountRow;

fn owner(someone: &AccountRow) -> Reader {
    Reader::owner(someone)
}

fn main() {}
