//! The `Trace` trait: how the collector finds the handles inside a value.

use crate::heap::header::Header;
use std::ptr::NonNull;

/// A type whose `Gc` handles the collector can enumerate.
///
/// Derive it with `#[derive(Trace)]`; the derive visits every field and refuses types it cannot
/// prove sound (see the crate docs). Implement it by hand only for containers the derive does
/// not cover.
///
/// # Safety
/// An implementation must:
/// - call [`Trace::trace`] on every `Gc` handle (directly or through fields) that the value
///   owns and that the collector could otherwise not see, exactly once per call; reporting a
///   handle the value does not own, or the same handle twice, lets the collector free a live
///   object;
/// - never report handles reached through shared ownership (`Arc`, `&T`): those may also be
///   held outside the heap;
/// - only change which handles it owns through [`GcCell`](crate::GcCell), whose write barrier
///   keeps concurrent marking sound (no `Mutex`, `RefCell`, `Cell` or atomics holding handles);
/// - not allocate, collect, borrow a `GcCell` mutably, or block inside `trace`;
/// - set [`Trace::HOLDS_HANDLES`] to `false` only if no value of the type can hold a handle;
/// - not implement `Drop` on a type whose fields hold handles in a way that dereferences them:
///   the sweeper drops dead objects in an order that may have freed their targets' values.
///
/// ```
/// use gc_core::{Gc, Trace, Tracer};
///
/// struct Pair(Gc<u32>, Gc<u32>);
///
/// // SAFETY: both handles are owned by the pair and reported once; no interior mutability.
/// unsafe impl Trace for Pair {
///     fn trace(&self, tracer: &mut Tracer) {
///         self.0.trace(tracer);
///         self.1.trace(tracer);
///     }
/// }
///
/// let p = Gc::new(Pair(Gc::new(1), Gc::new(2)));
/// assert_eq!(*p.0 + *p.1, 3);
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be traced by the garbage collector",
    label = "`{Self}` does not implement `Trace`",
    note = "add `#[derive(Trace)]` to `{Self}`; if it holds no `Gc` handle and is not yours, mark the field `#[gc(unsafe_no_trace)]`"
)]
pub unsafe trait Trace {
    /// `false` when no value of this type can hold a `Gc` handle, so the collector never needs
    /// to visit it (like Go's `noscan` spans).
    const HOLDS_HANDLES: bool = true;

    /// `true` when dropping a value of this type runs no code of its own that could block, take
    /// a lock or use the heap: it only frees memory and gives `Gc` handles back (no `Drop` impl
    /// anywhere inside it but the standard library containers' and this crate's, or one as
    /// harmless as an atomic increment). A dead object of such a type may be dropped by an
    /// allocating thread that helps the collector sweep; any other is dropped only on the
    /// collector's thread, so that a `Drop` impl which takes a lock never runs where an
    /// allocating thread might already hold it.
    ///
    /// The default, `!needs_drop::<Self>()`, is right for plain data. Setting it to `true` for a
    /// type whose drop does run code (a `Drop` impl that locks, logs or blocks) is not unsound,
    /// but may deadlock an allocation that sweeps. The derive computes it from the fields.
    ///
    /// ```
    /// use gc_core::{Gc, Trace};
    ///
    /// #[derive(Trace)]
    /// struct Leaf {
    ///     name: String,
    ///     next: Option<Gc<Leaf>>,
    /// }
    /// const { assert!(<Leaf as Trace>::PLAIN_DROP) };
    ///
    /// struct Logged;
    /// impl Drop for Logged {
    ///     fn drop(&mut self) {
    ///         println!("dropped");
    ///     }
    /// }
    /// // SAFETY: holds no handle.
    /// unsafe impl Trace for Logged {
    ///     const HOLDS_HANDLES: bool = false;
    ///     fn trace(&self, _: &mut gc_core::Tracer) {}
    /// }
    /// const { assert!(!<Logged as Trace>::PLAIN_DROP) };
    /// ```
    const PLAIN_DROP: bool = !std::mem::needs_drop::<Self>();

    /// Reports every handle this value owns to `tracer`.
    fn trace(&self, tracer: &mut Tracer);
}

/// What the collector is doing with the handles a [`Trace`] impl reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TraceMode {
    /// Count each reported handle as internal to the heap (inferred roots).
    Count,
    /// Shade each reported handle's target grey.
    Mark,
}

/// The visitor passed to [`Trace::trace`]. Only the collector creates one; user code passes it
/// on to the fields it traces.
///
/// ```
/// use gc_core::{Trace, Tracer};
///
/// struct Wrapper<T>(Vec<T>);
/// // SAFETY: delegates to the elements, which the vector owns.
/// unsafe impl<T: Trace> Trace for Wrapper<T> {
///     const HOLDS_HANDLES: bool = T::HOLDS_HANDLES;
///     fn trace(&self, tracer: &mut Tracer) {
///         self.0.trace(tracer)
///     }
/// }
/// ```
pub struct Tracer {
    pub(crate) mode: TraceMode,
    /// The cycle's epoch: the mark value of objects reached this cycle.
    pub(crate) epoch: u32,
    /// Objects shaded grey by this tracer and not yet scanned.
    pub(crate) grey: Vec<NonNull<Header>>,
    /// Wait for cells held mutably (the marker) instead of skipping them (counting, and the
    /// write barrier, which must not wait while it holds the gate).
    pub(crate) wait_for_cells: bool,
    /// Neither wait for nor skip a held cell: note it in `deferred` (a mark assist, which
    /// gives such an object back to the marker).
    pub(crate) defer_held_cells: bool,
    /// Set when a held cell was met with `defer_held_cells`.
    pub(crate) deferred: bool,
}

impl Tracer {
    pub(crate) fn new(mode: TraceMode, epoch: u32) -> Self {
        Tracer {
            mode,
            epoch,
            grey: Vec::new(),
            wait_for_cells: false,
            defer_held_cells: false,
            deferred: false,
        }
    }

    /// Called by `Gc<T>`'s `Trace` impl for each handle.
    pub(crate) fn edge(&mut self, target: NonNull<Header>) {
        // The handle being reported exists (it is inside a snapshot object the collector is
        // tracing, or inside a cell the calling mutator holds for its barrier). SAFETY: an
        // object with a handle is not freed: the collector frees only objects left white when
        // marking ends, and every handle's target is reached, rooted or shaded by then.
        let header = unsafe { target.as_ref() };
        match self.mode {
            TraceMode::Count => header.count_internal(self.epoch),
            TraceMode::Mark => {
                if header.try_shade(self.epoch) {
                    self.grey.push(target);
                }
            }
        }
    }

    /// True if a held cell must be waited for rather than skipped: the marker must see every
    /// handle; counting may miss some (it then only overestimates roots); the write barrier
    /// may skip a nested cell, whose own borrows run their own barrier.
    pub(crate) fn must_see_cells(&self) -> bool {
        self.wait_for_cells
    }
}

impl std::fmt::Debug for Tracer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tracer")
            .field("mode", &self.mode)
            .field("epoch", &self.epoch)
            .finish()
    }
}
