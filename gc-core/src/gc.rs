//! `Gc<T>`: a shared handle to a value on the collected heap.

use crate::barrier;
use crate::heap::header::{GcBox, Header, HAS_WEAK};
use crate::heap::{self};
use crate::primitive::Ordering;
use crate::trace::{Trace, Tracer};
use crate::weak::GcWeak;
use std::borrow::Borrow;
use std::cmp::Ordering as CmpOrdering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::marker::PhantomData;
use std::ops::Deref;
use std::ptr::NonNull;

/// A handle to a value on the garbage-collected heap, like a Go pointer.
///
/// Cloning a handle is cheap (one atomic increment); the value lives as long as it is
/// reachable from any handle outside the heap (a local, a `GcGlobal`, another thread) directly
/// or through other objects. Cycles are collected. `Gc<T>` is `Send + Sync` (`T` must be).
///
/// ```
/// use gc_core::Gc;
///
/// let a = Gc::new(5);
/// let b = a.clone();
/// assert!(Gc::ptr_eq(&a, &b));
/// assert_eq!(*a + *b, 10);
/// ```
pub struct Gc<T: 'static> {
    ptr: NonNull<GcBox<T>>,
    _owns: PhantomData<T>,
}

// SAFETY: the value is only reachable through shared references; `T: Send + Sync` makes it sound
// to share and drop on any thread (the collector may drop it on its own thread).
unsafe impl<T: Send + Sync> Send for Gc<T> {}
// SAFETY: as above.
unsafe impl<T: Send + Sync> Sync for Gc<T> {}

/// Counts beyond this abort the process, as `Arc` does: a leaked count must never wrap.
pub(crate) const MAX_STRONG: usize = isize::MAX as usize;

impl<T: Trace + Send + Sync + 'static> Gc<T> {
    /// Moves `value` onto the heap and returns the first handle to it.
    ///
    /// May start a collection cycle in the background when the heap reaches its goal (see
    /// `set_gc_percent`), and waits for the running cycle if allocation outruns it far.
    ///
    /// ```
    /// let s = gc_core::Gc::new(String::from("hello"));
    /// assert_eq!(s.len(), 5);
    /// ```
    pub fn new(value: T) -> Gc<T> {
        Gc {
            ptr: heap::allocate(value),
            _owns: PhantomData,
        }
    }
}

impl<T: 'static> Gc<T> {
    /// Rebuilds a handle from a header whose strong count already accounts for it.
    ///
    /// # Safety
    /// `h` must head a live `GcBox<T>` and the caller must own one strong count on it.
    pub(crate) unsafe fn from_header(h: NonNull<Header>) -> Gc<T> {
        Gc {
            ptr: h.cast(),
            _owns: PhantomData,
        }
    }

    pub(crate) fn header_ptr(&self) -> NonNull<Header> {
        self.ptr.cast()
    }

    fn header(&self) -> &Header {
        // SAFETY: a handle keeps its object alive (it is counted in `strong`, so the object is
        // a root or reached while this handle exists), and `GcBox` starts with the header.
        unsafe { &self.ptr.as_ref().header }
    }

    /// True if both handles point to the same object.
    ///
    /// ```
    /// use gc_core::Gc;
    /// let a = Gc::new(1);
    /// assert!(Gc::ptr_eq(&a, &a.clone()));
    /// assert!(!Gc::ptr_eq(&a, &Gc::new(1)));
    /// ```
    pub fn ptr_eq(this: &Gc<T>, other: &Gc<T>) -> bool {
        this.ptr == other.ptr
    }

    /// The address of the value, for identity comparisons and hashing.
    ///
    /// ```
    /// let a = gc_core::Gc::new(7u8);
    /// assert_eq!(gc_core::Gc::as_ptr(&a), &*a as *const u8);
    /// ```
    pub fn as_ptr(this: &Gc<T>) -> *const T {
        // SAFETY: the box is live while `this` exists; no reference is created.
        unsafe { &raw const (*this.ptr.as_ptr()).value }
    }

    /// Makes a weak reference: it does not keep the value alive, and upgrades to a handle until
    /// the value is collected.
    ///
    /// ```
    /// use gc_core::{collect, Gc};
    /// let a = Gc::new(3);
    /// let w = Gc::downgrade(&a);
    /// assert_eq!(w.upgrade().map(|g| *g), Some(3));
    /// drop(a);
    /// collect();
    /// assert!(w.upgrade().is_none());
    /// ```
    pub fn downgrade(this: &Gc<T>) -> GcWeak<T> {
        GcWeak::new_for(this.header())
    }

    /// The number of handles to this object, wherever they are (inside other objects too).
    ///
    /// ```
    /// let a = gc_core::Gc::new(());
    /// let _b = a.clone();
    /// assert_eq!(gc_core::Gc::handle_count(&a), 2);
    /// ```
    pub fn handle_count(this: &Gc<T>) -> usize {
        this.header().strong.load(Ordering::SeqCst)
    }
}

impl<T: 'static> Clone for Gc<T> {
    fn clone(&self) -> Gc<T> {
        // SeqCst: pairs with the collector's root-phase load of `strong` (see `Header`).
        let old = self.header().strong.fetch_add(1, Ordering::SeqCst);
        crate::primitive::sc_fence();
        if old >= MAX_STRONG {
            std::process::abort();
        }
        Gc {
            ptr: self.ptr,
            _owns: PhantomData,
        }
    }
}

impl<T: 'static> Drop for Gc<T> {
    fn drop(&mut self) {
        let h = self.header();
        let state = crate::collector::state::load();
        if state.is_marking() {
            // The deletion barrier: this handle may be the last path to its target that the
            // marker has not seen.
            barrier::shade(self.header_ptr());
        } else if state.is_sweeping()
            // SAFETY: this handle to the target is still held.
            && unsafe {
                crate::collector::sweep::handle_dropped_while_sweeping(self.header_ptr(), state)
            }
        {
            // A handle inside a dead value, dropped by a sweeper, which gave its count back.
            return;
        }
        // Read before the decrement: after it, the header may be freed (see `BeforeDrop`).
        let before = heap::reclaim::BeforeDrop::read(h, state);
        // Acquire: pairs with the shade's compare-exchange. Read while the handle is held.
        let marked = state.is_marking() && h.mark.load(Ordering::Acquire) == state.epoch();
        // Acquire: pairs with the Release of the other handles' decrements (their uses of the
        // value come before its drop here) and of the weak flag's set (see `Header::flags`).
        let last = if h.strong.load(Ordering::Acquire) == 1
            && h.flags.load(Ordering::Acquire) & HAS_WEAK == 0
        {
            // The only handle, and no weak reference to raise the count: no other thread
            // changes it, so a store does what the decrement would, without a read-modify-write.
            // Release: after the state read and the barrier above, as the decrement would be;
            // pairs with the collector's root-phase load (ARCHITECTURE.md section 3).
            h.strong.store(0, Ordering::Release);
            true
        } else {
            // SeqCst: pairs with the collector's root-phase load of `strong`, and with the
            // compare-exchange of `GcWeak::upgrade`, which never raises a zero count.
            h.strong.fetch_sub(1, Ordering::SeqCst) == 1
        };
        crate::primitive::sc_fence();
        if last {
            // SAFETY: this was the last handle (the count went from one to zero), and
            // `before` was read while we held it.
            unsafe {
                heap::reclaim::last_handle_dropped(
                    self.header_ptr(),
                    before,
                    std::mem::size_of::<GcBox<T>>(),
                    marked,
                )
            };
        }
    }
}

impl<T: 'static> Deref for Gc<T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the handle keeps the box alive and the value initialised; values on the heap
        // are only ever accessed through shared references.
        unsafe { &self.ptr.as_ref().value }
    }
}

// SAFETY: a handle is exactly one edge to its target, reported once. Dropping one gives its
// count back; a thread that sweeps for the collector never drops the target's value there
// (see `collector::sweep`), so the drop runs no code of `T`'s.
unsafe impl<T: 'static> Trace for Gc<T> {
    const PLAIN_DROP: bool = true;
    fn trace(&self, tracer: &mut Tracer) {
        tracer.edge(self.header_ptr());
    }
}

impl<T: 'static> AsRef<T> for Gc<T> {
    fn as_ref(&self) -> &T {
        self
    }
}

impl<T: 'static> Borrow<T> for Gc<T> {
    fn borrow(&self) -> &T {
        self
    }
}

impl<T: fmt::Debug + 'static> fmt::Debug for Gc<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: fmt::Display + 'static> fmt::Display for Gc<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

impl<T: 'static> fmt::Pointer for Gc<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Pointer::fmt(&Gc::as_ptr(self), f)
    }
}

impl<T: PartialEq + 'static> PartialEq for Gc<T> {
    fn eq(&self, other: &Gc<T>) -> bool {
        **self == **other
    }
}

impl<T: Eq + 'static> Eq for Gc<T> {}

impl<T: PartialOrd + 'static> PartialOrd for Gc<T> {
    fn partial_cmp(&self, other: &Gc<T>) -> Option<CmpOrdering> {
        (**self).partial_cmp(&**other)
    }
}

impl<T: Ord + 'static> Ord for Gc<T> {
    fn cmp(&self, other: &Gc<T>) -> CmpOrdering {
        (**self).cmp(&**other)
    }
}

impl<T: Hash + 'static> Hash for Gc<T> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        (**self).hash(state)
    }
}

/// Keeps `x` reachable until this call, like Go's `runtime.KeepAlive`: the optimiser cannot
/// end `x`'s use earlier, so a cleanup registered on it cannot run before this point.
///
/// ```
/// let buf = gc_core::Gc::new(vec![0u8; 1024]);
/// // ... hand a raw pointer into `buf` to foreign code ...
/// gc_core::keep_alive(&buf);
/// ```
#[inline(never)]
pub fn keep_alive<T: ?Sized>(x: &T) {
    std::hint::black_box(x);
}
