//! A last handle's drop frees acyclic garbage without a cycle: blocks still in their thread's
//! list are freed, blocks a cycle already took are retired (value dropped now, block freed by
//! the next sweep). Its own test binary: automatic cycles are turned off, so that no cycle is
//! running when the handles are dropped.

use gc_core::{collect, set_gc_percent, stats, Gc, GcWeak, Trace};
use tests::{DropCounter, DropToken};

#[derive(Trace)]
struct Node {
    next: Option<Gc<Node>>,
    #[gc(unsafe_no_trace)]
    _token: DropToken,
}

/// A list of `n` nodes, built tail first; returns the head.
fn list(n: usize, drops: &DropCounter) -> Gc<Node> {
    let mut head = None;
    for _ in 0..n {
        head = Some(Gc::new(Node {
            next: head,
            _token: drops.token(),
        }));
    }
    head.expect("n > 0")
}

#[test]
fn last_handles_free_lists_before_and_after_a_cycle_took_them() {
    set_gc_percent(-1);

    // Never taken by a cycle: freed at once, blocks included.
    let drops = DropCounter::new();
    let head = list(1000, &drops);
    let weak: GcWeak<Node> = Gc::downgrade(&head);
    let before = stats();
    drop(head);
    assert_eq!(
        drops.dropped(),
        1000,
        "every value dropped by the last handle's drop"
    );
    assert!(
        weak.upgrade().is_none(),
        "the weak reference is cleared at once"
    );
    let after = stats();
    assert_eq!(after.total_freed_objects - before.total_freed_objects, 1000);
    assert_eq!(after.num_gc, before.num_gc, "no cycle was needed");

    // Taken by a cycle, then dropped by its head: a million nodes, retired one by one with
    // no recursion (a recursive drop would overflow the stack).
    let drops = DropCounter::new();
    let head = list(1_000_000, &drops);
    collect();
    let weak = Gc::downgrade(&head);
    let before = stats();
    drop(head);
    assert_eq!(drops.dropped(), 1_000_000, "values dropped without a cycle");
    assert!(weak.upgrade().is_none());
    assert_eq!(
        stats().total_freed_objects,
        before.total_freed_objects,
        "the blocks wait for a sweep (automatic cycles are off)"
    );
    collect();
    assert!(
        stats().total_freed_objects - before.total_freed_objects >= 1_000_000,
        "the next sweep frees the blocks"
    );
    assert_eq!(drops.dropped(), 1_000_000, "and drops nothing twice");
}
