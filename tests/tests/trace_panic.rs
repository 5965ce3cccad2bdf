//! A `Trace` impl that panics: the cycle it panics in frees nothing, and the heap keeps
//! working. Its own test binary: while the impl panics, every cycle is abandoned.

use gc_core::{collect, Gc, GcCell, Trace, Tracer};
use std::sync::atomic::{AtomicBool, Ordering};

static PANIC_IN_TRACE: AtomicBool = AtomicBool::new(false);

struct Fragile {
    child: GcCell<Option<Gc<u64>>>,
}

// SAFETY: reports its one cell; panics (before reporting) only when told to, which the
// collector must survive without freeing the child.
unsafe impl Trace for Fragile {
    fn trace(&self, t: &mut Tracer) {
        if PANIC_IN_TRACE.load(Ordering::SeqCst) {
            panic!("a Trace impl panics on purpose");
        }
        self.child.trace(t);
    }
}

#[test]
fn a_panicking_trace_keeps_everything_alive_for_that_cycle() {
    let f = Gc::new(Fragile {
        child: GcCell::new(Some(Gc::new(42))),
    });
    let child = Gc::downgrade(f.child.borrow().as_ref().unwrap());
    PANIC_IN_TRACE.store(true, Ordering::SeqCst);
    collect();
    collect();
    PANIC_IN_TRACE.store(false, Ordering::SeqCst);
    assert_eq!(
        child.upgrade().map(|c| *c),
        Some(42),
        "reachable child kept"
    );
    drop(f);
    collect();
    assert!(
        child.upgrade().is_none(),
        "collected once tracing works again"
    );
}
