//! Spans: small blocks are carved from 64 KiB spans of one size class each (Go's `mspan`), so
//! a 48-byte block takes 48 bytes, where the system allocator would take 64 (its own header
//! and rounding), and allocating a batch of blocks takes one span, not one call per block.
//!
//! Span memory comes from regions of [`REGION`] bytes mapped from the operating system, not
//! from the system allocator: a 64 KiB allocation aligned to 64 KiB took it 150 to 300 us, one
//! in a few dozen spans, inside a mutator's allocation. A span is aligned to its size, so a
//! block's span is its address rounded down.
//!
//! A span is never given back while one of its blocks may be in use: only when every one of
//! its blocks is among free blocks the sweep could not keep (see [`release_whole`]). Its pages
//! then go back to the operating system (`MADV_DONTNEED`: they read as zero when touched
//! again) and the span waits, out of the registry, for the next carve; regions themselves are
//! never unmapped (Go keeps its arenas too).
//!
//! The registry of live spans (span to size class) is a two-level table of one byte per span,
//! read and written without a lock, and never resized: neither an allocating thread nor the
//! sweep that gives spans back waits for the other there. (A hash map under a lock was held
//! for 5.7 ms by a sweep giving back 30,000 spans, and growing it took 1.25 ms inside an
//! allocation.) It tells a carved block from one the system allocator gave directly (a
//! thread that is exiting, or found the central pool busy, takes those), which never lies
//! inside a region.

use super::blocks::{Block, CLASSES};
use parking_lot::Mutex;
use std::collections::HashMap;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicPtr, AtomicU64, AtomicU8, Ordering};

/// Bytes per span, and their alignment.
pub(crate) const SPAN: usize = 64 * 1024;

/// `SPAN` as a shift.
const SPAN_SHIFT: u32 = SPAN.trailing_zeros();

/// Bytes mapped at once: 64 spans.
const REGION: usize = 64 * SPAN;

/// Spans per leaf of the registry (a leaf covers 4 GiB of addresses).
const LEAF: usize = 1 << 16;

/// Leaves: together they cover the addresses below 2^48 (a region mapped above is not used).
const TOP: usize = 1 << (48 - SPAN_SHIFT - LEAF.trailing_zeros());

// A registry entry holds a class plus one in a byte (zero: no live span).
const _: () = assert!(CLASSES < u8::MAX as usize);

/// One byte per span: its size class plus one while it is live, else zero. `Relaxed`: an
/// entry changes only while its span is no one's (being carved by the thread that took it
/// from [`SPANS`], or given back by the sweep that holds all of its blocks), and that
/// hand-over is ordered by the lock of [`SPANS`].
struct Leaf([AtomicU8; LEAF]);

/// The registry's leaves, installed when a region in their range is mapped and never freed.
/// `Acquire`/`Release`: a thread that sees a leaf sees its zeroed bytes.
static REGISTRY: [AtomicPtr<Leaf>; TOP] = [const { AtomicPtr::new(std::ptr::null_mut()) }; TOP];

/// Spans ready to be carved.
struct Spans {
    /// Spans given back (their pages returned to the operating system).
    free: Vec<usize>,
    /// The part of the newest region not carved yet: `next..end`.
    next: usize,
    end: usize,
}

static SPANS: Mutex<Spans> = Mutex::new(Spans {
    free: Vec::new(),
    next: 0,
    end: 0,
});

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

/// The registry entry of the span at `base`, making its leaf if `make` (else `None` if it has
/// none); `None` for an address past the registry's range.
fn entry(base: usize, make: bool) -> Option<&'static AtomicU8> {
    let n = base >> SPAN_SHIFT;
    let top = REGISTRY.get(n / LEAF)?;
    // Acquire: pairs with the Release exchange that installed the leaf.
    let mut leaf = top.load(Ordering::Acquire);
    if leaf.is_null() {
        if !make {
            return None;
        }
        let layout = std::alloc::Layout::new::<Leaf>();
        // SAFETY: the layout has a non-zero size.
        let fresh = unsafe { std::alloc::alloc_zeroed(layout) }.cast::<Leaf>();
        if fresh.is_null() {
            std::alloc::handle_alloc_error(layout);
        }
        // AcqRel: publishes the zeroed leaf (Release), or sees the one installed first
        // (Acquire).
        leaf = match top.compare_exchange(
            std::ptr::null_mut(),
            fresh,
            Ordering::AcqRel,
            Ordering::Acquire,
        ) {
            Ok(_) => fresh,
            Err(installed) => {
                // SAFETY: `fresh` was allocated above with this layout and never shared.
                unsafe { std::alloc::dealloc(fresh.cast(), layout) };
                installed
            }
        };
    }
    // SAFETY: a leaf is never freed once installed, and all-zero bytes are valid `AtomicU8`s.
    Some(unsafe { &(*leaf).0[n % LEAF] })
}

/// The size class of the live span at `base`, if there is one.
fn class_at(base: usize) -> Option<usize> {
    match entry(base, false)?.load(Ordering::Relaxed) {
        0 => None,
        c => Some(usize::from(c) - 1),
    }
}

/// Maps a region: returns its aligned bounds, with the registry's leaves for it in place, or
/// `None` if the operating system has no memory for it or placed it past the registry.
fn map_region() -> Option<(usize, usize)> {
    let start = os::map(REGION + SPAN)?;
    let aligned = (start + SPAN - 1) & !(SPAN - 1);
    let end = aligned + REGION;
    // A region lies in at most two leaves.
    if entry(aligned, true).is_none() || entry(end - SPAN, true).is_none() {
        // SAFETY: mapped just above, with this size, and not handed out.
        unsafe { os::unmap(start, REGION + SPAN) };
        return None;
    }
    Some((aligned, end))
}

/// Takes a span to carve: one given back, else the next of the newest region, else the first
/// of a new region. `None` if no memory could be mapped.
fn take_span() -> Option<usize> {
    {
        let mut spans = SPANS.lock();
        if let Some(base) = spans.free.pop() {
            return Some(base);
        }
        if spans.next < spans.end {
            spans.next += SPAN;
            return Some(spans.next - SPAN);
        }
    }
    // Mapped without the lock (a system call): other threads keep carving meanwhile.
    let (start, end) = map_region()?;
    let mut spans = SPANS.lock();
    if spans.next < spans.end {
        // Another thread mapped a region meanwhile: this one's spans wait with the free ones.
        spans.free.extend((start + SPAN..end).step_by(SPAN));
    } else {
        (spans.next, spans.end) = (start + SPAN, end);
    }
    Some(start)
}

/// Takes a span for blocks of class `class`, `size` bytes each, and calls `take` with each of
/// its blocks, in address order. Calls nothing if no memory could be mapped (the caller then
/// takes its block from the system allocator, which reports the failure).
pub(crate) fn carve(class: usize, size: usize, mut take: impl FnMut(Block)) {
    let Some(base) = take_span() else {
        return;
    };
    entry(base, false)
        .expect("a mapped region has its registry leaves")
        .store(class as u8 + 1, Ordering::Relaxed);
    SPAN_BYTES.fetch_add(SPAN as u64, Ordering::Relaxed);
    for i in 0..SPAN / size {
        // `i * size + size <= SPAN`: the block lies inside the span, which is mapped.
        take(Block(
            NonNull::new((base + i * size) as *mut u8).expect("a span is not at address zero"),
        ));
    }
}

/// Of `batches`, free blocks of class `class` (of `size` bytes) that the pool will not keep,
/// gives back every span all of whose blocks are among them (its pages to the operating
/// system, the span to the next carve), hands each block that no span holds to `direct`, and
/// leaves in `batches` only the blocks of spans still in use elsewhere.
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
    let mut whole: Vec<usize> = Vec::new();
    for (&base, &n) in &counts {
        if n == per_span && class_at(base) == Some(class) {
            whole.push(base);
        }
    }
    whole.sort_unstable();
    for batch in batches.iter_mut() {
        batch.retain(|b| {
            let base = base_of(b);
            if class_at(base).is_none() {
                // Not inside a live span: the system allocator gave this block directly.
                direct(Block(b.0));
                false
            } else {
                whole.binary_search(&base).is_err()
            }
        });
    }
    for &base in &whole {
        entry(base, false)
            .expect("a live span has its registry leaf")
            .store(0, Ordering::Relaxed);
    }
    SPAN_BYTES.fetch_sub((whole.len() * SPAN) as u64, Ordering::Relaxed);
    // Runs of adjacent spans go back to the operating system in one call each.
    let mut run = 0;
    while run < whole.len() {
        let mut len = 1;
        while run + len < whole.len() && whole[run + len] == whole[run] + len * SPAN {
            len += 1;
        }
        // SAFETY: these spans lie in mapped regions, and all of their blocks are free and the
        // caller's (its promise: `per_span` distinct free blocks inside each), so no one reads
        // or writes them until they are carved again.
        unsafe { os::decommit(whole[run], len * SPAN) };
        run += len;
    }
    SPANS.lock().free.extend_from_slice(&whole);
}

/// The operating system's memory mappings.
#[cfg(unix)]
mod os {
    /// Maps `len` bytes of fresh, zeroed, readable and writable memory; returns its address.
    pub(super) fn map(len: usize) -> Option<usize> {
        // SAFETY: a new private anonymous mapping at an address the kernel picks: no existing
        // memory is affected.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        (p != libc::MAP_FAILED).then_some(p as usize)
    }

    /// Unmaps a mapping [`map`] made.
    ///
    /// # Safety
    /// `start` and `len` are a mapping [`map`] returned, and nothing in it is used again.
    pub(super) unsafe fn unmap(start: usize, len: usize) {
        // SAFETY: the caller's promise.
        unsafe { libc::munmap(start as *mut libc::c_void, len) };
    }

    /// Gives the pages of `start..start + len` back to the operating system; they read as
    /// zero when next touched.
    ///
    /// # Safety
    /// The range lies in a mapping [`map`] made, and nothing in it is read or written until
    /// it is handed out again.
    pub(super) unsafe fn decommit(start: usize, len: usize) {
        // SAFETY: the caller's promise: no one holds a reference into the range, so its
        // contents may change (to zero) under no one.
        unsafe { libc::madvise(start as *mut libc::c_void, len, libc::MADV_DONTNEED) };
    }
}

/// Without `mmap`: regions come from the system allocator and are never given back.
#[cfg(not(unix))]
mod os {
    use std::alloc::Layout;

    fn layout(len: usize) -> Option<Layout> {
        Layout::from_size_align(len, super::SPAN).ok()
    }

    /// Allocates `len` bytes; returns their address.
    pub(super) fn map(len: usize) -> Option<usize> {
        // SAFETY: the layout has a non-zero size.
        let p = unsafe { std::alloc::alloc_zeroed(layout(len)?) };
        (!p.is_null()).then_some(p as usize)
    }

    /// Frees memory [`map`] allocated.
    ///
    /// # Safety
    /// `start` and `len` are an allocation [`map`] returned, and nothing in it is used again.
    pub(super) unsafe fn unmap(start: usize, len: usize) {
        if let Some(layout) = layout(len) {
            // SAFETY: the caller's promise.
            unsafe { std::alloc::dealloc(start as *mut u8, layout) };
        }
    }

    /// Keeps the memory (there is no portable way to give pages back).
    ///
    /// # Safety
    /// None needed; the signature matches the Unix one.
    pub(super) unsafe fn decommit(_start: usize, _len: usize) {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::heap::blocks::{alloc_block, Recycler};
    use std::alloc::Layout;
    use std::collections::BTreeSet;

    fn is_live(base: usize) -> bool {
        class_at(base).is_some()
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

    #[test]
    fn spans_given_back_are_carved_again_before_new_regions() {
        // Spans taken and given back without carving (their blocks never touched), as the
        // sweep gives back spans whose blocks are all free.
        let taken: Vec<usize> = (0..8).map(|_| take_span().expect("memory")).collect();
        assert!(taken.iter().all(|&b| b % SPAN == 0), "spans are aligned");
        SPANS.lock().free.extend_from_slice(&taken);
        // Other tests carve meanwhile, but not thousands of spans: some of these come back.
        let mut again = Vec::new();
        while again.len() < 4096 && !again.iter().any(|b| taken.contains(b)) {
            again.push(take_span().expect("memory"));
        }
        assert!(
            again.iter().any(|b| taken.contains(b)),
            "a span given back is carved again"
        );
        SPANS.lock().free.extend_from_slice(&again);
    }

    #[test]
    fn a_carved_span_is_registered_until_given_back_whole() {
        assert_eq!(class_at(0), None, "no span at address zero");
        assert!(entry(1 << 48, true).is_none(), "past the registry's range");
        // Class 5 (96-byte blocks), carved directly: 682 blocks in one span.
        let mut blocks = Vec::new();
        carve(5, 96, |b| blocks.push(b));
        assert_eq!(blocks.len(), SPAN / 96);
        let base = base_of(&blocks[0]);
        assert!(blocks.iter().all(|b| base_of(b) == base), "one span");
        assert_eq!(class_at(base), Some(5));
        // All but one block: the span stays live and keeps its blocks.
        let last = blocks.pop().expect("a block");
        let mut batches = vec![blocks];
        // SAFETY: the blocks were carved above, never used, and are given back once.
        unsafe { release_whole(5, 96, &mut batches, |_| panic!("no direct block")) };
        assert_eq!(
            batches[0].len(),
            SPAN / 96 - 1,
            "a partly free span keeps its blocks"
        );
        assert_eq!(class_at(base), Some(5));
        batches[0].push(last);
        // SAFETY: as above.
        unsafe { release_whole(5, 96, &mut batches, |_| panic!("no direct block")) };
        assert!(
            batches[0].is_empty(),
            "a wholly free span takes its blocks with it"
        );
        assert_eq!(class_at(base), None, "and leaves the registry");
    }
}
