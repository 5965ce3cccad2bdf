//! Threads parked inside the library, whose exclusive cell borrows the marker may read.
//!
//! The marker never skips a cell (a skipped cell is how a handle hides from a concurrent
//! marker): it waits for a mutable borrow to end. A thread that blocks *inside this library*
//! while holding borrows (in `collect()`, in an allocation waiting for the collector, waiting
//! for another cell) is parked: it runs no user code until it unparks, so the marker may read
//! the cells it holds without waiting, which keeps `collect()` inside a `borrow_mut` from
//! deadlocking.
//!
//! The handshake is Dekker-style, all `SeqCst`: the marker sets `reading`, then checks
//! `parked`; a thread clears `parked`, then waits while `reading` is set. Whichever order the
//! two stores take, either the marker sees the thread unparked (and does not read), or the
//! thread sees the marker reading (and waits for it to finish before running user code).

use crate::primitive::{self, global, local, AtomicBool, Ordering, RwLock};
use std::collections::HashMap;
use std::sync::Arc;

/// Park state of one thread.
#[derive(Default)]
struct ParkState {
    parked: AtomicBool,
    reading: AtomicBool,
}

global! {
    /// Park states by thread token (see `token`).
    static STATES: RwLock<Option<HashMap<u64, Arc<ParkState>>>> = RwLock::new(None);
}

local! {
    /// This thread's token (nonzero) and park state.
    static ME: (u64, Arc<ParkState>) = {
        // A plain std atomic: only uniqueness matters, not ordering with the protocol.
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        // Relaxed: only uniqueness matters.
        let token = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let state = Arc::new(ParkState::default());
        STATES.write().get_or_insert_with(HashMap::new).insert(token, Arc::clone(&state));
        (token, state)
    };
}

/// Forgets a thread's park state when the thread exits.
#[cfg_attr(
    loom,
    expect(
        dead_code,
        reason = "the token is only used to unregister outside loom"
    )
)]
struct Unregister(u64);

impl Drop for Unregister {
    fn drop(&mut self) {
        // Under loom, thread-locals outlive the execution's statics: the map is gone then.
        #[cfg(not(loom))]
        if let Some(m) = STATES.write().as_mut() {
            m.remove(&self.0);
        }
    }
}

local! {
    static UNREGISTER: Unregister = Unregister(token());
}

/// This thread's nonzero token, or 0 while the thread is being torn down.
pub(crate) fn token() -> u64 {
    ME.try_with(|(t, _)| *t).unwrap_or(0)
}

/// While alive, the current thread counts as parked. Dropping it waits for a marker that is
/// reading this thread's cells.
pub(crate) struct Parked(Option<Arc<ParkState>>);

/// Marks the current thread parked until the guard drops.
pub(crate) fn park() -> Parked {
    let _ = UNREGISTER.try_with(|_| ());
    let state = ME.try_with(|(_, s)| Arc::clone(s)).ok();
    if let Some(s) = &state {
        // SeqCst: the Dekker handshake with `read_if_parked`.
        s.parked.store(true, Ordering::SeqCst);
        primitive::sc_fence();
    }
    Parked(state)
}

impl Drop for Parked {
    fn drop(&mut self) {
        if let Some(s) = &self.0 {
            // SeqCst: the Dekker handshake with `read_if_parked`.
            s.parked.store(false, Ordering::SeqCst);
            primitive::sc_fence();
            while s.reading.load(Ordering::SeqCst) {
                primitive::yield_now();
            }
        }
    }
}

/// Runs `read` if the thread with `token` is parked, keeping it parked until `read` returns.
/// `still_holds` re-checks, after the handshake, that the thread still holds what `read`
/// reads. Returns false (without running `read`) otherwise. Collector only.
pub(crate) fn read_if_parked(
    token: u64,
    still_holds: impl Fn() -> bool,
    read: impl FnOnce(),
) -> bool {
    if token == 0 {
        return false;
    }
    let Some(state) = STATES.read().as_ref().and_then(|m| m.get(&token).cloned()) else {
        return false;
    };
    // SeqCst: the Dekker handshake with `Parked::drop`.
    state.reading.store(true, Ordering::SeqCst);
    primitive::sc_fence();
    let ok = state.parked.load(Ordering::SeqCst) && still_holds();
    if ok {
        read();
    }
    state.reading.store(false, Ordering::SeqCst);
    ok
}
