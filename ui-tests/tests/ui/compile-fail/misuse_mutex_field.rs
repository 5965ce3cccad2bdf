// A `Mutex` holding handles cannot be traced: a mutation through it bypasses the collector's
// write barrier. The error points at the field; use a `GcCell` instead.
use gc_core::{Gc, Trace};
use std::sync::Mutex;

#[derive(Trace)]
struct Shared {
    id: u32,
    next: Mutex<Option<Gc<Shared>>>,
}

fn main() {}
