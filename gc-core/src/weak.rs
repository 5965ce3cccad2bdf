//! `GcWeak<T>`: a reference that does not keep its target alive.

use crate::barrier;
use crate::collector::state::Phase;
use crate::gc::Gc;
use crate::heap::header::{Header, HAS_WEAK};
use crate::heap::ObjPtr;
use crate::primitive::{Mutex, Ordering};
use std::collections::HashMap;
use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

/// The indirection every `GcWeak` to one object shares. It is kept in [`SLOTS`] under the
/// object's address while the object lives (the header only has a flag, [`HAS_WEAK`], so
/// objects without weak references pay no header space); the object's death removes it and
/// clears `target` under the lock, before the value is dropped.
pub(crate) struct WeakSlot {
    target: Mutex<Option<ObjPtr>>,
}

/// The slots of live objects, by header address, in shards (by address) so that downgrades
/// of different objects rarely share a lock. An entry is made by the object's first
/// downgrade, with its `HAS_WEAK` flag set under the shard lock, and removed when the object
/// dies, before its block is freed: an address is never reused with a stale entry.
type Shard = Mutex<Option<HashMap<usize, Arc<WeakSlot>>>>;

/// Number of [`SLOTS`] shards.
const SHARDS: usize = 16;

#[cfg(not(loom))]
static SLOTS: [Shard; SHARDS] = [const { Mutex::new(None) }; SHARDS];

#[cfg(loom)]
loom::lazy_static! {
    static ref SLOTS: [Shard; SHARDS] = std::array::from_fn(|_| Mutex::new(None));
}

/// The shard holding the slot of the object headed at `addr` (headers are 16-byte aligned).
fn shard(addr: usize) -> &'static Shard {
    &SLOTS[(addr >> 4) % SHARDS]
}

/// A weak reference to a heap object, like Go's `weak.Pointer`: [`upgrade`](GcWeak::upgrade)
/// returns a handle while the object is alive and `None` once a cycle has found it unreachable.
///
/// ```
/// use gc_core::{collect, Gc};
/// let strong = Gc::new(String::from("kept"));
/// let weak = Gc::downgrade(&strong);
/// collect();
/// assert_eq!(*weak.upgrade().unwrap(), "kept");
/// ```
pub struct GcWeak<T: 'static> {
    slot: Arc<WeakSlot>,
    _target: PhantomData<Gc<T>>,
}

impl<T: 'static> GcWeak<T> {
    /// The weak reference for the object headed by `h`, creating its slot on first use.
    pub(crate) fn new_for(h: &Header) -> GcWeak<T> {
        let addr = h as *const Header as usize;
        let mut shard = shard(addr).lock();
        let slot = shard
            .get_or_insert_with(HashMap::new)
            .entry(addr)
            .or_insert_with(|| {
                Arc::new(WeakSlot {
                    target: Mutex::new(Some(ObjPtr(h.into()))),
                })
            })
            .clone();
        // Under the shard lock, so the flag and the entry appear together to `clear`. AcqRel:
        // pairs with the Acquire load of `clear_owned` and the RMW of `clear`.
        h.flags.fetch_or(HAS_WEAK, Ordering::AcqRel);
        drop(shard);
        GcWeak {
            slot,
            _target: PhantomData,
        }
    }

    /// Returns a handle if the object has not been collected.
    ///
    /// While a cycle is marking this shades the object (it is reachable again); after marking
    /// has ended, an object the cycle did not reach is dead and the upgrade fails even if the
    /// sweeper has not cleared it yet.
    ///
    /// ```
    /// let g = gc_core::Gc::new(1);
    /// let w = gc_core::Gc::downgrade(&g);
    /// assert_eq!(w.upgrade().as_deref(), Some(&1));
    /// ```
    pub fn upgrade(&self) -> Option<Gc<T>> {
        let target = self.slot.target.lock();
        let h = (*target)?.0;
        // SAFETY: the slot still names the object, so the sweeper has not cleared it, and it
        // clears before it drops or frees: the header is live while we hold the slot lock.
        let header = unsafe { h.as_ref() };
        // SeqCst: pairs with the collector's root-phase load of `strong`. Incrementing before
        // reading the phase means an upgrade that reads Idle is counted by the next root phase.
        // A zero count is never raised: the thread that dropped the last handle may be freeing
        // the object (it clears this slot, under its lock, before it frees).
        let mut count = header.strong.load(Ordering::SeqCst);
        loop {
            if count == 0 {
                return None;
            }
            if count >= crate::gc::MAX_STRONG {
                std::process::abort();
            }
            match header.strong.compare_exchange_weak(
                count,
                count + 1,
                Ordering::SeqCst,
                Ordering::SeqCst,
            ) {
                Ok(_) => break,
                Err(now) => count = now,
            }
        }
        crate::primitive::sc_fence();
        let alive = barrier::with_stable_state(|s| match s.phase() {
            Phase::Idle => true,
            Phase::Mark => {
                if header.try_shade(s.epoch()) {
                    barrier::push_grey(h);
                }
                true
            }
            Phase::Sweep => header.is_marked(s.epoch()),
        });
        if alive {
            // SAFETY: `h` heads a live `GcBox<T>` (the slot was made for a `Gc<T>`) and we took
            // one strong count above.
            Some(unsafe { Gc::from_header(h) })
        } else {
            // The object is dead and not yet cleared: give the count back (the sweeper frees
            // it without reading the count).
            header.strong.fetch_sub(1, Ordering::SeqCst);
            None
        }
    }

    /// True if both weak references are to the same object (or both to dead ones that were
    /// the same object).
    ///
    /// ```
    /// let g = gc_core::Gc::new(0);
    /// assert!(gc_core::GcWeak::ptr_eq(&gc_core::Gc::downgrade(&g), &gc_core::Gc::downgrade(&g)));
    /// ```
    pub fn ptr_eq(this: &GcWeak<T>, other: &GcWeak<T>) -> bool {
        Arc::ptr_eq(&this.slot, &other.slot)
    }
}

/// Clears the weak slot of a dead object, before its value is dropped. Sweeper: the
/// read-modify-write reads the latest flags whatever ordering brought the sweeper here.
pub(crate) fn clear(h: &Header) {
    if h.flags.fetch_and(!HAS_WEAK, Ordering::AcqRel) & HAS_WEAK != 0 {
        take_slot(h);
    }
}

/// Clears the weak slot of an object whose last handle the calling thread just dropped. A slot
/// is made only through a handle, and every other handle's drop is in the release sequence of
/// the count our decrement (or, for the only handle, our `Acquire` load of one) read, so a flag
/// set through it is visible here: a clear flag is final, and the common case costs a load,
/// not a read-modify-write.
pub(crate) fn clear_owned(h: &Header) {
    // Acquire: pairs with the AcqRel set in `new_for` (made before that handle's drop).
    if h.flags.load(Ordering::Acquire) & HAS_WEAK != 0 {
        clear(h);
    }
}

/// Removes the slot of the dying object headed by `h` and empties it.
fn take_slot(h: &Header) {
    let addr = h as *const Header as usize;
    let slot = shard(addr).lock().as_mut().and_then(|m| m.remove(&addr));
    if let Some(slot) = slot {
        *slot.target.lock() = None;
    }
}

impl<T: 'static> Clone for GcWeak<T> {
    fn clone(&self) -> GcWeak<T> {
        GcWeak {
            slot: Arc::clone(&self.slot),
            _target: PhantomData,
        }
    }
}

impl<T: 'static> fmt::Debug for GcWeak<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let alive = self.slot.target.lock().is_some();
        f.debug_struct("GcWeak").field("cleared", &!alive).finish()
    }
}

// SAFETY: a weak reference is not an edge: it reports nothing, and holding one keeps nothing
// alive, which is its meaning.
unsafe impl<T: 'static> crate::trace::Trace for GcWeak<T> {
    const HOLDS_HANDLES: bool = false;
    const PLAIN_DROP: bool = true;
    fn trace(&self, _tracer: &mut crate::trace::Tracer) {}
}
