//! Freeing at once: a block whose last handle is dropped by the thread that allocated it,
//! before any cycle has taken it into a snapshot, is dropped and freed right there, as `Arc`
//! would, instead of waiting for the collector.
//!
//! Dropping a value drops the handles it holds, which can free more blocks: those are queued
//! on the thread and freed by the outermost call in a loop, so a long list held by one handle
//! is freed without recursion (it cannot overflow the stack).

use super::header::{Header, HAS_CLEANUP};
use super::{blocks, cache, ObjPtr};
use crate::cleanup;
use crate::primitive::{local, Ordering};
use crate::stats;
use crate::weak;
use std::cell::RefCell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr::NonNull;

/// The calling thread's blocks waiting to be freed, and whether it is freeing now.
#[derive(Default)]
struct Queue {
    active: bool,
    pending: Vec<NonNull<Header>>,
}

local! {
    static QUEUE: RefCell<Queue> = RefCell::new(Queue::default());
}

/// What the drop of a handle reads from the header *before* it decrements the count: once the
/// count is zero, a block a cycle has already taken may be freed by the collector at any
/// moment, so nothing may read its header until [`cache::unregister`] has found it in the
/// calling thread's list. One load, on the line the decrement touches anyway.
#[derive(Clone, Copy)]
pub(crate) struct BeforeDrop {
    index_hint: u64,
}

impl BeforeDrop {
    /// Reads what [`last_handle_dropped`] needs, while the caller still holds a handle to `h`.
    #[inline]
    pub(crate) fn read(h: &Header) -> BeforeDrop {
        BeforeDrop {
            // Relaxed: a hint, checked against the list entry.
            index_hint: h.internal.load(Ordering::Relaxed),
        }
    }
}

/// Called when the last handle to `h` has been dropped by this thread: frees the block now if
/// the calling thread's list still holds it ([`cache::unregister`]), else leaves it to the
/// collector without touching it.
///
/// # Safety
/// The caller dropped the last handle to `h` (its count went from one to zero), so no handle
/// to it exists any more, and read `before` from its header before the decrement.
#[cold]
#[inline(never)]
pub(crate) unsafe fn last_handle_dropped(h: NonNull<Header>, before: BeforeDrop) {
    if !cache::unregister(ObjPtr(h), before.index_hint) {
        return;
    }
    let first = QUEUE.try_with(|q| {
        let mut q = q.borrow_mut();
        if q.active {
            q.pending.push(h);
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
            // SAFETY: `unregister` made this thread the block's only owner.
            unsafe { free_now(h) };
            while let Some(next) = QUEUE.with(|q| q.borrow_mut().pending.pop()) {
                // SAFETY: queued by this thread after `unregister` gave it the block.
                unsafe { free_now(next) };
            }
        }
        // The thread is exiting and its queue is gone: free recursively.
        // SAFETY: `unregister` made this thread the block's only owner.
        Err(_) => unsafe { free_now(h) },
    }
}

/// Ends the outermost freeing loop, also if it unwinds.
struct Active;

impl Drop for Active {
    fn drop(&mut self) {
        let _ = QUEUE.try_with(|q| q.borrow_mut().active = false);
    }
}

/// Clears the weak slot, drops the value, frees the block and hands the cleanups to the
/// cleanup thread.
///
/// # Safety
/// The calling thread owns the block: no handle, list, snapshot or collector refers to it.
unsafe fn free_now(h: NonNull<Header>) {
    // SAFETY: owned by the caller, not yet freed.
    let header = unsafe { h.as_ref() };
    weak::clear_owned(header);
    let mut cleanups = Vec::new();
    if header.flags.load(Ordering::Acquire) & HAS_CLEANUP != 0 {
        cleanup::take(header, &mut cleanups);
    }
    let vtable = header.vtable;
    // A panic is caught and counted, as the sweeper does: whether a value is dropped here or
    // by the collector, its drop's panic never reaches the code that dropped a handle.
    // SAFETY: the caller owns the block, so no one else reads the value, and it is dropped
    // once: the block is freed right after.
    let dropped = catch_unwind(AssertUnwindSafe(|| unsafe { (vtable.drop_value)(h) }));
    if dropped.is_err() {
        stats::record().drop_panics += 1;
    }
    // SAFETY: allocated by `alloc_block(layout)` in `heap::allocate`, its value dropped above,
    // freed once here.
    unsafe { blocks::free_block(h.as_ptr().cast(), vtable.layout) };
    if !cleanups.is_empty() {
        cleanup::run(cleanups);
    }
}
