// Every mistake in one input is reported in the same compile: here two bad attributes on the
// union's fields, one on the union itself, and the union.
use gc_core::Trace;

#[derive(Trace)]
#[gc(whatever)]
union Bad {
    #[gc(skip)]
    a: u32,
    #[gc(unsafe_no_trace, unsafe_no_trace)]
    b: u64,
}

fn main() {}
