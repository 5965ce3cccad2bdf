//! A concurrent, garbage-collected heap for Rust, modelled on the Go runtime.
//!
//! - [`Gc<T>`]: a `Send + Sync` handle to a value on the one shared heap; cycles are collected.
//! - `#[derive(Trace)]`: how the collector finds the handles inside your types.
//! - [`GcCell<T>`]: interior mutability (a `RwLock` that panics instead of deadlocking on its
//!   own thread) with the collector's write barrier.
//! - [`GcWeak<T>`], [`GcGlobal<T>`], [`add_cleanup`]: weak references, static roots, and
//!   cleanups that run after an object dies.
//! - Go's knobs: [`collect`] (`runtime.GC`), [`keep_alive`], [`set_gc_percent`] (`GOGC`),
//!   [`set_memory_limit`] (`GOMEMLIMIT`), [`stats`] (`ReadMemStats`), and a gctrace line;
//!   [`set_low_latency`] trades CPU for shorter mutator pauses (on by default).
//!
//! A background collector thread marks and sweeps while your threads run: no stack scanning,
//! no stop-the-world marking. Roots are inferred: every handle counts itself in its object, a
//! cycle counts the handles it finds inside the heap, and an object with more handles than
//! that is held from outside. See `ARCHITECTURE.md` for the design and why it is sound.
//!
//! ```
//! use gc_core::{collect, Gc, GcCell, Trace};
//!
//! #[derive(Trace)]
//! struct Node { id: u64, next: GcCell<Option<Gc<Node>>> }
//!
//! let a = Gc::new(Node { id: 1, next: GcCell::new(None) });
//! *a.next.borrow_mut() = Some(a.clone());   // a cycle
//! let w = Gc::downgrade(&a);
//! drop(a);
//! collect();                                // blocks until a full cycle is done
//! assert!(w.upgrade().is_none());
//! ```
//!
//! # Environment
//! Read once, when the heap is first used:
//! - `GC_PERCENT`: like `GOGC`; an integer percent (default 100) or `off`.
//! - `GC_MEMORY_LIMIT`: like `GOMEMLIMIT`; bytes with an optional `KiB`, `MiB`, `GiB` or `TiB`
//!   suffix, or `off` (default).
//! - `GC_TRACE=1`: like `GODEBUG=gctrace=1`; one line per cycle on stderr, in Go's format.
//!
//! # Cleanup instead of `Drop`
//! A traced type must not implement `Drop` (the derive rejects it): when a cycle frees a group
//! of objects, a `Drop` could read one that is already gone. Put a resource that needs closing
//! in a field whose own type implements `Drop` (a `File`, a socket), or register a cleanup with
//! [`add_cleanup`], which runs after the object is freed and cannot observe it.

mod barrier;
mod biased_lock;
mod cell;
mod cleanup;
mod collector;
mod gc;
mod global;
mod heap;
mod park;
mod primitive;
mod spin_lock;
mod stats;
mod trace;
mod trace_impls;
mod weak;

pub use cell::{BorrowError, BorrowMutError, GcCell, GcRef, GcRefMut};
pub use cleanup::add_cleanup;
pub use collector::collect;
pub use gc::{keep_alive, Gc};
/// `#[escape]`: Go's escape analysis on a function or an `impl` block. Reports each
/// allocation's decision (`GC_ESCAPE_REPORT=1`), rejects escapes (`#[escape(deny)]`), or places
/// the allocations that do not escape in a [`frame`] (`#[escape(place)]`).
///
/// ```
/// #[gc_core::escape(place)]
/// fn sum(n: u64) -> u64 {
///     let a = gc_core::Gc::new(n); // does not escape: a frame value, not a heap object
///     *a + 1
/// }
/// assert_eq!(sum(41), 42);
/// ```
pub use gc_derive::escape;
pub use gc_derive::Trace;
/// Frames on the calling thread's stack (Go's goroutine stack): [`frame`] opens one,
/// [`Frame::place`] moves a value into it as a [`StackRoot`] (no heap object; dropped when the
/// frame ends), and [`set_max_stack`] bounds a thread's frames like Go's `debug.SetMaxStack`.
/// `Gc` handles inside a placed value keep their targets alive: they are held from outside
/// the heap, so they are roots.
///
/// ```
/// use gc_core::{frame, Gc};
///
/// let n = frame(|f| {
///     let pair = f.place((Gc::new(1u32), Gc::new(2u32)));
///     *pair.0 + *pair.1
/// });
/// assert_eq!(n, 3);
/// ```
pub use gc_stack::{frame, set_max_stack, Frame, StackRoot};
pub use global::GcGlobal;
pub use stats::{stats, GcStats};
pub use trace::{Trace, Tracer};
pub use weak::GcWeak;

/// Sets the collection target percent, like Go's `debug.SetGCPercent`, and returns the
/// previous value. A cycle is triggered when the heap reaches `live + (live + stacks) *
/// percent / 100` bytes (at least 4 MiB x percent / 100). A negative percent disables automatic
/// cycles (unless the memory limit is reached); [`collect`] still works. The default is 100,
/// or `GC_PERCENT` from the environment.
///
/// ```
/// let old = gc_core::set_gc_percent(200);
/// assert_eq!(gc_core::set_gc_percent(old), 200);
/// ```
pub fn set_gc_percent(percent: i64) -> i64 {
    collector::pacer::set_percent(percent)
}

/// Chooses between short mutator pauses (on, the default, or `GC_LOW_LATENCY=1`) and less
/// CPU spent by the collector (off, or `GC_LOW_LATENCY=0`); returns the previous setting.
///
/// On: the collector thread runs at idle CPU priority where the system lets it (Linux, with
/// the privilege to raise it back: root or an `RLIMIT_NICE` of 20), like Go's idle mark
/// workers, so it never preempts a mutator; it is raised back when the heap passes 1.5 times
/// its goal or a waiting thread finds it starved. An allocating thread that must wait for the
/// collector (past the heap goal) spins instead of sleeping, since waking a sleeping thread can
/// take milliseconds. Off: the collector runs at normal priority and such waits sleep, which
/// leaves more CPU to other work.
///
/// ```
/// let was = gc_core::set_low_latency(false);
/// assert!(was);
/// gc_core::set_low_latency(was);
/// ```
pub fn set_low_latency(on: bool) -> bool {
    collector::pacer::set_low_latency(on)
}

/// Turns the per-cycle gctrace line on stderr on or off, like setting `GC_TRACE=1` (Go's
/// `GODEBUG=gctrace=1`) before start-up; returns the previous setting.
///
/// ```
/// let was = gc_core::set_gctrace(true);
/// gc_core::collect(); // prints e.g. `gc 3 @0.012s 1%: 0.004+0.21+0.010 ms clock, ...`
/// gc_core::set_gctrace(was);
/// ```
pub fn set_gctrace(on: bool) -> bool {
    collector::pacer::set_trace(on)
}

/// Sets a soft memory limit in bytes for the heap, like Go's `debug.SetMemoryLimit`, and
/// returns the previous one: cycles run when the heap reaches it, even with the percent
/// disabled. `u64::MAX` (the default, or `GC_MEMORY_LIMIT` from the environment) means none.
///
/// ```
/// let old = gc_core::set_memory_limit(1 << 30);
/// assert_eq!(gc_core::set_memory_limit(old), 1 << 30);
/// ```
pub fn set_memory_limit(bytes: u64) -> u64 {
    collector::pacer::set_limit(bytes)
}

/// Model checks only: runs one mark assist on the calling thread, as an allocating thread past
/// the heap goal would (parked, one batch of the marker's shared work if there is one).
#[cfg(loom)]
#[doc(hidden)]
pub fn model_assist() {
    let _parked = park::park();
    collector::assist::help(None);
}

/// Model checks only: sweeps for the collector on the calling thread, as an allocating thread
/// past the heap goal would while a cycle sweeps (every piece it can claim); returns how many
/// objects it swept.
#[cfg(loom)]
#[doc(hidden)]
pub fn model_sweep_assist() -> u64 {
    let far = std::time::Instant::now() + std::time::Duration::from_secs(3600);
    collector::sweep::help(far, || false)
}
