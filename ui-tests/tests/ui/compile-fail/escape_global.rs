// Deny mode: an allocation stored in a `GcGlobal` escapes.
use gc_core::{escape, Gc, GcGlobal};

static CURRENT: GcGlobal<u32> = GcGlobal::new();

#[escape(deny)]
fn publish() {
    let x = Gc::new(1);
    CURRENT.store(Some(x));
}

fn main() {
    publish();
}
