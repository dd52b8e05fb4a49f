// A purpose is parsed from its identifier, never taken as free text.
use jaga::modules::purpose::Purpose;

fn main() {
    let _ = Purpose(String::from("marketing"));
}
