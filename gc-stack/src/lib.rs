//! Per-thread stack tracker for the `gc-core` heap.
//!
//! Every thread that uses the heap registers here on first use and unregisters when it exits.
//! The registry is what the collector asks for the number of mutator threads and for the bytes
//! held on thread stacks (the `MB stacks` field of a gctrace line and the pacer's stack term).
//!
//! ```
//! gc_stack::register_current_thread();
//! assert!(gc_stack::thread_count() >= 1);
//! ```

mod registry;

pub use registry::{register_current_thread, thread_count, total_stack_bytes, ThreadRecord};
