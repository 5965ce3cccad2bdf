//! Compile-time checks: code that must be rejected (with the message and span recorded in each
//! `.stderr` file beside it) and code that must compile.
//!
//! Regenerate the `.stderr` files with `TRYBUILD=overwrite cargo test -p ui-tests`, then read
//! the diff: each message must be clear and point at the offending token.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/compile-fail/*.rs");
    t.pass("tests/ui/compile-pass/*.rs");
}
