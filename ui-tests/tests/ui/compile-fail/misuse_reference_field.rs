// A reference field cannot be traced: what it points to is not owned by the object (it may be
// on a stack or inside another object), so the derive reports the field.
use gc_core::{Gc, Trace};

#[derive(Trace)]
struct View<'a> {
    target: &'a Gc<u32>,
}

fn main() {}
