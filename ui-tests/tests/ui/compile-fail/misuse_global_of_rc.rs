// A `GcGlobal` is a `static`, shared by every thread, so what it holds must be `Send + Sync`:
// a `GcGlobal<Rc<_>>` static is rejected.
use gc_core::GcGlobal;
use std::rc::Rc;

static CURRENT: GcGlobal<Rc<u32>> = GcGlobal::new();

fn main() {
    let _ = CURRENT.load();
}
