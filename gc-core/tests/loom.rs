//! Model checks of the collector protocol with loom: every interleaving (up to the preemption
//! bound) of a mutator thread against a thread running `collect()`.
//!
//! `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=2 cargo test -p gc-core --test loom --release`
//! (in its own target directory: `--cfg loom` rebuilds everything).
#![cfg(loom)]

use gc_core::{collect, Gc, GcCell, Trace, Tracer};
use loom::thread;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// A leaf that counts its drops.
struct Leaf {
    value: u64,
    drops: Arc<AtomicUsize>,
}

impl Drop for Leaf {
    fn drop(&mut self) {
        self.drops.fetch_add(1, Ordering::SeqCst);
    }
}

// SAFETY: a leaf holds no handle.
unsafe impl Trace for Leaf {
    const HOLDS_HANDLES: bool = false;
    fn trace(&self, _: &mut Tracer) {}
}

/// An object with one slot.
struct Holder {
    slot: GcCell<Option<Gc<Leaf>>>,
}

// SAFETY: the slot is the only field holding a handle and it is traced.
unsafe impl Trace for Holder {
    fn trace(&self, t: &mut Tracer) {
        self.slot.trace(t)
    }
}

fn leaf(value: u64, drops: &Arc<AtomicUsize>) -> Gc<Leaf> {
    Gc::new(Leaf {
        value,
        drops: Arc::clone(drops),
    })
}

fn holder(l: Option<Gc<Leaf>>) -> Gc<Holder> {
    Gc::new(Holder {
        slot: GcCell::new(l),
    })
}

/// Puts `value`'s blocks in a cycle's snapshot (a cycle completes first), then drops it while
/// another cycle, started on another thread, may be in any phase, and waits for that cycle.
fn dropped_while_a_cycle_runs<T>(value: T) {
    collect();
    let t = thread::spawn(collect);
    drop(value);
    t.join().unwrap();
}

/// Runs two more cycles (a block retired or left over is freed by then) and checks that
/// `expected` values were dropped, each exactly once.
fn assert_dropped_once_after_cycles(drops: &AtomicUsize, expected: usize) {
    collect();
    collect();
    assert_eq!(
        drops.load(Ordering::SeqCst),
        expected,
        "every garbage value is dropped exactly once"
    );
}

/// The cell barrier: a handle taken out of a cell while the marker runs is never freed.
#[test]
fn take_out_of_a_cell_during_marking() {
    take_out_of_a_cell_while_collecting(0, 1);
}

/// Another thread borrows a holder's cell `borrows_first` times, then takes the leaf out of it
/// and drops its handle to the holder, while this one runs `cycles` cycles: the leaf taken
/// out is intact and never dropped.
fn take_out_of_a_cell_while_collecting(borrows_first: usize, cycles: usize) {
    loom::model(move || {
        let drops = Arc::new(AtomicUsize::new(0));
        let h = holder(Some(leaf(7, &drops)));
        let h2 = h.clone();
        let t = thread::spawn(move || {
            for _ in 0..borrows_first {
                drop(h2.slot.borrow_mut());
            }
            let taken = h2.slot.borrow_mut().take();
            drop(h2);
            taken
        });
        for _ in 0..cycles {
            collect();
        }
        let taken = t.join().unwrap().expect("the leaf was in the slot");
        assert_eq!(drops.load(Ordering::SeqCst), 0, "a held leaf was dropped");
        assert_eq!(taken.value, 7);
        drop(h);
    });
}

/// The cell barrier shades a cell's contents once per marking phase after its roots are
/// found, and at every borrow before: a borrow that may come in one cycle's marking and a
/// take-out that may come in the next's are both shaded for, and the handle taken out is
/// never freed.
#[test]
fn take_out_of_a_cell_shaded_in_an_earlier_cycle() {
    take_out_of_a_cell_while_collecting(1, 2);
}

/// A handle moved into a cell and out again while the cycle counts handles (before its roots
/// are found): both borrows shade, so the handle's target, counted inside the cell and then
/// held only by a local, is never freed.
#[test]
fn put_into_and_take_out_of_a_cell_while_the_cycle_counts() {
    loom::model(|| {
        let drops = Arc::new(AtomicUsize::new(0));
        let h = holder(None);
        let h2 = h.clone();
        let l = leaf(5, &drops);
        let t = thread::spawn(move || {
            *h2.slot.borrow_mut() = Some(l);
            let taken = h2.slot.borrow_mut().take();
            drop(h2);
            taken
        });
        collect();
        let taken = t.join().unwrap().expect("the leaf was put in the slot");
        assert_eq!(drops.load(Ordering::SeqCst), 0, "a held leaf was dropped");
        assert_eq!(taken.value, 5);
        drop(h);
    });
}

/// The drop barrier: a handle cloned out of an object whose last outside handle is then
/// dropped keeps its target alive.
#[test]
fn clone_out_then_drop_the_holder_during_marking() {
    loom::model(|| {
        let drops = Arc::new(AtomicUsize::new(0));
        let h = holder(Some(leaf(3, &drops)));
        let t = thread::spawn(move || {
            let cloned = h.slot.borrow().clone();
            drop(h);
            cloned
        });
        collect();
        let cloned = t.join().unwrap().expect("the slot was full");
        assert_eq!(drops.load(Ordering::SeqCst), 0, "a held leaf was dropped");
        assert_eq!(cloned.value, 3);
    });
}

/// Allocation during marking: a new object linked into a reachable one survives.
#[test]
fn allocate_and_link_during_marking() {
    loom::model(|| {
        let drops = Arc::new(AtomicUsize::new(0));
        let h = holder(None);
        let (h2, d2) = (h.clone(), Arc::clone(&drops));
        let t = thread::spawn(move || {
            let fresh = leaf(9, &d2);
            *h2.slot.borrow_mut() = Some(fresh);
        });
        collect();
        t.join().unwrap();
        assert_eq!(
            drops.load(Ordering::SeqCst),
            0,
            "a reachable new leaf was dropped"
        );
        assert_eq!(h.slot.borrow().as_ref().map(|l| l.value), Some(9));
    });
}

/// A weak upgrade racing with the sweep either fails (the object is freed) or returns a
/// handle to an object that stays intact.
#[test]
fn weak_upgrade_races_with_the_sweep() {
    loom::model(|| {
        let drops = Arc::new(AtomicUsize::new(0));
        let l = leaf(5, &drops);
        let w = Gc::downgrade(&l);
        drop(l);
        let t = thread::spawn(move || w.upgrade());
        collect();
        if let Some(l) = t.join().unwrap() {
            assert_eq!(
                drops.load(Ordering::SeqCst),
                0,
                "an upgraded leaf was dropped"
            );
            assert_eq!(l.value, 5);
        }
    });
}

/// What the other thread runs: it upgrades a weak reference.
type Upgrader = Box<dyn FnOnce() -> Option<Gc<Leaf>> + Send>;

/// Drops the only handle to a leaf while another thread upgrades a weak reference to it that
/// `weak` makes (given the handle, it may make it through a clone on the other thread): the
/// upgrade either fails or returns a handle to a value that stays intact.
fn only_handle_dropped_while_upgraded(weak: fn(&Gc<Leaf>) -> Upgrader) {
    loom::model(move || {
        let drops = Arc::new(AtomicUsize::new(0));
        let l = leaf(5, &drops);
        let t = thread::spawn(weak(&l));
        drop(l);
        if let Some(l) = t.join().unwrap() {
            assert_eq!(
                drops.load(Ordering::SeqCst),
                0,
                "an upgraded leaf was dropped"
            );
            assert_eq!(l.value, 5);
        }
    });
}

/// The drop of the only handle stores a zero count instead of decrementing it, unless a weak
/// reference exists: it must see the flag and decrement (it fails without the flag test).
#[test]
fn only_handle_dropped_while_its_weak_is_upgraded() {
    only_handle_dropped_while_upgraded(|l| {
        let w = Gc::downgrade(l);
        Box::new(move || w.upgrade())
    });
}

/// As above, with the weak reference made on the other thread from a second handle, which that
/// thread drops before upgrading: the flag it set must be seen by the first handle's drop.
#[test]
fn only_handle_dropped_while_another_thread_upgrades_its_weak() {
    only_handle_dropped_while_upgraded(|l| {
        let other = l.clone();
        Box::new(move || {
            let w = Gc::downgrade(&other);
            drop(other);
            w.upgrade()
        })
    });
}

/// `collect()` while holding a cell mutably, on two threads: the marker reads the cell of the
/// parked holder instead of waiting (loom reports a deadlock otherwise).
#[test]
fn collect_while_holding_a_cell() {
    // The marker spins (yielding) until the holder parks: allow the extra branches.
    let mut model = loom::model::Builder::new();
    model.max_branches = 100_000;
    model.check(|| {
        let drops = Arc::new(AtomicUsize::new(0));
        let h = holder(Some(leaf(1, &drops)));
        let h2 = h.clone();
        let t = thread::spawn(move || {
            let mut g = h2.slot.borrow_mut();
            collect();
            let l = g.take();
            drop(g);
            l
        });
        collect();
        let l = t.join().unwrap().expect("the slot was full");
        assert_eq!(drops.load(Ordering::SeqCst), 0);
        assert_eq!(l.value, 1);
        drop(h);
    });
}

/// Allocation lists: blocks a thread allocates while the collector drains its list (and after
/// the thread has exited) are each swept exactly once: none is lost, none is taken twice.
#[test]
fn allocation_list_drained_while_a_thread_allocates() {
    loom::model(|| {
        let drops = Arc::new(AtomicUsize::new(0));
        let d2 = Arc::clone(&drops);
        let t = thread::spawn(move || {
            for i in 0..5 {
                drop(leaf(i, &d2));
            }
        });
        collect();
        t.join().unwrap();
        assert_dropped_once_after_cycles(&drops, 5);
    });
}

/// Freeing at once against a cycle start: a thread allocates a holder and its leaf, then drops
/// the holder's last handle while another thread runs a cycle. Each block is freed exactly
/// once, by its thread (still in its list) or by the cycle (taken into the snapshot), never
/// both, and a block the thread frees is never one a barrier queued for the marker.
#[test]
fn last_handle_dropped_while_a_cycle_starts() {
    loom::model(|| {
        let drops = Arc::new(AtomicUsize::new(0));
        let d2 = Arc::clone(&drops);
        let t = thread::spawn(move || {
            let h = holder(Some(leaf(1, &d2)));
            let kept = h.slot.borrow().clone();
            drop(h);
            kept
        });
        collect();
        let kept = t.join().unwrap().expect("the leaf");
        assert_eq!(kept.value, 1, "the leaf held from outside is intact");
        assert_eq!(drops.load(Ordering::SeqCst), 0);
        drop(kept);
        assert_dropped_once_after_cycles(&drops, 1);
    });
}

/// Retiring against a cycle: a holder and its leaf are taken by a cycle, then a thread drops
/// the holder's last handle (its value is dropped by that thread, the block left to a sweep)
/// while another thread runs a cycle that counts, marks and sweeps the same blocks. Each value
/// is dropped exactly once, never while the collector reads it, and each block is freed once.
#[test]
fn last_handle_to_a_taken_block_dropped_while_a_cycle_runs() {
    loom::model(|| {
        let drops = Arc::new(AtomicUsize::new(0));
        let h = holder(Some(leaf(1, &drops)));
        collect();
        let t = thread::spawn(move || drop(h));
        collect();
        t.join().unwrap();
        assert_dropped_once_after_cycles(&drops, 1);
    });
}

/// Retiring under the list lock against a cycle: as above, but the dropping thread has an
/// allocation list (it allocated the blocks), so it retires them under its list lock, between
/// cycles or while the cycle sweeps, or leaves them to the collector while it marks.
#[test]
fn last_handle_dropped_by_an_allocating_thread_while_a_cycle_runs() {
    loom::model(|| {
        let drops = Arc::new(AtomicUsize::new(0));
        dropped_while_a_cycle_runs(holder(Some(leaf(1, &drops))));
        assert_dropped_once_after_cycles(&drops, 1);
    });
}

/// Spares against a cycle start: a thread frees a holder at once (its block kept as a spare)
/// and allocates again of the same size class, reusing the spare, while another thread runs a
/// cycle whose drain may come between the two. A spare is reused only if no drain came in
/// between (else the cycle's sweep frees it): the new leaf stays intact, and every value is
/// dropped exactly once.
#[test]
fn spare_reused_while_a_cycle_drains_the_list() {
    loom::model(|| {
        let drops = Arc::new(AtomicUsize::new(0));
        let d2 = Arc::clone(&drops);
        let t = thread::spawn(move || {
            drop(leaf(1, &d2));
            leaf(2, &d2)
        });
        collect();
        let kept = t.join().unwrap();
        assert_eq!(kept.value, 2, "the leaf allocated in a spare is intact");
        assert!(
            drops.load(Ordering::SeqCst) <= 1,
            "the kept leaf is not dropped"
        );
        drop(kept);
        assert_dropped_once_after_cycles(&drops, 2);
    });
}

/// Retirement and husk reuse against a cycle: a thread drops the last handle to a block a
/// cycle already took (it is retired and kept as a husk if no cycle has started since) and
/// allocates again of the same size class (reusing the husk if its list was not drained
/// since), while another thread runs a cycle that may start anywhere in between, or be
/// sweeping. A husk is reused only before the cycle's drain (else its sweep frees it), and a
/// block retired while the cycle sweeps is never kept (the sweep may free it): no block is
/// handed out twice, the new leaf stays intact, and every value is dropped exactly once.
#[test]
fn husk_reused_while_a_cycle_starts() {
    loom::model(|| {
        let drops = Arc::new(AtomicUsize::new(0));
        let old = leaf(1, &drops);
        collect();
        let t = thread::spawn(collect);
        drop(old);
        let kept = leaf(2, &drops);
        t.join().unwrap();
        // A block handed out as a husk after a sweep freed it would be handed out again.
        let other = leaf(3, &drops);
        assert!(!Gc::ptr_eq(&kept, &other), "no block is handed out twice");
        assert_eq!(kept.value, 2, "the leaf allocated in a husk is intact");
        assert!(
            drops.load(Ordering::SeqCst) <= 1,
            "the kept leaf is not dropped"
        );
        drop((kept, other));
        assert_dropped_once_after_cycles(&drops, 3);
    });
}

/// Mark assists against the marker: a thread assists (scanning a batch of the marker's shared
/// grey objects) while another runs a cycle over a chain that the collecting thread holds.
/// Whichever of them scans each link, the whole chain is marked: nothing live is freed, and
/// the chain is freed exactly once after it is dropped.
#[test]
fn mark_assist_scans_beside_the_marker() {
    loom::model(|| {
        let drops = Arc::new(AtomicUsize::new(0));
        let chain = holder(Some(leaf(1, &drops)));
        let chain = Gc::new(Outer {
            inner: GcCell::new(Some(chain)),
        });
        let t = thread::spawn(gc_core::model_assist);
        collect();
        t.join().unwrap();
        let inner = chain.inner.borrow().clone().expect("the inner holder");
        let leaf = inner.slot.borrow().clone().expect("the leaf");
        assert_eq!(leaf.value, 1, "the chain is intact");
        assert_eq!(drops.load(Ordering::SeqCst), 0);
        drop((chain, inner, leaf));
        assert_dropped_once_after_cycles(&drops, 1);
    });
}

/// A mark assist that meets a cell its own thread holds mutably gives the object back to the
/// marker rather than wait for itself; the marker reads the cell (the assisting thread is
/// parked) and the handle moved through it survives.
#[test]
fn mark_assist_gives_back_a_cell_its_thread_holds() {
    loom::model(|| {
        let drops = Arc::new(AtomicUsize::new(0));
        let h = holder(Some(leaf(1, &drops)));
        // Rooted after `h`, so the marker scans them first and shares `h` with the assist.
        let later = (holder(None), holder(None));
        let h2 = h.clone();
        let t = thread::spawn(move || {
            let mut slot = h2.slot.borrow_mut();
            gc_core::model_assist();
            let l = slot.take();
            *slot = l;
        });
        collect();
        t.join().unwrap();
        drop(later);
        let kept = h.slot.borrow().clone().expect("the leaf");
        assert_eq!(kept.value, 1, "the leaf is intact");
        assert_eq!(drops.load(Ordering::SeqCst), 0);
        drop((h, kept));
        assert_dropped_once_after_cycles(&drops, 1);
    });
}

/// An object with a cell holding a holder.
struct Outer {
    inner: GcCell<Option<Gc<Holder>>>,
}

// SAFETY: the cell is the only field holding a handle and it is traced.
unsafe impl Trace for Outer {
    fn trace(&self, t: &mut Tracer) {
        self.inner.trace(t)
    }
}

/// A tree whose last handle is dropped while a cycle may be marking: once that cycle is over,
/// the thread's next drop of a last handle retires the blocks the cycle had marked (their
/// values are dropped then rather than left to the next cycle). Whenever the drop falls,
/// every value is dropped exactly once and the new leaves are intact.
#[test]
fn blocks_dropped_while_marking_are_retired_when_the_cycle_ends() {
    loom::model(|| {
        let drops = Arc::new(AtomicUsize::new(0));
        dropped_while_a_cycle_runs(holder(Some(leaf(1, &drops))));
        // A drop after the cycle: retires what this thread kept while it marked.
        drop(leaf(2, &drops));
        let other = leaf(3, &drops);
        assert_eq!(
            other.value, 3,
            "a leaf allocated after the retiring is intact"
        );
        drop(other);
        assert_dropped_once_after_cycles(&drops, 3);
    });
}

/// A cyclic object holding a leaf.
struct Cyclic {
    me: GcCell<Option<Gc<Cyclic>>>,
    leaf: Gc<Leaf>,
}

// SAFETY: both fields that hold handles are traced.
unsafe impl Trace for Cyclic {
    fn trace(&self, t: &mut Tracer) {
        self.me.trace(t);
        self.leaf.trace(t);
    }
}

/// The sweep's test for a dead handle's target (unmarked, dropped on the sweeping thread)
/// against a mutator dropping the other handle to that target: a dead cyclic object holds a
/// leaf, and another thread drops the leaf's only other handle at any point of a cycle. The
/// leaf is live or dead depending on when, and the sweep's drop of the dead object's handle
/// must give its count back through the right path either way: the leaf's value is dropped
/// exactly once and nothing is freed twice. (Taking every handle the sweep drops for a live
/// one's fails here: the dead object's own handle to itself then retires it inside its drop.)
#[test]
fn dead_value_drops_a_handle_whose_other_holder_lets_go_during_the_cycle() {
    loom::model(|| {
        let drops = Arc::new(AtomicUsize::new(0));
        let l = leaf(1, &drops);
        let c = Gc::new(Cyclic {
            me: GcCell::new(None),
            leaf: l.clone(),
        });
        *c.me.borrow_mut() = Some(c.clone());
        drop(c);
        let t = thread::spawn(move || drop(l));
        collect();
        t.join().unwrap();
        assert_dropped_once_after_cycles(&drops, 1);
    });
}

/// A ring link whose drop is plain: an allocating thread that sweeps may drop it.
struct Ring {
    next: GcCell<Option<Gc<Ring>>>,
}

// SAFETY: the cell is the only field holding a handle and it is traced; dropping a ring link
// only gives its handle back.
unsafe impl Trace for Ring {
    const PLAIN_DROP: bool = true;
    fn trace(&self, t: &mut Tracer) {
        self.next.trace(t)
    }
}

/// A sweep assist against the collector's sweep: a dead ring of five plain links and a dead
/// cyclic object holding a leaf span several pieces of the snapshot (four entries each under
/// loom), and another thread sweeps whatever pieces it can claim while the cycle sweeps. A
/// link's value holds the handle to the next link, which may be in a piece the other thread
/// sweeps: whichever thread gives back a block's last handle, or drops its value last, frees
/// it. The cyclic object is left to the collector's sweep by the assist (its drop is not
/// plain). Every dead block is freed exactly once, the leaf is dropped once, and a live leaf
/// is intact.
#[test]
fn sweep_assist_frees_dead_blocks_beside_the_collector() {
    loom::model(|| {
        let drops = Arc::new(AtomicUsize::new(0));
        let live = leaf(1, &drops);
        let first = Gc::new(Ring {
            next: GcCell::new(None),
        });
        let mut last = first.clone();
        for _ in 0..4 {
            last = Gc::new(Ring {
                next: GcCell::new(Some(last)),
            });
        }
        *first.next.borrow_mut() = Some(last);
        drop(first);
        let c = Gc::new(Cyclic {
            me: GcCell::new(None),
            leaf: leaf(2, &drops),
        });
        *c.me.borrow_mut() = Some(c.clone());
        drop(c);
        let t = thread::spawn(gc_core::model_sweep_assist);
        collect();
        if t.join().unwrap() > 0 {
            ASSISTED.fetch_add(1, Ordering::Relaxed);
        }
        EXECUTIONS.fetch_add(1, Ordering::Relaxed);
        assert_eq!(
            drops.load(Ordering::SeqCst),
            1,
            "the dead leaf is dropped once"
        );
        assert_eq!(live.value, 1, "the live leaf is intact");
        drop(live);
        assert_dropped_once_after_cycles(&drops, 2);
    });
    let (assisted, all) = (
        ASSISTED.load(Ordering::Relaxed),
        EXECUTIONS.load(Ordering::Relaxed),
    );
    println!("the assist swept in {assisted} of {all} executions");
    assert!(assisted > 0, "some execution has the assist sweep");
}

/// Executions of [`sweep_assist_frees_dead_blocks_beside_the_collector`], and those in which
/// the assist swept something (plain statics: counted across executions).
static EXECUTIONS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
static ASSISTED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
