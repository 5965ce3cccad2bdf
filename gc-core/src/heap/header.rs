//! The object header every heap block starts with, and the per-type vtable it points to.

use crate::primitive::{AtomicU32, AtomicU64, AtomicUsize, Ordering};
use crate::trace::{Trace, Tracer};
use std::alloc::Layout;
use std::ptr::NonNull;

/// The mark value of an object a cycle has taken whose last handle was dropped between cycles:
/// the dropping thread is dropping its value now (the collector skips it and keeps the block).
pub(crate) const RETIRING: u32 = u32::MAX - 1;

/// The mark value of a block whose value a mutator dropped after its last handle went (see
/// `heap::reclaim`): only the block is left, for the next sweep to free.
pub(crate) const HUSK: u32 = u32::MAX - 2;

/// The mark value of a small block freed at once that its thread keeps for its next
/// allocation of the same size class (see `heap::cache`): the value is dropped and the block
/// counted as freed. A sweep that finds one (its list was drained before the thread reused it)
/// frees it without counting it again.
pub(crate) const SPARE: u32 = u32::MAX - 3;

/// True for the values that are not epochs: [`RETIRING`], [`HUSK`], [`SPARE`] (and `u32::MAX`,
/// unused).
/// No cycle uses them as its epoch, and no handle to such an object exists.
pub(crate) fn is_retired(mark: u32) -> bool {
    mark >= SPARE
}

/// Flag: cleanups are registered for this object (see `add_cleanup`).
pub(crate) const HAS_CLEANUP: u32 = 1;

/// Flag: weak references to this object exist; its slot is in `weak::SLOTS`.
pub(crate) const HAS_WEAK: u32 = 2;

/// Per-type operations the collector needs on a type-erased block.
pub(crate) struct VTable {
    /// Traces the value of the block.
    pub(crate) trace: unsafe fn(NonNull<Header>, &mut Tracer),
    /// Drops the value of the block in place (the block stays allocated).
    pub(crate) drop_value: unsafe fn(NonNull<Header>),
    /// Layout of the whole block (`GcBox<T>`).
    pub(crate) layout: Layout,
    /// The size class a block of `layout` is kept in for reuse, if any (`cache::kept_class`).
    pub(crate) class: Option<usize>,
    /// `T::HOLDS_HANDLES`: blocks without handles are never traced.
    pub(crate) holds_handles: bool,
    /// `needs_drop::<T>()`: a value without drop glue is not dropped (nothing to call).
    pub(crate) needs_drop: bool,
    /// `T::PLAIN_DROP`: a dead value of the type may be dropped by an allocating thread that
    /// sweeps (see `collector::sweep`); others only by the collector's thread.
    pub(crate) plain_drop: bool,
}

/// Header of every heap block.
///
/// Each field names who writes it, in which phase, and what its orderings pair with.
pub(crate) struct Header {
    /// Number of `Gc` handles to this object anywhere: locals, globals, other objects, frames.
    /// Incremented by clone and upgrade, decremented by drop, all `SeqCst`, pairing with the
    /// collector's `SeqCst` load in the root phase, so the count it reads is a point in the
    /// single total order the protocol argument (ARCHITECTURE.md) reasons about; except that
    /// the drop of the only handle (count one, no weak reference) stores zero (`Release`). Once an
    /// object is found dead, only sweepers change its count (`AcqRel`: dropping the handles
    /// inside other dead values, and adding `VALUE_DROPPED` once its own value is dropped; see
    /// `collector::sweep`).
    pub(crate) strong: AtomicUsize,
    /// Handles found inside heap objects during the current cycle's count phase, tagged with
    /// that cycle's epoch in the high 32 bits (a stale tag reads as zero, so no reset pass is
    /// needed). Written and read by the collector thread only: `Relaxed`.
    pub(crate) internal: AtomicU64,
    /// The epoch of the last cycle that reached this object, or [`RETIRING`], [`HUSK`] or
    /// [`SPARE`]. A mutator sets it when shading (CAS, under the barrier gate), when
    /// registering a new block (under its list lock), when freeing a block at once (under its
    /// list lock, then [`SPARE`] `Release` after the value is dropped) and when retiring a
    /// block (under the gate, then `Release` after the value is dropped); the collector sets
    /// it when shading. `AcqRel`/`Acquire` so a shade's CAS orders before the
    /// grey push that follows it, and a husk's value drop before the sweep that frees it.
    pub(crate) mark: AtomicU32,
    /// Bit flags ([`HAS_CLEANUP`], [`HAS_WEAK`]). Set by mutators (`AcqRel` RMW); read by
    /// the sweeper after marking has ended and by the thread that dropped the last handle
    /// (`Acquire`); `HAS_WEAK` cleared by an `AcqRel` RMW when the object dies.
    pub(crate) flags: AtomicU32,
    /// The vtable of the value's type.
    pub(crate) vtable: &'static VTable,
}

/// A heap block: header followed by the value.
#[repr(C)]
pub(crate) struct GcBox<T> {
    pub(crate) header: Header,
    pub(crate) value: T,
}

impl<T> GcBox<T> {
    /// Writes a block for `value` with one handle, field by field in place (no `GcBox` is
    /// built on the stack first): its mark and (if `internal` is `Some`) its `internal` word as
    /// given, `internal` left as it is otherwise (a reused spare keeps its list index there).
    ///
    /// # Safety
    /// `block` is valid for writes of a `GcBox<T>` and no other thread or collector pass reads
    /// or writes it meanwhile (a fresh block not yet registered, or a kept block under its
    /// list lock, owned by the caller).
    #[inline(always)]
    pub(crate) unsafe fn write_in_place(
        block: *mut GcBox<T>,
        vtable: &'static VTable,
        value: T,
        mark: u32,
        internal: Option<u64>,
    ) {
        // SAFETY: valid for writes and unshared (the caller's promise); each field is written
        // once, through a raw pointer (no reference to uninitialised memory is made).
        unsafe {
            let h = std::ptr::addr_of_mut!((*block).header);
            std::ptr::addr_of_mut!((*h).strong).write(AtomicUsize::new(1));
            if let Some(internal) = internal {
                std::ptr::addr_of_mut!((*h).internal).write(AtomicU64::new(internal));
            }
            std::ptr::addr_of_mut!((*h).mark).write(AtomicU32::new(mark));
            std::ptr::addr_of_mut!((*h).flags).write(AtomicU32::new(0));
            std::ptr::addr_of_mut!((*h).vtable).write(vtable);
            std::ptr::addr_of_mut!((*block).value).write(value);
        }
    }
}

impl Header {
    /// Counts one internal handle to this object for the cycle `epoch`.
    pub(crate) fn count_internal(&self, epoch: u32) {
        let tagged = self.internal.load(Ordering::Relaxed);
        let count = if (tagged >> 32) as u32 == epoch {
            tagged as u32
        } else {
            0
        };
        // Saturating: an undercount only makes the object look rooted, which is safe.
        let count = count.saturating_add(1);
        self.internal.store(
            (u64::from(epoch) << 32) | u64::from(count),
            Ordering::Relaxed,
        );
    }

    /// Internal handles counted this cycle. Collector thread only.
    pub(crate) fn internal_count(&self, epoch: u32) -> usize {
        let tagged = self.internal.load(Ordering::Relaxed);
        if (tagged >> 32) as u32 == epoch {
            tagged as u32 as usize
        } else {
            0
        }
    }

    /// Sets the mark to `epoch` if it is not already; true if this call shaded the object (the
    /// caller must then get it scanned).
    pub(crate) fn try_shade(&self, epoch: u32) -> bool {
        let cur = self.mark.load(Ordering::Acquire);
        if cur == epoch || is_retired(cur) {
            return false;
        }
        // AcqRel: pairs with other shaders' CAS so exactly one of them wins and pushes.
        self.mark
            .compare_exchange(cur, epoch, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }

    /// True if the object was reached (or allocated) in cycle `epoch`.
    pub(crate) fn is_marked(&self, epoch: u32) -> bool {
        self.mark.load(Ordering::Acquire) == epoch
    }
}

impl VTable {
    /// The vtable for blocks holding a `T`.
    pub(crate) const fn of<T: Trace + Send + Sync + 'static>() -> &'static VTable {
        &VTableOf::<T>::VTABLE
    }
}

struct VTableOf<T>(std::marker::PhantomData<T>);

impl<T: Trace + Send + Sync + 'static> VTableOf<T> {
    const VTABLE: VTable = VTable {
        trace: trace_value::<T>,
        drop_value: drop_value::<T>,
        layout: Layout::new::<GcBox<T>>(),
        class: super::cache::kept_class(Layout::new::<GcBox<T>>()),
        holds_handles: T::HOLDS_HANDLES,
        needs_drop: std::mem::needs_drop::<T>(),
        plain_drop: T::PLAIN_DROP,
    };
}

/// # Safety
/// `h` must be the header of a live `GcBox<T>`.
unsafe fn trace_value<T: Trace>(h: NonNull<Header>, tracer: &mut Tracer) {
    // SAFETY: the caller guarantees `h` heads a live `GcBox<T>`; `GcBox` is `repr(C)` with the
    // header first, so the cast recovers the box.
    let b = unsafe { h.cast::<GcBox<T>>().as_ref() };
    b.value.trace(tracer);
}

/// # Safety
/// `h` must be the header of a `GcBox<T>` whose value is dropped at most once, and no other
/// thread may access the value.
unsafe fn drop_value<T>(h: NonNull<Header>) {
    // SAFETY: the caller guarantees exclusive access to a live value that is dropped once.
    unsafe { std::ptr::drop_in_place(&raw mut (*h.cast::<GcBox<T>>().as_ptr()).value) };
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn the_header_is_four_words() {
        // A binary-trees node (two handles) then takes a 48-byte block.
        assert_eq!(std::mem::size_of::<Header>(), 32);
        assert_eq!(std::mem::size_of::<GcBox<[usize; 2]>>(), 48);
    }
}
