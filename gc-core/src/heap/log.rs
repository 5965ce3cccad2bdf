//! A thread's allocation log: the blocks one thread allocated, appended by that thread with no
//! lock and no read-modify-write, and read by the collector while the thread goes on.
//!
//! The log is a sequence of chunks. The owner writes an entry into its current chunk and then
//! publishes it by storing the chunk's new length (`Release`); the collector reads the length
//! (`Acquire`) and copies the entries it has not taken yet, remembering in the chunk how many
//! it took. A full chunk moves to the log's `full` list (a lock taken once per chunk) and the
//! owner starts a new one. Only the collector frees chunks, and only after it has taken every
//! entry of a full chunk, so it never reads a freed chunk and never takes an entry twice.

use super::list::ObjList;
use super::ObjPtr;
use crate::heap::header::Header;
use crate::primitive::{AtomicPtr, AtomicUsize, Mutex, Ordering};
use std::ptr::NonNull;

/// Entries per chunk (small under loom, whose atomics are large).
#[cfg(not(loom))]
const CHUNK: usize = 1024;
#[cfg(loom)]
const CHUNK: usize = 4;

/// One chunk of a log.
struct LogChunk {
    /// Entries written. Written by the owner only (`Release`, pairs with the collector's
    /// `Acquire` load: the entries below it, and the headers they point to, are visible).
    len: AtomicUsize,
    /// Entries the collector has taken. Collector only (`Relaxed`: one thread reads and
    /// writes it).
    taken: AtomicUsize,
    /// The entries; `Relaxed` stores ordered by the `len` store after them.
    slots: Box<[AtomicPtr<Header>]>,
}

impl LogChunk {
    fn new() -> Box<LogChunk> {
        Box::new(LogChunk {
            len: AtomicUsize::new(0),
            taken: AtomicUsize::new(0),
            slots: (0..CHUNK)
                .map(|_| AtomicPtr::new(std::ptr::null_mut()))
                .collect(),
        })
    }

    /// Copies the entries not taken yet into `into`. Collector only.
    fn take_into(&self, into: &mut ObjList) {
        // Acquire: pairs with the owner's Release store of `len`.
        let len = self.len.load(Ordering::Acquire);
        let taken = self.taken.load(Ordering::Relaxed);
        for slot in &self.slots[taken..len] {
            let p = slot.load(Ordering::Relaxed);
            // Entries below `len` were written before `len` was published and are never null.
            if let Some(p) = NonNull::new(p) {
                into.push(ObjPtr(p));
            }
        }
        self.taken.store(len, Ordering::Relaxed);
    }
}

/// The blocks one thread allocated that the collector has not taken yet.
pub(crate) struct ThreadLog {
    /// The chunk the owner appends to. Replaced by the owner only (`Release`, pairs with the
    /// collector's `Acquire` load); owned by the log.
    current: AtomicPtr<LogChunk>,
    /// Full chunks in order, owned by the log until the collector takes them.
    #[expect(
        clippy::vec_box,
        reason = "a chunk must not move: the collector may be reading the one that just filled"
    )]
    full: Mutex<Vec<Box<LogChunk>>>,
}

// SAFETY: the raw `current` chunk is owned by the log (freed in `Drop`) and shared through the
// protocol above: the owner writes only entries at or past `len`, the collector reads only
// entries below it.
unsafe impl Send for ThreadLog {}
// SAFETY: as above; every field shared between threads is an atomic or behind a lock.
unsafe impl Sync for ThreadLog {}

impl Default for ThreadLog {
    fn default() -> ThreadLog {
        ThreadLog {
            current: AtomicPtr::new(Box::into_raw(LogChunk::new())),
            full: Mutex::new(Vec::new()),
        }
    }
}

impl Drop for ThreadLog {
    fn drop(&mut self) {
        let current = self.current.load(Ordering::Relaxed);
        // SAFETY: `current` came from `Box::into_raw` and is owned by the log, which no
        // thread can reach any more (`&mut self`).
        drop(unsafe { Box::from_raw(current) });
    }
}

impl ThreadLog {
    /// Appends `obj`.
    ///
    /// # Safety
    /// Only one thread, the log's owner, may ever call this (entries are written without
    /// synchronisation with other writers).
    pub(crate) unsafe fn push(&self, obj: ObjPtr) {
        // Relaxed: only the owner stores `current`.
        let chunk_ptr = self.current.load(Ordering::Relaxed);
        // SAFETY: `current` is live while the log is (only `Drop` frees it, and a full chunk
        // leaves `current` before the collector may free it).
        let chunk = unsafe { &*chunk_ptr };
        // Relaxed: only the owner stores `len`.
        let len = chunk.len.load(Ordering::Relaxed);
        chunk.slots[len].store(obj.0.as_ptr(), Ordering::Relaxed);
        // Release: pairs with the collector's Acquire load in `take_into`; publishes the entry
        // and the block's header, written before this call.
        chunk.len.store(len + 1, Ordering::Release);
        if len + 1 == CHUNK {
            // Release: pairs with the collector's Acquire load of `current` in `drain_into`.
            self.current
                .store(Box::into_raw(LogChunk::new()), Ordering::Release);
            // SAFETY: `chunk_ptr` came from `Box::into_raw`; it has just left `current`, so
            // the `full` list is now its only owner.
            self.full.lock().push(unsafe { Box::from_raw(chunk_ptr) });
        }
    }

    /// Copies every entry not taken yet into `into`, in order. Collector only (one thread at
    /// a time).
    pub(crate) fn drain_into(&self, into: &mut ObjList) {
        // Take the full chunks first: the current chunk is then at most as old as the last
        // of them, so no entry is skipped (a chunk that fills after this is taken next time).
        let full = std::mem::take(&mut *self.full.lock());
        for chunk in &full {
            chunk.take_into(into);
        }
        // Acquire: pairs with the owner's Release store of `current`.
        let current = self.current.load(Ordering::Acquire);
        // SAFETY: the chunk is live: the owner never frees chunks, and only this thread frees
        // full ones (above, after they left `current`).
        unsafe { &*current }.take_into(into);
    }
}
