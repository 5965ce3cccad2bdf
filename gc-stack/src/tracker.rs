//! The per-thread stack tracker: the bytes the thread's open frames hold, its limit, and a
//! small pool of segments kept for the next frames.

use crate::registry::{register_current_thread, ThreadRecord};
use crate::segment::{self, SegmentHeader};
use std::cell::Cell;
use std::ptr::NonNull;
use std::sync::Arc;

/// The default limit, as Go's on 64-bit machines (`debug.SetMaxStack`).
pub(crate) const DEFAULT_MAX_STACK: usize = 1_000_000_000;

/// Bytes of free segments a thread keeps for its next frames; the rest go back to the
/// allocator.
const POOL_BYTES: usize = 256 * 1024;

/// One thread's tracker. Touched only by its own thread (it lives in a thread-local), so plain
/// `Cell`s; the only value other threads read is the record's byte count.
pub(crate) struct Tracker {
    record: Arc<ThreadRecord>,
    /// Bytes of the segments held by this thread's open frames.
    in_use: Cell<usize>,
    /// `set_max_stack`'s value.
    max: Cell<usize>,
    /// Free segments, chained through `prev`.
    pool: Cell<Option<NonNull<SegmentHeader>>>,
    pool_bytes: Cell<usize>,
}

impl Tracker {
    fn new() -> Tracker {
        Tracker {
            record: register_current_thread(),
            in_use: Cell::new(0),
            max: Cell::new(DEFAULT_MAX_STACK),
            pool: Cell::new(None),
            pool_bytes: Cell::new(0),
        }
    }

    /// Replaces the limit and returns the previous one.
    pub(crate) fn set_max(&self, bytes: usize) -> usize {
        self.max.replace(bytes)
    }

    /// A segment of at least `size` bytes for a growing frame; panics past the limit.
    fn acquire(&self, size: usize) -> NonNull<SegmentHeader> {
        let seg = self.take_pooled(size);
        // SAFETY: `seg` is live: it is either pooled (owned by this tracker) or fresh.
        let seg_size = seg.map_or(size, |s| unsafe { s.as_ref().size });
        let grown = self.in_use.get().saturating_add(seg_size);
        if grown > self.max.get() {
            if let Some(s) = seg {
                self.pool_push(s);
            }
            panic!("thread stack exceeds {}-byte limit", self.max.get());
        }
        self.set_in_use(grown);
        seg.unwrap_or_else(|| segment::allocate(size))
    }

    /// The newest pooled segment if it has at least `size` bytes, unlinked from the pool.
    fn take_pooled(&self, size: usize) -> Option<NonNull<SegmentHeader>> {
        let seg = self.pool.get()?;
        // SAFETY: pooled segments are live and owned by this tracker.
        let header = unsafe { seg.as_ref() };
        if header.size < size {
            return None;
        }
        self.pool.set(header.prev);
        self.pool_bytes.set(self.pool_bytes.get() - header.size);
        Some(seg)
    }

    fn pool_push(&self, mut seg: NonNull<SegmentHeader>) {
        // SAFETY: `seg` is a live segment no frame uses any more; this tracker owns it.
        let header = unsafe { seg.as_mut() };
        if self.pool_bytes.get() + header.size > POOL_BYTES {
            // SAFETY: nothing placed in `seg` is used again (its frame ended).
            unsafe { segment::free(seg) };
            return;
        }
        self.pool_bytes.set(self.pool_bytes.get() + header.size);
        header.prev = self.pool.replace(Some(seg));
    }

    /// Takes back a chain of segments from an ending frame.
    fn release(&self, mut chain: Option<NonNull<SegmentHeader>>) {
        while let Some(seg) = chain {
            // SAFETY: the chain's segments are live and belong to the ending frame.
            let header = unsafe { seg.as_ref() };
            chain = header.prev;
            self.set_in_use(self.in_use.get().saturating_sub(header.size));
            self.pool_push(seg);
        }
    }

    fn set_in_use(&self, bytes: usize) {
        self.in_use.set(bytes);
        self.record.set_stack_bytes(bytes);
    }
}

impl Drop for Tracker {
    fn drop(&mut self) {
        let mut chain = self.pool.take();
        while let Some(seg) = chain {
            // SAFETY: pooled segments are live and owned by this tracker, which is going away.
            chain = unsafe { seg.as_ref().prev };
            // SAFETY: a pooled segment holds no value in use.
            unsafe { segment::free(seg) };
        }
    }
}

thread_local! {
    static TRACKER: Tracker = Tracker::new();
}

/// Runs `f` with the calling thread's tracker, or `None` while the thread is exiting.
pub(crate) fn with_tracker<R>(f: impl FnOnce(Option<&Tracker>) -> R) -> R {
    let mut f = Some(f);
    TRACKER
        .try_with(|t| (f.take().expect("called once"))(Some(t)))
        .unwrap_or_else(|_| (f.take().expect("not called yet"))(None))
}

/// A segment of at least `size` bytes for a frame of the calling thread.
pub(crate) fn acquire(size: usize) -> NonNull<SegmentHeader> {
    with_tracker(|t| match t {
        Some(t) => t.acquire(size),
        None => segment::allocate(size),
    })
}

/// Gives back the segments of an ending frame of the calling thread.
pub(crate) fn release(chain: Option<NonNull<SegmentHeader>>) {
    with_tracker(|t| match t {
        Some(t) => t.release(chain),
        None => {
            let mut chain = chain;
            while let Some(seg) = chain {
                // SAFETY: the chain's segments are live and belong to the ending frame.
                chain = unsafe { seg.as_ref().prev };
                // SAFETY: the frame has ended, so nothing placed in `seg` is used again.
                unsafe { segment::free(seg) };
            }
        }
    })
}
