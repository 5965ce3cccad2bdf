// `Gc<RefCell<_>>` is rejected: `RefCell` is not `Sync`, and it has no `Trace` impl because a
// mutation through it would bypass the collector's write barrier. `GcCell` is the replacement.
use gc_core::Gc;
use std::cell::RefCell;

fn main() {
    let _ = Gc::new(RefCell::new(Vec::<Gc<u32>>::new()));
}
