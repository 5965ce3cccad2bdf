// A `#[repr(packed)]` type cannot derive `Trace`: tracing borrows each field, and a packed
// field may be unaligned. The error points at `packed`.
use gc_core::{Gc, Trace};

#[derive(Trace)]
#[repr(C, packed)]
struct Packed {
    tag: u8,
    handle: Gc<u32>,
}

fn main() {}
