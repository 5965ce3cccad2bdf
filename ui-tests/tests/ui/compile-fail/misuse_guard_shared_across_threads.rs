// A borrow guard is not `Sync` either: another thread cannot even read through a shared
// reference to it (the lock it holds belongs to the thread that took it).
use gc_core::{Gc, GcCell};

fn main() {
    let cell = Gc::new(GcCell::new(1u32));
    let guard = cell.borrow_mut();
    let shared = &guard;
    std::thread::scope(|s| {
        s.spawn(move || **shared + 1);
    });
}
