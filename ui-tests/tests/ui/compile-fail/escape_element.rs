// Deny mode: an element of an escaping array escapes with it.
use gc_core::{escape, Gc};

#[escape(deny)]
fn elements() -> [Gc<u32>; 2] {
    let x = Gc::new(1);
    let arr = [x, Gc::new(2)];
    arr
}

fn main() {
    elements();
}
