//! `#[escape(place)]` at run time: placed allocations are no heap objects, what escapes still
//! is, `return` and `?` keep their meaning, and placed values die with the call's frame.

use gc_core::{collect, escape, stats, Gc, GcCell, GcWeak, Trace};

#[derive(Trace)]
struct Node {
    id: u64,
    next: GcCell<Option<Gc<Node>>>,
}

#[escape(place)]
fn temporaries(n: u64) -> u64 {
    let a = Gc::new(Node {
        id: n,
        next: GcCell::new(None),
    });
    let b = Gc::new(Node {
        id: n + 1,
        next: GcCell::new(None),
    });
    a.id + b.id
}

#[escape(place)]
#[expect(
    clippy::let_and_return,
    reason = "the binding is what the analysis decides on"
)]
fn keeps_one(n: u64) -> Gc<Node> {
    let temp = Gc::new(Node {
        id: n,
        next: GcCell::new(None),
    });
    let kept = Gc::new(Node {
        id: temp.id * 2,
        next: GcCell::new(None),
    });
    kept
}

#[escape(place)]
fn parse_sum(a: &str, b: &str) -> Result<u64, std::num::ParseIntError> {
    let x = Gc::new(a.parse::<u64>()?);
    if *x == 0 {
        return Ok(0);
    }
    let y = Gc::new(b.parse::<u64>()?);
    Ok(*x + *y)
}

#[escape(place)]
fn holds(target: Gc<Node>) -> GcWeak<Node> {
    let weak = Gc::downgrade(&target);
    let holder = Gc::new(Node {
        id: 0,
        next: GcCell::new(Some(target)),
    });
    collect();
    assert!(weak.upgrade().is_some(), "the frame value holds the target");
    assert_eq!(holder.id, 0);
    weak
}

#[test]
fn placed_allocations_create_no_heap_objects() {
    // Tests of this file run on several threads; only this one allocates in a loop, so a
    // bound far below one object per call shows nothing reached the heap.
    let before = stats().total_alloc_objects;
    let mut sum = 0;
    for i in 0..10_000 {
        sum += temporaries(i);
    }
    let created = stats().total_alloc_objects - before;
    assert_eq!(sum, (0..10_000).map(|i| 2 * i + 1).sum::<u64>());
    assert!(
        created < 1_000,
        "{created} heap objects for 20000 placed allocations"
    );
}

#[test]
fn escaping_allocations_stay_on_the_heap() {
    let kept = keeps_one(21);
    collect();
    assert_eq!(kept.id, 42);
}

#[test]
fn return_and_question_mark_keep_their_meaning() {
    assert_eq!(parse_sum("2", "3"), Ok(5));
    assert_eq!(parse_sum("0", "x"), Ok(0));
    assert!(parse_sum("x", "3").is_err());
    assert!(parse_sum("2", "y").is_err());
}

#[test]
fn frame_values_hold_their_targets_until_the_call_returns() {
    let weak = holds(Gc::new(Node {
        id: 9,
        next: GcCell::new(None),
    }));
    collect();
    assert!(weak.upgrade().is_none(), "the frame ended with the call");
}
