// `Gc::new` requires `T: Send + Sync`: the heap is shared by every thread, so an `Rc` (neither
// `Send` nor `Sync`) cannot be put on it, even inside a type that is `Trace`.
use gc_core::{Gc, Trace};
use std::rc::Rc;

#[derive(Trace)]
struct Local {
    #[gc(unsafe_no_trace)]
    shared: Rc<u32>,
}

fn main() {
    let _ = Gc::new(Rc::new(1));
    let _ = Gc::new(Local { shared: Rc::new(1) });
}
