//! The sweep half of a cycle: one pass over the snapshot that keeps the marked objects and,
//! for each dead one, clears its weak slot, drops its value and frees its block as soon as
//! no other dead value refers to it.
//!
//! The collector sweeps the snapshot piece by piece (`sweep_work`); an allocating thread
//! past the heap goal sweeps pieces too instead of only waiting (see [`help`]), dropping the
//! dead values whose drop runs no code of their own (`Trace::PLAIN_DROP`) and leaving the
//! others to the collector.

use super::sweep_work::{self, Next, Piece, Totals};
use crate::cleanup::{self, Cleanup};
use crate::collector::state::State;
use crate::heap::header::{Header, HUSK, RETIRING, SPARE};
use crate::heap::{self, list::ObjList, ObjPtr};
use crate::primitive::{local, Ordering};
use crate::weak;
use std::cell::{Cell, RefCell};
use std::ptr::NonNull;
use std::time::Instant;

/// What one sweep did. The freed bytes and objects are what it has not yet reported to the
/// pacer and the statistics (it reports them in batches as it frees).
#[derive(Default)]
pub(crate) struct Swept {
    pub(crate) marked_bytes: u64,
    pub(crate) freed_bytes: u64,
    pub(crate) freed_objects: u64,
    /// Bytes of spares freed (counted as freed at once in the statistics, but still part of
    /// the heap for the pacer until now: see `heap::cache`).
    pub(crate) spare_bytes: u64,
    pub(crate) cleanups: Vec<Cleanup>,
    /// Drops that panicked (reported, then the sweep went on).
    pub(crate) drop_panics: u64,
}

/// Added to `Header::strong` of a dead object once its value is dropped: the count is then
/// this plus the handles to it still inside dead values not yet dropped, and whichever sweeper
/// brings it to exactly this frees the block. Far above any count (`Gc::clone` aborts past
/// `isize::MAX`, and a dead object's count only goes down).
const VALUE_DROPPED: usize = 1 << 62;

/// Freed bytes are reported to the pacer and the statistics in batches of this size while
/// the sweep goes on.
const REPORT_BATCH: u64 = 256 << 10;

/// Which sweeper, if any, the current thread is.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Sweeper {
    None,
    /// The collector's thread (or the thread running a cycle inline).
    Collector,
    /// An allocating thread helping the collector (see [`help`]).
    Allocator,
}

// Which sweeper the thread is while it sweeps: the threads that drop handles to dead objects
// (see [`handle_dropped_while_sweeping`]). Read by every handle drop while a cycle sweeps, so
// without lazy initialisation where it can be.
#[cfg(not(loom))]
std::thread_local! {
    static SWEEPING: Cell<Sweeper> = const { Cell::new(Sweeper::None) };
}
#[cfg(loom)]
loom::thread_local! {
    static SWEEPING: Cell<Sweeper> = Cell::new(Sweeper::None);
}

local! {
    /// Dead objects whose last handle a dead value this thread is dropping just gave back,
    /// their own value already dropped: nothing refers to them any more, and this thread's
    /// sweep frees them once that drop returns (see [`dead_handle_dropped`]).
    static FREEABLE: RefCell<Vec<NonNull<Header>>> = RefCell::new(Vec::new());
}

/// Called by `Gc::drop` while a cycle sweeps (`state`), before it touches the count: if the
/// dropping thread is sweeping, the handle is one inside a dead value it is dropping, and this
/// gives its count back and returns true; else it returns false and the drop goes on as usual.
///
/// The target is dead if it was not marked: no other thread holds a handle to an unmarked
/// object once marking has ended (everything reachable was marked, and blocks allocated since
/// carry the epoch), and a sweeping thread's state is never stale (the sweep cannot end while
/// it sweeps). A live target's count goes down as usual; on an allocating thread, one that
/// reaches zero is left to the next cycle (as on the collector's thread, which keeps no list):
/// freeing or retiring it here would drop its value, which may run code of its own.
/// Out of line: inlined, it kept `Gc::drop` itself from being inlined (6% more instructions in
/// binary-trees with collection off).
///
/// # Safety
/// `h` is the target of the handle being dropped, which the caller still holds.
#[inline(never)]
pub(crate) unsafe fn handle_dropped_while_sweeping(h: NonNull<Header>, state: State) -> bool {
    let sweeper = SWEEPING.with(Cell::get);
    if sweeper == Sweeper::None {
        return false;
    }
    // SAFETY: the caller holds a handle to `h`.
    let hr = unsafe { h.as_ref() };
    // Relaxed: the sweeping thread read `Sweep` after marking ended (the phase change under
    // the gate orders the marks before it); a dead object's mark no longer changes.
    if hr.mark.load(Ordering::Relaxed) != state.epoch() {
        // SAFETY: `h` is dead (as said) and this handle to it is not yet given back.
        unsafe { dead_handle_dropped(h) };
        return true;
    }
    if sweeper == Sweeper::Collector {
        return false;
    }
    let bytes = hr.vtable.layout.size() as u64;
    // SeqCst: as every handle drop's decrement (see `Header::strong`).
    if hr.strong.fetch_sub(1, Ordering::SeqCst) == 1 {
        crate::collector::pacer::note_floating(bytes);
    }
    crate::primitive::sc_fence();
    true
}

/// Gives back the count of a handle to a dead object, dropped inside a dead value; if its
/// own value is already dropped and this was its last handle, queues it to be freed.
///
/// # Safety
/// `h` heads a block a sweep of this cycle found dead and has not freed (the handle being
/// dropped refers to it, and a dead block is freed only once its count has gone).
unsafe fn dead_handle_dropped(h: NonNull<Header>) {
    // SAFETY: the caller's promise.
    let hr = unsafe { h.as_ref() };
    // AcqRel: pairs with the `VALUE_DROPPED` increment of the sweeper that dropped the
    // target's value and with the other sweepers' decrements: the one that brings the count
    // to `VALUE_DROPPED` frees the block, after every other access to it.
    if hr.strong.fetch_sub(1, Ordering::AcqRel) == VALUE_DROPPED + 1 {
        FREEABLE.with(|f| f.borrow_mut().push(h));
    }
}

/// Marks the calling thread as a sweeper while it lives (`None` if it already is one: a
/// thread never sweeps inside its own sweep).
struct SweepingThread;

impl SweepingThread {
    fn enter(sweeper: Sweeper) -> Option<SweepingThread> {
        SWEEPING.with(|s| {
            if s.get() != Sweeper::None {
                return None;
            }
            s.set(sweeper);
            Some(SweepingThread)
        })
    }
}

impl Drop for SweepingThread {
    fn drop(&mut self) {
        SWEEPING.with(|s| s.set(Sweeper::None));
    }
}

/// Frees dead blocks while a sweeper goes on, and counts them.
struct Freeing {
    out: Swept,
    recycler: heap::blocks::Recycler,
    /// Objects swept (kept or freed).
    visited: u64,
}

impl Freeing {
    fn new(recycler: heap::blocks::Recycler) -> Freeing {
        Freeing {
            out: Swept::default(),
            recycler,
            visited: 0,
        }
    }

    /// Frees the dead block headed by `h`, and counts it.
    ///
    /// # Safety
    /// `h` heads a block of the snapshot being swept, not freed yet; its value was dropped
    /// (by a sweeper, or by the mutator that retired or freed it) and no handle to it is left.
    unsafe fn free(&mut self, h: NonNull<Header>) {
        // SAFETY: the caller's promise: not freed yet.
        let hr = unsafe { h.as_ref() };
        let size = hr.vtable.layout.size() as u64;
        if hr.mark.load(Ordering::Relaxed) == SPARE {
            self.out.spare_bytes += size;
        } else {
            self.out.freed_bytes += size;
            self.out.freed_objects += 1;
        }
        // SAFETY: the caller's promise: the value is dropped and nothing refers to the block.
        unsafe { heap::free(h, &mut self.recycler) };
        if self.out.freed_bytes + self.out.spare_bytes >= REPORT_BATCH {
            self.report();
        }
    }

    /// Tells the pacer and the statistics what was freed since the last report.
    fn report(&mut self) {
        let out = &mut self.out;
        crate::collector::pacer::note_swept(out.freed_bytes + out.spare_bytes);
        let mut rec = crate::stats::record();
        rec.freed_bytes += std::mem::take(&mut out.freed_bytes);
        rec.freed_objects += std::mem::take(&mut out.freed_objects);
        out.spare_bytes = 0;
    }

    /// The dead object headed by `h` has had its value dropped: frees it if no handle to it
    /// is left, else leaves it to the sweeper that drops its last one.
    ///
    /// # Safety
    /// As [`free`](Self::free), except that handles to it may be left (in dead values).
    unsafe fn value_dropped(&mut self, h: NonNull<Header>) {
        // SAFETY: the caller's promise.
        let hr = unsafe { h.as_ref() };
        // AcqRel: as in `dead_handle_dropped`. After this, `h` is another sweeper's to free
        // unless the count was zero.
        if hr.strong.fetch_add(VALUE_DROPPED, Ordering::AcqRel) == 0 {
            // SAFETY: no handle is left.
            unsafe { self.free(h) };
        }
    }

    /// Frees the blocks whose last handle a dead value's drop just gave back.
    fn free_released(&mut self) {
        FREEABLE.with(|f| {
            // Freeing runs no user code, so nothing is queued meanwhile.
            for h in f.borrow_mut().drain(..) {
                // SAFETY: queued by `dead_handle_dropped`: a dead block whose value was dropped
                // and whose last handle just went, queued once (its count reached
                // `VALUE_DROPPED` once, and then nothing refers to it).
                unsafe { self.free(h) };
            }
        });
    }

    /// Sweeps the dead object `o`: clears its weak slot, takes its cleanups, drops its value
    /// and frees its block if no handle to it is left.
    ///
    /// # Safety
    /// `o` is a dead object of the snapshot being swept, and this is its only visit.
    unsafe fn sweep_dead(&mut self, o: ObjPtr) {
        // SAFETY: the caller's promise: not freed (a dead block is freed only after its visit).
        let h = unsafe { o.0.as_ref() };
        // No upgrade can revive it (an upgrade while the cycle sweeps succeeds only on a marked
        // object), and its slot is removed before its block can be reused.
        weak::clear(h);
        cleanup::take(h, &mut self.out.cleanups);
        let vt = h.vtable;
        if vt.needs_drop {
            // SAFETY: the object is unreachable (white at the end of marking), so no other
            // thread can access the value, and each dead object is dropped exactly once, at
            // its only visit.
            let dropped = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| unsafe {
                (vt.drop_value)(o.0)
            }));
            if dropped.is_err() {
                self.out.drop_panics += 1;
            }
        }
        // SAFETY: its value is dropped; handles to it may be left in dead values.
        unsafe { self.value_dropped(o.0) };
        self.free_released();
    }

    /// Sweeps `piece` for cycle `epoch` until it is done or, for an allocating thread, until
    /// `deadline`; the survivors stay at its front. An allocating thread puts the dead objects
    /// it may not drop in `for_collector`.
    fn sweep_piece(
        &mut self,
        piece: &mut Piece,
        epoch: u32,
        allocator: Option<(Instant, &mut Vec<ObjPtr>)>,
    ) {
        let (deadline, mut for_collector) = match allocator {
            Some((d, f)) => (Some(d), Some(f)),
            None => (None, None),
        };
        let entries = &mut piece.entries;
        let mut kept = piece.swept;
        let mut next = piece.swept;
        while next < entries.len() {
            heap::list::prefetch_ahead(entries, next);
            let o = entries[next];
            next += 1;
            // SAFETY: snapshot objects are live until a sweeper frees them, and one is freed
            // only once its visit (this one) has found it dead.
            let h = unsafe { o.0.as_ref() };
            // Acquire: pairs with the Release store of `HUSK` or `SPARE` (the value's drop is
            // done).
            match h.mark.load(Ordering::Acquire) {
                m if m == epoch => {
                    self.out.marked_bytes += h.vtable.layout.size() as u64;
                    entries[kept] = o;
                    kept += 1;
                }
                RETIRING => {
                    entries[kept] = o;
                    kept += 1;
                }
                // Its value was dropped by the mutator that retired or freed it, and it has
                // no handle (its count reached zero before).
                // SAFETY: as said.
                HUSK | SPARE => unsafe { self.free(o.0) },
                _ => match &mut for_collector {
                    Some(f) if !h.vtable.plain_drop => f.push(o),
                    // SAFETY: dead (unmarked at the end of marking), visited once.
                    _ => unsafe { self.sweep_dead(o) },
                },
            }
            if deadline.is_some_and(|d| next.is_multiple_of(64) && Instant::now() >= d) {
                break;
            }
        }
        self.visited += (next - piece.swept) as u64;
        entries.drain(kept..next);
        piece.swept = kept;
    }
}

/// Sweeps `snapshot` after marking cycle `epoch` has ended, leaving in it the objects that
/// were marked (to be swept again next cycle).
///
/// One pass: a marked object is kept; for a dead one, its weak slot is cleared, its cleanups
/// are taken and its value is dropped. A handle dropped in the process gives its count back
/// as usual if its target is live, or through [`dead_handle_dropped`] if it is dead (see
/// [`handle_dropped_while_sweeping`]). A dead block is freed as soon as its value is dropped
/// and its count is zero: every handle to a dead object lives in a dead value, so the count
/// says how many dead values not yet dropped still refer to it, and whichever sweeper takes it
/// to [`VALUE_DROPPED`] frees it. A handle inside a dead value never reads freed memory, and
/// the blocks go back to the allocating threads while the sweep goes on, the pacer told in
/// batches. A block whose handle was leaked inside a dead value (`mem::forget`) is never
/// freed, as a leaked `Arc`'s allocation is not.
///
/// The snapshot is swept in pieces, which allocating threads past the heap goal may take too
/// ([`help`]); the collector sweeps the dead objects they leave it.
///
/// Retired blocks (see `heap::reclaim`) are no handle's target: a [`HUSK`] (value dropped by
/// a mutator) is only freed; a block still [`RETIRING`] (its value being dropped) is kept for
/// a later sweep. A [`SPARE`] (freed at once and kept by its thread, see `heap::cache`) is
/// freed without being counted again.
pub(crate) fn sweep(snapshot: &mut ObjList, epoch: u32) -> Swept {
    // A cycle never runs inside a sweep (the collector's thread neither assists nor waits),
    // and a sweep without the flag would take dead targets for live ones.
    let sweeping =
        SweepingThread::enter(Sweeper::Collector).expect("a cycle never sweeps inside a sweep");
    // Keep up to a goal's worth of free blocks for reuse: the heap grows back to the goal
    // before the next cycle anyway.
    let cap = crate::collector::pacer::goal().max(64 << 20);
    let mut freeing = Freeing::new(heap::blocks::Recycler::new(cap));
    sweep_work::open(snapshot.take_chunks(), epoch);
    let (survivors, totals) = loop {
        match sweep_work::next_for_collector() {
            Next::Piece(mut piece) => {
                freeing.sweep_piece(&mut piece, epoch, None);
                sweep_work::give_back(piece, &mut Vec::new(), None);
            }
            Next::Dead(dead) => {
                for o in dead {
                    // SAFETY: an allocating thread found it dead and left it to this sweep,
                    // once, without touching it further.
                    unsafe { freeing.sweep_dead(o) };
                }
            }
            Next::Wait => crate::primitive::yield_now(),
            Next::Done(survivors, totals) => break (survivors, totals),
        }
    };
    for chunk in survivors {
        snapshot.extend_recycling(chunk);
    }
    freeing.recycler.finish();
    drop(sweeping);
    let mut out = freeing.out;
    out.marked_bytes += totals.marked_bytes;
    out.cleanups.extend(totals.cleanups);
    out.drop_panics += totals.drop_panics;
    out
}

/// Allocating thread past the heap goal while a cycle sweeps: sweeps pieces of the snapshot
/// for the collector until `deadline`, until `enough()` or until none is left, instead of only
/// waiting for the memory the sweep frees. Dead values whose drop may run code of their own
/// (`Trace::PLAIN_DROP` is false) are left to the collector's thread: a `Drop` impl that takes
/// a lock must not run where the allocating thread might hold it. Does nothing if no cycle
/// sweeps, or if the thread is already sweeping. Returns how many objects it swept.
pub(crate) fn help(deadline: Instant, enough: fn() -> bool) -> u64 {
    // A thread allocating while its thread-locals are destroyed could not queue the blocks it
    // frees (and would panic holding a piece the sweep waits for): it does not sweep.
    if FREEABLE.try_with(|_| ()).is_err() {
        return 0;
    }
    let Some(sweeping) = SweepingThread::enter(Sweeper::Allocator) else {
        return 0;
    };
    let mut swept = 0;
    let mut freeing = None;
    let mut for_collector = Vec::new();
    while let Some((mut piece, epoch)) = sweep_work::claim() {
        // Made on the first claim only: most calls find nothing to sweep. Without a cap: an
        // assist's blocks all go to the pools (only the collector gives spans back).
        let f = freeing.get_or_insert_with(|| Freeing::new(heap::blocks::Recycler::new(u64::MAX)));
        f.sweep_piece(&mut piece, epoch, Some((deadline, &mut for_collector)));
        // Counted before the piece is given back: the cycle ends only after that.
        f.report();
        let totals = Totals {
            marked_bytes: std::mem::take(&mut f.out.marked_bytes),
            cleanups: std::mem::take(&mut f.out.cleanups),
            drop_panics: std::mem::take(&mut f.out.drop_panics),
            swept_objects: std::mem::take(&mut f.visited),
        };
        swept += totals.swept_objects;
        sweep_work::give_back(piece, &mut for_collector, Some(totals));
        if Instant::now() >= deadline || enough() {
            break;
        }
    }
    drop(sweeping);
    if let Some(f) = freeing {
        f.recycler.flush();
    }
    swept
}
