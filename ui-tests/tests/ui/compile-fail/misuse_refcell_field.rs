// A `RefCell` field holding handles is rejected at the field, like a `Mutex` one: only
// `GcCell` carries the write barrier the concurrent marker relies on.
use gc_core::{Gc, Trace};
use std::cell::RefCell;

#[derive(Trace)]
struct Graph {
    edges: RefCell<Vec<Gc<u32>>>,
}

fn main() {}
