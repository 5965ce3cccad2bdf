//! `set_max_stack`, like Go's `debug.SetMaxStack`.

use crate::tracker::{with_tracker, DEFAULT_MAX_STACK};

/// Sets the most bytes the calling thread's frames may hold, like Go's `debug.SetMaxStack`, and
/// returns the previous limit. The default is 1 GB (`1_000_000_000`, as Go on 64-bit). A frame
/// that would grow past it panics with `thread stack exceeds N-byte limit`; the unwind ends the
/// thread's frames and gives their memory back.
///
/// ```
/// let old = gc_stack::set_max_stack(64 * 1024);
/// assert_eq!(old, 1_000_000_000);
/// let grew = std::panic::catch_unwind(|| {
///     gc_stack::frame(|f| {
///         f.place([0u8; 100 * 1024]);
///     })
/// });
/// assert!(grew.is_err());
/// gc_stack::set_max_stack(old);
/// ```
pub fn set_max_stack(bytes: usize) -> usize {
    with_tracker(|t| t.map_or(DEFAULT_MAX_STACK, |t| t.set_max(bytes)))
}
