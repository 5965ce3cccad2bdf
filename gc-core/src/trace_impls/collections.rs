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

    #[inline]
    fn trace(&self, tracer: &mut Tracer) {
        self.as_slice().trace(tracer);
    }
}

// SAFETY: a `VecDeque<T>` owns its elements; both halves of the ring buffer are visited, so
// each element is reported exactly once.
unsafe impl<T: Trace> Trace for VecDeque<T> {
    const HOLDS_HANDLES: bool = T::HOLDS_HANDLES;

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

// SAFETY: a `LinkedList<T>` owns its nodes and their elements; iteration visits each element
// exactly once.
unsafe impl<T: Trace> Trace for LinkedList<T> {
    const HOLDS_HANDLES: bool = T::HOLDS_HANDLES;

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

// SAFETY: a `BinaryHeap<T>` owns its elements; iteration (in arbitrary order) visits each
// exactly once.
unsafe impl<T: Trace> Trace for BinaryHeap<T> {
    const HOLDS_HANDLES: bool = T::HOLDS_HANDLES;

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

// SAFETY: a `HashMap` owns its keys and values; iteration visits each entry exactly once and
// both halves of it are reported (a key may hold handles as well as a value). The hasher is
// not traced (see the module docs).
unsafe impl<K: Trace, V: Trace, S> Trace for HashMap<K, V, S> {
    const HOLDS_HANDLES: bool = K::HOLDS_HANDLES || V::HOLDS_HANDLES;

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

// SAFETY: a `HashSet` owns its elements; iteration visits each exactly once. The hasher is
// not traced (see the module docs).
unsafe impl<T: Trace, S> Trace for HashSet<T, S> {
    const HOLDS_HANDLES: bool = T::HOLDS_HANDLES;

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

// SAFETY: a `BTreeMap` owns its keys and values; iteration visits each entry exactly once and
// both the key and the value are reported.
unsafe impl<K: Trace, V: Trace> Trace for BTreeMap<K, V> {
    const HOLDS_HANDLES: bool = K::HOLDS_HANDLES || V::HOLDS_HANDLES;

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

// SAFETY: a `BTreeSet` owns its elements; iteration visits each exactly once.
unsafe impl<T: Trace> Trace for BTreeSet<T> {
    const HOLDS_HANDLES: bool = T::HOLDS_HANDLES;

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
