// A borrow guard cannot outlive its cell: returning a `GcRefMut` from a closure that owns the
// handle, or keeping it after the cell's handle is dropped, does not borrow-check.
use gc_core::{Gc, GcCell, GcRefMut};

fn main() {
    let make = || {
        let cell = Gc::new(GcCell::new(1u32));
        cell.borrow_mut()
    };
    let _guard: GcRefMut<'_, u32> = make();

    let kept;
    {
        let cell = Gc::new(GcCell::new(2u32));
        kept = cell.borrow_mut();
    }
    drop(kept);
}
