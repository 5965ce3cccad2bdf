//! Mutator pauses over a growing live heap.
//!
//! A live binary tree of `2^(depth+1) - 1` nodes is held while the mutator, for a fixed time,
//! replaces one of 1,024 small trees (depth 2, 7 nodes) per step and records the gap between
//! consecutive steps. A long gap is a pause the mutator saw: a stop-the-world collection, a
//! long sweep, an assist, or an unlucky deschedule on a busy machine (which is why the maximum
//! alone is not a good figure: the 99.9th percentile is reported too).

use crate::binary_trees as bt;
use crate::Impl;
use examples::GapHistogram;
use std::time::{Duration, Instant};

/// Small trees alive at once.
const WINDOW: usize = 1024;
/// Depth of each small tree.
const SMALL: u32 = 2;

/// What one run measured.
#[derive(Clone, Debug, Default)]
pub struct Report {
    /// Nodes in the live tree.
    pub live_objects: u64,
    /// Steps the mutator completed.
    pub steps: u64,
    /// Nodes checked (every small tree is checked once).
    pub checksum: u64,
    /// The longest gap between two steps, in nanoseconds.
    pub max_gap_ns: u64,
    /// The 99.9th percentile gap, in nanoseconds (bucketed).
    pub p999_ns: u64,
    /// The 99th percentile gap, in nanoseconds (bucketed).
    pub p99_ns: u64,
}

/// The mutator loop: `step(i)` does step `i` and returns the nodes it checked.
fn measure(live_objects: u64, time: Duration, mut step: impl FnMut(usize) -> u64) -> Report {
    let mut gaps = GapHistogram::new();
    let mut checksum = 0;
    let start = Instant::now();
    let mut last = start;
    let mut steps = 0u64;
    loop {
        checksum += step(steps as usize % WINDOW);
        steps += 1;
        let now = Instant::now();
        gaps.record((now - last).as_nanos() as u64);
        last = now;
        if steps & 1023 == 0 && now - start >= time {
            break;
        }
    }
    Report {
        live_objects,
        steps,
        checksum,
        max_gap_ns: gaps.max(),
        p999_ns: gaps.quantile(0.999),
        p99_ns: gaps.quantile(0.99),
    }
}

fn windowed<T>(
    depth: u32,
    time: Duration,
    make: impl Fn(u32) -> T,
    check: impl Fn(&T) -> u64,
) -> Report {
    let live = make(depth);
    let live_objects = check(&live);
    let mut slots: Vec<Option<T>> = (0..WINDOW).map(|_| None).collect();
    let report = measure(live_objects, time, |i| {
        let t = make(SMALL);
        let n = check(&t);
        slots[i] = Some(t);
        n
    });
    assert_eq!(check(&live), live_objects);
    report
}

fn arena(depth: u32, time: Duration) -> Report {
    use bt::arena_tree::{check, make, pay, Node};
    use gc_arena::{Arena, Collect, Gc, Rootable};

    #[derive(Collect)]
    #[collect(no_drop)]
    struct Root<'gc> {
        live: Gc<'gc, Node<'gc>>,
        slots: Vec<Option<Gc<'gc, Node<'gc>>>>,
    }

    let mut arena = Arena::<Rootable![Root<'_>]>::new(|mc| Root {
        live: make(mc, depth),
        slots: vec![None; WINDOW],
    });
    let live_objects = arena.mutate(|_, root| check(&root.live));
    measure(live_objects, time, |i| {
        let n = arena.mutate_root(|mc, root| {
            let t = make(mc, SMALL);
            root.slots[i] = Some(t);
            check(&t)
        });
        pay(&mut arena);
        n
    })
}

/// Runs the pause measurement on `imp` with a live tree of the given depth; `None` for the
/// implementations it does not cover (`Box` and `Rc`, which pause like `Arc`).
pub fn run(imp: Impl, depth: u32, time: Duration) -> Option<Report> {
    Some(match imp {
        Impl::GcCore => windowed(depth, time, bt::gc_core_tree::make, |t| {
            bt::gc_core_tree::check(t)
        }),
        Impl::Arc => windowed(depth, time, bt::arc_tree::make, |t| bt::arc_tree::check(t)),
        Impl::Rc | Impl::Box => return None,
        Impl::RustGc => windowed(depth, time, bt::rust_gc_tree::make, |t| {
            bt::rust_gc_tree::check(t)
        }),
        Impl::DumpsterSync => windowed(depth, time, bt::dumpster_sync_tree::make, |t| {
            bt::dumpster_sync_tree::check(t)
        }),
        Impl::DumpsterUnsync => windowed(depth, time, bt::dumpster_unsync_tree::make, |t| {
            bt::dumpster_unsync_tree::check(t)
        }),
        Impl::Bacon => windowed(depth, time, bt::bacon_tree::make, |t| {
            bt::bacon_tree::check(t)
        }),
        Impl::GcArena => arena(depth, time),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_covered_implementation_keeps_the_live_tree() {
        for imp in Impl::ALL {
            if let Some(r) = run(imp, 8, Duration::from_millis(5)) {
                assert_eq!(r.live_objects, 511, "{}", imp.name());
                assert_eq!(r.checksum, r.steps * 7, "{}", imp.name());
                assert!(r.p99_ns <= r.max_gap_ns, "{}", imp.name());
            }
        }
    }
}
