// The counter-officer permit loads the officer's roles itself
// (`CounterOfficer::load`); a caller cannot build one from an account row.
use jaga::identity::counter::CounterOfficer;
use jaga::store::identity::AccountRow;

fn permit(account: AccountRow) -> CounterOfficer {
    CounterOfficer { account }
}

fn main() {}
