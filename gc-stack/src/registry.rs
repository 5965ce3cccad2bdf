//! The thread registry: one record per live thread that has touched the heap.

use dashmap::DashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::thread::{self, ThreadId};

/// What the registry knows about one thread.
///
/// ```
/// let rec = gc_stack::register_current_thread();
/// assert_eq!(rec.stack_bytes(), 0);
/// ```
#[derive(Debug)]
pub struct ThreadRecord {
    id: ThreadId,
    /// Bytes the thread's frames hold. Written by the owning thread only, read by the collector;
    /// a statistic, so `Relaxed` on both sides (no other memory is published through it).
    stack_bytes: AtomicUsize,
}

impl ThreadRecord {
    /// The thread this record describes.
    ///
    /// ```
    /// let rec = gc_stack::register_current_thread();
    /// assert_eq!(rec.thread_id(), std::thread::current().id());
    /// ```
    pub fn thread_id(&self) -> ThreadId {
        self.id
    }

    /// Bytes currently held in this thread's frames.
    ///
    /// ```
    /// assert_eq!(gc_stack::register_current_thread().stack_bytes(), 0);
    /// ```
    pub fn stack_bytes(&self) -> usize {
        self.stack_bytes.load(Ordering::Relaxed)
    }

    /// Records the bytes the thread's frames now hold (called by its tracker only).
    pub(crate) fn set_stack_bytes(&self, bytes: usize) {
        self.stack_bytes.store(bytes, Ordering::Relaxed);
    }
}

fn registry() -> &'static DashMap<ThreadId, Arc<ThreadRecord>> {
    static REGISTRY: OnceLock<DashMap<ThreadId, Arc<ThreadRecord>>> = OnceLock::new();
    REGISTRY.get_or_init(DashMap::new)
}

/// Removes the thread's record when its thread-locals are destroyed, i.e. when it exits.
struct Registration(Arc<ThreadRecord>);

impl Drop for Registration {
    fn drop(&mut self) {
        registry().remove(&self.0.id);
    }
}

thread_local! {
    static REGISTRATION: Registration = {
        let id = thread::current().id();
        let rec = Arc::new(ThreadRecord { id, stack_bytes: AtomicUsize::new(0) });
        registry().insert(id, Arc::clone(&rec));
        Registration(rec)
    };
}

/// Registers the calling thread (idempotent) and returns its record.
///
/// Called by the heap on a thread's first allocation. During thread exit, after the
/// registration has been torn down, it returns a detached record that is not listed.
///
/// ```
/// let a = gc_stack::register_current_thread();
/// let b = gc_stack::register_current_thread();
/// assert!(std::sync::Arc::ptr_eq(&a, &b));
/// ```
pub fn register_current_thread() -> Arc<ThreadRecord> {
    REGISTRATION
        .try_with(|r| Arc::clone(&r.0))
        .unwrap_or_else(|_| {
            Arc::new(ThreadRecord {
                id: thread::current().id(),
                stack_bytes: AtomicUsize::new(0),
            })
        })
}

/// Number of live threads registered with the heap.
///
/// ```
/// gc_stack::register_current_thread();
/// let before = gc_stack::thread_count();
/// std::thread::spawn(|| { gc_stack::register_current_thread(); }).join().unwrap();
/// assert!(gc_stack::thread_count() <= before + 1);
/// ```
pub fn thread_count() -> usize {
    registry().len()
}

/// Bytes held by the frames of every registered thread.
///
/// ```
/// assert_eq!(gc_stack::total_stack_bytes(), 0);
/// ```
pub fn total_stack_bytes() -> usize {
    registry().iter().map(|r| r.stack_bytes()).sum()
}
