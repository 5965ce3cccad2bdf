//! `StackRoot`: a value placed in a frame.

use std::fmt;
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};
use std::ptr::NonNull;

/// A value placed in a [`Frame`](crate::Frame): it lives in the frame's memory, not on the
/// heap, and is dropped when the frame ends (values placed later are dropped first).
///
/// It derefs to the value. It cannot outlive its frame (the `'frame` lifetime is the frame's,
/// which ends inside [`frame`](crate::frame)), and it is neither `Send` nor `Sync`: a frame
/// belongs to one thread. `Gc` handles inside a placed value are held from outside the heap, so
/// their targets stay alive for as long as the frame does, with nothing to register.
///
/// Dropping or forgetting a `StackRoot` does nothing: the frame owns the value.
///
/// ```
/// gc_stack::frame(|f| {
///     let mut v = f.place(vec![1, 2]);
///     v.push(3);
///     assert_eq!(v.len(), 3);
/// });
/// ```
pub struct StackRoot<'frame, T> {
    value: NonNull<T>,
    /// Unique access to a value that lives as long as the frame.
    frame: PhantomData<&'frame mut T>,
    /// A frame value belongs to its thread.
    not_send: PhantomData<*mut ()>,
}

impl<'frame, T> StackRoot<'frame, T> {
    /// Wraps a value placed in a frame.
    ///
    /// # Safety
    /// `value` points to an initialised `T` in a frame that lives for `'frame`, and no other
    /// `StackRoot` or reference points to it.
    pub(crate) unsafe fn new(value: NonNull<T>) -> Self {
        StackRoot {
            value,
            frame: PhantomData,
            not_send: PhantomData,
        }
    }
}

impl<T> Deref for StackRoot<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: `new`'s contract: the value is initialised and lives as long as the frame,
        // which outlives `self`; `&self` only allows shared access.
        unsafe { self.value.as_ref() }
    }
}

impl<T> DerefMut for StackRoot<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`; `self` is the only access path to the value (`new`'s
        // contract), and `&mut self` makes this access unique.
        unsafe { self.value.as_mut() }
    }
}

impl<T: fmt::Debug> fmt::Debug for StackRoot<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: fmt::Display> fmt::Display for StackRoot<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}
