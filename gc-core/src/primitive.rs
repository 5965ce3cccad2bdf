//! The one place the collector's synchronisation comes from, so the protocol can be
//! model-checked: under `--cfg loom` these are loom's instrumented atomics, locks and
//! thread-locals (and statics are re-created for every explored execution); otherwise std's
//! atomics and parking_lot's locks.

#[cfg(not(loom))]
pub(crate) use parking_lot::{Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};
#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{
    AtomicBool, AtomicI64, AtomicU32, AtomicU64, AtomicUsize, Ordering,
};

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{
    AtomicBool, AtomicI64, AtomicU32, AtomicU64, AtomicUsize, Ordering,
};
#[cfg(loom)]
pub(crate) use loom::sync::Arc;
/// `Arc`: loom's under loom, so that its counts take part in the model.
#[cfg(not(loom))]
pub(crate) use std::sync::Arc;

#[cfg(loom)]
pub(crate) use loom_sync::{Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};

/// Declares a `static`; under loom, a lazily initialised one that each explored execution
/// starts afresh.
macro_rules! global {
    ($(#[$attr:meta])* static $name:ident: $ty:ty = $init:expr;) => {
        #[cfg(not(loom))]
        $(#[$attr])* static $name: $ty = $init;
        #[cfg(loom)]
        loom::lazy_static! { $(#[$attr])* static ref $name: $ty = $init; }
    };
}
pub(crate) use global;

/// Declares thread-locals: std's, or loom's (loom's threads share one OS thread).
macro_rules! local {
    ($(#[$attr:meta])* static $name:ident: $ty:ty = $init:expr;) => {
        #[cfg(not(loom))]
        std::thread_local! { $(#[$attr])* static $name: $ty = $init; }
        #[cfg(loom)]
        loom::thread_local! { $(#[$attr])* static $name: $ty = $init; }
    };
}
pub(crate) use local;

/// Loom treats `SeqCst` loads, stores and read-modify-writes as `AcqRel`, which is weaker than
/// the single total order the protocol relies on (a mutator's count update and phase read
/// against the collector's phase write and count read). Under loom this is a `SeqCst` fence,
/// which loom does model, placed beside those accesses so that the model checks the program
/// the real build runs; in the real build it is nothing (the accesses themselves are `SeqCst`).
#[inline(always)]
pub(crate) fn sc_fence() {
    #[cfg(loom)]
    loom::sync::atomic::fence(Ordering::SeqCst);
}

/// Gives other threads a chance to run (inside a spin loop).
pub(crate) fn yield_now() {
    #[cfg(not(loom))]
    std::thread::yield_now();
    #[cfg(loom)]
    loom::thread::yield_now();
}

#[cfg(not(loom))]
pub(crate) use parking_lot_cell::CellLock;

#[cfg(loom)]
pub(crate) use loom_cell::CellLock;

/// The reader-writer lock inside every `GcCell`: parking_lot's raw lock.
#[cfg(not(loom))]
mod parking_lot_cell {
    use parking_lot::lock_api::{RawRwLock as _, RawRwLockRecursive as _};

    /// A raw reader-writer lock (see the loom version for the same operations).
    pub(crate) struct CellLock(parking_lot::RawRwLock);

    impl CellLock {
        /// An unlocked lock.
        pub(crate) const fn new() -> CellLock {
            CellLock(parking_lot::RawRwLock::INIT)
        }

        /// Takes a shared lock unless a writer holds it; may overtake a waiting writer (so a
        /// thread holding a shared lock can always take another).
        pub(crate) fn try_lock_shared(&self) -> bool {
            self.0.try_lock_shared_recursive()
        }

        /// Takes a shared lock, waiting for a writer.
        pub(crate) fn lock_shared(&self) {
            self.0.lock_shared_recursive()
        }

        /// Takes the exclusive lock if no one holds the lock.
        pub(crate) fn try_lock_exclusive(&self) -> bool {
            self.0.try_lock_exclusive()
        }

        /// Takes the exclusive lock, waiting for every holder.
        pub(crate) fn lock_exclusive(&self) {
            self.0.lock_exclusive()
        }

        /// Releases a shared lock.
        ///
        /// # Safety
        /// The caller holds a shared lock it took with this `CellLock`.
        pub(crate) unsafe fn unlock_shared(&self) {
            // SAFETY: forwarded from the caller.
            unsafe { self.0.unlock_shared() }
        }

        /// Releases the exclusive lock.
        ///
        /// # Safety
        /// The caller holds the exclusive lock it took with this `CellLock`.
        pub(crate) unsafe fn unlock_exclusive(&self) {
            // SAFETY: forwarded from the caller.
            unsafe { self.0.unlock_exclusive() }
        }
    }
}

/// The same lock under loom: a spin lock on one atomic word with the same operations and
/// orderings (acquire on lock, release on unlock).
#[cfg(loom)]
mod loom_cell {
    use super::yield_now;
    use loom::sync::atomic::{AtomicUsize, Ordering};

    const WRITER: usize = 1 << (usize::BITS - 1);

    /// A raw reader-writer lock.
    pub(crate) struct CellLock(AtomicUsize);

    impl CellLock {
        pub(crate) fn new() -> CellLock {
            CellLock(AtomicUsize::new(0))
        }

        pub(crate) fn try_lock_shared(&self) -> bool {
            let s = self.0.load(Ordering::Relaxed);
            s & WRITER == 0
                && self
                    .0
                    .compare_exchange(s, s + 1, Ordering::Acquire, Ordering::Relaxed)
                    .is_ok()
        }

        pub(crate) fn lock_shared(&self) {
            while !self.try_lock_shared() {
                yield_now();
            }
        }

        pub(crate) fn try_lock_exclusive(&self) -> bool {
            self.0
                .compare_exchange(0, WRITER, Ordering::Acquire, Ordering::Relaxed)
                .is_ok()
        }

        pub(crate) fn lock_exclusive(&self) {
            while !self.try_lock_exclusive() {
                yield_now();
            }
        }

        /// # Safety
        /// The caller holds a shared lock.
        pub(crate) unsafe fn unlock_shared(&self) {
            self.0.fetch_sub(1, Ordering::Release);
        }

        /// # Safety
        /// The caller holds the exclusive lock.
        pub(crate) unsafe fn unlock_exclusive(&self) {
            self.0.store(0, Ordering::Release);
        }
    }
}

/// parking_lot-shaped wrappers over loom's locks (`lock()` returns the guard).
#[cfg(loom)]
mod loom_sync {
    pub(crate) use loom::sync::{MutexGuard, RwLockReadGuard, RwLockWriteGuard};

    /// A mutex with parking_lot's API.
    #[derive(Debug, Default)]
    pub(crate) struct Mutex<T>(loom::sync::Mutex<T>);

    impl<T> Mutex<T> {
        pub(crate) fn new(value: T) -> Mutex<T> {
            Mutex(loom::sync::Mutex::new(value))
        }
        pub(crate) fn lock(&self) -> MutexGuard<'_, T> {
            self.0.lock().unwrap_or_else(|e| e.into_inner())
        }
    }

    /// A reader-writer lock with parking_lot's API.
    #[derive(Debug, Default)]
    pub(crate) struct RwLock<T>(loom::sync::RwLock<T>);

    impl<T> RwLock<T> {
        pub(crate) fn new(value: T) -> RwLock<T> {
            RwLock(loom::sync::RwLock::new(value))
        }
        pub(crate) fn read(&self) -> RwLockReadGuard<'_, T> {
            self.0.read().unwrap_or_else(|e| e.into_inner())
        }
        pub(crate) fn try_read(&self) -> Option<RwLockReadGuard<'_, T>> {
            match self.0.try_read() {
                Ok(guard) => Some(guard),
                Err(std::sync::TryLockError::Poisoned(e)) => Some(e.into_inner()),
                Err(std::sync::TryLockError::WouldBlock) => None,
            }
        }
        pub(crate) fn write(&self) -> RwLockWriteGuard<'_, T> {
            self.0.write().unwrap_or_else(|e| e.into_inner())
        }
    }
}
