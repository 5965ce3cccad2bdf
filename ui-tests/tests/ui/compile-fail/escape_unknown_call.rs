// Deny mode: an allocation passed to a function the macro cannot see escapes (by value or by
// reference, like Go's `leaking param`).
use gc_core::{escape, Gc};

fn elsewhere(_: &Gc<u32>) {}

#[escape(deny)]
fn call() {
    let x = Gc::new(1);
    elsewhere(&x);
}

fn main() {
    call();
}
