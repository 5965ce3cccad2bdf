// A `Gc<T>` cannot hold a borrow: the object may outlive any stack frame, so `Gc::new`
// requires `T: 'static` even when `T` is `Trace`.
use gc_core::{Gc, Trace};

#[derive(Trace)]
struct Borrowed<'a> {
    #[gc(unsafe_no_trace)]
    value: &'a u32,
}

fn main() {
    let local = 5;
    let _ = Gc::new(Borrowed { value: &local });
}
