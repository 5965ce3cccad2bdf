//! The sweep half of a cycle: clear weak refs of dead objects, drop their values, free them.

use crate::cleanup::{self, Cleanup};
use crate::heap::header::{DEAD, HUSK, RETIRING, SPARE};
use crate::heap::{self, list::ObjList};
use crate::primitive::Ordering;
use crate::weak;

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
}

/// Sweeps `snapshot` after marking cycle `epoch` has ended, leaving in it the objects that
/// were marked (to be swept again next cycle).
///
/// Three passes, in this order for soundness: (1) while the snapshot is split into live and
/// dead, every dead object's weak slot is cleared and its mark set to `DEAD`; (2) every dead
/// value is dropped, and a handle dropped in the process checks its target's mark, giving its
/// count back only to live targets; (3) every dead block is freed. No block is freed before
/// every dead value has been dropped, so a handle inside a dead value never reads freed
/// memory.
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
    dead.for_each(|o| {
        // SAFETY: as above.
        let h = unsafe { o.0.as_ref() };
        if matches!(h.mark.load(Ordering::Relaxed), HUSK | SPARE) {
            // Its value was dropped by the mutator that retired or freed it.
            return;
        }
        let vt = h.vtable;
        if !vt.needs_drop {
            return;
        }
        // SAFETY: the object is unreachable (white at the end of marking, and no upgrade can
        // revive it: its weak slot is cleared), so no other thread can access the value, and
        // each dead object is dropped exactly once here.
        let dropped = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| unsafe {
            (vt.drop_value)(o.0)
        }));
        if dropped.is_err() {
            out.drop_panics += 1;
        }
    });
    // Keep up to a goal's worth of free blocks for reuse: the heap grows back to the goal
    // before the next cycle anyway.
    let cap = crate::collector::pacer::goal().max(64 << 20);
    let mut recycler = heap::blocks::Recycler::new(cap);
    dead.for_each(|o| {
        // SAFETY: as above.
        let h = unsafe { o.0.as_ref() };
        if h.mark.load(Ordering::Relaxed) != SPARE {
            out.freed_bytes += h.vtable.layout.size() as u64;
            out.freed_objects += 1;
        } else {
            out.spare_bytes += h.vtable.layout.size() as u64;
        }
        // SAFETY: the value was dropped in the pass above and nothing refers to the block.
        unsafe { heap::free(o.0, &mut recycler) };
    });
    recycler.finish();
    dead.clear();
    out
}
