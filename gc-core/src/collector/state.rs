//! The collector's phase and epoch, packed in one word so a mutator reads both at once.

use crate::heap::header::is_retired;
use crate::primitive::{global, AtomicU64, Ordering};

/// What mutators must do right now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Phase {
    /// No cycle is running: barriers are off.
    Idle = 0,
    /// Counting, root finding and marking: barriers are on, allocation is black.
    Mark = 1,
    /// Marking has ended; dead objects are being dropped and freed. Barriers are off and a weak
    /// upgrade of an unmarked object fails.
    Sweep = 2,
}

/// A snapshot of the state word.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct State(u64);

impl State {
    pub(crate) fn new(epoch: u32, phase: Phase) -> State {
        State((u64::from(epoch) << 8) | phase as u64)
    }

    /// The epoch of the current (or, between cycles, the last) cycle.
    pub(crate) fn epoch(self) -> u32 {
        (self.0 >> 8) as u32
    }

    pub(crate) fn phase(self) -> Phase {
        match self.0 & 0xff {
            0 => Phase::Idle,
            1 => Phase::Mark,
            _ => Phase::Sweep,
        }
    }

    /// True while write barriers must shade.
    #[inline]
    pub(crate) fn is_marking(self) -> bool {
        self.0 & 0xff == Phase::Mark as u64
    }

    /// True while the cycle sweeps.
    #[inline]
    pub(crate) fn is_sweeping(self) -> bool {
        self.0 & 0xff == Phase::Sweep as u64
    }
}

/// The epoch the next cycle uses: never 0 (the untagged internal count) nor a retired mark
/// value ([`RETIRING`](crate::heap::header::RETIRING) and the others).
pub(crate) fn next_epoch(epoch: u32) -> u32 {
    match epoch.wrapping_add(1) {
        e if e == 0 || is_retired(e) => 1,
        e => e,
    }
}

global! {
    /// The state word. Written only by the collector, under the barrier gate's write lock.
    static STATE: AtomicU64 = AtomicU64::new((1 << 8) | Phase::Idle as u64);
}

/// Reads the state. `SeqCst`: pairs with the collector's `SeqCst` store in [`store`], so a
/// mutator's barrier check and its handle-count update are ordered with the collector's phase
/// change and its count reads in one total order (on x86 this is a plain load).
#[inline]
pub(crate) fn load() -> State {
    crate::primitive::sc_fence();
    State(STATE.load(Ordering::SeqCst))
}

/// Publishes a new state. Collector only, with the barrier gate held for writing.
pub(crate) fn store(s: State) {
    // SeqCst: pairs with `load` above.
    STATE.store(s.0, Ordering::SeqCst);
    crate::primitive::sc_fence();
}

global! {
    /// Twice the number of marking phases begun, minus one while the running phase has not
    /// found its roots yet: odd from the publication of `Mark` until the root phase is done,
    /// then even. Written only by the collector: with the barrier gate held for writing when
    /// `Mark` is published, `Release` once the roots are found; read by barriers with the gate
    /// held for reading (`Acquire`: a barrier that reads the even value sees the roots found).
    static MARKING_PHASE: AtomicU64 = AtomicU64::new(0);
}

/// Counts a new marking phase, roots not yet found. Collector only, with the gate held for
/// writing, before it publishes `Mark`.
pub(crate) fn marking_begins() {
    // The next odd value, also after a phase that never found its roots (its `Trace` panicked).
    let next = (MARKING_PHASE.load(Ordering::Relaxed) + 1) | 1;
    // Relaxed: the gate orders it before every barrier that reads `Mark`.
    MARKING_PHASE.store(next, Ordering::Relaxed);
}

/// Records that the running marking phase has found its roots. Collector only.
pub(crate) fn roots_found() {
    let phase = MARKING_PHASE.load(Ordering::Relaxed);
    debug_assert!(
        !phase.is_multiple_of(2),
        "roots found once per marking phase"
    );
    // Release: pairs with the Acquire load in `marking_phase`.
    MARKING_PHASE.store(phase + 1, Ordering::Release);
}

/// The running marking phase (see [`MARKING_PHASE`]): even once its roots are found. Call
/// with the gate held for reading while the state is `Mark`.
pub(crate) fn marking_phase() -> u64 {
    // Acquire: pairs with the Release store in `roots_found`.
    MARKING_PHASE.load(Ordering::Acquire)
}
