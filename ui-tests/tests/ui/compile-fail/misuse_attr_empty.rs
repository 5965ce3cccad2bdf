// A bare `#[gc]` says nothing: it is reported at the attribute, with the expected form.
use gc_core::Trace;

#[derive(Trace)]
struct Settings {
    #[gc]
    started: std::time::Instant,
}

fn main() {}
