//! Frame values and the collector: handles inside placed values are roots, and placing
//! creates no heap object.

use gc_core::{collect, frame, stats, Gc, GcCell, Trace};

#[derive(Trace)]
struct Node {
    id: u64,
    next: GcCell<Option<Gc<Node>>>,
}

#[test]
fn handles_in_frame_values_keep_their_targets_alive() {
    frame(|f| {
        let target = Gc::new(Node {
            id: 7,
            next: GcCell::new(None),
        });
        *target.next.borrow_mut() = Some(Gc::new(Node {
            id: 8,
            next: GcCell::new(None),
        }));
        let weak = Gc::downgrade(&target);
        let held = f.place((String::from("holder"), Some(target)));
        collect();
        collect();
        let alive = weak.upgrade().expect("a frame value holds it");
        assert_eq!(alive.id, 7);
        let next = alive.next.borrow().clone().expect("its field was kept too");
        assert_eq!(next.id, 8);
        assert_eq!(held.0, "holder");
        drop(alive);
        drop(next);
    });
}

#[test]
fn frame_end_releases_the_targets() {
    let weak = frame(|f| {
        let target = Gc::new(Node {
            id: 1,
            next: GcCell::new(None),
        });
        let weak = Gc::downgrade(&target);
        f.place(target);
        weak
    });
    collect();
    assert!(weak.upgrade().is_none());
}

#[test]
fn forgetting_a_stack_root_keeps_its_value_owned_by_the_frame() {
    let weak = frame(|f| {
        let target = Gc::new(Node {
            id: 2,
            next: GcCell::new(None),
        });
        let weak = Gc::downgrade(&target);
        forget_root(f.place(target));
        collect();
        assert!(weak.upgrade().is_some());
        weak
    });
    collect();
    assert!(weak.upgrade().is_none());
}

#[test]
fn placed_values_are_not_heap_objects() {
    // Other tests allocate concurrently, so the bound is loose: 1000 placements, far fewer
    // heap objects.
    let before = stats().total_alloc_objects;
    let sum = frame(|f| {
        let mut sum = 0u64;
        for i in 0..1000u64 {
            let node = f.place(Node {
                id: i,
                next: GcCell::new(None),
            });
            sum += node.id;
        }
        sum
    });
    assert_eq!(sum, 499_500);
    let after = stats().total_alloc_objects;
    assert!(
        after - before < 1000,
        "{} heap objects for 1000 placements",
        after - before
    );
}

#[test]
fn stack_bytes_reach_stats() {
    frame(|f| {
        f.place([0u8; 200_000]);
        assert!(stats().stack_bytes >= 200_000);
    });
}

/// `mem::forget` of a root: the frame still owns (and later drops) the value.
#[expect(
    clippy::forget_non_drop,
    reason = "forgetting a root is what is tested"
)]
fn forget_root<T>(root: gc_core::StackRoot<'_, T>) {
    std::mem::forget(root);
}
