// `Gc<Cell<_>>` is rejected: `Cell` is not `Sync` (two threads could write it at once through
// shared handles) and has no `Trace` impl. Use `GcCell` for mutation through a `Gc`.
use gc_core::Gc;
use std::cell::Cell;

fn main() {
    let _ = Gc::new(Cell::new(1u32));
}
