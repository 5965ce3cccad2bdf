//! Freeing at once: when the last handle to a block is dropped, its value is dropped right
//! there, as `Arc` would, instead of waiting for the collector.
//!
//! - A block the dropping thread allocated and no cycle has taken yet (still in the thread's
//!   list) is dropped and freed (a small one is kept as a spare for the thread's next
//!   allocation of its size class, see `heap::cache`).
//! - A block a cycle already took is *retired* if no cycle is running: under the barrier gate
//!   (so no cycle can start) its mark becomes [`RETIRING`], which every collector pass skips;
//!   its value is dropped outside the gate, then its mark becomes [`HUSK`], and the next sweep
//!   frees the block without touching the value. Otherwise it is left to the collector.
//!
//! Dropping a value drops the handles it holds, which can free more blocks: those are queued
//! on the thread and handled by the outermost call in a loop, so a long list held by one
//! handle is freed without recursion (it cannot overflow the stack).

use super::cache::{self, Taken};
use super::header::{Header, VTable, HAS_CLEANUP, HUSK, RETIRING};
use super::{blocks, ObjPtr};
use crate::barrier;
use crate::cleanup;
use crate::collector::pacer;
use crate::collector::state::{Phase, State};
use crate::primitive::{local, Ordering};
use crate::stats;
use crate::weak;
use std::cell::RefCell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr::NonNull;

/// A block whose last handle is gone, and what may be done with it.
#[derive(Clone, Copy)]
enum Work {
    /// Taken from this thread's list: drop and free.
    Free(NonNull<Header>, Taken),
    /// In a snapshot; the handle's drop read `State` (`Idle`) before its decrement: retire if
    /// the state is unchanged.
    Retire(NonNull<Header>, State),
}

/// The calling thread's blocks waiting to be handled, whether it is handling them now, and
/// the bytes it retired and has not reported yet.
#[derive(Default)]
struct Queue {
    active: bool,
    pending: Vec<Work>,
    retired_bytes: u64,
}

local! {
    static QUEUE: RefCell<Queue> = RefCell::new(Queue::default());
}

/// What the drop of a handle reads *before* it decrements the count: once the count is zero,
/// a block a cycle has already taken may be freed by the collector at any moment, so nothing
/// may read its header until [`cache::unregister`] has found it in the calling thread's list,
/// or the gate and an unchanged state show that no sweep can have run since.
#[derive(Clone, Copy)]
pub(crate) struct BeforeDrop {
    index_hint: u64,
    state: State,
}

impl BeforeDrop {
    /// Reads what [`last_handle_dropped`] needs while the caller still holds a handle to `h`;
    /// `state` is the state the caller read before (for its barrier).
    #[inline]
    pub(crate) fn read(h: &Header, state: State) -> BeforeDrop {
        BeforeDrop {
            // Relaxed: a hint, checked against the list entry.
            index_hint: h.internal.load(Ordering::Relaxed),
            state,
        }
    }
}

/// Called when the last handle to `h` has been dropped by this thread: frees the block now if
/// the calling thread's list still holds it ([`cache::unregister`]), retires it if no cycle
/// is running, else leaves it to the collector without touching it.
///
/// # Safety
/// The caller dropped the last handle to `h` (its count went from one to zero), so no handle
/// to it exists any more, and read `before` before the decrement.
#[cold]
#[inline(never)]
pub(crate) unsafe fn last_handle_dropped(h: NonNull<Header>, before: BeforeDrop) {
    let work = if let Some(taken) = cache::unregister(ObjPtr(h), before.index_hint) {
        Work::Free(h, taken)
    } else if before.state.phase() == Phase::Idle {
        Work::Retire(h, before.state)
    } else {
        return;
    };
    let first = QUEUE.try_with(|q| {
        let mut q = q.borrow_mut();
        if q.active {
            q.pending.push(work);
            false
        } else {
            q.active = true;
            true
        }
    });
    match first {
        Ok(false) => {}
        Ok(true) => {
            let _active = Active;
            let mut retiring = Vec::new();
            let mut claimed = Vec::new();
            let mut next = Some(work);
            while let Some(work) = next {
                match work {
                    // SAFETY: `unregister` made this thread the block's only owner.
                    Work::Free(h, taken) => unsafe { free_now(h, taken) },
                    Work::Retire(h, state) => {
                        // Claim a run of blocks to retire under one hold of the gate.
                        retiring.push((h, state));
                        QUEUE.with(|q| {
                            let pending = &mut q.borrow_mut().pending;
                            while retiring.len() < RETIRE_BATCH {
                                match pending.last() {
                                    Some(&Work::Retire(h, state)) => {
                                        pending.pop();
                                        retiring.push((h, state));
                                    }
                                    _ => break,
                                }
                            }
                        });
                        // SAFETY: each was queued by `last_handle_dropped` and is retired once.
                        unsafe { retire(&mut retiring, &mut claimed) };
                    }
                }
                next = QUEUE.with(|q| q.borrow_mut().pending.pop());
            }
        }
        // The thread is exiting and its queue is gone: handle recursively.
        Err(_) => match work {
            // SAFETY: `unregister` made this thread the block's only owner.
            Work::Free(h, taken) => unsafe { free_now(h, taken) },
            // SAFETY: as this function's caller promised, retired once.
            Work::Retire(h, state) => unsafe { retire(&mut vec![(h, state)], &mut Vec::new()) },
        },
    }
}

/// Ends the outermost loop, also if it unwinds, and reports the bytes it retired.
struct Active;

impl Drop for Active {
    fn drop(&mut self) {
        let retired = QUEUE
            .try_with(|q| {
                let mut q = q.borrow_mut();
                q.active = false;
                std::mem::take(&mut q.retired_bytes)
            })
            .unwrap_or(0);
        pacer::note_retired(retired);
    }
}

/// Blocks claimed for retirement under one hold of the gate.
const RETIRE_BATCH: usize = 256;

/// Drops the values of blocks a cycle has taken, each whose state is still the one read
/// before its last handle's decrement (`Idle`, so no cycle ran since), and leaves the blocks to
/// the next sweep. Empties `blocks`; `claimed` is scratch space (left empty).
///
/// # Safety
/// For each `(h, state)`: the last handle to `h` is gone, `state` was read before its
/// decrement, and `h` is in no other call.
unsafe fn retire(
    blocks: &mut Vec<(NonNull<Header>, State)>,
    claimed: &mut Vec<(NonNull<Header>, &'static VTable)>,
) {
    // If the gate is busy, nothing is claimed: the blocks are left to the collector.
    barrier::try_with_gate(|now| {
        for &(h, state) in blocks.iter() {
            if state != now {
                continue;
            }
            // The block was reachable through the last handle until its decrement, when no
            // cycle was running; the state is unchanged, so no cycle has started since (a
            // cycle changes the epoch), and none can start while we hold the gate.
            // SAFETY: so no sweep has freed the block, or can free it now.
            let header = unsafe { h.as_ref() };
            if header.flags.load(Ordering::Acquire) & HAS_CLEANUP != 0 {
                // Cleanups run after the block is freed: leave it all to the collector.
                continue;
            }
            // Relaxed: the gate orders this store before the next cycle's reads of the mark
            // (its phase change takes the gate for writing).
            header.mark.store(RETIRING, Ordering::Relaxed);
            weak::clear_owned(header);
            claimed.push((h, header.vtable));
        }
    });
    blocks.clear();
    let mut bytes = 0;
    for (h, vtable) in claimed.drain(..) {
        // SAFETY: claimed above: no handle is left and every collector pass skips the value.
        unsafe { drop_value(h, vtable) };
        bytes += vtable.layout.size() as u64;
        // SAFETY: the block is still ours: every collector pass skips or keeps a `RETIRING`
        // block. Release: pairs with the sweep's Acquire load, so the value's drop happens
        // before the block is freed. The block is not touched after this store.
        unsafe { h.as_ref() }.mark.store(HUSK, Ordering::Release);
    }
    let _ = QUEUE.try_with(|q| q.borrow_mut().retired_bytes += bytes);
}

/// Drops the value of `h`; a panic is caught and counted, as the sweeper does: whether a value
/// is dropped here or by the collector, its drop's panic never reaches the code that dropped
/// a handle.
///
/// # Safety
/// The caller owns the value (no handle to it is left and no collector pass reads it), and
/// `vtable` is the block's.
unsafe fn drop_value(h: NonNull<Header>, vtable: &VTable) {
    // SAFETY: the caller owns the value; it is dropped once.
    let dropped = catch_unwind(AssertUnwindSafe(|| unsafe { (vtable.drop_value)(h) }));
    if dropped.is_err() {
        stats::record().drop_panics += 1;
    }
}

/// Clears the weak slot, drops the value, frees the block (or keeps it as a spare) and hands
/// the cleanups to the cleanup thread.
///
/// # Safety
/// The calling thread owns the block: [`cache::unregister`] returned `taken` for it, so no
/// handle, snapshot or collector pass refers to its value.
unsafe fn free_now(h: NonNull<Header>, taken: Taken) {
    // SAFETY: owned by the caller, not yet freed.
    let header = unsafe { h.as_ref() };
    weak::clear_owned(header);
    // Cleanups are rare: no vector is made (or dropped) for a block without them.
    let cleanups = (header.flags.load(Ordering::Acquire) & HAS_CLEANUP != 0).then(|| {
        let mut cleanups = Vec::new();
        cleanup::take(header, &mut cleanups);
        cleanups
    });
    let vtable = header.vtable;
    // SAFETY: the caller owns the block.
    unsafe { drop_value(h, vtable) };
    match taken {
        // SAFETY: allocated by `alloc_block(layout)` in `heap::allocate`, out of every list,
        // its value dropped above, freed once here.
        Taken::Removed => unsafe { blocks::free_block(h.as_ptr().cast(), vtable.layout) },
        // SAFETY: kept by `unregister` with this generation, value dropped above, not
        // touched again here.
        Taken::Kept { generation, class } => unsafe {
            cache::keep_spare(ObjPtr(h), generation, class)
        },
    }
    if let Some(cleanups) = cleanups {
        cleanup::run(cleanups);
    }
}
