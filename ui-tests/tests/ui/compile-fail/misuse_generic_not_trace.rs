// A derived generic type is `Trace` only when its parameters are: putting a `Wrapper` of a
// non-`Trace` type on the heap is reported at the `Gc::new` call.
use gc_core::{Gc, Trace};

#[derive(Trace)]
struct Wrapper<T> {
    inner: T,
}

struct Opaque;

fn main() {
    let _ = Gc::new(Wrapper { inner: Opaque });
}
