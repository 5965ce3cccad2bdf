// An unknown `#[gc(...)]` argument is reported at the argument, with the valid one named.
use gc_core::Trace;

#[derive(Trace)]
struct Config {
    #[gc(skip)]
    port: u16,
    #[gc(unsafe_no_trace = "yes")]
    name: String,
}

fn main() {}
