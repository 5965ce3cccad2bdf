// A type that derives `Trace` must not implement `Drop`: the error names the rule and its
// alternatives (`gc_core::add_cleanup`, or a field whose own type implements `Drop`).
use gc_core::{Gc, Trace};

#[derive(Trace)]
struct Resource {
    next: Option<Gc<u32>>,
}

impl Drop for Resource {
    fn drop(&mut self) {}
}

fn main() {}
