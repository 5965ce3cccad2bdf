//! Cycles, weak references, deep chains and dropping order.

use gc_core::{collect, Gc, GcCell, GcWeak, Trace, Tracer};
use tests::{DropCounter, DropToken};

struct Node {
    id: u64,
    next: GcCell<Option<Gc<Node>>>,
    _token: Option<DropToken>,
}

// SAFETY: `next` is the only field that can hold a handle and it is traced.
unsafe impl Trace for Node {
    fn trace(&self, t: &mut Tracer) {
        self.next.trace(t)
    }
}

fn node(id: u64, counter: Option<&DropCounter>) -> Gc<Node> {
    Gc::new(Node {
        id,
        next: GcCell::new(None),
        _token: counter.map(DropCounter::token),
    })
}

#[test]
fn self_cycle_is_collected_and_dropped_once() {
    let drops = DropCounter::new();
    let a = node(1, Some(&drops));
    *a.next.borrow_mut() = Some(a.clone());
    let w = Gc::downgrade(&a);
    drop(a);
    collect();
    assert!(w.upgrade().is_none());
    assert_eq!(drops.dropped(), 1);
}

#[test]
fn two_node_cycle_is_collected() {
    let drops = DropCounter::new();
    let a = node(1, Some(&drops));
    let b = node(2, Some(&drops));
    *a.next.borrow_mut() = Some(b.clone());
    *b.next.borrow_mut() = Some(a.clone());
    let (wa, wb) = (Gc::downgrade(&a), Gc::downgrade(&b));
    drop((a, b));
    collect();
    assert!(wa.upgrade().is_none() && wb.upgrade().is_none());
    assert_eq!(drops.dropped(), 2);
}

#[test]
fn cycle_held_from_a_local_survives_intact() {
    let drops = DropCounter::new();
    let a = node(7, Some(&drops));
    let b = node(8, Some(&drops));
    *a.next.borrow_mut() = Some(b.clone());
    *b.next.borrow_mut() = Some(a.clone());
    let wb = Gc::downgrade(&b);
    drop(b);
    collect();
    collect();
    let b = wb.upgrade().expect("b is reachable from a local through a");
    assert_eq!(b.id, 8);
    assert_eq!(a.next.borrow().as_ref().unwrap().id, 8);
    assert_eq!(b.next.borrow().as_ref().unwrap().id, 7);
    assert_eq!(drops.dropped(), 0);
    drop((a, b));
    collect();
    assert_eq!(drops.dropped(), 2);
}

#[test]
fn weak_upgrades_while_alive_and_clears_after() {
    let a = node(3, None);
    let w: GcWeak<Node> = Gc::downgrade(&a);
    let w2 = w.clone();
    assert!(GcWeak::ptr_eq(&w, &w2));
    collect();
    assert_eq!(w.upgrade().unwrap().id, 3);
    drop(a);
    collect();
    assert!(w.upgrade().is_none());
    assert!(w2.upgrade().is_none());
}

#[test]
fn weak_ref_inside_the_heap_does_not_keep_its_target() {
    struct Holder(GcWeak<Node>);
    // SAFETY: a weak ref is not an edge.
    unsafe impl Trace for Holder {
        fn trace(&self, t: &mut Tracer) {
            self.0.trace(t)
        }
    }
    let target = node(5, None);
    let holder = Gc::new(Holder(Gc::downgrade(&target)));
    drop(target);
    collect();
    assert!(holder.0.upgrade().is_none());
}

const DEEP: u64 = 2_000_000;

#[test]
fn two_million_node_chain_is_kept_then_collected_without_recursion() {
    let drops = DropCounter::new();
    let head = node(0, Some(&drops));
    let mut tail = head.clone();
    for i in 1..DEEP {
        let n = node(i, Some(&drops));
        *tail.next.borrow_mut() = Some(n.clone());
        tail = n;
    }
    let w_tail = Gc::downgrade(&tail);
    drop(tail);
    collect();
    // Kept: walk it and check every link.
    let mut cur = Some(head.clone());
    let mut count = 0;
    while let Some(n) = cur {
        assert_eq!(n.id, count);
        count += 1;
        cur = n.next.borrow().clone();
    }
    assert_eq!(count, DEEP);
    assert_eq!(drops.dropped(), 0);
    drop(head);
    collect();
    assert!(w_tail.upgrade().is_none());
    assert_eq!(drops.dropped() as u64, DEEP);
}
