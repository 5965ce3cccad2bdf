// An empty `#[gc()]` on a field is rejected like any malformed gc attribute.
use gc_core::Trace;

#[derive(Trace)]
struct Node {
    #[gc()]
    value: u32,
}

fn main() {}
