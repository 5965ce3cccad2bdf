//! Freeing at once: when the last handle to a block is dropped, its value is dropped right
//! there, as `Arc` would, instead of waiting for the collector.
//!
//! - A block the dropping thread allocated and no cycle has taken yet (still in the thread's
//!   list) is dropped and freed (a small one is kept as a spare for the thread's next
//!   allocation of its size class, see `heap::cache`).
//! - A block a cycle already took (or another thread allocated) is *retired* if no cycle has
//!   started since the handle's drop read the state: under the thread's list lock (see
//!   `Local::unregister`), or under the barrier gate on a thread with no list, its mark
//!   becomes [`RETIRING`], which every collector pass skips; its value is dropped, then its
//!   mark becomes [`HUSK`], and the next sweep frees the block without touching the value,
//!   unless the thread hands it out again first (a small one is kept as a husk). Otherwise it
//!   is left to the collector.
//!
//! Dropping a value drops the handles it holds, which can free more blocks: those are queued
//! on the thread and handled by the outermost call in a loop, depth-first, so a long list held
//! by one handle is freed without recursion (it cannot overflow the stack).

use super::cache::{self, Frees, Local, Taken};
use super::header::{Header, VTable, HAS_CLEANUP, HAS_WEAK, HUSK, RETIRING};
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

/// A block whose last handle is gone while it is in a snapshot: the handle's drop read
/// `State` (`Idle`) before its decrement, and the block is retired if the state is unchanged.
type Retire = (NonNull<Header>, State);

/// The calling thread's blocks waiting to be retired, whether it is retiring them now, and
/// the bytes it retired and has not reported yet.
#[derive(Default)]
struct Queue {
    active: bool,
    pending: Vec<Retire>,
    retired_bytes: u64,
}

local! {
    static QUEUE: RefCell<Queue> = RefCell::new(Queue::default());
}

/// What the drop of a handle reads *before* it decrements the count: once the count is zero,
/// a block a cycle has already taken may be freed by the collector at any moment, so nothing
/// may read its header until [`Local::unregister`] has found it in the calling thread's list,
/// or an unchanged state (read under that list's lock, or under the gate) shows that no sweep
/// can have freed it. (Two words, passed in registers; the block's size goes beside it.)
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
/// the calling thread's list still holds it, retires it if the state is unchanged since the
/// drop read it and no cycle is marking ([`Local::unregister`]), else leaves it to the
/// collector without touching it.
///
/// # Safety
/// The caller dropped the last handle to `h` (its count went from one to zero), so no handle
/// to it exists any more, and read `before` before the decrement; `bytes` is the block's size;
/// `marked` says that a cycle was marking then and had marked `h` (read before the decrement).
#[inline(never)]
pub(crate) unsafe fn last_handle_dropped(
    h: NonNull<Header>,
    before: BeforeDrop,
    bytes: usize,
    marked: bool,
) {
    let on_local = cache::with_local(|local| {
        match local.unregister(ObjPtr(h), before.index_hint, before.state) {
            // SAFETY: `unregister` made this thread the block's only owner.
            Some(taken) => unsafe { free_taken(local, h, taken) },
            // Garbage the cycle running now keeps (a block dropped while marking is shaded
            // first): only the next one frees it, unless this thread retires it once the
            // cycle is over (a block the cycle marked survives its sweep).
            // (Counted as garbage left to the cycle either way: the next cycle frees what this
            // thread does not retire, and starting it early measured better, 575 MB in 3 of 3
            // binary-trees 21 runs against 575 and 807 MB without the count.)
            None => {
                local.note_floating(bytes);
                if marked {
                    local.keep_until_marking_ends(ObjPtr(h), before.state.epoch());
                }
            }
        }
        if local.keeps_blocks_until_marking_ends() && !local.frees().active.get() {
            // SAFETY: every block kept is one whose last handle this thread dropped, once (it
            // is kept only when `unregister` left it), and no loop runs (checked above).
            unsafe { retire_after_marking(local) };
        }
    });
    if on_local.is_none() && before.state.phase() == Phase::Idle {
        // A thread with no list (it never allocated, or it is exiting) retires under the gate.
        // SAFETY: as this function's caller promised; `before.state` was read before the
        // decrement.
        unsafe { retire_later(h, before.state) };
    }
}

/// An index hint with an epoch in its high half: `unregister` does not look the block up in the
/// list (a block kept while a cycle marked is in that cycle's snapshot by the time it ends).
const IN_A_SNAPSHOT: u64 = 1 << 32;

/// How many of the blocks a thread kept while a cycle marked it retires at one drop once the
/// cycle is over: a thread that dropped a million objects while a cycle marked would
/// otherwise drop them all at its next drop, a gap of milliseconds where `Arc` would have
/// spread them over the drops that made them. (Each retired block's own drop, a whole tree
/// for the root of one, is not cut short: that is the drop its owner asked for.)
const RETIRE_AFTER_MARKING: usize = 256;

/// Retires up to [`RETIRE_AFTER_MARKING`] of the blocks this thread kept while a cycle marked
/// (see [`Local::keep_until_marking_ends`]) if that cycle is over: each was marked by it before
/// its last handle's decrement, so its sweep kept it, and [`Local::unregister`] checks under
/// the list lock that the state is still that cycle's `Idle` (no later cycle has drained the
/// list, hence none has swept), as for a drop between cycles. The others wait for the
/// thread's next drops (or, if a cycle starts first, for that cycle to free them).
///
/// # Safety
/// Each kept block's last handle was dropped by this thread, once; no loop is running on it.
#[cold]
unsafe fn retire_after_marking(local: &Local) {
    let Some((epoch, blocks)) = local.take_after_marking(RETIRE_AFTER_MARKING) else {
        return;
    };
    let idle = State::new(epoch, Phase::Idle);
    for obj in blocks {
        if let Some(taken) = local.unregister(obj, IN_A_SNAPSHOT, idle) {
            // SAFETY: `unregister` made this thread the block's only owner; no loop runs.
            unsafe { free_loop(local, obj.0, taken) };
        }
    }
}

/// Frees or retires `h`, which this thread took, and every block whose last handle goes with
/// it, in a loop: a block freed while the loop runs (by a value's drop inside it) is
/// queued for the loop instead of freed recursively.
///
/// # Safety
/// [`Local::unregister`] returned `taken` for `h` on this thread, whose state `local` is.
#[inline]
unsafe fn free_taken(local: &Local, h: NonNull<Header>, taken: Taken) {
    if let Taken::Kept { generation } = taken {
        // SAFETY: taken from this thread's list: owned by this thread, not freed.
        let header = unsafe { h.as_ref() };
        let vtable = header.vtable;
        // Acquire: as in `free_now`. A value without drop glue holds no handle and runs no
        // code, and with no weak reference or cleanup there is nothing else to do: kept as a
        // spare at once, without the loop (even inside one: nothing can be queued from it).
        if !vtable.needs_drop && header.flags.load(Ordering::Acquire) == 0 {
            // SAFETY: kept by `unregister` with this generation; its value has no drop glue
            // (dropping it is nothing); not touched again here.
            unsafe { local.keep_spare(ObjPtr(h), generation, vtable.class.unwrap_or_default()) };
            return;
        }
    }
    let frees = local.frees();
    if frees.active.get() {
        frees.push(ObjPtr(h), taken);
    } else {
        // SAFETY: as this function's caller promised.
        unsafe { free_loop(local, h, taken) };
    }
}

/// The loop of [`free_taken`]. (Inlined into [`last_handle_dropped`]: as a function of its
/// own, its entry and exit cost a drop outside any loop 22 instructions, a tenth of an
/// allocation and its free, and the drops inside the loop, which only queue, ran no faster.)
///
/// # Safety
/// As for [`free_taken`]; no loop is running on this thread.
#[inline(always)]
unsafe fn free_loop(local: &Local, h: NonNull<Header>, taken: Taken) {
    let frees = local.frees();
    frees.active.set(true);
    let _active = Freeing(frees);
    let mut next = Some((ObjPtr(h), taken));
    while let Some((obj, taken)) = next {
        // SAFETY: each block in the queue was taken by `unregister` on this thread.
        unsafe { free_now(local, obj.0, taken) };
        next = frees.pop();
    }
}

/// Ends the freeing loop, also if it unwinds.
struct Freeing<'a>(&'a Frees);

impl Drop for Freeing<'_> {
    fn drop(&mut self) {
        self.0.active.set(false);
    }
}

/// Retires `h` now, or queues it if this thread is already retiring (handled by the outermost
/// call in a loop).
///
/// # Safety
/// The last handle to `h` is gone, `state` (`Idle`) was read before its decrement, and `h` is
/// retired once.
#[inline(never)]
unsafe fn retire_later(h: NonNull<Header>, state: State) {
    let first = QUEUE.try_with(|q| {
        let mut q = q.borrow_mut();
        if q.active {
            q.pending.push((h, state));
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
            let mut retiring = vec![(h, state)];
            let mut claimed = Vec::new();
            while !retiring.is_empty() {
                // SAFETY: each was queued once by `last_handle_dropped`.
                unsafe { retire(&mut retiring, &mut claimed) };
                // Claim the next run of blocks to retire under one hold of the gate.
                QUEUE.with(|q| {
                    let pending = &mut q.borrow_mut().pending;
                    let from = pending.len().saturating_sub(RETIRE_BATCH);
                    retiring.extend(pending.drain(from..).rev());
                });
            }
        }
        // The thread is exiting and its queue is gone: handle recursively.
        // SAFETY: as this function's caller promised, retired once.
        Err(_) => unsafe { retire(&mut vec![(h, state)], &mut Vec::new()) },
    }
}

/// Ends the retiring loop, also if it unwinds, and reports the bytes it retired.
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
#[inline(always)]
unsafe fn drop_value(h: NonNull<Header>, vtable: &VTable) {
    if !vtable.needs_drop {
        return;
    }
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
/// The calling thread, whose state `local` is, owns the block: [`Local::unregister`] returned
/// `taken` for it, so no handle, snapshot or collector pass refers to its value.
#[inline(always)]
unsafe fn free_now(local: &Local, h: NonNull<Header>, taken: Taken) {
    // SAFETY: owned by the caller, not yet freed.
    let header = unsafe { h.as_ref() };
    // Acquire: pairs with the AcqRel sets of the flags, each made through a handle whose drop
    // came before ours (see `weak::clear_owned`): a clear flag here is final.
    let flags = header.flags.load(Ordering::Acquire);
    if flags & HAS_WEAK != 0 {
        weak::clear_owned(header);
    }
    // Cleanups are rare: no vector is made (or dropped) for a block without them.
    // (A retired block has none: `unregister` does not retire blocks with cleanups.)
    let cleanups = (flags & HAS_CLEANUP != 0).then(|| {
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
        // (`unregister` keeps only a small block, one with a size class.)
        Taken::Kept { generation } => unsafe {
            debug_assert!(vtable.class.is_some());
            local.keep_spare(ObjPtr(h), generation, vtable.class.unwrap_or_default())
        },
        // SAFETY: retired by `unregister` as `taken`, value dropped above.
        Taken::Retired { .. } | Taken::RetiredInSweep => unsafe { husk(local, h, vtable, taken) },
    }
    if let Some(cleanups) = cleanups {
        cleanup::run(cleanups);
    }
}

/// Marks `h`, a block this thread retired and whose value it dropped, [`HUSK`] for a sweep,
/// and keeps it for the thread's next allocation of its size class if it has one and was
/// retired between cycles (see [`Local::keep_husk`]). A husk not kept is reported to the
/// pacer: as retired between cycles, as garbage for the next cycle if a sweep was running.
///
/// # Safety
/// [`Local::unregister`] returned `taken` (`Taken::Retired` or `Taken::RetiredInSweep`) for
/// `h` on this thread, whose state `local` is; its value was dropped, and `vtable` is the
/// block's.
unsafe fn husk(local: &Local, h: NonNull<Header>, vtable: &VTable, taken: Taken) {
    let kept_as = match taken {
        Taken::Retired { drains } => vtable.class.map(|class| (drains, class)),
        _ => None,
    };
    // Kept (its link written) while still `RETIRING`, then marked `HUSK`.
    // SAFETY: retired with this drain count, its kept class, value dropped, still `RETIRING`.
    let kept =
        kept_as.is_some_and(|(drains, class)| unsafe { local.keep_husk(ObjPtr(h), class, drains) });
    if let Some((_, class)) = kept_as {
        // SAFETY: still `RETIRING`: ours.
        unsafe { cache::poison_husk(ObjPtr(h), class) };
    }
    // SAFETY: the block is still ours: every collector pass skips or keeps a `RETIRING` block.
    // Release: pairs with the sweep's Acquire load, so the value's drop (and the link) happen
    // before the block is freed. The block is not touched after this store.
    unsafe { h.as_ref() }.mark.store(HUSK, Ordering::Release);
    let bytes = vtable.layout.size();
    match taken {
        Taken::RetiredInSweep => local.note_floating(bytes),
        _ if !kept => pacer::note_retired(bytes as u64),
        _ => {}
    }
}
