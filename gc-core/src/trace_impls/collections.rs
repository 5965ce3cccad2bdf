//! The std collections. Each owns its elements (map keys and values alike), so each reports
//! every element's handles once, and skips its loop when the element types cannot hold any.
//!
//! The hasher `S` of `HashMap`/`HashSet` is not traced and needs no `Trace` bound: a handle
//! inside a hasher (unusual) is simply never reported, so it stays a root. That can only keep
//! objects alive, never free a live one.

use crate::trace::{Trace, Tracer};
use std::collections::{BTreeMap, BTreeSet, BinaryHeap, HashMap, HashSet, LinkedList, VecDeque};

// SAFETY: a `Vec<T>` owns its elements; the slice impl reports each exactly once.
unsafe impl<T: Trace> Trace for Vec<T> {
    const HOLDS_HANDLES: bool = T::HOLDS_HANDLES;
    const PLAIN_DROP: bool = T::PLAIN_DROP;

    #[inline]
    fn trace(&self, tracer: &mut Tracer) {
        self.as_slice().trace(tracer);
    }
}

// SAFETY: a `VecDeque<T>` owns its elements; both halves of the ring buffer are visited, so
// each element is reported exactly once.
unsafe impl<T: Trace> Trace for VecDeque<T> {
    const HOLDS_HANDLES: bool = T::HOLDS_HANDLES;
    const PLAIN_DROP: bool = T::PLAIN_DROP;

    #[inline]
    fn trace(&self, tracer: &mut Tracer) {
        if !T::HOLDS_HANDLES {
            return;
        }
        let (front, back) = self.as_slices();
        front.trace(tracer);
        back.trace(tracer);
    }
}

/// `Trace` for a collection that owns its elements and iterates over them by reference.
macro_rules! trace_elements {
    ($($ty:ident<T $(, $extra:ident)*>),* $(,)?) => {$(
        // SAFETY: the collection owns its elements and iteration visits each exactly once
        // (in whatever order), so each element's handles are reported once. An extra type
        // parameter (a hasher) is not traced: a handle inside it would stay a root.
        unsafe impl<T: Trace $(, $extra)*> Trace for $ty<T $(, $extra)*> {
            const HOLDS_HANDLES: bool = T::HOLDS_HANDLES;
            const PLAIN_DROP: bool = T::PLAIN_DROP $(&& !std::mem::needs_drop::<$extra>())*;

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
    )*};
}

trace_elements!(LinkedList<T>, BinaryHeap<T>, HashSet<T, S>, BTreeSet<T>);

/// `Trace` for a map that owns its keys and values.
macro_rules! trace_entries {
    ($($ty:ident<K, V $(, $extra:ident)*>),* $(,)?) => {$(
        // SAFETY: the map owns its keys and values; iteration visits each entry exactly once
        // and both halves are reported (a key may hold handles as well as a value). An extra
        // type parameter (a hasher) is not traced: a handle inside it would stay a root.
        unsafe impl<K: Trace, V: Trace $(, $extra)*> Trace for $ty<K, V $(, $extra)*> {
            const HOLDS_HANDLES: bool = K::HOLDS_HANDLES || V::HOLDS_HANDLES;
            const PLAIN_DROP: bool =
                K::PLAIN_DROP && V::PLAIN_DROP $(&& !std::mem::needs_drop::<$extra>())*;

            #[inline]
            fn trace(&self, tracer: &mut Tracer) {
                if !Self::HOLDS_HANDLES {
                    return;
                }
                for (key, value) in self {
                    if K::HOLDS_HANDLES {
                        key.trace(tracer);
                    }
                    if V::HOLDS_HANDLES {
                        value.trace(tracer);
                    }
                }
            }
        }
    )*};
}

trace_entries!(HashMap<K, V, S>, BTreeMap<K, V>);
