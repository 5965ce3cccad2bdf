//! The sweep half of a cycle: clear weak refs of dead objects, drop their values, free them.

use crate::cleanup::{self, Cleanup};
use crate::heap::header::{Header, DEAD, HUSK, RETIRING, SPARE};
use crate::heap::{self, list::ObjList};
use crate::primitive::{local, Ordering};
use crate::weak;
use std::cell::RefCell;
use std::ptr::NonNull;

/// What one sweep did.
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
    /// Bytes of `freed_bytes` and `spare_bytes` already reported to the pacer during the sweep.
    pub(crate) reported_bytes: u64,
}

/// `Header::internal` of a dead object whose value this sweep has dropped: [`DEAD`] in the
/// high half (an epoch never is, so a count phase's tag never reads as this), the object's
/// index in the dead list in the low half.
const VALUE_DROPPED: u64 = (DEAD as u64) << 32;

/// Freed bytes are reported to the pacer in batches of this size while the sweep goes on.
const REPORT_BATCH: u64 = 256 << 10;

local! {
    /// Dead objects whose value this thread's sweep has dropped and whose last handle a later
    /// dead value's drop just gave up: nothing refers to them any more, and the sweep frees
    /// them once that drop returns (see [`dead_handle_dropped`]).
    static FREEABLE: RefCell<Vec<NonNull<Header>>> = RefCell::new(Vec::new());
}

/// Called by `Gc::drop` for a handle to a [`DEAD`] object: only the sweeper drops those (a
/// dead value holding an edge to another dead object), while it drops dead values. Gives the
/// handle's count back; if it was the last and the target's own value is already dropped,
/// the target is queued to be freed.
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

/// Frees dead blocks while the sweep goes on, and counts them.
struct Freeing<'a> {
    out: &'a mut Swept,
    recycler: heap::blocks::Recycler,
    /// One bit per dead-list entry: freed already.
    freed: Vec<u64>,
    /// Bytes freed and not yet reported to the pacer.
    unreported: u64,
    /// Entries freed.
    count: usize,
}

impl Freeing<'_> {
    /// Frees dead-list entry `index`, headed by `h`, and counts it.
    ///
    /// # Safety
    /// `h` is that entry; its value was dropped (by the sweep or by the mutator that retired
    /// or freed it) and no handle to it is left.
    unsafe fn free(&mut self, h: NonNull<Header>, index: usize) {
        // SAFETY: the caller's promise: not freed yet.
        let hr = unsafe { h.as_ref() };
        let size = hr.vtable.layout.size() as u64;
        if hr.mark.load(Ordering::Relaxed) == SPARE {
            self.out.spare_bytes += size;
        } else {
            self.out.freed_bytes += size;
            self.out.freed_objects += 1;
        }
        self.freed[index / 64] |= 1 << (index % 64);
        self.count += 1;
        // SAFETY: the caller's promise: the value is dropped and nothing refers to the block.
        unsafe { heap::free(h, &mut self.recycler) };
        self.unreported += size;
        if self.unreported >= REPORT_BATCH {
            crate::collector::pacer::note_swept(self.unreported);
            self.out.reported_bytes += self.unreported;
            self.unreported = 0;
        }
    }

    fn is_freed(&self, index: usize) -> bool {
        self.freed[index / 64] & (1 << (index % 64)) != 0
    }
}

/// Sweeps `snapshot` after marking cycle `epoch` has ended, leaving in it the objects that
/// were marked (to be swept again next cycle).
///
/// Two passes, in this order for soundness: (1) while the snapshot is split into live and
/// dead, every dead object's weak slot is cleared and its mark set to `DEAD`; (2) every dead
/// value is dropped, and a handle dropped in the process checks its target's mark, giving its
/// count back only to live targets or, for a dead target, through [`dead_handle_dropped`]. A
/// dead block is freed as soon as its value is dropped and its count is zero (every handle to
/// a dead object lives in a dead value, so the count says how many dead values still refer to
/// it): a handle inside a dead value never reads freed memory, and the blocks go back to the
/// allocating threads while the sweep goes on, the pacer told in batches. What is left when
/// every value is dropped (blocks whose handles were leaked, or held by a value whose drop
/// panicked) is freed last.
///
/// Retired blocks (see `heap::reclaim`) are no handle's target: a [`HUSK`] (value dropped by
/// a mutator) is only freed; a block still [`RETIRING`] (its value being dropped) is kept for
/// a later sweep. A [`SPARE`] (freed at once and kept by its thread, see `heap::cache`) is
/// freed without being counted again.
pub(crate) fn sweep(snapshot: &mut ObjList, epoch: u32) -> Swept {
    let mut out = Swept::default();
    let mut dead = ObjList::new();
    // Pass 1, while splitting: a dead object's weak slot is cleared, its cleanups taken and
    // its mark set to `DEAD`.
    snapshot.split_off_where(
        |o| {
            // SAFETY: snapshot objects are live until this sweep frees them.
            let h = unsafe { o.0.as_ref() };
            // Acquire: pairs with the Release store of `HUSK` (the value's drop is done).
            match h.mark.load(Ordering::Acquire) {
                m if m == epoch => {
                    out.marked_bytes += h.vtable.layout.size() as u64;
                    true
                }
                RETIRING => true,
                HUSK | SPARE => false,
                _ => {
                    weak::clear(h);
                    cleanup::take(h, &mut out.cleanups);
                    // Release: nothing to publish to other threads (only this thread drops
                    // dead values), but keeps the store ordered before the drops below.
                    h.mark.store(DEAD, Ordering::Release);
                    false
                }
            }
        },
        &mut dead,
    );
    let entries = dead.pushed_len();
    // Keep up to a goal's worth of free blocks for reuse: the heap grows back to the goal
    // before the next cycle anyway.
    let cap = crate::collector::pacer::goal().max(64 << 20);
    let mut freeing = Freeing {
        out: &mut out,
        recycler: heap::blocks::Recycler::new(cap),
        freed: vec![0; entries.div_ceil(64)],
        unreported: 0,
        count: 0,
    };
    // Pass 2: drop each dead value, freeing blocks as their last dead referrer goes.
    let mut index = 0;
    dead.for_each(|o| {
        let i = index;
        index += 1;
        // SAFETY: as above; an entry is freed below only after this visit.
        let h = unsafe { o.0.as_ref() };
        if matches!(h.mark.load(Ordering::Relaxed), HUSK | SPARE) {
            // Its value was dropped by the mutator that retired or freed it, and it has no
            // handle (its count reached zero before).
            // SAFETY: as said.
            unsafe { freeing.free(o.0, i) };
            return;
        }
        let vt = h.vtable;
        if vt.needs_drop {
            // SAFETY: the object is unreachable (white at the end of marking, and no upgrade
            // can revive it: its weak slot is cleared), so no other thread can access the
            // value, and each dead object is dropped exactly once here.
            let dropped = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| unsafe {
                (vt.drop_value)(o.0)
            }));
            if dropped.is_err() {
                freeing.out.drop_panics += 1;
            }
        }
        // An index past 32 bits is not recorded: the block waits for the last pass.
        if let Ok(low) = u32::try_from(i) {
            // Relaxed: read by this thread only (`dead_handle_dropped`).
            h.internal
                .store(VALUE_DROPPED | u64::from(low), Ordering::Relaxed);
            // Relaxed: as in `dead_handle_dropped`.
            if h.strong.load(Ordering::Relaxed) == 0 {
                // SAFETY: its value is dropped and no handle to it is left.
                unsafe { freeing.free(o.0, i) };
            }
        }
        FREEABLE.with(|f| {
            // Freeing runs no user code, so nothing queues meanwhile.
            for p in f.borrow_mut().drain(..) {
                // SAFETY: queued by `dead_handle_dropped`: a dead block of this sweep (only
                // the sweeper drops handles to dead objects) whose value is dropped and whose
                // last handle just went; queued once, as its count reached zero once.
                let j = unsafe { p.as_ref() }.internal.load(Ordering::Relaxed) as u32;
                // SAFETY: as said.
                unsafe { freeing.free(p, j as usize) };
            }
        });
    });
    // Pass 3: what no count freed (usually nothing: then the pass is skipped).
    if freeing.count < entries {
        let mut index = 0;
        dead.for_each(|o| {
            let i = index;
            index += 1;
            if !freeing.is_freed(i) {
                // SAFETY: every dead value has been dropped (or its drop abandoned), so no
                // handle inside one is dropped any more and nothing refers to the block.
                unsafe { freeing.free(o.0, i) };
            }
        });
    }
    let Freeing {
        recycler,
        unreported: _,
        ..
    } = freeing;
    recycler.finish();
    dead.clear();
    out
}
