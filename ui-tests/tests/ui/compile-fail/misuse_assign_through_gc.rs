// A `Gc` gives shared access only: assigning through it, or taking `&mut` to its value (such
// as `GcCell::get_mut`), is rejected. Mutation goes through `GcCell::borrow_mut`.
use gc_core::{Gc, GcCell};

fn main() {
    let n = Gc::new(1u32);
    *n = 2;
    let cell = Gc::new(GcCell::new(3u32));
    *cell.get_mut() = 4;
}
