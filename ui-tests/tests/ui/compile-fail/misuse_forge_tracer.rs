// Only the collector creates a `Tracer`: user code cannot build one to call `trace` with
// (its fields and constructor are private).
use gc_core::{Gc, Trace, Tracer};

fn main() {
    let g = Gc::new(1u32);
    let mut t = Tracer::new();
    g.trace(&mut t);
}
