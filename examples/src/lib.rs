//! Runnable programs for the `gc-core` heap (see `examples/`), and the gap histogram they and
//! the comparison program share.

mod gaps;

pub use gaps::GapHistogram;
