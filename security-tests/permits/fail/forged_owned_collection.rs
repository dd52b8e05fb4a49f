// The `Owned` permit cannot be built outside the check.
use jaga::modules::Module;
use jaga::modules::collection::{Collection, Owned};

fn forge(module: Module, collection: Collection) -> Owned {
    Owned { module, collection }
}

fn main() {}
