// A union cannot derive `Trace`: the collector could not tell which field is live. The error
// points at the `union` keyword.
use gc_core::{Gc, Trace};

#[derive(Trace)]
union Either {
    handle: std::mem::ManuallyDrop<Gc<u32>>,
    number: u64,
}

fn main() {}
