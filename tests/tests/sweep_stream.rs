//! The sweep frees a dead block as soon as its value is dropped and no dead value refers to it
//! any more, so its memory is handed out again while the sweep is still dropping the rest; a
//! block whose count never reaches zero (a handle leaked inside a dead value) has its value
//! dropped once and its block kept, as a leaked `Arc`'s allocation is.

use gc_core::{collect, stats, Gc, GcCell, Trace, Tracer};
use std::collections::HashSet;
use std::mem::ManuallyDrop;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use tests::{DropCounter, DropToken};

/// A ring node, of a size no other test in this file allocates.
#[derive(Trace)]
struct Link {
    next: GcCell<Option<Gc<Link>>>,
    _pad: [u64; 11],
    _token: DropToken,
}

/// Addresses of the ring's blocks, and how many of the blocks allocated while the probe was
/// dropped landed on one of them.
static RING: Mutex<Option<HashSet<usize>>> = Mutex::new(None);
static REUSED: AtomicUsize = AtomicUsize::new(0);
static PROBED: AtomicUsize = AtomicUsize::new(0);

/// The tests count frees: one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

/// Dropped by the sweep after the ring (it is allocated after it): allocates blocks of the
/// ring's size and counts those that reuse a ring block.
struct Probe;

impl Drop for Probe {
    fn drop(&mut self) {
        let ring = RING.lock().unwrap().take().unwrap_or_default();
        let counter = DropCounter::new();
        let fresh: Vec<Gc<Link>> = (0..4096)
            .map(|_| {
                Gc::new(Link {
                    next: GcCell::new(None),
                    _pad: [7; 11],
                    _token: counter.token(),
                })
            })
            .collect();
        let reused = fresh
            .iter()
            .filter(|g| ring.contains(&(Gc::as_ptr(g) as usize)))
            .count();
        assert!(fresh.iter().all(|g| g._pad == [7; 11]));
        REUSED.store(reused, Ordering::SeqCst);
        PROBED.store(1, Ordering::SeqCst);
    }
}

/// Holds the probe; cyclic so that only a sweep frees it.
#[derive(Trace)]
struct ProbeNode {
    me: GcCell<Option<Gc<ProbeNode>>>,
    // SAFETY: the probe holds no handle.
    #[gc(unsafe_no_trace)]
    _probe: Probe,
}

#[test]
fn dead_blocks_are_handed_out_again_while_the_sweep_still_drops() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    if cfg!(gc_sanitize) {
        // Sanitizer builds free every block to the system allocator, which keeps freed memory
        // in quarantine: nothing is handed out again soon.
        return;
    }
    collect();
    let drops = DropCounter::new();
    const N: usize = 50_000;
    let first = Gc::new(Link {
        next: GcCell::new(None),
        _pad: [1; 11],
        _token: drops.token(),
    });
    let mut addresses = HashSet::from([Gc::as_ptr(&first) as usize]);
    let mut last = first.clone();
    for _ in 1..N {
        let l = Gc::new(Link {
            next: GcCell::new(Some(last)),
            _pad: [1; 11],
            _token: drops.token(),
        });
        addresses.insert(Gc::as_ptr(&l) as usize);
        last = l;
    }
    *first.next.borrow_mut() = Some(last);
    drop(first);
    *RING.lock().unwrap() = Some(addresses);
    let probe = Gc::new(ProbeNode {
        me: GcCell::new(None),
        _probe: Probe,
    });
    *probe.me.borrow_mut() = Some(probe.clone());
    drop(probe);
    collect();
    assert_eq!(PROBED.load(Ordering::SeqCst), 1, "the probe was dropped");
    assert_eq!(drops.dropped(), N, "every ring node dropped once");
    let reused = REUSED.load(Ordering::SeqCst);
    assert!(
        reused > 1000,
        "the sweep freed the ring's blocks before it dropped the probe: {reused} of 4096 \
         blocks allocated then reused one"
    );
}

/// Holds a handle it never gives back (its drop leaks it).
struct Leaky {
    held: ManuallyDrop<Gc<Target>>,
}

// SAFETY: `held` is the only handle, and it is traced.
unsafe impl Trace for Leaky {
    fn trace(&self, t: &mut Tracer) {
        self.held.trace(t)
    }
}

/// Held by a [`Leaky`] that holds it back.
#[derive(Trace)]
struct Target {
    back: GcCell<Option<Gc<Leaky>>>,
    _token: DropToken,
}

#[test]
fn a_dead_block_whose_handle_leaked_is_dropped_once_and_never_freed() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let drops = DropCounter::new();
    collect();
    let freed_before = stats().total_freed_objects;
    let target = Gc::new(Target {
        back: GcCell::new(None),
        _token: drops.token(),
    });
    let weak = Gc::downgrade(&target);
    let leaky = Gc::new(Leaky {
        held: ManuallyDrop::new(target.clone()),
    });
    *target.back.borrow_mut() = Some(leaky);
    drop(target);
    collect();
    assert!(weak.upgrade().is_none(), "the cycle was found dead");
    assert_eq!(drops.dropped(), 1, "the target's value was dropped once");
    assert_eq!(
        stats().total_freed_objects,
        freed_before + 1,
        "the leaky block is freed; the target's, whose handle it leaked, is not"
    );
    collect();
    collect();
    assert_eq!(drops.dropped(), 1, "no later cycle drops the target again");
    assert_eq!(
        stats().total_freed_objects,
        freed_before + 1,
        "no later cycle frees the target's block"
    );
}
