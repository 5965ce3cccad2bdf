//! A lock for data held for a few instructions at a time (a thread's allocation list, when its
//! owner cannot take its biased lock): one atomic swap to take it and a release store to give
//! it back, where a general mutex does two read-modify-writes. Under loom it is the model's
//! mutex.

#[cfg(loom)]
pub(crate) use crate::primitive::{Mutex as SpinLock, MutexGuard as Guard};

#[cfg(not(loom))]
pub(crate) use imp::{Guard, SpinLock};

#[cfg(not(loom))]
mod imp {
    use std::cell::UnsafeCell;
    use std::ops::{Deref, DerefMut};
    use std::sync::atomic::{AtomicBool, Ordering};

    /// A spin lock: waiters spin briefly, then yield. After many yields the holder is
    /// presumed to be the idle-priority collector, preempted: it is raised back (see
    /// `collector::priority`).
    #[derive(Default)]
    pub(crate) struct SpinLock<T> {
        locked: AtomicBool,
        value: UnsafeCell<T>,
    }

    // SAFETY: the value is only reached through a guard, and one guard exists at a time (the
    // swap in `lock` admits one holder); `T: Send` lets the value move between threads.
    unsafe impl<T: Send> Sync for SpinLock<T> {}

    /// Spins before yielding.
    const SPINS: u32 = 64;
    /// Yields before raising the collector's priority.
    const YIELDS: u32 = 1000;

    impl<T> SpinLock<T> {
        /// Takes the lock.
        #[inline]
        pub(crate) fn lock(&self) -> Guard<'_, T> {
            // Acquire: pairs with the Release store of the previous holder's unlock, so its
            // writes to the value are seen.
            if self.locked.swap(true, Ordering::Acquire) {
                self.lock_slow();
            }
            Guard(self)
        }

        #[cold]
        fn lock_slow(&self) {
            let mut tries = 0u32;
            loop {
                // Relaxed: only a hint of when to try the swap again.
                while self.locked.load(Ordering::Relaxed) {
                    tries += 1;
                    if tries < SPINS {
                        std::hint::spin_loop();
                    } else {
                        if tries == SPINS + YIELDS {
                            crate::collector::boost_until_next_cycle();
                        }
                        std::thread::yield_now();
                    }
                }
                // Acquire: as in `lock`.
                if !self.locked.swap(true, Ordering::Acquire) {
                    return;
                }
            }
        }
    }

    /// Holds a [`SpinLock`]; unlocks when dropped.
    pub(crate) struct Guard<'a, T>(&'a SpinLock<T>);

    impl<T> Deref for Guard<'_, T> {
        type Target = T;
        fn deref(&self) -> &T {
            // SAFETY: the guard holds the lock, so no other reference to the value exists.
            unsafe { &*self.0.value.get() }
        }
    }

    impl<T> DerefMut for Guard<'_, T> {
        fn deref_mut(&mut self) -> &mut T {
            // SAFETY: as in `deref`, and `&mut self` makes this the only one.
            unsafe { &mut *self.0.value.get() }
        }
    }

    impl<T> Drop for Guard<'_, T> {
        #[inline]
        fn drop(&mut self) {
            // Release: pairs with the Acquire swap of the next holder.
            self.0.locked.store(false, Ordering::Release);
        }
    }
}
