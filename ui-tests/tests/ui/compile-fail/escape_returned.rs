// Deny mode: an allocation that is returned escapes.
use gc_core::{escape, Gc};

#[escape(deny)]
fn make() -> Gc<u32> {
    let x = Gc::new(1);
    x
}

fn main() {
    make();
}
