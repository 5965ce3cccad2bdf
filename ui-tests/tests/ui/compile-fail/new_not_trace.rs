// `Gc::new` requires `T: Trace`: the collector must be able to find the handles inside.
use gc_core::Gc;

struct Opaque(u32);

fn main() {
    let _ = Gc::new(Opaque(1));
}
