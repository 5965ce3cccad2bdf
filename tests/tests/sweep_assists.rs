//! Sweep assists: a thread that allocates past the heap goal while a cycle sweeps sweeps part
//! of the snapshot itself, dropping the dead values whose drop runs no code of their own
//! (`Trace::PLAIN_DROP`) and leaving the others to the collector's thread. Its own test binary:
//! it needs the default percent and a heap of its own.

use gc_core::{collect, stats, Gc, GcCell, GcWeak, Trace, Tracer};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tests::{check_wide_graph, wide_graph, Leaf};

/// Garbage that only a cycle frees (it holds itself); its drop is plain. It also holds a
/// handle to a live object, which its drop gives back.
#[derive(Trace)]
struct Plain {
    _payload: [u64; 96],
    me: GcCell<Option<Gc<Plain>>>,
    anchor: Gc<Leaf>,
}

/// Drops of [`Noted`] values, on the collector's thread and elsewhere.
static ON_COLLECTOR: AtomicUsize = AtomicUsize::new(0);
static ELSEWHERE: AtomicUsize = AtomicUsize::new(0);

/// Notes which thread drops it (a `Drop` impl: not plain).
struct Note;

impl Drop for Note {
    fn drop(&mut self) {
        if std::thread::current().name() == Some("gc-collector") {
            ON_COLLECTOR.fetch_add(1, Ordering::SeqCst);
        } else {
            ELSEWHERE.fetch_add(1, Ordering::SeqCst);
        }
    }
}

// SAFETY: holds no handle.
unsafe impl Trace for Note {
    const HOLDS_HANDLES: bool = false;
    fn trace(&self, _: &mut Tracer) {}
}

/// Garbage that only a cycle frees, whose drop runs code of its own.
#[derive(Trace)]
struct Noted {
    _note: Note,
    me: GcCell<Option<Gc<Noted>>>,
}

const _: () = assert!(<Plain as Trace>::PLAIN_DROP && !<Noted as Trace>::PLAIN_DROP);

fn plain_garbage(anchor: &Gc<Leaf>) -> GcWeak<Plain> {
    let g = Gc::new(Plain {
        _payload: [0; 96],
        me: GcCell::new(None),
        anchor: anchor.clone(),
    });
    *g.me.borrow_mut() = Some(g.clone());
    Gc::downgrade(&g)
}

fn noted_garbage() {
    let g = Gc::new(Noted {
        _note: Note,
        me: GcCell::new(None),
    });
    *g.me.borrow_mut() = Some(g.clone());
}

const BUCKETS: u64 = 2_000;
const LEAVES: u64 = 1_000;

#[test]
fn an_allocating_thread_past_the_goal_sweeps_for_the_collector() {
    // A live graph of 2 M objects: sweeping visits every one, long enough for the allocating
    // loop below to pass the goal meanwhile.
    let buckets = wide_graph(BUCKETS, LEAVES);
    collect();
    let before = stats().assist_swept_objects;
    let anchor = Gc::new(Leaf { id: u64::MAX });
    let first = plain_garbage(&anchor);
    let mut noted = 0;
    // Cyclic garbage as fast as possible, until assists have swept a good part of a snapshot
    // (or give up).
    let deadline = Instant::now() + Duration::from_secs(60);
    while stats().assist_swept_objects < before + 500_000 && Instant::now() < deadline {
        for _ in 0..100 {
            for _ in 0..100 {
                plain_garbage(&anchor);
            }
            noted_garbage();
            noted += 1;
        }
    }
    assert!(
        stats().assist_swept_objects >= before + 500_000,
        "allocation past the goal while a cycle swept made the thread sweep for it"
    );
    collect();
    collect();
    assert!(first.upgrade().is_none(), "plain garbage is freed");
    assert_eq!(
        Gc::handle_count(&anchor),
        1,
        "every dead value's handle to a live object is given back, whoever swept it"
    );
    assert_eq!(
        ON_COLLECTOR.load(Ordering::SeqCst) + ELSEWHERE.load(Ordering::SeqCst),
        noted,
        "every value with a drop of its own is dropped, once"
    );
    assert_eq!(
        ELSEWHERE.load(Ordering::SeqCst),
        0,
        "a value whose drop runs code of its own is dropped on the collector's thread only"
    );
    check_wide_graph(&buckets, LEAVES);
}
