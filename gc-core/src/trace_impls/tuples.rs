//! Tuples of 1 to 12 elements. (The empty tuple `()` is a leaf, in `primitives`.)

use crate::trace::{Trace, Tracer};

/// Implements `Trace` for one tuple arity: `tuple_trace!(A 0, B 1, ...)` names each element's
/// type parameter and index.
macro_rules! tuple_trace {
    ($($name:ident $idx:tt),+) => {
        // SAFETY: a tuple owns each of its elements inline; the impl reports every element's
        // handles once (skipping element types that cannot hold any), and holds handles if
        // any element type can.
        unsafe impl<$($name: Trace),+> Trace for ($($name,)+) {
            const HOLDS_HANDLES: bool = false $(|| $name::HOLDS_HANDLES)+;
            const PLAIN_DROP: bool = true $(&& $name::PLAIN_DROP)+;

            #[inline]
            fn trace(&self, tracer: &mut Tracer) {
                $(
                    if $name::HOLDS_HANDLES {
                        self.$idx.trace(tracer);
                    }
                )+
            }
        }
    };
}

tuple_trace!(A 0);
tuple_trace!(A 0, B 1);
tuple_trace!(A 0, B 1, C 2);
tuple_trace!(A 0, B 1, C 2, D 3);
tuple_trace!(A 0, B 1, C 2, D 3, E 4);
tuple_trace!(A 0, B 1, C 2, D 3, E 4, F 5);
tuple_trace!(A 0, B 1, C 2, D 3, E 4, F 5, G 6);
tuple_trace!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7);
tuple_trace!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8);
tuple_trace!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9);
tuple_trace!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10);
tuple_trace!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11);
