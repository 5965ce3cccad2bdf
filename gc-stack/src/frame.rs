//! Frames: scoped bump regions whose values are dropped, in reverse order, when they end.

use crate::region::Region;
use crate::root::StackRoot;
use std::alloc::Layout;
use std::cell::Cell;
use std::marker::PhantomData;
use std::mem;
use std::ptr::NonNull;

/// A frame of the calling thread's stack: values placed in it with [`Frame::place`] live in
/// its memory and are dropped when [`frame`] returns (or unwinds), newest first.
///
/// A `Frame` is only reachable inside [`frame`]'s closure, and is neither `Send` nor `Sync`.
///
/// ```
/// let sum = gc_stack::frame(|f| {
///     let a = f.place(20);
///     let b = f.place(22);
///     *a + *b
/// });
/// assert_eq!(sum, 42);
/// ```
pub struct Frame<'frame> {
    /// The placed values that need dropping.
    drops: DropList,
    /// Dropped after `drops` are run, even if one of them panics.
    region: Region,
    /// `'frame` is invariant, so it cannot be stretched or shrunk to match another frame's.
    invariant: PhantomData<Cell<&'frame ()>>,
}

/// The newest placed value that needs dropping; older ones are chained through `prev`. Runs
/// the drops when dropped (a type of its own, free of `'frame`, so that the frame's borrow may
/// last until the frame is dropped).
struct DropList(Cell<Option<NonNull<DropEntry>>>);

/// Written just before a placed value that needs dropping.
#[repr(C)]
struct DropEntry {
    prev: Option<NonNull<DropEntry>>,
    /// Drops the value that follows this entry.
    drop_value: unsafe fn(NonNull<DropEntry>),
}

/// The layout of an entry followed by a `T`, and the offset of the `T`.
fn entry_layout<T>() -> (Layout, usize) {
    Layout::new::<DropEntry>()
        .extend(Layout::new::<T>())
        .expect("an entry and a value that fits in memory")
}

/// # Safety
/// `entry` was written by `Frame::place::<T>` and its value has not been dropped.
unsafe fn drop_value<T>(entry: NonNull<DropEntry>) {
    let offset = entry_layout::<T>().1;
    // SAFETY: `place::<T>` wrote an initialised `T` at this offset after the entry, and the
    // caller promises it has not been dropped yet.
    unsafe {
        entry
            .as_ptr()
            .cast::<u8>()
            .add(offset)
            .cast::<T>()
            .drop_in_place()
    };
}

impl<'frame> Frame<'frame> {
    /// Moves `value` into the frame and returns a handle to it, valid until the frame ends.
    ///
    /// The value must be `'static` (as a heap object's must): a placed value that borrowed from
    /// the frame could be dropped after what it borrows, since the frame's end drops its values
    /// without knowing their types.
    ///
    /// Panics with `thread stack exceeds N-byte limit` if the frame must grow past the
    /// thread's [`set_max_stack`](crate::set_max_stack) limit (`value` is then dropped).
    ///
    /// ```
    /// gc_stack::frame(|f| {
    ///     let name = f.place(String::from("gopher"));
    ///     assert_eq!(name.len(), 6);
    /// });
    /// ```
    pub fn place<T: 'static>(&'frame self, value: T) -> StackRoot<'frame, T> {
        let slot = if mem::needs_drop::<T>() {
            let (layout, offset) = entry_layout::<T>();
            let entry = self.region.alloc(layout).cast::<DropEntry>();
            // SAFETY: `alloc` returned memory for `layout`, whose first bytes hold an entry
            // (aligned: the layout starts with one) and whose bytes at `offset` hold a `T`.
            unsafe {
                entry.as_ptr().write(DropEntry {
                    prev: self.drops.0.get(),
                    drop_value: drop_value::<T>,
                });
                entry.cast::<u8>().add(offset).cast::<T>()
            }
        } else {
            self.region.alloc(Layout::new::<T>()).cast::<T>()
        };
        // SAFETY: `slot` is aligned memory for a `T` that lives as long as the region.
        unsafe { slot.as_ptr().write(value) };
        if mem::needs_drop::<T>() {
            // The value is written: only now may the frame's end drop it.
            // SAFETY: `slot` follows its entry by `offset` bytes (written above).
            let entry = unsafe { slot.cast::<u8>().sub(entry_layout::<T>().1) };
            self.drops.0.set(Some(entry.cast()));
        }
        // SAFETY: `slot` holds an initialised `T` in this frame's memory, which is freed only
        // when the frame ends, after `'frame` (the frame is borrowed for `'frame`); this is the
        // only handle to it.
        unsafe { StackRoot::new(slot) }
    }
}

impl Drop for DropList {
    fn drop(&mut self) {
        // If a value's drop panics, the older ones are leaked; the region still frees the
        // memory (it is a field, dropped during the unwind).
        while let Some(entry) = self.0.get() {
            // SAFETY: entries are live frame memory until the region is dropped, after this.
            let DropEntry { prev, drop_value } = unsafe { entry.as_ptr().read() };
            self.0.set(prev);
            // SAFETY: each entry's value is dropped once: the entry is unlinked first.
            unsafe { drop_value(entry) };
        }
    }
}

/// Opens a frame on the calling thread's stack, runs `body` with it, and ends it: every value
/// placed in it is dropped, newest first, and its memory goes back to the thread's tracker,
/// also when `body` panics.
///
/// As with `std::thread::scope`, the frame's lifetime is chosen by `frame`, not by the caller,
/// so no [`StackRoot`] can leave `body`: the compiler rejects it.
///
/// ```
/// use gc_stack::frame;
///
/// let total = frame(|f| {
///     let xs = f.place([1u64, 2, 3]);
///     frame(|inner| *inner.place(xs.iter().sum::<u64>()))
/// });
/// assert_eq!(total, 6);
/// ```
pub fn frame<R>(body: impl for<'frame> FnOnce(&'frame Frame<'frame>) -> R) -> R {
    let frame = Frame {
        drops: DropList(Cell::new(None)),
        region: Region::new(),
        invariant: PhantomData,
    };
    body(&frame)
}
