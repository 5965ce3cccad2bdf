// A `GcCell` does not make its contents thread-safe: `GcCell<Rc<_>>` on the heap is rejected,
// because `Rc` is neither `Send` nor `Sync` (the collector thread may drop it) and not `Trace`.
use gc_core::{Gc, GcCell};
use std::rc::Rc;

fn main() {
    let _ = Gc::new(GcCell::new(Rc::new(1u32)));
}
