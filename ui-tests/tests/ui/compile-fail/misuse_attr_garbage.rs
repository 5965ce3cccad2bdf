// Arguments that are not a meta item at all (a literal, a path with generics, punctuation)
// are reported with a span, not a panic of the derive.
use gc_core::Trace;

#[derive(Trace)]
struct Settings {
    #[gc("unsafe_no_trace")]
    a: std::time::Instant,
    #[gc(unsafe_no_trace::<u8>)]
    b: std::time::Instant,
    #[gc(+)]
    c: std::time::Instant,
}

fn main() {}
