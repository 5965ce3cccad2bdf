// `unsafe_no_trace` takes no value: `#[gc(unsafe_no_trace = 1)]` and a list form are reported
// at the argument.
use gc_core::Trace;

#[derive(Trace)]
struct Settings {
    #[gc(unsafe_no_trace = 1)]
    started: std::time::Instant,
    #[gc(unsafe_no_trace(true))]
    stopped: std::time::Instant,
}

fn main() {}
