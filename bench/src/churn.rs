//! Allocation-heavy churn on two threads: each thread keeps a window of 64 trees of depth 6
//! (127 nodes each) and replaces one tree per step, checking the new tree. Everything it
//! allocates soon becomes garbage. The checksum is the number of nodes checked,
//! `threads * trees * 127`.
//!
//! The shared-heap implementations (`gc-core`, `Arc`, `Box`, `dumpster` sync) share one
//! heap between the threads; the thread-local ones (`Rc`, `gc`, `dumpster` unsync,
//! `bacon_rajan_cc`, `gc-arena`) get one independent heap per thread, which is the best
//! case for them.

use crate::binary_trees as bt;
use crate::Impl;

/// Threads allocating.
pub const THREADS: usize = 2;
/// Trees alive per thread.
pub const WINDOW: usize = 64;
/// Depth of each tree.
pub const DEPTH: u32 = 6;

/// The checksum [`run`] returns for `trees` trees per thread.
pub fn expected_checksum(trees: usize) -> u64 {
    (THREADS * trees) as u64 * ((1u64 << (DEPTH + 1)) - 1)
}

fn window<T>(trees: usize, make: impl Fn(u32) -> T, check: impl Fn(&T) -> u64) -> u64 {
    let mut slots: Vec<Option<T>> = (0..WINDOW).map(|_| None).collect();
    let mut total = 0;
    for i in 0..trees {
        let t = make(DEPTH);
        total += check(&t);
        slots[i % WINDOW] = Some(t);
    }
    total
}

fn one_thread(imp: Impl, trees: usize) -> u64 {
    match imp {
        Impl::GcCore => window(trees, bt::gc_core_tree::make, |t| {
            bt::gc_core_tree::check(t)
        }),
        Impl::Arc => window(trees, bt::arc_tree::make, |t| bt::arc_tree::check(t)),
        Impl::Rc => window(trees, bt::rc_tree::make, |t| bt::rc_tree::check(t)),
        Impl::Box => window(trees, bt::box_tree::make, |t| bt::box_tree::check(t)),
        Impl::RustGc => window(trees, bt::rust_gc_tree::make, |t| {
            bt::rust_gc_tree::check(t)
        }),
        Impl::DumpsterSync => window(trees, bt::dumpster_sync_tree::make, |t| {
            bt::dumpster_sync_tree::check(t)
        }),
        Impl::DumpsterUnsync => window(trees, bt::dumpster_unsync_tree::make, |t| {
            bt::dumpster_unsync_tree::check(t)
        }),
        Impl::Bacon => window(trees, bt::bacon_tree::make, |t| bt::bacon_tree::check(t)),
        Impl::GcArena => arena_window(trees),
    }
}

fn arena_window(trees: usize) -> u64 {
    use bt::arena_tree::{check, make, pay, Node};
    use gc_arena::{Arena, Gc, Rootable};

    let mut arena = Arena::<Rootable![Vec<Option<Gc<'_, Node<'_>>>>]>::new(|_| vec![None; WINDOW]);
    let mut total = 0;
    for i in 0..trees {
        total += arena.mutate_root(|mc, slots| {
            let t = make(mc, DEPTH);
            slots[i % WINDOW] = Some(t);
            check(&t)
        });
        pay(&mut arena);
    }
    total
}

/// Runs the churn with `trees` trees per thread on `imp`.
pub fn run(imp: Impl, trees: usize) -> u64 {
    std::thread::scope(|s| {
        let workers: Vec<_> = (0..THREADS)
            .map(|_| s.spawn(move || one_thread(imp, trees)))
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().expect("churn thread panicked"))
            .sum()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_implementation_checks_every_tree() {
        for imp in Impl::ALL {
            assert_eq!(run(imp, 100), expected_checksum(100), "{}", imp.name());
        }
    }
}
