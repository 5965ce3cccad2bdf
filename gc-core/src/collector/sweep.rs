//! The sweep half of a cycle: one pass over the snapshot that keeps the marked objects and,
//! for each dead one, clears its weak slot, drops its value and frees its block as soon as
//! no other dead value refers to it.

use crate::cleanup::{self, Cleanup};
use crate::collector::state::State;
use crate::heap::header::{Header, DEAD, HUSK, RETIRING, SPARE};
use crate::heap::{self, list::ObjList};
use crate::primitive::{local, Ordering};
use crate::weak;
use std::cell::{Cell, RefCell};
use std::ptr::NonNull;

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

/// `Header::internal` of a dead object whose value this sweep has dropped but whose block
/// still has handles (in dead values not yet dropped): [`DEAD`] in the high half (an epoch
/// never is, so a count phase's tag never reads as this), its index in the sweep's list of
/// such blocks in the low half.
const VALUE_DROPPED: u64 = (DEAD as u64) << 32;

/// Freed bytes are reported to the pacer and the statistics in batches of this size while
/// the sweep goes on.
const REPORT_BATCH: u64 = 256 << 10;

// True on the thread running a sweep, while it runs: the only thread that drops handles to
// dead objects (see [`is_dead_target`]). Read by every handle drop while a cycle sweeps, so
// without lazy initialisation where it can be.
#[cfg(not(loom))]
std::thread_local! {
    static SWEEPING: Cell<bool> = const { Cell::new(false) };
}
#[cfg(loom)]
loom::thread_local! {
    static SWEEPING: Cell<bool> = Cell::new(false);
}

local! {
    /// Dead objects whose value this thread's sweep has dropped and whose last handle a later
    /// dead value's drop just gave up: nothing refers to them any more, and the sweep frees
    /// them once that drop returns (see [`dead_handle_dropped`]).
    static FREEABLE: RefCell<Vec<NonNull<Header>>> = RefCell::new(Vec::new());
}

/// True if a handle to `h` being dropped in `state` is one inside a dead value, dropped by
/// the sweep: the state is its cycle's sweep, the thread is the sweeping one, and the target
/// was not marked. No other thread holds a handle to an unmarked object once marking has
/// ended (everything reachable was marked, and blocks allocated since carry the epoch), and
/// the sweeping thread's own state is never stale. Out of line: `Gc::drop` calls it only
/// while a cycle sweeps, and inlined it kept `Gc::drop` itself from being inlined (6% more
/// instructions in binary-trees with collection off).
#[inline(never)]
pub(crate) fn is_dead_target(h: &Header, state: State) -> bool {
    state.is_sweeping()
        && SWEEPING.with(Cell::get)
        // Relaxed: the sweeping thread read the marks of this cycle after marking ended (the
        // phase change under the gate orders them before); a dead object's mark no longer
        // changes.
        && h.mark.load(Ordering::Relaxed) != state.epoch()
}

/// Called by `Gc::drop` for a handle found by [`is_dead_target`]: gives the handle's count
/// back; if it was the last and the target's own value is already dropped, the target is
/// queued to be freed.
///
/// # Safety
/// `h` heads a block this thread's sweep found dead and has not freed (the handle being
/// dropped refers to it, and the sweep frees a block only once its count is zero).
#[inline(never)]
pub(crate) unsafe fn dead_handle_dropped(h: NonNull<Header>) {
    // SAFETY: the caller's promise.
    let hr = unsafe { h.as_ref() };
    // Relaxed: a dead object's count and `internal` are read and written by the sweeping
    // thread only (no other thread holds a handle to a dead object).
    if hr.strong.fetch_sub(1, Ordering::Relaxed) == 1
        && hr.internal.load(Ordering::Relaxed) >> 32 == VALUE_DROPPED >> 32
    {
        FREEABLE.with(|f| f.borrow_mut().push(h));
    }
}

/// Marks the calling thread as the sweeping one while it lives.
struct SweepingThread;

impl SweepingThread {
    fn enter() -> SweepingThread {
        SWEEPING.with(|s| s.set(true));
        SweepingThread
    }
}

impl Drop for SweepingThread {
    fn drop(&mut self) {
        SWEEPING.with(|s| s.set(false));
    }
}

/// Frees dead blocks while the sweep goes on, and counts them.
struct Freeing<'a> {
    out: &'a mut Swept,
    recycler: heap::blocks::Recycler,
    /// Dead blocks whose value is dropped but that still had handles when it was; an entry
    /// is emptied when its block is freed.
    waiting: Vec<Option<NonNull<Header>>>,
    /// Entries of `waiting` not yet emptied.
    still_waiting: usize,
}

impl Freeing<'_> {
    /// Frees the dead block headed by `h`, and counts it.
    ///
    /// # Safety
    /// `h` heads a block of the snapshot being swept, not freed yet; its value was dropped
    /// (by the sweep, or by the mutator that retired or freed it) and no handle to it is left.
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
        let out = &mut *self.out;
        crate::collector::pacer::note_swept(out.freed_bytes + out.spare_bytes);
        let mut rec = crate::stats::record();
        rec.freed_bytes += std::mem::take(&mut out.freed_bytes);
        rec.freed_objects += std::mem::take(&mut out.freed_objects);
        out.spare_bytes = 0;
    }

    /// The dead object headed by `h` has had its value dropped: frees it if no handle to it
    /// is left, else records it as waiting for its last one.
    ///
    /// # Safety
    /// As [`free`](Self::free), except that handles to it may be left (in dead values).
    unsafe fn value_dropped(&mut self, h: NonNull<Header>) {
        // SAFETY: the caller's promise.
        let hr = unsafe { h.as_ref() };
        // Relaxed: as in `dead_handle_dropped`.
        if hr.strong.load(Ordering::Relaxed) == 0 {
            // SAFETY: no handle is left.
            unsafe { self.free(h) };
            return;
        }
        // An index past 32 bits is not recorded: such a block waits for the end of the sweep.
        if let Ok(index) = u32::try_from(self.waiting.len()) {
            // Relaxed: read by this thread only (`dead_handle_dropped`).
            hr.internal
                .store(VALUE_DROPPED | u64::from(index), Ordering::Relaxed);
        }
        self.waiting.push(Some(h));
        self.still_waiting += 1;
    }

    /// Frees the blocks whose last handle a dead value's drop just gave up.
    fn free_released(&mut self) {
        FREEABLE.with(|f| {
            // Freeing runs no user code, so nothing is queued meanwhile.
            for h in f.borrow_mut().drain(..) {
                // SAFETY: queued by `dead_handle_dropped`: a waiting block of this sweep whose
                // last handle just went, queued once (its count reached zero once), so its
                // `internal` holds its index in `waiting`.
                let index = unsafe { h.as_ref() }.internal.load(Ordering::Relaxed) as u32 as usize;
                self.waiting[index] = None;
                self.still_waiting -= 1;
                // SAFETY: as said.
                unsafe { self.free(h) };
            }
        });
    }

    /// Frees the waiting blocks no handle's drop freed: their handles were leaked (with
    /// `mem::forget` inside a dead value, or by a value whose drop panicked). Every dead
    /// value has been dropped, so no handle to them is dropped any more.
    fn free_leftovers(&mut self) {
        if self.still_waiting == 0 {
            return;
        }
        for h in std::mem::take(&mut self.waiting).into_iter().flatten() {
            // SAFETY: as said: every dead value is dropped, and this block was not freed (its
            // entry would have been emptied).
            unsafe { self.free(h) };
        }
    }
}

/// Sweeps `snapshot` after marking cycle `epoch` has ended, leaving in it the objects that
/// were marked (to be swept again next cycle).
///
/// One pass: a marked object is kept; for a dead one, its weak slot is cleared, its cleanups
/// are taken and its value is dropped. A handle dropped in the process gives its count back
/// as usual if its target is live, or through [`dead_handle_dropped`] if it is dead (see
/// [`is_dead_target`]). A dead block is freed as soon as its value is dropped and its count is
/// zero: every handle to a dead object lives in a dead value, so the count says how many dead
/// values not yet dropped still refer to it. A handle inside a dead value never reads freed
/// memory, and the blocks go back to the allocating threads while the sweep goes on, the
/// pacer told in batches. Blocks whose handles were leaked are freed at the end.
///
/// Retired blocks (see `heap::reclaim`) are no handle's target: a [`HUSK`] (value dropped by
/// a mutator) is only freed; a block still [`RETIRING`] (its value being dropped) is kept for
/// a later sweep. A [`SPARE`] (freed at once and kept by its thread, see `heap::cache`) is
/// freed without being counted again.
pub(crate) fn sweep(snapshot: &mut ObjList, epoch: u32) -> Swept {
    let mut out = Swept::default();
    let mut cleanups = Vec::new();
    let _sweeping = SweepingThread::enter();
    // Keep up to a goal's worth of free blocks for reuse: the heap grows back to the goal
    // before the next cycle anyway.
    let cap = crate::collector::pacer::goal().max(64 << 20);
    let mut freeing = Freeing {
        out: &mut out,
        recycler: heap::blocks::Recycler::new(cap),
        waiting: Vec::new(),
        still_waiting: 0,
    };
    snapshot.retain(|o| {
        // SAFETY: snapshot objects are live until this sweep frees them, and a block is
        // freed here only once this visit has found it dead.
        let h = unsafe { o.0.as_ref() };
        // Acquire: pairs with the Release store of `HUSK` or `SPARE` (the value's drop is
        // done).
        match h.mark.load(Ordering::Acquire) {
            m if m == epoch => {
                freeing.out.marked_bytes += h.vtable.layout.size() as u64;
                return true;
            }
            RETIRING => return true,
            HUSK | SPARE => {
                // Its value was dropped by the mutator that retired or freed it, and it has
                // no handle (its count reached zero before).
                // SAFETY: as said.
                unsafe { freeing.free(o.0) };
                return false;
            }
            _ => {}
        }
        // Dead: no upgrade can revive it (an upgrade while the cycle sweeps succeeds only on
        // a marked object), and its slot is removed before its block can be reused.
        weak::clear(h);
        cleanup::take(h, &mut cleanups);
        let vt = h.vtable;
        if vt.needs_drop {
            // SAFETY: the object is unreachable (white at the end of marking), so no other
            // thread can access the value, and each dead object is dropped exactly once here.
            let dropped = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| unsafe {
                (vt.drop_value)(o.0)
            }));
            if dropped.is_err() {
                freeing.out.drop_panics += 1;
            }
        }
        // SAFETY: its value is dropped; handles to it may be left in dead values.
        unsafe { freeing.value_dropped(o.0) };
        freeing.free_released();
        false
    });
    freeing.free_leftovers();
    freeing.recycler.finish();
    out.cleanups = cleanups;
    out
}
