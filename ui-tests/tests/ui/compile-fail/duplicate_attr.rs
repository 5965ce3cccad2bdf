// `#[gc(unsafe_no_trace)]` written twice on one field is reported at the second one.
use gc_core::Trace;

#[derive(Trace)]
struct Twice {
    #[gc(unsafe_no_trace)]
    #[gc(unsafe_no_trace)]
    a: std::time::Instant,
    #[gc(unsafe_no_trace, unsafe_no_trace)]
    b: std::time::Instant,
}

fn main() {}
