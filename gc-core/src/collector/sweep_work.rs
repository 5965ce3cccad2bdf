//! The snapshot being swept, cut in pieces that the collector and allocating threads claim.
//!
//! While a cycle sweeps, its snapshot's chunks wait here as pieces. The collector takes them
//! one after another; an allocating thread past the heap goal takes some too (see
//! `sweep::help`), sweeps what it may until its time is up, and gives back the survivors, the
//! part it did not reach, and the dead objects it may not drop (for the collector). The sweep
//! ends only once no piece is left, none is claimed and no dead object waits for the
//! collector: every change is made under one lock, so a piece is always either waiting,
//! claimed (counted in `claimed`) or back.

use crate::cleanup::Cleanup;
use crate::heap::ObjPtr;
use crate::primitive::{global, AtomicBool, Mutex, Ordering};

/// A chunk of the snapshot: `entries[..swept]` are survivors, already swept; the rest are not
/// swept yet.
pub(crate) struct Piece {
    /// Its place in the snapshot (survivors go back in snapshot order).
    pub(crate) index: usize,
    pub(crate) entries: Vec<ObjPtr>,
    pub(crate) swept: usize,
}

/// What an allocating thread adds to the cycle's totals (merged before its claim ends, so the
/// collector counts it in the cycle that swept).
#[derive(Default)]
pub(crate) struct Totals {
    pub(crate) marked_bytes: u64,
    pub(crate) cleanups: Vec<Cleanup>,
    pub(crate) drop_panics: u64,
    pub(crate) swept_objects: u64,
}

struct Work {
    /// The epoch of the cycle sweeping, or 0 when none is.
    epoch: u32,
    /// Pieces to sweep, the next one last.
    waiting: Vec<Piece>,
    /// Survivors of swept pieces, by index.
    survivors: Vec<Option<Vec<ObjPtr>>>,
    /// Dead objects an allocating thread may not drop (see `Trace::PLAIN_DROP`).
    for_collector: Vec<ObjPtr>,
    /// Pieces claimed and not given back.
    claimed: usize,
    totals: Totals,
}

global! {
    static WORK: Mutex<Work> = Mutex::new(Work {
        epoch: 0,
        waiting: Vec::new(),
        survivors: Vec::new(),
        for_collector: Vec::new(),
        claimed: 0,
        totals: Totals {
            marked_bytes: 0,
            cleanups: Vec::new(),
            drop_panics: 0,
            swept_objects: 0,
        },
    });
}

global! {
    /// True while pieces wait: a hint for allocating threads, which check it before taking
    /// the lock. `Relaxed`: a missed store only makes a thread skip or try in vain; the lock
    /// decides.
    static OPEN: AtomicBool = AtomicBool::new(false);
}

global! {
    /// Objects swept by allocating threads, ever (a statistic, `Relaxed`).
    static SWEPT_BY_ALLOCATORS: crate::primitive::AtomicU64 = crate::primitive::AtomicU64::new(0);
}

/// Objects swept by allocating threads so far.
pub(crate) fn swept_by_allocators() -> u64 {
    SWEPT_BY_ALLOCATORS.load(Ordering::Relaxed)
}

/// Collector: offers `chunks` (a snapshot's, in order) to be swept for cycle `epoch`.
pub(crate) fn open(chunks: Vec<Vec<ObjPtr>>, epoch: u32) {
    let mut work = WORK.lock();
    work.epoch = epoch;
    work.survivors = std::iter::repeat_with(|| None).take(chunks.len()).collect();
    work.waiting = chunks
        .into_iter()
        .enumerate()
        .rev()
        .map(|(index, entries)| Piece {
            index,
            entries,
            swept: 0,
        })
        .collect();
    OPEN.store(!work.waiting.is_empty(), Ordering::Relaxed);
}

/// Takes the next waiting piece, and the epoch it is swept for.
pub(crate) fn claim() -> Option<(Piece, u32)> {
    if !OPEN.load(Ordering::Relaxed) {
        return None;
    }
    let mut work = WORK.lock();
    let piece = work.waiting.pop()?;
    if work.waiting.is_empty() {
        OPEN.store(false, Ordering::Relaxed);
    }
    work.claimed += 1;
    Some((piece, work.epoch))
}

/// Gives back a claimed piece: waiting again if part of it was not swept, else its survivors;
/// with the dead objects the sweeper may not drop and (for an allocating thread) its totals.
pub(crate) fn give_back(piece: Piece, for_collector: &mut Vec<ObjPtr>, totals: Option<Totals>) {
    let mut work = WORK.lock();
    if piece.swept < piece.entries.len() {
        work.waiting.push(piece);
        OPEN.store(true, Ordering::Relaxed);
    } else {
        let index = piece.index;
        work.survivors[index] = Some(piece.entries);
    }
    work.for_collector.append(for_collector);
    if let Some(t) = totals {
        SWEPT_BY_ALLOCATORS.fetch_add(t.swept_objects, Ordering::Relaxed);
        work.totals.marked_bytes += t.marked_bytes;
        work.totals.cleanups.extend(t.cleanups);
        work.totals.drop_panics += t.drop_panics;
    }
    work.claimed -= 1;
}

/// What the collector does next.
pub(crate) enum Next {
    /// Sweep this piece.
    Piece(Piece),
    /// Sweep these dead objects, which allocating threads left to it.
    Dead(Vec<ObjPtr>),
    /// Wait: allocating threads hold pieces.
    Wait,
    /// Done: the survivors in snapshot order, and the allocating threads' totals.
    Done(Vec<Vec<ObjPtr>>, Totals),
}

/// Collector: what to do next (see [`Next`]). Once it returns `Done`, no piece of this sweep
/// is claimed or waiting, and none can be claimed.
pub(crate) fn next_for_collector() -> Next {
    let mut work = WORK.lock();
    if let Some(piece) = work.waiting.pop() {
        if work.waiting.is_empty() {
            OPEN.store(false, Ordering::Relaxed);
        }
        work.claimed += 1;
        return Next::Piece(piece);
    }
    if !work.for_collector.is_empty() {
        return Next::Dead(std::mem::take(&mut work.for_collector));
    }
    if work.claimed > 0 {
        return Next::Wait;
    }
    work.epoch = 0;
    let survivors = std::mem::take(&mut work.survivors)
        .into_iter()
        .flatten()
        .collect();
    Next::Done(survivors, std::mem::take(&mut work.totals))
}
