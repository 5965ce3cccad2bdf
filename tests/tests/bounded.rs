//! Garbage self-cycles made in a loop are reclaimed by automatic cycles: memory stays bounded.
//! Its own test binary: it measures the whole heap.

use gc_core::{stats, Gc, GcCell, Trace, Tracer};

struct Node {
    _id: u64,
    next: GcCell<Option<Gc<Node>>>,
}

// SAFETY: `next` is the only field that can hold a handle and it is traced.
unsafe impl Trace for Node {
    fn trace(&self, t: &mut Tracer) {
        self.next.trace(t)
    }
}

fn node(id: u64) -> Gc<Node> {
    Gc::new(Node {
        _id: id,
        next: GcCell::new(None),
    })
}

#[test]
fn self_cycles_made_in_a_loop_keep_memory_bounded() {
    // Each iteration makes garbage the automatic cycles must reclaim.
    let mut peak = 0;
    for round in 0..20 {
        for i in 0..50_000 {
            let a = node(i);
            *a.next.borrow_mut() = Some(a.clone());
        }
        if round >= 5 {
            peak = peak.max(stats().heap_live_bytes);
        }
    }
    // 1 M self-cycles of about 100 bytes were made: without collection the heap would hold
    // ~100 MB. The goal is 4 MiB (live set near zero); allow generous slack for timing.
    assert!(peak < 64 << 20, "heap grew to {peak} bytes");
    assert!(stats().num_gc > 0);
}
