//! Per-thread stack tracker for the `gc-core` heap, like a goroutine's stack in Go.
//!
//! Every thread that uses the heap registers here on first use and unregisters when it exits.
//! The registry is what the collector asks for the number of mutator threads and for the bytes
//! held on thread stacks (the `MB stacks` field of a gctrace line and the pacer's stack term).
//!
//! A thread's stack is made of **frames**: [`frame`] opens one, [`Frame::place`] moves a value
//! into it and returns a [`StackRoot`], and the frame's end drops its values (newest first) and
//! gives its memory back. A frame is a bump region growing by segments: placing a value costs a
//! pointer bump, and the collector never sees it. [`set_max_stack`] bounds a thread's frames.
//!
//! ```
//! let len = gc_stack::frame(|f| {
//!     let words = f.place(vec!["stack", "frame"]);
//!     words.len()
//! });
//! assert_eq!(len, 2);
//! assert!(gc_stack::thread_count() >= 1);
//! ```

mod frame;
mod limit;
mod region;
mod registry;
mod root;
mod segment;
mod tracker;

pub use frame::{frame, Frame};
pub use limit::set_max_stack;
pub use registry::{register_current_thread, thread_count, total_stack_bytes, ThreadRecord};
pub use root::StackRoot;
