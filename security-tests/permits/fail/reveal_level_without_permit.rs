// The reveal level follows from a permit: nobody names themselves the owner.
use jaga::profile::Reader;

fn main() {
    let _ = Reader::Owner { pseudonym: String::from("ctz_someone") };
}
