//! Permits as types: code that skips a check does not compile. Each case
//! in `fail/` calls a protected function without the permit (or forges
//! one) and must fail with exactly the error in its `.stderr` file, so a
//! case that fails for another reason (a typo, a renamed item) fails here.
//!
//! Run: `cargo test --test permits` (compiles the cases with trybuild).

#[test]
fn protected_calls_need_their_permit() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("security-tests/permits/fail/*.rs");
}
