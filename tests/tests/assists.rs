//! Mark assists: a thread that allocates faster than the collector marks scans grey objects
//! for it, and everything live is intact afterwards. Its own test binary: it needs the
//! default percent and a heap of its own.

use gc_core::{collect, stats, Gc, GcCell, Trace};
use std::time::{Duration, Instant};
use tests::{check_wide_graph, wide_graph, Bucket};

#[derive(Trace)]
struct Root {
    buckets: Vec<Gc<Bucket>>,
}

/// Garbage that only a cycle frees (it holds itself), large enough that the allocating loop
/// outruns marking by far even where allocation is slow (sanitizer builds).
#[derive(Trace)]
struct BigCycle {
    _payload: [u64; 96],
    me: GcCell<Option<Gc<BigCycle>>>,
}

fn big_cyclic_garbage() {
    let g = Gc::new(BigCycle {
        _payload: [0; 96],
        me: GcCell::new(None),
    });
    *g.me.borrow_mut() = Some(g.clone());
}

const BUCKETS: u64 = 2_000;
const LEAVES: u64 = 1_000;

#[test]
fn an_allocating_thread_past_the_goal_marks_for_the_collector() {
    // A wide live graph of 2 M objects: marking it keeps thousands of grey objects to share,
    // and takes long enough for the allocating loop below to reach the goal meanwhile.
    let root = Gc::new(Root {
        buckets: wide_graph(BUCKETS, LEAVES),
    });
    collect();
    let before = stats().assist_scanned_objects;
    // Cyclic garbage as fast as possible, until assists have scanned something (or give up).
    let deadline = Instant::now() + Duration::from_secs(30);
    while stats().assist_scanned_objects == before && Instant::now() < deadline {
        for _ in 0..10_000 {
            big_cyclic_garbage();
        }
    }
    assert!(
        stats().assist_scanned_objects > before,
        "allocation past the goal made the thread mark for the collector"
    );
    collect();
    check_wide_graph(&root.buckets, LEAVES);
}
