// Deny mode: what an escaping value references escapes.
use gc_core::{escape, Gc, GcCell};

#[escape(deny)]
fn link(target: Gc<GcCell<Vec<Gc<u32>>>>) {
    let x = Gc::new(1);
    let holder = vec![x];
    target.borrow_mut().extend(holder);
}

fn main() {
    link(Gc::new(GcCell::new(Vec::new())));
}
