//! The mark half of a cycle: count internal handles, find roots, trace from them.

use super::assist;
use crate::barrier;
use crate::heap::header::{is_retired, Header};
use crate::heap::list::ObjList;
use crate::primitive::Ordering;
use crate::trace::{TraceMode, Tracer};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr::NonNull;

/// Count phase: for every object of the snapshot that is still white, counts the handles it
/// holds as internal. Objects already marked (allocated black or shaded by a barrier) are
/// skipped, and so are retired blocks (a mutator is dropping or has dropped the value):
/// undercounting only makes objects look rooted (so is skipping a cell a mutator holds).
pub(crate) fn count(snapshot: &ObjList, epoch: u32) {
    let mut tracer = Tracer::new(TraceMode::Count, epoch);
    snapshot.for_each(|o| {
        // SAFETY: every snapshot object is live until this cycle's sweep.
        let h = unsafe { o.0.as_ref() };
        // Acquire: pairs with the stores of a block being retired (see `heap::reclaim`).
        let mark = h.mark.load(Ordering::Acquire);
        if h.vtable.holds_handles && mark != epoch && !is_retired(mark) {
            // A panicking `Trace` impl leaves this object partly counted: an undercount, which
            // only makes its targets look rooted.
            let _ = catch_unwind(AssertUnwindSafe(|| {
                // SAFETY: `o` heads a live block of the vtable's type.
                unsafe { (h.vtable.trace)(o.0, &mut tracer) };
            }));
        }
    });
}

/// Root phase: an object with more handles than were found inside the heap is held from
/// outside (a local, a global, another thread, a frame): shade it.
pub(crate) fn roots(snapshot: &ObjList, epoch: u32, grey: &mut Vec<NonNull<Header>>) {
    snapshot.for_each(|o| {
        // SAFETY: every snapshot object is live until this cycle's sweep.
        let h = unsafe { o.0.as_ref() };
        // SeqCst: pairs with the mutators' SeqCst updates of `strong` (see `Header::strong`).
        crate::primitive::sc_fence();
        if h.strong.load(Ordering::SeqCst) > h.internal_count(epoch) && h.try_shade(epoch) {
            grey.push(o.0);
        }
    });
}

/// A `Trace` impl panicked while marking: some handles were never reported, so this cycle
/// cannot tell live from dead and must free nothing.
pub(crate) struct TracePanicked;

/// Mark phase: scans grey objects (from `grey`, from the barriers and from assists) until
/// none is left and no assist holds any.
pub(crate) fn drain(grey: &mut Vec<NonNull<Header>>, epoch: u32) -> Result<(), TracePanicked> {
    let drained = catch_unwind(AssertUnwindSafe(|| drain_inner(grey, epoch)));
    // Also after a panic: no assist of this cycle may still be shading once marking ends.
    let assist_panicked = super::assist::finish_marking();
    match drained {
        Ok(()) if !assist_panicked => Ok(()),
        _ => Err(TracePanicked),
    }
}

fn drain_inner(grey: &mut Vec<NonNull<Header>>, epoch: u32) {
    let mut tracer = Tracer::new(TraceMode::Mark, epoch);
    tracer.wait_for_cells = true;
    std::mem::swap(&mut tracer.grey, grey);
    let mut scanned = 0u32;
    loop {
        while let Some(o) = tracer.grey.pop() {
            // SAFETY: grey objects are marked this cycle, so they are not swept this cycle.
            let h = unsafe { o.as_ref() };
            if h.vtable.holds_handles {
                // SAFETY: `o` heads a live block of the vtable's type.
                unsafe { (h.vtable.trace)(o, &mut tracer) };
            }
            scanned = scanned.wrapping_add(1);
            if scanned.is_multiple_of(assist::SHARE_EVERY) {
                assist::share(&mut tracer.grey);
            }
        }
        barrier::take_grey(&mut tracer.grey);
        let assisting = assist::take_back(&mut tracer.grey);
        if tracer.grey.is_empty() {
            if !assisting {
                break;
            }
            // An assist holds grey objects: wait for what it gives back.
            crate::primitive::yield_now();
        }
    }
    std::mem::swap(&mut tracer.grey, grey);
}
