//! `Arc<T>`: shared ownership, opaque to the collector.
//!
//! An `Arc` stored in a heap object may also be held by code outside the heap (another
//! thread, a global, a stack frame), so the handles inside it are not owned by the object
//! alone. Reporting them would count them as internal to the heap while an outside holder
//! still uses them, and the collector could free an object that is still reachable: a
//! use-after-free. So `Arc`'s `trace` reports nothing and its `HOLDS_HANDLES` is `false`.
//!
//! The consequence: every handle inside an `Arc` counts as a root (its strong count is never
//! matched by an internal reference), and so keeps its target, and everything reachable from
//! it, alive. A cycle that passes through an `Arc` (an object whose `Arc` holds a handle back
//! to the object) is therefore never collected: it leaks until the program breaks it, for
//! example by clearing a `GcCell`. A leak, never a use-after-free. To get a cycle collected,
//! share the object through a `Gc` handle instead of an `Arc`.

use crate::trace::{Trace, Tracer};
use std::sync::Arc;

// SAFETY: the `Arc` does not own its pointee exclusively (see the module docs), so it owns no
// handle it may report: reporting none is exact. `HOLDS_HANDLES = false` is sound because no
// handle behind an `Arc` is ever reported, whatever `T` is; the handles stay roots.
unsafe impl<T: Trace + ?Sized> Trace for Arc<T> {
    const HOLDS_HANDLES: bool = false;
    const PLAIN_DROP: bool = T::PLAIN_DROP;

    #[inline]
    fn trace(&self, _tracer: &mut Tracer) {}
}
