//! Helpers shared by the integration tests of the `gc-core` heap.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// Counts drops of the values it is embedded in.
///
/// ```
/// let c = tests::DropCounter::new();
/// drop(c.token());
/// assert_eq!(c.dropped(), 1);
/// ```
#[derive(Clone, Default, Debug)]
pub struct DropCounter(Arc<AtomicUsize>);

/// One drop to count; put it in a field of a heap value.
#[derive(Debug)]
pub struct DropToken(Arc<AtomicUsize>);

impl DropCounter {
    /// A counter at zero.
    pub fn new() -> DropCounter {
        DropCounter::default()
    }
    /// A token that increments the counter when dropped.
    pub fn token(&self) -> DropToken {
        DropToken(Arc::clone(&self.0))
    }
    /// Tokens dropped so far.
    pub fn dropped(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

impl Drop for DropToken {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

// SAFETY: a token holds no handle.
unsafe impl gc_core::Trace for DropToken {
    const HOLDS_HANDLES: bool = false;
    fn trace(&self, _: &mut gc_core::Tracer) {}
}
