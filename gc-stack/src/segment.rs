//! Segments: the blocks of memory a frame bumps through.
//!
//! A segment is one allocation with a [`SegmentHeader`] at its start and the bump space after
//! it. A frame chains the segments it uses through `prev`, newest first, and gives them back
//! to its thread's tracker when it ends.

use std::alloc::{self, Layout};
use std::mem;
use std::ptr::NonNull;

/// Alignment of every segment (and so of the first byte of its bump space).
const SEGMENT_ALIGN: usize = 16;

/// The start of a segment.
#[repr(C)]
pub(crate) struct SegmentHeader {
    /// The segment this one was chained after (in a frame or in the thread's pool).
    pub(crate) prev: Option<NonNull<SegmentHeader>>,
    /// Bytes of the whole allocation, header included.
    pub(crate) size: usize,
}

/// The bytes a segment needs so that a value of `layout` fits after the header whatever the
/// padding, or `None` if that overflows.
pub(crate) fn size_for(layout: Layout) -> Option<usize> {
    mem::size_of::<SegmentHeader>()
        .checked_add(layout.size())?
        .checked_add(layout.align())
}

fn layout_of(size: usize) -> Layout {
    Layout::from_size_align(size, SEGMENT_ALIGN)
        .unwrap_or_else(|_| panic!("a {size}-byte stack segment is larger than memory"))
}

/// Allocates a segment of `size` bytes (at least a header's).
pub(crate) fn allocate(size: usize) -> NonNull<SegmentHeader> {
    let size = size.max(mem::size_of::<SegmentHeader>());
    let layout = layout_of(size);
    // SAFETY: `layout` has a non-zero size (at least the header's).
    let raw = unsafe { alloc::alloc(layout) };
    let Some(seg) = NonNull::new(raw.cast::<SegmentHeader>()) else {
        alloc::handle_alloc_error(layout)
    };
    // SAFETY: `seg` is a fresh allocation of at least a header's size, aligned to 16 (more than
    // the header needs), so writing a header there is in bounds and aligned.
    unsafe { seg.as_ptr().write(SegmentHeader { prev: None, size }) };
    seg
}

/// Frees a segment.
///
/// # Safety
/// `seg` came from [`allocate`], has not been freed, and nothing placed in it is used again.
pub(crate) unsafe fn free(seg: NonNull<SegmentHeader>) {
    // SAFETY: the caller promises `seg` is a live segment, so its header is readable.
    let size = unsafe { seg.as_ref().size };
    // SAFETY: `seg` was allocated by `allocate` with exactly this layout (its size is recorded
    // in the header), and the caller promises it is not used again.
    unsafe { alloc::dealloc(seg.as_ptr().cast(), layout_of(size)) };
}

/// The first and one-past-the-last byte of a segment's bump space.
///
/// # Safety
/// `seg` is a live segment.
pub(crate) unsafe fn space(seg: NonNull<SegmentHeader>) -> (*mut u8, *mut u8) {
    // SAFETY: the caller promises `seg` is live, so its header is readable.
    let size = unsafe { seg.as_ref().size };
    let base = seg.as_ptr().cast::<u8>();
    // SAFETY: both offsets are within the allocation of `size` bytes (`size` is at least a
    // header's), the end being one past its last byte.
    unsafe { (base.add(mem::size_of::<SegmentHeader>()), base.add(size)) }
}
