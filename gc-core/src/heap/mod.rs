//! The heap: allocation and freeing of blocks, and the lists the collector sweeps.

pub(crate) mod blocks;
pub(crate) mod cache;
pub(crate) mod header;
pub(crate) mod list;
pub(crate) mod reclaim;
#[cfg(not(any(loom, gc_sanitize)))]
pub(crate) mod span;
mod thread_cell;

use crate::trace::Trace;
use header::{GcBox, Header, VTable};
use std::mem::ManuallyDrop;
use std::ptr::NonNull;

/// A pointer to a block, as kept in the heap's lists.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ObjPtr(pub(crate) NonNull<Header>);

// SAFETY: an `ObjPtr` is an address in the shared heap; every access through it goes through
// the header's atomics or the collector's phase protocol, never through thread-local state.
unsafe impl Send for ObjPtr {}

/// Allocates a block holding `value` and registers it with the calling thread's list.
///
/// The block's mark is the current epoch: while a cycle is marking the block is black (the
/// cycle never frees or traces it); between cycles it is the last cycle's epoch, which the
/// next cycle treats as white.
pub(crate) fn allocate<T: Trace + Send + Sync + 'static>(value: T) -> NonNull<GcBox<T>> {
    let vtable = VTable::of::<T>();
    let layout = vtable.layout;
    // Moved out by `init` if a block is reused, else below: never dropped here (no `Option`
    // around it, and no panic path for the move).
    let value = ManuallyDrop::new(value);
    // Writes the block a spare or a husk is handed out as, with its mark and `internal` word.
    let init = |block: NonNull<Header>, mark: u32, internal: Option<u64>| {
        // SAFETY: `reuse` calls `init` at most once (`FnOnce`), and only when it returns the
        // block, so the value is moved out once and not used again below.
        let value = unsafe { std::ptr::read(&*value) };
        // SAFETY: a spare or husk of `layout`'s kept class is big and aligned enough for
        // `GcBox<T>`, its old value was dropped, and this thread owns it under its list lock
        // (see `cache::reuse`).
        unsafe { GcBox::write_in_place(block.cast().as_ptr(), vtable, value, mark, internal) };
    };
    if let Some(block) = cache::reuse(layout, init) {
        return block.cast();
    }
    let value = ManuallyDrop::into_inner(value);
    let raw = blocks::alloc_block(layout).cast::<GcBox<T>>();
    // SAFETY: `alloc_block` never returns null (it reports failure through
    // `handle_alloc_error`).
    let ptr = unsafe { NonNull::new_unchecked(raw) };
    // SAFETY: `ptr` is freshly allocated for `GcBox<T>` and not yet shared; `register` sets
    // the mark and `internal` word next.
    unsafe { GcBox::write_in_place(ptr.as_ptr(), vtable, value, 0, Some(0)) };
    cache::register(ObjPtr(ptr.cast()), layout.size());
    ptr
}

/// Frees a block whose value has already been dropped, into `recycler`.
///
/// # Safety
/// `h` must head a block from [`allocate`] whose value was dropped, that is unreachable, and
/// that no thread will touch again.
pub(crate) unsafe fn free(h: NonNull<Header>, recycler: &mut blocks::Recycler) {
    // SAFETY: the caller guarantees the block is live until now; its vtable is static.
    let layout = unsafe { h.as_ref() }.vtable.layout;
    // SAFETY: the block was allocated by `allocate` (`alloc_block(layout)`) and is freed once.
    unsafe { recycler.free(h.as_ptr().cast(), layout) };
}
