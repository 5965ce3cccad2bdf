//! Faults in user code: a panicking `Drop` of a field while sweeping, a thread that panics
//! while holding handles. Afterwards the heap keeps working and nothing
//! reachable is lost.

use gc_core::{collect, stats, Gc, GcCell, Trace, Tracer};
use tests::DropCounter;

struct Bomb(bool);

impl Drop for Bomb {
    fn drop(&mut self) {
        if self.0 {
            panic!("a field's Drop panics on purpose");
        }
    }
}

struct WithBomb {
    _bomb: Bomb,
    _token: tests::DropToken,
}

// SAFETY: no handles.
unsafe impl Trace for WithBomb {
    const HOLDS_HANDLES: bool = false;
    fn trace(&self, _: &mut Tracer) {}
}

/// A bomb that points to itself: only a cycle's sweep drops it.
struct CyclicBomb {
    _bomb: WithBomb,
    me: GcCell<Option<Gc<CyclicBomb>>>,
}

// SAFETY: `me` is the only field holding handles, traced through its cell.
unsafe impl Trace for CyclicBomb {
    fn trace(&self, t: &mut Tracer) {
        self.me.trace(t)
    }
}

#[test]
fn a_panicking_drop_while_sweeping_is_counted_and_sweeping_goes_on() {
    let drops = DropCounter::new();
    let kept = Gc::new(vec![1, 2, 3]);
    let panics_before = stats().drop_panics;
    for i in 0..10 {
        let bomb = Gc::new(CyclicBomb {
            _bomb: WithBomb {
                _bomb: Bomb(i == 3),
                _token: drops.token(),
            },
            me: GcCell::new(None),
        });
        *bomb.me.borrow_mut() = Some(bomb.clone());
    }
    assert_eq!(drops.dropped(), 0, "cyclic: left to the collector");
    collect();
    assert_eq!(drops.dropped(), 10, "every dead value was dropped");
    assert!(stats().drop_panics > panics_before);
    collect();
    assert_eq!(*kept, vec![1, 2, 3]);
    let after = Gc::new(7);
    collect();
    assert_eq!(*after, 7, "the heap keeps working");
}

#[test]
fn a_panicking_drop_of_a_last_handle_is_counted_and_does_not_unwind() {
    let drops = DropCounter::new();
    let panics_before = stats().drop_panics;
    for i in 0..10 {
        // Freed at once: the last handle is dropped before any cycle takes the block.
        drop(Gc::new(WithBomb {
            _bomb: Bomb(i == 3),
            _token: drops.token(),
        }));
    }
    assert!(stats().drop_panics > panics_before);
    collect();
    assert_eq!(drops.dropped(), 10, "every value was dropped");
    let after = Gc::new(7);
    collect();
    assert_eq!(*after, 7, "the heap keeps working");
}

#[test]
fn a_thread_that_panics_while_holding_handles_releases_them() {
    let drops = DropCounter::new();
    let d = drops.clone();
    let r = std::thread::spawn(move || {
        let _a = Gc::new(d.token());
        let _b = Gc::new(d.token());
        panic!("thread panics on purpose");
    })
    .join();
    assert!(r.is_err());
    collect();
    assert_eq!(drops.dropped(), 2);
}
