// A `GcCell` borrow guard stays on the thread that took it: `GcRef` and `GcRefMut` are not
// `Send`, so they cannot be moved into another thread.
use gc_core::{Gc, GcCell};

fn send_read_guard(cell: &Gc<GcCell<u32>>) {
    let read = cell.borrow();
    std::thread::scope(|s| {
        s.spawn(move || drop(read));
    });
}

fn send_write_guard(cell: &Gc<GcCell<u32>>) {
    let write = cell.borrow_mut();
    std::thread::scope(|s| {
        s.spawn(move || drop(write));
    });
}

fn main() {
    let cell = Gc::new(GcCell::new(1));
    send_read_guard(&cell);
    send_write_guard(&cell);
}
