//! Owning pointers and fixed sequences: `Box<T>`, `[T]`, `[T; N]`.

use crate::trace::{Trace, Tracer};

// SAFETY: a `Box<T>` uniquely owns its `T`, so the handles the box owns are exactly those of
// the pointee, which its own impl reports (each once). The pointee is only reachable through
// the box, so no handle is shared with code outside the value.
unsafe impl<T: Trace + ?Sized> Trace for Box<T> {
    const HOLDS_HANDLES: bool = T::HOLDS_HANDLES;
    const PLAIN_DROP: bool = T::PLAIN_DROP;

    #[inline]
    fn trace(&self, tracer: &mut Tracer) {
        if T::HOLDS_HANDLES {
            (**self).trace(tracer);
        }
    }
}

// SAFETY: a slice's handles are those of its elements, each visited once by the loop. A `[T]`
// value is only ever traced through an owner of it (`Box<[T]>`, `Vec<T>`, an array); the
// collector never reaches one through a shared reference.
unsafe impl<T: Trace> Trace for [T] {
    const HOLDS_HANDLES: bool = T::HOLDS_HANDLES;
    const PLAIN_DROP: bool = T::PLAIN_DROP;

    #[inline]
    fn trace(&self, tracer: &mut Tracer) {
        if !T::HOLDS_HANDLES {
            return;
        }
        for item in self {
            item.trace(tracer);
        }
    }
}

// SAFETY: an array owns its `N` elements inline; delegating to the slice impl visits each
// exactly once.
unsafe impl<T: Trace, const N: usize> Trace for [T; N] {
    const HOLDS_HANDLES: bool = T::HOLDS_HANDLES;
    const PLAIN_DROP: bool = T::PLAIN_DROP;

    #[inline]
    fn trace(&self, tracer: &mut Tracer) {
        self.as_slice().trace(tracer);
    }
}
