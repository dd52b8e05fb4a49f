// The counter-officer permit loads the officer's roles itself; a caller
// cannot hand it roles (or build it).
use jaga::identity::Role;
use jaga::identity::counter::CounterOfficer;
use jaga::store::identity::AccountRow;

fn permit(account: &AccountRow) -> Option<CounterOfficer> {
    CounterOfficer::permit(account, &[Role::Counter])
}

fn main() {}
