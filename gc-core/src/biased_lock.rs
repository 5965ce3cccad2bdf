//! A lock biased to one owner thread: the owner takes and gives it back with plain loads and
//! stores (no atomic read-modify-write, no fence instruction), every other thread pays for it
//! with a process-wide memory barrier.
//!
//! A thread's allocation list is locked by its owner at every allocation and every block it
//! frees at once, and by another thread only when a cycle drains it (or statistics sum it):
//! a swap per lock costs the owner more than the rest of an allocation on machines where
//! locked instructions are slow (binary-trees 18 ran in 2.45 s with the swap and 1.56 s without
//! it on such a machine).
//!
//! The owner and the others meet as in Dekker's algorithm. The owner sets `owner_in`, then
//! reads `revoked`; another thread sets `revoked`, then reads `owner_in`; so one of them sees
//! the other. Each side needs a full barrier between its store and its load; the owner's is
//! only a compiler fence because the other side's, `fence::heavy`, makes every running thread
//! of the process execute a full barrier (Linux `membarrier`, the technique of asymmetric
//! fences). Where that call is missing, every lock is the inner [`SpinLock`] (one swap).
//! Under loom both barriers are `SeqCst` fences, which the model checks.
//!
//! `membarrier` needs the process registered first, and registering a process that already
//! runs several threads took 10-30 ms here (1-2 us for a process of one thread):
//! [`register_in_background`] does it on a thread of its own, and locks made before it is done
//! start unbiased (every lock is `inner`) and are biased by [`BiasedLock::bias`].

use crate::primitive::{AtomicBool, Ordering};
use crate::spin_lock::{Guard as InnerGuard, SpinLock};
pub(crate) use fence::{ready, register_in_background};
use std::cell::UnsafeCell;
use std::ops::{Deref, DerefMut};

/// A lock whose owner takes it without a read-modify-write; see the module docs.
pub(crate) struct BiasedLock<T> {
    /// The owner is inside (or entering) its fast path. Written by the owner only.
    owner_in: AtomicBool,
    /// A thread other than the owner holds (or is taking) the lock. Written under `inner`;
    /// always set while the lock is not biased, so the owner then always takes `inner`.
    revoked: AtomicBool,
    /// Orders the other threads among themselves, and the owner against them once it saw
    /// `revoked`.
    inner: SpinLock<()>,
    /// False until [`fence::heavy`] is available (and for good where it never is): every
    /// lock is then `inner` (`revoked` stays set). Written and read under `inner` (`Relaxed`).
    biased: AtomicBool,
    value: UnsafeCell<T>,
}

// SAFETY: the value is only reached through a guard, and the protocol above admits one guard at
// a time; `T: Send` lets the value move between threads.
unsafe impl<T: Send> Sync for BiasedLock<T> {}

impl<T: Default> Default for BiasedLock<T> {
    /// A lock biased if [`ready`] says so now, else unbiased until [`BiasedLock::bias`].
    fn default() -> BiasedLock<T> {
        let biased = ready();
        BiasedLock {
            owner_in: AtomicBool::new(false),
            revoked: AtomicBool::new(!biased),
            inner: SpinLock::default(),
            biased: AtomicBool::new(biased),
            value: UnsafeCell::new(T::default()),
        }
    }
}

/// Holds a [`BiasedLock`] for its owner; gives it back when dropped.
pub(crate) struct OwnerGuard<'a, T> {
    lock: &'a BiasedLock<T>,
    /// `inner`, if the owner found the bias revoked (else `owner_in` is set); given back after
    /// `OwnerGuard::drop` ran.
    inner: Option<InnerGuard<'a, ()>>,
}

/// Holds a [`BiasedLock`] for a thread other than its owner (`inner`, with `revoked` set if
/// the lock is biased); gives it back when dropped.
pub(crate) struct Guard<'a, T> {
    lock: &'a BiasedLock<T>,
    /// Given back after `Guard::drop` ran.
    _inner: InnerGuard<'a, ()>,
}

impl<T> BiasedLock<T> {
    /// Takes the lock as its owner.
    ///
    /// # Safety
    /// Only one thread ever calls this on a given lock (its owner), and not while it holds
    /// the lock already.
    #[inline]
    pub(crate) unsafe fn lock_as_owner(&self) -> OwnerGuard<'_, T> {
        // Relaxed store, then the light half of the barrier pair: `fence::heavy` on the other
        // side orders this store before our load of `revoked` for the other thread.
        self.owner_in.store(true, Ordering::Relaxed);
        fence::light();
        // Acquire: pairs with the Release store that gives `revoked` back in `Guard::drop`,
        // so another thread's writes under the lock are seen.
        if !self.revoked.load(Ordering::Acquire) {
            return OwnerGuard {
                lock: self,
                inner: None,
            };
        }
        // Release: pairs with the other thread's Acquire load of `owner_in`.
        self.owner_in.store(false, Ordering::Release);
        OwnerGuard {
            lock: self,
            inner: Some(self.inner.lock()),
        }
    }

    /// Biases a lock made before [`ready`] said true (the owner's next lock takes the fast
    /// path). Call only once `ready()` is true.
    pub(crate) fn bias(&self) {
        let _inner = self.inner.lock();
        // Relaxed: read under `inner` only.
        self.biased.store(true, Ordering::Relaxed);
        // Release: pairs with the owner's Acquire load, as when another thread gives the lock
        // back.
        self.revoked.store(false, Ordering::Release);
    }

    /// Takes the lock from a thread other than its owner (or after the owner has exited).
    pub(crate) fn lock(&self) -> Guard<'_, T> {
        let guard = self.revoke();
        if guard.biased() {
            fence::heavy();
            guard.wait_for_owner();
        }
        guard
    }

    /// The first half of [`lock`](Self::lock): takes `inner` and, if the lock is biased, sets
    /// `revoked`. The value must not be touched before a [`fence::heavy`] and
    /// [`Guard::wait_for_owner`].
    fn revoke(&self) -> Guard<'_, T> {
        let inner = self.inner.lock();
        // Relaxed: written under `inner`, which we hold.
        if self.biased.load(Ordering::Relaxed) {
            // Relaxed store, then the heavy half of the barrier pair (see `lock_as_owner`).
            self.revoked.store(true, Ordering::Relaxed);
        }
        Guard {
            lock: self,
            _inner: inner,
        }
    }
}

/// Takes each of `locks` in turn from a thread other than their owners and runs `f` on its
/// value under it, with one [`fence::heavy`] for all of them instead of one each: every lock
/// is revoked first, then each is waited for, used and given back in order (an owner whose
/// lock is revoked and not yet given back waits for it on its slow path; so an owner preempted
/// inside its few-instruction fast path delays the owners of the locks after its own, where a
/// lock taken alone would delay only it).
pub(crate) fn for_each_locked<'a, T: 'a>(
    locks: impl IntoIterator<Item = &'a BiasedLock<T>>,
    mut f: impl FnMut(&mut T),
) {
    let guards: Vec<Guard<'a, T>> = locks.into_iter().map(BiasedLock::revoke).collect();
    if guards.iter().any(Guard::biased) {
        fence::heavy();
    }
    for mut guard in guards {
        if guard.biased() {
            guard.wait_for_owner();
        }
        f(&mut guard);
    }
}

impl<T> Guard<'_, T> {
    /// The lock is biased (read under `inner`, which the guard holds: `Relaxed`).
    fn biased(&self) -> bool {
        self.lock.biased.load(Ordering::Relaxed)
    }

    /// Waits until the owner is out of its fast path, after a [`fence::heavy`] that came after
    /// `revoked` was set. Acquire: pairs with the owner's Release stores of `false`, so the
    /// writes of its last hold are seen. The owner holds it for a few instructions at a time;
    /// once it sees `revoked` it waits on `inner`.
    fn wait_for_owner(&self) {
        while self.lock.owner_in.load(Ordering::Acquire) {
            crate::primitive::yield_now();
        }
    }
}

/// Both guards reach the value the same way.
macro_rules! deref_to_value {
    ($guard:ident) => {
        impl<T> Deref for $guard<'_, T> {
            type Target = T;
            fn deref(&self) -> &T {
                // SAFETY: the guard holds the lock, so no other reference to the value exists.
                unsafe { &*self.lock.value.get() }
            }
        }

        impl<T> DerefMut for $guard<'_, T> {
            fn deref_mut(&mut self) -> &mut T {
                // SAFETY: as in `deref`, and `&mut self` makes this the only one.
                unsafe { &mut *self.lock.value.get() }
            }
        }
    };
}
deref_to_value!(OwnerGuard);
deref_to_value!(Guard);

impl<T> Drop for OwnerGuard<'_, T> {
    #[inline]
    fn drop(&mut self) {
        if self.inner.is_none() {
            // Release: pairs with the Acquire load of `owner_in` in `lock`.
            self.lock.owner_in.store(false, Ordering::Release);
        }
        // The inner guard, if any, is dropped after this, unlocking `inner`.
    }
}

impl<T> Drop for Guard<'_, T> {
    #[inline]
    fn drop(&mut self) {
        // Relaxed: as in `lock` (`inner` is still held).
        if self.lock.biased.load(Ordering::Relaxed) {
            // Release: pairs with the owner's Acquire load of `revoked`. Given back before
            // `inner` is, so the next other thread's `true` is not overwritten.
            self.lock.revoked.store(false, Ordering::Release);
        }
        // The inner guard is dropped after this, unlocking `inner`.
    }
}

/// The two halves of an asymmetric barrier pair.
#[cfg(not(loom))]
mod fence {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Once;

    /// `membarrier` commands (linux/membarrier.h).
    #[cfg(target_os = "linux")]
    const PRIVATE_EXPEDITED: libc::c_long = 1 << 3;
    #[cfg(target_os = "linux")]
    const REGISTER_PRIVATE_EXPEDITED: libc::c_long = 1 << 4;

    /// The process is registered: [`heavy`] works. Release/Acquire: a lock made or biased
    /// after a thread read true is used by threads that see the registration done.
    static READY: AtomicBool = AtomicBool::new(false);

    /// True once [`heavy`] works in this process (never where `membarrier` is missing).
    pub(crate) fn ready() -> bool {
        READY.load(Ordering::Acquire)
    }

    /// Registers the process for [`heavy`] on a thread of its own, once; then, if that
    /// worked, sets [`ready`] and calls `then` (which biases the locks made before).
    pub(crate) fn register_in_background(then: fn()) {
        static START: Once = Once::new();
        START.call_once(|| {
            let spawned = std::thread::Builder::new()
                .name("gc-membarrier".into())
                .spawn(move || {
                    if register() {
                        READY.store(true, Ordering::Release);
                        then();
                    }
                });
            // Without the thread the locks stay unbiased, which is only slower.
            drop(spawned);
        });
    }

    #[cfg(target_os = "linux")]
    fn register() -> bool {
        // SAFETY: `membarrier` takes plain integers and touches no memory of ours.
        unsafe { libc::syscall(libc::SYS_membarrier, REGISTER_PRIVATE_EXPEDITED, 0, 0) == 0 }
    }

    #[cfg(not(target_os = "linux"))]
    fn register() -> bool {
        false
    }

    /// The owner's half: keeps the compiler from moving its store past its load; the
    /// processor's reordering is undone by [`heavy`].
    #[inline(always)]
    pub(super) fn light() {
        std::sync::atomic::compiler_fence(std::sync::atomic::Ordering::SeqCst);
    }

    /// The other side's half: every thread of the process running now executes a full
    /// barrier before this returns (one not running passes through the kernel, which is one).
    /// Only called once [`ready`] said true.
    #[cfg(target_os = "linux")]
    pub(super) fn heavy() {
        // SAFETY: as in `register`.
        let expedited = || unsafe { libc::syscall(libc::SYS_membarrier, PRIVATE_EXPEDITED, 0, 0) };
        // A child made by `fork` may have lost the registration: register again, once.
        if expedited() != 0 && !(register() && expedited() == 0) {
            // No owner's fast path could be trusted any more.
            eprintln!("gc: membarrier failed after it was registered; aborting");
            std::process::abort();
        }
        std::sync::atomic::fence(std::sync::atomic::Ordering::SeqCst);
    }

    /// Without `membarrier` no lock is biased and this is not called; a full barrier on this
    /// thread is all it could do.
    #[cfg(not(target_os = "linux"))]
    pub(super) fn heavy() {
        std::sync::atomic::fence(std::sync::atomic::Ordering::SeqCst);
    }
}

/// Under loom: both halves are `SeqCst` fences, which the model checks.
#[cfg(loom)]
mod fence {
    use crate::primitive::Ordering;

    /// Always: the model checks the biased protocol.
    pub(crate) fn ready() -> bool {
        true
    }

    /// Nothing to register under loom.
    pub(crate) fn register_in_background(_then: fn()) {}

    pub(super) fn light() {
        loom::sync::atomic::fence(Ordering::SeqCst);
    }

    pub(super) fn heavy() {
        loom::sync::atomic::fence(Ordering::SeqCst);
    }
}

#[cfg(all(test, not(loom)))]
mod thread_tests {
    use super::BiasedLock;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;

    /// Reads the counter, waits a little, writes it plus one: a hold that overlapped another
    /// would lose an addition.
    fn add(counter: &mut u64) {
        let v = *counter;
        for _ in 0..20 {
            std::hint::spin_loop();
        }
        *counter = std::hint::black_box(v) + 1;
    }

    /// Registers the process for `membarrier` (which every Linux this library runs on has)
    /// and waits until it is done.
    #[cfg(target_os = "linux")]
    fn wait_ready() {
        super::register_in_background(|| {});
        let start = std::time::Instant::now();
        while !super::ready() {
            assert!(
                start.elapsed().as_secs() < 10,
                "membarrier did not register"
            );
            std::thread::yield_now();
        }
    }

    /// The owner adds to a plain counter under the lock until another thread has taken it
    /// 2,000 times (now and then, so that it mostly finds the owner on its fast path) and
    /// added too.
    fn no_addition_is_lost(lock: BiasedLock<u64>) {
        let lock = Arc::new(lock);
        let done = Arc::new(AtomicBool::new(false));
        let other = {
            let (lock, done) = (Arc::clone(&lock), Arc::clone(&done));
            std::thread::spawn(move || {
                for _ in 0..2_000 {
                    add(&mut lock.lock());
                    for _ in 0..500 {
                        std::hint::spin_loop();
                    }
                }
                done.store(true, Ordering::Release);
            })
        };
        let mut own = 0;
        while !done.load(Ordering::Acquire) {
            // SAFETY: this thread is the lock's only owner, and holds it once at a time.
            add(&mut *unsafe { lock.lock_as_owner() });
            own += 1;
        }
        other.join().unwrap();
        assert_eq!(*lock.lock(), own + 2_000);
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn biased_where_membarrier_works() {
        wait_ready();
        no_addition_is_lost(BiasedLock::default());
    }

    #[test]
    fn a_spin_lock_where_it_does_not() {
        no_addition_is_lost(BiasedLock {
            biased: crate::primitive::AtomicBool::new(false),
            revoked: crate::primitive::AtomicBool::new(true),
            ..BiasedLock::default()
        });
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn biased_after_it_was_made() {
        let lock = BiasedLock::<u64> {
            biased: crate::primitive::AtomicBool::new(false),
            revoked: crate::primitive::AtomicBool::new(true),
            ..BiasedLock::default()
        };
        wait_ready();
        lock.bias();
        no_addition_is_lost(lock);
    }
}

#[cfg(all(test, loom))]
mod tests {
    use super::BiasedLock;
    use loom::cell::UnsafeCell;
    use loom::sync::Arc;

    /// Adds one to the value under the guard; loom reports a data race if two holds of the
    /// lock are not ordered one before the other.
    fn bump(value: &UnsafeCell<u32>) {
        // SAFETY: the caller holds the lock (the test is that this is enough).
        value.with_mut(|v| unsafe { *v += 1 });
    }

    #[test]
    fn the_owner_and_another_thread_exclude_each_other() {
        loom::model(|| {
            let lock = Arc::new(BiasedLock::<UnsafeCell<u32>>::default());
            let other = {
                let lock = Arc::clone(&lock);
                loom::thread::spawn(move || bump(&lock.lock()))
            };
            for _ in 0..2 {
                // SAFETY: this thread is the lock's only owner, and holds it once at a time.
                bump(&*unsafe { lock.lock_as_owner() });
            }
            other.join().unwrap();
            // SAFETY: no other thread is left.
            let total = lock.lock().with(|v| unsafe { *v });
            assert_eq!(total, 3);
        });
    }

    #[test]
    fn one_barrier_for_two_locks_against_both_owners() {
        loom::model(|| {
            let locks: Arc<[BiasedLock<UnsafeCell<u32>>; 2]> = Arc::new(Default::default());
            let owner = {
                let locks = Arc::clone(&locks);
                // SAFETY: this thread is the second lock's only owner, holding it once.
                loom::thread::spawn(move || bump(&*unsafe { locks[1].lock_as_owner() }))
            };
            let other = {
                let locks = Arc::clone(&locks);
                loom::thread::spawn(move || super::for_each_locked(locks.iter(), |v| bump(v)))
            };
            // SAFETY: this thread is the first lock's only owner, holding it once.
            bump(&*unsafe { locks[0].lock_as_owner() });
            owner.join().unwrap();
            other.join().unwrap();
            for lock in locks.iter() {
                // SAFETY: no other thread is left.
                assert_eq!(lock.lock().with(|v| unsafe { *v }), 2);
            }
        });
    }

    #[test]
    fn two_other_threads_and_the_owner_exclude_each_other() {
        loom::model(|| {
            let lock = Arc::new(BiasedLock::<UnsafeCell<u32>>::default());
            let others: Vec<_> = (0..2)
                .map(|_| {
                    let lock = Arc::clone(&lock);
                    loom::thread::spawn(move || bump(&lock.lock()))
                })
                .collect();
            // SAFETY: this thread is the lock's only owner, and holds it once at a time.
            bump(&*unsafe { lock.lock_as_owner() });
            for other in others {
                other.join().unwrap();
            }
            // SAFETY: no other thread is left.
            let total = lock.lock().with(|v| unsafe { *v });
            assert_eq!(total, 3);
        });
    }
}
