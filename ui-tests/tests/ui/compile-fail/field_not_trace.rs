// A traced field whose type does not implement `Trace` is reported at that field, not at the
// whole item.
use gc_core::{Gc, Trace};

struct NotTrace;

#[derive(Trace)]
struct Holder {
    ok: Gc<u32>,
    bad: NotTrace,
}

#[derive(Trace)]
enum Choice {
    Fine(u8),
    Wrong { inner: NotTrace },
}

fn main() {}
