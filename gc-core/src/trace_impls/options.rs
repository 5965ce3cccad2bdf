//! `Option` and `Result`.

use crate::trace::{Trace, Tracer};

// SAFETY: an `Option<T>` owns its `T` when it is `Some` and nothing otherwise; the match
// reports the contained value's handles once, or none.
unsafe impl<T: Trace> Trace for Option<T> {
    const HOLDS_HANDLES: bool = T::HOLDS_HANDLES;
    const PLAIN_DROP: bool = T::PLAIN_DROP;

    #[inline]
    fn trace(&self, tracer: &mut Tracer) {
        if !T::HOLDS_HANDLES {
            return;
        }
        if let Some(value) = self {
            value.trace(tracer);
        }
    }
}

// SAFETY: a `Result<T, E>` owns exactly one of its `T` or its `E`; the match reports the
// handles of whichever it holds, once.
unsafe impl<T: Trace, E: Trace> Trace for Result<T, E> {
    const HOLDS_HANDLES: bool = T::HOLDS_HANDLES || E::HOLDS_HANDLES;
    const PLAIN_DROP: bool = T::PLAIN_DROP && E::PLAIN_DROP;

    #[inline]
    fn trace(&self, tracer: &mut Tracer) {
        match self {
            Ok(value) => {
                if T::HOLDS_HANDLES {
                    value.trace(tracer);
                }
            }
            Err(error) => {
                if E::HOLDS_HANDLES {
                    error.trace(tracer);
                }
            }
        }
    }
}
