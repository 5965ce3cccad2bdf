// A future that holds a borrow guard across an `.await` is not `Send`, so it cannot be spawned
// on a multi-threaded executor (the guard would be released on another thread).
use gc_core::{Gc, GcCell};

fn require_send<F: std::future::Future + Send>(_: F) {}

async fn update(cell: Gc<GcCell<u32>>) {
    let mut guard = cell.borrow_mut();
    std::future::ready(()).await;
    *guard += 1;
}

fn main() {
    require_send(update(Gc::new(GcCell::new(0))));
}
