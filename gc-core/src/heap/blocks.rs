//! Size classes and recycled blocks (Go's mcache/mcentral).
//!
//! Small blocks (up to 2 KiB, alignment up to 16) are carved at their size class's size from
//! spans (see `heap::span`). The sweeper does not hand dead small blocks back to the system
//! allocator, which would free them into the allocating threads' arenas and contend with those
//! threads: it gathers them in batches per class into a central pool, and an allocating thread
//! takes a whole batch into its own cache and pops blocks from it with no lock and no atomic
//! operation. A thread that finds the pool empty carves a new span: one batch for itself, the
//! rest for the pool. The pool is capped by the heap goal; past the cap, every span whose
//! blocks are all free goes back to the system allocator.
//!
//! Under loom, and in sanitizer builds (`--cfg gc_sanitize`, so that AddressSanitizer sees
//! every free), blocks go straight to and from the system allocator.

use std::alloc::{alloc, dealloc, handle_alloc_error, Layout};

/// Blocks up to this size are recycled. (2 KiB, so that a 1 KiB value and its header are
/// small: at 1 KiB, `Gc::new` of a 1 KiB array took 1.22x `Box::new`'s time, going to the
/// system allocator and the list each time.)
const MAX_SMALL: usize = 2048;
/// Size class granularity, and the alignment of every small block.
const GRANULE: usize = 16;
/// Number of size classes.
pub(crate) const CLASSES: usize = MAX_SMALL / GRANULE;
/// Blocks per batch moved between a thread and the central pool.
#[cfg(any(test, not(any(loom, gc_sanitize))))]
const BATCH: usize = 256;

/// The size class of `layout`, if it is small.
#[inline]
pub(crate) const fn class_of(layout: Layout) -> Option<usize> {
    if layout.size() <= MAX_SMALL && layout.align() <= GRANULE {
        // Every block holds a header, so its size is never zero.
        Some(layout.size().div_ceil(GRANULE) - 1)
    } else {
        None
    }
}

/// The size of every block of class `class`.
#[cfg(gc_sanitize)]
pub(crate) fn class_size(class: usize) -> usize {
    class_layout(class).size()
}

/// The layout every block of class `class` is allocated with.
fn class_layout(class: usize) -> Layout {
    debug_assert!(class < CLASSES);
    // SAFETY: the alignment is a power of two and the size, (class + 1) * 16 <= 2048, is far
    // below isize::MAX.
    unsafe { Layout::from_size_align_unchecked((class + 1) * GRANULE, GRANULE) }
}

/// Allocates a block for `layout` from the system allocator, at its class's layout if small.
fn system_alloc(layout: Layout) -> *mut u8 {
    let layout = class_of(layout).map_or(layout, class_layout);
    // SAFETY: every block layout has a non-zero size (it holds a header).
    let p = unsafe { alloc(layout) };
    if p.is_null() {
        handle_alloc_error(layout)
    }
    p
}

/// Returns a block to the system allocator.
///
/// # Safety
/// `p` came from [`alloc_block`] (or `system_alloc`) with the same `layout`, and is not used
/// again.
unsafe fn system_free(p: *mut u8, layout: Layout) {
    let layout = class_of(layout).map_or(layout, class_layout);
    // SAFETY: allocated with this (class) layout, freed once, per the caller.
    unsafe { dealloc(p, layout) };
}

#[cfg(not(any(loom, gc_sanitize)))]
pub(crate) use recycling::{alloc_block, free_block, Recycler};

#[cfg(any(loom, gc_sanitize))]
pub(crate) use direct::{alloc_block, free_block, Recycler};

/// No recycling: every block comes from and goes back to the system allocator.
#[cfg(any(loom, gc_sanitize))]
mod direct {
    use super::{system_alloc, system_free};
    use std::alloc::Layout;

    /// Allocates a block for `layout`.
    pub(crate) fn alloc_block(layout: Layout) -> *mut u8 {
        system_alloc(layout)
    }

    /// Frees a block.
    ///
    /// # Safety
    /// As `system_free`.
    pub(crate) unsafe fn free_block(p: *mut u8, layout: Layout) {
        // SAFETY: forwarded from the caller.
        unsafe { system_free(p, layout) }
    }

    /// Frees dead blocks.
    pub(crate) struct Recycler;

    impl Recycler {
        /// A recycler (it keeps nothing, whatever the cap).
        pub(crate) fn new(_cap_bytes: u64) -> Recycler {
            Recycler
        }

        /// Frees the block.
        ///
        /// # Safety
        /// As `system_free`.
        pub(crate) unsafe fn free(&mut self, p: *mut u8, layout: Layout) {
            // SAFETY: forwarded from the caller.
            unsafe { system_free(p, layout) }
        }

        /// Nothing is held back.
        pub(crate) fn finish(self) {}

        /// Nothing is held back.
        pub(crate) fn flush(self) {}
    }
}

/// Bytes held in spans (none where blocks come from the system allocator directly).
pub(crate) fn span_bytes() -> u64 {
    #[cfg(not(any(loom, gc_sanitize)))]
    return super::span::span_bytes();
    #[cfg(any(loom, gc_sanitize))]
    0
}

/// A free block.
#[cfg(not(any(loom, gc_sanitize)))]
pub(crate) struct Block(pub(crate) std::ptr::NonNull<u8>);

// SAFETY: a free block is plain memory owned by whoever holds the `Block`.
#[cfg(not(any(loom, gc_sanitize)))]
unsafe impl Send for Block {}

#[cfg(not(any(loom, gc_sanitize)))]
mod recycling {
    use super::super::span;
    use super::{class_layout, class_of, system_alloc, system_free, Block, BATCH, CLASSES};
    use parking_lot::Mutex;
    use std::alloc::Layout;
    use std::cell::RefCell;
    use std::ptr::NonNull;
    use std::sync::atomic::{AtomicU64, Ordering};

    /// One class's share of the central pool.
    struct Central {
        /// Full batches of free blocks.
        full: Vec<Vec<Block>>,
        /// Empty batch vectors, handed back by allocating threads for the sweeper to refill.
        /// An allocating thread never frees one: most were allocated by the collector, and
        /// freeing memory another thread allocated takes that thread's allocator arena lock,
        /// which the collector holds whenever it allocates (and, preempted at idle priority
        /// while holding it, for milliseconds). The sweep trims the list to [`MIN_SPARE`] or
        /// the number of full batches, whichever is more, when it ends.
        spare: Vec<Vec<Block>>,
    }

    /// Spare vectors a sweep always leaves per class.
    const MIN_SPARE: usize = 64;

    /// Bytes in full batches in the central pool. Added to by the sweeper, taken from by
    /// allocating threads (`Relaxed`: a cap heuristic, read only to decide whether to keep a
    /// batch).
    static POOLED: AtomicU64 = AtomicU64::new(0);

    /// The central pool, per class.
    static CENTRAL: [Mutex<Central>; CLASSES] = [const {
        Mutex::new(Central {
            full: Vec::new(),
            spare: Vec::new(),
        })
    }; CLASSES];

    /// The calling thread's free blocks, per class.
    struct Local([Vec<Block>; CLASSES]);

    impl Drop for Local {
        /// A thread that exits gives its blocks back.
        fn drop(&mut self) {
            for (class, blocks) in self.0.iter_mut().enumerate() {
                if !blocks.is_empty() {
                    let bytes = blocks.len() as u64 * class_layout(class).size() as u64;
                    POOLED.fetch_add(bytes, Ordering::Relaxed);
                    CENTRAL[class].lock().full.push(std::mem::take(blocks));
                }
            }
        }
    }

    thread_local! {
        static LOCAL: RefCell<Local> =
            RefCell::new(Local(std::array::from_fn(|_| Vec::new())));
    }

    /// Allocates a block for `layout`: from this thread's cache, else a batch from the central
    /// pool, else a new span; the system allocator if the pool is busy (or the thread's cache
    /// is gone).
    pub(crate) fn alloc_block(layout: Layout) -> *mut u8 {
        let Some(class) = class_of(layout) else {
            return system_alloc(layout);
        };
        let cached = LOCAL.try_with(|l| {
            let mut l = l.borrow_mut();
            let blocks = &mut l.0[class];
            if blocks.is_empty() {
                // Never wait for the pool: if the sweeper holds it, take a block from the
                // system allocator instead.
                let mut central = CENTRAL[class].try_lock()?;
                if let Some(mut batch) = central.full.pop() {
                    let bytes = batch.len() as u64 * class_layout(class).size() as u64;
                    POOLED.fetch_sub(bytes, Ordering::Relaxed);
                    std::mem::swap(blocks, &mut batch);
                    if batch.capacity() > 0 {
                        central.spare.push(batch);
                    }
                } else {
                    carve_into(class, blocks, &mut central);
                }
            }
            blocks.pop()
        });
        match cached {
            Ok(Some(b)) => b.0.as_ptr(),
            // Contended or empty pool, or thread-locals gone.
            _ => system_alloc(class_layout(class)),
        }
    }

    /// Carves a new span of `class`: its first blocks fill `blocks` (empty) up to its capacity
    /// (a batch, if it had none), the others go to the pool in full batches.
    fn carve_into(class: usize, blocks: &mut Vec<Block>, central: &mut Central) {
        let size = class_layout(class).size();
        if blocks.capacity() == 0 {
            *blocks = Vec::with_capacity(BATCH);
        }
        let own = blocks.capacity();
        let mut batch: Vec<Block> = Vec::new();
        let mut pooled = 0u64;
        span::carve(class, size, |b| {
            if blocks.len() < own {
                blocks.push(b);
                return;
            }
            if batch.capacity() == 0 {
                batch = central
                    .spare
                    .pop()
                    .unwrap_or_else(|| Vec::with_capacity(BATCH));
            }
            batch.push(b);
            if batch.len() == batch.capacity() {
                pooled += batch.len() as u64 * size as u64;
                central.full.push(std::mem::take(&mut batch));
            }
        });
        if !batch.is_empty() {
            pooled += batch.len() as u64 * size as u64;
            central.full.push(batch);
        }
        POOLED.fetch_add(pooled, Ordering::Relaxed);
    }

    /// Frees a block into the calling thread's cache, for its next allocation of that class. A
    /// full cache vector goes to the central pool as a batch (it is never grown: the vector may
    /// have been allocated by another thread, see `Central::spare`).
    ///
    /// # Safety
    /// `p` came from `alloc_block(layout)`, its value was dropped, and no one uses it again.
    pub(crate) unsafe fn free_block(p: *mut u8, layout: Layout) {
        let (Some(class), Some(block)) = (class_of(layout), NonNull::new(p)) else {
            // SAFETY: forwarded from the caller.
            unsafe { system_free(p, layout) };
            return;
        };
        let cached = LOCAL.try_with(|l| {
            let mut l = l.borrow_mut();
            let blocks = &mut l.0[class];
            if blocks.len() == blocks.capacity() {
                let full = std::mem::take(blocks);
                let mut central = CENTRAL[class].lock();
                *blocks = central
                    .spare
                    .pop()
                    .unwrap_or_else(|| Vec::with_capacity(BATCH));
                if !full.is_empty() {
                    let bytes = full.len() as u64 * class_layout(class).size() as u64;
                    POOLED.fetch_add(bytes, Ordering::Relaxed);
                    central.full.push(full);
                }
            }
            blocks.push(Block(block));
        });
        if cached.is_err() {
            // SAFETY: forwarded from the caller; the thread's cache is gone.
            unsafe { system_free(p, class_layout(class)) };
        }
    }

    /// Gathers the blocks a sweep frees, in batches per class, and hands each full batch to
    /// the central pool at once (allocating threads can use it while the sweep goes on), up
    /// to a cap in bytes; past the cap batches are set aside, and at the end every span all of
    /// whose blocks were set aside goes back to the system allocator (the other blocks set
    /// aside go to the pool after all: their spans are still in use).
    pub(crate) struct Recycler {
        pending: Vec<Vec<Block>>,
        excess: Vec<Vec<Vec<Block>>>,
        cap_bytes: u64,
    }

    impl Recycler {
        /// A recycler that keeps at most `cap_bytes` in the central pool.
        pub(crate) fn new(cap_bytes: u64) -> Recycler {
            Recycler {
                pending: std::iter::repeat_with(Vec::new).take(CLASSES).collect(),
                excess: std::iter::repeat_with(Vec::new).take(CLASSES).collect(),
                cap_bytes,
            }
        }

        /// Takes a dead block.
        ///
        /// # Safety
        /// `p` came from `alloc_block(layout)`, its value was dropped, and no one uses it
        /// again.
        pub(crate) unsafe fn free(&mut self, p: *mut u8, layout: Layout) {
            let Some(class) = class_of(layout) else {
                // SAFETY: forwarded from the caller.
                unsafe { system_free(p, layout) };
                return;
            };
            let Some(p) = NonNull::new(p) else { return };
            let blocks = &mut self.pending[class];
            if blocks.capacity() == 0 {
                match CENTRAL[class].lock().spare.pop() {
                    Some(spare) => *blocks = spare,
                    None => blocks.reserve_exact(BATCH),
                }
            }
            blocks.push(Block(p));
            if blocks.len() == BATCH {
                let batch = std::mem::take(blocks);
                self.publish(class, batch);
            }
        }

        fn publish(&mut self, class: usize, batch: Vec<Block>) {
            let layout = class_layout(class);
            let bytes = batch.len() as u64 * layout.size() as u64;
            if POOLED.load(Ordering::Relaxed) + bytes <= self.cap_bytes {
                POOLED.fetch_add(bytes, Ordering::Relaxed);
                CENTRAL[class].lock().full.push(batch);
            } else {
                self.excess[class].push(batch);
            }
        }

        /// Publishes the partial batches of a recycler made without a cap (which sets nothing
        /// aside), on an allocating thread: it gives no span back and frees no batch vector
        /// (see `Central::spare`).
        pub(crate) fn flush(mut self) {
            debug_assert!(
                self.excess.iter().all(Vec::is_empty),
                "flush is for a recycler without a cap"
            );
            for (class, blocks) in std::mem::take(&mut self.pending).into_iter().enumerate() {
                if !blocks.is_empty() {
                    self.publish(class, blocks);
                }
            }
        }

        /// Publishes the partial batches, and gives back the spans whose blocks are all in
        /// the batches set aside.
        pub(crate) fn finish(mut self) {
            let pending = std::mem::take(&mut self.pending);
            for (class, blocks) in pending.into_iter().enumerate() {
                if !blocks.is_empty() {
                    self.publish(class, blocks);
                }
            }
            for (class, mut batches) in std::mem::take(&mut self.excess).into_iter().enumerate() {
                if batches.is_empty() {
                    continue;
                }
                let layout = class_layout(class);
                // SAFETY: every block set aside is a distinct dead block of this class that
                // only this recycler holds.
                unsafe {
                    span::release_whole(class, layout.size(), &mut batches, |b| {
                        // SAFETY: a dead block the system allocator gave at this layout.
                        system_free(b.0.as_ptr(), layout)
                    })
                };
                let mut central = CENTRAL[class].lock();
                for batch in batches {
                    if batch.is_empty() {
                        if batch.capacity() > 0 {
                            central.spare.push(batch);
                        }
                    } else {
                        POOLED.fetch_add(
                            batch.len() as u64 * layout.size() as u64,
                            Ordering::Relaxed,
                        );
                        central.full.push(batch);
                    }
                }
            }
            for central in &CENTRAL {
                let mut central = central.lock();
                let keep = MIN_SPARE.max(central.full.len());
                if central.spare.len() > keep {
                    let trimmed = central.spare.split_off(keep);
                    // Freed on this thread, after the pool is unlocked.
                    drop(central);
                    drop(trimmed);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_layouts_map_to_classes_of_16_bytes() {
        let l = |s, a| Layout::from_size_align(s, a).unwrap();
        assert_eq!(class_of(l(1, 1)), Some(0));
        assert_eq!(class_of(l(16, 8)), Some(0));
        assert_eq!(class_of(l(17, 8)), Some(1));
        assert_eq!(
            class_of(l(1056, 8)),
            Some(65),
            "a 1 KiB value with its header"
        );
        assert_eq!(class_of(l(2048, 16)), Some(CLASSES - 1));
        assert_eq!(class_of(l(2049, 8)), None);
        assert_eq!(
            class_of(l(64, 32)),
            None,
            "over-aligned blocks are not pooled"
        );
        assert_eq!(class_layout(1).size(), 32);
        assert_eq!(class_layout(1).align(), 16);
    }

    #[test]
    fn freed_blocks_are_reused() {
        let layout = Layout::from_size_align(48, 8).unwrap();
        let a = alloc_block(layout);
        let mut r = Recycler::new(u64::MAX);
        // SAFETY: `a` came from alloc_block(layout) and is not used again here.
        unsafe { r.free(a, layout) };
        r.finish();
        let mut seen = false;
        let mut held = Vec::new();
        for _ in 0..BATCH * 2 {
            let b = alloc_block(layout);
            seen |= b == a;
            held.push(b);
        }
        let mut r = Recycler::new(0);
        for b in held {
            // SAFETY: each came from alloc_block(layout) and is not used again.
            unsafe { r.free(b, layout) };
        }
        r.finish();
        assert!(
            seen || cfg!(gc_sanitize),
            "a recycled block is handed out again"
        );
    }
}
