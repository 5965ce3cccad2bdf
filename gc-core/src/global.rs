//! `GcGlobal<T>`: a static root, like a Go package-level variable.

use crate::barrier;
use crate::gc::Gc;
use crate::primitive::Mutex;
use std::fmt;

/// A `static` slot holding at most one handle. What it holds is a root: never collected while
/// it is there.
///
/// ```
/// use gc_core::{collect, Gc, GcGlobal};
///
/// static CONFIG: GcGlobal<String> = GcGlobal::new();
///
/// CONFIG.store(Some(Gc::new(String::from("v1"))));
/// collect();
/// assert_eq!(CONFIG.load().as_deref().map(String::as_str), Some("v1"));
/// let old = CONFIG.swap(None);
/// assert_eq!(old.as_deref().map(String::as_str), Some("v1"));
/// ```
pub struct GcGlobal<T: 'static> {
    slot: Mutex<Option<Gc<T>>>,
}

impl<T: 'static> GcGlobal<T> {
    /// An empty global, usable in a `static`.
    ///
    /// ```
    /// static G: gc_core::GcGlobal<u32> = gc_core::GcGlobal::new();
    /// assert!(G.load().is_none());
    /// ```
    #[cfg(not(loom))]
    pub const fn new() -> GcGlobal<T> {
        GcGlobal {
            slot: Mutex::new(None),
        }
    }

    /// An empty global (loom builds: not `const`).
    #[cfg(loom)]
    pub fn new() -> GcGlobal<T> {
        GcGlobal {
            slot: Mutex::new(None),
        }
    }

    /// A new handle to what the global holds.
    ///
    /// ```
    /// static G: gc_core::GcGlobal<u32> = gc_core::GcGlobal::new();
    /// G.store(Some(gc_core::Gc::new(4)));
    /// assert_eq!(G.load().map(|g| *g), Some(4));
    /// ```
    pub fn load(&self) -> Option<Gc<T>> {
        self.slot.lock().clone()
    }

    /// Replaces what the global holds; the old handle is dropped (and shaded first if a cycle
    /// is marking, by the handle's drop barrier).
    ///
    /// ```
    /// static G: gc_core::GcGlobal<u32> = gc_core::GcGlobal::new();
    /// G.store(Some(gc_core::Gc::new(1)));
    /// G.store(None);
    /// assert!(G.load().is_none());
    /// ```
    pub fn store(&self, value: Option<Gc<T>>) {
        drop(self.swap(value));
    }

    /// Replaces what the global holds and returns the old handle.
    ///
    /// ```
    /// static G: gc_core::GcGlobal<u32> = gc_core::GcGlobal::new();
    /// assert!(G.swap(Some(gc_core::Gc::new(1))).is_none());
    /// assert_eq!(G.swap(None).map(|g| *g), Some(1));
    /// ```
    pub fn swap(&self, value: Option<Gc<T>>) -> Option<Gc<T>> {
        let old = std::mem::replace(&mut *self.slot.lock(), value);
        if let Some(old) = &old {
            // The deletion barrier: the old value leaves a root the marker may not have seen.
            barrier::shade(old.header_ptr());
        }
        old
    }
}

impl<T: 'static> Default for GcGlobal<T> {
    fn default() -> GcGlobal<T> {
        GcGlobal::new()
    }
}

impl<T: fmt::Debug + 'static> fmt::Debug for GcGlobal<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("GcGlobal").field(&*self.slot.lock()).finish()
    }
}
