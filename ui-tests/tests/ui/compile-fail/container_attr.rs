// `#[gc(...)]` on the type itself or on an enum variant is rejected at the attribute: only
// fields accept `#[gc(unsafe_no_trace)]`.
use gc_core::Trace;

#[derive(Trace)]
#[gc(unsafe_no_trace)]
struct Whole {
    a: u8,
}

#[derive(Trace)]
enum Kind {
    #[gc(unsafe_no_trace)]
    Variant(std::time::Instant),
    Other,
}

fn main() {}
