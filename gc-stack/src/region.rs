//! A bump region: the memory of one frame, growing by segments taken from the thread's tracker.

use crate::segment::{self, SegmentHeader};
use crate::tracker;
use std::alloc::Layout;
use std::cell::Cell;
use std::ptr::{self, NonNull};

/// Bytes of a frame's first segment; each further one doubles, up to `MAX_GROWTH`.
const FIRST_SEGMENT: usize = 4 * 1024;
const MAX_GROWTH: usize = 1024 * 1024;

/// The segments of one frame and its bump cursor. Gives its segments back when dropped.
pub(crate) struct Region {
    /// Next free byte of the newest segment (null before the first).
    cursor: Cell<*mut u8>,
    /// One past the last byte of the newest segment.
    end: Cell<*mut u8>,
    /// The newest segment; older ones are chained through `prev`.
    newest: Cell<Option<NonNull<SegmentHeader>>>,
}

impl Region {
    pub(crate) const fn new() -> Region {
        Region {
            cursor: Cell::new(ptr::null_mut()),
            end: Cell::new(ptr::null_mut()),
            newest: Cell::new(None),
        }
    }

    /// Uninitialised memory for `layout`, valid until the region is dropped.
    pub(crate) fn alloc(&self, layout: Layout) -> NonNull<u8> {
        let cursor = self.cursor.get();
        if !cursor.is_null() {
            let pad = cursor.align_offset(layout.align());
            let room = self.end.get() as usize - cursor as usize;
            if pad <= room && layout.size() <= room - pad {
                // SAFETY: `pad + size <= room`, so both offsets stay inside the segment.
                let start = unsafe { cursor.add(pad) };
                // SAFETY: as above.
                self.cursor.set(unsafe { start.add(layout.size()) });
                // SAFETY: `start` is derived from a non-null segment pointer by an in-bounds
                // offset, so it is not null.
                return unsafe { NonNull::new_unchecked(start) };
            }
        }
        self.grow(layout)
    }

    #[cold]
    fn grow(&self, layout: Layout) -> NonNull<u8> {
        let needed = segment::size_for(layout)
            .unwrap_or_else(|| panic!("a {}-byte value is larger than memory", layout.size()));
        let previous = self
            .newest
            .get()
            // SAFETY: the region's segments are live until it is dropped.
            .map_or(FIRST_SEGMENT / 2, |s| unsafe { s.as_ref().size });
        let size = needed.max((previous * 2).min(MAX_GROWTH));
        let mut seg = tracker::acquire(size);
        // SAFETY: `seg` was just handed to this region and no one else refers to it.
        unsafe { seg.as_mut().prev = self.newest.replace(Some(seg)) };
        // SAFETY: `seg` is live.
        let (start, end) = unsafe { segment::space(seg) };
        self.cursor.set(start);
        self.end.set(end);
        self.alloc(layout)
    }
}

impl Drop for Region {
    fn drop(&mut self) {
        tracker::release(self.newest.take());
    }
}
