// Adding a passkey needs the recent-sign-in permit, not just a session.
use jaga::identity::{Deps, credentials};
use jaga::sessions::SignedIn;

async fn add(deps: &Deps, who: &SignedIn) {
    let _ = credentials::start_add(deps, who).await;
}

fn main() {}
