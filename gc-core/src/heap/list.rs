//! Object lists in fixed-size chunks, with a pool of spare chunks.
//!
//! Every list the heap keeps (a thread's new blocks, a cycle's snapshot, the dead blocks of a
//! sweep) is a sequence of chunks of at most [`CHUNK`] entries. Appending never copies a large
//! array, and no list ever needs one large allocation: large allocations come from `mmap`, and
//! growing or freeing one (`mremap`, `munmap`) holds the process's memory-map lock, which
//! stalls every page fault of every mutator for milliseconds. Spare chunks go back to a pool
//! instead of the system allocator, so a cycle in the steady state makes no system calls.

use super::ObjPtr;
use crate::primitive::{global, Mutex};

/// Entries per chunk (32 KiB of pointers: below the allocator's `mmap` threshold; a few under
/// loom, so that model tests cross chunk boundaries).
#[cfg(not(loom))]
pub(crate) const CHUNK: usize = 4096;
#[cfg(loom)]
pub(crate) const CHUNK: usize = 4;

global! {
    /// Empty chunks, each with capacity [`CHUNK`].
    static POOL: Mutex<Vec<Vec<ObjPtr>>> = Mutex::new(Vec::new());
}

fn fresh_chunk() -> Vec<ObjPtr> {
    POOL.lock()
        .pop()
        .unwrap_or_else(|| Vec::with_capacity(CHUNK))
}

fn recycle(mut chunk: Vec<ObjPtr>) {
    chunk.clear();
    POOL.lock().push(chunk);
}

/// Frees spare chunks past `keep` once the pool holds twice that many (the collector calls
/// this once per cycle, with about as many chunks as the next cycle will fill). Freeing is
/// rare on purpose: most chunks were allocated by other threads, and freeing them takes those
/// threads' allocator arena locks.
pub(crate) fn trim_pool(keep: usize) {
    let spare: Vec<Vec<ObjPtr>> = {
        let mut pool = POOL.lock();
        if pool.len() <= keep.saturating_mul(2) {
            return;
        }
        pool.drain(keep..).collect()
    };
    drop(spare);
}

/// How many entries ahead of the one being visited a pass asks for the header.
const PREFETCH_DISTANCE: usize = 8;

/// Asks the CPU to start loading the header of the entry [`PREFETCH_DISTANCE`] places after
/// `i`: the collector's passes visit blocks in list order, scattered over the heap, and are
/// bound by the latency of those loads.
#[inline(always)]
pub(crate) fn prefetch_ahead(chunk: &[ObjPtr], i: usize) {
    #[cfg(target_arch = "x86_64")]
    if let Some(next) = chunk.get(i + PREFETCH_DISTANCE) {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        // SAFETY: SSE is part of the x86_64 baseline, and a prefetch never faults, whatever
        // the address (it only hints the cache).
        unsafe { _mm_prefetch::<_MM_HINT_T0>(next.0.as_ptr().cast::<i8>()) };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (chunk, i);
}

/// A list of blocks.
#[derive(Default)]
pub(crate) struct ObjList {
    chunks: Vec<Vec<ObjPtr>>,
}

impl ObjList {
    /// An empty list (allocates nothing).
    pub(crate) const fn new() -> ObjList {
        ObjList { chunks: Vec::new() }
    }

    /// Appends `obj`.
    pub(crate) fn push(&mut self, obj: ObjPtr) {
        match self.chunks.last_mut() {
            Some(chunk) if chunk.len() < CHUNK => chunk.push(obj),
            _ => {
                let mut chunk = fresh_chunk();
                chunk.push(obj);
                self.chunks.push(chunk);
            }
        }
    }

    /// Moves every chunk of `other` to the end of this list (no entry is copied).
    pub(crate) fn append(&mut self, other: &mut ObjList) {
        self.chunks.append(&mut other.chunks);
    }

    /// The number of chunks (for sizing the pool).
    pub(crate) fn chunk_count(&self) -> usize {
        self.chunks.len()
    }

    /// The number of entries of a list that was only ever pushed to (every chunk but the last
    /// is full; [`swap_remove`](Self::swap_remove) keeps it that way).
    pub(crate) fn pushed_len(&self) -> usize {
        match self.chunks.last() {
            Some(last) => (self.chunks.len() - 1) * CHUNK + last.len(),
            None => 0,
        }
    }

    /// Entry `index` of a list that was only ever pushed to.
    pub(crate) fn get(&self, index: usize) -> Option<ObjPtr> {
        self.chunks.get(index / CHUNK)?.get(index % CHUNK).copied()
    }

    /// Removes entry `index` (which must exist) of a list that was only ever pushed to, by
    /// moving the last entry into its place; returns the entry so moved, if any. An emptied
    /// last chunk stays (empty) for the next push.
    pub(crate) fn swap_remove(&mut self, index: usize) -> Option<ObjPtr> {
        let n = self.chunks.len();
        let last_chunk = if self.chunks[n - 1].is_empty() {
            n - 2
        } else {
            n - 1
        };
        if last_chunk + 1 < n {
            // The last chunk is empty: the one before it is full and gives up its last entry.
            recycle(self.chunks.pop().expect("the empty last chunk"));
        }
        let last = self.chunks[last_chunk]
            .pop()
            .expect("a non-empty last chunk");
        let slot = &mut self.chunks[index / CHUNK];
        if let Some(entry) = slot.get_mut(index % CHUNK) {
            *entry = last;
            Some(last)
        } else {
            None
        }
    }

    /// Every entry, in order.
    #[cfg(all(test, not(loom)))]
    fn iter(&self) -> impl Iterator<Item = ObjPtr> + '_ {
        self.chunks.iter().flat_map(|c| c.iter().copied())
    }

    /// Calls `f` on every entry, in order (a plain loop per chunk: an iterator over the chunks
    /// made the collector's passes a third slower).
    #[inline]
    pub(crate) fn for_each(&self, mut f: impl FnMut(ObjPtr)) {
        for chunk in &self.chunks {
            for (i, &o) in chunk.iter().enumerate() {
                prefetch_ahead(chunk, i);
                f(o);
            }
        }
    }

    /// Takes every chunk out of the list, in order.
    pub(crate) fn take_chunks(&mut self) -> Vec<Vec<ObjPtr>> {
        std::mem::take(&mut self.chunks)
    }

    /// Appends the entries of `chunk`, and gives the chunk back to the pool.
    pub(crate) fn extend_recycling(&mut self, chunk: Vec<ObjPtr>) {
        for obj in &chunk {
            self.push(*obj);
        }
        recycle(chunk);
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::ptr::NonNull;

    fn obj(i: usize) -> ObjPtr {
        ObjPtr(NonNull::new((i * 8 + 8) as *mut _).unwrap())
    }
    fn index(o: ObjPtr) -> usize {
        o.0.as_ptr() as usize / 8 - 1
    }

    #[test]
    fn survivors_put_back_keep_their_order_in_full_chunks() {
        let mut a = ObjList::new();
        let mut b = ObjList::new();
        for i in 0..CHUNK + 10 {
            a.push(obj(i));
        }
        for i in CHUNK + 10..3 * CHUNK {
            b.push(obj(i));
        }
        a.append(&mut b);
        assert_eq!(b.iter().count(), 0);
        // As a sweep does: every chunk taken out, its survivors kept at its front.
        for mut chunk in a.take_chunks() {
            chunk.retain(|&o| index(o).is_multiple_of(3));
            a.extend_recycling(chunk);
        }
        let kept: Vec<usize> = a.iter().map(index).collect();
        assert_eq!(
            kept,
            (0..3 * CHUNK).filter(|i| i % 3 == 0).collect::<Vec<_>>()
        );
        assert_eq!(a.chunk_count(), kept.len().div_ceil(CHUNK));
        assert_eq!(a.take_chunks().len(), kept.len().div_ceil(CHUNK));
        assert_eq!(a.chunk_count(), 0);
    }
}
