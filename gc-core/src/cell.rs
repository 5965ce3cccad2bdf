//! `GcCell<T>`: thread-safe interior mutability with the collector's write barrier.

use crate::barrier;
use crate::park;
use crate::primitive::{self, local, AtomicU64, CellLock, Ordering};
use crate::trace::{Trace, Tracer};
use std::cell::{RefCell, UnsafeCell};
use std::fmt;
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};

/// A mutable slot inside a heap object, like a `RwLock` that knows about the collector.
///
/// Every handle that moves into or out of a `Gc` object moves through a `GcCell`. Borrowing is
/// `RefCell`-shaped: [`borrow`](GcCell::borrow) for shared access, [`borrow_mut`](GcCell::borrow_mut)
/// for exclusive access. Across threads a conflicting borrow waits, as with a `RwLock`; on the
/// same thread it panics, as a `RefCell` does, instead of deadlocking.
///
/// `borrow_mut` costs O(1) whatever the cell holds while no cycle is marking; while one is, the
/// barrier shades the handles the cell holds (the snapshot-at-the-beginning deletion barrier).
///
/// ```
/// use gc_core::{Gc, GcCell};
///
/// let list = Gc::new(GcCell::new(Vec::new()));
/// list.borrow_mut().push(Gc::new(1));
/// list.borrow_mut().push(Gc::new(2));
/// assert_eq!(list.borrow().iter().map(|g| **g).sum::<i32>(), 3);
/// ```
pub struct GcCell<T: ?Sized> {
    lock: CellLock,
    /// Token of the thread holding the exclusive borrow, or 0. Written by that thread while it
    /// holds the lock (set after taking it, reset before releasing it). The marker reads it
    /// around the park handshake (see `park::read_if_parked`) and must not see a token its
    /// holder reset before parking: `Release` stores and `Acquire` loads suffice, because the
    /// holder's `SeqCst` store of `parked` (a release) comes after its reset, and the marker's
    /// `SeqCst` load of `parked` (an acquire) that sees it comes before its second load here,
    /// so that load sees the reset or a later token. (A `SeqCst` store is a locked exchange
    /// on x86, two per `borrow_mut`; loom models these orderings as `AcqRel` anyway.)
    writer: AtomicU64,
    /// The marking phase (see `collector::state::roots_found`) in which an exclusive borrow
    /// last shaded the cell's contents after the phase's roots were found, or 0. Read and
    /// written only under the exclusive lock: `Relaxed`.
    shaded_in: AtomicU64,
    value: UnsafeCell<T>,
}

// SAFETY: like `RwLock<T>`: the cell owns a `T` and hands it to one thread at a time mutably.
unsafe impl<T: ?Sized + Send> Send for GcCell<T> {}
// SAFETY: like `RwLock<T>`: shared borrows on several threads need `T: Sync`, exclusive borrows
// move access between threads, so `T: Send`.
unsafe impl<T: ?Sized + Send + Sync> Sync for GcCell<T> {}

/// The error of [`GcCell::try_borrow`]: the cell is mutably borrowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BorrowError;

/// The error of [`GcCell::try_borrow_mut`]: the cell is borrowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BorrowMutError;

impl fmt::Display for BorrowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("GcCell is mutably borrowed")
    }
}
impl fmt::Display for BorrowMutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("GcCell is borrowed")
    }
}
impl std::error::Error for BorrowError {}
impl std::error::Error for BorrowMutError {}

local! {
    /// Cells this thread holds shared borrows of (addresses, with repeats), so that a
    /// `borrow_mut` that would wait for this very thread panics instead.
    static READS: RefCell<Vec<usize>> = RefCell::new(Vec::new());
}

/// This thread's token. During thread teardown it is 0, which never matches a holder, so
/// such a thread waits instead of panicking.
fn token() -> u64 {
    park::token()
}

impl<T> GcCell<T> {
    /// Wraps `value`.
    ///
    /// ```
    /// let c = gc_core::GcCell::new(5);
    /// assert_eq!(*c.borrow(), 5);
    /// ```
    #[cfg(not(loom))]
    pub const fn new(value: T) -> GcCell<T> {
        GcCell {
            lock: CellLock::new(),
            writer: AtomicU64::new(0),
            shaded_in: AtomicU64::new(0),
            value: UnsafeCell::new(value),
        }
    }

    /// Wraps `value` (loom builds: not `const`).
    #[cfg(loom)]
    pub fn new(value: T) -> GcCell<T> {
        GcCell {
            lock: CellLock::new(),
            writer: AtomicU64::new(0),
            shaded_in: AtomicU64::new(0),
            value: UnsafeCell::new(value),
        }
    }

    /// Unwraps the value.
    ///
    /// ```
    /// assert_eq!(gc_core::GcCell::new(3).into_inner(), 3);
    /// ```
    pub fn into_inner(self) -> T {
        self.value.into_inner()
    }
}

impl<T: Trace> GcCell<T> {
    /// Replaces the value, returning the old one.
    ///
    /// ```
    /// let c = gc_core::GcCell::new(1);
    /// assert_eq!(c.replace(2), 1);
    /// assert_eq!(*c.borrow(), 2);
    /// ```
    pub fn replace(&self, value: T) -> T {
        std::mem::replace(&mut *self.borrow_mut(), value)
    }
}

impl<T: ?Sized> GcCell<T> {
    /// Mutable access without locking, through exclusive ownership of the cell.
    ///
    /// ```
    /// let mut c = gc_core::GcCell::new(1);
    /// *c.get_mut() += 1;
    /// assert_eq!(*c.borrow(), 2);
    /// ```
    pub fn get_mut(&mut self) -> &mut T {
        self.value.get_mut()
    }

    /// Borrows the value immutably, waiting while another thread holds it mutably.
    ///
    /// # Panics
    /// If this thread holds a mutable borrow of the cell.
    ///
    /// ```
    /// let c = gc_core::GcCell::new(vec![1, 2]);
    /// let (a, b) = (c.borrow(), c.borrow());
    /// assert_eq!(a.len() + b.len(), 4);
    /// ```
    #[track_caller]
    pub fn borrow(&self) -> GcRef<'_, T> {
        if let Ok(r) = self.try_borrow() {
            return r;
        }
        // Acquire: see `writer` (this thread's own token, if it holds the borrow).
        if self.writer.load(Ordering::Acquire) == token() {
            panic!(
                "GcCell already mutably borrowed on this thread: drop the GcRefMut before calling \
                 borrow() (waiting would deadlock)"
            );
        }
        let parked = park::park();
        self.lock.lock_shared();
        drop(parked);
        self.shared_acquired()
    }

    /// Borrows the value immutably if no one holds it mutably right now; never waits.
    ///
    /// ```
    /// let c = gc_core::GcCell::new(1);
    /// let m = c.borrow_mut();
    /// assert!(c.try_borrow().is_err());
    /// drop(m);
    /// assert!(c.try_borrow().is_ok());
    /// ```
    pub fn try_borrow(&self) -> Result<GcRef<'_, T>, BorrowError> {
        if self.lock.try_lock_shared() {
            Ok(self.shared_acquired())
        } else {
            Err(BorrowError)
        }
    }

    fn shared_acquired(&self) -> GcRef<'_, T> {
        let addr = self as *const Self as *const () as usize;
        let _ = READS.try_with(|r| r.borrow_mut().push(addr));
        GcRef {
            cell: self,
            _not_send: PhantomData,
        }
    }

    /// Borrows the value mutably, waiting while other threads hold it.
    ///
    /// While a collection cycle is marking, this shades the handles the cell holds before
    /// handing it out (the write barrier), so moving them elsewhere cannot hide them.
    ///
    /// # Panics
    /// If this thread holds any borrow of the cell.
    ///
    /// ```
    /// let c = gc_core::GcCell::new(String::from("a"));
    /// c.borrow_mut().push('b');
    /// assert_eq!(&*c.borrow(), "ab");
    /// ```
    #[track_caller]
    pub fn borrow_mut(&self) -> GcRefMut<'_, T>
    where
        T: Trace,
    {
        if let Ok(r) = self.try_borrow_mut() {
            return r;
        }
        let me = token();
        let addr = self as *const Self as *const () as usize;
        // Acquire: see `writer` (this thread's own token, if it holds the borrow).
        if self.writer.load(Ordering::Acquire) == me {
            panic!(
                "GcCell already mutably borrowed on this thread: drop the first GcRefMut before \
                 calling borrow_mut() again (waiting would deadlock)"
            );
        }
        if READS
            .try_with(|r| r.borrow().contains(&addr))
            .unwrap_or(false)
        {
            panic!(
                "GcCell already borrowed on this thread: drop every GcRef of this cell before \
                 calling borrow_mut() (waiting would deadlock)"
            );
        }
        let parked = park::park();
        self.lock.lock_exclusive();
        drop(parked);
        self.exclusive_acquired(me)
    }

    /// Borrows the value mutably if no one holds it right now; never waits.
    ///
    /// ```
    /// let c = gc_core::GcCell::new(1);
    /// let r = c.borrow();
    /// assert!(c.try_borrow_mut().is_err());
    /// drop(r);
    /// *c.try_borrow_mut().unwrap() = 2;
    /// ```
    pub fn try_borrow_mut(&self) -> Result<GcRefMut<'_, T>, BorrowMutError>
    where
        T: Trace,
    {
        if self.lock.try_lock_exclusive() {
            Ok(self.exclusive_acquired(token()))
        } else {
            Err(BorrowMutError)
        }
    }

    fn exclusive_acquired(&self, me: u64) -> GcRefMut<'_, T>
    where
        T: Trace,
    {
        // Release: see `writer`.
        self.writer.store(me, Ordering::Release);
        let guard = GcRefMut {
            cell: self,
            _not_send: PhantomData,
        };
        // The barrier runs after the lock is taken: a marker that scanned the cell before
        // released its shared lock, which happens-before our acquire, and it had published the
        // marking phase before scanning, so we see it and shade. If marking ends before the
        // barrier reads the phase, the marker had already scanned this cell (it never skips
        // one), so nothing needs shading (see ARCHITECTURE.md).
        // SAFETY: we hold the exclusive lock.
        barrier::shade_cell_contents(unsafe { &*self.value.get() }, &self.shaded_in);
        guard
    }
}

/// A shared borrow of a [`GcCell`]. Not `Send`: the lock belongs to the borrowing thread.
///
/// ```
/// let c = gc_core::GcCell::new(2);
/// let r: gc_core::GcRef<'_, i32> = c.borrow();
/// assert_eq!(*r, 2);
/// ```
pub struct GcRef<'a, T: ?Sized> {
    cell: &'a GcCell<T>,
    _not_send: PhantomData<*const ()>,
}

impl<T: ?Sized> Deref for GcRef<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: we hold a shared lock: no exclusive borrow exists.
        unsafe { &*self.cell.value.get() }
    }
}

impl<T: ?Sized> Drop for GcRef<'_, T> {
    fn drop(&mut self) {
        let addr = self.cell as *const GcCell<T> as *const () as usize;
        let _ = READS.try_with(|r| {
            let mut r = r.borrow_mut();
            if let Some(i) = r.iter().rposition(|&a| a == addr) {
                r.swap_remove(i);
            }
        });
        // SAFETY: this guard holds one shared lock, released once.
        unsafe { self.cell.lock.unlock_shared() };
    }
}

/// An exclusive borrow of a [`GcCell`]. Not `Send`: the lock belongs to the borrowing thread.
///
/// ```
/// let c = gc_core::GcCell::new(2);
/// let mut w: gc_core::GcRefMut<'_, i32> = c.borrow_mut();
/// *w += 1;
/// ```
pub struct GcRefMut<'a, T: ?Sized> {
    cell: &'a GcCell<T>,
    _not_send: PhantomData<*const ()>,
}

impl<T: ?Sized> Deref for GcRefMut<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: we hold the exclusive lock.
        unsafe { &*self.cell.value.get() }
    }
}

impl<T: ?Sized> DerefMut for GcRefMut<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: we hold the exclusive lock.
        unsafe { &mut *self.cell.value.get() }
    }
}

impl<T: ?Sized> Drop for GcRefMut<'_, T> {
    fn drop(&mut self) {
        // Release: see `writer` (ordered before the `parked` store of a later park).
        self.cell.writer.store(0, Ordering::Release);
        // SAFETY: this guard holds the exclusive lock, released once.
        unsafe { self.cell.lock.unlock_exclusive() };
    }
}

/// Releases the collector's shared lock even if a `Trace` impl panics.
struct TraceLock<'a>(&'a CellLock);

impl Drop for TraceLock<'_> {
    fn drop(&mut self) {
        // SAFETY: taken by `try_lock_shared_recursive` in `trace` below, released once.
        unsafe { self.0.unlock_shared() };
    }
}

// SAFETY: reports the contents' handles while no mutator can change them: under a shared lock,
// or while the only holder is parked inside the library (see `park`). When counting, a cell
// held mutably is skipped, which only makes its targets look rooted; when marking, the marker
// waits instead (a skipped cell could hide a handle). Mutation goes through `borrow_mut`, which
// runs the write barrier.
unsafe impl<T: Trace + ?Sized> Trace for GcCell<T> {
    const HOLDS_HANDLES: bool = T::HOLDS_HANDLES;
    const PLAIN_DROP: bool = T::PLAIN_DROP;
    fn trace(&self, tracer: &mut Tracer) {
        if !T::HOLDS_HANDLES {
            return;
        }
        let mut spins = 0u32;
        loop {
            if self.lock.try_lock_shared() {
                let _unlock = TraceLock(&self.lock);
                // SAFETY: we hold a shared lock.
                unsafe { &*self.value.get() }.trace(tracer);
                return;
            }
            if tracer.defer_held_cells {
                tracer.deferred = true;
                return;
            }
            if !tracer.must_see_cells() {
                return;
            }
            // Acquire: see `writer`.
            let holder = self.writer.load(Ordering::Acquire);
            let read = park::read_if_parked(
                holder,
                || self.writer.load(Ordering::Acquire) == holder,
                || {
                    // SAFETY: the holder is parked inside the library and cannot touch the
                    // value until `read_if_parked` returns.
                    unsafe { &*self.value.get() }.trace(tracer);
                },
            );
            if read {
                return;
            }
            spins += 1;
            if spins < 128 || cfg!(loom) {
                primitive::yield_now();
            } else {
                std::thread::sleep(std::time::Duration::from_micros(50));
            }
        }
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for GcCell<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.try_borrow() {
            Ok(v) => f.debug_struct("GcCell").field("value", &&*v).finish(),
            Err(_) => f
                .debug_struct("GcCell")
                .field("value", &"<borrowed>")
                .finish(),
        }
    }
}

impl<T: Default> Default for GcCell<T> {
    fn default() -> GcCell<T> {
        GcCell::new(T::default())
    }
}
