//! The write barrier: how mutators keep concurrent marking sound.
//!
//! Snapshot-at-the-beginning: while a cycle marks, any handle a mutator is about to hide from
//! the collector (overwritten or taken out of a cell, dropped, swapped out of a global) has its
//! target shaded grey first, and a weak upgrade shades what it revives. Shading happens under
//! the *gate*'s read lock; the collector ends marking only under its write lock with the grey
//! queue empty, so no shade can be in flight when marking ends.
//!
//! When no cycle is marking a barrier costs one load and a branch.

use crate::collector::state;
use crate::heap::header::Header;
use crate::heap::ObjPtr;
use crate::primitive::{
    global, AtomicU64, Mutex, Ordering, RwLock, RwLockReadGuard, RwLockWriteGuard,
};
use crate::trace::{Trace, TraceMode, Tracer};
use std::ptr::NonNull;

global! {
    /// Held for reading by a mutator while it shades; held for writing by the collector while it
    /// changes phase. The write side is the collector's only stop: it waits only for barriers
    /// already in flight, which never block.
    static GATE: RwLock<()> = RwLock::new(());
}

global! {
    /// Objects shaded by mutators, waiting for the collector to scan them.
    static GREY: Mutex<Vec<ObjPtr>> = Mutex::new(Vec::new());
}

/// How long a barrier waits for the gate before it boosts the collector, which may have been
/// preempted while holding it (it runs at idle priority: see `collector::priority`).
#[cfg(not(loom))]
const GATE_PATIENCE: std::time::Duration = std::time::Duration::from_micros(200);

/// Takes the gate for reading.
fn enter() -> RwLockReadGuard<'static, ()> {
    #[cfg(not(loom))]
    {
        if let Some(gate) = GATE.try_read_for(GATE_PATIENCE) {
            return gate;
        }
        crate::collector::boost_until_next_cycle();
    }
    GATE.read()
}

/// Shades `target` if a cycle is marking (the barrier on handle drop, global store and weak
/// upgrade).
#[inline]
pub(crate) fn shade(target: NonNull<Header>) {
    if state::load().is_marking() {
        shade_slow(target);
    }
}

#[cold]
fn shade_slow(target: NonNull<Header>) {
    // SAFETY: the caller holds a handle to `target` (or the weak slot lock of a target the
    // sweeper has not cleared), so its header is live.
    let header = unsafe { target.as_ref() };
    // Already shaded in the running cycle (or allocated black in it): whoever shaded it holds
    // the gate until it has queued it, so the gate is not needed to skip it. This is the
    // common case of a drop while marking (new objects are black).
    if header.is_marked(state::load().epoch()) {
        return;
    }
    let _gate = enter();
    let s = state::load();
    if s.is_marking() && header.try_shade(s.epoch()) {
        GREY.lock().push(ObjPtr(target));
    }
}

/// Shades every handle `value`, the contents of a cell, holds if a cycle is marking (the
/// barrier of a mutable borrow: the contents may be moved out or overwritten while the guard
/// lives), unless a borrow of the same cell already shaded them in this marking phase after
/// its roots were found. `shaded_in` is the cell's record of that; the caller holds the
/// cell's exclusive lock.
///
/// Once the roots are found, every object reachable then is marked by the end of the phase if
/// no handle to it leaves the heap unshaded: so the first borrow after that point shades what
/// the cell holds, and a handle stored into the cell since came from a local, which got it
/// from a root (marked), from a new object (black), or from the heap, whose barriers shaded
/// it on the way out (the first handle to leave unshaded would have had to enter a cell
/// after that cell's shade, from a local: none is first). Before the roots are found every
/// borrow shades: a handle moved between objects while the count phase runs can be counted
/// twice, and its target not taken for a root. So a cell of a million handles costs one
/// trace per cycle, not one per borrow.
#[inline]
pub(crate) fn shade_cell_contents<T: Trace + ?Sized>(value: &T, shaded_in: &AtomicU64) {
    if T::HOLDS_HANDLES && state::load().is_marking() {
        shade_cell_contents_slow(value, shaded_in);
    }
}

#[cold]
fn shade_cell_contents_slow<T: Trace + ?Sized>(value: &T, shaded_in: &AtomicU64) {
    let _gate = enter();
    let s = state::load();
    if !s.is_marking() {
        return;
    }
    let phase = state::marking_phase();
    let roots_found = phase.is_multiple_of(2);
    // Relaxed: the cell's exclusive lock orders `shaded_in` between its borrows.
    if roots_found && shaded_in.load(Ordering::Relaxed) == phase {
        return;
    }
    let mut pending = PushOnDrop(Tracer::new(TraceMode::Mark, s.epoch()));
    value.trace(&mut pending.0);
    if roots_found {
        // Only once the trace is complete (a panicking `Trace` leaves it to the next borrow).
        shaded_in.store(phase, Ordering::Relaxed);
    }
}

/// Pushes what a barrier tracer shaded, even if a `Trace` impl panics half-way: a shaded
/// object that never reaches the grey queue would be marked without being scanned.
struct PushOnDrop(Tracer);

impl Drop for PushOnDrop {
    fn drop(&mut self) {
        if !self.0.grey.is_empty() {
            GREY.lock().extend(self.0.grey.drain(..).map(ObjPtr));
        }
    }
}

/// Runs `f` with the phase stable: if a cycle is running, the gate is held for reading so the
/// collector cannot change phase until `f` returns. `f` gets the state it may rely on.
///
/// If the state read is `Idle` the gate is not taken: the collector may start a cycle while `f`
/// runs, so `f` must only do what is safe just before a cycle starts (an increment of a strong
/// count that precedes this read in program order is then seen by the next root phase, since
/// both are `SeqCst` and the phase change is ordered after this read).
pub(crate) fn with_stable_state<R>(f: impl FnOnce(state::State) -> R) -> R {
    let first = state::load();
    if first.phase() == state::Phase::Idle {
        return f(first);
    }
    let _gate = enter();
    f(state::load())
}

/// Runs `f` with the gate held for reading (the collector cannot change phase until `f`
/// returns), passing it the state, if the gate can be taken without waiting; `None` if the
/// collector holds it or is waiting for it (the caller then leaves its work to the collector
/// rather than delay a phase change).
pub(crate) fn try_with_gate<R>(f: impl FnOnce(state::State) -> R) -> Option<R> {
    let _gate = GATE.try_read()?;
    Some(f(state::load()))
}

/// Pushes an object a mutator shaded while holding the gate (see [`with_stable_state`]).
pub(crate) fn push_grey(obj: NonNull<Header>) {
    GREY.lock().push(ObjPtr(obj));
}

/// Takes the mutator-shaded objects. Collector only.
pub(crate) fn take_grey(into: &mut Vec<NonNull<Header>>) {
    into.extend(GREY.lock().drain(..).map(|o| o.0));
}

/// Forgets the mutator-shaded objects of an abandoned cycle. Collector only, gate held.
pub(crate) fn clear_grey() {
    GREY.lock().clear();
}

/// True if no mutator-shaded object is waiting. Collector only, with the gate held.
pub(crate) fn grey_is_empty() -> bool {
    GREY.lock().is_empty()
}

/// Stops barriers in flight from finishing until the guard drops. Collector only.
pub(crate) fn close_gate() -> RwLockWriteGuard<'static, ()> {
    GATE.write()
}
