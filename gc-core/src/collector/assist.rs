//! Mark assists: an allocating thread that has outrun the collector (its heap is past the
//! goal) scans grey objects for the marker instead of only waiting, as Go's mutator assists
//! do.
//!
//! The marker shares work only while some thread wants it: it moves half of its grey stack, in
//! one batch, to the shared pool. An assisting thread takes a batch, scans it (and what it
//! shades) with its own tracer until its time is up, and gives back what is left. The marker
//! takes batches back whenever its own stack runs dry, and ends marking only when the pool is
//! empty and no assist holds a batch (`in_flight`, changed under the pool's lock, so a batch
//! is always either in the pool, with the marker, or counted in flight).
//!
//! An assist never waits for a cell: one that a thread holds mutably (possibly the assisting
//! thread itself, inside a `borrow_mut`) makes the assist give the whole object back to the
//! marker, which reads it as it reads any held cell. A `Trace` impl that panics in an assist
//! makes the cycle free nothing, as it does in the marker.

use super::state;
use crate::heap::header::Header;
use crate::heap::ObjPtr;
use crate::primitive::{self, global, AtomicBool, AtomicU64, AtomicUsize, Mutex, Ordering};
use crate::trace::{TraceMode, Tracer};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr::NonNull;
use std::time::Instant;

/// Grey objects shared with assists, and how many assists hold a batch.
struct Pool {
    batches: Vec<Vec<ObjPtr>>,
    in_flight: usize,
}

global! {
    static POOL: Mutex<Pool> = Mutex::new(Pool {
        batches: Vec::new(),
        in_flight: 0,
    });
}

global! {
    /// Threads that want to assist now. `Relaxed`: a hint for the marker to share work (a
    /// missed increment only delays sharing until its next check).
    static WANTED: AtomicUsize = AtomicUsize::new(0);
}

global! {
    /// A `Trace` impl panicked in an assist this cycle. `Relaxed`: set before the batch's
    /// `in_flight` decrement under the pool's lock, read by the marker after it saw no batch
    /// in flight under that lock.
    static PANICKED: AtomicBool = AtomicBool::new(false);
}

global! {
    /// Objects scanned by assists, ever (a statistic, `Relaxed`).
    static SCANNED: AtomicU64 = AtomicU64::new(0);
}

/// The marker shares work when its stack holds at least this many objects (one under loom,
/// whose models hold a handful).
#[cfg(not(loom))]
const SHARE_MIN: usize = 64;
#[cfg(loom)]
const SHARE_MIN: usize = 1;

/// The marker checks whether to share after this many scans.
#[cfg(not(loom))]
pub(crate) const SHARE_EVERY: u32 = 256;
#[cfg(loom)]
pub(crate) const SHARE_EVERY: u32 = 1;

/// The most objects one shared batch holds.
const SHARE_MAX: usize = 4096;

/// Objects scanned by assists so far.
pub(crate) fn scanned() -> u64 {
    SCANNED.load(Ordering::Relaxed)
}

/// Marker: if a thread wants to assist and nothing is waiting in the pool, moves the older
/// half of `grey` (at most [`SHARE_MAX`]) there.
pub(crate) fn share(grey: &mut Vec<NonNull<Header>>) {
    if WANTED.load(Ordering::Relaxed) == 0 || grey.len() < SHARE_MIN {
        return;
    }
    let mut pool = POOL.lock();
    if !pool.batches.is_empty() {
        return;
    }
    let n = grey.len().div_ceil(2).min(SHARE_MAX);
    pool.batches.push(grey.drain(..n).map(ObjPtr).collect());
}

/// Marker: takes every batch in the pool into `grey`; returns true if an assist still holds
/// a batch (marking cannot end yet).
pub(crate) fn take_back(grey: &mut Vec<NonNull<Header>>) -> bool {
    let mut pool = POOL.lock();
    for batch in pool.batches.drain(..) {
        grey.extend(batch.into_iter().map(|o| o.0));
    }
    pool.in_flight > 0
}

/// Marker, when marking ends (normally or because a `Trace` impl panicked): waits until no
/// assist holds a batch and empties the pool, so that no assist of this cycle shades anything
/// once the phase moves on. Returns true if an assist's `Trace` impl panicked this cycle.
pub(crate) fn finish_marking() -> bool {
    loop {
        {
            let mut pool = POOL.lock();
            if pool.in_flight == 0 {
                pool.batches.clear();
                break;
            }
        }
        primitive::yield_now();
    }
    PANICKED.swap(false, Ordering::Relaxed)
}

/// Counts the calling thread as wanting work while alive.
struct Wanting;

impl Wanting {
    fn new() -> Wanting {
        WANTED.fetch_add(1, Ordering::Relaxed);
        Wanting
    }
}

impl Drop for Wanting {
    fn drop(&mut self) {
        WANTED.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A batch taken from the pool: what is left of it (and what its scans shaded) goes back to
/// the pool when dropped, also if a scan panics, and the batch stops counting as in flight.
struct Taken {
    left: Vec<ObjPtr>,
}

impl Taken {
    fn take() -> Option<Taken> {
        let mut pool = POOL.lock();
        let batch = pool.batches.pop()?;
        pool.in_flight += 1;
        Some(Taken { left: batch })
    }
}

impl Drop for Taken {
    fn drop(&mut self) {
        let mut pool = POOL.lock();
        if !self.left.is_empty() {
            pool.batches.push(std::mem::take(&mut self.left));
        }
        pool.in_flight -= 1;
    }
}

/// Allocating thread past the heap goal: scans grey objects for the marker until `deadline`
/// (or, with `None`, until it has scanned one batch) or until no cycle is marking. Returns
/// at once if no cycle is marking.
pub(crate) fn help(deadline: Option<Instant>) {
    if !state::load().is_marking() {
        return;
    }
    let _wanting = Wanting::new();
    while state::load().is_marking() {
        let Some(mut taken) = Taken::take() else {
            if deadline.is_none_or(|d| Instant::now() >= d) {
                return;
            }
            // Nothing shared yet: give the marker a moment to see that work is wanted.
            primitive::yield_now();
            continue;
        };
        // The batch is this cycle's: marking cannot end while it is in flight, so the phase
        // read now is the one it was shaded in.
        let epoch = state::load().epoch();
        let scanned = catch_unwind(AssertUnwindSafe(|| scan(&mut taken, epoch, deadline)));
        match scanned {
            Ok(n) => {
                SCANNED.fetch_add(n, Ordering::Relaxed);
            }
            Err(_) => {
                PANICKED.store(true, Ordering::Relaxed);
                return;
            }
        }
        if deadline.is_none_or(|d| Instant::now() >= d) {
            return;
        }
    }
}

/// Scans the objects of `taken` and those the scans shade, until none is left or `deadline`
/// passes; leaves the rest in `taken`. Returns how many it scanned.
fn scan(taken: &mut Taken, epoch: u32, deadline: Option<Instant>) -> u64 {
    let mut tracer = Tracer::new(TraceMode::Mark, epoch);
    tracer.defer_held_cells = true;
    let mut n = 0u64;
    while let Some(o) = taken.left.pop() {
        // SAFETY: a grey object is marked this cycle, so it is not swept this cycle, and the
        // cycle cannot leave marking while this batch is in flight.
        let h = unsafe { o.0.as_ref() };
        if h.vtable.holds_handles {
            tracer.deferred = false;
            // SAFETY: `o` heads a live block of the vtable's type.
            unsafe { (h.vtable.trace)(o.0, &mut tracer) };
            if tracer.deferred {
                // A held cell: the marker scans the object again, waiting for the cell.
                crate::barrier::push_grey(o.0);
            }
        }
        taken.left.extend(tracer.grey.drain(..).map(ObjPtr));
        n += 1;
        if n.is_multiple_of(64) && deadline.is_some_and(|d| Instant::now() >= d) {
            break;
        }
    }
    n
}
