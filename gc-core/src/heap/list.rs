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

/// Entries per chunk (32 KiB of pointers: below the allocator's `mmap` threshold).
pub(crate) const CHUNK: usize = 4096;

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

/// Frees spare chunks past `keep` (the collector calls this once per cycle, with about as
/// many chunks as the next cycle will fill).
pub(crate) fn trim_pool(keep: usize) {
    let spare: Vec<Vec<ObjPtr>> = {
        let mut pool = POOL.lock();
        if pool.len() <= keep {
            return;
        }
        pool.drain(keep..).collect()
    };
    drop(spare);
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

    /// Every entry, in order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = ObjPtr> + '_ {
        self.chunks.iter().flat_map(|c| c.iter().copied())
    }

    /// Keeps the entries for which `keep` is true (in order, compacted in place) and moves
    /// the others to `rest`. Chunks left empty go back to the pool.
    pub(crate) fn split_off_where(
        &mut self,
        mut keep: impl FnMut(ObjPtr) -> bool,
        rest: &mut ObjList,
    ) {
        // Write position (chunk, index); never past the read position, so it only overwrites
        // entries already read.
        let (mut wc, mut wi) = (0, 0);
        for rc in 0..self.chunks.len() {
            for ri in 0..self.chunks[rc].len() {
                let obj = self.chunks[rc][ri];
                if keep(obj) {
                    self.chunks[wc][wi] = obj;
                    wi += 1;
                    if wi == self.chunks[wc].len() {
                        wc += 1;
                        wi = 0;
                    }
                } else {
                    rest.push(obj);
                }
            }
        }
        if wi > 0 {
            self.chunks[wc].truncate(wi);
            wc += 1;
        }
        for chunk in self.chunks.drain(wc..) {
            recycle(chunk);
        }
    }

    /// Empties the list, giving its chunks back to the pool.
    pub(crate) fn clear(&mut self) {
        for chunk in self.chunks.drain(..) {
            recycle(chunk);
        }
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
    fn split_keeps_order_across_partial_chunks() {
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
        let mut rest = ObjList::new();
        a.split_off_where(|o| index(o).is_multiple_of(3), &mut rest);
        let kept: Vec<usize> = a.iter().map(index).collect();
        let gone: Vec<usize> = rest.iter().map(index).collect();
        assert_eq!(
            kept,
            (0..3 * CHUNK).filter(|i| i % 3 == 0).collect::<Vec<_>>()
        );
        assert_eq!(
            gone,
            (0..3 * CHUNK).filter(|i| i % 3 != 0).collect::<Vec<_>>()
        );
        assert_eq!(a.chunk_count(), kept.len().div_ceil(CHUNK));
        a.split_off_where(|_| false, &mut rest);
        assert_eq!(a.chunk_count(), 0);
        rest.clear();
        assert_eq!(rest.iter().count(), 0);
    }
}
