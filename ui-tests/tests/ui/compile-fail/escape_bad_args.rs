// The attribute takes one mode and applies to functions and impl blocks.
use gc_core::escape;

#[escape(everywhere)]
fn one() {}

#[escape(deny, place)]
fn two() {}

#[escape]
struct Three;

fn main() {
    one();
    two();
    let _ = Three;
}
