//! A last handle's drop frees acyclic garbage without a cycle: blocks still in their thread's
//! list are freed, blocks a cycle already took are retired (value dropped now, block freed by
//! the next sweep). Its own test binary: automatic cycles are turned off, so that no cycle is
//! running when the handles are dropped, and its tests take turns (a cycle one test runs
//! would drain the lists of the other's thread).

use gc_core::{collect, set_gc_percent, stats, Gc, GcWeak, Trace};
use std::collections::HashSet;
use std::sync::{Mutex, MutexGuard};
use tests::{DropCounter, DropToken};

/// Held by each test for its whole run; turns automatic cycles off.
fn one_at_a_time() -> MutexGuard<'static, ()> {
    static TURN: Mutex<()> = Mutex::new(());
    let turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    set_gc_percent(-1);
    turn
}

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
    let _turn = one_at_a_time();

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

/// A value of another type in the same size class as `Node` (two words).
#[derive(Trace)]
struct Other {
    value: u64,
    #[gc(unsafe_no_trace)]
    _token: DropToken,
}

/// The addresses of the values of a list's nodes.
fn addresses(head: &Gc<Node>) -> HashSet<usize> {
    let mut seen = HashSet::new();
    let mut node = Some(head.clone());
    while let Some(n) = node {
        assert!(
            seen.insert(Gc::as_ptr(&n) as usize),
            "the list loops back: a block was handed out twice"
        );
        node = n.next.clone();
    }
    seen
}

/// Allocates 100 values of `Other` (valued 0 to 99); returns them and how many took a block
/// among `blocks`.
fn others_in(blocks: &HashSet<usize>, drops: &DropCounter) -> (Vec<Gc<Other>>, usize) {
    let others: Vec<Gc<Other>> = (0..100)
        .map(|value| {
            Gc::new(Other {
                value,
                _token: drops.token(),
            })
        })
        .collect();
    let inside = others
        .iter()
        .filter(|o| blocks.contains(&(Gc::as_ptr(o) as usize)))
        .count();
    (others, inside)
}

#[test]
fn blocks_freed_at_once_are_reused_by_their_thread_until_a_cycle_takes_them() {
    let _turn = one_at_a_time();
    let drops = DropCounter::new();

    // Freed at once, then reused by the next allocations of the size class, of any type.
    let head = list(100, &drops);
    let freed = addresses(&head);
    let weak = Gc::downgrade(&head);
    let before = stats();
    drop(head);
    assert_eq!(drops.dropped(), 100);
    let (others, reused) = others_in(&freed, &drops);
    assert_eq!(reused, 100, "every freed block is handed out again");
    assert!(
        weak.upgrade().is_none(),
        "a weak reference to a freed value stays cleared when its block is reused"
    );
    for (i, o) in others.iter().enumerate() {
        assert_eq!(o.value, i as u64, "values in reused blocks are intact");
    }
    let after = stats();
    assert_eq!(after.total_freed_objects - before.total_freed_objects, 100);
    assert_eq!(after.total_alloc_objects - before.total_alloc_objects, 100);
    assert_eq!(after.num_gc, before.num_gc, "no cycle was needed");
    drop(others);
    assert_eq!(drops.dropped(), 200);

    // A cycle drains the list: the kept blocks are then its sweep's to free, counted once.
    let head = list(100, &drops);
    let before = stats();
    drop(head);
    collect();
    assert_eq!(
        stats().total_freed_objects - before.total_freed_objects,
        100,
        "blocks freed at once are not counted again by the sweep that frees them"
    );
    let fresh = list(100, &drops);
    assert_eq!(addresses(&fresh).len(), 100, "fresh blocks are distinct");
    drop(fresh);
    collect();
    assert_eq!(drops.dropped(), 400, "nothing dropped twice");
}

#[test]
fn retired_blocks_are_reused_by_their_thread_until_a_cycle_starts() {
    let _turn = one_at_a_time();
    let drops = DropCounter::new();

    // Taken by a cycle, then retired by the last handle's drop: the retiring thread's next
    // allocations of the size class reuse the blocks, whichever thread allocated them.
    for allocated_elsewhere in [false, true] {
        let head = if allocated_elsewhere {
            let d = drops.clone();
            std::thread::spawn(move || list(100, &d)).join().unwrap()
        } else {
            list(100, &drops)
        };
        collect();
        let retired = addresses(&head);
        let weak = Gc::downgrade(&head);
        let before = stats();
        drop(head);
        assert_eq!(drops.dropped() % 100, 0, "every value dropped at once");
        let (others, reused) = others_in(&retired, &drops);
        assert_eq!(reused, 100, "every retired block is handed out again");
        assert!(weak.upgrade().is_none(), "the weak reference stays cleared");
        for (i, o) in others.iter().enumerate() {
            assert_eq!(o.value, i as u64, "values in reused blocks are intact");
        }
        let after = stats();
        assert_eq!(after.num_gc, before.num_gc, "no cycle was needed");
        assert_eq!(
            after.heap_objects, before.heap_objects,
            "the heap holds as many objects as before"
        );
        assert_eq!(after.total_freed_objects - before.total_freed_objects, 100);
        assert_eq!(after.total_alloc_objects - before.total_alloc_objects, 100);
        // The reused blocks are objects like any other: kept while reachable, freed after.
        collect();
        assert!(others.iter().enumerate().all(|(i, o)| o.value == i as u64));
        drop(others);
        collect();
    }
    assert_eq!(drops.dropped(), 400);

    // A cycle between the retirement and the next allocations: its sweep frees the retired
    // blocks (counted once), and they are not handed out a second time.
    let head = list(100, &drops);
    collect();
    let before = stats();
    drop(head);
    collect();
    assert_eq!(
        stats().total_freed_objects - before.total_freed_objects,
        100,
        "the sweep frees the retired blocks once"
    );
    let a = list(100, &drops);
    let b = list(100, &drops);
    let (sa, sb) = (addresses(&a), addresses(&b));
    assert_eq!(sa.len() + sb.len(), 200);
    assert!(sa.is_disjoint(&sb), "no block is handed out twice");
    drop((a, b));
    collect();
    assert_eq!(drops.dropped(), 700, "nothing dropped twice");
}

/// Values dropped while the collector sweeps are retired, and blocks retired then are never
/// handed out again by their thread (the running sweep may free them): a thread builds,
/// checks and drops lists while another runs cycles back to back, and every list it builds
/// is intact, on blocks no other live list uses.
#[test]
fn lists_dropped_while_cycles_run_back_to_back_never_share_a_block() {
    let _turn = one_at_a_time();
    let drops = DropCounter::new();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let collector = {
        let stop = std::sync::Arc::clone(&stop);
        std::thread::spawn(move || {
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                collect();
            }
        })
    };
    let mut built = 0;
    let start = std::time::Instant::now();
    while start.elapsed() < std::time::Duration::from_millis(1500) {
        let kept = list(64, &drops);
        let dropped = list(64, &drops);
        drop(dropped);
        let fresh = list(64, &drops);
        let (a, b) = (addresses(&kept), addresses(&fresh));
        assert_eq!(a.len() + b.len(), 128, "every node has a block of its own");
        assert!(a.is_disjoint(&b), "no block is handed out twice");
        built += 3;
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    collector.join().unwrap();
    collect();
    collect();
    assert_eq!(drops.dropped(), built * 64, "every value dropped once");
}

/// Holds the collector inside `trace` (so inside a marking phase) from the first time a cycle
/// traces it until `release`.
struct Holder {
    entered: std::sync::atomic::AtomicBool,
    released: std::sync::atomic::AtomicBool,
}

// SAFETY: holds no handle; its trace only waits.
unsafe impl Trace for Holder {
    fn trace(&self, _: &mut gc_core::Tracer) {
        use std::sync::atomic::Ordering::SeqCst;
        self.entered.store(true, SeqCst);
        while !self.released.load(SeqCst) {
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
    }
}

/// Releases the holder when dropped, also if the test fails while the collector waits.
struct Release(Gc<Holder>);

impl Drop for Release {
    fn drop(&mut self) {
        self.0
            .released
            .store(true, std::sync::atomic::Ordering::SeqCst);
    }
}

/// Runs `during` while a cycle is held in a marking pass (a value whose trace waits), then
/// lets the cycle end and waits for it.
fn while_a_cycle_marks(during: impl FnOnce()) {
    use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
    let holder = Release(Gc::new(Holder {
        entered: AtomicBool::new(false),
        released: AtomicBool::new(false),
    }));
    let cycle = std::thread::spawn(collect);
    while !holder.0.entered.load(SeqCst) {
        std::thread::yield_now();
    }
    during();
    drop(holder);
    cycle.join().unwrap();
}

#[test]
fn a_list_dropped_while_a_cycle_marks_is_dropped_by_its_thread_once_the_cycle_ends() {
    let _turn = one_at_a_time();
    let drops = DropCounter::new();
    let head = list(1000, &drops);
    let before = stats();
    while_a_cycle_marks(|| {
        // The marker may be tracing the list: nothing of it is dropped now.
        drop(head);
        assert_eq!(
            drops.dropped(),
            0,
            "nothing is dropped while the cycle marks"
        );
    });
    assert_eq!(
        drops.dropped(),
        0,
        "the cycle kept the list: its head was reachable when it started"
    );
    // An allocation drops none of them: values are dropped where handles are.
    let fresh = Gc::new(0u64);
    assert_eq!(drops.dropped(), 0, "an allocation drops no value");
    // The next last handle this thread drops retires what it dropped while the cycle marked.
    drop(fresh);
    assert_eq!(
        drops.dropped(),
        1000,
        "every value dropped once the cycle is over, without waiting for the next one"
    );
    assert_eq!(stats().num_gc, before.num_gc + 1, "one cycle ran");
    // The retired blocks wait for the next sweep: leave the heap as the other tests expect it.
    collect();
}

/// A node too large for a size class (its block goes back to the system allocator).
#[derive(Trace)]
struct Large {
    next: Option<Gc<Large>>,
    #[gc(unsafe_no_trace)]
    payload: [u64; 512],
    #[gc(unsafe_no_trace)]
    _token: DropToken,
}

/// A list of `n` large nodes, each payload filled with `tag` and its index.
fn large_list(n: usize, tag: u64, drops: &DropCounter) -> Gc<Large> {
    let mut head = None;
    for i in 0..n as u64 {
        head = Some(Gc::new(Large {
            next: head,
            payload: [tag << 32 | i; 512],
            _token: drops.token(),
        }));
    }
    head.expect("n > 0")
}

/// True if every payload of the list is intact.
fn large_intact(head: &Gc<Large>, n: usize, tag: u64) -> bool {
    let mut node = Some(head);
    let mut i = n as u64;
    while let Some(g) = node {
        i -= 1;
        if g.payload.iter().any(|&w| w != tag << 32 | i) {
            return false;
        }
        node = g.next.as_ref();
    }
    i == 0
}

#[derive(Trace)]
struct Unit;

#[test]
fn large_and_zero_sized_values_are_freed_at_once_and_leave_the_list_intact() {
    let _turn = one_at_a_time();
    let drops = DropCounter::new();
    // Three lists allocated interleaved; freeing the middle one moves entries of the others
    // in the thread's list (each large block is removed from it).
    let (mut a, mut b, mut c) = (None, None, None);
    for round in 0..3 {
        a = Some(large_list(50, 1 + round * 3, &drops));
        b = Some(large_list(50, 2 + round * 3, &drops));
        c = Some(large_list(50, 3 + round * 3, &drops));
    }
    let weak = Gc::downgrade(b.as_ref().expect("built"));
    let before = stats();
    drop(b.take());
    assert_eq!(
        drops.dropped(),
        6 * 50 + 50,
        "earlier rounds and the dropped list"
    );
    assert!(
        weak.upgrade().is_none(),
        "the weak reference is cleared at once"
    );
    assert_eq!(stats().total_freed_objects - before.total_freed_objects, 50);
    let (a, c) = (a.expect("built"), c.expect("built"));
    assert!(large_intact(&a, 50, 7) && large_intact(&c, 50, 9));
    // Zero-sized values have no room for a kept block's link: freed, never kept.
    let before = stats();
    let units: Vec<Gc<Unit>> = (0..1000).map(|_| Gc::new(Unit)).collect();
    drop(units);
    assert_eq!(
        stats().total_freed_objects - before.total_freed_objects,
        1000
    );
    // A cycle after all that finds the surviving lists intact and frees nothing of theirs.
    collect();
    assert!(large_intact(&a, 50, 7) && large_intact(&c, 50, 9));
    drop((a, c));
    assert_eq!(drops.dropped(), 9 * 50, "every value dropped once");
    assert_eq!(stats().num_gc, before.num_gc + 1, "one cycle ran");
}

#[test]
fn objects_dropped_while_a_cycle_marks_are_dropped_a_few_at_a_time_once_it_ends() {
    let _turn = one_at_a_time();
    let drops = DropCounter::new();
    let objects: Vec<Gc<Node>> = (0..1000).map(|_| list(1, &drops)).collect();
    while_a_cycle_marks(|| {
        drop(objects);
        assert_eq!(
            drops.dropped(),
            0,
            "nothing is dropped while the cycle marks"
        );
    });
    // Each later drop of a last handle retires a bounded share of them, not all at once.
    drop(Gc::new(0u64));
    let first = drops.dropped();
    assert!(
        first > 0 && first < 1000,
        "one drop retires some but not all of 1000 objects ({first})"
    );
    let mut later_drops = 0;
    while drops.dropped() < 1000 && later_drops < 1000 {
        drop(Gc::new(0u64));
        later_drops += 1;
    }
    assert_eq!(
        drops.dropped(),
        1000,
        "every object dropped once, without another cycle"
    );
    assert!(
        later_drops <= 4,
        "a few drops retire the rest ({later_drops})"
    );
    collect();
    assert_eq!(drops.dropped(), 1000, "and nothing twice");
}

/// A node whose value has drop glue, holding a value without any: the plain value is freed
/// inside the node's free loop.
#[derive(Trace)]
struct Holds {
    plain: Gc<[u64; 4]>,
    #[gc(unsafe_no_trace)]
    _token: DropToken,
}

#[test]
fn values_without_drop_glue_are_kept_for_reuse_at_once() {
    let _turn = one_at_a_time();
    let drops = DropCounter::new();
    let addresses = |v: &[Gc<[u64; 4]>]| -> HashSet<usize> {
        v.iter().map(|g| Gc::as_ptr(g) as usize).collect()
    };

    // Dropped on their own: each block is kept and handed out again, and counted freed.
    let plain: Vec<Gc<[u64; 4]>> = (0..100).map(|i| Gc::new([i; 4])).collect();
    let freed = addresses(&plain);
    let before = stats();
    drop(plain);
    assert_eq!(
        stats().total_freed_objects - before.total_freed_objects,
        100
    );
    let again: Vec<Gc<[u64; 4]>> = (100..200).map(|i| Gc::new([i; 4])).collect();
    assert_eq!(
        addresses(&again),
        freed,
        "every freed block is handed out again"
    );
    for (i, g) in again.iter().enumerate() {
        assert_eq!(
            **g,
            [100 + i as u64; 4],
            "values in reused blocks are intact"
        );
    }

    // Dropped inside another value's drop (the free loop): the same.
    let freed = addresses(&again);
    let holders: Vec<Gc<Holds>> = again
        .into_iter()
        .map(|plain| {
            Gc::new(Holds {
                plain,
                _token: drops.token(),
            })
        })
        .collect();
    drop(holders);
    assert_eq!(drops.dropped(), 100);
    let third: Vec<Gc<[u64; 4]>> = (0..100).map(|i| Gc::new([i; 4])).collect();
    assert_eq!(
        addresses(&third),
        freed,
        "blocks freed in the loop are handed out again"
    );

    // With a weak reference, the block is freed on the general path: the reference clears.
    let watched = Gc::new([7u64; 4]);
    let weak: GcWeak<[u64; 4]> = Gc::downgrade(&watched);
    drop(watched);
    assert!(
        weak.upgrade().is_none(),
        "the weak reference of a freed value is cleared"
    );
    drop(third);
}
