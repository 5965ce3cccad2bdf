//! Spans: small blocks are carved from 64 KiB allocations of one size class each (Go's
//! `mspan`), so a 48-byte block takes 48 bytes, where the system allocator would take 64 (its
//! own header and rounding), and allocating a batch of blocks is one call to it, not one per
//! block.
//!
//! A span is never freed while one of its blocks may be in use: it goes back to the system
//! allocator only when every one of its blocks is among free blocks the sweep could not keep
//! (see [`release_whole`]). A span is aligned to its size, so a block's span is its address
//! rounded down; the registry of live spans tells a block carved from a span from one the
//! system allocator gave directly (a thread that is exiting, or found the central pool busy,
//! takes those), which can never lie inside a live span.

use super::blocks::Block;
use parking_lot::Mutex;
use std::alloc::{alloc, dealloc, handle_alloc_error, Layout};
use std::collections::{HashMap, HashSet};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU64, Ordering};

/// Bytes per span, and their alignment.
pub(crate) const SPAN: usize = 64 * 1024;

/// The layout of every span.
fn span_layout() -> Layout {
    // SAFETY: SPAN is a power of two, and far below isize::MAX.
    unsafe { Layout::from_size_align_unchecked(SPAN, SPAN) }
}

/// Live spans: base address to size class.
static SPANS: Mutex<Option<HashMap<usize, usize>>> = Mutex::new(None);

/// Bytes in live spans (`Relaxed`: a statistic).
static SPAN_BYTES: AtomicU64 = AtomicU64::new(0);

/// Bytes the heap holds in spans, carved or not.
pub(crate) fn span_bytes() -> u64 {
    SPAN_BYTES.load(Ordering::Relaxed)
}

/// The base address of the span a block of a span lies in.
fn base_of(block: &Block) -> usize {
    block.0.as_ptr() as usize & !(SPAN - 1)
}

/// Allocates a span for blocks of `size` bytes and calls `take` with each of its blocks, in
/// address order.
pub(crate) fn carve(class: usize, size: usize, mut take: impl FnMut(Block)) {
    let layout = span_layout();
    // SAFETY: the layout has a non-zero size.
    let base = unsafe { alloc(layout) };
    let Some(base) = NonNull::new(base) else {
        handle_alloc_error(layout)
    };
    SPANS
        .lock()
        .get_or_insert_with(HashMap::new)
        .insert(base.as_ptr() as usize, class);
    SPAN_BYTES.fetch_add(SPAN as u64, Ordering::Relaxed);
    for i in 0..SPAN / size {
        // SAFETY: `i * size + size <= SPAN`: the block lies inside the span.
        take(Block(unsafe { base.add(i * size) }));
    }
}

/// Of `batches`, free blocks of class `class` (of `size` bytes) that the pool will not keep,
/// gives back to the system allocator every span all of whose blocks are among them, hands
/// each block that no span holds to `direct`, and leaves in `batches` only the blocks of
/// spans still in use elsewhere.
///
/// # Safety
/// Every block in `batches` is a free block of class `class` that no one else holds or uses
/// (its value dropped, in no cache, list or pool), and no block appears twice.
pub(crate) unsafe fn release_whole(
    class: usize,
    size: usize,
    batches: &mut [Vec<Block>],
    mut direct: impl FnMut(Block),
) {
    let mut counts: HashMap<usize, usize> = HashMap::new();
    for b in batches.iter().flatten() {
        *counts.entry(base_of(b)).or_default() += 1;
    }
    let per_span = SPAN / size;
    let mut whole: HashSet<usize> = HashSet::new();
    let mut outside: HashSet<usize> = HashSet::new();
    {
        let mut registry = SPANS.lock();
        let registry = registry.get_or_insert_with(HashMap::new);
        for (&base, &n) in &counts {
            match registry.get(&base) {
                // Not a span's base: these blocks came from the system allocator directly (no
                // such block lies inside a live span).
                None => {
                    outside.insert(base);
                }
                Some(&c) if c == class && n == per_span => {
                    registry.remove(&base);
                    whole.insert(base);
                }
                Some(_) => {}
            }
        }
    }
    for batch in batches.iter_mut() {
        batch.retain(|b| {
            let base = base_of(b);
            if outside.contains(&base) {
                direct(Block(b.0));
                false
            } else {
                !whole.contains(&base)
            }
        });
    }
    for &base in &whole {
        SPAN_BYTES.fetch_sub(SPAN as u64, Ordering::Relaxed);
        // The span was allocated by `carve` with this layout (it was registered with this
        // class), and all `per_span` of its blocks are free and ours (the caller's promise:
        // distinct free blocks, `per_span` of them inside this span).
        // SAFETY: so nothing refers to the span, and it is out of the registry.
        unsafe { dealloc(base as *mut u8, span_layout()) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::heap::blocks::{alloc_block, Recycler};
    use std::collections::BTreeSet;

    fn is_live(base: usize) -> bool {
        SPANS.lock().as_ref().is_some_and(|r| r.contains_key(&base))
    }

    #[test]
    fn spans_go_back_when_all_their_blocks_are_free_and_not_before() {
        // A size class no other test uses (1008-byte blocks: 65 per span).
        let layout = Layout::from_size_align(1000, 8).unwrap();
        let blocks: Vec<*mut u8> = (0..200).map(|_| alloc_block(layout)).collect();
        let base = |p: *mut u8| p as usize & !(SPAN - 1);
        let spans: BTreeSet<usize> = blocks.iter().map(|&p| base(p)).collect();
        assert!(
            spans.len() >= 3,
            "200 blocks of 1008 bytes span several spans"
        );
        assert!(
            spans.iter().all(|&b| is_live(b)),
            "carved blocks lie in spans"
        );
        // Keep one block; give every other back past the pool's cap.
        let held = blocks[0];
        let mut r = Recycler::new(0);
        for &p in &blocks[1..] {
            // SAFETY: each came from alloc_block(layout), holds no value, and is not used again.
            unsafe { r.free(p, layout) };
        }
        r.finish();
        assert!(is_live(base(held)), "a span with a block in use stays");
        let full_and_freed: Vec<usize> = spans
            .iter()
            .copied()
            .filter(|&b| b != base(held))
            .filter(|&b| blocks.iter().filter(|&&p| base(p) == b).count() == SPAN / 1008)
            .collect();
        assert!(!full_and_freed.is_empty());
        for b in full_and_freed {
            assert!(!is_live(b), "a span whose blocks were all freed goes back");
        }
        let mut r = Recycler::new(u64::MAX);
        // SAFETY: `held` came from alloc_block(layout) and is not used again.
        unsafe { r.free(held, layout) };
        r.finish();
    }
}
