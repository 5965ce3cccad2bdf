//! Leaf types: values that can never hold a `Gc` handle.
//!
//! Each has `HOLDS_HANDLES = false` and an empty `trace`, so the collector never scans an
//! object of such a type, and containers of them skip their elements.
//!
//! `Box<str>` is covered by the generic `Box<T: ?Sized>` impl in `boxes` together with the
//! `str` impl here (a separate `Box<str>` impl would conflict with it).

use crate::trace::{Trace, Tracer};
use std::borrow::Cow;
use std::marker::PhantomData;
use std::num::{
    NonZeroI128, NonZeroI16, NonZeroI32, NonZeroI64, NonZeroI8, NonZeroIsize, NonZeroU128,
    NonZeroU16, NonZeroU32, NonZeroU64, NonZeroU8, NonZeroUsize,
};
use std::path::PathBuf;
use std::sync::atomic::{
    AtomicBool, AtomicI16, AtomicI32, AtomicI64, AtomicI8, AtomicIsize, AtomicU16, AtomicU32,
    AtomicU64, AtomicU8, AtomicUsize,
};
use std::time::{Duration, Instant, SystemTime};

/// Implements `Trace` for types that own no handle.
macro_rules! leaf_trace {
    ($($t:ty),* $(,)?) => {
        $(
            // SAFETY: a value of this type is plain data (numbers, text, time, atomics over
            // integers): it owns no `Gc` handle, so reporting none is exactly right, and
            // `HOLDS_HANDLES = false` is true of every value. Dropping one only frees memory.
            unsafe impl Trace for $t {
                const HOLDS_HANDLES: bool = false;
                const PLAIN_DROP: bool = true;

                #[inline]
                fn trace(&self, _tracer: &mut Tracer) {}
            }
        )*
    };
}

leaf_trace! {
    // Integers, floats and the other scalars.
    i8, i16, i32, i64, i128, isize,
    u8, u16, u32, u64, u128, usize,
    f32, f64, bool, char, (),
    // Text and paths.
    str, String, PathBuf,
    // Time.
    Duration, Instant, SystemTime,
    // Atomics over integers and `bool`: interior mutability, but never of a handle.
    AtomicBool, AtomicI8, AtomicI16, AtomicI32, AtomicI64, AtomicIsize,
    AtomicU8, AtomicU16, AtomicU32, AtomicU64, AtomicUsize,
    // Non-zero integers.
    NonZeroI8, NonZeroI16, NonZeroI32, NonZeroI64, NonZeroI128, NonZeroIsize,
    NonZeroU8, NonZeroU16, NonZeroU32, NonZeroU64, NonZeroU128, NonZeroUsize,
}

// SAFETY: a `PhantomData<T>` is zero-sized and owns no value of `T`, hence no handle,
// whatever `T` is; reporting nothing is exact.
unsafe impl<T: ?Sized> Trace for PhantomData<T> {
    const HOLDS_HANDLES: bool = false;
    const PLAIN_DROP: bool = true;

    #[inline]
    fn trace(&self, _tracer: &mut Tracer) {}
}

// SAFETY: a `Cow<str>` is either a borrowed `&str` or an owned `String`: text either way, no
// handle (and a borrowed one points outside the value, so would not be reported anyway).
unsafe impl Trace for Cow<'_, str> {
    const HOLDS_HANDLES: bool = false;
    const PLAIN_DROP: bool = true;

    #[inline]
    fn trace(&self, _tracer: &mut Tracer) {}
}
