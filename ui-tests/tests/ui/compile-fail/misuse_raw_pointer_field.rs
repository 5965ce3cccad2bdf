// A raw pointer to a handle cannot be traced: the collector cannot know what it points to or
// whether it is alive. The derive reports the field.
use gc_core::{Gc, Trace};

#[derive(Trace)]
struct Hidden {
    ptr: *const Gc<u32>,
}

fn main() {}
