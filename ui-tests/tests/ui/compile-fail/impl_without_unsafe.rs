// `Trace` is an unsafe trait: a hand-written impl must say `unsafe impl` (E0200).
use gc_core::{Trace, Tracer};

struct Manual(u32);

impl Trace for Manual {
    fn trace(&self, _tracer: &mut Tracer) {}
}

fn main() {}
